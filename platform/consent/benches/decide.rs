//! Consent checks per second (target: at least 100,000 per core in process): the check
//! the EMR access path makes on the in-memory index (with its up-to-date test against the
//! chain head), the same check reading state from SQLite, and the pure decision over
//! consents already loaded.
#![allow(missing_docs)] // criterion_group! generates an undocumented public fn

use consent::{Category, Consent, ConsentIndex, Purpose, decide, decide_among};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use fixtures::TestNet;
use ledger::hash::sha256;
use ledger::{ActorId, Modules, OrgId, PatientRef};
use serde_json::json;

fn bench(c: &mut Criterion) {
    let net = TestNet::new(Modules::new().with(Consent), 1_700_000_000_000);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let patients: Vec<PatientRef> = (0..50u32)
        .map(|i| PatientRef::new(&sha256(&i.to_be_bytes()).to_hex()).unwrap())
        .collect();
    for p in &patients {
        for (grantee, purpose) in [
            ("carehealth", "payment"),
            ("medicines-agency", "research"),
            ("st-mary", "recall_notification"),
        ] {
            net.ok(
                "st-mary/admin",
                "consent",
                "grant",
                json!({
                    "patient": p, "grantee": {"org": grantee}, "purposes": [purpose],
                    "categories": ["medication", "device"], "start": now - 86_400_000, "end": null,
                }),
            );
        }
    }
    let payer = OrgId::new("carehealth").unwrap();
    let actor = ActorId::new("carehealth/adjudicator").unwrap();
    let mut g = c.benchmark_group("consent");
    g.throughput(Throughput::Elements(1));
    let mut i = 0usize;
    g.bench_function("check reading state on SQLite", |b| {
        b.iter(|| {
            i += 1;
            let p = &patients[i % patients.len()];
            let d = net
                .ledger
                .read(consent::MODULE, |s| {
                    decide(
                        s,
                        p,
                        &payer,
                        &actor,
                        Purpose::Payment,
                        Category::Medication,
                        now,
                    )
                })
                .unwrap();
            assert!(d.granted);
        })
    });
    let index = ConsentIndex::start(&net.ledger).unwrap();
    assert!(index.wait_for(net.ledger.head().height, std::time::Duration::from_secs(10)));
    g.bench_function("check on the in-memory index", |b| {
        b.iter(|| {
            i += 1;
            let p = &patients[i % patients.len()];
            // what the access path does: is the index at the head, then decide
            assert!(index.height() >= net.ledger.head().height);
            let d = index.decide(
                p,
                &payer,
                &actor,
                Purpose::Payment,
                Category::Medication,
                now,
            );
            assert!(d.granted);
        })
    });
    let loaded = net
        .ledger
        .read(consent::MODULE, |s| consent::consents_of(s, &patients[0]))
        .unwrap();
    g.bench_function("decision over loaded consents", |b| {
        b.iter(|| {
            assert!(
                decide_among(
                    &loaded,
                    &payer,
                    &actor,
                    Purpose::Payment,
                    Category::Medication,
                    now
                )
                .granted
            )
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
