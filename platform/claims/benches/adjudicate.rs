//! Adjudication of a 10-line claim against real trace and consent state on SQLite
//! (target: under 1 ms). The evidence adapters mirror the peer's (`node/evidence.rs`);
//! the peer binary cannot be a dependency, and modules only meet through these traits.
#![allow(missing_docs)] // criterion_group! generates an undocumented public fn

use claims::{
    ClaimRecord, ClaimStatus, Claims, DispenseFact, Evidence, ItemKind, Line, PaymentConsent, codes,
};
use consent::{Category, Purpose};
use criterion::{Criterion, criterion_group, criterion_main};
use fixtures::TestNet;
use ledger::hash::sha256;
use ledger::state::ForeignView;
use ledger::{ActorId, Modules, OrgId, PatientRef, StateView};
use serde_json::json;
use std::sync::Arc;
use trace::state::{ReadOnly, dispensed, expired, recalls_of, unit};

const GTIN: &str = "00614141100019";

struct TraceEvidence;

impl Evidence for TraceEvidence {
    fn dispense(&self, state: &dyn StateView, gtin: &str, serial: &str) -> Option<DispenseFact> {
        let view = ForeignView::new(state, trace::MODULE);
        let tables = ReadOnly(&view);
        let code = trace::Code::item(gtin.parse().ok()?, serial.parse().ok()?);
        let record = dispensed(&tables, &code)?;
        let item = unit(&tables, &code)?;
        Some(DispenseFact {
            kind: if record.kind == "implant" {
                ItemKind::Device
            } else {
                ItemKind::Drug
            },
            org: record.org,
            event: record.event,
            time: record.time,
            recalled: !recalls_of(&tables, &code, item.lot.as_ref()).is_empty(),
            expired: item
                .expiry
                .as_ref()
                .is_some_and(|e| expired(e, record.time)),
        })
    }
}

struct ConsentForPayment;

impl PaymentConsent for ConsentForPayment {
    fn allows_payment(
        &self,
        state: &dyn StateView,
        patient: &PatientRef,
        payer: &OrgId,
        at: i64,
    ) -> bool {
        let view = ForeignView::new(state, consent::MODULE);
        let Ok(anyone) = ActorId::new(format!("{payer}/adjudication")) else {
            return false;
        };
        [Category::Medication, Category::Device]
            .into_iter()
            .any(|c| {
                consent::decide(&view, patient, payer, &anyone, Purpose::Payment, c, at).granted
            })
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn bench(c: &mut Criterion) {
    let claims = Claims::new(Arc::new(TraceEvidence), Arc::new(ConsentForPayment));
    let net = TestNet::new(
        Modules::new()
            .with(trace::Trace)
            .with(consent::Consent)
            .with(claims.clone()),
        1_700_000_000_000,
    );
    let patient = PatientRef::new(&sha256(b"bench patient").to_hex()).unwrap();
    // 200 packs through the supply chain, 10 of them dispensed and claimed
    let serials: Vec<String> = (0..200).map(|i| format!("B{i:04}")).collect();
    let codes: Vec<String> = serials
        .iter()
        .map(|s| format!("(01){GTIN}(21){s}"))
        .collect();
    net.ok(
        "acme-pharma/qa",
        "trace",
        "commission",
        json!({"gtin": GTIN, "lot": "BENCH", "expiry": "2035-01-31", "serials": serials}),
    );
    net.ok(
        "acme-pharma/qa",
        "trace",
        "ship",
        json!({"codes": codes, "to": "city-pharmacy"}),
    );
    net.ok(
        "city-pharmacy/pharmacist",
        "trace",
        "receive",
        json!({"codes": codes}),
    );
    let events: Vec<_> = codes[..10]
        .iter()
        .map(|c| {
            net.ok(
                "city-pharmacy/pharmacist",
                "trace",
                "dispense",
                json!({"codes": [c]}),
            )
        })
        .collect();
    for grantee in ["carehealth", "st-mary"] {
        net.ok(
            "st-mary/admin",
            "consent",
            "grant",
            json!({
                "patient": patient, "grantee": {"org": grantee}, "purposes": ["payment", "treatment"],
                "categories": ["medication"], "start": now() - 86_400_000, "end": null,
            }),
        );
    }
    let record = ClaimRecord {
        provider: OrgId::new("city-pharmacy").unwrap(),
        claim: "B-1".into(),
        patient,
        payer: OrgId::new("carehealth").unwrap(),
        lines: events
            .iter()
            .zip(&serials)
            .enumerate()
            .map(|(i, (event, serial))| Line {
                sequence: i as u32 + 1,
                kind: ItemKind::Drug,
                gtin: GTIN.into(),
                serial: serial.clone(),
                event: *event,
                date: now(),
                amount_cents: 1250,
            })
            .collect(),
        submitted: events[0],
        status: ClaimStatus::Submitted,
        outcome: None,
        results: vec![],
        adjudicated: None,
    };
    let decide = || {
        net.ledger
            .read(claims::MODULE, |s| claims.decide(s, &record, now()))
            .unwrap()
    };
    // every line is backed by the ledger: the full set of checks runs for each
    assert!(decide().iter().all(|r| r.reason == codes::APPROVED));
    c.bench_function(
        "adjudicate a 10-line claim (trace + consent state on SQLite)",
        |b| {
            b.iter(|| {
                let results = decide();
                assert_eq!(results.len(), 10);
            })
        },
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
