//! [`Eligibility`]: everything a platform learns from a check, and nothing more.

use serde::{Deserialize, Serialize};

use crate::policy::Predicate;

/// The result of an accepted presentation. It holds no name, birthdate or address: only the
/// evaluated rules, the platform's pseudonym (when the policy asks for it), the issuer and when
/// the credential expires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Eligibility {
    /// Every rule held.
    pub eligible: bool,
    /// Each rule and whether it held.
    pub predicates: Vec<Predicate>,
    /// The resident's pairwise pseudonym for this platform.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pseudonym: Option<String>,
    /// The issuer.
    pub issuer: String,
    /// When the credential expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_expires_at: Option<i64>,
    /// The wallet disclosed claims the policy did not ask for (they were dropped unread).
    pub over_disclosed: bool,
    /// Whether the status list was checked (false only when configured to fail open and the
    /// list was unavailable).
    pub status_checked: bool,
}
