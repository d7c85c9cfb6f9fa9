//! Durable state of the issuer behind the [`Store`] trait. [`SledStore`] is the embedded default;
//! [`PgStore`] keeps the same state in PostgreSQL, for several issuer instances on one database.
//!
//! Every method that changes state is atomic (one sled transaction). Changes are durable once
//! [`Store::sync`] returns; the HTTP layer calls it after every request and before answering, and
//! the CLI before it exits, so no response or report is given for work that is not on disk.
//! Concurrent `sync` calls share one fsync (group commit).
//!
//! Storage failures (disk full, read-only file system) are errors, never panics: the HTTP layer
//! answers them with a 503 that says which. [`SledStore`] stops using its database on the first
//! I/O error and reopens it by itself once the disk can be written again.

mod pg_schema;
mod pg_store;
mod records;
mod sled_layout;
mod sled_store;
pub mod transfer;

pub use pg_schema::MIGRATIONS;
pub use pg_store::PgStore;
pub use records::*;
pub use sled_store::SledStore;

use civic_credential::status_list::Status;

pub use civic_storage::StorageError;

/// Shorthand for store results.
pub type StoreResult<T> = Result<T, StorageError>;

/// Short-lived, single-use objects, each in its own key space.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ephemeral {
    /// A WebAuthn ceremony in progress, keyed by its cookie.
    Ceremony,
    /// A resident's session, keyed by the hash of its cookie.
    Session,
    /// A credential offer, keyed by the hash of its pre-authorized code.
    PreAuthorizedCode,
    /// A credential offer served by reference, keyed by its random id.
    OfferById,
    /// An access token, keyed by its hash.
    AccessToken,
    /// A `c_nonce` handed out by the nonce endpoint.
    Nonce,
    /// A DPoP proof seen at the token or credential endpoint, keyed by the hash of its key's
    /// thumbprint and `jti`, until it is too old to be accepted anyway.
    DpopProof,
    /// A pushed authorization request, keyed by the hash of its `request_uri`.
    PushedRequest,
    /// An authorization code, keyed by its hash.
    AuthorizationCode,
    /// The `issuer_state` of an offer with the authorization code grant, keyed by its hash.
    IssuerState,
    /// A refresh token, keyed by its hash.
    RefreshToken,
    /// A client attestation PoP seen, keyed by the hash of its client and `jti`.
    AttestationPop,
    /// An offer used by one of its grants, keyed by the hash of its id: the other grant then
    /// finds it used, even when both are tried at once.
    OfferUsed,
}

impl Ephemeral {
    /// Every kind.
    pub const ALL: [Ephemeral; 13] = [
        Ephemeral::Ceremony,
        Ephemeral::Session,
        Ephemeral::PreAuthorizedCode,
        Ephemeral::OfferById,
        Ephemeral::AccessToken,
        Ephemeral::Nonce,
        Ephemeral::DpopProof,
        Ephemeral::PushedRequest,
        Ephemeral::AuthorizationCode,
        Ephemeral::IssuerState,
        Ephemeral::RefreshToken,
        Ephemeral::AttestationPop,
        Ephemeral::OfferUsed,
    ];

    /// The key prefix of this kind.
    pub(crate) fn prefix(self) -> &'static str {
        match self {
            Ephemeral::Ceremony => "e/cer/",
            Ephemeral::Session => "e/ses/",
            Ephemeral::PreAuthorizedCode => "e/pre/",
            Ephemeral::OfferById => "e/off/",
            Ephemeral::AccessToken => "e/tok/",
            Ephemeral::Nonce => "e/non/",
            Ephemeral::DpopProof => "e/dpp/",
            Ephemeral::PushedRequest => "e/par/",
            Ephemeral::AuthorizationCode => "e/cod/",
            Ephemeral::IssuerState => "e/ist/",
            Ephemeral::RefreshToken => "e/rft/",
            Ephemeral::AttestationPop => "e/cap/",
            Ephemeral::OfferUsed => "e/ofu/",
        }
    }
}

/// The issuer's state. Implementations must make each call atomic, and every change before a
/// [`Store::sync`] durable when it returns.
pub trait Store: Send + Sync {
    /// Makes every change made so far durable (concurrent callers share one flush).
    fn sync(&self) -> StoreResult<()>;

