//! Checking a block against the chain and applying its events: one pure function shared
//! by the running ledger and the audit's replay, so both compute the same results, state
//! and digests by construction.

use crate::block::{Block, index_key};
use crate::config::{Consortium, Directory};
use crate::consortium;
use crate::envelope::Envelope;
use crate::hash::{BlockHash, Digest};
use crate::merkle;
use crate::module::{BlockCtx, Modules};
use crate::rejection::{Rejection, codes};
use crate::state::{StateSource, StateTx, Writes};
use crate::store::{AppliedBlock, ChainHead, StoreError};
use sha2::{Digest as _, Sha256};
use std::cell::RefCell;
use std::sync::Arc;

/// The state namespace the core keeps actors' last nonces in.
pub const CORE: &str = "core";
/// Key of the consortium config in the `consortium` namespace.
pub const CONFIG_KEY: &[u8] = b"config";

/// What is known about the chain between blocks.
#[derive(Debug, Clone)]
pub struct ChainState {
    /// The last block, `None` before genesis.
    pub head: Option<ChainHead>,
    /// The consortium config in force.
    pub consortium: Arc<Consortium>,
    /// Its actor directory.
    pub directory: Arc<Directory>,
}

impl ChainState {
    /// Before genesis.
    pub fn empty() -> Self {
        let consortium = Consortium {
            name: String::new(),
            governors: vec![],
            organizations: vec![],
            peers: vec![],
        };
        Self {
            head: None,
            directory: Arc::new(consortium.directory()),
            consortium: Arc::new(consortium),
        }
    }

    /// After a block that set `consortium`.
    pub fn with(head: ChainHead, consortium: Consortium) -> Self {
        Self {
            head: Some(head),
            directory: Arc::new(consortium.directory()),
            consortium: Arc::new(consortium),
        }
    }
}

/// Why a block cannot be committed. Codes are stable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code} at block {height}: {message}")]
pub struct BlockFault {
    /// Stable code, e.g. `BAD_MERKLE_ROOT`.
    pub code: &'static str,
    /// The block's height.
    pub height: u64,
    /// What is wrong.
    pub message: String,
}

/// Failure to apply a block: a fault in the block, or the store failing underneath.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    /// The block is not acceptable.
    #[error(transparent)]
    Fault(#[from] BlockFault),
    /// The store failed while reading state.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn fault(code: &'static str, height: u64, message: impl Into<String>) -> BlockFault {
    BlockFault {
        code,
        height,
        message: message.into(),
    }
}

/// Checks the header against the chain: height, link, time, event count, Merkle root and
/// the orderer's signature. Returns the consortium the block's orderer is checked against
/// and the block's Merkle tree.
pub fn check_header(
    chain: &ChainState,
    block: &Block,
) -> Result<(Consortium, merkle::Tree), BlockFault> {
    let h = &block.header;
    let (want_height, want_prev, min_time) = match &chain.head {
        None => (0, BlockHash::ZERO, i64::MIN),
        Some(head) => (head.height + 1, head.hash, head.time),
    };
    if h.height != want_height {
        return Err(fault(
            "BAD_HEIGHT",
            h.height,
            format!("expected height {want_height}"),
        ));
    }
    if h.previous != want_prev {
        return Err(fault(
            "BAD_PREVIOUS_HASH",
            h.height,
            format!("previous hash should be {want_prev}"),
        ));
    }
    if h.time < min_time {
        return Err(fault(
            "BAD_TIME",
            h.height,
            "block time is before the previous block's",
        ));
    }
    if h.event_count as usize != block.events.len() {
        return Err(fault(
            "BAD_EVENT_COUNT",
            h.height,
            "the header's event count does not match the events",
        ));
    }
    let tree = merkle::Tree::new(&block.ids());
    if tree.root() != h.merkle_root {
        return Err(fault(
            "BAD_MERKLE_ROOT",
            h.height,
            "the Merkle root does not match the events",
        ));
    }
    let config = if h.height == 0 {
        if block.events.len() != 1 {
            return Err(fault(
                "BAD_GENESIS",
                0,
                "block 0 must hold exactly one consortium/genesis event",
            ));
        }
        consortium::genesis_config(&block.events[0])
            .map_err(|r| fault("BAD_GENESIS", 0, r.to_string()))?
    } else {
        (*chain.consortium).clone()
    };
    let peer = config.peer(&h.orderer).ok_or_else(|| {
        fault(
            "UNKNOWN_ORDERER",
            h.height,
            format!("{} is not a peer of the consortium", h.orderer),
        )
    })?;
    if !peer
        .public_key
        .verify(&h.canonical_bytes(), &block.signature)
    {
        return Err(fault(
            "BAD_ORDERER_SIGNATURE",
            h.height,
            "the orderer's signature does not verify",
        ));
    }
    Ok((config, tree))
}

