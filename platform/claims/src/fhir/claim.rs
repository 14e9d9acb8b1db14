//! FHIR R4 Claim ⇄ a claims `submit` (see the module docs for how items name evidence).

use super::codes::*;
use super::time::{fhir_date, fhir_date_time, fhir_time};
use super::*;
use crate::events::{ClaimEvent, ItemKind, Line, MAX_LINES, Submit, check_claim_number};
use crate::queries::ClaimRecord;
use ledger::EventId;
use serde_json::json;

/// Imports a FHIR R4 Claim as the `submit` its provider would sign. Refuses, with a
/// stable code, whatever the ledger cannot back with evidence or must not hold.
pub fn import_claim(resource: &Value, ctx: &ImportContext<'_>) -> Result<Submit, FhirError> {
    if resource["resourceType"] != "Claim" {
        return Err(refuse(
            FHIR_WRONG_RESOURCE,
            format!(
                "expected a FHIR Claim, got resourceType {}",
                resource["resourceType"]
            ),
        ));
    }
    match resource["status"].as_str() {
        Some("active") => {}
        Some(other @ ("draft" | "cancelled" | "entered-in-error")) => {
            return Err(refuse(
                FHIR_NOT_ACTIVE,
                format!("a {other} Claim is not submitted for payment; send it when active"),
            ));
        }
        _ => return Err(refuse(FHIR_INVALID, "Claim.status must be active")),
    }
    match resource["use"].as_str() {
        Some("claim") => {}
        Some(other @ ("preauthorization" | "predetermination")) => {
            return Err(refuse(
                FHIR_NOT_A_CLAIM,
                format!(
                    "a {other} asks about future care; only claims for units already dispensed or implanted are adjudicated here"
                ),
            ));
        }
        _ => return Err(refuse(FHIR_INVALID, "Claim.use must be claim")),
    }
    let claim = claim_number(resource)?;
    let patient = patient(&resource["patient"], ctx)?;
    let payer = organization(&resource["insurer"], ctx).ok_or_else(|| {
        refuse(
            FHIR_UNMAPPED_INSURER,
            format!(
                "the insurer {} is not a consortium member: name it by identifier {{system: {ORG_SYSTEM}, value: <org id>}} or Organization/<org id>",
                describe(&resource["insurer"])
            ),
        )
    })?;
    let provider = organization(&resource["provider"], ctx).ok_or_else(|| {
        refuse(
            FHIR_UNMAPPED_PROVIDER,
            format!(
                "the provider {} is not a consortium member: name it by identifier {{system: {ORG_SYSTEM}, value: <org id>}} or Organization/<org id>",
                describe(&resource["provider"])
            ),
        )
    })?;
    if provider != ctx.provider {
        return Err(refuse(
            FHIR_PROVIDER_MISMATCH,
            format!(
                "the Claim's provider is {provider}, but it is submitted for {}; a provider submits only its own claims",
                ctx.provider
            ),
        ));
    }
    let items = resource["item"].as_array().map_or(&[][..], Vec::as_slice);
    if items.is_empty() || items.len() > MAX_LINES {
        return Err(refuse(
            FHIR_ITEM_COUNT,
            format!(
                "a claim has 1 to {MAX_LINES} items, this one {}",
                items.len()
            ),
        ));
    }
    let contained = resource["contained"]
        .as_array()
        .map_or(&[][..], Vec::as_slice);
    let mut currency = None;
    let mut lines = Vec::with_capacity(items.len());
    for item in items {
        lines.push(line(item, contained, &mut currency)?);
    }
    if let Some(total) = resource.get("total") {
        let (cents, _) = money_cents(total)
            .ok_or_else(|| refuse(FHIR_BAD_AMOUNT, "Claim.total is not an amount in cents"))?;
        let sum: u64 = lines.iter().map(|l| l.amount_cents).sum();
        if cents != sum {
            return Err(refuse(
                FHIR_TOTAL_MISMATCH,
                format!("Claim.total is {cents} cents but the items add up to {sum}"),
            ));
        }
    }
    let submit = Submit {
        claim,
        patient,
        payer,
        lines,
    };
    // The module's own payload rules (distinct sequences, GTIN and serial shapes).
    let payload = serde_json::to_value(&submit).expect("a submit serialises");
    ClaimEvent::parse("submit", &payload).map_err(|r| refuse(FHIR_INVALID, r.message))?;
    Ok(submit)
}

