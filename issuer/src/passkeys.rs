//! Passkey enrollment and sign-in (WebAuthn through webauthn-rs), and resident sessions.
//!
//! Ceremony state and sessions live in the store, so a restart loses neither. Passkeys are
//! discoverable and require user verification; the user handle is a keyed hash of the register
//! id, so it reveals nothing.

use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::Sha256;
use webauthn_rs::prelude::{
    DiscoverableAuthentication, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, Uuid,
};

use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::secrets::{hash_hex, random_token, EnrollmentCodeText};
use crate::service::{now, Issuer};
use crate::store::{CodeCheck, Ephemeral, StoredPasskey};

/// A ceremony in progress, stored under its cookie.
#[derive(Serialize, Deserialize)]
enum Ceremony {
    /// Registering a passkey: with an enrollment code, or from a signed-in session.
    Register {
        register_id: String,
        code_id: Option<String>,
        state: PasskeyRegistration,
    },
    /// Signing in with any of the resident's passkeys.
    Login { state: DiscoverableAuthentication },
}

/// A signed-in resident.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    /// Who.
    pub register_id: String,
    /// The anti-CSRF token the pages send in `X-CSRF-Token`.
    pub csrf_token: String,
}

/// A started ceremony: options for the browser, and the cookie value that finds it again.
pub struct Started {
    /// `{"publicKey": …}` for `navigator.credentials.create/get`.
    pub options: Value,
    /// The ceremony cookie.
    pub ceremony: String,
}

/// A finished sign-in or enrollment: the new session.
pub struct SignedIn {
    /// The session cookie value.
    pub cookie: String,
    /// The session.
    pub session: Session,
}

