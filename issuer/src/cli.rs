//! The `civic-issuer` command line: set-up, register import, codes, serving, and the agency's
//! status and key operations.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};

use civic_credential::status_list::Status;

use crate::config::Config;
use crate::keys::KeyRing;
use crate::register::{write_rejections, ImportOptions};
use crate::secrets::{hash_hex, random_token};
use crate::service::{now, Issuer};
use crate::store::{AdminToken, SledStore, Store};

/// civic-issuer: issue residency credentials (SD-JWT VC over OID4VCI) to residents who enrolled
/// a passkey with a one-time code.
#[derive(Parser)]
#[command(name = "civic-issuer", version)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args)]
struct Data {
    /// The issuer's data directory (config, keys, database).
    #[arg(long, value_name = "DIR")]
    data: PathBuf,
}

#[derive(Subcommand)]
enum Command {
    /// Create a data directory: signing keys, config, did:web document and the first admin token.
    Init {
        #[command(flatten)]
        data: Data,
        /// Public base URL, e.g. https://id.example-city.nl (also the credential issuer id).
        #[arg(long)]
        public_url: String,
        /// The agency's name as residents see it.
        #[arg(long, default_value = "Municipality")]
        agency: String,
        /// Also create an Ed25519 key (published; sign with it by setting credential_alg = "EdDSA").
        #[arg(long)]
        ed25519: bool,
        /// Ask for a 6-digit transaction code with every credential offer.
        #[arg(long)]
        tx_code: bool,
        /// Where to write a copy of the DID document.
        #[arg(long, default_value = "did-docs")]
        did_docs: PathBuf,
    },
    /// Import the resident register (CSV); revokes credentials of residents who left or moved.
    ImportRegister {
        #[command(flatten)]
        data: Data,
        /// The register export. Columns: register_id, given_name, family_name, birthdate,
        /// street_address, postal_code, locality, country, municipality, municipality_code,
        /// district, resident_since, valid_until.
        file: PathBuf,
        /// Show what would change, and write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Where to write rejected rows (default: FILE.rejected.csv).
        #[arg(long)]
        report: Option<PathBuf>,
    },
    /// Create one-time enrollment codes for mailing (CSV: register_id, code, expires, enroll_url).
    EnrollmentCodes {
        #[command(flatten)]
        data: Data,
        /// One resident.
        #[arg(
            long,
            conflicts_with = "all_unenrolled",
            required_unless_present = "all_unenrolled"
        )]
        resident: Option<String>,
        /// Every resident on the register without a passkey.
        #[arg(long)]
        all_unenrolled: bool,
        /// The CSV file to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// Serve the resident pages, the OID4VCI endpoints, status lists and the admin API.
    Serve {
        #[command(flatten)]
        data: Data,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
    },
    /// Revoke every credential of a resident, for good, and stop issuing new ones.
    Revoke(ResidentArgs),
    /// Suspend a resident's credentials and stop issuing new ones until unsuspended.
    Suspend(ResidentArgs),
    /// Lift a suspension.
    Unsuspend(ResidentArgs),
    /// Make new signing keys; old public keys stay published while their credentials can be valid.
    RotateKey {
        #[command(flatten)]
        data: Data,
    },
    /// Register a civic platform: new credentials carry a pairwise pseudonym for it.
    RegisterPlatform {
        #[command(flatten)]
        data: Data,
        /// The platform's identifier (a URL).
        #[arg(long)]
        id: String,
        /// Its name.
        #[arg(long)]
        name: String,
    },
    /// Create another admin API token (printed once, stored hashed).
    AdminToken {
        #[command(flatten)]
        data: Data,
        /// Who the token is for.
        #[arg(long)]
        name: String,
    },
}

#[derive(Args)]
struct ResidentArgs {
    #[command(flatten)]
    data: Data,
    /// The resident's register id.
    #[arg(long)]
    resident: String,
}

