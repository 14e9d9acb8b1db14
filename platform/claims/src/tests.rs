//! Claims against real on-ledger evidence: a test-only `dispensing` module records
//! dispenses and implants in state (as the trace module does), and payment consent comes
//! from the real consent module.

use crate::{Claims, DispenseFact, Evidence, ItemKind, Outcome, PaymentConsent, claim, codes};
use consent::{Category, Consent, Purpose};
use fixtures::TestNet;
use ledger::hash::sha256;
use ledger::rejection::codes as core;
use ledger::state::ForeignView;
use ledger::{
    BlockCtx, Effects, Envelope, EventId, Module, Modules, OrgId, PatientRef, Rejection, StateTx,
    StateView,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::sync::Arc;

/// Test-only module: `dispensing/dispense {gtin, serial, kind, recalled, expired}`.
struct Dispensing;

#[derive(Serialize, Deserialize)]
struct Fact {
    kind: ItemKind,
    org: OrgId,
    event: EventId,
    time: i64,
    recalled: bool,
    expired: bool,
}

impl Module for Dispensing {
    fn name(&self) -> &'static str {
        "dispensing"
    }
    fn validate(&self, _: &dyn StateView, _: &Envelope) -> Result<(), Rejection> {
        Ok(())
    }
    fn apply(
        &self,
        state: &mut StateTx<'_>,
        e: &Envelope,
        ctx: &BlockCtx,
    ) -> Result<Effects, Rejection> {
        let p = e.payload();
        let kind: ItemKind = serde_json::from_value(p["kind"].clone())
            .map_err(|_| Rejection::new(core::BAD_PAYLOAD, "kind"))?;
        let fact = Fact {
            kind,
            org: e.org().clone(),
            event: ctx.event_id,
            time: ctx.time,
            recalled: p["recalled"].as_bool().unwrap_or(false),
            expired: p["expired"].as_bool().unwrap_or(false),
        };
        state.put_json(
            format!(
                "{}/{}",
                p["gtin"].as_str().unwrap_or(""),
                p["serial"].as_str().unwrap_or("")
            )
            .as_bytes(),
            &fact,
        );
        Ok(Effects::default())
    }
}

struct StateEvidence;

impl Evidence for StateEvidence {
    fn dispense(&self, state: &dyn StateView, gtin: &str, serial: &str) -> Option<DispenseFact> {
        let raw = state.get_in("dispensing", format!("{gtin}/{serial}").as_bytes())?;
        let f: Fact = serde_json::from_slice(&raw).ok()?;
        Some(DispenseFact {
            kind: f.kind,
            org: f.org,
            event: f.event,
            time: f.time,
            recalled: f.recalled,
            expired: f.expired,
        })
    }
}

struct ConsentModule;

impl PaymentConsent for ConsentModule {
    fn allows_payment(
        &self,
        state: &dyn StateView,
        patient: &PatientRef,
        payer: &OrgId,
        at: i64,
    ) -> bool {
        // the payer acts as an organisation; any of its actors is covered by an org grant
        let actor = format!("{payer}/adjudicator")
            .parse()
            .expect("valid actor id");
        let view = ForeignView::new(state, consent::MODULE);
        consent::decide(
            &view,
            patient,
            payer,
            &actor,
            Purpose::Payment,
            Category::Medication,
            at,
        )
        .granted
    }
}

fn modules() -> Modules {
    Modules::new()
        .with(Dispensing)
        .with(Consent)
        .with(Claims::new(
            Arc::new(StateEvidence),
            Arc::new(ConsentModule),
        ))
}

const GTIN: &str = "00614141000036";

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn patient() -> PatientRef {
    PatientRef::new(&sha256(b"patient 1").to_hex()).unwrap()
}

struct Net(TestNet);

impl Net {
    fn new(consented: bool) -> Self {
        let net = Self(TestNet::new(modules(), 1_700_000_000_000));
        if consented {
            net.0.ok(
                "st-mary/admin",
                "consent",
                "grant",
                json!({
                    "patient": patient(), "grantee": {"org": "carehealth"}, "purposes": ["payment"],
                    "categories": ["all"], "start": now() - 86_400_000, "end": null,
                }),
            );
        }
        net
    }

