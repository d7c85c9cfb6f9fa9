//! A minimal OID4VCI wallet for tests, built on civic-credential's message types and proofs.

use serde_json::{json, Value};

use civic_credential::crypto::{Algorithm, SigningKey};
use civic_credential::oid4vci::{build_proof, PRE_AUTHORIZED_GRANT};

use super::server::json;

/// The time now, seconds.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64
}

/// A fresh ES256 holder key.
pub fn holder_key() -> SigningKey {
    SigningKey::generate(Algorithm::Es256, &mut rand::rngs::OsRng).expect("key")
}

/// A proof JWT for `aud` and `nonce`, issued at `iat`.
pub fn proof(key: &SigningKey, aud: &str, nonce: Option<&str>, iat: i64) -> String {
    build_proof(key, key.public_jwk(), aud, nonce, iat).expect("proof")
}

/// POST /token with a pre-authorized code (and tx_code).
pub async fn token(
    http: &reqwest::Client,
    base: &str,
    code: &str,
    tx_code: Option<&str>,
) -> (u16, Value) {
    let mut form = vec![
        ("grant_type", PRE_AUTHORIZED_GRANT),
        ("pre-authorized_code", code),
    ];
    if let Some(tx) = tx_code {
        form.push(("tx_code", tx));
    }
    json(
        http.post(format!("{base}/token"))
            .form(&form)
            .send()
            .await
            .expect("token"),
    )
    .await
}

/// POST /nonce → c_nonce.
pub async fn nonce(http: &reqwest::Client, base: &str) -> String {
    let (status, body) = json(
        http.post(format!("{base}/nonce"))
            .send()
            .await
            .expect("nonce"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["c_nonce"].as_str().expect("c_nonce").to_owned()
}

/// POST /credential with the given proofs.
pub async fn credential(
    http: &reqwest::Client,
    base: &str,
    access_token: &str,
    proofs: &[String],
) -> (u16, Value) {
    let body =
        json!({ "credential_configuration_id": "residency_sd_jwt", "proofs": { "jwt": proofs } });
    let resp = http
        .post(format!("{base}/credential"))
        .bearer_auth(access_token)
        .json(&body)
        .send()
        .await
        .expect("credential");
    json(resp).await
}

/// The pre-authorized code of an offer.
pub fn pre_authorized_code(offer: &Value) -> String {
    offer["grants"][PRE_AUTHORIZED_GRANT]["pre-authorized_code"]
        .as_str()
        .expect("pre-authorized code")
        .to_owned()
}

/// Redeems an offer for `copies` credentials: token, nonce, one proof per fresh key.
pub async fn redeem(
    http: &reqwest::Client,
    base: &str,
    offer: &Value,
    copies: usize,
) -> (Vec<String>, Vec<SigningKey>) {
    let (status, tok) = token(http, base, &pre_authorized_code(offer), None).await;
    assert_eq!(status, 200, "{tok}");
    let access = tok["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned();
    let n = nonce(http, base).await;
    let keys: Vec<SigningKey> = (0..copies).map(|_| holder_key()).collect();
    let proofs: Vec<String> = keys
        .iter()
        .map(|k| proof(k, base, Some(&n), now()))
        .collect();
    let (status, body) = credential(http, base, &access, &proofs).await;
    assert_eq!(status, 200, "{body}");
    let creds = body["credentials"]
        .as_array()
        .expect("credentials")
        .iter()
        .map(|c| c["credential"].as_str().expect("credential").to_owned())
        .collect();
    (creds, keys)
}

/// The (status list number, index) of a credential's status reference.
pub fn status_ref(credential: &str) -> (u32, u32) {
    let jwt = credential.split('~').next().expect("jwt");
    let part = jwt.split('.').nth(1).expect("payload");
    let bytes = civic_credential::encoding::b64_decode(part, "payload").expect("b64");
    let p: Value = serde_json::from_slice(&bytes).expect("json");
    let reference = &p["status"]["status_list"];
    let uri = reference["uri"].as_str().expect("uri");
    let list = uri
        .rsplit('/')
        .next()
        .and_then(|l| l.parse().ok())
        .expect("list number");
    let idx = reference["idx"].as_u64().expect("idx");
    (list, u32::try_from(idx).expect("idx fits"))
}
