//! `custos audit`: verify the log, its signing key's verifier key, signed checkpoints, and
//! proofs (made from the data directory; checked with nothing but the files and the key).

use anyhow::{Context, Result, anyhow};
use custos_app::{AuditHead, DataDir, ProofFile};
use std::path::{Path, PathBuf};

/// The audit log tools.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum AuditCommand {
    /// Verify the whole audit log: every entry's hash chain, the append-only triggers, the
    /// Merkle tree stored with it, every signed checkpoint stored with it, and that the head
    /// and the checkpoint recorded in the data directory (`audit.head`, `audit.checkpoint`),
    /// any head given with `--head` and any checkpoint given with `--checkpoint` still match,
    /// so that a cut tail, an emptied log or a log rewritten from scratch is reported.
    Verify {
        /// The data directory.
        #[arg(long, env = "CUSTOS_DATA_DIR", default_value = "custos-data")]
        data_dir: PathBuf,
        /// A head noted earlier, `<sequence number>:<chain hash hex>` (printed by an earlier
        /// verify): the log must still hold that entry, unchanged.
        #[arg(long, value_name = "SEQ:HASH")]
        head: Option<String>,
        /// A signed checkpoint kept earlier (a file: the note as served): the log's first
        /// entries must still have its root. May be given several times.
        #[arg(long, value_name = "FILE")]
        checkpoint: Vec<PathBuf>,
    },
    /// Print the audit log's verifier key (publish it: checkpoints and proofs verify with it).
    Pubkey {
        /// The data directory.
        #[arg(long, env = "CUSTOS_DATA_DIR", default_value = "custos-data")]
        data_dir: PathBuf,
    },
    /// Sign a checkpoint of the log now (if it grew since the last one) and print the latest.
    Checkpoint {
        /// The data directory.
        #[arg(long, env = "CUSTOS_DATA_DIR", default_value = "custos-data")]
        data_dir: PathBuf,
    },
    /// Print a proof (JSON) against the latest signed checkpoint: that entry `--seq` is in
    /// it, or that the log of `--from` entries is a prefix of it.
    Prove {
        /// The data directory.
        #[arg(long, env = "CUSTOS_DATA_DIR", default_value = "custos-data")]
        data_dir: PathBuf,
        /// The entry to prove (its sequence number).
        #[arg(long, conflicts_with = "from", required_unless_present = "from")]
        seq: Option<u64>,
        /// The earlier tree's size for a consistency proof.
        #[arg(long)]
        from: Option<u64>,
    },
    /// Make a witness's key: writes `--out` (mode 0600: the name and the secret seed) and
    /// prints the verifier key to give the logs it witnesses (`[[witnesses]]` in their
    /// configuration).
    WitnessKey {
        /// The witness's name, e.g. `auditor.example.com/witness`.
        #[arg(long)]
        name: String,
        /// The key file to create.
        #[arg(long)]
        out: PathBuf,
    },
    /// Run a witness (C2SP tlog-witness over HTTP: `POST /add-checkpoint`): it cosigns a log's
    /// checkpoint only with a consistency proof from the last one it cosigned, and refuses a
    /// fork or a rollback. Its memory is the state file, written before each cosignature.
    Witness {
        /// The witness's key file (from `witness-key`).
        #[arg(long)]
        key: PathBuf,
        /// Its state file (created if missing).
        #[arg(long)]
        state: PathBuf,
        /// The verifier key of a log to witness (`custos audit pubkey`); repeat for several.
        #[arg(long = "log", value_name = "KEY", required = true)]
        logs: Vec<String>,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8444")]
        listen: std::net::SocketAddr,
    },
    /// Check a proof file offline with the log's verifier key: needs no data directory.
    VerifyProof {
        /// The proof (JSON, as printed by `prove` or served by the API).
        proof: PathBuf,
        /// The log's verifier key, or a file holding it.
        #[arg(long, value_name = "KEY|FILE")]
        key: String,
        /// For a consistency proof: the checkpoint of the earlier tree that you kept.
        #[arg(long, value_name = "FILE")]
        checkpoint: Option<PathBuf>,
    },
}

pub(crate) async fn run(command: AuditCommand) -> Result<()> {
    match command {
        AuditCommand::Verify {
            data_dir,
            head,
            checkpoint,
        } => verify(&data_dir, head.as_deref(), &checkpoint).await,
        AuditCommand::Pubkey { data_dir } => {
            let dir = DataDir::open(&data_dir)?;
            let key = custos_app::LogKey::load(&dir.path(&dir.config.log_key_file))?;
            println!("{}", key.verifier_key());
            Ok(())
        }
        AuditCommand::Checkpoint { data_dir } => {
            let dir = DataDir::open(&data_dir)?;
            let app = dir.open_app().await?;
            app.sign_checkpoint(custos_app::Signing::Now).await?;
            let latest = app.checkpoint_console().await?;
            app.close().await;
            let latest = latest.ok_or_else(|| anyhow!("the audit log is empty"))?;
            dir.record_checkpoint(latest.size, &latest.note)?;
            print!("{}", latest.note);
            Ok(())
        }
        AuditCommand::Prove {
            data_dir,
            seq,
            from,
        } => {
            let app = DataDir::open(&data_dir)?.open_app().await?;
            let proof = match (seq, from) {
                (Some(seq), _) => app
                    .inclusion_proof_console(seq)
                    .await
                    .map(ProofFile::Inclusion),
                (None, Some(from)) => app
                    .consistency_proof_console(from)
                    .await
                    .map(ProofFile::Consistency),
                (None, None) => Err(custos_app::AppError::BadInput("--seq or --from".into())),
            };
            app.close().await;
            println!("{}", serde_json::to_string_pretty(&proof?)?);
            Ok(())
        }
        AuditCommand::WitnessKey { name, out } => {
            let key = custos_app::witness::CosignerKey::generate(&name)?;
            write_secret(&out, &format!("{name} {}\n", hex(&key.seed())))?;
            println!("{}", key.verifier_key());
            Ok(())
        }
        AuditCommand::Witness {
            key,
            state,
            logs,
            listen,
        } => witness(&key, state, &logs, listen).await,
        AuditCommand::VerifyProof {
            proof,
            key,
            checkpoint,
        } => verify_proof(&proof, &key, checkpoint.as_deref()),
    }
}

