//! FHIR R4 Consent in and out. Import turns an active `permit` Consent into grants: the
//! FHIR patient reference becomes a keyed hash with the hospital's key (the name and any
//! record number never leave the hospital), and each FHIR actor must map to a consortium
//! organisation or actor. What the model does not hold (deny provisions, inactive
//! statuses, unmapped actors, unknown purposes) is refused with a stable code.

use crate::events::{Category, Grant, Grantee, Purpose};
use crate::state::{ConsentRecord, ConsentStatus};
use hmac::{Hmac, Mac};
use ledger::PatientRef;
use serde_json::{Value, json};
use sha2::Sha256;
use std::collections::BTreeMap;

/// Why a FHIR resource could not be imported. `code` is stable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct FhirError {
    /// Stable code, e.g. `FHIR_DENY_NOT_SUPPORTED`.
    pub code: &'static str,
    /// What to do about it.
    pub message: String,
}

fn refuse(code: &'static str, message: impl Into<String>) -> FhirError {
    FhirError {
        code,
        message: message.into(),
    }
}

/// What an import needs from the hospital: its key for patient references and how FHIR
/// references (`Organization/x`, `Practitioner/y`) map to consortium members.
pub struct ImportContext<'a> {
    /// Secret key of the keyed hash (kept by the hospital, never on the ledger).
    pub patient_key: &'a [u8],
    /// FHIR reference → grantee.
    pub grantees: &'a BTreeMap<String, Grantee>,
}

/// The pseudonymous reference of a FHIR patient reference: HMAC-SHA-256 under the
/// hospital's key, hex.
pub fn patient_ref(key: &[u8], fhir_reference: &str) -> PatientRef {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(fhir_reference.as_bytes());
    PatientRef::new(&hex::encode(mac.finalize().into_bytes())).expect("64 hex digits")
}

const PURPOSE_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/v3-ActReason";
const PEDIGREE_PURPOSE_SYSTEM: &str = "urn:pedigree:purpose";
const RESOURCE_TYPES: &str = "http://hl7.org/fhir/resource-types";

fn purpose_from(code: &str) -> Option<Purpose> {
    Some(match code {
        "TREAT" | "ETREAT" | "POPHLTH" => Purpose::Treatment,
        "HPAYMT" | "CLMATTCH" | "COVAUTH" | "COVERAGE" | "ELIGDTRM" => Purpose::Payment,
        "HRESCH" | "CLINTRCH" | "CLINTRL" => Purpose::Research,
        "recall_notification" => Purpose::RecallNotification,
        _ => return None,
    })
}

fn purpose_code(p: Purpose) -> (&'static str, &'static str) {
    match p {
        Purpose::Treatment => (PURPOSE_SYSTEM, "TREAT"),
        Purpose::Payment => (PURPOSE_SYSTEM, "HPAYMT"),
        Purpose::Research => (PURPOSE_SYSTEM, "HRESCH"),
        Purpose::RecallNotification => (PEDIGREE_PURPOSE_SYSTEM, "recall_notification"),
    }
}

fn category_from(resource_type: &str) -> Option<Category> {
    Some(match resource_type {
        "MedicationDispense"
        | "MedicationRequest"
        | "MedicationAdministration"
        | "MedicationStatement" => Category::Medication,
        "Device" | "DeviceUseStatement" => Category::Device,
        "Observation" | "DiagnosticReport" | "Specimen" => Category::Lab,
        "ImagingStudy" | "Media" => Category::Imaging,
        "DocumentReference" | "Composition" | "ClinicalImpression" => Category::Notes,
        _ => return None,
    })
}

