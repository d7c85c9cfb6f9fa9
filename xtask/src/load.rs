//! `cargo xtask load [--seconds N]`: the load and crash tests, all on 127.0.0.1, each bounded in
//! time and stopping by itself.
//!
//! 1. The verifier service under 64 concurrent connections with a mix of valid and invalid
//!    presentations (`tests/e2e/src/bin/load_verifier.rs`, release build).
//! 2. The issuer binary under concurrent batch issuance, killed with SIGKILL at random moments 5
//!    times, with revocations made under load (`issuer/tests/load_crash.rs`, with
//!    `CIVIC_LOAD_SECONDS`).
//!
//! Each part's `name: value` figure lines are printed on stdout; any failure fails the task.

use anyhow::{bail, Result};

use crate::util::{self, run_for_figures};

/// Default seconds per part.
pub(crate) const DEFAULT_SECONDS: u64 = 60;

/// Concurrent connections of the verifier load.
const CONNECTIONS: u64 = 64;

/// Parses `--seconds N` (or `--seconds=N`).
pub(crate) fn parse_seconds(args: &[String]) -> Result<u64> {
    let mut seconds = DEFAULT_SECONDS;
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let value = match arg.as_str() {
            "--seconds" => iter.next().map(String::as_str),
            other => match other.strip_prefix("--seconds=") {
                Some(v) => Some(v),
                None => bail!("unknown option `{other}` for `load`"),
            },
        };
        seconds = match value.map(str::parse::<u64>) {
            Some(Ok(n)) if n > 0 => n,
            _ => bail!("--seconds needs a positive number"),
        };
    }
    Ok(seconds)
}

/// Runs the verifier service load binary (release) for `seconds` at `connections`; its figures.
pub(crate) fn verifier_load(seconds: u64, connections: u64) -> Result<Vec<String>> {
    verifier_load_with(seconds, connections, &[])
}

/// [`verifier_load`] with more arguments for `load_verifier` (`--postgres`, `--instances 2`).
pub(crate) fn verifier_load_with(
    seconds: u64,
    connections: u64,
    extra: &[&str],
) -> Result<Vec<String>> {
    crate::release::build()?;
    let (seconds, connections) = (seconds.to_string(), connections.to_string());
    let mut args = vec!["--seconds", &seconds, "--connections", &connections];
    args.extend(extra);
    run_for_figures(&mut crate::release::command("load_verifier", &args)?)
}

/// Runs both parts for `seconds` each; returns a one-line summary.
pub(crate) fn run(seconds: u64) -> Result<String> {
    let verifier = verifier_load(seconds, CONNECTIONS)?;
    let issuer = run_for_figures(
        util::cargo()
            .args([
                "test",
                "--quiet",
                "-p",
                "civic-issuer",
                "--test",
                "load_crash",
                "--",
                "--nocapture",
            ])
            .env("CIVIC_LOAD_SECONDS", seconds.to_string()),
    )?;
    let figure =
        |figures: &[String], name: &str| util::figure(figures, name).unwrap_or("?").to_owned();
    Ok(format!(
        "verifier {} sessions/s, p50 {} ms, p99 {} ms, {} 5xx; issuer {} kills, {} credentials checked",
        figure(&verifier, "verifier_service_sessions_per_s"),
        figure(&verifier, "load_verifier_p50_ms"),
        figure(&verifier, "load_verifier_p99_ms"),
        figure(&verifier, "load_verifier_5xx"),
        figure(&issuer, "load_crash_kills"),
        figure(&issuer, "load_crash_credentials_checked"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn parses_seconds() {
        assert_eq!(parse_seconds(&[]).unwrap(), DEFAULT_SECONDS);
        assert_eq!(parse_seconds(&args(&["--seconds", "10"])).unwrap(), 10);
        assert_eq!(parse_seconds(&args(&["--seconds=7"])).unwrap(), 7);
        assert!(parse_seconds(&args(&["--seconds"])).is_err());
        assert!(parse_seconds(&args(&["--seconds", "0"])).is_err());
        assert!(parse_seconds(&args(&["--frob"])).is_err());
    }

    #[test]
    fn recognises_figure_lines() {
        assert!(util::is_figure("load_verifier_5xx: 0"));
        assert!(!util::is_figure("test result: ok. 1 passed"));
        assert!(!util::is_figure("running 1 test"));
    }
}
