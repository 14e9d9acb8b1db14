//! The API edge: what a person or a client sends (any scan form for codes, a GTIN as
//! digits or scan, dates as `YYYY-MM-DD`) turned into trace events, with stable error
//! codes that say which input was wrong. The GraphQL layer calls these, signs
//! [`TraceEvent::payload`] as kind [`TraceEvent::kind`], and submits.

use crate::code::{Code, ScannedCode};
use crate::events::*;
use ledger::{EventId, OrgId};
use scanners::{Expiry, Gln, Gtin, Lot, Serial, Sscc};
use std::str::FromStr;

/// A user input that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code} in {field}: {message}")]
pub struct InputError {
    /// Stable code: a `scanners::codes` value, `NOT_A_UNIT_CODE`, `NOT_A_CONTAINER`,
    /// `BAD_INPUT`.
    pub code: &'static str,
    /// Which input, e.g. `codes[2]`, `gtin`.
    pub field: String,
    /// What was wrong.
    pub message: String,
    /// What to do, for the person scanning.
    pub hints: Vec<String>,
}

/// Stable code: a field does not read (date, lot, organisation, reason...).
pub const BAD_INPUT: &str = "BAD_INPUT";
/// Stable code: an SSCC was expected.
pub const NOT_A_CONTAINER: &str = "NOT_A_CONTAINER";

fn bad(field: &str, message: impl Into<String>) -> InputError {
    InputError {
        code: BAD_INPUT,
        field: field.to_string(),
        message: message.into(),
        hints: vec![],
    }
}

/// One code in any scan form.
pub fn code(field: &str, text: &str) -> Result<Code, InputError> {
    ScannedCode::read(text)
        .map(|s| s.code)
        .map_err(|p| InputError {
            code: p.code,
            field: field.to_string(),
            message: p.message,
            hints: p.hints,
        })
}

/// Codes in any scan form; the first bad one is named by its position.
pub fn codes(texts: &[String]) -> Result<Vec<Code>, InputError> {
    texts
        .iter()
        .enumerate()
        .map(|(i, t)| code(&format!("codes[{i}]"), t))
        .collect()
}

/// An SSCC given as 18 digits or in any scan form.
pub fn sscc(field: &str, text: &str) -> Result<Sscc, InputError> {
    if let Ok(s) = Sscc::new(text.trim()) {
        return Ok(s);
    }
    match code(field, text)? {
        Code::Container(s) => Ok(s),
        Code::Item { .. } => Err(InputError {
            code: NOT_A_CONTAINER,
            field: field.to_string(),
            message: "expected a case or pallet SSCC, got an item".into(),
            hints: vec!["Scan the SSCC label of the case or pallet.".into()],
        }),
    }
}

/// A GTIN given as 8-14 digits or as a scan carrying AI (01).
pub fn gtin(field: &str, text: &str) -> Result<Gtin, InputError> {
    let t = text.trim();
    if t.bytes().all(|b| b.is_ascii_digit()) {
        return Gtin::new(t).map_err(|e| InputError {
            code: e.code(),
            field: field.to_string(),
            message: e.message().to_string(),
            hints: vec![],
        });
    }
    let scan = scanners::parse(t.as_bytes());
    scan.ids()
        .gtin
        .ok_or_else(|| bad(field, "expected a GTIN (digits, or a scan with AI 01)"))
}

fn typed<T: FromStr>(field: &str, text: &str) -> Result<T, InputError>
where
    T::Err: std::fmt::Display,
{
    text.trim()
        .parse()
        .map_err(|e: T::Err| bad(field, e.to_string()))
}

/// A commission event from user input.
pub fn commission(
    gtin_text: &str,
    lot: &str,
    expiry: &str,
    serials: &[String],
    device: bool,
    location: Option<&str>,
) -> Result<TraceEvent, InputError> {
    Ok(TraceEvent::Commission(Commission {
        gtin: gtin("gtin", gtin_text)?,
        lot: Lot::new(lot.trim()).map_err(|e| bad("lot", e.message()))?,
        expiry: typed::<Expiry>("expiry", expiry)?,
        serials: serials
            .iter()
            .enumerate()
            .map(|(i, s)| {
                Serial::new(s.trim()).map_err(|e| bad(&format!("serials[{i}]"), e.message()))
            })
            .collect::<Result<_, _>>()?,
        device,
        location: location.map(|g| typed::<Gln>("location", g)).transpose()?,
    }))
}

