//! Delivering results to platforms' webhooks: the [`Notification`] body, signed as
//! `civic_verifier::webhook` says, POSTed with retries and back-off on the service's runtime.

use civic_service::SharedClock;
use civic_verifier::session::{Session, SessionStatus};
use civic_verifier::webhook::{signature, Notification, SIGNATURE_HEADER};
use civic_verifier::{flow::Notifier, Platform};

/// Attempts per delivery.
const ATTEMPTS: u32 = 4;

/// Posts every outcome to its platform's webhook (if the platform has one).
pub struct WebhookNotifier {
    client: reqwest::Client,
    clock: SharedClock,
    runtime: tokio::runtime::Handle,
}

impl WebhookNotifier {
    /// A notifier delivering on the current tokio runtime, with a 10 s timeout and no redirects.
    pub fn new(clock: SharedClock) -> anyhow::Result<Self> {
        Ok(WebhookNotifier {
            client: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(10))
                .redirect(reqwest::redirect::Policy::none())
                .build()?,
            clock,
            runtime: tokio::runtime::Handle::try_current()?,
        })
    }
}

impl Notifier for WebhookNotifier {
    fn notify(&self, platform: &Platform, session: &Session, outcome: &SessionStatus) {
        let (Some(url), Some(secret)) = (&platform.webhook_url, &platform.webhook_secret) else {
            return;
        };
        let body = match serde_json::to_string(&Notification {
            outcome,
            id: &session.id,
        }) {
            Ok(body) => body,
            Err(e) => {
                tracing::error!(error = %e, "webhook body");
                return;
            }
        };
        self.runtime.spawn(deliver(
            self.client.clone(),
            url.clone(),
            secret.clone(),
            body,
            self.clock.clone(),
        ));
    }
}

/// Posts `body` to `url`, retrying with back-off; logs the outcome, never the body.
async fn deliver(
    client: reqwest::Client,
    url: String,
    secret: String,
    body: String,
    clock: SharedClock,
) {
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(500 * 2u64.pow(attempt))).await;
        }
        let sent = client
            .post(&url)
            .header("content-type", "application/json")
            .header(SIGNATURE_HEADER, signature(&secret, clock.now(), &body))
            .body(body.clone())
            .send()
            .await;
        match sent {
            Ok(r) if r.status().is_success() => {
                tracing::info!(url, attempt, "webhook delivered");
                return;
            }
            Ok(r) => tracing::warn!(
                url,
                attempt,
                status = r.status().as_u16(),
                "webhook refused"
            ),
            Err(e) => tracing::warn!(url, attempt, error = %e, "webhook failed"),
        }
    }
    tracing::error!(url, "webhook gave up after {ATTEMPTS} attempts");
}
