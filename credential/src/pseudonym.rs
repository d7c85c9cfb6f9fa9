//! Pairwise pseudonyms: one stable identifier per (resident, platform), unlinkable across platforms.
//!
//! The issuer computes `HMAC-SHA256(secret, "civic-id pseudonym v1" ‖ platform ‖ subject)` with a
//! secret only it holds, so platforms cannot compute, reverse or correlate each other's values.
//!
//! A pseudonym is released only to the verifier its platform identifier names ([`bound_platform`],
//! [`check_request`]): the origin of the `response_uri` of a `redirect_uri:` client, the DID
//! of a `decentralized_identifier:` client whose signed request the wallet verified, or, for an
//! `x509_hash:` / `x509_san_dns:` client, the origin of the `response_uri` whose host its
//! certificate names, once the chain led to one of the wallet's trust anchors
//! ([`crate::oid4vp::CertifiedVerifier`]). The issuer
//! registers platforms under these identifiers ([`platform_id`]); the verifier asks for its own
//! pseudonym only; the wallet refuses any other.

use crate::crypto::hmac_sha256;
use crate::did_web;
use crate::encoding::b64_encode;
use crate::oid4vp::{is_x509_client, DID_PREFIX, REDIRECT_URI_PREFIX};
use crate::origin::Origin;
use crate::sd_jwt::{ClaimPath, PathElement};

/// The claim that holds the pseudonyms, one member per platform identifier.
pub const CLAIM: &str = "pseudonyms";

/// Why an identifier is not a platform identifier, or why a request's pseudonyms may not be
/// released.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BindingError {
    /// Not a web origin (https, or http on a loopback host) in its normal form, nor a did:web.
    #[error(
        "a platform identifier is the verifier's origin (https://host[:port], lower case, no path) \
         or its did:web"
    )]
    NotAPlatformId,
    /// The verifier's client identifier names no platform (its prefix cannot be bound).
    #[error("this verifier ({0}) cannot be tied to a platform, so it gets no pseudonym")]
    Unbound(String),
    /// More than one pseudonym is asked for.
    #[error("the request asks for several pseudonyms; a platform only ever gets its own")]
    Several,
    /// The pseudonyms are asked for without naming one platform (the whole object).
    #[error("the request asks for all your pseudonyms; a platform only ever gets its own")]
    All,
    /// The pseudonym of another platform is asked for.
    #[error(
        "the request asks for your pseudonym for {asked}, but it comes from {verifier}; a platform \
         only ever gets its own"
    )]
    NotTheVerifiers {
        /// The platform whose pseudonym is asked for.
        asked: String,
        /// The platform the verifier is.
        verifier: String,
    },
}

/// Derives the pseudonym of `subject` (the issuer's register id) for `platform_id`.
pub fn pairwise_pseudonym(secret: &[u8], platform_id: &str, subject: &str) -> String {
    // Length prefixes keep (platform, subject) pairs unambiguous.
    b64_encode(&hmac_sha256(
        secret,
        &[
            b"civic-id pseudonym v1\0",
            &(platform_id.len() as u64).to_be_bytes(),
            platform_id.as_bytes(),
            &(subject.len() as u64).to_be_bytes(),
            subject.as_bytes(),
        ],
    ))
}

/// Where the pseudonym for `platform_id` sits: `pseudonyms.<platform id>`.
pub fn path(platform_id: &str) -> ClaimPath {
    ClaimPath::keys([CLAIM, platform_id])
}

/// Checks that `id` is a platform identifier in its normal form: a web origin (`https://host`,
/// `https://host:port`, or `http://` on a loopback host for development; lower case, no path)
/// or a did:web. Returns it unchanged.
pub fn platform_id(id: &str) -> Result<&str, BindingError> {
    if id.starts_with(did_web::PREFIX) {
        return did_web::host_of(id)
            .map(|_| id)
            .map_err(|_| BindingError::NotAPlatformId);
    }
    match Origin::of(id) {
        Ok(o) if o.to_string() == id && o.is_trustworthy(true) => Ok(id),
        _ => Err(BindingError::NotAPlatformId),
    }
}

/// The platform a verifier is, from its client identifier: the origin of the `response_uri` of
/// a `redirect_uri:` client (the two are the same URI, [`crate::oid4vp::AuthorizationRequest`]
/// checks it), the DID of a `decentralized_identifier:` client, whose request signature must
/// have been verified against that DID's document, or `certified`, the platform an anchored
/// certificate proved for an `x509_hash:` or `x509_san_dns:` client (`None` when its chain did
/// not lead to a trust anchor: then it is bound to nothing).
pub fn bound_platform(client_id: &str, certified: Option<&str>) -> Result<String, BindingError> {
    let unbound = || BindingError::Unbound(client_id.to_owned());
    if is_x509_client(client_id) {
        let platform = certified.ok_or_else(unbound)?;
        return platform_id(platform)
            .map(str::to_owned)
            .map_err(|_| unbound());
    }
    if let Some(uri) = client_id.strip_prefix(REDIRECT_URI_PREFIX) {
        let origin = Origin::of(uri).map_err(|_| unbound())?;
        return Ok(origin.to_string());
    }
    if let Some(did) = client_id.strip_prefix(DID_PREFIX) {
        return platform_id(did).map(str::to_owned).map_err(|_| unbound());
    }
    Err(unbound())
}