/// A pack event.
pub fn pack(parent: &str, children: &[String]) -> Result<TraceEvent, InputError> {
    Ok(TraceEvent::Pack(Pack {
        parent: sscc("parent", parent)?,
        children: codes(children)?,
    }))
}

/// An unpack event; no children means all.
pub fn unpack(parent: &str, children: &[String]) -> Result<TraceEvent, InputError> {
    Ok(TraceEvent::Unpack(Unpack {
        parent: sscc("parent", parent)?,
        children: codes(children)?,
    }))
}

/// A ship event.
pub fn ship(codes_text: &[String], to: &str) -> Result<TraceEvent, InputError> {
    Ok(TraceEvent::Ship(Ship {
        codes: codes(codes_text)?,
        to: typed::<OrgId>("to", to)?,
    }))
}

/// A receive event, optionally against a shipment (its ship event id, hex).
pub fn receive(codes_text: &[String], shipment: Option<&str>) -> Result<TraceEvent, InputError> {
    Ok(TraceEvent::Receive(Receive {
        codes: codes(codes_text)?,
        shipment: shipment
            .map(|s| typed::<EventId>("shipment", s))
            .transpose()?,
    }))
}

/// Dispense, quarantine or release (`kind`), by codes.
pub fn by_codes(kind: &str, codes_text: &[String]) -> Result<TraceEvent, InputError> {
    let c = Codes {
        codes: codes(codes_text)?,
    };
    match kind {
        "dispense" => Ok(TraceEvent::Dispense(c)),
        "quarantine" => Ok(TraceEvent::Quarantine(c)),
        "release" => Ok(TraceEvent::Release(c)),
        other => Err(bad(
            "kind",
            format!("{other:?} is not dispense, quarantine or release"),
        )),
    }
}

fn reason(text: &str) -> Result<Reason, InputError> {
    serde_json::from_value(serde_json::Value::String(text.trim().to_ascii_lowercase())).map_err(
        |_| {
            bad(
                "reason",
                "expected destroyed, sample, stolen, exported, expired or damaged",
            )
        },
    )
}

/// A decommission event.
pub fn decommission(
    codes_text: &[String],
    reason_text: &str,
    location: Option<&str>,
) -> Result<TraceEvent, InputError> {
    Ok(TraceEvent::Decommission(Decommission {
        codes: codes(codes_text)?,
        reason: reason(reason_text)?,
        location: location.map(|g| typed::<Gln>("location", g)).transpose()?,
    }))
}

/// An undo of a decommission.
pub fn undo_decommission(
    codes_text: &[String],
    location: Option<&str>,
) -> Result<TraceEvent, InputError> {
    Ok(TraceEvent::UndoDecommission(UndoDecommission {
        codes: codes(codes_text)?,
        location: location.map(|g| typed::<Gln>("location", g)).transpose()?,
    }))
}

/// A recall by lots or by serials (codes in any scan form, all of the GTIN).
pub fn recall(
    gtin_text: &str,
    lots: &[String],
    codes_text: &[String],
    class: &str,
    depth: &str,
    reason: &str,
) -> Result<TraceEvent, InputError> {
    let gtin = gtin("gtin", gtin_text)?;
    let mut serials = Vec::new();
    for (i, c) in codes(codes_text)?.into_iter().enumerate() {
        match c {
            Code::Item { gtin: g, serial } if g == gtin => serials.push(serial),
            _ => {
                return Err(bad(
                    &format!("codes[{i}]"),
                    format!("not an item of GTIN {gtin}"),
                ));
            }
        }
    }
    let class = match class.trim().to_ascii_uppercase().as_str() {
        "I" | "1" => RecallClass::I,
        "II" | "2" => RecallClass::II,
        "III" | "3" => RecallClass::III,
        _ => return Err(bad("class", "expected I, II or III")),
    };
    let depth =
        serde_json::from_value(serde_json::Value::String(depth.trim().to_ascii_lowercase()))
            .map_err(|_| bad("depth", "expected wholesale, retail or patient"))?;
    Ok(TraceEvent::Recall(Recall {
        gtin,
        lots: lots
            .iter()
            .enumerate()
            .map(|(i, l)| Lot::new(l.trim()).map_err(|e| bad(&format!("lots[{i}]"), e.message())))
            .collect::<Result<_, _>>()?,
        serials,
        class,
        depth,
        reason: reason.to_string(),
    }))
}

