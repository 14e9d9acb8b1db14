//! Reads over committed trace state: a unit's record, shipments, recalls with their
//! effectiveness, the units of a recall per holder, and (for the implanting hospital
//! only) the pseudonymous patient references of recalled implants.

use crate::code::{Code, PatientRef};
use crate::events::MODULE;
use crate::events::TraceEvent;
use crate::state::{
    self, HolderTally, ReadOnly, RecallRecord, RecallUnit, Shipment, Status, Tables,
};
use ledger::{EventId, Ledger, OrgId, StoreError};
use serde::Serialize;

/// A unit as it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnitView {
    /// The unit.
    pub code: Code,
    /// Effective holder.
    pub holder: OrgId,
    /// Effective status name.
    pub status: &'static str,
    /// Quarantined itself or through a container.
    pub quarantined: bool,
    /// The container it is directly in.
    pub parent: Option<Code>,
    /// The outermost container (itself when not packed).
    pub root: Code,
    /// Lot (items).
    pub lot: Option<String>,
    /// Expiry, YYYY-MM-DD (items).
    pub expiry: Option<String>,
    /// Direct children (containers).
    pub children: Vec<Code>,
}

/// The unit's current record, `None` if never commissioned or packed into.
pub fn unit(ledger: &Ledger, code: &Code) -> Result<Option<UnitView>, StoreError> {
    ledger.read(MODULE, |v| {
        let t = ReadOnly(v);
        let r = state::resolve(&t, code)?;
        Some(UnitView {
            code: code.clone(),
            holder: r.holder().clone(),
            status: r.status().name(),
            quarantined: r.quarantined,
            parent: r.unit.parent.clone().map(Code::Container),
            root: r.root.clone(),
            lot: r.unit.lot.as_ref().map(ToString::to_string),
            expiry: r.unit.expiry.as_ref().map(ToString::to_string),
            children: code
                .sscc()
                .map(|s| state::children(&t, s))
                .unwrap_or_default(),
        })
    })
}

/// A shipment by its ship event id.
pub fn shipment(ledger: &Ledger, id: &EventId) -> Result<Option<Shipment>, StoreError> {
    ledger.read(MODULE, |v| ReadOnly(v).get_json(&state::shipment_key(id)))
}

/// Effectiveness of a recall for one holder.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HolderEffectiveness {
    /// The holder at recall time.
    pub org: OrgId,
    /// Units it held (within the recall's depth).
    pub units: u64,
    /// Of those, accounted for by a disposition.
    pub accounted: u64,
    /// accounted ÷ units (1 when it held none).
    pub ratio: f64,
    /// It acknowledged the recall.
    pub acknowledged: bool,
}

/// A recall with its effectiveness.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecallView {
    /// The recall (its event id).
    pub id: EventId,
    /// The record as issued, with tallies.
    pub record: RecallRecord,
    /// Per holder.
    pub holders: Vec<HolderEffectiveness>,
    /// Units held at recall time (within depth), all holders.
    pub units: u64,
    /// Of those, accounted for.
    pub accounted: u64,
    /// accounted ÷ units.
    pub unit_ratio: f64,
    /// Holders that acknowledged ÷ holders.
    pub acknowledged_ratio: f64,
    /// Not every unit accounted for, or not every holder acknowledged.
    pub active: bool,
}

fn ratio(n: u64, d: u64) -> f64 {
    if d == 0 { 1.0 } else { n as f64 / d as f64 }
}

fn view(id: EventId, record: RecallRecord) -> RecallView {
    let holders: Vec<HolderEffectiveness> = record
        .holders
        .iter()
        .map(|(org, h): (&OrgId, &HolderTally)| HolderEffectiveness {
            org: org.clone(),
            units: h.units,
            accounted: h.accounted,
            ratio: ratio(h.accounted, h.units),
            acknowledged: h.acknowledged,
        })
        .collect();
    let units = holders.iter().map(|h| h.units).sum();
    let accounted = holders.iter().map(|h| h.accounted).sum();
    let acked = holders.iter().filter(|h| h.acknowledged).count() as u64;
    RecallView {
        id,
        holders,
        units,
        accounted,
        unit_ratio: ratio(accounted, units),
        acknowledged_ratio: ratio(acked, record.holders.len() as u64),
        active: accounted < units || acked < record.holders.len() as u64,
        record,
    }
}

