//! Wallets authenticated by their provider's attestation (HAIP 1.0 §4.4.1, OID4VCI Appendix E)
//! against the real binary, with `client_attestation = "required"`: PAR and the token endpoint
//! take a request only with an attestation whose `x5c` chain leads to a configured wallet
//! provider anchor, for that client, and a fresh PoP of the attested key for this issuer.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code: a failure stops at its line

use std::sync::Arc;

use serde_json::{json, Map, Value};

use civic_credential::crypto::{Algorithm, SigningKey, WithoutKid};
use civic_credential::jws;
use civic_credential::oid4vci::attestation::{ATTESTATION_HEADER, POP_HEADER};
use civic_credential::oid4vci::authorization::{pkce_challenge, PushedAuthorizationRequest};
use civic_testkit::http::json;
use civic_testkit::issuer_process::{enroll, TestIssuer};
use civic_testkit::wallet::DpopKey;

const BIN: &str = env!("CARGO_BIN_EXE_civic-issuer");
const CLIENT: &str = "https://wallet.example";
const REDIRECT: &str = "https://wallet.example/callback";

fn err(v: &Value) -> &str {
    v["error"].as_str().unwrap_or("<no error code>")
}

fn object(v: Value) -> Map<String, Value> {
    v.as_object().cloned().expect("object")
}

/// A wallet provider: its CA (the issuer's anchor) and the key its certificate certifies.
struct Provider {
    ca_pem: String,
    leaf_b64: String,
    key: SigningKey,
}

impl Provider {
    fn new(name: &str) -> Self {
        let key = SigningKey::generate(Algorithm::Es256, &mut rand::rngs::OsRng).expect("key");
        let pkcs8 = key.to_pkcs8_der().expect("pkcs8");
        let ca = civic_service::certificate::dev_ca(
            name,
            &["provider.example".into()],
            30,
            Some(&pkcs8),
        )
        .expect("dev ca");
        use base64::Engine as _;
        let leaf_b64 =
            base64::engine::general_purpose::STANDARD.encode(ca.leaf_der().expect("der"));
        Provider {
            ca_pem: ca.ca_pem,
            leaf_b64,
            key,
        }
    }

    /// An attestation of `wallet_key` for client `sub`, valid until `exp`.
    fn attest(&self, sub: &str, wallet_key: &SigningKey, exp: i64) -> String {
        let mut header = Map::new();
        header.insert("x5c".into(), json!([self.leaf_b64]));
        let claims = object(json!({
            "iss": "https://provider.example", "sub": sub, "iat": civic_testkit::now(), "exp": exp,
            "cnf": { "jwk": wallet_key.public_jwk() }, "wallet_name": "Test wallet",
        }));
        jws::sign(
            "oauth-client-attestation+jwt",
            header,
            &claims,
            &WithoutKid(&self.key),
        )
        .expect("attestation")
    }
}

/// A fresh PoP of `wallet_key` for `aud`, from our client.
fn pop(wallet_key: &SigningKey, aud: &str) -> String {
    pop_of(CLIENT, wallet_key, aud)
}

/// A fresh PoP of `wallet_key` for `aud`, from client `iss`.
fn pop_of(iss: &str, wallet_key: &SigningKey, aud: &str) -> String {
    let now = civic_testkit::now();
    let jti = civic_credential::encoding::b64_encode(&rand::random::<[u8; 16]>());
    let claims = object(json!({ "iss": iss, "aud": aud, "jti": jti, "iat": now, "exp": now + 60 }));
    jws::sign(
        "oauth-client-attestation-pop+jwt",
        Map::new(),
        &claims,
        &WithoutKid(wallet_key),
    )
    .expect("pop")
}

async fn issuer(provider: &Provider) -> (TestIssuer, reqwest::Client, String) {
    issuer_with(provider, "required").await
}

