use serde_json::json;

use super::*;
use crate::crypto::{Algorithm, SigningKey};

#[test]
fn urls_become_dids_and_dids_locate_their_documents() {
    for (url, did, doc) in [
        (
            "http://127.0.0.1:8080",
            "did:web:127.0.0.1%3A8080",
            "https://127.0.0.1:8080/.well-known/did.json",
        ),
        (
            "https://ID.Example.City/issuer/",
            "did:web:id.example.city:issuer",
            "https://id.example.city/issuer/did.json",
        ),
        (
            "https://id.example.city:443",
            "did:web:id.example.city",
            "https://id.example.city/.well-known/did.json",
        ),
        (
            "https://v.example:8443/a/b",
            "did:web:v.example%3A8443:a:b",
            "https://v.example:8443/a/b/did.json",
        ),
    ] {
        assert_eq!(did_for_url(url).as_deref(), Ok(did), "{url}");
        assert_eq!(document_url(did).as_deref(), Ok(doc), "{did}");
    }
    assert_eq!(
        host_of("did:web:v.example%3A8443:a").as_deref(),
        Ok("v.example:8443")
    );
    for bad in [
        "ftp://x.example",
        "x.example",
        "https://u@x.example",
        "https://x.example?q",
        "https://x.example#f",
        "https://x.example:port",
        "https://[::1]",
        "https://",
    ] {
        assert!(did_for_url(bad).is_err(), "{bad}");
    }
    for bad in [
        "did:key:z6Mk",
        "did:web:",
        "did:web:x.example%3A",
        "did:web:x.example%3Aab",
        "did:web:x.example/path",
        "did:web:x.example#frag",
        "did:web:x.example::a",
        "did:web:evil.example%2Fx",
    ] {
        assert!(document_url(bad).is_err(), "{bad}");
    }
}

#[test]
fn documents_are_read_with_purposes_apart_and_relative_ids_made_absolute() {
    let key = SigningKey::generate(Algorithm::Es256, &mut rand::rngs::OsRng)
        .unwrap()
        .with_kid("k1");
    let other = SigningKey::generate(Algorithm::EdDsa, &mut rand::rngs::OsRng).unwrap();
    let did = "did:web:id.example";
    let json = json!({
        "@context": ["https://www.w3.org/ns/did/v1"],
        "id": did,
        "alsoKnownAs": ["https://id.example"],
        "verificationMethod": [
            {"id": "did:web:id.example#k1", "type": "JsonWebKey2020", "controller": did,
             "publicKeyJwk": key.public_jwk()},
            {"id": "#req", "type": "JsonWebKey2020", "controller": did,
             "publicKeyJwk": other.public_jwk()},
        ],
        "assertionMethod": ["did:web:id.example#k1", "#req"],
        "authentication": [{"id": "did:web:id.example#req"}],
    });
    let back = DidDocument::parse(&json, did).unwrap();
    assert_eq!(back.also_known_as, vec!["https://id.example".to_owned()]);
    let auth = back.keys_for(Purpose::Authentication);
    assert_eq!(auth.len(), 1);
    assert_eq!(auth[0].kid.as_deref(), Some("did:web:id.example#req"));
    let assertion = back.keys_for(Purpose::Assertion);
    assert_eq!(assertion.len(), 2);
    assert_eq!(assertion[0].kid.as_deref(), Some("did:web:id.example#k1"));
}

#[test]
fn documents_of_another_did_or_with_foreign_or_private_keys_are_refused() {
    let key = SigningKey::generate(Algorithm::Es256, &mut rand::rngs::OsRng).unwrap();
    let public = serde_json::to_value(key.public_jwk()).unwrap();
    let private = serde_json::to_value(key.to_private_jwk()).unwrap();
    let doc = |id: &str, vm: &str, jwk: &serde_json::Value| json!({ "id": id, "verificationMethod": [{ "id": vm, "type": "JsonWebKey2020", "publicKeyJwk": jwk }], "assertionMethod": [vm] });
    let did = "did:web:id.example";
    assert!(DidDocument::parse(&doc("did:web:evil.example", "#k", &public), did).is_err());
    assert!(DidDocument::parse(&doc(did, "did:web:evil.example#k", &public), did).is_err());
    assert!(DidDocument::parse(&doc(did, "#k", &private), did).is_err());
    // A relative id is made absolute; a method nobody references has no purpose.
    let parsed = DidDocument::parse(&doc(did, "#k", &public), did).unwrap();
    assert_eq!(
        parsed.keys_for(Purpose::Assertion)[0].kid.as_deref(),
        Some("did:web:id.example#k")
    );
    let unreferenced =
        json!({ "id": did, "verificationMethod": [{ "id": "#k", "publicKeyJwk": public }] });
    assert!(DidDocument::parse(&unreferenced, did)
        .unwrap()
        .keys_for(Purpose::Assertion)
        .is_empty());
}
