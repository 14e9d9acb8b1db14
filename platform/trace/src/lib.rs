//! The `trace` module: the custody state machine of serialised drug packs and medical
//! devices (commission, pack, ship, receive, dispense, implant, decommission, recall),
//! scan verification with a verdict and next action, provenance with Merkle proofs, and
//! recall tracking. It depends on the ledger core and on `scanners` for identifiers.
//!
//! Architecture invariant: `apply` reads only module state and the `BlockCtx` (no clock,
//! no randomness, no I/O); identifiers in payloads and state are normalised GS1 codes
//! (GTIN-14 + serial, SSCC-18), and no personal data is stored beyond pseudonymous
//! patient references of implants.
//!
//! Where to start:
//! - register: `Modules::new().with(trace::Trace)`;
//! - write: build a [`TraceEvent`] from user input with [`input`] (any scan form for
//!   codes), sign `event.payload()` as module [`MODULE`], kind `event.kind()`; refusals
//!   carry the codes in [`codes`] (plus the core's `BAD_PAYLOAD`, `UNKNOWN_KIND`);
//! - read: [`verify`] (a scan, the scanning organisation and "now"), [`provenance`] or
//!   [`provenance_cached`] with a shared [`BlockCache`], [`unit()`], [`shipment`],
//!   [`recall`], [`recalls`], [`recall_units`], [`recalled_implants`],
//!   [`dispense_evidence`];
//! - notifications: topic `recall` (to holders and the issuer) and `shipment_exception`
//!   (to sender and receiver), identifiers only;
//! - EPCIS 2.0: [`epcis::export`], [`epcis::import`], [`epcis::event_hash`]; capture of
//!   a document for the importing organisation with [`epcis::capture`], each event carrying
//!   its CBV 2.0 hash in the payload field [`EPCIS_HASH_FIELD`] so that the same EPCIS event
//!   is recorded once (`DUPLICATE_EPCIS_EVENT` after that).

mod code;
pub mod codes;
pub mod epcis;
mod events;
pub mod input;
mod provenance;
mod queries;
mod rules;
pub mod state;
mod stored;
mod verify;

pub use code::{BadCode, Code, NOT_A_UNIT_CODE, PatientRef, ScanProblem, ScannedCode, read_code};
pub use events::{
    Acknowledge, Cbv, Codes, Commission, Decommission, Device, Disposition, EPCIS_HASH_FIELD,
    KINDS, MAX_CODES, MODULE, Pack, Reason, Recall, RecallAction, RecallClass, RecallDepth,
    Receive, Ship, TraceEvent, UNDO_WINDOW_DAYS, UndoDecommission, Unpack,
};
pub use provenance::{
    BlockCache, MAX_EVENTS, Provenance, ProvenanceError, ProvenanceEvent, provenance,
    provenance_cached, provenance_of,
};
pub use queries::{
    DispenseEvidence, HolderEffectiveness, RecallView, UnitView, dispense_evidence, recall,
    recall_units, recalled_implants, recalls, shipment, unit,
};
pub use rules::Trace;
pub use verify::{RecallSummary, ScanDiagnostic, Verdict, Verification, rescan, verify, verify_in};

#[cfg(test)]
mod tests;
