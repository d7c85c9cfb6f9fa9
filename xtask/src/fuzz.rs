//! `cargo xtask fuzz`: builds the cargo-fuzz targets in `fuzz/` and runs each for a while.
//!
//! - The targets are the `[[bin]]`s of `fuzz/Cargo.toml`; their bodies live in the workspace crate
//!   `fuzz-targets`, whose `tests/regressions.rs` replays the committed inputs under `cargo test`.
//! - Toolchain: rustup's `nightly` when it works (sanitizers need `-Z` flags), else the default
//!   toolchain with `RUSTC_BOOTSTRAP=1`; `CIVIC_FUZZ_TOOLCHAIN` overrides. Output goes to
//!   `fuzz/target`, the fuzz crate's own target folder.
//! - Each target reads `fuzz/corpus/<target>/` (committed, minimized) and writes new inputs to
//!   the scratch corpus `fuzz/target/corpus/<target>/`; crashes go to `fuzz/artifacts/<target>/`.
//!   `--cmin` merges the scratch corpus into the committed one, minimized (set cover over edges).
//! - Prints `fuzz_<target>_execs: N`, `fuzz_<target>_crashes: N` and `fuzz_total_execs: N`, and
//!   fails when any target crashed.

use std::collections::{BTreeSet, VecDeque};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use crate::util::{self, capture, rel, repo_root, run, tools_dir};

/// Options of `cargo xtask fuzz`.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    /// Seconds per target.
    pub seconds: u64,
    /// Targets run at the same time (1 or 2; the machines have 2 cores).
    pub jobs: usize,
    /// Only these targets (all when empty).
    pub targets: Vec<String>,
    /// Merge the scratch corpus into `fuzz/corpus`, minimized, after the runs.
    pub cmin: bool,
    /// Build without optimizations (`cargo fuzz build --dev`): about 5 minutes instead of 11
    /// on 2 cores, at some 50 times fewer executions per second. CI's short smoke run uses it;
    /// a real fuzzing run should not.
    pub dev: bool,
}

impl Options {
    /// Parses `--seconds N`, `--jobs N`, `--targets a,b`, `--cmin` and `--dev`.
    pub(crate) fn parse(args: &[String]) -> Result<Self> {
        let mut opts = Options {
            seconds: 60,
            jobs: 1,
            targets: Vec::new(),
            cmin: false,
            dev: false,
        };
        let mut iter = args.iter();
        while let Some(arg) = iter.next() {
            let mut value = |name: &str| {
                iter.next()
                    .cloned()
                    .with_context(|| format!("{name} needs a value"))
            };
            match arg.as_str() {
                "--seconds" => {
                    opts.seconds = value("--seconds")?
                        .parse()
                        .context("--seconds takes a whole number")?
                }
                "--jobs" => {
                    opts.jobs = value("--jobs")?
                        .parse()
                        .context("--jobs takes a whole number")?
                }
                "--targets" => opts.targets.extend(
                    value("--targets")?
                        .split(',')
                        .filter(|t| !t.is_empty())
                        .map(str::to_owned),
                ),
                "--cmin" => opts.cmin = true,
                "--dev" => opts.dev = true,
                other => bail!("unknown option `{other}` for `fuzz`"),
            }
        }
        if opts.seconds == 0 {
            bail!("--seconds must be at least 1");
        }
        if !(1..=2).contains(&opts.jobs) {
            bail!("--jobs must be 1 or 2");
        }
        Ok(opts)
    }
}

/// The `fuzz/` folder.
fn fuzz_dir() -> PathBuf {
    repo_root().join("fuzz")
}

/// The fuzz crate's target folder.
fn fuzz_target_dir() -> PathBuf {
    fuzz_dir().join("target")
}

/// The target names: the `[[bin]]` names of `fuzz/Cargo.toml`, in file order.
pub(crate) fn target_names() -> Result<Vec<String>> {
    let path = fuzz_dir().join("Cargo.toml");
    let text = fs::read_to_string(&path).with_context(|| format!("reading {}", rel(&path)))?;
    let mut names = Vec::new();
    let mut in_bin = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_bin = line == "[[bin]]";
        } else if let Some(rest) = line.strip_prefix("name") {
            let name = rest
                .trim_start()
                .trim_start_matches('=')
                .trim()
                .trim_matches('"');
            if in_bin {
                names.push(name.to_owned());
            }
        }
    }
    if names.is_empty() {
        bail!("{} lists no [[bin]] targets", rel(&path));
    }
    Ok(names)
}

