//! Server-rendered pages under a strict Content-Security-Policy, with the one small script
//! (`/static/app.js`) and style sheet they use, and failures shown as pages.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use civic_service::layers::SecurityHeaders;
use civic_service::respond::asset;

use crate::messages::{lang_tag, t};

pub use civic_service::html::escape;

/// The Content-Security-Policy of every page: nothing inline, nothing from elsewhere.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
                       connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// A complete page (status 200): `site` and `title` are text, `body` is HTML the caller built
/// with [`escape`].
pub fn page(site: &str, title: &str, body: &str) -> Response {
    page_with_status(StatusCode::OK, site, title, body)
}

/// A complete page with the given status, security headers and `Cache-Control: no-store`.
pub fn page_with_status(status: StatusCode, site: &str, title: &str, body: &str) -> Response {
    let header_html = if site.is_empty() {
        String::new()
    } else {
        format!(
            "<header><p class=\"site\"><a href=\"/\">{}</a></p></header>\n",
            escape(site)
        )
    };
    let full_title = if site.is_empty() {
        escape(title)
    } else {
        format!("{} · {}", escape(title), escape(site))
    };
    let html = format!(
        "<!doctype html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{full_title}</title>\n<link rel=\"stylesheet\" href=\"/static/app.css\">\n\
         <script src=\"/static/app.js\" defer></script>\n</head>\n<body>\n{header_html}\
         <main id=\"main\">\n<h1>{}</h1>\n{body}\n</main>\n<footer><p>{}</p></footer>\n</body>\n</html>\n",
        escape(title),
        escape(&t("footer")),
        lang = escape(&lang_tag()),
    );
    let headers = [
        (header::CONTENT_TYPE, "text/html; charset=utf-8"),
        (header::CACHE_CONTROL, "no-store"),
    ];
    (status, headers, html).into_response()
}

/// The security headers of every answer of an example app (see [`CSP`]); each app's router
/// applies them.
pub const SECURITY_HEADERS: SecurityHeaders = SecurityHeaders {
    content_security_policy: CSP,
    // Not `no-referrer`: with it Chromium posts our own forms with `Origin: null`, and the
    // same-origin check on votes would refuse them.
    referrer_policy: "same-origin",
};

/// `/static/app.js` (the status poller), `/static/app.css`, and `/healthz` for operators.
pub fn assets() -> Router {
    const CACHE: &str = "public, max-age=300";
    let js = || async {
        asset(
            include_str!("../static/app.js"),
            "text/javascript; charset=utf-8",
            CACHE,
        )
    };
    let css = || async {
        asset(
            include_str!("../static/app.css"),
            "text/css; charset=utf-8",
            CACHE,
        )
    };
    let health = || async { axum::Json(serde_json::json!({ "status": "ok" })) };
    Router::new()
        .route("/static/app.js", get(js))
        .route("/static/app.css", get(css))
        .route("/healthz", get(health))
}

/// A failure shown to the resident as a page: a status and a plain message.
#[derive(Debug)]
pub struct Failure {
    /// The HTTP status.
    pub status: StatusCode,
    /// What went wrong, for the resident.
    pub message: String,
}

impl Failure {
    /// A failure with status `status` (4xx/5xx).
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        Failure {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            message: message.into(),
        }
    }

    fn unavailable(what: &str, error: &dyn std::fmt::Debug) -> Self {
        tracing::error!(?error, "{what}");
        Failure::new(503, t("failure-unavailable"))
    }
}

impl From<civic_verifier::flow::FlowError> for Failure {
    fn from(e: civic_verifier::flow::FlowError) -> Self {
        Failure::unavailable("eligibility check", &e)
    }
}

impl From<civic_service::ApiError> for Failure {
    fn from(e: civic_service::ApiError) -> Self {
        Failure::unavailable("eligibility check", &e)
    }
}

impl From<sled::Error> for Failure {
    fn from(e: sled::Error) -> Self {
        Failure::unavailable("records database", &e)
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let title = t(match self.status.as_u16() {
            400 | 422 => "failure-title-input",
            403 => "failure-title-forbidden",
            404 => "failure-title-not-found",
            409 => "failure-title-done",
            _ => "failure-title-unavailable",
        });
        let body = format!(
            "<p>{}</p>\n<p><a href=\"/\">{}</a></p>",
            escape(&self.message),
            escape(&t("back-to-start"))
        );
        page_with_status(self.status, "", &title, &body)
    }
}