/// An issuer trusting `provider`, with `client_attestation = policy`.
async fn issuer_with(provider: &Provider, policy: &str) -> (TestIssuer, reqwest::Client, String) {
    let mut t = TestIssuer::init(BIN, "");
    std::fs::write(t.data.join("provider-ca.pem"), &provider.ca_pem).expect("anchor");
    let config = t.data.join("config.toml");
    let wanted = format!("client_attestation = \"{policy}\"");
    let mut text = std::fs::read_to_string(&config)
        .expect("config")
        .replace("client_attestation = \"optional\"", &wanted);
    assert!(text.contains(&wanted));
    text.push_str(&format!(
        "wallet_provider_anchors = [\"provider-ca.pem\"]\n\n\
         [[wallet_client]]\nclient_id = \"{CLIENT}\"\nname = \"Test wallet\"\nredirect_uris = [\"{REDIRECT}\"]\n"
    ));
    std::fs::write(&config, text).expect("config");
    let code = t.code_via_cli("R-0001");
    t.start().await;
    let (browser, _, csrf) = enroll(&t, &code).await;
    (t, browser, csrf)
}

fn pushed_request(verifier: &str) -> String {
    PushedAuthorizationRequest {
        client_id: CLIENT.into(),
        redirect_uri: REDIRECT.into(),
        scope: vec!["residency".into()],
        state: Some("s".into()),
        code_challenge: pkce_challenge(verifier),
        issuer_state: None,
        dpop_jkt: None,
    }
    .to_form()
}

async fn par(t: &TestIssuer, headers: &[(&str, String)], body: &str) -> (u16, Value) {
    let mut req = t
        .http
        .post(t.url("/par"))
        .header("content-type", "application/x-www-form-urlencoded");
    for (name, value) in headers {
        req = req.header(*name, value);
    }
    json(req.body(body.to_owned()).send().await.expect("par")).await
}

#[tokio::test]
async fn only_an_attested_wallet_with_a_fresh_pop_is_served() {
    let provider = Provider::new("Wallet Provider");
    let (t, browser, csrf) = issuer(&provider).await;
    let wallet_key = SigningKey::generate(Algorithm::Es256, &mut rand::rngs::OsRng).expect("key");
    let exp = civic_testkit::now() + 3600;
    let attestation = provider.attest(CLIENT, &wallet_key, exp);
    let verifier = civic_credential::encoding::b64_encode(&rand::random::<[u8; 32]>());
    let body = pushed_request(&verifier);

    let meta: Value = t
        .http
        .get(t.url("/.well-known/oauth-authorization-server"))
        .send()
        .await
        .expect("metadata")
        .json()
        .await
        .expect("json");
    assert_eq!(
        meta["token_endpoint_auth_methods_supported"],
        json!(["attest_jwt_client_auth"])
    );

    // Without an attestation, with a half of one, and each broken rule.
    let (s, b) = par(&t, &[], &body).await;
    assert_eq!((s, err(&b)), (400, "invalid_client"), "{b}");
    let (s, b) = par(&t, &[(ATTESTATION_HEADER, attestation.clone())], &body).await;
    assert_eq!((s, err(&b)), (400, "invalid_client_attestation"), "{b}");
    let rogue = Provider::new("Rogue Provider");
    let other_key = SigningKey::generate(Algorithm::Es256, &mut rand::rngs::OsRng).expect("key");
    let cases: Vec<(&str, String, String)> = vec![
        (
            "a provider not trusted",
            rogue.attest(CLIENT, &wallet_key, exp),
            pop(&wallet_key, &t.base),
        ),
        // Sound in itself (its PoP names that client), but not for the client_id of the request.
        (
            "another client's attestation",
            provider.attest("https://other.example", &wallet_key, exp),
            pop_of("https://other.example", &wallet_key, &t.base),
        ),
        (
            "an expired attestation",
            provider.attest(CLIENT, &wallet_key, civic_testkit::now() - 3600),
            pop(&wallet_key, &t.base),
        ),
        (
            "a PoP of another key",
            attestation.clone(),
            pop(&other_key, &t.base),
        ),
        (
            "a PoP for another server",
            attestation.clone(),
            pop(&wallet_key, "https://other-issuer.example"),
        ),
    ];
    for (what, att, p) in cases {
        let (s, b) = par(&t, &[(ATTESTATION_HEADER, att), (POP_HEADER, p)], &body).await;
        assert_eq!(
            (s, err(&b)),
            (400, "invalid_client_attestation"),
            "{what}: {b}"
        );
    }

    // The attested wallet, once per PoP.
    let first = pop(&wallet_key, &t.base);
    let headers = [
        (ATTESTATION_HEADER, attestation.clone()),
        (POP_HEADER, first),
    ];
    let (s, pushed) = par(&t, &headers, &body).await;
    assert_eq!(s, 201, "{pushed}");
    let (s, b) = par(&t, &headers, &body).await;
    assert_eq!(
        (s, err(&b)),
        (400, "invalid_client_attestation"),
        "a PoP used twice: {b}"
    );

    // The resident approves; the token endpoint wants the attestation too.
    let (s, decided) = json(
        browser
            .post(t.url("/api/authorize"))
            .header("x-csrf-token", &csrf)
            .json(&json!({ "client_id": CLIENT, "request_uri": pushed["request_uri"], "approve": true }))
            .send()
            .await
            .expect("decide"),
    )
    .await;
    assert_eq!(s, 200, "{decided}");
    let redirect = decided["redirect"].as_str().expect("redirect");
    let [code] = civic_credential::form::fields(
        redirect.split_once('?').expect("query").1.as_bytes(),
        ["code"],
    )
    .expect("query");
    let code = code.expect("code");
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("code_verifier", verifier.as_str()),
        ("redirect_uri", REDIRECT),
        ("client_id", CLIENT),
    ];
    let url = t.url("/token");
    let dpop = Arc::new(DpopKey::new());
    let (s, b) = dpop
        .send(
            |proof| t.http.post(&url).header("DPoP", proof).form(&form),
            &url,
            None,
        )
        .await
        .expect("token");
    assert_eq!(
        (s, err(&b)),
        (400, "invalid_client"),
        "no attestation at the token endpoint: {b}"
    );
    let (s, tok) = dpop
        .send(
            |proof| {
                t.http
                    .post(&url)
                    .header("DPoP", proof)
                    .header(ATTESTATION_HEADER, &attestation)
                    .header(POP_HEADER, pop(&wallet_key, &t.base))
                    .form(&form)
            },
            &url,
            None,
        )
        .await
        .expect("token");
    assert_eq!(s, 200, "{tok}");
    assert_eq!(tok["token_type"], "DPoP");
}

