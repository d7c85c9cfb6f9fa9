//! [`Checks`]: the civic-verifier library in-process for one platform and one of its policies:
//! eligibility sessions bound to the browser that started them, the wallet prompt (QR code,
//! same-device link, status polling) and the [`Outcome`] of a check.

use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::Duration;

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::json;

use civic_credential::crypto::hmac_sha256;
use civic_credential::encoding::{b64_encode, ct_eq};
use civic_credential::residency::labels::request_phrase;
use civic_credential::sd_jwt::{ClaimPath, PathElement};
use civic_service::cookies::{Cookie, CookieJar, CookiePolicy};
use civic_service::run::blocking;
use civic_service::{SharedClock, SystemClock};
use civic_verifier::fetch::HttpFetcher;
use civic_verifier::flow::{CreatedSession, Flow};
use civic_verifier::policy::Policy;
use civic_verifier::session::SessionStatus;
use civic_verifier::store::SledStore;
use civic_verifier::VerifierConfig;
use civic_verifier_service::Service;

use crate::messages::{f, t};
use crate::page::{escape, page, Failure};

/// How long after its request expired an accepted check may still be used (to vote, answer or
/// comment).
pub const RESULT_GRACE_SECS: i64 = 900;

/// The cookie that binds a check to the browser that started it.
const COOKIE: &str = "civic_check";

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

    /// A sentence for the resident, in the request's language.
    pub fn message(&self) -> String {
        match self {
            Outcome::Pending => t("outcome-pending"),
            Outcome::Eligible { .. } => t("outcome-eligible"),
            Outcome::NotEligible => t("outcome-not-eligible"),
            Outcome::Rejected { rule } => f("outcome-rejected", &[("rule", rule.as_str().into())]),
            Outcome::Declined => t("outcome-declined"),
            Outcome::Expired => t("outcome-expired"),
        }
    }
}

/// A started check: what to show, and the cookie that binds it to this browser.
pub struct Started {
    /// The session (its QR code, link and id).
    pub session: CreatedSession,
    /// The browser-binding cookie.
    pub cookie: Cookie<'static>,
}

/// The civic-verifier library in-process: one platform and one of its policies, from the config.
pub struct Checks {
    /// The eligibility check (the library's [`Flow`]).
    pub flow: Arc<Flow>,
    /// The wallet endpoints around it (`civic-verifier-service`).
    service: Arc<Service>,
    platform_id: String,
    policy: Policy,
    secret: [u8; 32],
    cookies: CookiePolicy,
}

impl Checks {
    /// Sets up the verifier from `config` (trust list, sled session store, HTTP fetcher) for the
    /// platform that has a policy named `policy`, which must require the pseudonym. Spawns the
    /// session purge when called inside a tokio runtime.
    pub fn new(config: VerifierConfig, policy: &str) -> anyhow::Result<Self> {
        Self::with_clock(config, policy, SystemClock::shared())
    }

