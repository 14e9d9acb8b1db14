//! Commission, pack, unpack, ship and receive: who holds what, and where it is.

use super::{Ctx, distinct, held, indexed, own_location, reject, sound, usable};
use crate::code::Code;
use crate::codes::*;
use crate::events::{Commission, MAX_CODES, Pack, Receive, Ship, Unpack};
use crate::state::{self, Product, Shipment, Status, Tables, Unit};
use ledger::{Effects, EventId, Notification, OrgId, Rejection};
use std::collections::{BTreeMap, BTreeSet};

/// True when `org` owns the GS1 company prefix of `gtin` (GTIN-14: indicator digit,
/// then the prefix).
pub(crate) fn owns_prefix(t: &impl Tables, org: &OrgId, gtin: &scanners::Gtin) -> bool {
    let body = &gtin.as_str()[1..];
    t.consortium().organization(org).is_some_and(|o| {
        o.company_prefixes
            .iter()
            .any(|p| !p.is_empty() && body.starts_with(p.as_str()))
    })
}

pub(crate) fn commission(
    t: &mut impl Tables,
    cx: &Ctx<'_>,
    p: &Commission,
) -> Result<Effects, Rejection> {
    if p.serials.is_empty() || p.serials.len() > MAX_CODES {
        return Err(reject(
            CODE_COUNT,
            format!("commission 1 to {MAX_CODES} serials per event"),
        ));
    }
    if !owns_prefix(t, cx.org, &p.gtin) {
        return Err(reject(
            NOT_BRAND_OWNER,
            format!(
                "{} does not own the GS1 company prefix of GTIN {}",
                cx.org, p.gtin
            ),
        ));
    }
    own_location(t, cx, p.location.as_ref())?;
    let product: Option<Product> = t.get_json(&state::product_key(&p.gtin));
    if let Some(existing) = &product
        && existing.device != p.device
    {
        return Err(reject(
            PRODUCT_KIND_MISMATCH,
            format!(
                "GTIN {} was commissioned as a {}",
                p.gtin,
                if existing.device { "device" } else { "drug" }
            ),
        ));
    }
    let lot_expiry = state::lot_expiry_key(&p.gtin, &p.lot);
    let known_expiry = t.get_json::<scanners::Expiry>(&lot_expiry);
    if let Some(e) = known_expiry
        && e != p.expiry
    {
        return Err(reject(
            LOT_EXPIRY_CONFLICT,
            format!(
                "lot {} of {} expires on {e}, not {}",
                p.lot, p.gtin, p.expiry
            ),
        ));
    }
    if state::expired(&p.expiry, cx.time) {
        return Err(reject(
            EXPIRED,
            format!("expiry {} is already past", p.expiry),
        ));
    }
    let codes: Vec<Code> = p
        .serials
        .iter()
        .map(|s| Code::item(p.gtin.clone(), s.clone()))
        .collect();
    let mut seen = BTreeSet::new();
    for c in &codes {
        if !seen.insert(c) {
            return Err(reject(DUPLICATE_CODE, format!("{c} appears twice")));
        }
        if t.get(&state::unit_key(c)).is_some() {
            return Err(reject(
                SERIAL_EXISTS,
                format!("{c} is already commissioned"),
            ));
        }
    }
    if product.is_none() {
        let record = Product {
            owner: cx.org.clone(),
            device: p.device,
        };
        t.put_json(&state::product_key(&p.gtin), &record);
    }
    // a lot's later commissions find its expiry already there (checked equal above)
    if known_expiry.is_none() {
        t.put_json(&lot_expiry, &p.expiry);
    }
    let unit = Unit {
        holder: cx.org.clone(),
        status: Status::Active,
        quarantined: false,
        parent: None,
        lot: Some(p.lot.clone()),
        expiry: Some(p.expiry),
        dispense: None,
    };
    for c in &codes {
        state::put_unit(t, c, &unit);
    }
    state::put_lot_commission(t, &p.gtin, &p.lot, &cx.id, &p.serials);
    Ok(indexed(&codes))
}

