//! The raft file (`raft.sqlite` in the data directory): the raft log, the vote, and the
//! state machine's bookkeeping (last applied log id, membership, last snapshot). It is
//! written with `synchronous = FULL`, so whatever a call returned from is on disk when a
//! peer is killed. The ledger store stays the source of truth for applied blocks.

use crate::types::{LogId, NodeId, StorageError};
use openraft::{ErrorSubject, ErrorVerb, StorageIOError};
use parking_lot::Mutex;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::path::Path;
use std::sync::Arc;

/// Keys of the `meta` table.
pub mod keys {
    /// The vote.
    pub const VOTE: &str = "vote";
    /// The last committed log id (a hint for restarts).
    pub const COMMITTED: &str = "committed";
    /// The last purged log id.
    pub const PURGED: &str = "purged";
    /// The state machine's last applied log id.
    pub const APPLIED: &str = "applied";
    /// The state machine's last membership.
    pub const MEMBERSHIP: &str = "membership";
    /// The last snapshot: its meta and data.
    pub const SNAPSHOT: &str = "snapshot";
}

/// The open raft file, shared by the log store and the state machine.
#[derive(Clone)]
pub struct RaftDb {
    conn: Arc<Mutex<Connection>>,
}

/// Errors opening the raft file.
#[derive(Debug, thiserror::Error)]
#[error("RAFT_STORE: cannot open the raft file {path}: {source}")]
pub struct OpenError {
    path: String,
    source: rusqlite::Error,
}

impl RaftDb {
    /// Opens (or creates) the raft file.
    pub fn open(path: &Path) -> Result<Self, OpenError> {
        let wrap = |source| OpenError {
            path: path.display().to_string(),
            source,
        };
        let conn = Connection::open(path).map_err(wrap)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;
             CREATE TABLE IF NOT EXISTS log (
                 idx INTEGER PRIMARY KEY,
                 log_id TEXT NOT NULL,
                 entry BLOB NOT NULL
             );
             CREATE TABLE IF NOT EXISTS meta (
                 key TEXT PRIMARY KEY,
                 value BLOB NOT NULL
             );",
        )
        .map_err(wrap)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` with the connection.
    pub fn with<T>(&self, f: impl FnOnce(&mut Connection) -> T) -> T {
        f(&mut self.conn.lock())
    }

    /// Reads a JSON value from `meta`.
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, StorageError> {
        let raw: Option<Vec<u8>> = self
            .with(|c| {
                c.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
                    .optional()
            })
            .map_err(|e| read_error(key, e))?;
        raw.map(|bytes| serde_json::from_slice(&bytes).map_err(|e| read_error(key, e)))
            .transpose()
    }

    /// Writes a JSON value into `meta`.
    pub fn put<T: Serialize>(&self, key: &str, value: &T) -> Result<(), StorageError> {
        let bytes = serde_json::to_vec(value).map_err(|e| write_error(key, e))?;
        self.with(|c| {
            c.execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                params![key, bytes],
            )
        })
        .map_err(|e| write_error(key, e))?;
        Ok(())
    }

    /// The last log id in the log, if any.
    pub fn last_log_id(&self) -> Result<Option<LogId>, StorageError> {
        let raw: Option<String> = self
            .with(|c| {
                c.query_row(
                    "SELECT log_id FROM log ORDER BY idx DESC LIMIT 1",
                    [],
                    |r| r.get(0),
                )
                .optional()
            })
            .map_err(|e| StorageIOError::read_logs(openraft::AnyError::new(&e)))?;
        raw.map(|s| {
            serde_json::from_str(&s)
                .map_err(|e| StorageIOError::read_logs(openraft::AnyError::new(&e)).into())
        })
        .transpose()
    }
}

fn subject(key: &str) -> ErrorSubject<NodeId> {
    match key {
        keys::VOTE => ErrorSubject::Vote,
        keys::APPLIED | keys::MEMBERSHIP => ErrorSubject::StateMachine,
        keys::SNAPSHOT => ErrorSubject::Snapshot(None),
        _ => ErrorSubject::Store,
    }
}

/// A failed read of `meta`.
pub fn read_error(key: &str, e: impl std::error::Error + 'static) -> StorageError {
    StorageIOError::new(subject(key), ErrorVerb::Read, openraft::AnyError::new(&e)).into()
}

/// A failed write of `meta`.
pub fn write_error(key: &str, e: impl std::error::Error + 'static) -> StorageError {
    StorageIOError::new(subject(key), ErrorVerb::Write, openraft::AnyError::new(&e)).into()
}
