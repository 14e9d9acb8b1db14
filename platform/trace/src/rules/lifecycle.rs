//! Dispense, decommission and its undo, quarantine and release, and the device events
//! (install, service, implant, explant).

use super::{Ctx, distinct, held, indexed, own_location, reject, sound, usable};
use crate::code::Code;
use crate::codes::*;
use crate::events::{Decommission, Reason, TraceEvent, UNDO_WINDOW_DAYS, UndoDecommission};
use crate::state::{self, Product, Status, Tables};
use ledger::{Effects, OrgRole, Rejection};

const DAY_MS: i64 = 86_400_000;

fn item_only(code: &Code) -> Result<(), Rejection> {
    if code.is_container() {
        Err(reject(
            NOT_AN_ITEM,
            format!("{code} is a logistic unit; scan the item inside it"),
        ))
    } else {
        Ok(())
    }
}

fn top_level(code: &Code, r: &state::Resolved) -> Result<(), Rejection> {
    match &r.unit.parent {
        Some(p) => Err(reject(
            PACKED,
            format!("{code} is packed in (00){p}; unpack it first"),
        )),
        None => Ok(()),
    }
}

pub(crate) fn dispense(
    t: &mut impl Tables,
    cx: &Ctx<'_>,
    codes: &[Code],
) -> Result<Effects, Rejection> {
    if !matches!(cx.role, OrgRole::Pharmacy | OrgRole::Hospital) {
        return Err(reject(
            ROLE_NOT_ALLOWED,
            format!(
                "only pharmacies and hospitals dispense; {} is a {}",
                cx.org,
                cx.role.as_str()
            ),
        ));
    }
    distinct(codes)?;
    let mut units = Vec::with_capacity(codes.len());
    for c in codes {
        item_only(c)?;
        let r = held(t, cx, c)?;
        top_level(c, &r)?;
        usable(c, r.status(), false)?;
        sound(t, cx, c, &r, None)?;
        units.push(r.unit);
    }
    for (c, mut u) in codes.iter().zip(units) {
        u.status = Status::Dispensed;
        u.dispense = Some(dispense_record(cx, "dispense"));
        state::put_unit(t, c, &u);
    }
    Ok(indexed(codes))
}

/// Which event put the item into a patient, for claims.
fn dispense_record(cx: &Ctx<'_>, kind: &str) -> state::DispenseRecord {
    state::DispenseRecord {
        event: cx.id,
        kind: kind.into(),
        org: cx.org.clone(),
        time: cx.time,
    }
}

pub(crate) fn decommission(
    t: &mut impl Tables,
    cx: &Ctx<'_>,
    p: &Decommission,
) -> Result<Effects, Rejection> {
    distinct(&p.codes)?;
    own_location(t, cx, p.location.as_ref())?;
    let mut units = Vec::with_capacity(p.codes.len());
    for c in &p.codes {
        let r = held(t, cx, c)?;
        top_level(c, &r)?;
        let stolen_on_the_way =
            p.reason == Reason::Stolen && matches!(r.status(), Status::InTransit { .. });
        if !stolen_on_the_way {
            usable(c, r.status(), true)?;
        }
        units.push(r.unit);
    }
    for (c, mut u) in p.codes.iter().zip(units) {
        u.status = Status::Decommissioned {
            reason: p.reason,
            at: cx.time,
            location: p.location.clone(),
            previous: Box::new(u.status.clone()),
        };
        state::put_unit(t, c, &u);
    }
    Ok(indexed(&p.codes))
}

pub(crate) fn undo(
    t: &mut impl Tables,
    cx: &Ctx<'_>,
    p: &UndoDecommission,
) -> Result<Effects, Rejection> {
    distinct(&p.codes)?;
    let mut units = Vec::with_capacity(p.codes.len());
    for c in &p.codes {
        let r = state::resolve(t, c)
            .ok_or_else(|| reject(UNKNOWN_CODE, format!("{c} is not on the ledger")))?;
        let Status::Decommissioned {
            reason,
            at,
            location,
            previous,
        } = &r.unit.status
        else {
            return Err(reject(
                NOT_DECOMMISSIONED,
                format!("{c} is not decommissioned"),
            ));
        };
        if &r.unit.holder != cx.org || location != &p.location {
            return Err(reject(
                UNDO_WRONG_LOCATION,
                format!("{c} can only be reverted where it was decommissioned"),
            ));
        }
        if matches!(reason, Reason::Destroyed | Reason::Stolen) {
            return Err(reject(
                UNDO_NOT_ALLOWED,
                format!(
                    "{c} was decommissioned as {}; that cannot be reverted",
                    super::reason_name(*reason)
                ),
            ));
        }
        if cx.time - at > UNDO_WINDOW_DAYS * DAY_MS {
            return Err(reject(
                UNDO_WINDOW_CLOSED,
                format!("{c} was decommissioned more than {UNDO_WINDOW_DAYS} days ago"),
            ));
        }
        if let Err(e) = super::hazards(t, cx, c, &r, None, false) {
            return Err(reject(
                UNDO_NOT_ALLOWED,
                format!("{c} cannot be reverted: {}", e.message),
            ));
        }
        let mut u = r.unit.clone();
        u.status = (**previous).clone();
        units.push(u);
    }
    for (c, u) in p.codes.iter().zip(units) {
        state::put_unit(t, c, &u);
    }
    Ok(indexed(&p.codes))
}

