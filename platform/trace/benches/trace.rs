//! `verify` and `provenance` on a store holding many trace events, built with the
//! fixtures generator (commission → pack → M hops of ship/receive → unpack → dispense),
//! block by block so that memory stays bounded whatever the size. Prints ingest
//! throughput and p50/p95 latencies, then hands the same calls to criterion. Size:
//! `TRACE_BENCH_ITEMS` (default 20000 packs), `TRACE_BENCH_HOPS` (default 10).
//! `TRACE_BENCH_DIR=<dir>` keeps the SQLite store in `<dir>` and reuses it on later runs
//! with the same size (it refuses one built otherwise), so a large store is built once.
//! `TRACE_BENCH_STORE=postgres` runs the same on PostgreSQL (`DATABASE_URL`, default the
//! local `test` database) in a fresh schema dropped afterwards.
#![allow(missing_docs)] // criterion_group! generates an undocumented public fn

use criterion::{Criterion, criterion_group, criterion_main};
use fixtures::generator::{Config, Plan};
use fixtures::{PeerLayout, demo};
use ledger::{Block, Ledger, Modules, OrgId, SqliteStore, Store};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use store_postgres::PgStore;
use trace::{BlockCache, Trace, Verdict, provenance, provenance_cached, verify};

const T0: i64 = 1_767_225_600_000;

