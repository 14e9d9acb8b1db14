//! The running ledger: admission of signed events (actor, signature, nonce, module
//! validate), committing ordered blocks through the shared apply path, and reads for
//! queries. IO (the store) is at the edges; the rules live in [`crate::apply`].

use crate::apply::{self, ApplyError, BlockFault, CONFIG_KEY, CORE, ChainState};
use crate::block::{Block, ProposedBlock, RawEvent, id_key, index_key};
use crate::checked::Checked;
use crate::config::Consortium;
use crate::consortium;
use crate::envelope::{Envelope, VerifiedEnvelope};
use crate::hash::{BlockHash, EventId};
use crate::ids::ActorId;
use crate::keys::{self, Signature};
use crate::merkle::{self, InclusionProof};
use crate::module::{Modules, Notification};
use crate::rejection::{Rejection, codes};
use crate::state::{StateTx, StateView, Writes};
use crate::store::{ChainHead, LocatedEvent, Store, StoreError};
use parking_lot::{Mutex, RwLock};
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

/// Errors opening or committing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A block was not acceptable.
    #[error(transparent)]
    Block(#[from] BlockFault),
    /// The store holds no genesis block yet.
    #[error("NOT_INITIALISED: the data directory holds no chain; run `pedigree init` first")]
    NotInitialised,
    /// `init` on a store that already has a chain.
    #[error("ALREADY_INITIALISED: the store already holds a chain")]
    AlreadyInitialised,
}

impl From<ApplyError> for LedgerError {
    fn from(e: ApplyError) -> Self {
        match e {
            ApplyError::Fault(f) => Self::Block(f),
            ApplyError::Store(s) => Self::Store(s),
        }
    }
}

/// What a committed block tells its watchers: receipts and notifications.
#[derive(Debug, Clone)]
pub struct CommitNotice {
    /// Height of the block.
    pub height: u64,
    /// Its hash.
    pub hash: BlockHash,
    /// Its time.
    pub time: i64,
    /// Each event's id and, when it was refused at apply, the code.
    pub results: Vec<(EventId, Option<String>)>,
    /// Notifications raised by its events.
    pub notifications: Vec<Notification>,
}

/// A stored event with its place in the chain and its proof.
#[derive(Debug, Clone)]
pub struct EventRecord {
    /// The event.
    pub envelope: Envelope,
    /// Its block's height.
    pub height: u64,
    /// Its position in the block.
    pub index: u32,
    /// `None` when applied, else the rejection code it was kept with.
    pub result: Option<String>,
}

/// The ledger of one peer.
pub struct Ledger {
    store: Arc<dyn Store>,
    modules: Modules,
    chain: RwLock<ChainState>,
    /// Highest nonce admitted or committed per actor (loaded lazily from state).
    nonces: Mutex<HashMap<ActorId, u64>>,
    /// Serialises commits so blocks apply one after another.
    commit_lock: Mutex<()>,
    watchers: Mutex<Vec<crossbeam_channel::Sender<Arc<CommitNotice>>>>,
    /// Signatures admission checked, not checked again when their block comes back.
    checked: Checked,
}

impl Ledger {
    /// Opens an initialised store.
    pub fn open(store: Arc<dyn Store>, modules: Modules) -> Result<Self, LedgerError> {
        let head = store.head()?.ok_or(LedgerError::NotInitialised)?;
        let raw = store
            .state_get(consortium::MODULE, CONFIG_KEY)?
            .ok_or_else(|| {
                StoreError::Corrupt("the consortium config is missing from state".into())
            })?;
        let config: Consortium = serde_json::from_slice(&raw).map_err(|e| {
            StoreError::Corrupt(format!("the stored consortium config does not parse: {e}"))
        })?;
        Ok(Self::with_chain(
            store,
            modules,
            ChainState::with(head, config),
        ))
    }

    /// Commits `genesis` to an empty store and opens it.
    pub fn init(
        store: Arc<dyn Store>,
        modules: Modules,
        genesis: Block,
    ) -> Result<Self, LedgerError> {
        if store.head()?.is_some() {
            return Err(LedgerError::AlreadyInitialised);
        }
        let ledger = Self::with_chain(store, modules, ChainState::empty());
        ledger.commit_block(genesis)?;
        Ok(ledger)
    }

