//! Test support: a small consortium, a test-only module and a ledger on a temporary
//! SQLite file with the solo orderer.
#![allow(dead_code, missing_docs)]

use ledger::config::{Actor, Consortium, OrgRole, Organization, PeerInfo};
use ledger::rejection::codes;
use ledger::state::StateViewExt;
use ledger::{
    ActorId, BlockCtx, CutPolicy, Effects, Envelope, Ledger, Module, Modules, Notification, OrgId,
    PeerId, Receipt, Rejection, SecretKey, Signer, SoloOrderer, SqliteStore, StateTx, StateView,
};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

/// A test-only module: a key-value notebook. `put {key, value}` writes, `bump {key}`
/// increments a counter and fails at apply when the key is `"fail"`, `alert` notifies.
pub struct Notes;

impl Module for Notes {
    fn name(&self) -> &'static str {
        "notes"
    }

    fn validate(&self, _state: &dyn StateView, event: &Envelope) -> Result<(), Rejection> {
        match event.kind() {
            "put" | "bump" | "alert" => {}
            k => return Err(Rejection::new(codes::UNKNOWN_KIND, format!("no kind {k}"))),
        }
        if event.payload().get("key").and_then(Value::as_str).is_none() {
            return Err(Rejection::new(codes::BAD_PAYLOAD, "key is required"));
        }
        Ok(())
    }

    fn apply(
        &self,
        state: &mut StateTx<'_>,
        event: &Envelope,
        ctx: &BlockCtx,
    ) -> Result<Effects, Rejection> {
        let key = event.payload()["key"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let mut effects = Effects {
            index: vec![format!("note:{key}").into_bytes()],
            ..Default::default()
        };
        match event.kind() {
            "put" => state.put_json(
                key.as_bytes(),
                &json!({"value": event.payload()["value"], "at": ctx.time}),
            ),
            "bump" => {
                if key == "fail" {
                    state.put(b"should-not-stick", b"x".to_vec());
                    return Err(Rejection::new(
                        "BUMP_REFUSED",
                        "bumping 'fail' always fails",
                    ));
                }
                let n: u64 = state
                    .get_json(format!("count/{key}").as_bytes())
                    .unwrap_or(0);
                state.put_json(format!("count/{key}").as_bytes(), &(n + 1));
            }
            "alert" => effects.notifications.push(Notification {
                topic: "alert".into(),
                orgs: vec![event.org().clone()],
                body: json!({"key": key}),
            }),
            k => return Err(Rejection::new(codes::UNKNOWN_KIND, format!("no kind {k}"))),
        }
        Ok(effects)
    }
}

pub fn key(name: &str) -> SecretKey {
    let mut seed = [0u8; 32];
    for (i, b) in name.bytes().enumerate() {
        seed[i % 32] ^= b.wrapping_add(i as u8);
    }
    seed[31] ^= 0x5a;
    SecretKey::from_seed(&seed)
}

fn actor(id: &str, roles: &[&str]) -> Actor {
    Actor {
        id: ActorId::new(id).unwrap(),
        public_key: key(id).public(),
        roles: roles.iter().map(|r| r.to_string()).collect(),
        revoked: false,
    }
}

pub fn consortium() -> Consortium {
    Consortium {
        name: "test".into(),
        governors: vec![OrgId::new("gov").unwrap()],
        organizations: vec![
            Organization {
                id: OrgId::new("gov").unwrap(),
                name: "Governor".into(),
                role: OrgRole::Regulator,
                glns: vec![],
                company_prefixes: vec![],
                actors: vec![actor("gov/admin", &["admin"])],
            },
            Organization {
                id: OrgId::new("maker").unwrap(),
                name: "Maker".into(),
                role: OrgRole::Manufacturer,
                glns: vec![],
                company_prefixes: vec![],
                actors: vec![
                    actor("maker/admin", &["admin"]),
                    actor("maker/a", &[]),
                    actor("maker/b", &[]),
                ],
            },
        ],
        peers: vec![PeerInfo {
            id: PeerId::new("peer-1").unwrap(),
            org: OrgId::new("gov").unwrap(),
            endpoint: "http://127.0.0.1:1".into(),
            public_key: key("peer/peer-1").public(),
            voter: true,
        }],
    }
}

pub fn signer(actor: &str) -> Signer {
    let org = actor.split('/').next().unwrap();
    Signer::new(
        ActorId::new(actor).unwrap(),
        OrgId::new(org).unwrap(),
        key(actor),
    )
}

pub fn genesis() -> ledger::Block {
    let admin = ActorId::new("gov/admin").unwrap();
    let org = OrgId::new("gov").unwrap();
    ledger::genesis::genesis_block(
        &consortium(),
        (&admin, &org, &key("gov/admin")),
        (&PeerId::new("peer-1").unwrap(), &key("peer/peer-1")),
        1_700_000_000_000,
    )
}

pub struct TestPeer {
    pub dir: tempfile::TempDir,
    pub store: Arc<SqliteStore>,
    pub ledger: Arc<Ledger>,
    pub orderer: Option<SoloOrderer>,
}

pub fn modules() -> Modules {
    Modules::new().with(Notes)
}

impl TestPeer {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open(dir.path().join("ledger.sqlite")).unwrap());
        let ledger = Arc::new(Ledger::init(store.clone(), modules(), genesis()).unwrap());
        let orderer = Some(Self::orderer(&ledger));
        Self {
            dir,
            store,
            ledger,
            orderer,
        }
    }

    fn orderer(ledger: &Arc<Ledger>) -> SoloOrderer {
        SoloOrderer::start(
            ledger.clone(),
            PeerId::new("peer-1").unwrap(),
            key("peer/peer-1"),
            CutPolicy {
                max_events: 64,
                max_wait: Duration::from_millis(1),
            },
        )
    }

    /// Closes and reopens the store and ledger from disk.
    pub fn reopen(&mut self) {
        self.orderer.take();
        let store = Arc::new(SqliteStore::open(self.dir.path().join("ledger.sqlite")).unwrap());
        self.ledger = Arc::new(Ledger::open(store.clone(), modules()).unwrap());
        self.store = store;
        self.orderer = Some(Self::orderer(&self.ledger));
    }

    /// Admits and orders events, waiting for the commit. Admission failures come back
    /// as `Err` in place.
    pub fn submit(&self, events: Vec<Envelope>) -> (Vec<Result<(), Rejection>>, Option<Receipt>) {
        let answers = self.ledger.admit(events);
        let mut ok = Vec::new();
        let out: Vec<Result<(), Rejection>> = answers
            .into_iter()
            .map(|a| match a {
                Ok(v) => {
                    ok.push(v);
                    Ok(())
                }
                Err(r) => Err(r),
            })
            .collect();
        if ok.is_empty() {
            return (out, None);
        }
        let (tx, rx) = std::sync::mpsc::channel();
        use ledger::Orderer;
        self.orderer
            .as_ref()
            .unwrap()
            .submit(ok, Box::new(move |r| tx.send(r).unwrap()));
        let receipt = rx.recv_timeout(Duration::from_secs(10)).unwrap().unwrap();
        (out, Some(receipt))
    }
}
