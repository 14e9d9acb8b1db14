//! Ordering through raft. One thread gathers submissions into batches (the cut policy:
//! so many events, or so long after the first). On the leader a batch becomes a block
//! sealed with the peer key on top of the last block it proposed, and is proposed to
//! raft; elsewhere the batch is forwarded to the leader in one signed request. Either
//! way the submitter is answered once the block is committed on this peer.
//!
//! A block that raft skipped (ordered just before a change of leader) or a proposal made
//! to a node that was no longer leader goes back in the queue and is ordered again, until
//! the submission's deadline: nothing in it was committed.

use crate::client::CallError;
use crate::node::{Shared, Tip};
use crate::state_machine::STALE_BLOCK;
use crate::types::{Outcome, Proposal};
use crossbeam_channel::{Receiver, RecvTimeoutError};
use ledger::orderer::Done;
use ledger::{Block, BlockHash, Envelope, EventId, PeerId, Receipt, Rejection};
use openraft::error::{ClientWriteError, RaftError};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Path of forwarded submissions on the leader.
pub const SUBMIT_PATH: &str = "/raft/submit";
/// How long to wait before trying a batch again when no leader is known.
const RETRY_PAUSE: Duration = Duration::from_millis(50);

/// What the batching thread is sent.
pub(crate) enum Msg {
    /// Events to order.
    Submit(Submission),
    /// Stop: answer what is queued with `UNAVAILABLE`.
    Stop,
}

/// Events to order and who to tell.
pub(crate) struct Submission {
    pub events: Vec<Envelope>,
    pub done: Done,
    /// False for events another peer forwarded: they are not forwarded again.
    pub forwardable: bool,
    pub deadline: Instant,
}

/// Body of a forwarded submission.
#[derive(Serialize, Deserialize)]
pub(crate) struct Forwarded {
    pub events: Vec<serde_json::Value>,
}

/// The leader's answer to a forwarded submission.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct ForwardedReceipt {
    pub block_height: u64,
    pub block_hash: BlockHash,
    pub results: Vec<(EventId, Option<String>)>,
}

pub(crate) fn enqueue(shared: &Shared, s: Submission) {
    if let Err(e) = shared.queue.send(Msg::Submit(s))
        && let Msg::Submit(s) = e.into_inner()
    {
        (s.done)(Err(unavailable()));
    }
}

