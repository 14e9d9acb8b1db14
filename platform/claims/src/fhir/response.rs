//! A claim's adjudication ⇄ a FHIR R4 ClaimResponse.

use super::claim::{claim_identifier, claim_type};
use super::codes::*;
use super::time::fhir_date_time;
use super::*;
use crate::queries::{ClaimRecord, LineResult, Outcome};
use crate::rules::codes::APPROVED;
use serde_json::json;

const ADJUDICATION: &str = "http://terminology.hl7.org/CodeSystem/adjudication";

/// What a ClaimResponse says about one claim, as the ledger records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimDecision {
    /// The provider that submitted the claim.
    pub provider: OrgId,
    /// Its claim number.
    pub claim: String,
    /// `None` while queued.
    pub outcome: Option<Outcome>,
    /// Per-line decisions (empty while queued).
    pub results: Vec<LineResult>,
}

fn fhir_outcome(outcome: Option<Outcome>) -> &'static str {
    match outcome {
        None => "queued",
        Some(Outcome::Approved) => "complete",
        Some(Outcome::Partial) => "partial",
        Some(Outcome::Denied) => "error",
    }
}

fn category(code: &str) -> Value {
    json!({"coding": [{"system": ADJUDICATION, "code": code}]})
}

/// Exports a claim's response: `queued` until the payer adjudicates, then the outcome and
/// every line's decision with its reason code. `created` is when the response was made
/// (the adjudication, or now while queued). Its id is the claim's submit event id.
pub fn export_claim_response(record: &ClaimRecord, created: i64) -> Value {
    let outcome = record.outcome;
    let approved: u64 = record.results.iter().map(|r| r.approved_cents).sum();
    let submitted: u64 = record.lines.iter().map(|l| l.amount_cents).sum();
    let items: Vec<Value> = record
        .lines
        .iter()
        .zip(&record.results)
        .map(|(l, r)| {
            json!({
                "itemSequence": l.sequence,
                "adjudication": [
                    {"category": category("submitted"), "amount": {"value": money(l.amount_cents)}},
                    {
                        "category": category("benefit"),
                        "reason": {"coding": [{"system": REASON_SYSTEM, "code": r.reason}]},
                        "amount": {"value": money(r.approved_cents)},
                    },
                ],
            })
        })
        .collect();
    let disposition = match outcome {
        None => "queued: waiting for the payer's adjudication".to_string(),
        Some(Outcome::Approved) => "approved: every line is backed by the ledger".to_string(),
        Some(o) => {
            let n = record.results.iter().filter(|r| r.approved).count();
            let word = if o == Outcome::Partial {
                "partially approved"
            } else {
                "denied"
            };
            format!("{word}: {n} of {} lines approved", record.results.len())
        }
    };
    let mut response = json!({
        "resourceType": "ClaimResponse",
        "id": record.submitted.to_hex(),
        "status": "active",
        "type": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/claim-type",
            "code": claim_type(record),
        }]},
        "use": "claim",
        "patient": {"identifier": {"system": PATIENT_SYSTEM, "value": record.patient.as_str()}},
        "created": fhir_date_time(created),
        "insurer": org_reference(&record.payer),
        "requestor": org_reference(&record.provider),
        "request": {
            "reference": format!("Claim/{}", record.submitted.to_hex()),
            "identifier": claim_identifier(record),
        },
        "outcome": fhir_outcome(outcome),
        "disposition": disposition,
    });
    if outcome.is_some() {
        response["item"] = items.into();
        response["total"] = json!([
            {"category": category("submitted"), "amount": {"value": money(submitted)}},
            {"category": category("benefit"), "amount": {"value": money(approved)}},
        ]);
    }
    if let Some(event) = record.adjudicated {
        response["extension"] = json!([{
            "url": LEDGER_EVENT_URL,
            "valueIdentifier": {"system": EVENT_SYSTEM, "value": event.to_hex()},
        }]);
    }
    response
}

