//! `cargo xtask bench`: every performance figure of issue 6, measured in one run on this
//! machine, printed as `name: value` lines (the raw ES256 baselines come from the same run).
//!
//! Parts, in order: the 1M-entry status list; presentation verification (library, one thread)
//! and the same presentation verified by the peers; HTTP issuance; the verifier service's
//! session round trip; the wallet's size and its presentation time in headless Chromium; and,
//! unless `--quick`, the criterion micro-benchmarks of the hot paths.
//!
//! Peer runs: the same SD-JWT VC presentation verified by the interop peers, each timed inside
//! its own process.
//!
//! - `tests/bench/peer_verify.py`: PyPI `sd-jwt` (the reference implementation, jwcrypto),
//!   run with the venv Python of `cargo xtask setup` (`.tools/venv`).
//! - `tests/bench/peer_verify.mjs`: npm `@sd-jwt/sd-jwt-vc` (node:crypto), run with `node` and
//!   `NODE_PATH` set to `.tools/node/node_modules`.
//!
//! Both take `<presentation.json> --seconds N` and print `# …` comments and one
//! `per_s: <float>` line; any failed verification makes them exit non-zero.

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use crate::setup;
use crate::util::{rel, repo_root, run_logged, target_dir};

/// Start-up, self-checks and warm-up (at most 1 s) on top of the timed seconds; generous
/// because the machine may be busy.
const TIMEOUT_MARGIN: Duration = Duration::from_secs(120);

/// Verified presentations per second of the Python (`sd-jwt`) and JS (`@sd-jwt/sd-jwt-vc`)
/// peers for the presentation in `presentation_json` (the fields `presentation`,
/// `issuer_jwk`, `aud`, `nonce`, `iat`), each timed for `seconds` in its own process, one
/// after the other. Fails when a peer is not installed, fails or prints no rate.
pub(crate) fn peer_rates(presentation_json: &Path, seconds: u64) -> Result<(f64, f64)> {
    if !presentation_json.is_file() {
        bail!("{} is missing", rel(presentation_json));
    }
    let python = setup::venv_python();
    if !python.is_file() {
        bail!("{} is missing: run `cargo xtask setup`", rel(&python));
    }
    let mut py = Command::new(python);
    py.arg(repo_root().join("tests/bench/peer_verify.py"));
    let python_rate = peer_rate("python", py, presentation_json, seconds)?;

    let node_modules = setup::node_modules();
    if !node_modules.join("@sd-jwt").join("sd-jwt-vc").is_dir() {
        bail!(
            "{} has no @sd-jwt/sd-jwt-vc: run `cargo xtask setup`",
            rel(&node_modules)
        );
    }
    let mut js = Command::new("node");
    js.env("NODE_PATH", node_modules)
        .arg(repo_root().join("tests/bench/peer_verify.mjs"));
    let js_rate = peer_rate("js", js, presentation_json, seconds)?;
    Ok((python_rate, js_rate))
}

/// Runs one peer script (`cmd` is the interpreter and script) and returns its rate. Its
/// output goes to `target/bench/peer-<name>.log`.
fn peer_rate(name: &str, mut cmd: Command, presentation_json: &Path, seconds: u64) -> Result<f64> {
    let dir = target_dir().join("bench");
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", rel(&dir)))?;
    let log = dir.join(format!("peer-{name}.log"));
    cmd.current_dir(repo_root())
        .arg(presentation_json)
        .arg("--seconds")
        .arg(seconds.to_string());
    let logged = run_logged(
        &mut cmd,
        &log,
        Duration::from_secs(seconds) + TIMEOUT_MARGIN,
    );
    if !logged.ok {
        bail!(
            "{name} peer benchmark failed: {}\n--- its output ({}) ---\n{}",
            logged.reason,
            rel(&log),
            logged.output.trim_end()
        );
    }
    parse_per_s(&logged.output)
        .with_context(|| format!("{name} peer benchmark output ({})", rel(&log)))
}

