//! Runs the real `civic-issuer` binary on 127.0.0.1 with a data directory in a temp dir, and
//! talks to it over HTTP like a browser or wallet would.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_civic-issuer");

/// A demo register of five residents in municipality 0363 (Amsterdam-like codes).
pub const REGISTER: &str = "\
register_id,given_name,family_name,birthdate,street_address,postal_code,locality,country,municipality,municipality_code,district,resident_since,valid_until
R-0001,Anna,de Vries,1990-04-12,Dam 1,1012 JS,Amsterdam,NL,Amsterdam,0363,3,2015-06-01,2099-12-31
R-0002,Bram,Jansen,2009-01-20,Kalverstraat 10,1012 PA,Amsterdam,NL,Amsterdam,0363,4,2009-01-20,2099-12-31
R-0003,Chloe,Bakker,1950-11-02,Prinsengracht 263,1016 GV,Amsterdam,NL,Amsterdam,0363,1,1980-03-15,2099-12-31
R-0004,Daan,Visser,1985-07-30,Damrak 70,1012 LM,Amsterdam,NL,Amsterdam,0363,,2020-01-01,2099-12-31
R-0005,Eva,Smit,2001-02-28,Spui 21,1012 WX,Amsterdam,NL,Amsterdam,0363,2,2019-09-09,2099-12-31
";

/// A free port on 127.0.0.1.
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// Runs the CLI and returns stdout; panics with stderr on failure.
pub fn cli(args: &[&str]) -> String {
    let out = Command::new(BIN)
        .args(args)
        .output()
        .expect("run civic-issuer");
    assert!(
        out.status.success(),
        "civic-issuer {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// An issuer data directory plus (optionally) a running server.
pub struct TestIssuer {
    /// The temp dir holding the data directory.
    pub tmp: tempfile::TempDir,
    /// The data directory.
    pub data: PathBuf,
    /// The port.
    pub port: u16,
    /// The public base URL, `http://localhost:PORT`.
    pub base: String,
    /// The initial admin token.
    pub admin_token: String,
    /// Where the server's stderr goes (appended); inherited when `None`.
    pub stderr_log: Option<PathBuf>,
    child: Option<Child>,
    /// A client that resolves `localhost` to 127.0.0.1 and keeps cookies.
    pub http: reqwest::Client,
}

impl TestIssuer {
    /// `init` + the demo register, with `config_extra` (`key = value` lines) set in config.toml;
    /// not yet serving.
    pub fn init(config_extra: &str) -> Self {
        let tmp = tempfile::tempdir().expect("tempdir");
        let data = tmp.path().join("data");
        Self::init_in(tmp, data, config_extra)
    }

    /// Like [`TestIssuer::init`], with the data directory at `data` (which may be empty or
    /// missing, e.g. a mount point); `tmp` holds everything else.
    pub fn init_in(tmp: tempfile::TempDir, data: PathBuf, config_extra: &str) -> Self {
        let port = free_port();
        let base = format!("http://localhost:{port}");
        let did_docs = tmp.path().join("did-docs");
        let out = cli(&[
            "init",
            "--data",
            path(&data),
            "--public-url",
            &base,
            "--agency",
            "Gemeente Teststad",
            "--did-docs",
            path(&did_docs),
        ]);
        let admin_token = out
            .lines()
            .find_map(|l| {
                l.split("admin token (shown once, store it safely): ")
                    .nth(1)
            })
            .expect("admin token printed")
            .trim()
            .to_owned();
        // Each `key = value` line of `config_extra` replaces that key in config.toml.
        let config_path = data.join("config.toml");
        let mut config = std::fs::read_to_string(&config_path).expect("config");
        for line in config_extra.lines().filter(|l| l.contains('=')) {
            let key = line.split('=').next().unwrap_or_default().trim();
            config = config
                .lines()
                .filter(|l| l.split('=').next().unwrap_or_default().trim() != key)
                .map(|l| format!("{l}\n"))
                .collect();
            config.push_str(line.trim());
            config.push('\n');
        }
        std::fs::write(&config_path, config).expect("write config");
        let register = tmp.path().join("register.csv");
        std::fs::write(&register, REGISTER).expect("register");
        cli(&["import-register", "--data", path(&data), path(&register)]);
        TestIssuer {
            tmp,
            data,
            port,
            base,
            admin_token,
            stderr_log: None,
            child: None,
            http: client(port),
        }
    }

    /// Starts `serve` and waits until `/healthz` answers.
    pub async fn start(&mut self) {
        self.spawn();
        self.wait_until_serving(true).await;
    }

    /// Starts `serve` without waiting.
    pub fn spawn(&mut self) {
        let stderr = match &self.stderr_log {
            None => Stdio::inherit(),
            Some(p) => std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .expect("server log")
                .into(),
        };
        let child = Command::new(BIN)
            .args([
                "serve",
                "--data",
                path(&self.data),
                "--listen",
                &format!("127.0.0.1:{}", self.port),
            ])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("spawn serve");
        self.child = Some(child);
    }

    /// Waits until `/healthz` answers: with a 2xx when `healthy`, with anything otherwise.
    pub async fn wait_until_serving(&self, healthy: bool) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = self.http.get(self.url("/healthz")).send().await {
                if r.status().is_success() || !healthy {
                    return;
                }
            }
            assert!(Instant::now() < deadline, "issuer did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Whether the server process is still running.
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// Kills the server with SIGKILL, as a crash would.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// A fresh cookie-keeping client (a new browser).
    pub fn new_client(&self) -> reqwest::Client {
        client(self.port)
    }

    /// `base` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Runs a CLI command against this data directory (the server must be stopped for writes).
    pub fn cli(&self, args: &[&str]) -> String {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--data", path(&self.data)]);
        cli(&all)
    }

    /// A fresh enrollment code for `resident` (server stopped), via the CLI and its CSV.
    pub fn code_via_cli(&self, resident: &str) -> String {
        let out = self.tmp.path().join(format!("codes-{resident}.csv"));
        self.cli(&[
            "enrollment-codes",
            "--resident",
            resident,
            "--out",
            path(&out),
        ]);
        let text = std::fs::read_to_string(&out).expect("codes csv");
        let line = text.lines().nth(1).expect("one code");
        line.split(',').nth(1).expect("code column").to_owned()
    }

    /// An admin API call.
    pub async fn admin(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, self.url(path))
            .bearer_auth(&self.admin_token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        json(req.send().await.expect("admin request")).await
    }
}

impl Drop for TestIssuer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A path as &str.
pub fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn client(port: u16) -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .resolve(
            "localhost",
            std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        )
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

/// Status and JSON body (Null if the body is not JSON).
pub async fn json(resp: reqwest::Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}
