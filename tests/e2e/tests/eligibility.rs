//! Issuer → wallet → verifier service → platform, all over HTTP on 127.0.0.1.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code: a failure stops at its line

use serde_json::Value;

use civic_service::Clock;
use civic_testkit::services::*;
use civic_testkit::wallet::Presenter;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_eligible_resident_gets_yes_and_a_stable_pseudonym_and_nothing_else_leaks() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (issuer, verifier) = start_issuer_and_verifier(tmp.path(), "").await;
    let copies = issuer.credentials("D-0001", 3).await;

    let mut pseudonyms = Vec::new();
    for cred in &copies[..2] {
        let (s, created) = verifier.session(BUDGET_KEY, "vote", None).await;
        assert_eq!(s, 200, "{created}");
        assert!(created["openid4vp_url"].as_str().is_some_and(
            |u| u.starts_with("openid4vp://?client_id=decentralized_identifier%3Adid%3Aweb%3A")
        ));
        assert!(created["qr_svg"]
            .as_str()
            .is_some_and(|q| q.contains("<svg")));
        let id = created["id"].as_str().expect("id");
        let (_, pending) = verifier.result(BUDGET_KEY, id, None).await;
        assert_eq!(session_status(&pending), "pending");

        let wallet = Presenter {
            http: &verifier.http,
            credential: cred,
        };
        let req = wallet
            .request(created["openid4vp_url"].as_str().expect("url"))
            .await;
        let asked: Vec<String> = req.dcql_query.credentials[0]
            .requested_paths()
            .iter()
            .map(|p| p.to_string())
            .collect();
        assert_eq!(
            asked.len(),
            3,
            "only the policy's claims and the pseudonym are requested: {asked:?}"
        );
        let (s, body) = wallet
            .answer(created["openid4vp_url"].as_str().expect("url"))
            .await;
        assert_eq!(s, 200, "{body}");

        let (s, result) = verifier.result(BUDGET_KEY, id, None).await;
        assert_eq!(s, 200);
        assert_eq!(session_status(&result), "complete", "{result}");
        let e = &result["eligibility"];
        assert_eq!(e["eligible"], true);
        assert_eq!(e["over_disclosed"], false);
        assert_eq!(e["issuer"], issuer.base);
        assert_eq!(e["predicates"].as_array().map(Vec::len), Some(2));
        let text = result.to_string();
        for personal in ["Anna", "de Vries", "1990", "Dam 1", "1012"] {
            assert!(!text.contains(personal), "{personal} leaked: {text}");
        }
        pseudonyms.push(e["pseudonym"].as_str().expect("pseudonym").to_owned());

        // Replaying the same answer is refused: the nonce is used.
        let vp = wallet.vp_token(&req, &req.client_id, &req.nonce);
        let (s, err) = wallet
            .post(
                &req,
                &[
                    ("vp_token", &vp),
                    ("state", req.state.as_deref().unwrap_or("")),
                ],
            )
            .await;
        assert_eq!(
            (s, err["error"].as_str()),
            (400, Some("invalid_request")),
            "{err}"
        );
    }
    assert_eq!(
        pseudonyms[0], pseudonyms[1],
        "one platform sees one pseudonym per resident"
    );

    // The same resident at another platform: a different pseudonym (unlinkable).
    let (s, created) = verifier.session(CONSULT_KEY, "district-3", None).await;
    assert_eq!(s, 200);
    let wallet = Presenter {
        http: &verifier.http,
        credential: &copies[2],
    };
    let (s, body) = wallet
        .answer(created["openid4vp_url"].as_str().expect("url"))
        .await;
    assert_eq!(s, 200, "{body}");
    let (_, result) = verifier
        .result(CONSULT_KEY, created["id"].as_str().expect("id"), None)
        .await;
    let other = result["eligibility"]["pseudonym"]
        .as_str()
        .expect("pseudonym");
    assert_ne!(other, pseudonyms[0], "pseudonyms differ across platforms");
    // D-0001 lives in district 1: not eligible for district 3, but the check itself succeeded.
    assert_eq!(result["eligibility"]["eligible"], false);

    // A platform cannot read another platform's session.
    let (s, _) = verifier
        .result(BUDGET_KEY, created["id"].as_str().expect("id"), None)
        .await;
    assert_eq!(s, 404);

    // The budget platform got signed webhooks.
    let hooks = verifier.hooks(2).await;
    assert_eq!(hooks.len(), 2, "{hooks:?}");
    for (sig, body) in &hooks {
        assert!(
            civic_verifier::webhook::verify(WEBHOOK_SECRET, sig, body, verifier.clock.now(), 300),
            "{sig}"
        );
        assert!(!body.contains("Anna"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn minors_revoked_credentials_and_bad_answers_are_refused() {
    let tmp = tempfile::tempdir().expect("tmp");
    std::fs::create_dir_all(tmp.path().join("issuer")).expect("dir");
    let issuer = start_issuer(
        &tmp.path().join("issuer"),
        IssuerSetup {
            status_ttl_secs: 1,
            ..IssuerSetup::default()
        },
    )
    .await;
    let verifier = start_verifier(tmp.path(), &issuer, "").await;

    // D-0006 is born 2010-06-15: the 16+ predicate must match the age on the day the test runs.
    let minor = issuer.credentials("D-0006", 1).await; // born 2010-06-15
    let (_, created) = verifier.session(BUDGET_KEY, "vote", None).await;
    let w = Presenter {
        http: &verifier.http,
        credential: &minor[0],
    };
    let (s, _) = w
        .answer(created["openid4vp_url"].as_str().expect("url"))
        .await;
    assert_eq!(s, 200);
    let (_, r) = verifier
        .result(BUDGET_KEY, created["id"].as_str().expect("id"), None)
        .await;
    let age_16 = r["eligibility"]["predicates"][1].clone();
    let born_2010_is_16 = civic_credential::residency::Date::parse("2010-06-15")
        .expect("date")
        .age_on(civic_credential::residency::Date::from_unix(
            issuer.clock.now(),
        ))
        >= 16;
    assert_eq!(age_16["satisfied"], born_2010_is_16, "{r}");
    assert_eq!(r["eligibility"]["eligible"], born_2010_is_16);

    // Wrong nonce, wrong audience, wrong state, and a decline.
    let copies = issuer.credentials("D-0003", 4).await;
    let cases: [(&str, &str); 3] = [
        ("nonce", "key_binding_nonce"),
        ("aud", "key_binding_audience"),
        ("state", "state_mismatch"),
    ];
    for (i, (what, rule)) in cases.iter().enumerate() {
        let (_, created) = verifier.session(BUDGET_KEY, "vote", None).await;
        let w = Presenter {
            http: &verifier.http,
            credential: &copies[i],
        };
        let req = w
            .request(created["openid4vp_url"].as_str().expect("url"))
            .await;
        let (aud, nonce, state) = match *what {
            "nonce" => (
                req.client_id.clone(),
                "other-nonce".to_owned(),
                req.state.clone().unwrap_or_default(),
            ),
            "aud" => (
                req.response_uri.clone(),
                req.nonce.clone(),
                req.state.clone().unwrap_or_default(),
            ),
            _ => (
                req.client_id.clone(),
                req.nonce.clone(),
                "forged-state".to_owned(),
            ),
        };
        let vp = w.vp_token(&req, &aud, &nonce);
        let (s, err) = w.post(&req, &[("vp_token", &vp), ("state", &state)]).await;
        assert_eq!(s, 400, "{what}: {err}");
        assert!(
            err["error_description"]
                .as_str()
                .is_some_and(|d| d.starts_with(rule)),
            "{what}: {err}"
        );
        let (_, r) = verifier
            .result(BUDGET_KEY, created["id"].as_str().expect("id"), None)
            .await;
        if *what == "state" {
            // A post with a wrong state cannot come from the wallet that fetched the request:
            // it does not use the session up, and the real answer still gets through.
            assert_eq!(session_status(&r), "pending", "{r}");
            let right = req.state.clone().unwrap_or_default();
            let vp = w.vp_token(&req, &req.client_id, &req.nonce);
            assert_eq!(
                w.post(&req, &[("vp_token", &vp), ("state", &right)])
                    .await
                    .0,
                200
            );
        } else {
            assert_eq!(session_status(&r), "rejected");
            assert_eq!(r["rejection"]["rule"], *rule, "{what}: {r}");
        }
    }
    let (_, created) = verifier.session(BUDGET_KEY, "vote", None).await;
    let w = Presenter {
        http: &verifier.http,
        credential: &copies[3],
    };
    let req = w
        .request(created["openid4vp_url"].as_str().expect("url"))
        .await;
    let (s, _) = w
        .post(
            &req,
            &[
                ("error", "access_denied"),
                ("state", req.state.as_deref().unwrap_or("")),
            ],
        )
        .await;
    assert_eq!(s, 200);
    let (_, r) = verifier
        .result(BUDGET_KEY, created["id"].as_str().expect("id"), None)
        .await;
    assert_eq!(session_status(&r), "declined");
    // A closed request cannot be fetched again.
    let resp = verifier
        .http
        .get(req.response_uri.replace("/response/", "/request/"))
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), 400);

    // Revocation: the verifier sees it once the list's ttl (1 s here) has passed on its clock.
    let fresh = issuer.credentials("D-0004", 2).await;
    let (_, created) = verifier.session(BUDGET_KEY, "vote", None).await;
    let w = Presenter {
        http: &verifier.http,
        credential: &fresh[0],
    };
    assert_eq!(
        w.answer(created["openid4vp_url"].as_str().expect("url"))
            .await
            .0,
        200
    );
    issuer
        .admin_post("/admin/api/residents/D-0004/revoke")
        .await;
    verifier.clock.advance(2);
    let (_, created) = verifier.session(BUDGET_KEY, "vote", None).await;
    let w = Presenter {
        http: &verifier.http,
        credential: &fresh[1],
    };
    let (s, _) = w
        .answer(created["openid4vp_url"].as_str().expect("url"))
        .await;
    assert_eq!(s, 400);
    let (_, r) = verifier
        .result(BUDGET_KEY, created["id"].as_str().expect("id"), None)
        .await;
    assert_eq!(r["rejection"]["rule"], "revoked", "{r}");

    // Platform API errors.
    let (s, b) = verifier.session("wrong-key", "vote", None).await;
    assert_eq!((s, b["error"].as_str()), (401, Some("invalid_client")));
    let (s, b) = verifier.session(BUDGET_KEY, "no-such-policy", None).await;
    assert_eq!((s, b["error"].as_str()), (400, Some("invalid_request")));
    let (s, _) = verifier
        .session(BUDGET_KEY, "vote", Some("https://evil.example/steal"))
        .await;
    assert_eq!(s, 400, "unregistered redirect_uri");
    // Browser wallets may call the wallet endpoints cross-origin; the platform API stays closed.
    let preflight = |path: String| {
        verifier
            .http
            .request(reqwest::Method::OPTIONS, path)
            .header("origin", "https://wallet.example")
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
    };
    let resp = preflight(format!("{}/v1/response/x", verifier.base))
        .await
        .expect("preflight");
    assert_eq!(
        resp.headers()
            .get("access-control-allow-origin")
            .map(|v| v.as_bytes()),
        Some(&b"*"[..])
    );
    let resp = preflight(format!("{}/v1/sessions", verifier.base))
        .await
        .expect("preflight");
    assert!(resp.headers().get("access-control-allow-origin").is_none());
    let resp = verifier
        .http
        .post(format!("{}/v1/response/nope", verifier.base))
        .form(&[("vp_token", "{}")])
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_device_results_need_the_response_code() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (issuer, verifier) = start_issuer_and_verifier(tmp.path(), "").await;
    let copies = issuer.credentials("D-0005", 1).await;
    let resume = format!("{BUDGET_SITE}/resume");
    let (s, created) = verifier.session(BUDGET_KEY, "vote", Some(&resume)).await;
    assert_eq!(s, 200, "{created}");
    let id = created["id"].as_str().expect("id");
    let w = Presenter {
        http: &verifier.http,
        credential: &copies[0],
    };
    let (s, body) = w
        .answer(created["openid4vp_url"].as_str().expect("url"))
        .await;
    assert_eq!(s, 200, "{body}");
    let redirect = body["redirect_uri"].as_str().expect("redirect_uri");
    let code = redirect
        .strip_prefix(&format!("{resume}?response_code="))
        .expect("response_code");
    // Without (or with a wrong) code, the result stays closed: no session fixation.
    assert_eq!(verifier.result(BUDGET_KEY, id, None).await.0, 403);
    assert_eq!(verifier.result(BUDGET_KEY, id, Some("guess")).await.0, 403);
    let (s, r) = verifier.result(BUDGET_KEY, id, Some(code)).await;
    assert_eq!(s, 200);
    assert_eq!(r["eligibility"]["eligible"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_request_objects_name_the_verifier_by_did_web() {
    use civic_credential::crypto::{Algorithm, SigningKey, VerifyingKey};
    use civic_credential::oid4vp::{AuthorizationRequest, RequestLink, DID_PREFIX};
    let tmp = tempfile::tempdir().expect("tmp");
    std::fs::create_dir_all(tmp.path().join("issuer")).expect("dir");
    let issuer = start_issuer(&tmp.path().join("issuer"), IssuerSetup::default()).await;
    let key = SigningKey::generate(Algorithm::Es256, &mut rand::rngs::OsRng).expect("key");
    std::fs::write(
        tmp.path().join("signing.jwk"),
        serde_json::to_string(&key.to_private_jwk()).expect("jwk"),
    )
    .expect("write");
    let verifier =
        start_verifier(tmp.path(), &issuer, "request_signing_key = \"signing.jwk\"").await;
    let copies = issuer.credentials("D-0008", 1).await;

    let (_, created) = verifier.session(BUDGET_KEY, "vote", None).await;
    let link = RequestLink::parse(created["openid4vp_url"].as_str().expect("url")).expect("link");
    let did = link
        .client_id
        .strip_prefix(DID_PREFIX)
        .expect("did client id")
        .to_owned();
    assert_eq!(
        did, verifier.budget,
        "the platform's own DID names the request"
    );
    assert!(did.starts_with("did:web:localhost%3A"), "{did}");
    // The wallet resolves did:web to the platform's DID document (served by the verifier at
    // /platforms/budget/did.json) and checks the signature.
    let doc_url = civic_credential::did_web::resolution_url(&did, true).expect("url");
    assert_eq!(
        doc_url,
        format!("{}/platforms/budget/did.json", verifier.base)
    );
    let doc: Value = verifier
        .http
        .get(&doc_url)
        .send()
        .await
        .expect("did")
        .json()
        .await
        .expect("json");
    assert_eq!(doc["id"], did);
    let own: Value = verifier
        .http
        .get(format!("{}/.well-known/did.json", verifier.base))
        .send()
        .await
        .expect("did")
        .json()
        .await
        .expect("json");
    assert_eq!(
        own["verificationMethod"][0]["publicKeyJwk"], doc["verificationMethod"][0]["publicKeyJwk"],
        "one signing key, published under the service's DID and each platform's"
    );
    let unknown = verifier
        .http
        .get(format!("{}/platforms/nobody/did.json", verifier.base))
        .send()
        .await
        .expect("did");
    assert_eq!(
        unknown.status(),
        404,
        "only configured platforms have a DID here"
    );
    let jwk =
        serde_json::from_value(doc["verificationMethod"][0]["publicKeyJwk"].clone()).expect("jwk");
    let vk = VerifyingKey::from_jwk(&jwk).expect("vk");
    let jwt = verifier
        .http
        .get(&link.request_uri)
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("text");
    assert!(
        AuthorizationRequest::from_jwt(&jwt, None).is_err(),
        "a signed request needs the key"
    );
    let other = SigningKey::generate(Algorithm::Es256, &mut rand::rngs::OsRng)
        .expect("key")
        .verifying_key()
        .expect("vk");
    assert!(
        AuthorizationRequest::from_jwt(&jwt, Some(&other)).is_err(),
        "a wrong key fails"
    );
    let req = AuthorizationRequest::from_jwt(&jwt, Some(&vk)).expect("signed request verifies");
    assert_eq!(req.client_id, link.client_id);

    let w = Presenter {
        http: &verifier.http,
        credential: &copies[0],
    };
    let vp = w.vp_token(&req, &req.client_id, &req.nonce);
    let (s, body) = w
        .post(
            &req,
            &[
                ("vp_token", &vp),
                ("state", req.state.as_deref().unwrap_or("")),
            ],
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let (_, r) = verifier
        .result(BUDGET_KEY, created["id"].as_str().expect("id"), None)
        .await;
    assert_eq!(r["eligibility"]["eligible"], true, "{r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_verifier_follows_an_issuer_key_rotation() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (issuer, verifier) = start_issuer_and_verifier(tmp.path(), "key_refresh_secs = 0").await;
    let before = issuer.credentials("D-0010", 1).await;
    // The verifier caches the issuer's keys with this presentation.
    let (_, created) = verifier.session(BUDGET_KEY, "vote", None).await;
    let w = Presenter {
        http: &verifier.http,
        credential: &before[0],
    };
    assert_eq!(
        w.answer(created["openid4vp_url"].as_str().expect("url"))
            .await
            .0,
        200
    );

    issuer.admin_post("/admin/api/keys/rotate").await;
    let after = issuer.credentials("D-0010", 1).await;
    for cred in [&after[0], &before[0]] {
        let (_, created) = verifier.session(BUDGET_KEY, "vote", None).await;
        let w = Presenter {
            http: &verifier.http,
            credential: cred,
        };
        let (s, body) = w
            .answer(created["openid4vp_url"].as_str().expect("url"))
            .await;
        assert_eq!(
            s, 200,
            "new-key and old-key credentials both verify: {body}"
        );
        let (_, r) = verifier
            .result(BUDGET_KEY, created["id"].as_str().expect("id"), None)
            .await;
        assert_eq!(r["eligibility"]["eligible"], true, "{r}");
    }
}