    fn with_chain(store: Arc<dyn Store>, modules: Modules, chain: ChainState) -> Self {
        Self {
            store,
            modules,
            chain: RwLock::new(chain),
            nonces: Mutex::new(HashMap::new()),
            commit_lock: Mutex::new(()),
            watchers: Mutex::new(Vec::new()),
            checked: Checked::new(crate::checked::CAPACITY),
        }
    }

    /// The store underneath.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The registered modules.
    pub fn modules(&self) -> &Modules {
        &self.modules
    }

    /// The last committed block.
    pub fn head(&self) -> ChainHead {
        self.chain.read().head.expect("an open ledger has a head")
    }

    /// The consortium config in force.
    pub fn consortium(&self) -> Arc<Consortium> {
        self.chain.read().consortium.clone()
    }

    /// Remember the signatures admission checks, so that the blocks of an orderer
    /// elsewhere (raft) that carry those events do not check them again. Off by default:
    /// under the local orderer admitted events come back through `commit_proposed`,
    /// which checks nothing.
    pub fn remember_checked_signatures(&self) {
        self.checked.enable();
    }

    /// Receives a notice for every block committed from now on.
    pub fn watch(&self) -> crossbeam_channel::Receiver<Arc<CommitNotice>> {
        let (tx, rx) = crossbeam_channel::unbounded();
        self.watchers.lock().push(tx);
        rx
    }

    /// Checks events before ordering: size and shape were checked when they were read;
    /// here the actor, its organisation, the signature (strictly), the nonce and the
    /// module's own `validate`. Each event gets its own answer, in order.
    pub fn admit(&self, events: Vec<Envelope>) -> Vec<Result<VerifiedEnvelope, Rejection>> {
        let chain = self.chain.read().clone();
        let mut answers: Vec<Result<(), Rejection>> = Vec::with_capacity(events.len());
        let mut keys_for = Vec::with_capacity(events.len());
        for e in &events {
            let check = match chain.directory.actor(e.actor()) {
                None => Err(Rejection::new(
                    codes::UNKNOWN_ACTOR,
                    format!("actor {} is not registered", e.actor()),
                )),
                Some((_, _, a)) if a.revoked => Err(Rejection::new(
                    codes::ACTOR_REVOKED,
                    format!("actor {} was revoked", e.actor()),
                )),
                Some((org, _, _)) if org != e.org() => Err(Rejection::new(
                    codes::ORG_MISMATCH,
                    format!("actor {} does not act for {}", e.actor(), e.org()),
                )),
                Some((_, _, a)) => {
                    keys_for.push(a.public_key);
                    Ok(())
                }
            };
            answers.push(check);
        }
        // Signature checks over the events that got this far.
        let mut k = keys_for.iter();
        let items: Vec<_> = events
            .iter()
            .zip(&answers)
            .filter(|(_, a)| a.is_ok())
            .map(|(e, _)| {
                (
                    k.next().expect("one key per admitted actor"),
                    e.bytes(),
                    e.signature(),
                )
            })
            .collect();
        let mut good = keys::verify_many(&items).into_iter();
        for a in answers.iter_mut().filter(|a| a.is_ok()) {
            if !good.next().unwrap_or(false) {
                *a = Err(Rejection::new(
                    codes::BAD_SIGNATURE,
                    "the signature does not verify with the actor's registered key",
                ));
            }
        }
        if self.checked.enabled() {
            self.checked.remember(
                events
                    .iter()
                    .zip(&answers)
                    .filter(|(_, a)| a.is_ok())
                    .map(|(e, _)| (e.id(), e.signature())),
            );
        }
        // Replays and duplicates first (a cheap look), so they are named as such.
        for (e, a) in events.iter().zip(answers.iter_mut()) {
            if a.is_ok() {
                *a = self.check_nonce(e, &mut self.nonces.lock(), false);
            }
        }
        // Module rules against committed state.
        for (e, a) in events.iter().zip(answers.iter_mut()) {
            if a.is_ok() {
                *a = self.validate(&chain, e);
            }
        }
        // Nonces again and recorded, under one lock, so two concurrent admissions cannot
        // both pass.
        let mut nonces = self.nonces.lock();
        for (e, a) in events.iter().zip(answers.iter_mut()) {
            if a.is_ok() {
                *a = self.check_nonce(e, &mut nonces, true);
            }
        }
        drop(nonces);
        events
            .into_iter()
            .zip(answers)
            .map(|(e, a)| a.map(|()| VerifiedEnvelope(e)))
            .collect()
    }

