//! The PostgreSQL store for Pedigree's ledger: `PgStore` keeps blocks, events, module state
//! and the item index in PostgreSQL through sqlx, committing a block with all its state in
//! one transaction. It must never hold business rules, never reorder or rewrite a block,
//! and never call `block_on` from the caller's thread: it runs on its own runtime.

mod bridge;
mod filter;
pub mod testing;

use bridge::Bridge;
use filter::{Bloom, KeyFilter, MIN_CAPACITY};
use ledger::block::{BlockHeader, RawBlock, RawEvent, id_key};
use ledger::merkle::CHUNK;
use ledger::state::{Entries, ModuleEntries, StateSource};
use ledger::store::cache::{Lookup, StateCache};
use ledger::store::{AppliedBlock, ChainHead, LocatedEvent, ProofParts, StoreSize};
use ledger::{BlockHash, Digest, Store, StoreError};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::{Connection, Row};
use std::str::FromStr;
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Rows per multi-row INSERT: bounded so a large block is sent in pieces of sane size.
const ROWS_PER_INSERT: usize = 2_000;
/// Payload bytes per multi-row INSERT of events.
const BYTES_PER_INSERT: usize = 16 << 20;

/// A ledger store in a PostgreSQL database (optionally in its own schema).
///
/// Like the ledger above it, it assumes it is the only writer of its schema: point reads
/// are answered from a Bloom filter of stored keys and a read cache, both kept in step
/// with its own commits (and rebuilt after [`PgStore::execute_raw`]). Opening scans every
/// state key once to fill the filter.
pub struct PgStore {
    pool: PgPool,
    schema: Option<String>,
    cache: StateCache,
    filter: KeyFilter,
    /// Held while writing (commits and raw SQL), so the filter is rebuilt consistently.
    writing: parking_lot::Mutex<()>,
    // Declared last: dropped after the pool.
    bridge: Bridge,
}

fn backend(e: sqlx::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// Checks that a schema name is a plain lowercase identifier, so it can be quoted safely.
pub fn check_schema_name(name: &str) -> Result<(), StoreError> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !name.as_bytes()[0].is_ascii_digit();
    if ok {
        Ok(())
    } else {
        Err(StoreError::Backend(format!(
            "schema name {name:?} must be 1 to 63 lowercase letters, digits or underscores, not starting with a digit"
        )))
    }
}

fn connect_options(url: &str, schema: Option<&str>) -> Result<PgConnectOptions, StoreError> {
    let mut options = PgConnectOptions::from_str(url)
        .map_err(|e| StoreError::Backend(format!("bad database URL: {e}")))?
        .application_name("pedigree")
        // Server notices ("already exists, skipping") are not news to a peer's log.
        .options([("client_min_messages", "warning")])
        // The range joins of proof reads are estimated at many rows on a long chain, which
        // passes the JIT threshold: the server then compiled each provenance query (8-30 ms
        // at 200,000 events, growing with the chain) to run a few index lookups.
        .options([("jit", "off")]);
    if let Some(schema) = schema {
        check_schema_name(schema)?;
        options = options.options([("search_path", schema)]);
    }
    Ok(options)
}

/// Runs SQL statements on one short-lived connection (no schema): for creating and dropping
/// schemas. Fails after `timeout` when the server cannot be reached.
pub(crate) fn admin_sql(url: &str, sql: &str, timeout: Duration) -> Result<(), StoreError> {
    let options = connect_options(url, None)?;
    let sql = sql.to_string();
    Bridge::new()?.run(async move {
        let mut conn = tokio::time::timeout(timeout, sqlx::PgConnection::connect_with(&options))
            .await
            .map_err(|_| StoreError::Backend("timed out connecting to PostgreSQL".into()))?
            .map_err(backend)?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut conn)
            .await
            .map_err(backend)?;
        conn.close().await.map_err(backend)
    })
}

