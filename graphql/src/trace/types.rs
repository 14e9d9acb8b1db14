//! The trace module's GraphQL types: verification, recalls, events with their proofs,
//! receipts, and the mutation inputs. Built from the module's query results at the
//! edge, filtered by what the caller may see.

use crate::caller::Caller;
use crate::chain::Organization;
use async_graphql::{Enum, ID, InputObject, Json, SimpleObject};
use ledger::{Consortium, OrgId};
use serde_json::Value;

/// The answer to a scan, as the BRIEF's trace contract fixes it.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "trace::Verdict")]
pub enum Verdict {
    /// Genuine, usable, and in the caller's custody.
    Verified,
    /// The GTIN was never commissioned.
    UnknownProduct,
    /// The serial (or SSCC) was never commissioned.
    UnknownSerial,
    /// Lot or expiry in the scan disagree with the commissioned data.
    Mismatch,
    /// Already dispensed or implanted.
    AlreadyDispensed,
    /// Taken out of the supply chain.
    Decommissioned,
    /// Under recall.
    Recalled,
    /// Past its expiry date.
    Expired,
    /// On hold.
    Quarantined,
    /// Genuine but held by someone else (or in transit).
    NotInYourCustody,
    /// The scan itself is bad; scan again.
    Rescan,
}

/// Recall class, most severe first (the regulators' own names: I, II, III).
#[allow(clippy::upper_case_acronyms)]
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "trace::RecallClass")]
pub enum RecallClass {
    /// Serious harm or death likely.
    I,
    /// Temporary or reversible harm.
    II,
    /// Unlikely to cause harm.
    III,
}

/// How far down the chain a recall reaches.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "trace::RecallDepth")]
pub enum RecallDepth {
    /// Manufacturers and distributors.
    Wholesale,
    /// Also pharmacies and hospitals.
    Retail,
    /// Also units already dispensed or implanted.
    Patient,
}

/// Why units leave the supply chain other than by dispensing.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "trace::Reason")]
pub enum DecommissionReason {
    /// Destroyed (cannot be undone).
    Destroyed,
    /// Taken as a sample.
    Sample,
    /// Stolen (cannot be undone).
    Stolen,
    /// Exported out of the market.
    Exported,
    /// Expired.
    Expired,
    /// Damaged.
    Damaged,
}

/// What the scanner library found wrong with a scan.
#[derive(SimpleObject, Debug, Clone)]
pub struct ScanDiagnostic {
    /// Stable code, e.g. `CHECK_DIGIT_GTIN`.
    pub code: String,
    /// What went wrong.
    pub message: String,
}

/// The answer to one scan.
#[derive(SimpleObject, Debug, Clone)]
pub struct Verification {
    /// The verdict.
    pub verdict: Verdict,
    /// Why, in one sentence.
    pub reason: String,
    /// What to do next, in one sentence.
    pub next_action: String,
    /// GTIN-14 of an item.
    pub gtin: Option<String>,
    /// Serial of an item.
    pub serial: Option<String>,
    /// SSCC of a logistic unit.
    pub sscc: Option<String>,
    /// Commissioned lot (or the scanned one when unknown).
    pub lot: Option<String>,
    /// Commissioned expiry, YYYY-MM-DD (or the scanned one when unknown).
    pub expiry: Option<String>,
    /// Current holder: shown to the holder, the brand owner and regulators only.
    pub holder: Option<Organization>,
    /// Lifecycle status (`active`, `in_transit`, `dispensed`...).
    pub status: Option<String>,
    /// The recall, for `RECALLED`.
    pub recall: Option<Recall>,
    /// For `RESCAN`: what the scanner library found.
    pub diagnostic: Option<ScanDiagnostic>,
    /// For `RESCAN`: advice on scanning again.
    pub hints: Vec<String>,
}

/// One holder's part of a recall.
#[derive(SimpleObject, Debug, Clone)]
pub struct RecallHolder {
    /// The holder at recall time.
    pub org: Organization,
    /// Units it held (within the recall's depth).
    pub units: u64,
    /// Of those, accounted for by a disposition.
    pub accounted: u64,
    /// accounted ÷ units.
    pub ratio: f64,
    /// It acknowledged the recall.
    pub acknowledged: bool,
}

