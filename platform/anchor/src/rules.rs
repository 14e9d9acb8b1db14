//! Validate and apply: a digest is anchored at most once.

use crate::events::{AnchorPayload, KIND, MODULE};
use ledger::rejection::codes;
use ledger::{BlockCtx, Effects, Envelope, Module, Rejection, StateTx, StateView};

/// Stable code: the digest is already on the ledger.
pub const ALREADY_ANCHORED: &str = "ALREADY_ANCHORED";

/// The anchor module.
#[derive(Debug, Default, Clone, Copy)]
pub struct Anchor;

pub(crate) fn digest_key(digest: &ledger::Digest) -> Vec<u8> {
    let mut k = Vec::with_capacity(34);
    k.extend_from_slice(b"d/");
    k.extend_from_slice(digest.as_bytes());
    k
}

pub(crate) fn reference_key(reference: &str) -> Vec<u8> {
    format!("anchor-ref:{reference}").into_bytes()
}

fn check(state: &dyn StateView, event: &Envelope) -> Result<AnchorPayload, Rejection> {
    if event.kind() != KIND {
        return Err(Rejection::new(
            codes::UNKNOWN_KIND,
            format!("the anchor module has no event kind {:?}", event.kind()),
        ));
    }
    let p = AnchorPayload::parse(event.payload())?;
    if state.get(&digest_key(&p.digest)).is_some() {
        return Err(Rejection::new(
            ALREADY_ANCHORED,
            format!("digest {} is already anchored", p.digest),
        ));
    }
    Ok(p)
}

impl Module for Anchor {
    fn name(&self) -> &'static str {
        MODULE
    }

    fn validate(&self, state: &dyn StateView, event: &Envelope) -> Result<(), Rejection> {
        check(state, event).map(|_| ())
    }

    fn apply(
        &self,
        state: &mut StateTx<'_>,
        event: &Envelope,
        ctx: &BlockCtx,
    ) -> Result<Effects, Rejection> {
        let p = check(state, event)?;
        // The anchoring event's id; everything else is in the event itself.
        state.put(&digest_key(&p.digest), ctx.event_id.as_bytes().to_vec());
        let index = p.reference.iter().map(|r| reference_key(r)).collect();
        Ok(Effects {
            index,
            notifications: vec![],
        })
    }
}
