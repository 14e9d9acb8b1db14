//! FHIR R4 Claim and ClaimResponse, in and out (JSON).
//!
//! # How a FHIR Claim item names its ledger evidence
//!
//! Every `Claim.item` bills one unit that left the supply chain into the patient, and must
//! say which unit and which ledger event proves it:
//!
//! - the product: a `productOrService` coding with system [`GTIN_SYSTEM`]
//!   (`https://www.gs1.org/gtin`) and the GTIN as code (GTIN-8/12/13 are left-padded to 14);
//! - the event: the extension [`LEDGER_EVENT_URL`] with a `valueIdentifier` of system
//!   [`EVENT_SYSTEM`] (`urn:pedigree:event`) whose value is the 64-hex id of the dispense
//!   (drug) or implant (device) event;
//! - the unit: a **device** line has `udi` pointing at a Device contained in the Claim
//!   (`"udi": [{"reference": "#dev-1"}]`), whose `serialNumber` (or the `(21)` of its
//!   `udiCarrier.carrierHRF`) is the serial and whose `udiCarrier.deviceIdentifier`, when
//!   given, must be the item's GTIN; a **drug** line has no `udi` and carries the pack's
//!   serial in the extension [`SERIAL_NUMBER_URL`] (`valueString`), since R4 has no element
//!   for a pack serial.
//!
//! The date of service is `servicedDate` (midnight UTC) or `servicedPeriod.start`; the
//! amount is `net` (or `unitPrice` for a quantity of one), at most two decimals, in the
//! consortium's one currency (a claim mixing currencies is refused; none is recorded).
//!
//! The patient is the pseudonymous reference (`identifier.system` [`PATIENT_SYSTEM`]), or a
//! `Patient/...` reference the provider's key turns into one; payer and provider are
//! consortium members (`identifier.system` [`ORG_SYSTEM`], or `Organization/<org id>`).
//! Claim-level clinical content (diagnoses, procedures, care team, supporting info) is not
//! carried onto the ledger: no personal health data goes there.
//!
//! # ClaimResponse
//!
//! The response to a claim has the same id as the Claim (its submit event id). `outcome`
//! is `queued` before adjudication, then `complete` (every line approved), `partial`, or
//! `error` (every line denied); each item has a `submitted` and a `benefit` adjudication,
//! the latter with the line's reason code in system [`REASON_SYSTEM`] (`APPROVED`,
//! `PHANTOM_DISPENSE`, ...).
//!
//! Whatever cannot be imported is refused with a [`FhirError`] whose `code` is stable and
//! whose message says what to change, never echoing personal data.

mod claim;
mod response;
mod time;

pub use claim::{export_claim, import_claim};
pub use response::{ClaimDecision, export_claim_response, import_claim_response};
pub use time::{fhir_date_time, fhir_time};

use ledger::{Consortium, OrgId, PatientRef};
use serde_json::Value;
use std::collections::BTreeMap;

/// The item extension naming the dispense or implant event behind a line.
pub const LEDGER_EVENT_URL: &str = "https://pedigree.dev/fhir/StructureDefinition/ledger-event";
/// The item extension carrying a drug pack's serial number.
pub const SERIAL_NUMBER_URL: &str = "https://pedigree.dev/fhir/StructureDefinition/serial-number";
/// Identifier system of ledger event ids.
pub const EVENT_SYSTEM: &str = "urn:pedigree:event";
/// Identifier system of consortium organisation ids.
pub const ORG_SYSTEM: &str = "urn:pedigree:org";
/// Identifier system of pseudonymous patient references.
pub const PATIENT_SYSTEM: &str = "urn:pedigree:patient-ref";
/// Identifier system of a provider's claim numbers (the provider is the `assigner`).
pub const CLAIM_SYSTEM: &str = "urn:pedigree:claim";
/// Code system of the adjudication reason codes (`APPROVED`, `PHANTOM_DISPENSE`, ...).
pub const REASON_SYSTEM: &str = "urn:pedigree:claims:reason";
/// GS1 GTINs.
pub const GTIN_SYSTEM: &str = "https://www.gs1.org/gtin";
/// GS1 as UDI issuing agency.
pub const GS1_DI: &str = "http://hl7.org/fhir/NamingSystem/gs1-di";

