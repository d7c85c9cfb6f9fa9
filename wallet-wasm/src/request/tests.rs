//! Tests of presentation requests: matching, plain words, the pseudonym rule, encryption.
use std::collections::BTreeMap;

use civic_credential::crypto::{Algorithm, SigningKey};
use civic_credential::oid4vp::{
    sd_jwt_client_metadata, DcqlQuery, RequestLink, DIRECT_POST, REDIRECT_URI_PREFIX,
};
use civic_credential::residency::{Date, ResidencyClaims, ResidentRecord};
use civic_credential::sd_jwt_vc::{
    self, CredentialSpec, KeyBindingRequirement, StaticIssuerKeys, VerifyOptions,
};
use rand_core::OsRng;

use super::*;

pub(super) const NOW: i64 = 1_800_000_000;
const VCT: &str = "https://id.example/credentials/residency";
pub(super) const PLATFORM: &str = "https://verifier.example";
const OTHER: &str = "https://consult.example";

/// One credential of a resident born in 1980 (pseudonyms for every test platform), and its
/// holder key.
pub(super) fn issue_for_tests() -> (Vec<String>, Jwk) {
    let issuer = SigningKey::generate(Algorithm::Es256, &mut OsRng)
        .expect("key")
        .with_kid("k1");
    let holder = crate::holder::generate_holder_key().expect("h");
    (
        vec![issue(&issuer, &holder.to_public(), "1980-05-05")],
        holder,
    )
}

pub(super) fn issue(issuer: &SigningKey, holder: &Jwk, birth: &str) -> String {
    let record = ResidentRecord {
        given_name: "Noor".into(),
        family_name: "Bakker".into(),
        birthdate: Date::parse(birth).expect("date"),
        ..ResidentRecord::example()
    };
    let claims = ResidencyClaims::new(
        &record,
        Date::from_unix(NOW),
        BTreeMap::from([
            (PLATFORM.to_owned(), "pn".to_owned()),
            (OTHER.to_owned(), "other-pn".to_owned()),
            (DID_PLATFORM.to_owned(), "did-pn".to_owned()),
        ]),
    );
    let paths = claims.disclosable_paths();
    sd_jwt_vc::issue(
        &CredentialSpec {
            issuer: "https://id.example",
            vct: VCT,
            iat: NOW - 10,
            nbf: None,
            exp: NOW + 86_400,
            holder_key: &holder.to_public(),
            status: None,
            claims: claims.to_claims().expect("claims"),
            disclosable: &paths,
            decoys: 1,
        },
        issuer,
        &mut OsRng,
    )
    .expect("issue")
}

pub(super) fn request(paths: &[ClaimPath]) -> (String, String, AuthorizationRequest) {
    let response_uri = "https://verifier.example/v1/response/1".to_owned();
    let req = AuthorizationRequest {
        response_type: "vp_token".into(),
        client_id: format!("{REDIRECT_URI_PREFIX}{response_uri}"),
        response_mode: DIRECT_POST.into(),
        response_uri,
        nonce: "n-1".into(),
        state: Some("s-1".into()),
        dcql_query: DcqlQuery::sd_jwt_vc("residency", &[VCT.into()], paths),
        client_metadata: Some(sd_jwt_client_metadata()),
        aud: None,
        iat: None,
        wallet_nonce: None,
    };
    let link = RequestLink {
        client_id: req.client_id.clone(),
        request_uri: "https://verifier.example/v1/request/1".into(),
        request_uri_method: None,
    }
    .to_url("openid4vp://");
    (req.to_unsigned_jwt().expect("jwt"), link, req)
}

