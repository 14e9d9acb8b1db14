//! The trace module's tables, one key per unit plus prefix keys for what must be found
//! without scanning:
//!
//! | key | value |
//! |---|---|
//! | `p/<gtin>` | [`Product`]: brand owner, drug or device |
//! | `u/<code>` | [`Unit`]: holder, status, quarantine, parent container, lot, expiry (binary, see `stored`) |
//! | `lc/<gtin>\0<lot>\0<event id>` | the serials one commission event put in a lot (recalls; [`lot_serials`]) |
//! | `l/<gtin>\0<lot>\0<serial>` | empty: a unit of a lot, as earlier versions recorded it (still read) |
//! | `e/<gtin>\0<lot>` | the lot's expiry (all units of a lot share it) |
//! | `c/<sscc>` | a container's direct children, one row ([`children`]; earlier versions wrote `c/<sscc>\0<code>` rows, still read) |
//! | `s/<ship event id>` | [`Shipment`] |
//! | `r/<recall event id>` | [`RecallRecord`] |
//! | `ru/<recall>\0<code>` | [`RecallUnit`]: holder at recall time, disposition |
//! | `rl/<gtin>\0<lot>`, `rs/<gtin>\0<serial>` | recall ids that hit the lot or serial |
//! | `rg/<gtin>` | empty: some recall of the GTIN names serials (so a unit's check reads `rs/` only then) |
//! | `x/<code>` | [`DispenseRecord`] of an item dispensed or implanted by an earlier version (still read; now in the unit's record) |
//! | `h/<sha-256 hex>` | the ledger event an EPCIS event (by CBV 2.0 hash) was imported as |
//!
//! A packed child keeps its own record; its effective holder, status and quarantine come
//! from the containers above it ([`Resolved`]), so moving a pallet writes one record.

use crate::code::{Code, PatientRef};
use crate::epcis::EpcisHash;
use crate::events::{Reason, RecallAction, RecallClass, RecallDepth};
use ledger::{Consortium, EventId, OrgId, StateTx, StateView};
use scanners::{Expiry, Gln, Gtin, Lot, Serial, Sscc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::ops::Bound;

/// What the first commission of a GTIN fixed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    /// The organisation owning the GTIN's company prefix.
    pub owner: OrgId,
    /// A medical device (UDI-DI) rather than a drug.
    #[serde(default)]
    pub device: bool,
}

/// Where a unit is in its lifecycle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Status {
    /// At its holder, usable.
    Active,
    /// Shipped by its holder, not yet received.
    InTransit {
        /// The shipment (ship event id).
        shipment: EventId,
        /// The receiver.
        to: OrgId,
    },
    /// Dispensed to a patient (terminal).
    Dispensed,
    /// A device installed at its holder.
    Installed,
    /// A device implanted in a patient.
    Implanted {
        /// Pseudonymous reference held by the implanting hospital.
        patient: PatientRef,
    },
    /// A device taken out of a patient.
    Explanted,
    /// Out of the supply chain (terminal unless undone in time).
    Decommissioned {
        /// Why.
        reason: Reason,
        /// Block time, Unix ms.
        at: i64,
        /// Where, if given.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        location: Option<Gln>,
        /// The status before, restored by an undo.
        previous: Box<Status>,
    },
}

impl Status {
    /// True when the unit has left the supply chain for good (barring an undo).
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            Self::Dispensed | Self::Implanted { .. } | Self::Decommissioned { .. }
        )
    }

    /// Stable lowercase name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::InTransit { .. } => "in_transit",
            Self::Dispensed => "dispensed",
            Self::Installed => "installed",
            Self::Implanted { .. } => "implanted",
            Self::Explanted => "explanted",
            Self::Decommissioned { .. } => "decommissioned",
        }
    }
}

/// One item or container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unit {
    /// The last organisation to take custody (for a packed unit: when it was packed).
    pub holder: OrgId,
    /// Lifecycle status (for a packed unit: frozen while packed).
    pub status: Status,
    /// Put on hold by its holder.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub quarantined: bool,
    /// The container it is in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<Sscc>,
    /// Lot (items).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lot: Option<Lot>,
    /// Expiry (items).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry: Option<Expiry>,
    /// The dispense or implant that put the item into a patient (what claims are checked
    /// against), kept in the unit's own record rather than a row of its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dispense: Option<DispenseRecord>,
}

