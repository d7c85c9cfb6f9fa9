//! An issuer trusted for some municipalities only cannot vouch for residents of another, even
//! when a platform's policy asks only for age: the verifier asks for the municipality code on
//! every request and checks it. A credential without a status reference is not "status checked",
//! and a policy without rules is refused when the configuration loads.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code: a failure stops at its line

mod support;

use civic_credential::oid4vp::AuthorizationRequest;
use civic_credential::sd_jwt::ClaimPath;
use civic_testkit::credentials::{aged, resident, Credential, TestIssuer, PLATFORMS};
use civic_verifier::flow::Flow;
use civic_verifier::session::SessionStatus;
use civic_verifier::VerifierConfig;
use support::NOW;

/// A flow trusting `issuer` for municipality 0363 only (the platform runs the library on its
/// own site: its id is the verifier's origin).
fn flow(issuer: &TestIssuer) -> Flow {
    support::flow(
        &issuer.trust_list(),
        PLATFORMS[0],
        vec![support::platform(PLATFORMS[0], "sixteen", false)],
    )
}

/// Answers session `id` with `credential`, disclosing `paths`; returns the outcome.
async fn answer(
    flow: &Flow,
    id: &str,
    credential: &Credential,
    paths: &[ClaimPath],
) -> SessionStatus {
    let req = AuthorizationRequest::from_jwt(&flow.request_object(id).expect("request"), None)
        .expect("request object");
    let presentation = credential.present(paths, &req.client_id, &req.nonce, NOW);
    flow.answer(id, &support::answer_form(&req, &presentation))
        .await
        .expect("answered")
        .outcome
}

fn rule(outcome: &SessionStatus) -> &str {
    match outcome {
        SessionStatus::Rejected { rejection } => &rejection.rule,
        _ => "<not rejected>",
    }
}

#[tokio::test]
async fn a_restricted_issuer_cannot_vouch_for_another_municipality() {
    let issuer = TestIssuer::new();
    let flow = flow(&issuer);
    let outsider = issuer.issue(&resident("Olaf", aged(40, NOW), "0344", None), "R-1", NOW);
    let age = ClaimPath::keys(["age_equal_or_over", "16"]);
    let pseudonym = ClaimPath::keys(["pseudonyms", PLATFORMS[0]]);
    let code = ClaimPath::keys(["residence", "municipality_code"]);

    // The policy asks for age only, but the request asks for the municipality code too.
    let created = flow.create(PLATFORMS[0], "sixteen", None).expect("session");
    let req =
        AuthorizationRequest::from_jwt(&flow.request_object(&created.id).unwrap(), None).unwrap();
    let asked = req.dcql_query.credentials[0].requested_paths();
    assert!(asked.contains(&code), "{asked:?}");

    // Disclosed, it is checked; withheld, the presentation is refused.
    let outcome = answer(
        &flow,
        &created.id,
        &outsider,
        &[age.clone(), pseudonym.clone(), code],
    )
    .await;
    assert_eq!(rule(&outcome), "municipality_not_allowed", "{outcome:?}");
    let created = flow.create(PLATFORMS[0], "sixteen", None).expect("session");
    let outcome = answer(
        &flow,
        &created.id,
        &outsider,
        &[age.clone(), pseudonym.clone()],
    )
    .await;
    assert_eq!(rule(&outcome), "municipality_not_disclosed", "{outcome:?}");

    // A resident of 0363 passes, but a credential without a status reference is not checked.
    let local = issuer.issue(&resident("Anna", aged(40, NOW), "0363", None), "R-2", NOW);
    let created = flow.create(PLATFORMS[0], "sixteen", None).expect("session");
    let asked_paths = [
        age,
        pseudonym,
        ClaimPath::keys(["residence", "municipality_code"]),
    ];
    match answer(&flow, &created.id, &local, &asked_paths).await {
        SessionStatus::Complete { eligibility } => {
            assert!(eligibility.eligible);
            assert!(
                !eligibility.status_checked,
                "no status reference, no status check"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_policy_without_rules_is_refused_when_the_configuration_loads() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("config.toml");
    std::fs::write(
        &path,
        format!(
            "public_url = \"https://v.example\"\ndata_dir = \"s\"\ntrust_list = \"t.toml\"\n\
             [[platform]]\nid = \"https://v.example\"\nname = \"P\"\napi_key_sha256 = \"{}\"\n\
             [[platform.policy]]\nname = \"anyone\"\npseudonym = true\n",
            "0".repeat(64)
        ),
    )
    .expect("write");
    let err = VerifierConfig::load(&path).expect_err("refused");
    assert!(err.to_string().contains("has no rules"), "{err}");
}
