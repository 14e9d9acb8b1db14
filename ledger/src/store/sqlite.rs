//! The embedded store: one SQLite file in WAL mode (rusqlite). One writer connection
//! commits a whole block per transaction with `synchronous=FULL`, so an acknowledged block
//! survives a crash; readers use their own connections and never block the writer.

use super::cache::{Lookup, StateCache};
use super::{AppliedBlock, ChainHead, LocatedEvent, ProofParts, Store, StoreError, StoreSize};
use crate::block::{RawBlock, RawEvent};
use crate::hash::{BlockHash, Digest};
use crate::merkle::CHUNK;
use crate::state::{Entries, ModuleEntries, StateSource};
use parking_lot::Mutex;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use std::path::{Path, PathBuf};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS blocks (
    height INTEGER PRIMARY KEY,
    hash BLOB NOT NULL,
    header BLOB NOT NULL,
    signature BLOB NOT NULL,
    first_seq INTEGER NOT NULL,
    event_count INTEGER NOT NULL,
    state_digest BLOB NOT NULL,
    tree BLOB
);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY,
    height INTEGER NOT NULL,
    id_key INTEGER NOT NULL,
    body BLOB NOT NULL,
    signature BLOB NOT NULL,
    result TEXT
);
CREATE INDEX IF NOT EXISTS events_by_id ON events(id_key);
CREATE TABLE IF NOT EXISTS state (
    module TEXT NOT NULL,
    key BLOB NOT NULL,
    value BLOB NOT NULL,
    PRIMARY KEY (module, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS item_index (
    key INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (key, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT OR IGNORE INTO meta (name, value) VALUES ('schema', '1');
";

/// SQLite store in one file.
pub struct SqliteStore {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    cache: StateCache,
}

fn backend(e: rusqlite::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

impl SqliteStore {
    /// Opens (creating if needed) the store at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let conn = Connection::open(&path).map_err(backend)?;
        conn.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=OFF;
             PRAGMA cache_size=-65536; PRAGMA wal_autocheckpoint=4000;",
        )
        .map_err(backend)?;
        conn.execute_batch(SCHEMA).map_err(backend)?;
        add_tree_column(&conn).map_err(backend)?;
        Ok(Self {
            path,
            writer: Mutex::new(conn),
            readers: Mutex::new(Vec::new()),
            cache: StateCache::default(),
        })
    }

    /// The file path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, rusqlite::Error>,
    ) -> Result<T, StoreError> {
        let conn = match self.readers.lock().pop() {
            Some(c) => c,
            None => {
                let c = Connection::open_with_flags(
                    &self.path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )
                .map_err(backend)?;
                c.busy_timeout(std::time::Duration::from_secs(5))
                    .map_err(backend)?;
                c
            }
        };
        let out = f(&conn).map_err(backend);
        let mut pool = self.readers.lock();
        if pool.len() < 16 {
            pool.push(conn);
        }
        out
    }

    /// Runs arbitrary SQL on the writer connection. For tests that damage stored data on
    /// purpose and for maintenance tools; never used by the ledger itself.
    pub fn execute_raw(
        &self,
        sql: &str,
        params: &[&dyn rusqlite::ToSql],
    ) -> Result<usize, StoreError> {
        let changed = self.writer.lock().execute(sql, params).map_err(backend);
        // whatever it changed, cached state may no longer be what is stored
        self.cache.clear();
        changed
    }

    /// Copies the WAL into the main file and truncates it (for a stable size figure).
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        self.writer
            .lock()
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
            .map_err(backend)
    }
}

/// Files made before blocks kept their Merkle nodes get the (empty) column; their blocks
/// prove from the whole block.
fn add_tree_column(conn: &Connection) -> Result<(), rusqlite::Error> {
    let has: bool = conn.query_row(
        "SELECT count(*) FROM pragma_table_info('blocks') WHERE name = 'tree'",
        [],
        |r| r.get::<_, i64>(0).map(|n| n > 0),
    )?;
    if !has {
        conn.execute_batch("ALTER TABLE blocks ADD COLUMN tree BLOB")?;
    }
    Ok(())
}

fn digest32(bytes: Vec<u8>, what: &str) -> Result<[u8; 32], StoreError> {
    <[u8; 32]>::try_from(bytes.as_slice())
        .map_err(|_| StoreError::Corrupt(format!("{what} is not 32 bytes")))
}

const EVENT_COLUMNS: &str =
    "e.seq, e.body, e.signature, e.result, e.id_key, e.height, e.seq - b.first_seq";

fn located(row: &rusqlite::Row<'_>) -> rusqlite::Result<LocatedEvent> {
    Ok(LocatedEvent {
        event: RawEvent {
            seq: row.get::<_, i64>(0)? as u64,
            height: row.get::<_, i64>(5)? as u64,
            body: row.get(1)?,
            signature: row.get(2)?,
            result: row.get(3)?,
            id_key: row.get(4)?,
        },
        height: row.get::<_, i64>(5)? as u64,
        index: row.get::<_, i64>(6)? as u32,
    })
}

impl StateSource for SqliteStore {
    fn state_get(&self, module: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        // The writer applies blocks one after another and is the only caller during
        // apply; readers (queries, validate) use their own connections.
        let generation = match self.cache.get(module, key) {
            Lookup::Hit(value) => return Ok(value),
            Lookup::Miss(generation) => generation,
        };
        let value: Option<Vec<u8>> = self.read(|c| {
            c.prepare_cached("SELECT value FROM state WHERE module = ?1 AND key = ?2")?
                .query_row(params![module, key], |r| r.get(0))
                .optional()
        })?;
        self.cache.fill(generation, module, key, &value);
        Ok(value)
    }

    fn state_scan(&self, module: &str, prefix: &[u8], limit: usize) -> Result<Entries, StoreError> {
        self.read(|c| {
            // No `LIMIT ?`: SQLite re-prepares a statement whenever a bound LIMIT is
            // rebound, which cost more than the scan itself. Rows come one step at a
            // time, so stopping after `limit` of them reads no more.
            let mut stmt = c.prepare_cached(
                "SELECT key, value FROM state WHERE module = ?1 AND key >= ?2 ORDER BY key",
            )?;
            let mut out = Vec::new();
            let mut rows = stmt.query(params![module, prefix])?;
            while out.len() < limit
                && let Some(row) = rows.next()?
            {
                let key: Vec<u8> = row.get(0)?;
                if !key.starts_with(prefix) {
                    break;
                }
                out.push((key, row.get(1)?));
            }
            Ok(out)
        })
    }
}

impl Store for SqliteStore {
    fn head(&self) -> Result<Option<ChainHead>, StoreError> {
        let row = self.read(|c| {
            c.query_row(
                "SELECT height, hash, header, first_seq, event_count, state_digest FROM blocks ORDER BY height DESC LIMIT 1",
                [],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, Vec<u8>>(1)?,
                        r.get::<_, Vec<u8>>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, i64>(4)?,
                        r.get::<_, Vec<u8>>(5)?,
                    ))
                },
            )
            .optional()
        })?;
        let Some((height, hash, header, first_seq, count, digest)) = row else {
            return Ok(None);
        };
        let header: crate::block::BlockHeader = serde_json::from_slice(&header)
            .map_err(|e| StoreError::Corrupt(format!("header of block {height}: {e}")))?;
        Ok(Some(ChainHead {
            height: height as u64,
            hash: BlockHash(digest32(hash, "block hash")?),
            time: header.time,
            next_seq: (first_seq + count) as u64,
            state_digest: Digest(digest32(digest, "state digest")?),
        }))
    }

    fn commit(&self, applied: &AppliedBlock) -> Result<(), StoreError> {
        let block = applied.block();
        let height = block.header.height;
        let mut conn = self.writer.lock();
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(backend)?;
        let last: Option<(i64, Vec<u8>)> = tx
            .query_row(
                "SELECT height, hash FROM blocks ORDER BY height DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(backend)?;
        let extends = match &last {
            None => height == 0,
            Some((h, hash)) => {
                *h as u64 + 1 == height && hash.as_slice() == block.header.previous.as_bytes()
            }
        };
        if !extends {
            return Err(StoreError::Conflict(format!(
                "block {height} does not extend the stored head {:?}",
                last.map(|(h, _)| h)
            )));
        }
        tx.prepare_cached(
            "INSERT INTO blocks (height, hash, header, signature, first_seq, event_count, state_digest, tree)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )
        .and_then(|mut s| {
            s.execute(params![
                height as i64,
                applied.hash().as_bytes(),
                block.header.canonical_bytes(),
                block.signature.to_bytes(),
                applied.first_seq() as i64,
                block.events.len() as i64,
                applied.state_digest().as_bytes(),
                applied.tree(),
            ])
        })
        .map_err(backend)?;
        {
            let mut ins = tx
                .prepare_cached(
                    "INSERT INTO events (seq, height, id_key, body, signature, result) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .map_err(backend)?;
            for (i, (ev, result)) in block.events.iter().zip(applied.results()).enumerate() {
                ins.execute(params![
                    (applied.first_seq() + i as u64) as i64,
                    height as i64,
                    crate::block::id_key(&ev.id()),
                    ev.bytes(),
                    ev.signature().to_bytes(),
                    result,
                ])
                .map_err(backend)?;
            }
            let mut put = tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO state (module, key, value) VALUES (?1, ?2, ?3)",
                )
                .map_err(backend)?;
            let mut del = tx
                .prepare_cached("DELETE FROM state WHERE module = ?1 AND key = ?2")
                .map_err(backend)?;
            for ((module, key), value) in applied.writes() {
                match value {
                    Some(v) => put.execute(params![module, key, v]),
                    None => del.execute(params![module, key]),
                }
                .map_err(backend)?;
            }
            let mut idx = tx
                .prepare_cached("INSERT OR IGNORE INTO item_index (key, seq) VALUES (?1, ?2)")
                .map_err(backend)?;
            for (key, seq) in applied.index() {
                idx.execute(params![key, *seq as i64]).map_err(backend)?;
            }
        }
        match tx.commit() {
            Ok(()) => {
                self.cache.committed(applied.writes().iter());
                Ok(())
            }
            Err(e) => {
                // The outcome is unknown: trust nothing cached.
                self.cache.clear();
                Err(backend(e))
            }
        }
    }

    fn raw_block(&self, height: u64) -> Result<Option<RawBlock>, StoreError> {
        self.read(|c| {
            let head = c
                .prepare_cached(
                    "SELECT hash, header, signature, state_digest, first_seq, event_count, tree FROM blocks WHERE height = ?1",
                )?
                .query_row(params![height as i64], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get::<_, i64>(4)?, r.get::<_, i64>(5)?, r.get(6)?))
                })
                .optional()?;
            let Some((hash, header, signature, state_digest, first_seq, count, tree)) = head else { return Ok(None) };
            let mut stmt = c.prepare_cached(
                "SELECT seq, body, signature, result, id_key, height FROM events WHERE seq >= ?1 AND seq < ?2 ORDER BY seq",
            )?;
            let events = stmt
                .query_map(params![first_seq, first_seq + count], |r| {
                    Ok(RawEvent {
                        seq: r.get::<_, i64>(0)? as u64,
                        height: r.get::<_, i64>(5)? as u64,
                        body: r.get(1)?,
                        signature: r.get(2)?,
                        result: r.get(3)?,
                        id_key: r.get(4)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Some(RawBlock {
                height,
                hash,
                header,
                signature,
                state_digest,
                first_seq: first_seq as u64,
                event_count: count as u64,
                tree,
                events,
            }))
        })
    }

    fn events_by_id_key(&self, id_key: i64) -> Result<Vec<LocatedEvent>, StoreError> {
        self.read(|c| {
            c.prepare_cached(&format!(
                "SELECT {EVENT_COLUMNS} FROM events e JOIN blocks b ON b.height = e.height WHERE e.id_key = ?1"
            ))?
            .query_map(params![id_key], located)?
            .collect()
        })
    }

    fn events_by_index_key(
        &self,
        index_key: i64,
        limit: usize,
    ) -> Result<Vec<LocatedEvent>, StoreError> {
        self.read(|c| {
            // No bound LIMIT (it makes SQLite re-prepare, as in `state_scan`): rows are
            // stepped one at a time and reading stops at `limit`.
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {EVENT_COLUMNS} FROM item_index i JOIN events e ON e.seq = i.seq
                 JOIN blocks b ON b.height = e.height WHERE i.key = ?1 ORDER BY i.seq"
            ))?;
            stmt.query_map(params![index_key], located)?
                .take(limit)
                .collect()
        })
    }

    fn state_entries(&self) -> Result<ModuleEntries, StoreError> {
        self.read(|c| {
            c.prepare("SELECT module, key, value FROM state ORDER BY module, key")?
                .query_map([], |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?)))?
                .collect()
        })
    }

    fn index_entries(&self) -> Result<Vec<(i64, u64)>, StoreError> {
        self.read(|c| {
            c.prepare("SELECT key, seq FROM item_index ORDER BY key, seq")?
                .query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64)))?
                .collect()
        })
    }

    fn size(&self) -> Result<StoreSize, StoreError> {
        let mut bytes = 0;
        for suffix in ["", "-wal"] {
            let mut p = self.path.clone().into_os_string();
            p.push(suffix);
            bytes += std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
        }
        Ok(StoreSize { bytes })
    }

    fn proof_parts(&self, height: u64, index: u32) -> Result<Option<ProofParts>, StoreError> {
        self.read(|c| {
            let block = c
                .prepare_cached(
                    "SELECT header, first_seq, event_count, tree FROM blocks WHERE height = ?1",
                )?
                .query_row(params![height as i64], |r| {
                    Ok((
                        r.get::<_, Vec<u8>>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, Option<Vec<u8>>>(3)?,
                    ))
                })
                .optional()?;
            let Some((header, first_seq, count, tree)) = block else {
                return Ok(None);
            };
            // With stored nodes only the event's chunk is read; without, the whole block.
            let (from, to) = match tree {
                Some(_) => {
                    let start = i64::from(index) / CHUNK as i64 * CHUNK as i64;
                    (start, (start + CHUNK as i64).min(count))
                }
                None => (0, count),
            };
            let bodies = c
                .prepare_cached(
                    "SELECT body FROM events WHERE seq >= ?1 AND seq < ?2 ORDER BY seq",
                )?
                .query_map(params![first_seq + from, first_seq + to], |r| r.get(0))?
                .collect::<Result<Vec<Vec<u8>>, _>>()?;
            Ok(Some(ProofParts {
                header,
                event_count: count as u64,
                tree,
                first_index: from as u32,
                bodies,
            }))
        })
    }
}
