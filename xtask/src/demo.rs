//! `cargo xtask demo`: runs the end-to-end demo.
//!
//! For now this is civic-credential's `demo` example; it will grow into the issuer, wallet and
//! verifier flow as those crates land.

use anyhow::Result;

use crate::util::{self, run};

/// Runs `cargo run --release -p civic-credential --example demo -- <args>`.
pub fn run_demo(args: &[String]) -> Result<()> {
    let mut cmd = util::cargo();
    cmd.args([
        "run",
        "--release",
        "-p",
        "civic-credential",
        "--example",
        "demo",
    ]);
    if !args.is_empty() {
        cmd.arg("--").args(args);
    }
    run(&mut cmd)
}