impl PgStore {
    /// Connects to `url` (e.g. `postgres://user@host:5432/db`), creates `schema` when
    /// given and missing, works inside it, and runs the migrations.
    pub fn open(url: &str, schema: Option<&str>) -> Result<Self, StoreError> {
        let options = connect_options(url, schema)?;
        let bridge = Bridge::new()?;
        let create = schema.map(|s| format!("CREATE SCHEMA IF NOT EXISTS \"{s}\""));
        let pool = bridge.run(async move {
            let pool = PgPoolOptions::new()
                .max_connections(8)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await
                .map_err(backend)?;
            if let Some(create) = create {
                sqlx::raw_sql(sqlx::AssertSqlSafe(create))
                    .execute(&pool)
                    .await
                    .map_err(backend)?;
            }
            MIGRATOR
                .run(&pool)
                .await
                .map_err(|e| StoreError::Backend(format!("migrating the schema: {e}")))?;
            let bloom = load_filter(&pool, 0).await?;
            Ok((pool, bloom))
        })?;
        let (pool, bloom) = pool;
        Ok(Self {
            pool,
            schema: schema.map(str::to_string),
            cache: StateCache::default(),
            filter: KeyFilter::new(bloom),
            writing: parking_lot::Mutex::new(()),
            bridge,
        })
    }

    /// The schema this store works in, when one was given.
    pub fn schema(&self) -> Option<&str> {
        self.schema.as_deref()
    }

    /// Runs arbitrary SQL (one or more statements, no parameters) and returns the rows
    /// affected. For tests that damage stored data on purpose and for maintenance tools;
    /// never used by the ledger itself.
    pub fn execute_raw(&self, sql: &str) -> Result<u64, StoreError> {
        let _writing = self.writing.lock();
        let pool = self.pool.clone();
        let sql = sql.to_string();
        let out = self.bridge.run(async move {
            let out = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                .execute(&pool)
                .await
                .map(|r| r.rows_affected())
                .map_err(backend);
            // Whatever the SQL did, the key filter is rebuilt from what is stored.
            let bloom = load_filter(&pool, 0)
                .await
                .unwrap_or_else(|_| Bloom::with_capacity(0));
            out.map(|n| (n, bloom))
        });
        self.cache.clear();
        match out {
            Ok((n, bloom)) => {
                self.filter.replace(bloom);
                Ok(n)
            }
            Err(e) => {
                self.filter.replace(Bloom::with_capacity(0));
                Err(e)
            }
        }
    }

    fn fetch_all<T: Send + 'static>(
        &self,
        sql: &'static str,
        bind: impl FnOnce(
            sqlx::query::Query<'static, sqlx::Postgres, sqlx::postgres::PgArguments>,
        )
            -> sqlx::query::Query<'static, sqlx::Postgres, sqlx::postgres::PgArguments>
        + Send
        + 'static,
        map: impl Fn(&PgRow) -> Result<T, sqlx::Error> + Send + 'static,
    ) -> Result<Vec<T>, StoreError> {
        let pool = self.pool.clone();
        self.bridge.run(async move {
            let rows = bind(sqlx::query(sql))
                .fetch_all(&pool)
                .await
                .map_err(backend)?;
            rows.iter()
                .map(&map)
                .collect::<Result<_, _>>()
                .map_err(backend)
        })
    }
}

impl Drop for PgStore {
    fn drop(&mut self) {
        // Say goodbye to the server instead of cutting the connections.
        let pool = self.pool.clone();
        let _ = self.bridge.run(async move {
            let _ = tokio::time::timeout(Duration::from_secs(5), pool.close()).await;
            Ok(())
        });
    }
}

/// Builds the key filter from every stored state key, with room for `extra` more keys
/// and then as many again.
async fn load_filter(pool: &PgPool, extra: u64) -> Result<Bloom, StoreError> {
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM state")
        .fetch_one(pool)
        .await
        .map_err(backend)?;
    let mut bloom = Bloom::with_capacity(((count.max(0) as u64 + extra) * 2).max(MIN_CAPACITY));
    let mut after: Option<(String, Vec<u8>)> = None;
    loop {
        let page: Vec<(String, Vec<u8>)> = match &after {
            None => {
                sqlx::query_as("SELECT module, key FROM state ORDER BY module, key LIMIT 50000")
                    .fetch_all(pool)
                    .await
            }
            Some((m, k)) => {
                sqlx::query_as(
                    "SELECT module, key FROM state WHERE (module, key) > ($1, $2)
                 ORDER BY module, key LIMIT 50000",
                )
                .bind(m)
                .bind(k)
                .fetch_all(pool)
                .await
            }
        }
        .map_err(backend)?;
        for (m, k) in &page {
            bloom.insert(m, k);
        }
        match page.into_iter().last() {
            Some(last) => after = Some(last),
            None => return Ok(bloom),
        }
    }
}

