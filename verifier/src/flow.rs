//! [`Flow`]: the whole eligibility check, without a web framework: create a session for a
//! platform's policy, serve its request object, take the wallet's `direct_post` answer, verify
//! it, record and report the outcome. The REST service (`civic-verifier-service`) and platforms
//! that run the library in-process are thin layers over it.
//!
//! Answering is three typed steps, so that a server can run the store calls on blocking threads
//! and the verification (which may fetch keys and status lists) on async ones:
//!
//! 1. [`Flow::begin_answer`] (store): checks the form and the OAuth `state`, and moves the
//!    session to `verifying` atomically: only one answer per session is ever checked. It returns
//!    an [`Answer`], which nothing else can make.
//! 2. [`Flow::check`] (async, no store): verifies the presentation; returns a [`Checked`].
//! 3. [`Flow::finish`] (store): records the outcome, notifies the platform, and returns where
//!    the wallet goes next ([`Answered`]).
//!
//! [`Flow::answer`] runs all three for callers that do not mind the store calls inline.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use civic_credential::encoding::{b64_encode, ct_eq, sha256_hex};
use civic_credential::form::FormError;
use civic_credential::oid4vp::{
    is_x509_client, DirectPostResponse, DID_PREFIX, REDIRECT_URI_PREFIX,
};
use civic_credential::origin::Origin;
use civic_credential::pseudonym;
use civic_service::SharedClock;
use civic_storage::StorageError;
use rand_core::{OsRng, RngCore};

use crate::analytics::{Analytics, Cohort};
use crate::certificate::RequestCertificate;
use crate::config::Platform;
use crate::encrypted_response::{self, DecryptError};
use crate::identity;
use crate::rejection::{Rejection, RejectionReport};
use crate::session::{NewSession, Session, SessionStatus};
use crate::store::{Begin, SessionStore};
use crate::verify::Verifier;

/// Why a step of the flow failed, in the flow's words. The REST service picks the status code
/// and the OpenID4VP / OAuth error code for each.
#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    /// No such platform.
    #[error("unknown platform")]
    UnknownPlatform,
    /// The platform has no policy by this name.
    #[error("unknown policy {0:?}")]
    UnknownPolicy(String),
    /// The same-device return page is not registered for the platform.
    #[error("redirect_uri is not registered for this platform")]
    RedirectNotRegistered,
    /// No such session (or it belongs to another platform).
    #[error("no such session")]
    NoSuchSession,
    /// The request object of a session that no longer waits for a wallet.
    #[error("this request is no longer open")]
    RequestClosed,
    /// The answer is not a valid `direct_post` form.
    #[error("{0}")]
    MalformedAnswer(FormError),
    /// The answer's `state` is missing or not the session's: it does not come from the wallet
    /// that fetched this request, and does not use the session up.
    #[error("{}: {}", Rejection::StateMismatch.rule(), Rejection::StateMismatch)]
    StateMismatch,
    /// The session expired before the answer came.
    #[error("the session has expired")]
    Expired,
    /// The session was answered already (a replay).
    #[error("this session was already answered (replay)")]
    AlreadyAnswered,
    /// A same-device result was read without its response code, or with another.
    #[error("the response_code is missing or wrong")]
    WrongResponseCode,
    /// The request object could not be signed.
    #[error("the request could not be signed: {0}")]
    Signing(String),
    /// The platform's pseudonym cannot be asked for under the identity this verifier has for it
    /// (a configuration the checks at load time refuse; [`crate::identity`]).
    #[error("this verifier cannot ask as this platform: {0}")]
    NotBound(String),
    /// An encrypted answer was expected and not given, or does not decrypt.
    #[error(transparent)]
    Encryption(#[from] DecryptError),
    /// The store failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Where the flow builds its URLs and how long a session waits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowSettings {
    /// The verifier's public base URL (request and response URIs).
    pub public_url: String,
    /// The link base for wallets (`openid4vp://`, or a web wallet's `…/present`).
    pub wallet_link_base: String,
    /// How long a session waits for the wallet, in seconds.
    pub session_ttl_secs: i64,
}

pub use crate::identity::RequestSigner;

/// Receives the outcome of every answered session (the REST service posts webhooks).
pub trait Notifier: crate::fetch::MaybeSendSync {
    /// `session` of `platform` has its final `outcome`.
    fn notify(&self, platform: &Platform, session: &Session, outcome: &SessionStatus);
}

