//! Blocks: a header (height, previous hash, Merkle root of event ids, block time,
//! orderer) signed by the orderer, and the events in order. The block hash is the SHA-256
//! of the header's RFC 8785 canonical JSON; the orderer signs those same bytes.

use crate::envelope::{Envelope, VerifiedEnvelope};
use crate::hash::{BlockHash, Digest, EventId, sha256};
use crate::ids::PeerId;
use crate::keys::{SecretKey, Signature};
use crate::merkle;
use serde::{Deserialize, Serialize};

/// The signed part of a block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockHeader {
    /// 0 for genesis, then +1 per block.
    pub height: u64,
    /// Hash of the block before (all zeros for genesis).
    pub previous: BlockHash,
    /// RFC 6962 Merkle root of the event ids, in block order.
    pub merkle_root: Digest,
    /// Number of events (the Merkle tree's size).
    pub event_count: u32,
    /// Block time, Unix milliseconds: the only clock modules see.
    pub time: i64,
    /// The peer that ordered it.
    pub orderer: PeerId,
}

impl BlockHeader {
    /// The canonical bytes that are hashed and signed.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        serde_json_canonicalizer::to_vec(self).expect("a header always serialises")
    }

    /// The block hash.
    pub fn hash(&self) -> BlockHash {
        BlockHash(sha256(&self.canonical_bytes()).0)
    }
}

/// A block as ordered or received: header, orderer signature, events.
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    /// The header.
    pub header: BlockHeader,
    /// The orderer's signature over the header's canonical bytes.
    pub signature: Signature,
    /// The events, in order.
    pub events: Vec<Envelope>,
}

impl Block {
    /// Orders `events` into a signed block after `previous`.
    pub fn seal(
        height: u64,
        previous: BlockHash,
        time: i64,
        orderer: PeerId,
        key: &SecretKey,
        events: Vec<Envelope>,
    ) -> Self {
        let ids: Vec<EventId> = events.iter().map(|e| e.id()).collect();
        let header = BlockHeader {
            height,
            previous,
            merkle_root: merkle::root(&ids),
            event_count: events.len() as u32,
            time,
            orderer,
        };
        let signature = key.sign(&header.canonical_bytes());
        Self {
            header,
            signature,
            events,
        }
    }

    /// The block hash.
    pub fn hash(&self) -> BlockHash {
        self.header.hash()
    }

    /// The event ids in order.
    pub fn ids(&self) -> Vec<EventId> {
        self.events.iter().map(|e| e.id()).collect()
    }

    /// The JSON form sent between peers.
    pub fn to_json_value(&self) -> serde_json::Value {
        serde_json::json!({
            "header": self.header,
            "hash": self.hash(),
            "signature": self.signature,
            "events": self.events.iter().map(|e| e.to_json_value()).collect::<Vec<_>>(),
        })
    }

    /// Reads a block from its JSON form. Only the shape is checked here; whether it
    /// extends a chain, its Merkle root and every signature are checked when it is
    /// committed. A `hash` field, if present, must match the header.
    pub fn from_json_value(value: serde_json::Value) -> Result<Self, crate::rejection::Rejection> {
        use crate::rejection::Rejection;
        let bad = |m: String| Rejection::new("MALFORMED_BLOCK", m);
        let serde_json::Value::Object(mut map) = value else {
            return Err(bad("a block is a JSON object".into()));
        };
        let header: BlockHeader = serde_json::from_value(map.remove("header").unwrap_or_default())
            .map_err(|e| bad(format!("header: {e}")))?;
        let signature: Signature =
            serde_json::from_value(map.remove("signature").unwrap_or_default())
                .map_err(|e| bad(format!("signature: {e}")))?;
        if let Some(hash) = map.remove("hash") {
            let hash: BlockHash =
                serde_json::from_value(hash).map_err(|e| bad(format!("hash: {e}")))?;
            if hash != header.hash() {
                return Err(bad("the block's hash does not match its header".into()));
            }
        }
        let events = match map.remove("events") {
            Some(serde_json::Value::Array(items)) => items
                .into_iter()
                .map(Envelope::from_value)
                .collect::<Result<Vec<_>, _>>()?,
            _ => return Err(bad("events must be an array".into())),
        };
        if let Some(extra) = map.keys().next() {
            return Err(bad(format!("unexpected field {extra:?}")));
        }
        Ok(Self {
            header,
            signature,
            events,
        })
    }
}

/// A block made by this peer's own orderer from events that passed admission, so their
/// signatures were already checked.
#[derive(Debug, Clone)]
pub struct ProposedBlock {
    pub(crate) block: Block,
}

impl ProposedBlock {
    /// Seals admitted events into a block.
    pub fn seal(
        height: u64,
        previous: BlockHash,
        time: i64,
        orderer: PeerId,
        key: &SecretKey,
        events: Vec<VerifiedEnvelope>,
    ) -> Self {
        let events = events
            .into_iter()
            .map(VerifiedEnvelope::into_inner)
            .collect();
        Self {
            block: Block::seal(height, previous, time, orderer, key, events),
        }
    }

    /// The block.
    pub fn block(&self) -> &Block {
        &self.block
    }
}

/// A block and the rows a store keeps for it, as read back (possibly damaged): what the
/// audit and readers parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawBlock {
    /// Height.
    pub height: u64,
    /// Stored block hash.
    pub hash: Vec<u8>,
    /// Stored canonical header bytes.
    pub header: Vec<u8>,
    /// Stored orderer signature.
    pub signature: Vec<u8>,
    /// Stored running state digest after this block.
    pub state_digest: Vec<u8>,
    /// Sequence number of the first event (events are numbered across the chain).
    pub first_seq: u64,
    /// Stored number of events.
    pub event_count: u64,
    /// Stored Merkle nodes above the chunks (`None` for blocks stored without them).
    pub tree: Option<Vec<u8>>,
    /// The events.
    pub events: Vec<RawEvent>,
}

/// One stored event row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawEvent {
    /// Chain-wide sequence number.
    pub seq: u64,
    /// Stored height of its block.
    pub height: u64,
    /// Canonical signed bytes.
    pub body: Vec<u8>,
    /// Signature bytes.
    pub signature: Vec<u8>,
    /// Result code when the event was refused at apply.
    pub result: Option<String>,
    /// Stored lookup key derived from the id.
    pub id_key: i64,
}

/// The stored lookup key for an event id (its first 8 bytes as a signed integer).
pub fn id_key(id: &EventId) -> i64 {
    i64::from_be_bytes(id.0[..8].try_into().expect("32 >= 8"))
}

/// The stored lookup key for a module index key.
pub fn index_key(key: &[u8]) -> i64 {
    i64::from_be_bytes(sha256(key).0[..8].try_into().expect("32 >= 8"))
}
