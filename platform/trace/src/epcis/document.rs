//! Trace events as EPCIS 2.0 JSON-LD events and back.
//!
//! Export: each custody event becomes an `ObjectEvent` (or an `AggregationEvent` for
//! pack and unpack) with Digital Link EPCs, the CBV step and disposition, the acting
//! organisation's GLN as business location, parties as source and destination, lot and
//! expiry as ILMD, and its CBV 2.0 event hash as `eventID`. Patient references never
//! leave: device events carry the device only.
//!
//! Import reads the events other systems send for the same steps (commissioning with
//! ILMD, packing and unpacking, shipping with an owning-party destination, receiving,
//! dispensing, decommissioning) into trace events to sign and submit; anything else is
//! reported, not guessed.

use super::hash::{Prefixes, Unsupported, event_hash};
use super::uri::format_ms;
use crate::code::{Code, ScannedCode};
use crate::events::*;
use crate::provenance::Provenance;
use ledger::{Consortium, OrgId};
use scanners::{Expiry, Gtin, Lot, Serial, Sscc};
use serde_json::{Map, Value, json};

/// The JSON-LD context of exported documents.
pub const CONTEXT: &str = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld";

/// A code as a canonical GS1 Digital Link URI.
pub fn digital_link(code: &Code) -> String {
    match code {
        Code::Item { gtin, serial } => format!(
            "https://id.gs1.org/01/{gtin}/21/{}",
            super::uri::reencode(serial.as_str())
        ),
        Code::Container(s) => format!("https://id.gs1.org/00/{s}"),
    }
}

fn party(consortium: &Consortium, org: &OrgId) -> Option<String> {
    let gln = consortium.organization(org)?.glns.first()?;
    Some(format!("https://id.gs1.org/417/{gln}"))
}

fn site(consortium: &Consortium, org: &OrgId) -> Option<Value> {
    let gln = consortium.organization(org)?.glns.first()?;
    Some(json!({ "id": format!("https://id.gs1.org/414/{gln}") }))
}

fn epcs(codes: &[Code]) -> Value {
    Value::from(codes.iter().map(digital_link).collect::<Vec<_>>())
}

/// One trace event as an EPCIS event, or `None` for events without EPCs (recall
/// acknowledgements).
pub fn to_epcis(
    event: &TraceEvent,
    org: &OrgId,
    time_ms: i64,
    consortium: &Consortium,
) -> Option<Value> {
    let cbv = event.cbv();
    let mut e = Map::new();
    let (kind, action, body): (&str, &str, Value) = match event {
        TraceEvent::Commission(c) => {
            let items: Vec<Code> = c
                .serials
                .iter()
                .map(|s| Code::item(c.gtin.clone(), s.clone()))
                .collect();
            e.insert(
                "ilmd".into(),
                json!({"cbvmda:lotNumber": c.lot, "cbvmda:itemExpirationDate": c.expiry}),
            );
            ("ObjectEvent", "ADD", json!({ "epcList": epcs(&items) }))
        }
        TraceEvent::Pack(p) => (
            "AggregationEvent",
            "ADD",
            json!({"parentID": digital_link(&Code::Container(p.parent.clone())), "childEPCs": epcs(&p.children)}),
        ),
        TraceEvent::Unpack(p) => {
            let mut b = json!({"parentID": digital_link(&Code::Container(p.parent.clone()))});
            if !p.children.is_empty() {
                b["childEPCs"] = epcs(&p.children);
            }
            ("AggregationEvent", "DELETE", b)
        }
        TraceEvent::Ship(s) => {
            let mut b = json!({ "epcList": epcs(&s.codes) });
            if let (Some(from), Some(to)) = (party(consortium, org), party(consortium, &s.to)) {
                b["sourceList"] = json!([{"type": "owning_party", "source": from}]);
                b["destinationList"] = json!([{"type": "owning_party", "destination": to}]);
            }
            ("ObjectEvent", "OBSERVE", b)
        }
        TraceEvent::Receive(Receive { codes, .. })
        | TraceEvent::Dispense(Codes { codes })
        | TraceEvent::Quarantine(Codes { codes })
        | TraceEvent::Release(Codes { codes })
        | TraceEvent::UndoDecommission(UndoDecommission { codes, .. })
        | TraceEvent::Disposition(Disposition { codes, .. }) => {
            ("ObjectEvent", "OBSERVE", json!({ "epcList": epcs(codes) }))
        }
        TraceEvent::Decommission(d) => (
            "ObjectEvent",
            "DELETE",
            json!({ "epcList": epcs(&d.codes) }),
        ),
        TraceEvent::Install(d)
        | TraceEvent::Service(d)
        | TraceEvent::Implant(d)
        | TraceEvent::Explant(d) => (
            "ObjectEvent",
            "OBSERVE",
            json!({ "epcList": epcs(std::slice::from_ref(&d.code)) }),
        ),
        TraceEvent::Recall(r) => {
            let items: Vec<Code> = r
                .serials
                .iter()
                .map(|s| Code::item(r.gtin.clone(), s.clone()))
                .collect();
            let mut b = json!({ "epcList": epcs(&items) });
            if !r.lots.is_empty() {
                b["quantityList"] = r
                    .lots
                    .iter()
                    .map(|l| json!({"epcClass": format!("https://id.gs1.org/01/{}/10/{}", r.gtin, super::uri::reencode(l.as_str()))}))
                    .collect();
            }
            ("ObjectEvent", "OBSERVE", b)
        }
        TraceEvent::Acknowledge(_) => return None,
    };
    e.insert("type".into(), kind.into());
    e.insert("eventTime".into(), format_ms(time_ms).into());
    e.insert("eventTimeZoneOffset".into(), "+00:00".into());
    if let Value::Object(b) = body {
        e.extend(b);
    }
    e.insert("action".into(), action.into());
    e.insert("bizStep".into(), cbv.step.into());
    e.insert("disposition".into(), cbv.disposition.into());
    if let Some(s) = site(consortium, org) {
        e.insert("bizLocation".into(), s);
    }
    let mut v = Value::Object(e);
    if let Ok(id) = event_hash(&v, &Prefixes::default()) {
        v["eventID"] = id.into();
    }
    Some(v)
}

