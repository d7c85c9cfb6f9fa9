//! One-time enrollment codes, for letters or the counter.

use serde::Serialize;

use crate::error::ApiError;
use crate::secrets::EnrollmentCodeText;
use crate::service::{now, Issuer};
use crate::store::EnrollmentCode;

/// A code to print: who it is for and when it expires. The code itself is stored only hashed.
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

impl Issuer {
    /// Makes a fresh enrollment code for a resident on the register. An older unused code of
    /// the same resident stays valid until it expires.
    pub fn enrollment_code(&self, register_id: &str, actor: &str) -> Result<IssuedCode, ApiError> {
        let resident = self
            .store
            .resident(register_id)?
            .filter(|r| r.removed_at.is_none())
            .ok_or_else(|| ApiError::not_found("no such resident on the register"))?;
        let t = now();
        let expires = t + i64::from(self.config.code_validity_days) * 86_400;
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
            if self.store.insert_code(&record, t)? {
                self.audit(actor, "enrollment_code_created", Some(register_id), "")?;
                return Ok(IssuedCode {
                    register_id: resident.register_id,
                    code: code.display(),
                    expires: civic_credential::residency::Date::from_unix(expires).to_string(),
                    enroll_url: self.config.url("/enroll"),
                });
            }
        }
        Err(ApiError::new(
            503,
            "temporarily_unavailable",
            "could not find a free code id",
        ))
    }

    /// Register ids on the register that have no passkey yet.
    pub fn unenrolled(&self) -> Result<Vec<String>, ApiError> {
        let mut out = Vec::new();
        for id in self.store.active_register_ids()? {
            if self.store.passkeys(&id)?.is_empty() {
                out.push(id);
            }
        }
        Ok(out)
    }
}
