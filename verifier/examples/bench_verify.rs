//! Presentation verification throughput on one thread, against the raw ES256 verify rate measured
//! in the same run.
//!
//! `cargo run --release -p civic-verifier --example bench_verify -- [--seconds N] [--write-presentation FILE]`
//!
//! The full pipeline runs for every presentation: vp_token parsing, trust list, issuer keys
//! (cached), issuer signature, disclosures, key binding (second signature), municipality, status
//! (cached list), pseudonym and policy. One presentation needs two ES256 verifications, so the
//! limit is `es256_verify_per_s / 2`. With `--write-presentation`, the presentation, the issuer
//! key and the key-binding expectations are written as JSON for the peer libraries
//! (`tests/bench/peer_verify.*`) to verify the very same bytes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code: a failure stops at its line

#[path = "../benches/support/fixture.rs"]
#[allow(dead_code)]
mod fixture;

use std::time::Instant;

use civic_credential::crypto::{Algorithm, JwsSigner};
use serde_json::json;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

/// Calls `op` in rounds of 64 for about `seconds`; returns calls per second.
fn rate(seconds: f64, mut op: impl FnMut()) -> f64 {
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed().as_secs_f64() < seconds {
        for _ in 0..64 {
            op();
        }
        n += 64;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn main() -> anyhow::Result<()> {
    let seconds: f64 = arg("--seconds").and_then(|v| v.parse().ok()).unwrap_or(3.0);
    let f = fixture::fixture();

    // Raw ES256 verification rate over a message the size of the issuer JWT: the baseline.
    let vk = f.issuer.verifying_key()?;
    let msg = vec![0x5a_u8; 1200];
    let sig = f.issuer.sign(&msg)?;
    let raw = rate(seconds, || {
        let _ = vk.verify(Algorithm::Es256, &msg, &sig);
    });
    let raw_sign = rate(seconds.min(2.0), || {
        let _ = f.issuer.sign(&msg);
    });

    let rt = tokio::runtime::Builder::new_current_thread().build()?;
    let per_s = rt.block_on(async {
        let first = f.verifier.verify(&f.vp_token, &f.session, f.now).await;
        anyhow::ensure!(
            first.as_ref().is_ok_and(|e| e.eligible),
            "the fixture presentation must verify: {first:?}"
        );
        let start = Instant::now();
        let mut n = 0u64;
        while start.elapsed().as_secs_f64() < seconds {
            for _ in 0..32 {
                let ok = f
                    .verifier
                    .verify(&f.vp_token, &f.session, f.now)
                    .await
                    .is_ok_and(|e| e.eligible);
                anyhow::ensure!(ok, "a verification failed during the run");
            }
            n += 32;
        }
        Ok(n as f64 / start.elapsed().as_secs_f64())
    })?;

    if let Some(path) = arg("--write-presentation") {
        let doc = json!({
            "presentation": f.presentation,
            "issuer_jwk": f.issuer.public_jwk(),
            "aud": f.session.client_id,
            "nonce": f.session.nonce,
            "iat": f.now,
            "vct": f.vct,
            "requested": ["residence.municipality_code", "age_equal_or_over.16", format!("pseudonyms.{}", fixture::PLATFORM)],
        });
        if let Some(dir) = std::path::Path::new(&path).parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&path, serde_json::to_vec_pretty(&doc)?)?;
    }

    println!("es256_sign_per_s: {raw_sign:.0}");
    println!("es256_verify_per_s: {raw:.0}");
    println!("verify_presentation_per_s: {per_s:.0}");
    println!("verify_ratio_to_limit: {:.3}", per_s / (raw / 2.0));
    println!("native_verify_presentation_ms: {:.3}", 1000.0 / per_s);
    Ok(())
}