/// The value of the one `per_s: <float>` line (other lines are `#` comments or diagnostics).
fn parse_per_s(output: &str) -> Result<f64> {
    let mut values = output
        .lines()
        .filter_map(|line| line.trim().strip_prefix("per_s:"));
    let (Some(value), None) = (values.next(), values.next()) else {
        bail!(
            "expected exactly one `per_s:` line in:\n{}",
            output.trim_end()
        );
    };
    let rate: f64 = value
        .trim()
        .parse()
        .with_context(|| format!("`per_s:{value}` is not a number"))?;
    if !rate.is_finite() || rate <= 0.0 {
        bail!("`per_s: {rate}` is not a positive rate");
    }
    Ok(rate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_one_rate_line() {
        let out = "# python sd-jwt 0.10.4\nper_s: 1985.9\n";
        assert_eq!(parse_per_s(out).ok(), Some(1985.9));
    }

    #[test]
    fn rejects_missing_repeated_or_bad_rates() {
        assert!(parse_per_s("# nothing\n").is_err());
        assert!(parse_per_s("per_s: 1\nper_s: 2\n").is_err());
        assert!(parse_per_s("per_s: fast\n").is_err());
        assert!(parse_per_s("per_s: 0\n").is_err());
        assert!(parse_per_s("per_s: NaN\n").is_err());
    }

    /// Both peers on a presentation made by `tests/bench/make_test_presentation.py`; needs
    /// `cargo xtask setup`. `cargo test -p xtask -- --ignored peer_rates`.
    #[test]
    #[ignore = "needs the peers of `cargo xtask setup`; takes a few seconds"]
    fn peer_rates_on_a_python_made_presentation() {
        let file = target_dir().join("bench").join("test-presentation.json");
        let status = Command::new(setup::venv_python())
            .arg(repo_root().join("tests/bench/make_test_presentation.py"))
            .arg("--out")
            .arg(&file)
            .status()
            .expect("start make_test_presentation.py");
        assert!(status.success());
        let (python, js) = peer_rates(&file, 1).expect("peer rates");
        assert!(python > 0.0 && js > 0.0);
        println!("python per_s: {python}, js per_s: {js}");
    }
}

/// Options of `cargo xtask bench`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Options {
    /// Seconds per timed part.
    pub seconds: u64,
    /// Leave out the criterion micro-benchmarks (CI's short version).
    pub quick: bool,
}

impl Options {
    /// Parses `--seconds N` and `--quick`.
    pub(crate) fn parse(args: &[String]) -> Result<Self> {
        let mut opts = Options {
            seconds: 10,
            quick: false,
        };
        let mut iter = args.iter();
        while let Some(arg) = iter.next() {
            match arg.as_str() {
                "--quick" => opts.quick = true,
                "--seconds" => {
                    opts.seconds = iter
                        .next()
                        .and_then(|v| v.parse().ok())
                        .filter(|s| *s > 0)
                        .context("--seconds needs a positive number")?;
                }
                other => bail!("unknown option `{other}` for `bench`"),
            }
        }
        Ok(opts)
    }
}

/// Runs the release example `name` with `args`, for its figures ([`crate::release`] built it).
fn example(name: &str, args: &[&str]) -> Result<Vec<String>> {
    crate::util::run_for_figures(&mut crate::release::command(name, args)?)
}

/// A figure as a number.
fn number(figures: &[String], name: &str) -> Result<f64> {
    crate::util::figure(figures, name)
        .with_context(|| format!("no `{name}` figure"))?
        .trim()
        .parse()
        .with_context(|| format!("`{name}` is not a number"))
}

/// The stores the throughput figures are measured on: a label, and the arguments that pick it.
const BACKENDS: &[(&str, &[&str])] = &[
    ("sled", &[]),
    ("pg1", &["--postgres"]),
    ("pg2", &["--postgres", "--instances", "2"]),
];

