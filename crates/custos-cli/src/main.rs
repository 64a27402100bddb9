//! The `custos` binary: `init` a data directory, `serve` it over HTTPS, run a `demo` firm, and
//! `audit verify` the log. Errors become one line on stderr and a non-zero exit code, here and
//! nowhere else.

#![expect(clippy::print_stdout, reason = "the CLI's output is its interface")]

use anyhow::{Context, Result, anyhow};
use clap::{Parser, Subcommand};
use custos_app::{DEMO, DEMO_PASSWORD, DataDir, InitOptions, init_data_dir, seed_demo_firm};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod audit;
mod jobs;
mod policy;

/// Custos: enforces a law firm's client-confidentiality policy.
#[derive(Debug, Parser)]
#[command(name = "custos", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a new data directory: database, key file, TLS certificate, configuration, and the
    /// first confidentiality officer (whose one-time password is printed once).
    Init {
        /// Where to create it.
        #[arg(long, env = "CUSTOS_DATA_DIR", default_value = "custos-data")]
        data_dir: PathBuf,
        /// User name of the first confidentiality officer.
        #[arg(long, default_value = "officer")]
        officer: String,
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// Serve the HTTPS API of an existing data directory.
    Serve {
        /// The data directory made by `custos init`.
        #[arg(long, env = "CUSTOS_DATA_DIR", default_value = "custos-data")]
        data_dir: PathBuf,
        /// Address to listen on (default: the configuration's, 127.0.0.1:8443).
        #[arg(long, env = "CUSTOS_LISTEN")]
        listen: Option<SocketAddr>,
    },
    /// Create a demo firm (in a temporary directory unless given) and serve it.
    Demo {
        /// Where to create the demo data directory (must not exist or be empty); by default a
        /// temporary directory, deleted on exit.
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Address to listen on.
        #[arg(long, env = "CUSTOS_LISTEN", default_value = "127.0.0.1:8443")]
        listen: SocketAddr,
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// Audit log tools.
    Audit {
        #[command(subcommand)]
        command: audit::AuditCommand,
    },
    /// Show the periodic jobs: last run, next run, last error, and the node running one now.
    Jobs {
        /// The data directory.
        #[arg(long, env = "CUSTOS_DATA_DIR", default_value = "custos-data")]
        data_dir: PathBuf,
    },
    /// Firm policy tools.
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// Database tools.
    Db {
        #[command(subcommand)]
        command: DbCommand,
    },
    /// Copy a data directory's database (a consistent snapshot, taken while it serves) and
    /// blobs to a new folder. Never the key file: back that up apart. On PostgreSQL only the
    /// blobs and configuration are copied; run pg_dump for the database (docs/OPERATIONS.md).
    Backup {
        /// The data directory.
        #[arg(long, env = "CUSTOS_DATA_DIR", default_value = "custos-data")]
        data_dir: PathBuf,
        /// The new backup folder (must not exist or be empty).
        #[arg(long)]
        to: PathBuf,
    },
    /// Restore a backup onto a new data directory with the key file kept apart, then verify
    /// the audit log against the backup's head.
    Restore {
        /// The backup folder made by `custos backup`.
        #[arg(long)]
        from: PathBuf,
        /// The new data directory (must not exist or be empty).
        #[arg(long)]
        data_dir: PathBuf,
        /// The key file (`kek.key`) of the firm.
        #[arg(long)]
        key: PathBuf,
        /// The audit log's signing key (`audit-log.key`, its `.pub` beside it): keeps the log's
        /// identity. Without it the firm gets a new key; earlier checkpoints verify with the
        /// backup's verifier key, kept as a former key.
        #[arg(long, value_name = "FILE")]
        log_key: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum PolicyCommand {
    /// Run a table of decision cases (CSV: `person,action,record,expected`, e.g.
    /// `lena.lawyer,document.read,M-0042,allow`; a record is M-0042, C-0007, a document id or
    /// `firm`) against the policy in force, or with proposed firm policies in place of the
    /// saved ones; prints each mismatch with its reasons and exits non-zero if any.
    Test {
        /// The case table.
        cases: PathBuf,
        /// Proposed firm policies (Cedar) to test instead of the saved ones.
        #[arg(long, value_name = "FILE")]
        policies: Option<PathBuf>,
        /// The data directory.
        #[arg(long, env = "CUSTOS_DATA_DIR", default_value = "custos-data")]
        data_dir: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum DbCommand {
    /// Bring the database schema up to this binary's version (run as the schema owner when the
    /// nodes connect as an application role with `database.migrate = false`).
    Migrate {
        /// The data directory.
        #[arg(long, env = "CUSTOS_DATA_DIR", default_value = "custos-data")]
        data_dir: PathBuf,
    },
}

/// Where a new data directory keeps its records and blobs.
#[derive(clap::Args)]
struct StorageArgs {
    /// PostgreSQL URL (postgres://user@host:5432/db) written to the configuration; by default
    /// the embedded SQLite database. `CUSTOS_DATABASE_URL` is read at every start instead, and
    /// keeps a password out of the file.
    #[arg(long, value_name = "URL")]
    database_url: Option<String>,
    /// Blob folder written to the configuration (with several nodes: a folder they share).
    #[arg(long, value_name = "DIR")]
    blob_dir: Option<PathBuf>,
}

impl std::fmt::Debug for StorageArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StorageArgs")
            .field(
                "database_url",
                &self.database_url.as_deref().map(custos_app::redact_url),
            )
            .field("blob_dir", &self.blob_dir)
            .finish()
    }
}

impl StorageArgs {
    fn options(self) -> Result<InitOptions> {
        let blobs = match self.blob_dir {
            Some(dir) if dir.is_relative() => Some(
                std::env::current_dir()
                    .context("current directory")?
                    .join(dir),
            ),
            other => other,
        };
        Ok(InitOptions {
            database_url: self.database_url,
            blobs,
        })
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(
                e.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                let _ = e.print();
                return if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                    ExitCode::from(2)
                } else {
                    ExitCode::SUCCESS
                };
            }
            let rendered = e.render().to_string();
            let first = rendered.lines().next().unwrap_or("invalid arguments");
            eprintln!("{first} (see `custos --help`)");
            return ExitCode::from(2);
        }
    };
    init_logging();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", one_line(&e));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes on one line.
fn one_line(e: &anyhow::Error) -> String {
    format!("{e:#}").replace('\n', " ")
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("CUSTOS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    // Colours only on a terminal: a log file or journal gets plain text.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .try_init();
}

async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Init {
            data_dir,
            officer,
            storage,
        } => init(&data_dir, &officer, &storage.options()?).await,
        Command::Serve { data_dir, listen } => serve(&data_dir, listen).await,
        Command::Demo {
            data_dir,
            listen,
            storage,
        } => demo(data_dir, listen, &storage.options()?).await,
        Command::Jobs { data_dir } => jobs::show(&data_dir).await,
        Command::Policy {
            command:
                PolicyCommand::Test {
                    cases,
                    policies,
                    data_dir,
                },
        } => policy::test(&data_dir, &cases, policies.as_deref()).await,
        Command::Db {
            command: DbCommand::Migrate { data_dir },
        } => {
            let dir = DataDir::open(&data_dir)?;
            drop(dir.open_store(false, true).await?);
            println!("database schema is up to date");
            Ok(())
        }
        Command::Audit { command } => audit::run(command).await,
        Command::Backup { data_dir, to } => {
            let report = DataDir::open(&data_dir)?.backup(&to).await?;
            if report.database_included {
                println!(
                    "backup written to {}: database snapshot, {} blobs, configuration",
                    to.display(),
                    report.blobs
                );
            } else {
                println!(
                    "blobs ({}) and configuration written to {}; the database is PostgreSQL: \
                     run `pg_dump --format=custom` as its owner (docs/OPERATIONS.md)",
                    report.blobs,
                    to.display()
                );
            }
            if let Some(head) = report.audit_head {
                println!("audit head of the snapshot: {}", head.to_line());
            }
            println!("the key file is not in the backup: keep it apart, offline");
            Ok(())
        }
        Command::Restore {
            from,
            data_dir,
            key,
            log_key,
        } => {
            let report = custos_app::restore(&from, &data_dir, &key, log_key.as_deref()).await?;
            println!(
                "restored into {}: {} blobs; audit log verified ({} entries). A new self-signed \
                 certificate was made: point tls_cert and tls_key at the firm's own.",
                data_dir.display(),
                report.blobs,
                report.audit_entries
            );
            Ok(())
        }
    }
}

async fn init(data_dir: &Path, officer: &str, options: &InitOptions) -> Result<()> {
    let outcome = init_data_dir(data_dir, officer, options).await?;
    println!("Created data directory {}", data_dir.display());
    println!(
        "Confidentiality officer `{}`; one-time password (shown once): {}",
        outcome.officer.user_name,
        outcome.officer_password.as_str()
    );
    println!(
        "Audit log verifier key (publish it; checkpoints and proofs verify with it):\n  {}",
        outcome.log_verifier_key
    );
    println!(
        "Start the server with: custos serve --data-dir {}",
        data_dir.display()
    );
    Ok(())
}

async fn serve(data_dir: &Path, listen: Option<SocketAddr>) -> Result<()> {
    let dir = DataDir::open(data_dir)?;
    let app = dir.open_app().await?;
    let addr = listen.unwrap_or(dir.config.listen);
    serve_app(&dir, app, addr, None).await
}

async fn serve_app(
    dir: &DataDir,
    app: custos_app::App,
    addr: SocketAddr,
    banner: Option<String>,
) -> Result<()> {
    app.check_audit_log_at_start(dir.recorded_audit_head()?)
        .await?;
    // Checkpoints this directory saw signed must still be there, the latest must still match
    // the tree and the entries after it their hashes; a log never signed is signed now.
    app.check_signed_tail(dir.recorded_signed_size()?).await?;
    if let Some(note) = dir.recorded_checkpoint()? {
        app.check_recorded_checkpoint(&note).await?;
    }
    record_audit_head(dir, &app).await?;
    let tls = custos_server::load_tls_config(
        &dir.path(&dir.config.tls_cert),
        &dir.path(&dir.config.tls_key),
    )?;
    let listener = custos_server::bind(addr).await?;
    let local = listener.local_addr().context("listening socket")?;
    let stop = stop_signal()?;
    if let Some(banner) = banner {
        println!("{banner}");
    }
    println!(
        "Custos is serving https://{local}/ and its API at /api (certificate: {})",
        dir.path(&dir.config.tls_cert).display()
    );
    println!("Press Ctrl-C to stop.");
    let scheduler = tokio::spawn(jobs::run_jobs(app.clone()));
    let witnesses = tokio::spawn(jobs::ask_witnesses(
        app.clone(),
        dir.config.witnesses.clone(),
    ));
    tracing::info!(address = %local, version = env!("CARGO_PKG_VERSION"), "custos serving");
    let recorder = {
        let (dir, app) = (dir.clone(), app.clone());
        tokio::spawn(async move {
            let mut every = tokio::time::interval(AUDIT_HEAD_EVERY);
            loop {
                every.tick().await;
                if let Err(e) = record_audit_head(&dir, &app).await {
                    tracing::error!(error = %e, "audit head not recorded");
                }
            }
        })
    };
    custos_server::serve(listener, tls, custos_server::router(app.clone()), stop).await;
    recorder.abort();
    // A run cut short here loses nothing (each of its steps commits on its own); its lease
    // lapses and the job runs again on the next node to tick.
    scheduler.abort();
    witnesses.abort();
    // A clean stop signs what the log holds (otherwise up to a minute of entries would be
    // covered by the chain alone until the next start), then records it outside the database.
    if app.log_verifier_key().is_some()
        && let Err(e) = app.sign_checkpoint(custos_app::Signing::Now).await
    {
        tracing::error!(error = %e, "no checkpoint signed at the stop");
    }
    record_audit_head(dir, &app).await?;
    // How many commits the audited reads shared (group commit), for the operator.
    let (shared, _) = app.audit_group_commit();
    tracing::info!(
        batches = shared.batches,
        reads = shared.units,
        entries = shared.entries,
        "audited reads' entries were written in {} commits for {} reads",
        shared.batches,
        shared.units
    );
    app.close().await;
    Ok(())
}

/// How often a serving node records the audit head in its data directory.
const AUDIT_HEAD_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Records the log's current head and latest signed checkpoint outside the database
/// (`audit.head`, `audit.checkpoint`).
async fn record_audit_head(dir: &DataDir, app: &custos_app::App) -> Result<()> {
    // Only forward from a head the log still holds: a tail cut or rewritten in the database
    // is refused here (and stops signing on this node) instead of being recorded over.
    if let Some(head) = app.witness_head(dir.recorded_audit_head()?).await? {
        dir.record_audit_head(head)?;
    }
    if let Some(checkpoint) = app.checkpoint_console().await? {
        dir.record_checkpoint(checkpoint.size, &checkpoint.note)?;
        dir.record_signed_size(checkpoint.size)?;
    }
    Ok(())
}

/// Ctrl-C or SIGTERM (systemd, docker, kill): both stop the server cleanly, so the demo's
/// temporary directory and its key are removed either way. The handlers are installed at
/// once, before the server says it is serving, so that no signal finds the default action.
pub(crate) fn stop_signal() -> Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt()).context("signal handler")?;
    let mut terminate = signal(SignalKind::terminate()).context("signal handler")?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    })
}

