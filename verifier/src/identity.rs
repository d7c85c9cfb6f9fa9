//! How the verifier names itself to wallets, per platform: the client identifier of its requests,
//! the key that signs them, and the DID documents it serves.
//!
//! A wallet gives a verifier only the pseudonym of the platform the verifier provably is
//! ([`civic_credential::pseudonym::bound_platform`]): the origin of its `response_uri`
//! (`redirect_uri:` client, unsigned requests), or its DID (`decentralized_identifier:` client,
//! signed requests). So a platform whose policies ask for the pseudonym has as its id either
//! this verifier's origin (`https://budget.example`: a platform running the library on its own
//! site) or a DID this verifier serves: `did:web:<verifier host>:platforms:<name>`, one per
//! platform of a shared REST service, all signed with the one request signing key.

use civic_credential::crypto::{JwsSigner, SigningKey, WithKid};
use civic_credential::did_web::{self, Purpose};
use civic_credential::oid4vp::DID_PREFIX;
use civic_credential::origin::Origin;
use civic_credential::pseudonym;

use crate::certificate::RequestCertificate;
use crate::config::Platform;

/// The path segment under which platform DIDs sit: `did:web:<host>:platforms:<name>`, served at
/// `/platforms/<name>/did.json`.
pub const PLATFORMS_SEGMENT: &str = "platforms";

/// Signs request objects for the DIDs this verifier serves: its own
/// (`did:web:<host>`, at `/.well-known/did.json`) and its platforms'.
pub struct RequestSigner {
    key: SigningKey,
    did: String,
}

impl RequestSigner {
    /// The fragment of the signing key in each DID document.
    pub const FRAGMENT: &'static str = "request-signing";

    /// A signer publishing `key` under `did` (the service's own DID) and its platform DIDs.
    pub fn new(key: SigningKey, did: String) -> Self {
        RequestSigner { key, did }
    }

    /// The service's own DID.
    pub fn did(&self) -> &str {
        &self.did
    }

    /// The key id under which `did` publishes the key.
    pub fn key_id(did: &str) -> String {
        format!("{did}#{}", Self::FRAGMENT)
    }

    /// Signs `f`'s JWS as `did`'s key.
    pub fn sign_as<T>(&self, did: &str, f: impl FnOnce(&dyn JwsSigner) -> T) -> T {
        let kid = Self::key_id(did);
        f(&WithKid(&self.key, &kid))
    }

    /// The DID document of `did` (`application/did+json`): the signing key, for authentication
    /// and assertion.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn document(
        &self,
        did: &str,
    ) -> Result<serde_json::Value, civic_service::did_document::DidDocumentError> {
        use civic_service::did_document::{build, PublishedKey};
        let key = PublishedKey {
            fragment: Self::FRAGMENT,
            jwk: self.key.public_jwk(),
            purposes: &[Purpose::Authentication, Purpose::Assertion],
        };
        build(did, None, &[key])
    }
}

/// The DID of platform `name` on a verifier at `public_url`.
pub fn platform_did(public_url: &str, name: &str) -> Result<String, did_web::DidError> {
    Ok(format!(
        "{}:{PLATFORMS_SEGMENT}:{name}",
        did_web::did_for_url(public_url)?
    ))
}

/// The client identifier under which `platform` asks: its own DID; the verifier's certificate
/// (`x509_hash:`/`x509_san_dns:`) when one is configured; the service's DID when requests are
/// signed and the platform is not the service's origin; or `None` for
/// `redirect_uri:<response_uri>` (unsigned).
pub fn client_id(
    platform: &Platform,
    public_url: &str,
    signer: Option<&RequestSigner>,
    certificate: Option<&RequestCertificate>,
) -> Option<String> {
    if platform.id.starts_with(did_web::PREFIX) {
        return Some(format!("{DID_PREFIX}{}", platform.id));
    }
    if let Some(c) = certificate {
        return Some(c.client_id().to_owned());
    }
    let own_origin = Origin::of(public_url).is_ok_and(|o| o.to_string() == platform.id);
    match signer {
        Some(s) if !own_origin => Some(format!("{DID_PREFIX}{}", s.did)),
        _ => None,
    }
}

