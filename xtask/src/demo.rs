//! `cargo xtask demo`: the protocol walk-through, then a live issuer to try in a browser.
//!
//! - `cargo xtask demo protocol`: civic-credential's `demo` example, printing every step of
//!   issue → present → verify.
//! - `cargo xtask demo issuer [--port N] [--check]`: initialises a fresh issuer in
//!   `target/demo-issuer` with the 20 fictional residents of `issuer/demo/register.csv`,
//!   registers two platforms, prints the URL, an enrollment code and the admin token, and serves
//!   until Ctrl-C. `--check` starts it, checks `/healthz` and the metadata, and stops.
//! - `cargo xtask demo`: both, in that order.

use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::util::{self, run};

/// Runs the demo named by `args` (see the module docs).
pub fn run_demo(args: &[String]) -> Result<()> {
    match args.first().map(String::as_str) {
        Some("protocol") => protocol(&args[1..]),
        Some("issuer") => issuer(&args[1..]),
        None => {
            protocol(&[])?;
            issuer(&[])
        }
        Some(other) => bail!("unknown demo `{other}`: use `protocol` or `issuer`"),
    }
}

fn protocol(args: &[String]) -> Result<()> {
    util::run_example("civic-credential", "demo", args)
}

fn issuer(args: &[String]) -> Result<()> {
    let mut port: u16 = 8080;
    let mut check = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--port" => port = it.next().context("--port needs a number")?.parse()?,
            "--check" => check = true,
            other => bail!("unknown option `{other}` for `demo issuer`"),
        }
    }
    run(util::cargo().args(["build", "--quiet", "-p", "civic-issuer"]))?;
    let bin = util::target_dir().join("debug").join("civic-issuer");
    let dir = util::target_dir().join("demo-issuer");
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    let data = dir.join("data");
    let base = format!("http://localhost:{port}");
    let cli = |args: &[&str]| -> Result<String> {
        let out = Command::new(&bin)
            .args(args)
            .arg("--data")
            .arg(&data)
            .output()?;
        if !out.status.success() {
            bail!(
                "civic-issuer {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let did_docs = dir.join("did-docs");
    let init = cli(&[
        "init",
        "--public-url",
        &base,
        "--agency",
        "Gemeente Teststad",
        "--did-docs",
        &util::rel(&did_docs),
    ])?;
    let token = init
        .lines()
        .find_map(|l| l.split("store it safely): ").nth(1))
        .unwrap_or("")
        .trim()
        .to_owned();
    let register = util::repo_root().join("issuer/demo/register.csv");
    cli(&["import-register", &util::rel(&register)])?;
    cli(&[
        "register-platform",
        "--id",
        "https://budget.teststad.example",
        "--name",
        "Participatory budget",
    ])?;
    cli(&[
        "register-platform",
        "--id",
        "https://consult.teststad.example",
        "--name",
        "Micro-consultations",
    ])?;
    let codes = dir.join("codes.csv");
    cli(&[
        "enrollment-codes",
        "--all-unenrolled",
        "--out",
        &util::rel(&codes),
    ])?;
    let text = std::fs::read_to_string(&codes)?;
    let first: Vec<&str> = text.lines().nth(1).unwrap_or_default().split(',').collect();

    let mut child = Command::new(&bin)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data"])
        .arg(&data)
        .stdout(Stdio::null())
        .spawn()?;
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            let _ = child.kill();
            bail!("the issuer did not start on port {port}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    println!();
    println!("civic-issuer demo is running: {base}/enroll");
    println!(
        "  20 fictional residents from issuer/demo/register.csv (data in {})",
        util::rel(&data)
    );
    println!(
        "  try resident {} with enrollment code {}",
        first.first().unwrap_or(&"?"),
        first.get(1).unwrap_or(&"?")
    );
    println!("  all codes: {}", util::rel(&codes));
    println!("  admin API token: {token}");
    println!("  e.g. curl -H 'Authorization: Bearer {token}' {base}/admin/api/residents?q=D-");
    println!("  metadata: {base}/.well-known/openid-credential-issuer");
    if check {
        let ok = Command::new("curl")
            .args(["-sf", &format!("http://127.0.0.1:{port}/healthz")])
            .status()
            .is_ok_and(|s| s.success());
        let _ = child.kill();
        let _ = child.wait();
        if !ok {
            bail!("/healthz did not answer");
        }
        println!("demo check passed");
        return Ok(());
    }
    println!("press Ctrl-C to stop");
    child.wait()?;
    Ok(())
}
