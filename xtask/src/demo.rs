//! `cargo xtask demo`: the protocol walk-through, then a live issuer to try in a browser.
//!
//! - `cargo xtask demo protocol`: civic-credential's `demo` example, printing every step of
//!   issue → present → verify.
//! - `cargo xtask demo issuer [--port N] [--check]`: initialises a fresh issuer in
//!   `target/demo-issuer` with the 20 fictional residents of `issuer/demo/register.csv`,
//!   registers two platforms (the verifier service and the budget example, each named by its
//!   origin), and starts it on port N (8080), the verifier service on N+10, the participatory
//!   budget example on N+11 and the browser wallet on N+12 (the issuer's offers and the
//!   budget's requests link to it), all trusting that issuer. It prints the URLs,
//!   an enrollment code, the admin token and a platform API key, and serves until Ctrl-C.
//!   `--check` starts everything, checks each one answers, and stops.
//! - `cargo xtask demo`: both, in that order.

use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::util::{self, run};

/// Runs the demo named by `args` (see the module docs).
pub(crate) fn run_demo(args: &[String]) -> Result<()> {
    let rest = args.get(1..).unwrap_or_default();
    match args.first().map(String::as_str) {
        Some("protocol") => protocol(rest),
        Some("issuer") => issuer(rest),
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
    run(util::cargo().args([
        "build",
        "--quiet",
        "-p",
        "civic-issuer",
        "-p",
        "civic-verifier-service",
        "-p",
        "civic-examples",
    ]))?;
    let bins = util::target_dir().join("debug");
    let dir = util::target_dir().join("demo-issuer");
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    std::fs::create_dir_all(&dir)?;
    let data = dir.join("data");
    let base = format!("http://localhost:{port}");
    let issuer_bin = bins.join("civic-issuer");
    let cli = |args: &[&str]| -> Result<String> {
        let out = Command::new(&issuer_bin)
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
    let did_docs = util::rel(&dir.join("did-docs"));
    let init = cli(&[
        "init",
        "--public-url",
        &base,
        "--agency",
        "Gemeente Teststad",
        "--did-docs",
        &did_docs,
    ])?;
    let token = init
        .lines()
        .find_map(|l| l.split("store it safely): ").nth(1))
        .unwrap_or("")
        .trim()
        .to_owned();
    cli(&[
        "import-register",
        &util::rel(&util::repo_root().join("issuer/demo/register.csv")),
    ])?;
    let (vport, bport) = (port + 10, port + 11);
    for (id, name) in platforms(vport, bport) {
        cli(&["add-platform", "--id", &id, "--name", name])?;
    }
    let codes = dir.join("codes.csv");
    cli(&[
        "enrollment-codes",
        "--all-unenrolled",
        "--out",
        &util::rel(&codes),
    ])?;
    let text = std::fs::read_to_string(&codes)?;
    let first: Vec<&str> = text.lines().nth(1).unwrap_or_default().split(',').collect();
    let wport = port + 12;
    // The wallet on its own host name (browsers resolve *.localhost to this machine), so its
    // passkey (RP ID wallet.localhost) is apart from the issuer's (localhost).
    let wallet = format!("http://wallet.localhost:{wport}");
    // Same-device offers open the demo wallet, and it may ask for credentials itself (the
    // authorization code flow): a table, after every top-level key.
    let mut config = std::fs::OpenOptions::new()
        .append(true)
        .open(data.join("config.toml"))?;
    std::io::Write::write_all(
        &mut config,
        format!(
            "wallet_url = \"{wallet}/receive\"\n\n[[wallet_client]]\nclient_id = \"{wallet}\"\n\
             name = \"Civic wallet (demo)\"\nredirect_uris = [\"{wallet}/callback\"]\n"
        )
        .as_bytes(),
    )?;
    drop(config);
    // The issuer's own wallet provider: the demo wallet gets its attestation in the resident's
    // sign-in (HAIP 1.0 §4.4.1), as a production deployment would require.
    cli(&["dev-ca", "--wallet-provider"])?;
    if !crate::wasm::pkg_dir()
        .join("civic_wallet_bg.wasm")
        .is_file()
    {
        crate::wasm::run_all()?;
    }

    // The verifier service and the budget example trust this issuer.
    std::fs::write(
        dir.join("trust.toml"),
        format!("[[issuer]]\nid = \"{base}\"\nvct = [\"{base}/credentials/residency\"]\nmunicipality_codes = [\"0363\"]\n"),
    )?;
    let api_key = "civic_platform_demo_key";
    std::fs::write(dir.join("verifier.toml"), verifier_config(vport, api_key))?;
    let template = std::fs::read_to_string(
        util::repo_root().join("examples/participatory_budget/config.toml"),
    )?;
    let budget = template
        .replace("127.0.0.1:8091", &format!("127.0.0.1:{bport}"))
        .replace(
            "http://localhost:8091",
            &format!("http://localhost:{bport}"),
        )
        .replace(
            "data_dir = \"data/verifier\"",
            "data_dir = \"budget/verifier\"",
        )
        .replace(
            "wallet_link_base = \"openid4vp://\"",
            &format!("wallet_link_base = \"{wallet}/present\""),
        );
    std::fs::write(dir.join("budget.toml"), budget)?;

    let mut children = Vec::new();
    let started = start(
        &mut children,
        Command::new(&issuer_bin)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data"])
            .arg(&data),
        port,
    )
    .and_then(|()| {
        start(
            &mut children,
            Command::new(bins.join("civic-verifier"))
                .args(["serve", "--config"])
                .arg(dir.join("verifier.toml")),
            vport,
        )
    })
    .and_then(|()| {
        start(
            &mut children,
            Command::new(bins.join("participatory_budget"))
                .arg("--config")
                .arg(dir.join("budget.toml")),
            bport,
        )
    })
    .and_then(|()| {
        let serve = util::repo_root().join("wallet-wasm/web/serve.mjs");
        start(
            &mut children,
            Command::new("node")
                .arg(serve)
                .args(["--port", &wport.to_string()]),
            wport,
        )
    });
    if let Err(e) = started {
        stop(&mut children);
        return Err(e);
    }
    println!();
    println!("civic-id demo is running");
    println!("  issuer:   {base}/enroll   (20 fictional residents from issuer/demo/register.csv)");
    println!(
        "            try resident {} with enrollment code {}",
        first.first().unwrap_or(&"?"),
        first.get(1).unwrap_or(&"?")
    );
    println!(
        "            all codes: {}; admin API token: {token}",
        util::rel(&codes)
    );
    println!("  verifier: http://localhost:{vport}   (platform API key: {api_key})");
    println!("            curl -H 'Authorization: Bearer {api_key}' -d '{{\"policy\":\"vote\"}}' -H 'content-type: application/json' http://localhost:{vport}/v1/sessions");
    println!("  budget:   http://localhost:{bport}/   (participatory budget example, residents 16+ of 0363)");
    println!("  wallet:   {wallet}/   (create it with a passkey; issuer offers and budget requests open it)");
    println!("  walkthrough: enroll at the issuer with the code, create the wallet, on the issuer's page press");
    println!(
        "  'Add residency credential to my wallet' and open the link (or, in the wallet, 'Get my residency credential'), then vote in the budget."
    );
    if check {
        let mut urls: Vec<String> = [port, vport, bport]
            .iter()
            .map(|p| format!("http://127.0.0.1:{p}/healthz"))
            .collect();
        urls.push(format!("http://127.0.0.1:{wport}/"));
        let healthy = urls.iter().all(|u| {
            Command::new("curl")
                .args(["-sf", u])
                .stdout(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        });
        stop(&mut children);
        if !healthy {
            bail!("a service did not answer");
        }
        println!("demo check passed");
        return Ok(());
    }
    println!("press Ctrl-C to stop");
    for c in &mut children {
        c.wait()?;
    }
    Ok(())
}

/// The platforms the demo issuer computes pseudonyms for: each is named by the origin of the
/// verifier that asks for its pseudonym (wallets give it to no other), here the verifier
/// service on `vport` and the budget example on `bport`.
fn platforms(vport: u16, bport: u16) -> [(String, &'static str); 2] {
    [
        (
            format!("http://localhost:{vport}"),
            "Budget vote (verifier service)",
        ),
        (format!("http://localhost:{bport}"), "Participatory budget"),
    ]
}

fn verifier_config(port: u16, api_key: &str) -> String {
    use sha2::Digest;
    let hash: String = sha2::Sha256::digest(api_key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!(
        r#"listen = "127.0.0.1:{port}"
public_url = "http://localhost:{port}"
data_dir = "verifier-sessions"
trust_list = "trust.toml"
allow_loopback_http = true

[[platform]]
id = "http://localhost:{port}"
name = "Budget vote (verifier service)"
api_key_sha256 = "{hash}"
[[platform.policy]]
name = "vote"
pseudonym = true
[[platform.policy.rules]]
claim = "residence.municipality_code"
in = ["0363"]
[[platform.policy.rules]]
claim = "age_equal_or_over.16"
equals = true
"#
    )
}

/// Spawns `cmd` and waits until it accepts connections on `port`.
fn start(children: &mut Vec<std::process::Child>, cmd: &mut Command, port: u16) -> Result<()> {
    children.push(cmd.stdout(Stdio::null()).spawn()?);
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            bail!("nothing started on port {port}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}

fn stop(children: &mut [std::process::Child]) {
    for c in children {
        let _ = c.kill();
        let _ = c.wait();
    }
}
