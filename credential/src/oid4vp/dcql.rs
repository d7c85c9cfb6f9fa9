//! DCQL, the Digital Credentials Query Language of OID4VP 1.0 (§6), for SD-JWT VC queries.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::sd_jwt::ClaimPath;

/// Most credential queries in one request.
const MAX_CREDENTIALS: usize = 16;
/// Most claims queries per credential query.
const MAX_CLAIMS: usize = 64;

/// A DCQL query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DcqlQuery {
    /// The credentials asked for.
    pub credentials: Vec<CredentialQuery>,
    /// Alternatives between credentials (not used by civic-id; kept when parsing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_sets: Option<Value>,
}

/// One credential asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CredentialQuery {
    /// Identifies the credential in the `vp_token`.
    pub id: String,
    /// `dc+sd-jwt`.
    pub format: String,
    /// Whether several credentials may answer.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub multiple: bool,
    /// Format-specific constraints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<DcqlMeta>,
    /// The claims asked for; none means the whole credential.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims: Option<Vec<ClaimsQuery>>,
    /// Key binding required (the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_cryptographic_holder_binding: Option<bool>,
}

/// `meta` for SD-JWT VC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DcqlMeta {
    /// Accepted credential types.
    #[serde(default)]
    pub vct_values: Vec<String>,
}

/// One claim asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimsQuery {
    /// Identifier for `claim_sets`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Where the claim is.
    pub path: ClaimPath,
    /// Acceptable values, if constrained.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<Value>>,
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl DcqlQuery {
    /// A query for one SD-JWT VC of type `vct` with exactly `paths` disclosed.
    pub fn sd_jwt_vc(id: &str, vct: &[String], paths: &[ClaimPath]) -> Self {
        DcqlQuery {
            credentials: vec![CredentialQuery {
                id: id.to_owned(),
                format: crate::oid4vci::FORMAT_SD_JWT_VC.to_owned(),
                multiple: false,
                meta: Some(DcqlMeta {
                    vct_values: vct.to_vec(),
                }),
                claims: Some(
                    paths
                        .iter()
                        .map(|p| ClaimsQuery {
                            id: None,
                            path: p.clone(),
                            values: None,
                        })
                        .collect(),
                ),
                require_cryptographic_holder_binding: None,
            }],
            credential_sets: None,
        }
    }

    /// Checks ids, sizes and paths.
    pub fn validate(&self) -> Result<()> {
        if self.credentials.is_empty() || self.credentials.len() > MAX_CREDENTIALS {
            return Err(Error::InvalidClaim("dcql_query.credentials"));
        }
        let mut ids = std::collections::BTreeSet::new();
        for c in &self.credentials {
            if !valid_id(&c.id) || !ids.insert(c.id.as_str()) {
                return Err(Error::InvalidClaim("dcql_query credential id"));
            }
            let claims = c.claims.as_deref().unwrap_or_default();
            if claims.len() > MAX_CLAIMS || claims.iter().any(|q| q.path.0.is_empty()) {
                return Err(Error::InvalidClaim("dcql_query claims"));
            }
        }
        Ok(())
    }
}

impl CredentialQuery {
    /// The claim paths asked for.
    pub fn requested_paths(&self) -> Vec<ClaimPath> {
        self.claims
            .iter()
            .flatten()
            .map(|q| q.path.clone())
            .collect()
    }

    /// Whether a credential of type `vct` may answer.
    pub fn accepts_vct(&self, vct: &str) -> bool {
        self.meta
            .as_ref()
            .is_none_or(|m| m.vct_values.is_empty() || m.vct_values.iter().any(|v| v == vct))
    }
}