    /// Like [`Checks::new`], reading time from `clock` (tests move a manual clock).
    pub fn with_clock(
        config: VerifierConfig,
        policy: &str,
        clock: SharedClock,
    ) -> anyhow::Result<Self> {
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
        let store = SledStore::open(&config.data_dir, config.storage_options())?;
        let flow = Arc::new(config.open_flow(
            Arc::new(HttpFetcher::new(config.allow_loopback_http)?),
            Arc::new(store),
            clock,
        )?);
        let service = Arc::new(Service::new(flow.clone(), config.max_body_bytes));
        let mut secret = [0u8; 32];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut secret);
        if tokio::runtime::Handle::try_current().is_ok() {
            let weak = Arc::downgrade(&flow);
            civic_service::run::every(Duration::from_secs(300), move || match weak.upgrade() {
                Some(flow) => {
                    if let Err(e) = flow.purge() {
                        tracing::warn!(error = %e, "purging old sessions failed");
                    }
                    ControlFlow::Continue(())
                }
                None => ControlFlow::Break(()),
            });
        }
        Ok(Checks {
            cookies: CookiePolicy::for_url(&config.public_url),
            flow,
            service,
            platform_id,
            policy: found,
            secret,
        })
    }

    /// The platform id (the pseudonyms in credentials are computed for it).
    pub fn platform_id(&self) -> &str {
        &self.platform_id
    }

    /// Now, from the flow's clock.
    pub fn now(&self) -> i64 {
        self.flow.now()
    }

    /// The verifier's wallet endpoints `/v1/request/{id}` and `/v1/response/{id}`, to merge into
    /// the app's router.
    pub fn wallet_routes(&self) -> Router {
        civic_verifier_service::wallet_routes(self.service.clone())
    }

    fn binding(&self, id: &str) -> String {
        b64_encode(&hmac_sha256(&self.secret, &[id.as_bytes()]))
    }

    /// Opens an eligibility session for the policy.
    pub async fn start(&self) -> Result<Started, Failure> {
        let flow = self.flow.clone();
        let (platform, policy) = (self.platform_id.clone(), self.policy.name.clone());
        let session =
            blocking(move || flow.create(&platform, &policy, None).map_err(Failure::from)).await?;
        let max_age = (session.expires_at - self.now()).max(0) + RESULT_GRACE_SECS;
        let cookie = self.cookies.cookie(
            COOKIE,
            self.binding(&session.id),
            Duration::from_secs(u64::try_from(max_age).unwrap_or(0)),
        );
        Ok(Started { session, cookie })
    }

    /// The outcome of check `id`, for the browser that started it (403 for any other browser,
    /// 404 for an unknown or purged check).
    pub async fn outcome(&self, headers: &HeaderMap, id: &str) -> Result<Outcome, Failure> {
        let jar = CookieJar::from_headers(headers);
        let cookie = self.cookies.read(&jar, COOKIE).unwrap_or("");
        if id.len() > 64 || !ct_eq(cookie.as_bytes(), self.binding(id).as_bytes()) {
            return Err(Failure::new(403, t("check-other-browser")));
        }
        let flow = self.flow.clone();
        let key = id.to_owned();
        let session = blocking(move || flow.session(&key).map_err(Failure::from))
            .await?
            .filter(|s| s.platform_id == self.platform_id)
            .ok_or_else(|| Failure::new(404, t("check-gone")))?;
        let now = self.now();
        Ok(match session.status {
            _ if now >= session.expires + RESULT_GRACE_SECS => Outcome::Expired,
            SessionStatus::Pending if now >= session.expires => Outcome::Expired,
            SessionStatus::Pending | SessionStatus::Verifying => Outcome::Pending,
            SessionStatus::Complete { eligibility } => match eligibility.pseudonym {
                Some(pseudonym) if eligibility.eligible => Outcome::Eligible { pseudonym },
                _ => Outcome::NotEligible,
            },
            SessionStatus::Rejected { rejection } => Outcome::Rejected {
                rule: rejection.rule,
            },
            SessionStatus::Declined => Outcome::Declined,
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
        let public_url = &self.flow.settings().public_url;
        match headers.get(header::ORIGIN) {
            Some(o) if o.as_bytes() != origin_of(public_url).as_bytes() => {
                Err(Failure::new(403, t("form-other-site")))
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
        let no_store = [(header::CACHE_CONTROL, "no-store")];
        (code, no_store, axum::Json(body)).into_response()
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
        Ok((
            CookieJar::new().add(started.cookie),
            page(site, title, &body),
        )
            .into_response())
    }

    /// The wallet prompt: QR code, same-device link, what is asked for, and a live region that
    /// `/static/app.js` fills by polling `poll`, moving on to `next` once the wallet answered.
    pub fn prompt(&self, started: &CreatedSession, poll: &str, next: &str) -> String {
        let svg = started
            .qr_svg
            .find("<svg")
            .and_then(|i| started.qr_svg.get(i..))
            .unwrap_or("");
        let asked: String = self
            .policy
            .requested_paths(&self.platform_id)
            .iter()
            .map(|p| format!("<li>{}</li>", escape(&asked(p))))
            .collect();
        let minutes = (started.expires_at - self.now()).max(0) / 60;
        let e = |id: &str| escape(&t(id));
        format!(
            "<section aria-labelledby=\"share\">\n<h2 id=\"share\">{}</h2>\n<p>{}</p>\n\
             <div class=\"qr\" role=\"img\" aria-label=\"{}\">{svg}</div>\n\
             <p><a id=\"wallet-link\" class=\"button\" href=\"{link}\">{}</a></p>\n\
             <p>{}</p>\n<ul>{asked}</ul>\n\
             <p id=\"check-status\" role=\"status\" aria-live=\"polite\" data-poll=\"{poll}\" data-next=\"{next}\" \
             data-still-waiting=\"{}\">{}</p>\n\
             <p><a href=\"{next}\">{}</a></p>\n\
             <p class=\"small\">{}</p>\n</section>",
            e("prompt-title"),
            e("prompt-scan"),
            e("prompt-qr-label"),
            e("prompt-same-device"),
            e("prompt-shares-only"),
            e("prompt-still-waiting"),
            e("outcome-pending"),
            e("prompt-continue"),
            escape(&f("prompt-valid-for", &[("minutes", minutes.into())])),
            link = escape(&started.openid4vp_url),
            poll = escape(poll),
            next = escape(next),
        )
    }
}

/// The page body for a check still waiting for the wallet: the status and a link to `again`.
pub fn pending_page(outcome: &Outcome, again: &str) -> String {
    format!(
        "<p role=\"status\">{}</p>\n<p><a href=\"{}\">{}</a></p>",
        escape(&outcome.message()),
        escape(again),
        escape(&t("check-again"))
    )
}

/// What a platform asks for, in the request's language ("your municipality", "whether you are
/// 16 or older (not your birthdate)").
pub fn asked(path: &ClaimPath) -> String {
    let keys: Vec<&str> = path
        .0
        .iter()
        .map(|e| match e {
            PathElement::Key(k) => k.as_str(),
            _ => "",
        })
        .collect();
    match keys.as_slice() {
        ["residence", "municipality_code"] | ["residence", "municipality"] => {
            t("asked-municipality")
        }
        ["residence", "district"] => t("asked-district"),
        ["age_equal_or_over", n] => f("asked-age", &[("age", (*n).into())]),
        ["pseudonyms", _] => t("asked-pseudonym"),
        _ => request_phrase(path),
    }
}

/// `scheme://host[:port]` of a URL.
fn origin_of(url: &str) -> &str {
    let after = url.find("://").map_or(0, |i| i + 3);
    url.get(after..)
        .and_then(|rest| rest.find('/'))
        .and_then(|i| url.get(..after + i))
        .unwrap_or(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_of_urls() {
        assert_eq!(origin_of("http://localhost:8091"), "http://localhost:8091");
        assert_eq!(
            origin_of("https://budget.example/app/x"),
            "https://budget.example"
        );
    }
}