/// A unit with what the containers above it say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The unit's own record.
    pub unit: Unit,
    /// The outermost container (the unit itself when not packed).
    pub root: Code,
    /// The outermost record: its holder and status are the unit's effective ones.
    pub top: Unit,
    /// The unit or a container above it is quarantined.
    pub quarantined: bool,
}

impl Resolved {
    /// Effective holder.
    pub fn holder(&self) -> &OrgId {
        &self.top.holder
    }

    /// Effective status.
    pub fn status(&self) -> &Status {
        &self.top.status
    }

    /// True when inside a container.
    pub fn packed(&self) -> bool {
        self.unit.parent.is_some()
    }
}

/// A shipment and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shipment {
    /// Sender.
    pub from: OrgId,
    /// Receiver.
    pub to: OrgId,
    /// Block time shipped.
    pub at: i64,
    /// Top-level units shipped.
    pub codes: Vec<Code>,
    /// Of those, received so far.
    #[serde(default)]
    pub received: Vec<Code>,
    /// Codes scanned at receipt that were not in the shipment.
    #[serde(default)]
    pub overage: Vec<Code>,
    /// Shipped codes missing when a receipt closed (until received later).
    #[serde(default)]
    pub shortage: Vec<Code>,
}

/// Per holder of a recall.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HolderTally {
    /// Affected units it held at recall time (in the recall's depth).
    pub units: u64,
    /// Of those, accounted for by a disposition.
    pub accounted: u64,
    /// It acknowledged the recall.
    pub acknowledged: bool,
}

/// A recall as issued, with its running tallies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecallRecord {
    /// Issuer.
    pub issuer: OrgId,
    /// Product.
    pub gtin: Gtin,
    /// Lots recalled.
    #[serde(default)]
    pub lots: Vec<Lot>,
    /// Serials recalled.
    #[serde(default)]
    pub serials: Vec<Serial>,
    /// Class.
    pub class: RecallClass,
    /// Depth.
    pub depth: RecallDepth,
    /// Why.
    pub reason: String,
    /// Block height and time issued.
    pub height: u64,
    /// Block time issued, Unix ms.
    pub at: i64,
    /// Items affected (all, whatever their status).
    pub affected: u64,
    /// By holder at recall time.
    pub holders: BTreeMap<OrgId, HolderTally>,
}

/// One affected item of a recall.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecallUnit {
    /// Effective holder at recall time.
    pub holder: OrgId,
    /// Counted in the holder's tally (within the recall's depth).
    pub in_scope: bool,
    /// What was done with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<RecallAction>,
}

// ---- keys ----

fn key(prefix: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    key_and_room(prefix, parts, 0)
}

/// [`key`] with room for `more` bytes appended after it: keys are built for every unit an
/// event touches, and growing them as they are written cost more than the lookups.
fn key_and_room(prefix: &[u8], parts: &[&[u8]], more: usize) -> Vec<u8> {
    let len = prefix.len() + parts.iter().map(|p| p.len() + 1).sum::<usize>() + more;
    let mut k = Vec::with_capacity(len);
    k.extend_from_slice(prefix);
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            k.push(0);
        }
        k.extend_from_slice(p);
    }
    k
}

/// Room for a code's text form: `(01)` + 14 digits + `(21)` + a serial of at most 20.
const CODE_ROOM: usize = 42;

/// `prefix` then the code's text form.
fn prefixed(prefix: &[u8], code: &Code) -> Vec<u8> {
    let mut k = Vec::with_capacity(prefix.len() + CODE_ROOM);
    k.extend_from_slice(prefix);
    code.push_to(&mut k);
    k
}