/// Applies a header-checked block. `verified[i]` says event `i`'s signature was already
/// checked (at admission); others are checked here against the actor directory as it
/// stands at that point of the block.
pub fn apply_block(
    base: &dyn StateSource,
    modules: &Modules,
    chain: &ChainState,
    block: Block,
    verified: &[bool],
) -> Result<(AppliedBlock, ChainState), ApplyError> {
    let (mut config, tree) = check_header(chain, &block)?;
    let height = block.header.height;
    let first_seq = chain.head.map_or(0, |h| h.next_seq);
    let mut directory = if height == 0 {
        Arc::new(config.directory())
    } else {
        chain.directory.clone()
    };
    let mut writes = Writes::new();
    let mut results = Vec::with_capacity(block.events.len());
    let mut index = Vec::new();
    let mut notifications = Vec::new();
    let error = RefCell::new(None);

    if height == 0 {
        writes.insert(
            (consortium::MODULE.into(), CONFIG_KEY.to_vec()),
            Some(config_bytes(&config)),
        );
        results.push(None);
    } else {
        for (i, event) in block.events.iter().enumerate() {
            let ctx = BlockCtx {
                height,
                time: block.header.time,
                index: i as u32,
                event_id: event.id(),
            };
            let pre_verified = verified.get(i).copied().unwrap_or(false);
            let outcome = apply_event(
                base,
                modules,
                &mut config,
                &mut directory,
                &mut writes,
                event,
                &ctx,
                pre_verified,
                &error,
            );
            if let Some(e) = error.borrow_mut().take() {
                return Err(e.into());
            }
            match outcome {
                Ok(effects) => {
                    let seq = first_seq + i as u64;
                    index.extend(effects.index.iter().map(|k| (index_key(k), seq)));
                    notifications.extend(effects.notifications);
                    results.push(None);
                }
                Err(r) => results.push(Some(r.code.into_owned())),
            }
        }
    }
    index.sort_unstable();
    index.dedup();
    let previous_digest = chain.head.map_or(Digest::ZERO, |h| h.state_digest);
    let state_digest = digest_writes(&previous_digest, &writes);
    let hash = block.hash();
    let applied = AppliedBlock {
        block,
        hash,
        first_seq,
        results,
        writes,
        index,
        state_digest,
        notifications,
        tree: tree.upper_levels(),
    };
    let next = ChainState::with(applied.head(), config);
    Ok((applied, next))
}

#[allow(clippy::too_many_arguments)]
fn apply_event(
    base: &dyn StateSource,
    modules: &Modules,
    config: &mut Consortium,
    directory: &mut Arc<Directory>,
    writes: &mut Writes,
    event: &Envelope,
    ctx: &BlockCtx,
    pre_verified: bool,
    error: &RefCell<Option<StoreError>>,
) -> Result<crate::module::Effects, Rejection> {
    let (org, _, actor) = directory.actor(event.actor()).ok_or_else(|| {
        Rejection::new(
            codes::UNKNOWN_ACTOR,
            format!("actor {} is not registered", event.actor()),
        )
    })?;
    if !pre_verified && !actor.public_key.verify(event.bytes(), event.signature()) {
        return Err(Rejection::new(
            codes::BAD_SIGNATURE,
            "the signature does not verify with the actor's key",
        ));
    }
    if org != event.org() {
        return Err(Rejection::new(
            codes::ORG_MISMATCH,
            format!("actor {} does not act for {}", event.actor(), event.org()),
        ));
    }
    if actor.revoked {
        return Err(Rejection::new(
            codes::ACTOR_REVOKED,
            format!("actor {} was revoked", event.actor()),
        ));
    }
    // The nonce is consumed by inclusion, whatever the module decides.
    let nonce_key = nonce_key(event.actor().as_str());
    let last = {
        match crate::state::lookup(writes, CORE, &nonce_key) {
            Some(v) => v.as_deref().map(read_nonce),
            None => match base.state_get(CORE, &nonce_key) {
                Ok(v) => v.as_deref().map(read_nonce),
                Err(e) => {
                    *error.borrow_mut() = Some(e);
                    return Err(Rejection::new(codes::UNAVAILABLE, "store failure"));
                }
            },
        }
    };
    if last.is_some_and(|last| event.body().nonce <= last) {
        return Err(Rejection::new(
            codes::NONCE_REPLAYED,
            "the nonce is not greater than the actor's last one",
        ));
    }
    writes.insert(
        (CORE.to_string(), nonce_key),
        Some(event.body().nonce.to_be_bytes().to_vec()),
    );

    if event.module().as_str() == consortium::MODULE {
        consortium::apply(config, event, ctx.height)?;
        writes.insert(
            (consortium::MODULE.into(), CONFIG_KEY.to_vec()),
            Some(config_bytes(config)),
        );
        *directory = Arc::new(config.directory());
        return Ok(Default::default());
    }
    let module = modules.get(event.module().as_str())?;
    let mut tx = StateTx::new(base, writes, module.name(), config, directory, error);
    let effects = module.apply(&mut tx, event, ctx)?;
    let event_writes = tx.into_writes();
    writes.extend(event_writes);
    Ok(effects)
}

/// The state key of an actor's last nonce.
pub fn nonce_key(actor: &str) -> Vec<u8> {
    let mut k = b"nonce/".to_vec();
    k.extend_from_slice(actor.as_bytes());
    k
}

/// Reads a stored nonce (8 bytes, big-endian); anything else reads as 0.
pub fn read_nonce(bytes: &[u8]) -> u64 {
    <[u8; 8]>::try_from(bytes)
        .map(u64::from_be_bytes)
        .unwrap_or(0)
}

fn config_bytes(config: &Consortium) -> Vec<u8> {
    serde_json_canonicalizer::to_vec(config).expect("config serialises")
}

/// The running state digest: SHA-256 over the previous digest and this block's writes in
/// key order, each field length-prefixed so no two write sets encode alike.
pub fn digest_writes(previous: &Digest, writes: &Writes) -> Digest {
    let mut h = Sha256::new();
    h.update(previous.as_bytes());
    for ((module, key), value) in writes {
        h.update((module.len() as u32).to_be_bytes());
        h.update(module.as_bytes());
        h.update((key.len() as u32).to_be_bytes());
        h.update(key);
        match value {
            Some(v) => {
                h.update([1]);
                h.update((v.len() as u32).to_be_bytes());
                h.update(v);
            }
            None => h.update([0]),
        }
    }
    Digest(h.finalize().into())
}
