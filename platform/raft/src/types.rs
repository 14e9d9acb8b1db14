//! What openraft is configured with: a log entry carries one sealed block, a node is a
//! consortium peer (its raft id derived from its peer id), and applying an entry answers
//! with the block's receipt or why it was skipped.

use ledger::{Block, BlockHash, EventId, PeerId};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};
use std::io::Cursor;

/// A raft node id: derived from the peer id, see [`node_id`].
pub type NodeId = u64;

openraft::declare_raft_types!(
    /// Pedigree's raft types.
    pub TypeConfig:
        D = Proposal,
        R = Outcome,
        NodeId = NodeId,
        Node = PeerNode,
        Entry = openraft::Entry<TypeConfig>,
        SnapshotData = Cursor<Vec<u8>>,
        AsyncRuntime = openraft::TokioRuntime,
);

/// The running raft of one peer.
pub type Raft = openraft::Raft<TypeConfig>;
/// A log entry.
pub type Entry = openraft::Entry<TypeConfig>;
/// Errors of a storage call.
pub type StorageError = openraft::StorageError<NodeId>;
/// A log id.
pub type LogId = openraft::LogId<NodeId>;
/// Membership as stored with the log id that set it.
pub type StoredMembership = openraft::StoredMembership<NodeId, PeerNode>;
/// A snapshot's metadata.
pub type SnapshotMeta = openraft::SnapshotMeta<NodeId, PeerNode>;
/// A snapshot.
pub type Snapshot = openraft::Snapshot<TypeConfig>;

/// The raft node id of a peer: the first 8 bytes of SHA-256 over its id, so every peer
/// computes the same id for every other peer from the consortium config alone.
pub fn node_id(peer: &PeerId) -> NodeId {
    let digest = Sha256::digest(format!("pedigree raft node/{peer}").as_bytes());
    u64::from_be_bytes(digest[..8].try_into().expect("32 >= 8"))
}

/// A raft member: the consortium peer it is. Its address is looked up in the consortium
/// config (or the peer's overrides) whenever it is called, so a peer that moved is
/// reached at its new address.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerNode {
    /// The peer id.
    pub peer: String,
}

impl PeerNode {
    /// The node for `peer`.
    pub fn new(peer: &PeerId) -> Self {
        Self {
            peer: peer.as_str().to_string(),
        }
    }
}

/// What the leader proposes: a block it sealed. Every node applies it through
/// `Ledger::commit_block`, which checks it completely.
#[derive(Debug, Clone, PartialEq)]
pub struct Proposal(pub Block);

impl Serialize for Proposal {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.to_json_value().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Proposal {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        Block::from_json_value(value)
            .map(Proposal)
            .map_err(serde::de::Error::custom)
    }
}

/// What applying one entry gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    /// A blank or membership entry: nothing for the ledger.
    Nothing,
    /// The block was committed (now, or earlier by catch-up).
    Committed {
        /// Its height.
        height: u64,
        /// Its hash.
        hash: BlockHash,
        /// Each event's id and, when it was refused at apply, the code.
        results: Vec<(EventId, Option<String>)>,
    },
    /// The block was not applied; every node skips it the same way.
    Skipped {
        /// Stable code: `STALE_BLOCK` when it no longer extends the chain (ordered
        /// before a change of leader), else the block fault's code.
        code: String,
        /// What happened.
        message: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_ids_are_stable_and_distinct() {
        let a = PeerId::new("acme-pharma-peer").unwrap();
        let b = PeerId::new("northwind-peer").unwrap();
        assert_eq!(node_id(&a), node_id(&a.clone()));
        assert_ne!(node_id(&a), node_id(&b));
    }
}