/// Parses the command line and runs it.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // The server logs each request; one-shot commands only warnings (their output is the report).
    init_logging(if matches!(cli.command, Command::Serve { .. }) {
        "info"
    } else {
        "warn"
    });
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if std::env::var("LOG_FORMAT").as_deref() == Ok("json") {
        builder.json().init();
    } else {
        builder.compact().init();
    }
}

fn open(data: &Data) -> anyhow::Result<Issuer> {
    Issuer::open(&data.data).map_err(|e| anyhow::anyhow!("{e}"))
}

/// The issuer for `serve`: a disk that is full or read-only at start gives 503s until it can be
/// written again, instead of a failed start (a lock held by another process still fails).
fn open_for_service(data: &Data) -> anyhow::Result<Issuer> {
    let dir = &data.data;
    let config = Config::load(dir).map_err(|e| anyhow::anyhow!("{e}"))?;
    let keys = KeyRing::load(dir).map_err(|e| anyhow::anyhow!("{e}"))?;
    let store = SledStore::open_for_service(&dir.join("db"), config.storage_options())?;
    Issuer::with_parts(dir, config, keys, Arc::new(store)).map_err(|e| anyhow::anyhow!("{e}"))
}

fn api(e: crate::error::ApiError) -> anyhow::Error {
    anyhow::anyhow!("{}", e.message)
}

fn run(cli: Cli) -> anyhow::Result<()> {
    // Each command makes its writes durable (`sync`) before it reports or writes output files.
    match cli.command {
        Command::Init {
            data,
            public_url,
            agency,
            ed25519,
            tx_code,
            did_docs,
        } => init(
            &data.data,
            &public_url,
            &agency,
            ed25519,
            tx_code,
            &did_docs,
        ),
        Command::ImportRegister {
            data,
            file,
            dry_run,
            report,
        } => {
            let issuer = open(&data)?;
            let f = std::fs::File::open(&file)
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let size = f.metadata().map(|m| m.len()).unwrap_or(0);
            let progress = std::io::IsTerminal::is_terminal(&std::io::stderr());
            let r = issuer
                .import_register(
                    std::io::BufReader::new(f),
                    size,
                    ImportOptions { dry_run, progress },
                )
                .map_err(api)?;
            issuer.store.sync()?;
            let report_path = report.unwrap_or_else(|| file.with_extension("rejected.csv"));
            if !r.rejected.is_empty() {
                write_rejections(&report_path, &r.rejected)?;
                eprintln!(
                    "{} rows rejected; see {}",
                    r.rejected.len(),
                    report_path.display()
                );
            }
            println!("{}", serde_json::to_string_pretty(&r)?);
            Ok(())
        }
        Command::EnrollmentCodes {
            data,
            resident,
            all_unenrolled,
            out,
        } => {
            let issuer = open(&data)?;
            let ids = match resident {
                Some(id) => vec![id],
                None if all_unenrolled => issuer.unenrolled().map_err(api)?,
                None => anyhow::bail!("give --resident ID or --all-unenrolled"),
            };
            let mut codes = Vec::with_capacity(ids.len());
            for id in &ids {
                codes.push(issuer.enrollment_code(id, "cli").map_err(api)?);
            }
            // Only codes that are on disk may be mailed.
            issuer.store.sync()?;
            let mut w = csv::Writer::from_writer(crate::fsutil::PrivateFile::create(&out)?);
            for code in &codes {
                w.serialize(code)?;
            }
            w.flush()?;
            println!("{} codes written to {}", ids.len(), out.display());
            Ok(())
        }
        Command::Serve { data, listen } => serve(open_for_service(&data)?, listen),
        Command::Revoke(a) => status(&a, Status::Invalid),
        Command::Suspend(a) => status(&a, Status::Suspended),
        Command::Unsuspend(a) => status(&a, Status::Valid),
        Command::RotateKey { data } => {
            let issuer = open(&data)?;
            let kids = issuer.rotate_keys("cli").map_err(api)?;
            issuer.store.sync()?;
            println!("new signing keys: {}", kids.join(", "));
            Ok(())
        }
        Command::RegisterPlatform { data, id, name } => {
            let issuer = open(&data)?;
            let p = issuer.register_platform(&id, &name, "cli").map_err(api)?;
            issuer.store.sync()?;
            println!("registered platform {} ({})", p.id, p.name);
            Ok(())
        }
        Command::AdminToken { data, name } => {
            let config = Config::load(&data.data).map_err(|e| anyhow::anyhow!("{e}"))?;
            let store = SledStore::open(&data.data.join("db"), config.storage_options())?;
            let token = new_admin_token(&store, &name)?;
            store.sync()?;
            println!("{token}");
            Ok(())
        }
    }
}

