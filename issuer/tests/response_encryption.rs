//! Credential response encryption (OID4VCI 1.0 §8.2): a wallet that sends
//! `credential_response_encryption` gets its response as a JWE (ECDH-ES, A128GCM or A256GCM) to
//! its key, opened here with josekit; parameters the issuer cannot honour are refused with
//! `invalid_encryption_parameters` before anything is spent.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code: a failure stops at its line

use serde_json::{json, Value};

use civic_credential::jwe::ResponseEncryption;
use civic_testkit::http::json as read;
use civic_testkit::services::{start_issuer, IssuerHandle, IssuerSetup};
use civic_testkit::wallet;

/// A DPoP-bound access token for a counter-service offer of `resident`.
async fn access(issuer: &IssuerHandle, resident: &str) -> String {
    let offer = issuer
        .admin_post(&format!("/admin/api/residents/{resident}/offer"))
        .await;
    let code = wallet::pre_authorized_code(&offer["credential_offer"]);
    let (s, tok) =
        wallet::token(&issuer.http, &issuer.base, &code, offer["tx_code"].as_str()).await;
    assert_eq!(s, 200, "{tok}");
    tok["access_token"].as_str().expect("token").to_owned()
}

/// POST /credential with `body`, presenting `token` with its DPoP key: status, content type,
/// body text.
async fn request(issuer: &IssuerHandle, token: &str, body: &Value) -> (u16, String, String) {
    let url = format!("{}/credential", issuer.base);
    let req = wallet::access_headers(&url, token)
        .into_iter()
        .fold(issuer.http.post(&url), |r, (n, v)| r.header(n, v));
    let resp = req.json(body).send().await.expect("credential");
    let status = resp.status().as_u16();
    let kind = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().expect("text").to_owned())
        .unwrap_or_default();
    (status, kind, resp.text().await.expect("body"))
}

fn opened(jwe: &str, private: &civic_credential::jwk::Jwk, enc: &str) -> Value {
    use josekit::jwe::ECDH_ES;
    let key =
        josekit::jwk::Jwk::from_bytes(serde_json::to_vec(private).expect("jwk")).expect("jwk");
    let decrypter = ECDH_ES.decrypter_from_jwk(&key).expect("decrypter");
    let (plain, header) = josekit::jwe::deserialize_compact(jwe, &decrypter).expect("opens");
    assert_eq!(header.content_encryption(), Some(enc));
    assert_eq!(header.algorithm(), Some("ECDH-ES"));
    serde_json::from_slice(&plain).expect("the response JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wallet_that_asks_gets_its_credentials_sealed_to_its_key() {
    let tmp = tempfile::tempdir().expect("tmp");
    let issuer = start_issuer(tmp.path(), IssuerSetup::default()).await;
    let meta: Value = issuer
        .http
        .get(format!(
            "{}/.well-known/openid-credential-issuer",
            issuer.base
        ))
        .send()
        .await
        .expect("metadata")
        .json()
        .await
        .expect("json");
    assert_eq!(
        meta["credential_response_encryption"],
        json!({ "alg_values_supported": ["ECDH-ES"], "enc_values_supported": ["A128GCM", "A256GCM"], "encryption_required": false })
    );

    for enc in ["A128GCM", "A256GCM"] {
        let token = access(&issuer, "D-0001").await;
        let key = ResponseEncryption::generate_key(&mut rand::rngs::OsRng);
        let n = wallet::nonce(&issuer.http, &issuer.base).await;
        let proof = wallet::proof(
            &wallet::holder_key(),
            &issuer.base,
            Some(&n),
            civic_testkit::now(),
        );
        let body = json!({
            "credential_configuration_id": "residency_sd_jwt",
            "proofs": { "jwt": [proof] },
            "credential_response_encryption": { "jwk": key.to_public(), "enc": enc },
        });
        let (s, kind, text) = request(&issuer, &token, &body).await;
        assert_eq!((s, kind.as_str()), (200, "application/jwt"), "{text}");
        assert_eq!(text.split('.').count(), 5, "a compact JWE");
        assert!(!text.contains("residency"), "nothing readable on the way");
        let response = opened(&text, &key, enc);
        let credential = response["credentials"][0]["credential"]
            .as_str()
            .expect("credential");
        assert!(credential.contains('~'), "an SD-JWT inside");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parameters_the_issuer_cannot_honour_are_refused_and_spend_nothing() {
    let tmp = tempfile::tempdir().expect("tmp");
    let issuer = start_issuer(tmp.path(), IssuerSetup::default()).await;
    let token = access(&issuer, "D-0001").await;
    let key = ResponseEncryption::generate_key(&mut rand::rngs::OsRng);
    let public = serde_json::to_value(key.to_public()).expect("jwk");
    let private = serde_json::to_value(&key).expect("jwk");
    let mut rsa = public.clone();
    rsa["kty"] = json!("RSA");
    let mut other_alg = public.clone();
    other_alg["alg"] = json!("RSA-OAEP-256");
    let mut off_curve = public.clone();
    off_curve["y"] = public["x"].clone();
    let n = wallet::nonce(&issuer.http, &issuer.base).await;
    let proof = wallet::proof(
        &wallet::holder_key(),
        &issuer.base,
        Some(&n),
        civic_testkit::now(),
    );
    for (what, params) in [
        ("another enc", json!({ "jwk": public, "enc": "A192GCM" })),
        ("no enc", json!({ "jwk": public })),
        ("no key", json!({ "enc": "A128GCM" })),
        (
            "compression",
            json!({ "jwk": public, "enc": "A128GCM", "zip": "DEF" }),
        ),
        ("a private key", json!({ "jwk": private, "enc": "A128GCM" })),
        ("an RSA key", json!({ "jwk": rsa, "enc": "A128GCM" })),
        ("another alg", json!({ "jwk": other_alg, "enc": "A128GCM" })),
        (
            "a point off the curve",
            json!({ "jwk": off_curve, "enc": "A128GCM" }),
        ),
        (
            "an unknown member",
            json!({ "jwk": public, "enc": "A128GCM", "extra": 1 }),
        ),
    ] {
        let body = json!({
            "credential_configuration_id": "residency_sd_jwt",
            "proofs": { "jwt": [proof.clone()] },
            "credential_response_encryption": params,
        });
        let (s, _, text) = request(&issuer, &token, &body).await;
        let err: Value = serde_json::from_str(&text).unwrap_or_default();
        assert_eq!(
            (s, err["error"].as_str()),
            (400, Some("invalid_encryption_parameters")),
            "{what}: {text}"
        );
    }
    // The token and the nonce are still good: the plain request with the same proof works.
    let (s, body) = read(
        wallet::access_headers(&format!("{}/credential", issuer.base), &token)
            .into_iter()
            .fold(issuer.http.post(format!("{}/credential", issuer.base)), |r, (n, v)| r.header(n, v))
            .json(&json!({ "credential_configuration_id": "residency_sd_jwt", "proofs": { "jwt": [proof] } }))
            .send()
            .await
            .expect("credential"),
    )
    .await;
    assert_eq!(s, 200, "{body}");
}