fn digest32(bytes: Vec<u8>, what: &str) -> Result<[u8; 32], StoreError> {
    <[u8; 32]>::try_from(bytes.as_slice())
        .map_err(|_| StoreError::Corrupt(format!("{what} is not 32 bytes")))
}

/// The smallest key greater than every key starting with `prefix`, if there is one.
fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xFF {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

fn sql_limit(limit: usize) -> i64 {
    limit.min(i64::MAX as usize) as i64
}

fn raw_event(r: &PgRow) -> Result<RawEvent, sqlx::Error> {
    Ok(RawEvent {
        seq: r.try_get::<i64, _>(0)? as u64,
        body: r.try_get(1)?,
        signature: r.try_get(2)?,
        result: r.try_get(3)?,
        id_key: r.try_get(4)?,
        height: r.try_get::<i64, _>(5)? as u64,
    })
}

fn located(r: &PgRow) -> Result<LocatedEvent, sqlx::Error> {
    let event = raw_event(r)?;
    Ok(LocatedEvent {
        height: event.height,
        index: r.try_get::<i64, _>(6)? as u32,
        event,
    })
}

impl StateSource for PgStore {
    fn state_get(&self, module: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        if !self.filter.may_contain(module, key) {
            return Ok(None);
        }
        let generation = match self.cache.get(module, key) {
            Lookup::Hit(value) => return Ok(value),
            Lookup::Miss(generation) => generation,
        };
        let (m, k) = (module.to_string(), key.to_vec());
        let pool = self.pool.clone();
        let value: Option<Vec<u8>> = self.bridge.run(async move {
            sqlx::query_scalar("SELECT value FROM state WHERE module = $1 AND key = $2")
                .bind(m)
                .bind(k)
                .fetch_optional(&pool)
                .await
                .map_err(backend)
        })?;
        self.cache.fill(generation, module, key, &value);
        Ok(value)
    }

    fn state_scan(&self, module: &str, prefix: &[u8], limit: usize) -> Result<Entries, StoreError> {
        let module = module.to_string();
        let start = prefix.to_vec();
        let pair = |r: &PgRow| Ok((r.try_get(0)?, r.try_get(1)?));
        match prefix_end(prefix) {
            Some(end) => self.fetch_all(
                "SELECT key, value FROM state WHERE module = $1 AND key >= $2 AND key < $3 ORDER BY key LIMIT $4",
                move |q| q.bind(module).bind(start).bind(end).bind(sql_limit(limit)),
                pair,
            ),
            None => self.fetch_all(
                "SELECT key, value FROM state WHERE module = $1 AND key >= $2 ORDER BY key LIMIT $3",
                move |q| q.bind(module).bind(start).bind(sql_limit(limit)),
                pair,
            ),
        }
    }
}

/// Everything one block writes, as owned column arrays ready for `UNNEST`.
struct BlockRows {
    height: i64,
    previous: Vec<u8>,
    hash: Vec<u8>,
    header: Vec<u8>,
    signature: Vec<u8>,
    first_seq: i64,
    state_digest: Vec<u8>,
    tree: Vec<u8>,
    events: Vec<EventRow>,
    put_modules: Vec<String>,
    put_keys: Vec<Vec<u8>>,
    put_values: Vec<Vec<u8>>,
    del_modules: Vec<String>,
    del_keys: Vec<Vec<u8>>,
    index_keys: Vec<i64>,
    index_seqs: Vec<i64>,
}

struct EventRow {
    seq: i64,
    id_key: i64,
    body: Vec<u8>,
    signature: Vec<u8>,
    result: Option<String>,
}

impl BlockRows {
    fn new(applied: &AppliedBlock) -> Self {
        let block = applied.block();
        let first_seq = applied.first_seq() as i64;
        let events = block
            .events
            .iter()
            .zip(applied.results())
            .enumerate()
            .map(|(i, (e, result))| EventRow {
                seq: first_seq + i as i64,
                id_key: id_key(&e.id()),
                body: e.bytes().to_vec(),
                signature: e.signature().to_bytes().to_vec(),
                result: result.clone(),
            })
            .collect();
        let mut rows = Self {
            height: block.header.height as i64,
            previous: block.header.previous.as_bytes().to_vec(),
            hash: applied.hash().as_bytes().to_vec(),
            header: block.header.canonical_bytes(),
            signature: block.signature.to_bytes().to_vec(),
            first_seq,
            state_digest: applied.state_digest().as_bytes().to_vec(),
            tree: applied.tree().to_vec(),
            events,
            put_modules: vec![],
            put_keys: vec![],
            put_values: vec![],
            del_modules: vec![],
            del_keys: vec![],
            index_keys: applied.index().iter().map(|(k, _)| *k).collect(),
            index_seqs: applied.index().iter().map(|(_, s)| *s as i64).collect(),
        };
        for ((module, key), value) in applied.writes() {
            match value {
                Some(v) => {
                    rows.put_modules.push(module.clone());
                    rows.put_keys.push(key.clone());
                    rows.put_values.push(v.clone());
                }
                None => {
                    rows.del_modules.push(module.clone());
                    rows.del_keys.push(key.clone());
                }
            }
        }
        rows
    }
}

/// Splits events into runs small enough for one statement.
fn event_batches(mut events: Vec<EventRow>) -> Vec<Vec<EventRow>> {
    let mut out = Vec::new();
    let mut current = Vec::new();
    let mut bytes = 0;
    for e in events.drain(..) {
        let size = e.body.len() + e.signature.len() + 32;
        if !current.is_empty()
            && (current.len() >= ROWS_PER_INSERT || bytes + size > BYTES_PER_INSERT)
        {
            out.push(std::mem::take(&mut current));
            bytes = 0;
        }
        bytes += size;
        current.push(e);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|d| d.code())
        .is_some_and(|c| c == "23505")
}

async fn write_block(pool: PgPool, rows: BlockRows) -> Result<(), StoreError> {
    let mut tx = pool.begin().await.map_err(backend)?;
    let last: Option<(i64, Vec<u8>)> =
        sqlx::query_as("SELECT height, hash FROM blocks ORDER BY height DESC LIMIT 1")
            .fetch_optional(&mut *tx)
            .await
            .map_err(backend)?;
    let extends = match &last {
        None => rows.height == 0,
        Some((h, hash)) => *h + 1 == rows.height && *hash == rows.previous,
    };
    if !extends {
        return Err(StoreError::Conflict(format!(
            "block {} does not extend the stored head {:?}",
            rows.height,
            last.map(|(h, _)| h)
        )));
    }
    sqlx::query(
        "INSERT INTO blocks (height, hash, header, signature, first_seq, event_count, state_digest, tree)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(rows.height)
    .bind(rows.hash)
    .bind(rows.header)
    .bind(rows.signature)
    .bind(rows.first_seq)
    .bind(rows.events.len() as i64)
    .bind(rows.state_digest)
    .bind(rows.tree)
    .execute(&mut *tx)
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            StoreError::Conflict(format!("block {} is already stored", rows.height))
        } else {
            backend(e)
        }
    })?;
    for batch in event_batches(rows.events) {
        let mut seqs = Vec::with_capacity(batch.len());
        let mut keys = Vec::with_capacity(batch.len());
        let mut bodies = Vec::with_capacity(batch.len());
        let mut signatures = Vec::with_capacity(batch.len());
        let mut results = Vec::with_capacity(batch.len());
        for e in batch {
            seqs.push(e.seq);
            keys.push(e.id_key);
            bodies.push(e.body);
            signatures.push(e.signature);
            results.push(e.result);
        }
        sqlx::query(
            "INSERT INTO events (seq, height, id_key, body, signature, result)
             SELECT s, $1, k, b, g, r
             FROM UNNEST($2::bigint[], $3::bigint[], $4::bytea[], $5::bytea[], $6::text[]) AS t(s, k, b, g, r)",
        )
        .bind(rows.height)
        .bind(seqs)
        .bind(keys)
        .bind(bodies)
        .bind(signatures)
        .bind(results)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
    }
    if !rows.put_keys.is_empty() {
        sqlx::query(
            "INSERT INTO state (module, key, value)
             SELECT * FROM UNNEST($1::text[], $2::bytea[], $3::bytea[])
             ON CONFLICT (module, key) DO UPDATE SET value = EXCLUDED.value",
        )
        .bind(rows.put_modules)
        .bind(rows.put_keys)
        .bind(rows.put_values)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
    }
    if !rows.del_keys.is_empty() {
        sqlx::query(
            "DELETE FROM state USING UNNEST($1::text[], $2::bytea[]) AS d(module, key)
             WHERE state.module = d.module AND state.key = d.key",
        )
        .bind(rows.del_modules)
        .bind(rows.del_keys)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
    }
    if !rows.index_keys.is_empty() {
        sqlx::query(
            "INSERT INTO item_index (key, seq) SELECT * FROM UNNEST($1::bigint[], $2::bigint[])
             ON CONFLICT DO NOTHING",
        )
        .bind(rows.index_keys)
        .bind(rows.index_seqs)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
    }
    tx.commit().await.map_err(backend)
}

