//! [`StatusLists`]: serving signed `statuslist+jwt` tokens, and revoking, suspending and
//! reinstating a resident's credentials.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use civic_credential::status_list::{Status, StatusList, StatusListToken};

use crate::context::{Context, KeysUnavailable};
use crate::metrics::Metrics;
use crate::store::StorageError;

/// Why a status step failed.
#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    /// No such status list.
    #[error("no such status list")]
    NoSuchList,
    /// No such resident.
    #[error("no such resident")]
    NoSuchResident,
    /// The stored list could not be encoded or signed.
    #[error("the status list could not be signed: {0}")]
    Signing(String),
    /// The key ring cannot be used.
    #[error(transparent)]
    Keys(#[from] KeysUnavailable),
    /// The store failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// A signed token, and what it was signed from.
struct Signed {
    /// The store generation (it changes when the database reopens after a failure, when a
    /// list version can come back with other contents).
    generation: u64,
    /// The list's version.
    version: u64,
    /// The key it was signed with (a rotation signs anew).
    kid: String,
    iat: i64,
    token: String,
}

/// Status lists.
pub struct StatusLists {
    context: Arc<Context>,
    cache: Mutex<HashMap<u32, Signed>>,
}

impl StatusLists {
    /// Status lists over the shared context.
    pub fn new(context: Arc<Context>) -> Self {
        StatusLists {
            context,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The signed status list token for `list`. Tokens are cached until the list changes, the
    /// signing key rotates or half their `ttl` has passed, so a revocation is visible in the
    /// very next response.
    ///
    /// While the store is unavailable (disk full or read-only) no status can change, so the last
    /// token signed for the list is still served while it stays valid for another `ttl`.
    pub fn token(&self, list: u32) -> Result<String, StatusError> {
        let context = &self.context;
        let generation = context.store.generation();
        let now = context.now();
        let ttl = i64::from(context.config.status_ttl_secs);
        let stored = match context.store.status_list(list) {
            Ok(Some(stored)) => stored,
            Ok(None) => return Err(StatusError::NoSuchList),
            Err(e) => {
                let cached = self.cache.lock().ok().and_then(|cache| {
                    let signed = cache.get(&list)?;
                    (now - signed.iat < ttl * 3).then(|| signed.token.clone())
                });
                return cached.ok_or(e.into());
            }
        };
        let kid = context.signing_kid()?;
        if let Ok(cache) = self.cache.lock() {
            if let Some(s) = cache.get(&list) {
                let fresh = s.generation == generation
                    && s.version == stored.version
                    && s.kid == kid
                    && now - s.iat < ttl / 2;
                if fresh {
                    return Ok(s.token.clone());
                }
            }
        }
        let token = StatusListToken {
            sub: context.config.status_list_uri(list),
            iat: now,
            exp: Some(now + ttl * 4),
            ttl: u64::try_from(ttl).ok(),
            list: StatusList::from_bytes(stored.bits, stored.bytes)
                .map_err(|e| StatusError::Signing(e.to_string()))?,
        };
        let signed = context.with_signer(|s| {
            token
                .sign(s)
                .map_err(|e| StatusError::Signing(e.to_string()))
        })?;
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(
                list,
                Signed {
                    generation,
                    version: stored.version,
                    kid,
                    iat: now,
                    token: signed.clone(),
                },
            );
        }
        Ok(signed)
    }

    /// Revokes, suspends or reinstates (`Valid`) a resident's credentials, audited. Revocation
    /// and suspension also stop new issuance. Returns how many credentials changed.
    pub fn set(
        &self,
        register_id: &str,
        status: Status,
        actor: &str,
    ) -> Result<usize, StatusError> {
        let store = &self.context.store;
        if store.resident(register_id)?.is_none() {
            return Err(StatusError::NoSuchResident);
        }
        let changed = store.set_resident_status(register_id, status, true)?;
        for _ in 0..changed {
            Metrics::inc(&self.context.metrics.status_changes);
        }
        let action = match status {
            Status::Invalid => "revoked",
            Status::Suspended => "suspended",
            _ => "unsuspended",
        };
        self.context.audit(
            actor,
            action,
            Some(register_id),
            format!("credentials={changed}"),
        )?;
        Ok(changed)
    }
}
