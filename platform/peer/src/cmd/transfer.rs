//! `pedigree export` and `pedigree import`: copy a whole chain between stores (SQLite to
//! PostgreSQL or back) as JSON lines, one block per line, genesis first, in the same form
//! peers send blocks to each other. Import commits every block through the ledger, so
//! each one is re-verified (orderer signature, links, Merkle root, every event signature)
//! and its state re-applied; nothing is copied blindly.

use crate::config::DataDir;
use crate::node::{modules, open_store};
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use ledger::{Block, Ledger, Store};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::PathBuf;
use std::sync::Arc;

/// `pedigree export` and `pedigree import` (flattened into the top-level commands).
#[derive(Debug, Subcommand)]
pub enum TransferCommand {
    /// Write a data directory's whole chain as JSON lines of blocks, genesis first.
    Export(ExportArgs),
    /// Commit a chain written by `pedigree export` into a data directory's store,
    /// re-verifying every block.
    Import(ImportArgs),
}

/// Runs `pedigree export` or `pedigree import`.
pub fn run(cmd: TransferCommand) -> Result<()> {
    match cmd {
        TransferCommand::Export(a) => export(a),
        TransferCommand::Import(a) => import(a),
    }
}

/// Arguments of `pedigree export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The data directory whose chain is exported.
    #[arg(long)]
    pub data_dir: PathBuf,
    /// Where to write the blocks (JSON lines; `-` for standard output).
    #[arg(short = 'o', long = "output")]
    pub output: PathBuf,
}

/// Arguments of `pedigree import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The data directory to import into (its `peer.toml` names the store; the store must
    /// be empty or hold a beginning of the same chain).
    #[arg(long)]
    pub data_dir: PathBuf,
    /// The blocks, as written by `pedigree export` (`-` for standard input).
    pub file: PathBuf,
}

/// Runs `pedigree export`.
pub fn export(args: ExportArgs) -> Result<()> {
    let dir = DataDir::open(&args.data_dir)?;
    let ledger = Ledger::open(open_store(&dir)?, modules()).context("opening the ledger")?;
    let out: Box<dyn Write> = if args.output.as_os_str() == "-" {
        Box::new(std::io::stdout().lock())
    } else {
        Box::new(
            std::fs::File::create(&args.output)
                .with_context(|| format!("cannot create {}", args.output.display()))?,
        )
    };
    let mut out = BufWriter::new(out);
    let (blocks, events) = write_blocks(&ledger, &mut out)?;
    out.flush().context("writing the export")?;
    drop(out);
    if args.output.as_os_str() != "-" {
        let head = ledger.head();
        println!(
            "{}",
            json!({"exported": blocks, "events": events, "head_height": head.height, "head_hash": head.hash})
        );
    }
    Ok(())
}

/// Writes every block of `ledger`, genesis first, one JSON line each. Returns the number
/// of blocks and events written.
pub fn write_blocks(ledger: &Ledger, out: &mut impl Write) -> Result<(u64, u64)> {
    let head = ledger.head();
    let mut events = 0u64;
    for height in 0..=head.height {
        let block = ledger
            .block(height)?
            .with_context(|| format!("block {height} is missing from the store"))?;
        events += block.events.len() as u64;
        serde_json::to_writer(&mut *out, &block.to_json_value())?;
        out.write_all(b"\n")?;
    }
    Ok((head.height + 1, events))
}

/// Commits `blocks` (genesis first) into `store` through the ledger. A store that already
/// holds the first blocks of the same chain is continued (its blocks must match); any
/// other chain is refused. Returns the ledger and the number of blocks committed.
pub fn import_blocks(
    store: Arc<dyn Store>,
    blocks: impl Iterator<Item = Result<Block>>,
) -> Result<(Ledger, u64)> {
    let mut ledger = match store.head()? {
        Some(_) => Some(Ledger::open(store.clone(), modules()).context("opening the ledger")?),
        None => None,
    };
    let mut committed = 0;
    for (n, block) in blocks.enumerate() {
        let block = block?;
        let height = block.header.height;
        match &ledger {
            None if height == 0 => {
                ledger = Some(
                    Ledger::init(store.clone(), modules(), block)
                        .context("committing the genesis block")?,
                );
            }
            None => bail!("the first block must be genesis, found block {height} first"),
            Some(l) if height <= l.head().height => {
                let stored = l.block(height)?.map(|b| b.hash());
                if stored != Some(block.hash()) {
                    bail!(
                        "the store already holds a different block {height}: it holds another chain"
                    );
                }
                continue;
            }
            Some(l) => {
                l.commit_block(block)
                    .with_context(|| format!("block {height} (line {}) was refused", n + 1))?;
            }
        }
        committed += 1;
    }
    let ledger = ledger.context("there were no blocks to import")?;
    Ok((ledger, committed))
}

/// Copies `source`'s whole chain into `target` through the ledger (see [`import_blocks`]).
pub fn copy_chain(source: &Ledger, target: Arc<dyn Store>) -> Result<Ledger> {
    let head = source.head().height;
    let blocks = (0..=head).map(|h| {
        source
            .block(h)?
            .with_context(|| format!("block {h} is missing from the source"))
    });
    Ok(import_blocks(target, blocks)?.0)
}

/// Runs `pedigree import`.
pub fn import(args: ImportArgs) -> Result<()> {
    let dir = DataDir::open(&args.data_dir)?;
    let input: Box<dyn BufRead> = if args.file.as_os_str() == "-" {
        Box::new(BufReader::new(std::io::stdin().lock()))
    } else {
        Box::new(BufReader::new(
            std::fs::File::open(&args.file)
                .with_context(|| format!("cannot read {}", args.file.display()))?,
        ))
    };
    let blocks = input
        .lines()
        .enumerate()
        .filter(|(_, l)| l.as_ref().map_or(true, |l| !l.trim().is_empty()))
        .map(|(i, line)| {
            let line = line.context("reading the import file")?;
            let value: Value = serde_json::from_str(&line)
                .with_context(|| format!("line {} is not JSON", i + 1))?;
            Block::from_json_value(value).map_err(|r| anyhow::anyhow!("line {}: {r}", i + 1))
        });
    let started = std::time::Instant::now();
    let (ledger, committed) = import_blocks(open_store(&dir)?, blocks)?;
    let head = ledger.head();
    println!(
        "{}",
        json!({
            "imported": committed,
            "head_height": head.height,
            "head_hash": head.hash,
            "seconds": started.elapsed().as_secs_f64(),
        })
    );
    Ok(())
}
