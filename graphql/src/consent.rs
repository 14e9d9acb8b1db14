//! The consent module's GraphQL object: a patient's consents, personal index (which
//! records exist about them, at which organisation, who accessed them and when) and
//! access log to read; consents to grant and revoke.
//!
//! Who may: a patient (a [`PatientCaller`], from a token their hospital issued) reads and
//! changes only their own; the patient's hospital (the custodian) reads its patients and
//! grants or revokes with an `admin` or `clinician` role; a regulator reads any patient.
//! Grants and revocations are signed by the peer with the custodial key of the hospital
//! actor (for a patient: the hospital actor who issued their token) and answered once
//! committed. Patient references are never logged or echoed in an error.

use crate::caller::{Caller, Peer};
use crate::errors::{BAD_INPUT, FORBIDDEN, NOT_FOUND, UNAUTHENTICATED, error, internal};
use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use consent::{AccessRecord, ConsentRecord, DocumentRecord};
use ledger::{ActorId, EventId, Ledger, OrgId, OrgRole, PatientRef};
use serde_json::json;
use std::sync::Arc;

/// A patient holding a token from their hospital.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatientCaller {
    /// Who the patient is on the ledger.
    pub patient: PatientRef,
    /// The hospital actor who issued the token and signs the patient's grants and
    /// revocations.
    pub via: ActorId,
}

/// Why data is used.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "consent::Purpose")]
pub enum ConsentPurpose {
    /// Care of the patient.
    Treatment,
    /// Claims and reimbursement.
    Payment,
    /// Research.
    Research,
    /// Telling the patient about a recall.
    RecallNotification,
}

/// What kind of record.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "consent::Category")]
pub enum DataCategory {
    /// Medication records.
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

/// Whether a consent is in force.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "consent::ConsentStatus")]
pub enum ConsentState {
    /// Granted and not revoked (its period may still have ended).
    Active,
    /// Withdrawn.
    Revoked,
}

/// Who a consent is for: exactly one of `org` and `actor`.
#[derive(SimpleObject, InputObject, Debug, Clone, PartialEq, Eq)]
#[graphql(input_name = "GranteeInput")]
pub struct Grantee {
    /// Every actor of this organisation.
    pub org: Option<String>,
    /// This one actor.
    pub actor: Option<String>,
}

/// A patient's consent (FHIR R4 Consent, reduced).
#[derive(SimpleObject, Debug, Clone)]
pub struct Consent {
    /// The grant event's id.
    pub id: ID,
    /// The patient's pseudonymous reference.
    pub patient: String,
    /// Who may access.
    pub grantee: Grantee,
    /// For what.
    pub purposes: Vec<ConsentPurpose>,
    /// Which records.
    pub categories: Vec<DataCategory>,
    /// From, Unix milliseconds (inclusive).
    pub start: i64,
    /// Until, Unix milliseconds (exclusive); none: until revoked.
    pub end: Option<i64>,
    /// In force or withdrawn.
    pub status: ConsentState,
    /// The hospital that keeps the patient's records.
    pub custodian: String,
    /// When it was withdrawn (block time, Unix milliseconds).
    pub revoked_at: Option<i64>,
}

impl From<ConsentRecord> for Consent {
    fn from(c: ConsentRecord) -> Self {
        let (org, actor) = match c.grantee {
            consent::Grantee::Org(o) => (Some(o.to_string()), None),
            consent::Grantee::Actor(a) => (None, Some(a.to_string())),
        };
        Self {
            id: ID(c.id.to_hex()),
            patient: c.patient.as_str().to_string(),
            grantee: Grantee { org, actor },
            purposes: c.purposes.into_iter().map(Into::into).collect(),
            categories: c.categories.into_iter().map(Into::into).collect(),
            start: c.start,
            end: c.end,
            status: c.status.into(),
            custodian: c.custodian.to_string(),
            revoked_at: c.revoked_at,
        }
    }
}

/// An EMR document's pointer and digest (the content stays at the custodian's peer).
#[derive(SimpleObject, Debug, Clone)]
pub struct EmrDocument {
    /// The hospital's opaque document id.
    pub document: String,
    /// SHA-256 of the content, lowercase hex.
    pub digest: String,
    /// Kind of record.
    pub category: DataCategory,
    /// The hospital keeping it.
    pub custodian: String,
    /// The registering event.
    pub event: ID,
    /// When it was registered (block time, Unix milliseconds).
    pub registered_at: i64,
}

impl From<DocumentRecord> for EmrDocument {
    fn from(d: DocumentRecord) -> Self {
        Self {
            document: d.document,
            digest: d.digest.to_hex(),
            category: d.category.into(),
            custodian: d.custodian.to_string(),
            event: ID(d.event.to_hex()),
            registered_at: d.registered_at,
        }
    }
}

/// One access decision on a document, as recorded on the ledger.
#[derive(SimpleObject, Debug, Clone)]
pub struct EmrAccess {
    /// The access event.
    pub event: ID,
    /// The document.
    pub document: String,
    /// The organisation that asked.
    pub org: String,
    /// The actor that asked.
    pub actor: String,
    /// Why.
    pub purpose: ConsentPurpose,
    /// Allowed?
    pub granted: bool,
    /// Stable reason: `CUSTODIAN`, `CONSENT`, or why not (`NO_CONSENT`,
    /// `CONSENT_REVOKED`, `CONSENT_EXPIRED`, ...).
    pub reason: String,
    /// The consent relied on.
    pub consent: Option<ID>,
    /// Block time, Unix milliseconds.
    pub time: i64,
    /// The stored document did not match its digest when this access was served.
    pub tampered: bool,
}

impl From<AccessRecord> for EmrAccess {
    fn from(a: AccessRecord) -> Self {
        Self {
            event: ID(a.event.to_hex()),
            document: a.document,
            org: a.org.to_string(),
            actor: a.actor.to_string(),
            purpose: a.purpose.into(),
            granted: a.granted,
            reason: a.reason,
            consent: a.consent.map(|c| ID(c.to_hex())),
            time: a.time,
            tampered: a.tampered,
        }
    }
}

/// Everything the ledger knows about one patient, for that patient.
#[derive(SimpleObject, Debug, Clone)]
pub struct PersonalIndex {
    /// Their consents, in force or not.
    pub consents: Vec<Consent>,
    /// Which records exist about them and at which organisation.
    pub documents: Vec<EmrDocument>,
    /// Who accessed them, when, and whether it was allowed; oldest first.
    pub accesses: Vec<EmrAccess>,
}

/// What `grantConsent` takes.
#[derive(InputObject, Debug, Clone)]
pub struct GrantConsentInput {
    /// The patient's reference (a patient's own token may leave it out).
    pub patient: Option<String>,
    /// Who may access: exactly one of `org` and `actor`.
    pub grantee: Grantee,
    /// For what.
    pub purposes: Vec<ConsentPurpose>,
    /// Which records.
    pub categories: Vec<DataCategory>,
    /// From, Unix milliseconds; default: now.
    pub start: Option<i64>,
    /// Until, Unix milliseconds (exclusive); none: until revoked.
    pub end: Option<i64>,
}

/// A member or a patient.
enum Who<'a> {
    Member(&'a Caller),
    Patient(&'a PatientCaller),
}

fn who<'a>(ctx: &Context<'a>) -> Result<Who<'a>> {
    if let Some(c) = ctx.data_opt::<Caller>() {
        return Ok(Who::Member(c));
    }
    if let Some(p) = ctx.data_opt::<PatientCaller>() {
        return Ok(Who::Patient(p));
    }
    Err(error(
        UNAUTHENTICATED,
        "send a bearer token: `Authorization: Bearer <token>` (see `pedigree token create`)",
    ))
}