fn status(a: &ResidentArgs, status: Status) -> anyhow::Result<()> {
    let issuer = open(&a.data)?;
    let n = issuer.set_status(&a.resident, status, "cli").map_err(api)?;
    issuer.store.sync()?;
    println!("{n} credentials changed");
    Ok(())
}

fn new_admin_token(store: &dyn Store, name: &str) -> anyhow::Result<String> {
    let token = format!("civic_admin_{}", random_token());
    store.put_admin_token(&AdminToken {
        hash_hex: hash_hex(&token),
        name: name.to_owned(),
        created: now(),
    })?;
    Ok(token)
}

fn init(
    dir: &Path,
    public_url: &str,
    agency: &str,
    ed25519: bool,
    tx_code: bool,
    did_docs: &Path,
) -> anyhow::Result<()> {
    if dir.join("config.toml").exists() || dir.join("keys.json").exists() {
        anyhow::bail!("{} is already initialised", dir.display());
    }
    std::fs::create_dir_all(dir)?;
    let mut config = Config::new(public_url)?;
    config.agency_name = agency.to_owned();
    config.tx_code = tx_code;
    config.save(dir)?;
    let keys = KeyRing::create(dir, ed25519, now())?;
    let store = Arc::new(SledStore::open(&dir.join("db"), config.storage_options())?);
    let token = new_admin_token(store.as_ref(), "initial")?;
    let issuer =
        Issuer::with_parts(dir, config, keys, store).map_err(|e| anyhow::anyhow!("{e}"))?;
    let doc = serde_json::to_string_pretty(&issuer.did_document())?;
    crate::fsutil::write_atomic(&dir.join("did.json"), doc.as_bytes(), false)?;
    std::fs::create_dir_all(did_docs)?;
    let host = url::Url::parse(public_url)?
        .host_str()
        .unwrap_or("issuer")
        .to_owned();
    let copy = did_docs.join(format!("{host}.did.json"));
    crate::fsutil::write_atomic(&copy, doc.as_bytes(), false)?;
    issuer
        .audit(
            "cli",
            "initialised",
            None,
            crate::trust::did_web(&issuer.config),
        )
        .map_err(api)?;
    issuer.store.sync()?;
    println!("initialised {} for {public_url}", dir.display());
    println!(
        "DID document: {} (copy in {})",
        dir.join("did.json").display(),
        copy.display()
    );
    println!("admin token (shown once, store it safely): {token}");
    Ok(())
}

fn serve(issuer: Issuer, listen: SocketAddr) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let issuer = Arc::new(issuer);
        let listener = tokio::net::TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        tracing::info!(%addr, public_url = %issuer.config.public_url, "civic-issuer listening");
        println!("listening on http://{addr}");
        let purger = issuer.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(std::time::Duration::from_secs(60)).await;
                let p = purger.clone();
                // Synced like every request, so no unsynced write lingers on the thread.
                let _ = tokio::task::spawn_blocking(move || {
                    p.store.purge_expired(now()).and_then(|_| p.store.sync())
                })
                .await;
            }
        });
        let app = crate::http::router(issuer).into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown())
            .await?;
        Ok(())
    })
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