/// One recall with its effectiveness.
pub fn recall(ledger: &Ledger, id: &EventId) -> Result<Option<RecallView>, StoreError> {
    let record = ledger.read(MODULE, |v| {
        ReadOnly(v).get_json::<RecallRecord>(&state::recall_key(id))
    })?;
    Ok(record.map(|r| view(*id, r)))
}

/// Every recall, oldest first; `active` filters on [`RecallView::active`].
pub fn recalls(ledger: &Ledger, active: Option<bool>) -> Result<Vec<RecallView>, StoreError> {
    let rows = ledger.read(MODULE, |v| v.scan(b"r/", usize::MAX))?;
    let mut out: Vec<RecallView> = rows
        .into_iter()
        .filter_map(|(k, v)| {
            let id = EventId::from_slice(k.get(2..)?)?;
            Some(view(id, serde_json::from_slice(&v).ok()?))
        })
        .filter(|r| active.is_none_or(|a| r.active == a))
        .collect();
    out.sort_by_key(|r| (r.record.height, r.id.to_hex()));
    Ok(out)
}

/// The items of a recall with their holder at recall time and disposition; only those
/// of `holder` when given.
pub fn recall_units(
    ledger: &Ledger,
    id: &EventId,
    holder: Option<&OrgId>,
) -> Result<Vec<(Code, RecallUnit)>, StoreError> {
    let prefix = state::recall_unit_key(id, None);
    let rows = ledger.read(MODULE, |v| v.scan(&prefix, usize::MAX))?;
    Ok(rows
        .into_iter()
        .filter_map(|(k, v)| {
            let code: Code = std::str::from_utf8(&k[prefix.len()..]).ok()?.parse().ok()?;
            let unit: RecallUnit = serde_json::from_slice(&v).ok()?;
            Some((code, unit))
        })
        .filter(|(_, u)| holder.is_none_or(|h| &u.holder == h))
        .collect())
}

/// For the hospital `hospital`: its implanted devices under recall `id`, with the
/// pseudonymous patient references only it can map to patients (under consent, off the
/// ledger). Other organisations get nothing.
pub fn recalled_implants(
    ledger: &Ledger,
    id: &EventId,
    hospital: &OrgId,
) -> Result<Vec<(Code, PatientRef)>, StoreError> {
    let units = recall_units(ledger, id, None)?;
    ledger.read(MODULE, |v| {
        let t = ReadOnly(v);
        units
            .into_iter()
            .filter_map(|(c, _)| {
                let r = state::resolve(&t, &c)?;
                match r.status() {
                    Status::Implanted { patient } if r.holder() == hospital => {
                        Some((c, patient.clone()))
                    }
                    _ => None,
                }
            })
            .collect()
    })
}

/// The ledger event proving that an item left the supply chain to a patient: its
/// applied `dispense` or `implant`, for claims (a claim line without one is a phantom;
/// two claims on one is a duplicate).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DispenseEvidence {
    /// The event.
    pub event: EventId,
    /// `dispense` or `implant`.
    pub kind: String,
    /// The dispensing or implanting organisation.
    pub org: OrgId,
    /// Block height.
    pub height: u64,
}

/// The dispense or implant event of an item that is dispensed or implanted now, if any.
pub fn dispense_evidence(
    ledger: &Ledger,
    code: &Code,
) -> Result<Option<DispenseEvidence>, StoreError> {
    let now = unit(ledger, code)?;
    if !matches!(
        now.as_ref().map(|u| u.status),
        Some("dispensed" | "implanted")
    ) {
        return Ok(None);
    }
    let events = ledger.events_by_key(&state::index_key(code), crate::MAX_EVENTS)?;
    Ok(events
        .iter()
        .rev()
        .filter(|e| e.result.is_none() && e.envelope.module().as_str() == MODULE)
        .find_map(|e| {
            let hit = match TraceEvent::parse(e.envelope.kind(), e.envelope.payload()).ok()? {
                TraceEvent::Dispense(c) => c.codes.contains(code),
                TraceEvent::Implant(d) => &d.code == code,
                _ => false,
            };
            hit.then(|| DispenseEvidence {
                event: e.envelope.id(),
                kind: e.envelope.kind().to_string(),
                org: e.envelope.org().clone(),
                height: e.height,
            })
        }))
}