/// The toolchain to build with: (`RUSTUP_TOOLCHAIN` value if any, whether `RUSTC_BOOTSTRAP=1`).
fn toolchain() -> (Option<String>, bool) {
    if let Ok(chosen) = std::env::var("CIVIC_FUZZ_TOOLCHAIN") {
        if !chosen.is_empty() {
            return (Some(chosen.clone()), !chosen.starts_with("nightly"));
        }
    }
    if util::succeeds("rustup", &["run", "nightly", "rustc", "--version"]) {
        (Some("nightly".to_owned()), false)
    } else if util::succeeds("rustup", &["--version"]) {
        (Some("stable".to_owned()), true)
    } else {
        (None, true)
    }
}

/// Applies the toolchain choice to `cmd`, clearing what the outer cargo set for this xtask.
fn with_toolchain(cmd: &mut Command, toolchain: &(Option<String>, bool)) {
    for var in [
        "CARGO",
        "RUSTC",
        "RUSTDOC",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET_DIR",
    ] {
        cmd.env_remove(var);
    }
    match &toolchain.0 {
        Some(name) => cmd.env("RUSTUP_TOOLCHAIN", name),
        None => cmd.env_remove("RUSTUP_TOOLCHAIN"),
    };
    if toolchain.1 {
        cmd.env("RUSTC_BOOTSTRAP", "1");
    }
}

/// The `cargo-fuzz` binary: `.tools/bin` first (where `cargo xtask setup` puts it), then `PATH`.
pub(crate) fn cargo_fuzz_path() -> Option<PathBuf> {
    let local = tools_dir().join("bin").join("cargo-fuzz");
    [local, PathBuf::from("cargo-fuzz")]
        .into_iter()
        .find(|p| util::succeeds(p, &["--version"]))
}

/// The host triple of the chosen toolchain (cargo-fuzz builds for it).
fn host_triple(toolchain: &(Option<String>, bool)) -> Result<String> {
    let mut cmd = Command::new("rustc");
    cmd.arg("-vV");
    with_toolchain(&mut cmd, toolchain);
    let out = capture(&mut cmd).context("`rustc -vV` failed for the fuzz toolchain")?;
    out.lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(str::to_owned)
        .context("`rustc -vV` printed no host")
}

/// Builds every fuzz target (release, or unoptimized with `dev`; debug assertions,
/// AddressSanitizer) into `fuzz/target`.
fn build(cargo_fuzz: &Path, toolchain: &(Option<String>, bool), dev: bool) -> Result<()> {
    let mut cmd = Command::new(cargo_fuzz);
    cmd.args(["fuzz", "build", "--debug-assertions"]);
    if dev {
        cmd.arg("--dev");
    }
    cmd.arg("--target-dir")
        .arg(fuzz_target_dir())
        .current_dir(repo_root());
    with_toolchain(&mut cmd, toolchain);
    println!(
        "fuzz: toolchain {}{}",
        toolchain.0.as_deref().unwrap_or("default"),
        if toolchain.1 {
            " (RUSTC_BOOTSTRAP=1)"
        } else {
            ""
        }
    );
    run(&mut cmd)
}

/// The outcome of one target's run.
#[derive(Debug, Default)]
struct Outcome {
    execs: u64,
    crashes: Vec<PathBuf>,
    failure: Option<String>,
    log: PathBuf,
}

/// Files in `dir` whose names start like libFuzzer's crash artifacts.
fn artifacts(dir: &Path) -> BTreeSet<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return BTreeSet::new();
    };
    entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                ["crash-", "leak-", "timeout-", "oom-"]
                    .iter()
                    .any(|prefix| n.starts_with(prefix))
            })
        })
        .collect()
}

