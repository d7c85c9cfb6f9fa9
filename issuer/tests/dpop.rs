//! DPoP at the issuer (RFC 9449, HAIP 1.0): access tokens are bound to the wallet's key, so a
//! stolen token gets nothing without that key; proofs need the issuer's nonce, are for one URL
//! and are good once; Bearer tokens only where the configuration allows them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code: a failure stops at its line

use std::sync::Arc;

use serde_json::{json, Value};

use civic_credential::dpop::DPOP_NONCE;
use civic_credential::oid4vci::PRE_AUTHORIZED_GRANT;
use civic_testkit::http::json as read;
use civic_testkit::services::{start_issuer, IssuerHandle, IssuerSetup};
use civic_testkit::wallet::{self, DpopKey};

fn err(v: &Value) -> &str {
    v["error"].as_str().unwrap_or("<no error code>")
}

/// A counter-service offer for `resident`: its pre-authorized code and transaction code.
async fn offer(issuer: &IssuerHandle, resident: &str) -> (String, String) {
    let offer = issuer
        .admin_post(&format!("/admin/api/residents/{resident}/offer"))
        .await;
    (
        wallet::pre_authorized_code(&offer["credential_offer"]),
        offer["tx_code"].as_str().expect("tx_code").to_owned(),
    )
}

fn token_form<'a>(code: &'a str, tx: &'a str) -> [(&'static str, &'a str); 3] {
    [
        ("grant_type", PRE_AUTHORIZED_GRANT),
        ("pre-authorized_code", code),
        ("tx_code", tx),
    ]
}

/// A credential request body with one fresh proof of possession.
async fn credential_body(issuer: &IssuerHandle) -> Value {
    let n = wallet::nonce(&issuer.http, &issuer.base).await;
    let proof = wallet::proof(
        &wallet::holder_key(),
        &issuer.base,
        Some(&n),
        civic_testkit::now(),
    );
    json!({ "credential_configuration_id": "residency_sd_jwt", "proofs": { "jwt": [proof] } })
}

