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
    /// Which credentials answer together, and the alternatives (§6.2); none means every
    /// credential query must be answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_sets: Option<Vec<CredentialSetQuery>>,
}

/// One entry of `credential_sets`: options, each a list of credential query ids that answer
/// together, in the verifier's order of preference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialSetQuery {
    /// The alternatives.
    pub options: Vec<Vec<String>>,
    /// Whether the wallet must answer this set (the default).
    #[serde(default = "yes", skip_serializing_if = "Clone::clone")]
    pub required: bool,
}

fn yes() -> bool {
    true
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
    /// Alternative sets of claims (ids of `claims`), in the verifier's order of preference;
    /// none means all of `claims`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim_sets: Option<Vec<Vec<String>>>,
    /// Key binding required (the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_cryptographic_holder_binding: Option<bool>,
    /// The authorities that must have certified the issuer (§6.1.1): an array of
    /// `{"type", "values"}` ([`trusted_authorities`] makes one); none means any. Kept as JSON
    /// and read by [`CredentialQuery::accepts_authorities`]: typed decoding of it cost the
    /// browser wallet 2 KB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trusted_authorities: Option<Value>,
}

/// The `type` of a trusted authority named by the key identifier of a certificate
/// authority (§6.1.1.1; HAIP 1.0 asks for it).
pub const AKI: &str = "aki";

/// A `trusted_authorities` value of one entry of type `kind` (`aki`, `etsi_tl`,
/// `openid_federation`) with `values` (for `aki`: base64url `keyIdentifier`s, one of which must
/// be the `authorityKeyIdentifier` of a certificate in the credential's `x5c` chain).
pub fn trusted_authorities(kind: &str, values: &[String]) -> Value {
    serde_json::json!([{ "type": kind, "values": values }])
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
                claim_sets: None,
                trusted_authorities: None,
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
            if let Some(sets) = &c.claim_sets {
                let known = |id: &String| claims.iter().any(|q| q.id.as_ref() == Some(id));
                if sets.is_empty()
                    || sets.len() > MAX_CLAIMS
                    || sets
                        .iter()
                        .any(|set| set.is_empty() || !set.iter().all(known))
                {
                    return Err(Error::InvalidClaim("dcql_query claim_sets"));
                }
            }
        }
        if let Some(sets) = &self.credential_sets {
            let bad = sets.is_empty()
                || sets.len() > MAX_CREDENTIALS
                || sets.iter().any(|set| {
                    set.options.is_empty()
                        || set.options.len() > MAX_CREDENTIALS
                        || set
                            .options
                            .iter()
                            .any(|o| o.is_empty() || !o.iter().all(|id| ids.contains(id.as_str())))
                });
            if bad {
                return Err(Error::InvalidClaim("dcql_query credential_sets"));
            }
        }
        Ok(())
    }

    /// The ways to answer with one credential, in the verifier's order of preference: each a
    /// credential query and the claims to disclose for it (all its claims, or one of its
    /// `claim_sets`). Without `credential_sets` the query must ask for one credential; with
    /// them, an option of a single query that meets every required set. An error says the
    /// query needs several credentials at once.
    pub fn one_credential_answers(&self) -> Result<Vec<(&CredentialQuery, Vec<&ClaimsQuery>)>> {
        let several = Error::InvalidClaim("the query asks for several credentials at once");
        let ids: Vec<&str> = match &self.credential_sets {
            None => match self.credentials.as_slice() {
                [only] => vec![only.id.as_str()],
                _ => return Err(several),
            },
            Some(sets) => {
                let required: Vec<&CredentialSetQuery> =
                    sets.iter().filter(|s| s.required).collect();
                let ids: Vec<&str> = match required.split_first() {
                    // Nothing required: any single-credential option, in order.
                    None => sets.iter().flat_map(single_query_options).collect(),
                    // One credential meets every required set.
                    Some((first, rest)) => single_query_options(first)
                        .into_iter()
                        .filter(|id| rest.iter().all(|s| single_query_options(s).contains(id)))
                        .collect(),
                };
                if ids.is_empty() {
                    return Err(several);
                }
                ids
            }
        };
        let mut out = Vec::new();
        for id in ids {
            let Some(query) = self.credentials.iter().find(|c| c.id == id) else {
                continue;
            };
            let claims = query.claims.as_deref().unwrap_or_default();
            match &query.claim_sets {
                None => out.push((query, claims.iter().collect())),
                Some(sets) => {
                    for set in sets {
                        let chosen = set
                            .iter()
                            .filter_map(|cid| claims.iter().find(|q| q.id.as_ref() == Some(cid)))
                            .collect();
                        out.push((query, chosen));
                    }
                }
            }
        }
        Ok(out)
    }
}

/// The options of `set` that need one credential: their query ids.
fn single_query_options(set: &CredentialSetQuery) -> Vec<&str> {
    set.options
        .iter()
        .filter_map(|o| match o.as_slice() {
            [id] => Some(id.as_str()),
            _ => None,
        })
        .collect()
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

    /// Whether a credential whose `x5c` chain carries the `authorityKeyIdentifier`s `akis`
    /// (base64url; read only when the query has `trusted_authorities`) meets them: one `aki` entry must name one of them. Entries
    /// of other types name trust frameworks a browser wallet cannot evaluate; a query with only
    /// those is not narrowed here (the verifier still checks what it receives).
    pub fn accepts_authorities(&self, akis: impl FnOnce() -> Vec<String>) -> bool {
        let Some(list) = self.trusted_authorities.as_ref().and_then(Value::as_array) else {
            return true;
        };
        let mut aki = list
            .iter()
            .filter(|t| t.get("type").and_then(Value::as_str) == Some(AKI))
            .filter_map(|t| t.get("values").and_then(Value::as_array))
            .peekable();
        if aki.peek().is_none() {
            return true;
        }
        let akis = akis();
        aki.flatten()
            .any(|v| v.as_str().is_some_and(|v| akis.iter().any(|a| a == v)))
    }

    /// Whether a credential of type `vct` may answer.
    pub fn accepts_vct(&self, vct: &str) -> bool {
        self.meta
            .as_ref()
            .is_none_or(|m| m.vct_values.is_empty() || m.vct_values.iter().any(|v| v == vct))
    }
}
