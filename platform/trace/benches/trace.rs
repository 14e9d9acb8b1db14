//! `verify` and `provenance` on a store holding many trace events, built with the
//! fixtures generator (commission → pack → M hops of ship/receive → unpack → dispense).
//! Prints ingest throughput and p50/p95 latencies, then hands the same calls to
//! criterion. Size: `TRACE_BENCH_ITEMS` (default 20000 packs), `TRACE_BENCH_HOPS`
//! (default 10). `TRACE_BENCH_STORE=postgres` runs the same on PostgreSQL (`DATABASE_URL`,
//! default the local `test` database) in a fresh schema dropped afterwards.
#![allow(missing_docs)] // criterion_group! generates an undocumented public fn

use criterion::{Criterion, criterion_group, criterion_main};
use fixtures::generator::{Config, generate};
use fixtures::{PeerLayout, demo};
use ledger::{Block, Ledger, Modules, OrgId, SqliteStore, Store};
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};
use store_postgres::PgStore;
use trace::{BlockCache, Trace, Verdict, provenance, provenance_cached, verify};

const T0: i64 = 1_767_225_600_000;

struct Bench {
    ledger: Arc<Ledger>,
    items: Vec<String>,
    events: usize,
    pg: Option<Arc<PgStore>>,
    _dir: tempfile::TempDir,
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
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
    let started = Instant::now();
    let work = generate(&d, &config);
    let generated = started.elapsed();
    let dir = tempfile::tempdir().expect("tempdir");
    let pg = (std::env::var("TRACE_BENCH_STORE").as_deref() == Ok("postgres")).then(|| {
        let url = std::env::var("DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let schema = format!("trace_bench_{}", std::process::id());
        println!("store: PostgreSQL, schema {schema}");
        Arc::new(PgStore::open(&url, Some(&schema)).expect("PostgreSQL store"))
    });
    let store: Arc<dyn Store> = match &pg {
        Some(pg) => pg.clone(),
        None => {
            println!("store: SQLite");
            Arc::new(SqliteStore::open(dir.path().join("bench.sqlite")).expect("store"))
        }
    };
    let ledger =
        Arc::new(Ledger::init(store, Modules::new().with(Trace), d.genesis(T0)).expect("init"));
    let peer = &d.consortium.peers[0];
    let started = Instant::now();
    let mut refused = 0;
    for events in &work.blocks {
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
            events.clone(),
        );
        let notice = ledger.commit_block(block).expect("commit");
        refused += notice.results.iter().filter(|r| r.1.is_some()).count();
    }
    let took = started.elapsed();
    assert_eq!(refused, 0, "the generated workload is valid");
    println!(
        "store: {} events in {} blocks ({} packs, {} hops); generated in {:.1?}, committed \
         (signatures checked, rules applied, indexed) in {:.1?} = {:.0} events/s",
        work.len(),
        work.blocks.len(),
        work.items.len(),
        config.hops,
        generated,
        took,
        work.len() as f64 / took.as_secs_f64()
    );
    Bench {
        ledger,
        events: work.len(),
        items: work.items,
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

fn pick(b: &Bench, i: usize) -> &str {
    // a stride through the items, so calls spread over the store
    &b.items[(i * 7919) % b.items.len()]
}

fn benches(c: &mut Criterion) {
    let b = build();
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
        let r = verify(&b.ledger, pick(&b, i), &pharmacy, now).expect("verify");
        assert_eq!(r.verdict, Verdict::AlreadyDispensed);
    });
    percentiles(&format!("verify ({} events)", b.events), v);
    let p = sample(&|i| {
        let p = provenance(&b.ledger, pick(&b, i)).expect("provenance");
        assert!(p.events.len() >= 6);
    });
    percentiles(&format!("provenance, cold ({} events)", b.events), p);
    let cache = BlockCache::new(100_000);
    let p = sample(&|i| {
        let p = provenance_cached(&b.ledger, pick(&b, i), &cache).expect("provenance");
        assert!(p.events.len() >= 6);
    });
    percentiles(&format!("provenance, block cache ({} events)", b.events), p);
    let scan = format!("https://id.gs1.org{}", digital_link_path(pick(&b, 3)));
    let r = verify(&b.ledger, &scan, &pharmacy, now).expect("verify");
    assert_eq!(r.verdict, Verdict::AlreadyDispensed, "{scan}");

    let mut g = c.benchmark_group("trace");
    let mut i = 0;
    g.bench_function("verify", |bench| {
        bench.iter(|| {
            i += 1;
            black_box(verify(&b.ledger, pick(&b, i), &pharmacy, now).expect("verify"))
        })
    });
    g.bench_function("verify_digital_link", |bench| {
        bench.iter(|| black_box(verify(&b.ledger, &scan, &pharmacy, now).expect("verify")))
    });
    g.bench_function("provenance", |bench| {
        bench.iter(|| {
            i += 1;
            black_box(provenance(&b.ledger, pick(&b, i)).expect("provenance"))
        })
    });
    g.bench_function("provenance_block_cache", |bench| {
        bench.iter(|| {
            i += 1;
            black_box(provenance_cached(&b.ledger, pick(&b, i), &cache).expect("provenance"))
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
