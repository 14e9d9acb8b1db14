//! An in-memory copy of the consent state that access decisions read: per patient the
//! custodian hospital and the consents by grantee (organisation or actor), and every
//! document's pointer and digest. It is loaded from committed state once, then kept up
//! to date from the ledger's commit notices: the module's `grant`, `revoke` and
//! `register_document` raise a `consent_changed` notification naming the patient, and the
//! index reloads that patient from committed state. [`ConsentIndex::decide`] answers
//! exactly what [`crate::decide`] answers over the same state (a property test holds it
//! to that), without touching the store.
//!
//! The index also keeps revoked consents, so a refusal names the same closest miss as
//! the state-based rule; and it keeps all of a patient's consents, where the state-based
//! rule reads at most [`crate::state::MAX_CONSENTS_PER_PATIENT`].

use crate::Grantee;
use crate::events::{Category, MODULE, Purpose};
use crate::state::{
    ConsentRecord, Decision, DocumentRecord, consent_key, custodian_key, decide_among,
    document_key, patient_prefix,
};
use ledger::state::StateViewExt;
use ledger::{ActorId, CommitNotice, Ledger, OrgId, PatientRef, StateView, StoreError};
use parking_lot::{Condvar, Mutex, RwLock};
use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

/// The notification topic the module raises when a patient's consents or documents change.
pub const CHANGED_TOPIC: &str = "consent_changed";

/// One patient's consents, as the index holds them.
#[derive(Debug, Default, Clone)]
struct PatientEntry {
    custodian: Option<OrgId>,
    /// Consents to whole organisations, each list in grant-id order.
    by_org: HashMap<OrgId, Vec<ConsentRecord>>,
    /// Consents to single actors, each list in grant-id order.
    by_actor: HashMap<ActorId, Vec<ConsentRecord>>,
}

impl PatientEntry {
    fn load(view: &dyn StateView, patient: &PatientRef) -> Self {
        let mut entry = Self {
            custodian: view.get_json(&custodian_key(patient)),
            ..Self::default()
        };
        let mut consents = scan_all_consents(view, patient);
        consents.sort_by_key(|c| c.id);
        for c in consents {
            match &c.grantee {
                Grantee::Org(o) => entry.by_org.entry(o.clone()).or_default().push(c),
                Grantee::Actor(a) => entry.by_actor.entry(a.clone()).or_default().push(c),
            }
        }
        entry
    }
}

/// Every consent of a patient, however many.
fn scan_all_consents(view: &dyn StateView, patient: &PatientRef) -> Vec<ConsentRecord> {
    view.scan(&patient_prefix(patient, b'c'), usize::MAX)
        .into_iter()
        .filter_map(|(k, _)| {
            let id = ledger::EventId::from_slice(&k[k.len() - 32..])?;
            view.get_json(&consent_key(&id))
        })
        .collect()
}

/// Documents of a patient.
fn documents_of(view: &dyn StateView, patient: &PatientRef) -> Vec<DocumentRecord> {
    let prefix = patient_prefix(patient, b'd');
    view.scan(&prefix, usize::MAX)
        .into_iter()
        .filter_map(|(k, _)| {
            let doc = std::str::from_utf8(&k[prefix.len()..]).ok()?;
            view.get_json(&document_key(doc))
        })
        .collect()
}

#[derive(Debug, Default)]
struct Tables {
    /// The last block whose notice was applied (or that was loaded).
    height: u64,
    patients: HashMap<PatientRef, PatientEntry>,
    documents: HashMap<String, DocumentRecord>,
}

/// The in-memory consent index of one ledger.
#[derive(Debug, Default)]
pub struct ConsentIndex {
    tables: RwLock<Tables>,
    /// Signalled after each applied notice, for [`ConsentIndex::wait_for`].
    applied: Condvar,
    applied_lock: Mutex<()>,
}

/// Merges two lists ordered by grant id into one ordered walk.
fn merged<'a>(
    a: &'a [ConsentRecord],
    b: &'a [ConsentRecord],
) -> impl Iterator<Item = &'a ConsentRecord> {
    let (mut i, mut j) = (0, 0);
    std::iter::from_fn(move || {
        let take_a = match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) => x.id <= y.id,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => return None,
        };
        if take_a {
            i += 1;
            Some(&a[i - 1])
        } else {
            j += 1;
            Some(&b[j - 1])
        }
    })
}