/// Stable codes of refused FHIR resources.
pub mod codes {
    /// Not the resource type expected.
    pub const FHIR_WRONG_RESOURCE: &str = "FHIR_WRONG_RESOURCE";
    /// A required element is missing or unreadable.
    pub const FHIR_INVALID: &str = "FHIR_INVALID";
    /// The Claim is a draft, cancelled or entered in error.
    pub const FHIR_NOT_ACTIVE: &str = "FHIR_NOT_ACTIVE";
    /// A preauthorization or predetermination, not a claim.
    pub const FHIR_NOT_A_CLAIM: &str = "FHIR_NOT_A_CLAIM";
    /// The claim number is not 1-64 of A-Z a-z 0-9 . _ -.
    pub const FHIR_BAD_CLAIM_NUMBER: &str = "FHIR_BAD_CLAIM_NUMBER";
    /// The patient is a contained resource (personal data, no stable reference).
    pub const FHIR_CONTAINED_PATIENT: &str = "FHIR_CONTAINED_PATIENT";
    /// The patient cannot be turned into a pseudonymous reference here.
    pub const FHIR_UNMAPPED_PATIENT: &str = "FHIR_UNMAPPED_PATIENT";
    /// The insurer is not a consortium member.
    pub const FHIR_UNMAPPED_INSURER: &str = "FHIR_UNMAPPED_INSURER";
    /// The provider is not a consortium member.
    pub const FHIR_UNMAPPED_PROVIDER: &str = "FHIR_UNMAPPED_PROVIDER";
    /// The provider is not the organisation submitting.
    pub const FHIR_PROVIDER_MISMATCH: &str = "FHIR_PROVIDER_MISMATCH";
    /// No items, or more than a claim may hold.
    pub const FHIR_ITEM_COUNT: &str = "FHIR_ITEM_COUNT";
    /// An item names no dispense or implant event.
    pub const FHIR_NO_LEDGER_EVENT: &str = "FHIR_NO_LEDGER_EVENT";
    /// An item has no GS1 GTIN coding.
    pub const FHIR_NO_GTIN: &str = "FHIR_NO_GTIN";
    /// An item names no unit (no pack serial and no device).
    pub const FHIR_NO_UNIT: &str = "FHIR_NO_UNIT";
    /// An item names its unit twice (a udi and a pack serial).
    pub const FHIR_AMBIGUOUS_UNIT: &str = "FHIR_AMBIGUOUS_UNIT";
    /// An item's udi is not a Device contained in the Claim.
    pub const FHIR_UNRESOLVED_UDI: &str = "FHIR_UNRESOLVED_UDI";
    /// An item has details (sub-items).
    pub const FHIR_ITEM_DETAIL: &str = "FHIR_ITEM_DETAIL";
    /// An item has no date of service.
    pub const FHIR_NO_DATE: &str = "FHIR_NO_DATE";
    /// An amount is missing, negative, or finer than a cent.
    pub const FHIR_BAD_AMOUNT: &str = "FHIR_BAD_AMOUNT";
    /// Items in different currencies.
    pub const FHIR_MIXED_CURRENCY: &str = "FHIR_MIXED_CURRENCY";
    /// `total` is not the sum of the items.
    pub const FHIR_TOTAL_MISMATCH: &str = "FHIR_TOTAL_MISMATCH";
    /// A ClaimResponse that answers no claim on this ledger.
    pub const FHIR_UNKNOWN_REQUEST: &str = "FHIR_UNKNOWN_REQUEST";
    /// A ClaimResponse that reports errors and decides no item.
    pub const FHIR_NO_DECISION: &str = "FHIR_NO_DECISION";
    /// A ClaimResponse item without a Pedigree reason code.
    pub const FHIR_FOREIGN_ADJUDICATION: &str = "FHIR_FOREIGN_ADJUDICATION";
    /// A ClaimResponse whose outcome disagrees with its items.
    pub const FHIR_OUTCOME_MISMATCH: &str = "FHIR_OUTCOME_MISMATCH";
}

/// Why a FHIR resource could not be imported. `code` is stable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FhirError {
    /// Stable code, one of [`codes`].
    pub code: &'static str,
    /// What was wrong and what to do; never personal data.
    pub message: String,
}

impl std::fmt::Display for FhirError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for FhirError {}

pub(crate) fn refuse(code: &'static str, message: impl Into<String>) -> FhirError {
    FhirError {
        code,
        message: message.into(),
    }
}

/// What importing a Claim needs to know about the one submitting it.
pub struct ImportContext<'a> {
    /// The organisation submitting: the Claim's provider must be it.
    pub provider: OrgId,
    /// FHIR references (`Organization/2`) that stand for consortium members.
    pub organizations: BTreeMap<String, OrgId>,
    /// Turns a `Patient/...` reference into the provider's keyed hash; `None` when this
    /// importer holds no patient key (then only pseudonymous identifiers are accepted).
    pub pseudonymise: Option<&'a dyn Fn(&str) -> PatientRef>,
}

impl ImportContext<'_> {
    /// A context for `provider` where `Organization/<id>` names each consortium member.
    pub fn new(provider: OrgId, consortium: &Consortium) -> Self {
        let organizations = consortium
            .organizations
            .iter()
            .map(|o| (format!("Organization/{}", o.id), o.id.clone()))
            .collect();
        Self {
            provider,
            organizations,
            pseudonymise: None,
        }
    }
}

/// The first coding of `concept` in `system`.
pub(crate) fn coding<'v>(concept: &'v Value, system: &str) -> Option<&'v str> {
    concept["coding"]
        .as_array()?
        .iter()
        .find(|c| c["system"] == system)?["code"]
        .as_str()
}

/// The extensions of `element` with `url`.
pub(crate) fn extensions<'v>(element: &'v Value, url: &'v str) -> impl Iterator<Item = &'v Value> {
    element["extension"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(move |e| e["url"] == url)
}

/// A FHIR Money value in cents, with its currency if given.
pub(crate) fn money_cents(money: &Value) -> Option<(u64, Option<&str>)> {
    let text = match &money["value"] {
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    let (whole, frac) = text.split_once('.').unwrap_or((&text, ""));
    let frac = frac.trim_end_matches('0');
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > 2
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        // negative, exponent form, or finer than a cent
        return None;
    }
    let cents = whole
        .parse::<u64>()
        .ok()?
        .checked_mul(100)?
        .checked_add(format!("{frac:0<2}").parse::<u64>().ok()?)?;
    Some((cents, money["currency"].as_str()))
}

/// A FHIR Money value of `cents`.
pub(crate) fn money(cents: u64) -> Value {
    if cents.is_multiple_of(100) {
        Value::from(cents / 100)
    } else {
        // the nearest double prints back as the exact two-decimal amount
        Value::from(cents as f64 / 100.0)
    }
}

/// The reference to a consortium organisation.
pub(crate) fn org_reference(org: &OrgId) -> Value {
    serde_json::json!({"identifier": {"system": ORG_SYSTEM, "value": org.as_str()}})
}