    fn check_nonce(
        &self,
        e: &Envelope,
        nonces: &mut HashMap<ActorId, u64>,
        record: bool,
    ) -> Result<(), Rejection> {
        let last = match nonces.get(e.actor()) {
            Some(n) => Some(*n),
            None => {
                let stored = self
                    .store
                    .state_get(CORE, &apply::nonce_key(e.actor().as_str()))
                    .map_err(|err| {
                        Rejection::new(
                            codes::UNAVAILABLE,
                            format!("the store failed: {}", err.code()),
                        )
                    })?;
                let n = stored.as_deref().map(apply::read_nonce);
                if let Some(n) = n {
                    nonces.insert(e.actor().clone(), n);
                }
                n
            }
        };
        if last.is_some_and(|last| e.body().nonce <= last) {
            return Err(self.replay_rejection(e));
        }
        if record {
            nonces.insert(e.actor().clone(), e.body().nonce);
        }
        Ok(())
    }

    fn replay_rejection(&self, e: &Envelope) -> Rejection {
        if matches!(self.event(&e.id()), Ok(Some(_))) {
            Rejection::new(
                codes::DUPLICATE_EVENT,
                format!("event {} is already on the ledger", e.id()),
            )
        } else {
            Rejection::new(
                codes::NONCE_REPLAYED,
                format!(
                    "nonce {} is not greater than actor {}'s last nonce",
                    e.body().nonce,
                    e.actor()
                ),
            )
        }
    }

    fn validate(&self, chain: &ChainState, e: &Envelope) -> Result<(), Rejection> {
        if e.module().as_str() == consortium::MODULE {
            let mut copy = (*chain.consortium).clone();
            return consortium::apply(&mut copy, e, chain.head.map_or(0, |h| h.height + 1));
        }
        let module = self.modules.get(e.module().as_str())?;
        let empty = Writes::new();
        let error = RefCell::new(None);
        let view = StateTx::new(
            self.store.as_ref(),
            &empty,
            module.name(),
            &chain.consortium,
            &chain.directory,
            &error,
        );
        let out = module.validate(&view, e);
        if let Some(err) = error.into_inner() {
            return Err(Rejection::new(
                codes::UNAVAILABLE,
                format!("the store failed: {}", err.code()),
            ));
        }
        out
    }

    /// Commits a block sealed by this peer's own orderer (events already admitted).
    pub fn commit_proposed(
        &self,
        proposed: ProposedBlock,
    ) -> Result<Arc<CommitNotice>, LedgerError> {
        let verified = vec![true; proposed.block.events.len()];
        self.commit_inner(proposed.block, &verified)
    }

    /// Commits a block from elsewhere (genesis, another peer): every signature is checked.
    pub fn commit_block(&self, block: Block) -> Result<Arc<CommitNotice>, LedgerError> {
        // Signatures of actors registered before the block are checked up front, spread
        // over the cores. An actor id is never reused and its key never changes (the
        // config refuses duplicates), so such a check holds anywhere in the block; apply
        // still checks who the actor is and whether it was revoked by then. Events of
        // actors added within the block are checked in apply. An orderer only orders
        // events whose signatures it checked, so a block holding a forged one comes from
        // a faulty or dishonest orderer and is refused whole, before anything is applied.
        // Signatures this peer checked at admission are not checked again.
        let directory = self.chain.read().directory.clone();
        let mut verified = self
            .checked
            .take(block.events.iter().map(|e| (e.id(), e.signature())));
        let known: Vec<(usize, &keys::PublicKey)> = block
            .events
            .iter()
            .enumerate()
            .filter(|(i, _)| !verified[*i])
            .filter_map(|(i, e)| {
                directory
                    .actor(e.actor())
                    .map(|(_, _, a)| (i, &a.public_key))
            })
            .collect();
        let items: Vec<_> = known
            .iter()
            .map(|&(i, key)| {
                let e = &block.events[i];
                (key, e.bytes(), e.signature())
            })
            .collect();
        for (&(i, _), good) in known.iter().zip(keys::verify_many(&items)) {
            if !good {
                return Err(LedgerError::Block(BlockFault {
                    code: "BAD_EVENT_SIGNATURE",
                    height: block.header.height,
                    message: format!(
                        "event {i} ({}) does not verify with its actor's key",
                        block.events[i].id()
                    ),
                }));
            }
            verified[i] = true;
        }
        drop(items);
        self.commit_inner(block, &verified)
    }

