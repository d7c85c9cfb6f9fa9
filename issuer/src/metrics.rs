//! Counters served at `/metrics` in the Prometheus text format.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// The issuer's counters.
#[derive(Default)]
pub struct Metrics {
    /// Passkeys enrolled with a code.
    pub enrollments: AtomicU64,
    /// Passkey sign-ins.
    pub logins: AtomicU64,
    /// Credential offers created.
    pub offers: AtomicU64,
    /// Access tokens issued.
    pub tokens: AtomicU64,
    /// Credentials issued.
    pub credentials: AtomicU64,
    /// Credentials whose status changed.
    pub status_changes: AtomicU64,
    /// Rejected proofs.
    pub invalid_proofs: AtomicU64,
    /// Wallet attestations the issuer's wallet provider signed.
    pub wallet_attestations: AtomicU64,
    requests: Mutex<BTreeMap<(String, u16), u64>>,
}

impl Metrics {
    /// Adds one to a counter.
    pub fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts an HTTP request by matched route and status.
    pub fn request(&self, route: &str, status: u16) {
        if let Ok(mut m) = self.requests.lock() {
            *m.entry((route.to_owned(), status)).or_default() += 1;
        }
    }

    /// The Prometheus exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let counters = [
            (
                "civic_issuer_enrollments_total",
                "Passkeys enrolled with a code.",
                &self.enrollments,
            ),
            (
                "civic_issuer_logins_total",
                "Passkey sign-ins.",
                &self.logins,
            ),
            (
                "civic_issuer_offers_total",
                "Credential offers created.",
                &self.offers,
            ),
            (
                "civic_issuer_access_tokens_total",
                "Access tokens issued.",
                &self.tokens,
            ),
            (
                "civic_issuer_credentials_issued_total",
                "Credentials issued.",
                &self.credentials,
            ),
            (
                "civic_issuer_status_changes_total",
                "Credential status changes.",
                &self.status_changes,
            ),
            (
                "civic_issuer_invalid_proofs_total",
                "Rejected proof JWTs.",
                &self.invalid_proofs,
            ),
            (
                "civic_issuer_wallet_attestations_total",
                "Wallet attestations signed by the issuer's wallet provider.",
                &self.wallet_attestations,
            ),
        ];
        for (name, help, c) in counters {
            out.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}\n",
                c.load(Ordering::Relaxed)
            ));
        }
        out.push_str(
            "# HELP civic_issuer_http_requests_total HTTP requests by route and status.\n",
        );
        out.push_str("# TYPE civic_issuer_http_requests_total counter\n");
        if let Ok(m) = self.requests.lock() {
            for ((route, status), n) in m.iter() {
                let route = route.replace('\\', "\\\\").replace('"', "\\\"");
                out.push_str(&format!(
                    "civic_issuer_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}\n"
                ));
            }
        }
        out
    }
}
