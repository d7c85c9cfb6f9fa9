use super::*;
use crate::crypto::{Algorithm, SigningKey};
use rand::rngs::OsRng;

fn request() -> AuthorizationRequest {
    let response_uri = "https://verifier.example/v1/response/abc".to_owned();
    AuthorizationRequest {
        response_type: "vp_token".into(),
        client_id: format!("{REDIRECT_URI_PREFIX}{response_uri}"),
        response_mode: DIRECT_POST.into(),
        response_uri,
        nonce: "n-1".into(),
        state: Some("s-1".into()),
        dcql_query: DcqlQuery::sd_jwt_vc(
            "residency",
            &["https://issuer.example/credentials/residency".into()],
            &[crate::sd_jwt::ClaimPath::keys([
                "residence",
                "municipality_code",
            ])],
        ),
        client_metadata: Some(sd_jwt_client_metadata()),
        aud: None,
        iat: None,
        wallet_nonce: None,
    }
}

#[test]
fn unsigned_request_objects_round_trip_only_for_redirect_uri_clients() {
    let req = request();
    let jwt = req.to_unsigned_jwt().expect("jwt");
    assert!(jwt.ends_with('.'));
    assert_eq!(
        AuthorizationRequest::from_jwt(&jwt, None).expect("parse"),
        req
    );
    let json = serde_json::to_value(&req.dcql_query).expect("json");
    assert_eq!(
        json["credentials"][0]["claims"][0]["path"],
        serde_json::json!(["residence", "municipality_code"])
    );
    assert_eq!(
        json["credentials"][0]["meta"]["vct_values"][0],
        "https://issuer.example/credentials/residency"
    );

    let mut did = request();
    did.client_id = format!("{DID_PREFIX}did:web:verifier.example");
    let jwt = did.to_unsigned_jwt().expect("jwt");
    assert_eq!(
        AuthorizationRequest::from_jwt(&jwt, None),
        Err(Error::AlgorithmNotAllowed("none".into()))
    );

    let key = SigningKey::generate(Algorithm::Es256, &mut OsRng)
        .expect("key")
        .with_kid("k");
    let signed = did.to_signed_jwt(&key).expect("signed");
    let vk = key.verifying_key().expect("vk");
    assert_eq!(
        AuthorizationRequest::from_jwt(&signed, Some(&vk)).expect("verified"),
        did
    );
    let other = SigningKey::generate(Algorithm::Es256, &mut OsRng)
        .expect("key")
        .verifying_key()
        .expect("vk");
    assert_eq!(
        AuthorizationRequest::from_jwt(&signed, Some(&other)),
        Err(Error::InvalidSignature)
    );

    let mut bad = request();
    bad.response_uri = "https://attacker.example/collect".into();
    let jwt = bad.to_unsigned_jwt().expect("jwt");
    assert!(
        AuthorizationRequest::from_jwt(&jwt, None).is_err(),
        "client_id must be the response_uri"
    );
}

