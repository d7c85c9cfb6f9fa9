//! Operating the issuer: state that survives restarts, register imports with removals and moves,
//! the CLI's status commands, and key rotation. Crash safety under concurrent issuance (SIGKILL)
//! is in `load_crash.rs`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code: a failure stops at its line

/// The binary under test.
const BIN: &str = env!("CARGO_BIN_EXE_civic-issuer");

use std::collections::HashMap;

use reqwest::Method;
use serde_json::{json, Value};

use civic_credential::encoding::b64_decode;

use civic_testkit::http::json;
use civic_testkit::issuer_process::TestIssuer;
use civic_testkit::passkey::SoftPasskey;
use civic_testkit::wallet;

fn header(credential: &str) -> Value {
    let part = credential.split('.').next().expect("header");
    serde_json::from_slice(&b64_decode(part, "header").expect("b64")).expect("json")
}

#[tokio::test]
async fn sessions_offers_and_nonces_survive_a_restart() {
    let mut t = TestIssuer::init(BIN, "");
    let code = t.code_via_cli("R-0001");
    t.start().await;
    let browser = t.new_client();
    let (_, options) = json(
        browser
            .post(t.url("/api/enroll/start"))
            .json(&json!({ "code": code }))
            .send()
            .await
            .expect("start"),
    )
    .await;
    // The ceremony itself survives a restart.
    t.kill();
    t.start().await;
    let resp = SoftPasskey::new().register(&options, &t.base);
    let (s, body) = json(
        browser
            .post(t.url("/api/enroll/finish"))
            .json(&resp)
            .send()
            .await
            .expect("finish"),
    )
    .await;
    assert_eq!(s, 200, "{body}");
    let csrf = body["csrf_token"].as_str().expect("csrf").to_owned();
    let (s, offer) = json(
        browser
            .post(t.url("/api/offers"))
            .header("x-csrf-token", &csrf)
            .send()
            .await
            .expect("offer"),
    )
    .await;
    assert_eq!(s, 200);
    let n = wallet::nonce(&t.http, &t.base).await;
    t.kill();
    t.start().await;
    // Session, offer and nonce are all still there.
    assert_eq!(
        browser
            .get(t.url("/api/me"))
            .send()
            .await
            .expect("me")
            .status(),
        200
    );
    let (s, tok) = wallet::token(
        &t.http,
        &t.base,
        &wallet::pre_authorized_code(&offer["credential_offer"]),
        offer["tx_code"].as_str(),
    )
    .await;
    assert_eq!(s, 200, "{tok}");
    let key = wallet::holder_key();
    let proof = wallet::proof(&key, &t.base, Some(&n), civic_testkit::now());
    let (s, body) = wallet::credential(
        &t.http,
        &t.base,
        tok["access_token"].as_str().expect("at"),
        &[proof],
    )
    .await;
    assert_eq!(s, 200, "{body}");
}