/// `p/<gtin>`
pub fn product_key(gtin: &Gtin) -> Vec<u8> {
    key(b"p/", &[gtin.as_str().as_bytes()])
}
/// `u/<code>`
pub fn unit_key(code: &Code) -> Vec<u8> {
    prefixed(b"u/", code)
}
/// `l/<gtin>\0<lot>\0` (prefix) and with the serial.
pub fn lot_key(gtin: &Gtin, lot: &Lot, serial: Option<&Serial>) -> Vec<u8> {
    let mut k = key_and_room(
        b"l/",
        &[gtin.as_str().as_bytes(), lot.as_str().as_bytes(), b""],
        serial.map_or(0, |s| s.as_str().len()),
    );
    if let Some(s) = serial {
        k.extend_from_slice(s.as_str().as_bytes());
    }
    k
}
/// `lc/<gtin>\0<lot>\0` (prefix) and with the commission event's id: one row per
/// commission rather than one per unit, since a commission puts all its serials in one lot.
pub fn lot_commission_key(gtin: &Gtin, lot: &Lot, event: Option<&EventId>) -> Vec<u8> {
    let hex = event.map(EventId::to_hex);
    key(
        b"lc/",
        &[
            gtin.as_str().as_bytes(),
            lot.as_str().as_bytes(),
            hex.as_deref().unwrap_or("").as_bytes(),
        ],
    )
}

/// Records the serials a commission event put in a lot.
pub fn put_lot_commission(
    t: &mut impl Tables,
    gtin: &Gtin,
    lot: &Lot,
    event: &EventId,
    serials: &[Serial],
) {
    let mut out = Vec::new();
    push_list(&mut out, serials.iter().map(|s| s.as_str().as_bytes()));
    t.put(lot_commission_key(gtin, lot, Some(event)), out);
}

/// Every serial commissioned in a lot, in text order: the rows of [`put_lot_commission`]
/// and the per-unit rows (`l/`) of earlier versions.
pub fn lot_serials(t: &impl Tables, gtin: &Gtin, lot: &Lot) -> Vec<Serial> {
    let mut out: Vec<Serial> = Vec::new();
    let old = lot_key(gtin, lot, None);
    for (k, _) in t.scan(&old, usize::MAX) {
        if let Some(s) = std::str::from_utf8(&k[old.len()..])
            .ok()
            .and_then(|s| Serial::new(s).ok())
        {
            out.push(s);
        }
    }
    for (_, v) in t.scan(&lot_commission_key(gtin, lot, None), usize::MAX) {
        let (items, _) = list_items(&v);
        out.extend(items.into_iter().filter_map(|text| {
            std::str::from_utf8(text)
                .ok()
                .and_then(|s| Serial::new(s).ok())
        }));
    }
    out.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    out.dedup();
    out
}

/// `e/<gtin>\0<lot>`
pub fn lot_expiry_key(gtin: &Gtin, lot: &Lot) -> Vec<u8> {
    key(b"e/", &[gtin.as_str().as_bytes(), lot.as_str().as_bytes()])
}
/// `c/<sscc>`: the one row listing a container's children.
pub fn children_key(parent: &Sscc) -> Vec<u8> {
    key(b"c/", &[parent.as_str().as_bytes()])
}

/// `c/<sscc>\0` (prefix) and with the child: one row per child, as earlier versions
/// stored a container's contents (read and folded into [`children_key`]'s row).
pub fn child_key(parent: &Sscc, child: Option<&Code>) -> Vec<u8> {
    let mut k = key_and_room(
        b"c/",
        &[parent.as_str().as_bytes(), b""],
        child.map_or(0, |_| CODE_ROOM),
    );
    if let Some(c) = child {
        c.push_to(&mut k);
    }
    k
}
/// `s/<id>`
pub fn shipment_key(id: &EventId) -> Vec<u8> {
    key(b"s/", &[id.as_bytes()])
}
/// `r/<id>`
pub fn recall_key(id: &EventId) -> Vec<u8> {
    key(b"r/", &[id.as_bytes()])
}
/// `ru/<recall>\0` (prefix) and with the code.
pub fn recall_unit_key(recall: &EventId, code: Option<&Code>) -> Vec<u8> {
    let mut k = key_and_room(
        b"ru/",
        &[recall.as_bytes(), b""],
        code.map_or(0, |_| CODE_ROOM),
    );
    if let Some(c) = code {
        c.push_to(&mut k);
    }
    k
}
/// `rl/<gtin>\0<lot>`
pub fn recalled_lot_key(gtin: &Gtin, lot: &Lot) -> Vec<u8> {
    key(b"rl/", &[gtin.as_str().as_bytes(), lot.as_str().as_bytes()])
}
/// `rs/<gtin>\0<serial>`
pub fn recalled_serial_key(gtin: &Gtin, serial: &Serial) -> Vec<u8> {
    key(
        b"rs/",
        &[gtin.as_str().as_bytes(), serial.as_str().as_bytes()],
    )
}
/// `h/<digest>`: the EPCIS event of that CBV 2.0 hash, once imported.
pub fn epcis_key(hash: &EpcisHash) -> Vec<u8> {
    key(b"h/", &[hash.digest().as_bytes()])
}