/// Runs every part and prints the figures, then all of them again together at the end.
pub(crate) fn run_all(opts: Options) -> Result<()> {
    let secs = opts.seconds.to_string();
    let mut all: Vec<String> = Vec::new();
    crate::release::build()?;

    all.extend(example("bench_status_list", &[])?);

    let presentation = target_dir().join("bench").join("presentation.json");
    let presentation_arg = presentation.display().to_string();
    let verify = example(
        "bench_verify",
        &[
            "--seconds",
            &secs,
            "--write-presentation",
            &presentation_arg,
        ],
    )?;
    let ours = number(&verify, "verify_presentation_per_s")?;
    let limit = number(&verify, "es256_verify_per_s")? / 2.0;
    all.extend(verify);
    let (python, js) = peer_rates(&presentation, opts.seconds)?;
    let peers = [
        format!("python_sdjwt_verify_per_s: {python:.0}"),
        format!("js_sdjwt_verify_per_s: {js:.0}"),
        format!("verify_speedup_vs_python_sdjwt: {:.1}", ours / python),
        format!("verify_speedup_vs_js_sdjwt: {:.1}", ours / js),
        // What no implementation on this machine can beat: two ES256 verifications each.
        format!(
            "verify_speedup_ceiling_vs_python_sdjwt: {:.1}",
            limit / python
        ),
        format!("verify_speedup_ceiling_vs_js_sdjwt: {:.1}", limit / js),
    ];
    for line in &peers {
        println!("{line}");
    }
    all.extend(peers);

    all.extend(example("bench_issuance", &["--seconds", &secs])?);

    // Durable issuance per backend (issue 16), DPoP only, with 8 connections: sled, PostgreSQL
    // with one instance, and with two instances on one database (same process, same cores).
    for (label, extra) in BACKENDS {
        let mut args = vec!["--seconds", &secs, "--connections", "8", "--dpop-only"];
        args.extend(*extra);
        let figures = example("bench_issuance", &args)?;
        let rate = number(&figures, "issue_http_per_s")?;
        let limit = number(&figures, "issue_limit_per_s")?;
        all.push(format!("issue_{label}_c8_http_per_s: {rate:.0}"));
        all.push(format!(
            "issue_{label}_c8_ratio_to_limit: {:.3}",
            rate / limit
        ));
        // The server's own CPU time only (the wallets in the same process left out).
        let capacity = number(&figures, "issue_server_capacity_per_s")?;
        let cpu = number(&figures, "issue_server_cpu_ms_per_credential")?;
        all.push(format!(
            "issue_{label}_server_cpu_ms_per_credential: {cpu:.3}"
        ));
        all.push(format!(
            "issue_{label}_server_capacity_ratio_to_limit: {:.3}",
            capacity / limit
        ));
    }

    // The verifier service over HTTP: create session → wallet posts → platform reads.
    // Per store (the sled run's figures are also the headline ones), against the library's
    // rate on every core.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    for (label, extra) in BACKENDS {
        let figures = crate::load::verifier_load_with(opts.seconds, 16, extra)?;
        if extra.is_empty() {
            all.extend(
                figures
                    .iter()
                    .filter(|f| f.starts_with("verifier_service_"))
                    .cloned(),
            );
        }
        let rate = number(&figures, "verifier_service_sessions_per_s")?;
        all.push(format!(
            "verifier_service_{label}_sessions_per_s: {rate:.0}"
        ));
        all.push(format!(
            "verifier_service_{label}_ratio_to_library: {:.3}",
            rate / (cores * ours)
        ));
        // The services' own CPU time only (the wallets in the same process left out).
        let capacity = number(&figures, "verifier_service_server_capacity_per_s")?;
        let cpu = number(&figures, "verifier_service_server_cpu_ms_per_session")?;
        all.push(format!(
            "verifier_service_{label}_server_cpu_ms_per_session: {cpu:.3}"
        ));
        all.push(format!(
            "verifier_service_{label}_server_capacity_ratio_to_library: {:.3}",
            capacity / (cores * ours)
        ));
    }

    let sizes = crate::wasm::run_all()?;
    all.push(format!("wallet_wasm_raw_bytes: {}", sizes.raw));
    all.push(format!("wallet_wasm_gzip_bytes: {}", sizes.gzip));
    let browser = crate::util::run_for_figures(&mut crate::test::wallet_e2e_command()?)?;
    all.extend(
        browser
            .into_iter()
            .filter(|f| f.starts_with("wallet_present_ms_chromium")),
    );

    if !opts.quick {
        crate::util::run(crate::util::cargo().args([
            "bench",
            "-p",
            "civic-verifier",
            "--bench",
            "hot_paths",
            "--",
            "--warm-up-time",
            "1",
            "--measurement-time",
            "3",
        ]))?;
    }

    println!("\n== cargo xtask bench: all figures ==");
    for line in &all {
        println!("{line}");
    }
    Ok(())
}