#[tokio::test]
async fn register_import_reports_rejects_is_idempotent_and_revokes_leavers_and_movers() {
    let mut t = TestIssuer::init(BIN, "");
    t.start().await;
    let mut creds: HashMap<&str, Vec<String>> = HashMap::new();
    for r in ["R-0004", "R-0005"] {
        let (_, offer) = t
            .admin(
                Method::POST,
                &format!("/admin/api/residents/{r}/offer"),
                None,
            )
            .await;
        let (c, _) = wallet::redeem(
            &t.http,
            &t.base,
            &offer["credential_offer"],
            offer["tx_code"].as_str(),
            2,
            civic_testkit::now(),
        )
        .await;
        creds.insert(r, c);
    }
    t.kill();

    // R-0005 is gone, R-0004 moved to another municipality, and three rows are bad.
    let mut csv = String::from(
        civic_testkit::register::SMALL_REGISTER
            .lines()
            .next()
            .expect("header"),
    );
    csv.push('\n');
    for line in civic_testkit::register::SMALL_REGISTER
        .lines()
        .skip(1)
        .take(3)
    {
        csv.push_str(line);
        csv.push('\n');
    }
    csv.push_str("R-0004,Daan,Visser,1985-07-30,Stationsplein 1,3511 ED,Utrecht,NL,Utrecht,0344,,2020-01-01,2099-12-31\n");
    csv.push_str("R-0006,Fay,Mulder,1999-13-01,Dam 2,1012 JS,Amsterdam,NL,Amsterdam,0363,,2015-06-01,2099-12-31\n");
    csv.push_str("R-0001,Anna,de Vries,1990-04-12,Dam 1,1012 JS,Amsterdam,NL,Amsterdam,0363,3,2015-06-01,2099-12-31\n");
    csv.push_str(
        "R-0007,Gus,,1999-01-01,Dam 3,1012 JS,Amsterdam,NL,Amsterdam,0363,,2015-06-01,2099-12-31\n",
    );
    let file = t.tmp.path().join("register-2.csv");
    std::fs::write(&file, &csv).expect("write");
    let f = file.to_str().expect("path");

    let preview: Value =
        serde_json::from_str(&t.cli(&["import-register", f, "--dry-run"])).expect("json");
    assert_eq!(preview["dry_run"], true);
    assert_eq!(preview["removed"], json!(["R-0005"]));
    assert_eq!(preview["moved"], json!(["R-0004"]));
    assert_eq!(preview["revoked_credentials"], 0);
    let report =
        std::fs::read_to_string(t.tmp.path().join("register-2.rejected.csv")).expect("report");
    let lines: Vec<&str> = report.lines().collect();
    assert_eq!(lines.len(), 4, "header + 3 rejected rows: {report}");
    assert!(
        lines[1].starts_with("6,") && lines[2].starts_with("7,") && lines[3].starts_with("8,"),
        "{report}"
    );
    assert!(lines[1].contains("1999-13-01"), "{report}");
    assert!(lines[2].contains("more than once"));
    assert!(lines[3].contains("family_name is empty"));

    // Rejected rows and a fifth of the register gone look like a broken export: nothing changes
    // until the operator, having checked it, forces the import.
    let (ok, _, stderr) = t.try_cli(&["import-register", f]);
    assert!(!ok && stderr.contains("changed nothing"), "{stderr}");
    let done: Value =
        serde_json::from_str(&t.cli(&["import-register", f, "--force"])).expect("json");
    assert_eq!(
        (
            done["created"].as_u64(),
            done["updated"].as_u64(),
            done["unchanged"].as_u64()
        ),
        (Some(0), Some(1), Some(3))
    );
    assert_eq!(done["revoked_credentials"], 4);
    let again: Value =
        serde_json::from_str(&t.cli(&["import-register", f, "--force"])).expect("json");
    assert_eq!(
        (again["updated"].as_u64(), again["unchanged"].as_u64()),
        (Some(0), Some(4)),
        "idempotent: {again}"
    );
    assert_eq!(again["removed"], json!([]));
    assert_eq!(again["revoked_credentials"], 0);

    t.start().await;
    for r in ["R-0004", "R-0005"] {
        let (_, v) = t
            .admin(Method::GET, &format!("/admin/api/residents/{r}"), None)
            .await;
        let statuses: Vec<&str> = v["credentials"]
            .as_array()
            .expect("c")
            .iter()
            .filter_map(|c| c["status"].as_str())
            .collect();
        assert_eq!(statuses, ["revoked", "revoked"], "{r}");
    }
    // The leaver gets nothing new; the mover can get a credential for the new municipality.
    let (s, b) = t
        .admin(Method::POST, "/admin/api/residents/R-0005/offer", None)
        .await;
    assert_eq!(
        (s, b["error"].as_str()),
        (403, Some("credential_request_denied"))
    );
    let (_, offer) = t
        .admin(Method::POST, "/admin/api/residents/R-0004/offer", None)
        .await;
    let (c, _) = wallet::redeem(
        &t.http,
        &t.base,
        &offer["credential_offer"],
        offer["tx_code"].as_str(),
        1,
        civic_testkit::now(),
    )
    .await;
    assert!(!creds["R-0004"].contains(&c[0]));
    // An empty or headerless file is refused rather than removing everyone.
    t.kill();
    std::fs::write(&file, "register_id,given_name\n").expect("write");
    let out = std::process::Command::new(BIN)
        .args([
            "import-register",
            "--data",
            civic_testkit::issuer_process::path(&t.data),
            f,
        ])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("lacks columns"));
}