/// The ledger event the EPCIS event of `hash` was imported as, if it was.
pub fn imported(t: &impl Tables, hash: &EpcisHash) -> Option<EventId> {
    t.get_json(&epcis_key(hash))
}

/// `rs/<gtin>\0`: every serial recall of a GTIN.
pub fn recalled_serial_key_prefix(gtin: &Gtin) -> Vec<u8> {
    key(b"rs/", &[gtin.as_str().as_bytes(), b""])
}

/// `rg/<gtin>`: present once a recall of the GTIN named serials. One key rather than a
/// scan of `rs/<gtin>\0`, because a key lookup is served from the store's read cache and
/// a scan always goes to the database (twice per unit moved: validate and apply).
pub fn serial_recalls_key(gtin: &Gtin) -> Vec<u8> {
    key(b"rg/", &[gtin.as_str().as_bytes()])
}

/// The key events of a unit are indexed under (for provenance).
pub fn index_key(code: &Code) -> Vec<u8> {
    prefixed(b"trace:", code)
}

// ---- access ----

/// Key-value access the rules run on: the block's state at apply, or a scratch layer
/// over committed state at admission, so both run the very same code.
pub trait Tables {
    /// The value under `key`.
    fn get(&self, key: &[u8]) -> Option<Vec<u8>>;
    /// Entries under `prefix`, in key order, at most `limit`.
    fn scan(&self, prefix: &[u8], limit: usize) -> Vec<(Vec<u8>, Vec<u8>)>;
    /// Sets `key` (taken whole: keys are built for the write).
    fn put(&mut self, key: Vec<u8>, value: Vec<u8>);
    /// Removes `key`.
    fn delete(&mut self, key: Vec<u8>);
    /// The consortium config in force.
    fn consortium(&self) -> &Consortium;

    /// The JSON value under `key`.
    fn get_json<T: serde::de::DeserializeOwned>(&self, key: &[u8]) -> Option<T>
    where
        Self: Sized,
    {
        self.get(key).and_then(|b| serde_json::from_slice(&b).ok())
    }

    /// Sets `key` to JSON.
    fn put_json<T: Serialize>(&mut self, key: &[u8], value: &T)
    where
        Self: Sized,
    {
        self.put(
            key.to_vec(),
            serde_json::to_vec(value).expect("state values serialise"),
        );
    }
}

impl Tables for StateTx<'_> {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        StateView::get(self, key)
    }
    fn scan(&self, prefix: &[u8], limit: usize) -> Vec<(Vec<u8>, Vec<u8>)> {
        StateView::scan(self, prefix, limit)
    }
    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        StateTx::put_owned(self, key, value);
    }
    fn delete(&mut self, key: Vec<u8>) {
        StateTx::delete_owned(self, key);
    }
    fn consortium(&self) -> &Consortium {
        StateView::consortium(self)
    }
}

/// Writes buffered over a read-only view; dropped after admission checks.
pub struct Scratch<'a> {
    view: &'a dyn StateView,
    writes: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
}

impl<'a> Scratch<'a> {
    /// An empty layer over `view`.
    pub fn new(view: &'a dyn StateView) -> Self {
        Self {
            view,
            writes: BTreeMap::new(),
        }
    }
}

impl Tables for Scratch<'_> {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        match self.writes.get(key) {
            Some(v) => v.clone(),
            None => self.view.get(key),
        }
    }
    fn scan(&self, prefix: &[u8], limit: usize) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mine: Vec<_> = self
            .writes
            .range::<[u8], _>((Bound::Included(prefix), Bound::Unbounded))
            .take_while(|(k, _)| k.starts_with(prefix))
            .collect();
        if mine.is_empty() {
            return self.view.scan(prefix, limit);
        }
        let mut merged: BTreeMap<Vec<u8>, Option<Vec<u8>>> = self
            .view
            .scan(prefix, limit.saturating_add(mine.len()))
            .into_iter()
            .map(|(k, v)| (k, Some(v)))
            .collect();
        for (k, v) in mine {
            merged.insert(k.clone(), v.clone());
        }
        merged
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k, v)))
            .take(limit)
            .collect()
    }
    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.writes.insert(key, Some(value));
    }
    fn delete(&mut self, key: Vec<u8>) {
        self.writes.insert(key, None);
    }
    fn consortium(&self) -> &Consortium {
        self.view.consortium()
    }
}

