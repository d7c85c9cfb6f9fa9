//! Status lists: serving signed `statuslist+jwt` tokens, and revoking, suspending and
//! reinstating a resident's credentials.

use civic_credential::status_list::{Status, StatusList, StatusListToken};

use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::service::{now, Issuer};

impl Issuer {
    /// The URI (and token `sub`) of status list `list`.
    pub fn status_list_uri(&self, list: u32) -> String {
        self.config.url(&format!("/status/{list}"))
    }

    /// The signed status list token for `list`. Tokens are cached until the list changes or half
    /// their `ttl` has passed, so a revocation is visible in the very next response. The store's
    /// generation is part of the key: after the store reopened its database, a version number
    /// can come back with other contents.
    ///
    /// While the store is unavailable (disk full or read-only) no status can change, so the last
    /// token signed for the list is still served as long as it stays valid for another `ttl`.
    pub fn status_token(&self, list: u32) -> Result<String, ApiError> {
        let generation = self.store.generation();
        let t = now();
        let ttl = i64::from(self.config.status_ttl_secs);
        let stored = match self.store.status_list(list) {
            Ok(Some(stored)) => stored,
            Ok(None) => return Err(ApiError::not_found("no such status list")),
            Err(e) => {
                let cached = self.status_cache.lock().ok().and_then(|cache| {
                    let (_, _, iat, token) = cache.get(&list)?;
                    (t - iat < ttl * 3).then(|| token.clone())
                });
                return cached.ok_or_else(|| e.into());
            }
        };
        if let Ok(cache) = self.status_cache.lock() {
            if let Some((gen, version, iat, token)) = cache.get(&list) {
                if *gen == generation && *version == stored.version && t - iat < ttl / 2 {
                    return Ok(token.clone());
                }
            }
        }
        let unavailable = |e: civic_credential::Error| {
            ApiError::new(503, "temporarily_unavailable", e.to_string())
        };
        let token = StatusListToken {
            sub: self.status_list_uri(list),
            iat: t,
            exp: Some(t + ttl * 4),
            ttl: Some(ttl as u64),
            list: StatusList::from_bytes(stored.bits, stored.bytes).map_err(unavailable)?,
        };
        let signed = self.with_signer(|s| token.sign(s).map_err(unavailable))?;
        if let Ok(mut cache) = self.status_cache.lock() {
            cache.insert(list, (generation, stored.version, t, signed.clone()));
        }
        Ok(signed)
    }

    /// Revokes, suspends or reinstates (`Valid`) a resident's credentials, and audits it.
    pub fn set_status(
        &self,
        register_id: &str,
        status: Status,
        actor: &str,
    ) -> Result<usize, ApiError> {
        if self.store.resident(register_id)?.is_none() {
            return Err(ApiError::not_found("no such resident"));
        }
        let changed = self.store.set_resident_status(register_id, status, true)?;
        for _ in 0..changed {
            Metrics::inc(&self.metrics.status_changes);
        }
        let action = match status {
            Status::Invalid => "revoked",
            Status::Suspended => "suspended",
            _ => "unsuspended",
        };
        self.audit(
            actor,
            action,
            Some(register_id),
            format!("credentials={changed}"),
        )?;
        Ok(changed)
    }
}
