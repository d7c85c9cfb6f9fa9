//! Offers are not bearer secrets anyone can take: every offer asks for the transaction code
//! shown beside it, the database holds neither the pre-authorized code nor the offer link that
//! leads to it, an access token is spent by the one credential request it serves, and the data
//! directory, the keys and the reports are readable by their owner only.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code: a failure stops at its line

use std::path::Path;

use serde_json::Value;

use civic_testkit::issuer_process::TestIssuer;
use civic_testkit::services::{start_issuer, IssuerSetup};
use civic_testkit::wallet;

const BIN: &str = env!("CARGO_BIN_EXE_civic-issuer");

fn err(v: &Value) -> &str {
    v["error"].as_str().unwrap_or("<no error code>")
}

/// Every file under `dir`, read whole.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read_dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push((
                path.display().to_string(),
                std::fs::read(&path).expect("read"),
            ));
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offer_needs_its_code_and_the_database_holds_no_offer_secret() {
    let tmp = tempfile::tempdir().expect("tmp");
    let issuer = start_issuer(tmp.path(), IssuerSetup::default()).await;
    let offer = issuer.admin_post("/admin/api/residents/D-0002/offer").await;
    let tx_code = offer["tx_code"]
        .as_str()
        .expect("offers ask for a transaction code by default")
        .to_owned();
    assert_eq!(
        offer["credential_offer"]["grants"][civic_credential::oid4vci::PRE_AUTHORIZED_GRANT]
            ["tx_code"]["length"],
        6
    );
    let code = wallet::pre_authorized_code(&offer["credential_offer"]);
    let uri = offer["credential_offer_uri"].as_str().expect("uri");
    let offer_id = uri.rsplit('/').next().expect("offer id").to_owned();

    // Whoever reads the database finds neither the code nor the offer's link.
    issuer.issuer.sync().expect("sync");
    let db = files(&tmp.path().join("db"));
    assert!(!db.is_empty());
    for (name, bytes) in &db {
        assert!(
            !contains(bytes, code.as_bytes()),
            "{name} holds the pre-authorized code"
        );
        assert!(
            !contains(bytes, offer_id.as_bytes()),
            "{name} holds the offer id"
        );
    }
    // (The scan does see the offer's records: they are stored under the hashes.)
    let code_hash = civic_credential::encoding::sha256_hex(&code);
    assert!(
        db.iter()
            .any(|(_, bytes)| contains(bytes, code_hash.as_bytes())),
        "the stored grant is not in the files scanned"
    );

    // The offer by reference still carries its code (derived from the link).
    let by_ref: Value = issuer
        .http
        .get(uri)
        .send()
        .await
        .expect("offer")
        .json()
        .await
        .expect("json");
    assert_eq!(by_ref, offer["credential_offer"]);

    // Someone who saw only the QR code cannot redeem it.
    let (s, b) = wallet::token(&issuer.http, &issuer.base, &code, None).await;
    assert_eq!((s, err(&b)), (400, "invalid_grant"), "{b}");
    let (s, b) = wallet::token(&issuer.http, &issuer.base, &code, Some(&tx_code)).await;
    assert_eq!(s, 200, "the right code still works after a wrong try: {b}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_access_token_serves_one_credential_request() {
    let tmp = tempfile::tempdir().expect("tmp");
    let issuer = start_issuer(tmp.path(), IssuerSetup::default()).await;
    let (http, base) = (&issuer.http, issuer.base.as_str());
    let offer = issuer.admin_post("/admin/api/residents/D-0003/offer").await;
    let (s, tok) = wallet::token(
        http,
        base,
        &wallet::pre_authorized_code(&offer["credential_offer"]),
        offer["tx_code"].as_str(),
    )
    .await;
    assert_eq!(s, 200, "{tok}");
    let access = tok["access_token"].as_str().expect("token");
    let proof = |n: &str| wallet::proof(&wallet::holder_key(), base, Some(n), civic_testkit::now());

    // A request that fails does not spend it.
    let (s, b) = wallet::credential(http, base, access, &["a.b.c".to_owned()]).await;
    assert_eq!((s, err(&b)), (400, "invalid_proof"), "{b}");
    let n = wallet::nonce(http, base).await;
    let (s, b) = wallet::credential(http, base, access, &[proof(&n), proof(&n)]).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["credentials"].as_array().map(Vec::len), Some(2));

    // The one that succeeded did: a thief replaying it with its own key gets nothing.
    let n = wallet::nonce(http, base).await;
    let (s, b) = wallet::credential(http, base, access, &[proof(&n)]).await;
    assert_eq!((s, err(&b)), (401, "invalid_token"), "{b}");
}

#[cfg(unix)]
#[test]
fn the_data_directory_keys_and_reports_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| {
        std::fs::metadata(p)
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
            .permissions()
            .mode()
            & 0o777
    };
    let t = TestIssuer::init(BIN, "");
    assert_eq!(mode(&t.data), 0o700, "data directory");
    assert_eq!(mode(&t.data.join("keys.json")), 0o600, "keys.json");

    // A register row that is rejected goes into a report; enrollment codes into a file.
    let register = t.tmp.path().join("extra.csv");
    let header = std::fs::read_to_string(t.tmp.path().join("register.csv")).expect("register");
    let mut text = header.clone();
    text.push_str(
        "R-BAD,X,Y,not-a-date,Street 1,1000 AA,Town,NL,Town,0363,1,2020-01-01,2099-12-31\n",
    );
    std::fs::write(&register, text).expect("write");
    let report = t.tmp.path().join("rejected.csv");
    let (_, out, stderr) = t.try_cli(&[
        "import-register",
        "--force",
        "--report",
        report.to_str().expect("utf-8"),
        register.to_str().expect("utf-8"),
    ]);
    assert!(report.exists(), "no report: {out} {stderr}");
    assert_eq!(mode(&report), 0o600, "rejection report");
    let codes = t.tmp.path().join("codes.csv");
    t.cli(&[
        "enrollment-codes",
        "--all-unenrolled",
        "--out",
        codes.to_str().expect("utf-8"),
    ]);
    assert_eq!(mode(&codes), 0o600, "enrollment codes");

    // A link planted where the next report goes is not followed.
    let victim = t.tmp.path().join("victim.txt");
    std::fs::write(&victim, "keep").expect("victim");
    std::fs::remove_file(&report).expect("rm");
    std::os::unix::fs::symlink(&victim, &report).expect("link");
    let (ok, _, _) = t.try_cli(&[
        "import-register",
        "--force",
        "--report",
        report.to_str().expect("utf-8"),
        register.to_str().expect("utf-8"),
    ]);
    assert!(!ok, "writing the report through a link is refused");
    assert_eq!(std::fs::read_to_string(&victim).expect("read"), "keep");
}