/// Read-only tables over a state view (queries).
pub struct ReadOnly<'a>(pub &'a dyn StateView);

impl Tables for ReadOnly<'_> {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.0.get(key)
    }
    fn scan(&self, prefix: &[u8], limit: usize) -> Vec<(Vec<u8>, Vec<u8>)> {
        self.0.scan(prefix, limit)
    }
    fn put(&mut self, _: Vec<u8>, _: Vec<u8>) {
        unreachable!("queries never write")
    }
    fn delete(&mut self, _: Vec<u8>) {
        unreachable!("queries never write")
    }
    fn consortium(&self) -> &Consortium {
        self.0.consortium()
    }
}

/// Deepest nesting followed (a guard; packing refuses cycles).
pub const MAX_DEPTH: usize = 16;

/// The unit's record.
pub fn unit(t: &impl Tables, code: &Code) -> Option<Unit> {
    t.get(&unit_key(code))
        .and_then(|b| crate::stored::decode(&b))
}

/// Sets the unit's record (stored in the compact form of [`crate::stored`]).
pub fn put_unit(t: &mut impl Tables, code: &Code, unit: &Unit) {
    t.put(unit_key(code), crate::stored::encode(unit));
}

/// The unit with its effective holder, status and quarantine.
pub fn resolve(t: &impl Tables, code: &Code) -> Option<Resolved> {
    let own = unit(t, code)?;
    let mut quarantined = own.quarantined;
    // the outermost container found so far, when the unit is packed
    let mut outer: Option<(Code, Unit)> = None;
    for _ in 0..MAX_DEPTH {
        let above = outer.as_ref().map_or(&own, |(_, u)| u);
        let Some(parent) = above.parent.clone() else {
            break;
        };
        let p = Code::Container(parent);
        let Some(next) = unit(t, &p) else { break };
        quarantined |= next.quarantined;
        outer = Some((p, next));
    }
    let (root, top) = outer.unwrap_or_else(|| (code.clone(), own.clone()));
    Some(Resolved {
        unit: own,
        root,
        top,
        quarantined,
    })
}

/// The direct children of a container, in the order of their text form.
///
/// They are one row (`c/<sscc>`), read like any other key (so from the store's read
/// cache), rather than a row per child found by a prefix scan, which always went to the
/// database: shipping a case scanned its children at admission and again at apply, and
/// packing and unpacking wrote or deleted a row per child. A container without that row
/// may hold children packed by an earlier version, one row each; they are scanned then.
pub fn children(t: &impl Tables, parent: &Sscc) -> Vec<Code> {
    match t.get(&children_key(parent)) {
        Some(list) => decode_children(&list).unwrap_or_default(),
        None => old_children(t, parent),
    }
}

/// Children packed by earlier versions (`c/<sscc>\0<code>` rows).
fn old_children(t: &impl Tables, parent: &Sscc) -> Vec<Code> {
    let prefix = child_key(parent, None);
    // the keys are this module's own writes of codes it had checked (see `Code::from_stored`)
    t.scan(&prefix, usize::MAX)
        .into_iter()
        .filter_map(|(k, _)| Code::from_stored(std::str::from_utf8(&k[prefix.len()..]).ok()?))
        .collect()
}

/// Sets a container's children (sorted and without repeats here, so every peer writes
/// the same bytes), folding in any rows an earlier version wrote for it.
pub fn put_children(t: &mut impl Tables, parent: &Sscc, mut list: Vec<Code>) {
    if t.get(&children_key(parent)).is_none() {
        for old in old_children(t, parent) {
            t.delete(child_key(parent, Some(&old)));
        }
    }
    let mut text: Vec<Vec<u8>> = list
        .drain(..)
        .map(|c| {
            let mut b = Vec::with_capacity(CODE_ROOM);
            c.push_to(&mut b);
            b
        })
        .collect();
    text.sort();
    text.dedup();
    if text.is_empty() {
        t.delete(children_key(parent));
        return;
    }
    let mut out = vec![CHILDREN_VERSION];
    push_list(&mut out, text.iter().map(Vec::as_slice));
    t.put(children_key(parent), out);
}

