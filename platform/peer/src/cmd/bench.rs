//! `pedigree bench`: the workloads behind the performance figures. `ingest` signs events
//! from several actors, then pushes them through the real path (admission with batched
//! signature checks, solo ordering, apply, one SQLite transaction per block with its
//! indexes) and prints one JSON line, including the raw single-core `verify_strict` rate
//! measured in the same run so the figure can be read as a ratio. `--store postgres`
//! runs the same workload against PostgreSQL, so both stores' figures come from one command.
//! `--workload trace` ingests trace events (the fixtures generator's supply chain) through
//! the trace module's full validation instead of the core's anchor events, and
//! `--workload both` runs the two in one invocation and prints their ratio.

use crate::cmd::init::init_demo;
use crate::config::{DataDir, StoreConfig};
use crate::node::{Node, modules, open_store};
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use ledger::hash::sha256;
use ledger::{Envelope, Ledger, SecretKey, Signer, Store};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// `pedigree bench ...`
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Ingest N signed events into a data directory and report throughput and latency.
    Ingest(IngestArgs),
    /// `verify` over HTTP at a fixed rate, alone and while ingest runs; latency percentiles.
    Verify(crate::cmd::bench_verify::VerifyArgs),
    /// Replicated ingest across a raft network of peer processes against one solo peer.
    Network(crate::cmd::bench_network::NetworkArgs),
    /// Recall alert latency at every holder's own peer, across a raft network of peers.
    Recall(crate::cmd::bench_recall::RecallArgs),
}

/// Arguments of `pedigree bench ingest`.
#[derive(Debug, Args)]
pub struct IngestArgs {
    /// How many events.
    #[arg(long, default_value_t = 100_000)]
    pub events: usize,
    /// Data directory (the demo consortium is created there when it is empty).
    #[arg(long)]
    pub data_dir: PathBuf,
    /// How many actors sign (each keeps its own nonce order).
    #[arg(long, default_value_t = 8)]
    pub actors: usize,
    /// Events per submission.
    #[arg(long, default_value_t = 50)]
    pub batch: usize,
    /// Submitting threads (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Submissions in flight per thread.
    #[arg(long, default_value_t = 8)]
    pub in_flight: usize,
    /// Offered load in events per second (default: as fast as the peer takes them).
    /// Commit latency is only meaningful at a stated load.
    #[arg(long)]
    pub rate: Option<f64>,
    /// Which store a new data directory gets.
    #[arg(long, value_enum, default_value_t = StoreKind::Sqlite)]
    pub store: StoreKind,
    /// PostgreSQL URL for `--store postgres` (default: the `DATABASE_URL` variable).
    #[arg(long)]
    pub database_url: Option<String>,
    /// PostgreSQL schema for a new data directory (default: a fresh `pedigree_bench_*`).
    #[arg(long)]
    pub schema: Option<String>,
    /// What to ingest: the core's anchor events, trace events through the trace module's
    /// full validation, or both in one run (`DIR/anchor`, `DIR/trace`) with their ratio.
    #[arg(long, value_enum, default_value_t = Workload::Anchor)]
    pub workload: Workload,
}

/// The event mixes `bench ingest` can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Workload {
    /// Anchor events: signature, nonce and a one-key rule (the core's own figure).
    Anchor,
    /// Trace events from the fixtures generator, every custody rule checked twice.
    Trace,
    /// Both, one after the other, and the trace-to-core ratio.
    Both,
}

impl Workload {
    fn name(self) -> &'static str {
        match self {
            Self::Anchor => "anchor",
            Self::Trace => "trace",
            Self::Both => "both",
        }
    }
}

/// The stores the bench can run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StoreKind {
    /// The embedded SQLite file.
    Sqlite,
    /// A PostgreSQL database.
    Postgres,
}