impl Provider {
    /// A key attestation (OID4VCI Appendix D) of `keys` for `nonce`.
    fn attest_keys(&self, keys: &[&SigningKey], nonce: &str) -> String {
        let mut header = Map::new();
        header.insert("x5c".into(), json!([self.leaf_b64]));
        let attested: Vec<Value> = keys.iter().map(|k| json!(k.public_jwk())).collect();
        let claims = object(json!({
            "iat": civic_testkit::now(), "exp": civic_testkit::now() + 600, "nonce": nonce,
            "attested_keys": attested, "key_storage": ["iso_18045_moderate"],
        }));
        jws::sign(
            "key-attestation+jwt",
            header,
            &claims,
            &WithoutKid(&self.key),
        )
        .expect("key attestation")
    }
}

/// A proof JWT of `holder` for `aud` and `nonce`, carrying `key_attestation` in its header.
fn attested_proof(holder: &SigningKey, aud: &str, nonce: &str, key_attestation: &str) -> String {
    let mut header = Map::new();
    header.insert("jwk".into(), json!(holder.public_jwk()));
    header.insert("key_attestation".into(), json!(key_attestation));
    let claims = object(json!({ "aud": aud, "iat": civic_testkit::now(), "nonce": nonce }));
    jws::sign(
        civic_credential::oid4vci::PROOF_TYP,
        header,
        &claims,
        &WithoutKid(holder),
    )
    .expect("proof")
}

