//! [`Sessions`]: residents signed in with a passkey. A session lives in the store under the hash
//! of its cookie, with the anti-CSRF token the pages send back on every change.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::context::Context;
use crate::secrets::{hash_hex, random_token};
use crate::store::{Ephemeral, StorageError, StoreResult};

/// A signed-in resident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// Who.
    pub register_id: String,
    /// The anti-CSRF token the pages send in `X-CSRF-Token`.
    pub csrf_token: String,
}

/// A new session: the cookie value (shown once, stored hashed) and the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    /// The session cookie value.
    pub cookie: String,
    /// The session.
    pub session: Session,
}

/// Resident sessions.
#[derive(Clone)]
pub struct Sessions {
    context: Arc<Context>,
}

impl Sessions {
    /// Sessions over the shared context.
    pub fn new(context: Arc<Context>) -> Self {
        Sessions { context }
    }

    /// Starts a session for a resident who just proved a passkey.
    pub fn start(&self, register_id: &str) -> StoreResult<SignedIn> {
        let cookie = random_token();
        let session = Session {
            register_id: register_id.to_owned(),
            csrf_token: random_token(),
        };
        let bytes = serde_json::to_vec(&session)
            .map_err(|e| StorageError::corrupt(format!("session: {e}")))?;
        let expires = self.context.now() + i64::from(self.context.config.session_ttl_secs);
        self.context.store.put_ephemeral(
            Ephemeral::Session,
            &hash_hex(&cookie),
            &bytes,
            expires,
        )?;
        Ok(SignedIn { cookie, session })
    }

    /// The live session behind a cookie, if any.
    pub fn get(&self, cookie: &str) -> StoreResult<Option<Session>> {
        Ok(self
            .context
            .store
            .get_ephemeral(Ephemeral::Session, &hash_hex(cookie), self.context.now())?
            .and_then(|b| serde_json::from_slice(&b).ok()))
    }

    /// Ends every other session of the resident signed in with `cookie` (after a passkey was
    /// removed: a device that lost its passkey loses its session too). Returns how many ended.
    pub fn end_others(&self, register_id: &str, cookie: &str) -> StoreResult<usize> {
        self.context
            .store
            .end_sessions_of(register_id, Some(&hash_hex(cookie)))
    }

    /// Ends a session.
    pub fn end(&self, cookie: &str) -> StoreResult<()> {
        self.context.store.take_ephemeral(
            Ephemeral::Session,
            &hash_hex(cookie),
            self.context.now(),
        )?;
        Ok(())
    }
}
