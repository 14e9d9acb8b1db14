//! Provenance: every event of an item and of the containers it travelled in (while it
//! was inside them), in chain order, each with its block height, block hash and a Merkle
//! inclusion proof of the event in that block.
//!
//! Events are found through the index keys `apply` emits (one per unit an event
//! touches); container periods come from the item's own pack and unpack events, so a
//! pallet's events before or after the item was on it are left out.

use crate::code::{Code, ScanProblem, ScannedCode};
use crate::events::{Cbv, MODULE, TraceEvent};
use crate::state;
use ledger::merkle::InclusionProof;
use ledger::{
    ActorId, BlockHash, BlockHeader, Digest, EventId, EventRecord, Ledger, OrgId, StoreError,
};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

/// Most events read per unit.
pub const MAX_EVENTS: usize = 10_000;

/// One event in an item's history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProvenanceEvent {
    /// Event id.
    pub event: EventId,
    /// Event kind, e.g. `ship`.
    pub kind: String,
    /// CBV 2.0 business step.
    pub biz_step: &'static str,
    /// CBV 2.0 disposition.
    pub disposition: &'static str,
    /// Acting organisation.
    pub org: OrgId,
    /// Signing actor.
    pub actor: ActorId,
    /// Block height.
    pub height: u64,
    /// Position in the block.
    pub index: u32,
    /// Block time, Unix ms.
    pub time: i64,
    /// Block hash.
    pub block_hash: BlockHash,
    /// The block's Merkle root the proof leads to.
    pub merkle_root: Digest,
    /// Inclusion proof of the event id in the block.
    pub proof: InclusionProof,
    /// The container the event reached the item through, if not the item itself.
    pub via: Option<Code>,
    /// The payload, with any patient reference removed.
    pub payload: Value,
}

/// The history of a unit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Provenance {
    /// The unit, normalised.
    pub code: Code,
    /// Events, oldest first.
    pub events: Vec<ProvenanceEvent>,
}

