//! Targets for the services' own input parsing: the issuer's register CSV import and the
//! verifier's whole presentation pipeline.

use std::future::Future;
use std::pin::pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, Waker};

use civic_credential::residency::Date;
use civic_issuer::register::parse_register;
use civic_verifier::fetch::StaticFetcher;
use civic_verifier::{Session, TrustList, Verifier, VerifierOptions};

use crate::fixtures::{fixture, NOW};

/// The issuer's register import, without a store: header check, CSV records, row validation.
/// Accepted when there is at least one row and every row is valid.
pub fn register_csv(data: &[u8]) -> bool {
    let Ok(rows) = parse_register(data, Date::from_unix(NOW)) else {
        return false;
    };
    let mut accepted = !rows.is_empty();
    for row in &rows {
        match &row.resident {
            Ok(r) => {
                assert!(
                    !r.register_id.is_empty(),
                    "row {}: empty register id",
                    row.line
                );
                Date::parse(&r.birthdate).expect("a valid row has a normalised birthdate");
            }
            Err(_) => accepted = false,
        }
    }
    accepted
}

/// The verifier corpus set-up: trust list, issuer metadata, status list and session.
struct Service {
    verifier: Verifier,
    session: Session,
}

fn service() -> &'static Service {
    static SERVICE: OnceLock<Service> = OnceLock::new();
    SERVICE.get_or_init(|| {
        let corpus = &fixture().corpus;
        let trust = TrustList::parse(&corpus["trust_list"].to_string()).expect("trust list");
        let mut fetcher = StaticFetcher::new();
        for (url, body) in corpus["documents"].as_object().expect("documents") {
            let body = body.as_str().expect("document").as_bytes().to_vec();
            fetcher.insert(url.clone(), body);
        }
        let session: Session = serde_json::from_value(corpus["session"].clone()).expect("session");
        let verifier = Verifier::new(trust, Arc::new(fetcher), VerifierOptions::default());
        Service { verifier, session }
    })
}

/// Polls a future that never waits on I/O (the fetcher is static) to completion; `None` if it
/// keeps returning `Pending`.
fn run_ready<F: Future>(future: F) -> Option<F::Output> {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    (0..1000).find_map(|_| match future.as_mut().poll(&mut cx) {
        Poll::Ready(out) => Some(out),
        Poll::Pending => None,
    })
}

/// The verifier's pipeline for a `direct_post` `vp_token`: parsing, trust list, issuer keys,
/// signature, disclosures, key binding, status list and policy, for the corpus session.
/// Accepted when the presentation is eligible.
pub fn verifier_presentation(data: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(data) else {
        return false;
    };
    let s = service();
    let outcome = run_ready(s.verifier.verify(text, &s.session, NOW));
    matches!(outcome, Some(Ok(e)) if e.eligible)
}