/// First byte of a children row.
const CHILDREN_VERSION: u8 = 1;

/// Reads [`put_children`]'s form: the version byte, then each code's text form after its
/// length byte.
fn decode_children(bytes: &[u8]) -> Option<Vec<Code>> {
    let (&version, rest) = bytes.split_first()?;
    if version != CHILDREN_VERSION {
        return None;
    }
    let (items, whole) = list_items(rest);
    if !whole {
        return None;
    }
    items
        .into_iter()
        // this module's own write of codes it had checked (see `Code::from_stored`)
        .map(|text| Code::from_stored(std::str::from_utf8(text).ok()?))
        .collect()
}

/// Appends each item as a length byte and its bytes (serials and codes: short by rule).
fn push_list<'a>(out: &mut Vec<u8>, items: impl Iterator<Item = &'a [u8]>) {
    for item in items {
        out.push(u8::try_from(item.len()).expect("a serial or code is short"));
        out.extend_from_slice(item);
    }
}

/// The items [`push_list`] wrote, and whether the bytes ended where an item did.
fn list_items(mut rest: &[u8]) -> (Vec<&[u8]>, bool) {
    let mut items = Vec::new();
    while let Some((&len, more)) = rest.split_first() {
        let Some((item, more)) = more.split_at_checked(usize::from(len)) else {
            return (items, false);
        };
        items.push(item);
        rest = more;
    }
    (items, true)
}

/// Every unit inside `code` (not `code` itself), depth first.
pub fn descendants(t: &impl Tables, code: &Code) -> Vec<Code> {
    let mut out = Vec::new();
    let mut stack = vec![(code.clone(), 0)];
    while let Some((c, depth)) = stack.pop() {
        if let (Code::Container(s), true) = (&c, depth < MAX_DEPTH) {
            for child in children(t, s) {
                // only containers have children to look for
                if child.is_container() {
                    stack.push((child.clone(), depth + 1));
                }
                out.push(child);
            }
        }
    }
    out
}

/// How an item left the supply chain into a patient: what claims are checked against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DispenseRecord {
    /// The dispense or implant event.
    pub event: EventId,
    /// `dispense` or `implant`.
    pub kind: String,
    /// The organisation that did it.
    pub org: OrgId,
    /// Block time, Unix ms.
    pub time: i64,
}

impl DispenseRecord {
    /// The stored form, written once per dispensed item, so kept small and cheap rather
    /// than JSON: kind length (1 byte), kind, event id (32 bytes), block time (8 bytes,
    /// big-endian), organisation id. Deterministic like everything apply writes.
    pub fn encode(&self) -> Vec<u8> {
        let kind = self.kind.as_bytes();
        let kind_len = u8::try_from(kind.len()).expect("kinds are short names");
        let mut out = Vec::with_capacity(1 + kind.len() + 40 + self.org.as_str().len());
        out.push(kind_len);
        out.extend_from_slice(kind);
        out.extend_from_slice(self.event.as_bytes());
        out.extend_from_slice(&self.time.to_be_bytes());
        out.extend_from_slice(self.org.as_str().as_bytes());
        out
    }

    /// Reads [`DispenseRecord::encode`]'s form back (or the JSON of earlier versions,
    /// which starts with `{`, never a kind's length); `None` for anything else.
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        if bytes.first() == Some(&b'{') {
            return serde_json::from_slice(bytes).ok();
        }
        let (&kind_len, rest) = bytes.split_first()?;
        let (kind, rest) = rest.split_at_checked(usize::from(kind_len))?;
        let (event, rest) = rest.split_at_checked(32)?;
        let (time, org) = rest.split_at_checked(8)?;
        Some(Self {
            event: EventId::from_slice(event)?,
            kind: std::str::from_utf8(kind).ok()?.to_owned(),
            org: OrgId::new(std::str::from_utf8(org).ok()?).ok()?,
            time: i64::from_be_bytes(time.try_into().ok()?),
        })
    }
}

/// Key of an item's dispense record.
pub fn dispensed_key(code: &Code) -> Vec<u8> {
    prefixed(b"x/", code)
}

