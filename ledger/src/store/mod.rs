//! The `Store` trait: blocks, events, module state, the item index and the chain head,
//! with a block and all its state changes committed in one transaction. Implementations:
//! [`sqlite::SqliteStore`] here (embedded default); PostgreSQL lives in its own crate.

pub mod cache;
pub mod sqlite;

use crate::block::{Block, RawBlock, RawEvent};
use crate::hash::{BlockHash, Digest};
use crate::module::Notification;
use crate::state::{ModuleEntries, StateSource, Writes};

/// A store failure. Codes are stable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The database refused or failed an operation.
    #[error("STORE_FAILED: {0}")]
    Backend(String),
    /// The block does not extend the stored head (wrong height or previous hash).
    #[error("BLOCK_CONFLICT: {0}")]
    Conflict(String),
    /// Stored data could not be read back as what it should be.
    #[error("STORE_CORRUPT: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Backend(_) => "STORE_FAILED",
            Self::Conflict(_) => "BLOCK_CONFLICT",
            Self::Corrupt(_) => "STORE_CORRUPT",
        }
    }
}

/// Where the chain stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainHead {
    /// Height of the last block.
    pub height: u64,
    /// Its hash.
    pub hash: BlockHash,
    /// Its time.
    pub time: i64,
    /// Sequence number the next event gets.
    pub next_seq: u64,
    /// Running digest of all state writes so far.
    pub state_digest: Digest,
}

/// A block after its events were applied: everything a store writes for it in one
/// transaction. Only the ledger makes these, from a checked block.
#[derive(Debug, Clone)]
pub struct AppliedBlock {
    pub(crate) block: Block,
    pub(crate) hash: BlockHash,
    pub(crate) first_seq: u64,
    pub(crate) results: Vec<Option<String>>,
    pub(crate) writes: Writes,
    pub(crate) index: Vec<(i64, u64)>,
    pub(crate) state_digest: Digest,
    pub(crate) notifications: Vec<Notification>,
    pub(crate) tree: Vec<u8>,
}

impl AppliedBlock {
    /// The block.
    pub fn block(&self) -> &Block {
        &self.block
    }
    /// Its hash.
    pub fn hash(&self) -> BlockHash {
        self.hash
    }
    /// Sequence number of its first event.
    pub fn first_seq(&self) -> u64 {
        self.first_seq
    }
    /// Per event: `None` when applied, or the rejection code.
    pub fn results(&self) -> &[Option<String>] {
        &self.results
    }
    /// State changes (`None` deletes).
    pub fn writes(&self) -> &Writes {
        &self.writes
    }
    /// Item index entries: (index key, event sequence number).
    pub fn index(&self) -> &[(i64, u64)] {
        &self.index
    }
    /// Running state digest after this block.
    pub fn state_digest(&self) -> Digest {
        self.state_digest
    }
    /// Notifications its events raised.
    pub fn notifications(&self) -> &[Notification] {
        &self.notifications
    }
    /// The block's Merkle nodes above the chunks ([`crate::merkle::Tree::upper_levels`]),
    /// kept so that an event proves without reading its whole block.
    pub fn tree(&self) -> &[u8] {
        &self.tree
    }
    /// The head after this block.
    pub fn head(&self) -> ChainHead {
        ChainHead {
            height: self.block.header.height,
            hash: self.hash,
            time: self.block.header.time,
            next_seq: self.first_seq + self.block.events.len() as u64,
            state_digest: self.state_digest,
        }
    }
}

/// An event row with its place in the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocatedEvent {
    /// Height of its block.
    pub height: u64,
    /// Its position in the block.
    pub index: u32,
    /// The stored row.
    pub event: RawEvent,
}

/// What proving one event needs, read in one go: the block's stored header, its size, the
/// stored Merkle nodes above the chunks and the bodies of the events of the chunk around
/// the event (see [`crate::merkle::prove_from_parts`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofParts {
    /// Stored canonical header bytes.
    pub header: Vec<u8>,
    /// Number of events in the block.
    pub event_count: u64,
    /// Stored nodes above the chunks; `None` for a block stored without them, in which
    /// case `bodies` holds every event of the block and `first_index` is 0.
    pub tree: Option<Vec<u8>>,
    /// Position in the block of `bodies[0]`.
    pub first_index: u32,
    /// Stored canonical bytes of the events from `first_index` on.
    pub bodies: Vec<Vec<u8>>,
}

/// Storage sizes, for the storage figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StoreSize {
    /// Bytes the store occupies.
    pub bytes: u64,
}

/// What a ledger keeps. Implementations must commit a block with its state changes and
/// index entries atomically, refuse a block that does not extend the head, and allow
/// concurrent readers while a block is being written.
pub trait Store: StateSource {
    /// The last committed block, or `None` for an empty store.
    fn head(&self) -> Result<Option<ChainHead>, StoreError>;
    /// Writes a block, its events, results, state changes and index entries atomically.
    fn commit(&self, block: &AppliedBlock) -> Result<(), StoreError>;
    /// The stored rows of the block at `height`.
    fn raw_block(&self, height: u64) -> Result<Option<RawBlock>, StoreError>;
    /// Events whose id key is `id_key` (compare the full id: keys may collide).
    fn events_by_id_key(&self, id_key: i64) -> Result<Vec<LocatedEvent>, StoreError>;
    /// Events indexed under `index_key`, oldest first, at most `limit`.
    fn events_by_index_key(
        &self,
        index_key: i64,
        limit: usize,
    ) -> Result<Vec<LocatedEvent>, StoreError>;
    /// Every state entry, in (module, key) order: for the audit.
    fn state_entries(&self) -> Result<ModuleEntries, StoreError>;
    /// Every item index entry, in (key, seq) order: for the audit.
    fn index_entries(&self) -> Result<Vec<(i64, u64)>, StoreError>;
    /// How much space the store takes.
    fn size(&self) -> Result<StoreSize, StoreError>;
    /// What proving event `index` of block `height` needs, or `None` when there is no such
    /// block. Stores should read only the event's chunk; this default reads the whole block.
    fn proof_parts(&self, height: u64, index: u32) -> Result<Option<ProofParts>, StoreError> {
        let _ = index;
        Ok(self.raw_block(height)?.map(|raw| ProofParts {
            header: raw.header,
            event_count: raw.event_count,
            tree: None,
            first_index: 0,
            bodies: raw.events.into_iter().map(|e| e.body).collect(),
        }))
    }
    /// [`Store::proof_parts`] for many events at once, in the order asked. A store behind
    /// a network connection should answer in one round trip; this default asks one by one.
    fn proof_parts_many(
        &self,
        positions: &[(u64, u32)],
    ) -> Result<Vec<Option<ProofParts>>, StoreError> {
        positions
            .iter()
            .map(|&(height, index)| self.proof_parts(height, index))
            .collect()
    }
}