pub(crate) fn quarantine(
    t: &mut impl Tables,
    cx: &Ctx<'_>,
    codes: &[Code],
    on: bool,
) -> Result<Effects, Rejection> {
    distinct(codes)?;
    let mut units = Vec::with_capacity(codes.len());
    for c in codes {
        let r = held(t, cx, c)?;
        if r.status().is_terminal() || matches!(r.status(), Status::InTransit { .. }) {
            usable(c, r.status(), false)?;
        }
        match (on, r.unit.quarantined) {
            (true, true) => {
                return Err(reject(
                    ALREADY_QUARANTINED,
                    format!("{c} is already quarantined"),
                ));
            }
            (false, false) => {
                let hint = if r.quarantined {
                    "; release its container"
                } else {
                    ""
                };
                return Err(reject(
                    NOT_QUARANTINED,
                    format!("{c} is not quarantined{hint}"),
                ));
            }
            _ => {}
        }
        units.push(r.unit);
    }
    for (c, mut u) in codes.iter().zip(units) {
        u.quarantined = on;
        state::put_unit(t, c, &u);
    }
    Ok(indexed(codes))
}

pub(crate) fn device(
    t: &mut impl Tables,
    cx: &Ctx<'_>,
    ev: &TraceEvent,
) -> Result<Effects, Rejection> {
    let (d, needs_patient) = match ev {
        TraceEvent::Install(d) | TraceEvent::Service(d) => (d, false),
        TraceEvent::Implant(d) | TraceEvent::Explant(d) => (d, true),
        _ => unreachable!("device() is only called for device events"),
    };
    let code = &d.code;
    item_only(code)?;
    let product: Product = code
        .gtin()
        .and_then(|g| t.get_json(&state::product_key(g)))
        .ok_or_else(|| reject(UNKNOWN_CODE, format!("{code} is not on the ledger")))?;
    if !product.device {
        return Err(reject(
            NOT_A_DEVICE,
            format!("{code} is not a medical device"),
        ));
    }
    match (needs_patient, &d.patient) {
        (true, None) => {
            return Err(reject(
                PATIENT_REQUIRED,
                "implant and explant need a patient reference",
            ));
        }
        (false, Some(_)) => {
            return Err(reject(
                PATIENT_NOT_ALLOWED,
                "install and service carry no patient reference",
            ));
        }
        _ => {}
    }
    if cx.role != OrgRole::Hospital {
        return Err(reject(
            ROLE_NOT_ALLOWED,
            format!("only hospitals {} devices", ev.kind()),
        ));
    }
    let mut u = match ev {
        TraceEvent::Explant(_) => {
            let r = state::resolve(t, code)
                .ok_or_else(|| reject(UNKNOWN_CODE, format!("{code} is not on the ledger")))?;
            let Status::Implanted { patient } = r.status() else {
                return Err(reject(NOT_IMPLANTED, format!("{code} is not implanted")));
            };
            if r.holder() == cx.org && Some(patient) != d.patient.as_ref() {
                return Err(reject(
                    PATIENT_MISMATCH,
                    format!("{code} was implanted with another patient reference"),
                ));
            }
            let mut u = r.unit;
            u.holder = cx.org.clone();
            u.status = Status::Explanted;
            u
        }
        TraceEvent::Service(_) => {
            let r = held(t, cx, code)?;
            if r.status() != &Status::Installed {
                return Err(reject(NOT_INSTALLED, format!("{code} is not installed")));
            }
            return Ok(indexed([code]));
        }
        _ => {
            let r = held(t, cx, code)?;
            top_level(code, &r)?;
            usable(code, r.status(), false)?;
            sound(t, cx, code, &r, None)?;
            let mut u = r.unit;
            u.status = match &d.patient {
                Some(patient) => Status::Implanted {
                    patient: patient.clone(),
                },
                None => Status::Installed,
            };
            u
        }
    };
    u.parent = None;
    if matches!(u.status, Status::Implanted { .. }) {
        u.dispense = Some(dispense_record(cx, "implant"));
    }
    state::put_unit(t, code, &u);
    Ok(indexed([code]))
}
