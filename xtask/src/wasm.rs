//! `cargo xtask wasm`: builds the browser wallet (`civic-wallet`) for wasm32, generates its
//! JS bindings with wasm-bindgen, shrinks it with wasm-opt, and reports its size.
//!
//! Two toolchains are supported, chosen automatically:
//! - the host toolchain, when its sysroot has the wasm32 standard library
//!   (`rustup target add wasm32-unknown-unknown`);
//! - otherwise Debian's `rustc-web`/`cargo-web`/`rust-web-src` (in `/usr/bin`), which builds
//!   std for wasm32 itself (`-Zbuild-std`) into a separate target folder.

use std::ffi::OsString;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use flate2::write::GzEncoder;
use flate2::Compression;

use crate::setup;
use crate::util::{self, capture, rel, repo_root, run, target_dir};

/// The wasm target triple.
const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// The Cargo profile used for the wallet (defined in the root Cargo.toml).
const PROFILE: &str = "wasm";

/// The wallet package.
const PACKAGE: &str = "civic-wallet";

/// File name of the wallet's cdylib as rustc writes it.
const ARTIFACT: &str = "civic_wallet.wasm";

/// File name wasm-bindgen gives the processed module.
const BINDGEN_WASM: &str = "civic_wallet_bg.wasm";

/// Features enabled by current rustc for wasm32 that wasm-opt must accept.
const WASM_OPT_FLAGS: &[&str] = &[
    "--enable-bulk-memory",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-mutable-globals",
    "--enable-reference-types",
    "--enable-multivalue",
    "-Os",
    "--converge",
];

/// The size budget of the wallet module, gzipped (issue 14: 200 KB with response encryption).
pub(crate) const GZIP_BUDGET: u64 = 200_000;

/// Where the wallet's wasm32-only compiler flags go.
const WASM_RUSTFLAGS_VAR: &str = "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS";

/// Compiler flags for the wallet module, for size: the `aes` crate's compact software backend;
/// with the Debian toolchain (which builds std itself, with `RUSTC_BOOTSTRAP`) also no panic
/// locations and `immediate-abort` panics. A panic in the wallet aborts either way
/// (`panic = "abort"`), and no panic hook shows its message, so nothing visible is lost; the
/// module is about 18 KB smaller gzipped.
fn wasm_rustflags(toolchain: Toolchain) -> &'static str {
    match toolchain {
        Toolchain::Host => "--cfg aes_backend_soft=\"compact\"",
        Toolchain::DebianWeb => {
            "--cfg aes_backend_soft=\"compact\" -Zlocation-detail=none -Zunstable-options \
             -Cpanic=immediate-abort"
        }
    }
}

/// Debian's wasm-capable toolchain.
const DEBIAN_CARGO: &str = "/usr/bin/cargo";
/// Debian's rustc (from `rustc-web`).
const DEBIAN_RUSTC: &str = "/usr/bin/rustc";
/// Debian's rustdoc.
const DEBIAN_RUSTDOC: &str = "/usr/bin/rustdoc";
/// Where `rust-web-src` puts the standard library sources.
const DEBIAN_RUST_SRC: &str = "/usr/lib/rustlib/src/rust/library";

/// Environment variables that belong to the host (rustup) toolchain or to the `cargo run`
/// that started this xtask, and must not reach Debian's cargo.
const HOST_ONLY_VARS: &[&str] = &[
    "CARGO",
    "CARGO_MANIFEST_DIR",
    "CARGO_MANIFEST_PATH",
    "CARGO_CRATE_NAME",
    "CARGO_BIN_NAME",
    "CARGO_PRIMARY_PACKAGE",
    "CARGO_BUILD_RUSTC",
    "CARGO_BUILD_RUSTC_WRAPPER",
    "CARGO_BUILD_RUSTC_WORKSPACE_WRAPPER",
    "CARGO_BUILD_RUSTDOC",
    "CARGO_BUILD_TARGET_DIR",
    "CARGO_ENCODED_RUSTFLAGS",
    "CARGO_MAKEFLAGS",
    "CARGO_TARGET_DIR",
    "RUSTC",
    "RUSTDOC",
    "RUSTC_WRAPPER",
    "RUSTC_WORKSPACE_WRAPPER",
];

/// Which toolchain builds the wasm module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Toolchain {
    /// The host toolchain, which has the wasm32 std.
    Host,
    /// Debian's rust-web toolchain with `-Zbuild-std`.
    DebianWeb,
}

