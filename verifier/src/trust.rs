//! The trust list: which issuers the verifier accepts, for which credential types and
//! municipalities, and where their keys come from. Loaded from a TOML or JSON file in `did-docs/`.
//!
//! ```toml
//! key_cache_secs = 3600
//! [[issuer]]
//! id = "https://id.teststad.example"
//! vct = ["https://id.teststad.example/credentials/residency"]
//! municipality_codes = ["0363"]
//! ```

use serde::{Deserialize, Serialize};
use serde_json::Value;

use civic_credential::did_web;
use civic_credential::origin::Origin;
use civic_credential::sd_jwt_vc::issuer_metadata::metadata_url;
use civic_credential::x509::Certificate;

/// One trusted issuer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustedIssuer {
    /// The issuer identifier: an https URL (keys from `/.well-known/jwt-vc-issuer`), a did:web
    /// (keys from its DID document), or a did:jwk or did:key (keys from the identifier itself;
    /// [`crate::did`]).
    pub id: String,
    /// Credential types this issuer may issue.
    pub vct: Vec<String>,
    /// Municipality codes this issuer speaks for; empty means any.
    #[serde(default)]
    pub municipality_codes: Vec<String>,
    /// Where to get the DID document of a did:web issuer, if not the standard https location
    /// (for a test deployment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub did_document_url: Option<String>,
    /// Keys given inline (a JWK set); then nothing is fetched for keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<Value>,
    /// Origins besides the issuer's own (`https://status.example`) that may serve its status
    /// lists. A status list anywhere else is not fetched.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub status_list_origins: Vec<String>,
    /// X.509 trust anchors (PEM blocks, or base64 DER) for an issuer trusted by certificate
    /// (HAIP 1.0 §6.1.1): then its credentials and status list tokens must carry an `x5c` chain
    /// to one of them whose leaf names the issuer's host, and nothing is fetched for its keys.
    /// Their key identifiers go into DCQL `trusted_authorities` (`aki`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trust_anchors: Vec<String>,
}

/// The trust list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustList {
    /// How long fetched issuer keys are kept.
    #[serde(default = "default_key_cache")]
    pub key_cache_secs: i64,
    /// The trusted issuers.
    #[serde(default, rename = "issuer")]
    pub issuers: Vec<TrustedIssuer>,
    /// The `aki` values of each issuer trusted by certificate (by id), read once by
    /// [`TrustList::parse`]; absent when an anchor has no `subjectKeyIdentifier`.
    #[serde(skip)]
    anchor_key_ids: std::collections::BTreeMap<String, Vec<String>>,
}

fn default_key_cache() -> i64 {
    3600
}

/// Why a trust list is not usable.
#[derive(Debug, thiserror::Error)]
#[error("invalid trust list: {0}")]
pub struct TrustListError(pub String);

impl TrustList {
    /// Parses TOML (`[[issuer]]` tables) or, if it starts with `{`, JSON (`"issuer": [...]`).
    pub fn parse(text: &str) -> Result<Self, TrustListError> {
        let mut list: TrustList = if text.trim_start().starts_with('{') {
            serde_json::from_str(text).map_err(|e| TrustListError(e.to_string()))?
        } else {
            toml::from_str(text).map_err(|e| TrustListError(e.to_string()))?
        };
        let mut anchor_key_ids = std::collections::BTreeMap::new();
        for i in &list.issuers {
            let offline = crate::did::resolves_offline(&i.id);
            let ok = i.id.starts_with("https://")
                || i.id.starts_with("http://")
                || i.id.starts_with(did_web::PREFIX)
                || offline;
            let keys_found = offline || i.jwks.is_some() || i.key_document_url().is_ok();
            if !i.trust_anchors.is_empty() {
                if !i.id.starts_with("https://") && !i.id.starts_with("http://") {
                    return Err(TrustListError(format!(
                        "issuer {:?}: trust_anchors need an https issuer (its certificate names \
                         the host)",
                        i.id
                    )));
                }
                let anchors = i
                    .anchors()
                    .map_err(|e| TrustListError(format!("issuer {:?}: {e}", i.id)))?;
                let ids: Option<Vec<String>> = anchors
                    .iter()
                    .map(|a| {
                        a.subject_key_id()
                            .map(civic_credential::encoding::b64_encode)
                    })
                    .collect();
                if let Some(ids) = ids {
                    anchor_key_ids.insert(i.id.clone(), ids);
                }
            }
            if !ok || i.vct.is_empty() || !keys_found {
                return Err(TrustListError(format!(
                    "issuer {:?}: id must be an https URL, did:web, did:jwk or did:key, with at \
                     least one vct",
                    i.id
                )));
            }
        }
        list.anchor_key_ids = anchor_key_ids;
        Ok(list)
    }

    /// The `aki` values for a DCQL query accepting `vct`: the key identifiers of the anchors
    /// of every issuer that may issue one of them, when each such issuer is trusted by
    /// certificate; otherwise none, so that the query does not turn away a credential of an
    /// issuer trusted another way.
    pub fn authority_key_ids(&self, vct: &[String]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for issuer in self
            .issuers
            .iter()
            .filter(|i| vct.iter().any(|v| i.allows_vct(v)))
        {
            let Some(ids) = self.anchor_key_ids.get(&issuer.id) else {
                return Vec::new();
            };
            for id in ids {
                if !out.contains(id) {
                    out.push(id.clone());
                }
            }
        }
        out
    }

