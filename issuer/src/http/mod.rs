//! The HTTP surface: one router over a shared [`Issuer`], thin handlers, and the cross-cutting
//! pieces (errors, cookies, origin and CSRF checks, rate limits, security headers, metrics).

mod admin;
mod oid4vci;
mod ops;
mod pages;
mod resident;

/// The token endpoint's form parser, public for the fuzz targets (`fuzz-targets/`).
pub use oid4vci::token_request;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::json;

use crate::error::ApiError;
use crate::service::Issuer;

/// Handler state: the issuer and the in-memory rate limiter.
#[derive(Clone)]
pub struct AppState {
    /// The issuer.
    pub issuer: Arc<Issuer>,
    limiter: Arc<RateLimiter>,
}

/// Builds the full router.
pub fn router(issuer: Arc<Issuer>) -> Router {
    let max_body = issuer.config.max_body_bytes as usize;
    let state = AppState {
        limiter: Arc::new(RateLimiter::new(issuer.config.rate_limit_per_minute)),
        issuer,
    };
    Router::new()
        .merge(ops::routes())
        .merge(oid4vci::routes())
        .merge(pages::routes())
        .merge(resident::routes(state.clone()))
        .merge(admin::routes())
        .fallback(|| async { ApiError::not_found("no such endpoint") })
        .layer(DefaultBodyLimit::max(max_body))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
}

/// Runs blocking store work off the async threads, then makes its writes durable.
pub(crate) async fn blocking<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&Issuer) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let issuer = state.issuer.clone();
    tokio::task::spawn_blocking(move || {
        let result = f(&issuer);
        // Whatever the outcome (a failed try counts too, e.g. a wrong code), its writes are
        // durable before the answer goes out.
        issuer.store.sync()?;
        result
    })
    .await
    .map_err(|_| {
        ApiError::new(
            503,
            "temporarily_unavailable",
            "the request was interrupted",
        )
    })?
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST);
        let body = json!({ "error": self.code, "error_description": self.message });
        let mut resp = (status, axum::Json(body)).into_response();
        let h = resp.headers_mut();
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if self.status == 503 {
            h.insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        if self.status == 401 && self.code == "invalid_token" {
            let v = format!(
                "Bearer error=\"invalid_token\", error_description=\"{}\"",
                self.message.replace('"', "'")
            );
            if let Ok(v) = HeaderValue::from_str(&v) {
                h.insert(header::WWW_AUTHENTICATE, v);
            }
        }
        resp
    }
}

/// A JSON answer that must not be cached (tokens, nonces, credentials).
pub(crate) fn no_store(body: impl serde::Serialize) -> Response {
    let mut resp = axum::Json(body).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// Reads a cookie.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, and Secure on https.
pub(crate) fn set_cookie(issuer: &Issuer, name: &str, value: &str, max_age: u32) -> HeaderValue {
    let secure = if issuer.config.is_https() {
        "; Secure"
    } else {
        ""
    };
    let text =
        format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}");
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("invalid=; Max-Age=0"))
}

/// Parses a JSON body into `T`, answering 400 with `code` on failure.
pub(crate) fn json_body<T: serde::de::DeserializeOwned>(
    body: &[u8],
    code: &'static str,
) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(code, format!("invalid JSON body: {e}")))
}

/// Rejects state-changing browser requests from another origin.
pub(crate) fn check_origin(issuer: &Issuer, headers: &HeaderMap) -> Result<(), ApiError> {
    match headers.get(header::ORIGIN).map(|o| o.to_str()) {
        None => Ok(()),
        Some(Ok(o)) if o == issuer.config.origin() => Ok(()),
        Some(_) => Err(ApiError::forbidden("cross-origin request refused")),
    }
}

/// A fixed-window limit per client IP, for the enrollment and sign-in endpoints. Kept in memory
/// on purpose: it protects this process, and resets harmlessly on restart (the per-code lock
/// that matters for brute force is stored).
pub(crate) struct RateLimiter {
    per_minute: u32,
    windows: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl RateLimiter {
    fn new(per_minute: u32) -> Self {
        RateLimiter {
            per_minute,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one attempt from `ip`; errors once the minute's budget is spent.
    pub(crate) fn check(&self, ip: IpAddr) -> Result<(), ApiError> {
        let Ok(mut w) = self.windows.lock() else {
            return Ok(());
        };
        let now = Instant::now();
        if w.len() > 100_000 {
            w.retain(|_, (start, _)| now.duration_since(*start).as_secs() < 60);
        }
        let entry = w.entry(ip).or_insert((now, 0));
        if now.duration_since(entry.0).as_secs() >= 60 {
            *entry = (now, 0);
        }
        entry.1 += 1;
        if entry.1 > self.per_minute {
            return Err(ApiError::too_many(
                "too many attempts from this address; wait a minute",
            ));
        }
        Ok(())
    }
}

/// Logs each request (method, route, status, time — never query strings, bodies or cookies),
/// counts it for `/metrics`, and adds security headers.
async fn observe(State(state): State<AppState>, req: Request<Body>, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let mut resp = json_rejection(next.run(req).await).await;
    let status = resp.status().as_u16();
    state.issuer.metrics.request(&route, status);
    tracing::info!(%method, route, status, ms = start.elapsed().as_millis() as u64, "request");
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
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        ),
    );
    resp
}

/// Turns the framework's plain-text rejections (oversized body 413, wrong method 405, wrong
/// content type 415, unparsable query 400) into the same JSON error shape as everything else.
async fn json_rejection(resp: Response) -> Response {
    let status = resp.status();
    let plain = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.starts_with("text/plain"));
    if !status.is_client_error() || !plain {
        return resp;
    }
    let code = match status.as_u16() {
        413 => "request_too_large",
        405 => "method_not_allowed",
        415 => "unsupported_media_type",
        404 => "not_found",
        _ => "invalid_request",
    };
    let text = axum::body::to_bytes(resp.into_body(), 4096)
        .await
        .unwrap_or_default();
    let mut message = String::from_utf8_lossy(&text).into_owned();
    if message.is_empty() {
        message = status
            .canonical_reason()
            .unwrap_or("bad request")
            .to_owned();
    }
    ApiError::new(status.as_u16(), code, message).into_response()
}

/// The client's IP address (for rate limiting); unspecified when the server runs without
/// connection info (as in some tests).
pub(crate) struct ClientIp(pub IpAddr);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        let ip = parts
            .extensions
            .get::<axum::extract::ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::from([0, 0, 0, 0]), |c| c.0.ip());
        Ok(ClientIp(ip))
    }
}