#[test]
fn requests_are_explained_in_plain_words_and_answered_with_exactly_those_claims() {
    let issuer = SigningKey::generate(Algorithm::Es256, &mut OsRng)
        .expect("key")
        .with_kid("k1");
    let (old, young) = (
        crate::holder::generate_holder_key().expect("h"),
        crate::holder::generate_holder_key().expect("h"),
    );
    let creds = vec![
        issue(&issuer, &young.to_public(), "2015-05-05"),
        issue(&issuer, &old.to_public(), "1980-05-05"),
    ];
    let paths = vec![
        ClaimPath::keys(["residence", "municipality_code"]),
        ClaimPath::keys(["age_equal_or_over", "16"]),
        ClaimPath::keys(["pseudonyms", PLATFORM]),
    ];
    let (jwt, link, _) = request(&paths);
    let p = prepare(&jwt, &link, None, &creds, None, &Anchors::default()).expect("prepared");
    let labels: Vec<&str> = p.items.iter().map(|i| i.label.as_str()).collect();
    assert_eq!(labels[0], "Resident of municipality 0363");
    assert_eq!(labels[2], "Your pseudonym for verifier.example");
    assert!(
        !p.authenticated,
        "an unsigned redirect_uri: request proves nothing"
    );
    assert_eq!(p.refused, None);
    assert!(p.missing.is_empty());
    assert_eq!(
        p.credential,
        Some(0),
        "the first credential holding every claim answers"
    );
    assert_eq!(
        labels[1], "Not yet 16",
        "the consent screen shows what will really be shared"
    );

    let token = vp_token(&p, &creds[1], &old, NOW).expect("vp_token");
    let v: Value = serde_json::from_str(&token).expect("json");
    let presentation = v["residency"][0].as_str().expect("presentation");
    let mut keys = StaticIssuerKeys::new();
    keys.insert(
        "https://id.example",
        &issuer.public_jwk().clone().with_kid("k1"),
    )
    .expect("key");
    let opts = VerifyOptions {
        now: NOW,
        clock_skew: 60,
        expected_vct: Some(VCT),
        key_binding: Some(KeyBindingRequirement {
            aud: &p.client_id,
            nonce: "n-1",
            max_age: 60,
        }),
    };
    let verified = sd_jwt_vc::verify(presentation, &keys, &opts).expect("verifies");
    assert_eq!(verified.claims["age_equal_or_over"]["16"], true);
    assert!(
        verified.claims.get("given_name").is_none()
            && verified.claims["residence"].get("district").is_none()
    );
    assert_eq!(
        vp_token(&p, &creds[1], &young, NOW).map_err(|e| e.code),
        Err("invalid_key")
    );
}

#[test]
fn missing_claims_foreign_links_and_bad_requests_are_reported() {
    let issuer = SigningKey::generate(Algorithm::Es256, &mut OsRng)
        .expect("key")
        .with_kid("k1");
    let holder = crate::holder::generate_holder_key().expect("h");
    let creds = vec![issue(&issuer, &holder.to_public(), "1980-05-05")];
    let (jwt, link, _) = request(&[
        ClaimPath::keys(["residence", "municipality_code"]),
        ClaimPath::keys(["nationality"]),
    ]);
    let p = prepare(&jwt, &link, None, &creds, None, &Anchors::default()).expect("prepared");
    assert_eq!(p.missing, vec!["nationality".to_owned()]);
    assert_eq!(p.credential, None);

    let other_link = RequestLink {
        client_id: "redirect_uri:https://evil.example/cb".into(),
        request_uri: "https://x".into(),
        request_uri_method: None,
    }
    .to_url("openid4vp://");
    assert_eq!(
        prepare(&jwt, &other_link, None, &creds, None, &Anchors::default()).map_err(|e| e.code),
        Err("invalid_request_object")
    );
    assert_eq!(
        prepare("garbage", &link, None, &creds, None, &Anchors::default()).map_err(|e| e.code),
        Err("invalid_request_object")
    );
    let (nothing, link2, _) = request(&[]);
    assert_eq!(
        prepare(&nothing, &link2, None, &creds, None, &Anchors::default()).map_err(|e| e.code),
        Err("invalid_request")
    );
    assert_eq!(
        prepare(&jwt, "no link", None, &creds, None, &Anchors::default()).map_err(|e| e.code),
        Err("invalid_request")
    );
    // An encrypted answer is asked for without a key to encrypt to: refused rather than
    // sent in plain text.
    let (_, link3, mut req) = request(&[ClaimPath::keys(["residence", "municipality_code"])]);
    req.response_mode = DIRECT_POST_JWT.into();
    let encrypted = req.to_unsigned_jwt().expect("jwt");
    let refused =
        prepare(&encrypted, &link3, None, &creds, None, &Anchors::default()).expect_err("refused");
    assert_eq!(refused.code, "invalid_request");
    assert!(
        refused.message.contains("plain text"),
        "{}",
        refused.message
    );
}

