//! Validate and apply. Both run the same functions over [`Tables`]: `apply` on the
//! block's state with the block's time, `validate` on a scratch layer over committed
//! state with the envelope's `created_at` standing in for the block time (admission is
//! fast feedback; the block decides). Every check of an event runs before its first
//! write, and the core drops a rejected event's writes anyway.

mod custody;
mod lifecycle;
mod recall;

use crate::code::Code;
use crate::codes::*;
use crate::events::{MAX_CODES, MODULE, TraceEvent};
use crate::state::{self, Resolved, Scratch, Status, Tables};
use ledger::{
    BlockCtx, Effects, Envelope, EventId, Module, OrgId, OrgRole, Rejection, StateTx, StateView,
};
use scanners::Gln;
use std::collections::BTreeSet;

/// The trace module: register it with `Modules::new().with(Trace)`.
#[derive(Debug, Default, Clone, Copy)]
pub struct Trace;

/// Who acts, and when, for one event.
pub(crate) struct Ctx<'e> {
    /// The acting organisation.
    pub org: &'e OrgId,
    /// Its role.
    pub role: OrgRole,
    /// Block time (or `created_at` at admission), Unix ms.
    pub time: i64,
    /// Block height (0 at admission).
    pub height: u64,
    /// The event's id.
    pub id: EventId,
}

pub(crate) fn reject(code: &'static str, message: impl Into<String>) -> Rejection {
    Rejection::new(code, message)
}

fn run(t: &mut impl Tables, event: &Envelope, ctx: &BlockCtx) -> Result<Effects, Rejection> {
    let (parsed, imported) = TraceEvent::parse_imported(event.kind(), event.payload())?;
    // A duplicate is named as such before any rule could refuse it for another reason.
    if let Some(hash) = &imported
        && let Some(earlier) = state::imported(t, hash)
    {
        return Err(reject(
            DUPLICATE_EPCIS_EVENT,
            format!("the EPCIS event {hash} was imported before, as ledger event {earlier}"),
        ));
    }
    let effects = rule(t, event, ctx, &parsed)?;
    if let Some(hash) = &imported {
        t.put_json(&state::epcis_key(hash), &ctx.event_id);
    }
    Ok(effects)
}

fn rule(
    t: &mut impl Tables,
    event: &Envelope,
    ctx: &BlockCtx,
    parsed: &TraceEvent,
) -> Result<Effects, Rejection> {
    let org = event.org();
    let role = t
        .consortium()
        .organization(org)
        .map(|o| o.role)
        .ok_or_else(|| reject(UNKNOWN_ORG, format!("{org} is not a member")))?;
    let cx = Ctx {
        org,
        role,
        time: ctx.time,
        height: ctx.height,
        id: ctx.event_id,
    };
    match parsed {
        TraceEvent::Commission(p) => custody::commission(t, &cx, p),
        TraceEvent::Pack(p) => custody::pack(t, &cx, p),
        TraceEvent::Unpack(p) => custody::unpack(t, &cx, p),
        TraceEvent::Ship(p) => custody::ship(t, &cx, p),
        TraceEvent::Receive(p) => custody::receive(t, &cx, p),
        TraceEvent::Dispense(p) => lifecycle::dispense(t, &cx, &p.codes),
        TraceEvent::Decommission(p) => lifecycle::decommission(t, &cx, p),
        TraceEvent::UndoDecommission(p) => lifecycle::undo(t, &cx, p),
        TraceEvent::Quarantine(p) => lifecycle::quarantine(t, &cx, &p.codes, true),
        TraceEvent::Release(p) => lifecycle::quarantine(t, &cx, &p.codes, false),
        TraceEvent::Install(_)
        | TraceEvent::Service(_)
        | TraceEvent::Implant(_)
        | TraceEvent::Explant(_) => lifecycle::device(t, &cx, parsed),
        TraceEvent::Recall(p) => recall::issue(t, &cx, p),
        TraceEvent::Acknowledge(p) => recall::acknowledge(t, &cx, p),
        TraceEvent::Disposition(p) => recall::disposition(t, &cx, p),
    }
}

impl Module for Trace {
    fn name(&self) -> &'static str {
        MODULE
    }

    fn validate(&self, state: &dyn StateView, event: &Envelope) -> Result<(), Rejection> {
        let mut scratch = Scratch::new(state);
        let ctx = BlockCtx {
            height: 0,
            time: event.body().created_at,
            index: 0,
            event_id: event.id(),
        };
        run(&mut scratch, event, &ctx).map(|_| ())
    }

    fn apply(
        &self,
        state: &mut StateTx<'_>,
        event: &Envelope,
        ctx: &BlockCtx,
    ) -> Result<Effects, Rejection> {
        run(state, event, ctx)
    }
}

// ---- checks shared by the rule files ----