fn ledger<'a>(ctx: &Context<'a>) -> Result<&'a Arc<Ledger>> {
    ctx.data::<Arc<Ledger>>()
}

fn patient_ref(text: &str) -> Result<PatientRef> {
    // Never echo the text: it may be a name or a record number.
    PatientRef::new(text).map_err(|_| {
        error(
            BAD_INPUT,
            "a patient reference is 64 lowercase hex digits (the keyed hash the hospital holds), never a name or record number",
        )
    })
}

/// The patient a read is about, once the caller may read them.
fn readable(ctx: &Context<'_>, patient: Option<&str>) -> Result<PatientRef> {
    match who(ctx)? {
        Who::Patient(p) => match patient {
            Some(text) if patient_ref(text)? != p.patient => {
                Err(error(FORBIDDEN, "a patient reads only their own records"))
            }
            _ => Ok(p.patient.clone()),
        },
        Who::Member(c) => {
            let patient = patient_ref(patient.ok_or_else(|| {
                error(BAD_INPUT, "name the patient: `patient: \"<reference>\"`")
            })?)?;
            if c.is_regulator() {
                return Ok(patient);
            }
            let custodian = consent::custodian(ledger(ctx)?, &patient).map_err(internal)?;
            if c.org_role == OrgRole::Hospital && custodian.as_ref() == Some(&c.org) {
                Ok(patient)
            } else {
                Err(error(
                    FORBIDDEN,
                    "only the patient, the hospital keeping their records and a regulator read a patient's consents and access log",
                ))
            }
        }
    }
}

/// The actor who signs a grant or revocation for `patient`, once the caller may.
fn signer_for(ctx: &Context<'_>, patient: &PatientRef) -> Result<ActorId> {
    match who(ctx)? {
        Who::Patient(p) if &p.patient == patient => Ok(p.via.clone()),
        Who::Patient(_) => Err(error(
            FORBIDDEN,
            "a patient grants and revokes only their own consents",
        )),
        Who::Member(c) => {
            let roles = ["admin", "clinician"];
            if c.org_role == OrgRole::Hospital && c.roles.iter().any(|r| roles.contains(&&**r)) {
                Ok(c.actor.clone())
            } else {
                Err(error(
                    FORBIDDEN,
                    format!(
                        "{} may not grant or revoke consents: it takes an admin or clinician of the patient's hospital",
                        c.actor
                    ),
                ))
            }
        }
    }
}

