//! civic-id developer tasks, run as `cargo xtask <command>`.
//!
//! See [`USAGE`] for the commands.

mod bench;
mod demo;
mod deny;
mod fuzz;
mod interop;
mod load;
mod release;
mod setup;
mod test;
mod util;
mod wasm;

use std::process::ExitCode;

use anyhow::{bail, Result};

/// Help text.
const USAGE: &str = "\
usage: cargo xtask <command> [options]

commands:
  setup     install what is missing (Debian packages as root, wasm-bindgen, wasm-opt,
            the interop peers' Python and Node packages), idempotently
  deny      cargo deny check (advisories, licences, bans, sources) with deny.toml; offline
            against the advisory snapshot in supply-chain/ unless CIVIC_DENY_FETCH=1
  wasm      build the browser wallet for wasm32 into wallet-wasm/web/pkg (wasm-bindgen,
            wasm-opt) and print its raw and gzip sizes
  test      the one test command: setup, fmt, clippy, test, wasm, interop, services-interop,
            browser, load; stops at the first failure and ends with `N passed, N failed`
              --quick              skip setup, wasm, interop, services-interop, browser and load
              --skip STEP[,STEP]   skip named steps
  interop   run the interoperability matrix against the Python and JS peers
  demo      [protocol|issuer [--port N] [--check]]: the protocol walk-through, then the live
            issuer, verifier service and participatory budget example
  bench     every performance figure in one run, one `name: value` line each: status list,
            verification (library, peers), HTTP issuance, the verifier service, the wallet's
            size and Chromium presentation time, then criterion micro-benchmarks
              --seconds N   seconds per timed part (default 10)
              --quick       leave out criterion (CI's short version)
  load      the verifier service at 64 connections with valid and invalid presentations, and
            the issuer SIGKILLed 5 times under batch issuance and revocations; `name: value`
            figures on stdout (--seconds N per part, default 60)
  fuzz      build the cargo-fuzz targets (fuzz/) and run each one, printing
            `fuzz_<target>_execs` / `fuzz_<target>_crashes` and `fuzz_total_execs`
              --seconds N          seconds per target (default 60)
              --jobs 1|2           targets run at the same time (default 1)
              --targets a,b        only these targets
              --cmin               merge new inputs into fuzz/corpus, minimized
  help      show this text
";

/// Fails when a command that takes no arguments got some.
fn no_arguments(command: &str, rest: &[String]) -> Result<()> {
    match rest.first() {
        Some(extra) => bail!("`{command}` takes no arguments, got `{extra}`"),
        None => Ok(()),
    }
}

/// Parses the command line and runs the chosen task.
fn dispatch(args: &[String]) -> Result<ExitCode> {
    let Some((command, rest)) = args.split_first() else {
        print!("{USAGE}");
        return Ok(ExitCode::SUCCESS);
    };
    match command.as_str() {
        "setup" => {
            no_arguments(command, rest)?;
            setup::run_all()?;
        }
        "wasm" => {
            no_arguments(command, rest)?;
            wasm::run_all()?;
        }
        "test" => {
            let options = test::Options::parse(rest)?;
            return Ok(test::run_all(&options));
        }
        "interop" => {
            no_arguments(command, rest)?;
            interop::run_all()?;
        }
        "demo" => demo::run_demo(rest)?,
        "deny" => {
            no_arguments(command, rest)?;
            println!("{}", deny::run_all()?);
        }
        "bench" => bench::run_all(bench::Options::parse(rest)?)?,
        "fuzz" => {
            fuzz::run_all(&fuzz::Options::parse(rest)?)?;
        }
        "load" => {
            load::run(load::parse_seconds(rest)?)?;
        }
        "help" | "-h" | "--help" => print!("{USAGE}"),
        other => bail!("unknown command `{other}`\n\n{USAGE}"),
    }
    Ok(ExitCode::SUCCESS)
}

/// Entry point: runs the command and turns errors into a failing exit code.
fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // Every test talks to servers on 127.0.0.1: never through a proxy the machine may have set,
    // and with Node.js trying IPv4 first for `localhost` (the servers listen on IPv4 only).
    std::env::set_var("NO_PROXY", "localhost,127.0.0.1,::1");
    std::env::set_var("no_proxy", "localhost,127.0.0.1,::1");
    let node_options = std::env::var("NODE_OPTIONS").unwrap_or_default();
    if !node_options.contains("dns-result-order") {
        let options = format!("{node_options} --dns-result-order=ipv4first");
        std::env::set_var("NODE_OPTIONS", options.trim());
    }
    match dispatch(&args) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("xtask: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
