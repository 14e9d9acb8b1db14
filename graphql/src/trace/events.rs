//! Events as the API shows them: built from stored records with their block and proof,
//! filtered by what the caller may see, and listed with cursor pagination.

use super::types::Event;
use crate::caller::Caller;
use crate::errors::{BAD_INPUT, error, internal};
use async_graphql::{ID, Json};
use ledger::{Block, Envelope, EventRecord, Ledger, merkle};
use std::collections::HashMap;
use trace::{Code, TraceEvent};

/// Most blocks one page of `events` reads before it answers (with a cursor to go on).
pub const MAX_BLOCKS_PER_PAGE: u64 = 2_000;
/// Most events in one page.
pub const MAX_PAGE: usize = 200;

/// The units an event names (for filters and the brand owner's view).
pub fn codes_of(event: &TraceEvent) -> Vec<Code> {
    match event {
        TraceEvent::Commission(c) => c
            .serials
            .iter()
            .map(|s| Code::item(c.gtin.clone(), s.clone()))
            .collect(),
        TraceEvent::Pack(p) => std::iter::once(Code::Container(p.parent.clone()))
            .chain(p.children.iter().cloned())
            .collect(),
        TraceEvent::Unpack(p) => std::iter::once(Code::Container(p.parent.clone()))
            .chain(p.children.iter().cloned())
            .collect(),
        TraceEvent::Ship(s) => s.codes.clone(),
        TraceEvent::Receive(r) => r.codes.clone(),
        TraceEvent::Dispense(c) | TraceEvent::Quarantine(c) | TraceEvent::Release(c) => {
            c.codes.clone()
        }
        TraceEvent::Decommission(d) => d.codes.clone(),
        TraceEvent::UndoDecommission(u) => u.codes.clone(),
        TraceEvent::Install(d)
        | TraceEvent::Service(d)
        | TraceEvent::Implant(d)
        | TraceEvent::Explant(d) => vec![d.code.clone()],
        TraceEvent::Disposition(d) => d.codes.clone(),
        TraceEvent::Recall(_) | TraceEvent::Acknowledge(_) => vec![],
    }
}

/// True when `caller` may see `envelope`: regulators see every event; recalls are
/// public to members; otherwise the acting or receiving organisation, or the brand
/// owner of a unit it names.
pub fn visible(caller: &Caller, envelope: &Envelope, parsed: Option<&TraceEvent>) -> bool {
    if caller.is_regulator() || envelope.org() == &caller.org {
        return true;
    }
    match parsed {
        Some(TraceEvent::Recall(_)) => true,
        Some(TraceEvent::Ship(s)) if s.to == caller.org => true,
        Some(e) => codes_of(e).iter().any(|c| caller.owns(c)),
        None => false,
    }
}

/// The API view of a stored event in `block`.
pub fn event_of(record: &EventRecord, block: &Block, via: Option<&Code>) -> Event {
    let env = &record.envelope;
    let parsed = TraceEvent::parse(env.kind(), env.payload()).ok();
    let cbv = parsed.as_ref().map(TraceEvent::cbv);
    let proof = merkle::prove(&block.ids(), record.index as usize)
        .and_then(|p| serde_json::to_value(p).ok())
        .unwrap_or_default();
    let mut payload = env.payload().clone();
    if let Some(o) = payload.as_object_mut() {
        o.remove("patient");
    }
    Event {
        id: ID(env.id().to_hex()),
        module: env.module().to_string(),
        kind: env.kind().to_string(),
        biz_step: cbv.map_or("other", |c| c.step).to_string(),
        disposition: cbv.map_or("unknown", |c| c.disposition).to_string(),
        org: env.org().to_string(),
        actor: env.actor().to_string(),
        block_height: record.height,
        index: record.index,
        time: block.header.time,
        block_hash: block.header.hash().to_hex(),
        merkle_root: block.header.merkle_root.to_hex(),
        proof: Json(proof),
        via: via.map(ToString::to_string),
        codes: parsed
            .as_ref()
            .map(|e| codes_of(e).iter().map(ToString::to_string).collect())
            .unwrap_or_default(),
        payload: Json(payload),
        refused: record.result.clone(),
    }
}

/// Blocks read once per request.
#[derive(Default)]
pub struct Blocks(HashMap<u64, Block>);

impl Blocks {
    /// The block at `height`.
    pub fn get(&mut self, ledger: &Ledger, height: u64) -> async_graphql::Result<&Block> {
        match self.0.entry(height) {
            std::collections::hash_map::Entry::Occupied(e) => Ok(e.into_mut()),
            std::collections::hash_map::Entry::Vacant(slot) => {
                let block = ledger
                    .block(height)
                    .map_err(internal)?
                    .ok_or_else(|| internal(format!("block {height} is missing")))?;
                Ok(slot.insert(block))
            }
        }
    }
}