async fn demo(data_dir: Option<PathBuf>, listen: SocketAddr, options: &InitOptions) -> Result<()> {
    // The temporary directory lives as long as this function: deleted on exit.
    let temp = match &data_dir {
        Some(_) => None,
        None => Some(tempfile::Builder::new().prefix("custos-demo-").tempdir()?),
    };
    let root = data_dir
        .or_else(|| temp.as_ref().map(|t| t.path().to_path_buf()))
        .ok_or_else(|| anyhow!("no data directory"))?;
    let officer_user = DEMO
        .people
        .first()
        .map(|p| p.user)
        .unwrap_or("olivia.officer");
    let outcome = init_data_dir(&root, officer_user, options).await?;
    seed_demo_firm(&outcome.app, outcome.officer.id, outcome.officer_password).await?;
    let mut banner = format!(
        "Demo firm created in {} (demo data only: never put real client data in it).\n\
         Every demo account's password is `{DEMO_PASSWORD}`. Logins:\n",
        root.display()
    );
    for p in DEMO.people {
        banner.push_str(&format!(
            "  {:<16} {:<10} {}\n",
            p.user,
            p.role.as_str(),
            p.name
        ));
    }
    banner.push_str(&format!(
        "In a browser: https://localhost:{port}/ (the certificate is self-signed). The first \
         sign-in of an account\nshows a QR code for an authenticator app, then its recovery \
         codes.\n",
        port = listen.port()
    ));
    banner.push_str(&format!(
        "A second factor is mandatory. With the API, the first login of an account opens a setup session:\n\
         1. curl --cacert {root}/tls/cert.pem -X POST https://localhost:{port}/api/session \\\n     \
         -H 'content-type: application/json' -d '{{\"user_name\":\"lena.lawyer\",\"password\":\"{DEMO_PASSWORD}\"}}'\n\
         2. POST /api/me/totp with that token: add the secret to an authenticator app (or use\n   \
         `oathtool --totp -b <secret>`), then POST /api/me/totp/confirm {{\"code\":\"123456\"}}.\n\
         3. Later logins send \"code\" too. API: https://localhost:{port}/api/openapi.json",
        root = root.display(),
        port = listen.port()
    ));
    serve_app(&outcome.data_dir, outcome.app, listen, Some(banner)).await
}
