//! [`Accounts`]: what a signed-in resident (or the agency) sees about one resident: the register
//! data, the passkeys (without keys) and the credentials (without personal data).

use std::sync::Arc;

use serde::Serialize;

use crate::context::Context;
use crate::issuance::{blocker, Blocker};
use civic_credential::status_list::Status;

use crate::store::{Resident, StorageError};

/// Why an account could not be shown.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// No resident with this register id.
    #[error("no such resident")]
    NoSuchResident,
    /// The store failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// A passkey as the resident sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PasskeySummary {
    /// Its credential id (base64url), to remove it by.
    pub id: String,
    /// Its label.
    pub name: String,
    /// When it was added.
    pub created: i64,
    /// When it last signed in.
    pub last_used: Option<i64>,
}

/// Where an issued credential stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialState {
    /// Valid and not expired.
    Valid,
    /// Past its expiry.
    Expired,
    /// Revoked for good.
    Revoked,
    /// Suspended.
    Suspended,
    /// A status this issuer does not set.
    Unknown,
}

/// An issued credential, without personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CredentialSummary {
    /// Its status list.
    pub status_list: u32,
    /// Its index there.
    pub idx: u32,
    /// When it was issued.
    pub issued_at: i64,
    /// When it expires.
    pub expires_at: i64,
    /// Where it stands.
    pub status: CredentialState,
}

/// One resident's account.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccountView {
    /// The register entry.
    pub resident: Resident,
    /// The passkeys.
    pub passkeys: Vec<PasskeySummary>,
    /// The credentials issued.
    pub credentials: Vec<CredentialSummary>,
    /// Whether a credential can be issued now.
    pub can_receive_credential: bool,
    /// Why not, if not.
    pub blocked_because: Option<String>,
    /// The same reason, for pages that word it in the resident's language.
    #[serde(skip)]
    pub blocker: Option<Blocker>,
}

impl AccountView {
    /// How many credentials are in `state`.
    pub fn count(&self, state: CredentialState) -> usize {
        self.credentials
            .iter()
            .filter(|c| c.status == state)
            .count()
    }
}

/// The agency's view: the account and the block on new issuance (1 revoked, 2 suspended).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgencyView {
    /// The account.
    #[serde(flatten)]
    pub account: AccountView,
    /// The block on new issuance, if any.
    pub block: Option<u8>,
}

/// Resident accounts.
pub struct Accounts {
    context: Arc<Context>,
}

impl Accounts {
    /// Accounts over the shared context.
    pub fn new(context: Arc<Context>) -> Self {
        Accounts { context }
    }

    /// The account of `register_id`.
    pub fn view(&self, register_id: &str) -> Result<AccountView, AccountError> {
        let store = &self.context.store;
        let resident = store
            .resident(register_id)?
            .ok_or(AccountError::NoSuchResident)?;
        let passkeys = store
            .passkeys(register_id)?
            .into_iter()
            .map(|p| PasskeySummary {
                id: p.credential_id,
                name: p.name,
                created: p.created,
                last_used: p.last_used,
            })
            .collect();
        let now = self.context.now();
        let credentials = store
            .credentials_of(register_id)?
            .iter()
            .map(|c| CredentialSummary {
                status_list: c.list,
                idx: c.idx,
                issued_at: c.iat,
                expires_at: c.exp,
                status: match Status::from(c.status) {
                    Status::Valid if c.exp <= now => CredentialState::Expired,
                    Status::Valid => CredentialState::Valid,
                    Status::Invalid => CredentialState::Revoked,
                    Status::Suspended => CredentialState::Suspended,
                    Status::Other(_) => CredentialState::Unknown,
                },
            })
            .collect();
        let blocked: Option<Blocker> = blocker(&self.context, &resident, now)?;
        Ok(AccountView {
            resident,
            passkeys,
            credentials,
            can_receive_credential: blocked.is_none(),
            blocked_because: blocked.map(|b| b.to_string()),
            blocker: blocked,
        })
    }

    /// The agency's view of `register_id`.
    pub fn agency_view(&self, register_id: &str) -> Result<AgencyView, AccountError> {
        let account = self.view(register_id)?;
        let block = self
            .context
            .store
            .resident_block(register_id)?
            .map(|b| b.value());
        Ok(AgencyView { account, block })
    }
}
