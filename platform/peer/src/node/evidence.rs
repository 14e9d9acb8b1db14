//! What the claims module asks of other modules, answered from their state: dispense and
//! implant evidence from `trace`, payment consent from `consent`. Read through
//! `ForeignView`, so adjudication stays a pure function of state and block time.

use claims::{DispenseFact, Evidence, ItemKind, PaymentConsent};
use consent::{Category, Purpose};
use ledger::state::ForeignView;
use ledger::{ActorId, OrgId, PatientRef, StateView};
use trace::state::{ReadOnly, dispensed, expired, recalls_of, unit};

/// Dispense and implant evidence from the trace module.
pub struct TraceEvidence;

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

/// Payment consent from the consent module: a grant to the payer organisation for
/// payment, covering medication or device records.
pub struct ConsentForPayment;

impl PaymentConsent for ConsentForPayment {
    fn allows_payment(
        &self,
        state: &dyn StateView,
        patient: &PatientRef,
        payer: &OrgId,
        at: i64,
    ) -> bool {
        let view = ForeignView::new(state, consent::MODULE);
        // An organisation-wide grant is what covers a payer's adjudication.
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

/// Every adjudication rule and fraud code against the real trace and consent modules, as
/// this peer wires them (the claims crate's own tests cover the rules with a stand-in
/// evidence module, including expired units, which trace never lets a pharmacy dispense).
#[cfg(test)]
mod tests {
    use claims::{Outcome, codes};
    use fixtures::TestNet;
    use ledger::EventId;
    use ledger::hash::sha256;
    use serde_json::{Value, json};

    const GTIN: &str = "00614141100019";
    const DEVICE: &str = "00860001200010";

    fn now() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64
    }

    fn patient() -> String {
        sha256(b"claims scenario patient").to_hex()
    }

    fn unit(gtin: &str, serial: &str) -> String {
        format!("(01){gtin}(21){serial}")
    }

    struct Scenario(TestNet);

    impl Scenario {
        fn new() -> Self {
            Self(TestNet::new(crate::node::modules(), 1_700_000_000_000))
        }

        /// Commissions `serials` of lot `lot` and brings them into `to`'s custody.
        fn stock(&self, lot: &str, serials: &[&str], to: &str) -> EventId {
            let codes: Vec<String> = serials.iter().map(|s| unit(GTIN, s)).collect();
            self.0.ok(
                "acme-pharma/qa",
                "trace",
                "commission",
                json!({"gtin": GTIN, "lot": lot, "expiry": "2035-01-31", "serials": serials}),
            );
            self.0.ok(
                "acme-pharma/qa",
                "trace",
                "ship",
                json!({"codes": codes, "to": to}),
            );
            self.0.ok(
                &format!("{to}/pharmacist"),
                "trace",
                "receive",
                json!({"codes": codes}),
            )
        }

        fn dispense(&self, org: &str, serial: &str) -> EventId {
            self.0.ok(
                &format!("{org}/pharmacist"),
                "trace",
                "dispense",
                json!({"codes": [unit(GTIN, serial)]}),
            )
        }

        fn consent(&self, categories: Value, end: Option<i64>) -> EventId {
            self.0.ok(
                "st-mary/admin",
                "consent",
                "grant",
                json!({
                    "patient": patient(), "grantee": {"org": "carehealth"}, "purposes": ["payment"],
                    "categories": categories, "start": now() - 86_400_000, "end": end,
                }),
            )
        }

        /// Submits and adjudicates a claim of `org`; the outcome and reasons.
        fn claim(&self, org: &str, number: &str, lines: Vec<Value>) -> (Outcome, Vec<String>) {
            self.0.ok(
                &format!("{org}/pharmacist"),
                "claims",
                "submit",
                json!({"claim": number, "patient": patient(), "payer": "carehealth", "lines": lines}),
            );
            self.0.ok(
                "carehealth/adjudicator",
                "claims",
                "adjudicate",
                json!({"provider": org, "claim": number}),
            );
            let c = claims::claim(&self.0.ledger, &org.parse().unwrap(), number)
                .unwrap()
                .unwrap();
            (
                c.outcome.unwrap(),
                c.results.into_iter().map(|r| r.reason).collect(),
            )
        }
    }

    fn line(seq: u32, kind: &str, gtin: &str, serial: &str, event: EventId, date: i64) -> Value {
        json!({"sequence": seq, "kind": kind, "gtin": gtin, "serial": serial, "event": event, "date": date, "amount_cents": 1000})
    }

    fn drug(seq: u32, serial: &str, event: EventId) -> Value {
        line(seq, "drug", GTIN, serial, event, now())
    }

    #[test]
    fn every_rule_against_real_trace_evidence() {
        let s = Scenario::new();
        s.consent(json!(["medication", "device"]), None);
        let received = s.stock("LA", &["A1", "A2", "A3", "A4"], "city-pharmacy");
        s.stock("LB", &["B1"], "corner-pharmacy");
        let a1 = s.dispense("city-pharmacy", "A1");
        let a2 = s.dispense("city-pharmacy", "A2");
        let a3 = s.dispense("city-pharmacy", "A3");
        let b1 = s.dispense("corner-pharmacy", "B1");
        let (outcome, reasons) = s.claim(
            "city-pharmacy",
            "R-1",
            vec![
                drug(1, "A1", a1),
                // held by the pharmacy but never dispensed, and never held at all
                drug(2, "A4", a1),
                drug(3, "ZZ9", a1),
                // dispensed by another pharmacy
                drug(4, "B1", b1),
                // the event named is the receipt, not the dispense
                drug(5, "A2", received),
                // five days away from the dispense
                line(6, "drug", GTIN, "A3", a3, now() - 5 * 86_400_000),
                // billed as a device
                line(7, "device", GTIN, "A3", a3, now()),
                // twice on the same claim
                drug(8, "A1", a1),
            ],
        );
        assert_eq!(outcome, Outcome::Partial);
        assert_eq!(
            reasons,
            [
                codes::APPROVED,
                codes::PHANTOM_DISPENSE,
                codes::PHANTOM_DISPENSE,
                codes::NOT_DISPENSED_BY_CLAIMANT,
                codes::EVENT_MISMATCH,
                codes::DATE_MISMATCH,
                codes::PRODUCT_MISMATCH,
                codes::DUPLICATE_BILLING,
            ]
        );
        // the approved pack cannot be paid again on another claim
        let (outcome, reasons) = s.claim(
            "city-pharmacy",
            "R-2",
            vec![drug(1, "A1", a1), drug(2, "A2", a2)],
        );
        assert_eq!(outcome, Outcome::Partial);
        assert_eq!(reasons, [codes::DUPLICATE_BILLING, codes::APPROVED]);
        s.0.assert_audit_passes();
    }

    #[test]
    fn recalled_units_and_implanted_devices() {
        let s = Scenario::new();
        s.consent(json!(["device", "medication"]), None);
        s.stock("LR", &["R1"], "city-pharmacy");
        let r1 = s.dispense("city-pharmacy", "R1");
        // a recall of the lot reaching patients, after the dispense, before the claim
        s.0.ok(
            "acme-pharma/qa",
            "trace",
            "recall",
            json!({"gtin": GTIN, "lots": ["LR"], "class": "II", "depth": "patient", "reason": "sterility"}),
        );
        let (outcome, reasons) = s.claim("city-pharmacy", "RC-1", vec![drug(1, "R1", r1)]);
        assert_eq!(
            (outcome, reasons),
            (Outcome::Denied, vec![codes::RECALLED_UNIT.to_string()])
        );

        // a pacemaker implanted at St Mary's is billed as a device line
        let pm = unit(DEVICE, "PM1");
        s.0.ok(
            "medidev/qa",
            "trace",
            "commission",
            json!({"gtin": DEVICE, "lot": "CP1", "expiry": "2035-01-31", "serials": ["PM1"], "device": true}),
        );
        s.0.ok(
            "medidev/qa",
            "trace",
            "ship",
            json!({"codes": [pm], "to": "st-mary"}),
        );
        s.0.ok(
            "st-mary/pharmacist",
            "trace",
            "receive",
            json!({"codes": [pm]}),
        );
        let implant = s.0.ok(
            "st-mary/surgeon",
            "trace",
            "implant",
            json!({"code": pm, "patient": patient()}),
        );
        let (outcome, reasons) = s.claim(
            "st-mary",
            "IM-1",
            vec![
                line(1, "device", DEVICE, "PM1", implant, now()),
                line(2, "drug", DEVICE, "PM1", implant, now()),
            ],
        );
        assert_eq!(outcome, Outcome::Partial);
        assert_eq!(reasons, [codes::APPROVED, codes::PRODUCT_MISMATCH]);
    }

    #[test]
    fn payment_consent_missing_revoked_expired_or_too_narrow() {
        let s = Scenario::new();
        s.stock("LC", &["C1", "C2", "C3", "C4"], "city-pharmacy");
        let c: Vec<EventId> = ["C1", "C2", "C3", "C4"]
            .iter()
            .map(|x| s.dispense("city-pharmacy", x))
            .collect();
        let denied = (Outcome::Denied, vec![codes::NO_PAYMENT_CONSENT.to_string()]);
        // no consent at all
        assert_eq!(
            s.claim("city-pharmacy", "N-1", vec![drug(1, "C1", c[0])]),
            denied
        );
        // consent for lab results only does not cover medication
        let lab = s.consent(json!(["lab"]), None);
        assert_eq!(
            s.claim("city-pharmacy", "N-2", vec![drug(1, "C1", c[0])]),
            denied
        );
        s.0.ok(
            "st-mary/admin",
            "consent",
            "revoke",
            json!({"consent": lab}),
        );
        // a consent that has ended
        s.consent(json!(["medication"]), Some(now() - 3_600_000));
        assert_eq!(
            s.claim("city-pharmacy", "N-3", vec![drug(1, "C2", c[1])]),
            denied
        );
        // a current consent covers the next adjudication; revoked, it no longer does
        let granted = s.consent(json!(["medication"]), None);
        assert_eq!(
            s.claim("city-pharmacy", "Y-1", vec![drug(1, "C3", c[2])]),
            (Outcome::Approved, vec![codes::APPROVED.to_string()])
        );
        s.0.ok(
            "st-mary/admin",
            "consent",
            "revoke",
            json!({"consent": granted}),
        );
        assert_eq!(
            s.claim("city-pharmacy", "N-4", vec![drug(1, "C4", c[3])]),
            denied
        );
        s.0.assert_audit_passes();
    }
}