#[tokio::test]
async fn key_attestations_in_proofs_are_checked_when_present() {
    let provider = Provider::new("Wallet Provider");
    let (t, _browser, _csrf) = issuer(&provider).await;
    let rogue = Provider::new("Rogue Provider");
    let (s, offer) = json(
        t.http
            .post(t.url("/admin/api/residents/R-0001/offer"))
            .bearer_auth(&t.admin_token)
            .send()
            .await
            .expect("offer"),
    )
    .await;
    assert_eq!(s, 200, "{offer}");
    let code = civic_testkit::wallet::pre_authorized_code(&offer["credential_offer"]);
    let (s, tok) =
        civic_testkit::wallet::token(&t.http, &t.base, &code, offer["tx_code"].as_str()).await;
    assert_eq!(s, 200, "{tok}");
    let access = tok["access_token"].as_str().expect("token");
    let n = civic_testkit::wallet::nonce(&t.http, &t.base).await;
    let a = civic_testkit::wallet::holder_key();
    let b = civic_testkit::wallet::holder_key();
    let stranger = civic_testkit::wallet::holder_key();
    for (what, proof) in [
        (
            "a provider not trusted",
            attested_proof(&a, &t.base, &n, &rogue.attest_keys(&[&a], &n)),
        ),
        (
            "another key attested",
            attested_proof(&a, &t.base, &n, &provider.attest_keys(&[&stranger], &n)),
        ),
        (
            "another nonce",
            attested_proof(&a, &t.base, &n, &provider.attest_keys(&[&a], "old-nonce")),
        ),
        (
            "not a key attestation",
            attested_proof(
                &a,
                &t.base,
                &n,
                &provider.attest(CLIENT, &a, civic_testkit::now() + 60),
            ),
        ),
    ] {
        let (s, body) = civic_testkit::wallet::credential(&t.http, &t.base, access, &[proof]).await;
        assert_eq!((s, err(&body)), (400, "invalid_proof"), "{what}: {body}");
    }
    // One attestation for the whole batch (HAIP 1.0 §4.5.1), each proof under it.
    let both = provider.attest_keys(&[&a, &b], &n);
    let proofs = vec![
        attested_proof(&a, &t.base, &n, &both),
        attested_proof(&b, &t.base, &n, &both),
    ];
    let (s, body) = civic_testkit::wallet::credential(&t.http, &t.base, access, &proofs).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["credentials"].as_array().map(Vec::len), Some(2));
}

/// The resident in `browser` approves `request_uri`: the code.
async fn approve(
    t: &TestIssuer,
    browser: &reqwest::Client,
    csrf: &str,
    request_uri: &Value,
) -> String {
    let (s, decided) = json(
        browser
            .post(t.url("/api/authorize"))
            .header("x-csrf-token", csrf)
            .json(&json!({ "client_id": CLIENT, "request_uri": request_uri, "approve": true }))
            .send()
            .await
            .expect("decide"),
    )
    .await;
    assert_eq!(s, 200, "{decided}");
    let redirect = decided["redirect"].as_str().expect("redirect");
    let [code] = civic_credential::form::fields(
        redirect.split_once('?').expect("query").1.as_bytes(),
        ["code"],
    )
    .expect("query");
    code.expect("code")
}