/// Executions reported by libFuzzer: its final stats, else `Done N runs`, else the last `#N`.
fn executions(output: &str) -> u64 {
    let number = |s: &str| s.trim().parse::<u64>().ok();
    output
        .lines()
        .rev()
        .find_map(|l| {
            l.strip_prefix("stat::number_of_executed_units:")
                .and_then(number)
        })
        .or_else(|| {
            output.lines().rev().find_map(|l| {
                l.strip_prefix("Done ")
                    .and_then(|r| r.split_whitespace().next())
                    .and_then(number)
            })
        })
        .or_else(|| {
            output.lines().rev().find_map(|l| {
                l.strip_prefix('#')
                    .and_then(|r| r.split_whitespace().next())
                    .and_then(number)
            })
        })
        .unwrap_or(0)
}

/// Runs one target for `seconds` over the committed and scratch corpora.
fn run_target(binary: &Path, name: &str, seconds: u64) -> Result<Outcome> {
    let fuzz = fuzz_dir();
    let scratch = fuzz_target_dir().join("corpus").join(name);
    let committed = fuzz.join("corpus").join(name);
    let artifact_dir = fuzz.join("artifacts").join(name);
    let logs = fuzz_target_dir().join("logs");
    for dir in [&scratch, &committed, &artifact_dir, &logs] {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", rel(dir)))?;
    }
    let before = artifacts(&artifact_dir);
    let log = logs.join(format!("{name}.log"));
    let mut cmd = Command::new(binary);
    cmd.arg(&scratch)
        .arg(&committed)
        .arg(format!("-max_total_time={seconds}"))
        .arg("-print_final_stats=1")
        .arg("-timeout=10")
        .arg("-rss_limit_mb=2048")
        .arg(format!("-dict={}", fuzz.join("fuzz.dict").display()))
        .arg(format!("-artifact_prefix={}/", artifact_dir.display()))
        .current_dir(&fuzz);
    let done = util::run_logged(&mut cmd, &log, Duration::from_secs(seconds + 180));
    let crashes: Vec<PathBuf> = artifacts(&artifact_dir)
        .difference(&before)
        .cloned()
        .collect();
    Ok(Outcome {
        execs: executions(&done.output),
        failure: (!done.ok).then_some(done.reason),
        crashes,
        log,
    })
}

/// Merges the scratch corpus into `fuzz/corpus/<name>`, keeping a minimal covering set.
fn minimize(binary: &Path, name: &str) -> Result<()> {
    let committed = fuzz_dir().join("corpus").join(name);
    let scratch = fuzz_target_dir().join("corpus").join(name);
    let merged = fuzz_target_dir().join("cmin").join(name);
    if merged.exists() {
        fs::remove_dir_all(&merged).with_context(|| format!("clearing {}", rel(&merged)))?;
    }
    fs::create_dir_all(&merged)?;
    let log = fuzz_target_dir()
        .join("logs")
        .join(format!("{name}.cmin.log"));
    let mut cmd = Command::new(binary);
    // Greedy set cover over edges (no hit counters) keeps the committed corpus to a few hundred
    // files per target while keeping every edge the inputs reach.
    cmd.args(["-set_cover_merge=1", "-use_counters=0"])
        .arg(&merged)
        .arg(&committed)
        .arg(&scratch)
        .current_dir(fuzz_dir());
    let done = util::run_logged(&mut cmd, &log, Duration::from_secs(1800));
    if !done.ok {
        bail!(
            "merging the {name} corpus failed: {} (log {})",
            done.reason,
            rel(&log)
        );
    }
    let kept = fs::read_dir(&merged)?.count();
    if kept == 0 {
        bail!(
            "merging the {name} corpus kept nothing; {} left as is",
            rel(&committed)
        );
    }
    for entry in fs::read_dir(&committed)? {
        fs::remove_file(entry?.path())?;
    }
    for entry in fs::read_dir(&merged)? {
        let path = entry?.path();
        fs::copy(&path, committed.join(path.file_name().unwrap_or_default()))?;
    }
    println!("fuzz: {name}: corpus minimized to {kept} files");
    Ok(())
}

