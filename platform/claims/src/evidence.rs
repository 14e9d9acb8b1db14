//! What claims need to know from other modules, as small traits the peer binary wires to
//! the trace and consent modules (modules never depend on each other directly).

use crate::events::ItemKind;
use ledger::{EventId, OrgId, PatientRef, StateView};

/// What the ledger says about one unit that left the supply chain into a patient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DispenseFact {
    /// Dispensed (drug) or implanted (device).
    pub kind: ItemKind,
    /// The organisation that dispensed or implanted it.
    pub org: OrgId,
    /// The event that did it.
    pub event: EventId,
    /// Its block time, Unix ms.
    pub time: i64,
    /// The unit is under an active recall.
    pub recalled: bool,
    /// The unit's expiry had passed when it was dispensed.
    pub expired: bool,
}

/// Evidence of dispensing and implanting, read from committed state.
pub trait Evidence: Send + Sync {
    /// The dispense or implant of the unit `gtin` + `serial`, if the ledger holds one.
    fn dispense(&self, state: &dyn StateView, gtin: &str, serial: &str) -> Option<DispenseFact>;
}

/// Whether a patient consented to their records being used for payment by a payer.
pub trait PaymentConsent: Send + Sync {
    /// True when `payer` may use `patient`'s records for payment at `at` (Unix ms).
    fn allows_payment(
        &self,
        state: &dyn StateView,
        patient: &PatientRef,
        payer: &OrgId,
        at: i64,
    ) -> bool;
}
