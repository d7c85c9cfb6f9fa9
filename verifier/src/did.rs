//! Issuer DIDs, resolved with the `ssi` crate: `did:jwk` and `did:key` from the identifier itself
//! (no network), and `did:web` from the document the verifier fetched itself.
//!
//! Only identifiers on the trust list are resolved ([`crate::keys::KeyResolver`]). ssi's own
//! did:web resolver is never used: it would fetch whatever address a DID names, private networks
//! included. The verifier fetches a did:web document through its [`crate::fetch::Fetcher`]
//! (https only, no private addresses) and ssi reads it. The keys that count are the assertion
//! methods with a `publicKeyJwk` (did:jwk and did:key are resolved to that form).
//!
//! ssi is linked by the services only: the verifier core also builds for wasm32, where DID
//! issuers are refused, and the browser wallet keeps its own small DID document reader
//! (`civic_credential::did_web`) because ssi would not fit its size budget.

use civic_credential::jwk::Jwk;

/// Whether `did` is resolved from the identifier itself (did:jwk, did:key).
pub fn resolves_offline(did: &str) -> bool {
    did.starts_with("did:jwk:") || did.starts_with("did:key:")
}

/// The assertion keys of a did:jwk or did:key issuer, each with its absolute key id.
#[cfg(not(target_arch = "wasm32"))]
pub async fn resolve_offline(did: &str) -> Result<Vec<Jwk>, String> {
    use ssi::dids::resolution::Options;
    use ssi::dids::{DIDKey, DIDResolver, DID, DIDJWK};
    let parsed = DID::new(did).map_err(|_| format!("{did:?} is not a DID"))?;
    let mut options = Options::default();
    // Keys as JWKs (the default for did:key and did:jwk is Multikey).
    options.parameters.public_key_format = Some("JsonWebKey2020".into());
    let resolved = match parsed.method_name() {
        "jwk" => DIDJWK.resolve_with(parsed, options).await,
        "key" => DIDKey.resolve_with(parsed, options).await,
        other => return Err(format!("did:{other} is not resolved offline")),
    }
    .map_err(|e| format!("{did}: {e}"))?;
    assertion_keys(did, &resolved.document.into_document())
}

/// The assertion keys of a did:jwk or did:key issuer: not on this build.
#[cfg(target_arch = "wasm32")]
pub async fn resolve_offline(did: &str) -> Result<Vec<Jwk>, String> {
    Err(format!("{did}: DID issuers need the native build (ssi)"))
}

/// The assertion keys in `body`, the fetched DID document of the did:web `did` (which it must be).
#[cfg(not(target_arch = "wasm32"))]
pub fn read_fetched(did: &str, body: &[u8]) -> Result<Vec<Jwk>, String> {
    let document = ssi::dids::Document::from_json_bytes(body)
        .map_err(|e| format!("DID document: {e}"))?
        .into_document();
    assertion_keys(did, &document)
}

/// The assertion keys in a fetched DID document: not on this build.
#[cfg(target_arch = "wasm32")]
pub fn read_fetched(did: &str, _body: &[u8]) -> Result<Vec<Jwk>, String> {
    Err(format!("{did}: DID issuers need the native build (ssi)"))
}

/// The `publicKeyJwk` of each assertion method of `document`, which must be `did`'s, with the
/// method's absolute id as `kid`.
#[cfg(not(target_arch = "wasm32"))]
fn assertion_keys(did: &str, document: &ssi::dids::Document) -> Result<Vec<Jwk>, String> {
    use ssi::dids::document::verification_method::ValueOrReference;
    if document.id.as_str() != did {
        return Err(format!(
            "the DID document is {}'s, not {did}'s",
            document.id.as_str()
        ));
    }
    let mut keys = Vec::new();
    for method in &document.verification_relationships.assertion_method {
        let method = match method {
            ValueOrReference::Value(m) => Some(m),
            ValueOrReference::Reference(reference) => {
                let id = reference.resolve(&document.id);
                document.verification_method.iter().find(|m| m.id == *id)
            }
        };
        let Some(method) = method else { continue };
        let Some(jwk) = method.properties.get("publicKeyJwk") else {
            continue;
        };
        let jwk: Jwk = serde_json::from_value(jwk.clone())
            .map_err(|e| format!("{}: publicKeyJwk: {e}", method.id))?;
        if jwk.is_private() {
            return Err(format!(
                "{}: the DID document holds a private key",
                method.id
            ));
        }
        keys.push(jwk.with_kid(method.id.to_string()));
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn did_jwk_and_did_key_resolve_to_their_keys() {
        // did:key test vectors (P-256 and Ed25519) of the did:key specification.
        let p256 = "did:key:zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169";
        let keys = resolve_offline(p256).await.unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(
            keys[0].kid.as_deref(),
            Some(format!("{p256}#zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169").as_str())
        );
        assert_eq!(
            keys[0].x.as_deref(),
            Some("fyNYMN0976ci7xqiSdag3buk-ZCwgXU4kz9XNkBlNUI")
        );
        let ed = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK";
        assert_eq!(
            resolve_offline(ed).await.unwrap()[0].crv.as_deref(),
            Some("Ed25519")
        );
        for bad in ["did:key:zNotAKey", "did:web:example.com", "not a did"] {
            assert!(resolve_offline(bad).await.is_err(), "{bad}");
        }
    }

    #[test]
    fn a_fetched_document_must_be_the_dids_and_hold_public_keys() {
        let doc = |id: &str, jwk: serde_json::Value| {
            serde_json::json!({
                "id": id,
                "verificationMethod": [{"id": format!("{id}#k1"), "type": "JsonWebKey2020",
                                        "controller": id, "publicKeyJwk": jwk}],
                "assertionMethod": ["#k1"]
            })
            .to_string()
        };
        let public = serde_json::json!({"kty": "EC", "crv": "P-256",
            "x": "acbIQiuMs3i8_uszEjJ2tpTtRM4EU3yz91PH6CdH2V0",
            "y": "_KcyLj9vWMptnmKtm46GqDz8wf74I5LKgrl2GzH3nSE"});
        let did = "did:web:id.example";
        let keys = read_fetched(did, doc(did, public.clone()).as_bytes()).unwrap();
        assert_eq!(keys[0].kid.as_deref(), Some("did:web:id.example#k1"));
        assert!(read_fetched(did, doc("did:web:evil.example", public.clone()).as_bytes()).is_err());
        let mut private = public;
        private["d"] = "AAAA".into();
        assert!(read_fetched(did, doc(did, private).as_bytes()).is_err());
        assert!(read_fetched(did, b"{not json").is_err());
    }
}
