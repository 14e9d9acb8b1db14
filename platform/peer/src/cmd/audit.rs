//! `pedigree audit --data-dir DIR`: verify everything stored; exit 1 on any fault.

use crate::config::DataDir;
use crate::node::{modules, open_store};
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `pedigree audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// The peer's data directory.
    #[arg(long)]
    pub data_dir: PathBuf,
}

/// Runs the audit and prints its report as JSON.
pub fn run(args: AuditArgs) -> Result<ExitCode> {
    let dir = DataDir::open(&args.data_dir)?;
    let store = open_store(&dir)?;
    let started = std::time::Instant::now();
    let report = ledger::audit::audit(store.as_ref(), &modules())?;
    let mut json = serde_json::to_value(&report)?;
    json["ok"] = report.ok().into();
    json["seconds"] = started.elapsed().as_secs_f64().into();
    println!("{}", serde_json::to_string_pretty(&json)?);
    if report.ok() {
        Ok(ExitCode::SUCCESS)
    } else {
        for f in &report.faults {
            eprintln!(
                "fault {} at block {} event {}: {}",
                f.code,
                f.height.map_or("-".into(), |h| h.to_string()),
                f.event.as_deref().unwrap_or("-"),
                f.message
            );
        }
        Ok(ExitCode::from(1))
    }
}