/// What a platform gets when it opens a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedSession {
    /// The session id.
    pub id: String,
    /// The link for the wallet (same-device link): the request by value for a platform that
    /// asks for requests by value, otherwise by reference.
    pub openid4vp_url: String,
    /// Where the wallet fetches the request object.
    pub request_uri: String,
    /// A QR code (SVG) of the link by reference, when built with feature `qr`; empty otherwise.
    /// Always by reference: a link of about 100 bytes makes a code any phone camera reads,
    /// while a request by value (1 to 1.5 KB) would need a dense code of some 150 KB of SVG.
    pub qr_svg: String,
    /// When the session expires.
    pub expires_at: i64,
}

/// A session as its platform reads it: where it stands (`expired` for one that waited too
/// long), its id and when it expires.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionResult {
    /// Where the session stands.
    #[serde(flatten)]
    pub outcome: ResultStatus,
    /// The session id.
    pub id: String,
    /// When the session expires.
    pub expires_at: i64,
}

/// A session's status as its platform reads it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ResultStatus {
    /// The session's own status.
    Session(SessionStatus),
    /// The session waited for a wallet past its expiry (`{"status": "expired"}`).
    Expired {
        /// Always `expired`.
        status: &'static str,
    },
}

/// An answer whose session is now `verifying`: only [`Flow::begin_answer`] makes one.
#[derive(Debug)]
pub struct Answer {
    session: Session,
    response: DirectPostResponse,
    at: i64,
}

/// A verified answer, ready to be recorded by [`Flow::finish`].
#[derive(Debug)]
pub struct Checked {
    session: Session,
    outcome: SessionStatus,
    cohort: Option<Cohort>,
}

/// A recorded answer: the outcome, and where a same-device wallet goes next.
#[derive(Debug, Clone, PartialEq)]
pub struct Answered {
    /// The outcome (complete, rejected or declined).
    pub outcome: SessionStatus,
    /// `redirect_uri?response_code=…` for a same-device session.
    pub redirect_uri: Option<String>,
}

impl Answered {
    /// The rejection, if the presentation was refused.
    pub fn rejection(&self) -> Option<&RejectionReport> {
        match &self.outcome {
            SessionStatus::Rejected { rejection } => Some(rejection),
            _ => None,
        }
    }
}

/// The eligibility check of a verifier deployment.
pub struct Flow {
    verifier: Verifier,
    store: Arc<dyn SessionStore>,
    clock: SharedClock,
    settings: FlowSettings,
    platforms: Vec<Platform>,
    signer: Option<RequestSigner>,
    certificate: Option<RequestCertificate>,
    notifier: Option<Arc<dyn Notifier>>,
    encrypt_responses: bool,
    requests_by_value: bool,
    analytics: Option<Analytics>,
}

fn random() -> String {
    let mut b = [0u8; 32];
    OsRng.fill_bytes(&mut b);
    b64_encode(&b)
}

impl Flow {
    /// A flow for `platforms`, verifying with `verifier`, keeping sessions in `store`.
    pub fn new(
        verifier: Verifier,
        store: Arc<dyn SessionStore>,
        clock: SharedClock,
        settings: FlowSettings,
        platforms: Vec<Platform>,
    ) -> Self {
        Flow {
            verifier,
            store,
            clock,
            settings,
            platforms,
            signer: None,
            certificate: None,
            notifier: None,
            encrypt_responses: true,
            requests_by_value: false,
            analytics: None,
        }
    }

    /// Counts every answered session in `analytics` ([`crate::analytics`]).
    pub fn with_analytics(mut self, analytics: Analytics) -> Self {
        self.analytics = Some(analytics);
        self
    }

    /// The analytics, when counted.
    pub fn analytics(&self) -> Option<&Analytics> {
        self.analytics.as_ref()
    }

    /// With `on` (the default), sessions ask for encrypted answers (`direct_post.jwt`, each to a
    /// fresh ephemeral key) and refuse plain ones; off, they take plain `direct_post` answers. A
    /// platform's own [`Platform::encrypt_responses`] overrides it.
    pub fn with_encrypted_responses(mut self, on: bool) -> Self {
        self.encrypt_responses = on;
        self
    }

