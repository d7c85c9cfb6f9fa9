//! The HTTP edge of the issuer: one axum router over a shared [`Issuer`]. Handlers are thin: a
//! guard ([`guards`]) and a parsed body in, one call into a step service, an answer out. Domain
//! errors become HTTP answers in [`error`] only.

mod admin;
mod error;
mod guards;
mod messages;
mod oid4vci;
mod ops;
mod pages;
mod resident;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;

use civic_service::client_addr::TrustedProxies;
use civic_service::cookies::CookiePolicy;
use civic_service::layers::{json_rejections, SecurityHeaders};
use civic_service::rate_limit::PerAddress;
use civic_service::run::blocking;
use civic_service::ApiError;

use crate::issuer::Issuer;

/// The Content-Security-Policy of the issuer: its own scripts and styles only (QR codes are
/// inline SVG, favicons a `data:` URL).
const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
                   frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// What handlers share: the issuer, the per-address rate limits of the ceremony endpoints and of
/// PAR and the token endpoint, and how cookies are made.
#[derive(Clone)]
pub struct AppState {
    /// The issuer.
    pub issuer: Arc<Issuer>,
    limiter: Arc<PerAddress>,
    /// The per-address rate limit of PAR and the token endpoint.
    oauth_limiter: Arc<PerAddress>,
    cookies: CookiePolicy,
}

impl AppState {
    /// Runs `work` against the issuer on a blocking thread, then makes its writes durable, so
    /// no answer goes out for work that is not on disk. (Whatever the outcome: a failed try,
    /// such as a wrong code, counts too.)
    pub(crate) async fn run<T, E>(
        &self,
        work: impl FnOnce(&Issuer) -> Result<T, E> + Send + 'static,
    ) -> Result<T, ApiError>
    where
        T: Send + 'static,
        E: Into<ApiError>,
    {
        let issuer = self.issuer.clone();
        blocking(move || {
            let result = work(&issuer).map_err(Into::into);
            issuer.sync()?;
            result
        })
        .await
    }
}

/// The full router.
pub fn router(issuer: Arc<Issuer>) -> Router {
    let config = &issuer.context.config;
    let max_body = config.max_body_bytes as usize;
    // Checked when the configuration loaded.
    let proxies = TrustedProxies::parse(&config.trusted_proxies)
        .unwrap_or_default()
        .with_header(config.forwarded_header);
    let state = AppState {
        limiter: Arc::new(PerAddress::per_minute(config.rate_limit_per_minute)),
        oauth_limiter: Arc::new(PerAddress::per_minute(config.oauth_rate_limit_per_minute)),
        cookies: CookiePolicy::for_url(&config.public_url),
        issuer,
    };
    let app = Router::new()
        .merge(ops::routes())
        .merge(oid4vci::routes())
        .merge(pages::routes())
        .merge(resident::routes())
        .merge(admin::routes())
        .fallback(|| async { ApiError::not_found("no such endpoint") })
        .layer(DefaultBodyLimit::max(max_body))
        .layer(middleware::map_response(json_rejections))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .layer(axum::Extension(proxies))
        .with_state(state);
    SecurityHeaders {
        content_security_policy: CSP,
        referrer_policy: "no-referrer",
    }
    .apply(app)
}

/// Serves `issuer` on `listener` until Ctrl-C or SIGTERM, purging expired codes and sessions
/// every minute.
pub async fn serve(issuer: Arc<Issuer>, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    let purger = issuer.clone();
    civic_service::run::every(std::time::Duration::from_secs(60), move || {
        // Synced like every request, so no unsynced write lingers on the thread.
        let now = purger.context.now();
        let purged = purger
            .store()
            .purge_expired(now)
            .and_then(|_| purger.sync());
        if let Err(e) = purged {
            tracing::warn!(error = %e, "purging expired objects failed");
        }
        std::ops::ControlFlow::Continue(())
    });
    let addr: SocketAddr = listener.local_addr()?;
    tracing::info!(%addr, public_url = %issuer.context.config.public_url, "civic-issuer listening");
    civic_service::run::serve(listener, router(issuer)).await
}

/// Logs each request (method, route, status, time; never query strings, bodies or cookies) and
/// counts it for `/metrics`.
async fn observe(State(app): State<AppState>, req: Request<Body>, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let resp = next.run(req).await;
    let status = resp.status().as_u16();
    app.issuer.context.metrics.request(&route, status);
    let ms = u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX);
    tracing::info!(%method, route, status, ms, "request");
    resp
}
