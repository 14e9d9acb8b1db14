//! The trace module's event kinds and payloads, each mapped to a GS1 CBV 2.0 business
//! step and disposition. Payloads hold normalised identifiers only (see [`Code`]); the
//! API edge turns scans into them with [`crate::ScannedCode::read`].

use crate::code::{Code, PatientRef};
use crate::epcis::hash::{BadEpcisHash, EpcisHash};
use ledger::rejection::codes;
use ledger::{EventId, OrgId, Rejection};
use scanners::{Expiry, Gln, Gtin, Lot, Serial, Sscc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Module name events address.
pub const MODULE: &str = "trace";

/// Most codes one event may carry (the envelope's 64 KiB limit bounds it too).
pub const MAX_CODES: usize = 2_000;

/// Days within which a decommission can be undone (EU FMD art. 13).
pub const UNDO_WINDOW_DAYS: i64 = 10;

/// Commissioning serials of one GTIN and lot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Commission {
    /// The product.
    pub gtin: Gtin,
    /// Batch or lot.
    pub lot: Lot,
    /// Expiry date.
    pub expiry: Expiry,
    /// Serials to commission (at least one).
    pub serials: Vec<Serial>,
    /// True for a medical device (the GTIN is a UDI-DI); fixed by the first commission.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub device: bool,
    /// Where, one of the organisation's GLNs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Gln>,
}

/// Aggregating items or containers into a logistic unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pack {
    /// The container; created on first use.
    pub parent: Sscc,
    /// What goes in (at least one).
    pub children: Vec<Code>,
}

/// Taking children out of a container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Unpack {
    /// The container.
    pub parent: Sscc,
    /// What comes out; empty or absent means everything.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<Code>,
}

/// Sending units to another member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ship {
    /// Top-level units (items not in a container, or outermost containers).
    pub codes: Vec<Code>,
    /// The receiving organisation.
    pub to: OrgId,
}

/// Taking delivery. Scanning a unit inside a shipped container receives the container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receive {
    /// What arrived.
    pub codes: Vec<Code>,
    /// The shipment (its ship event id); when absent, the shipments of the codes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipment: Option<EventId>,
}

/// Codes only: dispense, quarantine, release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Codes {
    /// The units.
    pub codes: Vec<Code>,
}

/// Why a unit leaves the supply chain other than by dispensing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// Destroyed (cannot be undone).
    Destroyed,
    /// Taken as a sample.
    Sample,
    /// Stolen (cannot be undone).
    Stolen,
    /// Exported out of the market.
    Exported,
    /// Expired.
    Expired,
    /// Damaged.
    Damaged,
}

/// Taking units out of the supply chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decommission {
    /// Top-level units.
    pub codes: Vec<Code>,
    /// Why.
    pub reason: Reason,
    /// Where, one of the organisation's GLNs; an undo must happen at the same place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Gln>,
}

/// Reverting a decommission within [`UNDO_WINDOW_DAYS`], by the same organisation at
/// the same location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UndoDecommission {
    /// The units.
    pub codes: Vec<Code>,
    /// Where; must equal the decommission's location.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Gln>,
}

/// A device event: install, service, implant, explant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Device {
    /// The device (UDI: GTIN of a device + serial).
    pub code: Code,
    /// Pseudonymous patient reference: required for implant and explant, refused
    /// otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patient: Option<PatientRef>,
}

/// Recall class, most severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RecallClass {
    /// Serious harm or death likely.
    I,
    /// Temporary or reversible harm.
    II,
    /// Unlikely to cause harm.
    III,
}

/// How far down the chain a recall reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecallDepth {
    /// Manufacturers and distributors.
    Wholesale,
    /// Also pharmacies and hospitals.
    Retail,
    /// Also units already dispensed or implanted.
    Patient,
}

/// Issuing a recall: a GTIN with lots, or a GTIN with serials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recall {
    /// The product.
    pub gtin: Gtin,
    /// Lots recalled (or empty when by serials).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lots: Vec<Lot>,
    /// Serials recalled (or empty when by lots).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub serials: Vec<Serial>,
    /// Class.
    pub class: RecallClass,
    /// Depth.
    pub depth: RecallDepth,
    /// Why, in a few words about the product (never about a patient).
    pub reason: String,
}

/// Acknowledging a recall as a holder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Acknowledge {
    /// The recall (its event id).
    pub recall: EventId,
}

/// What a holder did with recalled units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecallAction {
    /// Returned (shipped back) to the brand owner.
    Returned,
    /// Destroyed (the units are decommissioned as destroyed).
    Destroyed,
    /// Quarantined (the units are put in quarantine).
    Quarantined,
}