#[test]
fn an_encrypted_answer_carries_everything_in_one_jwe_to_the_verifier_key() {
    use civic_credential::jwe::{Enc, ResponseEncryption};

    let issuer = SigningKey::generate(Algorithm::Es256, &mut OsRng)
        .expect("key")
        .with_kid("k1");
    let holder = crate::holder::generate_holder_key().expect("h");
    let creds = vec![issue(&issuer, &holder.to_public(), "1980-05-05")];
    let (_, link, mut req) = request(&[ClaimPath::keys(["residence", "municipality_code"])]);
    let key = ResponseEncryption::generate_key(&mut OsRng);
    req.response_mode = DIRECT_POST_JWT.into();
    if let Some(Value::Object(m)) = req.client_metadata.as_mut() {
        m.extend(ResponseEncryption::client_metadata(&key, &[Enc::A256Gcm]));
    }
    let jwt = req.to_unsigned_jwt().expect("jwt");
    let p = prepare(&jwt, &link, None, &creds, None, &Anchors::default()).expect("prepared");
    let e = p.encryption.clone().expect("encrypted");
    assert_eq!(e.jwk, key.to_public());
    assert_eq!(e.enc, Enc::A256Gcm);
    let vp = vp_token(&p, &creds[0], &holder, NOW).expect("vp");
    let mut params = Map::new();
    params.insert("vp_token".into(), serde_json::from_str(&vp).expect("json"));
    // A state with characters base64url never makes: seen in the form only if sent in plain.
    params.insert("state".into(), "state: plain?".into());
    let form = response_form(&p, &params).expect("form");
    assert_eq!(form.len(), 1);
    assert_eq!(form[0].0, "response");
    assert_eq!(form[0].1.split('.').count(), 5);
    assert!(
        !form[0].1.contains("state: plain?"),
        "nothing in plain text"
    );
    // Plain: the same parameters as fields.
    let plain = PreparedRequest {
        encryption: None,
        ..p
    };
    let form = response_form(&plain, &params).expect("form");
    let mut names: Vec<&str> = form.iter().map(|(k, _)| k.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["state", "vp_token"]);
    let sent_vp = form.iter().find(|(k, _)| k == "vp_token").map(|(_, v)| v);
    let sent: Value = serde_json::from_str(sent_vp.expect("vp_token")).expect("json");
    assert_eq!(sent, serde_json::from_str::<Value>(&vp).expect("json"));
}

const DID_PLATFORM: &str = "did:web:verifier.example:platforms:budget";

#[test]
fn a_verifier_gets_no_pseudonym_but_its_own() {
    let issuer = SigningKey::generate(Algorithm::Es256, &mut OsRng)
        .expect("key")
        .with_kid("k1");
    let holder = crate::holder::generate_holder_key().expect("h");
    let creds = vec![issue(&issuer, &holder.to_public(), "1980-05-05")];
    let age = ClaimPath::keys(["age_equal_or_over", "16"]);
    let cases: [(&[ClaimPath], &str); 4] = [
        (
            &[age.clone(), pseudonym::path(OTHER)],
            "for https://consult.example",
        ),
        (
            &[pseudonym::path(PLATFORM), pseudonym::path(OTHER)],
            "several pseudonyms",
        ),
        (&[ClaimPath::keys(["pseudonyms"])], "all your pseudonyms"),
        (&[pseudonym::path(DID_PLATFORM)], "for did:web:"),
    ];
    for (paths, why) in cases {
        let (jwt, link, _) = request(paths);
        let p = prepare(&jwt, &link, None, &creds, None, &Anchors::default()).expect("prepared");
        let refused = p.refused.clone().unwrap_or_default();
        assert!(refused.contains(why), "{refused}");
        assert_eq!(p.credential, None, "nothing answers a refused request");
        assert_eq!(
            vp_token(&p, &creds[0], &holder, NOW).map_err(|e| e.code),
            Err("pseudonym_refused")
        );
        // Even a consent screen that ignored the refusal gets no token.
        let forced = PreparedRequest { refused: None, ..p };
        assert_eq!(
            vp_token(&forced, &creds[0], &holder, NOW).map_err(|e| e.code),
            Err("pseudonym_refused")
        );
    }
}

