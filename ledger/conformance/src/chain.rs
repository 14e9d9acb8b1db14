//! What the suite writes: a tiny consortium with deterministic keys, a test-only module
//! (`notebook`) that puts and deletes arbitrary byte keys, and helpers that make blocks,
//! either through a [`Ledger`] or in memory as [`AppliedBlock`]s for the trait directly.

use ledger::apply::{self, ChainState};
use ledger::block::{RawBlock, RawEvent, id_key};
use ledger::config::{Actor, Consortium, OrgRole, Organization, PeerInfo};
use ledger::hash::sha256;
use ledger::rejection::codes;
use ledger::state::MemState;
use ledger::store::AppliedBlock;
use ledger::{
    ActorId, Block, BlockCtx, Effects, Envelope, Ledger, Module, Modules, OrgId, PeerId, Rejection,
    SecretKey, Signer, StateTx, StateView,
};
use serde_json::{Value, json};

/// The module's name.
pub const NOTEBOOK: &str = "notebook";
/// Time of the suite's genesis block (Unix milliseconds).
pub const GENESIS_TIME: i64 = 1_700_000_000_000;
/// The apply-time rejection code of `refuse` events.
pub const REFUSED: &str = "NOTEBOOK_REFUSED";

/// A test-only module. Payload `key` is hex (any bytes, 0xFF included):
/// `put {key, value}` stores the value's UTF-8 bytes, `delete {key}` removes the key,
/// `refuse {key}` writes and then fails at apply (so its write must not stick). Every
/// event is indexed under its key's bytes.
pub struct Notebook;

fn payload_key(event: &Envelope) -> Option<Vec<u8>> {
    event
        .payload()
        .get("key")
        .and_then(Value::as_str)
        .and_then(|k| hex::decode(k).ok())
}

impl Module for Notebook {
    fn name(&self) -> &'static str {
        NOTEBOOK
    }

    fn validate(&self, _state: &dyn StateView, event: &Envelope) -> Result<(), Rejection> {
        if !matches!(event.kind(), "put" | "delete" | "refuse") {
            return Err(Rejection::new(
                codes::UNKNOWN_KIND,
                format!("the notebook has no kind {}", event.kind()),
            ));
        }
        payload_key(event)
            .map(|_| ())
            .ok_or_else(|| Rejection::new(codes::BAD_PAYLOAD, "key must be hex"))
    }

    fn apply(
        &self,
        state: &mut StateTx<'_>,
        event: &Envelope,
        _ctx: &BlockCtx,
    ) -> Result<Effects, Rejection> {
        let key = payload_key(event)
            .ok_or_else(|| Rejection::new(codes::BAD_PAYLOAD, "key must be hex"))?;
        match event.kind() {
            "put" => {
                let value = event.payload()["value"].as_str().unwrap_or_default();
                state.put(&key, value.as_bytes().to_vec());
            }
            "delete" => state.delete(&key),
            "refuse" => {
                state.put(&key, b"must not stick".to_vec());
                return Err(Rejection::new(REFUSED, "refuse events always fail"));
            }
            k => {
                return Err(Rejection::new(
                    codes::UNKNOWN_KIND,
                    format!("the notebook has no kind {k}"),
                ));
            }
        }
        Ok(Effects {
            index: vec![key],
            ..Default::default()
        })
    }
}

/// The modules the suite's ledgers run (and the audit replays with).
pub fn modules() -> Modules {
    Modules::new().with(Notebook)
}

/// A deterministic key for a public name: tests only.
pub fn key(name: &str) -> SecretKey {
    SecretKey::from_seed(&sha256(format!("store-conformance/{name}").as_bytes()).0)
}

/// The one peer, which orders every block.
pub fn peer_id() -> PeerId {
    PeerId::new("peer-1").expect("valid peer id")
}

/// The peer's key.
pub fn peer_key() -> SecretKey {
    key("peer/peer-1")
}

fn actor(id: &str, roles: &[&str]) -> Actor {
    Actor {
        id: ActorId::new(id).expect("valid actor id"),
        public_key: key(id).public(),
        roles: roles.iter().map(|r| r.to_string()).collect(),
        revoked: false,
    }
}

/// A regulator that governs, and a manufacturer with two clerks who write notes.
pub fn consortium() -> Consortium {
    Consortium {
        name: "store-conformance".into(),
        governors: vec![OrgId::new("regulator").expect("valid org")],
        organizations: vec![
            Organization {
                id: OrgId::new("regulator").expect("valid org"),
                name: "Regulator".into(),
                role: OrgRole::Regulator,
                glns: vec![],
                company_prefixes: vec![],
                actors: vec![actor("regulator/admin", &["admin"])],
            },
            Organization {
                id: OrgId::new("maker").expect("valid org"),
                name: "Maker".into(),
                role: OrgRole::Manufacturer,
                glns: vec![],
                company_prefixes: vec![],
                actors: vec![actor("maker/clerk", &[]), actor("maker/clerk-2", &[])],
            },
        ],
        peers: vec![PeerInfo {
            id: peer_id(),
            org: OrgId::new("regulator").expect("valid org"),
            endpoint: "http://127.0.0.1:1".into(),
            public_key: peer_key().public(),
            voter: true,
        }],
    }
}

