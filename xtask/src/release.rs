//! The release binaries that `load` and `bench` run, built by one cargo call.
//!
//! Each `cargo run --release -p X` resolves features for X alone, so running the benchmarks of
//! four packages one after the other rebuilt their shared dependencies (tokio, axum, sqlx,
//! josekit …) up to four times: several minutes of a CI run. One `cargo build` over all of them
//! resolves features once; the binaries are then started from `target/release` directly.

use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use anyhow::{bail, Result};

use crate::util::{self, repo_root, run, target_dir};

/// What a release binary is in its package.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// An example (`--example`, in `target/release/examples`).
    Example,
    /// A binary target (`--bin`, in `target/release`).
    Bin,
}

/// Every release binary of `load` and `bench`: (package, name, kind).
const BINARIES: &[(&str, &str, Kind)] = &[
    ("civic-credential", "bench_status_list", Kind::Example),
    ("civic-verifier", "bench_verify", Kind::Example),
    ("civic-issuer", "bench_issuance", Kind::Example),
    ("civic-e2e", "load_verifier", Kind::Bin),
];

/// Builds every binary of [`BINARIES`] in release, in one cargo call, once per xtask run
/// (`bench` asks before each part; a failed build is reported each time it is asked for).
pub(crate) fn build() -> Result<()> {
    static BUILT: OnceLock<()> = OnceLock::new();
    if BUILT.get().is_some() {
        return Ok(());
    }
    build_now()?;
    let _ = BUILT.set(());
    Ok(())
}

/// The one cargo call of [`build`].
fn build_now() -> Result<()> {
    let mut cmd = util::cargo();
    cmd.args(["build", "--release", "--quiet"]);
    for (package, _, _) in BINARIES {
        cmd.args(["-p", package]);
    }
    for (_, name, kind) in BINARIES {
        cmd.arg(match kind {
            Kind::Example => "--example",
            Kind::Bin => "--bin",
        })
        .arg(name);
    }
    run(&mut cmd)
}

/// The command that starts the release binary `name` (one of [`BINARIES`]; [`build`] first)
/// with `args`, from the repository root.
pub(crate) fn command<S: AsRef<OsStr>>(name: &str, args: &[S]) -> Result<Command> {
    let Some((_, _, kind)) = BINARIES.iter().find(|(_, n, _)| *n == name) else {
        bail!("`{name}` is not one of the release binaries of load and bench");
    };
    let release = target_dir().join("release");
    let path: PathBuf = match kind {
        Kind::Example => release.join("examples").join(name),
        Kind::Bin => release.join(name),
    };
    if !path.is_file() {
        bail!("{} is missing: build it first", util::rel(&path));
    }
    let mut cmd = Command::new(path);
    cmd.args(args).current_dir(repo_root());
    Ok(cmd)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_binary_exists_in_its_package() {
        for (package, name, kind) in BINARIES {
            let dir = match *package {
                "civic-credential" => "credential",
                "civic-verifier" => "verifier",
                "civic-issuer" => "issuer",
                "civic-e2e" => "tests/e2e",
                other => panic!("no folder known for {other}"),
            };
            let file = match kind {
                Kind::Example => format!("{dir}/examples/{name}.rs"),
                Kind::Bin => format!("{dir}/src/bin/{name}.rs"),
            };
            assert!(repo_root().join(&file).is_file(), "{file}");
        }
        assert!(command("not_a_binary", &[] as &[&str]).is_err());
    }
}
