//! Small helpers shared by the tasks: paths, running commands, stamps.

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// The workspace root (the parent of this crate's folder).
pub(crate) fn repo_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// Project-local tool folder (`.tools/`, git-ignored).
pub(crate) fn tools_dir() -> PathBuf {
    repo_root().join(".tools")
}

/// Cargo's target folder: `CARGO_TARGET_DIR` when set, else `<root>/target`.
pub(crate) fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => repo_root().join(dir),
        _ => repo_root().join("target"),
    }
}

/// A `Command` for the host cargo: the one that runs this xtask (`$CARGO`), else `cargo`.
pub(crate) fn cargo() -> Command {
    let program = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(program);
    cmd.current_dir(repo_root());
    cmd
}

/// Renders a command line for logs (program and arguments, not the environment).
pub(crate) fn display(cmd: &Command) -> String {
    let mut parts = vec![cmd.get_program().to_string_lossy().into_owned()];
    parts.extend(cmd.get_args().map(|a| a.to_string_lossy().into_owned()));
    parts.join(" ")
}

/// Runs a command with inherited output and fails unless it exits successfully.
pub(crate) fn run(cmd: &mut Command) -> Result<()> {
    let line = display(cmd);
    println!("$ {line}");
    let status = cmd
        .status()
        .with_context(|| format!("could not start `{line}`"))?;
    check_status(&line, status)
}

/// Turns a non-zero exit status into an error naming the command.
pub(crate) fn check_status(line: &str, status: ExitStatus) -> Result<()> {
    if status.success() {
        Ok(())
    } else {
        bail!("`{line}` failed ({status})")
    }
}

/// Runs a command quietly and returns its stdout when it succeeds, `None` otherwise
/// (including when the program does not exist).
pub(crate) fn capture(cmd: &mut Command) -> Option<String> {
    let out = cmd
        .stderr(Stdio::null())
        .stdin(Stdio::null())
        .output()
        .ok()?;
    if out.status.success() {
        Some(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        None
    }
}

/// Whether `program` can be started with `args` and exits successfully.
pub(crate) fn succeeds<S: AsRef<OsStr>>(program: S, args: &[&str]) -> bool {
    capture(Command::new(program).args(args).stdout(Stdio::null())).is_some()
}

/// Whether this process runs as root (uid 0), read from `/proc/self/status`.
pub(crate) fn is_root() -> bool {
    let Ok(status) = fs::read_to_string("/proc/self/status") else {
        return false;
    };
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|rest| rest.split_whitespace().next())
        .is_some_and(|uid| uid == "0")
}

/// Outcome of [`run_logged`].
pub(crate) struct Logged {
    /// Whether the command exited successfully within the time limit.
    pub ok: bool,
    /// Why it failed, when it did (exit status, time-out, could not start).
    pub reason: String,
    /// Everything the command wrote to stdout and stderr.
    pub output: String,
}

/// Runs a command with stdout and stderr sent to `log`, killing it after `timeout`.
/// Never fails itself: problems are reported in the returned [`Logged`].
pub(crate) fn run_logged(cmd: &mut Command, log: &Path, timeout: Duration) -> Logged {
    let line = display(cmd);
    let result = spawn_logged(cmd, log, timeout);
    let output = fs::read_to_string(log).unwrap_or_default();
    match result {
        Ok(()) => Logged {
            ok: true,
            reason: String::new(),
            output,
        },
        Err(err) => Logged {
            ok: false,
            reason: format!("{line}: {err:#}"),
            output,
        },
    }
}

/// Spawns `cmd` into `log` and waits up to `timeout` for it to succeed.
fn spawn_logged(cmd: &mut Command, log: &Path, timeout: Duration) -> Result<()> {
    let file = fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
    let err_file = file.try_clone().context("duplicating log handle")?;
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(file)
        .stderr(err_file)
        .spawn()
        .context("could not start")?;
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().context("waiting")? {
            if status.success() {
                return Ok(());
            }
            bail!("{status}");
        }
        if start.elapsed() > timeout {
            // Best effort: the child may have exited in between.
            let _ = child.kill();
            let _ = child.wait();
            bail!("timed out after {}s", timeout.as_secs());
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// Whether the stamp file holds exactly `content` (an install with these inputs is done).
pub(crate) fn stamp_matches(stamp: &Path, content: &str) -> bool {
    fs::read_to_string(stamp).is_ok_and(|s| s == content)
}

/// Records `content` in the stamp file after a successful install.
pub(crate) fn write_stamp(stamp: &Path, content: &str) -> Result<()> {
    fs::write(stamp, content).with_context(|| format!("writing {}", stamp.display()))
}

/// Path relative to the repo root for messages; the full path when outside it.
pub(crate) fn rel(path: &Path) -> String {
    let root = repo_root();
    path.strip_prefix(&root)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// The command `cargo run --release --quiet -p PACKAGE --example EXAMPLE [-- ARGS]`.
pub(crate) fn example_command<S: AsRef<std::ffi::OsStr>>(
    package: &str,
    example: &str,
    args: &[S],
) -> Command {
    let mut cmd = cargo();
    cmd.args([
        "run",
        "--release",
        "--quiet",
        "-p",
        package,
        "--example",
        example,
    ]);
    if !args.is_empty() {
        cmd.arg("--").args(args);
    }
    cmd
}

/// Runs an example (see [`example_command`]).
pub(crate) fn run_example(package: &str, example: &str, args: &[String]) -> Result<()> {
    run(&mut example_command(package, example, args))
}

/// Whether `line` is a `name: value` figure (a snake_case name).
pub(crate) fn is_figure(line: &str) -> bool {
    line.split_once(": ").is_some_and(|(name, value)| {
        !name.is_empty()
            && !value.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    })
}

/// Runs `cmd` with stdout captured (stderr shown), prints its figure lines on stdout, and
/// returns them; on failure, shows everything it printed.
pub(crate) fn run_for_figures(cmd: &mut Command) -> Result<Vec<String>> {
    let line = display(cmd);
    println!("$ {line}");
    let out = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("could not start `{line}`"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let figures: Vec<String> = text
        .lines()
        .filter(|l| is_figure(l))
        .map(str::to_owned)
        .collect();
    if !out.status.success() {
        eprint!("{text}");
        bail!("`{line}` failed ({})", out.status);
    }
    for f in &figures {
        println!("{f}");
    }
    Ok(figures)
}

/// The value of figure `name` among `figures`, if it is there.
pub(crate) fn figure<'a>(figures: &'a [String], name: &str) -> Option<&'a str> {
    figures
        .iter()
        .find_map(|f| f.strip_prefix(name).and_then(|r| r.strip_prefix(": ")))
}

/// Whether this process can mount a tmpfs (root with mount rights: the storage fault tests can
/// run). Mounts one on a temporary directory and unmounts it again.
pub(crate) fn can_mount() -> bool {
    if !is_root() {
        return false;
    }
    let Ok(dir) = tempfile_dir() else {
        return false;
    };
    let point = dir.to_string_lossy().into_owned();
    let mounted = succeeds("mount", &["-t", "tmpfs", "-o", "size=1m", "tmpfs", &point]);
    if mounted {
        let _ = Command::new("umount").arg(&point).status();
    }
    let _ = fs::remove_dir(&dir);
    mounted
}

/// A fresh empty directory under the system's temporary directory.
fn tempfile_dir() -> std::io::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("civic-xtask-mount-{}", std::process::id()));
    fs::create_dir_all(&dir)?;
    Ok(dir)
}