#[test]
fn links_and_vp_tokens_parse_strictly() {
    let link = RequestLink {
        client_id: "redirect_uri:https://v.example/r/1".into(),
        request_uri: "https://v.example/request/1?x=y".into(),
        request_uri_method: None,
    };
    let url = link.to_url(OPENID4VP_SCHEME);
    assert!(url.starts_with("openid4vp://?client_id=redirect_uri%3Ahttps%3A%2F%2F"));
    assert_eq!(RequestLink::parse(&url), Ok(link));
    assert!(RequestLink::parse("openid4vp://?client_id=a").is_err());
    assert!(RequestLink::parse("openid4vp://?client_id=a&client_id=b&request_uri=c").is_err());
    let post = RequestLink {
        request_uri_method: Some("post".into()),
        ..RequestLink::parse(&url).expect("link")
    };
    let url = post.to_url(OPENID4VP_SCHEME);
    assert!(url.ends_with("&request_uri_method=post"));
    assert!(RequestLink::parse(&url).expect("post link").wants_post());
    assert!(
        RequestLink::parse("openid4vp://?client_id=a&request_uri=c&request_uri_method=put")
            .is_err()
    );

    // What a wallet POSTs to request_uri: strict too.
    let ok = RequestUriPost::from_form(b"wallet_nonce=n1&wallet_metadata=%7B%7D").expect("ok");
    assert_eq!(ok.wallet_nonce.as_deref(), Some("n1"));
    assert_eq!(
        RequestUriPost::from_form(b"").expect("empty"),
        RequestUriPost::default()
    );
    let long = format!("wallet_nonce={}", "n".repeat(257));
    for bad in [
        "wallet_nonce=",
        long.as_str(),
        "wallet_nonce=a&wallet_nonce=b",
        "wallet_metadata=%5B%5D",
        "wallet_metadata=not-json",
    ] {
        assert!(RequestUriPost::from_form(bad.as_bytes()).is_err(), "{bad}");
    }

    let t = parse_vp_token(r#"{"residency": ["a~b~c"]}"#).expect("token");
    assert_eq!(t["residency"], vec!["a~b~c".to_owned()]);
    assert_eq!(
        parse_vp_token(r#"{"residency": "a~"}"#).expect("single")["residency"].len(),
        1
    );
    for bad in ["[]", "{\"a\": 1}", "{\"a\": [1]}", "nope"] {
        assert!(parse_vp_token(bad).is_err(), "{bad}");
    }
    assert_eq!(
        parse_vp_token(&"x".repeat(2 << 20)),
        Err(Error::TooLarge("vp_token"))
    );
}

#[test]
fn dcql_validation_and_matching() {
    let q = request().dcql_query;
    q.validate().expect("valid");
    let c = &q.credentials[0];
    assert!(c.accepts_vct("https://issuer.example/credentials/residency"));
    assert!(!c.accepts_vct("https://issuer.example/credentials/other"));
    assert_eq!(c.requested_paths().len(), 1);
    let mut dup = q.clone();
    dup.credentials.push(dup.credentials[0].clone());
    assert!(dup.validate().is_err());
    let mut bad_id = q.clone();
    bad_id.credentials[0].id = "has space".into();
    assert!(bad_id.validate().is_err());
    let parsed: DcqlQuery = serde_json::from_str(
        r#"{"credentials":[{"id":"x","format":"dc+sd-jwt","claims":[{"path":["pseudonyms","https://a.example"]},{"path":["nationalities",null]}]}]}"#,
    )
    .expect("parse");
    parsed.validate().expect("valid");
}

#[test]
fn requests_by_value_round_trip_and_are_read_strictly() {
    let req = request();
    let url = req.to_link(OPENID4VP_SCHEME).expect("link");
    assert!(url.starts_with("openid4vp://?client_id=redirect_uri%3A"));
    assert!(!url.contains("request_uri="));
    let LinkedRequest::Parameters(read) = LinkedRequest::parse(&url).expect("parse") else {
        panic!("a by-value link reads as parameters");
    };
    assert_eq!(*read, req);

    // By reference and a request object by value read as such.
    let by_ref = RequestLink {
        client_id: req.client_id.clone(),
        request_uri: "https://verifier.example/v1/request/abc".into(),
        request_uri_method: None,
    };
    assert_eq!(
        LinkedRequest::parse(&by_ref.to_url(OPENID4VP_SCHEME)),
        Ok(LinkedRequest::ByReference(by_ref.clone()))
    );
    let object = req.to_unsigned_jwt().expect("jwt");
    let with_object = format!(
        "openid4vp://?client_id={}&request={}",
        form::percent_encode(&req.client_id),
        form::percent_encode(&object)
    );
    assert_eq!(
        LinkedRequest::parse(&with_object),
        Ok(LinkedRequest::Object {
            client_id: req.client_id.clone(),
            request: object.clone()
        })
    );

    // A signed client's request cannot travel unsigned by value, in either direction.
    let mut did = request();
    did.client_id = format!("{DID_PREFIX}did:web:verifier.example");
    assert!(did.to_link(OPENID4VP_SCHEME).is_err());
    let forged = url.replace(
        "client_id=redirect_uri%3Ahttps%3A%2F%2Fverifier.example%2Fv1%2Fresponse%2Fabc",
        "client_id=decentralized_identifier%3Adid%3Aweb%3Averifier.example",
    );
    assert_ne!(forged, url);
    assert!(LinkedRequest::parse(&forged).is_err());

    // Another response_uri than the client id names, both forms at once, a repeated or
    // missing parameter, bad JSON, an oversized link: all refused.
    let elsewhere = url.replace(
        "response_uri=https%3A%2F%2Fverifier.example",
        "response_uri=https%3A%2F%2Fattacker.example",
    );
    assert_ne!(elsewhere, url);
    let both = format!("{with_object}&request_uri=https%3A%2F%2Fverifier.example%2Fr");
    let repeated = format!("{url}&nonce=again");
    let no_nonce = url.replace("&nonce=n-1", "");
    let bad_dcql = url.replace("dcql_query=%7B", "dcql_query=%5B");
    let bad_metadata = format!(
        "{}&client_metadata=%5B%5D",
        url.split("&client_metadata=").next().expect("has metadata")
    );
    let huge = format!("{url}&x={}", "y".repeat(MAX_LINK_BYTES));
    for bad in [
        &elsewhere,
        &both,
        &repeated,
        &no_nonce,
        &bad_dcql,
        &bad_metadata,
        &huge,
        &"openid4vp://?response_type=vp_token".to_owned(),
        &"openid4vp://?client_id=redirect_uri%3Ahttps%3A%2F%2Fv.example".to_owned(),
    ] {
        assert!(LinkedRequest::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn credential_sets_and_claim_sets_give_the_one_credential_answers_in_order() {
    let q = |json: &str| -> DcqlQuery {
        let q: DcqlQuery = serde_json::from_str(json).expect("parse");
        q.validate().expect("valid");
        q
    };
    let ids = |q: &DcqlQuery| -> Vec<(String, Vec<String>)> {
        q.one_credential_answers()
            .expect("answers")
            .into_iter()
            .map(|(c, claims)| {
                (
                    c.id.clone(),
                    claims.iter().map(|x| x.path.to_string()).collect(),
                )
            })
            .collect()
    };
    let two = r#""credentials":[
        {"id":"pid","format":"dc+sd-jwt","claims":[{"id":"a","path":["address","municipality"]},{"id":"b","path":["age_over_16"]}],"claim_sets":[["a","b"],["b"]]},
        {"id":"residency","format":"dc+sd-jwt","claims":[{"path":["residence","municipality_code"]}]}]"#;
    // Either credential: pid first (each of its claim sets), then residency.
    let either = q(&format!(
        r#"{{{two},"credential_sets":[{{"options":[["pid"],["residency"]]}}]}}"#
    ));
    assert_eq!(
        ids(&either),
        vec![
            (
                "pid".to_owned(),
                vec!["address.municipality".to_owned(), "age_over_16".to_owned()]
            ),
            ("pid".to_owned(), vec!["age_over_16".to_owned()]),
            (
                "residency".to_owned(),
                vec!["residence.municipality_code".to_owned()]
            ),
        ]
    );
    // Two required sets: only a query that meets both.
    let both = q(&format!(
        r#"{{{two},"credential_sets":[{{"options":[["pid"],["residency"]]}},{{"options":[["residency"]]}}]}}"#
    ));
    assert_eq!(ids(&both)[0].0, "residency");
    assert_eq!(ids(&both).len(), 1);
    // Nothing required: any single option. An option of two credentials is not one answer.
    let optional = q(&format!(
        r#"{{{two},"credential_sets":[{{"options":[["pid","residency"],["residency"]],"required":false}}]}}"#
    ));
    assert_eq!(ids(&optional)[0].0, "residency");
    // Both at once, with or without sets: not for one credential.
    assert!(q(&format!("{{{two}}}")).one_credential_answers().is_err());
    assert!(q(&format!(
        r#"{{{two},"credential_sets":[{{"options":[["pid","residency"]]}}]}}"#
    ))
    .one_credential_answers()
    .is_err());
    // Round trip keeps the sets; `required: true` is the default and not written.
    let text = serde_json::to_string(&either).expect("json");
    assert!(text.contains(r#""credential_sets":[{"options":[["pid"],["residency"]]}]"#));
    assert_eq!(q(&text), either);

    // References to unknown ids, and empty sets, are refused.
    for bad in [
        format!(r#"{{{two},"credential_sets":[{{"options":[["nope"]]}}]}}"#),
        format!(r#"{{{two},"credential_sets":[{{"options":[[]]}}]}}"#),
        format!(r#"{{{two},"credential_sets":[]}}"#),
        r#"{"credentials":[{"id":"x","format":"dc+sd-jwt","claims":[{"id":"a","path":["a"]}],"claim_sets":[["z"]]}]}"#.to_owned(),
        r#"{"credentials":[{"id":"x","format":"dc+sd-jwt","claims":[{"path":["a"]}],"claim_sets":[]}]}"#.to_owned(),
    ] {
        let parsed: DcqlQuery = serde_json::from_str(&bad).expect("parse");
        assert!(parsed.validate().is_err(), "{bad}");
    }
}
