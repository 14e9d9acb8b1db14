//! The consent module's tables (keys and records) and the one decision rule every access
//! goes through.

use crate::events::{Category, Grantee, Purpose};
use ledger::state::StateViewExt;
use ledger::{ActorId, Digest, EventId, OrgId, PatientRef, StateView};
use serde::{Deserialize, Serialize};

/// Whether a consent is in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentStatus {
    /// Granted and not revoked (its period may still have ended).
    Active,
    /// Withdrawn.
    Revoked,
}

/// A consent as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentRecord {
    /// The grant event's id.
    pub id: EventId,
    /// The patient.
    pub patient: PatientRef,
    /// Who may access.
    pub grantee: Grantee,
    /// For what.
    pub purposes: Vec<Purpose>,
    /// Which records.
    pub categories: Vec<Category>,
    /// From (Unix ms).
    pub start: i64,
    /// Until (Unix ms, exclusive).
    pub end: Option<i64>,
    /// The hospital that recorded it on the patient's behalf.
    pub custodian: OrgId,
    /// In force or withdrawn.
    pub status: ConsentStatus,
    /// When it was withdrawn (block time).
    pub revoked_at: Option<i64>,
}

/// An EMR document's pointer and digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentRecord {
    /// The hospital's document id.
    pub document: String,
    /// The patient.
    pub patient: PatientRef,
    /// SHA-256 of the content kept off-chain.
    pub digest: Digest,
    /// Kind of record.
    pub category: Category,
    /// The hospital keeping it.
    pub custodian: OrgId,
    /// Registering event.
    pub event: EventId,
    /// Block time of registration.
    pub registered_at: i64,
}

/// One access decision, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessRecord {
    /// The access event.
    pub event: EventId,
    /// The document.
    pub document: String,
    /// Who asked.
    pub org: OrgId,
    /// Which actor asked.
    pub actor: ActorId,
    /// Why.
    pub purpose: Purpose,
    /// The decision.
    pub granted: bool,
    /// Stable reason code (`CONSENT`, `CUSTODIAN`, `NO_CONSENT`, ...).
    pub reason: String,
    /// The consent it relied on.
    pub consent: Option<EventId>,
    /// Block time.
    pub time: i64,
    /// The custodian's peer found the stored document did not match its digest.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tampered: bool,
}

/// The outcome of [`decide`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// Access allowed?
    pub granted: bool,
    /// Stable reason: `CUSTODIAN`, `CONSENT`, or why not: `NO_CONSENT`, `CONSENT_REVOKED`,
    /// `CONSENT_EXPIRED`, `CONSENT_NOT_YET_VALID`, `PURPOSE_NOT_COVERED`, `CATEGORY_NOT_COVERED`.
    pub reason: &'static str,
    /// The consent relied on, when granted through one.
    pub consent: Option<EventId>,
}

pub(crate) fn consent_key(id: &EventId) -> Vec<u8> {
    [b"c/".as_slice(), id.as_bytes()].concat()
}

pub(crate) fn patient_prefix(patient: &PatientRef, table: u8) -> Vec<u8> {
    let mut k = b"p/".to_vec();
    k.extend_from_slice(patient.as_str().as_bytes());
    k.extend_from_slice(&[b'/', table, b'/']);
    k
}

pub(crate) fn document_key(document: &str) -> Vec<u8> {
    [b"d/".as_slice(), document.as_bytes()].concat()
}

pub(crate) fn custodian_key(patient: &PatientRef) -> Vec<u8> {
    [b"k/".as_slice(), patient.as_str().as_bytes()].concat()
}

pub(crate) fn access_key(id: &EventId) -> Vec<u8> {
    [b"a/".as_slice(), id.as_bytes()].concat()
}

/// Most consents considered for one patient in one decision.
pub const MAX_CONSENTS_PER_PATIENT: usize = 1000;

/// Every consent recorded for `patient`, oldest grant first by id order.
pub fn consents_of(view: &dyn StateView, patient: &PatientRef) -> Vec<ConsentRecord> {
    view.scan(&patient_prefix(patient, b'c'), MAX_CONSENTS_PER_PATIENT)
        .into_iter()
        .filter_map(|(k, _)| {
            let id = EventId::from_slice(&k[k.len() - 32..])?;
            view.get_json(&consent_key(&id))
        })
        .collect()
}

/// Decides whether `org` (or its `actor`) may use `patient`'s records of `category` for
/// `purpose` at time `at`. The custodian hospital may always use its own records for
/// treatment; anyone else needs an active consent covering grantee, purpose, category and
/// time. When none covers the request, the reason names the closest miss.
pub fn decide(
    view: &dyn StateView,
    patient: &PatientRef,
    org: &OrgId,
    actor: &ActorId,
    purpose: Purpose,
    category: Category,
    at: i64,
) -> Decision {
    let custodian: Option<OrgId> = view.get_json(&custodian_key(patient));
    if purpose == Purpose::Treatment && custodian.as_ref() == Some(org) {
        return Decision {
            granted: true,
            reason: "CUSTODIAN",
            consent: None,
        };
    }
    decide_among(
        &consents_of(view, patient),
        org,
        actor,
        purpose,
        category,
        at,
    )
}

/// The decision over consents already loaded (pure; what [`decide`] uses).
pub fn decide_among<'a>(
    consents: impl IntoIterator<Item = &'a ConsentRecord>,
    org: &OrgId,
    actor: &ActorId,
    purpose: Purpose,
    category: Category,
    at: i64,
) -> Decision {
    // Rank of each way a consent can miss; the smallest miss found is reported.
    let mut closest = (6u8, "NO_CONSENT");
    for c in consents {
        let for_caller = match &c.grantee {
            Grantee::Org(o) => o == org,
            Grantee::Actor(a) => a == actor,
        };
        if !for_caller {
            continue;
        }
        let miss = if !c.purposes.contains(&purpose) {
            Some((5, "PURPOSE_NOT_COVERED"))
        } else if !(c.categories.contains(&category) || c.categories.contains(&Category::All)) {
            Some((4, "CATEGORY_NOT_COVERED"))
        } else if c.status == ConsentStatus::Revoked {
            Some((3, "CONSENT_REVOKED"))
        } else if at < c.start {
            Some((2, "CONSENT_NOT_YET_VALID"))
        } else if c.end.is_some_and(|end| at >= end) {
            Some((1, "CONSENT_EXPIRED"))
        } else {
            None
        };
        match miss {
            None => {
                return Decision {
                    granted: true,
                    reason: "CONSENT",
                    consent: Some(c.id),
                };
            }
            Some(m) if m.0 < closest.0 => closest = m,
            Some(_) => {}
        }
    }
    Decision {
        granted: false,
        reason: closest.1,
        consent: None,
    }
}
