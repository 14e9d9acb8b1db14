//! Adjudication of a 10-line claim against state on SQLite (target: under 1 ms).
#![allow(missing_docs)] // criterion_group! generates an undocumented public fn

use claims::{
    ClaimRecord, ClaimStatus, Claims, DispenseFact, Evidence, ItemKind, Line, PaymentConsent,
};
use criterion::{Criterion, criterion_group, criterion_main};
use fixtures::TestNet;
use ledger::hash::sha256;
use ledger::{EventId, Modules, OrgId, PatientRef, StateView};
use serde_json::json;
use std::sync::Arc;

/// Evidence from the bench's own `notes` of dispenses kept by the anchor-like module
/// below: one state read per line, as the trace adapter does.
struct StateEvidence;

impl Evidence for StateEvidence {
    fn dispense(&self, state: &dyn StateView, gtin: &str, serial: &str) -> Option<DispenseFact> {
        let raw = state.get_in("anchor", format!("{gtin}/{serial}").as_bytes());
        Some(DispenseFact {
            kind: ItemKind::Drug,
            org: OrgId::new("city-pharmacy").ok()?,
            event: EventId(sha256(raw.as_deref().unwrap_or(serial.as_bytes())).0),
            time: 0,
            recalled: false,
            expired: false,
        })
    }
}

struct Always;

impl PaymentConsent for Always {
    fn allows_payment(
        &self,
        state: &dyn StateView,
        patient: &PatientRef,
        _: &OrgId,
        _: i64,
    ) -> bool {
        state
            .get_in("consent", patient.as_str().as_bytes())
            .is_none()
    }
}

fn bench(c: &mut Criterion) {
    let claims = Claims::new(Arc::new(StateEvidence), Arc::new(Always));
    let net = TestNet::new(
        Modules::new().with(anchor::Anchor).with(claims.clone()),
        1_700_000_000_000,
    );
    // some real state so the reads hit a populated store
    for i in 0..200u32 {
        net.ok(
            "city-pharmacy/pharmacist",
            "anchor",
            "anchor",
            json!({"digest": sha256(&i.to_be_bytes())}),
        );
    }
    let record = ClaimRecord {
        provider: OrgId::new("city-pharmacy").unwrap(),
        claim: "B-1".into(),
        patient: PatientRef::new(&sha256(b"p").to_hex()).unwrap(),
        payer: OrgId::new("carehealth").unwrap(),
        lines: (0..10u32)
            .map(|i| Line {
                sequence: i,
                kind: ItemKind::Drug,
                gtin: "00614141100019".into(),
                serial: format!("S{i}"),
                event: EventId(sha256(format!("S{i}").as_bytes()).0),
                date: 0,
                amount_cents: 100,
            })
            .collect(),
        submitted: EventId(sha256(b"s").0),
        status: ClaimStatus::Submitted,
        outcome: None,
        results: vec![],
        adjudicated: None,
    };
    c.bench_function("adjudicate a 10-line claim (state on SQLite)", |b| {
        b.iter(|| {
            let results = net
                .ledger
                .read(claims::MODULE, |s| claims.decide(s, &record, 0))
                .unwrap();
            assert_eq!(results.len(), 10);
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