    fn commit_inner(
        &self,
        block: Block,
        verified: &[bool],
    ) -> Result<Arc<CommitNotice>, LedgerError> {
        let _serial = self.commit_lock.lock();
        let chain = self.chain.read().clone();
        let committed =
            apply::apply_block(self.store.as_ref(), &self.modules, &chain, block, verified)
                .map_err(LedgerError::from)
                .and_then(|(applied, next)| {
                    self.store
                        .commit(&applied)
                        .map(|()| (applied, next))
                        .map_err(Into::into)
                });
        let (applied, next) = match committed {
            Ok(ok) => ok,
            Err(e) => {
                // Admitted nonces of the lost block must be usable again.
                self.nonces.lock().clear();
                return Err(e);
            }
        };
        *self.chain.write() = next;
        {
            // Blocks from elsewhere carry nonces this peer never admitted.
            let mut nonces = self.nonces.lock();
            for e in &applied.block().events {
                let n = nonces.entry(e.actor().clone()).or_insert(0);
                *n = (*n).max(e.body().nonce);
            }
        }
        let notice = Arc::new(CommitNotice {
            height: applied.block().header.height,
            hash: applied.hash(),
            time: applied.block().header.time,
            results: applied
                .block()
                .events
                .iter()
                .map(|e| e.id())
                .zip(applied.results().iter().cloned())
                .collect(),
            notifications: applied.notifications().to_vec(),
        });
        metrics_note(&notice);
        self.watchers
            .lock()
            .retain(|w| w.send(notice.clone()).is_ok());
        Ok(notice)
    }

    /// Runs `f` with a read-only view of `module`'s committed state (for queries).
    pub fn read<T>(
        &self,
        module: &str,
        f: impl FnOnce(&dyn StateView) -> T,
    ) -> Result<T, StoreError> {
        let chain = self.chain.read().clone();
        let empty = Writes::new();
        let error = RefCell::new(None);
        let view = StateTx::new(
            self.store.as_ref(),
            &empty,
            module,
            &chain.consortium,
            &chain.directory,
            &error,
        );
        let out = f(&view);
        match error.into_inner() {
            Some(e) => Err(e),
            None => Ok(out),
        }
    }

    /// The stored event with this id.
    pub fn event(&self, id: &EventId) -> Result<Option<EventRecord>, StoreError> {
        for located in self.store.events_by_id_key(id_key(id))? {
            let record = to_record(located)?;
            if record.envelope.id() == *id {
                return Ok(Some(record));
            }
        }
        Ok(None)
    }

    /// Events a module indexed under `key` (for example every event of one item), oldest
    /// first, at most `limit`.
    pub fn events_by_key(&self, key: &[u8], limit: usize) -> Result<Vec<EventRecord>, StoreError> {
        self.store
            .events_by_index_key(index_key(key), limit)?
            .into_iter()
            .map(to_record)
            .collect()
    }

