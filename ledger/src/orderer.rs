//! Ordering: the [`Orderer`] trait and the `solo` orderer, one thread that cuts a block
//! when it holds `max_events` events or when `max_wait` has passed since the first event
//! of the block arrived, seals it with this peer's key and commits it.

use crate::block::ProposedBlock;
use crate::envelope::VerifiedEnvelope;
use crate::hash::{BlockHash, EventId};
use crate::ids::PeerId;
use crate::keys::SecretKey;
use crate::ledger::Ledger;
use crate::rejection::{Rejection, codes};
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, bounded};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// What a submitter gets back once its events are committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// Height of the block holding the events.
    pub block_height: u64,
    /// Its hash.
    pub block_hash: BlockHash,
    /// Each submitted event's id and, when it was refused at apply, the code.
    pub results: Vec<(EventId, Option<String>)>,
}

/// Called once with the outcome of a submission.
pub type Done = Box<dyn FnOnce(Result<Receipt, Rejection>) + Send>;

/// Puts admitted events into blocks.
pub trait Orderer: Send + Sync {
    /// Queues events; `done` is called when their block is committed (or ordering fails).
    fn submit(&self, events: Vec<VerifiedEnvelope>, done: Done);
}

/// When a block is cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CutPolicy {
    /// Most events in one block.
    pub max_events: usize,
    /// Longest an event waits for its block to fill.
    pub max_wait: Duration,
}

impl Default for CutPolicy {
    /// 1,000 events or 2 ms: small blocks under light load (low latency), full blocks
    /// under heavy load (one fsync for many events).
    fn default() -> Self {
        Self {
            max_events: 1000,
            max_wait: Duration::from_millis(2),
        }
    }
}

struct Submission {
    events: Vec<VerifiedEnvelope>,
    done: Done,
}

/// One process, one orderer: for a single peer, the demo and tests.
pub struct SoloOrderer {
    tx: Option<Sender<Submission>>,
    thread: Option<JoinHandle<()>>,
}

impl SoloOrderer {
    /// Starts the ordering thread for `ledger`, sealing blocks as `peer` with `key`.
    pub fn start(ledger: Arc<Ledger>, peer: PeerId, key: SecretKey, policy: CutPolicy) -> Self {
        let (tx, rx) = bounded::<Submission>(4096);
        let thread = std::thread::Builder::new()
            .name("solo-orderer".into())
            .spawn(move || run(ledger, peer, key, policy, rx))
            .expect("spawning the orderer thread");
        Self {
            tx: Some(tx),
            thread: Some(thread),
        }
    }
}

impl Orderer for SoloOrderer {
    fn submit(&self, events: Vec<VerifiedEnvelope>, done: Done) {
        if events.is_empty() {
            done(Err(Rejection::new(
                "EMPTY_SUBMISSION",
                "a submission needs at least one event",
            )));
            return;
        }
        let Some(tx) = &self.tx else {
            done(Err(unavailable()));
            return;
        };
        if let Err(e) = tx.send(Submission { events, done }) {
            (e.into_inner().done)(Err(unavailable()));
        }
    }
}

impl Drop for SoloOrderer {
    /// Stops taking submissions, commits what is queued, and waits for the thread.
    fn drop(&mut self) {
        self.tx.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn unavailable() -> Rejection {
    Rejection::new(
        codes::UNAVAILABLE,
        "the ordering service has stopped; try again when the peer is back",
    )
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn run(
    ledger: Arc<Ledger>,
    peer: PeerId,
    key: SecretKey,
    policy: CutPolicy,
    rx: Receiver<Submission>,
) {
    let mut carry: Option<Submission> = None;
    loop {
        let first = match carry.take() {
            Some(s) => s,
            None => match rx.recv() {
                Ok(s) => s,
                Err(_) => return,
            },
        };
        let deadline = Instant::now() + policy.max_wait;
        let mut count = first.events.len();
        let mut batch = vec![first];
        let mut closed = false;
        while count < policy.max_events {
            match rx.recv_deadline(deadline) {
                Ok(s) if count + s.events.len() > policy.max_events && count > 0 => {
                    carry = Some(s);
                    break;
                }
                Ok(s) => {
                    count += s.events.len();
                    batch.push(s);
                }
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => {
                    closed = true;
                    break;
                }
            }
        }
        commit_batch(&ledger, &peer, &key, batch);
        if closed && carry.is_none() {
            // drain anything left after the sender went away
            let rest: Vec<Submission> = rx.try_iter().collect();
            if rest.is_empty() {
                return;
            }
            commit_batch(&ledger, &peer, &key, rest);
            return;
        }
    }
}

fn commit_batch(ledger: &Ledger, peer: &PeerId, key: &SecretKey, batch: Vec<Submission>) {
    let head = ledger.head();
    let mut events = Vec::new();
    let mut owners = Vec::with_capacity(batch.len());
    for s in batch {
        owners.push((s.events.len(), s.done));
        events.extend(s.events);
    }
    let time = now_ms().max(head.time);
    let proposed = ProposedBlock::seal(head.height + 1, head.hash, time, peer.clone(), key, events);
    match ledger.commit_proposed(proposed) {
        Ok(notice) => {
            let mut results = notice.results.iter();
            for (n, done) in owners {
                let mine: Vec<_> = results.by_ref().take(n).cloned().collect();
                done(Ok(Receipt {
                    block_height: notice.height,
                    block_hash: notice.hash,
                    results: mine,
                }));
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "committing a block failed; its events were not stored");
            for (_, done) in owners {
                done(Err(Rejection::new(
                    "COMMIT_FAILED",
                    format!(
                        "the block could not be committed ({e}); nothing was stored, submit again"
                    ),
                )));
            }
        }
    }
}
