//! `pedigree keys`: make and inspect ed25519 keys.

use crate::config::{read_key, write_key};
use anyhow::{Result, bail};
use clap::Subcommand;
use ledger::SecretKey;
use std::path::PathBuf;

/// `pedigree keys ...`
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Generates a new key into a PKCS#8 PEM file (mode 0600) and prints its public key.
    Generate {
        /// The file to write; refused if it exists.
        #[arg(long, short = 'o')]
        out: PathBuf,
    },
    /// Prints the public key of a key file.
    Show {
        /// The key file.
        file: PathBuf,
    },
}

/// Runs `pedigree keys`.
pub fn run(cmd: KeysCommand) -> Result<()> {
    match cmd {
        KeysCommand::Generate { out } => {
            if out.exists() {
                bail!("{} exists; refusing to overwrite a key", out.display());
            }
            let key = SecretKey::generate();
            write_key(&out, &key)?;
            println!(
                "{}",
                serde_json::json!({"file": out, "public_key": key.public()})
            );
        }
        KeysCommand::Show { file } => {
            let key = read_key(&file)?;
            println!(
                "{}",
                serde_json::json!({"file": file, "public_key": key.public()})
            );
        }
    }
    Ok(())
}