/// The provider's claim number: the identifier of system [`CLAIM_SYSTEM`], else the
/// first identifier (the provider's own numbering), else the resource id.
fn claim_number(resource: &Value) -> Result<String, FhirError> {
    let identifiers = resource["identifier"]
        .as_array()
        .map_or(&[][..], Vec::as_slice);
    let number = identifiers
        .iter()
        .find(|i| i["system"] == CLAIM_SYSTEM)
        .or(identifiers.first())
        .and_then(|i| i["value"].as_str())
        .or(resource["id"].as_str())
        .ok_or_else(|| refuse(FHIR_INVALID, "the Claim has neither identifier nor id"))?;
    check_claim_number(number).map_err(|_| {
        refuse(
            FHIR_BAD_CLAIM_NUMBER,
            "the claim number (Claim.identifier) must be 1-64 of A-Z a-z 0-9 . _ -",
        )
    })?;
    Ok(number.to_string())
}

fn patient(patient: &Value, ctx: &ImportContext<'_>) -> Result<PatientRef, FhirError> {
    // Neither the reference nor the identifier value is ever echoed: both identify a person.
    let identifier = &patient["identifier"];
    if identifier["system"] == PATIENT_SYSTEM {
        return PatientRef::new(identifier["value"].as_str().unwrap_or_default()).map_err(|_| {
            refuse(
                FHIR_UNMAPPED_PATIENT,
                "a pseudonymous patient reference is 64 lowercase hex digits",
            )
        });
    }
    match patient["reference"].as_str() {
        Some(r) if r.starts_with('#') => Err(refuse(
            FHIR_CONTAINED_PATIENT,
            format!(
                "the patient is a contained resource (personal data with no stable reference); send identifier {{system: {PATIENT_SYSTEM}, value: <keyed hash>}}"
            ),
        )),
        Some(r) if r.starts_with("Patient/") => match ctx.pseudonymise {
            Some(hash) => Ok(hash(r)),
            None => Err(refuse(
                FHIR_UNMAPPED_PATIENT,
                format!(
                    "this importer holds no patient key to pseudonymise a Patient reference; send identifier {{system: {PATIENT_SYSTEM}, value: <keyed hash>}}"
                ),
            )),
        },
        _ => Err(refuse(
            FHIR_UNMAPPED_PATIENT,
            format!(
                "the patient must be identifier {{system: {PATIENT_SYSTEM}, value: <keyed hash>}} or a Patient/ reference (identifier system given: {})",
                identifier["system"]
            ),
        )),
    }
}

fn organization(reference: &Value, ctx: &ImportContext<'_>) -> Option<OrgId> {
    if reference["identifier"]["system"] == ORG_SYSTEM {
        return reference["identifier"]["value"].as_str()?.parse().ok();
    }
    ctx.organizations
        .get(reference["reference"].as_str()?)
        .cloned()
}

/// An organisation reference as text for a message (organisations are not personal).
fn describe(reference: &Value) -> String {
    match (
        reference["reference"].as_str(),
        reference["identifier"]["system"].as_str(),
    ) {
        (Some(r), _) => format!("{r:?}"),
        (None, Some(s)) => format!(
            "{s}|{}",
            reference["identifier"]["value"].as_str().unwrap_or("")
        ),
        (None, None) => "(none given)".into(),
    }
}