/// Sizes of the final, optimised wasm module.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WasmSizes {
    /// Bytes on disk.
    pub raw: u64,
    /// Bytes after gzip at level 9.
    pub gzip: u64,
}

/// Output folder of wasm-bindgen, served by the wallet web page (git-ignored).
pub(crate) fn pkg_dir() -> PathBuf {
    repo_root().join("wallet-wasm").join("web").join("pkg")
}

/// Whether the host rustc's sysroot holds a prebuilt wasm32 standard library.
pub(crate) fn host_has_wasm32_std() -> bool {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    capture(Command::new(rustc).args(["--print", "sysroot"])).is_some_and(|sysroot| {
        Path::new(sysroot.trim())
            .join("lib/rustlib")
            .join(WASM_TARGET)
            .join("lib")
            .is_dir()
    })
}

/// Whether Debian's rust-web toolchain is installed and knows the wasm target.
fn debian_web_available() -> bool {
    Path::new(DEBIAN_CARGO).is_file()
        && Path::new(DEBIAN_RUST_SRC).is_dir()
        && capture(Command::new(DEBIAN_RUSTC).args(["--print", "target-list"]))
            .is_some_and(|list| list.lines().any(|l| l.trim() == WASM_TARGET))
}

/// Picks the toolchain, preferring the host one.
fn choose_toolchain() -> Result<Toolchain> {
    if host_has_wasm32_std() {
        Ok(Toolchain::Host)
    } else if debian_web_available() {
        Ok(Toolchain::DebianWeb)
    } else {
        bail!(
            "no toolchain can build {WASM_TARGET}: run `cargo xtask setup` (as root it installs \
             Debian's rustc-web cargo-web rust-web-src lld) or `rustup target add {WASM_TARGET}`"
        )
    }
}

/// The `PATH` for Debian's cargo: `/usr/bin` first, rustup toolchain folders removed.
fn debian_path() -> OsString {
    let current = std::env::var_os("PATH").unwrap_or_default();
    let rest = std::env::split_paths(&current).filter(|p| !p.to_string_lossy().contains(".rustup"));
    let all = std::iter::once(PathBuf::from("/usr/bin")).chain(rest);
    std::env::join_paths(all).unwrap_or_else(|_| "/usr/bin:/bin".into())
}

/// A `Command` for Debian's cargo with a clean environment for it.
fn debian_cargo() -> Command {
    let mut cmd = Command::new(DEBIAN_CARGO);
    cmd.current_dir(repo_root());
    for (key, _) in std::env::vars_os() {
        let name = key.to_string_lossy();
        if name.starts_with("RUSTUP_")
            || name.starts_with("CARGO_PKG_")
            || HOST_ONLY_VARS.contains(&name.as_ref())
        {
            cmd.env_remove(&key);
        }
    }
    // `cargo run` adds the host toolchain's libraries to LD_LIBRARY_PATH; drop them.
    if let Some(paths) = std::env::var_os("LD_LIBRARY_PATH") {
        let target = target_dir();
        let kept: Vec<_> = std::env::split_paths(&paths)
            .filter(|p| !p.to_string_lossy().contains(".rustup") && !p.starts_with(&target))
            .collect();
        match std::env::join_paths(kept) {
            Ok(joined) if !joined.is_empty() => cmd.env("LD_LIBRARY_PATH", joined),
            _ => cmd.env_remove("LD_LIBRARY_PATH"),
        };
    }
    cmd.env("PATH", debian_path())
        .env("RUSTC", DEBIAN_RUSTC)
        .env("RUSTDOC", DEBIAN_RUSTDOC)
        .env("RUSTC_BOOTSTRAP", "1")
        .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER", "wasm-ld")
        .env("CARGO_TARGET_DIR", target_dir().join("wasm-build"));
    cmd
}

/// Compiles the wallet to wasm32 and returns the path of the raw module.
fn cargo_build(toolchain: Toolchain) -> Result<PathBuf> {
    let (mut cmd, target) = match toolchain {
        Toolchain::Host => (util::cargo(), target_dir()),
        Toolchain::DebianWeb => (debian_cargo(), target_dir().join("wasm-build")),
    };
    cmd.args([
        "build",
        "--profile",
        PROFILE,
        "--target",
        WASM_TARGET,
        "-p",
        PACKAGE,
    ]);
    if toolchain == Toolchain::DebianWeb {
        cmd.arg("-Zbuild-std=std,panic_abort");
    }
    cmd.env(WASM_RUSTFLAGS_VAR, wasm_rustflags(toolchain));
    run(&mut cmd)?;
    let wasm = target.join(WASM_TARGET).join(PROFILE).join(ARTIFACT);
    if !wasm.is_file() {
        bail!("the build succeeded but {} is missing", rel(&wasm));
    }
    Ok(wasm)
}

