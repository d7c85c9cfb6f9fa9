//! The service's HTTP handlers: thin wrappers over sessions, the store and the verifier.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use civic_credential::encoding::ct_eq;

use super::config::PlatformConfig;
use super::{now, webhook, ApiError, AppState};
use crate::session::{NewSession, Session, SessionState};
use crate::store::Begin;

type S = State<Arc<AppState>>;

pub(super) fn router(state: Arc<AppState>) -> Router {
    let limit = state.config.max_body_bytes;
    // Wallets run in browsers on their own origins: the wallet-facing endpoints answer
    // cross-origin requests (nothing there uses cookies). The platform API gets no CORS.
    let wallet = Router::new()
        .route("/v1/request/{id}", get(request_object))
        .route("/v1/response/{id}", post(response))
        .route("/.well-known/did.json", get(did_document))
        .layer(
            tower_http::cors::CorsLayer::new()
                .allow_origin(tower_http::cors::Any)
                .allow_methods([axum::http::Method::GET, axum::http::Method::POST])
                .allow_headers([header::CONTENT_TYPE]),
        );
    Router::new()
        .merge(wallet)
        .route("/v1/sessions", post(create_session))
        .route("/v1/sessions/{id}", get(read_session))
        .route(
            "/healthz",
            get(|| async { Json(json!({ "status": "ok" })) }),
        )
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .fallback(|| async { ApiError::new(404, "not_found", "no such endpoint") })
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::map_response(as_json_error))
        .with_state(state)
}

/// Adds security headers, and gives the framework's own plain-text 4xx answers (body too large,
/// wrong method or content type, bad query) the service's JSON error shape.
async fn as_json_error(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
    );
    let status = resp.status();
    let is_text = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.starts_with("text/plain"));
    if !status.is_client_error() || !is_text {
        return resp;
    }
    let code = match status.as_u16() {
        413 => "request_too_large",
        405 => "method_not_allowed",
        _ => "invalid_request",
    };
    let reason = status.canonical_reason().unwrap_or("bad request");
    ApiError::new(status.as_u16(), code, reason).into_response()
}

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The platform whose API key is in `Authorization: Bearer`.
fn platform<'a>(state: &'a AppState, headers: &HeaderMap) -> Result<&'a PlatformConfig, ApiError> {
    let key = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| ApiError::new(401, "invalid_client", "a platform API key is required"))?;
    let hash = sha256_hex(key.trim());
    state
        .config
        .platforms
        .iter()
        .find(|p| {
            ct_eq(
                p.api_key_sha256.to_ascii_lowercase().as_bytes(),
                hash.as_bytes(),
            )
        })
        .ok_or_else(|| ApiError::new(401, "invalid_client", "unknown API key"))
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| ApiError::new(503, "temporarily_unavailable", "interrupted"))?
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateSession {
    policy: String,
    #[serde(default)]
    redirect_uri: Option<String>,
}

async fn create_session(
    State(s): S,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let p = platform(&s, &headers)?;
    let req: CreateSession = serde_json::from_slice(&body)
        .map_err(|e| ApiError::new(400, "invalid_request", format!("invalid JSON body: {e}")))?;
    let created = s
        .create_session(&p.id, &req.policy, req.redirect_uri)
        .await?;
    Ok(no_store(serde_json::to_value(created).unwrap_or_default()))
}

/// What `POST /v1/sessions` answers.
#[derive(Debug, Clone, serde::Serialize, Deserialize)]
pub struct CreatedSession {
    /// The session id.
    pub id: String,
    /// The link for the wallet (QR code content, or same-device link).
    pub openid4vp_url: String,
    /// Where the wallet fetches the request object.
    pub request_uri: String,
    /// The link as a QR code (SVG).
    pub qr_svg: String,
    /// When the session expires.
    pub expires_at: i64,
}