#[tokio::test]
async fn cli_suspends_and_rotates_keys_while_old_credentials_stay_verifiable() {
    let mut t = TestIssuer::init(BIN, "");
    t.start().await;
    let (_, offer) = t
        .admin(Method::POST, "/admin/api/residents/R-0002/offer", None)
        .await;
    let (old, _) = wallet::redeem(
        &t.http,
        &t.base,
        &offer["credential_offer"],
        offer["tx_code"].as_str(),
        1,
        civic_testkit::now(),
    )
    .await;
    let out = std::process::Command::new(BIN)
        .args([
            "suspend",
            "--data",
            civic_testkit::issuer_process::path(&t.data),
            "--resident",
            "R-0002",
        ])
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if civic_testkit::issuer_process::on_postgres() {
        // On PostgreSQL the CLI is one more client of the shared database: it works while the
        // server runs, and the server sees the change at once.
        assert!(out.status.success(), "{stderr}");
        assert!(stdout.contains("1 credentials changed"), "{stdout}");
        let (_, v) = t
            .admin(Method::GET, "/admin/api/residents/R-0002", None)
            .await;
        assert_eq!(v["credentials"][0]["status"], "suspended", "{v}");
        t.kill();
    } else {
        // The CLI refuses to touch a sled data directory a server is using.
        assert!(!out.status.success());
        assert!(stderr.contains("in use"), "{stderr}");
        t.kill();
        assert!(t
            .cli(&["suspend", "--resident", "R-0002"])
            .contains("1 credentials changed"));
    }
    t.cli(&["rotate-key"]);
    t.start().await;
    let (_, v) = t
        .admin(Method::GET, "/admin/api/residents/R-0002", None)
        .await;
    assert_eq!(v["credentials"][0]["status"], "suspended");
    let (s, _) = t
        .admin(Method::POST, "/admin/api/residents/R-0002/offer", None)
        .await;
    assert_eq!(s, 403, "no new credentials while suspended");
    let (s, v) = t
        .admin(Method::POST, "/admin/api/residents/R-0002/unsuspend", None)
        .await;
    assert_eq!((s, v["credentials_changed"].as_u64()), (200, Some(1)));

    let (_, offer) = t
        .admin(Method::POST, "/admin/api/residents/R-0002/offer", None)
        .await;
    let (new, _) = wallet::redeem(
        &t.http,
        &t.base,
        &offer["credential_offer"],
        offer["tx_code"].as_str(),
        1,
        civic_testkit::now(),
    )
    .await;
    let (old_kid, new_kid) = (
        header(&old[0])["kid"].clone(),
        header(&new[0])["kid"].clone(),
    );
    assert_ne!(old_kid, new_kid, "new credentials use the new key");
    let meta: Value = t
        .http
        .get(t.url("/.well-known/jwt-vc-issuer"))
        .send()
        .await
        .expect("m")
        .json()
        .await
        .expect("j");
    let kids: Vec<&Value> = meta["jwks"]["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| &k["kid"])
        .collect();
    assert!(
        kids.contains(&&old_kid) && kids.contains(&&new_kid),
        "old key still published: {kids:?}"
    );
    let did: Value = t
        .http
        .get(t.url("/.well-known/did.json"))
        .send()
        .await
        .expect("d")
        .json()
        .await
        .expect("j");
    assert_eq!(did["verificationMethod"].as_array().map(Vec::len), Some(2));
    assert_eq!(did["id"], format!("did:web:localhost%3A{}", t.port));
    // The document (built with ssi's types) reads back with the wallet's own reader: both keys
    // are assertion methods.
    let id = format!("did:web:localhost%3A{}", t.port);
    let read = civic_credential::did_web::DidDocument::parse(&did, &id).expect("readable");
    assert_eq!(
        read.keys_for(civic_credential::did_web::Purpose::Assertion)
            .len(),
        2
    );
    // Rotation through the admin API works too.
    let (s, v) = t.admin(Method::POST, "/admin/api/keys/rotate", None).await;
    assert_eq!(s, 200, "{v}");
    let meta: Value = t
        .http
        .get(t.url("/.well-known/jwt-vc-issuer"))
        .send()
        .await
        .expect("m")
        .json()
        .await
        .expect("j");
    assert_eq!(meta["jwks"]["keys"].as_array().map(Vec::len), Some(3));
}