/// Between 1 and [`MAX_CODES`] codes, none twice.
pub(crate) fn distinct(codes: &[Code]) -> Result<(), Rejection> {
    if codes.is_empty() || codes.len() > MAX_CODES {
        return Err(reject(
            CODE_COUNT,
            format!(
                "an event carries 1 to {MAX_CODES} codes, not {}",
                codes.len()
            ),
        ));
    }
    let mut seen = BTreeSet::new();
    for c in codes {
        if !seen.insert(c) {
            return Err(reject(DUPLICATE_CODE, format!("{c} appears twice")));
        }
    }
    Ok(())
}

/// The unit exists and the organisation is its effective holder.
pub(crate) fn held(t: &impl Tables, cx: &Ctx<'_>, code: &Code) -> Result<Resolved, Rejection> {
    let r = state::resolve(t, code)
        .ok_or_else(|| reject(UNKNOWN_CODE, format!("{code} is not on the ledger")))?;
    if r.holder() != cx.org {
        return Err(reject(
            NOT_HOLDER,
            format!("{code} is held by {}, not {}", r.holder(), cx.org),
        ));
    }
    Ok(r)
}

/// The status allows acting on the unit as its holder (`Active`, or `Explanted` when
/// `explanted_ok`).
pub(crate) fn usable(code: &Code, status: &Status, explanted_ok: bool) -> Result<(), Rejection> {
    match status {
        Status::Active => Ok(()),
        Status::Explanted if explanted_ok => Ok(()),
        Status::InTransit { to, .. } => Err(reject(
            IN_TRANSIT,
            format!("{code} is in transit to {to}; it must be received first"),
        )),
        Status::Dispensed => Err(reject(ALREADY_DISPENSED, format!("{code} was dispensed"))),
        Status::Decommissioned { reason, .. } => Err(reject(
            DECOMMISSIONED,
            format!("{code} was decommissioned ({})", reason_name(*reason)),
        )),
        other => Err(reject(
            NOT_ACTIVE,
            format!("{code} is {}; it cannot be moved", other.name()),
        )),
    }
}

pub(crate) fn reason_name(r: crate::events::Reason) -> &'static str {
    use crate::events::Reason::*;
    match r {
        Destroyed => "destroyed",
        Sample => "sample",
        Stolen => "stolen",
        Exported => "exported",
        Expired => "expired",
        Damaged => "damaged",
    }
}

/// Not quarantined, expired or recalled: the unit and, for a container, everything in
/// it. A recalled unit may still go back to its brand owner when `return_to` is that
/// owner.
pub(crate) fn sound(
    t: &impl Tables,
    cx: &Ctx<'_>,
    code: &Code,
    r: &Resolved,
    return_to: Option<&OrgId>,
) -> Result<(), Rejection> {
    hazards(t, cx, code, r, return_to, true)
}

/// [`sound`], optionally ignoring quarantine.
pub(crate) fn hazards(
    t: &impl Tables,
    cx: &Ctx<'_>,
    code: &Code,
    r: &Resolved,
    return_to: Option<&OrgId>,
    quarantine: bool,
) -> Result<(), Rejection> {
    if quarantine && r.quarantined {
        return Err(reject(QUARANTINED, format!("{code} is quarantined")));
    }
    // The unit itself, then what is inside it, in that order; the first fault is named.
    let mut recalls = state::RecallCheck::default();
    let mut one = |c: &Code, u: &state::Unit| -> Result<(), Rejection> {
        if quarantine && u.quarantined {
            return Err(reject(QUARANTINED, format!("{c} in {code} is quarantined")));
        }
        if let Some(e) = &u.expiry
            && state::expired(e, cx.time)
        {
            return Err(reject(EXPIRED, format!("{c} expired on {e}")));
        }
        if recalls.covers(t, c, u.lot.as_ref()) {
            let owner = c
                .gtin()
                .and_then(|g| t.get_json::<state::Product>(&state::product_key(g)));
            if return_to.is_none() || owner.map(|p| p.owner).as_ref() != return_to {
                return Err(reject(
                    RECALLED,
                    format!("{c} is under recall; it may only go back to its brand owner"),
                ));
            }
        }
        Ok(())
    };
    one(code, &r.unit)?;
    if code.is_container() {
        for d in state::descendants(t, code) {
            if let Some(u) = state::unit(t, &d) {
                one(&d, &u)?;
            }
        }
    }
    Ok(())
}

/// A GLN given as a location must be one of the organisation's.
pub(crate) fn own_location(
    t: &impl Tables,
    cx: &Ctx<'_>,
    gln: Option<&Gln>,
) -> Result<(), Rejection> {
    let Some(gln) = gln else { return Ok(()) };
    let ours = t
        .consortium()
        .organization(cx.org)
        .is_some_and(|o| o.glns.iter().any(|g| g == gln.as_str()));
    if ours {
        Ok(())
    } else {
        Err(reject(
            UNKNOWN_LOCATION,
            format!("{gln} is not a location of {}", cx.org),
        ))
    }
}

/// Effects indexing the event under each code.
pub(crate) fn indexed<'c>(codes: impl IntoIterator<Item = &'c Code>) -> Effects {
    let mut index: Vec<Vec<u8>> = codes.into_iter().map(state::index_key).collect();
    index.sort();
    index.dedup();
    Effects {
        index,
        notifications: vec![],
    }
}
