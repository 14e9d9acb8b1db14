//! Reading consent state back: one consent, and a patient's personal index (which
//! records exist, at which organisation, who accessed them and when, under which consent).

use crate::events::MODULE;
use crate::state::{
    AccessRecord, ConsentRecord, DocumentRecord, access_key, consent_key, consents_of,
    custodian_key, document_key, patient_prefix,
};
use ledger::state::StateViewExt;
use ledger::{EventId, Ledger, OrgId, PatientRef, StoreError};
use serde::Serialize;

/// Most entries of each kind in a patient index.
pub const MAX_INDEX: usize = 1000;

/// Everything the ledger knows about one patient, for that patient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PatientIndex {
    /// Their consents, in force or not.
    pub consents: Vec<ConsentRecord>,
    /// Their documents (pointers and digests).
    pub documents: Vec<DocumentRecord>,
    /// Every access decision on their documents, oldest first.
    pub accesses: Vec<AccessRecord>,
}

/// One consent.
pub fn consent(ledger: &Ledger, id: &EventId) -> Result<Option<ConsentRecord>, StoreError> {
    ledger.read(MODULE, |s| s.get_json(&consent_key(id)))
}

/// The hospital keeping a patient's records, once it recorded any.
pub fn custodian(ledger: &Ledger, patient: &PatientRef) -> Result<Option<OrgId>, StoreError> {
    ledger.read(MODULE, |s| s.get_json(&custodian_key(patient)))
}

/// One recorded access decision, by its `access` event.
pub fn access(ledger: &Ledger, event: &EventId) -> Result<Option<AccessRecord>, StoreError> {
    ledger.read(MODULE, |s| s.get_json(&access_key(event)))
}

/// A patient's personal index.
pub fn patient_index(ledger: &Ledger, patient: &PatientRef) -> Result<PatientIndex, StoreError> {
    ledger.read(MODULE, |s| {
        let documents = s
            .scan(&patient_prefix(patient, b'd'), MAX_INDEX)
            .into_iter()
            .filter_map(|(k, _)| {
                let doc = &k[patient_prefix(patient, b'd').len()..];
                s.get_json(&document_key(std::str::from_utf8(doc).ok()?))
            })
            .collect();
        PatientIndex {
            consents: consents_of(s, patient),
            documents,
            accesses: log(s, patient),
        }
    })
}

/// A patient's access log, oldest first.
pub fn access_log(ledger: &Ledger, patient: &PatientRef) -> Result<Vec<AccessRecord>, StoreError> {
    ledger.read(MODULE, |s| log(s, patient))
}

fn log(s: &dyn ledger::StateView, patient: &PatientRef) -> Vec<AccessRecord> {
    s.scan(&patient_prefix(patient, b'a'), MAX_INDEX)
        .into_iter()
        .filter_map(|(k, _)| {
            let id = EventId::from_slice(&k[k.len() - 32..])?;
            s.get_json(&access_key(&id))
        })
        .collect()
}
