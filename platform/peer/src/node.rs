//! One running peer in process: the store, the ledger with every module registered, the
//! orderer, and the custodial signers. The one place modules are registered.

use crate::config::{DataDir, StoreConfig};
use anyhow::{Context, Result};
use ledger::{ActorId, Ledger, Modules, Orderer, Receipt, Rejection, Signer, SqliteStore, Store};
use serde_json::Value;
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
    /// The off-chain EMR store, on a peer whose config has `[emr]`.
    pub emr: Option<Arc<emr::EmrStore>>,
    /// Consent state in memory, kept at the chain head: what EMR access decides on.
    pub consents: Arc<consent::ConsentIndex>,
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
        let emr = match &dir.config.emr {
            Some(c) => {
                let key = emr::Key::read(&dir.path(&c.key_file))?;
                let path = dir.path(&c.path);
                Some(Arc::new(emr::EmrStore::open(&path, &key).with_context(
                    || format!("cannot open the EMR store {}", path.display()),
                )?))
            }
            None => None,
        };
        let consents =
            consent::ConsentIndex::start(&ledger).context("loading the consent index")?;
        Ok(Self {
            dir,
            ledger,
            orderer,
            signers,
            emr,
            consents,
            raft,
        })
    }

    /// Signs `(kind, payload)` events of `module` with `actor`'s custodial key, admits
    /// and orders them, and answers once their block is committed (or `COMMIT_TIMEOUT`
    /// after [`crate::http::COMMIT_WAIT`]). A refusal at admission is the rejection.
    pub async fn commit_as(
        &self,
        actor: &ActorId,
        module: &str,
        events: Vec<(&str, Value)>,
    ) -> Result<Receipt, Rejection> {
        let signer = self.signers.get(actor).cloned().ok_or_else(|| {
            Rejection::new(
                "NO_CUSTODIAL_KEY",
                format!(
                    "this peer holds no key for {actor}; sign the events yourself and POST them to /events"
                ),
            )
        })?;
        let envelopes = events
            .into_iter()
            .map(|(kind, payload)| signer.event(module, kind, payload))
            .collect();
        let admitted = self
            .ledger
            .admit(envelopes)
            .into_iter()
            .collect::<Result<Vec<_>, Rejection>>()?;
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.orderer
            .submit(admitted, Box::new(move |r| drop(tx.send(r))));
        let wait = crate::http::COMMIT_WAIT;
        match tokio::time::timeout(wait, rx).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(_)) => Err(Rejection::new(
                "UNAVAILABLE",
                "the ordering service stopped; try again",
            )),
            Err(_) => Err(Rejection::new(
                "COMMIT_TIMEOUT",
                format!(
                    "the events were accepted but not committed within {} s; look them up before sending them again",
                    wait.as_secs()
                ),
            )),
        }
    }
}
