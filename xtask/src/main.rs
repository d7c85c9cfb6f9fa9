//! civic-id developer tasks, run as `cargo xtask <command>`.
//!
//! See [`USAGE`] for the commands.

mod demo;
mod interop;
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
  wasm      build the browser wallet for wasm32 into wallet-wasm/web/pkg (wasm-bindgen,
            wasm-opt) and print its raw and gzip sizes
  test      the one test command: setup, fmt, clippy, test, wasm, interop, services-interop;
            stops at the first failure and ends with `N passed, N failed`
              --quick              skip setup, wasm, interop and services-interop
              --skip STEP[,STEP]   skip named steps
  interop   run the interoperability matrix against the Python and JS peers
  demo      [protocol|issuer [--port N] [--check]]: the protocol walk-through, then the live
            issuer, verifier service and participatory budget example
  bench     presentation verification and HTTP issuance against the raw ES256 rates of the
            same run, one `name: value` line per figure (--seconds N)
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
        // Issuance and verification so far; issue 6 adds the service, wallet and criterion runs.
        "bench" => {
            util::run_example("civic-verifier", "bench_verify", rest)?;
            util::run_example("civic-issuer", "bench_issuance", rest)?;
        }
        "help" | "-h" | "--help" => print!("{USAGE}"),
        other => bail!("unknown command `{other}`\n\n{USAGE}"),
    }
    Ok(ExitCode::SUCCESS)
}

/// Entry point: runs the command and turns errors into a failing exit code.
fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match dispatch(&args) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("xtask: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