/// Type-checks civic-verifier's core (no features) for wasm32: platforms may verify in the browser.
fn check_verifier_core(toolchain: Toolchain) -> Result<()> {
    let mut cmd = match toolchain {
        Toolchain::Host => util::cargo(),
        Toolchain::DebianWeb => debian_cargo(),
    };
    cmd.args([
        "check",
        "--profile",
        PROFILE,
        "--target",
        WASM_TARGET,
        "-p",
        "civic-verifier",
        "--lib",
        "--no-default-features",
    ]);
    if toolchain == Toolchain::DebianWeb {
        cmd.arg("-Zbuild-std=std,panic_abort");
    }
    run(&mut cmd)?;
    println!("wasm: civic-verifier core checks for {WASM_TARGET}");
    Ok(())
}

/// Runs wasm-bindgen (`--target web`) into [`pkg_dir`] and returns the processed module.
fn bindgen(raw: &Path) -> Result<PathBuf> {
    let Some(bindgen) = setup::wasm_bindgen_path() else {
        bail!(
            "wasm-bindgen {} not found: run `cargo xtask setup`",
            setup::WASM_BINDGEN_VERSION
        );
    };
    let out = pkg_dir();
    if out.exists() {
        fs::remove_dir_all(&out).with_context(|| format!("cleaning {}", rel(&out)))?;
    }
    run(Command::new(bindgen)
        .args(["--target", "web", "--out-dir"])
        .arg(&out)
        .arg(raw))?;
    let module = out.join(BINDGEN_WASM);
    if !module.is_file() {
        bail!("wasm-bindgen did not write {}", rel(&module));
    }
    Ok(module)
}

/// Optimises `module` in place with npm binaryen's wasm-opt.
fn optimise(module: &Path) -> Result<()> {
    let script = setup::wasm_opt_script();
    if !script.is_file() {
        bail!(
            "wasm-opt not found at {}: run `cargo xtask setup`",
            rel(&script)
        );
    }
    let tmp = module.with_extension("opt.wasm");
    run(Command::new("node")
        .arg(&script)
        .args(WASM_OPT_FLAGS)
        .arg(module)
        .arg("-o")
        .arg(&tmp))?;
    fs::rename(&tmp, module).with_context(|| format!("replacing {}", rel(module)))
}

/// Measures the module on disk and gzipped at level 9.
fn measure(module: &Path) -> Result<WasmSizes> {
    let bytes = fs::read(module).with_context(|| format!("reading {}", rel(module)))?;
    let mut gz = GzEncoder::new(Vec::new(), Compression::new(9));
    gz.write_all(&bytes).context("gzip")?;
    let gzipped = gz.finish().context("gzip")?;
    Ok(WasmSizes {
        raw: u64::try_from(bytes.len()).context("size")?,
        gzip: u64::try_from(gzipped.len()).context("size")?,
    })
}

/// Builds, binds, optimises and measures the wallet; prints the sizes.
pub(crate) fn run_all() -> Result<WasmSizes> {
    let toolchain = choose_toolchain()?;
    let label = match toolchain {
        Toolchain::Host => "host toolchain (prebuilt wasm32 std)",
        Toolchain::DebianWeb => "Debian rust-web toolchain (-Zbuild-std)",
    };
    println!("wasm: building {PACKAGE} for {WASM_TARGET} with the {label}");
    let raw = cargo_build(toolchain)?;
    let module = bindgen(&raw)?;
    optimise(&module)?;
    let sizes = measure(&module)?;
    check_verifier_core(toolchain)?;
    println!("wasm: wrote {}", rel(&pkg_dir()));
    println!("wallet_wasm_raw_bytes: {}", sizes.raw);
    println!("wallet_wasm_gzip_bytes: {}", sizes.gzip);
    if sizes.gzip > GZIP_BUDGET {
        bail!(
            "the wallet module is {} bytes gzipped, over its budget of {GZIP_BUDGET}",
            sizes.gzip
        );
    }
    Ok(sizes)
}
