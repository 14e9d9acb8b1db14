//! The audit: re-hash every stored event and block, check the chain links, every
//! signature (strictly, one by one) and every Merkle root, replay all module state from
//! genesis and compare results, state digests, the final state and the item index with
//! what is stored. Every fault names the block height and, where it applies, the event.

use crate::apply::{self, ChainState};
use crate::block::{Block, BlockHeader, RawBlock, id_key};
use crate::envelope::Envelope;
use crate::hash::{BlockHash, Digest, sha256};
use crate::keys::Signature;
use crate::module::Modules;
use crate::state::MemState;
use crate::store::{Store, StoreError};
use serde::Serialize;

/// One thing found wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditFault {
    /// Stable code, e.g. `BAD_MERKLE_ROOT`.
    pub code: String,
    /// The block it hits.
    pub height: Option<u64>,
    /// The event it hits (hex id of the stored bytes), if any.
    pub event: Option<String>,
    /// What is wrong.
    pub message: String,
}

/// The audit's findings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditReport {
    /// Blocks checked.
    pub blocks: u64,
    /// Events checked.
    pub events: u64,
    /// Height of the head block checked.
    pub head_height: Option<u64>,
    /// Hash of the head block, as recomputed.
    pub head_hash: Option<BlockHash>,
    /// Everything found wrong; empty when all holds.
    pub faults: Vec<AuditFault>,
}

impl AuditReport {
    /// True when nothing was found wrong.
    pub fn ok(&self) -> bool {
        self.faults.is_empty()
    }
}

struct Faults(Vec<AuditFault>);

impl Faults {
    fn add(
        &mut self,
        code: &str,
        height: Option<u64>,
        event: Option<String>,
        message: impl Into<String>,
    ) {
        self.0.push(AuditFault {
            code: code.into(),
            height,
            event,
            message: message.into(),
        });
    }
}

/// Audits everything in `store`, replaying with `modules`.
pub fn audit(store: &dyn Store, modules: &Modules) -> Result<AuditReport, StoreError> {
    let mut faults = Faults(Vec::new());
    let mut report = AuditReport {
        blocks: 0,
        events: 0,
        head_height: None,
        head_hash: None,
        faults: vec![],
    };
    let head = match store.head() {
        Ok(Some(h)) => h,
        Ok(None) => {
            faults.add("NO_CHAIN", None, None, "the store holds no blocks");
            report.faults = faults.0;
            return Ok(report);
        }
        Err(StoreError::Corrupt(m)) => {
            faults.add("BAD_HEAD", None, None, m);
            report.faults = faults.0;
            return Ok(report);
        }
        Err(e) => return Err(e),
    };
    let mut mem = MemState::default();
    let mut chain = ChainState::empty();
    let mut expected_index = Vec::new();
    let mut replayable = true;
    for height in 0..=head.height {
        let Some(raw) = store.raw_block(height)? else {
            faults.add("MISSING_BLOCK", Some(height), None, "the block is missing");
            replayable = false;
            break;
        };
        let Some(block) = parse_block(&raw, chain.head.map_or(0, |h| h.next_seq), &mut faults)
        else {
            replayable = false;
            break;
        };
        check_signatures(&chain, &block, &mut faults);
        report.events += block.events.len() as u64;
        let stored_results: Vec<Option<String>> =
            raw.events.iter().map(|e| e.result.clone()).collect();
        match apply::apply_block(&mem, modules, &chain, block, &[]) {
            Ok((applied, next)) => {
                for (i, (replayed, stored)) in
                    applied.results().iter().zip(&stored_results).enumerate()
                {
                    if replayed != stored {
                        let id = applied.block().events[i].id();
                        faults.add(
                            "RESULT_MISMATCH",
                            Some(height),
                            Some(id.to_hex()),
                            format!("replay gives {replayed:?}, the store says {stored:?}"),
                        );
                    }
                }
                if applied.state_digest().as_bytes().as_slice() != raw.state_digest.as_slice() {
                    faults.add(
                        "STATE_DIGEST_MISMATCH",
                        Some(height),
                        None,
                        "the state digest after replaying this block differs from the stored one",
                    );
                }
                // Blocks stored before stores kept Merkle nodes have none; they prove
                // from the whole block, so only nodes that are there can be wrong.
                if raw.tree.as_deref().is_some_and(|t| t != applied.tree()) {
                    faults.add(
                        "TREE_MISMATCH",
                        Some(height),
                        None,
                        "the stored Merkle nodes differ from the tree over the block's events",
                    );
                }
                mem.apply(applied.writes());
                expected_index.extend_from_slice(applied.index());
                report.head_hash = Some(applied.hash());
                report.head_height = Some(height);
                chain = next;
            }
            Err(apply::ApplyError::Fault(f)) => {
                faults.add(f.code, Some(f.height), None, f.message);
                replayable = false;
                break;
            }
            Err(apply::ApplyError::Store(e)) => return Err(e),
        }
        report.blocks += 1;
    }
    if replayable {
        if chain.head != Some(head) {
            faults.add(
                "BAD_HEAD",
                Some(head.height),
                None,
                "the stored chain head differs from the replayed one",
            );
        }
        compare_state(store, &mem, &mut faults)?;
        expected_index.sort_unstable();
        expected_index.dedup();
        if store.index_entries()? != expected_index {
            faults.add(
                "INDEX_MISMATCH",
                None,
                None,
                "the stored item index differs from the replayed one",
            );
        }
    } else {
        faults.add(
            "REPLAY_STOPPED",
            None,
            None,
            "replay stopped at the first unreadable block; state was not compared",
        );
    }
    report.faults = faults.0;
    Ok(report)
}

