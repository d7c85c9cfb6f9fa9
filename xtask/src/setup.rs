//! `cargo xtask setup`: installs what the build and tests need, idempotently.
//!
//! - Debian packages (only as root; otherwise it prints what to install).
//! - `wasm-bindgen` CLI, matching the pinned `wasm-bindgen` crate, into `.tools/bin`.
//! - `wasm-opt` from the npm package `binaryen`, into `.tools/node-binaryen`.
//! - `cargo-fuzz`, pinned, into `.tools/bin` (for `cargo xtask fuzz`).
//! - `cargo-deny`, pinned, into `.tools/bin` (for `cargo xtask deny`).
//! - The interop peers' Python packages (`.tools/venv`) and Node packages (`.tools/node`).
//!
//! Each install is skipped when a stamp file shows it was done with the same inputs.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::util::{self, capture, rel, run, stamp_matches, succeeds, tools_dir, write_stamp};
use crate::wasm;

/// The `wasm-bindgen` CLI version; must equal the `wasm-bindgen = "=…"` pin in Cargo.toml.
pub(crate) const WASM_BINDGEN_VERSION: &str = "0.2.130";

/// The `cargo-fuzz` version installed for `cargo xtask fuzz` (with `--locked`).
pub(crate) const CARGO_FUZZ_VERSION: &str = "0.13.2";

/// The npm `binaryen` version that provides `wasm-opt`.
const BINARYEN_VERSION: &str = "132.0.0";

/// Name of the stamp file kept inside each install folder.
const STAMP: &str = ".xtask-stamp";

/// Runs every set-up step and prints what it did.
pub(crate) fn run_all() -> Result<()> {
    apt_packages()?;
    wasm_bindgen_cli()?;
    binaryen()?;
    cargo_fuzz()?;
    cargo_deny()?;
    python_peers()?;
    node_peers()?;
    println!("setup: done");
    Ok(())
}

/// Prints one set-up message with a common prefix.
fn say(msg: &str) {
    println!("setup: {msg}");
}

/// The Debian packages this project needs, with the reason, given what is already here.
fn needed_packages() -> Vec<(&'static str, &'static str)> {
    let mut need = vec![
        ("chromium", "browser tests"),
        ("libssl-dev", "josekit (openssl)"),
        ("pkg-config", "finding C libraries"),
        ("cmake", "aws-lc-sys"),
        ("g++", "libFuzzer (cargo xtask fuzz)"),
        ("zbar-tools", "decoding our QR codes in tests (zbarimg)"),
        ("curl", "the browser test's readiness probes"),
        ("e2fsprogs", "the storage fault tests (mkfs.ext4, e2fsck)"),
        (
            "postgresql",
            "the PostgreSQL store tests (initdb, pg_ctl; a throwaway cluster per test)",
        ),
        (
            "librsvg2-bin",
            "rendering our SVG QR codes for zbarimg (rsvg-convert)",
        ),
    ];
    if !wasm::host_has_wasm32_std() {
        let why = "wasm32 std build (host toolchain lacks wasm32)";
        need.extend([
            ("rustc-web", why),
            ("cargo-web", why),
            ("rust-web-src", why),
            ("lld", why),
        ]);
    }
    if !succeeds("node", &["--version"]) {
        need.push(("nodejs", "interop peers and wasm-opt"));
    }
    if !succeeds("npm", &["--version"]) {
        need.push(("npm", "interop peers and wasm-opt"));
    }
    if !succeeds("python3", &["-c", "import venv, ensurepip"]) {
        need.push(("python3-venv", "the Python interop peer"));
    }
    need
}

/// Whether dpkg reports `package` as installed.
fn dpkg_installed(package: &str) -> bool {
    capture(Command::new("dpkg-query").args(["-W", "-f=${Status}", package]))
        .is_some_and(|s| s.trim() == "install ok installed")
}

/// Installs missing Debian packages with apt-get (as root), or says what to install.
fn apt_packages() -> Result<()> {
    let need = needed_packages();
    if !succeeds("dpkg-query", &["--version"]) {
        let names: Vec<_> = need.iter().map(|(p, _)| *p).collect();
        say(&format!(
            "not a Debian system; make sure these (or equivalents) are installed: {}",
            names.join(" ")
        ));
        return Ok(());
    }
    let missing: Vec<_> = need
        .iter()
        .filter(|(p, _)| !dpkg_installed(p))
        .copied()
        .collect();
    if missing.is_empty() {
        say("Debian packages: all present");
        return Ok(());
    }
    for (package, why) in &missing {
        say(&format!("missing Debian package {package} ({why})"));
    }
    let names: Vec<_> = missing.iter().map(|(p, _)| *p).collect();
    if !util::is_root() {
        say(&format!(
            "not root: please run `sudo apt-get update && sudo apt-get install -y {}`",
            names.join(" ")
        ));
        return Ok(());
    }
    run(Command::new("apt-get")
        .arg("update")
        .env("DEBIAN_FRONTEND", "noninteractive"))?;
    run(Command::new("apt-get")
        .args(["install", "-y"])
        .args(&names)
        .env("DEBIAN_FRONTEND", "noninteractive"))?;
    say(&format!("installed Debian packages: {}", names.join(" ")));
    Ok(())
}

