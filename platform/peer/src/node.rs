//! One running peer in process: the store, the ledger with every module registered, the
//! orderer, and the custodial signers. The one place modules are registered.

use crate::config::{DataDir, StoreConfig};
use anyhow::{Context, Result};
use ledger::{ActorId, Ledger, Modules, Orderer, Signer, SqliteStore, Store};
use std::collections::BTreeMap;
use std::sync::Arc;
use store_postgres::PgStore;

mod evidence;

/// Every module this peer runs. The audit replays with the same set.
pub fn modules() -> Modules {
    Modules::new()
        .with(anchor::Anchor)
        .with(trace::Trace)
        .with(consent::Consent)
        .with(claims::Claims::new(
            Arc::new(evidence::TraceEvidence),
            Arc::new(evidence::ConsentForPayment),
        ))
}

/// A running peer.
pub struct Node {
    /// The data directory.
    pub dir: DataDir,
    /// The ledger.
    pub ledger: Arc<Ledger>,
    /// The orderer.
    pub orderer: Arc<dyn Orderer>,
    /// Signers for actors whose keys this peer holds.
    pub signers: BTreeMap<ActorId, Arc<Signer>>,
    /// The raft, when the orderer is `raft` (answers other peers on `/raft/...`).
    pub raft: Option<Arc<raft_orderer::RaftNode>>,
}

/// Opens the store a data directory's config names (SQLite unless it says otherwise).
pub fn open_store(dir: &DataDir) -> Result<Arc<dyn Store>> {
    match &dir.config.store {
        StoreConfig::Sqlite { path } => {
            let path = dir.path(path);
            Ok(Arc::new(SqliteStore::open(&path).with_context(|| {
                format!("cannot open the store {}", path.display())
            })?))
        }
        StoreConfig::Postgres { url, schema } => Ok(Arc::new(
            PgStore::open(url, schema.as_deref()).with_context(|| {
                format!(
                    "cannot open the PostgreSQL store (schema {})",
                    schema.as_deref().unwrap_or("public")
                )
            })?,
        )),
    }
}

impl Node {
    /// Opens the ledger in `dir` and starts its orderer.
    pub fn start(dir: DataDir) -> Result<Self> {
        let store = open_store(&dir)?;
        let ledger = Arc::new(Ledger::open(store, modules()).context("opening the ledger")?);
        let key = dir.peer_key()?;
        let (orderer, raft) = crate::network::orderer(&dir, &ledger, key)?;
        let consortium = ledger.consortium();
        let directory = consortium.directory();
        let mut signers = BTreeMap::new();
        for (actor, key) in dir.actor_keys()? {
            let Some((org, _, registered)) = directory.actor(&actor) else {
                tracing::warn!(%actor, "a custodial key names an actor that is not in the consortium; ignored");
                continue;
            };
            if registered.public_key != key.public() {
                tracing::warn!(%actor, "a custodial key does not match the actor's registered key; ignored");
                continue;
            }
            signers.insert(
                actor.clone(),
                Arc::new(Signer::new(actor, org.clone(), key)),
            );
        }
        Ok(Self {
            dir,
            ledger,
            orderer,
            signers,
            raft,
        })
    }
}