    fn dispense(&self, actor: &str, serial: &str, extra: Value) -> EventId {
        let mut p = json!({"gtin": GTIN, "serial": serial, "kind": "drug"});
        p.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        self.0.ok(actor, "dispensing", "dispense", p)
    }

    fn submit(
        &self,
        actor: &str,
        number: &str,
        lines: Vec<Value>,
    ) -> Result<Option<String>, String> {
        self.0.send(actor, "claims", "submit", json!({"claim": number, "patient": patient(), "payer": "carehealth", "lines": lines})).1
    }

    fn adjudicate(&self, provider: &str, number: &str) -> Result<Option<String>, String> {
        self.0
            .send(
                "carehealth/adjudicator",
                "claims",
                "adjudicate",
                json!({"provider": provider, "claim": number}),
            )
            .1
    }

    fn reasons(&self, provider: &str, number: &str) -> (Option<Outcome>, Vec<String>) {
        let c = claim(&self.0.ledger, &provider.parse().unwrap(), number)
            .unwrap()
            .unwrap();
        (c.outcome, c.results.into_iter().map(|r| r.reason).collect())
    }
}

fn line(seq: u32, serial: &str, event: EventId, kind: &str) -> Value {
    json!({"sequence": seq, "kind": kind, "gtin": GTIN, "serial": serial, "event": event, "date": now(), "amount_cents": 1250})
}

#[test]
fn dispense_claim_adjudicate_then_duplicates_are_caught() {
    let net = Net::new(true);
    let e1 = net.dispense("city-pharmacy/pharmacist", "S1", json!({}));
    let e2 = net.dispense("city-pharmacy/pharmacist", "S2", json!({}));
    assert_eq!(
        net.submit(
            "city-pharmacy/pharmacist",
            "C-1",
            vec![line(1, "S1", e1, "drug"), line(2, "S2", e2, "drug")]
        ),
        Ok(None)
    );
    assert_eq!(net.adjudicate("city-pharmacy", "C-1"), Ok(None));
    assert_eq!(
        net.reasons("city-pharmacy", "C-1"),
        (
            Some(Outcome::Approved),
            vec!["APPROVED".into(), "APPROVED".into()]
        )
    );
    let c = claim(&net.0.ledger, &"city-pharmacy".parse().unwrap(), "C-1")
        .unwrap()
        .unwrap();
    assert_eq!(
        c.results.iter().map(|r| r.approved_cents).sum::<u64>(),
        2500
    );
    // the same claim number again, and the same pack billed again on a new claim
    assert_eq!(
        net.submit(
            "city-pharmacy/pharmacist",
            "C-1",
            vec![line(1, "S1", e1, "drug")]
        ),
        Err(codes::DUPLICATE_CLAIM.into())
    );
    assert_eq!(
        net.submit(
            "city-pharmacy/pharmacist",
            "C-2",
            vec![line(1, "S1", e1, "drug")]
        ),
        Ok(None)
    );
    assert_eq!(net.adjudicate("city-pharmacy", "C-2"), Ok(None));
    assert_eq!(
        net.reasons("city-pharmacy", "C-2"),
        (Some(Outcome::Denied), vec![codes::DUPLICATE_BILLING.into()])
    );
    assert_eq!(
        net.adjudicate("city-pharmacy", "C-2"),
        Err(codes::ALREADY_ADJUDICATED.into())
    );
    net.0.assert_audit_passes();
}

