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
