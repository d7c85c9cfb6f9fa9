//! Shared pieces of the civic platform examples (`src/bin/`): each is a small axum app that runs
//! the civic-verifier library in-process.
//!
//! - [`Checks`]: the verifier set up from a [`ServiceConfig`], eligibility sessions bound to the
//!   browser that started them, the wallet prompt (QR code, same-device link, status polling)
//!   and the [`Outcome`] of a check.
//! - [`page`], [`escape`], [`assets`]: server-rendered pages under a strict Content-Security-Policy,
//!   with the one small script (`/static/app.js`) and style sheet they use.
//! - [`run`], [`open_records`]: the command line (`--config FILE`) and each app's own sled database.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::{Digest, Sha256};

use civic_credential::encoding::{b64_encode, ct_eq};
use civic_credential::sd_jwt::{ClaimPath, PathElement};
use civic_verifier::policy::Policy;
use civic_verifier::server::config::ServiceConfig;
use civic_verifier::server::{now, AppState, CreatedSession};
use civic_verifier::session::SessionState;

/// The Content-Security-Policy of every page: nothing inline, nothing from elsewhere.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
                       connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// How long after its request expired an accepted check may still be used (to vote, answer or
/// comment).
pub const RESULT_GRACE_SECS: i64 = 900;

/// The cookie that binds a check to the browser that started it.
const COOKIE: &str = "civic_check";

/// Escapes `text` for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

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
    let mut r = (status, html).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    secure_headers(h);
    r
}

fn secure_headers(h: &mut HeaderMap) {
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        // Not `no-referrer`: with it Chromium posts our own forms with `Origin: null`, and the
        // same-origin check on votes would refuse them.
        (header::REFERRER_POLICY, "same-origin"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::CACHE_CONTROL, "no-store"),
    ] {
        h.insert(name, HeaderValue::from_static(value));
    }
}

/// `/static/app.js` (the status poller) and `/static/app.css`.
pub fn assets() -> Router {
    fn asset(body: &'static str, kind: &'static str) -> Response {
        let headers = [
            (header::CONTENT_TYPE, kind),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ];
        (headers, body).into_response()
    }
    let js = || async {
        asset(
            include_str!("../static/app.js"),
            "text/javascript; charset=utf-8",
        )
    };
    let css = || async { asset(include_str!("../static/app.css"), "text/css; charset=utf-8") };
    Router::new()
        .route("/static/app.js", get(js))
        .route("/static/app.css", get(css))
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

/// Where a check stands, as the app sees it. Only an accepted, eligible check carries the
/// pseudonym; nothing else about the resident ever reaches the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Waiting for the wallet (or the presentation is being verified).
    Pending,
    /// Every rule of the policy held.
    Eligible {
        /// The resident's pairwise pseudonym for this platform.
        pseudonym: String,
    },
    /// The presentation was valid but a rule did not hold.
    NotEligible,
    /// The presentation was refused; `rule` names the broken verification rule.
    Rejected {
        /// The verifier's stable rule name, e.g. `untrusted_issuer`.
        rule: String,
    },
    /// The resident declined in the wallet.
    Declined,
    /// Too late: the request expired, or the result is too old to use.
    Expired,
}

impl Outcome {
    /// The status word used by the polling endpoint.
    pub fn status(&self) -> &'static str {
        match self {
            Outcome::Pending => "pending",
            Outcome::Eligible { .. } => "eligible",
            Outcome::NotEligible => "not_eligible",
            Outcome::Rejected { .. } => "rejected",
            Outcome::Declined => "declined",
            Outcome::Expired => "expired",
        }
    }

    /// A sentence for the resident.
    pub fn message(&self) -> String {
        match self {
            Outcome::Pending => "Waiting for your wallet…".into(),
            Outcome::Eligible { .. } => "Checked: you can take part.".into(),
            Outcome::NotEligible => {
                "Checked: this is not open to you. Nothing about you was stored.".into()
            }
            Outcome::Rejected { rule } => format!(
                "Your wallet's answer could not be accepted ({rule}). Nothing about you was stored."
            ),
            Outcome::Declined => "You declined in your wallet. Nothing was shared.".into(),
            Outcome::Expired => "This check has expired. Please start again.".into(),
        }
    }
}