async fn submit(
    ctx: &Context<'_>,
    actor: &ActorId,
    kind: &'static str,
    payload: serde_json::Value,
) -> Result<EventId> {
    let peer = ctx.data::<Arc<dyn Peer>>()?;
    let receipt = peer
        .submit_to(consent::MODULE, actor, vec![(kind, payload)])
        .await
        .map_err(|r| error(&r.code, r.message))?;
    match receipt.results.first() {
        Some((id, None)) => Ok(*id),
        Some((id, Some(code))) => Err(error(
            code,
            format!(
                "event {id} was ordered into block {} but refused when applied ({code}); nothing changed",
                receipt.block_height
            ),
        )),
        None => Err(error(
            crate::errors::INTERNAL,
            "no event was committed; try again",
        )),
    }
}

fn consent_by_id(ctx: &Context<'_>, id: &EventId) -> Result<Consent> {
    consent::consent(ledger(ctx)?, id)
        .map_err(internal)?
        .map(Consent::from)
        .ok_or_else(|| error(NOT_FOUND, format!("no consent {id}")))
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Consent queries.
#[derive(Default)]
pub struct ConsentQuery;

#[Object]
impl ConsentQuery {
    /// A patient's consents, in force or not (a patient's own token may leave out
    /// `patient`).
    async fn consents(&self, ctx: &Context<'_>, patient: Option<String>) -> Result<Vec<Consent>> {
        let patient = readable(ctx, patient.as_deref())?;
        let index = consent::patient_index(ledger(ctx)?, &patient).map_err(internal)?;
        Ok(index.consents.into_iter().map(Into::into).collect())
    }

    /// A patient's personal index: their consents, which records exist about them and
    /// where, and who accessed them when.
    async fn personal_index(
        &self,
        ctx: &Context<'_>,
        patient: Option<String>,
    ) -> Result<PersonalIndex> {
        let patient = readable(ctx, patient.as_deref())?;
        let index = consent::patient_index(ledger(ctx)?, &patient).map_err(internal)?;
        Ok(PersonalIndex {
            consents: index.consents.into_iter().map(Into::into).collect(),
            documents: index.documents.into_iter().map(Into::into).collect(),
            accesses: index.accesses.into_iter().map(Into::into).collect(),
        })
    }

    /// Every access decision on a patient's documents, oldest first.
    async fn access_log(
        &self,
        ctx: &Context<'_>,
        patient: Option<String>,
    ) -> Result<Vec<EmrAccess>> {
        let patient = readable(ctx, patient.as_deref())?;
        let log = consent::access_log(ledger(ctx)?, &patient).map_err(internal)?;
        Ok(log.into_iter().map(Into::into).collect())
    }
}

/// Consent mutations.
#[derive(Default)]
pub struct ConsentMutation;

#[Object]
impl ConsentMutation {
    /// Grants a consent; answers once committed.
    async fn grant_consent(&self, ctx: &Context<'_>, input: GrantConsentInput) -> Result<Consent> {
        let patient = match (&input.patient, who(ctx)?) {
            (Some(text), _) => patient_ref(text)?,
            (None, Who::Patient(p)) => p.patient.clone(),
            (None, Who::Member(_)) => {
                return Err(error(
                    BAD_INPUT,
                    "name the patient: `patient: \"<reference>\"`",
                ));
            }
        };
        let actor = signer_for(ctx, &patient)?;
        let grantee = match (&input.grantee.org, &input.grantee.actor) {
            (Some(o), None) => {
                json!({"org": o.parse::<OrgId>().map_err(|e| error(BAD_INPUT, e.to_string()))?})
            }
            (None, Some(a)) => {
                json!({"actor": a.parse::<ActorId>().map_err(|e| error(BAD_INPUT, e.to_string()))?})
            }
            _ => {
                return Err(error(
                    BAD_INPUT,
                    "name exactly one of grantee.org and grantee.actor",
                ));
            }
        };
        let purposes: Vec<consent::Purpose> = input.purposes.iter().map(|p| (*p).into()).collect();
        let categories: Vec<consent::Category> =
            input.categories.iter().map(|c| (*c).into()).collect();
        let payload = json!({
            "patient": patient,
            "grantee": grantee,
            "purposes": purposes,
            "categories": categories,
            "start": input.start.unwrap_or_else(now_ms),
            "end": input.end,
        });
        let id = submit(ctx, &actor, "grant", payload).await?;
        consent_by_id(ctx, &id)
    }

    /// Revokes a consent from the next access on; answers once committed.
    async fn revoke_consent(&self, ctx: &Context<'_>, consent: ID) -> Result<Consent> {
        let id: EventId = consent
            .parse()
            .map_err(|_| error(BAD_INPUT, "a consent id is 64 lowercase hex digits"))?;
        let record = consent::consent(ledger(ctx)?, &id)
            .map_err(internal)?
            .ok_or_else(|| error(NOT_FOUND, format!("no consent {id}")))?;
        let actor = signer_for(ctx, &record.patient)?;
        submit(ctx, &actor, "revoke", json!({"consent": id})).await?;
        consent_by_id(ctx, &id)
    }
}