/// A recall and its effectiveness.
#[derive(SimpleObject, Debug, Clone)]
pub struct Recall {
    /// The recall's event id.
    pub id: ID,
    /// Who issued it.
    pub issuer: Organization,
    /// The product.
    pub gtin: String,
    /// Lots recalled.
    pub lots: Vec<String>,
    /// Serials recalled.
    pub serials: Vec<String>,
    /// Class.
    pub class: RecallClass,
    /// Depth.
    pub depth: RecallDepth,
    /// Why.
    pub reason: String,
    /// Height of the block that issued it.
    pub block_height: u64,
    /// When, Unix milliseconds (block time).
    pub issued_at: i64,
    /// Items affected, whatever their status.
    pub affected: u64,
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
    /// Per holder: every holder for the issuer and regulators, the caller's own otherwise.
    pub holders: Vec<RecallHolder>,
}

/// An organisation by id, as the consortium config has it.
pub fn organization(consortium: &Consortium, id: &OrgId) -> Organization {
    match consortium.organization(id) {
        Some(o) => Organization::of(o),
        None => Organization {
            id: id.to_string(),
            name: id.to_string(),
            role: "unknown".into(),
            glns: vec![],
            company_prefixes: vec![],
        },
    }
}

impl Recall {
    /// The GraphQL view of a recall for `caller` (`None`: anonymous, no holders).
    pub fn of(v: &trace::RecallView, consortium: &Consortium, caller: Option<&Caller>) -> Self {
        let all = caller.is_some_and(|c| c.is_regulator() || c.org == v.record.issuer);
        let holders = v
            .holders
            .iter()
            .filter(|h| all || caller.is_some_and(|c| c.org == h.org))
            .map(|h| RecallHolder {
                org: organization(consortium, &h.org),
                units: h.units,
                accounted: h.accounted,
                ratio: h.ratio,
                acknowledged: h.acknowledged,
            })
            .collect();
        Self {
            id: ID(v.id.to_hex()),
            issuer: organization(consortium, &v.record.issuer),
            gtin: v.record.gtin.to_string(),
            lots: v.record.lots.iter().map(ToString::to_string).collect(),
            serials: v.record.serials.iter().map(ToString::to_string).collect(),
            class: v.record.class.into(),
            depth: v.record.depth.into(),
            reason: v.record.reason.clone(),
            block_height: v.record.height,
            issued_at: v.record.at,
            affected: v.record.affected,
            units: v.units,
            accounted: v.accounted,
            unit_ratio: v.unit_ratio,
            acknowledged_ratio: v.acknowledged_ratio,
            active: v.active,
            holders,
        }
    }
}

/// One event on the chain, with where it sits and the proof it is there.
#[derive(SimpleObject, Debug, Clone)]
pub struct Event {
    /// Event id (SHA-256 of its canonical bytes).
    pub id: ID,
    /// Module, e.g. `trace`.
    pub module: String,
    /// Kind, e.g. `ship`.
    pub kind: String,
    /// GS1 CBV 2.0 business step, e.g. `shipping`.
    pub biz_step: String,
    /// GS1 CBV 2.0 disposition, e.g. `in_transit`.
    pub disposition: String,
    /// Acting organisation.
    pub org: String,
    /// Signing actor.
    pub actor: String,
    /// Height of its block.
    pub block_height: u64,
    /// Position in the block.
    pub index: u32,
    /// Block time, Unix milliseconds.
    pub time: i64,
    /// Hash of its block.
    pub block_hash: String,
    /// The block's Merkle root.
    pub merkle_root: String,
    /// Merkle inclusion proof of the event id in the block (RFC 6962).
    pub proof: Json<Value>,
    /// The container the event reached the item through, if not the item itself.
    pub via: Option<String>,
    /// The units it names, normalised.
    pub codes: Vec<String>,
    /// The payload, without any patient reference.
    pub payload: Json<Value>,
    /// When the event was kept in its block but refused at apply: the code.
    pub refused: Option<String>,
}

/// The history of a unit.
#[derive(SimpleObject, Debug, Clone)]
pub struct Provenance {
    /// The unit, normalised.
    pub code: String,
    /// Events, oldest first.
    pub events: Vec<Event>,
    /// False when the caller only sees the events it was party to.
    pub complete: bool,
}

/// What a mutation returns once its events are committed.
#[derive(SimpleObject, Debug, Clone)]
pub struct EventReceipt {
    /// Ids of the committed events.
    pub event_ids: Vec<ID>,
    /// Height of the block holding them.
    pub block_height: u64,
    /// Hash of that block.
    pub block_hash: String,
}

