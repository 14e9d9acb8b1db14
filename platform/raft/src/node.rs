//! One peer's raft: its own tokio runtime running openraft over the raft file and the
//! ledger, the batching thread that orders or forwards submissions, the task that turns
//! the consortium config into raft membership, and the answers to other peers' requests.

use crate::client::{Directory, PeerClient};
use crate::db::RaftDb;
use crate::log_store::LogStore;
use crate::network::Network;
use crate::orderer::{self, Msg, Submission};
use crate::state_machine::StateMachine;
use crate::types::{NodeId, PeerNode, Raft, node_id};
use crate::{membership, settings::Settings};
use crossbeam_channel::{Sender, bounded, unbounded};
use ledger::orderer::Done;
use ledger::{BlockHash, Ledger, Orderer, PeerId, Rejection, SecretKey, VerifiedEnvelope};
use parking_lot::Mutex;
use serde::Serialize;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long a submission may take to be ordered, forwarded and committed before its
/// submitter is told to try again (a little under the peer's 10 s answer limit).
pub const SUBMIT_DEADLINE: Duration = Duration::from_secs(9);

/// Why the raft could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The raft file.
    #[error(transparent)]
    Db(#[from] crate::db::OpenError),
    /// openraft refused the config or failed to start.
    #[error("RAFT_START: {0}")]
    Raft(String),
    /// The tokio runtime.
    #[error("RAFT_START: cannot start the raft runtime: {0}")]
    Runtime(std::io::Error),
}

/// Where the chain the leader orders on stands: the last block it sealed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tip {
    pub height: u64,
    pub hash: BlockHash,
    pub time: i64,
    /// The term this node led in when it set the tip.
    pub term: u64,
}

/// What the batching thread, the tasks and the request handlers share.
pub(crate) struct Shared {
    pub me: PeerId,
    pub id: NodeId,
    pub key: SecretKey,
    pub ledger: Arc<Ledger>,
    pub raft: Raft,
    pub client: PeerClient,
    pub settings: Settings,
    pub handle: tokio::runtime::Handle,
    pub queue: Sender<Msg>,
    /// One token per block proposed and not yet answered.
    pub inflight: (Sender<()>, crossbeam_channel::Receiver<()>),
    /// `None` until the leader has applied everything before its own proposals.
    pub tip: Mutex<(Option<Tip>, u64)>,
    /// The local ledger height, for submitters waiting to see their block here.
    pub heights: tokio::sync::watch::Receiver<u64>,
    pub stopping: Arc<AtomicBool>,
}

impl Shared {
    /// The peer currently leading, if known.
    pub fn leader(&self) -> Option<PeerId> {
        let m = self.raft.metrics();
        let m = m.borrow();
        let id = m.current_leader?;
        let node = m.membership_config.membership().get_node(&id)?;
        PeerId::new(node.peer.clone()).ok()
    }

    /// True when this node leads.
    pub fn is_leader(&self) -> bool {
        self.raft.metrics().borrow().current_leader == Some(self.id)
    }

    /// Waits until the local ledger reaches `height` or `deadline` passes.
    pub async fn wait_height(&self, height: u64, deadline: Instant) -> bool {
        let mut rx = self.heights.clone();
        let wait = rx.wait_for(|h| *h >= height);
        matches!(
            tokio::time::timeout_at(deadline.into(), wait).await,
            Ok(Ok(_))
        )
    }
}

/// A peer's raft: the `raft` orderer.
pub struct RaftNode {
    shared: Arc<Shared>,
    runtime: Option<tokio::runtime::Runtime>,
    threads: Vec<JoinHandle<()>>,
}

