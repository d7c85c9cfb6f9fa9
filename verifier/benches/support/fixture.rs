//! One realistic presentation and everything needed to verify it, shared by the criterion
//! benches (`benches/hot_paths.rs`) and the throughput example (`examples/bench_verify.rs`).
//!
//! The credential is the issuer's residency credential (every claim selectively disclosable, two
//! decoys per `_sd`), presented for a 16+ residency policy with a pseudonym and a KB-JWT.

use std::collections::BTreeMap;
use std::sync::Arc;

use rand::rngs::OsRng;
use serde_json::json;

use civic_credential::crypto::{Algorithm, SigningKey};
use civic_credential::residency::ResidentRecord;
use civic_credential::sd_jwt::ClaimPath;
use civic_credential::sd_jwt_vc;
use civic_credential::status_list::{StatusList, StatusListToken};
use civic_testkit::credentials;
use civic_verifier::fetch::StaticFetcher;
use civic_verifier::session::{NewSession, Session};
use civic_verifier::{Policy, Rule, TrustList, Verifier, VerifierOptions};

/// The issuer's identifier.
pub(crate) const ISSUER: &str = "https://id.teststad.example";
/// The platform the pseudonym is for.
pub(crate) const PLATFORM: &str = "https://budget.teststad.example";
/// Where the credential's status list lives.
pub(crate) const STATUS: &str = "https://id.teststad.example/status/0";
/// Entries in the status list (1M, 2 bits each).
pub(crate) const STATUS_ENTRIES: usize = 1 << 20;

/// Everything a benchmark needs.
pub(crate) struct Fixture {
    pub issuer: SigningKey,
    pub holder: SigningKey,
    pub now: i64,
    pub vct: String,
    /// The credential as issued (all disclosures).
    pub credential: String,
    /// The presentation (three claims and a KB-JWT) for `session`.
    pub presentation: String,
    /// `vp_token` as the wallet posts it.
    pub vp_token: String,
    pub session: Session,
    pub verifier: Verifier,
    /// The signed status list token the verifier fetches.
    pub status_token: String,
}

pub(crate) use civic_testkit::now;

/// The claim paths the residency policy asks for.
pub(crate) fn requested() -> Vec<ClaimPath> {
    credentials::requested_paths(PLATFORM)
}

/// The resident the credential is about.
pub(crate) fn record() -> ResidentRecord {
    ResidentRecord::example()
}

/// Issues a credential to `holder` at `t`, as the issuer does.
pub(crate) fn issue(issuer: &SigningKey, holder: &SigningKey, vct: &str, t: i64) -> String {
    credentials::issue(
        issuer,
        ISSUER,
        vct,
        &credentials::Contents {
            record: &record(),
            holder: holder.public_jwk(),
            iat: t - 60,
            today: t,
            nbf: None,
            exp: t + 86_400,
            status: Some((STATUS, 7)),
            pseudonyms: BTreeMap::from([(PLATFORM.into(), "p".into())]),
        },
    )
}

/// Builds the fixture.
pub(crate) fn fixture() -> Fixture {
    let issuer = SigningKey::generate(Algorithm::Es256, &mut OsRng)
        .expect("key")
        .with_kid("k1");
    let holder = SigningKey::generate(Algorithm::Es256, &mut OsRng).expect("key");
    let t = now();
    let vct = format!("{ISSUER}/credentials/residency");
    let credential = issue(&issuer, &holder, &vct, t);
    let status_token = StatusListToken {
        sub: STATUS.into(),
        iat: t,
        exp: Some(t + 3600),
        ttl: Some(3600),
        list: StatusList::new(2, STATUS_ENTRIES).expect("list"),
    }
    .sign(&issuer)
    .expect("status");
    let mut fetcher = StaticFetcher::new();
    fetcher.insert(
        format!("{ISSUER}/.well-known/jwt-vc-issuer"),
        json!({ "issuer": ISSUER, "jwks": { "keys": [issuer.public_jwk().clone().with_kid("k1")] } })
            .to_string(),
    );
    fetcher.insert(STATUS, status_token.clone());
    let trust = TrustList::parse(&format!(
        "[[issuer]]\nid = \"{ISSUER}\"\nvct = [\"{vct}\"]\nmunicipality_codes = [\"0363\"]\n"
    ))
    .expect("trust");
    let verifier = Verifier::new(trust, Arc::new(fetcher), VerifierOptions::default());
    let policy = Policy {
        name: "vote".into(),
        rules: vec![
            Rule::one_of(
                ClaimPath::keys(["residence", "municipality_code"]),
                &["0363"],
            ),
            Rule::is_true(ClaimPath::keys(["age_equal_or_over", "16"])),
        ],
        pseudonym: true,
        vct: vec![],
    };
    let session = Session::new(
        NewSession {
            trusted_authorities: Vec::new(),
            check_municipality: true,
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
    let presentation = sd_jwt_vc::present(
        &credential,
        &requested(),
        Some((&holder, &session.client_id, &session.nonce, t)),
    )
    .expect("present");
    let vp_token = json!({ "residency": [presentation.clone()] }).to_string();
    Fixture {
        issuer,
        holder,
        now: t,
        vct,
        credential,
        presentation,
        vp_token,
        session,
        verifier,
        status_token,
    }
}
