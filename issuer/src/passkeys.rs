//! [`Passkeys`]: creating passkeys (with an enrollment code, or from a signed-in session) and
//! signing in with them, through webauthn-rs.
//!
//! A ceremony's state is a typed value ([`Ceremony`]) kept in the store under the hash of its
//! cookie, so a restart loses none. Passkeys are discoverable and require user verification;
//! the WebAuthn user handle is a keyed hash of the register id, so it reveals nothing.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use webauthn_rs::prelude::{
    DiscoverableAuthentication, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, Uuid,
};
use webauthn_rs::{Webauthn, WebauthnBuilder};

use civic_credential::crypto::hmac_sha256;
use civic_credential::encoding::b64_encode;

use crate::context::{Context, KeysUnavailable};
use crate::secrets::{hash_hex, random_token, EnrollmentCodeText};
use crate::sessions::{Session, Sessions, SignedIn};
use crate::store::{CodeCheck, Ephemeral, StorageError, StoredPasskey};

/// Why a passkey step failed, in the words of the step.
#[derive(Debug, thiserror::Error)]
pub enum PasskeyError {
    /// What was typed cannot be an enrollment code.
    #[error("that is not an enrollment code (20 letters and digits)")]
    NotACode,
    /// The code's secret part is wrong.
    #[error("the code is not right; {tries_left} tries left before it locks")]
    WrongCode {
        /// Wrong tries left before the code locks.
        tries_left: u32,
    },
    /// No such code.
    #[error("the code is not right")]
    UnknownCode,
    /// The code locked after too many wrong tries.
    #[error("this code is locked after too many wrong tries; ask the municipality for a new one")]
    CodeLocked,
    /// The code expired.
    #[error("this code has expired; ask for a new one")]
    CodeExpired,
    /// The code was used already (also: used by a concurrent enrollment meanwhile).
    #[error("this code has already been used")]
    CodeUsed,
    /// The code was used meanwhile, or the passkey is registered already.
    #[error("the enrollment code was used meanwhile, or this passkey is already registered")]
    CodeUsedMeanwhile,
    /// The resident is not (or no longer) on the register.
    #[error("this resident is no longer on the register")]
    NotOnRegister,
    /// The ceremony cookie is missing, unknown or expired.
    #[error("start again: the passkey ceremony is unknown or expired")]
    CeremonyExpired,
    /// A creation response was sent to a sign-in ceremony or the other way round.
    #[error("this is not a {expected} ceremony")]
    CeremonyMismatch {
        /// The ceremony the endpoint finishes.
        expected: &'static str,
    },
    /// The ceremony was started for another resident than the one signed in.
    #[error("that ceremony belongs to someone else")]
    CeremonyOfSomeoneElse,
    /// The browser's answer is not the JSON WebAuthn asks for.
    #[error("not a {what}: {detail}")]
    MalformedResponse {
        /// Which JSON was expected.
        what: &'static str,
        /// What is wrong with it.
        detail: String,
    },
    /// WebAuthn refused the answer (signature, origin, user verification, counter, …).
    #[error("the passkey response was not accepted: {0}")]
    Refused(String),
    /// The passkey is not registered here.
    #[error("this passkey is not registered here")]
    UnknownPasskey,
    /// No such passkey of this resident.
    #[error("no such passkey")]
    NoSuchPasskey,
    /// The last passkey cannot be removed (the resident would be locked out).
    #[error("add another passkey before removing this one")]
    LastPasskey,
    /// The relying party could not start a ceremony.
    #[error("the passkey service is unavailable: {0}")]
    RelyingParty(String),
    /// The key ring cannot be used.
    #[error(transparent)]
    Keys(#[from] KeysUnavailable),
    /// The store failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// A ceremony in progress.
#[derive(Serialize, Deserialize)]
enum Ceremony {
    /// Creating a passkey: with an enrollment code, or from a signed-in session.
    #[serde(alias = "Register")]
    Creation {
        register_id: String,
        code_id: Option<String>,
        state: PasskeyRegistration,
    },
    /// Signing in with any of the resident's passkeys.
    #[serde(alias = "Login")]
    SignIn { state: DiscoverableAuthentication },
}

/// A started ceremony: options for the browser, and the cookie value that finds it again.
#[derive(Debug)]
pub struct Started {
    /// `{"publicKey": …}` for `navigator.credentials.create/get`.
    pub options: Value,
    /// The ceremony cookie.
    pub ceremony: String,
}

/// Passkey creation and sign-in.
pub struct Passkeys {
    context: Arc<Context>,
    sessions: Sessions,
    webauthn: Webauthn,
}

impl Passkeys {
    /// The relying party for the configured origin and `rp_id`.
    pub fn new(
        context: Arc<Context>,
        sessions: Sessions,
    ) -> Result<Self, webauthn_rs::prelude::WebauthnError> {
        let origin = url::Url::parse(&context.config.origin())
            .map_err(|_| webauthn_rs::prelude::WebauthnError::Configuration)?;
        let webauthn = WebauthnBuilder::new(&context.config.rp_id, &origin)
            .and_then(|b| b.rp_name(&context.config.agency_name).build())?;
        Ok(Passkeys {
            context,
            sessions,
            webauthn,
        })
    }

    /// The WebAuthn user handle of a resident: a keyed hash, so it names nobody.
    fn user_handle(&self, register_id: &str) -> Result<Uuid, KeysUnavailable> {
        let keys = self.context.keys()?;
        let digest = hmac_sha256(
            keys.pseudonym_secret(),
            &[b"civic-id webauthn user handle\0", register_id.as_bytes()],
        );
        let mut bytes = [0u8; 16];
        bytes.iter_mut().zip(digest).for_each(|(b, d)| *b = d);
        Ok(Uuid::from_bytes(bytes))
    }

    fn put_ceremony(&self, ceremony: &Ceremony) -> Result<String, PasskeyError> {
        let id = random_token();
        let bytes = serde_json::to_vec(ceremony)
            .map_err(|e| StorageError::corrupt(format!("ceremony: {e}")))?;
        let expires = self.context.now() + i64::from(self.context.config.ceremony_ttl_secs);
        self.context
            .store
            .put_ephemeral(Ephemeral::Ceremony, &hash_hex(&id), &bytes, expires)?;
        Ok(id)
    }

    fn take_ceremony(&self, cookie: Option<&str>) -> Result<Ceremony, PasskeyError> {
        let id = cookie.ok_or(PasskeyError::CeremonyExpired)?;
        let bytes = self
            .context
            .store
            .take_ephemeral(Ephemeral::Ceremony, &hash_hex(id), self.context.now())?
            .ok_or(PasskeyError::CeremonyExpired)?;
        serde_json::from_slice(&bytes).map_err(|_| PasskeyError::CeremonyExpired)
    }

    /// Starts enrollment with a code from a letter: checks the code (counting wrong tries) and
    /// returns passkey creation options.
    pub fn start_enrollment(&self, code: &str) -> Result<Started, PasskeyError> {
        let parsed = EnrollmentCodeText::parse(code).ok_or(PasskeyError::NotACode)?;
        let check = self.context.store.check_code(
            &parsed.code_id,
            &parsed.secret_hash(),
            self.context.now(),
        )?;
        let register_id = match check {
            CodeCheck::Valid { register_id } => register_id,
            CodeCheck::Wrong { tries_left } => return Err(PasskeyError::WrongCode { tries_left }),
            CodeCheck::Locked => return Err(PasskeyError::CodeLocked),
            CodeCheck::Expired => return Err(PasskeyError::CodeExpired),
            CodeCheck::Used => return Err(PasskeyError::CodeUsed),
            CodeCheck::Unknown => return Err(PasskeyError::UnknownCode),
        };
        self.start_creation(&register_id, Some(parsed.code_id))
    }

    /// Starts adding another passkey for a signed-in resident.
    pub fn start_adding(&self, session: &Session) -> Result<Started, PasskeyError> {
        self.start_creation(&session.register_id, None)
    }

    fn start_creation(
        &self,
        register_id: &str,
        code_id: Option<String>,
    ) -> Result<Started, PasskeyError> {
        let resident = self
            .context
            .store
            .resident(register_id)?
            .filter(|r| r.removed_at.is_none())
            .ok_or(PasskeyError::NotOnRegister)?;
        let existing: Vec<_> = self
            .context
            .store
            .passkeys(register_id)?
            .iter()
            .map(|p| p.passkey.cred_id().clone())
            .collect();
        let display = format!("{} {}", resident.given_name, resident.family_name);
        let (options, state) = self
            .webauthn
            .start_passkey_registration(
                self.user_handle(register_id)?,
                register_id,
                &display,
                Some(existing),
            )
            .map_err(|e| PasskeyError::RelyingParty(e.to_string()))?;
        let mut options =
            serde_json::to_value(options).map_err(|e| PasskeyError::RelyingParty(e.to_string()))?;
        // Passkeys must be discoverable, so sign-in needs no user name.
        if let Some(sel) = options.pointer_mut("/publicKey/authenticatorSelection") {
            if let Some(sel) = sel.as_object_mut() {
                sel.insert("residentKey".into(), "required".into());
                sel.insert("requireResidentKey".into(), true.into());
            }
        }
        let ceremony = self.put_ceremony(&Ceremony::Creation {
            register_id: register_id.to_owned(),
            code_id,
            state,
        })?;
        Ok(Started { options, ceremony })
    }

    /// Finishes enrolling with a code: the code is used up atomically with storing the passkey,
    /// and the resident is signed in.
    pub fn finish_creation(
        &self,
        ceremony: Option<&str>,
        response: &Value,
    ) -> Result<SignedIn, PasskeyError> {
        self.finish(ceremony, response, None)
    }

    /// Finishes creating a passkey; with `owner`, the ceremony must have been started by that
    /// resident, which is checked before anything is stored.
    fn finish(
        &self,
        ceremony: Option<&str>,
        response: &Value,
        owner: Option<&str>,
    ) -> Result<SignedIn, PasskeyError> {
        let Ceremony::Creation {
            register_id,
            code_id,
            state,
        } = self.take_ceremony(ceremony)?
        else {
            return Err(PasskeyError::CeremonyMismatch {
                expected: "passkey creation",
            });
        };
        if owner.is_some_and(|o| o != register_id) {
            return Err(PasskeyError::CeremonyOfSomeoneElse);
        }
        let credential: RegisterPublicKeyCredential = serde_json::from_value(response.clone())
            .map_err(|e| PasskeyError::MalformedResponse {
                what: "RegistrationResponseJSON",
                detail: e.to_string(),
            })?;
        let passkey = self
            .webauthn
            .finish_passkey_registration(&credential, &state)
            .map_err(|e| PasskeyError::Refused(e.to_string()))?;
        let now = self.context.now();
        let count = self.context.store.passkeys(&register_id)?.len();
        let stored = StoredPasskey {
            credential_id: b64_encode(passkey.cred_id()),
            name: format!("Passkey {}", count + 1),
            created: now,
            last_used: None,
            passkey,
        };
        if !self
            .context
            .store
            .add_passkey(&register_id, &stored, code_id.as_deref(), now)?
        {
            return Err(PasskeyError::CodeUsedMeanwhile);
        }
        let action = if code_id.is_some() {
            crate::metrics::Metrics::inc(&self.context.metrics.enrollments);
            "enrolled"
        } else {
            "passkey_added"
        };
        self.context
            .audit("resident", action, Some(&register_id), "")?;
        Ok(self.sessions.start(&register_id)?)
    }

    /// Finishes adding a passkey from a signed-in session: the ceremony must be that resident's.
    pub fn finish_adding(
        &self,
        session: &Session,
        ceremony: Option<&str>,
        response: &Value,
    ) -> Result<SignedIn, PasskeyError> {
        self.finish(ceremony, response, Some(&session.register_id))
    }

    /// Starts a sign-in with any discoverable passkey.
    pub fn start_sign_in(&self) -> Result<Started, PasskeyError> {
        let (options, state) = self
            .webauthn
            .start_discoverable_authentication()
            .map_err(|e| PasskeyError::RelyingParty(e.to_string()))?;
        let mut options =
            serde_json::to_value(options).map_err(|e| PasskeyError::RelyingParty(e.to_string()))?;
        // The pages call navigator.credentials.get directly, not conditional mediation.
        if let Some(o) = options.as_object_mut() {
            o.remove("mediation");
        }
        let ceremony = self.put_ceremony(&Ceremony::SignIn { state })?;
        Ok(Started { options, ceremony })
    }

    /// Finishes a sign-in: finds the passkey by its credential id, verifies the assertion, and
    /// stores the new signature counter.
    pub fn finish_sign_in(
        &self,
        ceremony: Option<&str>,
        response: &Value,
    ) -> Result<SignedIn, PasskeyError> {
        let Ceremony::SignIn { state } = self.take_ceremony(ceremony)? else {
            return Err(PasskeyError::CeremonyMismatch {
                expected: "sign-in",
            });
        };
        let credential: PublicKeyCredential =
            serde_json::from_value(response.clone()).map_err(|e| {
                PasskeyError::MalformedResponse {
                    what: "AuthenticationResponseJSON",
                    detail: e.to_string(),
                }
            })?;
        let (user, cred_id) = self
            .webauthn
            .identify_discoverable_authentication(&credential)
            .map_err(|e| PasskeyError::Refused(e.to_string()))?;
        let cred_id = b64_encode(cred_id);
        let store = &self.context.store;
        let register_id = store
            .passkey_owner(&cred_id)?
            .ok_or(PasskeyError::UnknownPasskey)?;
        if self.user_handle(&register_id)? != user {
            return Err(PasskeyError::UnknownPasskey);
        }
        // A resident who left the register no longer signs in (their passkeys stay, in case
        // they come back).
        let on_register = store
            .resident(&register_id)?
            .is_some_and(|r| r.removed_at.is_none());
        if !on_register {
            return Err(PasskeyError::NotOnRegister);
        }
        let mut stored = store
            .passkeys(&register_id)?
            .into_iter()
            .find(|p| p.credential_id == cred_id)
            .ok_or(PasskeyError::UnknownPasskey)?;
        let result = self
            .webauthn
            .finish_discoverable_authentication_v2(&credential, state, &stored.passkey)
            .map_err(|e| PasskeyError::Refused(e.to_string()))?;
        stored.passkey.update_credential(&result);
        stored.last_used = Some(self.context.now());
        store.update_passkey(&register_id, &stored)?;
        crate::metrics::Metrics::inc(&self.context.metrics.logins);
        self.context
            .audit("resident", "signed_in", Some(&register_id), "")?;
        Ok(self.sessions.start(&register_id)?)
    }

    /// Removes one of a resident's passkeys and ends the resident's other sessions (the device
    /// that held the passkey may be lost); the last one cannot be removed (the resident would be
    /// locked out and need a new letter). `session_cookie` is the session that asked, which
    /// stays.
    pub fn remove(
        &self,
        register_id: &str,
        credential_id: &str,
        session_cookie: &str,
    ) -> Result<(), PasskeyError> {
        let store = &self.context.store;
        let keys = store.passkeys(register_id)?;
        if !keys.iter().any(|p| p.credential_id == credential_id) {
            return Err(PasskeyError::NoSuchPasskey);
        }
        if keys.len() == 1 {
            return Err(PasskeyError::LastPasskey);
        }
        store.remove_passkey(register_id, credential_id)?;
        let ended = self.sessions.end_others(register_id, session_cookie)?;
        self.context.audit(
            "resident",
            "passkey_removed",
            Some(register_id),
            format!("other_sessions_ended={ended}"),
        )?;
        Ok(())
    }
}