/// A stored trace event as an EPCIS event: its `eventID` is the CBV 2.0 hash of the
/// EPCIS event it was imported from, if it was (the same event, as its sender knows
/// it), else the hash of the exported event itself. `None` for events without EPCs and
/// payloads that do not read.
pub fn export_event(
    kind: &str,
    payload: &Value,
    org: &OrgId,
    time_ms: i64,
    consortium: &Consortium,
) -> Option<Value> {
    let (event, imported) = TraceEvent::parse_imported(kind, payload).ok()?;
    let mut v = to_epcis(&event, org, time_ms, consortium)?;
    if let Some(hash) = imported {
        v["eventID"] = hash.as_str().into();
    }
    Some(v)
}

/// An EPCIS 2.0 document holding `events` (`creation_ms` is the caller's clock).
pub fn document(events: Vec<Value>, creation_ms: i64) -> Value {
    json!({
        "@context": [CONTEXT],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": format_ms(creation_ms),
        "epcisBody": { "eventList": events },
    })
}

/// An item's provenance as an EPCIS 2.0 document (`creation_ms` is the caller's clock).
pub fn export(provenance: &Provenance, consortium: &Consortium, creation_ms: i64) -> Value {
    let events: Vec<Value> = provenance
        .events
        .iter()
        .filter_map(|p| export_event(&p.kind, &p.payload, &p.org, p.time, consortium))
        .collect();
    document(events, creation_ms)
}

fn unsupported(msg: impl Into<String>) -> Unsupported {
    Unsupported(msg.into())
}

fn read_codes(v: Option<&Value>) -> Result<Vec<Code>, Unsupported> {
    let list: Vec<&str> = match v {
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        Some(Value::String(s)) => vec![s],
        _ => vec![],
    };
    list.into_iter()
        .map(|t| {
            let normal = super::uri::epc(t);
            ScannedCode::read(&normal)
                .map(|s| s.code)
                .map_err(|p| unsupported(format!("EPC {t:?}: {}", p.message)))
        })
        .collect()
}

fn bare(v: Option<&Value>, kind: &str) -> String {
    let full = v
        .and_then(Value::as_str)
        .map(|s| super::uri::cbv(kind, s))
        .unwrap_or_default();
    full.rsplit_once(&format!("{kind}-"))
        .map(|(_, b)| b.to_string())
        .unwrap_or(full)
}

fn org_of_party(consortium: &Consortium, uri: &str) -> Option<OrgId> {
    let gln = super::uri::epc(uri).rsplit('/').next()?.to_string();
    consortium
        .organizations
        .iter()
        .find(|o| o.glns.contains(&gln))
        .map(|o| o.id.clone())
}

