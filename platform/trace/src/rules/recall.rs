//! Recalls: issuing one (affected units resolved through their containers to their
//! current holders, who are notified), acknowledgements and dispositions.

use super::{Ctx, distinct, indexed, reject};
use crate::code::Code;
use crate::codes::*;
use crate::events::{
    Acknowledge, Disposition, MAX_CODES, Reason, Recall, RecallAction, RecallDepth,
};
use crate::state::{self, HolderTally, Product, RecallRecord, RecallUnit, Status, Tables};
use ledger::rejection::codes as core;
use ledger::{Effects, EventId, Notification, OrgId, OrgRole, Rejection};
use std::collections::{BTreeMap, BTreeSet};

/// Longest recall reason accepted.
pub const MAX_REASON: usize = 200;

fn check_scope(p: &Recall) -> Result<(), Rejection> {
    let reason_ok = !p.reason.trim().is_empty()
        && p.reason.chars().count() <= MAX_REASON
        && !p.reason.chars().any(char::is_control);
    if !reason_ok {
        return Err(Rejection::new(
            core::BAD_PAYLOAD,
            format!("a recall reason is 1 to {MAX_REASON} characters about the product"),
        ));
    }
    if p.lots.is_empty() == p.serials.is_empty() {
        return Err(Rejection::new(
            core::BAD_PAYLOAD,
            "a recall names either lots or serials of the GTIN",
        ));
    }
    let n = p.lots.len() + p.serials.len();
    if n > MAX_CODES {
        return Err(reject(
            CODE_COUNT,
            format!("at most {MAX_CODES} lots or serials"),
        ));
    }
    let lots: BTreeSet<_> = p.lots.iter().collect();
    let serials: BTreeSet<_> = p.serials.iter().collect();
    if lots.len() + serials.len() != n {
        return Err(reject(DUPLICATE_CODE, "a lot or serial appears twice"));
    }
    Ok(())
}

/// The items a recall hits, whatever their status.
pub(crate) fn affected(t: &impl Tables, p: &Recall) -> Result<Vec<Code>, Rejection> {
    let mut out = Vec::new();
    for lot in &p.lots {
        let before = out.len();
        for serial in state::lot_serials(t, &p.gtin, lot) {
            out.push(Code::item(p.gtin.clone(), serial));
        }
        if out.len() == before {
            return Err(reject(
                UNKNOWN_LOT,
                format!("no unit of {} has lot {lot}", p.gtin),
            ));
        }
    }
    for serial in &p.serials {
        let c = Code::item(p.gtin.clone(), serial.clone());
        if state::unit(t, &c).is_none() {
            return Err(reject(
                UNKNOWN_SERIAL,
                format!("{c} was never commissioned"),
            ));
        }
        out.push(c);
    }
    Ok(out)
}

/// Whether a unit counts for its holder under the recall's depth.
pub(crate) fn in_scope(depth: RecallDepth, holder_role: Option<OrgRole>, status: &Status) -> bool {
    match status {
        Status::Decommissioned { .. } => false,
        Status::Dispensed | Status::Implanted { .. } => depth == RecallDepth::Patient,
        _ => match holder_role {
            Some(OrgRole::Pharmacy | OrgRole::Hospital) => depth >= RecallDepth::Retail,
            _ => true,
        },
    }
}

pub(crate) fn issue(t: &mut impl Tables, cx: &Ctx<'_>, p: &Recall) -> Result<Effects, Rejection> {
    check_scope(p)?;
    let product: Product = t.get_json(&state::product_key(&p.gtin)).ok_or_else(|| {
        reject(
            UNKNOWN_PRODUCT,
            format!("GTIN {} was never commissioned", p.gtin),
        )
    })?;
    if &product.owner != cx.org && cx.role != OrgRole::Regulator {
        return Err(reject(
            RECALL_NOT_ALLOWED,
            format!(
                "only {} or a regulator may recall {}",
                product.owner, p.gtin
            ),
        ));
    }
    let items = affected(t, p)?;
    let mut holders: BTreeMap<OrgId, HolderTally> = BTreeMap::new();
    let mut roots = BTreeSet::new();
    let mut units = Vec::with_capacity(items.len());
    for c in &items {
        let Some(r) = state::resolve(t, c) else {
            continue;
        };
        let role = t.consortium().organization(r.holder()).map(|o| o.role);
        let scoped = in_scope(p.depth, role, r.status());
        if scoped {
            holders.entry(r.holder().clone()).or_default().units += 1;
        }
        if r.root != *c {
            roots.insert(r.root.clone());
        }
        units.push(RecallUnit {
            holder: r.holder().clone(),
            in_scope: scoped,
            action: None,
        });
    }
    for (c, u) in items.iter().zip(&units) {
        t.put_json(&state::recall_unit_key(&cx.id, Some(c)), u);
    }
    let marks = p
        .lots
        .iter()
        .map(|l| state::recalled_lot_key(&p.gtin, l))
        .chain(
            p.serials
                .iter()
                .map(|s| state::recalled_serial_key(&p.gtin, s)),
        );
    for key in marks.collect::<Vec<_>>() {
        let mut ids: Vec<EventId> = t.get_json(&key).unwrap_or_default();
        ids.push(cx.id);
        t.put_json(&key, &ids);
    }
    if !p.serials.is_empty() {
        t.put(state::serial_recalls_key(&p.gtin), Vec::new());
    }
    let record = RecallRecord {
        issuer: cx.org.clone(),
        gtin: p.gtin.clone(),
        lots: p.lots.clone(),
        serials: p.serials.clone(),
        class: p.class,
        depth: p.depth,
        reason: p.reason.clone(),
        height: cx.height,
        at: cx.time,
        affected: items.len() as u64,
        holders,
    };
    t.put_json(&state::recall_key(&cx.id), &record);
    let mut effects = indexed(items.iter().chain(&roots));
    effects.notifications.push(alert(&cx.id, &record));
    Ok(effects)
}

