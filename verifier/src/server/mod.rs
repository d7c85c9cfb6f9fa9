//! The `civic-verifier` REST service, for platforms not written in Rust (Decidim, CONSUL, …).
//!
//! - Platforms (API key): `POST /v1/sessions {policy, redirect_uri?}` → `{id, openid4vp_url,
//!   request_uri, qr_svg, expires_at}`; `GET /v1/sessions/{id}[?response_code=]` → the outcome.
//! - Wallets: `GET /v1/request/{id}` (the request object), `POST /v1/response/{id}`
//!   (`direct_post`).
//! - Results also go to the platform's webhook, signed (see [`webhook`]).
//!
//! The same-device flow returns `redirect_uri?response_code=…` to the wallet; the platform must
//! present that code to read the result, so a session started by someone else cannot be
//! completed into the resident's browser (session fixation).

pub mod config;
mod routes;

pub use routes::CreatedSession;
pub mod webhook;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use civic_credential::crypto::SigningKey;
use civic_credential::jwk::Jwk;

use crate::fetch::HttpFetcher;
use crate::store::{SessionStore, SledStore};
use crate::trust::TrustList;
use crate::verify::{Verifier, VerifierOptions};
use config::ServiceConfig;

/// Seconds since the epoch.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Counters for `/metrics`.
#[derive(Default)]
pub struct Metrics {
    sessions: AtomicU64,
    eligible: AtomicU64,
    not_eligible: AtomicU64,
    rejected: AtomicU64,
    declined: AtomicU64,
}

impl Metrics {
    fn render(&self) -> String {
        let c = |name: &str, help: &str, v: &AtomicU64| {
            format!(
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}\n",
                v.load(Ordering::Relaxed)
            )
        };
        [
            c(
                "civic_verifier_sessions_total",
                "Sessions created.",
                &self.sessions,
            ),
            c(
                "civic_verifier_eligible_total",
                "Presentations accepted, eligible.",
                &self.eligible,
            ),
            c(
                "civic_verifier_not_eligible_total",
                "Presentations accepted, not eligible.",
                &self.not_eligible,
            ),
            c(
                "civic_verifier_rejected_total",
                "Presentations rejected.",
                &self.rejected,
            ),
            c(
                "civic_verifier_declined_total",
                "Requests declined by the resident.",
                &self.declined,
            ),
        ]
        .concat()
    }
}

/// Shared state of the service.
pub struct AppState {
    /// The configuration.
    pub config: ServiceConfig,
    /// The verifier.
    pub verifier: Verifier,
    /// Sessions.
    pub store: Arc<dyn SessionStore>,
    /// Signs request objects, when configured.
    pub signer: Option<SigningKey>,
    /// Our did:web, when signing.
    pub did: Option<String>,
    /// Counters.
    pub metrics: Metrics,
    webhooks: reqwest::Client,
}

/// An error answer in OID4VP/OAuth form.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    /// A 4xx/5xx with an error code.
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            code,
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = (
            self.status,
            axum::Json(json!({ "error": self.code, "error_description": self.message })),
        )
            .into_response();
        resp.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        resp
    }
}

impl From<crate::store::StoreError> for ApiError {
    /// A 503 that says whether the disk is full, read-only or not responding; other details go
    /// to the log only.
    fn from(e: crate::store::StoreError) -> Self {
        use crate::store::StoreError;
        tracing::error!(error = %e, "session store");
        let message = match e {
            StoreError::Full => "session storage full (no space left on device); try again later",
            StoreError::ReadOnly => "session storage is read-only; try again later",
            StoreError::Stalled(_) => {
                "session storage not responding (a write to disk has not finished); try again later"
            }
            StoreError::Unavailable(_) => "session storage is unavailable; try again later",
        };
        ApiError::new(503, "temporarily_unavailable", message)
    }
}

/// `did:web` of a public URL.
fn did_web(public_url: &str) -> String {
    let rest = public_url.split_once("://").map_or(public_url, |(_, r)| r);
    let mut parts = rest.split('/');
    let host = parts.next().unwrap_or_default().replace(':', "%3A");
    let path: Vec<&str> = parts.filter(|p| !p.is_empty()).collect();
    if path.is_empty() {
        format!("did:web:{host}")
    } else {
        format!("did:web:{host}:{}", path.join(":"))
    }
}

impl AppState {
    /// Builds the state from a configuration: trust list, sled store, fetcher, optional signer.
    pub fn new(config: ServiceConfig) -> anyhow::Result<Self> {
        let trust_text = std::fs::read_to_string(&config.trust_list)
            .map_err(|e| anyhow::anyhow!("{}: {e}", config.trust_list.display()))?;
        let trust = TrustList::parse(&trust_text)?;
        let store = SledStore::open(&config.data_dir, config.storage_options())?;
        let fetcher = HttpFetcher::new()?;
        let opts = VerifierOptions {
            clock_skew: config.clock_skew_secs,
            kb_max_age: config.kb_max_age_secs,
            status_fail_open: config.status_fail_open,
            key_refresh_secs: config.key_refresh_secs,
        };
        let (signer, did) = match &config.request_signing_key {
            None => (None, None),
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
                let jwk: Jwk = serde_json::from_str(&text)?;
                let did = did_web(&config.public_url);
                let key = SigningKey::from_jwk(&jwk)?.with_kid(format!("{did}#request-signing"));
                (Some(key), Some(did))
            }
        };
        Ok(AppState {
            verifier: Verifier::new(trust, Arc::new(fetcher), opts),
            store: Arc::new(store),
            signer,
            did,
            metrics: Metrics::default(),
            webhooks: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(10))
                .redirect(reqwest::redirect::Policy::none())
                .build()?,
            config,
        })
    }
}

/// The router (with body limits, JSON errors and security headers).
pub fn router(state: Arc<AppState>) -> axum::Router {
    routes::router(state)
}

/// Serves until Ctrl-C or SIGTERM.
pub async fn serve(state: Arc<AppState>) -> anyhow::Result<()> {
    let addr: SocketAddr = state.config.listen.parse()?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(addr = %listener.local_addr()?, public_url = %state.config.public_url, "civic-verifier listening");
    let purge = state.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(300)).await;
            let s = purge.clone();
            let _ = tokio::task::spawn_blocking(move || s.store.purge(now())).await;
        }
    });
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown())
        .await?;
    Ok(())
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