/// Filters of the `events` query and subscription.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only events naming this unit.
    pub code: Option<Code>,
    /// Only this CBV business step.
    pub biz_step: Option<String>,
    /// Only events of this organisation.
    pub org: Option<String>,
    /// Block time at or after, Unix ms.
    pub since: Option<i64>,
    /// Block time before, Unix ms.
    pub until: Option<i64>,
}

impl Filter {
    /// True when `e` passes (the code filter is applied by the caller of this).
    pub fn keeps(&self, e: &Event) -> bool {
        self.biz_step.as_ref().is_none_or(|s| &e.biz_step == s)
            && self.org.as_ref().is_none_or(|o| &e.org == o)
            && self.since.is_none_or(|t| e.time >= t)
            && self.until.is_none_or(|t| e.time < t)
            && self
                .code
                .as_ref()
                .is_none_or(|c| e.codes.iter().any(|x| x == &c.to_string()))
    }
}

/// A position on the chain: block height and index in the block.
pub type Pos = (u64, u32);

/// Reads a cursor `HEIGHT:INDEX`.
pub fn read_cursor(s: &str) -> async_graphql::Result<Pos> {
    let bad = || {
        error(
            BAD_INPUT,
            "a cursor is the endCursor of a previous page, `HEIGHT:INDEX`",
        )
    };
    let (h, i) = s.split_once(':').ok_or_else(bad)?;
    Ok((h.parse().map_err(|_| bad())?, i.parse().map_err(|_| bad())?))
}

/// A cursor's text.
pub fn cursor(pos: Pos) -> String {
    format!("{}:{}", pos.0, pos.1)
}

/// One page: the events and, when there may be more, where to go on from.
pub struct Page {
    /// Events, oldest first, with their positions.
    pub events: Vec<(Pos, Event)>,
    /// Where the next page starts after, when there may be more.
    pub next: Option<Pos>,
}

/// Events after `after` that pass `filter` and that `caller` may see, oldest first.
pub fn page(
    ledger: &Ledger,
    caller: &Caller,
    filter: &Filter,
    after: Option<Pos>,
    first: usize,
) -> async_graphql::Result<Page> {
    let mut blocks = Blocks::default();
    let mut out = Vec::new();
    let by_index_code = filter.code.clone();
    // Events found through a unit's index are about it (an `unpack` of everything names
    // only the container), so the code filter is the index itself.
    let by_index = Filter {
        code: None,
        ..filter.clone()
    };
    let filter = if filter.code.is_some() {
        &by_index
    } else {
        filter
    };
    let keep = |rec: &EventRecord, block: &Block| {
        let parsed = TraceEvent::parse(rec.envelope.kind(), rec.envelope.payload()).ok();
        if !visible(caller, &rec.envelope, parsed.as_ref()) {
            return None;
        }
        let e = event_of(rec, block, None);
        filter.keeps(&e).then_some(e)
    };
    if let Some(code) = &by_index_code {
        let records = ledger
            .events_by_key(&trace::state::index_key(code), trace::MAX_EVENTS)
            .map_err(internal)?;
        for rec in records {
            let pos = (rec.height, rec.index);
            if after.is_some_and(|a| pos <= a) {
                continue;
            }
            if out.len() == first {
                let last = out.last().map(|(p, _)| *p);
                return Ok(Page {
                    events: out,
                    next: last,
                });
            }
            let block = blocks.get(ledger, rec.height)?;
            if let Some(e) = keep(&rec, block) {
                out.push((pos, e));
            }
        }
        return Ok(Page {
            events: out,
            next: None,
        });
    }
    let head = ledger.head().height;
    let start = after.map_or(0, |a| a.0);
    let end = head.min(start.saturating_add(MAX_BLOCKS_PER_PAGE));
    for height in start..=end {
        let block = blocks.get(ledger, height)?.clone();
        for (index, env) in block.events.iter().enumerate() {
            let pos = (height, index as u32);
            if after.is_some_and(|a| pos <= a) {
                continue;
            }
            if out.len() == first {
                let last = out.last().map(|(p, _)| *p);
                return Ok(Page {
                    events: out,
                    next: last,
                });
            }
            let rec = EventRecord {
                envelope: env.clone(),
                height,
                index: index as u32,
                result: None,
            };
            if let Some(mut e) = keep(&rec, &block) {
                e.refused = ledger
                    .event(&env.id())
                    .map_err(internal)?
                    .and_then(|r| r.result);
                out.push((pos, e));
            }
        }
    }
    let next = (end < head).then_some((end, u32::MAX));
    Ok(Page { events: out, next })
}