    /// The block at `height`, read back and re-parsed.
    pub fn block(&self, height: u64) -> Result<Option<Block>, StoreError> {
        let Some(raw) = self.store.raw_block(height)? else {
            return Ok(None);
        };
        let header: crate::block::BlockHeader = serde_json::from_slice(&raw.header)
            .map_err(|e| StoreError::Corrupt(format!("header of block {height}: {e}")))?;
        let signature = Signature::from_slice(&raw.signature)
            .ok_or_else(|| StoreError::Corrupt(format!("signature of block {height}")))?;
        let events = raw
            .events
            .into_iter()
            .map(to_envelope)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(Block {
            header,
            signature,
            events,
        }))
    }

    /// A Merkle inclusion proof for a stored event, with its block's header.
    pub fn proof(
        &self,
        id: &EventId,
    ) -> Result<Option<(crate::block::BlockHeader, InclusionProof)>, StoreError> {
        let Some(record) = self.event(id)? else {
            return Ok(None);
        };
        self.prove_at(record.height, record.index)
            .map(|found| found.map(|(header, _, proof)| (header, proof)))
    }

    /// The header of block `height`, the id of its event `index` and that event's
    /// inclusion proof, or `None` when there is no such event. Reads the event's chunk and
    /// the block's stored Merkle nodes, not the whole block; the proof is checked against
    /// the header's root before it is returned, so damaged stored nodes are reported as
    /// corruption rather than handed out.
    pub fn prove_at(&self, height: u64, index: u32) -> Result<Option<Proved>, StoreError> {
        let parts = self.store.proof_parts(height, index)?;
        parts.map_or(Ok(None), |p| prove_from_parts(height, index, p))
    }

    /// [`Ledger::prove_at`] for many events, in the order asked, with one store request.
    pub fn prove_many(&self, positions: &[(u64, u32)]) -> Result<Vec<Option<Proved>>, StoreError> {
        let parts = self.store.proof_parts_many(positions)?;
        if parts.len() != positions.len() {
            return Err(StoreError::Corrupt(format!(
                "asked for {} proofs, the store answered {}",
                positions.len(),
                parts.len()
            )));
        }
        positions
            .iter()
            .zip(parts)
            .map(|(&(height, index), p)| p.map_or(Ok(None), |p| prove_from_parts(height, index, p)))
            .collect()
    }
}

/// A proved event: its block's header, its id and its inclusion proof.
pub type Proved = (crate::block::BlockHeader, EventId, InclusionProof);

fn prove_from_parts(
    height: u64,
    index: u32,
    parts: crate::store::ProofParts,
) -> Result<Option<Proved>, StoreError> {
    let corrupt = |what: &str| StoreError::Corrupt(format!("block {height}: {what}"));
    if u64::from(index) >= parts.event_count {
        return Ok(None);
    }
    let header: crate::block::BlockHeader =
        serde_json::from_slice(&parts.header).map_err(|e| corrupt(&format!("header: {e}")))?;
    let ids: Vec<EventId> = parts
        .bodies
        .iter()
        .map(|b| EventId(crate::hash::sha256(b).0))
        .collect();
    let id = *index
        .checked_sub(parts.first_index)
        .and_then(|at| ids.get(at as usize))
        .ok_or_else(|| corrupt("the stored events do not cover the event"))?;
    let size = parts.event_count as usize;
    let proof = match &parts.tree {
        Some(nodes) => merkle::prove_from_parts(size, index as usize, &ids, nodes),
        None if ids.len() == size => merkle::prove(&ids, index as usize),
        None => None,
    }
    .ok_or_else(|| corrupt("the stored Merkle nodes do not fit the block"))?;
    if !proof.verify(&id, &header.merkle_root) {
        return Err(corrupt(
            "the stored Merkle nodes do not lead to the header's root",
        ));
    }
    Ok(Some((header, id, proof)))
}

fn to_envelope(raw: RawEvent) -> Result<Envelope, StoreError> {
    let signature = Signature::from_slice(&raw.signature)
        .ok_or_else(|| StoreError::Corrupt(format!("signature of event {}", raw.seq)))?;
    Envelope::from_own_store(raw.body, signature)
        .map_err(|r| StoreError::Corrupt(format!("event {}: {r}", raw.seq)))
}

fn to_record(located: LocatedEvent) -> Result<EventRecord, StoreError> {
    let result = located.event.result.clone();
    Ok(EventRecord {
        envelope: to_envelope(located.event)?,
        height: located.height,
        index: located.index,
        result,
    })
}

fn metrics_note(notice: &CommitNotice) {
    tracing::debug!(
        height = notice.height,
        events = notice.results.len(),
        "block committed"
    );
}
