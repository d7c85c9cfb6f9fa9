//! [`Issuer`]: the service object that handlers share. It owns the configuration, the key ring,
//! the store and the WebAuthn relying party, and is the only way the HTTP layer and the CLI reach
//! them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};

use webauthn_rs::{Webauthn, WebauthnBuilder};

use civic_credential::crypto::{Algorithm, SigningKey};

use crate::config::Config;
use crate::error::ApiError;
use crate::keys::KeyRing;
use crate::metrics::Metrics;
use crate::nonce::NonceKey;

use crate::store::{AuditEvent, SledStore, Store, StoreError};

/// Why the issuer could not start.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// Configuration problem.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// Key ring problem.
    #[error(transparent)]
    Keys(#[from] crate::keys::KeyError),
    /// Storage problem.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// WebAuthn relying party settings rejected.
    #[error("WebAuthn relying party: {0}")]
    WebAuthn(String),
}

/// The running issuer.
pub struct Issuer {
    /// The configuration.
    pub config: Config,
    /// The durable state.
    pub store: Arc<dyn Store>,
    /// The WebAuthn relying party.
    pub webauthn: Webauthn,
    /// Counters for `/metrics`.
    pub metrics: Metrics,
    /// Mints and checks the OID4VCI `c_nonce` values (stateless, see [`crate::nonce`]).
    pub(crate) nonces: NonceKey,
    keys: RwLock<KeyRing>,
    data_dir: PathBuf,
    /// Signed status list tokens by list: (store generation, list version, iat, token).
    pub(crate) status_cache: Mutex<HashMap<u32, (u64, u64, i64, String)>>,
}

/// Seconds since the epoch.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl Issuer {
    /// Opens the data directory made by `civic-issuer init`.
    pub fn open(data_dir: &Path) -> Result<Self, OpenError> {
        let config = Config::load(data_dir)?;
        let keys = KeyRing::load(data_dir)?;
        let store = SledStore::open(&data_dir.join("db"), config.storage_options())?;
        Self::with_parts(data_dir, config, keys, Arc::new(store))
    }

    /// Assembles an issuer from loaded parts.
    pub fn with_parts(
        data_dir: &Path,
        config: Config,
        keys: KeyRing,
        store: Arc<dyn Store>,
    ) -> Result<Self, OpenError> {
        let origin =
            url::Url::parse(&config.origin()).map_err(|e| OpenError::WebAuthn(e.to_string()))?;
        let webauthn = WebauthnBuilder::new(&config.rp_id, &origin)
            .and_then(|b| b.rp_name(&config.agency_name).build())
            .map_err(|e| OpenError::WebAuthn(e.to_string()))?;
        Ok(Issuer {
            config,
            store,
            webauthn,
            metrics: Metrics::default(),
            nonces: NonceKey::derive(keys.pseudonym_secret()),

            keys: RwLock::new(keys),
            data_dir: data_dir.to_owned(),
            status_cache: Mutex::new(HashMap::new()),
        })
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Read access to the key ring.
    pub fn keys(&self) -> Result<RwLockReadGuard<'_, KeyRing>, ApiError> {
        self.keys
            .read()
            .map_err(|_| ApiError::new(503, "temporarily_unavailable", "key ring unavailable"))
    }

    /// The algorithm credentials are signed with.
    pub fn credential_alg(&self) -> Algorithm {
        match self.config.credential_alg.as_str() {
            "EdDSA" => Algorithm::EdDsa,
            _ => Algorithm::Es256,
        }
    }

    /// Runs `f` with the current credential signer.
    pub fn with_signer<T>(
        &self,
        f: impl FnOnce(&SigningKey) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let keys = self.keys()?;
        let signer = keys
            .signer(self.credential_alg())
            .or_else(|| keys.signer(Algorithm::Es256))
            .ok_or_else(|| {
                ApiError::new(503, "temporarily_unavailable", "no active signing key")
            })?;
        f(signer)
    }

    /// Rotates the signing keys; new credentials and status lists use the new key at once.
    pub fn rotate_keys(&self, actor: &str) -> Result<Vec<String>, ApiError> {
        let mut keys = self
            .keys
            .write()
            .map_err(|_| ApiError::new(503, "temporarily_unavailable", "key ring unavailable"))?;
        let kids = keys
            .rotate(now())
            .map_err(|e| ApiError::new(503, "temporarily_unavailable", e.to_string()))?;
        drop(keys);
        if let Ok(mut c) = self.status_cache.lock() {
            c.clear();
        }
        self.audit(actor, "key_rotated", None, kids.join(","))?;
        Ok(kids)
    }

    /// How long published keys must outlive their retirement.
    pub fn max_validity_secs(&self) -> i64 {
        i64::from(self.config.credential_validity_days) * 86_400
            + i64::from(self.config.clock_skew_secs)
    }

    /// Appends to the audit log.
    pub fn audit(
        &self,
        actor: &str,
        action: &str,
        register_id: Option<&str>,
        detail: impl Into<String>,
    ) -> Result<(), ApiError> {
        let event = AuditEvent {
            at: now(),
            actor: actor.to_owned(),
            action: action.to_owned(),
            register_id: register_id.map(str::to_owned),
            detail: detail.into(),
        };
        tracing::info!(actor, action, register_id, "audit");
        Ok(self.store.audit(&event)?)
    }
}
