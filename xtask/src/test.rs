//! `cargo xtask test`: the one test command, run locally and by CI (`.ci/run`).
//!
//! Steps, in order: setup, fmt, clippy, deny, test, fuzz, wasm, interop, services-interop, kit, browser, load, bench. It
//! stops at the first failing step, prints a summary and ends with the plain line
//! `N passed, N failed` (plus `, N skipped` when steps were skipped or not reached), which CI
//! reads.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Result};

use crate::util::{self, run};
use crate::{interop, setup, wasm};

/// A step: its name and what it runs, returning an optional note for the summary.
type Step = (&'static str, fn() -> Result<String>);

/// Every step, in order.
const STEPS: &[Step] = &[
    ("setup", step_setup),
    ("fmt", step_fmt),
    ("clippy", step_clippy),
    ("deny", step_deny),
    ("test", step_test),
    ("test-postgres", step_test_postgres),
    ("fuzz", step_fuzz),
    ("wasm", step_wasm),
    ("interop", step_interop),
    ("services-interop", step_services_interop),
    ("kit", step_kit),
    ("browser", step_browser),
    ("load", step_load),
    ("bench", step_bench),
];

/// Steps `--quick` leaves out (slow or needing the network).
const QUICK_SKIPS: &[&str] = &[
    "setup",
    "fuzz",
    "wasm",
    "interop",
    "services-interop",
    "kit",
    "browser",
    "load",
    "bench",
];

/// Options of `cargo xtask test`.
#[derive(Debug, Default)]
pub(crate) struct Options {
    /// Names of steps not to run.
    skip: Vec<String>,
}

impl Options {
    /// Parses `--quick`, `--skip STEP[,STEP…]` and `--skip=STEP[,STEP…]`.
    pub(crate) fn parse(args: &[String]) -> Result<Self> {
        let mut skip = Vec::new();
        let mut iter = args.iter();
        while let Some(arg) = iter.next() {
            let list = match arg.as_str() {
                "--quick" => {
                    skip.extend(QUICK_SKIPS.iter().map(|s| (*s).to_owned()));
                    continue;
                }
                "--skip" => match iter.next() {
                    Some(value) => value.as_str(),
                    None => bail!("--skip needs a step name"),
                },
                other => match other.strip_prefix("--skip=") {
                    Some(value) => value,
                    None => bail!("unknown option `{other}` for `test`"),
                },
            };
            for name in list.split(',').filter(|n| !n.is_empty()) {
                if !STEPS.iter().any(|(step, _)| *step == name) {
                    let names: Vec<_> = STEPS.iter().map(|(n, _)| *n).collect();
                    bail!("unknown step `{name}` (steps: {})", names.join(", "));
                }
                skip.push(name.to_owned());
            }
        }
        Ok(Self { skip })
    }
}

/// `cargo xtask setup`.
fn step_setup() -> Result<String> {
    setup::run_all().map(|()| String::new())
}

/// `cargo fmt --all --check`.
fn step_fmt() -> Result<String> {
    run(util::cargo().args(["fmt", "--all", "--check"])).map(|()| String::new())
}

/// `cargo clippy --workspace --all-targets -- -D warnings`.
fn step_clippy() -> Result<String> {
    run(util::cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))
    .map(|()| String::new())
}

/// `cargo deny check` with `deny.toml` (see `deny.rs`).
fn step_deny() -> Result<String> {
    crate::deny::run_all()
}

/// `cargo test --workspace`.
fn step_test() -> Result<String> {
    let mut cargo = util::cargo();
    cargo.args(["test", "--workspace", "--no-fail-fast"]);
    // As root with mount rights, set-up installed every tool and the storage fault tests can
    // mount their file systems: no test may skip itself then. Elsewhere (not root, or a
    // container without mount rights) those tests say they are skipped.
    if util::can_mount() {
        cargo.env("CIVIC_REQUIRE_ALL_TESTS", "1");
    } else {
        println!("test: cannot mount file systems here; the storage fault tests will be skipped");
    }
    run(&mut cargo).map(|()| String::new())
}

/// The service suites that run again with every issuer and verifier service on PostgreSQL
/// (`CIVIC_TEST_BACKEND=postgres`): a throwaway cluster each. Left out: the tests of a full or
/// failing disk under the sled data directory (`storage_faults`, `verifier_storage`), which
/// are about sled, and those that start clusters of their own either way.
const POSTGRES_SUITES: &[(&str, &[&str])] = &[
    (
        "civic-issuer",
        &[
            "authorization_code",
            "bad_input",
            "client_attestation",
            "full_flow",
            "load_crash",
            "offer_secrets",
            "operations",
            "par_dpop",
            "register_import",
            "reverse_proxy",
            "sessions",
            "signed_metadata",
            "wallet_provider",
        ],
    ),
    (
        "civic-e2e",
        &[
            "analytics",
            "eligibility",
            "encrypted_answers",
            "request_by_post",
        ],
    ),
];

