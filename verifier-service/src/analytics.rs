//! The analytics endpoints. For the platform's back end, with its API key (`Authorization:
//! Bearer`, as `/v1/sessions`): `GET /v1/analytics/report` (JSON) and
//! `GET /v1/analytics/report.csv`. For its operator in a browser: `GET /v1/analytics/dashboard`.
//!
//! The operator signs in to the dashboard by posting the API key in a form (never in a URL,
//! so it stays out of history, logs and `Referer`). The answer does not keep the key: it sets a
//! sign-in ticket ([`ticket`]: the platform, an expiry 8 hours on, and an HMAC keyed from the
//! platform's `api_key_sha256`) in a cookie (`HttpOnly`, `SameSite=Strict`, `Secure` with the
//! `__Host-` prefix over https) that only the dashboard routes read. The ticket ends by itself,
//! stops working when the API key is changed, works on every instance (they share the
//! configuration), and is no API key: a stolen cookie reads the dashboard until it expires, and
//! cannot open sessions or read results. Sign-in and sign-out refuse a cross-site `Origin`. The
//! dashboard only reads; the JSON and CSV API take no cookie.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;

use civic_credential::crypto::hmac_sha256;
use civic_credential::encoding::{b64_decode, b64_encode, ct_eq};
use civic_credential::origin::Origin;
use civic_service::cookies::{CookieJar, CookiePolicy};
use civic_service::respond::no_store;
use civic_service::run::blocking;
use civic_service::ApiError;
use civic_verifier::analytics::report::Report;
use civic_verifier::analytics::AnalyticsError;

use crate::dashboard;
use crate::error::analytics_api;
use crate::guards::PlatformKey;
use crate::Service;

type S = State<Arc<Service>>;

/// The cookie the dashboard's sign-in sets.
const COOKIE: &str = "civic_dashboard";
/// How long a dashboard sign-in lasts.
const SIGN_IN: Duration = Duration::from_secs(8 * 3600);

/// The analytics routes (added to the platform API's router).
pub fn routes() -> Router<Arc<Service>> {
    Router::new()
        .route("/v1/analytics/report", get(report_json))
        .route("/v1/analytics/report.csv", get(report_csv))
        .route("/v1/analytics/dashboard", get(dashboard_page))
        .route("/v1/analytics/dashboard/report.csv", get(dashboard_csv))
        .route("/v1/analytics/dashboard/login", post(login))
        .route("/v1/analytics/dashboard/logout", post(logout))
}

/// `?from=YYYY-MM-DD&to=YYYY-MM-DD`, both optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RangeQuery {
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
}

/// `platform`'s report over the range of `q` (closing the days that are over first), on a
/// blocking thread (the outer error: the thread could not finish).
async fn make_report(
    service: &Arc<Service>,
    platform: String,
    q: RangeQuery,
) -> Result<Result<Report, AnalyticsError>, ApiError> {
    let flow = service.flow.clone();
    blocking(move || {
        Ok((|| {
            let analytics = flow.analytics().ok_or(AnalyticsError::Disabled)?;
            let now = flow.now();
            let range = analytics.range(q.from.as_deref(), q.to.as_deref(), now)?;
            analytics.report(&platform, range, now)
        })())
    })
    .await
}

async fn report_json(
    State(service): S,
    platform: PlatformKey,
    Query(q): Query<RangeQuery>,
) -> Result<Response, ApiError> {
    let report = make_report(&service, platform.platform_id, q)
        .await?
        .map_err(analytics_api)?;
    Ok(no_store(report))
}

