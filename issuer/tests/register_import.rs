//! Register imports that must not hurt residents: a truncated or damaged export changes nothing
//! without `--force`, a resident named on a rejected row is still on the register, and any change
//! a credential discloses (a move inside the municipality too) replaces that resident's
//! credentials, while a longer registration does not.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code: a failure stops at its line

use reqwest::Method;
use serde_json::Value;

use civic_testkit::issuer_process::TestIssuer;
use civic_testkit::wallet;

/// The binary under test.
const BIN: &str = env!("CARGO_BIN_EXE_civic-issuer");

const HEADER: &str = "register_id,given_name,family_name,birthdate,street_address,postal_code,locality,country,municipality,municipality_code,district,resident_since,valid_until";

/// A register row of resident `n` living in `district`, registered until `valid_until`.
fn row(n: usize, district: &str, valid_until: &str) -> String {
    format!("T-{n:04},Name{n},Family{n},1980-01-01,Street {n},1012 JS,Teststad,NL,Teststad,0363,{district},2010-01-01,{valid_until}")
}

fn register(rows: &[String]) -> String {
    let mut csv = format!("{HEADER}\n");
    for r in rows {
        csv.push_str(r);
        csv.push('\n');
    }
    csv
}

/// Imports `csv` with `extra` arguments; the report, or the error text.
fn import(t: &TestIssuer, csv: &str, extra: &[&str]) -> Result<Value, String> {
    let file = t.tmp.path().join("export.csv");
    std::fs::write(&file, csv).expect("write");
    let mut args = vec!["import-register", file.to_str().expect("path")];
    args.extend(extra);
    let (ok, stdout, stderr) = t.try_cli(&args);
    if ok {
        Ok(serde_json::from_str(&stdout).expect("report"))
    } else {
        Err(stderr)
    }
}

fn active(t: &TestIssuer, csv: &str) -> u64 {
    import(t, csv, &["--dry-run"]).expect("dry run")["unchanged"]
        .as_u64()
        .expect("count")
}

#[tokio::test]
async fn a_truncated_export_changes_nothing_without_force() {
    let t = TestIssuer::init(BIN, "");
    let full: Vec<String> = (0..50).map(|n| row(n, "3", "2099-12-31")).collect();
    import(&t, &register(&full), &["--force"]).expect("the first import");
    assert_eq!(active(&t, &register(&full)), 50);

    // Cut off at 10 %: 45 of 50 residents would be removed.
    let truncated = register(&full[..5]);
    let err = import(&t, &truncated, &[]).expect_err("refused");
    assert!(
        err.contains("changed nothing") && err.contains("remove 45 of 50"),
        "{err}"
    );
    assert_eq!(active(&t, &register(&full)), 50, "nobody was removed");

    // A row rejected for one bad field still names its resident: nobody is removed, but the
    // import stops until the operator looks.
    let mut one_bad = full.clone();
    one_bad[7] = one_bad[7].replace("Street 7", &"x".repeat(300));
    let err = import(&t, &register(&one_bad), &[]).expect_err("refused");
    assert!(err.contains("1 rows were rejected"), "{err}");
    let forced = import(&t, &register(&one_bad), &["--force"]).expect("forced");
    assert_eq!(forced["removed"], serde_json::json!([]), "{forced}");
    assert_eq!(forced["rejected"][0]["register_id"], "T-0007");

    // A few leavers (under the 5 % threshold) go through without --force.
    let report = import(&t, &register(&full[..48]), &[]).expect("48 of 50");
    assert_eq!(report["removed"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn moving_within_the_municipality_or_a_shorter_registration_replaces_credentials() {
    let mut t = TestIssuer::init(BIN, "");
    let rows: Vec<String> = (0..4).map(|n| row(n, "3", "2099-12-31")).collect();
    import(&t, &register(&rows), &["--force"]).expect("import");
    t.start().await;
    for n in 0..4 {
        let (_, offer) = t
            .admin(
                Method::POST,
                &format!("/admin/api/residents/T-{n:04}/offer"),
                None,
            )
            .await;
        wallet::redeem(
            &t.http,
            &t.base,
            &offer["credential_offer"],
            offer["tx_code"].as_str(),
            1,
            civic_testkit::now(),
        )
        .await;
    }
    t.kill();

    // T-0000 moves to district 5, T-0001's registration ends earlier, T-0002's later, T-0003
    // stays the same.
    let changed = vec![
        row(0, "5", "2099-12-31"),
        row(1, "3", "2090-01-01"),
        row(2, "3", "2100-01-01"),
        row(3, "3", "2099-12-31"),
    ];
    let report = import(&t, &register(&changed), &[]).expect("import");
    assert_eq!(
        report["changed"],
        serde_json::json!(["T-0000", "T-0001"]),
        "{report}"
    );
    assert_eq!(report["revoked_credentials"], 2);

    t.start().await;
    for (n, want) in [(0, "revoked"), (1, "revoked"), (2, "valid"), (3, "valid")] {
        let (_, v) = t
            .admin(Method::GET, &format!("/admin/api/residents/T-{n:04}"), None)
            .await;
        assert_eq!(v["credentials"][0]["status"], want, "T-{n:04}: {v}");
        // Not blocked: a resident whose data changed gets a fresh credential.
        assert_eq!(v["can_receive_credential"], true, "T-{n:04}: {v}");
    }
}