fn line(
    item: &Value,
    contained: &[Value],
    currency: &mut Option<String>,
) -> Result<Line, FhirError> {
    let sequence = item["sequence"]
        .as_u64()
        .and_then(|s| u32::try_from(s).ok())
        .filter(|s| *s > 0)
        .ok_or_else(|| refuse(FHIR_INVALID, "every item needs a positive sequence"))?;
    if item.get("detail").is_some() {
        return Err(refuse(
            FHIR_ITEM_DETAIL,
            format!("item {sequence} has details; bill each unit as an item of its own"),
        ));
    }
    let event = extensions(item, LEDGER_EVENT_URL)
        .find_map(|e| {
            (e["valueIdentifier"]["system"] == EVENT_SYSTEM)
                .then(|| e["valueIdentifier"]["value"].as_str())
                .flatten()
        })
        .ok_or_else(|| {
            refuse(
                FHIR_NO_LEDGER_EVENT,
                format!(
                    "item {sequence} names no dispense or implant event: add the extension {LEDGER_EVENT_URL} with valueIdentifier {{system: {EVENT_SYSTEM}, value: <event id>}}; only units the ledger shows are paid"
                ),
            )
        })?
        .parse::<EventId>()
        .map_err(|_| {
            refuse(
                FHIR_INVALID,
                format!("item {sequence}: the ledger event id must be 64 lowercase hex digits"),
            )
        })?;
    let gtin = coding(&item["productOrService"], GTIN_SYSTEM)
        .and_then(gtin14)
        .ok_or_else(|| {
            refuse(
                FHIR_NO_GTIN,
                format!(
                    "item {sequence}: productOrService needs a coding of system {GTIN_SYSTEM} with the unit's GTIN"
                ),
            )
        })?;
    let serial_ext = extensions(item, SERIAL_NUMBER_URL).find_map(|e| e["valueString"].as_str());
    let (kind, serial) = match (item.get("udi"), serial_ext) {
        (Some(_), Some(_)) => {
            return Err(refuse(
                FHIR_AMBIGUOUS_UNIT,
                format!(
                    "item {sequence} names its unit twice (udi and serial-number); a device line has udi, a drug line the serial"
                ),
            ));
        }
        (Some(udi), None) => (
            ItemKind::Device,
            device_serial(sequence, udi, contained, &gtin)?,
        ),
        (None, Some(serial)) => (ItemKind::Drug, serial.to_string()),
        (None, None) => {
            return Err(refuse(
                FHIR_NO_UNIT,
                format!(
                    "item {sequence} names no unit: a drug line carries the pack serial in extension {SERIAL_NUMBER_URL}, a device line a udi"
                ),
            ));
        }
    };
    let date_text = item["servicedDate"]
        .as_str()
        .or(item["servicedPeriod"]["start"].as_str())
        .ok_or_else(|| {
            refuse(
                FHIR_NO_DATE,
                format!("item {sequence} has no servicedDate or servicedPeriod.start"),
            )
        })?;
    let date = fhir_time(date_text).ok_or_else(|| {
        refuse(
            FHIR_INVALID,
            format!("item {sequence}: unreadable date of service {date_text:?}"),
        )
    })?;
    let (amount_cents, item_currency) = amount(sequence, item)?;
    if let Some(c) = item_currency {
        match currency {
            Some(seen) if seen != c => {
                return Err(refuse(
                    FHIR_MIXED_CURRENCY,
                    format!("item {sequence} is in {c}, an earlier item in {seen}"),
                ));
            }
            _ => *currency = Some(c.to_string()),
        }
    }
    Ok(Line {
        sequence,
        kind,
        gtin,
        serial,
        event,
        date,
        amount_cents,
    })
}

/// GTIN-8, -12, -13 or -14, as 14 digits.
fn gtin14(code: &str) -> Option<String> {
    (matches!(code.len(), 8 | 12 | 13 | 14) && code.bytes().all(|b| b.is_ascii_digit()))
        .then(|| format!("{code:0>14}"))
}

fn amount(sequence: u32, item: &Value) -> Result<(u64, Option<&str>), FhirError> {
    let one = item["quantity"]["value"].as_f64().is_none_or(|q| q == 1.0);
    let money = match (item.get("net"), item.get("unitPrice")) {
        (Some(net), _) => net,
        (None, Some(price)) if one => price,
        _ => {
            return Err(refuse(
                FHIR_BAD_AMOUNT,
                format!("item {sequence} has no net amount"),
            ));
        }
    };
    money_cents(money).ok_or_else(|| {
        refuse(
            FHIR_BAD_AMOUNT,
            format!("item {sequence}: the amount must be a non-negative number with at most two decimals"),
        )
    })
}

/// The serial of the Device an item's `udi` points at, contained in the Claim.
fn device_serial(
    sequence: u32,
    udi: &Value,
    contained: &[Value],
    gtin: &str,
) -> Result<String, FhirError> {
    let unresolved = |what: String| {
        refuse(
            FHIR_UNRESOLVED_UDI,
            format!(
                "item {sequence}: {what}; contain the implanted Device (udiCarrier, serialNumber) in the Claim and point udi at it (\"#id\")"
            ),
        )
    };
    let refs = udi.as_array().map_or(&[][..], Vec::as_slice);
    let [one] = refs else {
        return Err(unresolved(format!(
            "udi names {} devices, not one",
            refs.len()
        )));
    };
    let reference = one["reference"].as_str().unwrap_or_default();
    let Some(id) = reference.strip_prefix('#') else {
        return Err(unresolved(format!("udi {reference:?} is not contained")));
    };
    let device = contained
        .iter()
        .find(|r| r["resourceType"] == "Device" && r["id"] == id)
        .ok_or_else(|| unresolved(format!("no contained Device {id:?}")))?;
    let carrier = &device["udiCarrier"][0];
    if let Some(di) = carrier["deviceIdentifier"].as_str()
        && gtin14(di).as_deref() != Some(gtin)
    {
        return Err(unresolved(format!(
            "the Device's deviceIdentifier {di:?} is not the item's GTIN {gtin}"
        )));
    }
    device["serialNumber"]
        .as_str()
        .map(str::to_string)
        .or_else(|| carrier["carrierHRF"].as_str().and_then(hrf_serial))
        .ok_or_else(|| unresolved(format!("the Device {id:?} has no serial number")))
}