/// A started check: what to show, and the cookie that binds it to this browser.
pub struct Started {
    /// The session (its QR code, link and id).
    pub session: CreatedSession,
    /// The `Set-Cookie` value.
    pub cookie: HeaderValue,
}

/// The civic-verifier library in-process: one platform and one of its policies, from the config.
pub struct Checks {
    /// The verifier's state (configuration, verifier, session store).
    pub state: Arc<AppState>,
    platform_id: String,
    policy: Policy,
    secret: [u8; 32],
    secure_cookie: bool,
}

impl Checks {
    /// Sets up the verifier from `config` (trust list, session store) for the platform that has a
    /// policy named `policy`, which must require the pseudonym. Spawns the session purge when
    /// called inside a tokio runtime.
    pub fn new(config: ServiceConfig, policy: &str) -> anyhow::Result<Self> {
        let (platform_id, found) = config
            .platforms
            .iter()
            .find_map(|p| {
                p.policies
                    .iter()
                    .find(|x| x.name == policy)
                    .map(|x| (p.id.clone(), x.clone()))
            })
            .ok_or_else(|| {
                anyhow::anyhow!("no [[platform.policy]] named {policy:?} in the configuration")
            })?;
        if !found.pseudonym {
            anyhow::bail!("policy {policy:?} must set `pseudonym = true`: the app counts one entry per resident");
        }
        let secure_cookie = config.public_url.starts_with("https://");
        let state = Arc::new(AppState::new(config)?);
        let mut secret = [0u8; 32];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut secret);
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            let weak = Arc::downgrade(&state);
            rt.spawn(async move {
                loop {
                    tokio::time::sleep(std::time::Duration::from_secs(300)).await;
                    let Some(s) = weak.upgrade() else { break };
                    let _ = tokio::task::spawn_blocking(move || s.store.purge(now())).await;
                }
            });
        }
        Ok(Checks {
            state,
            platform_id,
            policy: found,
            secret,
            secure_cookie,
        })
    }

    /// The platform id (the pseudonyms in credentials are computed for it).
    pub fn platform_id(&self) -> &str {
        &self.platform_id
    }

    /// The verifier's router: the wallet endpoints `/v1/request/{id}` and `/v1/response/{id}`
    /// (and the rest of the verifier service), to merge into the app's router.
    pub fn wallet_routes(&self) -> Router {
        civic_verifier::server::router(self.state.clone())
    }

    fn binding(&self, id: &str) -> String {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.secret) else {
            unreachable!("HMAC takes keys of any length")
        };
        mac.update(id.as_bytes());
        b64_encode(&mac.finalize().into_bytes())
    }

    /// Opens an eligibility session for the policy.
    pub async fn start(&self) -> Result<Started, Failure> {
        let session = self
            .state
            .create_session(&self.platform_id, &self.policy.name, None)
            .await
            .map_err(|e| Failure::unavailable("creating a session", &e))?;
        let max_age = (session.expires_at - now()).max(0) + RESULT_GRACE_SECS;
        let secure = if self.secure_cookie { "; Secure" } else { "" };
        let cookie = format!(
            "{COOKIE}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}",
            self.binding(&session.id)
        );
        let cookie =
            HeaderValue::from_str(&cookie).map_err(|e| Failure::unavailable("cookie", &e))?;
        Ok(Started { session, cookie })
    }

    /// The outcome of check `id`, for the browser that started it (403 for any other browser,
    /// 404 for an unknown or purged check).
    pub async fn outcome(&self, headers: &HeaderMap, id: &str) -> Result<Outcome, Failure> {
        let cookie = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .find_map(|c| c.trim().strip_prefix(COOKIE)?.strip_prefix('='))
            .unwrap_or("");
        if id.len() > 64 || !ct_eq(cookie.as_bytes(), self.binding(id).as_bytes()) {
            return Err(Failure::new(
                403,
                "This check was started in another browser. Please start again here.",
            ));
        }
        let session = self
            .state
            .session(id)
            .await
            .map_err(|e| Failure::unavailable("reading a session", &e))?
            .filter(|s| s.platform_id == self.platform_id)
            .ok_or_else(|| {
                Failure::new(
                    404,
                    "This check does not exist any more. Please start again.",
                )
            })?;
        let t = now();
        Ok(match session.state_now {
            _ if t >= session.expires + RESULT_GRACE_SECS => Outcome::Expired,
            SessionState::Pending if t >= session.expires => Outcome::Expired,
            SessionState::Pending | SessionState::Verifying => Outcome::Pending,
            SessionState::Complete { eligibility } => match eligibility.pseudonym {
                Some(pseudonym) if eligibility.eligible => Outcome::Eligible { pseudonym },
                _ => Outcome::NotEligible,
            },
            SessionState::Rejected { rejection } => Outcome::Rejected {
                rule: rejection.rule,
            },
            SessionState::Declined => Outcome::Declined,
        })
    }

    /// The pseudonym of an eligible check, for a state-changing request: the request must come
    /// from this site (`Origin`, when sent) and from the browser that started the check.
    pub async fn eligible(&self, headers: &HeaderMap, id: &str) -> Result<String, Failure> {
        self.same_origin(headers)?;
        match self.outcome(headers, id).await? {
            Outcome::Eligible { pseudonym } => Ok(pseudonym),
            other => Err(Failure::new(403, other.message())),
        }
    }

    /// Refuses a form posted from another site: its `Origin` (when the browser sends one) must be
    /// the configured `public_url`'s.
    pub fn same_origin(&self, headers: &HeaderMap) -> Result<(), Failure> {
        match headers.get(header::ORIGIN) {
            Some(o) if o.as_bytes() != origin_of(&self.state.config.public_url).as_bytes() => {
                Err(Failure::new(403, "This form was sent from another site."))
            }
            _ => Ok(()),
        }
    }

    /// The polling endpoint: `{status, message}` as JSON, never the pseudonym.
    pub async fn status_json(&self, headers: &HeaderMap, id: &str) -> Response {
        let (code, body) = match self.outcome(headers, id).await {
            Ok(o) => (
                StatusCode::OK,
                json!({ "status": o.status(), "message": o.message() }),
            ),
            Err(f) => (f.status, json!({ "status": "error", "message": f.message })),
        };
        let mut r = (code, axum::Json(body)).into_response();
        secure_headers(r.headers_mut());
        r
    }

    /// Starts a check and answers with the wallet prompt page (QR code, same-device link, polling
    /// `{prefix}/{id}/status`, continuing to `{prefix}/{id}`), setting the browser-binding cookie.
    pub async fn start_page(
        &self,
        site: &str,
        title: &str,
        prefix: &str,
    ) -> Result<Response, Failure> {
        let started = self.start().await?;
        let id = &started.session.id;
        let body = self.prompt(
            &started.session,
            &format!("{prefix}/{id}/status"),
            &format!("{prefix}/{id}"),
        );
        let mut r = page(site, title, &body);
        r.headers_mut().insert(header::SET_COOKIE, started.cookie);
        Ok(r)
    }

    /// The wallet prompt: QR code, same-device link, what is asked for, and a live region that
    /// `/static/app.js` fills by polling `poll`, moving on to `next` once the wallet answered.
    pub fn prompt(&self, started: &CreatedSession, poll: &str, next: &str) -> String {
        let svg = started
            .qr_svg
            .find("<svg")
            .map_or("", |i| &started.qr_svg[i..]);
        let asked: String = self
            .policy
            .requested_paths(&self.platform_id)
            .iter()
            .map(|p| format!("<li>{}</li>", escape(&label(p))))
            .collect();
        let minutes = (started.expires_at - now()).max(0) / 60;
        format!(
            "<section aria-labelledby=\"share\">\n<h2 id=\"share\">Show your residency credential</h2>\n\
             <p>Scan this code with your wallet app, or open your wallet on this device.</p>\n\
             <div class=\"qr\" role=\"img\" aria-label=\"QR code to open the request in your wallet\">{svg}</div>\n\
             <p><a id=\"wallet-link\" class=\"button\" href=\"{link}\">Open my wallet on this device</a></p>\n\
             <p>Your wallet asks for your consent and then shares only:</p>\n<ul>{asked}</ul>\n\
             <p id=\"check-status\" role=\"status\" aria-live=\"polite\" data-poll=\"{poll}\" data-next=\"{next}\">\
             Waiting for your wallet…</p>\n\
             <p><a href=\"{next}\">I have shared it: continue</a></p>\n\
             <p class=\"small\">The request is valid for about {minutes} minutes.</p>\n</section>",
            link = escape(&started.openid4vp_url),
            poll = escape(poll),
            next = escape(next),
        )
    }
}