impl ConsentIndex {
    /// Loads the index from `ledger`'s committed state and keeps it up to date from its
    /// commit notices on a thread of its own, which ends when the ledger or the index is
    /// dropped.
    pub fn start(ledger: &Arc<Ledger>) -> Result<Arc<Self>, StoreError> {
        // Watch first, so no block committed during the load is missed; a notice for a
        // block the load already saw is applied again, which changes nothing.
        let notices = ledger.watch();
        let index = Arc::new(Self::load(ledger)?);
        let weak_index = Arc::downgrade(&index);
        let weak_ledger: Weak<Ledger> = Arc::downgrade(ledger);
        std::thread::Builder::new()
            .name("consent-index".into())
            .spawn(move || {
                for notice in notices {
                    let (Some(index), Some(ledger)) = (weak_index.upgrade(), weak_ledger.upgrade())
                    else {
                        return;
                    };
                    if let Err(e) = index.apply(&ledger, &notice) {
                        // Fail closed: the index stays behind and access waits, then refuses.
                        tracing::error!(
                            code = e.code(),
                            height = notice.height,
                            "the consent index could not read committed state"
                        );
                    }
                }
            })
            .expect("starting the consent index thread");
        Ok(index)
    }

    /// The index over `ledger`'s committed state now, not kept up to date.
    pub fn load(ledger: &Ledger) -> Result<Self, StoreError> {
        let height = ledger.head().height;
        let tables = read(ledger, |s| {
            let mut t = Tables {
                height,
                ..Tables::default()
            };
            for (k, _) in s.scan(b"k/", usize::MAX) {
                let Some(patient) = std::str::from_utf8(&k[2..])
                    .ok()
                    .and_then(|p| PatientRef::new(p).ok())
                else {
                    continue;
                };
                t.documents.extend(
                    documents_of(s, &patient)
                        .into_iter()
                        .map(|d| (d.document.clone(), d)),
                );
                let entry = PatientEntry::load(s, &patient);
                t.patients.insert(patient, entry);
            }
            t
        })?;
        Ok(Self {
            tables: RwLock::new(tables),
            ..Self::default()
        })
    }

    /// Applies one commit notice: every patient it names is reloaded from committed state.
    pub fn apply(&self, ledger: &Ledger, notice: &CommitNotice) -> Result<(), StoreError> {
        let patients: Vec<PatientRef> = notice
            .notifications
            .iter()
            .filter(|n| n.topic == CHANGED_TOPIC)
            .filter_map(|n| serde_json::from_value(n.body.get("patient")?.clone()).ok())
            .collect();
        if !patients.is_empty() {
            let loaded = read(ledger, |s| {
                patients
                    .iter()
                    .map(|p| (p.clone(), PatientEntry::load(s, p), documents_of(s, p)))
                    .collect::<Vec<_>>()
            })?;
            let mut t = self.tables.write();
            for (p, entry, docs) in loaded {
                t.patients.insert(p, entry);
                t.documents
                    .extend(docs.into_iter().map(|d| (d.document.clone(), d)));
            }
            t.height = t.height.max(notice.height);
        } else {
            let mut t = self.tables.write();
            t.height = t.height.max(notice.height);
        }
        let _guard = self.applied_lock.lock();
        self.applied.notify_all();
        Ok(())
    }

    /// The last block the index reflects.
    pub fn height(&self) -> u64 {
        self.tables.read().height
    }

    /// Waits (at most `timeout`) until the index reflects block `height`; false when it
    /// did not get there in time.
    pub fn wait_for(&self, height: u64, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut guard = self.applied_lock.lock();
        while self.height() < height {
            if self.applied.wait_until(&mut guard, deadline).timed_out() {
                return self.height() >= height;
            }
        }
        true
    }

    /// A document's pointer and digest.
    pub fn document(&self, document: &str) -> Option<DocumentRecord> {
        self.tables.read().documents.get(document).cloned()
    }

    /// The same decision as [`crate::decide`] over the state the index reflects.
    pub fn decide(
        &self,
        patient: &PatientRef,
        org: &OrgId,
        actor: &ActorId,
        purpose: Purpose,
        category: Category,
        at: i64,
    ) -> Decision {
        let t = self.tables.read();
        let Some(entry) = t.patients.get(patient) else {
            return decide_among(std::iter::empty(), org, actor, purpose, category, at);
        };
        if purpose == Purpose::Treatment && entry.custodian.as_ref() == Some(org) {
            return Decision {
                granted: true,
                reason: "CUSTODIAN",
                consent: None,
            };
        }
        let none: &[ConsentRecord] = &[];
        let for_org = entry.by_org.get(org).map_or(none, Vec::as_slice);
        let for_actor = entry.by_actor.get(actor).map_or(none, Vec::as_slice);
        decide_among(
            merged(for_org, for_actor),
            org,
            actor,
            purpose,
            category,
            at,
        )
    }

    /// Decides access to a document for `org`'s `actor`: `None` when the index holds no
    /// such document.
    pub fn decide_document(
        &self,
        document: &str,
        org: &OrgId,
        actor: &ActorId,
        purpose: Purpose,
        at: i64,
    ) -> Option<(DocumentRecord, Decision)> {
        let doc = self.document(document)?;
        let d = self.decide(&doc.patient, org, actor, purpose, doc.category, at);
        Some((doc, d))
    }
}

/// Reads the module's committed state.
pub(crate) fn read<T>(
    ledger: &Ledger,
    f: impl FnOnce(&dyn StateView) -> T,
) -> Result<T, StoreError> {
    ledger.read(MODULE, f)
}
