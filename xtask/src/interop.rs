//! The interoperability step: civic-credential exchanges SD-JWT VCs and Token Status Lists
//! with independent implementations (the "peers") through JSON files.
//!
//! Rust side: the `interop` example of `civic-credential`, and for encrypted answers the
//! `interop_jwe` example of `civic-verifier` (the wallet's encryption, the verifier's josekit
//! decryption). Peers: `tests/interop/python`
//! (run with `.tools/venv`) and `tests/interop/js` (run with `NODE_PATH=.tools/node/node_modules`).
//! Every program takes `<subcommand> <file>`; exit code 0 means success.
//!
//! For every [`Exchange`] and every peer supporting it, two cases run: Rust produces and the
//! peer consumes, and the peer produces and Rust consumes. Files go under `target/interop/`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use crate::setup;
use crate::util::{self, rel, repo_root, run, run_logged, target_dir};

/// Time allowed to one producer or consumer run.
const TIMEOUT: Duration = Duration::from_secs(180);

/// How a peer's script is started.
#[derive(Debug, Clone, Copy)]
enum Interpreter {
    /// `.tools/venv/bin/python <script>`.
    Python,
    /// `node <script>` with `NODE_PATH` set to `.tools/node/node_modules`.
    Node,
}

/// An independent implementation the Rust side is tested against.
#[derive(Debug)]
struct Peer {
    /// Short name used in case names.
    name: &'static str,
    /// How its script runs.
    interpreter: Interpreter,
    /// The script, relative to the repo root.
    script: &'static str,
    /// The subcommands it implements.
    commands: &'static [&'static str],
}

/// Every subcommand of the exchanges (both peers implement all of them).
const ALL_COMMANDS: &[&str] = &[
    "issue",
    "verify",
    "status-encode",
    "status-decode",
    "jwe-encrypt",
    "jwe-decrypt",
];

/// The peers and the subcommands each implements (read off their usage text).
const PEERS: &[Peer] = &[
    Peer {
        name: "python",
        interpreter: Interpreter::Python,
        script: "tests/interop/python/interop.py",
        commands: ALL_COMMANDS,
    },
    Peer {
        name: "js",
        interpreter: Interpreter::Node,
        script: "tests/interop/js/interop.cjs",
        commands: ALL_COMMANDS,
    },
];

/// A file handed from a producing subcommand to a consuming one.
#[derive(Debug)]
struct Exchange {
    /// Short name used in case names.
    name: &'static str,
    /// Writes the file.
    produce: &'static str,
    /// Reads and checks the file.
    consume: &'static str,
    /// The Rust side: (package, example).
    rust: (&'static str, &'static str),
}

/// civic-credential's `interop` example.
const CREDENTIAL_EXAMPLE: (&str, &str) = ("civic-credential", "interop");
/// civic-verifier's `interop_jwe` example.
const JWE_EXAMPLE: (&str, &str) = ("civic-verifier", "interop_jwe");

/// What is exchanged.
const EXCHANGES: &[Exchange] = &[
    Exchange {
        name: "sd-jwt-vc",
        produce: "issue",
        consume: "verify",
        rust: CREDENTIAL_EXAMPLE,
    },
    Exchange {
        name: "status-list",
        produce: "status-encode",
        consume: "status-decode",
        rust: CREDENTIAL_EXAMPLE,
    },
    Exchange {
        name: "jwe",
        produce: "jwe-encrypt",
        consume: "jwe-decrypt",
        rust: JWE_EXAMPLE,
    },
];

/// One side of a case.
#[derive(Debug, Clone, Copy)]
enum Side {
    /// The exchange's Rust example.
    Rust,
    /// A peer script.
    Peer(&'static Peer),
}

impl Side {
    /// Short name used in case names.
    fn name(self) -> &'static str {
        match self {
            Side::Rust => "rust",
            Side::Peer(peer) => peer.name,
        }
    }

    /// The command that runs `subcommand file` on this side, or why it cannot run.
    fn command(self, exchange: &Exchange, subcommand: &str, file: &Path) -> Result<Command> {
        let root = repo_root();
        let mut cmd = match self {
            Side::Rust => Command::new(rust_binary(exchange.rust.1)),
            Side::Peer(peer) => {
                let script = root.join(peer.script);
                if !script.is_file() {
                    bail!("peer script {} is missing", peer.script);
                }
                let mut cmd = match peer.interpreter {
                    Interpreter::Python => {
                        let python = setup::venv_python();
                        if !python.is_file() {
                            bail!("{} is missing: run `cargo xtask setup`", rel(&python));
                        }
                        Command::new(python)
                    }
                    Interpreter::Node => {
                        let mut cmd = Command::new("node");
                        cmd.env("NODE_PATH", setup::node_modules());
                        cmd
                    }
                };
                cmd.arg(script);
                cmd
            }
        };
        cmd.current_dir(root).arg(subcommand).arg(file);
        Ok(cmd)
    }
}