/// What a requested claim means, in words.
fn label(path: &ClaimPath) -> String {
    let keys: Vec<&str> = path
        .0
        .iter()
        .map(|e| match e {
            PathElement::Key(k) => k.as_str(),
            _ => "*",
        })
        .collect();
    match keys.as_slice() {
        ["residence", "municipality_code"] => "your municipality".into(),
        ["residence", "district"] => "your district".into(),
        ["age_equal_or_over", n] => format!("whether you are {n} or older (not your birthdate)"),
        ["pseudonyms", _] => "a pseudonym known only to this platform".into(),
        other => other.join("."),
    }
}

/// `scheme://host[:port]` of a URL.
fn origin_of(url: &str) -> &str {
    let after = url.find("://").map_or(0, |i| i + 3);
    url[after..].find('/').map_or(url, |i| &url[..after + i])
}

/// A short, stable public tag for a pseudonym: the first 8 hex digits of its SHA-256.
pub fn short_hash(pseudonym: &str) -> String {
    Sha256::digest(pseudonym.as_bytes())
        .iter()
        .take(4)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `YYYY-MM-DD HH:MM UTC` of a Unix time.
pub fn utc(t: i64) -> String {
    let date = civic_credential::residency::Date::from_unix(t);
    let secs = t.rem_euclid(86_400);
    format!("{date} {:02}:{:02} UTC", secs / 3600, secs % 3600 / 60)
}

/// The app's own records directory: next to the verifier's `data_dir`, named after the app
/// (`data/verifier` → `data/participatory_budget`).
pub fn records_dir(config: &ServiceConfig, app: &str) -> PathBuf {
    config.data_dir.parent().unwrap_or(Path::new(".")).join(app)
}

/// Opens the app's sled database in [`records_dir`].
pub fn open_records(config: &ServiceConfig, app: &str) -> anyhow::Result<sled::Db> {
    let dir = records_dir(config, app);
    sled::Config::new()
        .path(&dir)
        .flush_every_ms(None)
        .open()
        .map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))
}