#[tokio::test]
async fn a_wallet_that_authenticated_by_attestation_must_keep_doing_so() {
    // Optional: a wallet may come without; one that came with an attestation may not drop it.
    let provider = Provider::new("Wallet Provider");
    let (t, browser, csrf) = issuer_with(&provider, "optional").await;
    let wallet_key = SigningKey::generate(Algorithm::Es256, &mut rand::rngs::OsRng).expect("key");
    let attestation = provider.attest(CLIENT, &wallet_key, civic_testkit::now() + 3600);
    let mut refresh_token = None;
    let url = t.url("/token");
    let dpop = Arc::new(DpopKey::new());
    let send = |form: Vec<(&'static str, String)>, attested: bool| {
        let (url, dpop, attestation) = (url.clone(), dpop.clone(), attestation.clone());
        let (http, base, key) = (t.http.clone(), t.base.clone(), &wallet_key);
        async move {
            dpop.send(
                |proof| {
                    let req = http.post(&url).header("DPoP", proof).form(&form);
                    if attested {
                        req.header(ATTESTATION_HEADER, &attestation)
                            .header(POP_HEADER, pop(key, &base))
                    } else {
                        req
                    }
                },
                &url,
                None,
            )
            .await
            .expect("token")
        }
    };
    // Pushed with an attestation, approved: the code is refused without one (and spent, as any
    // code a failed request presents).
    let code_form = |code: String, verifier: String| {
        vec![
            ("grant_type", "authorization_code".to_owned()),
            ("code", code),
            ("code_verifier", verifier),
            ("redirect_uri", REDIRECT.to_owned()),
            ("client_id", CLIENT.to_owned()),
        ]
    };
    for attested in [false, true] {
        let verifier = civic_credential::encoding::b64_encode(&rand::random::<[u8; 32]>());
        let headers = [
            (ATTESTATION_HEADER, attestation.clone()),
            (POP_HEADER, pop(&wallet_key, &t.base)),
        ];
        let (s, pushed) = par(&t, &headers, &pushed_request(&verifier)).await;
        assert_eq!(s, 201, "{pushed}");
        let code = approve(&t, &browser, &csrf, &pushed["request_uri"]).await;
        let (s, b) = send(code_form(code, verifier), attested).await;
        if attested {
            assert_eq!(s, 200, "{b}");
            refresh_token = b["refresh_token"].as_str().map(str::to_owned);
        } else {
            assert_eq!(
                (s, err(&b)),
                (400, "invalid_client"),
                "the code without the attestation: {b}"
            );
        }
    }
    let refresh = refresh_token.expect("a refresh token");
    let form = vec![
        ("grant_type", "refresh_token".to_owned()),
        ("refresh_token", refresh),
        ("client_id", CLIENT.to_owned()),
    ];
    let (s, b) = send(form.clone(), false).await;
    assert_eq!(
        (s, err(&b)),
        (400, "invalid_client"),
        "a refresh without the attestation: {b}"
    );
    let (s, b) = send(form, true).await;
    assert_eq!(s, 200, "{b}");
}

#[tokio::test]
async fn a_wallet_registered_with_its_providers_is_vouched_for_only_by_them() {
    let own = Provider::new("Own Provider");
    let other = Provider::new("Other Provider");
    let mut t = TestIssuer::init(BIN, "");
    std::fs::write(t.data.join("own-ca.pem"), &own.ca_pem).expect("anchor");
    std::fs::write(t.data.join("other-ca.pem"), &other.ca_pem).expect("anchor");
    let config = t.data.join("config.toml");
    let mut text = std::fs::read_to_string(&config).expect("config");
    // Both providers are trusted; this wallet names only its own.
    text.push_str(&format!(
        "wallet_provider_anchors = [\"own-ca.pem\", \"other-ca.pem\"]\n\n\
         [[wallet_client]]\nclient_id = \"{CLIENT}\"\nname = \"Test wallet\"\nredirect_uris = [\"{REDIRECT}\"]\n\
         wallet_providers = [\"own-ca.pem\"]\n"
    ));
    std::fs::write(&config, text).expect("config");
    t.start().await;
    let wallet_key = SigningKey::generate(Algorithm::Es256, &mut rand::rngs::OsRng).expect("key");
    let exp = civic_testkit::now() + 3600;
    let verifier = civic_credential::encoding::b64_encode(&rand::random::<[u8; 32]>());
    let body = pushed_request(&verifier);

    // A trusted provider, but not this wallet's: refused, before and after a valid one.
    let headers = |p: &Provider| {
        [
            (ATTESTATION_HEADER, p.attest(CLIENT, &wallet_key, exp)),
            (POP_HEADER, pop(&wallet_key, &t.base)),
        ]
    };
    let (s, b) = par(&t, &headers(&other), &body).await;
    assert_eq!(
        (s, err(&b)),
        (400, "invalid_client_attestation"),
        "another provider: {b}"
    );
    let (s, b) = par(&t, &headers(&own), &body).await;
    assert_eq!(s, 201, "its own provider: {b}");

    // A wallet_providers entry that is not a trusted anchor stops the issuer at start.
    t.kill();
    let text = std::fs::read_to_string(&config).expect("config").replace(
        "wallet_providers = [\"own-ca.pem\"]",
        "wallet_providers = [\"unknown-ca.pem\"]",
    );
    std::fs::write(&config, text).expect("config");
    let (ok, _, stderr) = t.try_cli(&["admin-token", "--name", "x"]);
    assert!(!ok);
    assert!(
        stderr.contains("unknown-ca.pem is not one of wallet_provider_anchors"),
        "{stderr}"
    );
}