/// The dispense or implant record of an item, if it has one: in its unit record, or in
/// the row of its own an earlier version wrote.
pub fn dispensed(t: &impl Tables, code: &Code) -> Option<DispenseRecord> {
    unit(t, code).and_then(|u| u.dispense).or_else(|| {
        t.get(&dispensed_key(code))
            .and_then(|b| DispenseRecord::decode(&b))
    })
}

/// Whether units are under recall (by lot or by serial): [`recalls_of`] without reading
/// the ids, for the check every moved unit goes through. What a GTIN or a lot answered is
/// remembered, since the units of one case share them.
#[derive(Default)]
pub struct RecallCheck {
    /// GTINs asked about, and whether some recall of theirs names serials.
    gtins: Vec<(Gtin, bool)>,
    /// Lots asked about, and whether they are recalled.
    lots: Vec<(Gtin, Lot, bool)>,
}

fn has_ids(t: &impl Tables, key: &[u8]) -> bool {
    t.get_json::<Vec<EventId>>(key)
        .is_some_and(|ids| !ids.is_empty())
}

impl RecallCheck {
    /// True when some recall covers the item.
    pub fn covers(&mut self, t: &impl Tables, code: &Code, lot: Option<&Lot>) -> bool {
        let (Some(gtin), Some(serial)) = (code.gtin(), code.serial()) else {
            return false;
        };
        let by_serial = match self.gtins.iter().find(|(g, _)| g == gtin) {
            Some(&(_, known)) => known,
            None => {
                let some = t.get(&serial_recalls_key(gtin)).is_some();
                self.gtins.push((gtin.clone(), some));
                some
            }
        };
        if by_serial && has_ids(t, &recalled_serial_key(gtin, serial)) {
            return true;
        }
        let Some(lot) = lot else { return false };
        match self.lots.iter().find(|(g, l, _)| g == gtin && l == lot) {
            Some(&(_, _, known)) => known,
            None => {
                let recalled = has_ids(t, &recalled_lot_key(gtin, lot));
                self.lots.push((gtin.clone(), lot.clone(), recalled));
                recalled
            }
        }
    }
}

/// Recall ids that cover the item (by lot or by serial).
pub fn recalls_of(t: &impl Tables, code: &Code, lot: Option<&Lot>) -> Vec<EventId> {
    let (Some(gtin), Some(serial)) = (code.gtin(), code.serial()) else {
        return vec![];
    };
    // Whether the GTIN has any serial recall is one look (remembered for the event)
    // before one per serial.
    let by_serial = t.get(&serial_recalls_key(gtin)).is_some();
    let mut ids: Vec<EventId> = if by_serial {
        t.get_json(&recalled_serial_key(gtin, serial))
            .unwrap_or_default()
    } else {
        vec![]
    };
    if let Some(lot) = lot {
        let by_lot: Vec<EventId> = t.get_json(&recalled_lot_key(gtin, lot)).unwrap_or_default();
        ids.extend(by_lot);
    }
    ids
}

