//! The DID documents the services publish at their did:web addresses (the issuer's
//! `/.well-known/did.json`, the verifier service's own and its platforms'), built once, with
//! ssi's DID document types. Reading fetched documents is `civic_credential::did_web`'s (the
//! wallet links it and cannot afford ssi).

use std::collections::BTreeMap;

use civic_credential::did_web::Purpose;
use civic_credential::jwk::Jwk;
use serde_json::{json, Value};
use ssi::dids::document::verification_method::ValueOrReference;
use ssi::dids::document::DIDVerificationMethod;
use ssi::dids::{DIDBuf, DIDURLBuf, Document};

/// Why a DID document could not be made (an identifier or key id a DID cannot hold).
#[derive(Debug, thiserror::Error)]
#[error("DID document: {0}")]
pub struct DidDocumentError(pub String);

/// A public key a document lists as `did#fragment`, and what it may be used for.
#[derive(Debug, Clone, Copy)]
pub struct PublishedKey<'a> {
    /// The fragment of the method id (the key id after `#`).
    pub fragment: &'a str,
    /// The key (a private key is published as its public part).
    pub jwk: &'a Jwk,
    /// The verification relationships that reference it.
    pub purposes: &'a [Purpose],
}

/// The document of `did` (`application/did+json`): `keys` as `JsonWebKey2020` methods, referenced
/// from `assertionMethod` and `authentication` as their purposes say, and `also_known_as` (the
/// subject's https URL) when given.
pub fn build(
    did: &str,
    also_known_as: Option<&str>,
    keys: &[PublishedKey<'_>],
) -> Result<Value, DidDocumentError> {
    let bad = |what: &str| DidDocumentError(format!("{what} is not valid in a DID document"));
    let id = DIDBuf::from_string(did.to_owned()).map_err(|_| bad(did))?;
    let mut doc = Document::new(id.clone());
    if let Some(url) = also_known_as {
        // ssi's IRI type, read from its JSON form.
        doc.also_known_as
            .push(serde_json::from_value(url.into()).map_err(|_| bad(url))?);
    }
    for key in keys {
        let method = format!("{did}#{}", key.fragment);
        let method = DIDURLBuf::from_string(method.clone()).map_err(|_| bad(&method))?;
        let jwk = serde_json::to_value(key.jwk.to_public()).map_err(|_| bad("a key"))?;
        doc.verification_method.push(DIDVerificationMethod {
            id: method.clone(),
            type_: "JsonWebKey2020".into(),
            controller: id.clone(),
            properties: BTreeMap::from([("publicKeyJwk".to_owned(), jwk)]),
        });
        let relationships = &mut doc.verification_relationships;
        for purpose in key.purposes {
            let list = match purpose {
                Purpose::Assertion => &mut relationships.assertion_method,
                Purpose::Authentication => &mut relationships.authentication,
            };
            list.push(ValueOrReference::Reference(method.clone().into()));
        }
    }
    let mut json = serde_json::to_value(&doc).map_err(|_| bad("the document"))?;
    if let Value::Object(members) = &mut json {
        members.insert(
            "@context".into(),
            json!([
                "https://www.w3.org/ns/did/v1",
                "https://w3id.org/security/suites/jws-2020/v1"
            ]),
        );
    }
    Ok(json)
}

#[cfg(test)]
mod tests {
    use super::*;
    use civic_credential::crypto::{Algorithm, SigningKey};
    use civic_credential::did_web::DidDocument;

    #[test]
    fn a_built_document_reads_back_with_its_purposes_apart_and_no_private_part() {
        let key = SigningKey::generate(Algorithm::Es256, &mut rand::rngs::OsRng).unwrap();
        let other = SigningKey::generate(Algorithm::EdDsa, &mut rand::rngs::OsRng).unwrap();
        let did = "did:web:id.example";
        let json = build(
            did,
            Some("https://id.example"),
            &[
                PublishedKey {
                    fragment: "k1",
                    jwk: &key.to_private_jwk(),
                    purposes: &[Purpose::Assertion],
                },
                PublishedKey {
                    fragment: "req",
                    jwk: other.public_jwk(),
                    purposes: &[Purpose::Authentication, Purpose::Assertion],
                },
            ],
        )
        .unwrap();
        assert_eq!(
            json["assertionMethod"],
            json!(["did:web:id.example#k1", "did:web:id.example#req"])
        );
        assert_eq!(json["authentication"], json!(["did:web:id.example#req"]));
        assert_eq!(json["alsoKnownAs"], json!(["https://id.example"]));
        assert!(json["verificationMethod"][0]["publicKeyJwk"]
            .get("d")
            .is_none());
        let back = DidDocument::parse(&json, did).unwrap();
        assert_eq!(back.also_known_as, vec!["https://id.example".to_owned()]);
        let auth = back.keys_for(Purpose::Authentication);
        assert_eq!(auth.len(), 1);
        assert_eq!(auth[0].kid.as_deref(), Some("did:web:id.example#req"));
        assert_eq!(back.keys_for(Purpose::Assertion).len(), 2);
    }

    #[test]
    fn identifiers_a_did_cannot_hold_are_refused() {
        let key = SigningKey::generate(Algorithm::Es256, &mut rand::rngs::OsRng).unwrap();
        let one = |fragment| PublishedKey {
            fragment,
            jwk: key.public_jwk(),
            purposes: &[Purpose::Assertion],
        };
        assert!(build("https://id.example", None, &[]).is_err());
        assert!(build("did:web:id.example", None, &[one("a b")]).is_err());
        assert!(build("did:web:id.example", Some("not a url"), &[]).is_err());
    }
}
