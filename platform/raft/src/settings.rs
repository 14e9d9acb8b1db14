//! How a peer's raft runs: where its file is, how blocks are cut, how fast it notices a
//! lost leader, how often it snapshots, and addresses that override the consortium's.

use ledger::{CutPolicy, PeerId};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Most blocks the leader has proposed and not yet seen applied.
pub const MAX_INFLIGHT_BLOCKS: usize = 8;

/// A peer's raft settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The raft file (log, vote, bookkeeping).
    pub raft_file: PathBuf,
    /// When the leader cuts a block (also how long a follower gathers events before
    /// forwarding them).
    pub policy: CutPolicy,
    /// Peer addresses that replace the consortium config's (tests, `up --demo`).
    pub endpoints: BTreeMap<PeerId, String>,
    /// Leader heartbeat, milliseconds; also how long a peer has to answer an append.
    pub heartbeat_ms: u64,
    /// A follower that hears no leader for a random time in this range stands for
    /// election, milliseconds.
    pub election_timeout_ms: (u64, u64),
    /// Log entries between snapshots (after which older entries are purged).
    pub snapshot_every: u64,
}

impl Settings {
    /// Defaults with the raft file at `raft_file`.
    pub fn new(raft_file: PathBuf) -> Self {
        Self {
            raft_file,
            policy: CutPolicy::default(),
            endpoints: BTreeMap::new(),
            heartbeat_ms: 200,
            election_timeout_ms: (1000, 2000),
            snapshot_every: 500,
        }
    }

    /// openraft's config (checked by the caller).
    pub fn raft_config(&self) -> openraft::Config {
        openraft::Config {
            cluster_name: "pedigree".into(),
            heartbeat_interval: self.heartbeat_ms,
            election_timeout_min: self.election_timeout_ms.0,
            election_timeout_max: self.election_timeout_ms.1,
            // Blocks are large and an append must be answered within one heartbeat:
            // a few blocks per message.
            max_payload_entries: 4,
            snapshot_policy: openraft::SnapshotPolicy::LogsSinceLast(self.snapshot_every),
            // Entries kept after a snapshot, for peers slightly behind; a peer further
            // behind installs the snapshot and fetches blocks instead.
            max_in_snapshot_log_to_keep: (self.snapshot_every / 4).max(10),
            install_snapshot_timeout: 150_000,
            ..Default::default()
        }
    }
}
