//! The verifier's X.509 identity (HAIP 1.0): its request objects are signed with the key of a
//! certificate whose chain travels in `x5c`, under an `x509_hash:` client identifier (the
//! default, what HAIP asks for) or `x509_san_dns:`. Wallets check the chain against the
//! municipality's platform registry, the certificate against the client identifier, and the
//! `response_uri`'s host against the certificate's names
//! ([`civic_credential::oid4vp::CertifiedVerifier`]).
//!
//! [`dev_ca`] makes a development CA and a leaf for local use (`civic-verifier dev-ca`).

use serde::{Deserialize, Serialize};

use civic_credential::crypto::{JwsSigner, SigningKey};
use civic_credential::oid4vp::{AuthorizationRequest, X509_HASH_PREFIX, X509_SAN_DNS_PREFIX};
use civic_credential::origin::Origin;

/// Which certificate client identifier the verifier asks under.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum X509Prefix {
    /// `x509_hash:<base64url SHA-256 of the leaf>` (HAIP 1.0).
    #[default]
    X509Hash,
    /// `x509_san_dns:<the public URL's host>`.
    X509SanDns,
}

/// A certificate chain and its leaf's key, loaded and checked against each other.
pub struct RequestCertificate {
    /// The leaf's key, with the chain (`x5c`).
    key: SigningKey,
    client_id: String,
}

impl RequestCertificate {
    /// The identity of a verifier at `public_url` with the PEM certificate chain `chain_pem`
    /// (leaf first, without the trust anchor) and the leaf's PKCS#8 PEM key `key_pem`. The
    /// leaf must name the public URL's host (wallets send answers only there) and be for `key`.
    pub fn from_pem(
        chain_pem: &str,
        key_pem: &str,
        prefix: X509Prefix,
        public_url: &str,
    ) -> Result<Self, String> {
        let (key, leaf) = civic_service::certificate::certified_key(chain_pem, key_pem)?;
        let host = Origin::of(public_url)
            .map_err(|e| format!("public_url: {e}"))?
            .host()
            .to_owned();
        if !leaf.names_host(&host) {
            return Err(format!(
                "the certificate does not name {host} (the public URL's host) in its \
                 subjectAltName, so wallets would refuse to send answers here; it names {:?}",
                leaf.names()
            ));
        }
        let client_id = match prefix {
            X509Prefix::X509Hash => format!("{X509_HASH_PREFIX}{}", leaf.x509_hash()),
            X509Prefix::X509SanDns => format!("{X509_SAN_DNS_PREFIX}{host}"),
        };
        Ok(RequestCertificate { key, client_id })
    }

    /// The client identifier requests go out under.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The signed request object (`x5c` in its header).
    pub fn sign(&self, request: &AuthorizationRequest) -> civic_credential::Result<String> {
        request.to_signed_jwt_x5c(&self.key, self.key.x5c().unwrap_or(&[]))
    }
}

#[cfg(not(target_arch = "wasm32"))]
pub use civic_service::certificate::DevCa;

/// Makes a development CA named `organization` and a verifier certificate for `hosts` (DNS names
/// or IP addresses), valid for `days` days from now. For local use only: the CA's key is not
/// kept, so nothing else can ever be signed under it.
#[cfg(not(target_arch = "wasm32"))]
pub fn dev_ca(organization: &str, hosts: &[String], days: i64) -> Result<DevCa, String> {
    civic_service::certificate::dev_ca(organization, hosts, days, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dev_ca_leaf_loads_and_names_the_verifier() {
        let hosts = vec!["verifier.example".to_string(), "127.0.0.1".to_string()];
        let ca = dev_ca("Teststad verifier", &hosts, 30).unwrap();
        let id = RequestCertificate::from_pem(
            &ca.chain_pem,
            &ca.key_pem,
            X509Prefix::X509Hash,
            "https://verifier.example",
        )
        .unwrap();
        assert!(id.client_id().starts_with("x509_hash:"));
        let dns = RequestCertificate::from_pem(
            &ca.chain_pem,
            &ca.key_pem,
            X509Prefix::X509SanDns,
            "http://127.0.0.1:8090",
        )
        .unwrap();
        assert_eq!(dns.client_id(), "x509_san_dns:127.0.0.1");
        // Each refused for its own reason.
        let other_key = dev_ca("x", &hosts, 1).unwrap().key_pem;
        let with_anchor = format!("{}{}", ca.chain_pem, ca.ca_pem);
        for (chain, key, url, why) in [
            (
                &ca.chain_pem,
                &ca.key_pem,
                "https://elsewhere.example",
                "does not name elsewhere.example",
            ),
            (
                &ca.chain_pem,
                &other_key,
                "https://verifier.example",
                "is not the key of the chain's first",
            ),
            (
                &ca.key_pem,
                &ca.key_pem,
                "https://verifier.example",
                "expected 1 to 4 CERTIFICATE blocks",
            ),
            (
                &with_anchor,
                &ca.key_pem,
                "https://verifier.example",
                "self-signed certificate",
            ),
            (
                &ca.chain_pem,
                &ca.chain_pem,
                "https://verifier.example",
                "expected a PKCS#8 PRIVATE KEY",
            ),
        ] {
            let err = RequestCertificate::from_pem(chain, key, X509Prefix::X509Hash, url)
                .err()
                .unwrap();
            assert!(err.contains(why), "{err}");
        }
    }
}