/// Checks the claims a request asks for against the pseudonym rule: at most one pseudonym, and
/// only that of the platform the verifier is ([`bound_platform`] of `client_id` and
/// `certified`). Returns the
/// platform whose pseudonym is asked for, if any.
pub fn check_request<'a>(
    paths: impl IntoIterator<Item = &'a ClaimPath>,
    client_id: &str,
    certified: Option<&str>,
) -> Result<Option<String>, BindingError> {
    let mut asked: Option<String> = None;
    for path in paths {
        match path.0.as_slice() {
            [PathElement::Key(first), rest @ ..] if first == CLAIM => match rest {
                [PathElement::Key(platform)] => {
                    if asked.is_some() {
                        return Err(BindingError::Several);
                    }
                    asked = Some(platform.clone());
                }
                _ => return Err(BindingError::All),
            },
            _ => {}
        }
    }
    let Some(asked) = asked else {
        return Ok(None);
    };
    let verifier = bound_platform(client_id, certified)?;
    if asked != verifier {
        return Err(BindingError::NotTheVerifiers { asked, verifier });
    }
    Ok(Some(asked))
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_identifiers_are_origins_or_did_web_in_normal_form() {
        for ok in [
            "https://budget.example",
            "https://budget.example:8443",
            "http://localhost:8091",
            "http://127.0.0.1:9000",
            "did:web:verifier.example:platforms:budget",
            "did:web:localhost%3A8090:platforms:budget",
        ] {
            assert_eq!(platform_id(ok), Ok(ok));
        }
        for bad in [
            "https://budget.example/",
            "https://Budget.example",
            "https://budget.example/vote",
            "https://budget.example:443",
            "http://budget.example",
            "budget",
            "did:key:z6Mk",
            "did:web:",
        ] {
            assert_eq!(platform_id(bad), Err(BindingError::NotAPlatformId), "{bad}");
        }
    }

    #[test]
    fn a_verifier_gets_only_its_own_pseudonym() {
        let redirect = "redirect_uri:https://budget.example/v1/response/1";
        let did = "decentralized_identifier:did:web:v.example:platforms:budget";
        let own = path("https://budget.example");
        let other = path("https://consult.example");
        let age = ClaimPath::keys(["age_equal_or_over", "16"]);
        assert_eq!(
            check_request([&age, &own], redirect, None),
            Ok(Some("https://budget.example".to_owned()))
        );
        assert_eq!(
            check_request([&age], "x509_san_dns:v.example", None),
            Ok(None)
        );
        assert_eq!(
            check_request([&other], redirect, None),
            Err(BindingError::NotTheVerifiers {
                asked: "https://consult.example".into(),
                verifier: "https://budget.example".into()
            })
        );
        assert_eq!(
            check_request([&own, &other], redirect, None),
            Err(BindingError::Several)
        );
        assert_eq!(
            check_request([&own, &own], redirect, None),
            Err(BindingError::Several)
        );
        assert_eq!(
            check_request([&ClaimPath::keys([CLAIM])], redirect, None),
            Err(BindingError::All)
        );
        let wildcard = ClaimPath(vec![
            PathElement::Key(CLAIM.into()),
            PathElement::AllElements,
        ]);
        assert_eq!(
            check_request([&wildcard], redirect, None),
            Err(BindingError::All)
        );
        let deeper = ClaimPath::keys([CLAIM, "https://budget.example", "x"]);
        assert_eq!(
            check_request([&deeper], redirect, None),
            Err(BindingError::All)
        );
        let did_own = path("did:web:v.example:platforms:budget");
        assert!(check_request([&did_own], did, None).is_ok());
        assert!(
            check_request([&own], did, None).is_err(),
            "the DID is the platform, not its host"
        );
        // A certificate verifier is bound only through an anchored certificate.
        for x509 in ["x509_san_dns:budget.example", "x509_hash:abc"] {
            assert!(matches!(
                check_request([&own], x509, None),
                Err(BindingError::Unbound(_))
            ));
            assert_eq!(
                check_request([&own], x509, Some("https://budget.example")),
                Ok(Some("https://budget.example".to_owned()))
            );
            assert!(check_request([&own], x509, Some("https://consult.example")).is_err());
        }
        // `certified` means nothing for the other prefixes.
        assert!(check_request([&own], did, Some("https://budget.example")).is_err());
        // The origin is parsed: a look-alike host is another platform.
        assert!(check_request(
            [&path("http://localhost")],
            "redirect_uri:http://localhost.evil.example/r",
            None
        )
        .is_err());
    }

    /// The value is part of issued credentials: it must never change. Computed independently
    /// with Python's `hmac` over the same input.
    #[test]
    fn fixed_vector() {
        assert_eq!(
            pairwise_pseudonym(b"k", "https://budget.example", "R1"),
            "EhrZwDz53vMpJrOtzhnhDTX2U0YlSrthseNOI2zoPeE"
        );
    }

    #[test]
    fn stable_per_platform_and_unlinkable_across() {
        let a = pairwise_pseudonym(b"k", "https://budget.example", "R1");
        assert_eq!(a, pairwise_pseudonym(b"k", "https://budget.example", "R1"));
        assert_ne!(
            a,
            pairwise_pseudonym(b"k", "https://petitions.example", "R1")
        );
        assert_ne!(a, pairwise_pseudonym(b"k", "https://budget.example", "R2"));
        assert_ne!(
            a,
            pairwise_pseudonym(b"other", "https://budget.example", "R1")
        );
        assert_ne!(
            pairwise_pseudonym(b"k", "ab", "c"),
            pairwise_pseudonym(b"k", "a", "bc")
        );
    }
}
