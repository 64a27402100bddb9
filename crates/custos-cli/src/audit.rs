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
        AuditCommand::VerifyProof {
            proof,
            key,
            checkpoint,
        } => verify_proof(&proof, &key, checkpoint.as_deref()),
    }
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
    let report = app.verify_audit_log_with(&known, &kept).await;
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
