//! Writes the adversarial corpus in `verifier/tests/corpus/`: a fixture (trust list, issuer
//! metadata, status list, session, the time to verify at) and one file per hostile presentation
//! with the rejection it must get. `cargo run -p civic-verifier --example make_corpus`.
//!
//! The files are committed; `tests/corpus.rs` replays them. Regenerate only to add cases.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code: a failure stops at its line

use std::collections::BTreeMap;
use std::path::Path;

use rand::rngs::OsRng;
use serde_json::{json, Map, Value};

use civic_credential::crypto::{hmac_sha256, Algorithm, SigningKey};
use civic_credential::encoding::{b64_decode, b64_encode};
use civic_credential::key_binding;
use civic_credential::residency::ResidentRecord;
use civic_credential::sd_jwt::{ClaimPath, Disclosure};
use civic_credential::sd_jwt_vc;
use civic_credential::status_list::{Status, StatusList, StatusListToken};
use civic_testkit::credentials;
use civic_verifier::policy::{Policy, Rule};
use civic_verifier::session::{NewSession, Session};

const ISSUER: &str = "https://id.teststad.example";
const PLATFORM: &str = "https://budget.teststad.example";
const NOW: i64 = 1_800_000_000;
const STATUS_URI: &str = "https://id.teststad.example/status/0";

fn vct() -> String {
    format!("{ISSUER}/credentials/residency")
}

struct Ctx {
    issuer: SigningKey,
    holder: SigningKey,
    session: Session,
}

fn record(code: &str) -> ResidentRecord {
    let mut record = ResidentRecord::example();
    record.residence.municipality_code = code.into();
    record
}

struct Issue<'a> {
    iss: &'a str,
    vct: String,
    code: &'a str,
    iat: i64,
    nbf: Option<i64>,
    exp: i64,
    idx: u64,
    key: &'a SigningKey,
}

fn issue(c: &Ctx, i: Issue<'_>) -> String {
    let record = record(i.code);
    credentials::issue(
        i.key,
        i.iss,
        &i.vct,
        &credentials::Contents {
            record: &record,
            holder: c.holder.public_jwk(),
            iat: i.iat,
            today: NOW,
            nbf: i.nbf,
            exp: i.exp,
            status: Some((STATUS_URI, i.idx)),
            pseudonyms: BTreeMap::from([(PLATFORM.to_owned(), "pseudonym-of-anna".to_owned())]),
        },
    )
}

fn normal<'a>(c: &'a Ctx) -> Issue<'a> {
    Issue {
        iss: ISSUER,
        vct: vct(),
        code: "0363",
        iat: NOW - 86_400,
        nbf: None,
        exp: NOW + 86_400 * 30,
        idx: 10,
        key: &c.issuer,
    }
}

fn requested() -> Vec<ClaimPath> {
    vec![
        ClaimPath::keys(["residence", "municipality_code"]),
        ClaimPath::keys(["age_equal_or_over", "16"]),
        ClaimPath::keys(["pseudonyms", PLATFORM]),
    ]
}

/// The unbound presentation (issuer JWT + requested disclosures + trailing `~`).
fn unbound(credential: &str) -> String {
    sd_jwt_vc::present(credential, &requested(), None).expect("present")
}

fn bind(c: &Ctx, presentation: &str, aud: &str, nonce: &str, iat: i64) -> String {
    key_binding::bind(presentation, aud, nonce, iat, &c.holder).expect("bind")
}

fn good(c: &Ctx, credential: &str) -> String {
    bind(
        c,
        &unbound(credential),
        &c.session.client_id,
        &c.session.nonce,
        NOW,
    )
}

fn vp(presentation: &str) -> String {
    json!({ "residency": [presentation] }).to_string()
}

/// Re-encodes the issuer JWT's payload (keeping the old signature).
fn edit_payload(presentation: &str, f: impl FnOnce(&mut Map<String, Value>)) -> String {
    let (jwt, rest) = presentation.split_once('~').expect("sd-jwt");
    let parts: Vec<&str> = jwt.split('.').collect();
    let mut payload: Map<String, Value> =
        serde_json::from_slice(&b64_decode(parts[1], "payload").expect("b64")).expect("json");
    f(&mut payload);
    let payload = b64_encode(&serde_json::to_vec(&payload).expect("json"));
    format!("{}.{payload}.{}~{rest}", parts[0], parts[2])
}

