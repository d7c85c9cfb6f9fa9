//! Trust material over the network: issuer keys and status lists come over https only (plain
//! http to this machine only behind the development setting), a status list only from the
//! issuer's own origin or one its trust list entry names, never from an address inside a
//! private network, and what went wrong stays in the verifier's log: the wallet and the
//! platform get a fixed text.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code: a failure stops at its line

mod support;

use std::sync::{Arc, Mutex};

use civic_service::ManualClock;
use civic_testkit::credentials::{
    aged, holder_key, issue, requested_paths, resident, Contents, Credential, TestIssuer, ISSUER,
    VCT,
};
use civic_verifier::fetch::{BoxFuture, FetchError, Fetched, Fetcher, HttpFetcher};
use civic_verifier::flow::Flow;
use civic_verifier::keys::KeyResolver;
use civic_verifier::session::SessionStatus;
use civic_verifier::store::MemoryStore;
use civic_verifier::trust::TrustedIssuer;
use civic_verifier::VerifierConfig;

use support::NOW;

const SITE: &str = "https://budget.teststad.example";

/// Records every URL it is asked for and serves nothing.
#[derive(Default)]
struct Recorder(Mutex<Vec<String>>);

impl Fetcher for Recorder {
    fn get(&self, url: String) -> BoxFuture<'_, Result<Fetched, FetchError>> {
        self.0.lock().unwrap().push(url.clone());
        Box::pin(async move {
            Err(FetchError {
                url: "http://10.1.2.3/internal".into(),
                reason: "connection refused by 10.1.2.3 (internal detail)".into(),
            })
        })
    }
}

fn flow(trust: &str, fetcher: Arc<dyn Fetcher>) -> Flow {
    support::flow_with(
        trust,
        fetcher,
        SITE,
        vec![support::platform(SITE, "vote", false)],
    )
}

async fn answer(flow: &Flow, credential: &Credential) -> SessionStatus {
    let (id, req) = support::open(flow, SITE, "vote");
    let presentation = credential.present(&requested_paths(SITE), &req.client_id, &req.nonce, NOW);
    flow.answer(&id, &support::answer_form(&req, &presentation))
        .await
        .expect("answered")
        .outcome
}

fn with_status(issuer: &TestIssuer, uri: &str) -> Credential {
    let holder = holder_key();
    let record = resident("Anna", aged(40, NOW), "0363", None);
    let issued = issue(
        issuer.key(),
        ISSUER,
        VCT,
        &Contents {
            record: &record,
            holder: holder.public_jwk(),
            iat: NOW - 60,
            today: NOW,
            nbf: None,
            exp: NOW + 86_400,
            status: Some((uri, 7)),
            pseudonyms: [(SITE.to_owned(), "p".to_owned())].into(),
        },
    );
    Credential { issued, holder }
}

fn rejection(outcome: &SessionStatus) -> (String, String) {
    match outcome {
        SessionStatus::Rejected { rejection } => {
            (rejection.rule.clone(), rejection.message.clone())
        }
        other => panic!("not rejected: {other:?}"),
    }
}

#[tokio::test]
async fn a_status_list_elsewhere_than_the_issuers_origin_is_not_fetched() {
    let issuer = TestIssuer::new();
    let recorder = Arc::new(Recorder::default());
    let flow = flow(&issuer.trust_list(), recorder.clone());

    for elsewhere in [
        "https://evil.example/status/1",
        "https://169.254.169.254/latest/meta-data",
        "http://id.teststad.example/status/1",
    ] {
        let (rule, message) = rejection(&answer(&flow, &with_status(&issuer, elsewhere)).await);
        assert_eq!(rule, "status_unavailable", "{elsewhere}");
        assert_eq!(message, "the credential's status could not be checked");
    }
    assert!(
        recorder.0.lock().unwrap().is_empty(),
        "nothing was fetched: {:?}",
        recorder.0.lock().unwrap()
    );

    // On the issuer's own origin it is fetched; what went wrong is not told outward.
    let own = format!("{ISSUER}/status/1");
    let (rule, message) = rejection(&answer(&flow, &with_status(&issuer, &own)).await);
    assert_eq!(rule, "status_unavailable");
    assert!(
        !message.contains("10.1.2.3") && !message.contains("internal"),
        "{message}"
    );
    assert_eq!(*recorder.0.lock().unwrap(), vec![own]);

    // An origin the trust list names for this issuer is fetched too.
    let trust = issuer.trust_list().replace(
        "\"municipality_codes\"",
        "\"status_list_origins\":[\"https://status.teststad.example\"],\"municipality_codes\"",
    );
    let flow = self::flow(&trust, recorder.clone());
    let named = "https://status.teststad.example/lists/1";
    answer(&flow, &with_status(&issuer, named)).await;
    assert_eq!(
        recorder.0.lock().unwrap().last().map(String::as_str),
        Some(named)
    );
}