/// A signer for one of the consortium's actors (`maker/clerk`, `maker/clerk-2`).
pub fn signer(actor: &str) -> Signer {
    let org = actor.split('/').next().expect("org/name");
    Signer::new(
        ActorId::new(actor).expect("valid actor"),
        OrgId::new(org).expect("valid org"),
        key(actor),
    )
}

/// The genesis block at `time` (two times give two different chains).
pub fn genesis_at(time: i64) -> Block {
    ledger::genesis::genesis_block(
        &consortium(),
        (
            &ActorId::new("regulator/admin").expect("valid actor"),
            &OrgId::new("regulator").expect("valid org"),
            &key("regulator/admin"),
        ),
        (&peer_id(), &peer_key()),
        time,
    )
}

/// The suite's genesis block.
pub fn genesis() -> Block {
    genesis_at(GENESIS_TIME)
}

/// A `put` event.
pub fn put(signer: &Signer, key: &[u8], value: &str) -> Envelope {
    signer.event(
        NOTEBOOK,
        "put",
        json!({"key": hex::encode(key), "value": value}),
    )
}

/// A `delete` event.
pub fn delete(signer: &Signer, key: &[u8]) -> Envelope {
    signer.event(NOTEBOOK, "delete", json!({"key": hex::encode(key)}))
}

/// A `refuse` event (fails at apply, kept with [`REFUSED`]).
pub fn refuse(signer: &Signer, key: &[u8]) -> Envelope {
    signer.event(NOTEBOOK, "refuse", json!({"key": hex::encode(key)}))
}

/// Seals `events` into the block after the ledger's head, one second later.
pub fn seal_next(ledger: &Ledger, events: Vec<Envelope>) -> Block {
    let head = ledger.head();
    Block::seal(
        head.height + 1,
        head.hash,
        head.time + 1_000,
        peer_id(),
        &peer_key(),
        events,
    )
}

/// Seals and commits `events` through the ledger (every signature is checked).
pub fn commit(ledger: &Ledger, events: Vec<Envelope>) -> Block {
    let block = seal_next(ledger, events);
    ledger
        .commit_block(block.clone())
        .expect("the ledger commits the block");
    block
}

/// A chain kept in memory, making [`AppliedBlock`]s the way the ledger does, so the suite
/// can hand a store blocks directly (including ones that do not fit the store's head).
pub struct MemChain {
    state: MemState,
    chain: ChainState,
    modules: Modules,
}

impl MemChain {
    /// Starts a chain from the genesis block at `time`; returns it with applied genesis.
    pub fn new(time: i64) -> (Self, AppliedBlock) {
        let mut chain = Self {
            state: MemState::default(),
            chain: ChainState::empty(),
            modules: modules(),
        };
        let genesis = chain.apply(genesis_at(time));
        (chain, genesis)
    }

    fn apply(&mut self, block: Block) -> AppliedBlock {
        let (applied, next) =
            apply::apply_block(&self.state, &self.modules, &self.chain, block, &[])
                .expect("the suite's blocks apply");
        self.state.apply(applied.writes());
        self.chain = next;
        applied
    }

    /// Seals `events` after the chain's head and applies them.
    pub fn next(&mut self, events: Vec<Envelope>) -> AppliedBlock {
        let head = self.chain.head.expect("the chain has genesis");
        self.apply(Block::seal(
            head.height + 1,
            head.hash,
            head.time + 1_000,
            peer_id(),
            &peer_key(),
            events,
        ))
    }
}

/// The rows a store must read back for `applied`.
pub fn expected_rows(applied: &AppliedBlock) -> RawBlock {
    let block = applied.block();
    let height = block.header.height;
    RawBlock {
        height,
        hash: applied.hash().as_bytes().to_vec(),
        header: block.header.canonical_bytes(),
        signature: block.signature.to_bytes().to_vec(),
        state_digest: applied.state_digest().as_bytes().to_vec(),
        first_seq: applied.first_seq(),
        event_count: block.events.len() as u64,
        tree: Some(applied.tree().to_vec()),
        events: block
            .events
            .iter()
            .zip(applied.results())
            .enumerate()
            .map(|(i, (e, result))| RawEvent {
                seq: applied.first_seq() + i as u64,
                height,
                body: e.bytes().to_vec(),
                signature: e.signature().to_bytes().to_vec(),
                result: result.clone(),
                id_key: id_key(&e.id()),
            })
            .collect(),
    }
}