pub(crate) fn pack(t: &mut impl Tables, cx: &Ctx<'_>, p: &Pack) -> Result<Effects, Rejection> {
    distinct(&p.children)?;
    let parent = Code::Container(p.parent.clone());
    if p.children.contains(&parent) {
        return Err(reject(
            PACK_CYCLE,
            format!("{parent} cannot contain itself"),
        ));
    }
    // The parent's chain of containers, to refuse cycles.
    let mut above = BTreeSet::new();
    let parent_unit = match state::unit(t, &parent) {
        Some(_) => {
            let r = held(t, cx, &parent)?;
            usable(&parent, r.status(), false)?;
            let mut cur = r.unit.parent.clone();
            while let Some(s) = cur {
                if !above.insert(Code::Container(s.clone())) || above.len() > state::MAX_DEPTH {
                    break;
                }
                cur = state::unit(t, &Code::Container(s)).and_then(|u| u.parent);
            }
            r.unit
        }
        None => Unit {
            holder: cx.org.clone(),
            status: Status::Active,
            quarantined: false,
            parent: None,
            lot: None,
            expiry: None,
            dispense: None,
        },
    };
    let mut children = Vec::with_capacity(p.children.len());
    for c in &p.children {
        let r = held(t, cx, c)?;
        if let Some(in_) = &r.unit.parent {
            return Err(reject(PACKED, format!("{c} is already in (00){in_}")));
        }
        usable(c, r.status(), false)?;
        if above.contains(c) {
            return Err(reject(
                PACK_CYCLE,
                format!("{c} holds {parent}; it cannot go inside it"),
            ));
        }
        children.push((c, r.unit));
    }
    state::put_unit(t, &parent, &parent_unit);
    let mut inside = state::children(t, &p.parent);
    inside.reserve(children.len());
    for (c, mut u) in children {
        u.parent = Some(p.parent.clone());
        u.holder = cx.org.clone();
        state::put_unit(t, c, &u);
        inside.push(c.clone());
    }
    state::put_children(t, &p.parent, inside);
    Ok(indexed(std::iter::once(&parent).chain(&p.children)))
}

pub(crate) fn unpack(t: &mut impl Tables, cx: &Ctx<'_>, p: &Unpack) -> Result<Effects, Rejection> {
    let parent = Code::Container(p.parent.clone());
    let r = held(t, cx, &parent)?;
    if let Some(in_) = &r.unit.parent {
        return Err(reject(
            PACKED,
            format!("{parent} is inside (00){in_}; unpack that first"),
        ));
    }
    usable(&parent, r.status(), false)?;
    let inside = state::children(t, &p.parent);
    let (out, left): (Vec<Code>, Vec<Code>) = if p.children.is_empty() {
        if inside.is_empty() {
            return Err(reject(CODE_COUNT, format!("{parent} is empty")));
        }
        (inside, vec![])
    } else {
        distinct(&p.children)?;
        for c in &p.children {
            if !inside.contains(c) {
                return Err(reject(NOT_IN_CONTAINER, format!("{c} is not in {parent}")));
            }
        }
        let left = inside
            .into_iter()
            .filter(|c| !p.children.contains(c))
            .collect();
        (p.children.clone(), left)
    };
    for c in &out {
        if let Some(mut u) = state::unit(t, c) {
            u.parent = None;
            u.holder = cx.org.clone();
            state::put_unit(t, c, &u);
        }
    }
    state::put_children(t, &p.parent, left);
    Ok(indexed(std::iter::once(&parent).chain(&out)))
}

pub(crate) fn ship(t: &mut impl Tables, cx: &Ctx<'_>, p: &Ship) -> Result<Effects, Rejection> {
    distinct(&p.codes)?;
    if t.consortium().organization(&p.to).is_none() {
        return Err(reject(
            UNKNOWN_ORG,
            format!("{} is not a consortium member", p.to),
        ));
    }
    if &p.to == cx.org {
        return Err(reject(SHIP_TO_SELF, "a shipment goes to another member"));
    }
    let mut units = Vec::with_capacity(p.codes.len());
    for c in &p.codes {
        let r = held(t, cx, c)?;
        if let Some(in_) = &r.unit.parent {
            return Err(reject(
                PACKED,
                format!("{c} is packed in (00){in_}; ship the container or unpack it"),
            ));
        }
        usable(c, r.status(), true)?;
        sound(t, cx, c, &r, Some(&p.to))?;
        units.push(r.unit);
    }
    for (c, mut u) in p.codes.iter().zip(units) {
        u.status = Status::InTransit {
            shipment: cx.id,
            to: p.to.clone(),
        };
        state::put_unit(t, c, &u);
    }
    let shipment = Shipment {
        from: cx.org.clone(),
        to: p.to.clone(),
        at: cx.time,
        codes: p.codes.clone(),
        received: vec![],
        overage: vec![],
        shortage: vec![],
    };
    t.put_json(&state::shipment_key(&cx.id), &shipment);
    Ok(indexed(&p.codes))
}

