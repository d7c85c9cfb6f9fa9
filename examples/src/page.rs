//! Server-rendered pages under a strict Content-Security-Policy, with the one small script
//! (`/static/app.js`) and style sheet they use, and failures shown as pages.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use civic_service::layers::SecurityHeaders;
use civic_service::respond::asset;

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
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{full_title}</title>\n<link rel=\"stylesheet\" href=\"/static/app.css\">\n\
         <script src=\"/static/app.js\" defer></script>\n</head>\n<body>\n{header_html}\
         <main id=\"main\">\n<h1>{}</h1>\n{body}\n</main>\n<footer><p>A fictional example of a civic \
         platform using civic-id: it learns whether you are eligible and a pseudonym, never your \
         name, birthdate or address.</p></footer>\n</body>\n</html>\n",
        escape(title)
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
        Failure::new(
            503,
            "The service is temporarily unavailable. Please try again in a moment.",
        )
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
        let title = match self.status.as_u16() {
            400 | 422 => "Please check your input",
            403 => "Not possible",
            404 => "Not found",
            409 => "Already done",
            _ => "Temporarily unavailable",
        };
        let body = format!(
            "<p>{}</p>\n<p><a href=\"/\">Back to the start page</a></p>",
            escape(&self.message)
        );
        page_with_status(self.status, "", title, &body)
    }
}