fn write_secret(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create `{}`", path.display()))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write `{}`", path.display()))
}

async fn witness(
    key: &Path,
    state: PathBuf,
    logs: &[String],
    listen: std::net::SocketAddr,
) -> Result<()> {
    let text = zeroize::Zeroizing::new(read(key)?);
    let bad = || {
        anyhow!(
            "`{}` is not a witness key file (from `custos audit witness-key`)",
            key.display()
        )
    };
    let (name, seed) = text.trim().split_once(' ').ok_or_else(bad)?;
    let mut bytes = [0u8; 32];
    if seed.len() != 64 {
        return Err(bad());
    }
    for (i, byte) in bytes.iter_mut().enumerate() {
        *byte = u8::from_str_radix(seed.get(2 * i..2 * i + 2).ok_or_else(bad)?, 16)
            .map_err(|_| bad())?;
    }
    let cosigner = custos_app::witness::CosignerKey::from_seed(name, &bytes)?;
    let witness = std::sync::Arc::new(custos_server::witness::Witness::open(
        cosigner, state, logs,
    )?);
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    println!(
        "witness {} is serving http://{}/add-checkpoint for {} log(s). Press Ctrl-C to stop.",
        witness.verifier_key(),
        listener.local_addr().context("listening socket")?,
        logs.len()
    );
    axum::serve(listener, custos_server::witness::witness_router(witness))
        .with_graceful_shutdown(crate::stop_signal()?)
        .await
        .context("witness server")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read `{}`", path.display()))
}

fn verify_proof(proof: &Path, key: &str, kept: Option<&Path>) -> Result<()> {
    let key = if Path::new(key).is_file() {
        read(Path::new(key))?.trim().to_owned()
    } else {
        key.to_owned()
    };
    let file: ProofFile = serde_json::from_str(&read(proof)?)
        .with_context(|| format!("`{}` is not a proof file", proof.display()))?;
    match file {
        ProofFile::Inclusion(p) => {
            let checkpoint = p.verify(&key)?;
            println!(
                "proof verified: entry {} is in the log `{}` of {} entries (root {}), signed \
                 by its key",
                p.seq,
                checkpoint.origin,
                checkpoint.size,
                hex(&checkpoint.root)
            );
            println!("{}", p.canonical);
        }
        ProofFile::Export(export) => {
            let checkpoint = export.verify(&key)?;
            println!(
                "export verified: {} entries about {}, each in the log `{}` of {} entries \
                 (root {}), signed by its key",
                export.entries.len(),
                export.scope,
                checkpoint.origin,
                checkpoint.size,
                hex(&checkpoint.root)
            );
        }
        ProofFile::Consistency(p) => {
            let kept = kept.map(read).transpose()?;
            let (old, new) = p.verify(&key, kept.as_deref().map(str::as_bytes))?;
            println!(
                "proof verified: the log `{}` of {} entries ({}) is a prefix of its {} entries \
                 (root {}), both signed by its key",
                new.origin,
                old.size,
                if kept.is_some() {
                    "the checkpoint you kept"
                } else {
                    "the log's own checkpoint"
                },
                new.size,
                hex(&new.root)
            );
        }
    }
    Ok(())
}

async fn verify(data_dir: &Path, head: Option<&str>, checkpoints: &[PathBuf]) -> Result<()> {
    let dir = DataDir::open(data_dir)?;
    let mut known: Vec<AuditHead> = dir.recorded_audit_head()?.into_iter().collect();
    if let Some(head) = head {
        known.push(AuditHead::parse(head)?);
    }
    let mut kept = Vec::new();
    if let Some(note) = dir.recorded_checkpoint()? {
        kept.push((
            format!(
                "the checkpoint recorded in {}",
                custos_app::AUDIT_CHECKPOINT_FILE
            ),
            note,
        ));
    }
    for path in checkpoints {
        kept.push((
            format!("the checkpoint in `{}`", path.display()),
            read(path)?,
        ));
    }
    let app = dir.open_app().await?;
    let report = app
        .verify_audit_log_signed(&known, &kept, dir.recorded_signed_size()?)
        .await;
    app.close().await;
    let report = report?;
    println!(
        "audit log verified: {} entries, hash chain intact, append-only triggers in place, \
         Merkle tree matches, {} signed checkpoints match",
        report.entries, report.checkpoints
    );
    for k in &known {
        println!("  holds the recorded head {}", k.to_line());
    }
    if let Some(head) = report.head {
        println!(
            "  head now: {} (note it elsewhere to check against later)",
            head.to_line()
        );
    }
    Ok(())
}
