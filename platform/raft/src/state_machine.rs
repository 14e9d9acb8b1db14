//! The raft state machine is the ledger. Applying an entry commits its block through
//! `Ledger::commit_block` when the block extends the local head; a block that does not
//! (ordered before a change of leader, or refused by the checks) is skipped the same way
//! on every node, so every ledger holds the same chain. Re-applying an entry after a
//! restart is harmless: a block the ledger already holds is recognised and skipped.
//!
//! A snapshot is only the ledger head (height, hash) and the peer that made it: a peer
//! installing one fetches the blocks it lacks from other peers (see [`crate::catchup`]).

use crate::catchup::{self, CatchUpError, Fetch};
use crate::db::{RaftDb, keys};
use crate::types::{
    Entry, LogId, Outcome, Snapshot, SnapshotMeta, StorageError, StoredMembership, TypeConfig,
};
use ledger::{Block, BlockHash, Ledger, LedgerError, PeerId};
use openraft::storage::RaftStateMachine;
use openraft::{AnyError, EntryPayload, OptionalSend, RaftSnapshotBuilder, StorageIOError};
use serde::{Deserialize, Serialize};
use std::io::Cursor;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Code of an entry skipped because its block no longer extends the chain.
pub const STALE_BLOCK: &str = "STALE_BLOCK";
/// How long one round of fetching missing blocks may take before it is logged and tried
/// again (no peer had them, or none answered).
pub const CATCH_UP_ROUND: Duration = Duration::from_secs(5);

/// What a snapshot holds: the ledger head it stands for and who made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotData {
    /// Height of the ledger head.
    pub height: u64,
    /// Its hash.
    pub hash: BlockHash,
    /// The peer that made the snapshot (it holds those blocks).
    pub source: PeerId,
}

#[derive(Serialize, Deserialize)]
struct StoredSnapshot {
    meta: SnapshotMeta,
    data: SnapshotData,
}

/// The state machine: the ledger plus bookkeeping in the raft file.
#[derive(Clone)]
pub struct StateMachine {
    ledger: Arc<Ledger>,
    db: RaftDb,
    me: PeerId,
    fetch: Arc<dyn Fetch>,
    stopping: Arc<AtomicBool>,
}

impl StateMachine {
    /// The state machine over `ledger`, fetching missing blocks through `fetch`; a fetch
    /// that cannot finish gives up only once `stopping` is set.
    pub fn new(
        ledger: Arc<Ledger>,
        db: RaftDb,
        me: PeerId,
        fetch: Arc<dyn Fetch>,
        stopping: Arc<AtomicBool>,
    ) -> Self {
        Self {
            ledger,
            db,
            me,
            fetch,
            stopping,
        }
    }

    fn applied(&self) -> Result<(Option<LogId>, StoredMembership), StorageError> {
        let applied = self.db.get::<Option<LogId>>(keys::APPLIED)?.flatten();
        let membership = self.db.get(keys::MEMBERSHIP)?.unwrap_or_default();
        Ok((applied, membership))
    }

    /// The peers to fetch from, `first` (when known) before the others.
    fn sources(&self, first: Option<&PeerId>) -> Vec<PeerId> {
        let consortium = self.ledger.consortium();
        let mut peers: Vec<PeerId> = first.cloned().into_iter().collect();
        for p in &consortium.peers {
            if p.id != self.me && Some(&p.id) != first {
                peers.push(p.id.clone());
            }
        }
        peers
    }

    /// Fetches blocks until the ledger reaches `target`. The raft log says they exist, so
    /// a round that finds no peer holding them (all down, or all behind) is logged and
    /// tried again rather than failing: a storage error would stop this peer's raft for
    /// good, while the peers that hold the blocks may be back in a moment. Only a local
    /// store failure or shutting down ends it.
    fn catch_up(&self, target: u64, first: Option<&PeerId>) -> Result<(), StorageError> {
        let peers = self.sources(first);
        let mut fetched = 0;
        loop {
            let deadline = Instant::now() + CATCH_UP_ROUND;
            match catchup::catch_up(&self.ledger, self.fetch.as_ref(), &peers, target, deadline) {
                Ok(n) => {
                    fetched += n;
                    break;
                }
                Err(CatchUpError::NoSource { height, last }) => {
                    if self.stopping.load(Ordering::SeqCst) {
                        return Err(StorageIOError::write_state_machine(AnyError::error(
                            "stopped while fetching missing blocks",
                        ))
                        .into());
                    }
                    tracing::warn!(
                        height,
                        target,
                        last = %last,
                        "no peer provided the missing blocks yet; trying again"
                    );
                }
                Err(e @ CatchUpError::Store(_)) => {
                    tracing::error!(error = %e, target, "catch-up failed on the local store");
                    return Err(StorageIOError::write_state_machine(AnyError::new(&e)).into());
                }
            }
        }
        if fetched > 0 {
            tracing::info!(
                blocks = fetched,
                head = self.ledger.head().height,
                "caught up from other peers"
            );
        }
        Ok(())
    }

