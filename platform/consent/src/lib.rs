//! The `consent` module, after FHIR R4 Consent: a hospital registers the digest of each
//! EMR document it keeps off-chain, grants and revokes patients' consent (grantee,
//! purposes, data categories, period), and every access to a document is decided against
//! the consent in force at block time and recorded, granted or denied. Patients appear
//! only as keyed-hash references; documents never reach the ledger, only their digests.

mod events;
pub mod fhir;
mod index;
mod queries;
mod rules;
mod state;

pub use events::{
    Access, Category, ConsentEvent, Grant, Grantee, MODULE, NotifyRecall, Purpose,
    RegisterDocument, Revoke, check_document_id,
};
pub use index::{CHANGED_TOPIC, ConsentIndex};
pub use queries::{PatientIndex, access, access_log, consent, custodian, patient_index};
pub use rules::{Consent, codes};
pub use state::{
    AccessRecord, ConsentRecord, ConsentStatus, Decision, DocumentRecord, consents_of, decide,
    decide_among,
};

#[cfg(test)]
mod index_tests;
#[cfg(test)]
mod tests;
