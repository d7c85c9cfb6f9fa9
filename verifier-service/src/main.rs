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
    /// Make a development CA and a verifier certificate signed by it, for local use: writes
    /// `ca.pem` (the trust anchor for the wallet's platform registry), `verifier-chain.pem` and
    /// `verifier-key.pem` (for `[request_certificate]`). The CA's key is not kept.
    DevCa {
        /// Where to write the files (created if missing; existing files are not overwritten).
        #[arg(long)]
        dir: PathBuf,
        /// The verifier's host names or IP addresses (the public URL's host first).
        #[arg(long = "host", required = true)]
        hosts: Vec<String>,
        /// The organization the certificate names (shown to residents).
        #[arg(long, default_value = "civic-id development verifier")]
        organization: String,
        /// How many days the certificate is valid.
        #[arg(long, default_value_t = 90)]
        days: i64,
    },
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
        Command::DevCa {
            dir,
            hosts,
            organization,
            days,
        } => dev_ca(&dir, &hosts, &organization, days),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn dev_ca(
    dir: &std::path::Path,
    hosts: &[String],
    organization: &str,
    days: i64,
) -> anyhow::Result<()> {
    use std::io::Write as _;
    let made = civic_verifier::certificate::dev_ca(organization, hosts, days)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    std::fs::create_dir_all(dir)?;
    for (name, text) in [
        ("ca.pem", &made.ca_pem),
        ("verifier-chain.pem", &made.chain_pem),
        ("verifier-key.pem", &made.key_pem),
    ] {
        let path = dir.join(name);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        if name.ends_with("key.pem") {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        let mut file = options
            .open(&path)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        println!("wrote {}", path.display());
    }
    println!(
        "[request_certificate]\nchain = \"{}\"\nkey = \"{}\"",
        dir.join("verifier-chain.pem").display(),
        dir.join("verifier-key.pem").display()
    );
    Ok(())
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