/// Checks that this service can speak as `platform` where it must: a platform id that is a
/// did:web is this service's DID or one of its platform DIDs (and requests are signed); a
/// platform whose policies ask for the pseudonym has an id wallets will bind to this service.
pub fn check_platform(platform: &Platform, public_url: &str, signing: bool) -> Result<(), String> {
    let id = &platform.id;
    let service_did = did_web::did_for_url(public_url).map_err(|e| format!("public_url: {e}"))?;
    if id.starts_with(did_web::PREFIX) {
        let name = id
            .strip_prefix(&format!("{service_did}:{PLATFORMS_SEGMENT}:"))
            .filter(|n| valid_name(n));
        if *id != service_did && name.is_none() {
            return Err(format!(
                "platform {id}: a platform DID must be this service's ({service_did}) or \
                 {service_did}:{PLATFORMS_SEGMENT}:<name> (lower-case letters, digits, '-')"
            ));
        }
        if !signing {
            return Err(format!(
                "platform {id}: a DID platform needs request_signing_key (its requests are signed)"
            ));
        }
        return Ok(());
    }
    let wants_pseudonym = platform.policies.iter().any(|p| p.pseudonym);
    let origin = Origin::of(public_url)
        .map(|o| o.to_string())
        .map_err(|e| format!("public_url: {e}"))?;
    if wants_pseudonym && (pseudonym::platform_id(id).is_err() || *id != origin) {
        return Err(format!(
            "platform {id}: its policies ask for the pseudonym, and wallets give it only to the \
             platform they can tie to this service: use this service's origin ({origin}) as the \
             id, or a DID it serves ({service_did}:{PLATFORMS_SEGMENT}:<name>, with \
             request_signing_key)"
        ));
    }
    Ok(())
}

/// Whether `name` may be a platform DID's last segment.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Policy;

    fn platform(id: &str, pseudonym: bool) -> Platform {
        Platform {
            id: id.into(),
            name: "P".into(),
            api_key_sha256: "0".repeat(64),
            webhook_url: None,
            webhook_secret: None,
            redirect_uris: vec![],
            encrypt_responses: None,
            requests_by_value: false,
            policies: vec![Policy {
                name: "vote".into(),
                rules: vec![],
                pseudonym,
                vct: vec![],
            }],
        }
    }

    #[test]
    fn platforms_that_want_a_pseudonym_must_be_bindable_to_this_service() {
        let url = "https://verifier.example";
        let ok = [
            (platform("https://verifier.example", true), false),
            (platform("did:web:verifier.example", true), true),
            (
                platform("did:web:verifier.example:platforms:budget-1", true),
                true,
            ),
            (platform("https://elsewhere.example", false), false),
        ];
        for (p, signing) in ok {
            assert_eq!(check_platform(&p, url, signing), Ok(()), "{}", p.id);
        }
        let bad = [
            (platform("https://budget.example", true), true),
            (platform("https://verifier.example/", true), false),
            (
                platform("did:web:verifier.example:platforms:budget", true),
                false,
            ),
            (
                platform("did:web:other.example:platforms:budget", true),
                true,
            ),
            (
                platform("did:web:verifier.example:platforms:Budget", true),
                true,
            ),
            (
                platform("did:web:verifier.example:elsewhere:budget", false),
                true,
            ),
        ];
        for (p, signing) in bad {
            assert!(check_platform(&p, url, signing).is_err(), "{}", p.id);
        }
    }

    #[test]
    fn each_platform_asks_under_the_identity_its_pseudonym_is_bound_to() {
        let url = "https://verifier.example";
        let key = SigningKey::generate(
            civic_credential::crypto::Algorithm::Es256,
            &mut rand_core::OsRng,
        )
        .expect("key");
        let signer = RequestSigner::new(key, "did:web:verifier.example".into());
        let own = platform("https://verifier.example", true);
        let did = platform("did:web:verifier.example:platforms:budget", true);
        let other = platform("https://consult.example", false);
        assert_eq!(client_id(&own, url, Some(&signer), None), None);
        assert_eq!(client_id(&own, url, None, None), None);
        assert_eq!(
            client_id(&did, url, Some(&signer), None).as_deref(),
            Some("decentralized_identifier:did:web:verifier.example:platforms:budget")
        );
        assert_eq!(
            client_id(&other, url, Some(&signer), None).as_deref(),
            Some("decentralized_identifier:did:web:verifier.example")
        );
        assert_eq!(client_id(&other, url, None, None), None);
    }
}
