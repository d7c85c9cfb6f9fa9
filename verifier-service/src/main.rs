//! The `civic-verifier` command: the REST service for civic platforms.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use rand_core::{OsRng, RngCore};

use civic_credential::encoding::{b64_encode, sha256_hex};
use civic_service::SystemClock;
use civic_verifier_service::Service;

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
    civic_service::run::init_logging("info");
    let result = match cli.command {
        Command::Serve { config } => serve(config),
        Command::NewApiKey => {
            let mut b = [0u8; 32];
            OsRng.fill_bytes(&mut b);
            let key = format!("civic_platform_{}", b64_encode(&b));
            println!("api key (give it to the platform): {key}");
            println!("api_key_sha256 = \"{}\"", sha256_hex(&key));
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
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let (config, service) = Service::load(&config, SystemClock::shared())?;
        let listener = tokio::net::TcpListener::bind(&config.listen).await?;
        civic_verifier_service::serve(Arc::new(service), listener).await?;
        Ok(())
    })
}