/// One producer → consumer run.
#[derive(Debug)]
struct Case {
    /// The exchange it tests.
    exchange: &'static Exchange,
    /// Who writes the file.
    producer: Side,
    /// Who reads it.
    consumer: Side,
}

impl Case {
    /// `<exchange> <producer>-><consumer>`.
    fn name(&self) -> String {
        format!(
            "{} {}->{}",
            self.exchange.name,
            self.producer.name(),
            self.consumer.name()
        )
    }

    /// File-name stem for its files.
    fn stem(&self) -> String {
        format!(
            "{}-{}-to-{}",
            self.exchange.name,
            self.producer.name(),
            self.consumer.name()
        )
    }
}

/// The built Rust example `name`: the debug build, which `cargo test --workspace` has already
/// made in a `cargo xtask test` run (the cases are a few signatures each, so a release build
/// would only cost minutes of compiling).
fn rust_binary(name: &str) -> PathBuf {
    target_dir().join("debug").join("examples").join(name)
}

/// The folder for exchanged files and logs.
fn work_dir() -> PathBuf {
    target_dir().join("interop")
}

/// Every case of the matrix, from [`PEERS`] and [`EXCHANGES`].
fn cases() -> Vec<Case> {
    let mut out = Vec::new();
    for exchange in EXCHANGES {
        for peer in PEERS {
            if peer.commands.contains(&exchange.consume) {
                out.push(Case {
                    exchange,
                    producer: Side::Rust,
                    consumer: Side::Peer(peer),
                });
            }
            if peer.commands.contains(&exchange.produce) {
                out.push(Case {
                    exchange,
                    producer: Side::Peer(peer),
                    consumer: Side::Rust,
                });
            }
        }
    }
    out
}

/// Runs one side of a case; on failure returns a report with its output.
fn run_side(
    side: Side,
    exchange: &Exchange,
    subcommand: &str,
    file: &Path,
    log: &Path,
) -> Result<(), String> {
    let mut cmd = side
        .command(exchange, subcommand, file)
        .map_err(|err| format!("{} {subcommand}: {err:#}", side.name()))?;
    let logged = run_logged(&mut cmd, log, TIMEOUT);
    if logged.ok {
        Ok(())
    } else {
        Err(format!(
            "{} {subcommand} failed: {}\n--- output of {} {subcommand} ---\n{}",
            side.name(),
            logged.reason,
            side.name(),
            logged.output.trim_end()
        ))
    }
}

/// Runs a case: the producer writes the file, the consumer checks it.
fn run_case(case: &Case) -> Result<(), String> {
    let dir = work_dir();
    let file = dir.join(format!("{}.json", case.stem()));
    let producer_log = dir
        .join("logs")
        .join(format!("{}.produce.log", case.stem()));
    let consumer_log = dir
        .join("logs")
        .join(format!("{}.consume.log", case.stem()));
    if file.exists() {
        fs::remove_file(&file).map_err(|e| format!("removing stale {}: {e}", rel(&file)))?;
    }
    run_side(
        case.producer,
        case.exchange,
        case.exchange.produce,
        &file,
        &producer_log,
    )?;
    if !file.is_file() {
        let output = fs::read_to_string(&producer_log).unwrap_or_default();
        return Err(format!(
            "{} {} exited 0 but wrote no {}\n--- its output ---\n{}",
            case.producer.name(),
            case.exchange.produce,
            rel(&file),
            output.trim_end()
        ));
    }
    run_side(
        case.consumer,
        case.exchange,
        case.exchange.consume,
        &file,
        &consumer_log,
    )
}

/// Builds the Rust examples once, runs every case, and fails if any case failed.
pub(crate) fn run_all() -> Result<()> {
    for (package, example) in [CREDENTIAL_EXAMPLE, JWE_EXAMPLE] {
        run(util::cargo().args(["build", "-p", package, "--example", example]))?;
        if !rust_binary(example).is_file() {
            bail!("{} is missing after the build", rel(&rust_binary(example)));
        }
    }
    let logs = work_dir().join("logs");
    fs::create_dir_all(&logs).with_context(|| format!("creating {}", rel(&logs)))?;
    let cases = cases();
    let mut failed = Vec::new();
    for case in &cases {
        match run_case(case) {
            Ok(()) => println!("interop {}: ok", case.name()),
            Err(report) => {
                println!("interop {}: FAILED", case.name());
                println!("{report}");
                failed.push(case.name());
            }
        }
    }
    println!(
        "interop: {} of {} cases passed (files in {})",
        cases.len() - failed.len(),
        cases.len(),
        rel(&work_dir())
    );
    if !failed.is_empty() {
        bail!("interop cases failed: {}", failed.join(", "));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrix_covers_both_directions_for_every_peer() {
        let names: Vec<String> = cases().iter().map(Case::name).collect();
        for exchange in ["sd-jwt-vc", "status-list", "jwe"] {
            for peer in ["python", "js"] {
                assert!(names.contains(&format!("{exchange} rust->{peer}")));
                assert!(names.contains(&format!("{exchange} {peer}->rust")));
            }
        }
        assert_eq!(names.len(), 12);
    }
}