/// Imports a ClaimResponse made for a claim on this ledger (one [`export_claim_response`]
/// wrote, or a payer system speaking the same codes). Responses to claims elsewhere, or
/// without Pedigree reason codes, are refused with a stable code.
pub fn import_claim_response(resource: &Value) -> Result<ClaimDecision, FhirError> {
    if resource["resourceType"] != "ClaimResponse" {
        return Err(refuse(
            FHIR_WRONG_RESOURCE,
            format!(
                "expected a FHIR ClaimResponse, got resourceType {}",
                resource["resourceType"]
            ),
        ));
    }
    if resource["status"] != "active" {
        return Err(refuse(
            FHIR_NOT_ACTIVE,
            "only an active ClaimResponse records a decision",
        ));
    }
    if resource["use"] != "claim" {
        return Err(refuse(
            FHIR_NOT_A_CLAIM,
            format!(
                "a ClaimResponse with use {} answers no claim for dispensed or implanted units",
                resource["use"]
            ),
        ));
    }
    let items = resource["item"].as_array().map_or(&[][..], Vec::as_slice);
    let stated = match resource["outcome"].as_str() {
        Some("queued") => None,
        Some("error") if items.is_empty() => {
            return Err(refuse(
                FHIR_NO_DECISION,
                "the ClaimResponse reports processing errors and decides no item",
            ));
        }
        Some("complete") => Some(Outcome::Approved),
        Some("partial") => Some(Outcome::Partial),
        Some("error") => Some(Outcome::Denied),
        _ => {
            return Err(refuse(
                FHIR_INVALID,
                "ClaimResponse.outcome must be queued, complete, partial or error",
            ));
        }
    };
    let (provider, claim) = request(&resource["request"]).ok_or_else(|| {
        refuse(
            FHIR_UNKNOWN_REQUEST,
            format!(
                "the request does not identify a claim on this ledger: it needs identifier {{system: {CLAIM_SYSTEM}, value: <claim number>, assigner: {{identifier: {{system: {ORG_SYSTEM}, value: <provider>}}}}}}"
            ),
        )
    })?;
    let results = items
        .iter()
        .map(item_result)
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(stated) = stated {
        let approved = results.iter().filter(|r| r.approved).count();
        let actual = match approved {
            0 => Outcome::Denied,
            n if n == results.len() => Outcome::Approved,
            _ => Outcome::Partial,
        };
        if actual != stated {
            return Err(refuse(
                FHIR_OUTCOME_MISMATCH,
                format!(
                    "outcome {} but {approved} of {} items approved",
                    resource["outcome"],
                    results.len()
                ),
            ));
        }
    } else if !results.is_empty() {
        return Err(refuse(
            FHIR_OUTCOME_MISMATCH,
            "a queued ClaimResponse decides no item",
        ));
    }
    Ok(ClaimDecision {
        provider,
        claim,
        outcome: stated,
        results,
    })
}

fn request(request: &Value) -> Option<(OrgId, String)> {
    let identifier = &request["identifier"];
    if identifier["system"] != CLAIM_SYSTEM {
        return None;
    }
    let assigner = &identifier["assigner"]["identifier"];
    if assigner["system"] != ORG_SYSTEM {
        return None;
    }
    let provider = assigner["value"].as_str()?.parse().ok()?;
    let claim = identifier["value"].as_str()?;
    crate::events::check_claim_number(claim).ok()?;
    Some((provider, claim.to_string()))
}

fn item_result(item: &Value) -> Result<LineResult, FhirError> {
    let sequence = item["itemSequence"]
        .as_u64()
        .and_then(|s| u32::try_from(s).ok())
        .ok_or_else(|| refuse(FHIR_INVALID, "every item needs an itemSequence"))?;
    let adjudications = item["adjudication"]
        .as_array()
        .map_or(&[][..], Vec::as_slice);
    let benefit = adjudications
        .iter()
        .find(|a| coding(&a["category"], ADJUDICATION) == Some("benefit"))
        .and_then(|a| Some((coding(&a["reason"], REASON_SYSTEM)?, a)))
        .ok_or_else(|| {
            refuse(
                FHIR_FOREIGN_ADJUDICATION,
                format!(
                    "item {sequence} has no benefit adjudication with a reason of system {REASON_SYSTEM}"
                ),
            )
        })?;
    let (reason, adjudication) = benefit;
    let approved_cents = match adjudication.get("amount") {
        Some(amount) => {
            money_cents(amount)
                .ok_or_else(|| {
                    refuse(
                        FHIR_BAD_AMOUNT,
                        format!("item {sequence}: the benefit is not an amount in cents"),
                    )
                })?
                .0
        }
        None => 0,
    };
    Ok(LineResult {
        sequence,
        approved: reason == APPROVED,
        reason: reason.to_string(),
        approved_cents,
    })
}