/// The `(21)` serial of a GS1 human-readable UDI: up to the next `(` or the end.
fn hrf_serial(hrf: &str) -> Option<String> {
    let rest = &hrf[hrf.find("(21)")? + 4..];
    let serial = rest.split('(').next().unwrap_or(rest);
    (!serial.is_empty()).then(|| serial.to_string())
}

/// Exports a claim as a FHIR R4 Claim; `created` is when its provider signed it.
pub fn export_claim(record: &ClaimRecord, created: i64) -> Value {
    let devices: Vec<Value> = record
        .lines
        .iter()
        .filter(|l| l.kind == ItemKind::Device)
        .map(|l| {
            json!({
                "resourceType": "Device",
                "id": format!("device-{}", l.sequence),
                "udiCarrier": [{
                    "deviceIdentifier": l.gtin,
                    "issuer": GS1_DI,
                    "carrierHRF": format!("(01){}(21){}", l.gtin, l.serial),
                }],
                "serialNumber": l.serial,
            })
        })
        .collect();
    let items: Vec<Value> = record.lines.iter().map(export_item).collect();
    let total: u64 = record.lines.iter().map(|l| l.amount_cents).sum();
    let mut claim = json!({
        "resourceType": "Claim",
        "id": record.submitted.to_hex(),
        "identifier": [claim_identifier(record)],
        "status": "active",
        "type": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/claim-type",
            "code": claim_type(record),
        }]},
        "use": "claim",
        "patient": {"identifier": {"system": PATIENT_SYSTEM, "value": record.patient.as_str()}},
        "created": fhir_date_time(created),
        "insurer": org_reference(&record.payer),
        "provider": org_reference(&record.provider),
        "priority": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/processpriority", "code": "normal"}]},
        "insurance": [{"sequence": 1, "focal": true, "coverage": {"display": format!("coverage by {}", record.payer)}}],
        "item": items,
        "total": {"value": money(total)},
    });
    if !devices.is_empty() {
        claim["contained"] = devices.into();
    }
    claim
}

/// `pharmacy` for drug-only claims, `institutional` once a device is billed.
pub(crate) fn claim_type(record: &ClaimRecord) -> &'static str {
    if record.lines.iter().any(|l| l.kind == ItemKind::Device) {
        "institutional"
    } else {
        "pharmacy"
    }
}

/// The claim number, assigned by its provider.
pub(crate) fn claim_identifier(record: &ClaimRecord) -> Value {
    json!({"system": CLAIM_SYSTEM, "value": record.claim, "assigner": org_reference(&record.provider)})
}

fn export_item(l: &Line) -> Value {
    let mut extension = vec![json!({
        "url": LEDGER_EVENT_URL,
        "valueIdentifier": {"system": EVENT_SYSTEM, "value": l.event.to_hex()},
    })];
    let mut item = json!({
        "sequence": l.sequence,
        "productOrService": {"coding": [{"system": GTIN_SYSTEM, "code": l.gtin}]},
        "net": {"value": money(l.amount_cents)},
    });
    match l.kind {
        ItemKind::Drug => {
            extension.push(json!({"url": SERIAL_NUMBER_URL, "valueString": l.serial}));
        }
        ItemKind::Device => {
            item["udi"] = json!([{"reference": format!("#device-{}", l.sequence)}]);
        }
    }
    item["extension"] = extension.into();
    match fhir_date(l.date) {
        Some(day) => item["servicedDate"] = day.into(),
        None => {
            let at = fhir_date_time(l.date);
            item["servicedPeriod"] = json!({"start": at, "end": at});
        }
    }
    item
}
