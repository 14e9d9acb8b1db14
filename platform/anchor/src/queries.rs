//! Reading anchors back: by digest, and every anchor under one reference.

use crate::events::{AnchorPayload, MODULE};
use crate::rules::{digest_key, reference_key};
use ledger::{Digest, EventId, Ledger, OrgId, StoreError};
use serde::Serialize;

/// An anchored digest and who anchored it, when, where in the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AnchorRecord {
    /// The digest.
    pub digest: Digest,
    /// The anchoring event.
    pub event: EventId,
    /// The organisation that anchored it.
    pub org: OrgId,
    /// Block height.
    pub height: u64,
    /// The reference given, if any.
    pub reference: Option<String>,
    /// The category given, if any.
    pub category: Option<String>,
}

fn record(e: &ledger::EventRecord) -> Option<AnchorRecord> {
    let p = AnchorPayload::parse(e.envelope.payload()).ok()?;
    Some(AnchorRecord {
        digest: p.digest,
        event: e.envelope.id(),
        org: e.envelope.org().clone(),
        height: e.height,
        reference: p.reference,
        category: p.category,
    })
}

/// The anchor of `digest`, if any.
pub fn lookup(ledger: &Ledger, digest: &Digest) -> Result<Option<AnchorRecord>, StoreError> {
    let Some(id) = ledger.read(MODULE, |s| s.get(&digest_key(digest)))? else {
        return Ok(None);
    };
    let id = EventId::from_slice(&id)
        .ok_or_else(|| StoreError::Corrupt("an anchor's event id is not 32 bytes".into()))?;
    let event = ledger
        .event(&id)?
        .ok_or_else(|| StoreError::Corrupt(format!("anchoring event {id} is missing")))?;
    Ok(record(&event).filter(|r| r.digest == *digest))
}

/// Every applied anchor under `reference`, oldest first, at most `limit`.
pub fn by_reference(
    ledger: &Ledger,
    reference: &str,
    limit: usize,
) -> Result<Vec<AnchorRecord>, StoreError> {
    Ok(ledger
        .events_by_key(&reference_key(reference), limit)?
        .iter()
        .filter(|e| e.result.is_none() && e.envelope.module().as_str() == MODULE)
        .filter_map(record)
        .filter(|r| r.reference.as_deref() == Some(reference))
        .collect())
}