impl Store for PgStore {
    fn head(&self) -> Result<Option<ChainHead>, StoreError> {
        let pool = self.pool.clone();
        let row = self.bridge.run(async move {
            sqlx::query_as::<_, (i64, Vec<u8>, Vec<u8>, i64, i64, Vec<u8>)>(
                "SELECT height, hash, header, first_seq, event_count, state_digest
                 FROM blocks ORDER BY height DESC LIMIT 1",
            )
            .fetch_optional(&pool)
            .await
            .map_err(backend)
        })?;
        let Some((height, hash, header, first_seq, count, digest)) = row else {
            return Ok(None);
        };
        let header: BlockHeader = serde_json::from_slice(&header)
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
        let _writing = self.writing.lock();
        let puts = || {
            applied
                .writes()
                .iter()
                .filter(|(_, v)| v.is_some())
                .map(|((m, k), _)| (m.as_str(), k.as_slice()))
        };
        // Keys go into the filter before they can be read from the database.
        if self.filter.add(puts()) {
            let pool = self.pool.clone();
            let extra = self.filter.keys();
            let mut bloom = self
                .bridge
                .run(async move { load_filter(&pool, extra).await })?;
            for (m, k) in puts() {
                bloom.insert(m, k);
            }
            self.filter.replace(bloom);
        }
        let rows = BlockRows::new(applied);
        let pool = self.pool.clone();
        match self.bridge.run(write_block(pool, rows)) {
            Ok(()) => {
                self.cache.committed(applied.writes().iter());
                Ok(())
            }
            // Refused before anything was written.
            Err(e @ StoreError::Conflict(_)) => Err(e),
            Err(e) => {
                // The transaction may or may not have committed: trust nothing cached.
                self.cache.clear();
                Err(e)
            }
        }
    }

