//! Published trust material and metadata: the did:web document, `jwt-vc-issuer` metadata,
//! OID4VCI credential issuer metadata and OAuth authorization server metadata.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use civic_credential::oid4vci::metadata::{
    BatchIssuance, ClaimDescription, CredentialMetadata, Display, ProofType,
};
use civic_credential::oid4vci::{
    AuthorizationServerMetadata, CredentialConfiguration, IssuerMetadata, FORMAT_SD_JWT_VC,
    PRE_AUTHORIZED_GRANT,
};

use crate::config::Config;
use crate::service::{now, Issuer};

/// The credential configuration id of the residency credential.
pub const RESIDENCY_CONFIGURATION: &str = "residency_sd_jwt";

/// `did:web:<host>[%3A<port>][:<path>]` for the public URL.
pub fn did_web(config: &Config) -> String {
    let Ok(url) = url::Url::parse(&config.public_url) else {
        return String::new();
    };
    let mut did = format!("did:web:{}", url.host_str().unwrap_or_default());
    if let Some(port) = url.port() {
        did.push_str(&format!("%3A{port}"));
    }
    for seg in url
        .path_segments()
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
    {
        did.push(':');
        did.push_str(seg);
    }
    did
}

impl Issuer {
    /// The did:web document listing the published keys.
    pub fn did_document(&self) -> Value {
        let did = did_web(&self.config);
        let keys = self.published_keys();
        let methods: Vec<Value> = keys
            .iter()
            .map(|k| {
                let kid = k.kid.clone().unwrap_or_default();
                json!({
                    "id": format!("{did}#{kid}"),
                    "type": "JsonWebKey2020",
                    "controller": did,
                    "publicKeyJwk": k,
                })
            })
            .collect();
        let refs: Vec<Value> = methods.iter().map(|m| m["id"].clone()).collect();
        json!({
            "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/suites/jws-2020/v1"],
            "id": did,
            "alsoKnownAs": [self.config.public_url],
            "verificationMethod": methods,
            "assertionMethod": refs,
        })
    }

    /// The public keys currently published.
    pub fn published_keys(&self) -> Vec<civic_credential::jwk::Jwk> {
        self.keys()
            .map(|k| k.published(now(), self.max_validity_secs()))
            .unwrap_or_default()
    }

    /// `/.well-known/jwt-vc-issuer` (SD-JWT VC issuer metadata).
    pub fn jwt_vc_issuer(&self) -> Value {
        json!({ "issuer": self.config.public_url, "jwks": { "keys": self.published_keys() } })
    }

    /// `/.well-known/openid-credential-issuer`.
    pub fn issuer_metadata(&self) -> IssuerMetadata {
        let c = &self.config;
        let en = |name: &str| Display {
            name: name.into(),
            locale: Some("en".into()),
            description: None,
            background_color: None,
            text_color: None,
        };
        let claim = |path: &[&str], label: &str| ClaimDescription {
            path: path.iter().map(|p| Value::from(*p)).collect(),
            display: vec![en(label)],
        };
        let mut claims = vec![
            claim(&["given_name"], "Given name"),
            claim(&["family_name"], "Family name"),
            claim(&["birthdate"], "Date of birth"),
            claim(&["address", "street_address"], "Street address"),
            claim(&["address", "locality"], "Town or city"),
            claim(&["address", "postal_code"], "Postal code"),
            claim(&["address", "country"], "Country"),
            claim(&["residence", "municipality"], "Municipality"),
            claim(&["residence", "municipality_code"], "Municipality code"),
            claim(&["residence", "district"], "District"),
            claim(&["resident_since"], "Resident since"),
        ];
        for age in civic_credential::residency::AGE_THRESHOLDS {
            claims.push(ClaimDescription {
                path: vec!["age_equal_or_over".into(), age.to_string().into()],
                display: vec![en(&format!("{age} or older"))],
            });
        }
        claims.push(ClaimDescription {
            path: vec!["pseudonyms".into(), Value::Null],
            display: vec![en("Pseudonym for a civic platform")],
        });
        let algs = match c.credential_alg.as_str() {
            "EdDSA" => vec!["EdDSA".to_owned()],
            _ => vec!["ES256".to_owned()],
        };
        let config = CredentialConfiguration {
            format: FORMAT_SD_JWT_VC.into(),
            vct: Some(c.vct()),
            scope: Some("residency".into()),
            cryptographic_binding_methods_supported: vec!["jwk".into()],
            credential_signing_alg_values_supported: algs,
            proof_types_supported: BTreeMap::from([(
                "jwt".to_owned(),
                ProofType {
                    proof_signing_alg_values_supported: vec!["ES256".into()],
                },
            )]),
            credential_metadata: Some(CredentialMetadata {
                display: vec![Display {
                    description: Some(format!("Proof of residence issued by {}", c.agency_name)),
                    background_color: Some("#12355b".into()),
                    text_color: Some("#ffffff".into()),
                    ..en("Residency credential")
                }],
                claims,
            }),
        };
        IssuerMetadata {
            credential_issuer: c.public_url.clone(),
            authorization_servers: None,
            credential_endpoint: c.url("/credential"),
            nonce_endpoint: Some(c.url("/nonce")),
            batch_credential_issuance: Some(BatchIssuance {
                batch_size: c.batch_size,
            }),
            display: vec![en(&c.agency_name)],
            credential_configurations_supported: BTreeMap::from([(
                RESIDENCY_CONFIGURATION.to_owned(),
                config,
            )]),
        }
    }

    /// `/.well-known/oauth-authorization-server`.
    pub fn authorization_server_metadata(&self) -> AuthorizationServerMetadata {
        AuthorizationServerMetadata {
            issuer: self.config.public_url.clone(),
            token_endpoint: self.config.url("/token"),
            grant_types_supported: vec![PRE_AUTHORIZED_GRANT.into()],
            pre_authorized_grant_anonymous_access_supported: Some(true),
            response_types_supported: Vec::new(),
            token_endpoint_auth_methods_supported: vec!["none".into()],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn did_web_encodes_port_and_path() {
        let c = Config::new("http://127.0.0.1:8080").expect("config");
        assert_eq!(did_web(&c), "did:web:127.0.0.1%3A8080");
        let c = Config::new("https://id.example.city/issuer").expect("config");
        assert_eq!(did_web(&c), "did:web:id.example.city:issuer");
    }
}
