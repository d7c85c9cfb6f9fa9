//! Presentation verification throughput on one thread, against the raw ES256 verify rate measured
//! in the same run. `cargo run --release -p civic-verifier --example bench_verify -- [--seconds N]`
//!
//! The full pipeline runs for every presentation: vp_token parsing, trust list, issuer keys
//! (cached), issuer signature, disclosures, key binding (second signature), municipality, status
//! (cached list), pseudonym and policy. One presentation needs two ES256 verifications, so the
//! limit is `es256_verify_per_s / 2`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use rand::rngs::OsRng;
use serde_json::json;

use civic_credential::crypto::{Algorithm, JwsSigner, SigningKey};
use civic_credential::residency::{Address, Date, Residence, ResidencyClaims, ResidentRecord};
use civic_credential::sd_jwt::ClaimPath;
use civic_credential::sd_jwt_vc::{self, CredentialSpec};
use civic_credential::status_list::{StatusList, StatusListRef, StatusListToken, StatusReference};
use civic_verifier::fetch::StaticFetcher;
use civic_verifier::session::{NewSession, Session};
use civic_verifier::{Policy, Rule, TrustList, Verifier, VerifierOptions};

const ISSUER: &str = "https://id.teststad.example";
const PLATFORM: &str = "https://budget.teststad.example";
const STATUS: &str = "https://id.teststad.example/status/0";

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let seconds: f64 = args
        .iter()
        .position(|a| a == "--seconds")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(3.0);
    let issuer = SigningKey::generate(Algorithm::Es256, &mut OsRng)
        .expect("key")
        .with_kid("k1");
    let holder = SigningKey::generate(Algorithm::Es256, &mut OsRng).expect("key");
    let t = now();
    let vct = format!("{ISSUER}/credentials/residency");

    // Raw ES256 verification rate (1.2 KB messages), the baseline.
    let vk = issuer.verifying_key().expect("vk");
    let msg = vec![0x5a_u8; 1200];
    let sig = issuer.sign(&msg).expect("sign");
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed().as_secs_f64() < seconds {
        for _ in 0..64 {
            let _ = vk.verify(Algorithm::Es256, &msg, &sig);
        }
        n += 64;
    }
    let raw = n as f64 / start.elapsed().as_secs_f64();

    let record = ResidentRecord {
        given_name: "Anna".into(),
        family_name: "de Vries".into(),
        birthdate: Date::parse("1990-04-12").expect("date"),
        address: Address {
            street_address: "Dam 1".into(),
            locality: "Teststad".into(),
            postal_code: "1012 JS".into(),
            country: "NL".into(),
        },
        residence: Residence {
            municipality: "Teststad".into(),
            municipality_code: "0363".into(),
            district: Some("3".into()),
        },
        resident_since: Date::parse("2015-06-01").expect("date"),
    };
    let claims = ResidencyClaims::new(
        &record,
        Date::from_unix(t),
        BTreeMap::from([(PLATFORM.into(), "p".into())]),
    );
    let paths = claims.disclosable_paths();
    let credential = sd_jwt_vc::issue(
        &CredentialSpec {
            issuer: ISSUER,
            vct: &vct,
            iat: t - 60,
            nbf: None,
            exp: t + 86_400,
            holder_key: holder.public_jwk(),
            status: Some(StatusReference {
                status_list: StatusListRef {
                    idx: 7,
                    uri: STATUS.into(),
                },
            }),
            claims: claims.to_claims().expect("claims"),
            disclosable: &paths,
            decoys: 2,
        },
        &issuer,
        &mut OsRng,
    )
    .expect("issue");
    let list = StatusListToken {
        sub: STATUS.into(),
        iat: t,
        exp: Some(t + 3600),
        ttl: Some(3600),
        list: StatusList::new(2, 1 << 20).expect("list"),
    };
    let mut fetcher = StaticFetcher::new();
    fetcher.insert(format!("{ISSUER}/.well-known/jwt-vc-issuer"), json!({ "issuer": ISSUER, "jwks": { "keys": [issuer.public_jwk().clone().with_kid("k1")] } }).to_string());
    fetcher.insert(STATUS, list.sign(&issuer).expect("status"));
    let trust = TrustList::parse(&format!(
        "[[issuer]]\nid = \"{ISSUER}\"\nvct = [\"{vct}\"]\nmunicipality_codes = [\"0363\"]\n"
    ))
    .expect("trust");
    let verifier = Verifier::new(trust, Arc::new(fetcher), VerifierOptions::default());
    let policy = Policy {
        name: "vote".into(),
        rules: vec![
            Rule::one_of("residence.municipality_code", &["0363"]),
            Rule::is_true("age_equal_or_over.16"),
        ],
        pseudonym: true,
        vct: vec![],
    };
    let session = Session::new(
        NewSession {
            base_url: "https://verifier.example",
            platform_id: PLATFORM,
            policy: &policy,
            vct: vec![vct.clone()],
            redirect_uri: None,
            now: t,
            ttl: 600,
            client_id: None,
        },
        &mut OsRng,
    );
    let requested = vec![
        ClaimPath::keys(["residence", "municipality_code"]),
        ClaimPath::keys(["age_equal_or_over", "16"]),
        ClaimPath::keys(["pseudonyms", PLATFORM]),
    ];
    let presentation = sd_jwt_vc::present(
        &credential,
        &requested,
        Some((&holder, &session.client_id, &session.nonce, t)),
    )
    .expect("present");
    let vp = json!({ "residency": [presentation] }).to_string();

    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let per_s = rt.block_on(async {
        let e = verifier.verify(&vp, &session, t).await.expect("valid");
        assert!(e.eligible);
        let start = Instant::now();
        let mut n = 0u64;
        while start.elapsed().as_secs_f64() < seconds {
            for _ in 0..32 {
                let ok = verifier
                    .verify(&vp, &session, t)
                    .await
                    .is_ok_and(|e| e.eligible);
                assert!(ok);
            }
            n += 32;
        }
        n as f64 / start.elapsed().as_secs_f64()
    });
    println!("es256_verify_per_s: {raw:.0}");
    println!("verify_presentation_per_s: {per_s:.0}");
    println!("verify_ratio_to_limit: {:.3}", per_s / (raw / 2.0));
    println!("native_verify_presentation_ms: {:.3}", 1000.0 / per_s);
}
