//! Runs the real `civic-issuer` binary on 127.0.0.1 with a data directory in a temp dir, and
//! talks to it over HTTP like a browser or wallet would.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::passkey::SoftPasskey;

pub use crate::http::json;
use crate::register::SMALL_REGISTER as REGISTER;

/// A free port on 127.0.0.1.
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// Runs the CLI `bin` and returns stdout; panics with stderr on failure.
pub fn cli(bin: &str, args: &[&str]) -> String {
    let out = Command::new(bin)
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
    /// The `civic-issuer` binary (`env!("CARGO_BIN_EXE_civic-issuer")` in the issuer's tests).
    pub bin: String,
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
    /// The server's log filter (`RUST_LOG`): `warn` unless a test wants to read the log.
    pub log_filter: String,
    child: Option<Child>,
    /// A client that resolves `localhost` to 127.0.0.1 and keeps cookies.
    pub http: reqwest::Client,
    /// The PostgreSQL database it keeps its state in, when it has one.
    pub database: Option<String>,
    /// The throwaway PostgreSQL cluster this issuer started for itself ([`BACKEND`] set to
    /// `postgres`); stopped after the server.
    pub own_cluster: Option<civic_storage::pg_cluster::TestCluster>,
    /// A second instance behind the same public URL: a port of its own, the URL unchanged.
    replica: bool,
}

/// The environment variable that picks the store of the issuers tests start: `postgres` runs
/// each on a throwaway PostgreSQL cluster of its own, anything else (or unset) on sled.
/// `cargo xtask test` runs the service suites both ways.
pub const BACKEND: &str = "CIVIC_TEST_BACKEND";

/// Whether this test run is on PostgreSQL ([`BACKEND`]).
pub fn on_postgres() -> bool {
    std::env::var(BACKEND).is_ok_and(|b| b == "postgres")
}

impl TestIssuer {
    /// `init` + the small register, with `config_extra` (`key = value` lines) set in
    /// config.toml; not yet serving. The disk reserve is off (`storage_reserve_mib = 0`) unless
    /// `config_extra` sets it, so the tests pass on an almost full disk.
    pub fn init(bin: &str, config_extra: &str) -> Self {
        let tmp = tempfile::tempdir().expect("tempdir");
        let data = tmp.path().join("data");
        Self::init_in(bin, tmp, data, config_extra)
    }

    /// Like [`TestIssuer::init`], with the data directory at `data` (which may be empty or
    /// missing, e.g. a mount point); `tmp` holds everything else.
    pub fn init_in(bin: &str, tmp: tempfile::TempDir, data: PathBuf, config_extra: &str) -> Self {
        let own_cluster = on_postgres().then(civic_storage::pg_cluster::TestCluster::start);
        let database = own_cluster.as_ref().map(|c| c.url());
        let mut issuer = Self::init_with(bin, tmp, data, config_extra, database);
        issuer.own_cluster = own_cluster;
        issuer
    }

    /// Like [`TestIssuer::init`], keeping the issuer's state in the PostgreSQL `database` (when
    /// given), which other instances may share.
    pub fn init_on(bin: &str, config_extra: &str, database: &str) -> Self {
        let tmp = tempfile::tempdir().expect("tempdir");
        let data = tmp.path().join("data");
        Self::init_with(bin, tmp, data, config_extra, Some(database.to_owned()))
    }

    fn init_with(
        bin: &str,
        tmp: tempfile::TempDir,
        data: PathBuf,
        config_extra: &str,
        database: Option<String>,
    ) -> Self {
        let port = free_port();
        let base = format!("http://localhost:{port}");
        let did_docs = tmp.path().join("did-docs");
        let mut args = vec![
            "init",
            "--data",
            path(&data),
            "--public-url",
            &base,
            "--agency",
            "Gemeente Teststad",
            "--did-docs",
            path(&did_docs),
        ];
        if let Some(url) = &database {
            args.extend(["--database", url.as_str()]);
        }
        let out = cli(bin, &args);
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
        let reserve = if config_extra.contains("storage_reserve_mib") {
            ""
        } else {
            "storage_reserve_mib = 0\n"
        };
        let config_extra = format!("{reserve}{config_extra}");
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
        cli(
            bin,
            &["import-register", "--data", path(&data), path(&register)],
        );
        TestIssuer {
            bin: bin.to_owned(),
            tmp,
            data,
            port,
            base,
            admin_token,
            stderr_log: None,
            log_filter: "warn".into(),
            child: None,
            http: client(port),
            database,
            own_cluster: None,
            replica: false,
        }
    }