    // ---- residents -----------------------------------------------------------------------
    /// One resident by register id.
    fn resident(&self, register_id: &str) -> StoreResult<Option<Resident>>;
    /// Inserts or updates a resident from the register, and says what changed.
    fn upsert_resident(&self, resident: &Resident) -> StoreResult<Upsert>;
    /// All register ids that are currently on the register (not removed).
    fn active_register_ids(&self) -> StoreResult<Vec<String>>;
    /// Residents whose register id starts with `prefix`, at most `limit`.
    fn search_residents(&self, prefix: &str, limit: usize) -> StoreResult<Vec<Resident>>;
    /// Marks a resident as no longer on the register.
    fn mark_removed(&self, register_id: &str, now: i64) -> StoreResult<()>;

    // ---- enrollment codes ----------------------------------------------------------------
    /// Stores a new code; `false` if its lookup id is already taken by a live code.
    fn insert_code(&self, code: &EnrollmentCode, now: i64) -> StoreResult<bool>;
    /// Checks a code's secret, counting a wrong try and locking after [`MAX_CODE_TRIES`].
    fn check_code(&self, code_id: &str, secret_hash: &[u8; 32], now: i64)
        -> StoreResult<CodeCheck>;

    // ---- passkeys --------------------------------------------------------------------------
    /// The resident's passkeys.
    fn passkeys(&self, register_id: &str) -> StoreResult<Vec<StoredPasskey>>;
    /// Adds a passkey; when `consume_code` is given, that code is used up in the same
    /// transaction (enrollment). Fails with `Ok(false)` if the code is no longer valid.
    fn add_passkey(
        &self,
        register_id: &str,
        passkey: &StoredPasskey,
        consume_code: Option<&str>,
        now: i64,
    ) -> StoreResult<bool>;
    /// Replaces a stored passkey (after its counter or backup state changed).
    fn update_passkey(&self, register_id: &str, passkey: &StoredPasskey) -> StoreResult<()>;
    /// Removes a passkey by credential id; `false` if it was not found.
    fn remove_passkey(&self, register_id: &str, credential_id: &str) -> StoreResult<bool>;
    /// Which resident a passkey credential id belongs to.
    fn passkey_owner(&self, credential_id: &str) -> StoreResult<Option<String>>;

    // ---- ephemeral single-use objects -------------------------------------------------------
    /// Stores `value` under `key` until `expires`.
    fn put_ephemeral(
        &self,
        kind: Ephemeral,
        key: &str,
        value: &[u8],
        expires: i64,
    ) -> StoreResult<()>;
    /// Reads a live object without consuming it.
    fn get_ephemeral(&self, kind: Ephemeral, key: &str, now: i64) -> StoreResult<Option<Vec<u8>>>;
    /// Stores an empty marker under `key` until `expires` unless a live one is there: `true` for
    /// exactly one of several callers with the same key (the first), `false` for the rest.
    fn claim_ephemeral(
        &self,
        kind: Ephemeral,
        key: &str,
        expires: i64,
        now: i64,
    ) -> StoreResult<bool>;
    /// Removes and returns a live object: exactly one caller gets it.
    fn take_ephemeral(&self, kind: Ephemeral, key: &str, now: i64) -> StoreResult<Option<Vec<u8>>>;
    /// Deletes expired objects; returns how many.
    fn purge_expired(&self, now: i64) -> StoreResult<usize>;
    /// Ends every session of `register_id` except the one stored under `keep` (the hash of its
    /// cookie); returns how many ended.
    fn end_sessions_of(&self, register_id: &str, keep: Option<&str>) -> StoreResult<usize>;

    // ---- credentials and status lists -----------------------------------------------------
    /// Atomically checks that the resident may receive credentials, consumes `nonce`, allocates
    /// one fresh random status index per holder key (never reused), and records the credentials.
    fn allocate_credentials(&self, batch: &NewBatch, now: i64) -> StoreResult<Allocation>;
    /// The credentials issued to a resident.
    fn credentials_of(&self, register_id: &str) -> StoreResult<Vec<CredentialRecord>>;
    /// Sets the status of a resident's credentials and of the lists they are in: `Revoked`
    /// revokes every credential and blocks new ones; `Suspended` suspends valid ones and blocks new
    /// ones; `Valid` lifts a suspension. Revocation is final. With `block` false, a revocation
    /// leaves new issuance allowed (the register changed, not the agency's judgement).
    /// Returns how many credentials changed.
    fn set_resident_status(
        &self,
        register_id: &str,
        status: Status,
        block: bool,
    ) -> StoreResult<usize>;
    /// The block on new issuance set by a revocation or suspension, if any.
    fn resident_block(&self, register_id: &str) -> StoreResult<Option<Status>>;
    /// A status list, with its version (bumped on each change).
    fn status_list(&self, list: u32) -> StoreResult<Option<StoredStatusList>>;
    /// Every issued credential's (list, idx), for consistency checks.
    fn all_status_indexes(&self) -> StoreResult<Vec<(u32, u32)>>;