impl RaftNode {
    /// Starts the raft of peer `me` (key `key`) over `ledger`.
    pub fn start(
        ledger: Arc<Ledger>,
        me: PeerId,
        key: SecretKey,
        settings: Settings,
    ) -> Result<Self, StartError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("raft")
            .enable_all()
            .build()
            .map_err(StartError::Runtime)?;
        let db = RaftDb::open(&settings.raft_file)?;
        // Events admitted here come back in the leader's blocks: their signatures were
        // checked once already.
        ledger.remember_checked_signatures();
        let directory = Directory::new(ledger.clone(), settings.endpoints.clone());
        let client = PeerClient::new(me.clone(), key.clone(), directory);
        let id = node_id(&me);
        let config = Arc::new(
            settings
                .raft_config()
                .validate()
                .map_err(|e| StartError::Raft(e.to_string()))?,
        );
        let stopping = Arc::new(AtomicBool::new(false));
        let machine = StateMachine::new(
            ledger.clone(),
            db.clone(),
            me.clone(),
            Arc::new(client.clone()),
            stopping.clone(),
        );
        let raft = runtime
            .block_on(Raft::new(
                id,
                config,
                Network::new(client.clone()),
                LogStore::new(db),
                machine,
            ))
            .map_err(|e| StartError::Raft(e.to_string()))?;
        let (heights_tx, heights) = tokio::sync::watch::channel(ledger.head().height);
        let mut threads = vec![watch_heights(&ledger, heights_tx, stopping.clone())];
        let (queue, rx) = unbounded();
        let shared = Arc::new(Shared {
            me,
            id,
            key,
            ledger,
            raft,
            client,
            settings,
            handle: runtime.handle().clone(),
            queue,
            inflight: bounded(crate::settings::MAX_INFLIGHT_BLOCKS),
            tip: Mutex::new((None, 0)),
            heights,
            stopping: stopping.clone(),
        });
        runtime.block_on(membership::initialize(&shared));
        runtime.spawn(membership::reconcile(shared.clone()));
        let batching = shared.clone();
        threads.push(
            std::thread::Builder::new()
                .name("raft-orderer".into())
                .spawn(move || orderer::run(batching, rx))
                .map_err(StartError::Runtime)?,
        );
        Ok(Self {
            shared,
            runtime: Some(runtime),
            threads,
        })
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// What this node knows of the raft: for `/raft/status`, tests and operators.
    pub fn status(&self) -> Status {
        let s = &self.shared;
        let m = s.raft.metrics().borrow().clone();
        let name = |id: &NodeId| {
            m.membership_config
                .membership()
                .get_node(id)
                .map_or_else(|| id.to_string(), |n: &PeerNode| n.peer.clone())
        };
        let membership = m.membership_config.membership();
        Status {
            peer: s.me.to_string(),
            state: format!("{:?}", m.state),
            leader: m.current_leader.as_ref().map(name),
            term: m.current_term,
            last_log_index: m.last_log_index,
            last_applied: m.last_applied.map(|l| l.index),
            voters: membership.voter_ids().map(|id| name(&id)).collect(),
            learners: membership.learner_ids().map(|id| name(&id)).collect(),
            height: s.ledger.head().height,
        }
    }

    /// Waits until some peer leads (at most `limit`); returns it.
    pub fn wait_for_leader(&self, limit: Duration) -> Option<PeerId> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(l) = self.shared.leader() {
                return Some(l);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops ordering and replication: queued submissions are answered `UNAVAILABLE`.
    pub fn stop(&mut self) {
        if self.shared.stopping.swap(true, Ordering::SeqCst) {
            return;
        }
        let _ = self.shared.queue.send(Msg::Stop);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        if let Some(rt) = self.runtime.take() {
            let raft = self.shared.raft.clone();
            // On a thread of its own: this may be called from inside another runtime.
            let stopper = std::thread::spawn(move || {
                let _ = rt.block_on(async move {
                    tokio::time::timeout(Duration::from_secs(3), raft.shutdown()).await
                });
                rt.shutdown_timeout(Duration::from_secs(2));
            });
            let _ = stopper.join();
        }
    }
}

impl Drop for RaftNode {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Orderer for RaftNode {
    fn submit(&self, events: Vec<VerifiedEnvelope>, done: Done) {
        if events.is_empty() {
            done(Err(Rejection::new(
                "EMPTY_SUBMISSION",
                "a submission needs at least one event",
            )));
            return;
        }
        let submission = Submission {
            events: events
                .into_iter()
                .map(VerifiedEnvelope::into_inner)
                .collect(),
            done,
            forwardable: true,
            deadline: Instant::now() + SUBMIT_DEADLINE,
        };
        orderer::enqueue(&self.shared, submission);
    }
}

/// The raft as one peer sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Status {
    /// This peer.
    pub peer: String,
    /// `Leader`, `Follower`, `Candidate` or `Learner`.
    pub state: String,
    /// The leading peer, when known.
    pub leader: Option<String>,
    /// The current term.
    pub term: u64,
    /// The last raft log index.
    pub last_log_index: Option<u64>,
    /// The last applied raft log index.
    pub last_applied: Option<u64>,
    /// Voting peers.
    pub voters: Vec<String>,
    /// Learners.
    pub learners: Vec<String>,
    /// The local ledger height.
    pub height: u64,
}

fn watch_heights(
    ledger: &Arc<Ledger>,
    tx: tokio::sync::watch::Sender<u64>,
    stopping: Arc<AtomicBool>,
) -> JoinHandle<()> {
    let watch = ledger.watch();
    let ledger = ledger.clone();
    std::thread::Builder::new()
        .name("raft-heights".into())
        .spawn(move || {
            // Catch a commit made between reading the head and subscribing.
            tx.send_replace(ledger.head().height);
            drop(ledger);
            while !stopping.load(Ordering::SeqCst) {
                match watch.recv_timeout(Duration::from_millis(200)) {
                    Ok(notice) => {
                        tx.send_replace(notice.height);
                    }
                    Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
                    Err(crossbeam_channel::RecvTimeoutError::Disconnected) => return,
                }
            }
        })
        .expect("starting the height watcher")
}

impl RaftNode {
    /// Proposes `block` exactly as given and returns what applying it gave: for tests and
    /// tools that check how peers treat a block they did not make. Orderly submissions go
    /// through [`Orderer::submit`].
    pub fn propose(&self, block: ledger::Block) -> Result<crate::types::Outcome, String> {
        let raft = self.shared.raft.clone();
        self.shared
            .handle
            .block_on(async move { raft.client_write(crate::types::Proposal(block)).await })
            .map(|r| r.data)
            .map_err(|e| e.to_string())
    }
}
