//! Capture: the events of an EPCIS 2.0 document read for the organisation importing
//! them, each as a trace event that carries the CBV 2.0 hash of the EPCIS event it came
//! from, or refused with a stable code and a reason.
//!
//! Nothing an event says is silently dropped: a field the trace model does not keep
//! (quantities, sensor data, business transactions, user extensions, ILMD beyond lot and
//! expiry...) refuses the event and names the field; a location or party that is not the
//! importer's refuses it too. What is accepted is what the ledger records: the step, the
//! units, the parties, the lot and expiry, the importer's own location. The event time
//! stays with the sender; the ledger's time is its block's.

use super::document::from_epcis;
use super::hash::{EpcisHash, Prefixes};
use super::uri;
use crate::events::TraceEvent;
use ledger::{Consortium, OrgId, Rejection};
use scanners::Gln;
use serde_json::Value;

/// Stable codes of capture refusals (the module's own codes come at admission).
pub mod codes {
    /// The document is not an EPCIS 2.0 document with an event list.
    pub const EPCIS_BAD_DOCUMENT: &str = "EPCIS_BAD_DOCUMENT";
    /// The event type, step or a field is outside what the trace module records.
    pub const EPCIS_UNSUPPORTED: &str = "EPCIS_UNSUPPORTED";
    /// A location or party of the event is not the importing organisation's.
    pub const EPCIS_WRONG_PARTY: &str = "EPCIS_WRONG_PARTY";
    /// The event's `eventID` is a CBV 2.0 hash other than its content's.
    pub const EPCIS_ID_MISMATCH: &str = "EPCIS_ID_MISMATCH";
}
use codes::*;

/// Most events one document may carry.
pub const MAX_DOCUMENT_EVENTS: usize = 2_000;

/// One event of a captured document.
#[derive(Debug, Clone, PartialEq)]
pub struct Capture {
    /// The `eventID` the sender gave, if any.
    pub event_id: Option<String>,
    /// The CBV 2.0 hash of the event, when its fields are covered by the hash.
    pub hash: Option<EpcisHash>,
    /// The trace event to sign (its payload is [`Capture::payload`]), or why not.
    pub outcome: Result<TraceEvent, Rejection>,
}

impl Capture {
    /// The payload to sign: the trace event with its EPCIS hash.
    pub fn payload(&self) -> Option<Value> {
        match (&self.outcome, &self.hash) {
            (Ok(e), Some(h)) => Some(e.payload_imported(h)),
            _ => None,
        }
    }
}

/// The ledger event the EPCIS event of `hash` was imported as, if it was.
pub fn imported(
    ledger: &ledger::Ledger,
    hash: &EpcisHash,
) -> Result<Option<ledger::EventId>, ledger::StoreError> {
    ledger.read(crate::MODULE, |v| {
        crate::state::imported(&crate::state::ReadOnly(v), hash)
    })
}

fn refuse(code: &'static str, message: impl Into<String>) -> Rejection {
    Rejection::new(code, message)
}

/// The event list of an EPCIS 2.0 document (`type: EPCISDocument`).
pub fn events_of(document: &Value) -> Result<&Vec<Value>, Rejection> {
    let kind = document.get("type").and_then(Value::as_str);
    if kind != Some("EPCISDocument") {
        return Err(refuse(
            EPCIS_BAD_DOCUMENT,
            format!(
                "send an EPCIS 2.0 JSON-LD document: an object with \"type\": \"EPCISDocument\", not {}",
                kind.map_or("one without a type".to_string(), |k| format!("{k:?}"))
            ),
        ));
    }
    let list = document
        .pointer("/epcisBody/eventList")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            refuse(
                EPCIS_BAD_DOCUMENT,
                "the document has no epcisBody.eventList array",
            )
        })?;
    if list.is_empty() || list.len() > MAX_DOCUMENT_EVENTS {
        return Err(refuse(
            EPCIS_BAD_DOCUMENT,
            format!(
                "a document carries 1 to {MAX_DOCUMENT_EVENTS} events, not {}",
                list.len()
            ),
        ));
    }
    Ok(list)
}

/// Every event of `document` as `org` would record it, in document order.
pub fn capture(
    document: &Value,
    consortium: &Consortium,
    org: &OrgId,
) -> Result<Vec<Capture>, Rejection> {
    let prefixes = Prefixes::of_document(document);
    Ok(events_of(document)?
        .iter()
        .map(|e| capture_event(e, &prefixes, consortium, org))
        .collect())
}