#[test]
fn a_did_verifier_is_checked_against_its_document_and_gets_its_own_pseudonym() {
    let issuer = SigningKey::generate(Algorithm::Es256, &mut OsRng)
        .expect("key")
        .with_kid("k1");
    let holder = crate::holder::generate_holder_key().expect("h");
    let creds = vec![issue(&issuer, &holder.to_public(), "1980-05-05")];
    let verifier = SigningKey::generate(Algorithm::Es256, &mut OsRng)
        .expect("key")
        .with_kid(format!("{DID_PLATFORM}#k"));
    let doc = serde_json::json!({
        "id": DID_PLATFORM,
        "verificationMethod": [{"id": "#k", "type": "JsonWebKey2020",
            "controller": DID_PLATFORM, "publicKeyJwk": verifier.public_jwk()}],
        "authentication": ["#k"],
    });
    let signed = |paths: &[ClaimPath], key: &SigningKey| {
        let (_, _, mut req) = request(paths);
        req.client_id = format!("{DID_PREFIX}{DID_PLATFORM}");
        let link = RequestLink {
            client_id: req.client_id.clone(),
            request_uri: "https://verifier.example/v1/request/1".into(),
            request_uri_method: None,
        }
        .to_url("openid4vp://");
        (req.to_signed_jwt(key).expect("jwt"), link)
    };
    let (jwt, link) = signed(&[pseudonym::path(DID_PLATFORM)], &verifier);
    assert_eq!(
        fetch_plan(&link).expect("url").did_document_url.as_deref(),
        Some("https://verifier.example/platforms/budget/did.json")
    );
    let p = prepare(&jwt, &link, Some(&doc), &creds, None, &Anchors::default()).expect("prepared");
    assert!(
        p.authenticated,
        "signed and verified against the DID document"
    );
    assert_eq!((p.refused, p.credential), (None, Some(0)));
    assert_eq!(
        prepare(&jwt, &link, None, &creds, None, &Anchors::default()).map_err(|e| e.code),
        Err("invalid_request_object"),
        "a DID client's request is not read without its document"
    );
    let impostor = SigningKey::generate(Algorithm::Es256, &mut OsRng)
        .expect("key")
        .with_kid(format!("{DID_PLATFORM}#k"));
    let (forged, link2) = signed(&[pseudonym::path(DID_PLATFORM)], &impostor);
    assert_eq!(
        prepare(
            &forged,
            &link2,
            Some(&doc),
            &creds,
            None,
            &Anchors::default()
        )
        .map_err(|e| e.code),
        Err("invalid_request_object"),
        "a request signed by another key is refused"
    );
    let (other, link3) = signed(&[pseudonym::path(PLATFORM)], &verifier);
    let p = prepare(
        &other,
        &link3,
        Some(&doc),
        &creds,
        None,
        &Anchors::default(),
    )
    .expect("prepared");
    assert!(p.refused.is_some(), "the DID's host is not the platform");

    let local = RequestLink {
        client_id: "decentralized_identifier:did:web:localhost%3A8090:platforms:b".into(),
        request_uri: "http://localhost:8090/v1/request/1".into(),
        request_uri_method: None,
    }
    .to_url("openid4vp://");
    assert_eq!(
        fetch_plan(&local).expect("url").did_document_url.as_deref(),
        Some("http://localhost:8090/platforms/b/did.json"),
        "a verifier on this device is read over http"
    );
    let (_, plain, _) = request(&[age()]);
    assert_eq!(fetch_plan(&plain).expect("url").did_document_url, None);
}

fn age() -> ClaimPath {
    ClaimPath::keys(["age_equal_or_over", "16"])
}

