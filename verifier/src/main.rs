//! The `civic-verifier` command: the REST service for civic platforms.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};

/// civic-verifier: eligibility checks (OID4VP + DCQL over SD-JWT VC residency credentials) for
/// civic platforms, as a REST service.
#[derive(Parser)]
#[command(name = "civic-verifier", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the platform API and the wallet endpoints.
    Serve {
        /// The service configuration (TOML).
        #[arg(long)]
        config: PathBuf,
    },
    /// Print a fresh platform API key and the SHA-256 to put in the configuration.
    NewApiKey,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if std::env::var("LOG_FORMAT").as_deref() == Ok("json") {
        logs.json().init();
    } else {
        logs.compact().init();
    }
    let result = match cli.command {
        Command::Serve { config } => serve(config),
        Command::NewApiKey => {
            let mut b = [0u8; 32];
            rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut b);
            let key = format!(
                "civic_platform_{}",
                civic_credential::encoding::b64_encode(&b)
            );
            let hash: String = <sha2::Sha256 as sha2::Digest>::digest(key.as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            println!("api key (give it to the platform): {key}");
            println!("api_key_sha256 = \"{hash}\"");
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn serve(config: PathBuf) -> anyhow::Result<()> {
    let config = civic_verifier::server::config::ServiceConfig::load(&config)?;
    let state = Arc::new(civic_verifier::server::AppState::new(config)?);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(civic_verifier::server::serve(state))
}
