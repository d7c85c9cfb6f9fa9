//! `cargo xtask deny`: `cargo deny check` (advisories, licences, bans, sources) with the
//! committed `deny.toml`.
//!
//! The advisory database: with `CIVIC_DENY_FETCH=1` cargo-deny fetches the current RustSec
//! database (a machine with network). Otherwise (CI here has none) the dated snapshot in
//! `supply-chain/advisory-db.tar.gz` is unpacked into `target/advisory-dbs` as the git checkout
//! cargo-deny expects, and cargo-deny runs offline against it. docs/supply-chain.md says how to
//! refresh the snapshot.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::util::{self, run, tools_dir};

/// The cargo-deny version `cargo xtask setup` installs (with `--locked`).
pub(crate) const CARGO_DENY_VERSION: &str = "0.20.2";

/// The snapshot's RustSec commit and its date (shown in the step summary).
const SNAPSHOT_COMMIT: &str = "bf5c0d245a92671908518d7e765914d437954ed6";
const SNAPSHOT_DATE: &str = "2026-08-21T08:28:40+02:00";

/// The folder cargo-deny uses for `https://github.com/rustsec/advisory-db` under its db-path
/// (`advisory-db-` and a hash of the URL; cargo-deny's naming).
const DB_DIR: &str = "advisory-db-3157b0e258782691";

/// `cargo-deny` from `.tools/bin`, or on `PATH`.
pub(crate) fn cargo_deny_path() -> Option<PathBuf> {
    let local = tools_dir().join("bin").join("cargo-deny");
    [local, PathBuf::from("cargo-deny")]
        .into_iter()
        .find(|p| util::succeeds(p, &["--version"]))
}

/// Runs the checks; returns a note for the summary.
pub(crate) fn run_all() -> Result<String> {
    let deny = cargo_deny_path().context(
        "cargo-deny is not installed: run `cargo xtask setup` (it installs it into .tools)",
    )?;
    let root = util::repo_root();
    let mut cmd = Command::new(&deny);
    cmd.current_dir(&root);
    if std::env::var("CIVIC_DENY_FETCH").as_deref() == Ok("1") {
        run(cmd.args(["check"]))?;
        return Ok("advisories: the current RustSec database (fetched)".into());
    }
    // cargo-deny reads `cargo metadata` for every target, offline: on a fresh machine the
    // crates only other targets use (wasm32, Android, Windows) are not downloaded yet. The
    // registry is reachable; fetch them first.
    run(util::cargo().current_dir(&root).args(["fetch", "--locked"]))?;
    let dbs = root.join("target").join("advisory-dbs");
    unpack_snapshot(&dbs)?;
    run(cmd
        .env("CIVIC_ADVISORY_DBS", &dbs)
        .args(["--offline", "check"]))?;
    Ok(format!(
        "advisories: RustSec snapshot {} of {}",
        &SNAPSHOT_COMMIT[..7],
        &SNAPSHOT_DATE[..10]
    ))
}

/// Unpacks the committed snapshot into `dbs/DB_DIR` as a one-commit git repository dated like
/// the snapshot (cargo-deny reads the database's date from its HEAD), unless it is there.
fn unpack_snapshot(dbs: &std::path::Path) -> Result<()> {
    let dir = dbs.join(DB_DIR);
    let stamp = dir.join(".civic-snapshot");
    if std::fs::read_to_string(&stamp).is_ok_and(|s| s.trim() == SNAPSHOT_COMMIT) {
        return Ok(());
    }
    let tarball = util::repo_root()
        .join("supply-chain")
        .join("advisory-db.tar.gz");
    if !tarball.is_file() {
        bail!("{} is missing", util::rel(&tarball));
    }
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::create_dir_all(&dir)?;
    run(Command::new("tar")
        .arg("-xzf")
        .arg(&tarball)
        .arg("--strip-components=1")
        .arg("-C")
        .arg(&dir))?;
    let git = |args: &[&str]| {
        let mut c = Command::new("git");
        c.current_dir(&dir)
            .args([
                "-c",
                "user.name=civic-id",
                "-c",
                "user.email=civic-id@localhost",
            ])
            .args([
                "-c",
                "init.defaultBranch=main",
                "-c",
                "commit.gpgsign=false",
            ])
            .args(args)
            .env("GIT_AUTHOR_DATE", SNAPSHOT_DATE)
            .env("GIT_COMMITTER_DATE", SNAPSHOT_DATE);
        c
    };
    run(&mut git(&["init", "-q"]))?;
    run(&mut git(&["add", "-A"]))?;
    run(&mut git(&[
        "commit",
        "-q",
        "-m",
        &format!("RustSec advisory-db snapshot {SNAPSHOT_COMMIT}"),
    ]))?;
    std::fs::write(&stamp, SNAPSHOT_COMMIT)?;
    Ok(())
}
