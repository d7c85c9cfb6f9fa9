//! Fixed test keys, times and identifiers the targets verify against, built once per process.
//!
//! The keys are test-only and public by design. The audience, nonce and time are those of the
//! verifier's adversarial corpus (`verifier/tests/corpus/fixture.json`), whose presentations are
//! signed with the corpus issuer key that is trusted here as well.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde_json::{json, Map, Value};

use civic_credential::crypto::{SigningKey, VerifyingKey};
use civic_credential::jwk::Jwk;
use civic_credential::residency::ResidentRecord;
use civic_credential::sd_jwt::ClaimPath;
use civic_credential::sd_jwt_vc::StaticIssuerKeys;

/// The time every target verifies at (that of the verifier corpus).
pub const NOW: i64 = 1_800_000_000;
/// The issuer identifier (`iss`), also the OID4VCI credential issuer (`aud` of proofs).
pub const ISSUER: &str = "https://id.teststad.example";
/// The status list URI the status target expects as `sub`.
pub const STATUS_URI: &str = "https://id.teststad.example/status/0";
/// Allowed clock difference, seconds.
pub const CLOCK_SKEW: i64 = 60;
/// How old a KB-JWT or proof may be, seconds.
pub const MAX_AGE: i64 = 300;
/// Key id of the fixed fuzz issuer key.
pub const ISSUER_KID: &str = "fuzz-es256";
/// The credential type.
pub const VCT: &str = "https://id.teststad.example/credentials/residency";
/// The platform whose pseudonym the credential carries.
pub const PLATFORM: &str = "https://budget.teststad.example";

/// The verifier corpus fixture (trust list, issuer metadata, status list, session).
pub const CORPUS_FIXTURE: &str = include_str!("../../verifier/tests/corpus/fixture.json");

/// Everything the targets share.
pub struct Fixture {
    /// The fuzz issuer's ES256 key (kid [`ISSUER_KID`]); also signs status lists and requests.
    pub issuer: SigningKey,
    /// Its public key.
    pub issuer_key: VerifyingKey,
    /// The holder's Ed25519 key (KB-JWTs, proofs).
    pub holder: SigningKey,
    /// Its public key.
    pub holder_key: VerifyingKey,
    /// Trusted issuer keys: the fuzz issuer and the verifier corpus issuer, both for [`ISSUER`].
    pub keys: StaticIssuerKeys,
    /// The verifier's `client_id`, the `aud` a KB-JWT must carry.
    pub aud: String,
    /// The nonce a KB-JWT must carry.
    pub nonce: String,
    /// The parsed [`CORPUS_FIXTURE`].
    pub corpus: Map<String, Value>,
    /// A residency credential in issuance form (every disclosure), issued by the fuzz issuer to
    /// the holder key: what a wallet holds.
    pub credential: String,
}

/// The claims a platform asks for: municipality code, age 16+, and its pseudonym.
pub fn requested_paths() -> Vec<ClaimPath> {
    vec![
        ClaimPath::keys(["residence", "municipality_code"]),
        ClaimPath::keys(["age_equal_or_over", "16"]),
        ClaimPath::keys(["pseudonyms", PLATFORM]),
    ]
}

/// Issues a residency credential (issuance form) with `issuer` for `holder`, with status
/// index `idx` in [`STATUS_URI`]; every claim selectively disclosable, with decoys.
pub fn issue_credential(issuer: &SigningKey, holder: &Jwk, idx: u64) -> String {
    let record = ResidentRecord::example();
    civic_testkit::credentials::issue(
        issuer,
        ISSUER,
        VCT,
        &civic_testkit::credentials::Contents {
            record: &record,
            holder,
            iat: NOW - 86_400,
            today: NOW,
            nbf: None,
            exp: NOW + 30 * 86_400,
            status: Some((STATUS_URI, idx)),
            pseudonyms: BTreeMap::from([(PLATFORM.to_owned(), "pseudonym-of-anna".to_owned())]),
        },
    )
}

fn jwk(value: Value) -> Jwk {
    serde_json::from_value(value).expect("fixed JWK")
}

