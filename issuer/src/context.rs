//! [`Context`]: what every step of the issuer shares: the configuration, the durable state, the
//! clock, the key ring, the counters, and the audit log.

use std::sync::{Arc, RwLock, RwLockReadGuard};

use civic_credential::crypto::{Algorithm, JwsSigner, SigningKey};
use civic_service::SharedClock;

use crate::config::Config;
use crate::keys::{KeyError, KeyRing};
use crate::metrics::Metrics;
use crate::store::{AuditEvent, StorageError, Store, StoreResult};

/// The key ring cannot be used: a thread failed while rotating keys, or no key is active.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeysUnavailable {
    /// The key ring's lock was poisoned.
    #[error("the key ring is unavailable")]
    Poisoned,
    /// No active signing key (the key file lists only retired keys).
    #[error("no active signing key")]
    NoSigningKey,
}

/// Why the signing keys could not be rotated.
#[derive(Debug, thiserror::Error)]
pub enum RotationError {
    /// The key ring cannot be used.
    #[error(transparent)]
    Keys(#[from] KeysUnavailable),
    /// The new key file could not be written.
    #[error(transparent)]
    KeyFile(#[from] KeyError),
    /// The audit entry could not be stored.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// The shared parts of a running issuer.
pub struct Context {
    /// The configuration.
    pub config: Config,
    /// The durable state.
    pub store: Arc<dyn Store>,
    /// Where time comes from.
    pub clock: SharedClock,
    /// Counters for `/metrics`.
    pub metrics: Metrics,
    keys: RwLock<KeyRing>,
}

impl Context {
    /// Assembles the shared parts.
    pub fn new(config: Config, keys: KeyRing, store: Arc<dyn Store>, clock: SharedClock) -> Self {
        Context {
            config,
            store,
            clock,
            metrics: Metrics::default(),
            keys: RwLock::new(keys),
        }
    }

    /// Seconds since the epoch, from the clock.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// Read access to the key ring.
    pub fn keys(&self) -> Result<RwLockReadGuard<'_, KeyRing>, KeysUnavailable> {
        self.keys.read().map_err(|_| KeysUnavailable::Poisoned)
    }

    /// The algorithm credentials are signed with.
    pub fn credential_alg(&self) -> Algorithm {
        self.config.credential_algorithm()
    }

    /// Runs `sign` with the current credential signer (falling back to ES256).
    pub fn with_signer<T, E: From<KeysUnavailable>>(
        &self,
        sign: impl FnOnce(&SigningKey) -> Result<T, E>,
    ) -> Result<T, E> {
        let keys = self.keys()?;
        let signer = keys
            .signer(self.credential_alg())
            .or_else(|| keys.signer(Algorithm::Es256))
            .ok_or(KeysUnavailable::NoSigningKey)?;
        sign(signer)
    }

    /// The key id new credentials and status lists are signed under.
    pub fn signing_kid(&self) -> Result<String, KeysUnavailable> {
        self.with_signer(|s| Ok(s.key_id().unwrap_or_default().to_owned()))
    }

    /// Rotates the signing keys; new credentials and status lists use the new keys at once.
    pub fn rotate_keys(&self, actor: &str) -> Result<Vec<String>, RotationError> {
        let kids = {
            let mut keys = self.keys.write().map_err(|_| KeysUnavailable::Poisoned)?;
            keys.rotate(self.now())?
        };
        self.audit(actor, "key_rotated", None, kids.join(","))?;
        Ok(kids)
    }

    /// How long published keys must outlive their retirement: the longest a credential lives.
    pub fn max_validity_secs(&self) -> i64 {
        i64::from(self.config.credential_validity_days) * 86_400
            + i64::from(self.config.clock_skew_secs)
    }

    /// Appends to the audit log: who did what to whose record. No personal data beyond the
    /// register id goes in, and the application log gets the action only.
    pub fn audit(
        &self,
        actor: &str,
        action: &str,
        register_id: Option<&str>,
        detail: impl Into<String>,
    ) -> StoreResult<()> {
        let event = AuditEvent {
            at: self.now(),
            actor: actor.to_owned(),
            action: action.to_owned(),
            register_id: register_id.map(str::to_owned),
            detail: detail.into(),
        };
        // The application log names the action, never the resident (the audit log does).
        tracing::info!(actor, action, "audit");
        self.store.audit(&event)
    }
}