/// Runs an example: reads `--config FILE`, builds the app with `build` inside the runtime and
/// serves it on the configuration's `listen` address until Ctrl-C or SIGTERM.
pub fn run(name: &str, build: fn(ServiceConfig) -> anyhow::Result<Router>) -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let result = config_path(name).and_then(|path| {
        let config = ServiceConfig::load(&path)?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        rt.block_on(async move {
            let listen = config.listen.clone();
            let public = config.public_url.clone();
            let app = build(config)?;
            let listener = tokio::net::TcpListener::bind(&listen).await?;
            tracing::info!(addr = %listener.local_addr()?, "{name} listening");
            println!("{name}: open {public}/ (listening on {listen}; Ctrl-C stops)");
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown())
                .await?;
            Ok(())
        })
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{name}: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn config_path(name: &str) -> anyhow::Result<PathBuf> {
    let mut args = std::env::args().skip(1);
    match (args.next().as_deref(), args.next(), args.next()) {
        (Some("--config"), Some(path), None) => Ok(PathBuf::from(path)),
        _ => anyhow::bail!("usage: {name} --config examples/{name}/config.toml"),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_and_helpers() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(origin_of("http://localhost:8091"), "http://localhost:8091");
        assert_eq!(
            origin_of("https://budget.example/app/x"),
            "https://budget.example"
        );
        assert_eq!(short_hash("abc"), "ba7816bf");
        assert_eq!(utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc(951_782_400 + 3_723), "2000-02-29 01:02 UTC");
        assert_eq!(
            label(&ClaimPath::keys(["age_equal_or_over", "16"])),
            "whether you are 16 or older (not your birthdate)"
        );
        assert_eq!(label(&ClaimPath::keys(["a", "b"])), "a.b");
    }
}