fn unavailable() -> Rejection {
    Rejection::new(
        ledger::rejection::codes::UNAVAILABLE,
        "the ordering service has stopped; try again when the peer is back",
    )
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// The batching thread.
pub(crate) fn run(shared: Arc<Shared>, rx: Receiver<Msg>) {
    let policy = shared.settings.policy;
    let mut carry: Option<Submission> = None;
    loop {
        let first = match carry.take() {
            Some(s) => s,
            None => match rx.recv() {
                Ok(Msg::Submit(s)) => s,
                Ok(Msg::Stop) | Err(_) => break,
            },
        };
        let deadline = Instant::now() + policy.max_wait;
        let mut count = first.events.len();
        let mut batch = vec![first];
        let mut stop = false;
        while count < policy.max_events {
            match rx.recv_deadline(deadline) {
                Ok(Msg::Submit(s)) if count + s.events.len() > policy.max_events => {
                    carry = Some(s);
                    break;
                }
                Ok(Msg::Submit(s)) => {
                    count += s.events.len();
                    batch.push(s);
                }
                Ok(Msg::Stop) => {
                    stop = true;
                    break;
                }
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => {
                    stop = true;
                    break;
                }
            }
        }
        if stop {
            batch.extend(carry.take());
            fail(batch, unavailable());
            break;
        }
        route(&shared, batch);
    }
    for msg in rx.try_iter() {
        if let Msg::Submit(s) = msg {
            (s.done)(Err(unavailable()));
        }
    }
}

fn fail(batch: Vec<Submission>, why: Rejection) {
    for s in batch {
        (s.done)(Err(why.clone()));
    }
}

/// Orders the batch here when leading, else forwards it to the leader.
fn route(shared: &Arc<Shared>, batch: Vec<Submission>) {
    tracing::debug!(
        submissions = batch.len(),
        leader = shared.is_leader(),
        "routing a batch"
    );
    if shared.is_leader() {
        propose(shared, batch);
        return;
    }
    let (mine, forwarded): (Vec<_>, Vec<_>) = batch.into_iter().partition(|s| s.forwardable);
    fail(forwarded, not_leader(shared.leader()));
    if mine.is_empty() {
        return;
    }
    match shared.leader() {
        Some(leader) => forward(shared, mine, leader),
        None => retry_later(shared, mine, "NO_LEADER", "no peer leads the ordering yet"),
    }
}

fn not_leader(leader: Option<PeerId>) -> Rejection {
    Rejection::new(
        "NOT_LEADER",
        match leader {
            Some(l) => format!("this peer does not lead the ordering; {l} does"),
            None => "this peer does not lead the ordering and no leader is known".into(),
        },
    )
}

/// Puts the batch back in the queue after a pause, or answers `code` to the submissions
/// whose deadline has passed.
fn retry_later(shared: &Arc<Shared>, batch: Vec<Submission>, code: &'static str, why: &str) {
    let now = Instant::now();
    let (expired, again): (Vec<_>, Vec<_>) = batch.into_iter().partition(|s| s.deadline <= now);
    fail(
        expired,
        Rejection::new(
            code,
            format!("{why}; the events were not committed, submit them again"),
        ),
    );
    if again.is_empty() {
        return;
    }
    let shared2 = shared.clone();
    shared.handle.spawn(async move {
        tokio::time::sleep(RETRY_PAUSE).await;
        for s in again {
            enqueue(&shared2, s);
        }
    });
}

/// The block the leader orders on: the last one it proposed in this term, or, after a
/// change, the ledger head once everything in the raft log is applied.
fn tip(shared: &Shared) -> Option<(Tip, u64)> {
    let term = shared.raft.metrics().borrow().current_term;
    let (tip, generation) = *shared.tip.lock();
    match tip {
        Some(t) if t.term == term => return Some((t, generation)),
        Some(_) => reset_tip(shared, generation),
        None => {}
    }
    let me = shared.id;
    let raft = shared.raft.clone();
    let caught_up = shared.handle.block_on(async move {
        raft.wait(Some(Duration::from_secs(2)))
            .metrics(
                |m| {
                    m.current_leader == Some(me)
                        && m.last_applied.map(|l| l.index) >= m.last_log_index
                },
                "the leader has applied its whole log",
            )
            .await
    });
    let term = caught_up.ok()?.current_term;
    let head = shared.ledger.head();
    let t = Tip {
        height: head.height,
        hash: head.hash,
        time: head.time,
        term,
    };
    let mut guard = shared.tip.lock();
    guard.0 = Some(t);
    Some((t, guard.1))
}

/// Forgets the tip when it belongs to `generation`, so the next block is cut on the
/// ledger head again.
fn reset_tip(shared: &Shared, generation: u64) {
    let mut guard = shared.tip.lock();
    if guard.1 == generation {
        guard.0 = None;
        guard.1 += 1;
    }
}

fn propose(shared: &Arc<Shared>, batch: Vec<Submission>) {
    let tip = tip(shared);
    tracing::debug!(?tip, "proposing");
    let Some((tip, generation)) = tip else {
        retry_later(shared, batch, "NO_LEADER", "leadership is changing");
        return;
    };
    // One token per block in flight: waits while the pipeline is full, but not past the
    // submissions' deadlines (a raft that stopped answering must not hold them forever).
    let latest = batch
        .iter()
        .map(|s| s.deadline)
        .max()
        .unwrap_or_else(Instant::now);
    loop {
        match shared
            .inflight
            .0
            .send_timeout((), Duration::from_millis(100))
        {
            Ok(()) => break,
            Err(_) if shared.stopping.load(std::sync::atomic::Ordering::SeqCst) => {
                fail(batch, unavailable());
                return;
            }
            Err(_) if Instant::now() >= latest => {
                tracing::warn!(
                    inflight = crate::settings::MAX_INFLIGHT_BLOCKS,
                    "no proposed block was answered in time; the raft may be stuck"
                );
                fail(
                    batch,
                    Rejection::new(
                        ledger::rejection::codes::UNAVAILABLE,
                        "ordering is not progressing; the events were not committed, submit them again",
                    ),
                );
                return;
            }
            Err(_) => {}
        }
    }
    let mut events = Vec::new();
    let mut counts = Vec::with_capacity(batch.len());
    let mut dones = Vec::with_capacity(batch.len());
    for s in batch {
        counts.push(s.events.len());
        events.extend(s.events);
        dones.push((s.done, s.forwardable, s.deadline));
    }
    let block = Block::seal(
        tip.height + 1,
        tip.hash,
        now_ms().max(tip.time),
        shared.me.clone(),
        &shared.key,
        events,
    );
    {
        let mut guard = shared.tip.lock();
        if guard.1 == generation {
            guard.0 = Some(Tip {
                height: block.header.height,
                hash: block.hash(),
                time: block.header.time,
                term: tip.term,
            });
        }
    }
    let shared2 = shared.clone();
    shared.handle.spawn(async move {
        let kept = block.events.clone();
        let answer = shared2.raft.client_write(Proposal(block)).await;
        tracing::debug!(?answer, "proposal answered");
        let _ = shared2.inflight.1.try_recv();
        match answer {
            Ok(resp) => match resp.data {
                Outcome::Committed {
                    height,
                    hash,
                    results,
                } => answer_all(dones_of(counts, dones), height, hash, results),
                Outcome::Skipped { code, message } if code == STALE_BLOCK => {
                    reset_tip(&shared2, generation);
                    requeue(&shared2, kept, counts, dones, "STALE_BLOCK", &message);
                }
                Outcome::Skipped { code, message } => {
                    reset_tip(&shared2, generation);
                    tracing::error!(%code, "a block this peer sealed was refused: {message}");
                    for (done, _, _) in dones {
                        done(Err(Rejection::new(code.clone(), message.clone())));
                    }
                }
                Outcome::Nothing => {
                    for (done, _, _) in dones {
                        done(Err(unavailable()));
                    }
                }
            },
            Err(RaftError::APIError(ClientWriteError::ForwardToLeader(_))) => {
                reset_tip(&shared2, generation);
                requeue(
                    &shared2,
                    kept,
                    counts,
                    dones,
                    "NOT_LEADER",
                    "leadership moved to another peer",
                );
            }
            Err(e) => {
                reset_tip(&shared2, generation);
                tracing::error!(error = %e, "proposing a block failed");
                for (done, _, _) in dones {
                    done(Err(Rejection::new(
                        ledger::rejection::codes::UNAVAILABLE,
                        format!("ordering failed ({e}); try again"),
                    )));
                }
            }
        }
    });
}

/// Puts a proposed block's submissions back in the queue.
fn requeue(
    shared: &Arc<Shared>,
    events: Vec<Envelope>,
    counts: Vec<usize>,
    dones: Vec<(Done, bool, Instant)>,
    code: &'static str,
    why: &str,
) {
    let mut events = events.into_iter();
    let batch = counts
        .iter()
        .zip(dones)
        .map(|(n, (done, forwardable, deadline))| Submission {
            events: events.by_ref().take(*n).collect(),
            done,
            forwardable,
            deadline,
        })
        .collect();
    retry_later(shared, batch, code, why);
}

type Owners = Vec<(usize, Done)>;

fn dones_of(counts: Vec<usize>, dones: Vec<(Done, bool, Instant)>) -> Owners {
    counts
        .into_iter()
        .zip(dones)
        .map(|(n, (d, _, _))| (n, d))
        .collect()
}

/// Gives each submitter its share of the block's results, in order.
fn answer_all(
    owners: Owners,
    height: u64,
    hash: BlockHash,
    results: Vec<(EventId, Option<String>)>,
) {
    let mut results = results.into_iter();
    for (n, done) in owners {
        done(Ok(Receipt {
            block_height: height,
            block_hash: hash,
            results: results.by_ref().take(n).collect(),
        }));
    }
}

/// Sends the batch to the leader and waits for the block to be committed here too.
fn forward(shared: &Arc<Shared>, batch: Vec<Submission>, leader: PeerId) {
    let body = Forwarded {
        events: batch
            .iter()
            .flat_map(|s| s.events.iter().map(Envelope::to_json_value))
            .collect(),
    };
    let body = serde_json::to_vec(&body).expect("events serialise");
    let shared2 = shared.clone();
    shared.handle.spawn(async move {
        let client = shared2.client.clone();
        let to = leader.clone();
        let answer = tokio::task::spawn_blocking(move || {
            client.call(&to, "POST", SUBMIT_PATH, &body, crate::node::SUBMIT_DEADLINE)
        })
        .await;
        let (status, bytes) = match answer {
            Ok(Ok(a)) => a,
            Ok(Err(CallError::NoAnswer(e))) => {
                // The leader may have ordered them: sending them again could order them
                // twice, so the submitter decides, as after a commit timeout.
                tracing::warn!(%leader, error = %e, "the leader did not answer a forwarded submission");
                fail(
                    batch,
                    Rejection::new(
                        "FORWARD_UNANSWERED",
                        "the leader took the events but did not answer; look them up by id before sending them again",
                    ),
                );
                return;
            }
            Ok(Err(e)) => {
                tracing::debug!(%leader, error = %e, "forwarding to the leader failed; trying again");
                retry_later(&shared2, batch, "NO_LEADER", "the leader could not be reached");
                return;
            }
            Err(_) => {
                fail(batch, unavailable());
                return;
            }
        };
        if status == 200 {
            let receipt: ForwardedReceipt = match serde_json::from_slice(&bytes) {
                Ok(r) => r,
                Err(e) => {
                    fail(
                        batch,
                        Rejection::new(
                            ledger::rejection::codes::UNAVAILABLE,
                            format!("the leader's answer did not parse: {e}"),
                        ),
                    );
                    return;
                }
            };
            let latest = batch.iter().map(|s| s.deadline).max().unwrap_or_else(Instant::now);
            if !shared2.wait_height(receipt.block_height, latest).await {
                tracing::warn!(
                    height = receipt.block_height,
                    "the block is committed but not yet applied on this peer"
                );
            }
            let owners = batch.into_iter().map(|s| (s.events.len(), s.done)).collect();
            answer_all(owners, receipt.block_height, receipt.block_hash, receipt.results);
            return;
        }
        let code = serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|v| v["code"].as_str().map(str::to_string))
            .unwrap_or_else(|| format!("HTTP_{status}"));
        match code.as_str() {
            "NOT_LEADER" | "NO_LEADER" | "STALE_BLOCK" | "UNAVAILABLE" => {
                retry_later(&shared2, batch, "NO_LEADER", "the leader changed");
            }
            _ => {
                let message = format!("the leader refused the events ({code})");
                fail(batch, Rejection::new(code, message));
            }
        }
    });
}