/// Request headers, by name.
type Headers = Vec<(&'static str, String)>;

/// POST /credential with exactly these headers.
async fn present(
    issuer: &IssuerHandle,
    headers: &[(&str, String)],
    body: &Value,
) -> (u16, Value, Option<String>) {
    let mut req = issuer.http.post(format!("{}/credential", issuer.base));
    for (name, value) in headers {
        req = req.header(*name, value);
    }
    let resp = req.json(body).send().await.expect("credential");
    let challenge = resp
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().expect("text").to_owned());
    let (status, body) = read(resp).await;
    (status, body, challenge)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_needs_a_proof_with_the_issuers_nonce_and_is_bound_to_its_key() {
    let tmp = tempfile::tempdir().expect("tmp");
    let issuer = start_issuer(tmp.path(), IssuerSetup::default()).await;
    let (code, tx) = offer(&issuer, "D-0001").await;
    let url = format!("{}/token", issuer.base);
    let form = token_form(&code, &tx);

    // No proof: refused, and the code is not spent.
    let (s, b) = read(
        issuer
            .http
            .post(&url)
            .form(&form)
            .send()
            .await
            .expect("token"),
    )
    .await;
    assert_eq!((s, err(&b)), (400, "invalid_dpop_proof"), "{b}");

    // Two proofs: refused.
    let dpop = Arc::new(DpopKey::new());
    let (s, b) = read(
        issuer
            .http
            .post(&url)
            .header("DPoP", dpop.proof(&url, None))
            .header("DPoP", dpop.proof(&url, None))
            .form(&form)
            .send()
            .await
            .expect("token"),
    )
    .await;
    assert_eq!((s, err(&b)), (400, "invalid_dpop_proof"), "{b}");

    // A proof without the issuer's nonce: sent back for one, with a nonce to use.
    let resp = issuer
        .http
        .post(&url)
        .header("DPoP", dpop.proof(&url, None))
        .form(&form)
        .send()
        .await
        .expect("token");
    let nonce = resp
        .headers()
        .get(DPOP_NONCE)
        .expect("a DPoP-Nonce to retry with")
        .to_str()
        .expect("text")
        .to_owned();
    let (s, b) = read(resp).await;
    assert_eq!((s, err(&b)), (400, "use_dpop_nonce"), "{b}");

    // A c_nonce is no DPoP nonce; a proof for another URL is refused.
    let c_nonce = wallet::nonce(&issuer.http, &issuer.base).await;
    let now = civic_testkit::now();
    for (what, proof, want) in [
        (
            "a c_nonce",
            dpop.proof_with(&url, None, Some(&c_nonce), now),
            "use_dpop_nonce",
        ),
        (
            "another URL",
            dpop.proof_with(
                &format!("{}/credential", issuer.base),
                None,
                Some(&nonce),
                now,
            ),
            "invalid_dpop_proof",
        ),
        (
            "an old proof",
            dpop.proof_with(&url, None, Some(&nonce), now - 3_600),
            "invalid_dpop_proof",
        ),
    ] {
        let (s, b) = read(
            issuer
                .http
                .post(&url)
                .header("DPoP", proof)
                .form(&form)
                .send()
                .await
                .expect("token"),
        )
        .await;
        assert_eq!((s, err(&b)), (400, want), "{what}: {b}");
    }

    // With the nonce: a DPoP token; the same proof again is refused as a replay.
    let proof = dpop.proof_with(&url, None, Some(&nonce), now);
    let send = |proof: String| {
        let req = issuer.http.post(&url).header("DPoP", proof).form(&form);
        async move { read(req.send().await.expect("token")).await }
    };
    let (s, tok) = send(proof.clone()).await;
    assert_eq!(s, 200, "{tok}");
    assert_eq!(tok["token_type"], "DPoP");
    let (s, b) = send(proof).await;
    assert_eq!((s, err(&b)), (400, "invalid_dpop_proof"), "{b}");
    assert!(
        b["error_description"]
            .as_str()
            .unwrap_or_default()
            .contains("used before"),
        "{b}"
    );

    // The metadata says so.
    let meta: Value = issuer
        .http
        .get(format!(
            "{}/.well-known/oauth-authorization-server",
            issuer.base
        ))
        .send()
        .await
        .expect("metadata")
        .json()
        .await
        .expect("json");
    assert_eq!(
        meta["dpop_signing_alg_values_supported"],
        json!(["ES256", "EdDSA"])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stolen_access_token_gets_nothing_without_its_key() {
    let tmp = tempfile::tempdir().expect("tmp");
    let issuer = start_issuer(tmp.path(), IssuerSetup::default()).await;
    let (code, tx) = offer(&issuer, "D-0001").await;
    let owner = Arc::new(DpopKey::new());
    let (s, tok) = wallet::token_with(&issuer.http, &issuer.base, &code, Some(&tx), &owner)
        .await
        .expect("token");
    assert_eq!(s, 200, "{tok}");
    let access = tok["access_token"].as_str().expect("token").to_owned();
    let url = format!("{}/credential", issuer.base);
    let body = credential_body(&issuer).await;

    // The thief has the token, not the key.
    let thief = DpopKey::new();
    let auth = ("authorization", format!("DPoP {access}"));
    let attempts: Vec<(&str, Headers, &str)> = vec![
        (
            "as Bearer",
            vec![("authorization", format!("Bearer {access}"))],
            "invalid_token",
        ),
        ("without a proof", vec![auth.clone()], "invalid_dpop_proof"),
        (
            "with the thief's key",
            vec![auth.clone(), ("dpop", thief.proof(&url, Some(&access)))],
            "use_dpop_nonce",
        ),
    ];
    for (what, headers, want) in attempts {
        let (s, b, challenge) = present(&issuer, &headers, &body).await;
        assert_eq!((s, err(&b)), (401, want), "{what}: {b}");
        let challenge = challenge.expect("a challenge");
        assert!(
            challenge.starts_with("DPoP ") && challenge.contains(want),
            "{what}: {challenge}"
        );
    }
    // With a fresh nonce too, the thief's key is not the token's.
    let resp = issuer
        .http
        .post(&url)
        .header("authorization", format!("DPoP {access}"))
        .header("dpop", thief.proof(&url, Some(&access)))
        .json(&body)
        .send()
        .await
        .expect("credential");
    thief.remember(&resp);
    let (s, b, _) = present(
        &issuer,
        &[auth.clone(), ("dpop", thief.proof(&url, Some(&access)))],
        &body,
    )
    .await;
    assert_eq!((s, err(&b)), (401, "invalid_dpop_proof"), "{b}");
    assert!(
        b["error_description"]
            .as_str()
            .unwrap_or_default()
            .contains("another key"),
        "{b}"
    );
    // The owner's proof for another token is no good either.
    let (s, b, _) = present(
        &issuer,
        &[
            auth.clone(),
            ("dpop", owner.proof(&url, Some("another-token"))),
        ],
        &body,
    )
    .await;
    assert_eq!((s, err(&b)), (401, "invalid_dpop_proof"), "{b}");

    // None of it spent the token: the owner gets the credential, once.
    let (s, b) = wallet::credential(&issuer.http, &issuer.base, &access, &[]).await;
    assert_eq!((s, err(&b)), (400, "invalid_proof"), "{b}");
    let proofs = vec![body["proofs"]["jwt"][0].as_str().expect("proof").to_owned()];
    let (s, b) = wallet::credential(&issuer.http, &issuer.base, &access, &proofs).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["credentials"].as_array().map(Vec::len), Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bearer_tokens_only_where_configured_and_never_as_dpop() {
    let tmp = tempfile::tempdir().expect("tmp");
    let issuer = start_issuer(
        tmp.path(),
        IssuerSetup {
            allow_bearer_tokens: true,
            ..IssuerSetup::default()
        },
    )
    .await;
    let (code, tx) = offer(&issuer, "D-0001").await;
    let (s, tok) = read(
        issuer
            .http
            .post(format!("{}/token", issuer.base))
            .form(&token_form(&code, &tx))
            .send()
            .await
            .expect("token"),
    )
    .await;
    assert_eq!(s, 200, "{tok}");
    assert_eq!(tok["token_type"], "Bearer");
    let access = tok["access_token"].as_str().expect("token").to_owned();
    let url = format!("{}/credential", issuer.base);
    let body = credential_body(&issuer).await;
    let dpop = DpopKey::new();
    let (s, b, _) = present(
        &issuer,
        &[
            ("authorization", format!("DPoP {access}")),
            ("dpop", dpop.proof(&url, Some(&access))),
        ],
        &body,
    )
    .await;
    assert_eq!((s, err(&b)), (401, "invalid_token"), "{b}");
    let (s, b, _) = present(
        &issuer,
        &[("authorization", format!("Bearer {access}"))],
        &body,
    )
    .await;
    assert_eq!(s, 200, "{b}");

    // A wallet that sends a proof still gets a bound token.
    let (code, tx) = offer(&issuer, "D-0001").await;
    let (s, tok) = wallet::token(&issuer.http, &issuer.base, &code, Some(&tx)).await;
    assert_eq!((s, &tok["token_type"]), (200, &json!("DPoP")), "{tok}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_wallets_may_send_proofs_and_read_the_nonce() {
    let tmp = tempfile::tempdir().expect("tmp");
    let issuer = start_issuer(tmp.path(), IssuerSetup::default()).await;
    let resp = issuer
        .http
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/credential", issuer.base),
        )
        .header("origin", "https://wallet.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "authorization,dpop")
        .send()
        .await
        .expect("preflight");
    let allowed = resp.headers()["access-control-allow-headers"]
        .to_str()
        .expect("text")
        .to_ascii_lowercase();
    assert!(allowed.contains("dpop"), "{allowed}");
    let resp = issuer
        .http
        .post(format!("{}/token", issuer.base))
        .header("origin", "https://wallet.example")
        .form(&[("grant_type", PRE_AUTHORIZED_GRANT)])
        .send()
        .await
        .expect("token");
    let exposed = resp.headers()["access-control-expose-headers"]
        .to_str()
        .expect("text")
        .to_ascii_lowercase();
    assert!(exposed.contains("dpop-nonce"), "{exposed}");
    assert!(resp.headers().contains_key(DPOP_NONCE));
}
