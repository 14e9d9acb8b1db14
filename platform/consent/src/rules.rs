//! Validate and apply for the consent module. Grants, revocations and documents come
//! from the patient's hospital (the custodian: the first hospital to record the patient);
//! accesses come from any member and are decided, never refused for lack of consent:
//! a denied access is recorded as such.

use crate::events::{
    Access, Category, ConsentEvent, Grant, MODULE, NotifyRecall, Purpose, RegisterDocument, Revoke,
};
use crate::state::{
    AccessRecord, ConsentRecord, ConsentStatus, DocumentRecord, access_key, consent_key,
    custodian_key, decide, document_key, patient_prefix,
};
use ledger::state::StateViewExt;
use ledger::{
    BlockCtx, Effects, Envelope, Module, Notification, OrgId, OrgRole, PatientRef, Rejection,
    StateTx, StateView,
};
use serde_json::json;

/// Stable rejection codes of the consent module.
pub mod codes {
    /// Only a hospital records consents and documents for its patients.
    pub const NOT_A_HOSPITAL: &str = "NOT_A_HOSPITAL";
    /// The patient's records are kept by another hospital.
    pub const NOT_CUSTODIAN: &str = "NOT_CUSTODIAN";
    /// No consent with that id.
    pub const UNKNOWN_CONSENT: &str = "UNKNOWN_CONSENT";
    /// The consent was already revoked.
    pub const ALREADY_REVOKED: &str = "ALREADY_REVOKED";
    /// No document with that id.
    pub const UNKNOWN_DOCUMENT: &str = "UNKNOWN_DOCUMENT";
    /// A document with that id is already registered.
    pub const DUPLICATE_DOCUMENT: &str = "DUPLICATE_DOCUMENT";
    /// The grantee organisation or actor is not a member.
    pub const UNKNOWN_GRANTEE: &str = "UNKNOWN_GRANTEE";
    /// No consent covers the recall notification.
    pub const NO_RECALL_CONSENT: &str = "NO_RECALL_CONSENT";
}

/// The consent module.
#[derive(Debug, Default, Clone, Copy)]
pub struct Consent;

struct Ctx<'a> {
    event: &'a Envelope,
    time: i64,
}

fn hospital_custodian(
    state: &dyn StateView,
    event: &Envelope,
    patient: &PatientRef,
) -> Result<(), Rejection> {
    let role = state.consortium().organization(event.org()).map(|o| o.role);
    if role != Some(OrgRole::Hospital) {
        return Err(Rejection::new(
            codes::NOT_A_HOSPITAL,
            "only a hospital records consents and documents for its patients",
        ));
    }
    match state.get_json::<OrgId>(&custodian_key(patient)) {
        Some(custodian) if &custodian != event.org() => Err(Rejection::new(
            codes::NOT_CUSTODIAN,
            format!("this patient's records are kept by {custodian}; ask them"),
        )),
        _ => Ok(()),
    }
}