#[test]
fn every_fraud_and_mismatch_has_its_code() {
    let net = Net::new(true);
    let good = net.dispense("city-pharmacy/pharmacist", "G1", json!({}));
    let elsewhere = net.dispense("corner-pharmacy/pharmacist", "E1", json!({}));
    let recalled = net.dispense("city-pharmacy/pharmacist", "R1", json!({"recalled": true}));
    let expired = net.dispense("city-pharmacy/pharmacist", "X1", json!({"expired": true}));
    let device = net.dispense("city-pharmacy/pharmacist", "D1", json!({"kind": "device"}));
    let mut late = line(7, "G1", good, "drug");
    late["date"] = json!(now() - 5 * 86_400_000);
    let lines = vec![
        line(1, "G1", good, "drug"),
        line(2, "NEVER", good, "drug"),
        line(3, "E1", elsewhere, "drug"),
        line(4, "D1", device, "drug"),
        line(5, "R1", good, "drug"),
        line(6, "R1", recalled, "drug"),
        late,
        line(8, "X1", expired, "drug"),
        line(9, "G1", good, "drug"),
    ];
    assert_eq!(
        net.submit("city-pharmacy/pharmacist", "F-1", lines),
        Ok(None)
    );
    assert_eq!(net.adjudicate("city-pharmacy", "F-1"), Ok(None));
    let (outcome, reasons) = net.reasons("city-pharmacy", "F-1");
    assert_eq!(outcome, Some(Outcome::Partial));
    assert_eq!(
        reasons,
        vec![
            codes::APPROVED,
            codes::PHANTOM_DISPENSE,
            codes::NOT_DISPENSED_BY_CLAIMANT,
            codes::PRODUCT_MISMATCH,
            codes::EVENT_MISMATCH,
            codes::RECALLED_UNIT,
            codes::DATE_MISMATCH,
            codes::EXPIRED_UNIT,
            codes::DUPLICATE_BILLING,
        ]
    );
}

#[test]
fn without_payment_consent_every_line_is_denied() {
    let net = Net::new(false);
    let e = net.dispense("city-pharmacy/pharmacist", "S1", json!({}));
    assert_eq!(
        net.submit(
            "city-pharmacy/pharmacist",
            "N-1",
            vec![line(1, "S1", e, "drug")]
        ),
        Ok(None)
    );
    assert_eq!(net.adjudicate("city-pharmacy", "N-1"), Ok(None));
    assert_eq!(
        net.reasons("city-pharmacy", "N-1"),
        (
            Some(Outcome::Denied),
            vec![codes::NO_PAYMENT_CONSENT.into()]
        )
    );
}

#[test]
fn who_may_submit_and_adjudicate_and_bad_payloads() {
    let net = Net::new(true);
    let e = net.dispense("st-mary/pharmacist", "H1", json!({}));
    assert_eq!(
        net.submit("northwind/warehouse", "W-1", vec![line(1, "H1", e, "drug")]),
        Err(codes::NOT_A_PROVIDER.into())
    );
    let (_, r) = net.0.send("st-mary/pharmacist", "claims", "submit", json!({"claim": "H-1", "patient": patient(), "payer": "northwind", "lines": [line(1, "H1", e, "drug")]}));
    assert_eq!(r, Err(codes::UNKNOWN_PAYER.into()));
    assert_eq!(
        net.submit("st-mary/pharmacist", "H-1", vec![line(1, "H1", e, "drug")]),
        Ok(None)
    );
    let (_, r) = net.0.send(
        "acme-pharma/qa",
        "claims",
        "adjudicate",
        json!({"provider": "st-mary", "claim": "H-1"}),
    );
    assert_eq!(r, Err(codes::NOT_THE_PAYER.into()));
    assert_eq!(
        net.adjudicate("st-mary", "NOPE"),
        Err(codes::UNKNOWN_CLAIM.into())
    );
    for bad in [
        json!({"claim": "bad claim", "patient": patient(), "payer": "carehealth", "lines": [line(1, "H1", e, "drug")]}),
        json!({"claim": "B-1", "patient": "Jane Doe", "payer": "carehealth", "lines": [line(1, "H1", e, "drug")]}),
        json!({"claim": "B-2", "patient": patient(), "payer": "carehealth", "lines": []}),
        json!({"claim": "B-3", "patient": patient(), "payer": "carehealth", "lines": [line(1, "H1", e, "drug"), line(1, "H1", e, "drug")]}),
    ] {
        assert_eq!(
            net.0.send("st-mary/pharmacist", "claims", "submit", bad).1,
            Err(core::BAD_PAYLOAD.into())
        );
    }
}
