//! A loopback cluster for the raft tests: four peers of a small consortium (three
//! voters, one learner), each with its own SQLite ledger and raft file in a temporary
//! directory and a small actix server carrying the `/raft/...` routes on a port bound
//! before it starts, so a stopped peer comes back at the same address.
#![allow(dead_code, missing_docs)]

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use fixtures::{Demo, PeerLayout, demo};
use ledger::rejection::codes;
use ledger::{
    BlockCtx, CutPolicy, Effects, Envelope, Ledger, Module, Modules, Orderer, PeerId, Receipt,
    Rejection, SqliteStore, StateTx, StateView,
};
use raft_orderer::auth::{PEER_HEADER, Presented, SIGNATURE_HEADER, TIME_HEADER};
use raft_orderer::{PeerRequest, RaftNode, Settings};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::net::TcpListener;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// A test-only module: `put {key, value}`.
pub struct Notes;

impl Module for Notes {
    fn name(&self) -> &'static str {
        "notes"
    }

    fn validate(&self, _state: &dyn StateView, event: &Envelope) -> Result<(), Rejection> {
        if event.kind() != "put" {
            return Err(Rejection::new(codes::UNKNOWN_KIND, "only put"));
        }
        Ok(())
    }

    fn apply(
        &self,
        state: &mut StateTx<'_>,
        event: &Envelope,
        _: &BlockCtx,
    ) -> Result<Effects, Rejection> {
        let key = event.payload()["key"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        state.put_json(key.as_bytes(), &event.payload()["value"]);
        Ok(Effects::default())
    }
}

pub fn modules() -> Modules {
    Modules::new().with(Notes)
}

/// How many peers genesis names, and how many of them vote; one more peer (slot
/// [`SPARE`]) can join later through an `add_peer` event.
pub const PEERS: usize = 4;
pub const VOTERS: usize = 3;
pub const SPARE: usize = PEERS;

/// The small consortium: the demo's organisations, the first four peers in genesis and
/// the fifth kept aside.
pub fn consortium() -> (Demo, ledger::PeerInfo) {
    let mut d = demo(&PeerLayout::PerOrg {
        endpoints: BTreeMap::new(),
        voters: VOTERS,
    });
    for p in &mut d.consortium.peers {
        p.endpoint = "http://127.0.0.1:1".into();
    }
    let spare = d.consortium.peers[SPARE].clone();
    d.consortium.peers.truncate(PEERS);
    (d, spare)
}

pub struct Running {
    pub ledger: Arc<Ledger>,
    pub raft: Arc<RaftNode>,
    server: actix_web::dev::ServerHandle,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    fn stop(mut self) {
        actix_web::rt::System::new().block_on(self.server.stop(false));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        // The server is gone; the raft goes when the last handle does.
        drop(self.raft);
    }
}

pub struct Cluster {
    pub demo: Demo,
    pub spare: ledger::PeerInfo,
    spare_listener: Option<TcpListener>,
    pub ids: Vec<PeerId>,
    pub addrs: Vec<String>,
    pub nodes: Vec<Option<Running>>,
    dirs: Vec<tempfile::TempDir>,
}

impl Cluster {
    /// Starts all four peers on a common genesis.
    pub fn start() -> Self {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
        let (demo, spare) = consortium();
        let genesis = demo.genesis(1_700_000_000_000);
        let mut ids: Vec<PeerId> = demo.consortium.peers.iter().map(|p| p.id.clone()).collect();
        ids.push(spare.id.clone());
        let mut listeners: Vec<TcpListener> = (0..=PEERS)
            .map(|_| TcpListener::bind("127.0.0.1:0").expect("a free port"))
            .collect();
        let addrs: Vec<String> = listeners
            .iter()
            .map(|l| format!("http://{}", l.local_addr().unwrap()))
            .collect();
        let spare_listener = listeners.pop();
        let mut dirs = Vec::new();
        for _ in 0..=PEERS {
            let dir = tempfile::tempdir().unwrap();
            let store = Arc::new(SqliteStore::open(dir.path().join("ledger.sqlite")).unwrap());
            Ledger::init(store, modules(), genesis.clone()).expect("genesis commits");
            dirs.push(dir);
        }
        let mut cluster = Self {
            demo,
            spare,
            spare_listener,
            ids,
            addrs,
            nodes: (0..=PEERS).map(|_| None).collect(),
            dirs,
        };
        for (i, listener) in listeners.into_iter().enumerate() {
            cluster.nodes[i] = Some(cluster.launch(i, listener));
        }
        cluster
    }

