//! Turning mutation inputs into trace events: every code is read once here (any scan
//! form), and a bad one becomes a `BAD_CODE` error naming what the scanner library found.

use super::types::{
    CommissionInput, DecommissionInput, PackInput, RecallInput, ReceiveInput, ShipInput,
    UnpackInput,
};
use crate::errors::{BAD_CODE, BAD_INPUT, error};
use async_graphql::{ErrorExtensions, Result};
use ledger::{EventId, OrgId};
use scanners::{Expiry, Gln, Gtin, Lot, Serial, Sscc};
use trace::{Code, TraceEvent};

/// Reads one code in any scan form.
pub fn code(text: &str) -> Result<Code> {
    trace::read_code(text).map_err(|p| {
        let scan_code = p.code.to_string();
        let hints = p.hints.clone();
        error(
            BAD_CODE,
            format!("the code could not be read: {}", p.message),
        )
        .extend_with(move |_, e| {
            e.set("scanCode", scan_code.clone());
            e.set("hints", hints.clone());
        })
    })
}

/// Reads codes in any scan form.
pub fn codes(texts: &[String]) -> Result<Vec<Code>> {
    texts.iter().map(|t| code(t)).collect()
}

fn sscc(text: &str) -> Result<Sscc> {
    if text.len() == 18 && text.bytes().all(|b| b.is_ascii_digit()) {
        return Sscc::new(text).map_err(|e| error(BAD_CODE, format!("SSCC: {}", e.message())));
    }
    match code(text)? {
        Code::Container(s) => Ok(s),
        Code::Item { .. } => Err(error(
            BAD_CODE,
            "a container is named by its SSCC (18 digits), not by an item code",
        )),
    }
}

fn field<T, E: std::fmt::Display>(what: &str, r: std::result::Result<T, E>) -> Result<T> {
    r.map_err(|e| error(BAD_INPUT, format!("{what}: {e}")))
}

fn gtin(text: &str) -> Result<Gtin> {
    Gtin::new(text).map_err(|e| error(BAD_CODE, format!("GTIN: {}", e.message())))
}

fn org(text: &str) -> Result<OrgId> {
    field("organisation id", OrgId::new(text))
}

fn gln(text: Option<&String>) -> Result<Option<Gln>> {
    text.map(|g| Gln::new(g).map_err(|e| error(BAD_CODE, format!("GLN: {}", e.message()))))
        .transpose()
}

/// A commission event.
pub fn commission(i: &CommissionInput) -> Result<TraceEvent> {
    let expiry: Expiry = i
        .expiry
        .parse()
        .map_err(|e: scanners::Error| error(BAD_INPUT, format!("expiry: {}", e.message())))?;
    Ok(TraceEvent::Commission(trace::Commission {
        gtin: gtin(&i.gtin)?,
        lot: Lot::new(&i.lot).map_err(|e| error(BAD_INPUT, format!("lot: {}", e.message())))?,
        expiry,
        serials: i
            .serials
            .iter()
            .map(|s| {
                Serial::new(s).map_err(|e| error(BAD_INPUT, format!("serial: {}", e.message())))
            })
            .collect::<Result<_>>()?,
        device: i.device,
        location: gln(i.location.as_ref())?,
    }))
}

/// A pack event.
pub fn pack(i: &PackInput) -> Result<TraceEvent> {
    Ok(TraceEvent::Pack(trace::Pack {
        parent: sscc(&i.parent)?,
        children: codes(&i.children)?,
    }))
}

/// An unpack event.
pub fn unpack(i: &UnpackInput) -> Result<TraceEvent> {
    Ok(TraceEvent::Unpack(trace::Unpack {
        parent: sscc(&i.parent)?,
        children: codes(&i.children)?,
    }))
}

/// A ship event.
pub fn ship(i: &ShipInput) -> Result<TraceEvent> {
    Ok(TraceEvent::Ship(trace::Ship {
        codes: codes(&i.codes)?,
        to: org(&i.to)?,
    }))
}

/// A receive event.
pub fn receive(i: &ReceiveInput) -> Result<TraceEvent> {
    let shipment = i
        .shipment
        .as_ref()
        .map(|s| field("shipment id", s.parse::<EventId>()))
        .transpose()?;
    Ok(TraceEvent::Receive(trace::Receive {
        codes: codes(&i.codes)?,
        shipment,
    }))
}

/// A decommission event.
pub fn decommission(i: &DecommissionInput) -> Result<TraceEvent> {
    Ok(TraceEvent::Decommission(trace::Decommission {
        codes: codes(&i.codes)?,
        reason: i.reason.into(),
        location: gln(i.location.as_ref())?,
    }))
}

/// A recall event.
pub fn recall(i: &RecallInput) -> Result<TraceEvent> {
    let gtin = gtin(&i.gtin)?;
    let mut serials = Vec::new();
    for c in codes(&i.codes)? {
        match c {
            Code::Item { gtin: g, serial } if g == gtin => serials.push(serial),
            other => {
                return Err(error(
                    BAD_CODE,
                    format!("{other} is not an item of GTIN {gtin}; a recall names one product"),
                ));
            }
        }
    }
    Ok(TraceEvent::Recall(trace::Recall {
        gtin,
        lots: i
            .lots
            .iter()
            .map(|l| Lot::new(l).map_err(|e| error(BAD_INPUT, format!("lot: {}", e.message()))))
            .collect::<Result<_>>()?,
        serials,
        class: i.class.into(),
        depth: i.depth.into(),
        reason: i.reason.clone(),
    }))
}

/// A recall id.
pub fn recall_id(id: &str) -> Result<EventId> {
    field("recall id", id.parse::<EventId>())
}