/// Whether `program --version` reports the pinned wasm-bindgen version.
fn is_pinned_wasm_bindgen(program: &Path) -> bool {
    capture(Command::new(program).arg("--version")).is_some_and(|v| {
        v.split_whitespace()
            .nth(1)
            .is_some_and(|ver| ver == WASM_BINDGEN_VERSION)
    })
}

/// The `wasm-bindgen` CLI of the pinned version: `.tools/bin` first, then `PATH`.
pub(crate) fn wasm_bindgen_path() -> Option<PathBuf> {
    let local = tools_dir().join("bin").join("wasm-bindgen");
    [local, PathBuf::from("wasm-bindgen")]
        .into_iter()
        .find(|p| is_pinned_wasm_bindgen(p))
}

/// Installs the pinned `wasm-bindgen` CLI into `.tools/bin` unless it is already there.
fn wasm_bindgen_cli() -> Result<()> {
    if let Some(path) = wasm_bindgen_path() {
        say(&format!(
            "wasm-bindgen {WASM_BINDGEN_VERSION}: already present ({})",
            path.display()
        ));
        return Ok(());
    }
    say(&format!(
        "installing wasm-bindgen-cli {WASM_BINDGEN_VERSION} into .tools (takes a few minutes)"
    ));
    run(util::cargo()
        .args([
            "install",
            "wasm-bindgen-cli",
            "--version",
            WASM_BINDGEN_VERSION,
        ])
        .arg("--root")
        .arg(tools_dir()))?;
    if wasm_bindgen_path().is_none() {
        bail!(
            "wasm-bindgen-cli was installed, but `.tools/bin/wasm-bindgen --version` \
             does not report {WASM_BINDGEN_VERSION}"
        );
    }
    say(&format!("installed wasm-bindgen {WASM_BINDGEN_VERSION}"));
    Ok(())
}

/// Installs the pinned `cargo-fuzz` into `.tools/bin` unless a working one is there or on `PATH`.
fn cargo_fuzz() -> Result<()> {
    if let Some(path) = crate::fuzz::cargo_fuzz_path() {
        let version = capture(Command::new(&path).arg("--version")).unwrap_or_default();
        say(&format!(
            "cargo-fuzz: already present ({}, {})",
            version.trim(),
            path.display()
        ));
        return Ok(());
    }
    say(&format!(
        "installing cargo-fuzz {CARGO_FUZZ_VERSION} into .tools (takes about a minute)"
    ));
    run(util::cargo()
        .args([
            "install",
            "cargo-fuzz",
            "--locked",
            "--version",
            CARGO_FUZZ_VERSION,
        ])
        .arg("--root")
        .arg(tools_dir()))?;
    if crate::fuzz::cargo_fuzz_path().is_none() {
        bail!("cargo-fuzz was installed, but `.tools/bin/cargo-fuzz --version` does not run");
    }
    say(&format!("installed cargo-fuzz {CARGO_FUZZ_VERSION}"));
    Ok(())
}

/// Installs the pinned `cargo-deny` into `.tools/bin` unless a working one is there or on `PATH`.
fn cargo_deny() -> Result<()> {
    use crate::deny::{cargo_deny_path, CARGO_DENY_VERSION};
    if let Some(path) = cargo_deny_path() {
        let version = capture(Command::new(&path).arg("--version")).unwrap_or_default();
        say(&format!(
            "cargo-deny: already present ({}, {})",
            version.trim(),
            path.display()
        ));
        return Ok(());
    }
    say(&format!(
        "installing cargo-deny {CARGO_DENY_VERSION} into .tools (takes a few minutes)"
    ));
    run(util::cargo()
        .args([
            "install",
            "cargo-deny",
            "--locked",
            "--version",
            CARGO_DENY_VERSION,
        ])
        .arg("--root")
        .arg(tools_dir()))?;
    if cargo_deny_path().is_none() {
        bail!("cargo-deny was installed, but `.tools/bin/cargo-deny --version` does not run");
    }
    say(&format!("installed cargo-deny {CARGO_DENY_VERSION}"));
    Ok(())
}

/// Folder of the npm install that provides `wasm-opt`.
fn binaryen_dir() -> PathBuf {
    tools_dir().join("node-binaryen")
}

/// The `wasm-opt` script of npm's binaryen (run it with `node`).
pub(crate) fn wasm_opt_script() -> PathBuf {
    binaryen_dir()
        .join("node_modules")
        .join("binaryen")
        .join("bin")
        .join("wasm-opt")
}