    fn launch(&self, i: usize, listener: TcpListener) -> Running {
        let store = Arc::new(SqliteStore::open(self.dirs[i].path().join("ledger.sqlite")).unwrap());
        let ledger = Arc::new(Ledger::open(store, modules()).unwrap());
        let mut settings = Settings::new(self.dirs[i].path().join("raft.sqlite"));
        settings.policy = CutPolicy {
            max_events: 200,
            max_wait: Duration::from_millis(2),
        };
        settings.endpoints = self
            .ids
            .iter()
            .cloned()
            .zip(self.addrs.iter().cloned())
            .collect();
        settings.heartbeat_ms = 100;
        settings.election_timeout_ms = (500, 1000);
        settings.snapshot_every = 20;
        let me = self.ids[i].clone();
        let key = fixtures::demo_key(&format!("peer/{me}"));
        let raft =
            Arc::new(RaftNode::start(ledger.clone(), me, key, settings).expect("raft starts"));
        let slot = Arc::new(OnceLock::new());
        let _ = slot.set(raft.clone());
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let system = actix_web::rt::System::new();
            let node = web::Data::new(slot);
            system.block_on(async move {
                let server = HttpServer::new(move || {
                    App::new()
                        .app_data(node.clone())
                        .app_data(web::PayloadConfig::new(256 * 1024 * 1024))
                        .default_service(web::to(route))
                })
                .workers(1)
                .disable_signals()
                .listen(listener)
                .unwrap()
                .run();
                tx.send(server.handle()).unwrap();
                server.await.unwrap();
            });
        });
        let server = rx.recv().unwrap();
        Running {
            ledger,
            raft,
            server,
            thread: Some(thread),
        }
    }

    /// Starts the spare peer (from genesis) on its reserved address.
    pub fn launch_spare(&mut self) {
        let listener = self.spare_listener.take().expect("the spare starts once");
        self.nodes[SPARE] = Some(self.launch(SPARE, listener));
    }

    /// Stops peer `i` (its server and raft), as if the process ended.
    pub fn stop(&mut self, i: usize) {
        if let Some(n) = self.nodes[i].take() {
            n.stop();
        }
    }

    /// Starts peer `i` again on its data and address.
    pub fn restart(&mut self, i: usize) {
        let addr = self.addrs[i].trim_start_matches("http://").to_string();
        let mut listener = None;
        for _ in 0..100 {
            match TcpListener::bind(&addr) {
                Ok(l) => {
                    listener = Some(l);
                    break;
                }
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
        self.nodes[i] = Some(self.launch(i, listener.expect("the old port is free again")));
    }

    pub fn node(&self, i: usize) -> &Running {
        self.nodes[i].as_ref().expect("peer running")
    }

    /// The index of the leading peer, waiting up to 20 s for one.
    pub fn leader(&self) -> usize {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            for (i, n) in self.nodes.iter().enumerate() {
                if let Some(n) = n
                    && n.raft.status().state == "Leader"
                {
                    return i;
                }
            }
            assert!(Instant::now() < deadline, "no leader within 20 s");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Signs `count` notes as the actor, admits them at peer `i` and waits for the receipt.
    pub fn submit(&self, i: usize, actor: &str, prefix: &str, count: usize) -> Receipt {
        let signer = self.demo.signer(actor);
        let events: Vec<Envelope> = (0..count)
            .map(|n| {
                signer.event(
                    "notes",
                    "put",
                    json!({"key": format!("{prefix}-{n}"), "value": n}),
                )
            })
            .collect();
        self.submit_events(i, events)
    }

    /// Admits `events` at peer `i` and waits for the receipt.
    pub fn submit_events(&self, i: usize, events: Vec<Envelope>) -> Receipt {
        let node = self.node(i);
        let admitted = node
            .ledger
            .admit(events)
            .into_iter()
            .collect::<Result<Vec<_>, _>>()
            .expect("admitted");
        let (tx, rx) = std::sync::mpsc::channel();
        node.raft
            .submit(admitted, Box::new(move |r| drop(tx.send(r))));
        rx.recv_timeout(Duration::from_secs(30))
            .expect("an answer within 30 s")
            .expect("committed")
    }

    /// Waits (up to 60 s) until every running peer is at `height` or above.
    pub fn converge(&self, height: u64) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let heights: Vec<u64> = self
                .nodes
                .iter()
                .flatten()
                .map(|n| n.ledger.head().height)
                .collect();
            if heights.iter().all(|h| *h >= height) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "peers did not reach height {height}: {heights:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Every running peer holds the same blocks up to the lowest head; the audit passes
    /// on each. Returns that height.
    pub fn assert_same_chain(&self) -> u64 {
        let running: Vec<&Running> = self.nodes.iter().flatten().collect();
        let low = running
            .iter()
            .map(|n| n.ledger.head().height)
            .min()
            .unwrap();
        for h in 0..=low {
            let hashes: Vec<_> = running
                .iter()
                .map(|n| n.ledger.block(h).unwrap().unwrap().hash())
                .collect();
            assert!(
                hashes.windows(2).all(|w| w[0] == w[1]),
                "block {h} differs: {hashes:?}"
            );
        }
        for n in &running {
            let report = ledger::audit::audit(n.ledger.store().as_ref(), &modules()).unwrap();
            assert!(report.ok(), "audit faults: {:?}", report.faults);
        }
        low
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for i in 0..=PEERS {
            self.stop(i);
        }
    }
}

async fn route(
    req: HttpRequest,
    body: web::Bytes,
    node: web::Data<Arc<OnceLock<Arc<RaftNode>>>>,
) -> HttpResponse {
    let Some(node) = node.get() else {
        return HttpResponse::ServiceUnavailable().finish();
    };
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    let answer = node
        .answer(PeerRequest {
            method: req.method().as_str(),
            path: req.path(),
            auth: Presented {
                peer: header(PEER_HEADER),
                time: header(TIME_HEADER),
                signature: header(SIGNATURE_HEADER),
            },
            body: body.to_vec(),
        })
        .await;
    HttpResponse::build(actix_web::http::StatusCode::from_u16(answer.status).unwrap())
        .content_type("application/json")
        .body(answer.body)
}

pub fn value(v: &[u8]) -> Value {
    serde_json::from_slice(v).unwrap()
}