    /// With `on`, every platform's unsigned (`redirect_uri:`) requests travel in the link by
    /// value; off, only those of platforms that set [`Platform::requests_by_value`]. Signed
    /// requests always go by reference.
    pub fn with_requests_by_value(mut self, on: bool) -> Self {
        self.requests_by_value = on;
        self
    }

    /// Signs request objects with `signer` (client id `decentralized_identifier:<did>`).
    pub fn with_signer(mut self, signer: RequestSigner) -> Self {
        self.signer = Some(signer);
        self
    }

    /// Signs request objects with the verifier's certificate (client id `x509_hash:` or
    /// `x509_san_dns:`, the chain in `x5c`) for every platform whose id is not a DID.
    pub fn with_certificate(mut self, certificate: RequestCertificate) -> Self {
        self.certificate = Some(certificate);
        self
    }

    /// Tells `notifier` every outcome.
    pub fn with_notifier(mut self, notifier: Arc<dyn Notifier>) -> Self {
        self.notifier = Some(notifier);
        self
    }

    /// Now, from the flow's clock.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// The verifier.
    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }

    /// The settings.
    pub fn settings(&self) -> &FlowSettings {
        &self.settings
    }

    /// The platforms.
    pub fn platforms(&self) -> &[Platform] {
        &self.platforms
    }

    /// The platform `id`.
    pub fn platform(&self, id: &str) -> Option<&Platform> {
        self.platforms.iter().find(|p| p.id == id)
    }

    /// The session store.
    pub fn store(&self) -> &dyn SessionStore {
        self.store.as_ref()
    }

    /// Opens a session for `platform_id`'s policy `policy_name` (store).
    pub fn create(
        &self,
        platform_id: &str,
        policy_name: &str,
        redirect_uri: Option<String>,
    ) -> Result<CreatedSession, FlowError> {
        let platform = self
            .platform(platform_id)
            .ok_or(FlowError::UnknownPlatform)?;
        let policy = platform
            .policies
            .iter()
            .find(|p| p.name == policy_name)
            .ok_or_else(|| FlowError::UnknownPolicy(policy_name.to_owned()))?;
        if let Some(r) = &redirect_uri {
            if !platform.redirect_uris.contains(r) {
                return Err(FlowError::RedirectNotRegistered);
            }
        }
        let vct = if policy.vct.is_empty() {
            self.verifier
                .trust_list()
                .issuers
                .iter()
                .flat_map(|i| i.vct.clone())
                .collect()
        } else {
            policy.vct.clone()
        };
        let check_municipality = self
            .verifier
            .trust_list()
            .issuers
            .iter()
            .any(|i| !i.municipality_codes.is_empty());
        let trusted_authorities = self.verifier.trust_list().authority_key_ids(&vct);
        let session = Session::new(
            NewSession {
                base_url: &self.settings.public_url,
                platform_id: &platform.id,
                policy,
                vct,
                trusted_authorities,
                check_municipality,
                redirect_uri,
                now: self.now(),
                ttl: self.settings.session_ttl_secs,
                client_id: identity::client_id(
                    platform,
                    &self.settings.public_url,
                    self.signer.as_ref(),
                    self.certificate.as_ref(),
                ),
            },
            &mut OsRng,
        );
        let session = if platform.encrypt_responses.unwrap_or(self.encrypt_responses) {
            session.with_encrypted_response(&mut OsRng)
        } else {
            session
        };
        if session.client_id.starts_with(DID_PREFIX) && self.signer.is_none() {
            return Err(FlowError::NotBound(
                "a DID client's requests are signed, and no request signing key is set".into(),
            ));
        }
        // A certificate verifier is the origin of its response_uri, which its certificate names
        // (checked when the certificate was loaded).
        let certified = Origin::of(&self.settings.public_url)
            .ok()
            .filter(|_| is_x509_client(&session.client_id))
            .map(|o| o.to_string());
        pseudonym::check_request(
            &session.requested_paths(),
            &session.client_id,
            certified.as_deref(),
        )
        .map_err(|e| FlowError::NotBound(e.to_string()))?;
        let by_value = (self.requests_by_value || platform.requests_by_value)
            && session.client_id.starts_with(REDIRECT_URI_PREFIX);
        let by_reference = session.link(&self.settings.wallet_link_base);
        let url = if by_value {
            session
                .authorization_request()
                .to_link(&self.settings.wallet_link_base)
                .map_err(|e| FlowError::NotBound(e.to_string()))?
        } else {
            by_reference.clone()
        };
        self.store.create(&session)?;
        Ok(CreatedSession {
            qr_svg: qr_svg(&by_reference),
            id: session.id,
            openid4vp_url: url,
            request_uri: session.request_uri,
            expires_at: session.expires,
        })
    }

    /// A session by id (store); `None` if unknown or purged.
    pub fn session(&self, id: &str) -> Result<Option<Session>, FlowError> {
        if id.len() > 64 {
            return Ok(None);
        }
        Ok(self.store.get(id)?)
    }

    /// The result of session `id` for its platform (store). A same-device session, once
    /// answered, is read only with the response code its wallet was sent back with, so a
    /// session started by someone else cannot be completed into the resident's browser.
    pub fn result(
        &self,
        platform_id: &str,
        id: &str,
        response_code: Option<&str>,
    ) -> Result<SessionResult, FlowError> {
        let session = self
            .session(id)?
            .filter(|s| s.platform_id == platform_id)
            .ok_or(FlowError::NoSuchSession)?;
        let answered = !matches!(
            session.status,
            SessionStatus::Pending | SessionStatus::Verifying
        );
        if answered && session.redirect_uri.is_some() {
            let given = response_code.map(sha256_hex).unwrap_or_default();
            let expected = session.response_code_hash.clone().unwrap_or_default();
            if expected.is_empty() || !ct_eq(given.as_bytes(), expected.as_bytes()) {
                return Err(FlowError::WrongResponseCode);
            }
        }
        let outcome = match session.status {
            SessionStatus::Pending if session.expires <= self.now() => {
                ResultStatus::Expired { status: "expired" }
            }
            status => ResultStatus::Session(status),
        };
        Ok(SessionResult {
            outcome,
            id: session.id,
            expires_at: session.expires,
        })
    }

    /// The request object (a JWT) the wallet fetches from the session's `request_uri` (store):
    /// signed when a signer is configured.
    pub fn request_object(&self, id: &str) -> Result<String, FlowError> {
        self.request_object_for(id, None)
    }

    /// The request object for a wallet that fetched it by POST (`request_uri_method=post`):
    /// it carries the wallet's `wallet_nonce` back. Each fetch is the same request otherwise.
    pub fn request_object_for(
        &self,
        id: &str,
        wallet_nonce: Option<String>,
    ) -> Result<String, FlowError> {
        let session = self.session(id)?.ok_or(FlowError::NoSuchSession)?;
        if session.status != SessionStatus::Pending || session.expires <= self.now() {
            return Err(FlowError::RequestClosed);
        }
        let mut request = session.authorization_request();
        request.wallet_nonce = wallet_nonce;
        if is_x509_client(&session.client_id) {
            return match &self.certificate {
                Some(c) => c.sign(&request),
                None => return Err(FlowError::Signing("no request certificate".into())),
            }
            .map_err(|e| FlowError::Signing(e.to_string()));
        }
        match (session.client_id.strip_prefix(DID_PREFIX), &self.signer) {
            (None, _) => request.to_unsigned_jwt(),
            (Some(did), Some(s)) => s.sign_as(did, |key| request.to_signed_jwt(key)),
            (Some(_), None) => return Err(FlowError::Signing("no request signing key".into())),
        }
        .map_err(|e| FlowError::Signing(e.to_string()))
    }

    /// Step 1 of answering (store): reads the `direct_post` form (decrypting a `direct_post.jwt`
    /// answer; a session that asked for one refuses a plain answer), checks `state` without
    /// using the session up, then moves the session to `verifying`.
    pub fn begin_answer(&self, id: &str, form: &[u8]) -> Result<Answer, FlowError> {
        let posted = DirectPostResponse::from_form(form).map_err(FlowError::MalformedAnswer)?;
        let current = self.session(id)?.ok_or(FlowError::NoSuchSession)?;
        let response = encrypted_response::open(&current, posted)?;
        let state_ok = response
            .state
            .as_deref()
            .is_some_and(|st| ct_eq(st.as_bytes(), current.state.as_bytes()));
        if !state_ok {
            return Err(FlowError::StateMismatch);
        }
        let at = self.now();
        match self.store.begin_response(id, at)? {
            Begin::Started(session) => Ok(Answer {
                session: *session,
                response,
                at,
            }),
            Begin::Unknown => Err(FlowError::NoSuchSession),
            Begin::Expired => Err(FlowError::Expired),
            Begin::NotPending => Err(FlowError::AlreadyAnswered),
        }
    }

    /// Step 2 of answering (async, no store): verifies the presentation, or takes the wallet's
    /// error (`access_denied`: the resident declined).
    pub async fn check(&self, answer: Answer) -> Checked {
        let Answer {
            session,
            response,
            at,
        } = answer;
        let mut cohort = None;
        let outcome = match (response.error.as_deref(), response.vp_token) {
            (Some("access_denied"), _) => SessionStatus::Declined,
            (Some(other), _) => rejected(Rejection::MalformedResponse(format!(
                "wallet error {other:?}"
            ))),
            (None, None) => rejected(Rejection::MalformedResponse("vp_token is missing".into())),
            (None, Some(token)) => {
                match self.verifier.verify_with_cohort(&token, &session, at).await {
                    Ok((eligibility, c)) => {
                        cohort = Some(c);
                        SessionStatus::Complete { eligibility }
                    }
                    Err(r) => rejected(r),
                }
            }
        };
        Checked {
            session,
            outcome,
            cohort,
        }
    }

    /// Step 3 of answering (store): records the outcome (with the hash of a fresh response code
    /// for a same-device session), counts it in the analytics, and notifies the platform.
    pub fn finish(&self, checked: Checked) -> Result<Answered, FlowError> {
        let Checked {
            session,
            outcome,
            cohort,
        } = checked;
        let code = session.redirect_uri.as_ref().map(|_| random());
        self.store.finish(
            &session.id,
            outcome.clone(),
            code.as_deref().map(sha256_hex),
        )?;
        if let Some(a) = &self.analytics {
            // The answer stands whether or not it could be counted.
            if let Err(e) = a.record(&session.platform_id, &outcome, cohort.as_ref(), self.now()) {
                tracing::warn!(error = %e, "analytics: the answer was not counted");
            }
        }
        if let (Some(notifier), Some(platform)) =
            (&self.notifier, self.platform(&session.platform_id))
        {
            notifier.notify(platform, &session, &outcome);
        }
        let redirect_uri = match (&session.redirect_uri, code) {
            (Some(r), Some(c)) => {
                let sep = if r.contains('?') { '&' } else { '?' };
                Some(format!("{r}{sep}response_code={c}"))
            }
            _ => None,
        };
        Ok(Answered {
            outcome,
            redirect_uri,
        })
    }

    /// All three steps of answering, with the store calls inline.
    pub async fn answer(&self, id: &str, form: &[u8]) -> Result<Answered, FlowError> {
        let answer = self.begin_answer(id, form)?;
        let checked = self.check(answer).await;
        self.finish(checked)
    }

    /// The DID document of `did` (`application/did+json`) when this verifier speaks as it (its
    /// own DID, or a platform's, [`crate::identity`]) and signs requests; `None` otherwise.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn did_document(
        &self,
        did: &str,
    ) -> Option<Result<serde_json::Value, civic_service::did_document::DidDocumentError>> {
        let signer = self.signer.as_ref()?;
        let ours = did == signer.did()
            || (did.starts_with(civic_credential::did_web::PREFIX)
                && self.platforms.iter().any(|p| p.id == did));
        ours.then(|| signer.document(did))
    }

    /// The DID of this verifier's requests when they are signed.
    pub fn did(&self) -> Option<&str> {
        self.signer.as_ref().map(RequestSigner::did)
    }

    /// Whether the session store could take writes now (readiness).
    pub fn health(&self) -> Result<(), StorageError> {
        self.store.health()
    }

    /// Deletes sessions that expired more than an hour ago (store), and publishes the analytics
    /// of the days that are over; returns how many sessions went.
    pub fn purge(&self) -> Result<usize, StorageError> {
        if let Some(a) = &self.analytics {
            // Sessions are purged whether or not the days could be published now.
            if let Err(e) = a.close_days(self.now()) {
                tracing::warn!(error = %e, "analytics: closing days failed");
            }
        }
        self.store.purge(self.now())
    }
}

fn rejected(r: Rejection) -> SessionStatus {
    SessionStatus::Rejected {
        rejection: r.report(),
    }
}

#[cfg(feature = "qr")]
fn qr_svg(url: &str) -> String {
    civic_credential::qr::svg(url).unwrap_or_default()
}

#[cfg(not(feature = "qr"))]
fn qr_svg(_: &str) -> String {
    String::new()
}
