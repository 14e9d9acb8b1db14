//! The peer side of the GraphQL schema's [`Peer`] trait: trace events are signed with
//! the caller's custodial key, admitted, ordered, and answered once committed (or with
//! `COMMIT_TIMEOUT` after [`COMMIT_WAIT`]); committed blocks fan out to subscribers.

use crate::http::COMMIT_WAIT;
use crate::node::Node;
use futures_util::stream;
use ledger::{ActorId, CommitNotice, Rejection};
use pedigree_graphql::{CommitStream, Peer, SubmitFuture};
use serde_json::Value;
use std::sync::Arc;
use tokio::sync::broadcast;

/// Notices buffered per slow subscriber before it skips ahead.
const BACKLOG: usize = 1024;

/// The running peer as the schema sees it.
pub struct PeerLink {
    node: Arc<Node>,
    commits: broadcast::Sender<Arc<CommitNotice>>,
}

impl PeerLink {
    /// Wraps `node` and starts forwarding its commit notices to subscribers.
    pub fn start(node: Arc<Node>) -> Arc<Self> {
        let (tx, _) = broadcast::channel(BACKLOG);
        let watch = node.ledger.watch();
        let fan_out = tx.clone();
        std::thread::Builder::new()
            .name("commit-fan-out".into())
            .spawn(move || {
                for notice in watch {
                    // No subscriber is not an error.
                    let _ = fan_out.send(notice);
                }
            })
            .expect("starting the commit fan-out thread");
        Arc::new(Self { node, commits: tx })
    }
}

impl Peer for PeerLink {
    fn submit(&self, actor: &ActorId, events: Vec<(&'static str, Value)>) -> SubmitFuture {
        let node = self.node.clone();
        let signer = node.signers.get(actor).cloned();
        let actor = actor.clone();
        Box::pin(async move {
            let signer = signer.ok_or_else(|| {
                Rejection::new(
                    "NO_CUSTODIAL_KEY",
                    format!(
                        "this peer holds no key for {actor}; sign the events yourself and POST them to /events"
                    ),
                )
            })?;
            let envelopes = events
                .into_iter()
                .map(|(kind, payload)| signer.event(trace::MODULE, kind, payload))
                .collect();
            let admitted = node
                .ledger
                .admit(envelopes)
                .into_iter()
                .collect::<Result<Vec<_>, Rejection>>()?;
            let (tx, rx) = tokio::sync::oneshot::channel();
            node.orderer
                .submit(admitted, Box::new(move |r| drop(tx.send(r))));
            match tokio::time::timeout(COMMIT_WAIT, rx).await {
                Ok(Ok(outcome)) => outcome,
                Ok(Err(_)) => Err(Rejection::new(
                    "UNAVAILABLE",
                    "the ordering service stopped; try again",
                )),
                Err(_) => Err(Rejection::new(
                    "COMMIT_TIMEOUT",
                    format!(
                        "the events were accepted but not committed within {} s; look them up before sending them again",
                        COMMIT_WAIT.as_secs()
                    ),
                )),
            }
        })
    }

    fn submit_to(
        &self,
        module: &'static str,
        actor: &ActorId,
        events: Vec<(&'static str, Value)>,
    ) -> SubmitFuture {
        let node = self.node.clone();
        let actor = actor.clone();
        Box::pin(async move {
            node.commit_as(&actor, module, events.into_iter().collect())
                .await
        })
    }

    fn commits(&self) -> CommitStream {
        let rx = self.commits.subscribe();
        Box::pin(stream::unfold(rx, |mut rx| async move {
            loop {
                match rx.recv().await {
                    Ok(n) => return Some((n, rx)),
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "a subscriber fell behind; notices skipped");
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        }))
    }
}