    // ---- platforms, admin tokens, audit ------------------------------------------------------
    /// Registers or renames a platform.
    fn put_platform(&self, platform: &Platform) -> StoreResult<()>;
    /// All registered platforms.
    fn platforms(&self) -> StoreResult<Vec<Platform>>;
    /// Stores an admin token hash.
    fn put_admin_token(&self, token: &AdminToken) -> StoreResult<()>;
    /// The admin token with this hash, if any.
    fn admin_token(&self, hash_hex: &str) -> StoreResult<Option<AdminToken>>;
    /// Appends an audit event.
    fn audit(&self, event: &AuditEvent) -> StoreResult<()>;
    /// Audit events with sequence number greater than `after`, oldest first.
    fn audit_log(&self, after: u64, limit: usize) -> StoreResult<Vec<(u64, AuditEvent)>>;
    /// Checks that the database could take writes now (open, not failed or stalled, room on
    /// the disk), without writing anything.
    fn health(&self) -> StoreResult<()>;
    /// Changes whenever the store reopened its database after a storage failure, dropping changes
    /// that had not reached the disk (such as a status list version seen but never saved). Caches
    /// of stored data must be keyed by it.
    fn generation(&self) -> u64 {
        0
    }
}

/// Whether setting a credential of status `current` to `target` changes it: revocation is
/// final, a suspension applies to valid credentials only, and only a suspension is lifted.
pub(crate) fn status_changes(current: u8, target: Status) -> bool {
    match target {
        Status::Invalid => current != Status::Invalid.value(),
        Status::Suspended => current == Status::Valid.value(),
        _ => current == Status::Suspended.value(),
    }
}

impl EnrollmentCode {
    /// Whether the code can still be used: not used, not locked, not expired. A new code may
    /// not take the lookup id of a live one.
    pub(crate) fn is_live(&self, now: i64) -> bool {
        !self.used && self.wrong_tries < MAX_CODE_TRIES && self.expires > now
    }

    /// Whether enrolling `register_id`'s passkey may use up this code now.
    pub(crate) fn can_enroll(&self, register_id: &str, now: i64) -> bool {
        self.is_live(now) && self.register_id == register_id
    }

    /// Checks `secret_hash` against the code, counting a wrong try in `self` (which the store
    /// then writes back: the second value says whether it changed).
    pub(crate) fn check(&mut self, secret_hash: &[u8; 32], now: i64) -> (CodeCheck, bool) {
        if self.used {
            return (CodeCheck::Used, false);
        }
        if self.wrong_tries >= MAX_CODE_TRIES {
            return (CodeCheck::Locked, false);
        }
        if !crate::secrets::ct_eq(&self.secret_hash, secret_hash) {
            self.wrong_tries += 1;
            let check = match MAX_CODE_TRIES - self.wrong_tries {
                0 => CodeCheck::Locked,
                tries_left => CodeCheck::Wrong { tries_left },
            };
            return (check, true);
        }
        if self.expires <= now {
            return (CodeCheck::Expired, false);
        }
        let register_id = self.register_id.clone();
        (CodeCheck::Valid { register_id }, false)
    }
}

impl Upsert {
    /// What storing register entry `new` over the stored `old` (if any) changes.
    pub(crate) fn of(old: Option<&Resident>, new: &Resident) -> Upsert {
        match old {
            None => Upsert::Created,
            Some(o) if o.same_register_data(new) && o.removed_at.is_none() => Upsert::Unchanged,
            Some(o) => Upsert::Updated {
                reissue: o.reissue_for(new),
            },
        }
    }
}

/// Wrong tries after which an enrollment code locks.
pub const MAX_CODE_TRIES: u32 = 5;