fn commission_of(e: &Value, codes: Vec<Code>) -> Result<TraceEvent, Unsupported> {
    let ilmd = e
        .get("ilmd")
        .ok_or_else(|| unsupported("commissioning needs ILMD lot and expiry"))?;
    let lot = ilmd
        .get("cbvmda:lotNumber")
        .and_then(Value::as_str)
        .and_then(|l| Lot::new(l).ok())
        .ok_or_else(|| unsupported("ILMD has no usable cbvmda:lotNumber"))?;
    let expiry: Expiry = ilmd
        .get("cbvmda:itemExpirationDate")
        .and_then(Value::as_str)
        .and_then(|d| d.parse().ok())
        .ok_or_else(|| unsupported("ILMD has no usable cbvmda:itemExpirationDate"))?;
    let mut gtin: Option<Gtin> = None;
    let mut serials: Vec<Serial> = Vec::new();
    for c in codes {
        match c {
            Code::Item { gtin: g, serial } if gtin.as_ref().is_none_or(|x| *x == g) => {
                gtin = Some(g);
                serials.push(serial);
            }
            _ => {
                return Err(unsupported(
                    "a commissioning event imports one GTIN's items",
                ));
            }
        }
    }
    Ok(TraceEvent::Commission(Commission {
        gtin: gtin.ok_or_else(|| unsupported("no EPCs"))?,
        lot,
        expiry,
        serials,
        device: false,
        location: None,
    }))
}

fn parent(e: &Value) -> Result<Sscc, Unsupported> {
    match read_codes(e.get("parentID"))?.pop() {
        Some(Code::Container(s)) => Ok(s),
        _ => Err(unsupported("an aggregation needs an SSCC parentID")),
    }
}

/// One EPCIS JSON-LD event as a trace event to sign and submit.
pub fn from_epcis(e: &Value, consortium: &Consortium) -> Result<TraceEvent, Unsupported> {
    let kind = e.get("type").and_then(Value::as_str).unwrap_or_default();
    let action = e.get("action").and_then(Value::as_str).unwrap_or_default();
    let step = bare(e.get("bizStep"), "BizStep");
    let disposition = bare(e.get("disposition"), "Disp");
    if kind == "AggregationEvent" {
        let children = read_codes(e.get("childEPCs"))?;
        return match action {
            "ADD" => Ok(TraceEvent::Pack(Pack {
                parent: parent(e)?,
                children,
            })),
            "DELETE" => Ok(TraceEvent::Unpack(Unpack {
                parent: parent(e)?,
                children,
            })),
            _ => Err(unsupported(format!(
                "AggregationEvent {action} has no trace step"
            ))),
        };
    }
    if kind != "ObjectEvent" {
        return Err(unsupported(format!("{kind} has no trace step")));
    }
    let codes = read_codes(e.get("epcList"))?;
    match step.as_str() {
        "commissioning" => commission_of(e, codes),
        "shipping" => {
            let to = e
                .get("destinationList")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|d| d.get("destination").and_then(Value::as_str))
                .find_map(|d| org_of_party(consortium, d))
                .ok_or_else(|| {
                    unsupported("shipping needs a destination party of the consortium")
                })?;
            Ok(TraceEvent::Ship(Ship { codes, to }))
        }
        "receiving" | "accepting" => Ok(TraceEvent::Receive(Receive {
            codes,
            shipment: None,
        })),
        "dispensing" | "retail_selling" => Ok(TraceEvent::Dispense(Codes { codes })),
        "decommissioning" | "destroying" | "sampling" => {
            let reason = match (step.as_str(), disposition.as_str()) {
                ("destroying", _) | (_, "destroyed") => Reason::Destroyed,
                ("sampling", _) => Reason::Sample,
                (_, "stolen") => Reason::Stolen,
                (_, "expired") => Reason::Expired,
                (_, "damaged") => Reason::Damaged,
                (_, "inactive") => Reason::Exported,
                _ => return Err(unsupported(format!("decommissioning as {disposition:?}"))),
            };
            Ok(TraceEvent::Decommission(Decommission {
                codes,
                reason,
                location: None,
            }))
        }
        other => Err(unsupported(format!("bizStep {other:?} has no trace step"))),
    }
}

/// Every event of an EPCIS document, each as a trace event or why not.
pub fn import(document: &Value, consortium: &Consortium) -> Vec<Result<TraceEvent, Unsupported>> {
    let list = document
        .pointer("/epcisBody/eventList")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    list.iter().map(|e| from_epcis(e, consortium)).collect()
}