/// One EPCIS event as `org` would record it.
pub fn capture_event(
    event: &Value,
    prefixes: &Prefixes,
    consortium: &Consortium,
    org: &OrgId,
) -> Capture {
    let event_id = event
        .get("eventID")
        .and_then(Value::as_str)
        .map(str::to_string);
    let hash = EpcisHash::of(event, prefixes);
    let outcome = match &hash {
        Err(u) => Err(refuse(
            EPCIS_UNSUPPORTED,
            format!("the event's CBV 2.0 hash cannot be computed: {}", u.0),
        )),
        Ok(h) => read(event, h, event_id.as_deref(), consortium, org),
    };
    Capture {
        event_id,
        hash: hash.ok(),
        outcome,
    }
}

/// Top-level fields every accepted event may have.
const COMMON: &[&str] = &[
    "@context",
    "type",
    "eventID",
    "eventTime",
    "eventTimeZoneOffset",
    "recordTime",
    "action",
    "bizStep",
    "disposition",
    "readPoint",
    "bizLocation",
    "rdfs:comment",
];

/// ILMD fields a commissioning keeps.
const LOT: &str = "cbvmda:lotNumber";
const EXPIRY: &str = "cbvmda:itemExpirationDate";

fn step_of(event: &Value) -> String {
    let full = event
        .get("bizStep")
        .and_then(Value::as_str)
        .map(|s| uri::cbv("BizStep", s))
        .unwrap_or_default();
    full.rsplit_once("BizStep-")
        .map_or(full.clone(), |(_, b)| b.to_string())
}

fn read(
    e: &Value,
    hash: &EpcisHash,
    event_id: Option<&str>,
    consortium: &Consortium,
    org: &OrgId,
) -> Result<TraceEvent, Rejection> {
    if let Some(id) = event_id.filter(|i| i.starts_with("ni:///"))
        && id != hash.as_str()
    {
        return Err(refuse(
            EPCIS_ID_MISMATCH,
            format!("eventID {id} is not the CBV 2.0 hash of the event's content ({hash})"),
        ));
    }
    let kind = e.get("type").and_then(Value::as_str).unwrap_or_default();
    let step = step_of(e);
    let action = e.get("action").and_then(Value::as_str).unwrap_or_default();
    let own: &[&str] = match kind {
        "ObjectEvent" => &["epcList", "ilmd", "sourceList", "destinationList"],
        "AggregationEvent" => &["parentID", "childEPCs"],
        "" => return Err(refuse(EPCIS_UNSUPPORTED, "the event has no type")),
        other => {
            return Err(refuse(
                EPCIS_UNSUPPORTED,
                format!(
                    "{other} has no trace step: the trace module records custody of serialised \
                     units (ObjectEvent and AggregationEvent)"
                ),
            ));
        }
    };
    let o = e
        .as_object()
        .ok_or_else(|| refuse(EPCIS_UNSUPPORTED, "an event is a JSON object"))?;
    if let Some(field) = o
        .keys()
        .find(|k| !COMMON.contains(&k.as_str()) && !own.contains(&k.as_str()))
    {
        return Err(refuse(
            EPCIS_UNSUPPORTED,
            format!(
                "{kind} field {field:?} is not kept by the trace module; remove it to record the custody step alone"
            ),
        ));
    }
    if kind == "ObjectEvent" && step.is_empty() {
        return Err(refuse(
            EPCIS_UNSUPPORTED,
            "an ObjectEvent without bizStep: the trace module records a unit's custody by its business step (commissioning, shipping, receiving, dispensing, decommissioning...)",
        ));
    }
    if kind == "ObjectEvent" && (action == "ADD") != (step == "commissioning") {
        return Err(refuse(
            EPCIS_UNSUPPORTED,
            format!(
                "an ObjectEvent with action {action} and bizStep {step:?}: only commissioning adds units"
            ),
        ));
    }
    check_ilmd(e, &step)?;
    let location = own_location(e, "readPoint", consortium, org)?;
    let site = own_location(e, "bizLocation", consortium, org)?;
    check_parties(e, &step, consortium, org)?;
    let mut event = from_epcis(e, consortium).map_err(|u| refuse(EPCIS_UNSUPPORTED, u.0))?;
    match &mut event {
        TraceEvent::Commission(c) => c.location = site.or(location),
        TraceEvent::Decommission(d) => d.location = site.or(location),
        _ => {}
    }
    Ok(event)
}