fn webauthn_error(e: impl core::fmt::Display) -> ApiError {
    ApiError::bad_request(
        "webauthn_failed",
        format!("the passkey response was not accepted: {e}"),
    )
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

impl Issuer {
    /// The WebAuthn user handle of a resident.
    fn user_handle(&self, register_id: &str) -> Result<Uuid, ApiError> {
        let keys = self.keys()?;
        let mut mac = Hmac::<Sha256>::new_from_slice(keys.pseudonym_secret())
            .map_err(|_| ApiError::new(503, "temporarily_unavailable", "key"))?;
        mac.update(b"civic-id webauthn user handle\0");
        mac.update(register_id.as_bytes());
        let digest = mac.finalize().into_bytes();
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        Ok(Uuid::from_bytes(bytes))
    }

    fn put_ceremony(&self, ceremony: &Ceremony) -> Result<String, ApiError> {
        let id = random_token();
        let bytes = serde_json::to_vec(ceremony)
            .map_err(|_| ApiError::new(503, "temporarily_unavailable", "encoding"))?;
        let expires = now() + i64::from(self.config.ceremony_ttl_secs);
        self.store
            .put_ephemeral(Ephemeral::Ceremony, &hash_hex(&id), &bytes, expires)?;
        Ok(id)
    }

    fn take_ceremony(&self, cookie: Option<&str>) -> Result<Ceremony, ApiError> {
        let missing = || {
            ApiError::bad_request(
                "ceremony_expired",
                "start again: the passkey ceremony is unknown or expired",
            )
        };
        let id = cookie.ok_or_else(missing)?;
        let bytes = self
            .store
            .take_ephemeral(Ephemeral::Ceremony, &hash_hex(id), now())?
            .ok_or_else(missing)?;
        serde_json::from_slice(&bytes).map_err(|_| missing())
    }

    /// Starts enrollment with a code from a letter: checks the code (counting wrong tries) and
    /// returns passkey creation options.
    pub fn enroll_start(&self, code: &str) -> Result<Started, ApiError> {
        let parsed = EnrollmentCodeText::parse(code).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_code",
                "that is not an enrollment code (20 letters and digits)",
            )
        })?;
        let register_id = match self.store.check_code(&parsed.code_id, &parsed.secret_hash(), now())? {
            CodeCheck::Valid { register_id } => register_id,
            CodeCheck::Wrong { tries_left } => {
                return Err(ApiError::bad_request(
                    "invalid_code",
                    format!("the code is not right; {tries_left} tries left before it locks"),
                ))
            }
            CodeCheck::Locked => {
                return Err(ApiError::new(
                    403,
                    "code_locked",
                    "this code is locked after too many wrong tries; ask the municipality for a new one",
                ))
            }
            CodeCheck::Expired => return Err(ApiError::bad_request("code_expired", "this code has expired; ask for a new one")),
            CodeCheck::Used => return Err(ApiError::bad_request("code_used", "this code has already been used")),
            CodeCheck::Unknown => return Err(ApiError::bad_request("invalid_code", "the code is not right")),
        };
        self.register_start(&register_id, Some(parsed.code_id))
    }

    /// Starts adding another passkey for a signed-in resident.
    pub fn add_passkey_start(&self, session: &Session) -> Result<Started, ApiError> {
        self.register_start(&session.register_id, None)
    }

    fn register_start(
        &self,
        register_id: &str,
        code_id: Option<String>,
    ) -> Result<Started, ApiError> {
        let resident = self
            .store
            .resident(register_id)?
            .filter(|r| r.removed_at.is_none())
            .ok_or_else(|| ApiError::forbidden("this resident is no longer on the register"))?;
        let existing: Vec<_> = self
            .store
            .passkeys(register_id)?
            .iter()
            .map(|p| p.passkey.cred_id().clone())
            .collect();
        let display = format!("{} {}", resident.given_name, resident.family_name);
        let (mut options, state) = self
            .webauthn
            .start_passkey_registration(
                self.user_handle(register_id)?,
                register_id,
                &display,
                Some(existing),
            )
            .map_err(|e| ApiError::new(503, "temporarily_unavailable", e.to_string()))
            .and_then(|(ccr, state)| {
                serde_json::to_value(ccr)
                    .map(|v| (v, state))
                    .map_err(|_| ApiError::new(503, "temporarily_unavailable", "encoding"))
            })?;
        // Passkeys must be discoverable, so sign-in needs no user name.
        if let Some(sel) = options.pointer_mut("/publicKey/authenticatorSelection") {
            sel["residentKey"] = "required".into();
            sel["requireResidentKey"] = true.into();
        }
        let ceremony = self.put_ceremony(&Ceremony::Register {
            register_id: register_id.to_owned(),
            code_id,
            state,
        })?;
        Ok(Started { options, ceremony })
    }

    /// Finishes a registration. With an enrollment code, the code is used up atomically with
    /// storing the passkey, and the resident is signed in.
    pub fn register_finish(
        &self,
        ceremony: Option<&str>,
        response: &Value,
    ) -> Result<SignedIn, ApiError> {
        let Ceremony::Register {
            register_id,
            code_id,
            state,
        } = self.take_ceremony(ceremony)?
        else {
            return Err(ApiError::bad_request(
                "ceremony_mismatch",
                "this is not a registration ceremony",
            ));
        };
        let credential: RegisterPublicKeyCredential = serde_json::from_value(response.clone())
            .map_err(|e| {
                ApiError::bad_request(
                    "invalid_request",
                    format!("not a RegistrationResponseJSON: {e}"),
                )
            })?;
        let passkey = self
            .webauthn
            .finish_passkey_registration(&credential, &state)
            .map_err(webauthn_error)?;
        let t = now();
        let count = self.store.passkeys(&register_id)?.len();
        let stored = StoredPasskey {
            credential_id: b64(passkey.cred_id()),
            name: format!("Passkey {}", count + 1),
            created: t,
            last_used: None,
            passkey,
        };
        if !self
            .store
            .add_passkey(&register_id, &stored, code_id.as_deref(), t)?
        {
            return Err(ApiError::bad_request(
                "code_used",
                "the enrollment code was used meanwhile, or this passkey is already registered",
            ));
        }
        let action = if code_id.is_some() {
            "enrolled"
        } else {
            "passkey_added"
        };
        if code_id.is_some() {
            Metrics::inc(&self.metrics.enrollments);
        }
        self.audit("resident", action, Some(&register_id), "")?;
        self.new_session(&register_id)
    }

    /// Starts a sign-in with any discoverable passkey.
    pub fn login_start(&self) -> Result<Started, ApiError> {
        let (rcr, state) = self
            .webauthn
            .start_discoverable_authentication()
            .map_err(|e| ApiError::new(503, "temporarily_unavailable", e.to_string()))?;
        let mut options = serde_json::to_value(rcr)
            .map_err(|_| ApiError::new(503, "temporarily_unavailable", "encoding"))?;
        // The pages call navigator.credentials.get directly, not conditional mediation.
        if let Some(o) = options.as_object_mut() {
            o.remove("mediation");
        }
        let ceremony = self.put_ceremony(&Ceremony::Login { state })?;
        Ok(Started { options, ceremony })
    }

    /// Finishes a sign-in: finds the passkey by its credential id, verifies the assertion, and
    /// stores the new signature counter.
    pub fn login_finish(
        &self,
        ceremony: Option<&str>,
        response: &Value,
    ) -> Result<SignedIn, ApiError> {
        let Ceremony::Login { state } = self.take_ceremony(ceremony)? else {
            return Err(ApiError::bad_request(
                "ceremony_mismatch",
                "this is not a sign-in ceremony",
            ));
        };
        let credential: PublicKeyCredential =
            serde_json::from_value(response.clone()).map_err(|e| {
                ApiError::bad_request(
                    "invalid_request",
                    format!("not an AuthenticationResponseJSON: {e}"),
                )
            })?;
        let (user, cred_id) = self
            .webauthn
            .identify_discoverable_authentication(&credential)
            .map_err(webauthn_error)?;
        let unknown =
            || ApiError::bad_request("unknown_passkey", "this passkey is not registered here");
        let register_id = self
            .store
            .passkey_owner(&b64(cred_id))?
            .ok_or_else(unknown)?;
        if self.user_handle(&register_id)? != user {
            return Err(unknown());
        }
        let mut stored = self
            .store
            .passkeys(&register_id)?
            .into_iter()
            .find(|p| p.credential_id == b64(cred_id))
            .ok_or_else(unknown)?;
        let result = self
            .webauthn
            .finish_discoverable_authentication_v2(&credential, state, &stored.passkey)
            .map_err(webauthn_error)?;
        stored.passkey.update_credential(&result);
        stored.last_used = Some(now());
        self.store.update_passkey(&register_id, &stored)?;
        Metrics::inc(&self.metrics.logins);
        self.audit("resident", "signed_in", Some(&register_id), "")?;
        self.new_session(&register_id)
    }

    fn new_session(&self, register_id: &str) -> Result<SignedIn, ApiError> {
        let cookie = random_token();
        let session = Session {
            register_id: register_id.to_owned(),
            csrf_token: random_token(),
        };
        let bytes = serde_json::to_vec(&session)
            .map_err(|_| ApiError::new(503, "temporarily_unavailable", "encoding"))?;
        let expires = now() + i64::from(self.config.session_ttl_secs);
        self.store
            .put_ephemeral(Ephemeral::Session, &hash_hex(&cookie), &bytes, expires)?;
        Ok(SignedIn { cookie, session })
    }

    /// The session behind a cookie, if it is live.
    pub fn session(&self, cookie: Option<&str>) -> Result<Option<Session>, ApiError> {
        let Some(cookie) = cookie else {
            return Ok(None);
        };
        Ok(self
            .store
            .get_ephemeral(Ephemeral::Session, &hash_hex(cookie), now())?
            .and_then(|b| serde_json::from_slice(&b).ok()))
    }

    /// Ends a session.
    pub fn logout(&self, cookie: &str) -> Result<(), ApiError> {
        self.store
            .take_ephemeral(Ephemeral::Session, &hash_hex(cookie), now())?;
        Ok(())
    }
}