    /// Another instance of this issuer on the same PostgreSQL database, as behind a load
    /// balancer: a copy of the data directory (config and keys; the state is in the database),
    /// the same public URL, a port of its own. Its `http` client sends `localhost` to that port.
    pub fn replica(&self) -> TestIssuer {
        assert!(self.database.is_some(), "a replica needs a shared database");
        let tmp = tempfile::tempdir().expect("tempdir");
        let data = tmp.path().join("data");
        std::fs::create_dir_all(&data).expect("data dir");
        for entry in std::fs::read_dir(&self.data).expect("data dir") {
            let entry = entry.expect("entry");
            if entry.file_type().expect("type").is_file() {
                std::fs::copy(entry.path(), data.join(entry.file_name())).expect("copy");
            }
        }
        let port = free_port();
        TestIssuer {
            bin: self.bin.clone(),
            tmp,
            data,
            port,
            base: self.base.clone(),
            admin_token: self.admin_token.clone(),
            stderr_log: None,
            log_filter: self.log_filter.clone(),
            child: None,
            http: crate::http::client_to_instance(port),
            database: self.database.clone(),
            own_cluster: None,
            replica: true,
        }
    }

    /// Starts `serve` and waits until `/healthz` answers. Should another process have taken
    /// the port meanwhile (it was free when picked), moves to a fresh port and tries again.
    pub async fn start(&mut self) {
        for _ in 0..5 {
            self.spawn();
            if self.wait_until_serving(true).await {
                return;
            }
            self.kill();
            self.move_to_free_port();
        }
        panic!("issuer did not start");
    }

    /// Points the data directory at a fresh free port (before anything was issued).
    fn move_to_free_port(&mut self) {
        let port = free_port();
        if self.replica {
            self.port = port;
            self.http = crate::http::client_to_instance(port);
            return;
        }
        let base = format!("http://localhost:{port}");
        let config_path = self.data.join("config.toml");
        let config = std::fs::read_to_string(&config_path).expect("config");
        std::fs::write(&config_path, config.replace(&self.base, &base)).expect("config");
        self.port = port;
        self.base = base;
        self.http = client(port);
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
        let child = Command::new(&self.bin)
            .args([
                "serve",
                "--data",
                path(&self.data),
                "--listen",
                &format!("127.0.0.1:{}", self.port),
            ])
            .env("RUST_LOG", &self.log_filter)
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("spawn serve");
        self.child = Some(child);
    }