struct Bench {
    ledger: Arc<Ledger>,
    plan: Plan,
    events: usize,
    pg: Option<Arc<PgStore>>,
    _dir: Option<tempfile::TempDir>,
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// What a kept store was built with, written beside it once its last block is in.
fn describe(config: &Config, events: usize) -> serde_json::Value {
    serde_json::json!({
        "items": config.items,
        "hops": config.hops,
        "case_size": config.case_size,
        "block_size": config.block_size,
        "seed": config.seed,
        "start_ms": config.start_ms,
        "events": events,
    })
}

const KEPT_STORE: &str = "trace-bench.sqlite";
const KEPT_CONFIG: &str = "trace-bench.json";

/// The store kept in `TRACE_BENCH_DIR`, if it was built with `config`; `None` when the
/// directory holds none. Panics (with what to do) on a store built otherwise or left
/// half built.
fn kept_store(dir: &Path, config: &Config, events: usize) -> Option<Arc<SqliteStore>> {
    let store = dir.join(KEPT_STORE);
    let described = dir.join(KEPT_CONFIG);
    match std::fs::read(&described) {
        Ok(bytes) => {
            let kept: serde_json::Value = serde_json::from_slice(&bytes)
                .unwrap_or_else(|e| panic!("{} does not parse: {e}", described.display()));
            let wanted = describe(config, events);
            assert!(
                kept == wanted,
                "{} holds a store built with {kept}, not {wanted}: set TRACE_BENCH_ITEMS and \
                 TRACE_BENCH_HOPS as it was built, or use another TRACE_BENCH_DIR (or delete \
                 {} and {})",
                dir.display(),
                KEPT_STORE,
                KEPT_CONFIG
            );
            assert!(
                store.exists(),
                "{} describes a store but {} is missing: delete it and build again",
                described.display(),
                store.display()
            );
            Some(Arc::new(SqliteStore::open(&store).expect("kept store")))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            assert!(
                !store.exists(),
                "{} exists without {KEPT_CONFIG}: its build did not finish; delete it (and its \
                 -wal and -shm files) to build again",
                store.display()
            );
            None
        }
        Err(e) => panic!("reading {}: {e}", described.display()),
    }
}

fn build() -> Bench {
    let d = demo(&PeerLayout::Single {
        endpoint: "http://127.0.0.1:1".into(),
    });
    let config = Config {
        items: env("TRACE_BENCH_ITEMS", 20_000),
        hops: env("TRACE_BENCH_HOPS", 10),
        case_size: 20,
        block_size: 500,
        seed: 42,
        start_ms: T0 + 1_000,
    };
    let plan = Plan::new(&config);
    let events = plan.events();
    let keep = std::env::var_os("TRACE_BENCH_DIR").map(PathBuf::from);
    let pg = (std::env::var("TRACE_BENCH_STORE").as_deref() == Ok("postgres")).then(|| {
        assert!(
            keep.is_none(),
            "TRACE_BENCH_DIR keeps SQLite stores only; unset it for PostgreSQL"
        );
        let url = std::env::var("DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let schema = format!("trace_bench_{}", std::process::id());
        println!("store: PostgreSQL, schema {schema}");
        Arc::new(PgStore::open(&url, Some(&schema)).expect("PostgreSQL store"))
    });
    let modules = || Modules::new().with(Trace);
    if let Some(dir) = &keep
        && let Some(store) = kept_store(dir, &config, events)
    {
        println!(
            "store: SQLite, kept in {} ({events} events, {} packs, {} hops)",
            dir.display(),
            config.items,
            config.hops
        );
        let ledger = Arc::new(Ledger::open(store, modules()).expect("open kept store"));
        return Bench {
            ledger,
            plan,
            events,
            pg,
            _dir: None,
        };
    }
    let (dir, path) = match &keep {
        Some(dir) => {
            std::fs::create_dir_all(dir).expect("TRACE_BENCH_DIR");
            (None, dir.join(KEPT_STORE))
        }
        None => {
            let tmp = tempfile::tempdir().expect("tempdir");
            let path = tmp.path().join("bench.sqlite");
            (Some(tmp), path)
        }
    };
    let (store, sqlite): (Arc<dyn Store>, _) = match &pg {
        Some(pg) => (pg.clone(), None),
        None => {
            println!("store: SQLite, {}", path.display());
            let sqlite = Arc::new(SqliteStore::open(&path).expect("store"));
            (sqlite.clone(), Some(sqlite))
        }
    };
    let ledger = Arc::new(Ledger::init(store, modules(), d.genesis(T0)).expect("init"));
    let peer = &d.consortium.peers[0];
    let started = Instant::now();
    let mut refused = 0;
    let mut blocks = 0;
    let mut signing = Duration::ZERO;
    let mut stream = plan.blocks(&d);
    loop {
        let signed = Instant::now();
        let Some(events) = stream.next() else { break };
        signing += signed.elapsed();
        let head = ledger.head();
        let time = events
            .last()
            .map_or(head.time, |e| e.body().created_at)
            .max(head.time);
        let block = Block::seal(
            head.height + 1,
            head.hash,
            time,
            peer.id.clone(),
            &d.peer_keys[&peer.id],
            events,
        );
        let notice = ledger.commit_block(block).expect("commit");
        refused += notice.results.iter().filter(|r| r.1.is_some()).count();
        blocks += 1;
        if blocks % 2_000 == 0 {
            println!("  {blocks} blocks after {:.0?}", started.elapsed());
        }
    }
    let took = started.elapsed() - signing;
    assert_eq!(refused, 0, "the generated workload is valid");
    println!(
        "store: {events} events in {blocks} blocks ({} packs, {} hops); generated and signed \
         in {:.1?}, committed (signatures checked, rules applied, indexed) in {:.1?} = {:.0} \
         events/s",
        config.items,
        config.hops,
        signing,
        took,
        events as f64 / took.as_secs_f64()
    );
    if let (Some(dir), Some(sqlite)) = (&keep, &sqlite) {
        sqlite.checkpoint().expect("checkpoint");
        let described = serde_json::to_vec_pretty(&describe(&config, events)).expect("json");
        std::fs::write(dir.join(KEPT_CONFIG), described).expect("writing the store's config");
        println!("store: kept in {} for later runs", dir.display());
    }
    Bench {
        ledger,
        plan,
        events,
        pg,
        _dir: dir,
    }
}

fn percentiles(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
    println!(
        "{name}: n={} p50={:.1?} p95={:.1?} p99={:.1?} max={:.1?}",
        samples.len(),
        at(0.50),
        at(0.95),
        at(0.99),
        samples[samples.len() - 1]
    );
}

/// Codes to ask about: a stride through the items, so calls spread over the store; made
/// up front so that timings do not include making them.
fn picks(b: &Bench) -> Vec<String> {
    (0..20_000)
        .map(|i| b.plan.item((i * 7919) % b.plan.items()))
        .collect()
}

fn benches(c: &mut Criterion) {
    let b = build();
    let picks = picks(&b);
    let pick = |i: usize| picks[i % picks.len()].as_str();
    let pharmacy = OrgId::new("city-pharmacy").expect("org");
    let now = T0 + 86_400_000;
    let sample = |f: &dyn Fn(usize)| -> Vec<Duration> {
        (0..2_000)
            .map(|i| {
                let t = Instant::now();
                f(i);
                t.elapsed()
            })
            .collect()
    };
    let v = sample(&|i| {
        let r = verify(&b.ledger, pick(i), &pharmacy, now).expect("verify");
        assert_eq!(r.verdict, Verdict::AlreadyDispensed);
    });
    percentiles(&format!("verify ({} events)", b.events), v);
    let p = sample(&|i| {
        let p = provenance(&b.ledger, pick(i)).expect("provenance");
        assert!(p.events.len() >= 6);
    });
    percentiles(&format!("provenance, cold ({} events)", b.events), p);
    let cache = BlockCache::new(100_000);
    let p = sample(&|i| {
        let p = provenance_cached(&b.ledger, pick(i), &cache).expect("provenance");
        assert!(p.events.len() >= 6);
    });
    percentiles(&format!("provenance, block cache ({} events)", b.events), p);
    let scan = format!("https://id.gs1.org{}", digital_link_path(pick(3)));
    let r = verify(&b.ledger, &scan, &pharmacy, now).expect("verify");
    assert_eq!(r.verdict, Verdict::AlreadyDispensed, "{scan}");

    let mut g = c.benchmark_group("trace");
    let mut i = 0;
    g.bench_function("verify", |bench| {
        bench.iter(|| {
            i += 1;
            black_box(verify(&b.ledger, pick(i), &pharmacy, now).expect("verify"))
        })
    });
    g.bench_function("verify_digital_link", |bench| {
        bench.iter(|| black_box(verify(&b.ledger, &scan, &pharmacy, now).expect("verify")))
    });
    g.bench_function("provenance", |bench| {
        bench.iter(|| {
            i += 1;
            black_box(provenance(&b.ledger, pick(i)).expect("provenance"))
        })
    });
    g.bench_function("provenance_block_cache", |bench| {
        bench.iter(|| {
            i += 1;
            black_box(provenance_cached(&b.ledger, pick(i), &cache).expect("provenance"))
        })
    });
    g.finish();
    if let Some(pg) = &b.pg {
        let schema = pg.schema().expect("bench schema").to_string();
        pg.execute_raw(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
            .expect("dropping the bench schema");
    }
}

/// `(01)GTIN(21)SERIAL` as a Digital Link path.
fn digital_link_path(code: &str) -> String {
    let gtin = &code[4..18];
    let serial = &code[22..];
    format!("/01/{gtin}/21/{serial}")
}

criterion_group! {
    name = trace_benches;
    config = Criterion::default().sample_size(30).measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = benches
}
criterion_main!(trace_benches);