/// Why no provenance could be given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProvenanceError {
    /// The scan is malformed.
    #[error(transparent)]
    Scan(#[from] ScanProblem),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

type Pos = (u64, u32);

/// Proofs already made, by (height, position). Committed blocks never change, so entries
/// never go stale; the cache forgets everything when it reaches its size. Share one per
/// ledger (it is `Sync`) to spare repeated provenance queries the store reads.
pub struct BlockCache {
    proofs: Mutex<HashMap<Pos, Arc<Proved>>>,
    capacity: usize,
}

/// An event's block header, the block's hash and the event's inclusion proof.
struct Proved {
    header: BlockHeader,
    hash: BlockHash,
    proof: InclusionProof,
}

impl BlockCache {
    /// A cache of at most `capacity` proofs.
    pub fn new(capacity: usize) -> Self {
        Self {
            proofs: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
        }
    }

    /// The proofs of the events at `wanted` (position and id), read through the ledger
    /// in one store request for those not cached (each the event's chunk of its block and
    /// the block's stored Merkle nodes, checked against the header).
    fn get_many(
        &self,
        ledger: &Ledger,
        wanted: &[(Pos, EventId)],
    ) -> Result<Vec<Arc<Proved>>, StoreError> {
        // Hits are taken under one lock, so a concurrent clear cannot lose them.
        let mut out: Vec<Option<Arc<Proved>>> = {
            let cached = self.lock();
            wanted
                .iter()
                .map(|(pos, _)| cached.get(pos).cloned())
                .collect()
        };
        let missing: Vec<Pos> = wanted
            .iter()
            .zip(&out)
            .filter(|(_, hit)| hit.is_none())
            .map(|((pos, _), _)| *pos)
            .collect();
        let read = ledger.prove_many(&missing)?;
        let mut fresh = Vec::with_capacity(missing.len());
        for (pos, found) in missing.into_iter().zip(read) {
            let (height, index) = pos;
            let (header, id, proof) = found.ok_or_else(|| {
                StoreError::Corrupt(format!("block {height} has no event at {index}"))
            })?;
            let hash = header.hash();
            fresh.push((
                pos,
                id,
                Arc::new(Proved {
                    header,
                    hash,
                    proof,
                }),
            ));
        }
        let mut next_fresh = fresh.iter();
        for ((pos, id), slot) in wanted.iter().zip(out.iter_mut()) {
            if slot.is_some() {
                continue;
            }
            let (_, proved_id, proved) = next_fresh.next().expect("one read per miss");
            if proved_id != id {
                return Err(StoreError::Corrupt(format!(
                    "block {} holds another event at position {} than {id}",
                    pos.0, pos.1
                )));
            }
            *slot = Some(proved.clone());
        }
        let mut proofs = self.lock();
        if proofs.len() + fresh.len() > self.capacity {
            proofs.clear();
        }
        proofs.extend(fresh.into_iter().map(|(pos, _, p)| (pos, p)));
        Ok(out.into_iter().flatten().collect())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Pos, Arc<Proved>>> {
        self.proofs.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The provenance of the unit a scan names (any scan form).
pub fn provenance(ledger: &Ledger, code: &str) -> Result<Provenance, ProvenanceError> {
    let scan = ScannedCode::read(code)?;
    Ok(provenance_of(ledger, &scan.code, &BlockCache::new(64))?)
}

/// Like [`provenance`], reusing blocks already read into `cache`.
pub fn provenance_cached(
    ledger: &Ledger,
    code: &str,
    cache: &BlockCache,
) -> Result<Provenance, ProvenanceError> {
    let scan = ScannedCode::read(code)?;
    Ok(provenance_of(ledger, &scan.code, cache)?)
}

/// The provenance of a normalised code. An unknown code has no events.
pub fn provenance_of(
    ledger: &Ledger,
    code: &Code,
    cache: &BlockCache,
) -> Result<Provenance, StoreError> {
    let mut found: BTreeMap<Pos, Found> = BTreeMap::new();
    collect(
        ledger,
        code,
        None,
        ((0, 0), (u64::MAX, u32::MAX)),
        0,
        &mut found,
    )?;
    let wanted: Vec<(Pos, EventId)> = found.iter().map(|(pos, f)| (*pos, f.id)).collect();
    let proofs = cache.get_many(ledger, &wanted)?;
    let mut events = Vec::with_capacity(found.len());
    for (((height, index), f), proved) in found.into_iter().zip(proofs) {
        let header = &proved.header;
        let body = f.record.envelope.into_body();
        let mut payload = body.payload;
        if let Some(o) = payload.as_object_mut() {
            o.remove("patient");
        }
        events.push(ProvenanceEvent {
            event: f.id,
            kind: body.kind.as_str().to_string(),
            biz_step: f.cbv.map_or("other", |c| c.step),
            disposition: f.cbv.map_or("unknown", |c| c.disposition),
            org: body.org,
            actor: body.actor,
            height,
            index,
            time: header.time,
            block_hash: proved.hash,
            merkle_root: header.merkle_root,
            proof: proved.proof.clone(),
            via: f.via,
            payload,
        });
    }
    Ok(Provenance {
        code: code.clone(),
        events,
    })
}

/// An event found for the history, read and parsed once.
struct Found {
    record: EventRecord,
    id: EventId,
    cbv: Option<Cbv>,
    via: Option<Code>,
}

/// Events of `code` within `window`, and recursively of the containers it was in.
fn collect(
    ledger: &Ledger,
    code: &Code,
    via: Option<&Code>,
    window: (Pos, Pos),
    depth: usize,
    out: &mut BTreeMap<Pos, Found>,
) -> Result<(), StoreError> {
    let records = ledger
        .events_by_key(&state::index_key(code), MAX_EVENTS)?
        .into_iter()
        .filter(|e| e.result.is_none() && e.envelope.module().as_str() == MODULE);
    let mut periods: Vec<(Code, Pos, Pos)> = Vec::new();
    for rec in records {
        let pos = (rec.height, rec.index);
        let parsed = TraceEvent::parse(rec.envelope.kind(), rec.envelope.payload()).ok();
        match &parsed {
            Some(TraceEvent::Pack(p)) if p.children.contains(code) => {
                periods.push((Code::Container(p.parent.clone()), pos, (u64::MAX, u32::MAX)));
            }
            Some(TraceEvent::Unpack(u))
                if u.parent.as_str() != code.sscc().map_or("", |s| s.as_str()) =>
            {
                let parent = Code::Container(u.parent.clone());
                if let Some(open) = periods.iter_mut().rev().find(|p| p.0 == parent) {
                    open.2 = open.2.min(pos);
                }
            }
            // A container's own packing of other units is not the item's history.
            Some(TraceEvent::Pack(_) | TraceEvent::Unpack(_)) if via.is_some() => continue,
            _ => {}
        }
        if pos >= window.0 && pos <= window.1 {
            out.entry(pos).or_insert_with(|| Found {
                id: rec.envelope.id(),
                cbv: parsed.map(|e| e.cbv()),
                via: via.map(|_| code.clone()),
                record: rec,
            });
        }
    }
    if depth >= state::MAX_DEPTH {
        return Ok(());
    }
    for (parent, from, to) in periods {
        let from = from.max(window.0);
        let to = to.min(window.1);
        if from <= to {
            collect(ledger, &parent, Some(&parent), (from, to), depth + 1, out)?;
        }
    }
    Ok(())
}