#[test]
fn a_request_fetched_by_post_must_echo_the_wallets_nonce() {
    let issuer = SigningKey::generate(Algorithm::Es256, &mut OsRng)
        .expect("key")
        .with_kid("k1");
    let holder = crate::holder::generate_holder_key().expect("h");
    let creds = vec![issue(&issuer, &holder.to_public(), "1980-05-05")];
    let post = request_uri_post().expect("post");
    let sent = post.wallet_nonce.clone().expect("nonce");
    assert!(sent.len() >= 32, "a fresh random nonce");
    assert_ne!(
        request_uri_post().expect("post").wallet_nonce,
        Some(sent.clone())
    );
    // The body a verifier reads back: the nonce and a JSON object of metadata.
    let read = RequestUriPost::from_form(post.to_form().as_bytes()).expect("form");
    assert_eq!(read.wallet_nonce.as_deref(), Some(sent.as_str()));
    let metadata = read.wallet_metadata.expect("metadata");
    assert!(metadata["vp_formats_supported"]
        .get(FORMAT_SD_JWT_VC)
        .is_some());
    assert_eq!(
        metadata["authorization_encryption_alg_values_supported"],
        serde_json::json!([civic_credential::jwe::ECDH_ES])
    );
    assert_eq!(
        metadata["client_id_prefixes_supported"],
        serde_json::json!([
            "redirect_uri",
            "decentralized_identifier",
            "x509_hash",
            "x509_san_dns"
        ])
    );

    // A link that asks for POST: one pass over it gives the URI, the body and its nonce.
    let post_link = RequestLink {
        client_id: "x509_hash:abc".into(),
        request_uri: "https://verifier.example/v1/request/2".into(),
        request_uri_method: Some("post".into()),
    }
    .to_url("openid4vp://");
    let plan = fetch_plan(&post_link).expect("plan");
    assert_eq!(
        plan.request_uri.as_deref(),
        Some("https://verifier.example/v1/request/2")
    );
    let body = plan.post.expect("a POST body");
    let read_back = RequestUriPost::from_form(body.form.as_bytes()).expect("form");
    assert_eq!(read_back.wallet_nonce, Some(body.wallet_nonce));

    let (_, link, mut req) = request(&[ClaimPath::keys(["residence", "municipality_code"])]);
    req.wallet_nonce = Some(sent.clone());
    let echoed = req.to_unsigned_jwt().expect("jwt");
    assert!(prepare(
        &echoed,
        &link,
        None,
        &creds,
        Some(&sent),
        &Anchors::default()
    )
    .is_ok());
    // Another nonce, or none: an old or replayed request object.
    req.wallet_nonce = Some("someone-elses".into());
    let other = req.to_unsigned_jwt().expect("jwt");
    req.wallet_nonce = None;
    let none = req.to_unsigned_jwt().expect("jwt");
    for jwt in [other, none] {
        assert_eq!(
            prepare(&jwt, &link, None, &creds, Some(&sent), &Anchors::default())
                .map_err(|e| e.code),
            Err("invalid_request_object")
        );
    }
}

#[test]
fn requests_by_value_are_read_from_the_link_and_checked_as_fetched_ones() {
    let issuer = SigningKey::generate(Algorithm::Es256, &mut OsRng)
        .expect("key")
        .with_kid("k1");
    let holder = crate::holder::generate_holder_key().expect("h");
    let creds = vec![issue(&issuer, &holder.to_public(), "1980-05-05")];
    let paths = vec![
        ClaimPath::keys(["residence", "municipality_code"]),
        ClaimPath::keys(["pseudonyms", PLATFORM]),
    ];
    let (jwt, by_reference, req) = request(&paths);
    let fetched = prepare(&jwt, &by_reference, None, &creds, None, &Anchors::default())
        .expect("by reference");

    // The parameters in the link: nothing to fetch, the same prepared request.
    let by_value = req.to_link("openid4vp://").expect("by value");
    assert_eq!(
        fetch_plan(&by_value).expect("link"),
        FetchPlan {
            request_uri: None,
            post: None,
            did_document_url: None
        }
    );
    assert_eq!(
        fetch_plan(&by_reference).expect("link"),
        FetchPlan {
            request_uri: Some("https://verifier.example/v1/request/1".to_owned()),
            post: None,
            did_document_url: None
        }
    );
    let read = prepare("", &by_value, None, &creds, None, &Anchors::default()).expect("by value");
    assert_eq!(read, fetched);
    // Whatever object a caller hands over, a by-value link's own request is the one read.
    let (other_jwt, _, _) = request(&[ClaimPath::keys(["pseudonyms", OTHER])]);
    assert_eq!(
        prepare(
            &other_jwt,
            &by_value,
            None,
            &creds,
            None,
            &Anchors::default()
        )
        .expect("by value"),
        fetched
    );

    // A request object by value (`request=`) is checked like a fetched one.
    let object_link = format!(
        "openid4vp://?client_id={}&request={}",
        civic_credential::form::percent_encode(&req.client_id),
        civic_credential::form::percent_encode(&jwt)
    );
    assert_eq!(fetch_plan(&object_link).expect("link").request_uri, None);
    assert_eq!(
        prepare("", &object_link, None, &creds, None, &Anchors::default())
            .expect("object by value"),
        fetched
    );
    let mismatched = format!(
        "openid4vp://?client_id={}&request={}",
        civic_credential::form::percent_encode(
            "redirect_uri:https://verifier.example/v1/response/2"
        ),
        civic_credential::form::percent_encode(&jwt)
    );
    assert_eq!(
        prepare("", &mismatched, None, &creds, None, &Anchors::default())
            .expect_err("another client's object")
            .code,
        "invalid_request_object"
    );

    // By value, the pseudonym rule still binds to the response_uri's origin.
    let (_, _, hostile) = request(&[ClaimPath::keys(["pseudonyms", OTHER])]);
    let hostile = prepare(
        "",
        &hostile.to_link("openid4vp://").expect("link"),
        None,
        &creds,
        None,
        &Anchors::default(),
    )
    .expect("prepared");
    assert!(hostile.refused.is_some());
    assert_eq!(hostile.credential, None);

    // A nonce this wallet sent cannot be echoed by a request it did not fetch.
    assert_eq!(
        prepare(
            "",
            &by_value,
            None,
            &creds,
            Some("sent"),
            &Anchors::default()
        )
        .expect_err("no echo")
        .code,
        "invalid_request_object"
    );
}

