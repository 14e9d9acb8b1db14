//! The peer side of the GraphQL schema's [`Peer`] trait: trace events are signed with
//! the caller's custodial key, admitted, ordered, and answered once committed (or with
//! `COMMIT_TIMEOUT` after [`COMMIT_WAIT`]); committed blocks fan out to subscribers.

use crate::node::Node;
use futures_util::stream;
use ledger::{ActorId, CommitNotice};
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
        self.submit_to(trace::MODULE, actor, events)
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