/// The days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// True when `expiry` (usable through its day, UTC) is before the day of `time_ms`.
pub fn expired(expiry: &Expiry, time_ms: i64) -> bool {
    let last_day = days_from_civil(
        i64::from(expiry.year()),
        i64::from(expiry.month()),
        i64::from(expiry.day()),
    );
    time_ms.div_euclid(86_400_000) > last_day
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tables in memory, for what earlier versions stored.
    struct Mem(BTreeMap<Vec<u8>, Vec<u8>>, Consortium);

    impl Mem {
        fn new() -> Self {
            Self(
                BTreeMap::new(),
                Consortium {
                    name: "t".into(),
                    governors: vec![],
                    organizations: vec![],
                    peers: vec![],
                },
            )
        }
    }

    impl Tables for Mem {
        fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
            self.0.get(key).cloned()
        }
        fn scan(&self, prefix: &[u8], limit: usize) -> Vec<(Vec<u8>, Vec<u8>)> {
            self.0
                .range::<[u8], _>((Bound::Included(prefix), Bound::Unbounded))
                .take_while(|(k, _)| k.starts_with(prefix))
                .take(limit)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        }
        fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
            self.0.insert(key, value);
        }
        fn delete(&mut self, key: Vec<u8>) {
            self.0.remove(&key);
        }
        fn consortium(&self) -> &Consortium {
            &self.1
        }
    }

    fn item(serial: &str) -> Code {
        Code::item("00614141100019".parse().unwrap(), serial.parse().unwrap())
    }

    #[test]
    fn children_packed_by_earlier_versions_still_read_and_fold_into_one_row() {
        let case: Sscc = "006141410000000012".parse().unwrap();
        let mut t = Mem::new();
        for s in ["B", "A"] {
            t.put(child_key(&case, Some(&item(s))), vec![]);
        }
        assert_eq!(children(&t, &case), vec![item("A"), item("B")]);
        let mut more = children(&t, &case);
        more.push(item("C"));
        put_children(&mut t, &case, more);
        assert_eq!(children(&t, &case), vec![item("A"), item("B"), item("C")]);
        let keys: Vec<Vec<u8>> = t
            .scan(b"c/", usize::MAX)
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(
            keys,
            vec![children_key(&case)],
            "the per-child rows are gone"
        );
        put_children(&mut t, &case, vec![]);
        assert!(t.scan(b"c/", usize::MAX).is_empty());
        assert!(children(&t, &case).is_empty());
    }

    #[test]
    fn a_lot_lists_serials_of_both_forms_in_text_order() {
        let gtin: Gtin = "00614141100019".parse().unwrap();
        let lot: Lot = "L1".parse().unwrap();
        let mut t = Mem::new();
        let serial = |s: &str| -> Serial { s.parse().unwrap() };
        t.put(lot_key(&gtin, &lot, Some(&serial("B2"))), vec![]);
        put_lot_commission(
            &mut t,
            &gtin,
            &lot,
            &EventId([1; 32]),
            &[serial("C3"), serial("A1")],
        );
        // another lot whose name starts the same is not this one
        put_lot_commission(
            &mut t,
            &gtin,
            &"L10".parse().unwrap(),
            &EventId([2; 32]),
            &[serial("Z")],
        );
        let got: Vec<String> = lot_serials(&t, &gtin, &lot)
            .iter()
            .map(|s| s.as_str().to_owned())
            .collect();
        assert_eq!(got, ["A1", "B2", "C3"]);
    }

    #[test]
    fn dispense_records_of_earlier_versions_still_read() {
        let code = item("A");
        let mut t = Mem::new();
        let unit = Unit {
            holder: OrgId::new("city-pharmacy").unwrap(),
            status: Status::Dispensed,
            quarantined: false,
            parent: None,
            lot: None,
            expiry: None,
            dispense: None,
        };
        let old = DispenseRecord {
            event: EventId([7; 32]),
            kind: "dispense".into(),
            org: OrgId::new("city-pharmacy").unwrap(),
            time: 5,
        };
        put_unit(&mut t, &code, &unit);
        t.put(dispensed_key(&code), old.encode());
        assert_eq!(dispensed(&t, &code), Some(old.clone()));
        let new = DispenseRecord {
            event: EventId([8; 32]),
            time: 6,
            ..old
        };
        put_unit(
            &mut t,
            &code,
            &Unit {
                dispense: Some(new.clone()),
                ..unit
            },
        );
        assert_eq!(
            dispensed(&t, &code),
            Some(new),
            "the unit's own record comes first"
        );
    }

    #[test]
    fn dispense_records_read_back() {
        let r = DispenseRecord {
            event: EventId([7; 32]),
            kind: "implant".into(),
            org: OrgId::new("st-mary").unwrap(),
            time: -5,
        };
        let b = r.encode();
        assert_eq!(DispenseRecord::decode(&b), Some(r.clone()));
        for cut in 0..b.len() - "st-mary".len() {
            assert_eq!(DispenseRecord::decode(&b[..cut]), None);
        }
        assert_eq!(DispenseRecord::decode(b"{\"event\":1}"), None);
        let json = serde_json::to_vec(&r).unwrap();
        assert_eq!(DispenseRecord::decode(&json), Some(r));
    }

    #[test]
    fn expiry_is_inclusive_of_its_day() {
        let e: Expiry = "2026-03-31".parse().unwrap();
        let day = days_from_civil(2026, 3, 31) * 86_400_000;
        assert!(!expired(&e, day));
        assert!(!expired(&e, day + 86_399_999));
        assert!(expired(&e, day + 86_400_000));
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }
}