/// Where each scanned code of a receipt belongs.
struct Sorted {
    /// Top-level units received, by shipment.
    received: BTreeMap<EventId, Vec<Code>>,
    /// Scanned codes not in a shipment to the receiver.
    overage: Vec<Code>,
    /// Some code was in transit to another organisation.
    for_someone_else: Option<OrgId>,
}

fn sort_scans(t: &impl Tables, cx: &Ctx<'_>, p: &Receive) -> Sorted {
    let mut s = Sorted {
        received: BTreeMap::new(),
        overage: vec![],
        for_someone_else: None,
    };
    let mut taken = BTreeSet::new();
    for c in &p.codes {
        let transit = state::resolve(t, c).and_then(|r| match r.top.status {
            Status::InTransit { shipment, to } => Some((r.root, shipment, to)),
            _ => None,
        });
        match transit {
            Some((root, shipment, to))
                if &to == cx.org && p.shipment.is_none_or(|want| want == shipment) =>
            {
                if taken.insert(root.clone()) {
                    s.received.entry(shipment).or_default().push(root);
                }
            }
            Some((_, _, to)) if &to != cx.org => {
                s.for_someone_else.get_or_insert(to);
                s.overage.push(c.clone());
            }
            _ => s.overage.push(c.clone()),
        }
    }
    s
}

pub(crate) fn receive(
    t: &mut impl Tables,
    cx: &Ctx<'_>,
    p: &Receive,
) -> Result<Effects, Rejection> {
    distinct(&p.codes)?;
    if let Some(id) = &p.shipment {
        let s: Shipment = t
            .get_json(&state::shipment_key(id))
            .ok_or_else(|| reject(UNKNOWN_SHIPMENT, format!("no shipment {id}")))?;
        if &s.to != cx.org {
            return Err(reject(
                NOT_RECEIVER,
                format!("shipment {id} is for {}, not {}", s.to, cx.org),
            ));
        }
    }
    let sorted = sort_scans(t, cx, p);
    if sorted.received.is_empty() {
        return Err(match sorted.for_someone_else {
            Some(to) => reject(
                NOT_RECEIVER,
                format!("what was scanned is in transit to {to}, not {}", cx.org),
            ),
            None => reject(
                NOTHING_TO_RECEIVE,
                "nothing scanned is in transit to this organisation",
            ),
        });
    }
    let mut notes = Vec::new();
    let mut first = true;
    for (id, roots) in &sorted.received {
        let key = state::shipment_key(id);
        let Some(mut s) = t.get_json::<Shipment>(&key) else {
            continue;
        };
        for root in roots {
            if let Some(mut u) = state::unit(t, root) {
                u.holder = cx.org.clone();
                u.status = Status::Active;
                state::put_unit(t, root, &u);
            }
            s.received.push(root.clone());
        }
        if first {
            s.overage.extend(sorted.overage.iter().cloned());
        }
        s.shortage = s
            .codes
            .iter()
            .filter(|c| !s.received.contains(c))
            .cloned()
            .collect();
        if !s.shortage.is_empty() || (first && !sorted.overage.is_empty()) {
            notes.push(exception(id, &s, if first { &sorted.overage } else { &[] }));
        }
        first = false;
        t.put_json(&key, &s);
    }
    let roots = sorted.received.values().flatten();
    let mut effects = indexed(roots.chain(&p.codes));
    effects.notifications = notes;
    Ok(effects)
}

fn exception(id: &EventId, s: &Shipment, overage: &[Code]) -> Notification {
    Notification {
        topic: "shipment_exception".into(),
        orgs: vec![s.from.clone(), s.to.clone()],
        body: serde_json::json!({
            "shipment": id,
            "overage": overage,
            "shortage": s.shortage,
        }),
    }
}