/// A block header with the ids of its events.
#[derive(SimpleObject, Debug, Clone)]
pub struct Block {
    /// Height.
    pub height: u64,
    /// Hash.
    pub hash: String,
    /// Hash of the block before.
    pub previous_hash: String,
    /// RFC 6962 Merkle root of the event ids.
    pub merkle_root: String,
    /// Block time, Unix milliseconds.
    pub time: i64,
    /// The peer that ordered it.
    pub orderer: String,
    /// Ids of its events, in order.
    pub event_ids: Vec<ID>,
}

/// The authenticated caller.
#[derive(SimpleObject, Debug, Clone)]
pub struct Me {
    /// Actor id, e.g. `city-pharmacy/pharmacist`.
    pub actor: ID,
    /// Its organisation.
    pub org: Organization,
    /// Its roles there.
    pub roles: Vec<String>,
}

/// A recall alert for one holder.
#[derive(SimpleObject, Debug, Clone)]
pub struct RecallAlert {
    /// The recall.
    pub recall: Recall,
    /// Units of it the caller's organisation held when it was issued.
    pub units_held: u64,
    /// Height of the block that issued it.
    pub block_height: u64,
}

/// Commissioning serials of one GTIN and lot.
#[derive(InputObject, Debug, Clone)]
pub struct CommissionInput {
    /// GTIN (8 to 14 digits).
    pub gtin: String,
    /// Lot.
    pub lot: String,
    /// Expiry, YYYY-MM-DD.
    pub expiry: String,
    /// Serials.
    pub serials: Vec<String>,
    /// A medical device (the GTIN is a UDI-DI).
    #[graphql(default)]
    pub device: bool,
    /// Where, one of the organisation's GLNs.
    pub location: Option<String>,
}

/// Packing units into a case or pallet.
#[derive(InputObject, Debug, Clone)]
pub struct PackInput {
    /// The container's SSCC (18 digits or any scan of it).
    pub parent: String,
    /// What goes in, any scan form.
    pub children: Vec<String>,
}

/// Taking units out of a container.
#[derive(InputObject, Debug, Clone)]
pub struct UnpackInput {
    /// The container's SSCC.
    pub parent: String,
    /// What comes out; empty means everything.
    #[graphql(default)]
    pub children: Vec<String>,
}

/// Shipping units to another member.
#[derive(InputObject, Debug, Clone)]
pub struct ShipInput {
    /// Top-level units, any scan form.
    pub codes: Vec<String>,
    /// The receiving organisation's id.
    pub to: String,
}

/// Taking delivery.
#[derive(InputObject, Debug, Clone)]
pub struct ReceiveInput {
    /// What arrived, any scan form.
    pub codes: Vec<String>,
    /// The shipment (its ship event id), when known.
    pub shipment: Option<ID>,
}

/// Dispensing one pack.
#[derive(InputObject, Debug, Clone)]
pub struct DispenseInput {
    /// The pack, any scan form.
    pub code: String,
}

/// Taking units out of the supply chain.
#[derive(InputObject, Debug, Clone)]
pub struct DecommissionInput {
    /// Top-level units.
    pub codes: Vec<String>,
    /// Why.
    pub reason: DecommissionReason,
    /// Where, one of the organisation's GLNs.
    pub location: Option<String>,
}

/// Putting units on hold.
#[derive(InputObject, Debug, Clone)]
pub struct QuarantineInput {
    /// The units.
    pub codes: Vec<String>,
}

/// Releasing units from hold.
#[derive(InputObject, Debug, Clone)]
pub struct ReleaseInput {
    /// The units.
    pub codes: Vec<String>,
}

/// Issuing a recall: a GTIN with lots, or units of one GTIN.
#[derive(InputObject, Debug, Clone)]
pub struct RecallInput {
    /// The product.
    pub gtin: String,
    /// Lots recalled.
    #[graphql(default)]
    pub lots: Vec<String>,
    /// Units recalled (items of the GTIN), any scan form.
    #[graphql(default)]
    pub codes: Vec<String>,
    /// Class.
    pub class: RecallClass,
    /// Depth.
    pub depth: RecallDepth,
    /// Why, about the product (never about a patient).
    pub reason: String,
}

/// Acknowledging a recall as a holder.
#[derive(InputObject, Debug, Clone)]
pub struct AcknowledgeRecallInput {
    /// The recall's id.
    pub recall: ID,
}