fn build() -> Fixture {
    let issuer = SigningKey::from_jwk(&jwk(json!({
        "kty": "EC", "crv": "P-256", "kid": ISSUER_KID,
        "x": "UKNS5qLRfxsi_GNB0gEu0K4o12nUAuMumSo0RYjm8_I",
        "y": "IbnDifUGNUo4qCjQoHPLvGVxISL_mfZMJar0q1ge02Y",
        "d": "PSD4mRcBvKpGSkwc7_uQNi7t2dRSVdZ8tFsk5TL93Pg",
    })))
    .expect("issuer key");
    let holder = SigningKey::from_jwk(&jwk(json!({
        "kty": "OKP", "crv": "Ed25519",
        "x": "LqFdmw4L-XhUYg3bWA2c9iwPfiZObOdRQ8DB1llvE6U",
        "d": "7QBYouAZqVTP2i8qonxPueeeDwsQCCwY0bq6rLnrVk4",
    })))
    .expect("holder key");
    let corpus: Map<String, Value> = serde_json::from_str(CORPUS_FIXTURE).expect("corpus fixture");
    let mut keys = StaticIssuerKeys::new();
    keys.insert(ISSUER, issuer.public_jwk())
        .expect("issuer key");
    let metadata: Value = serde_json::from_str(
        corpus["documents"][format!("{ISSUER}/.well-known/jwt-vc-issuer")]
            .as_str()
            .expect("metadata"),
    )
    .expect("metadata json");
    for key in metadata["jwks"]["keys"].as_array().expect("jwks") {
        keys.insert(ISSUER, &jwk(key.clone())).expect("corpus key");
    }
    let session = &corpus["session"];
    let credential = issue_credential(&issuer, holder.public_jwk(), 10);
    Fixture {
        credential,
        issuer_key: issuer.verifying_key().expect("issuer public key"),
        holder_key: holder.verifying_key().expect("holder public key"),
        aud: session["client_id"].as_str().expect("client_id").to_owned(),
        nonce: session["nonce"].as_str().expect("nonce").to_owned(),
        issuer,
        holder,
        keys,
        corpus,
    }
}

/// The shared fixture, built on first use.
pub fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(build)
}

/// Replaces every string `"#N"` in `value` by `digests[N]` (when `N` is in range), so that a
/// structured input can point at disclosures whose digests the fuzzer cannot compute.
pub fn fill_digests(value: &mut Value, digests: &[String]) {
    match value {
        Value::String(s) => {
            let index = s.strip_prefix('#').and_then(|n| n.parse::<usize>().ok());
            if let Some(d) = index.and_then(|i| digests.get(i)) {
                *s = d.clone();
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| fill_digests(v, digests)),
        Value::Object(map) => map.values_mut().for_each(|v| fill_digests(v, digests)),
        _ => {}
    }
}

/// How a token target reads its input.
pub enum Input<'a> {
    /// Not JSON: the raw token text.
    Raw(&'a str),
    /// A JSON object (the input starts with `{`): header and claims to sign, then verify.
    Structured(Map<String, Value>),
    /// Neither UTF-8 text nor a JSON object.
    Invalid,
}

/// Classifies `data`: a JSON object when it starts with `{`, else raw UTF-8 text.
pub fn input(data: &[u8]) -> Input<'_> {
    if data.first() == Some(&b'{') {
        return match serde_json::from_slice(data) {
            Ok(map) => Input::Structured(map),
            Err(_) => Input::Invalid,
        };
    }
    match std::str::from_utf8(data) {
        Ok(text) => Input::Raw(text),
        Err(_) => Input::Invalid,
    }
}

/// Member `name` of `object` as a string, or `default`.
pub fn string<'a>(object: &'a Map<String, Value>, name: &str, default: &'a str) -> &'a str {
    object.get(name).and_then(Value::as_str).unwrap_or(default)
}

/// Member `name` of `object` as a JSON object (empty when absent or not an object).
pub fn object(object: &Map<String, Value>, name: &str) -> Map<String, Value> {
    match object.get(name) {
        Some(Value::Object(m)) => m.clone(),
        _ => Map::new(),
    }
}