fn parse_block(raw: &RawBlock, expected_seq: u64, faults: &mut Faults) -> Option<Block> {
    let h = Some(raw.height);
    let header: BlockHeader = match serde_json::from_slice(&raw.header) {
        Ok(hd) => hd,
        Err(e) => {
            faults.add(
                "BAD_HEADER",
                h,
                None,
                format!("the header does not parse: {e}"),
            );
            return None;
        }
    };
    if header.canonical_bytes() != raw.header {
        faults.add(
            "BAD_HEADER",
            h,
            None,
            "the stored header is not in canonical form",
        );
        return None;
    }
    if header.height != raw.height {
        faults.add(
            "BAD_HEIGHT",
            h,
            None,
            format!("the header says height {}", header.height),
        );
        return None;
    }
    if sha256(&raw.header).as_bytes().as_slice() != raw.hash.as_slice() {
        faults.add(
            "BAD_BLOCK_HASH",
            h,
            None,
            "the stored block hash is not the hash of the header",
        );
    }
    let Some(signature) = Signature::from_slice(&raw.signature) else {
        faults.add(
            "BAD_ORDERER_SIGNATURE",
            h,
            None,
            "the stored orderer signature is not 64 bytes",
        );
        return None;
    };
    if raw.first_seq != expected_seq
        || raw.events.len() != header.event_count as usize
        || raw.event_count != header.event_count as u64
    {
        faults.add(
            "BAD_EVENT_RANGE",
            h,
            None,
            format!(
                "expected {} events from sequence {expected_seq}, found {} from {}",
                header.event_count,
                raw.events.len(),
                raw.first_seq
            ),
        );
        return None;
    }
    let mut events = Vec::with_capacity(raw.events.len());
    let mut ok = true;
    for (i, e) in raw.events.iter().enumerate() {
        let id = Digest(sha256(&e.body).0).to_hex();
        if e.seq != expected_seq + i as u64 || e.height != raw.height {
            faults.add(
                "BAD_EVENT_PLACE",
                h,
                Some(id.clone()),
                "the event's stored sequence or height is wrong",
            );
        }
        let Some(sig) = Signature::from_slice(&e.signature) else {
            faults.add(
                "BAD_SIGNATURE",
                h,
                Some(id),
                "the stored signature is not 64 bytes",
            );
            ok = false;
            continue;
        };
        match Envelope::from_stored(e.body.clone(), sig) {
            Ok(env) => {
                if id_key(&env.id()) != e.id_key {
                    faults.add(
                        "BAD_ID_KEY",
                        h,
                        Some(id),
                        "the stored id key does not match the event id",
                    );
                }
                events.push(env);
            }
            Err(r) => {
                faults.add(&r.code, h, Some(id), r.message);
                ok = false;
            }
        }
    }
    ok.then_some(Block {
        header,
        signature,
        events,
    })
}

/// Strict per-event signature check against the directory at the start of the block;
/// actors added within the block are checked by the replay itself.
fn check_signatures(chain: &ChainState, block: &Block, faults: &mut Faults) {
    for e in &block.events {
        if let Some((_, _, actor)) = chain.directory.actor(e.actor())
            && !actor.public_key.verify(e.bytes(), e.signature())
        {
            faults.add(
                "BAD_SIGNATURE",
                Some(block.header.height),
                Some(e.id().to_hex()),
                "the signature does not verify with the actor's key",
            );
        }
    }
}

fn compare_state(store: &dyn Store, mem: &MemState, faults: &mut Faults) -> Result<(), StoreError> {
    let stored = store.state_entries()?;
    let mut reported = 0;
    let mut replayed = mem.entries.iter();
    let mut stored_iter = stored.iter();
    let (mut a, mut b) = (replayed.next(), stored_iter.next());
    while (a.is_some() || b.is_some()) && reported < 20 {
        match (a, b) {
            (Some((ka, va)), Some((kb, vb))) if ka == kb => {
                if va != vb {
                    state_fault(
                        faults,
                        "STATE_MISMATCH",
                        ka,
                        "the stored value differs from the replayed one",
                    );
                    reported += 1;
                }
                a = replayed.next();
                b = stored_iter.next();
            }
            (Some((ka, _)), Some((kb, _))) if ka < kb => {
                state_fault(
                    faults,
                    "STATE_MISSING",
                    ka,
                    "replay has this entry, the store does not",
                );
                reported += 1;
                a = replayed.next();
            }
            (Some((ka, _)), None) => {
                state_fault(
                    faults,
                    "STATE_MISSING",
                    ka,
                    "replay has this entry, the store does not",
                );
                reported += 1;
                a = replayed.next();
            }
            (_, Some((kb, _))) => {
                state_fault(
                    faults,
                    "STATE_EXTRA",
                    kb,
                    "the store has this entry, replay does not",
                );
                reported += 1;
                b = stored_iter.next();
            }
            (None, None) => break,
        }
    }
    Ok(())
}

fn state_fault(faults: &mut Faults, code: &str, (module, key): &(String, Vec<u8>), message: &str) {
    // Keys are identifiers, not personal data; still, show them shortened and in hex.
    let shown: String = hex::encode(&key[..key.len().min(24)]);
    faults.add(
        code,
        None,
        None,
        format!("{message} (module {module}, key {shown})"),
    );
}
