//! Copies of one batch cannot be joined by colluding platforms: the issuer-signed part of two
//! copies shares nothing that other residents' credentials do not share as well. Checked over
//! batches of every size the issuer allows, for several residents.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code: a failure stops at its line

use std::collections::HashSet;

use serde_json::Value;

use civic_credential::encoding::b64_json_object;
use civic_credential::sd_jwt::SdJwt;
use civic_testkit::services::{start_issuer, IssuerSetup};

/// The issuer-signed payload of a copy, and the salts of its disclosures.
fn signed_part(credential: &str) -> (serde_json::Map<String, Value>, Vec<String>) {
    let payload = credential.split('.').nth(1).expect("payload");
    let claims = b64_json_object(payload, "payload").expect("json");
    let sd = SdJwt::parse(credential).expect("sd-jwt");
    let salts = sd.disclosures.iter().map(|d| d.salt.clone()).collect();
    (claims, salts)
}

/// Every `_sd` digest anywhere in `value`.
fn digests(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                if k == "_sd" {
                    out.extend(
                        v.as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(Value::as_str)
                            .map(str::to_owned),
                    );
                } else {
                    digests(v, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| digests(v, out)),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copies_of_a_batch_share_no_signed_value_that_could_link_them() {
    let tmp = tempfile::tempdir().expect("tmp");
    let issuer = start_issuer(tmp.path(), IssuerSetup::default()).await;
    // Residents, and batch sizes from the smallest to the largest the issuer allows.
    let batches = [
        ("D-0001", 2),
        ("D-0003", 10),
        ("D-0005", 3),
        ("D-0007", 7),
        ("D-0008", 5),
        ("D-0010", 10),
    ];
    for (resident, size) in batches {
        let copies = issuer.credentials(resident, size).await;
        let n = copies.len();
        assert_eq!(n, size, "{resident}: {n} copies");
        let parts: Vec<_> = copies.iter().map(|c| signed_part(&c.issued)).collect();
        let mut seen: [HashSet<String>; 5] = Default::default();
        for (claims, salts) in &parts {
            let idx = claims["status"]["status_list"]["idx"].to_string();
            let cnf = claims["cnf"]["jwk"].to_string();
            for (set, value, what) in [
                (0, claims["iat"].to_string(), "iat"),
                (1, claims["exp"].to_string(), "exp"),
                (2, idx, "status index"),
                (3, cnf, "holder key"),
            ] {
                assert!(
                    seen[set].insert(value.clone()),
                    "{resident}: two copies share {what} {value}"
                );
            }
            let mut sd = Vec::new();
            digests(&Value::Object(claims.clone()), &mut sd);
            for digest in sd.into_iter().chain(salts.iter().cloned()) {
                assert!(
                    seen[4].insert(digest.clone()),
                    "{resident}: a digest or salt repeats: {digest}"
                );
            }
        }
        // What the copies do share is what every credential of the issuer shares.
        for (claims, _) in &parts {
            assert_eq!(claims["iss"], parts[0].0["iss"]);
            assert_eq!(claims["vct"], parts[0].0["vct"]);
        }
    }
}