fn alert(id: &EventId, r: &RecallRecord) -> Notification {
    let units: BTreeMap<&OrgId, u64> = r.holders.iter().map(|(o, h)| (o, h.units)).collect();
    // The issuer always, so the list is never empty (empty would mean every member).
    let mut orgs: Vec<OrgId> = r.holders.keys().cloned().collect();
    if !orgs.contains(&r.issuer) {
        orgs.push(r.issuer.clone());
    }
    Notification {
        topic: "recall".into(),
        orgs,
        body: serde_json::json!({
            "recall": id,
            "issuer": r.issuer,
            "gtin": r.gtin,
            "lots": r.lots,
            "serials": r.serials,
            "class": r.class,
            "depth": r.depth,
            "affected": r.affected,
            "units_by_holder": units,
        }),
    }
}

fn record(t: &impl Tables, id: &EventId) -> Result<RecallRecord, Rejection> {
    t.get_json(&state::recall_key(id))
        .ok_or_else(|| reject(UNKNOWN_RECALL, format!("no recall {id}")))
}

pub(crate) fn acknowledge(
    t: &mut impl Tables,
    cx: &Ctx<'_>,
    p: &Acknowledge,
) -> Result<Effects, Rejection> {
    let mut r = record(t, &p.recall)?;
    let Some(tally) = r.holders.get_mut(cx.org) else {
        return Err(reject(
            NOT_AFFECTED,
            format!("{} held no unit of recall {}", cx.org, p.recall),
        ));
    };
    if tally.acknowledged {
        return Err(reject(
            ALREADY_ACKNOWLEDGED,
            format!("{} already acknowledged recall {}", cx.org, p.recall),
        ));
    }
    tally.acknowledged = true;
    t.put_json(&state::recall_key(&p.recall), &r);
    Ok(Effects::default())
}

pub(crate) fn disposition(
    t: &mut impl Tables,
    cx: &Ctx<'_>,
    p: &Disposition,
) -> Result<Effects, Rejection> {
    let mut rec = record(t, &p.recall)?;
    distinct(&p.codes)?;
    let mut plan = Vec::with_capacity(p.codes.len());
    for c in &p.codes {
        let key = state::recall_unit_key(&p.recall, Some(c));
        let ru: RecallUnit = t
            .get_json(&key)
            .ok_or_else(|| reject(NOT_IN_RECALL, format!("{c} is not in recall {}", p.recall)))?;
        if ru.action.is_some() {
            return Err(reject(
                ALREADY_ACCOUNTED,
                format!("{c} is already accounted for"),
            ));
        }
        let r = state::resolve(t, c)
            .ok_or_else(|| reject(UNKNOWN_CODE, format!("{c} is not on the ledger")))?;
        let holds_now = r.holder() == cx.org;
        if !holds_now && &ru.holder != cx.org {
            return Err(reject(
                NOT_HOLDER,
                format!("{c} is not {}'s to account for", cx.org),
            ));
        }
        let mut unit = r.unit.clone();
        let changes = match p.action {
            RecallAction::Returned => false,
            RecallAction::Quarantined => {
                holds_now && !unit.quarantined && !r.status().is_terminal()
            }
            RecallAction::Destroyed => {
                holds_now && !matches!(unit.status, Status::Decommissioned { .. })
            }
        };
        if changes {
            if p.action == RecallAction::Destroyed {
                if let Some(pk) = &unit.parent {
                    return Err(reject(
                        PACKED,
                        format!("{c} is packed in (00){pk}; unpack it first"),
                    ));
                }
                unit.status = Status::Decommissioned {
                    reason: Reason::Destroyed,
                    at: cx.time,
                    location: None,
                    previous: Box::new(unit.status.clone()),
                };
            } else {
                unit.quarantined = true;
            }
        }
        plan.push((c, key, ru, changes.then_some(unit)));
    }
    for (c, key, mut ru, unit) in plan {
        if ru.in_scope
            && let Some(tally) = rec.holders.get_mut(&ru.holder)
        {
            tally.accounted += 1;
        }
        ru.action = Some(p.action);
        t.put_json(&key, &ru);
        if let Some(u) = unit {
            state::put_unit(t, c, &u);
        }
    }
    t.put_json(&state::recall_key(&p.recall), &rec);
    Ok(indexed(&p.codes))
}