/// Builds and runs the targets; returns the total executions. Fails when a target crashed.
pub(crate) fn run_all(opts: &Options) -> Result<u64> {
    let all = target_names()?;
    let targets: Vec<String> = if opts.targets.is_empty() {
        all.clone()
    } else {
        for t in &opts.targets {
            if !all.contains(t) {
                bail!("unknown fuzz target `{t}` (targets: {})", all.join(", "));
            }
        }
        opts.targets.clone()
    };
    let cargo_fuzz = cargo_fuzz_path().context(
        "cargo-fuzz is not installed: run `cargo xtask setup` (it installs it into .tools/bin)",
    )?;
    let toolchain = toolchain();
    build(&cargo_fuzz, &toolchain, opts.dev)?;
    let release = fuzz_target_dir()
        .join(host_triple(&toolchain)?)
        .join(if opts.dev { "debug" } else { "release" });

    let queue = Mutex::new(targets.iter().cloned().collect::<VecDeque<_>>());
    let next = || queue.lock().ok().and_then(|mut q| q.pop_front());
    let results = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..opts.jobs.min(targets.len()) {
            scope.spawn(|| {
                while let Some(name) = next() {
                    let outcome = run_target(&release.join(&name), &name, opts.seconds);
                    if let Ok(o) = &outcome {
                        println!(
                            "fuzz: {name}: {} execs in {}s, {} crashes",
                            o.execs,
                            opts.seconds,
                            o.crashes.len()
                        );
                    }
                    if let Ok(mut r) = results.lock() {
                        r.push((name, outcome));
                    }
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap_or_default();
    results.sort_by_key(|(name, _)| targets.iter().position(|t| t == name));

    let (mut total, mut problems) = (0, Vec::new());
    let mut figures = Vec::new();
    for (name, outcome) in &results {
        let o = match outcome {
            Ok(o) => o,
            Err(err) => {
                problems.push(format!("{name}: {err:#}"));
                continue;
            }
        };
        total += o.execs;
        let crashes = o.crashes.len().max(usize::from(o.failure.is_some()));
        figures.push(format!("fuzz_{name}_execs: {}", o.execs));
        figures.push(format!("fuzz_{name}_crashes: {crashes}"));
        for c in &o.crashes {
            problems.push(format!(
                "{name}: {} (reproduce: {} {})",
                rel(c),
                rel(&release.join(name)),
                rel(c)
            ));
        }
        if let Some(why) = &o.failure {
            problems.push(format!("{name}: {why} (log {})", rel(&o.log)));
        }
    }
    for line in &figures {
        println!("{line}");
    }
    println!("fuzz_total_execs: {total}");
    if !problems.is_empty() {
        bail!(
            "fuzzing found problems; fix them, then keep each input in \
             fuzz/artifacts-regressions/<target>/:\n  {}",
            problems.join("\n  ")
        );
    }
    if opts.cmin {
        for name in &targets {
            minimize(&release.join(name), name)?;
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn parses_options() {
        let o = Options::parse(&args(&[
            "--seconds",
            "5",
            "--jobs",
            "2",
            "--targets",
            "a,b",
            "--dev",
        ]))
        .expect("options");
        assert_eq!((o.seconds, o.jobs, o.cmin, o.dev), (5, 2, false, true));
        assert_eq!(o.targets, ["a", "b"]);
        assert!(Options::parse(&args(&["--jobs", "3"])).is_err());
        assert!(Options::parse(&args(&["--seconds"])).is_err());
        assert!(Options::parse(&args(&["--frob"])).is_err());
    }

    #[test]
    fn reads_executions() {
        let out =
            "#1024 pulse\nDone 4242 runs in 5 second(s)\nstat::number_of_executed_units: 4243\n";
        assert_eq!(executions(out), 4243);
        assert_eq!(executions("#77 NEW cov\nDone 80 runs in 1 second(s)\n"), 80);
        assert_eq!(
            executions("#77 NEW cov: 1\n==1== ERROR: AddressSanitizer\n"),
            77
        );
    }

    #[test]
    fn lists_the_targets() {
        let names = target_names().expect("fuzz/Cargo.toml");
        assert!(names.iter().any(|n| n == "sd_jwt"), "{names:?}");
        assert!(!names.iter().any(|n| n == "civic-fuzz"), "{names:?}");
    }
}
