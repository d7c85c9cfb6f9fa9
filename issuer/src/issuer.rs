//! [`Issuer`]: the running issuer, a composition of one service per step of the flow over a
//! shared [`Context`]. The HTTP layer and the CLI reach the issuer's state only through it.

use std::path::Path;
use std::sync::Arc;

use civic_credential::crypto::{Algorithm, JwsSigner as _};
use civic_service::{SharedClock, SystemClock};

use crate::account::Accounts;
use crate::config::{Config, ConfigError};
use crate::context::Context;
use crate::enrollment::Enrollment;
use crate::issuance::Issuance;
use crate::keys::{KeyError, KeyRing};
use crate::passkeys::Passkeys;
use crate::platforms::Platforms;
use crate::register::ResidentRegister;
use crate::sessions::Sessions;
use crate::status::StatusLists;
use crate::store::{StorageError, Store, StoreResult};
use crate::trust::TrustMaterial;

/// Why the issuer could not start.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The configuration file is missing or invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The key file is missing or invalid.
    #[error(transparent)]
    Keys(#[from] KeyError),
    /// The database could not be opened.
    #[error(transparent)]
    Store(#[from] StorageError),
    /// The WebAuthn relying party settings were refused.
    #[error("WebAuthn relying party: {0}")]
    WebAuthn(String),
    /// The key ring could not be read.
    #[error(transparent)]
    KeysUnavailable(#[from] crate::context::KeysUnavailable),
}

/// Attaches the `signing_certificate` chain to the key it certifies. A chain for none of the
/// keys is a configuration error; one for a key that no longer signs (after a rotation) is
/// logged, since credentials then go out without `x5c` and verifiers that trust the issuer by
/// certificate refuse them until a certificate for the new key is configured.
fn certify(keys: &mut KeyRing, config: &Config) -> Result<(), OpenError> {
    let Some(kid) = keys.attach_certificate(&config.signing_chain_der)? else {
        return Err(ConfigError::Invalid(
            "signing_certificate certifies none of the issuer's keys (keys.json)".into(),
        )
        .into());
    };
    let alg = config.credential_algorithm();
    let current = keys.signer(alg).or_else(|| keys.signer(Algorithm::Es256));
    if current.is_none_or(|s| s.x5c().is_none()) {
        tracing::error!(
            certified = %kid,
            signing = current.and_then(|s| s.key_id()).unwrap_or_default(),
            "signing_certificate is for a key that no longer signs: credentials go out \
             without x5c (run `civic-issuer dev-ca` in development, or configure a certificate \
             for the current key)"
        );
    }
    Ok(())
}

/// The running issuer: one service per step, sharing one [`Context`].
pub struct Issuer {
    /// Configuration, store, clock, keys, counters and audit log.
    pub context: Arc<Context>,
    /// Importing the resident register.
    pub register: ResidentRegister,
    /// One-time enrollment codes.
    pub enrollment: Enrollment,
    /// Passkey creation and sign-in (WebAuthn).
    pub passkeys: Passkeys,
    /// Signed-in residents.
    pub sessions: Sessions,
    /// What a resident (or the agency) sees about one resident.
    pub accounts: Accounts,
    /// OID4VCI: offers, tokens, nonces, credentials.
    pub issuance: Issuance,
    /// Status lists: serving them, and revoking and suspending.
    pub status: StatusLists,
    /// The DID document, `jwt-vc-issuer` and OID4VCI metadata.
    pub trust: TrustMaterial,
    /// The civic platforms that get pseudonyms.
    pub platforms: Platforms,
}

impl Issuer {
    /// Opens the data directory made by `civic-issuer init` (for one-shot commands: a database
    /// that cannot be opened is an error).
    pub fn open(data_dir: &Path) -> Result<Self, OpenError> {
        tighten(data_dir);
        let config = Config::load(data_dir)?;
        let keys = KeyRing::load(data_dir)?;
        let store = config.open_store(data_dir, false)?;
        Self::assemble(config, keys, store, SystemClock::shared())
    }

    /// Opens the data directory for `serve`: a disk that is full or read-only at start gives
    /// 503s until it can be written again, instead of a failed start (a lock held by another
    /// process still fails).
    pub fn open_for_service(data_dir: &Path) -> Result<Self, OpenError> {
        tighten(data_dir);
        let config = Config::load(data_dir)?;
        let keys = KeyRing::load(data_dir)?;
        let store = config.open_store(data_dir, true)?;
        Self::assemble(config, keys, store, SystemClock::shared())
    }

    /// Assembles an issuer from loaded parts (tests pass a manual clock).
    pub fn assemble(
        config: Config,
        keys: KeyRing,
        store: Arc<dyn Store>,
        clock: SharedClock,
    ) -> Result<Self, OpenError> {
        let mut keys = keys;
        if !config.signing_chain_der.is_empty() {
            certify(&mut keys, &config)?;
        }
        let context = Arc::new(Context::new(config, keys, store, clock));
        let sessions = Sessions::new(context.clone());
        let passkeys = Passkeys::new(context.clone(), sessions.clone())
            .map_err(|e| OpenError::WebAuthn(e.to_string()))?;
        let issuance = Issuance::new(context.clone())?;
        Ok(Issuer {
            register: ResidentRegister::new(context.clone()),
            enrollment: Enrollment::new(context.clone()),
            accounts: Accounts::new(context.clone()),
            status: StatusLists::new(context.clone()),
            trust: TrustMaterial::new(context.clone()),
            platforms: Platforms::new(context.clone()),
            passkeys,
            sessions,
            issuance,
            context,
        })
    }

    /// The durable state.
    pub fn store(&self) -> &dyn Store {
        self.context.store.as_ref()
    }

    /// Makes every change so far durable: before any answer or report that depends on it.
    pub fn sync(&self) -> StoreResult<()> {
        self.context.store.sync()
    }
}

/// Tightens a data directory older versions created world-readable (0700: it holds the
/// register, the keys and the database); a directory that cannot be changed (read-only) is
/// reported, not fatal.
fn tighten(data_dir: &Path) {
    if !data_dir.is_dir() {
        return;
    }
    if let Err(e) = crate::fsutil::private_dir(data_dir) {
        tracing::warn!(dir = %data_dir.display(), error = %e, "could not make the data directory private (0700)");
    }
}