/// Recording dispositions of recalled units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Disposition {
    /// The recall.
    pub recall: EventId,
    /// Items of the recall.
    pub codes: Vec<Code>,
    /// What was done.
    pub action: RecallAction,
}

/// Every trace event, by kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TraceEvent {
    /// `commission`
    Commission(Commission),
    /// `pack`
    Pack(Pack),
    /// `unpack`
    Unpack(Unpack),
    /// `ship`
    Ship(Ship),
    /// `receive`
    Receive(Receive),
    /// `dispense`
    Dispense(Codes),
    /// `decommission`
    Decommission(Decommission),
    /// `undo_decommission`
    UndoDecommission(UndoDecommission),
    /// `quarantine`
    Quarantine(Codes),
    /// `release`
    Release(Codes),
    /// `install`
    Install(Device),
    /// `service`
    Service(Device),
    /// `implant`
    Implant(Device),
    /// `explant`
    Explant(Device),
    /// `recall`
    Recall(Recall),
    /// `acknowledge_recall`
    Acknowledge(Acknowledge),
    /// `recall_disposition`
    Disposition(Disposition),
}

/// Every event kind, in lifecycle order.
pub const KINDS: &[&str] = &[
    "commission",
    "pack",
    "unpack",
    "ship",
    "receive",
    "dispense",
    "decommission",
    "undo_decommission",
    "quarantine",
    "release",
    "install",
    "service",
    "implant",
    "explant",
    "recall",
    "acknowledge_recall",
    "recall_disposition",
];

/// The payload field an imported EPCIS event's CBV 2.0 hash travels in (optional on every
/// kind): the module records it and refuses a second event with the same hash.
pub const EPCIS_HASH_FIELD: &str = "epcis_hash";

fn read<T: serde::de::DeserializeOwned>(kind: &str, payload: &Value) -> Result<T, Rejection> {
    T::deserialize(payload)
        .map_err(|e| Rejection::new(codes::BAD_PAYLOAD, format!("trace/{kind} payload: {e}")))
}

impl TraceEvent {
    /// Reads an event of `kind` from its payload (shape only; rules come later). An
    /// EPCIS hash in the payload is checked and left out; [`TraceEvent::parse_imported`]
    /// returns it too.
    pub fn parse(kind: &str, payload: &Value) -> Result<Self, Rejection> {
        Self::parse_imported(kind, payload).map(|(event, _)| event)
    }

    /// Reads an event and the CBV 2.0 hash of the EPCIS event it was imported from, if
    /// it was.
    pub fn parse_imported(
        kind: &str,
        payload: &Value,
    ) -> Result<(Self, Option<EpcisHash>), Rejection> {
        let Some(given) = payload.get(EPCIS_HASH_FIELD) else {
            return Ok((Self::parse_bare(kind, payload)?, None));
        };
        let hash = given
            .as_str()
            .ok_or_else(|| BadEpcisHash(given.to_string()))
            .and_then(str::parse::<EpcisHash>)
            .map_err(|e| Rejection::new(crate::codes::BAD_EPCIS_HASH, e.to_string()))?;
        let mut rest = payload.clone();
        if let Some(o) = rest.as_object_mut() {
            o.remove(EPCIS_HASH_FIELD);
        }
        Ok((Self::parse_bare(kind, &rest)?, Some(hash)))
    }

    /// The payload to sign for an event imported from the EPCIS event of `hash`.
    pub fn payload_imported(&self, hash: &EpcisHash) -> Value {
        let mut v = self.payload();
        if let Some(o) = v.as_object_mut() {
            o.insert(EPCIS_HASH_FIELD.into(), hash.as_str().into());
        }
        v
    }

    fn parse_bare(kind: &str, payload: &Value) -> Result<Self, Rejection> {
        if matches!(kind, "install" | "service" | "implant" | "explant")
            && let Some(p) = payload.get("patient")
            && p.as_str().is_none_or(|s| PatientRef::new(s).is_err())
        {
            return Err(Rejection::new(
                crate::codes::BAD_PATIENT_REF,
                "the patient reference must be 64 lowercase hex digits (a keyed hash the \
                 hospital holds), never a name or a record number",
            ));
        }
        Ok(match kind {
            "commission" => Self::Commission(read(kind, payload)?),
            "pack" => Self::Pack(read(kind, payload)?),
            "unpack" => Self::Unpack(read(kind, payload)?),
            "ship" => Self::Ship(read(kind, payload)?),
            "receive" => Self::Receive(read(kind, payload)?),
            "dispense" => Self::Dispense(read(kind, payload)?),
            "decommission" => Self::Decommission(read(kind, payload)?),
            "undo_decommission" => Self::UndoDecommission(read(kind, payload)?),
            "quarantine" => Self::Quarantine(read(kind, payload)?),
            "release" => Self::Release(read(kind, payload)?),
            "install" => Self::Install(read(kind, payload)?),
            "service" => Self::Service(read(kind, payload)?),
            "implant" => Self::Implant(read(kind, payload)?),
            "explant" => Self::Explant(read(kind, payload)?),
            "recall" => Self::Recall(read(kind, payload)?),
            "acknowledge_recall" => Self::Acknowledge(read(kind, payload)?),
            "recall_disposition" => Self::Disposition(read(kind, payload)?),
            other => {
                return Err(Rejection::new(
                    codes::UNKNOWN_KIND,
                    format!("the trace module has no event kind {other:?}"),
                ));
            }
        })
    }

