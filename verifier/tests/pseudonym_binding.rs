//! The verifier never asks for a pseudonym a wallet would not give it: a platform whose policy
//! needs the pseudonym is either this verifier's origin (unsigned `redirect_uri:` requests) or
//! a DID it serves (signed `decentralized_identifier:` requests). A configuration naming any
//! other platform is refused when it loads, and a flow built by hand refuses to open the
//! session.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code: a failure stops at its line

mod support;

use civic_credential::crypto::{Algorithm, SigningKey};
use civic_credential::did_web::DidDocument;
use civic_credential::oid4vp::AuthorizationRequest;
use civic_credential::pseudonym;
use civic_testkit::credentials::TestIssuer;
use civic_verifier::flow::{Flow, FlowError, RequestSigner};
use civic_verifier::{Platform, VerifierConfig};

const URL: &str = "https://verifier.example";

fn platform(id: &str) -> Platform {
    support::platform(id, "vote", false)
}

fn flow(platforms: Vec<Platform>, signer: bool) -> Flow {
    let flow = support::flow(&TestIssuer::new().trust_list(), URL, platforms);
    if signer {
        let key = SigningKey::generate(Algorithm::Es256, &mut rand::rngs::OsRng).expect("key");
        flow.with_signer(RequestSigner::new(key, "did:web:verifier.example".into()))
    } else {
        flow
    }
}

fn config_text(id: &str, signing: bool) -> String {
    format!(
        "public_url = \"{URL}\"\ndata_dir = \"s\"\ntrust_list = \"t.toml\"\n{}\
         [[platform]]\nid = \"{id}\"\nname = \"P\"\napi_key_sha256 = \"{}\"\n\
         [[platform.policy]]\nname = \"vote\"\npseudonym = true\n\
         [[platform.policy.rules]]\nclaim = \"age_equal_or_over.16\"\nequals = true\n",
        if signing {
            "request_signing_key = \"k.jwk\"\n"
        } else {
            ""
        },
        "0".repeat(64)
    )
}

#[test]
fn a_configuration_naming_a_platform_wallets_would_not_bind_is_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("config.toml");
    let load = |id: &str, signing: bool| {
        std::fs::write(&path, config_text(id, signing)).expect("write");
        VerifierConfig::load(&path).map(|_| ())
    };
    assert!(load(URL, false).is_ok(), "its own origin");
    assert!(load("did:web:verifier.example:platforms:budget", true).is_ok());
    for (id, signing) in [
        ("https://budget.example", false),
        ("https://budget.example", true),
        ("did:web:verifier.example:platforms:budget", false),
        ("did:web:budget.example", true),
    ] {
        let err = load(id, signing).expect_err(id);
        assert!(err.to_string().contains(id), "{err}");
    }
}

#[test]
fn each_platform_asks_for_its_own_pseudonym_under_the_identity_it_is_bound_to() {
    let own = platform(URL);
    let did = platform("did:web:verifier.example:platforms:budget");
    let flow = flow(vec![own, did], true);
    for id in [URL, "did:web:verifier.example:platforms:budget"] {
        let created = flow.create(id, "vote", None).expect("session");
        let session = flow.session(&created.id).expect("store").expect("session");
        assert_eq!(
            pseudonym::check_request(&session.requested_paths(), &session.client_id, None),
            Ok(Some(id.to_owned())),
            "{id}: {}",
            session.client_id
        );
        let jwt = flow.request_object(&created.id).expect("request");
        // The published document (built with ssi), read the way wallets read it.
        let doc = flow.did_document(id).map(|doc| {
            DidDocument::parse(&doc.expect("built"), id).expect("a readable DID document")
        });
        let request = match &doc {
            Some(doc) => AuthorizationRequest::from_jwt_with_did_document(&jwt, doc),
            None => AuthorizationRequest::from_jwt(&jwt, None),
        }
        .expect("the request verifies as the platform");
        assert_eq!(request.client_id, session.client_id);
    }
    assert!(flow
        .did_document("did:web:verifier.example:platforms:other")
        .is_none());
}

#[test]
fn a_hand_built_flow_refuses_to_ask_for_an_unbound_pseudonym() {
    let flow = flow(vec![platform("https://budget.example")], false);
    assert!(matches!(
        flow.create("https://budget.example", "vote", None),
        Err(FlowError::NotBound(_))
    ));
    let unsigned = flow_with_did_platform_but_no_key();
    assert!(matches!(
        unsigned.create("did:web:verifier.example:platforms:budget", "vote", None),
        Err(FlowError::NotBound(_))
    ));
}

fn flow_with_did_platform_but_no_key() -> Flow {
    flow(
        vec![platform("did:web:verifier.example:platforms:budget")],
        false,
    )
}