fn check(state: &dyn StateView, event: &ConsentEvent, ctx: &Ctx<'_>) -> Result<(), Rejection> {
    match event {
        ConsentEvent::Grant(g) => {
            hospital_custodian(state, ctx.event, &g.patient)?;
            let known = match &g.grantee {
                crate::Grantee::Org(o) => state.consortium().organization(o).is_some(),
                crate::Grantee::Actor(a) => state.directory().actor(a).is_some(),
            };
            if !known {
                return Err(Rejection::new(
                    codes::UNKNOWN_GRANTEE,
                    "the grantee is not a member of the consortium",
                ));
            }
        }
        ConsentEvent::Revoke(r) => {
            let c: ConsentRecord = state.get_json(&consent_key(&r.consent)).ok_or_else(|| {
                Rejection::new(codes::UNKNOWN_CONSENT, format!("no consent {}", r.consent))
            })?;
            hospital_custodian(state, ctx.event, &c.patient)?;
            if c.status == ConsentStatus::Revoked {
                return Err(Rejection::new(
                    codes::ALREADY_REVOKED,
                    "that consent was already revoked",
                ));
            }
        }
        ConsentEvent::RegisterDocument(d) => {
            hospital_custodian(state, ctx.event, &d.patient)?;
            if state.get(&document_key(&d.document)).is_some() {
                return Err(Rejection::new(
                    codes::DUPLICATE_DOCUMENT,
                    format!("document {} is already registered", d.document),
                ));
            }
        }
        ConsentEvent::Access(a) => {
            if state.get(&document_key(&a.document)).is_none() {
                return Err(Rejection::new(
                    codes::UNKNOWN_DOCUMENT,
                    format!("no document {}", a.document),
                ));
            }
        }
        ConsentEvent::NotifyRecall(n) => {
            hospital_custodian(state, ctx.event, &n.patient)?;
            let d = decide(
                state,
                &n.patient,
                ctx.event.org(),
                ctx.event.actor(),
                Purpose::RecallNotification,
                Category::Device,
                ctx.time,
            );
            if !d.granted {
                return Err(Rejection::new(
                    codes::NO_RECALL_CONSENT,
                    format!(
                        "the patient has not consented to recall notification by this hospital ({})",
                        d.reason
                    ),
                ));
            }
        }
    }
    Ok(())
}

impl Module for Consent {
    fn name(&self) -> &'static str {
        MODULE
    }

    fn validate(&self, state: &dyn StateView, event: &Envelope) -> Result<(), Rejection> {
        let parsed = ConsentEvent::parse(event.kind(), event.payload())?;
        // Admission has no block time; the creation time stands in for the early check,
        // and apply decides again with the block's time.
        check(
            state,
            &parsed,
            &Ctx {
                event,
                time: event.body().created_at,
            },
        )
    }

    fn apply(
        &self,
        state: &mut StateTx<'_>,
        event: &Envelope,
        block: &BlockCtx,
    ) -> Result<Effects, Rejection> {
        let parsed = ConsentEvent::parse(event.kind(), event.payload())?;
        check(
            state,
            &parsed,
            &Ctx {
                event,
                time: block.time,
            },
        )?;
        match parsed {
            ConsentEvent::Grant(g) => Ok(grant(state, event, block, g)),
            ConsentEvent::Revoke(r) => Ok(revoke(state, block, r)),
            ConsentEvent::RegisterDocument(d) => Ok(register(state, event, block, d)),
            ConsentEvent::Access(a) => Ok(access(state, event, block, a)),
            ConsentEvent::NotifyRecall(n) => Ok(notify(state, event, block, n)),
        }
    }
}

/// Tells the peers' in-memory indexes (`crate::ConsentIndex`) which patient changed.
fn changed(patient: &PatientRef, custodian: &OrgId) -> Notification {
    Notification {
        topic: crate::index::CHANGED_TOPIC.into(),
        orgs: vec![custodian.clone()],
        body: json!({"patient": patient}),
    }
}

fn patient_index(patient: &PatientRef) -> Vec<u8> {
    format!("consent-patient:{}", patient.as_str()).into_bytes()
}

/// Files `id` under the patient in `table` (`c` consents, `d` documents, `a` accesses),
/// so the patient's index is a prefix scan.
fn link_patient(state: &mut StateTx<'_>, patient: &PatientRef, table: u8, id: &[u8]) {
    state.put(
        &[patient_prefix(patient, table), id.to_vec()].concat(),
        Vec::new(),
    );
}

