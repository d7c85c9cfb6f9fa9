//! [`TrustMaterial`]: what the issuer publishes for wallets and verifiers: the did:web document,
//! SD-JWT VC issuer metadata (`jwt-vc-issuer`), OID4VCI credential issuer metadata and OAuth
//! authorization server metadata. The formats are `civic-credential`'s; the DID document is built
//! with the `ssi` crate's DID document type.

use std::collections::BTreeMap;
use std::sync::Arc;

use civic_credential::did_web;
use civic_credential::jwk::Jwk;
use civic_credential::oid4vci::metadata::{
    BatchIssuance, ClaimDescription, CredentialMetadata, Display, ProofType,
};
use civic_credential::oid4vci::{
    AuthorizationServerMetadata, CredentialConfiguration, IssuerMetadata, FORMAT_SD_JWT_VC,
    PRE_AUTHORIZED_GRANT,
};
use civic_credential::residency::labels::described_claims;
use civic_credential::sd_jwt_vc::issuer_metadata::IssuerMetadata as JwtVcIssuerMetadata;

use crate::config::Config;
use crate::context::Context;
use crate::issuance::RESIDENCY_CONFIGURATION;

/// The issuer's did:web: `did:web:<host>[%3A<port>][:<path>]` for its public URL.
pub fn did_web(config: &Config) -> Result<String, did_web::DidError> {
    did_web::did_for_url(&config.public_url)
}

/// Why the DID document could not be made (a public URL or key id a DID cannot hold).
#[derive(Debug, thiserror::Error)]
#[error("DID document: {0}")]
pub struct DidDocumentError(pub String);

/// The published trust material.
pub struct TrustMaterial {
    context: Arc<Context>,
}

impl TrustMaterial {
    /// Trust material over the shared context.
    pub fn new(context: Arc<Context>) -> Self {
        TrustMaterial { context }
    }

    /// The public keys currently published: active keys, and retired keys while credentials
    /// signed with them may still be valid.
    pub fn published_keys(&self) -> Vec<Jwk> {
        self.context
            .keys()
            .map(|k| k.published(self.context.now(), self.context.max_validity_secs()))
            .unwrap_or_default()
    }

    /// The did:web document (`application/did+json`) listing the published keys as assertion
    /// methods (`JsonWebKey2020`, `did#<kid>`), built with ssi's [`ssi::dids::Document`].
    pub fn did_document(&self) -> Result<serde_json::Value, DidDocumentError> {
        use ssi::dids::document::verification_method::ValueOrReference;
        use ssi::dids::document::DIDVerificationMethod;
        use ssi::dids::{DIDBuf, DIDURLBuf, Document};
        let did = did_web(&self.context.config).map_err(|e| DidDocumentError(e.to_string()))?;
        let bad = |what: &str| DidDocumentError(format!("{what} is not valid in a DID document"));
        let id = DIDBuf::from_string(did.clone()).map_err(|_| bad(&did))?;
        let mut doc = Document::new(id.clone());
        // The issuer's https identifier: ssi's IRI type, read from its JSON form.
        doc.also_known_as.push(
            serde_json::from_value(self.context.config.public_url.clone().into())
                .map_err(|_| bad("public_url"))?,
        );
        for key in self.published_keys() {
            let method = format!("{did}#{}", key.kid.clone().unwrap_or_default());
            let method = DIDURLBuf::from_string(method.clone()).map_err(|_| bad(&method))?;
            let jwk = serde_json::to_value(key.to_public()).map_err(|_| bad("a key"))?;
            doc.verification_method.push(DIDVerificationMethod {
                id: method.clone(),
                type_: "JsonWebKey2020".into(),
                controller: id.clone(),
                properties: BTreeMap::from([("publicKeyJwk".to_owned(), jwk)]),
            });
            doc.verification_relationships
                .assertion_method
                .push(ValueOrReference::Reference(method.into()));
        }
        let mut json = serde_json::to_value(&doc).map_err(|_| bad("the document"))?;
        if let serde_json::Value::Object(members) = &mut json {
            members.insert(
                "@context".into(),
                serde_json::json!([
                    "https://www.w3.org/ns/did/v1",
                    "https://w3id.org/security/suites/jws-2020/v1"
                ]),
            );
        }
        Ok(json)
    }

    /// `/.well-known/jwt-vc-issuer`.
    pub fn jwt_vc_issuer(&self) -> JwtVcIssuerMetadata {
        JwtVcIssuerMetadata::new(&self.context.config.public_url, &self.published_keys())
    }

    /// `/.well-known/openid-credential-issuer`.
    pub fn issuer_metadata(&self) -> IssuerMetadata {
        let c = &self.context.config;
        let en = |name: &str| Display {
            name: name.into(),
            locale: Some("en".into()),
            description: None,
            background_color: None,
            text_color: None,
        };
        let claims = described_claims()
            .into_iter()
            .map(|(path, name)| ClaimDescription {
                path,
                display: vec![en(&name)],
            })
            .collect();
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
        let c = &self.context.config;
        AuthorizationServerMetadata {
            issuer: c.public_url.clone(),
            token_endpoint: c.url("/token"),
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
        assert_eq!(did_web(&c).as_deref(), Ok("did:web:127.0.0.1%3A8080"));
        let c = Config::new("https://id.example.city/issuer").expect("config");
        assert_eq!(did_web(&c).as_deref(), Ok("did:web:id.example.city:issuer"));
    }
}