impl StoreKind {
    fn of(config: &StoreConfig) -> Self {
        match config {
            StoreConfig::Sqlite { .. } => Self::Sqlite,
            StoreConfig::Postgres { .. } => Self::Postgres,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

/// Moves a freshly made demo data directory from its SQLite file to PostgreSQL: the chain
/// (just genesis) is copied through the ledger, then `peer.toml` names the new store.
fn move_to_postgres(args: &IngestArgs, data_dir: &Path) -> Result<String> {
    let url = args
        .database_url
        .clone()
        .or_else(|| std::env::var("DATABASE_URL").ok())
        .context("--store postgres needs --database-url URL (or DATABASE_URL)")?;
    let schema = args
        .schema
        .clone()
        .unwrap_or_else(|| format!("pedigree_bench_{:012x}", rand::random::<u64>() >> 16));
    let dir = DataDir::open(data_dir)?;
    let sqlite_file = dir.store_path();
    let mut config = dir.config.clone();
    config.store = StoreConfig::Postgres {
        url,
        schema: Some(schema.clone()),
    };
    {
        let source = Ledger::open(open_store(&dir)?, modules())?;
        let target = open_store(&DataDir {
            root: dir.root.clone(),
            config: config.clone(),
        })?;
        crate::cmd::transfer::copy_chain(&source, target)?;
    }
    DataDir::write(data_dir, &config)?;
    if let Some(file) = sqlite_file {
        for suffix in ["", "-wal", "-shm"] {
            let mut p = file.clone().into_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(p);
        }
    }
    Ok(schema)
}

/// Runs a benchmark.
pub fn run(cmd: BenchCommand) -> Result<()> {
    match cmd {
        BenchCommand::Ingest(args) => ingest(args),
        BenchCommand::Verify(args) => crate::cmd::bench_verify::run(args),
        BenchCommand::Network(args) => crate::cmd::bench_network::run(args),
        BenchCommand::Recall(args) => crate::cmd::bench_recall::run(args),
    }
}

/// `verify_strict` calls per second of this thread's CPU time, on event-sized messages.
/// CPU time, not wall time, so other load on the machine does not skew the figure.
fn raw_verify_rate() -> f64 {
    let key = SecretKey::from_seed(&[9; 32]);
    let msgs: Vec<Vec<u8>> = (0..512u32)
        .map(|i| sha256(&i.to_be_bytes()).to_hex().repeat(5).into_bytes())
        .collect();
    let sigs: Vec<_> = msgs.iter().map(|m| key.sign(m)).collect();
    let public = key.public();
    let cpu = cpu_time::ThreadTime::now();
    let started = Instant::now();
    let mut n = 0usize;
    while started.elapsed() < Duration::from_millis(800) {
        for (m, s) in msgs.iter().zip(&sigs) {
            assert!(public.verify(m, s));
        }
        n += msgs.len();
    }
    n as f64 / cpu.elapsed().as_secs_f64()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn ingest(args: IngestArgs) -> Result<()> {
    if args.events == 0 || args.actors == 0 || args.batch == 0 {
        bail!("--events, --actors and --batch must be at least 1");
    }
    match args.workload {
        Workload::Anchor | Workload::Trace => {
            println!("{}", ingest_one(&args, args.workload, &args.data_dir)?);
        }
        Workload::Both => {
            // Same run, same settings, one data directory each: the core's own workload,
            // then trace events through full validation.
            let core = ingest_one(&args, Workload::Anchor, &args.data_dir.join("anchor"))?;
            println!("{core}");
            let trace = ingest_one(&args, Workload::Trace, &args.data_dir.join("trace"))?;
            println!("{trace}");
            let ratio = |field: &str| {
                trace[field].as_f64().unwrap_or(0.0) / core[field].as_f64().unwrap_or(f64::NAN)
            };
            println!(
                "{}",
                json!({
                    "bench": "ingest_compare",
                    "trace_to_core_per_cpu_second": ratio("events_per_cpu_second"),
                    "trace_to_core_per_second": ratio("events_per_sec"),
                    "target": 0.8,
                })
            );
        }
    }
    Ok(())
}

/// Signed events to ingest, per submitting thread, each thread's lists in the order
/// they must be admitted.
struct Prepared {
    work: Vec<Vec<Vec<Envelope>>>,
    batch: usize,
    in_flight: usize,
}

/// Anchor events (the core's own workload): each actor's events on its own, the actors
/// spread over `threads`.
fn anchor_work(args: &IngestArgs, node: &Node, threads: usize) -> Result<Prepared> {
    let signers: Vec<Arc<Signer>> = node.signers.values().take(args.actors).cloned().collect();
    if signers.len() < args.actors {
        bail!(
            "only {} custodial actors in this data directory",
            signers.len()
        );
    }
    let run_tag = sha256(&now_ms().to_be_bytes()).to_hex();
    let mut per_actor: Vec<Vec<Envelope>> = vec![Vec::new(); signers.len()];
    for i in 0..args.events {
        let a = i % signers.len();
        let digest = sha256(format!("{run_tag}/{i}").as_bytes());
        per_actor[a].push(signers[a].event(
            "anchor",
            "anchor",
            json!({"digest": digest, "reference": format!("shipment-{}", i / 50), "category": "reading"}),
        ));
    }
    // Each thread owns some actors, so each actor's nonces arrive in order.
    let mut work: Vec<Vec<Vec<Envelope>>> = vec![Vec::new(); threads];
    for (a, events) in per_actor.into_iter().enumerate() {
        work[a % threads].push(events);
    }
    Ok(Prepared {
        work,
        batch: args.batch,
        in_flight: args.in_flight,
    })
}

/// Trace events (the fixtures generator: commission, pack, two hops of ship and receive,
/// unpack, dispense; 20 packs a case), every one through the trace module's rules at
/// admission and at apply. They depend on each other across actors, so one thread submits
/// them in order; a case's next event comes a whole round of cases later, and the window
/// of submissions in flight is kept shorter than that round, so what an event needs is
/// committed before it is admitted. That one thread keeps as many submissions in flight
/// as all of the anchor workload's `threads` together, so both offer the orderer the same
/// window (a smaller one cuts smaller blocks, and each block costs a commit).
fn trace_work(args: &IngestArgs, threads: usize) -> Prepared {
    const CASE: usize = 20;
    const HOPS: usize = 2;
    let per_case = 2 + 2 * HOPS + 1 + CASE;
    let cases = args.events.div_ceil(per_case).max(1);
    let demo = fixtures::demo(&fixtures::PeerLayout::Single {
        endpoint: "http://127.0.0.1:0".into(),
    });
    let start = now_ms();
    let config = fixtures::generator::Config {
        items: cases * CASE,
        hops: HOPS,
        case_size: CASE,
        block_size: usize::MAX,
        // a new seed per run keeps serials and SSCCs new in a reused directory
        seed: start as u64,
        start_ms: start,
    };
    let events: Vec<Envelope> = fixtures::generator::generate(&demo, &config)
        .blocks
        .into_iter()
        .flatten()
        .collect();
    let batch = args.batch.min(cases).max(1);
    let in_flight = (args.in_flight * threads).min(cases / batch).max(1);
    Prepared {
        work: vec![vec![events]],
        batch,
        in_flight,
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// What a run of submissions measured.
struct Driven {
    seconds: f64,
    cpu_seconds: f64,
    latencies: Vec<f64>,
    refused: usize,
}

/// Pushes prepared events through admission and the orderer, `in_flight` submissions of
/// `batch` events at a time per thread, paced to `rate` when given.
fn drive(node: &Node, prepared: Prepared, rate: Option<f64>) -> Driven {
    let threads = prepared.work.len();
    let (batch, in_flight) = (prepared.batch, prepared.in_flight.max(1));
    let latencies = Arc::new(parking_lot::Mutex::new(Vec::<f64>::new()));
    let refused = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let cpu = cpu_time::ProcessTime::now();
    std::thread::scope(|scope| {
        for mine in prepared.work {
            let ledger = node.ledger.clone();
            let orderer = node.orderer.clone();
            let latencies = latencies.clone();
            let refused = refused.clone();
            let (slot_tx, slot_rx) = crossbeam_channel::bounded::<()>(in_flight);
            // Each thread paces its share of the offered load.
            let interval =
                rate.map(|r| Duration::from_secs_f64(batch as f64 * threads as f64 / r.max(1.0)));
            scope.spawn(move || {
                let mut next_send = Instant::now();
                let mut chunks: Vec<std::vec::IntoIter<Envelope>> =
                    mine.into_iter().map(Vec::into_iter).collect();
                loop {
                    let mut progressed = false;
                    for events in chunks.iter_mut() {
                        let chunk: Vec<Envelope> = events.by_ref().take(batch).collect();
                        if chunk.is_empty() {
                            continue;
                        }
                        progressed = true;
                        if let Some(interval) = interval {
                            let now = Instant::now();
                            if next_send > now {
                                std::thread::sleep(next_send - now);
                            }
                            next_send += interval;
                        }
                        slot_tx.send(()).expect("slot channel open");
                        let t0 = Instant::now();
                        let admitted: Vec<_> = ledger
                            .admit(chunk)
                            .into_iter()
                            .filter_map(|a| {
                                a.map_err(|_| refused.fetch_add(1, Ordering::Relaxed)).ok()
                            })
                            .collect();
                        if admitted.is_empty() {
                            let _ = slot_rx.recv();
                            continue;
                        }
                        let latencies = latencies.clone();
                        let slot_rx = slot_rx.clone();
                        let refused = refused.clone();
                        orderer.submit(
                            admitted,
                            Box::new(move |r| {
                                match r {
                                    Ok(receipt) => {
                                        let bad = receipt
                                            .results
                                            .iter()
                                            .filter(|(_, c)| c.is_some())
                                            .count();
                                        refused.fetch_add(bad, Ordering::Relaxed);
                                    }
                                    Err(_) => {
                                        refused.fetch_add(1, Ordering::Relaxed);
                                    }
                                }
                                latencies.lock().push(t0.elapsed().as_secs_f64() * 1000.0);
                                let _ = slot_rx.recv();
                            }),
                        );
                    }
                    if !progressed {
                        break;
                    }
                }
                // wait for this thread's submissions to finish
                for _ in 0..in_flight {
                    slot_tx.send(()).expect("slot channel open");
                }
            });
        }
    });
    let mut lat = latencies.lock().clone();
    lat.sort_by(f64::total_cmp);
    Driven {
        seconds: started.elapsed().as_secs_f64(),
        cpu_seconds: cpu.elapsed().as_secs_f64(),
        latencies: lat,
        refused: refused.load(Ordering::Relaxed),
    }
}

/// One workload into one data directory; its JSON report.
fn ingest_one(args: &IngestArgs, workload: Workload, data_dir: &Path) -> Result<Value> {
    let fresh = !DataDir::exists(data_dir);
    if fresh {
        init_demo(data_dir, "127.0.0.1:0")?;
        if args.store == StoreKind::Postgres {
            move_to_postgres(args, data_dir)?;
        }
    }
    let dir = DataDir::open(data_dir)?;
    let kind = StoreKind::of(&dir.config.store);
    if kind != args.store {
        bail!(
            "{} already holds a {} store; use an empty directory for --store {}",
            data_dir.display(),
            kind.name(),
            args.store.name()
        );
    }
    let schema = match &dir.config.store {
        StoreConfig::Postgres { schema, .. } => schema.clone(),
        StoreConfig::Sqlite { .. } => None,
    };
    let node = Node::start(dir)?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = args.threads.unwrap_or(cores).max(1);
    let verify_rate = raw_verify_rate();

    // Sign up front: signing is the clients' work, not the peer's.
    let sign_started = Instant::now();
    let prepared = match workload {
        Workload::Trace => trace_work(args, threads),
        _ => anchor_work(args, &node, threads)?,
    };
    let sign_seconds = sign_started.elapsed().as_secs_f64();
    let all = || prepared.work.iter().flatten().flatten();
    let events = all().count();
    let raw_bytes: usize = all().map(Envelope::raw_len).sum();
    // The whole event (signature included) in RFC 8785 form: what "event bytes" means in
    // the storage figure.
    let wire_bytes: usize = all()
        .map(|e| serde_json_canonicalizer::to_vec(&e.to_json_value()).map_or(0, |b| b.len()))
        .sum();
    let (batch, in_flight, submitters) = (prepared.batch, prepared.in_flight, prepared.work.len());
    let size_before = node.ledger.store().size()?.bytes;
    let height_before = node.ledger.head().height;

    let driven = drive(&node, prepared, args.rate);
    let head = node.ledger.head();
    let store = node.ledger.store().clone();
    drop(node);
    let store_bytes = match DataDir::open(data_dir)?.store_path() {
        Some(path) => {
            drop(store);
            let s = ledger::SqliteStore::open(path)?;
            s.checkpoint()?;
            s.size()?.bytes
        }
        None => store.size()?.bytes,
    };
    let lat = &driven.latencies;
    let rate = events as f64 / driven.seconds;
    // Events per second of CPU time spent by the whole peer process (all its threads):
    // the per-core rate, robust to whatever else runs on the machine.
    let per_core = events as f64 / driven.cpu_seconds;
    let added = store_bytes.saturating_sub(if fresh { 0 } else { size_before });
    Ok(json!({
        "bench": "ingest",
        "workload": workload.name(),
        "store": kind.name(),
        "schema": schema,
        "events": events,
        "refused": driven.refused,
        "seconds": driven.seconds,
        "events_per_sec": rate,
        "cores": cores,
        "submitting_threads": submitters,
        "batch": batch,
        "in_flight": in_flight,
        "cpu_seconds": driven.cpu_seconds,
        "events_per_cpu_second": per_core,
        "blocks": head.height - height_before,
        "commit_latency_ms": {"p50": percentile(lat, 50.0), "p99": percentile(lat, 99.0), "max": lat.last().copied().unwrap_or(0.0)},
        "verify_strict_per_cpu_second": verify_rate,
        "ratio_per_core_to_verify": per_core / verify_rate,
        "sign_seconds": sign_seconds,
        "store_bytes": store_bytes,
        "offered_rate": args.rate,
        "canonical_event_bytes": wire_bytes,
        "signed_bytes_plus_signature": raw_bytes,
        "storage_ratio": added as f64 / wire_bytes as f64,
        "storage_ratio_to_signed_bytes_plus_signature": added as f64 / raw_bytes as f64,
        "fresh_store": fresh,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small run of each workload `bench ingest --workload both` measures: what it
    /// generates is valid (nothing refused) and all of it is committed. The figures
    /// themselves are not checked here; they are for benchmarks.
    #[test]
    fn each_ingest_workload_commits_all_it_generates() {
        for workload in [Workload::Anchor, Workload::Trace] {
            let dir = tempfile::tempdir().expect("tempdir");
            let args = IngestArgs {
                events: 270,
                data_dir: dir.path().join("peer"),
                actors: 2,
                batch: 10,
                threads: Some(1),
                in_flight: 2,
                rate: None,
                store: StoreKind::Sqlite,
                database_url: None,
                schema: None,
                workload,
            };
            let out = ingest_one(&args, workload, &args.data_dir).expect("bench ingest");
            assert_eq!(out["workload"], workload.name(), "{out}");
            assert_eq!(out["refused"], 0, "{out}");
            let events = out["events"].as_u64().expect("events");
            assert!(events >= 270, "{out}");
            assert!(out["store_bytes"].as_u64().is_some_and(|b| b > 0), "{out}");
        }
    }
}