    /// Waits until `/healthz` answers (with a 2xx when `healthy`, with anything otherwise)
    /// while our server process runs; `false` if it exited first (the port was taken).
    pub async fn wait_until_serving(&mut self, healthy: bool) -> bool {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if !self.is_running() {
                return false;
            }
            if let Ok(r) = self.http.get(self.url("/healthz")).send().await {
                // Our process still runs, so the answer is its own.
                if (r.status().is_success() || !healthy) && self.is_running() {
                    return true;
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
        cli(&self.bin, &all)
    }

    /// Runs a CLI command against this data directory that may fail: (success, stdout, stderr).
    pub fn try_cli(&self, args: &[&str]) -> (bool, String, String) {
        let out = Command::new(&self.bin)
            .args(args)
            .args(["--data", path(&self.data)])
            .output()
            .expect("run civic-issuer");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
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

    /// Registers a wallet for the authorization code flow (`[[wallet_client]]`, appended to
    /// config.toml: tables go last), before the server starts.
    pub fn add_wallet_client(&self, client_id: &str, name: &str, redirect_uri: &str) {
        let config = self.data.join("config.toml");
        let mut text = std::fs::read_to_string(&config).expect("config");
        text.push_str(&format!(
            "\n[[wallet_client]]\nclient_id = \"{client_id}\"\nname = \"{name}\"\nredirect_uris = [\"{redirect_uri}\"]\n"
        ));
        std::fs::write(&config, text).expect("config");
    }

    /// The decision of the resident signed in with `browser` (and its anti-CSRF token) on the
    /// pushed request `request_uri` of wallet `client_id`: the status and the answer (with the
    /// `redirect` back to the wallet).
    pub async fn decide_authorization(
        &self,
        browser: &reqwest::Client,
        csrf: &str,
        client_id: &str,
        request_uri: &Value,
        approve: bool,
    ) -> (u16, Value) {
        let body =
            json!({ "client_id": client_id, "request_uri": request_uri, "approve": approve });
        json(
            browser
                .post(self.url("/api/authorize"))
                .header("x-csrf-token", csrf)
                .json(&body)
                .send()
                .await
                .expect("decide"),
        )
        .await
    }

    /// An offer made through this instance's admin API for `resident`, redeemed for `copies`
    /// by a wallet talking to `redeemer` (this instance, or another on the same database); the
    /// credentials.
    pub async fn offer_redeemed(
        &self,
        redeemer: &TestIssuer,
        resident: &str,
        copies: usize,
    ) -> Vec<String> {
        let (s, offer) = self
            .admin(
                reqwest::Method::POST,
                &format!("/admin/api/residents/{resident}/offer"),
                None,
            )
            .await;
        assert_eq!(s, 200, "{offer}");
        let (credentials, _) = crate::wallet::redeem(
            &redeemer.http,
            &redeemer.base,
            &offer["credential_offer"],
            offer["tx_code"].as_str(),
            copies,
            crate::now(),
        )
        .await;
        assert_eq!(credentials.len(), copies);
        credentials
    }

    /// The issuer keys it publishes (`/.well-known/jwt-vc-issuer`), as a verifier holds them.
    pub async fn published_keys(&self) -> civic_credential::sd_jwt_vc::StaticIssuerKeys {
        let meta: Value = self
            .http
            .get(self.url("/.well-known/jwt-vc-issuer"))
            .send()
            .await
            .expect("jwt-vc-issuer")
            .json()
            .await
            .expect("json");
        assert_eq!(meta["issuer"], self.base);
        let mut keys = civic_credential::sd_jwt_vc::StaticIssuerKeys::new();
        for k in meta["jwks"]["keys"].as_array().expect("keys") {
            let jwk: civic_credential::jwk::Jwk = serde_json::from_value(k.clone()).expect("jwk");
            keys.insert(&self.base, &jwk).expect("insert");
        }
        keys
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

use crate::http::client;

/// Enrolls with `code` through the JSON API in a new browser; returns the browser, the passkey
/// and the session's anti-CSRF token.
pub async fn enroll(t: &TestIssuer, code: &str) -> (reqwest::Client, SoftPasskey, String) {
    let browser = t.new_client();
    let (passkey, csrf) = enroll_in(t, &browser, code).await;
    (browser, passkey, csrf)
}

/// Enrolls with `code` in `browser`; returns the passkey and the session's anti-CSRF token.
pub async fn enroll_in(
    t: &TestIssuer,
    browser: &reqwest::Client,
    code: &str,
) -> (SoftPasskey, String) {
    let (status, options) = json(
        browser
            .post(t.url("/api/enroll/start"))
            .json(&json!({ "code": code }))
            .send()
            .await
            .expect("start"),
    )
    .await;
    assert_eq!(status, 200, "{options}");
    assert_eq!(
        options["publicKey"]["authenticatorSelection"]["userVerification"],
        "required"
    );
    assert_eq!(
        options["publicKey"]["authenticatorSelection"]["residentKey"],
        "required"
    );
    let mut passkey = SoftPasskey::new();
    let response = passkey.register(&options, &t.base);
    let (status, body) = json(
        browser
            .post(t.url("/api/enroll/finish"))
            .json(&response)
            .send()
            .await
            .expect("finish"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let csrf = body["csrf_token"].as_str().expect("csrf").to_owned();
    (passkey, csrf)
}

/// Signs in with a discoverable passkey in a new browser; returns it and the CSRF token.
pub async fn login(t: &TestIssuer, passkey: &mut SoftPasskey) -> (reqwest::Client, String) {
    let browser = t.new_client();
    let (status, options) = json(
        browser
            .post(t.url("/api/login/start"))
            .send()
            .await
            .expect("start"),
    )
    .await;
    assert_eq!(status, 200, "{options}");
    assert!(options["publicKey"]["allowCredentials"]
        .as_array()
        .is_none_or(|a| a.is_empty()));
    let response = passkey.authenticate(&options, &t.base);
    let (status, body) = json(
        browser
            .post(t.url("/api/login/finish"))
            .json(&response)
            .send()
            .await
            .expect("finish"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    (
        browser,
        body["csrf_token"].as_str().expect("csrf").to_owned(),
    )
}