    /// The entry for `iss`, if trusted.
    pub fn issuer(&self, iss: &str) -> Option<&TrustedIssuer> {
        self.issuers.iter().find(|i| i.id == iss)
    }
}

impl TrustedIssuer {
    /// Where the keys are: the `jwt-vc-issuer` metadata URL (well-known part inserted between host
    /// and path, as SD-JWT VC says) or the DID document URL (`did_document_url` when the trust
    /// list gives one).
    pub fn key_document_url(&self) -> Result<String, String> {
        if self.id.starts_with(did_web::PREFIX) {
            if let Some(u) = &self.did_document_url {
                return Ok(u.clone());
            }
            return did_web::document_url(&self.id).map_err(|e| e.to_string());
        }
        metadata_url(&self.id).map_err(|e| e.to_string())
    }

    /// The issuer's own origin: of its https identifier, or where its did:web lives (or its
    /// `did_document_url`). A did:jwk or did:key issuer has none: its status lists are fetched
    /// only from its `status_list_origins`.
    pub fn origin(&self) -> Option<Origin> {
        if crate::did::resolves_offline(&self.id) {
            return None;
        }
        if self.id.starts_with(did_web::PREFIX) {
            let doc = self.key_document_url().ok()?;
            return Origin::of(&doc).ok();
        }
        Origin::of(&self.id).ok()
    }

    /// Whether a status list at `uri` may be fetched for this issuer: on its own origin or one
    /// of its `status_list_origins`.
    pub fn may_host_status_list(&self, uri: &str) -> bool {
        let Ok(at) = Origin::of(uri) else {
            return false;
        };
        self.origin().is_some_and(|o| o == at)
            || self
                .status_list_origins
                .iter()
                .any(|o| Origin::of(o).is_ok_and(|o| o == at))
    }

    /// The parsed [`TrustedIssuer::trust_anchors`].
    pub fn anchors(&self) -> Result<Vec<Certificate>, String> {
        use base64::Engine as _;
        let mut out = Vec::new();
        for text in &self.trust_anchors {
            let ders = if text.contains("-----BEGIN") {
                pem::parse_many(text)
                    .map_err(|e| format!("trust anchor: {e}"))?
                    .into_iter()
                    .filter(|p| p.tag() == "CERTIFICATE")
                    .map(pem::Pem::into_contents)
                    .collect()
            } else {
                let der = base64::engine::general_purpose::STANDARD
                    .decode(text.split_whitespace().collect::<String>())
                    .map_err(|_| "trust anchor: neither PEM nor base64 DER".to_owned())?;
                vec![der]
            };
            for der in ders {
                out.push(Certificate::parse(&der).map_err(|e| format!("trust anchor: {e}"))?);
            }
        }
        if out.is_empty() && !self.trust_anchors.is_empty() {
            return Err("trust anchor: no CERTIFICATE block".into());
        }
        Ok(out)
    }

    /// Whether this issuer may issue `vct`.
    pub fn allows_vct(&self, vct: &str) -> bool {
        self.vct.iter().any(|v| v == vct)
    }

    /// Whether this issuer speaks for municipality `code`.
    pub fn allows_municipality(&self, code: &str) -> bool {
        self.municipality_codes.is_empty() || self.municipality_codes.iter().any(|c| c == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trust_lists_parse_and_locate_key_documents() {
        let list = TrustList::parse(
            r#"
[[issuer]]
id = "https://id.example.nl/tenant"
vct = ["https://id.example.nl/tenant/credentials/residency"]
municipality_codes = ["0363"]
[[issuer]]
id = "did:web:id.example.nl%3A8443:issuer"
vct = ["v"]
"#,
        )
        .expect("parse");
        assert_eq!(list.key_cache_secs, 3600);
        let a = list
            .issuer("https://id.example.nl/tenant")
            .expect("trusted");
        assert_eq!(
            a.key_document_url().as_deref(),
            Ok("https://id.example.nl/.well-known/jwt-vc-issuer/tenant")
        );
        assert!(a.allows_municipality("0363") && !a.allows_municipality("0344"));
        let b = list
            .issuer("did:web:id.example.nl%3A8443:issuer")
            .expect("trusted");
        assert_eq!(
            b.key_document_url().as_deref(),
            Ok("https://id.example.nl:8443/issuer/did.json")
        );
        assert!(b.allows_municipality("anything"));
        assert!(list.issuer("https://evil.example").is_none());
        assert!(TrustList::parse("[[issuer]]\nid = \"ftp://x\"\nvct = [\"v\"]\n").is_err());
        let jwk = TrustList::parse("[[issuer]]\nid = \"did:jwk:eyJ9\"\nvct = [\"v\"]\n")
            .expect("did:jwk");
        assert!(jwk.issuers[0].origin().is_none());
        assert!(TrustList::parse("[[issuer]]\nid = \"did:example:x\"\nvct = [\"v\"]\n").is_err());
        assert!(TrustList::parse("[[issuer]]\nid = \"https://x\"\nvct = []\n").is_err());
        let json = TrustList::parse(r#"{"issuer": [{"id": "https://x.example", "vct": ["v"]}]}"#)
            .expect("json");
        assert_eq!(
            json.issuers[0].key_document_url().as_deref(),
            Ok("https://x.example/.well-known/jwt-vc-issuer")
        );
    }
}
