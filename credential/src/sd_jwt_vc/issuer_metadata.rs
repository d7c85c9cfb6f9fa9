//! SD-JWT VC issuer metadata (`/.well-known/jwt-vc-issuer`, draft-ietf-oauth-sd-jwt-vc §5): where
//! an https issuer publishes its keys. The issuer builds it here; verifiers and wallets find it
//! and read it here.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::jwk::Jwk;

/// The well-known path segment, inserted between the issuer's host and its path.
pub const WELL_KNOWN: &str = "/.well-known/jwt-vc-issuer";

/// A JWK set (`{"keys": [...]}`), RFC 7517 §5.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct JwkSet {
    /// The keys.
    pub keys: Vec<Jwk>,
}

impl JwkSet {
    /// Reads a published JWK set: keys without a `kid` cannot be named by a credential and are
    /// left out; a private key, a malformed key or a set with no usable key is an error.
    pub fn parse_published(value: &Value) -> Result<Self> {
        let list = value
            .get("keys")
            .and_then(Value::as_array)
            .ok_or(Error::Json("a JWK set needs a keys array"))?;
        let mut keys = Vec::with_capacity(list.len());
        for raw in list {
            let jwk: Jwk =
                serde_json::from_value(raw.clone()).map_err(|_| Error::InvalidKey("JWK"))?;
            if jwk.is_private() {
                return Err(Error::InvalidKey("a published key set holds a private key"));
            }
            if jwk.kid.is_some() {
                keys.push(jwk);
            }
        }
        if keys.is_empty() {
            return Err(Error::InvalidKey("no usable key (each needs a kid)"));
        }
        Ok(JwkSet { keys })
    }
}

/// The metadata document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IssuerMetadata {
    /// The issuer identifier: the credentials' `iss`.
    pub issuer: String,
    /// The issuer's public keys, inline.
    pub jwks: JwkSet,
}

impl IssuerMetadata {
    /// The document an issuer publishes for `keys` (made public).
    pub fn new(issuer: impl Into<String>, keys: &[Jwk]) -> Self {
        IssuerMetadata {
            issuer: issuer.into(),
            jwks: JwkSet {
                keys: keys.iter().map(Jwk::to_public).collect(),
            },
        }
    }

    /// Reads a fetched document of `issuer`: it must name that issuer (a document of another
    /// issuer is a substitution attempt) and carry its keys inline (`jwks_uri` is not followed:
    /// only the trusted issuer's own well-known URL is ever fetched).
    pub fn parse(body: &[u8], issuer: &str) -> Result<Self> {
        let doc: Value =
            crate::encoding::json_from_bytes(body).ok_or(Error::Json("jwt-vc-issuer metadata"))?;
        if doc.get("issuer").and_then(Value::as_str) != Some(issuer) {
            return Err(Error::InvalidClaim(
                "the jwt-vc-issuer metadata names another issuer",
            ));
        }
        let jwks = doc
            .get("jwks")
            .ok_or(Error::MissingClaim("jwks (inline keys)"))?;
        Ok(IssuerMetadata {
            issuer: issuer.to_owned(),
            jwks: JwkSet::parse_published(jwks)?,
        })
    }
}

/// Where the metadata of an https `issuer` is: `https://host/.well-known/jwt-vc-issuer/<path>`.
pub fn metadata_url(issuer: &str) -> Result<String> {
    let bad = Error::InvalidClaim("the issuer is not an http(s) URL without query or fragment");
    let (scheme, rest) = issuer.split_once("://").ok_or(bad.clone())?;
    if !matches!(scheme, "https" | "http") || rest.is_empty() || rest.contains(['?', '#']) {
        return Err(bad);
    }
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    if host.is_empty() {
        return Err(bad);
    }
    let path = path.trim_end_matches('/');
    Ok(if path.is_empty() {
        format!("{scheme}://{host}{WELL_KNOWN}")
    } else {
        format!("{scheme}://{host}{WELL_KNOWN}/{path}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{Algorithm, SigningKey};
    use serde_json::json;

    #[test]
    fn the_metadata_url_inserts_the_well_known_part() {
        assert_eq!(
            metadata_url("https://id.example.nl/tenant/").as_deref(),
            Ok("https://id.example.nl/.well-known/jwt-vc-issuer/tenant")
        );
        assert_eq!(
            metadata_url("http://localhost:8080").as_deref(),
            Ok("http://localhost:8080/.well-known/jwt-vc-issuer")
        );
        for bad in ["did:web:x", "ftp://x", "https://", "https://x?y", "x"] {
            assert!(metadata_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn documents_round_trip_and_substitutes_are_refused() {
        let key = SigningKey::generate(Algorithm::Es256, &mut rand::rngs::OsRng)
            .unwrap()
            .with_kid("k1");
        let meta = IssuerMetadata::new("https://id.example", &[key.to_private_jwk()]);
        let body = serde_json::to_vec(&meta).unwrap();
        assert!(!String::from_utf8_lossy(&body).contains("\"d\""));
        let back = IssuerMetadata::parse(&body, "https://id.example").unwrap();
        assert_eq!(back.jwks.keys.len(), 1);
        assert!(IssuerMetadata::parse(&body, "https://other.example").is_err());
        let private =
            json!({ "issuer": "https://id.example", "jwks": { "keys": [key.to_private_jwk()] } });
        assert!(
            IssuerMetadata::parse(private.to_string().as_bytes(), "https://id.example").is_err()
        );
        let by_uri =
            json!({ "issuer": "https://id.example", "jwks_uri": "https://evil.example/k" });
        assert!(
            IssuerMetadata::parse(by_uri.to_string().as_bytes(), "https://id.example").is_err()
        );
        let mut unnamed = key.public_jwk().clone();
        unnamed.kid = None;
        let no_kid = json!({ "issuer": "https://id.example", "jwks": { "keys": [unnamed] } });
        assert!(
            IssuerMetadata::parse(no_kid.to_string().as_bytes(), "https://id.example").is_err()
        );
    }
}
