//! `pedigree token create`: a bearer token for one actor of the consortium. Only its
//! SHA-256 is kept in `DIR/tokens.json`; the token is printed once, on stdout.

use crate::config::DataDir;
use crate::node::{modules, open_store};
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use ledger::{ActorId, Ledger};
use std::path::PathBuf;

/// `pedigree token ...`
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a bearer token for an actor; prints `{"actor", "token"}`.
    Create(CreateArgs),
}

/// Arguments of `pedigree token create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The peer's data directory.
    #[arg(long)]
    pub data_dir: PathBuf,
    /// The actor, e.g. `city-pharmacy/pharmacist`; with `--patient`, the hospital actor
    /// who issues the patient's token and signs their grants and revocations.
    #[arg(long)]
    pub actor: String,
    /// A patient's token instead: their reference (64 hex digits). It reads only that
    /// patient's consents, documents and access log.
    #[arg(long)]
    pub patient: Option<String>,
}

/// Runs `pedigree token`.
pub fn run(cmd: TokenCommand) -> Result<()> {
    match cmd {
        TokenCommand::Create(a) => create(a),
    }
}

fn create(args: CreateArgs) -> Result<()> {
    let dir = DataDir::open(&args.data_dir)?;
    let actor = ActorId::new(args.actor.clone())
        .map_err(|e| anyhow::anyhow!("{:?} is not an actor id: {e}", args.actor))?;
    let ledger = Ledger::open(open_store(&dir)?, modules()).context("opening the ledger")?;
    let consortium = ledger.consortium();
    match consortium.directory().actor(&actor) {
        None => bail!("UNKNOWN_ACTOR: {actor} is not an actor of the consortium"),
        Some((_, _, a)) if a.revoked => bail!("ACTOR_REVOKED: {actor} was revoked"),
        Some((_, role, _)) if args.patient.is_some() && role != ledger::OrgRole::Hospital => {
            bail!("NOT_A_HOSPITAL: a patient's token is issued by an actor of their hospital")
        }
        Some(_) => {}
    }
    if let Some(text) = &args.patient {
        let patient = ledger::PatientRef::new(text).map_err(|e| anyhow::anyhow!("{e}"))?;
        let token = crate::auth::create_patient(&args.data_dir, &actor, &patient)?;
        println!(
            "{}",
            serde_json::json!({"actor": actor, "patient": true, "token": token})
        );
        return Ok(());
    }
    let token = crate::auth::create(&args.data_dir, std::slice::from_ref(&actor))?
        .pop()
        .expect("one token per actor");
    println!("{}", serde_json::json!({"actor": actor, "token": token}));
    Ok(())
}