fn csv_answer(report: &Report) -> Response {
    let name = format!(
        "attachment; filename=\"analytics-{}-{}.csv\"",
        report.from, report.to
    );
    let mut resp = report.to_csv().into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8; header=present"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&name) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}

async fn report_csv(
    State(service): S,
    platform: PlatformKey,
    Query(q): Query<RangeQuery>,
) -> Result<Response, ApiError> {
    let report = make_report(&service, platform.platform_id, q)
        .await?
        .map_err(analytics_api)?;
    Ok(csv_answer(&report))
}

fn cookies(service: &Service) -> CookiePolicy {
    CookiePolicy::for_url(&service.flow.settings().public_url)
}

/// The MAC of a sign-in ticket for `platform_id` until `expires`, keyed from the platform's
/// `api_key_sha256` (configuration every instance shares; a new API key ends old tickets).
fn ticket_mac(platform_id: &str, api_key_sha256: &str, expires: i64) -> String {
    let key = civic_credential::encoding::sha256(
        format!("civic-dashboard\0{}", api_key_sha256.to_ascii_lowercase()).as_bytes(),
    );
    let mac = hmac_sha256(
        &key,
        &[
            platform_id.as_bytes(),
            b"\0",
            expires.to_string().as_bytes(),
        ],
    );
    b64_encode(&mac)
}

/// A dashboard sign-in ticket: `{platform id, base64url}.{expires}.{mac}`.
pub fn ticket(platform_id: &str, api_key_sha256: &str, expires: i64) -> String {
    format!(
        "{}.{expires}.{}",
        b64_encode(platform_id.as_bytes()),
        ticket_mac(platform_id, api_key_sha256, expires)
    )
}

/// The platform a live, genuine ticket names.
fn read_ticket(service: &Service, value: &str) -> Option<PlatformKey> {
    let mut parts = value.split('.');
    let (id, expires, mac) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let id = String::from_utf8(b64_decode(id, "platform").ok()?).ok()?;
    let expires: i64 = expires.parse().ok()?;
    if expires <= service.flow.now() {
        return None;
    }
    let platform = service.flow.platforms().iter().find(|p| p.id == id)?;
    let expected = ticket_mac(&platform.id, &platform.api_key_sha256, expires);
    ct_eq(expected.as_bytes(), mac.as_bytes()).then_some(PlatformKey { platform_id: id })
}

/// The platform the dashboard cookie names; `Err` with whether a cookie was sent at all.
fn signed_in(service: &Service, headers: &HeaderMap) -> Result<PlatformKey, bool> {
    let jar = CookieJar::from_headers(headers);
    let value = cookies(service).read(&jar, COOKIE).ok_or(false)?;
    read_ticket(service, value).ok_or(true)
}

/// An HTML answer under the dashboard's own strict CSP, never cached.
fn html(status: StatusCode, body: String) -> Response {
    let mut resp = (status, body).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(dashboard::content_security_policy()) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    resp
}

fn login_page(status: StatusCode, error: Option<&str>) -> Response {
    html(status, dashboard::login(error))
}

async fn dashboard_page(
    State(service): S,
    headers: HeaderMap,
    Query(q): Query<RangeQuery>,
) -> Response {
    let platform = match signed_in(&service, &headers) {
        Ok(p) => p,
        Err(false) => return login_page(StatusCode::OK, None),
        Err(true) => {
            return login_page(
                StatusCode::UNAUTHORIZED,
                Some("This key is no longer accepted: sign in again."),
            )
        }
    };
    let (from, to) = (
        q.from.clone().unwrap_or_default(),
        q.to.clone().unwrap_or_default(),
    );
    let name = service
        .flow
        .platform(&platform.platform_id)
        .map(|p| p.name.clone())
        .unwrap_or_default();
    let report = match make_report(&service, platform.platform_id, q).await {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    match report {
        Ok(report) => html(StatusCode::OK, dashboard::render(&name, &report)),
        Err(AnalyticsError::Storage(e)) => html(
            StatusCode::SERVICE_UNAVAILABLE,
            dashboard::error(e.public_message(), &from, &to),
        ),
        Err(e @ AnalyticsError::Disabled) => html(
            StatusCode::NOT_FOUND,
            dashboard::error(&e.to_string(), &from, &to),
        ),
        Err(e) => html(
            StatusCode::BAD_REQUEST,
            dashboard::error(&e.to_string(), &from, &to),
        ),
    }
}

async fn dashboard_csv(
    State(service): S,
    headers: HeaderMap,
    Query(q): Query<RangeQuery>,
) -> Result<Response, ApiError> {
    let platform = signed_in(&service, &headers).map_err(|_| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "sign in to the dashboard first",
        )
    })?;
    let report = make_report(&service, platform.platform_id, q)
        .await?
        .map_err(analytics_api)?;
    Ok(csv_answer(&report))
}

/// Refuses a form posted from another site: its `Origin` (or `Sec-Fetch-Site`) must be ours.
fn same_origin(service: &Service, headers: &HeaderMap) -> bool {
    let value = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if value("sec-fetch-site").is_some_and(|s| s != "same-origin" && s != "none") {
        return false;
    }
    match value("origin") {
        None => true,
        Some(o) => {
            let ours = Origin::of(&service.flow.settings().public_url).ok();
            Origin::of(o)
                .ok()
                .is_some_and(|o| Some(&o) == ours.as_ref())
        }
    }
}

/// The form of the sign-in: `api_key=…`.
struct LoginForm {
    api_key: String,
}

async fn login(State(service): S, headers: HeaderMap, body: Bytes) -> Response {
    if !same_origin(&service, &headers) {
        return login_page(
            StatusCode::FORBIDDEN,
            Some("Sign in from this service's own page."),
        );
    }
    let Some(form) = read_login(&body) else {
        return login_page(
            StatusCode::BAD_REQUEST,
            Some("Give the platform's API key."),
        );
    };
    let Some(platform) = PlatformKey::of(&service, &form.api_key).and_then(|k| {
        service
            .flow
            .platforms()
            .iter()
            .find(|p| p.id == k.platform_id)
    }) else {
        return login_page(StatusCode::UNAUTHORIZED, Some("This key is not accepted."));
    };
    let expires = service.flow.now() + i64::try_from(SIGN_IN.as_secs()).unwrap_or(0);
    let value = ticket(&platform.id, &platform.api_key_sha256, expires);
    let cookie = cookies(&service).cookie(COOKIE, value, SIGN_IN);
    see_other(cookie.to_string())
}

async fn logout(State(service): S, headers: HeaderMap) -> Response {
    if !same_origin(&service, &headers) {
        return login_page(
            StatusCode::FORBIDDEN,
            Some("Sign out from this service's own page."),
        );
    }
    see_other(cookies(&service).removal(COOKIE).to_string())
}

/// 303 to the dashboard, setting `cookie`.
fn see_other(cookie: String) -> Response {
    let mut resp = StatusCode::SEE_OTHER.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::LOCATION,
        HeaderValue::from_static("/v1/analytics/dashboard"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        h.insert(header::SET_COOKIE, v);
    }
    resp
}

/// Reads `api_key` from an `application/x-www-form-urlencoded` body.
fn read_login(body: &[u8]) -> Option<LoginForm> {
    let [key] = civic_credential::form::fields(body, ["api_key"]).ok()?;
    key.filter(|k| !k.is_empty() && k.len() <= 512)
        .map(|api_key| LoginForm { api_key })
}
