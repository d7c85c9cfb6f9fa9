//! The records the issuer stores. All are serialised as JSON values in the store.

use serde::{Deserialize, Serialize};

use civic_credential::residency::{Address, Residence};

/// A resident as held in the register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resident {
    /// The agency's register id.
    pub register_id: String,
    /// Given name.
    pub given_name: String,
    /// Family name.
    pub family_name: String,
    /// `YYYY-MM-DD`.
    pub birthdate: String,
    /// Home address.
    pub address: Address,
    /// Municipality and district.
    pub residence: Residence,
    /// `YYYY-MM-DD`.
    pub resident_since: String,
    /// `YYYY-MM-DD`: the last day the registration is valid.
    pub valid_until: String,
    /// When the resident left the register (seconds since the epoch), if they did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed_at: Option<i64>,
}

impl Resident {
    /// The register fields only, for change detection.
    pub fn same_register_data(&self, other: &Resident) -> bool {
        let mut a = self.clone();
        let mut b = other.clone();
        a.removed_at = None;
        b.removed_at = None;
        a == b
    }

    /// Whether credentials issued from `self` are still right once the register says `new`.
    pub fn reissue_for(&self, new: &Resident) -> Reissue {
        if self.residence.municipality_code != new.residence.municipality_code {
            return Reissue::Moved;
        }
        let claims_changed = self.given_name != new.given_name
            || self.family_name != new.family_name
            || self.birthdate != new.birthdate
            || self.address != new.address
            || self.residence != new.residence
            || self.resident_since != new.resident_since;
        if claims_changed {
            return Reissue::ClaimsChanged;
        }
        // `YYYY-MM-DD` dates compare as text.
        if new.valid_until < self.valid_until {
            return Reissue::ValidityShortened;
        }
        Reissue::NotNeeded
    }
}

/// How a change in the register affects the resident's credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reissue {
    /// Nothing the credentials say changed (a longer registration, for instance).
    NotNeeded,
    /// The resident moved to another municipality.
    Moved,
    /// A claim the credentials disclose changed (name, birthdate, address, district, …).
    ClaimsChanged,
    /// The registration now ends before the credentials would.
    ValidityShortened,
}

impl Reissue {
    /// Whether the old credentials must be revoked (the resident can fetch new ones).
    pub fn revokes(self) -> bool {
        self != Reissue::NotNeeded
    }
}

/// What an upsert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upsert {
    /// A new resident.
    Created,
    /// Changed data, and what that means for the resident's credentials.
    Updated {
        /// Whether (and why) the credentials must be replaced.
        reissue: Reissue,
    },
    /// Same data as stored.
    Unchanged,
}

/// A one-time enrollment code, stored by lookup id with its secret hashed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollmentCode {
    /// The public lookup part of the code.
    pub code_id: String,
    /// SHA-256 of the secret part.
    pub secret_hash: [u8; 32],
    /// Whose code it is.
    pub register_id: String,
    /// Expiry, seconds since the epoch.
    pub expires: i64,
    /// Wrong tries so far.
    pub wrong_tries: u32,
    /// Set once a passkey was enrolled with it.
    pub used: bool,
}

/// The result of checking a code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeCheck {
    /// The code is right and still usable.
    Valid {
        /// The resident it belongs to.
        register_id: String,
    },
    /// The secret is wrong; `tries_left` before it locks.
    Wrong {
        /// Tries left.
        tries_left: u32,
    },
    /// Locked after too many wrong tries.
    Locked,
    /// Expired.
    Expired,
    /// Already used.
    Used,
    /// No such code.
    Unknown,
}

/// A resident's passkey.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredPasskey {
    /// base64url credential id.
    pub credential_id: String,
    /// A label the resident sees.
    pub name: String,
    /// When it was added.
    pub created: i64,
    /// When it was last used to sign in.
    #[serde(default)]
    pub last_used: Option<i64>,
    /// webauthn-rs's passkey (public key, counter, backup state).
    pub passkey: webauthn_rs::prelude::Passkey,
}

/// A batch of credentials to record before signing.
#[derive(Debug, Clone)]
pub struct NewBatch {
    /// The resident.
    pub register_id: String,
    /// The `c_nonce` the proofs carried and its expiry. It is recorded as spent atomically with
    /// the allocation, and a nonce already spent refuses the batch.
    pub nonce: Option<(String, i64)>,

    /// The signing key id.
    pub kid: String,
    /// Issued at.
    pub iat: i64,
    /// Expiry.
    pub exp: i64,
    /// One JWK thumbprint per copy.
    pub holder_thumbprints: Vec<String>,
    /// Statuses per list.
    pub list_size: u32,
}

/// An issued credential, as recorded (no personal data beyond the register id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialRecord {
    /// Status list number.
    pub list: u32,
    /// Index in that list.
    pub idx: u32,
    /// The resident.
    pub register_id: String,
    /// Signing key id.
    pub kid: String,
    /// Issued at.
    pub iat: i64,
    /// Expiry.
    pub exp: i64,
    /// The holder key's thumbprint.
    pub holder_thumbprint: String,
    /// 0 valid, 1 revoked, 2 suspended.
    pub status: u8,
}

/// A status list as read from the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredStatusList {
    /// Bits per status (2).
    pub bits: u8,
    /// Number of statuses.
    pub size: u32,
    /// How many indexes are allocated.
    pub allocated: u32,
    /// Bumped on every change, for caches.
    pub version: u64,
    /// The packed statuses.
    pub bytes: Vec<u8>,
}

/// A civic platform that gets pairwise pseudonyms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Platform {
    /// Its identifier (a URL), also the key in `pseudonyms`.
    pub id: String,
    /// Its name.
    pub name: String,
    /// When it was registered.
    pub created: i64,
}

/// An admin API token, stored hashed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminToken {
    /// Hex SHA-256 of the token.
    pub hash_hex: String,
    /// Who it is for.
    pub name: String,
    /// When it was made.
    pub created: i64,
}

/// One audit log entry. It names a register id at most, never personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// When.
    pub at: i64,
    /// Who: `resident`, `admin:<name>`, `cli`, `wallet`.
    pub actor: String,
    /// What: `enrolled`, `issued`, `revoked`, …
    pub action: String,
    /// Whose record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub register_id: Option<String>,
    /// Non-personal detail (counts, key ids, list indexes).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

/// The outcome of [`super::Store::allocate_credentials`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Allocation {
    /// The credentials were recorded.
    Allocated(Vec<CredentialRecord>),
    /// The nonce was unknown, expired or already used.
    NonceInvalid,
    /// The resident may not receive credentials (removed, revoked, suspended, or unknown).
    Denied(Blocker),
}

/// Why a resident may not receive a credential now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Blocker {
    /// Not on the register at all.
    #[error("not on the register")]
    NotOnRegister,
    /// Removed from the register.
    #[error("no longer on the register")]
    LeftRegister,
    /// The agency revoked or suspended the resident's credentials.
    #[error("credentials are revoked or suspended")]
    RevokedOrSuspended,
    /// The registration's `valid_until` has passed.
    #[error("the registration has expired")]
    RegistrationExpired,
    /// The register entry lacks what a credential needs.
    #[error("the register entry is incomplete")]
    IncompleteEntry,
}
