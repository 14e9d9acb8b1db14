//! The consent module's events and their payloads.

use ledger::rejection::codes as core_codes;
use ledger::{ActorId, EventId, OrgId, PatientRef, Rejection};
use serde::{Deserialize, Serialize};

/// Module name.
pub const MODULE: &str = "consent";

/// Why data is used (FHIR `purpose of use`, reduced to what Pedigree's members need).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// Care of the patient.
    Treatment,
    /// Claims and reimbursement.
    Payment,
    /// Research.
    Research,
    /// Telling the patient about a recall of a device or drug they received.
    RecallNotification,
}

/// What kind of record (FHIR Consent `provision.class`, simplified).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Medication records (dispensing, administration).
    Medication,
    /// Implanted and installed devices.
    Device,
    /// Laboratory results.
    Lab,
    /// Imaging.
    Imaging,
    /// Clinical notes.
    Notes,
    /// Every category.
    All,
}

/// Who a consent is given to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Grantee {
    /// Every actor of an organisation.
    Org(OrgId),
    /// One actor.
    Actor(ActorId),
}

/// `consent/grant`: the patient (through their hospital) allows a grantee to use records
/// of some categories for some purposes during a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grant {
    /// The patient.
    pub patient: PatientRef,
    /// Who may access.
    pub grantee: Grantee,
    /// For what.
    pub purposes: Vec<Purpose>,
    /// Which records.
    pub categories: Vec<Category>,
    /// From when (Unix ms, inclusive).
    pub start: i64,
    /// Until when (Unix ms, exclusive); none means until revoked.
    #[serde(default)]
    pub end: Option<i64>,
}

/// `consent/revoke`: withdraws a consent from the next block on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Revoke {
    /// The grant event's id.
    pub consent: EventId,
}

/// `consent/register_document`: puts an EMR document's pointer and digest on the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterDocument {
    /// The patient.
    pub patient: PatientRef,
    /// The hospital's opaque document id (1-64 of A-Z a-z 0-9 . _ -).
    pub document: String,
    /// SHA-256 of the document.
    pub digest: ledger::Digest,
    /// What kind of record it is.
    pub category: Category,
}

/// `consent/access`: a request to read a document, decided against consent at block time
/// and recorded either way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Access {
    /// The document.
    pub document: String,
    /// Why.
    pub purpose: Purpose,
    /// Set by the custodian's peer when the document it keeps did not match its digest
    /// on the ledger when this access was served: the record then shows the tampering.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tampered: bool,
}

/// `consent/notify_recall`: the implanting hospital records that it told a patient about
/// a recall; allowed only under consent for recall notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyRecall {
    /// The patient.
    pub patient: PatientRef,
    /// The recall event (from the trace module).
    pub recall: EventId,
}

/// A consent event, read from an envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsentEvent {
    /// Grant.
    Grant(Grant),
    /// Revoke.
    Revoke(Revoke),
    /// Register a document.
    RegisterDocument(RegisterDocument),
    /// Access a document.
    Access(Access),
    /// Record a recall notification.
    NotifyRecall(NotifyRecall),
}

fn payload<T: serde::de::DeserializeOwned>(
    kind: &str,
    value: &serde_json::Value,
) -> Result<T, Rejection> {
    T::deserialize(value).map_err(|e| {
        Rejection::new(
            core_codes::BAD_PAYLOAD,
            format!("consent/{kind} payload: {e}"),
        )
    })
}

impl ConsentEvent {
    /// Reads and checks an event's payload.
    pub fn parse(kind: &str, value: &serde_json::Value) -> Result<Self, Rejection> {
        let event = match kind {
            "grant" => Self::Grant(payload(kind, value)?),
            "revoke" => Self::Revoke(payload(kind, value)?),
            "register_document" => Self::RegisterDocument(payload(kind, value)?),
            "access" => Self::Access(payload(kind, value)?),
            "notify_recall" => Self::NotifyRecall(payload(kind, value)?),
            other => {
                return Err(Rejection::new(
                    core_codes::UNKNOWN_KIND,
                    format!("the consent module has no event kind {other:?}"),
                ));
            }
        };
        event.check()?;
        Ok(event)
    }

    fn check(&self) -> Result<(), Rejection> {
        let bad = |m: &str| Err(Rejection::new(core_codes::BAD_PAYLOAD, m.to_string()));
        match self {
            Self::Grant(g) => {
                if g.purposes.is_empty() || g.categories.is_empty() {
                    return bad("a grant needs at least one purpose and one category");
                }
                if g.end.is_some_and(|end| end <= g.start) {
                    return bad("a grant's end must come after its start");
                }
            }
            Self::RegisterDocument(d) => check_document_id(&d.document)?,
            Self::Access(a) => check_document_id(&a.document)?,
            Self::Revoke(_) | Self::NotifyRecall(_) => {}
        }
        Ok(())
    }
}

/// Checks a document id: 1-64 of A-Z a-z 0-9 . _ - (an opaque id, never a name).
pub fn check_document_id(id: &str) -> Result<(), Rejection> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(Rejection::new(
            core_codes::BAD_PAYLOAD,
            "a document id is 1-64 of A-Z a-z 0-9 . _ - (an opaque id, never a name)",
        ))
    }
}
