//! A throwaway PostgreSQL cluster for tests (feature `postgres-testing`): `initdb` in a temporary
//! directory, the server on a free loopback port, stopped and removed when dropped.
//!
//! It uses Debian's `postgresql` package (`cargo xtask setup` installs it): the newest
//! `/usr/lib/postgresql/*/bin`, or `CIVIC_PG_BINDIR`, or `initdb` on the `PATH`. PostgreSQL
//! refuses to run as root, so a root test runs it as the `postgres` user the package creates.
//! The cluster has the C locale and UTF-8 whatever the machine's locale, `fsync` on (the stores
//! refuse a server without it), and small shared memory so several run side by side.
#![allow(clippy::expect_used, clippy::panic)] // test support: a failing set-up stops the test at its line

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A running PostgreSQL server of its own, with one database, `civic`.
pub struct TestCluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    as_postgres: bool,
    /// Its port on 127.0.0.1.
    pub port: u16,
}

impl TestCluster {
    /// Creates and starts a cluster; panics with what is missing when PostgreSQL is not
    /// installed.
    pub fn start() -> Self {
        let bin = bindir();
        let as_postgres = is_root();
        let dir = tempfile::Builder::new()
            .prefix("civic-pg-")
            .tempdir()
            .expect("tempdir for PostgreSQL");
        if as_postgres {
            chown_postgres(dir.path());
        }
        let data = dir.path().join("data");
        let out = run_pg(
            &bin,
            as_postgres,
            "initdb",
            &[
                "-D",
                path(&data),
                "-U",
                "civic",
                "-A",
                "trust",
                "--locale=C",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        assert!(out.0, "initdb failed: {}", out.1);
        let mut cluster = TestCluster {
            dir,
            bin,
            as_postgres,
            port: 0,
        };
        // The port is free when chosen but may be taken before the server binds it: try again.
        for attempt in 0.. {
            cluster.port = free_port();
            match cluster.try_start() {
                Ok(()) => break,
                Err(e) if attempt < 5 => eprintln!("PostgreSQL did not start ({e}); another port"),
                Err(e) => panic!("PostgreSQL did not start: {e}"),
            }
        }
        cluster.psql("postgres", "CREATE DATABASE civic");
        cluster
    }

    /// Runs `sql` with `psql` as the superuser in database `db`; its output. Panics when it
    /// fails.
    pub fn psql(&self, db: &str, sql: &str) -> String {
        let port = self.port.to_string();
        let (ok, out) = run_pg(
            &self.bin,
            false,
            "psql",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-U",
                "civic",
                "-d",
                db,
                "-v",
                "ON_ERROR_STOP=1",
                "-At",
                "-c",
                sql,
            ],
        );
        assert!(ok, "psql {sql:?} failed: {out}");
        out
    }

    /// The URL of its `civic` database.
    pub fn url(&self) -> String {
        format!("postgres://civic@127.0.0.1:{}/civic", self.port)
    }

    /// The postmaster's process id, while the server runs.
    pub fn postmaster_pid(&self) -> Option<u32> {
        std::fs::read_to_string(self.dir.path().join("data").join("postmaster.pid"))
            .ok()?
            .lines()
            .next()?
            .trim()
            .parse()
            .ok()
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// Turns TLS on with this certificate chain and key (PEM), and reloads the server.
    pub fn enable_tls(&self, cert_pem: &str, key_pem: &str) {
        let data = self.dir.path().join("data");
        for (name, pem) in [("server.crt", cert_pem), ("server.key", key_pem)] {
            let file = data.join(name);
            std::fs::write(&file, pem).expect("write TLS file");
            let mut perms = std::fs::metadata(&file).expect("meta").permissions();
            std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o600);
            std::fs::set_permissions(&file, perms).expect("chmod");
            if self.as_postgres {
                chown_postgres(&file);
            }
        }
        self.psql("postgres", "ALTER SYSTEM SET ssl = on");
        self.psql("postgres", "SELECT pg_reload_conf()");
        // The reload is asynchronous: wait until new sessions see it.
        for _ in 0..100 {
            if self.psql("postgres", "SHOW ssl").trim() == "on" {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("PostgreSQL did not turn TLS on");
    }

    /// Stops the server at once, as a crash would (`pg_ctl stop -m immediate`).
    pub fn stop(&self) {
        let data = self.dir.path().join("data");
        let out = run_pg(
            &self.bin,
            self.as_postgres,
            "pg_ctl",
            &["-D", path(&data), "-m", "immediate", "-w", "stop"],
        );
        assert!(out.0, "pg_ctl stop failed: {}", out.1);
    }

    /// Starts the server again on the same port, after [`TestCluster::stop`].
    pub fn restart(&self) {
        self.try_start().expect("PostgreSQL restart");
    }

    fn try_start(&self) -> Result<(), String> {
        let data = self.dir.path().join("data");
        let log = self.dir.path().join("server.log");
        let socket_dir = self.dir.path();
        let settings = format!(
            "-c port={} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} \
             -c max_connections=120 -c shared_buffers=16MB \
             -c dynamic_shared_memory_type=mmap",
            self.port,
            path(socket_dir)
        );
        let (ok, out) = run_pg(
            &self.bin,
            self.as_postgres,
            "pg_ctl",
            &[
                "-D",
                path(&data),
                "-l",
                path(&log),
                "-w",
                "-t",
                "60",
                "-o",
                &settings,
                "start",
            ],
        );
        if ok {
            return Ok(());
        }
        let log = std::fs::read_to_string(&log).unwrap_or_default();
        Err(format!("{out}\n{log}"))
    }
}

impl Drop for TestCluster {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        let _ = run_pg(
            &self.bin,
            self.as_postgres,
            "pg_ctl",
            &["-D", path(&data), "-m", "immediate", "-w", "stop"],
        );
    }
}

/// Where PostgreSQL's programs are.
fn bindir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CIVIC_PG_BINDIR") {
        return PathBuf::from(dir);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return bin;
    }
    if let Ok(out) = Command::new("sh")
        .args(["-c", "command -v initdb"])
        .output()
    {
        let p = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        if let Some(parent) = Path::new(&p).parent().filter(|_| out.status.success()) {
            return parent.to_path_buf();
        }
    }
    panic!(
        "PostgreSQL is not installed: the PostgreSQL tests need Debian's `postgresql` package \
         (`cargo xtask setup` installs it) or CIVIC_PG_BINDIR pointing at its bin directory"
    );
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn chown_postgres(dir: &Path) {
    let out = Command::new("chown")
        .args(["postgres:postgres", path(dir)])
        .output()
        .expect("chown");
    assert!(
        out.status.success(),
        "running as root, the cluster belongs to the `postgres` user, which is missing \
         (install Debian's postgresql package): {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs one of PostgreSQL's programs (as `postgres` when asked); whether it succeeded, and its
/// output.
fn run_pg(bin: &Path, as_postgres: bool, program: &str, args: &[&str]) -> (bool, String) {
    let exe = bin.join(program);
    let mut cmd = if as_postgres {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(&exe);
        c
    } else {
        Command::new(&exe)
    };
    // Outside any directory the postgres user cannot enter, and in a locale every machine has.
    cmd.args(args)
        .current_dir("/")
        .env("LC_ALL", "C")
        .env("LANG", "C")
        .env("PGCONNECT_TIMEOUT", "10");
    match cmd.output() {
        Ok(o) => (
            o.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            ),
        ),
        Err(e) => (false, format!("{}: {e}", exe.display())),
    }
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

fn path(p: &Path) -> &str {
    p.to_str().expect("temporary paths are UTF-8")
}