/// The issuer and verifier service suites again, on PostgreSQL.
fn step_test_postgres() -> Result<String> {
    let mut ran = 0;
    for (package, tests) in POSTGRES_SUITES {
        let mut cargo = util::cargo();
        cargo.args(["test", "-p", package, "--no-fail-fast"]);
        for t in *tests {
            cargo.args(["--test", t]);
        }
        cargo.env("CIVIC_TEST_BACKEND", "postgres");
        run(&mut cargo)?;
        ran += tests.len();
    }
    Ok(format!("{ran} test files on PostgreSQL"))
}

/// Seconds each fuzz target runs in CI.
const FUZZ_SECONDS: u64 = 5;

/// Every cargo-fuzz target for a few seconds (`cargo xtask fuzz --dev --seconds 5`): builds
/// them unoptimized (about 5 minutes cold instead of 11: this step is a smoke run, the long
/// runs build optimized) and fails on any crash.
fn step_fuzz() -> Result<String> {
    let opts = crate::fuzz::Options {
        seconds: FUZZ_SECONDS,
        jobs: 1,
        targets: Vec::new(),
        cmin: false,
        dev: true,
    };
    let execs = crate::fuzz::run_all(&opts)?;
    Ok(format!(
        "{execs} fuzz executions, {FUZZ_SECONDS}s per target (unoptimized build)"
    ))
}

/// `cargo xtask wasm`, then the built wallet driven under Node.js (`wallet-wasm/tests/smoke.mjs`).
fn step_wasm() -> Result<String> {
    let sizes = wasm::run_all()?;
    run(std::process::Command::new("node")
        .arg("wallet-wasm/tests/smoke.mjs")
        .current_dir(util::repo_root()))?;
    Ok(format!(
        "wallet wasm {} bytes, {} gzipped",
        sizes.raw, sizes.gzip
    ))
}

/// The interop matrix.
fn step_interop() -> Result<String> {
    interop::run_all().map(|()| String::new())
}

/// The issuer and the verifier service driven by clients we did not write: soft-webauthn
/// (passkeys), @openid4vc/openid4vci (wallet), sd-jwt (verification and a holder),
/// @openid4vc/openid4vp (wallet) and headless Chromium (pages), over HTTP on 127.0.0.1.
fn step_services_interop() -> Result<String> {
    run(util::cargo().args([
        "build",
        "--quiet",
        "-p",
        "civic-issuer",
        "-p",
        "civic-verifier-service",
    ]))?;
    let bin = util::target_dir().join("debug");
    run(std::process::Command::new("bash")
        .arg("tests/interop/services_interop.sh")
        .env("CIVIC_ISSUER_BIN", bin.join("civic-issuer"))
        .env("CIVIC_VERIFIER_BIN", bin.join("civic-verifier"))
        .current_dir(util::repo_root()))
    .map(|()| String::new())
}

/// The platform integration kit (`kit/`): its Python and Node clients and example back ends
/// against the real issuer and verifier service, answered by wallets we did not write, and its
/// button in headless Chromium (`tests/kit/kit_test.sh`).
fn step_kit() -> Result<String> {
    run(util::cargo().args([
        "build",
        "--quiet",
        "-p",
        "civic-issuer",
        "-p",
        "civic-verifier-service",
    ]))?;
    let bin = util::target_dir().join("debug");
    run(std::process::Command::new("bash")
        .arg("tests/kit/kit_test.sh")
        .env("CIVIC_ISSUER_BIN", bin.join("civic-issuer"))
        .env("CIVIC_VERIFIER_BIN", bin.join("civic-verifier"))
        .current_dir(util::repo_root()))
    .map(|()| String::new())
}

/// The browser wallet end to end in headless Chromium: the issuer, the participatory budget
/// example (with the verifier library) and the wallet page on 127.0.0.1.
fn step_browser() -> Result<String> {
    run(&mut wallet_e2e_command()?)?;
    Ok(String::new())
}

/// A short `cargo xtask bench` (2 s per timed part, no criterion): every figure is produced
/// and every benchmark's own correctness checks run.
fn step_bench() -> Result<String> {
    crate::bench::run_all(crate::bench::Options {
        seconds: 2,
        quick: true,
    })?;
    Ok(String::new())
}

/// A short `cargo xtask load`: the verifier service and the issuer crash test, 10 s each.
fn step_load() -> Result<String> {
    crate::load::run(LOAD_SECONDS)
}

/// Seconds per part of the `load` step.
const LOAD_SECONDS: u64 = 10;

/// Builds the issuer, the budget example and the verifier command (its `dev-ca`), and returns
/// the command that runs the wallet in headless Chromium against them
/// (`tests/browser/wallet_e2e.sh`).
pub(crate) fn wallet_e2e_command() -> Result<std::process::Command> {
    run(util::cargo().args([
        "build",
        "--quiet",
        "-p",
        "civic-issuer",
        "-p",
        "civic-examples",
        "-p",
        "civic-verifier-service",
    ]))?;
    let bin = util::target_dir().join("debug");
    let mut cmd = std::process::Command::new("bash");
    cmd.arg("tests/browser/wallet_e2e.sh")
        .env("CIVIC_ISSUER_BIN", bin.join("civic-issuer"))
        .env("CIVIC_EXAMPLE_BUDGET_BIN", bin.join("participatory_budget"))
        .env("CIVIC_EXAMPLE_PETITIONS_BIN", bin.join("petitions"))
        .env("CIVIC_VERIFIER_BIN", bin.join("civic-verifier"))
        .current_dir(util::repo_root());
    Ok(cmd)
}

