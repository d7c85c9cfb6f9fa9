//! The `civic-issuer` command line: set-up, register import, codes, serving, and the agency's
//! status and key operations.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};

use civic_credential::crypto::Algorithm;
use civic_credential::status_list::Status;
use civic_service::{Clock, SystemClock};

use crate::config::Config;
use crate::issuer::Issuer;
use crate::keys::KeyRing;
use crate::register::{write_rejections, ImportOptions, ImportReport, RegisterError};
use crate::secrets::{hash_hex, random_token};
use crate::store::{AdminToken, Store};

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
        /// Do not ask for the 6-digit transaction code with credential offers (by default every
        /// offer needs the code shown next to it, so a QR code seen over a shoulder or a link
        /// another app grabbed cannot be redeemed).
        #[arg(long)]
        no_tx_code: bool,
        /// Where to write a copy of the DID document.
        #[arg(long, default_value = "did-docs")]
        did_docs: PathBuf,
        /// Keep the issuer's state in this PostgreSQL database (`postgres://user@host/db`)
        /// instead of sled in the data directory; several instances can then share it.
        #[arg(long)]
        database: Option<String>,
    },
    /// Import the resident register (CSV); revokes credentials of residents who left, moved or
    /// whose data changed. An export that looks broken changes nothing without --force.
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
        /// Import even if the export looks broken: rejected rows, or more residents gone than
        /// `register_max_removal_percent` (5 % by default) of the register.
        #[arg(long)]
        force: bool,
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
    /// Bring the PostgreSQL database of a data directory to this release's schema (`--data`),
    /// or move a data directory's sled database into an empty PostgreSQL database (`--from DIR
    /// --to URL`): everything is copied in one transaction and compared afterwards, and the
    /// directory's config then names the database (the sled copy stays as it was).
    Migrate {
        /// The data directory whose `database` to bring up to date.
        #[arg(long, value_name = "DIR", conflicts_with_all = ["from", "to"], required_unless_present = "from")]
        data: Option<PathBuf>,
        /// The data directory whose sled database to move (the service must be stopped).
        #[arg(long, value_name = "DIR", requires = "to")]
        from: Option<PathBuf>,
        /// The PostgreSQL database to move it into (`postgres://user@host:5432/db`); must hold
        /// no issuer data yet.
        #[arg(long, value_name = "URL", requires = "from")]
        to: Option<String>,
    },
    /// Add a civic platform: new credentials carry a pairwise pseudonym for it.
    #[command(alias = "register-platform")]
    AddPlatform {
        #[command(flatten)]
        data: Data,
        /// The platform's identifier (a URL).
        #[arg(long)]
        id: String,
        /// Its name.
        #[arg(long)]
        name: String,
    },
    /// Make a development CA and a certificate for the current ES256 signing key, for local use:
    /// writes `issuer-ca.pem` (the trust anchor for verifiers' `trust_anchors`) and
    /// `issuer-chain.pem` into the data directory and sets `signing_certificate`, so that
    /// credentials and status lists carry `x5c`. Run it again after `rotate-key`. The CA's key
    /// is not kept.
    DevCa {
        #[command(flatten)]
        data: Data,
        /// The organization the certificate names (default: the agency's name).
        #[arg(long)]
        organization: Option<String>,
        /// How many days the certificate is valid.
        #[arg(long, default_value_t = 90)]
        days: i64,
        /// Certify a fresh key for the issuer's own wallet provider instead (`/wallet-provider`),
        /// and trust its CA in `wallet_provider_anchors`.
        #[arg(long)]
        wallet_provider: bool,
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
    civic_service::run::init_logging(if matches!(cli.command, Command::Serve { .. }) {
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

fn open(data: &Data) -> anyhow::Result<Issuer> {
    Ok(Issuer::open(&data.data)?)
}

fn run(cli: Cli) -> anyhow::Result<()> {
    // Each command makes its writes durable (`sync`) before it reports or writes output files.
    match cli.command {
        Command::Init {
            data,
            public_url,
            agency,
            ed25519,
            no_tx_code,
            did_docs,
            database,
        } => init(
            &data.data,
            &public_url,
            &agency,
            ed25519,
            !no_tx_code,
            &did_docs,
            database,
        ),
        Command::ImportRegister {
            data,
            file,
            dry_run,
            force,
            report,
        } => {
            let issuer = open(&data)?;
            let f = std::fs::File::open(&file)
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let size = f.metadata().map(|m| m.len()).unwrap_or(0);
            let progress = std::io::IsTerminal::is_terminal(&std::io::stderr());
            let opts = ImportOptions {
                dry_run,
                progress,
                force,
            };
            let report_path = report.unwrap_or_else(|| file.with_extension("rejected.csv"));
            let r = match issuer
                .register
                .import(std::io::BufReader::new(f), size, opts)
            {
                Ok(r) => r,
                Err(RegisterError::Refused { why, report }) => {
                    // What the import would have done, so the operator can see what is wrong.
                    write_report(&report, &report_path)?;
                    anyhow::bail!(
                        "the import was stopped and changed nothing: {why}; check the export, \
                         or run it again with --force"
                    );
                }
                Err(e) => return Err(e.into()),
            };
            issuer.sync()?;
            write_report(&r, &report_path)?;
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
                None if all_unenrolled => issuer.enrollment.unenrolled()?,
                None => anyhow::bail!("give --resident ID or --all-unenrolled"),
            };
            let mut codes = Vec::with_capacity(ids.len());
            for id in &ids {
                codes.push(issuer.enrollment.issue_code(id, "cli")?);
            }
            // Only codes that are on disk may be mailed.
            issuer.sync()?;
            let mut w = csv::Writer::from_writer(crate::fsutil::PrivateFile::create(&out)?);
            for code in &codes {
                w.serialize(code)?;
            }
            w.flush()?;
            println!("{} codes written to {}", ids.len(), out.display());
            Ok(())
        }
        Command::Serve { data, listen } => serve(Issuer::open_for_service(&data.data)?, listen),
        Command::Revoke(a) => status(&a, Status::Invalid),
        Command::Suspend(a) => status(&a, Status::Suspended),
        Command::Unsuspend(a) => status(&a, Status::Valid),
        Command::Migrate { data, from, to } => match (data, from, to) {
            (Some(dir), _, _) => migrate_schema(&dir),
            (None, Some(from), Some(to)) => move_to_postgres(&from, &to),
            _ => anyhow::bail!("give --data DIR, or --from DIR --to URL"),
        },
        Command::RotateKey { data } => {
            let issuer = open(&data)?;
            let kids = issuer.context.rotate_keys("cli")?;
            issuer.sync()?;
            println!("new signing keys: {}", kids.join(", "));
            Ok(())
        }
        Command::AddPlatform { data, id, name } => {
            let issuer = open(&data)?;
            let p = issuer.platforms.add(&id, &name, "cli")?;
            issuer.sync()?;
            println!("registered platform {} ({})", p.id, p.name);
            Ok(())
        }
        Command::DevCa {
            data,
            organization,
            days,
            wallet_provider: false,
        } => dev_ca(&data.data, organization, days),
        Command::DevCa {
            data,
            organization,
            days,
            wallet_provider: true,
        } => dev_wallet_provider(&data.data, organization, days),
        Command::AdminToken { data, name } => {
            let config = Config::load(&data.data)?;
            let store = config.open_store(&data.data, false)?;
            let token = new_admin_token(store.as_ref(), &name, SystemClock.now())?;
            store.sync()?;
            println!("{token}");
            Ok(())
        }
    }
}

/// `civic-issuer dev-ca`: certifies the current ES256 key under a fresh development CA.
fn dev_ca(dir: &Path, organization: Option<String>, days: i64) -> anyhow::Result<()> {
    let mut config = Config::load(dir)?;
    let keys = KeyRing::load(dir)?;
    if config.credential_algorithm() != Algorithm::Es256 {
        anyhow::bail!(
            "dev-ca certifies the ES256 key; credential_alg is {}",
            config.credential_alg
        );
    }
    let signer = keys
        .signer(Algorithm::Es256)
        .ok_or_else(|| anyhow::anyhow!("no active ES256 key in keys.json"))?;
    let pkcs8 = signer.to_pkcs8_der()?;
    let organization = organization.unwrap_or_else(|| config.agency_name.clone());
    let made =
        civic_service::certificate::dev_ca(&organization, &[config.host()?], days, Some(&pkcs8))
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    for (name, text) in [
        ("issuer-ca.pem", &made.ca_pem),
        ("issuer-chain.pem", &made.chain_pem),
    ] {
        let path = dir.join(name);
        crate::fsutil::write_atomic(&path, text.as_bytes(), false)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        println!("wrote {}", path.display());
    }
    config.signing_certificate = Some("issuer-chain.pem".into());
    config.save(dir)?;
    println!(
        "signing_certificate = \"issuer-chain.pem\" (config.toml); give issuer-ca.pem to \
         verifiers as the issuer's trust_anchors. Restart the issuer to use it."
    );
    Ok(())
}

/// `civic-issuer dev-ca --wallet-provider`: a fresh key for the issuer's wallet provider,
/// certified under a fresh development CA that this issuer then trusts.
fn dev_wallet_provider(dir: &Path, organization: Option<String>, days: i64) -> anyhow::Result<()> {
    let mut config = Config::load(dir)?;
    let organization =
        organization.unwrap_or_else(|| format!("{} wallet provider", config.agency_name));
    let made = civic_service::certificate::dev_ca(&organization, &[config.host()?], days, None)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    for (name, text, private) in [
        ("wallet-provider-ca.pem", &made.ca_pem, false),
        ("wallet-provider-chain.pem", &made.chain_pem, false),
        ("wallet-provider-key.pem", &made.key_pem, true),
    ] {
        let path = dir.join(name);
        crate::fsutil::write_atomic(&path, text.as_bytes(), private)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        println!("wrote {}", path.display());
    }
    config.wallet_provider_certificate = Some("wallet-provider-chain.pem".into());
    config.wallet_provider_key = Some("wallet-provider-key.pem".into());
    let anchor = "wallet-provider-ca.pem".to_owned();
    if !config.wallet_provider_anchors.contains(&anchor) {
        config.wallet_provider_anchors.push(anchor);
    }
    config.save(dir)?;
    println!(
        "wallet_provider_certificate and wallet_provider_key set, and wallet-provider-ca.pem \
         added to wallet_provider_anchors (config.toml). Restart the issuer to use them."
    );
    Ok(())
}

/// Prints an import report (JSON) and writes its rejected rows next to the export.
fn write_report(r: &ImportReport, rejections: &Path) -> anyhow::Result<()> {
    if !r.rejected.is_empty() {
        write_rejections(rejections, &r.rejected)?;
        eprintln!(
            "{} rows rejected; see {}",
            r.rejected.len(),
            rejections.display()
        );
    }
    println!("{}", serde_json::to_string_pretty(r)?);
    Ok(())
}

fn status(a: &ResidentArgs, status: Status) -> anyhow::Result<()> {
    let issuer = open(&a.data)?;
    let n = issuer.status.set(&a.resident, status, "cli")?;
    issuer.sync()?;
    println!("{n} credentials changed");
    Ok(())
}

fn migrate_schema(dir: &Path) -> anyhow::Result<()> {
    let config = Config::load(dir)?;
    if config.database.is_none() {
        anyhow::bail!(
            "{} keeps its state in sled (no `database` in its config): nothing to migrate; \
             to move it to PostgreSQL use --from DIR --to URL",
            dir.display()
        );
    }
    config.open_store(dir, false)?;
    println!(
        "issuer schema at version {}",
        crate::store::PgStore::schema_version()
    );
    Ok(())
}

fn move_to_postgres(dir: &Path, url: &str) -> anyhow::Result<()> {
    use crate::store::{transfer, PgStore, SledStore};
    let mut config = Config::load(dir)?;
    if config.database.is_some() {
        anyhow::bail!("{} is on PostgreSQL already", dir.display());
    }
    let sled = SledStore::open(&dir.join("db"), config.storage_options())?;
    let pg = PgStore::open(
        url,
        &civic_storage::postgres::PgOptions {
            application_name: "civic-issuer migrate".into(),
            ..Default::default()
        },
    )?;
    let counts = transfer::copy(&sled, &pg)?;
    transfer::verify(&sled, &pg, &counts)?;
    for (kind, n) in &counts {
        println!("{kind}: {n}");
    }
    println!("copied and checked: counts, status list indexes and bits, credentials, audit log");
    config.database = Some(url.to_owned());
    config.save(dir)?;
    println!(
        "{} now uses the PostgreSQL database; its sled database ({}) is kept as it was",
        dir.display(),
        dir.join("db").display()
    );
    Ok(())
}

/// Stores a new admin token for `name` and returns it (it is shown once, stored hashed).
pub fn new_admin_token(store: &dyn Store, name: &str, now: i64) -> anyhow::Result<String> {
    let token = format!("civic_admin_{}", random_token());
    store.put_admin_token(&AdminToken {
        hash_hex: hash_hex(&token),
        name: name.to_owned(),
        created: now,
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
    database: Option<String>,
) -> anyhow::Result<()> {
    if dir.join("config.toml").exists() || dir.join("keys.json").exists() {
        anyhow::bail!("{} is already initialised", dir.display());
    }
    crate::fsutil::private_dir(dir)?;
    let mut config = Config::new(public_url)?;
    config.agency_name = agency.to_owned();
    config.tx_code = tx_code;
    config.database = database;
    config.save(dir)?;
    let clock = SystemClock::shared();
    let keys = KeyRing::create(dir, ed25519, clock.now())?;
    let store = config.open_store(dir, false)?;
    let token = new_admin_token(store.as_ref(), "initial", clock.now())?;
    let issuer = Issuer::assemble(config, keys, store, clock)?;
    let doc = serde_json::to_string_pretty(&issuer.trust.did_document()?)?;
    crate::fsutil::write_atomic(&dir.join("did.json"), doc.as_bytes(), false)?;
    std::fs::create_dir_all(did_docs)?;
    let host = url::Url::parse(public_url)?
        .host_str()
        .unwrap_or("issuer")
        .to_owned();
    let copy = did_docs.join(format!("{host}.did.json"));
    crate::fsutil::write_atomic(&copy, doc.as_bytes(), false)?;
    let did = crate::trust::did_web(&issuer.context.config)?;
    issuer.context.audit("cli", "initialised", None, did)?;
    issuer.sync()?;
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
        let listener = tokio::net::TcpListener::bind(listen).await?;
        println!("listening on http://{}", listener.local_addr()?);
        crate::http::serve(Arc::new(issuer), listener).await?;
        Ok(())
    })
}
