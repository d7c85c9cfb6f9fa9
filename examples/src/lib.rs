//! Civic platforms that use the civic-verifier library in-process: participatory budget,
//! micro-consultation, e-deliberation and petitions. Each is a small axum app (its module) with a one-line
//! binary in `src/bin/`.
//!
//! - [`checks::Checks`]: the library's [`civic_verifier::Flow`] set up from a
//!   [`VerifierConfig`] for one platform's policy, checks bound to the browser that started
//!   them, the wallet prompt, and the [`checks::Outcome`] of a check; the wallet endpoints come
//!   from `civic-verifier-service`.
//! - [`page`]: server-rendered pages under a strict Content-Security-Policy.
//! - [`run`], [`open_records`]: the command line (`--config FILE`) and each app's own sled
//!   database.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use axum::Router;

use civic_verifier::VerifierConfig;

pub mod checks;
pub mod e_deliberation;
pub mod messages;
pub mod micro_consultation;
pub mod page;
pub mod participatory_budget;
pub mod petition_book;
pub mod petitions;

pub use checks::{Checks, Outcome, Started, RESULT_GRACE_SECS};
pub use page::{assets, escape, page, page_with_status, Failure, CSP, SECURITY_HEADERS};

/// A short, stable public tag for a pseudonym: the first 8 hex digits of its SHA-256.
pub fn short_hash(pseudonym: &str) -> String {
    let digest = civic_credential::encoding::sha256_hex(pseudonym);
    digest.get(..8).unwrap_or(&digest).to_owned()
}

/// `YYYY-MM-DD HH:MM UTC` of a Unix time.
pub fn utc(t: i64) -> String {
    let date = civic_credential::residency::Date::from_unix(t);
    let secs = t.rem_euclid(86_400);
    format!("{date} {:02}:{:02} UTC", secs / 3600, secs % 3600 / 60)
}

/// The app's own records directory: next to the verifier's `data_dir`, named after the app
/// (`data/verifier` → `data/participatory_budget`).
pub fn records_dir(config: &VerifierConfig, app: &str) -> PathBuf {
    config.data_dir.parent().unwrap_or(Path::new(".")).join(app)
}

/// Opens the app's sled database in [`records_dir`].
pub fn open_records(config: &VerifierConfig, app: &str) -> anyhow::Result<sled::Db> {
    let dir = records_dir(config, app);
    sled::Config::new()
        .path(&dir)
        .flush_every_ms(None)
        .open()
        .map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))
}

/// Runs an example: reads `--config FILE`, builds the app with `build` inside the runtime and
/// serves it on the configuration's `listen` address until
/// Ctrl-C or SIGTERM.
pub fn run(name: &str, build: fn(VerifierConfig) -> anyhow::Result<Router>) -> ExitCode {
    serve_app(name, move |config, _| build(config))
}

/// Like [`run`], for an app with settings of its own, read from `<name>.toml` beside the
/// `--config` file.
pub fn run_with<T: serde::de::DeserializeOwned>(
    name: &str,
    build: fn(VerifierConfig, T) -> anyhow::Result<Router>,
) -> ExitCode {
    serve_app(name, move |config, path| {
        let file = path
            .parent()
            .unwrap_or(Path::new("."))
            .join(format!("{name}.toml"));
        let text = std::fs::read_to_string(&file)
            .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
        let settings =
            toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
        build(config, settings)
    })
}

fn serve_app(
    name: &str,
    build: impl FnOnce(VerifierConfig, &Path) -> anyhow::Result<Router>,
) -> ExitCode {
    civic_service::run::init_logging("info");
    let result = config_path(name).and_then(|path| {
        let config = VerifierConfig::load(&path)?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        rt.block_on(async move {
            let listen = config.listen.clone();
            let public = config.public_url.clone();
            let app = build(config, &path)?;
            let listener = tokio::net::TcpListener::bind(&listen).await?;
            tracing::info!(addr = %listener.local_addr()?, "{name} listening");
            println!("{name}: open {public}/ (listening on {listen}; Ctrl-C stops)");
            civic_service::run::serve(listener, app).await?;
            Ok(())
        })
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{name}: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn config_path(name: &str) -> anyhow::Result<PathBuf> {
    let mut args = std::env::args().skip(1);
    match (args.next().as_deref(), args.next(), args.next()) {
        (Some("--config"), Some(path), None) => Ok(PathBuf::from(path)),
        _ => anyhow::bail!("usage: {name} --config examples/{name}/config.toml"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(short_hash("abc"), "ba7816bf");
        assert_eq!(utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc(951_782_400 + 3_723), "2000-02-29 01:02 UTC");
    }
}