#[test]
fn credential_sets_and_claim_sets_pick_what_the_wallet_holds_and_disclose_only_that() {
    let issuer = SigningKey::generate(Algorithm::Es256, &mut OsRng)
        .expect("key")
        .with_kid("k1");
    let holder = crate::holder::generate_holder_key().expect("h");
    let creds = vec![issue(&issuer, &holder.to_public(), "1980-05-05")];
    let (_, _, mut req) = request(&[ClaimPath::keys(["residence", "municipality_code"])]);
    let with_query = |req: &AuthorizationRequest, dcql: Value| {
        let mut req = req.clone();
        req.dcql_query = serde_json::from_value(dcql).expect("dcql");
        let jwt = req.to_unsigned_jwt().expect("jwt");
        let link = RequestLink {
            client_id: req.client_id.clone(),
            request_uri: "https://verifier.example/v1/request/1".into(),
            request_uri_method: None,
        }
        .to_url("openid4vp://");
        prepare(&jwt, &link, None, &creds, None, &Anchors::default())
    };
    // Either a national PID (which this wallet does not hold) or the residency credential;
    // within the residency query, the preferred claim set asks for a claim it lacks.
    let dcql = serde_json::json!({
        "credentials": [
            {"id": "pid", "format": "dc+sd-jwt", "meta": {"vct_values": ["urn:eudi:pid:1"]},
             "claims": [{"path": ["address", "locality"]}]},
            {"id": "residency", "format": "dc+sd-jwt", "meta": {"vct_values": [VCT]},
             "claims": [
                {"id": "nat", "path": ["nationalities"]},
                {"id": "mun", "path": ["residence", "municipality_code"]},
                {"id": "age", "path": ["age_equal_or_over", "16"]}],
             "claim_sets": [["nat", "mun"], ["mun", "age"]]}
        ],
        "credential_sets": [{"options": [["pid"], ["residency"]]}]
    });
    let p = with_query(&req, dcql).expect("prepared");
    assert_eq!(p.query_id, "residency");
    assert_eq!(p.credential, Some(0));
    assert_eq!(
        p.paths,
        vec![
            ClaimPath::keys(["residence", "municipality_code"]),
            ClaimPath::keys(["age_equal_or_over", "16"]),
        ],
        "the first claim set the credential meets, nothing of the others"
    );
    let vp: Value = serde_json::from_str(&vp_token(&p, &creds[0], &holder, NOW).expect("vp_token"))
        .expect("json");
    let keys: Vec<&String> = vp.as_object().expect("object").keys().collect();
    assert_eq!(keys, ["residency"]);

    // An option that names no claims (it would share everything) is skipped, not the request.
    let dcql = serde_json::json!({
        "credentials": [
            {"id": "everything", "format": "dc+sd-jwt", "meta": {"vct_values": [VCT]}},
            {"id": "residency", "format": "dc+sd-jwt", "meta": {"vct_values": [VCT]},
             "claims": [{"path": ["residence", "municipality_code"]}]}
        ],
        "credential_sets": [{"options": [["everything"], ["residency"]]}]
    });
    let p = with_query(&req, dcql).expect("prepared");
    assert_eq!((p.query_id.as_str(), p.paths.len()), ("residency", 1));

    // Two credentials at once, without sets: refused in plain words, not half answered.
    req.dcql_query = serde_json::from_value(serde_json::json!({
        "credentials": [
            {"id": "a", "format": "dc+sd-jwt", "claims": [{"path": ["residence", "municipality_code"]}]},
            {"id": "b", "format": "dc+sd-jwt", "claims": [{"path": ["age_equal_or_over", "16"]}]}
        ]
    }))
    .expect("dcql");
    let err = with_query(&req, serde_json::to_value(&req.dcql_query).expect("v"))
        .expect_err("two at once");
    assert_eq!(err.code, "invalid_request");
    assert!(err.message.contains("one credential"), "{}", err.message);
}
