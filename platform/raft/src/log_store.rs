//! The raft log and vote in the raft file. Appends are one SQLite transaction each and
//! durable before openraft is told; recent entries are also kept in memory so applying
//! them does not parse their blocks again.

use crate::db::{RaftDb, keys};
use crate::types::{Entry, LogId, NodeId, StorageError, TypeConfig};
use openraft::storage::{LogFlushed, LogState, RaftLogStorage};
use openraft::{AnyError, OptionalSend, RaftLogId, RaftLogReader, StorageIOError, Vote};
use parking_lot::Mutex;
use rusqlite::params;
use std::collections::BTreeMap;
use std::fmt::Debug;
use std::ops::{Bound, RangeBounds};
use std::sync::Arc;

/// Entries kept in memory after an append, for the state machine to read.
const CACHED_ENTRIES: usize = 256;

/// The log store: a handle on the raft file plus the in-memory tail.
#[derive(Clone)]
pub struct LogStore {
    db: RaftDb,
    recent: Arc<Mutex<BTreeMap<u64, Entry>>>,
}

impl LogStore {
    /// The log kept in `db`.
    pub fn new(db: RaftDb) -> Self {
        Self {
            db,
            recent: Arc::new(Mutex::new(BTreeMap::new())),
        }
    }

    fn read_range(&self, start: u64, end: Option<u64>) -> Result<Vec<Entry>, StorageError> {
        {
            let recent = self.recent.lock();
            if let (Some(first), Some(end)) = (recent.keys().next(), end)
                && *first <= start
            {
                let out: Vec<Entry> = recent.range(start..end).map(|(_, e)| e.clone()).collect();
                if out.len() as u64 == end.saturating_sub(start) {
                    return Ok(out);
                }
            }
        }
        let end = end.map_or(i64::MAX, |e| e.min(i64::MAX as u64) as i64);
        let rows: Vec<Vec<u8>> = self
            .db
            .with(|c| {
                let mut stmt = c.prepare_cached(
                    "SELECT entry FROM log WHERE idx >= ?1 AND idx < ?2 ORDER BY idx",
                )?;
                let rows = stmt.query_map(params![start as i64, end], |r| r.get(0))?;
                rows.collect::<Result<Vec<_>, _>>()
            })
            .map_err(|e| StorageIOError::read_logs(AnyError::new(&e)))?;
        rows.iter()
            .map(|bytes| {
                serde_json::from_slice(bytes)
                    .map_err(|e| StorageIOError::read_logs(AnyError::new(&e)).into())
            })
            .collect()
    }

    fn write_entries(&self, entries: Vec<Entry>) -> Result<(), StorageError> {
        let mut rows = Vec::with_capacity(entries.len());
        for e in &entries {
            let log_id = serde_json::to_string(e.get_log_id())
                .map_err(|err| StorageIOError::write_logs(AnyError::new(&err)))?;
            let bytes = serde_json::to_vec(e)
                .map_err(|err| StorageIOError::write_logs(AnyError::new(&err)))?;
            rows.push((e.log_id.index, log_id, bytes));
        }
        self.db
            .with(|c| -> rusqlite::Result<()> {
                let tx = c.transaction()?;
                {
                    let mut stmt = tx.prepare_cached(
                        "INSERT OR REPLACE INTO log (idx, log_id, entry) VALUES (?1, ?2, ?3)",
                    )?;
                    for (idx, log_id, bytes) in &rows {
                        stmt.execute(params![*idx as i64, log_id, bytes])?;
                    }
                }
                tx.commit()
            })
            .map_err(|e| StorageIOError::write_logs(AnyError::new(&e)))?;
        let mut recent = self.recent.lock();
        for e in entries {
            recent.insert(e.log_id.index, e);
        }
        while recent.len() > CACHED_ENTRIES {
            recent.pop_first();
        }
        Ok(())
    }
}

fn bounds(range: &impl RangeBounds<u64>) -> (u64, Option<u64>) {
    let start = match range.start_bound() {
        Bound::Included(s) => *s,
        Bound::Excluded(s) => s + 1,
        Bound::Unbounded => 0,
    };
    let end = match range.end_bound() {
        Bound::Included(e) => Some(e + 1),
        Bound::Excluded(e) => Some(*e),
        Bound::Unbounded => None,
    };
    (start, end)
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry>, StorageError> {
        let (start, end) = bounds(&range);
        tokio::task::block_in_place(|| self.read_range(start, end))
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = LogStore;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, StorageError> {
        let last_purged: Option<LogId> = self.db.get(keys::PURGED)?;
        let last = self.db.last_log_id()?.or(last_purged);
        Ok(LogState {
            last_purged_log_id: last_purged,
            last_log_id: last,
        })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote<NodeId>) -> Result<(), StorageError> {
        tokio::task::block_in_place(|| self.db.put(keys::VOTE, vote))
    }

    async fn read_vote(&mut self) -> Result<Option<Vote<NodeId>>, StorageError> {
        self.db.get(keys::VOTE)
    }

    async fn save_committed(&mut self, committed: Option<LogId>) -> Result<(), StorageError> {
        tokio::task::block_in_place(|| self.db.put(keys::COMMITTED, &committed))
    }

    async fn read_committed(&mut self) -> Result<Option<LogId>, StorageError> {
        Ok(self.db.get::<Option<LogId>>(keys::COMMITTED)?.flatten())
    }

    async fn append<I>(
        &mut self,
        entries: I,
        callback: LogFlushed<TypeConfig>,
    ) -> Result<(), StorageError>
    where
        I: IntoIterator<Item = Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let entries: Vec<Entry> = entries.into_iter().collect();
        let written = tokio::task::block_in_place(|| self.write_entries(entries));
        match &written {
            Ok(()) => callback.log_io_completed(Ok(())),
            Err(e) => callback.log_io_completed(Err(std::io::Error::other(e.to_string()))),
        }
        written
    }

    async fn truncate(&mut self, log_id: LogId) -> Result<(), StorageError> {
        tokio::task::block_in_place(|| {
            self.db
                .with(|c| c.execute("DELETE FROM log WHERE idx >= ?1", [log_id.index as i64]))
                .map_err(|e| StorageIOError::write_logs(AnyError::new(&e)))
        })?;
        self.recent.lock().retain(|idx, _| *idx < log_id.index);
        Ok(())
    }

    async fn purge(&mut self, log_id: LogId) -> Result<(), StorageError> {
        tokio::task::block_in_place(|| {
            self.db.put(keys::PURGED, &log_id)?;
            self.db
                .with(|c| c.execute("DELETE FROM log WHERE idx <= ?1", [log_id.index as i64]))
                .map_err(|e| StorageIOError::write_logs(AnyError::new(&e)))?;
            Ok::<_, StorageError>(())
        })?;
        self.recent.lock().retain(|idx, _| *idx > log_id.index);
        Ok(())
    }
}