/// A recall acknowledgement.
pub fn acknowledge_recall(recall: &str) -> Result<TraceEvent, InputError> {
    Ok(TraceEvent::Acknowledge(Acknowledge {
        recall: typed::<EventId>("recall", recall)?,
    }))
}

/// A recall disposition (`returned`, `destroyed`, `quarantined`).
pub fn recall_disposition(
    recall: &str,
    codes_text: &[String],
    action: &str,
) -> Result<TraceEvent, InputError> {
    let action = serde_json::from_value(serde_json::Value::String(
        action.trim().to_ascii_lowercase(),
    ))
    .map_err(|_| bad("action", "expected returned, destroyed or quarantined"))?;
    Ok(TraceEvent::Disposition(Disposition {
        recall: typed::<EventId>("recall", recall)?,
        codes: codes(codes_text)?,
        action,
    }))
}

/// A device event (`install`, `service`, `implant`, `explant`); the patient reference
/// is the hospital's keyed hash, 64 lowercase hex digits.
pub fn device(
    kind: &str,
    code_text: &str,
    patient: Option<&str>,
) -> Result<TraceEvent, InputError> {
    let d = Device {
        code: code("code", code_text)?,
        patient: patient
            .map(|p| {
                crate::PatientRef::new(p).map_err(|e| InputError {
                    code: crate::codes::BAD_PATIENT_REF,
                    field: "patient".into(),
                    message: e.to_string(),
                    hints: vec![],
                })
            })
            .transpose()?,
    };
    match kind {
        "install" => Ok(TraceEvent::Install(d)),
        "service" => Ok(TraceEvent::Service(d)),
        "implant" => Ok(TraceEvent::Implant(d)),
        "explant" => Ok(TraceEvent::Explant(d)),
        other => Err(bad("kind", format!("{other:?} is not a device event"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_in_any_form_become_normalised_events() {
        let e = commission(
            "(01)00614141100019",
            "L1",
            "2027-06-30",
            &["A1".into(), "A2".into()],
            false,
            None,
        )
        .unwrap();
        assert_eq!(e.payload()["gtin"], "00614141100019");
        let e = ship(
            &["https://id.gs1.org/01/00614141100019/21/A1".into()],
            "northwind",
        )
        .unwrap();
        assert_eq!(e.payload()["codes"][0], "(01)00614141100019(21)A1");
        let e = pack(
            "(00)006141410000000005",
            &["(01)00614141100019(21)A1".into()],
        )
        .unwrap();
        assert_eq!(e.payload()["parent"], "006141410000000005");
        let err = ship(&["(01)00614141100019(21)A1".into(), "(01)1234".into()], "x").unwrap_err();
        assert_eq!(err.field, "codes[1]");
        assert_eq!(
            pack("(01)00614141100019(21)A1", &[]).unwrap_err().code,
            NOT_A_CONTAINER
        );
        assert_eq!(decommission(&[], "lost", None).unwrap_err().field, "reason");
        let r = recall(
            "00614141100019",
            &[],
            &["(01)00614141100019(21)A1".into()],
            "ii",
            "Retail",
            "x",
        )
        .unwrap();
        assert_eq!(r.payload()["serials"][0], "A1");
        assert_eq!(r.payload()["class"], "II");
        assert_eq!(
            device("implant", "(01)00860001200010(21)P", Some("Jane"))
                .unwrap_err()
                .code,
            crate::codes::BAD_PATIENT_REF
        );
        // every built event reads back through the module's own parser
        let e = recall_disposition(
            &"ab".repeat(32),
            &["(01)00614141100019(21)A1".into()],
            "Returned",
        )
        .unwrap();
        assert_eq!(TraceEvent::parse(e.kind(), &e.payload()).unwrap(), e);
    }
}