    /// The event kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Commission(_) => "commission",
            Self::Pack(_) => "pack",
            Self::Unpack(_) => "unpack",
            Self::Ship(_) => "ship",
            Self::Receive(_) => "receive",
            Self::Dispense(_) => "dispense",
            Self::Decommission(_) => "decommission",
            Self::UndoDecommission(_) => "undo_decommission",
            Self::Quarantine(_) => "quarantine",
            Self::Release(_) => "release",
            Self::Install(_) => "install",
            Self::Service(_) => "service",
            Self::Implant(_) => "implant",
            Self::Explant(_) => "explant",
            Self::Recall(_) => "recall",
            Self::Acknowledge(_) => "acknowledge_recall",
            Self::Disposition(_) => "recall_disposition",
        }
    }

    /// The payload to sign.
    pub fn payload(&self) -> Value {
        let v = match self {
            Self::Commission(p) => serde_json::to_value(p),
            Self::Pack(p) => serde_json::to_value(p),
            Self::Unpack(p) => serde_json::to_value(p),
            Self::Ship(p) => serde_json::to_value(p),
            Self::Receive(p) => serde_json::to_value(p),
            Self::Dispense(p) | Self::Quarantine(p) | Self::Release(p) => serde_json::to_value(p),
            Self::Decommission(p) => serde_json::to_value(p),
            Self::UndoDecommission(p) => serde_json::to_value(p),
            Self::Install(p) | Self::Service(p) | Self::Implant(p) | Self::Explant(p) => {
                serde_json::to_value(p)
            }
            Self::Recall(p) => serde_json::to_value(p),
            Self::Acknowledge(p) => serde_json::to_value(p),
            Self::Disposition(p) => serde_json::to_value(p),
        };
        v.expect("trace payloads serialise")
    }

    /// The GS1 CBV 2.0 business step and disposition this event records.
    pub fn cbv(&self) -> Cbv {
        let (step, disposition) = match self {
            Self::Commission(_) => ("commissioning", "active"),
            Self::Pack(_) => ("packing", "in_progress"),
            Self::Unpack(_) => ("unpacking", "in_progress"),
            Self::Ship(_) => ("shipping", "in_transit"),
            Self::Receive(_) => ("receiving", "in_progress"),
            Self::Dispense(_) => ("dispensing", "dispensed"),
            Self::Decommission(d) => decommission_cbv(d.reason),
            // CBV has no "undo": the unit is active again, as when commissioned.
            Self::UndoDecommission(_) => ("commissioning", "active"),
            Self::Quarantine(_) => ("holding", "non_sellable_other"),
            Self::Release(_) => ("inspecting", "sellable_accessible"),
            Self::Install(_) => ("installing", "active"),
            Self::Service(_) => ("repairing", "active"),
            Self::Implant(_) => ("installing", "dispensed"),
            Self::Explant(_) => ("removing", "non_sellable_other"),
            Self::Recall(_) => ("holding", "recalled"),
            Self::Acknowledge(_) => ("inspecting", "recalled"),
            Self::Disposition(d) => match d.action {
                RecallAction::Returned => ("shipping", "returned"),
                RecallAction::Destroyed => ("destroying", "destroyed"),
                RecallAction::Quarantined => ("holding", "non_sellable_other"),
            },
        };
        Cbv { step, disposition }
    }
}

fn decommission_cbv(reason: Reason) -> (&'static str, &'static str) {
    match reason {
        Reason::Destroyed => ("destroying", "destroyed"),
        Reason::Sample => ("sampling", "non_sellable_other"),
        Reason::Stolen => ("decommissioning", "stolen"),
        Reason::Exported => ("decommissioning", "inactive"),
        Reason::Expired => ("decommissioning", "expired"),
        Reason::Damaged => ("decommissioning", "damaged"),
    }
}

/// A GS1 CBV 2.0 business step and disposition (bare names; the URIs are
/// `https://ref.gs1.org/cbv/BizStep-<step>` and `.../Disp-<disposition>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Cbv {
    /// Business step, e.g. `shipping`.
    pub step: &'static str,
    /// Disposition, e.g. `in_transit`.
    pub disposition: &'static str,
}
