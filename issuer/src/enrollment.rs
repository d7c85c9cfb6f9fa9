//! [`Enrollment`]: one-time enrollment codes, for letters or the counter. A code is stored only
//! hashed; it is used up when a passkey is created with it (see [`crate::passkeys`]).

use std::sync::Arc;

use serde::Serialize;

use civic_credential::residency::Date;

use crate::context::Context;
use crate::secrets::EnrollmentCodeText;
use crate::store::{EnrollmentCode, StorageError};

/// Why a code could not be made.
#[derive(Debug, thiserror::Error)]
pub enum EnrollmentError {
    /// The resident is not (or no longer) on the register.
    #[error("no such resident on the register")]
    NotOnRegister,
    /// 64 random code ids in a row were taken by live codes.
    #[error("could not find a free code id")]
    NoFreeCodeId,
    /// The store failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// A code to print: who it is for and when it expires.
#[derive(Debug, Clone, Serialize)]
pub struct IssuedCode {
    /// The resident.
    pub register_id: String,
    /// `ABCDE-FGHJK-MNPQR-STVWX`.
    pub code: String,
    /// Expiry, `YYYY-MM-DD` (UTC).
    pub expires: String,
    /// Where to enroll.
    pub enroll_url: String,
}

/// Enrollment codes.
pub struct Enrollment {
    context: Arc<Context>,
}

impl Enrollment {
    /// Enrollment codes over the shared context.
    pub fn new(context: Arc<Context>) -> Self {
        Enrollment { context }
    }

    /// Makes a fresh code for a resident on the register. An older unused code of the same
    /// resident stays valid until it expires.
    pub fn issue_code(
        &self,
        register_id: &str,
        actor: &str,
    ) -> Result<IssuedCode, EnrollmentError> {
        let store = &self.context.store;
        let resident = store
            .resident(register_id)?
            .filter(|r| r.removed_at.is_none())
            .ok_or(EnrollmentError::NotOnRegister)?;
        let now = self.context.now();
        let expires = now + i64::from(self.context.config.code_validity_days) * 86_400;
        for _ in 0..64 {
            let code = EnrollmentCodeText::generate();
            let record = EnrollmentCode {
                code_id: code.code_id.clone(),
                secret_hash: code.secret_hash(),
                register_id: resident.register_id.clone(),
                expires,
                wrong_tries: 0,
                used: false,
            };
            if store.insert_code(&record, now)? {
                self.context
                    .audit(actor, "enrollment_code_created", Some(register_id), "")?;
                return Ok(IssuedCode {
                    register_id: resident.register_id,
                    code: code.display(),
                    expires: Date::from_unix(expires).to_string(),
                    enroll_url: self.context.config.url("/enroll"),
                });
            }
        }
        Err(EnrollmentError::NoFreeCodeId)
    }

    /// Register ids on the register that have no passkey yet.
    pub fn unenrolled(&self) -> Result<Vec<String>, StorageError> {
        let store = &self.context.store;
        let mut out = Vec::new();
        for id in store.active_register_ids()? {
            if store.passkeys(&id)?.is_empty() {
                out.push(id);
            }
        }
        Ok(out)
    }
}