fn grant(state: &mut StateTx<'_>, event: &Envelope, block: &BlockCtx, g: Grant) -> Effects {
    state.put_json(&custodian_key(&g.patient), event.org());
    let record = ConsentRecord {
        id: block.event_id,
        patient: g.patient.clone(),
        grantee: g.grantee,
        purposes: g.purposes,
        categories: g.categories,
        start: g.start,
        end: g.end,
        custodian: event.org().clone(),
        status: ConsentStatus::Active,
        revoked_at: None,
    };
    state.put_json(&consent_key(&block.event_id), &record);
    link_patient(state, &g.patient, b'c', block.event_id.as_bytes());
    Effects {
        index: vec![patient_index(&g.patient)],
        notifications: vec![changed(&g.patient, event.org())],
    }
}

fn revoke(state: &mut StateTx<'_>, block: &BlockCtx, r: Revoke) -> Effects {
    let mut c: ConsentRecord = state
        .get_json(&consent_key(&r.consent))
        .expect("checked above");
    c.status = ConsentStatus::Revoked;
    c.revoked_at = Some(block.time);
    state.put_json(&consent_key(&r.consent), &c);
    Effects {
        index: vec![patient_index(&c.patient)],
        notifications: vec![changed(&c.patient, &c.custodian)],
    }
}

fn register(
    state: &mut StateTx<'_>,
    event: &Envelope,
    block: &BlockCtx,
    d: RegisterDocument,
) -> Effects {
    state.put_json(&custodian_key(&d.patient), event.org());
    let record = DocumentRecord {
        document: d.document.clone(),
        patient: d.patient.clone(),
        digest: d.digest,
        category: d.category,
        custodian: event.org().clone(),
        event: block.event_id,
        registered_at: block.time,
    };
    state.put_json(&document_key(&d.document), &record);
    link_patient(state, &d.patient, b'd', d.document.as_bytes());
    Effects {
        index: vec![patient_index(&d.patient)],
        notifications: vec![changed(&d.patient, event.org())],
    }
}

fn access(state: &mut StateTx<'_>, event: &Envelope, block: &BlockCtx, a: Access) -> Effects {
    let doc: DocumentRecord = state
        .get_json(&document_key(&a.document))
        .expect("checked above");
    let d = decide(
        state,
        &doc.patient,
        event.org(),
        event.actor(),
        a.purpose,
        doc.category,
        block.time,
    );
    let record = AccessRecord {
        event: block.event_id,
        document: a.document.clone(),
        org: event.org().clone(),
        actor: event.actor().clone(),
        purpose: a.purpose,
        granted: d.granted,
        reason: d.reason.to_string(),
        consent: d.consent,
        time: block.time,
        tampered: a.tampered,
    };
    state.put_json(&access_key(&block.event_id), &record);
    // time first, so the patient's access log reads oldest first
    let entry = [
        block.time.to_be_bytes().as_slice(),
        block.event_id.as_bytes(),
    ]
    .concat();
    link_patient(state, &doc.patient, b'a', &entry);
    let mut notifications = Vec::new();
    if !d.granted {
        notifications.push(Notification {
            topic: "emr_access_denied".into(),
            orgs: vec![doc.custodian.clone()],
            body: json!({"document": a.document, "org": event.org(), "purpose": a.purpose, "reason": d.reason}),
        });
    }
    if a.tampered {
        notifications.push(Notification {
            topic: "emr_tampered".into(),
            orgs: vec![doc.custodian.clone()],
            body: json!({"document": a.document, "access": block.event_id}),
        });
    }
    Effects {
        index: vec![
            patient_index(&doc.patient),
            format!("consent-document:{}", a.document).into_bytes(),
        ],
        notifications,
    }
}

fn notify(state: &mut StateTx<'_>, event: &Envelope, block: &BlockCtx, n: NotifyRecall) -> Effects {
    let key = [b"n/".as_slice(), block.event_id.as_bytes()].concat();
    state.put_json(
        &key,
        &json!({"patient": n.patient, "recall": n.recall, "org": event.org(), "time": block.time}),
    );
    Effects {
        index: vec![
            patient_index(&n.patient),
            format!("consent-recall:{}", n.recall).into_bytes(),
        ],
        notifications: vec![],
    }
}