    /// Applies one block entry.
    fn apply_block(&self, log_id: &LogId, block: Block) -> Result<Outcome, StorageError> {
        let height = block.header.height;
        let head = self.ledger.head();
        if height > head.height + 1 {
            // The ledger is behind the log (a snapshot was installed): fill the gap first.
            self.catch_up(height - 1, Some(&block.header.orderer))?;
            return self.apply_block(log_id, block);
        }
        if height <= head.height {
            let held = self
                .ledger
                .store()
                .raw_block(height)
                .map_err(|e| StorageIOError::read_state_machine(AnyError::new(&e)))?;
            let hash = block.hash();
            if held.is_some_and(|raw| raw.hash == hash.0) {
                return Ok(Outcome::Committed {
                    height,
                    hash,
                    results: Vec::new(),
                });
            }
            return Ok(stale(height));
        }
        if block.header.previous != head.hash {
            return Ok(stale(height));
        }
        match self.ledger.commit_block(block) {
            Ok(notice) => Ok(Outcome::Committed {
                height: notice.height,
                hash: notice.hash,
                results: notice.results.clone(),
            }),
            Err(LedgerError::Block(fault)) => {
                tracing::warn!(
                    code = fault.code,
                    height,
                    log_index = log_id.index,
                    "a block in the raft log does not verify; skipped on every peer"
                );
                Ok(Outcome::Skipped {
                    code: fault.code.to_string(),
                    message: fault.to_string(),
                })
            }
            Err(e) => {
                tracing::error!(error = %e, height, "committing a replicated block failed");
                Err(StorageIOError::apply(*log_id, AnyError::new(&e)).into())
            }
        }
    }

    fn snapshot_now(&self) -> Result<Snapshot, StorageError> {
        let (applied, membership) = self.applied()?;
        let head = self.ledger.head();
        let data = SnapshotData {
            height: head.height,
            hash: head.hash,
            source: self.me.clone(),
        };
        let meta = SnapshotMeta {
            last_log_id: applied,
            last_membership: membership,
            snapshot_id: format!(
                "{}-{}-{}",
                applied.map_or(0, |l| l.leader_id.term),
                applied.map_or(0, |l| l.index),
                head.height
            ),
        };
        let bytes = serde_json::to_vec(&data).expect("snapshot data serialises");
        self.db.put(
            keys::SNAPSHOT,
            &StoredSnapshot {
                meta: meta.clone(),
                data,
            },
        )?;
        Ok(Snapshot {
            meta,
            snapshot: Box::new(Cursor::new(bytes)),
        })
    }
}

fn stale(height: u64) -> Outcome {
    Outcome::Skipped {
        code: STALE_BLOCK.into(),
        message: format!(
            "block {height} was ordered before a change of leader and no longer extends the chain; its events were not committed, submit them again"
        ),
    }
}

/// Builds snapshots of the state machine.
pub struct Builder(StateMachine);

impl RaftSnapshotBuilder<TypeConfig> for Builder {
    async fn build_snapshot(&mut self) -> Result<Snapshot, StorageError> {
        tokio::task::block_in_place(|| self.0.snapshot_now())
    }
}

impl RaftStateMachine<TypeConfig> for StateMachine {
    type SnapshotBuilder = Builder;

    async fn applied_state(&mut self) -> Result<(Option<LogId>, StoredMembership), StorageError> {
        self.applied()
    }

    async fn apply<I>(&mut self, entries: I) -> Result<Vec<Outcome>, StorageError>
    where
        I: IntoIterator<Item = Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let entries: Vec<Entry> = entries.into_iter().collect();
        tokio::task::block_in_place(|| {
            let mut out = Vec::with_capacity(entries.len());
            let mut last = None;
            let mut membership = None;
            for entry in entries {
                last = Some(entry.log_id);
                match entry.payload {
                    EntryPayload::Blank => out.push(Outcome::Nothing),
                    EntryPayload::Membership(m) => {
                        membership = Some(StoredMembership::new(Some(entry.log_id), m));
                        out.push(Outcome::Nothing);
                    }
                    EntryPayload::Normal(proposal) => {
                        out.push(self.apply_block(&entry.log_id, proposal.0)?);
                    }
                }
            }
            if let Some(m) = membership {
                self.db.put(keys::MEMBERSHIP, &m)?;
            }
            if let Some(last) = last {
                self.db.put(keys::APPLIED, &Some(last))?;
            }
            Ok(out)
        })
    }

    async fn get_snapshot_builder(&mut self) -> Builder {
        Builder(self.clone())
    }

    async fn begin_receiving_snapshot(&mut self) -> Result<Box<Cursor<Vec<u8>>>, StorageError> {
        Ok(Box::new(Cursor::new(Vec::new())))
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta,
        snapshot: Box<Cursor<Vec<u8>>>,
    ) -> Result<(), StorageError> {
        let data: SnapshotData = serde_json::from_slice(snapshot.get_ref()).map_err(|e| {
            StorageIOError::read_snapshot(Some(meta.signature()), AnyError::new(&e))
        })?;
        tokio::task::block_in_place(|| {
            tracing::info!(height = data.height, source = %data.source, local = self.ledger.head().height, "installing a snapshot: fetching the blocks this peer lacks");
            self.catch_up(data.height, Some(&data.source))?;
            self.db.put(keys::MEMBERSHIP, &meta.last_membership)?;
            self.db.put(keys::APPLIED, &meta.last_log_id)?;
            self.db.put(
                keys::SNAPSHOT,
                &StoredSnapshot {
                    meta: meta.clone(),
                    data,
                },
            )
        })
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot>, StorageError> {
        let stored: Option<StoredSnapshot> = self.db.get(keys::SNAPSHOT)?;
        Ok(stored.map(|s| Snapshot {
            meta: s.meta,
            snapshot: Box::new(Cursor::new(
                serde_json::to_vec(&s.data).expect("snapshot data serialises"),
            )),
        }))
    }
}