#[tokio::test]
async fn issuer_keys_come_over_https_only() {
    // At fetch time: a plain-http (or private) key document is not fetched.
    let recorder = Arc::new(Recorder::default());
    let resolver = KeyResolver::new(recorder.clone(), 3600, 60, false);
    for id in [
        "http://id.example",
        "https://192.168.0.10",
        "http://localhost:8080",
    ] {
        let trusted = TrustedIssuer {
            id: id.into(),
            vct: vec!["v".into()],
            municipality_codes: vec![],
            did_document_url: None,
            jwks: None,
            status_list_origins: vec![],
            trust_anchors: vec![],
        };
        assert!(resolver.keys(&trusted, NOW).await.is_err(), "{id}");
    }
    assert!(recorder.0.lock().unwrap().is_empty());

    // At load time: the configuration says what is wrong.
    let dir = tempfile::tempdir().expect("tmp");
    let write = |trust: &str, extra: &str| {
        std::fs::write(dir.path().join("trust.toml"), trust).expect("trust");
        std::fs::write(
            dir.path().join("config.toml"),
            format!(
                "public_url = \"{SITE}\"\ndata_dir = \"s\"\ntrust_list = \"trust.toml\"\n{extra}"
            ),
        )
        .expect("config");
        VerifierConfig::load(&dir.path().join("config.toml"))
            .expect("config")
            .open_flow(
                Arc::new(Recorder::default()),
                Arc::new(MemoryStore::default()),
                ManualClock::at(NOW),
            )
            .map(|_| ())
    };
    let plain = "[[issuer]]\nid = \"http://id.example\"\nvct = [\"v\"]\n";
    let local = "[[issuer]]\nid = \"http://localhost:8080\"\nvct = [\"v\"]\n";
    let private = "[[issuer]]\nid = \"https://10.0.0.7\"\nvct = [\"v\"]\n";
    let err = write(plain, "").expect_err("plain http refused");
    assert!(err.to_string().contains("https only"), "{err}");
    assert!(
        write(plain, "allow_loopback_http = true").is_err(),
        "only this machine"
    );
    assert!(
        write(local, "").is_err(),
        "localhost needs the development setting"
    );
    assert!(write(local, "allow_loopback_http = true").is_ok());
    assert!(write(private, "allow_loopback_http = true").is_err());
    assert!(write(
        "[[issuer]]\nid = \"https://id.example\"\nvct = [\"v\"]\n",
        ""
    )
    .is_ok());
}

#[tokio::test]
async fn a_name_that_resolves_into_a_private_network_is_not_reached() {
    let fetcher = HttpFetcher::new(false).expect("fetcher");
    // https, but `localhost` resolves to a loopback address, which only the development setting
    // allows: the resolver drops it before any connection.
    let err = fetcher
        .get("https://localhost:9/x".into())
        .await
        .expect_err("refused");
    assert!(err.reason.contains("no public address"), "{}", err.reason);
    let err = fetcher
        .get("https://127.0.0.1:9/x".into())
        .await
        .expect_err("refused");
    assert!(err.reason.contains("not a public"), "{}", err.reason);
}