/// About what a full run writes from a clean clone (measured: see TESTING.md), in GiB.
const DISK_NEEDED_GIB: f64 = 12.0;

/// Free space on the file system of the target folder, in GiB (from `df`), if it can be read.
fn free_gib() -> Option<f64> {
    let dir = util::target_dir();
    let probe = if dir.exists() { dir } else { util::repo_root() };
    let out = util::capture(std::process::Command::new("df").arg("-Pk").arg(probe))?;
    let kib: f64 = out
        .lines()
        .nth(1)?
        .split_whitespace()
        .nth(3)?
        .parse()
        .ok()?;
    Some(kib / (1024.0 * 1024.0))
}

/// Outcome of one step.
enum Outcome {
    /// Ran and succeeded, with a note and seconds taken.
    Passed(String, f64),
    /// Ran and failed, with the error and seconds taken.
    Failed(String, f64),
    /// Skipped on request.
    Skipped,
    /// Not run because an earlier step failed.
    NotRun,
}

/// Runs the steps and returns the exit code; the last line printed is `N passed, N failed`.
pub(crate) fn run_all(options: &Options) -> ExitCode {
    let started = Instant::now();
    let free_at_start = free_gib();
    if let Some(free) = free_at_start {
        println!("disk: {free:.1} GiB free where the build goes");
        if free < DISK_NEEDED_GIB {
            println!(
                "warning: a full run writes about {DISK_NEEDED_GIB} GiB (target/, fuzz/target/); \
                 with {free:.1} GiB free a step may fail for want of disk"
            );
        }
    }
    let mut outcomes: Vec<(&str, Outcome)> = Vec::new();
    let mut failed_step = None;
    for (index, (name, step)) in STEPS.iter().enumerate() {
        if failed_step.is_some() {
            outcomes.push((name, Outcome::NotRun));
            continue;
        }
        if options.skip.iter().any(|s| s == name) {
            println!("==> [{}/{}] {name}: skipped", index + 1, STEPS.len());
            outcomes.push((name, Outcome::Skipped));
            continue;
        }
        println!("==> [{}/{}] {name}", index + 1, STEPS.len());
        let t = Instant::now();
        let result = step();
        let secs = t.elapsed().as_secs_f64();
        match result {
            Ok(note) => {
                println!("<== {name}: ok ({secs:.1}s)");
                outcomes.push((name, Outcome::Passed(note, secs)));
            }
            Err(err) => {
                println!("<== {name}: FAILED ({secs:.1}s): {err:#}");
                outcomes.push((name, Outcome::Failed(format!("{err:#}"), secs)));
                failed_step = Some(*name);
            }
        }
    }
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    println!();
    println!("xtask test summary:");
    for (name, outcome) in &outcomes {
        let line = match outcome {
            Outcome::Passed(note, secs) if note.is_empty() => {
                passed += 1;
                format!("ok      ({secs:.1}s)")
            }
            Outcome::Passed(note, secs) => {
                passed += 1;
                format!("ok      ({secs:.1}s) {note}")
            }
            Outcome::Failed(err, secs) => {
                failed += 1;
                let first = err.lines().next().unwrap_or_default();
                format!("FAILED  ({secs:.1}s) {first}")
            }
            Outcome::Skipped => {
                skipped += 1;
                "skipped".to_owned()
            }
            Outcome::NotRun => {
                skipped += 1;
                "not run (an earlier step failed)".to_owned()
            }
        };
        println!("  {name:<8} {line}");
    }
    let total = started.elapsed().as_secs_f64();
    if let (Some(start), Some(end)) = (free_at_start, free_gib()) {
        println!(
            "disk: {end:.1} GiB free at the end ({:.1} GiB used by the run)",
            start - end
        );
    }
    match failed_step {
        Some(step) => println!("xtask test: FAILED at step `{step}` after {total:.0}s"),
        None => println!("xtask test: all run steps passed in {total:.0}s"),
    }
    if skipped > 0 {
        println!("{passed} passed, {failed} failed, {skipped} skipped");
    } else {
        println!("{passed} passed, {failed} failed");
    }
    if failed_step.is_some() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn parses_skip_forms() {
        let opts = Options::parse(&args(&["--skip", "wasm,interop", "--skip=fmt"])).unwrap();
        assert_eq!(opts.skip, ["wasm", "interop", "fmt"]);
        let quick = Options::parse(&args(&["--quick"])).unwrap();
        assert_eq!(quick.skip, QUICK_SKIPS);
    }

    #[test]
    fn rejects_unknown_steps_and_options() {
        assert!(Options::parse(&args(&["--skip", "nope"])).is_err());
        assert!(Options::parse(&args(&["--skip"])).is_err());
        assert!(Options::parse(&args(&["--frob"])).is_err());
    }
}