/// Installs npm `binaryen` (for `wasm-opt`) into `.tools/node-binaryen`, its own folder so
/// that it does not depend on the interop peers' package.json.
fn binaryen() -> Result<()> {
    let dir = binaryen_dir();
    let manifest = format!(
        concat!(
            "{{\n",
            "  \"name\": \"civic-id-binaryen\",\n",
            "  \"private\": true,\n",
            "  \"dependencies\": {{ \"binaryen\": \"{}\" }}\n",
            "}}\n"
        ),
        BINARYEN_VERSION
    );
    let stamp = dir.join(STAMP);
    if stamp_matches(&stamp, &manifest) && wasm_opt_script().is_file() {
        say(&format!(
            "binaryen {BINARYEN_VERSION} (wasm-opt): already present"
        ));
        return Ok(());
    }
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    fs::write(dir.join("package.json"), &manifest).context("writing binaryen package.json")?;
    npm_install(&dir, false)?;
    if !wasm_opt_script().is_file() {
        bail!(
            "npm installed binaryen but {} is missing",
            rel(&wasm_opt_script())
        );
    }
    write_stamp(&stamp, &manifest)?;
    say(&format!(
        "installed binaryen {BINARYEN_VERSION} (wasm-opt) into {}",
        rel(&dir)
    ));
    Ok(())
}

/// Runs `npm ci` (with a lock file) or `npm install` in `dir`.
fn npm_install(dir: &Path, locked: bool) -> Result<()> {
    let verb = if locked { "ci" } else { "install" };
    run(Command::new("npm")
        .arg(verb)
        .args(["--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(dir))
}

/// The interop peers' folder.
fn interop_dir() -> PathBuf {
    util::repo_root().join("tests").join("interop")
}

/// The Python of the peers' virtual environment.
pub(crate) fn venv_python() -> PathBuf {
    tools_dir().join("venv").join("bin").join("python")
}

/// Creates `.tools/venv` and installs `tests/interop/requirements.txt` into it.
fn python_peers() -> Result<()> {
    let venv = tools_dir().join("venv");
    let requirements = interop_dir().join("requirements.txt");
    let req_text = match fs::read_to_string(&requirements) {
        Ok(text) => Some(text),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
        Err(err) => return Err(err).context(format!("reading {}", rel(&requirements))),
    };
    let python_version = capture(Command::new("python3").arg("--version"))
        .context("python3 not found (install python3 and python3-venv)")?;
    let inputs = format!(
        "{}\nrequirements:\n{}",
        python_version.trim(),
        req_text.as_deref().unwrap_or("<none>")
    );
    let stamp = venv.join(STAMP);
    let works = succeeds(venv_python(), &["-c", "pass"]);
    if works && stamp_matches(&stamp, &inputs) {
        say("Python venv for interop peers: already present");
        return Ok(());
    }
    if !works {
        if venv.exists() {
            fs::remove_dir_all(&venv).with_context(|| format!("removing {}", rel(&venv)))?;
        }
        run(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
    }
    match &req_text {
        Some(_) => run(Command::new(venv_python())
            .args([
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "-q",
                "-r",
            ])
            .arg(&requirements))?,
        None => say("no tests/interop/requirements.txt yet: venv created without packages"),
    }
    write_stamp(&stamp, &inputs)?;
    say(&format!("Python venv ready in {}", rel(&venv)));
    Ok(())
}

/// The `node_modules` folder the JS peer is run with (`NODE_PATH`).
pub(crate) fn node_modules() -> PathBuf {
    tools_dir().join("node").join("node_modules")
}

/// Copies `tests/interop/package.json` (and its lock file, if any) into `.tools/node` and
/// installs it there.
fn node_peers() -> Result<()> {
    let manifest_path = interop_dir().join("package.json");
    let manifest = match fs::read_to_string(&manifest_path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            say("no tests/interop/package.json yet: skipping the Node peer's packages");
            return Ok(());
        }
        Err(err) => return Err(err).context(format!("reading {}", rel(&manifest_path))),
    };
    let lock_path = interop_dir().join("package-lock.json");
    let lock = fs::read_to_string(&lock_path).ok();
    let inputs = format!(
        "{manifest}\n--- lock ---\n{}",
        lock.as_deref().unwrap_or("<none>")
    );
    let dir = tools_dir().join("node");
    let stamp = dir.join(STAMP);
    if stamp_matches(&stamp, &inputs) && node_modules().is_dir() {
        say("Node packages for interop peers: already present");
        return Ok(());
    }
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", rel(&dir)))?;
    fs::write(dir.join("package.json"), &manifest).context("copying package.json")?;
    let dest_lock = dir.join("package-lock.json");
    match &lock {
        Some(text) => fs::write(&dest_lock, text).context("copying package-lock.json")?,
        None if dest_lock.exists() => {
            fs::remove_file(&dest_lock).context("removing stale package-lock.json")?
        }
        None => {}
    }
    npm_install(&dir, lock.is_some())?;
    write_stamp(&stamp, &inputs)?;
    say(&format!("Node packages ready in {}", rel(&node_modules())));
    Ok(())
}