impl AppState {
    /// Opens a session for `platform_id` with its policy `policy_name`; for platforms using the
    /// library in-process as well as for the REST handler.
    pub async fn create_session(
        self: &Arc<Self>,
        platform_id: &str,
        policy_name: &str,
        redirect_uri: Option<String>,
    ) -> Result<CreatedSession, ApiError> {
        let p = self
            .config
            .platforms
            .iter()
            .find(|p| p.id == platform_id)
            .ok_or_else(|| ApiError::new(401, "invalid_client", "unknown platform"))?;
        let policy = p
            .policies
            .iter()
            .find(|x| x.name == policy_name)
            .ok_or_else(|| {
                ApiError::new(
                    400,
                    "invalid_request",
                    format!("unknown policy {policy_name:?}"),
                )
            })?;
        if let Some(r) = &redirect_uri {
            if !p.redirect_uris.contains(r) {
                return Err(ApiError::new(
                    400,
                    "invalid_request",
                    "redirect_uri is not registered for this platform",
                ));
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
        let session = Session::new(
            NewSession {
                base_url: &self.config.public_url,
                platform_id: &p.id,
                policy,
                vct,
                redirect_uri,
                now: now(),
                ttl: self.config.session_ttl_secs,
                client_id: self
                    .did
                    .as_ref()
                    .map(|d| format!("{}{d}", civic_credential::oid4vp::DID_PREFIX)),
            },
            &mut rand_core::OsRng,
        );
        let store = self.store.clone();
        let stored = session.clone();
        blocking(move || Ok(store.create(&stored)?)).await?;
        self.metrics.sessions.fetch_add(1, Ordering::Relaxed);
        let url = session.link(&self.config.wallet_link_base);
        let qr_svg = civic_credential::qr::svg(&url).unwrap_or_default();
        Ok(CreatedSession {
            id: session.id,
            openid4vp_url: url,
            request_uri: session.request_uri,
            qr_svg,
            expires_at: session.expires,
        })
    }

    /// A session by id (for platforms using the library in-process).
    pub async fn session(self: &Arc<Self>, id: &str) -> Result<Option<Session>, ApiError> {
        let store = self.store.clone();
        let id = id.to_owned();
        blocking(move || Ok(store.get(&id)?)).await
    }
}

fn no_store(body: Value) -> Response {
    let mut r = Json(body).into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

async fn load(s: &Arc<AppState>, id: String) -> Result<Session, ApiError> {
    if id.len() > 64 {
        return Err(ApiError::new(404, "invalid_request_uri", "no such session"));
    }
    let store = s.store.clone();
    blocking(move || Ok(store.get(&id)?))
        .await?
        .ok_or_else(|| ApiError::new(404, "invalid_request_uri", "no such session"))
}

#[derive(Deserialize)]
struct ReadQuery {
    #[serde(default)]
    response_code: Option<String>,
}

async fn read_session(
    State(s): S,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<ReadQuery>,
) -> Result<Response, ApiError> {
    let p = platform(&s, &headers)?;
    let session = load(&s, id).await?;
    if session.platform_id != p.id {
        return Err(ApiError::new(404, "not_found", "no such session"));
    }
    let answered = !matches!(
        session.state_now,
        SessionState::Pending | SessionState::Verifying
    );
    if answered && session.redirect_uri.is_some() {
        // Same-device: only the browser that came back with the response code may read it.
        let given = q
            .response_code
            .as_deref()
            .map(sha256_hex)
            .unwrap_or_default();
        let expected = session.response_code_hash.clone().unwrap_or_default();
        if expected.is_empty() || !ct_eq(given.as_bytes(), expected.as_bytes()) {
            return Err(ApiError::new(
                403,
                "invalid_response_code",
                "the response_code is missing or wrong",
            ));
        }
    }
    let mut body = serde_json::to_value(&session.state_now).unwrap_or_default();
    body["id"] = json!(session.id);
    body["expires_at"] = json!(session.expires);
    if matches!(session.state_now, SessionState::Pending) && session.expires <= now() {
        body["status"] = json!("expired");
    }
    Ok(no_store(body))
}

async fn request_object(State(s): S, Path(id): Path<String>) -> Result<Response, ApiError> {
    let session = load(&s, id).await?;
    if session.state_now != SessionState::Pending || session.expires <= now() {
        return Err(ApiError::new(
            400,
            "invalid_request_uri",
            "this request is no longer open",
        ));
    }
    let request = session.authorization_request();
    let jwt = match &s.signer {
        Some(k) => request.to_signed_jwt(k),
        None => request.to_unsigned_jwt(),
    }
    .map_err(|e| ApiError::new(503, "temporarily_unavailable", e.to_string()))?;
    let mut r = jwt.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/oauth-authz-req+jwt"),
    );
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}

/// The `direct_post` endpoint.
async fn response(State(s): S, Path(id): Path<String>, body: Bytes) -> Result<Response, ApiError> {
    let mut vp_token = None;
    let mut state = None;
    let mut error = None;
    for (k, v) in url::form_urlencoded::parse(&body) {
        let slot = match k.as_ref() {
            "vp_token" => &mut vp_token,
            "state" => &mut state,
            "error" => &mut error,
            _ => continue,
        };
        if slot.replace(v.into_owned()).is_some() {
            return Err(ApiError::new(
                400,
                "invalid_request",
                format!("{k} appears more than once"),
            ));
        }
    }
    if id.len() > 64 {
        return Err(ApiError::new(400, "invalid_request", "no such session"));
    }
    // A response with the wrong `state` (or none) does not use the session up: it cannot come
    // from the wallet that fetched this request, and must not let others block it.
    let current = load(&s, id.clone())
        .await
        .map_err(|_| ApiError::new(400, "invalid_request", "no such session"))?;
    let state_ok = state
        .as_deref()
        .is_some_and(|st| ct_eq(st.as_bytes(), current.state.as_bytes()));
    if !state_ok {
        return Err(ApiError::new(
            400,
            "invalid_request",
            format!(
                "{}: {}",
                crate::Rejection::StateMismatch.rule(),
                crate::Rejection::StateMismatch
            ),
        ));
    }
    let store = s.store.clone();
    let sid = id.clone();
    let t = now();
    let session = match blocking(move || Ok(store.begin_response(&sid, t)?)).await? {
        Begin::Started(session) => *session,
        Begin::Unknown => return Err(ApiError::new(400, "invalid_request", "no such session")),
        Begin::Expired => {
            return Err(ApiError::new(
                400,
                "invalid_request",
                "the session has expired",
            ))
        }
        Begin::NotPending => {
            return Err(ApiError::new(
                400,
                "invalid_request",
                "this session was already answered (replay)",
            ))
        }
    };
    let outcome = match (error.as_deref(), vp_token) {
        (Some("access_denied"), _) => SessionState::Declined,
        (Some(other), _) => rejected(crate::Rejection::MalformedResponse(format!(
            "wallet error {other:?}"
        ))),
        (None, None) => rejected(crate::Rejection::MalformedResponse(
            "vp_token is missing".into(),
        )),
        (None, Some(token)) => match s.verifier.verify(&token, &session, t).await {
            Ok(eligibility) => SessionState::Complete { eligibility },
            Err(r) => rejected(r),
        },
    };
    finish(&s, session, outcome).await
}

fn rejected(r: crate::Rejection) -> SessionState {
    tracing::info!(rule = r.rule(), "presentation rejected");
    SessionState::Rejected {
        rejection: r.report(),
    }
}

async fn finish(
    s: &Arc<AppState>,
    session: Session,
    outcome: SessionState,
) -> Result<Response, ApiError> {
    let counter = match &outcome {
        SessionState::Complete { eligibility } if eligibility.eligible => &s.metrics.eligible,
        SessionState::Complete { .. } => &s.metrics.not_eligible,
        SessionState::Declined => &s.metrics.declined,
        _ => &s.metrics.rejected,
    };
    counter.fetch_add(1, Ordering::Relaxed);
    let code = session.redirect_uri.as_ref().map(|_| {
        let mut b = [0u8; 32];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut b);
        civic_credential::encoding::b64_encode(&b)
    });
    let store = s.store.clone();
    let (sid, stored, hash) = (
        session.id.clone(),
        outcome.clone(),
        code.as_deref().map(sha256_hex),
    );
    blocking(move || Ok(store.finish(&sid, stored, hash)?)).await?;
    if let Some(p) = s
        .config
        .platforms
        .iter()
        .find(|p| p.id == session.platform_id)
    {
        if let (Some(url), Some(secret)) = (&p.webhook_url, &p.webhook_secret) {
            let mut body = serde_json::to_value(&outcome).unwrap_or_default();
            body["id"] = json!(session.id);
            tokio::spawn(webhook::deliver(
                s.webhooks.clone(),
                url.clone(),
                secret.clone(),
                body.to_string(),
                now,
            ));
        }
    }
    match outcome {
        SessionState::Rejected { rejection } => Err(ApiError::new(
            400,
            "invalid_request",
            format!("{}: {}", rejection.rule, rejection.message),
        )),
        _ => Ok(no_store(match (&session.redirect_uri, code) {
            (Some(r), Some(c)) => {
                json!({ "redirect_uri": format!("{r}{}response_code={c}", if r.contains('?') { '&' } else { '?' }) })
            }
            _ => json!({}),
        })),
    }
}

async fn did_document(State(s): S) -> Result<Response, ApiError> {
    let (Some(did), Some(key)) = (&s.did, &s.signer) else {
        return Err(ApiError::new(
            404,
            "not_found",
            "request signing is not configured",
        ));
    };
    let vm = format!("{did}#request-signing");
    Ok(Json(json!({
        "@context": ["https://www.w3.org/ns/did/v1"],
        "id": did,
        "verificationMethod": [{ "id": vm, "type": "JsonWebKey2020", "controller": did, "publicKeyJwk": key.public_jwk() }],
        "authentication": [vm],
        "assertionMethod": [vm],
    }))
    .into_response())
}

async fn metrics(State(s): S) -> Response {
    let mut r = s.metrics.render().into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    r
}

async fn openapi() -> Response {
    let mut r = include_str!("../../openapi.json").into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}