fn check_ilmd(e: &Value, step: &str) -> Result<(), Rejection> {
    let Some(ilmd) = e.get("ilmd") else {
        return Ok(());
    };
    if step != "commissioning" {
        return Err(refuse(
            EPCIS_UNSUPPORTED,
            format!(
                "ILMD on a {step:?} event is not kept: lot and expiry are fixed at commissioning"
            ),
        ));
    }
    let o = ilmd
        .as_object()
        .ok_or_else(|| refuse(EPCIS_UNSUPPORTED, "ilmd is an object"))?;
    match o.keys().find(|k| *k != LOT && *k != EXPIRY) {
        Some(k) => Err(refuse(
            EPCIS_UNSUPPORTED,
            format!("ILMD field {k:?} is not kept; the trace module keeps {LOT} and {EXPIRY}"),
        )),
        None => Ok(()),
    }
}

/// The GLN of a location or party URI (`.../414/<gln>` or `.../417/<gln>`).
fn gln_of(id: &str) -> Option<String> {
    let dl = uri::epc(id);
    let rest = dl.split_once("/414/").or_else(|| dl.split_once("/417/"))?.1;
    Some(rest.split('/').next()?.to_string())
}

fn org_of(consortium: &Consortium, id: &str) -> Option<OrgId> {
    let gln = gln_of(id)?;
    consortium
        .organizations
        .iter()
        .find(|o| o.glns.contains(&gln))
        .map(|o| o.id.clone())
}

/// A `readPoint` or `bizLocation` must be a location of the importer; its GLN.
fn own_location(
    e: &Value,
    field: &str,
    consortium: &Consortium,
    org: &OrgId,
) -> Result<Option<Gln>, Rejection> {
    let Some(place) = e.get(field) else {
        return Ok(None);
    };
    if let Some(extra) = place
        .as_object()
        .and_then(|o| o.keys().find(|k| *k != "id"))
    {
        return Err(refuse(
            EPCIS_UNSUPPORTED,
            format!("{field} field {extra:?} is not kept by the trace module"),
        ));
    }
    let id = place.get("id").and_then(Value::as_str).unwrap_or_default();
    let gln = gln_of(id).and_then(|g| Gln::new(&g).ok()).ok_or_else(|| {
        refuse(
            EPCIS_UNSUPPORTED,
            format!("{field} {id:?} is not a GLN location (SGLN)"),
        )
    })?;
    if org_of(consortium, id).as_ref() != Some(org) {
        return Err(refuse(
            EPCIS_WRONG_PARTY,
            format!("{field} {id} is not a location of {org}, who imports the event"),
        ));
    }
    Ok(Some(gln))
}

fn parties<'v>(e: &'v Value, list: &str, item: &str) -> Vec<&'v str> {
    e.get(list)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|p| p.get(item).and_then(Value::as_str).unwrap_or_default())
        .collect()
}

/// Sources and destinations: on shipping the sources are the importer and the
/// destinations one other member; on receiving the destinations are the importer and the
/// sources members. Other steps carry none.
fn check_parties(
    e: &Value,
    step: &str,
    consortium: &Consortium,
    org: &OrgId,
) -> Result<(), Rejection> {
    let sources = parties(e, "sourceList", "source");
    let destinations = parties(e, "destinationList", "destination");
    if sources.is_empty() && destinations.is_empty() {
        return Ok(());
    }
    let (mine, theirs, mine_name) = match step {
        "shipping" => (&sources, &destinations, "source"),
        "receiving" | "accepting" => (&destinations, &sources, "destination"),
        _ => {
            return Err(refuse(
                EPCIS_UNSUPPORTED,
                format!(
                    "sources and destinations on a {step:?} event are not kept; only shipping and receiving name parties"
                ),
            ));
        }
    };
    for p in mine {
        if org_of(consortium, p).as_ref() != Some(org) {
            return Err(refuse(
                EPCIS_WRONG_PARTY,
                format!("{mine_name} {p:?} is not {org}, who imports the event"),
            ));
        }
    }
    let mut others: Vec<OrgId> = Vec::new();
    for p in theirs {
        let o = org_of(consortium, p).ok_or_else(|| {
            refuse(
                EPCIS_WRONG_PARTY,
                format!("{p:?} is not a party or location of a consortium member"),
            )
        })?;
        if !others.contains(&o) {
            others.push(o);
        }
    }
    if others.len() > 1 {
        return Err(refuse(
            EPCIS_UNSUPPORTED,
            format!(
                "the event names several counterparties ({}); a trace event has one",
                others
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    Ok(())
}