    fn raw_block(&self, height: u64) -> Result<Option<RawBlock>, StoreError> {
        let pool = self.pool.clone();
        self.bridge.run(async move {
            // One snapshot for the block row and its events.
            let mut tx = pool.begin().await.map_err(backend)?;
            sqlx::raw_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            type Head = (
                Vec<u8>,
                Vec<u8>,
                Vec<u8>,
                Vec<u8>,
                i64,
                i64,
                Option<Vec<u8>>,
            );
            let head = sqlx::query_as::<_, Head>(
                "SELECT hash, header, signature, state_digest, first_seq, event_count, tree
                 FROM blocks WHERE height = $1",
            )
            .bind(height as i64)
            .fetch_optional(&mut *tx)
            .await
            .map_err(backend)?;
            let Some((hash, header, signature, state_digest, first_seq, count, tree)) = head else {
                return Ok(None);
            };
            let events = sqlx::query(
                "SELECT seq, body, signature, result, id_key, height FROM events
                 WHERE seq >= $1 AND seq < $2 ORDER BY seq",
            )
            .bind(first_seq)
            .bind(first_seq + count)
            .fetch_all(&mut *tx)
            .await
            .map_err(backend)?
            .iter()
            .map(raw_event)
            .collect::<Result<Vec<_>, _>>()
            .map_err(backend)?;
            tx.commit().await.map_err(backend)?;
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
        // The position in the block comes from a subquery per row rather than a join: with
        // a join the planner may hash every block (a scan of the whole table per call), and
        // does until statistics catch up with a growing chain.
        self.fetch_all(
            "SELECT e.seq, e.body, e.signature, e.result, e.id_key, e.height,
                    e.seq - (SELECT b.first_seq FROM blocks b WHERE b.height = e.height)
             FROM events e WHERE e.id_key = $1 ORDER BY e.seq",
            move |q| q.bind(id_key),
            located,
        )
    }

    fn events_by_index_key(
        &self,
        index_key: i64,
        limit: usize,
    ) -> Result<Vec<LocatedEvent>, StoreError> {
        // As in `events_by_id_key`: a block lookup per row found, never a scan of blocks.
        self.fetch_all(
            "SELECT e.seq, e.body, e.signature, e.result, e.id_key, e.height,
                    e.seq - (SELECT b.first_seq FROM blocks b WHERE b.height = e.height)
             FROM item_index i JOIN events e ON e.seq = i.seq
             WHERE i.key = $1 ORDER BY i.seq LIMIT $2",
            move |q| q.bind(index_key).bind(sql_limit(limit)),
            located,
        )
    }

    fn state_entries(&self) -> Result<ModuleEntries, StoreError> {
        self.fetch_all(
            "SELECT module, key, value FROM state ORDER BY module, key",
            |q| q,
            |r| Ok(((r.try_get(0)?, r.try_get(1)?), r.try_get(2)?)),
        )
    }

    fn index_entries(&self) -> Result<Vec<(i64, u64)>, StoreError> {
        self.fetch_all(
            "SELECT key, seq FROM item_index ORDER BY key, seq",
            |q| q,
            |r| Ok((r.try_get(0)?, r.try_get::<i64, _>(1)? as u64)),
        )
    }

    fn size(&self) -> Result<StoreSize, StoreError> {
        let pool = self.pool.clone();
        let bytes: i64 = self.bridge.run(async move {
            sqlx::query_scalar(
                "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::bigint
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = current_schema() AND c.relkind = 'r'",
            )
            .fetch_one(&pool)
            .await
            .map_err(backend)
        })?;
        Ok(StoreSize {
            bytes: bytes.max(0) as u64,
        })
    }

    fn proof_parts_many(
        &self,
        positions: &[(u64, u32)],
    ) -> Result<Vec<Option<ProofParts>>, StoreError> {
        if positions.is_empty() {
            return Ok(vec![]);
        }
        let pool = self.pool.clone();
        let heights: Vec<i64> = positions.iter().map(|p| p.0 as i64).collect();
        let starts: Vec<i64> = positions
            .iter()
            .map(|p| i64::from(p.1) / CHUNK as i64 * CHUNK as i64)
            .collect();
        let asked: Vec<i64> = (0..positions.len() as i64).collect();
        let bound_starts = starts.clone();
        // One round trip for every position: each joined to its block and its chunk. The
        // block's Merkle nodes (kilobytes) come with the chunk's first event only, the row
        // that opens the position below, not again with each of its events.
        let rows = self.bridge.run(async move {
            sqlx::query_as::<_, (i64, Vec<u8>, i64, Option<Vec<u8>>, Option<Vec<u8>>)>(
                "SELECT w.n, b.header, b.event_count,
                        CASE WHEN e.seq IS NULL OR e.seq = b.first_seq + w.start THEN b.tree END,
                        e.body
                 FROM UNNEST($1::bigint[], $2::bigint[], $3::bigint[]) AS w(n, height, start)
                 JOIN blocks b ON b.height = w.height
                 LEFT JOIN events e
                   ON e.seq >= b.first_seq + CASE WHEN b.tree IS NULL THEN 0 ELSE w.start END
                  AND e.seq < b.first_seq + CASE WHEN b.tree IS NULL THEN b.event_count
                                                 ELSE LEAST(w.start + $4, b.event_count) END
                 ORDER BY w.n, e.seq",
            )
            .bind(asked)
            .bind(heights)
            .bind(bound_starts)
            .bind(CHUNK as i64)
            .fetch_all(&pool)
            .await
            .map_err(backend)
        })?;
        let mut out: Vec<Option<ProofParts>> = vec![None; positions.len()];
        for (n, header, count, tree, body) in rows {
            let slot = out
                .get_mut(n as usize)
                .ok_or_else(|| StoreError::Corrupt(format!("proof row {n} was not asked for")))?;
            let parts = slot.get_or_insert_with(|| ProofParts {
                first_index: if tree.is_some() {
                    starts[n as usize] as u32
                } else {
                    0
                },
                header,
                event_count: count as u64,
                tree,
                bodies: vec![],
            });
            parts.bodies.extend(body);
        }
        Ok(out)
    }

    fn proof_parts(&self, height: u64, index: u32) -> Result<Option<ProofParts>, StoreError> {
        let pool = self.pool.clone();
        let start = i64::from(index) / CHUNK as i64 * CHUNK as i64;
        // One round trip: the block row with the events of the chunk (or of the whole block
        // when it was stored without its Merkle nodes).
        let rows = self.bridge.run(async move {
            sqlx::query_as::<_, (Vec<u8>, i64, Option<Vec<u8>>, Option<Vec<u8>>)>(
                "SELECT b.header, b.event_count, b.tree, e.body
                 FROM blocks b LEFT JOIN events e
                   ON e.seq >= b.first_seq + CASE WHEN b.tree IS NULL THEN 0 ELSE $2 END
                  AND e.seq < b.first_seq + CASE WHEN b.tree IS NULL THEN b.event_count
                                                 ELSE LEAST($2 + $3, b.event_count) END
                 WHERE b.height = $1 ORDER BY e.seq",
            )
            .bind(height as i64)
            .bind(start)
            .bind(CHUNK as i64)
            .fetch_all(&pool)
            .await
            .map_err(backend)
        })?;
        let mut rows = rows.into_iter();
        let Some((header, count, tree, first)) = rows.next() else {
            return Ok(None);
        };
        let first_index = if tree.is_some() { start as u32 } else { 0 };
        let bodies = first.into_iter().chain(rows.filter_map(|r| r.3)).collect();
        Ok(Some(ProofParts {
            header,
            event_count: count as u64,
            tree,
            first_index,
            bodies,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ledger::Ledger;
    use std::sync::Arc;
    use store_conformance::chain;

    #[test]
    fn the_key_filter_grows_when_full_and_never_hides_a_key() {
        let Some(schema) = testing::TestSchema::create() else {
            return;
        };
        let store = Arc::new(schema.open());
        store.filter.replace(Bloom::with_capacity(4));
        let ledger = Ledger::init(store.clone(), chain::modules(), chain::genesis()).unwrap();
        let a = chain::signer("maker/clerk");
        let key = |b: usize, i: usize| format!("k{b}/{i}").into_bytes();
        for b in 0..3 {
            assert_eq!(store.state_get(chain::NOTEBOOK, &key(b, 0)).unwrap(), None);
            chain::commit(
                &ledger,
                (0..5).map(|i| chain::put(&a, &key(b, i), "v")).collect(),
            );
        }
        assert!(
            store.filter.capacity() >= filter::MIN_CAPACITY,
            "rebuilt larger"
        );
        for b in 0..3 {
            for i in 0..5 {
                assert_eq!(
                    store.state_get(chain::NOTEBOOK, &key(b, i)).unwrap(),
                    Some(b"v".to_vec())
                );
            }
        }
    }

    #[test]
    fn prefix_end_is_the_next_key_after_the_prefix_range() {
        assert_eq!(prefix_end(b""), None);
        assert_eq!(prefix_end(&[0xFF, 0xFF]), None);
        assert_eq!(prefix_end(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(prefix_end(&[0x01, 0xFF]), Some(vec![0x02]));
    }

    #[test]
    fn schema_names_are_plain_identifiers() {
        assert!(check_schema_name("pedigree_test_1a").is_ok());
        for bad in ["", "1abc", "a-b", "A", "a\"b", &"x".repeat(64)] {
            assert!(check_schema_name(bad).is_err(), "{bad}");
        }
    }
}
