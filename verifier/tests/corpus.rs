//! Replays the adversarial corpus (`tests/corpus/*.json`, written by `examples/make_corpus.rs`):
//! every hostile presentation gets its expected rejection, and nothing panics.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code: a failure stops at its line

use std::sync::Arc;

use serde_json::Value;

use civic_verifier::fetch::StaticFetcher;
use civic_verifier::session::{Session, SessionStatus};
use civic_verifier::store::{Begin, MemoryStore, SessionStore};
use civic_verifier::{TrustList, Verifier, VerifierOptions};

fn dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

fn fixture() -> (Verifier, Session, i64) {
    let f: Value = serde_json::from_str(
        &std::fs::read_to_string(dir().join("fixture.json")).expect("fixture"),
    )
    .expect("json");
    let trust = TrustList::parse(&f["trust_list"].to_string()).expect("trust list");
    let mut fetcher = StaticFetcher::new();
    for (url, body) in f["documents"].as_object().expect("documents") {
        fetcher.insert(url.clone(), body.as_str().expect("doc").as_bytes().to_vec());
    }
    let session: Session = serde_json::from_value(f["session"].clone()).expect("session");
    let verifier = Verifier::new(trust, Arc::new(fetcher), VerifierOptions::default());
    (verifier, session, f["now"].as_i64().expect("now"))
}

#[tokio::test]
async fn every_corpus_case_gets_its_expected_outcome() {
    let (verifier, session, now) = fixture();
    let mut files: Vec<_> = std::fs::read_dir(dir())
        .expect("corpus")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.file_name().is_some_and(|n| n != "fixture.json"))
        .collect();
    files.sort();
    assert!(files.len() >= 25, "corpus has {} cases", files.len());
    let mut seen = Vec::new();
    for file in &files {
        let case: Value =
            serde_json::from_str(&std::fs::read_to_string(file).expect("case")).expect("json");
        let (name, expected) = (
            case["name"].as_str().expect("name"),
            case["expected"].as_str().expect("expected"),
        );
        let result = verifier
            .verify(case["vp_token"].as_str().expect("vp_token"), &session, now)
            .await;
        match (expected, &result) {
            ("eligible", Ok(e)) => {
                assert!(
                    e.eligible && !e.over_disclosed && e.status_checked,
                    "{name}: {e:?}"
                );
                assert_eq!(e.pseudonym.as_deref(), Some("pseudonym-of-anna"));
                assert_eq!(e.predicates.len(), 2);
                let json = serde_json::to_string(e).expect("json");
                assert!(
                    !json.contains("Anna") && !json.contains("1990") && !json.contains("Dam 1"),
                    "no personal data: {json}"
                );
            }
            ("eligible_over_disclosed", Ok(e)) => {
                assert!(e.eligible && e.over_disclosed, "{name}: {e:?}");
                assert!(
                    !serde_json::to_string(e).expect("json").contains("Anna"),
                    "the extra claim is dropped"
                );
            }
            (rule, Err(r)) => assert_eq!(r.rule(), rule, "{name}: {r}"),
            (_, Ok(e)) => panic!("{name}: expected {expected}, got {e:?}"),
        }
        seen.push(name.to_owned());
    }
    for required in [
        "alg_none",
        "hs256_with_public_key",
        "wrong_issuer_key",
        "tampered_payload",
        "tampered_disclosure",
        "duplicate_disclosure",
        "unreferenced_disclosure",
        "expired",
        "nbf_in_future",
        "missing_kb_jwt",
        "kb_wrong_nonce",
        "kb_wrong_aud",
        "kb_old_iat",
        "sd_hash_mismatch",
        "revoked",
        "suspended",
        "untrusted_issuer",
        "wrong_vct",
        "municipality_not_trusted",
        "oversized_token",
        "deeply_nested_json",
        "invalid_base64url",
        "invalid_utf8",
    ] {
        assert!(
            seen.iter().any(|s| s == required),
            "corpus lacks {required}"
        );
    }
}

#[tokio::test]
async fn a_nonce_is_accepted_once_and_expired_sessions_refuse() {
    let (verifier, session, now) = fixture();
    let store = MemoryStore::default();
    store.create(&session).expect("create");
    let valid: Value =
        serde_json::from_str(&std::fs::read_to_string(dir().join("valid.json")).expect("case"))
            .expect("json");
    let Begin::Started(s) = store.begin_response(&session.id, now).expect("begin") else {
        panic!("first response starts")
    };
    let e = verifier
        .verify(valid["vp_token"].as_str().expect("vp"), &s, now)
        .await
        .expect("valid");
    store
        .finish(&s.id, SessionStatus::Complete { eligibility: e }, None)
        .expect("finish");
    // The same presentation again: the session's nonce is used up.
    assert_eq!(
        store.begin_response(&session.id, now).expect("begin"),
        Begin::NotPending
    );
    assert_eq!(
        store.begin_response("unknown", now).expect("begin"),
        Begin::Unknown
    );
    let mut late = session.clone();
    late.id = "late".into();
    store.create(&late).expect("create");
    assert_eq!(
        store
            .begin_response("late", late.expires + 1)
            .expect("begin"),
        Begin::Expired
    );
    let r = verifier
        .verify(
            valid["vp_token"].as_str().expect("vp"),
            &late,
            late.expires + 1,
        )
        .await;
    assert_eq!(r.map_err(|e| e.rule()), Err("session_expired"));
}

#[tokio::test]
async fn status_fails_closed_unless_configured_open() {
    let f: Value = serde_json::from_str(
        &std::fs::read_to_string(dir().join("fixture.json")).expect("fixture"),
    )
    .expect("json");
    let trust = TrustList::parse(&f["trust_list"].to_string()).expect("trust list");
    let mut fetcher = StaticFetcher::new();
    let meta_url = "https://id.teststad.example/.well-known/jwt-vc-issuer";
    fetcher.insert(
        meta_url,
        f["documents"][meta_url]
            .as_str()
            .expect("meta")
            .as_bytes()
            .to_vec(),
    );
    let session: Session = serde_json::from_value(f["session"].clone()).expect("session");
    let now = f["now"].as_i64().expect("now");
    let valid: Value =
        serde_json::from_str(&std::fs::read_to_string(dir().join("valid.json")).expect("case"))
            .expect("json");
    let vp = valid["vp_token"].as_str().expect("vp");
    let closed = Verifier::new(
        trust.clone(),
        Arc::new(fetcher.clone()),
        VerifierOptions::default(),
    );
    assert_eq!(
        closed.verify(vp, &session, now).await.map_err(|e| e.rule()),
        Err("status_unavailable")
    );
    let open = Verifier::new(
        trust,
        Arc::new(fetcher),
        VerifierOptions {
            status_fail_open: true,
            ..Default::default()
        },
    );
    let e = open.verify(vp, &session, now).await.expect("fail open");
    assert!(e.eligible && !e.status_checked);
}
