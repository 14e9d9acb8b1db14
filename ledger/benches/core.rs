//! Criterion benches for the core's hot paths: canonical encoding and ids,
//! signature checks (strict, one by one), Merkle roots and proofs.
#![allow(missing_docs)] // criterion_group! generates an undocumented public fn

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use ledger::hash::sha256;
use ledger::{ActorId, Envelope, OrgId, SecretKey, Signer, keys, merkle};
use serde_json::json;

fn events(n: usize) -> (SecretKey, Vec<Envelope>) {
    let key = SecretKey::from_seed(&[3; 32]);
    let signer = Signer::new(
        ActorId::new("maker/line-1").unwrap(),
        OrgId::new("maker").unwrap(),
        key.clone(),
    );
    let events = (0..n)
        .map(|i| {
            signer.event(
                "trace",
                "commission",
                json!({"gtin": "00614141000036", "lot": "L2026-11", "expiry": "2028-10-31", "serials": [format!("SN{i:08}")]}),
            )
        })
        .collect();
    (key, events)
}

fn encoding(c: &mut Criterion) {
    let (_, evs) = events(1);
    let wire = evs[0].to_json_value().to_string();
    let mut g = c.benchmark_group("envelope");
    g.throughput(Throughput::Elements(1));
    g.bench_function("parse + canonicalise + id", |b| {
        b.iter(|| Envelope::from_json(wire.as_bytes()).unwrap())
    });
    g.bench_function("sha256 of canonical bytes", |b| {
        b.iter(|| sha256(evs[0].bytes()))
    });
    g.finish();
}

fn signatures(c: &mut Criterion) {
    let (key, evs) = events(256);
    let public = key.public();
    let mut g = c.benchmark_group("signatures");
    g.throughput(Throughput::Elements(1));
    g.bench_function("verify_strict one", |b| {
        b.iter(|| assert!(public.verify(evs[0].bytes(), evs[0].signature())))
    });
    g.throughput(Throughput::Elements(evs.len() as u64));
    g.bench_function("verify_many 256 (strict, one by one)", |b| {
        b.iter_batched(
            || {
                evs.iter()
                    .map(|e| (&public, e.bytes(), e.signature()))
                    .collect::<Vec<_>>()
            },
            |items| assert!(keys::verify_many(&items).iter().all(|ok| *ok)),
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

fn merkle_trees(c: &mut Criterion) {
    let (_, evs) = events(1000);
    let ids: Vec<_> = evs.iter().map(|e| e.id()).collect();
    let root = merkle::root(&ids);
    let proof = merkle::prove(&ids, 517).unwrap();
    let mut g = c.benchmark_group("merkle");
    g.throughput(Throughput::Elements(ids.len() as u64));
    g.bench_function("root of 1000", |b| b.iter(|| merkle::root(&ids)));
    g.throughput(Throughput::Elements(1));
    g.bench_function("prove in 1000", |b| {
        b.iter(|| merkle::prove(&ids, 517).unwrap())
    });
    g.bench_function("verify proof in 1000", |b| {
        b.iter(|| assert!(proof.verify(&ids[517], &root)))
    });
    g.finish();
}

criterion_group!(benches, encoding, signatures, merkle_trees);
criterion_main!(benches);