fn category_type(c: Category) -> &'static str {
    match c {
        Category::Medication => "MedicationDispense",
        Category::Device => "Device",
        Category::Lab => "Observation",
        Category::Imaging => "ImagingStudy",
        Category::Notes => "DocumentReference",
        Category::All => "Resource",
    }
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Reads a FHIR `date` or `dateTime` (`YYYY`, `YYYY-MM`, `YYYY-MM-DD`, or with a time and
/// zone) as Unix milliseconds; partial dates mean their first instant.
pub fn fhir_time(text: &str) -> Option<i64> {
    let (date, time) = text.split_once('T').unwrap_or((text, ""));
    let mut parts = date.split('-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: i64 = parts.next().map_or(Some(1), |p| p.parse().ok())?;
    let d: i64 = parts.next().map_or(Some(1), |p| p.parse().ok())?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || parts.next().is_some() {
        return None;
    }
    let mut ms = days_from_civil(y, m, d) * 86_400_000;
    if !time.is_empty() {
        let (clock, offset) = match time.find(['Z', '+', '-']) {
            Some(i) => time.split_at(i),
            None => return None,
        };
        let mut hms = clock.split(':');
        let h: i64 = hms.next()?.parse().ok()?;
        let mi: i64 = hms.next()?.parse().ok()?;
        let seconds = hms.next().unwrap_or("0");
        let (whole, frac) = seconds.split_once('.').unwrap_or((seconds, ""));
        let s: i64 = whole.parse().ok()?;
        let frac_ms: i64 = if frac.is_empty() {
            0
        } else {
            format!("{frac:0<3}").get(..3)?.parse().ok()?
        };
        ms += h * 3_600_000 + mi * 60_000 + s * 1000 + frac_ms;
        if offset != "Z" {
            let sign = if offset.starts_with('-') { -1 } else { 1 };
            let (oh, om) = offset[1..].split_once(':')?;
            ms -= sign * (oh.parse::<i64>().ok()? * 3_600_000 + om.parse::<i64>().ok()? * 60_000);
        }
    }
    Some(ms)
}

fn codings(v: &Value) -> impl Iterator<Item = &Value> {
    v.as_array().into_iter().flatten()
}

/// Imports one FHIR R4 Consent: one grant per mapped actor of its top-level permit.
pub fn import_consent(resource: &Value, ctx: &ImportContext<'_>) -> Result<Vec<Grant>, FhirError> {
    if resource["resourceType"] != "Consent" {
        return Err(refuse(
            "FHIR_NOT_CONSENT",
            "the resource is not a FHIR Consent",
        ));
    }
    match resource["status"].as_str() {
        Some("active") => {}
        Some(other) => {
            return Err(refuse(
                "FHIR_NOT_ACTIVE",
                format!("status {other:?}: only an active consent grants access"),
            ));
        }
        None => return Err(refuse("FHIR_INVALID", "the Consent has no status")),
    }
    let patient = import_patient(&resource["patient"], ctx)?;
    let provision = &resource["provision"];
    if provision["type"] == "deny" {
        return Err(refuse(
            "FHIR_DENY_NOT_SUPPORTED",
            "a deny provision (opt-out) is not modelled: Pedigree records permits, and no permit means no access",
        ));
    }
    if provision.get("provision").is_some() {
        return Err(refuse(
            "FHIR_NESTED_PROVISION",
            "nested provisions (exceptions) are not modelled; import them as separate consents",
        ));
    }
    let mut purposes = Vec::new();
    for coding in codings(&provision["purpose"]) {
        let code = coding["code"].as_str().unwrap_or_default();
        let p = purpose_from(code).ok_or_else(|| {
            refuse(
                "FHIR_UNKNOWN_PURPOSE",
                format!("purpose {code:?} has no counterpart here"),
            )
        })?;
        if !purposes.contains(&p) {
            purposes.push(p);
        }
    }
    if purposes.is_empty() {
        // In FHIR a provision without a purpose applies whatever the purpose.
        purposes = vec![
            Purpose::Treatment,
            Purpose::Payment,
            Purpose::Research,
            Purpose::RecallNotification,
        ];
    }
    let mut categories = Vec::new();
    for coding in codings(&provision["class"]) {
        let t = coding["code"].as_str().unwrap_or_default();
        let c = category_from(t).ok_or_else(|| {
            refuse(
                "FHIR_UNKNOWN_CLASS",
                format!("class {t:?} has no counterpart here"),
            )
        })?;
        if !categories.contains(&c) {
            categories.push(c);
        }
    }
    if categories.is_empty() {
        categories.push(Category::All);
    }
    let start = match provision["period"]["start"].as_str() {
        Some(s) => fhir_time(s)
            .ok_or_else(|| refuse("FHIR_INVALID", format!("unreadable period start {s:?}")))?,
        None => resource["dateTime"]
            .as_str()
            .and_then(fhir_time)
            .unwrap_or(0),
    };
    let end = match provision["period"]["end"].as_str() {
        Some(s) => Some(
            fhir_time(s)
                .ok_or_else(|| refuse("FHIR_INVALID", format!("unreadable period end {s:?}")))?,
        ),
        None => None,
    };
    let mut grants = Vec::new();
    for actor in codings(&provision["actor"]) {
        let grantee = import_grantee(&actor["reference"], ctx)?;
        grants.push(Grant {
            patient: patient.clone(),
            grantee,
            purposes: purposes.clone(),
            categories: categories.clone(),
            start,
            end,
        });
    }
    if grants.is_empty() {
        return Err(refuse(
            "FHIR_NO_ACTOR",
            "the permit names no actor to grant access to",
        ));
    }
    Ok(grants)
}

/// A patient given as a pseudonymous identifier is taken as is; one given as a FHIR
/// reference is hashed with the hospital's key.
fn import_patient(patient: &Value, ctx: &ImportContext<'_>) -> Result<PatientRef, FhirError> {
    if patient["identifier"]["system"] == "urn:pedigree:patient-ref" {
        let value = patient["identifier"]["value"].as_str().unwrap_or_default();
        return PatientRef::new(value).map_err(|e| refuse("FHIR_INVALID", e.to_string()));
    }
    let reference = patient["reference"]
        .as_str()
        .ok_or_else(|| refuse("FHIR_NO_PATIENT", "the Consent names no patient reference"))?;
    Ok(patient_ref(ctx.patient_key, reference))
}

/// A grantee given by a consortium identifier is taken as is (if valid); one given as a
/// FHIR reference must be mapped.
fn import_grantee(reference: &Value, ctx: &ImportContext<'_>) -> Result<Grantee, FhirError> {
    let value = reference["identifier"]["value"]
        .as_str()
        .unwrap_or_default();
    let invalid = |e: ledger::ids::BadName| refuse("FHIR_INVALID", e.to_string());
    match reference["identifier"]["system"].as_str() {
        Some("urn:pedigree:org") => return Ok(Grantee::Org(value.parse().map_err(invalid)?)),
        Some("urn:pedigree:actor") => return Ok(Grantee::Actor(value.parse().map_err(invalid)?)),
        _ => {}
    }
    let text = reference["reference"].as_str().unwrap_or_default();
    if text.starts_with("Patient/") || text.starts_with("RelatedPerson/") {
        // never echoed: it identifies a person
        return Err(refuse(
            "FHIR_PERSON_ACTOR",
            "a patient or related person as grantee is not modelled: patients act through their hospital",
        ));
    }
    ctx.grantees.get(text).cloned().ok_or_else(|| {
        refuse(
            "FHIR_UNMAPPED_ACTOR",
            format!("{text:?} is not mapped to a consortium organisation or actor"),
        )
    })
}

fn iso(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    // civil from days (inverse of days_from_civil)
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000
    )
}

/// Exports a consent as a FHIR R4 Consent. The patient is identified only by the
/// pseudonymous reference; grantees by their consortium ids.
pub fn export_consent(record: &ConsentRecord) -> Value {
    let (system, value) = match &record.grantee {
        Grantee::Org(o) => ("urn:pedigree:org", o.to_string()),
        Grantee::Actor(a) => ("urn:pedigree:actor", a.to_string()),
    };
    let mut period = json!({"start": iso(record.start)});
    if let Some(end) = record.end {
        period["end"] = iso(end).into();
    }
    json!({
        "resourceType": "Consent",
        "id": record.id.to_hex(),
        "status": if record.status == ConsentStatus::Active { "active" } else { "inactive" },
        "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]},
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
        "patient": {"identifier": {"system": "urn:pedigree:patient-ref", "value": record.patient.as_str()}},
        "organization": [{"identifier": {"system": "urn:pedigree:org", "value": record.custodian.to_string()}}],
        "provision": {
            "type": "permit",
            "period": period,
            "actor": [{
                "role": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "IRCP"}]},
                "reference": {"identifier": {"system": system, "value": value}},
            }],
            "purpose": record.purposes.iter().map(|p| { let (s, c) = purpose_code(*p); json!({"system": s, "code": c}) }).collect::<Vec<_>>(),
            "class": record.categories.iter().filter(|c| **c != Category::All).map(|c| json!({"system": RESOURCE_TYPES, "code": category_type(*c)})).collect::<Vec<_>>(),
        },
    })
}
