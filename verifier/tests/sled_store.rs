//! The sled session store keeps sessions and used nonces across a restart.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code: a failure stops at its line

use civic_credential::sd_jwt::ClaimPath;
use civic_verifier::policy::{Policy, Rule};
use civic_verifier::session::{NewSession, Session, SessionStatus};
use civic_verifier::store::{Begin, SessionStore, SledStore};

fn session() -> Session {
    let policy = Policy {
        name: "vote".into(),
        rules: vec![Rule::is_true(ClaimPath::keys(["age_equal_or_over", "16"]))],
        pseudonym: true,
        vct: vec![],
    };
    Session::new(
        NewSession {
            trusted_authorities: Vec::new(),
            check_municipality: true,
            base_url: "https://verifier.example",
            platform_id: "https://budget.example",
            policy: &policy,
            vct: vec!["v".into()],
            redirect_uri: None,
            now: 1000,
            ttl: 600,
            client_id: None,
        },
        &mut rand::rngs::OsRng,
    )
}

#[test]
fn a_restart_neither_loses_a_session_nor_reopens_a_used_nonce() {
    let dir = tempfile::tempdir().expect("tmp");
    let (waiting, answered) = (session(), session());
    {
        let store = SledStore::open(dir.path(), civic_storage::Options::default()).expect("open");
        store.create(&waiting).expect("create");
        store.create(&answered).expect("create");
        assert!(matches!(
            store.begin_response(&answered.id, 1010).expect("begin"),
            Begin::Started(_)
        ));
        store
            .finish(&answered.id, SessionStatus::Declined, None)
            .expect("finish");
    }
    let store = SledStore::open(dir.path(), civic_storage::Options::default()).expect("reopen");
    assert_eq!(
        store.get(&waiting.id).expect("get").map(|s| s.status),
        Some(SessionStatus::Pending)
    );
    assert_eq!(
        store.begin_response(&answered.id, 1020).expect("begin"),
        Begin::NotPending
    );
    assert!(matches!(
        store.begin_response(&waiting.id, 1020).expect("begin"),
        Begin::Started(_)
    ));
    // Only one of two concurrent responses gets through.
    assert_eq!(
        store.begin_response(&waiting.id, 1021).expect("begin"),
        Begin::NotPending
    );
    assert_eq!(
        store.begin_response(&waiting.id, 5000).expect("begin"),
        Begin::NotPending
    );
    assert_eq!(store.purge(10_000).expect("purge"), 2);
    assert_eq!(store.get(&waiting.id).expect("get"), None);
}
