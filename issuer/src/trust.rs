//! [`TrustMaterial`]: what the issuer publishes for wallets and verifiers: the did:web document,
//! SD-JWT VC issuer metadata (`jwt-vc-issuer`), OID4VCI credential issuer metadata and OAuth
//! authorization server metadata. The formats are `civic-credential`'s; the DID document is built
//! by `civic_service::did_document` (ssi's DID document types).

use std::collections::BTreeMap;
use std::sync::Arc;

use civic_credential::crypto::JwsSigner;
use civic_credential::did_web::{self, Purpose};
use civic_credential::jwe::{Enc, ECDH_ES};
use civic_credential::jwk::Jwk;
use civic_credential::oid4vci::authorization::{
    AUTHORIZATION_CODE_GRANT, PKCE_S256, REFRESH_TOKEN_GRANT,
};
use civic_credential::oid4vci::metadata::{
    BatchIssuance, ClaimDescription, CredentialMetadata, Display, ProofType,
    ResponseEncryptionMetadata,
};
use civic_credential::oid4vci::{
    AuthorizationServerMetadata, CredentialConfiguration, IssuerMetadata, FORMAT_SD_JWT_VC,
    PRE_AUTHORIZED_GRANT,
};
use civic_credential::residency::labels::described_claims;
use civic_credential::sd_jwt_vc::issuer_metadata::IssuerMetadata as JwtVcIssuerMetadata;

use civic_service::did_document::{self, DidDocumentError, PublishedKey};

use civic_credential::oid4vci::attestation::AUTH_METHOD;

use crate::config::{AttestationPolicy, Config};
use crate::context::Context;
use crate::issuance::authorize::RESIDENCY_SCOPE;
use crate::issuance::dpop::DPOP_ALGS;
use crate::issuance::RESIDENCY_CONFIGURATION;

/// The issuer's did:web: `did:web:<host>[%3A<port>][:<path>]` for its public URL.
pub fn did_web(config: &Config) -> Result<String, did_web::DidError> {
    did_web::did_for_url(&config.public_url)
}

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
    /// methods (`JsonWebKey2020`, `did#<kid>`), with the public URL as `alsoKnownAs`.
    pub fn did_document(&self) -> Result<serde_json::Value, DidDocumentError> {
        let did = did_web(&self.context.config).map_err(|e| DidDocumentError(e.to_string()))?;
        let keys = self.published_keys();
        let published: Vec<PublishedKey<'_>> = keys
            .iter()
            .map(|jwk| PublishedKey {
                fragment: jwk.kid.as_deref().unwrap_or_default(),
                jwk,
                purposes: &[Purpose::Assertion],
            })
            .collect();
        did_document::build(&did, Some(&self.context.config.public_url), &published)
    }

    /// `/.well-known/jwt-vc-issuer`.
    pub fn jwt_vc_issuer(&self) -> JwtVcIssuerMetadata {
        JwtVcIssuerMetadata::new(&self.context.config.public_url, &self.published_keys())
    }

    /// `/.well-known/openid-credential-issuer` as a signed JWT, when the signing key has a
    /// certificate (`signing_certificate`); `None` otherwise, or when signing fails (logged).
    pub fn signed_issuer_metadata(&self) -> Option<String> {
        let metadata = self.issuer_metadata();
        let now = self.context.now();
        let signed = self.context.with_signer(|signer| {
            Ok::<_, crate::context::KeysUnavailable>(signer.x5c().map(|_| {
                metadata
                    .to_signed_jwt(now, signer)
                    .map_err(|e| e.to_string())
            }))
        });
        match signed
            .map_err(|e| e.to_string())
            .and_then(Option::transpose)
        {
            Ok(jwt) => jwt,
            Err(e) => {
                tracing::error!(error = %e, "signed issuer metadata");
                None
            }
        }
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
            scope: Some(RESIDENCY_SCOPE.into()),
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
            credential_response_encryption: Some(ResponseEncryptionMetadata {
                alg_values_supported: vec![ECDH_ES.into()],
                enc_values_supported: Enc::ALL.iter().map(|e| e.name().to_owned()).collect(),
                encryption_required: false,
            }),
        }
    }

    /// `/.well-known/oauth-authorization-server`.
    pub fn authorization_server_metadata(&self) -> AuthorizationServerMetadata {
        let c = &self.context.config;
        AuthorizationServerMetadata {
            issuer: c.public_url.clone(),
            token_endpoint: c.url("/token"),
            authorization_endpoint: Some(c.url("/authorize")),
            pushed_authorization_request_endpoint: Some(c.url("/par")),
            require_pushed_authorization_requests: Some(true),
            code_challenge_methods_supported: vec![PKCE_S256.into()],
            authorization_response_iss_parameter_supported: Some(true),
            scopes_supported: vec![RESIDENCY_SCOPE.into()],
            grant_types_supported: vec![
                AUTHORIZATION_CODE_GRANT.into(),
                REFRESH_TOKEN_GRANT.into(),
                PRE_AUTHORIZED_GRANT.into(),
            ],
            pre_authorized_grant_anonymous_access_supported: Some(true),
            response_types_supported: vec!["code".into()],
            token_endpoint_auth_methods_supported: match (
                c.client_attestation,
                c.wallet_provider_anchor_der.is_empty(),
            ) {
                (AttestationPolicy::Required, _) => vec![AUTH_METHOD.into()],
                (AttestationPolicy::Optional, false) => vec![AUTH_METHOD.into(), "none".into()],
                (AttestationPolicy::Optional, true) => vec!["none".into()],
            },
            dpop_signing_alg_values_supported: DPOP_ALGS.map(str::to_owned).to_vec(),
            civic_wallet_provider_endpoint: c
                .wallet_provider_pem
                .as_ref()
                .map(|_| c.url("/wallet-provider")),
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
