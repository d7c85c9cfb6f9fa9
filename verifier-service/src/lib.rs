//! civic-verifier-service: the verifier as a REST service, for civic platforms not written in
//! Rust (Decidim, CONSUL, Your Priorities, …). A thin layer over `civic_verifier::Flow`:
//!
//! - Platforms (API key): `POST /v1/sessions {policy, redirect_uri?}` → `{id, openid4vp_url,
//!   request_uri, qr_svg, expires_at}`; `GET /v1/sessions/{id}[?response_code=]` → the outcome.
//! - Wallets: `GET /v1/request/{id}` (the request object), `POST /v1/response/{id}`
//!   (`direct_post`); `/.well-known/did.json` when request objects are signed.
//! - Results also go to the platform's webhook, signed ([`webhook`]).
//! - Engagement analytics ([`analytics`]): `GET /v1/analytics/report` (JSON) and
//!   `/v1/analytics/report.csv` with the API key; the operator's dashboard
//!   `/v1/analytics/dashboard` ([`dashboard`]: server-side SVG, no script), signed in with the
//!   API key posted in a form and kept in an `HttpOnly`, `SameSite=Strict` cookie.
//!
//! The same-device flow returns `redirect_uri?response_code=…` to the wallet; the platform must
//! present that code to read the result, so a session started by someone else cannot be
//! completed into the resident's browser (session fixation).
//!
//! Errors of the flow become answers in [`error`] only; the platform guard is an extractor
//! ([`guards`]). Platforms that run the library in-process mount [`wallet_routes`] only.

pub mod analytics;
pub mod dashboard;
pub mod error;
pub mod guards;
pub mod metrics;
mod routes;
pub mod webhook;

use std::path::Path;
use std::sync::Arc;

use civic_service::SharedClock;
use civic_storage::postgres::PgOptions;
use civic_verifier::analytics::AnalyticsStore;
use civic_verifier::fetch::HttpFetcher;
use civic_verifier::flow::Flow;
use civic_verifier::pg_store::PgStore;
use civic_verifier::store::{SessionStore, SledStore};
use civic_verifier::VerifierConfig;

pub use routes::{router, wallet_routes};

/// The running service: the flow, and its counters.
pub struct Service {
    /// The eligibility check.
    pub flow: Arc<Flow>,
    /// Counters for `/metrics`.
    pub metrics: metrics::Metrics,
    /// The largest request body accepted.
    pub max_body_bytes: usize,
}

impl Service {
    /// The service around `flow`.
    pub fn new(flow: Arc<Flow>, max_body_bytes: usize) -> Self {
        Service {
            flow,
            metrics: metrics::Metrics::default(),
            max_body_bytes,
        }
    }

    /// Builds the whole deployment a configuration file describes: the session store (the
    /// PostgreSQL `database`, or sled in its `data_dir`), an HTTP fetcher for trust material, and signed webhooks. Must be called
    /// inside a tokio runtime (webhooks are delivered on it).
    pub fn from_config(config: &VerifierConfig, clock: SharedClock) -> anyhow::Result<Self> {
        // Sessions and analytics live in the same database.
        let (store, counts): (Arc<dyn SessionStore>, Arc<dyn AnalyticsStore>) = match &config
            .database
        {
            Some(url) => {
                let pg = Arc::new(PgStore::open(
                    url,
                    &PgOptions {
                        application_name: "civic-verifier".into(),
                        max_connections: config.database_max_connections,
                        ca_file: config.database_ca_file.clone(),
                        ..PgOptions::default()
                    },
                )?);
                (pg.clone(), pg)
            }
            None => {
                let sled = Arc::new(SledStore::open(&config.data_dir, config.storage_options())?);
                (sled.clone(), sled)
            }
        };
        let fetcher = HttpFetcher::new(config.allow_loopback_http)?;
        let notifier = webhook::WebhookNotifier::new(clock.clone())?;
        let mut flow = config
            .open_flow(Arc::new(fetcher), store, clock)?
            .with_notifier(Arc::new(notifier));
        if let Some(analytics) = config.open_analytics(counts) {
            flow = flow.with_analytics(analytics);
        }
        Ok(Service::new(Arc::new(flow), config.max_body_bytes))
    }

    /// Loads `path` and builds the deployment it describes (see [`Service::from_config`]).
    pub fn load(path: &Path, clock: SharedClock) -> anyhow::Result<(VerifierConfig, Self)> {
        let config = VerifierConfig::load(path)?;
        let service = Self::from_config(&config, clock)?;
        Ok((config, service))
    }
}

/// Serves `service` on `listener` until Ctrl-C or SIGTERM, purging old sessions every five
/// minutes.
pub async fn serve(
    service: Arc<Service>,
    listener: tokio::net::TcpListener,
) -> std::io::Result<()> {
    let flow = service.flow.clone();
    civic_service::run::every(std::time::Duration::from_secs(300), move || {
        if let Err(e) = flow.purge() {
            tracing::warn!(error = %e, "purging old sessions failed");
        }
        std::ops::ControlFlow::Continue(())
    });
    tracing::info!(addr = %listener.local_addr()?, public_url = %service.flow.settings().public_url, "civic-verifier listening");
    civic_service::run::serve(listener, router(service)).await
}
