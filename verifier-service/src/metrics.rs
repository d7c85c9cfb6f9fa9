//! Counters served at `/metrics` in the Prometheus text format.

use std::sync::atomic::{AtomicU64, Ordering};

use civic_verifier::session::SessionStatus;

/// The service's counters.
#[derive(Default)]
pub struct Metrics {
    sessions: AtomicU64,
    eligible: AtomicU64,
    not_eligible: AtomicU64,
    rejected: AtomicU64,
    declined: AtomicU64,
}

impl Metrics {
    /// A session was created.
    pub fn session_created(&self) {
        self.sessions.fetch_add(1, Ordering::Relaxed);
    }

    /// A session was answered with `outcome`.
    pub fn answered(&self, outcome: &SessionStatus) {
        let counter = match outcome {
            SessionStatus::Complete { eligibility } if eligibility.eligible => &self.eligible,
            SessionStatus::Complete { .. } => &self.not_eligible,
            SessionStatus::Declined => &self.declined,
            _ => &self.rejected,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// The Prometheus exposition.
    pub fn render(&self) -> String {
        let counter = |name: &str, help: &str, v: &AtomicU64| {
            format!(
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}\n",
                v.load(Ordering::Relaxed)
            )
        };
        [
            counter(
                "civic_verifier_sessions_total",
                "Sessions created.",
                &self.sessions,
            ),
            counter(
                "civic_verifier_eligible_total",
                "Presentations accepted, eligible.",
                &self.eligible,
            ),
            counter(
                "civic_verifier_not_eligible_total",
                "Presentations accepted, not eligible.",
                &self.not_eligible,
            ),
            counter(
                "civic_verifier_rejected_total",
                "Presentations rejected.",
                &self.rejected,
            ),
            counter(
                "civic_verifier_declined_total",
                "Requests declined by the resident.",
                &self.declined,
            ),
        ]
        .concat()
    }
}