fn main() -> std::io::Result<()> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    std::fs::create_dir_all(&dir)?;
    let issuer = SigningKey::generate(Algorithm::Es256, &mut OsRng)
        .expect("key")
        .with_kid("es256-corpus");
    let holder = SigningKey::generate(Algorithm::Es256, &mut OsRng).expect("key");
    let policy = Policy {
        name: "budget".into(),
        rules: vec![
            Rule::one_of(
                ClaimPath::keys(["residence", "municipality_code"]),
                &["0363"],
            ),
            Rule::is_true(ClaimPath::keys(["age_equal_or_over", "16"])),
        ],
        pseudonym: true,
        vct: Vec::new(),
    };
    let session = Session::new(
        NewSession {
            trusted_authorities: Vec::new(),
            check_municipality: true,
            base_url: "https://verifier.teststad.example",
            platform_id: PLATFORM,
            policy: &policy,
            vct: vec![vct()],
            redirect_uri: None,
            now: NOW - 10,
            ttl: 600,
            client_id: None,
        },
        &mut OsRng,
    );
    let c = Ctx {
        issuer,
        holder,
        session,
    };

    // Fixture: trust list, issuer metadata, a status list with index 11 revoked, 12 suspended.
    let mut list = StatusList::new(2, 1024).expect("list");
    list.set(11, Status::Invalid).expect("set");
    list.set(12, Status::Suspended).expect("set");
    let token = StatusListToken {
        sub: STATUS_URI.into(),
        iat: NOW - 60,
        exp: Some(NOW + 3600),
        ttl: Some(300),
        list,
    };
    let status_jwt = token.sign(&c.issuer).expect("sign");
    let metadata = json!({ "issuer": ISSUER, "jwks": { "keys": [c.issuer.public_jwk().clone().with_kid("es256-corpus")] } });
    let fixture = json!({
        "now": NOW,
        "trust_list": { "issuer": [{ "id": ISSUER, "vct": [vct()], "municipality_codes": ["0363"] }] },
        "documents": {
            format!("{ISSUER}/.well-known/jwt-vc-issuer"): metadata.to_string(),
            STATUS_URI: status_jwt,
        },
        "session": c.session,
    });
    std::fs::write(
        dir.join("fixture.json"),
        serde_json::to_string_pretty(&fixture)?,
    )?;

    let cred = issue(&c, normal(&c));
    let mut cases: Vec<(&str, String, &str)> = Vec::new();
    cases.push(("valid", vp(&good(&c, &cred)), "eligible"));

    let header_none = b64_encode(br#"{"alg":"none","typ":"dc+sd-jwt","kid":"es256-corpus"}"#);
    let p = good(&c, &cred);
    let body = p.split('.').nth(1).expect("payload");
    let rest = p.split_once('~').expect("~").1;
    cases.push((
        "alg_none",
        vp(&format!("{header_none}.{body}.~{rest}")),
        "algorithm_not_allowed",
    ));

    let header_hs = b64_encode(br#"{"alg":"HS256","typ":"dc+sd-jwt","kid":"es256-corpus"}"#);
    let public = serde_json::to_vec(c.issuer.public_jwk()).expect("jwk");
    let sig = b64_encode(&hmac_sha256(
        &public,
        &[format!("{header_hs}.{body}").as_bytes()],
    ));
    cases.push((
        "hs256_with_public_key",
        vp(&format!("{header_hs}.{body}.{sig}~{rest}")),
        "algorithm_not_allowed",
    ));

    let impostor = SigningKey::generate(Algorithm::Es256, &mut OsRng)
        .expect("key")
        .with_kid("es256-corpus");
    let forged = issue(
        &c,
        Issue {
            key: &impostor,
            ..normal(&c)
        },
    );
    cases.push((
        "wrong_issuer_key",
        vp(&good(&c, &forged)),
        "invalid_signature",
    ));

    let tampered = edit_payload(&unbound(&cred), |p| {
        p.insert("exp".into(), json!(NOW + 86_400 * 3650));
    });
    cases.push((
        "tampered_payload",
        vp(&bind(
            &c,
            &tampered,
            &c.session.client_id,
            &c.session.nonce,
            NOW,
        )),
        "invalid_signature",
    ));

    // A disclosure with its value changed: its digest is no longer referenced.
    let u = unbound(&cred);
    let mut parts: Vec<String> = u.split('~').map(str::to_owned).collect();
    let forged_disclosure = Disclosure::new(Some("16"), json!(true), &mut OsRng).expect("d");
    let idx16 = parts
        .iter()
        .position(|p| Disclosure::parse(p).is_ok_and(|d| d.name.as_deref() == Some("16")))
        .expect("age disclosure");
    parts[idx16] = forged_disclosure.encoded.clone();
    let t = parts.join("~");
    cases.push((
        "tampered_disclosure",
        vp(&bind(&c, &t, &c.session.client_id, &c.session.nonce, NOW)),
        "unreferenced_disclosure",
    ));

    let mut dup: Vec<String> = u.split('~').map(str::to_owned).collect();
    dup.insert(2, dup[1].clone());
    let d = dup.join("~");
    cases.push((
        "duplicate_disclosure",
        vp(&bind(&c, &d, &c.session.client_id, &c.session.nonce, NOW)),
        "duplicate_disclosure",
    ));

    let extra = Disclosure::new(Some("nickname"), json!("annie"), &mut OsRng).expect("d");
    let x = format!("{u}{}~", extra.encoded);
    cases.push((
        "unreferenced_disclosure",
        vp(&bind(&c, &x, &c.session.client_id, &c.session.nonce, NOW)),
        "unreferenced_disclosure",
    ));

    let expired = issue(
        &c,
        Issue {
            iat: NOW - 90 * 86_400,
            exp: NOW - 3600,
            ..normal(&c)
        },
    );
    cases.push(("expired", vp(&good(&c, &expired)), "expired"));
    let future = issue(
        &c,
        Issue {
            nbf: Some(NOW + 3600),
            ..normal(&c)
        },
    );
    cases.push(("nbf_in_future", vp(&good(&c, &future)), "not_yet_valid"));

    cases.push(("missing_kb_jwt", vp(&unbound(&cred)), "key_binding_missing"));
    cases.push((
        "kb_wrong_nonce",
        vp(&bind(&c, &u, &c.session.client_id, "another-nonce", NOW)),
        "key_binding_nonce",
    ));
    cases.push((
        "kb_wrong_aud",
        vp(&bind(
            &c,
            &u,
            "redirect_uri:https://other.example/cb",
            &c.session.nonce,
            NOW,
        )),
        "key_binding_audience",
    ));
    cases.push((
        "kb_old_iat",
        vp(&bind(
            &c,
            &u,
            &c.session.client_id,
            &c.session.nonce,
            NOW - 3600,
        )),
        "key_binding_iat",
    ));
    // KB-JWT made over a presentation with fewer disclosures, then attached to this one.
    let fewer = sd_jwt_vc::present(&cred, &requested()[..1], None).expect("present");
    let kb_other = bind(&c, &fewer, &c.session.client_id, &c.session.nonce, NOW);
    let kb = kb_other.rsplit('~').next().expect("kb");
    cases.push((
        "sd_hash_mismatch",
        vp(&format!("{u}{kb}")),
        "key_binding_sd_hash",
    ));

    let revoked = issue(
        &c,
        Issue {
            idx: 11,
            ..normal(&c)
        },
    );
    cases.push(("revoked", vp(&good(&c, &revoked)), "revoked"));
    let suspended = issue(
        &c,
        Issue {
            idx: 12,
            ..normal(&c)
        },
    );
    cases.push(("suspended", vp(&good(&c, &suspended)), "suspended"));

    let stranger = issue(
        &c,
        Issue {
            iss: "https://id.elsewhere.example",
            vct: "https://id.elsewhere.example/credentials/residency".into(),
            ..normal(&c)
        },
    );
    cases.push((
        "untrusted_issuer",
        vp(&good(&c, &stranger)),
        "untrusted_issuer",
    ));
    let other_type = issue(
        &c,
        Issue {
            vct: format!("{ISSUER}/credentials/library-card"),
            ..normal(&c)
        },
    );
    cases.push(("wrong_vct", vp(&good(&c, &other_type)), "vct_not_allowed"));
    let elsewhere = issue(
        &c,
        Issue {
            code: "0344",
            ..normal(&c)
        },
    );
    cases.push((
        "municipality_not_trusted",
        vp(&good(&c, &elsewhere)),
        "municipality_not_allowed",
    ));

    cases.push((
        "oversized_token",
        vp(&format!("{}~", "A".repeat(1 << 20))),
        "malformed_response",
    ));
    cases.push((
        "deeply_nested_json",
        format!(
            "{{\"residency\": {}{}}}",
            "[".repeat(5000),
            "]".repeat(5000)
        ),
        "malformed_response",
    ));
    let bad_b64 = format!("{}.{}!!.{}~", "eyJhbGciOiJFUzI1NiJ9", "e30", "AAAA");
    cases.push(("invalid_base64url", vp(&bad_b64), "invalid_base64url"));
    let bad_utf8 = format!(
        "{}.{}.{}~",
        b64_encode(br#"{"alg":"ES256","typ":"dc+sd-jwt"}"#),
        b64_encode(&[0x7b, 0xff, 0xfe, 0x7d]),
        "AAAA"
    );
    cases.push(("invalid_utf8", vp(&bad_utf8), "invalid_json"));
    cases.push(("not_json", "residency=abc".into(), "malformed_response"));
    cases.push((
        "no_presentation",
        json!({ "other": ["x~"] }).to_string(),
        "missing_presentation",
    ));
    cases.push((
        "two_presentations",
        json!({ "residency": [good(&c, &cred), good(&c, &cred)] }).to_string(),
        "too_many_presentations",
    ));
    // Over-disclosure is accepted but flagged.
    let all = sd_jwt_vc::present(
        &cred,
        &[requested(), vec![ClaimPath::keys(["given_name"])]].concat(),
        None,
    )
    .expect("present");
    cases.push((
        "over_disclosed",
        vp(&bind(&c, &all, &c.session.client_id, &c.session.nonce, NOW)),
        "eligible_over_disclosed",
    ));

    for (name, vp_token, expected) in &cases {
        let case = json!({ "name": name, "expected": expected, "vp_token": vp_token });
        std::fs::write(
            dir.join(format!("{name}.json")),
            serde_json::to_string(&case)?,
        )?;
    }
    println!("wrote {} cases to {}", cases.len(), dir.display());
    Ok(())
}
