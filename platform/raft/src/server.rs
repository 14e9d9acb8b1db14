//! Answers to other peers, whatever HTTP server carries them: the peer binary hands each
//! `/raft/...` request here with its authentication headers and body, and sends back the
//! status and JSON body. Every request is authenticated first (see [`crate::auth`]); a
//! refused one is answered 401 with a stable code and logged.

use crate::auth::{self, Presented};
use crate::catchup;
use crate::network::paths;
use crate::node::{RaftNode, SUBMIT_DEADLINE, Shared};
use crate::orderer::{self, Forwarded, ForwardedReceipt, SUBMIT_PATH, Submission};
use crate::types::{NodeId, TypeConfig};
use ledger::{Envelope, Rejection};
use openraft::error::{InstallSnapshotError, RaftError};
use openraft::raft::{AppendEntriesRequest, InstallSnapshotRequest, VoteRequest};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;
use std::sync::Arc;
use std::time::Instant;

/// A request from another peer.
pub struct PeerRequest<'a> {
    /// `GET` or `POST`.
    pub method: &'a str,
    /// The path, without query.
    pub path: &'a str,
    /// Its authentication headers.
    pub auth: Presented<'a>,
    /// Its body.
    pub body: Vec<u8>,
}

/// The answer: HTTP status and JSON body.
#[derive(Debug)]
pub struct PeerAnswer {
    /// HTTP status.
    pub status: u16,
    /// JSON body.
    pub body: Vec<u8>,
}

impl PeerAnswer {
    fn json(status: u16, value: &impl Serialize) -> Self {
        Self {
            status,
            body: serde_json::to_vec(value).expect("answers serialise"),
        }
    }

    fn error(status: u16, code: &str, message: impl Into<String>) -> Self {
        Self::json(status, &json!({"code": code, "message": message.into()}))
    }
}

impl RaftNode {
    /// Answers a peer request (`/raft/append`, `/raft/vote`, `/raft/snapshot`,
    /// `/raft/submit`, `/raft/blocks/{from}`).
    pub async fn answer(&self, request: PeerRequest<'_>) -> PeerAnswer {
        let shared = self.shared().clone();
        let consortium = shared.ledger.consortium();
        let from = match auth::verify(
            &consortium,
            &request.auth,
            request.method,
            request.path,
            &request.body,
            auth::now_ms(),
        ) {
            Ok(peer) => peer,
            Err(e) => {
                tracing::warn!(
                    code = e.code,
                    claimed = request.auth.peer.unwrap_or("-"),
                    path = request.path,
                    "refused a peer request: {}",
                    e.message
                );
                return PeerAnswer::error(401, e.code, e.message);
            }
        };
        tracing::trace!(%from, path = request.path, "peer request");
        let body = request.body;
        match (request.method, request.path) {
            ("POST", paths::APPEND) => {
                rpc(
                    &shared,
                    body,
                    |raft, req: AppendEntriesRequest<TypeConfig>| async move {
                        raft.append_entries(req).await
                    },
                )
                .await
            }
            ("POST", paths::VOTE) => {
                rpc(&shared, body, |raft, req: VoteRequest<NodeId>| async move {
                    raft.vote(req).await
                })
                .await
            }
            ("POST", paths::SNAPSHOT) => {
                rpc(
                    &shared,
                    body,
                    |raft, req: InstallSnapshotRequest<TypeConfig>| async move {
                        let r: Result<_, RaftError<NodeId, InstallSnapshotError>> =
                            raft.install_snapshot(req).await;
                        r
                    },
                )
                .await
            }
            ("POST", SUBMIT_PATH) => submit(shared, body).await,
            ("GET", path) if path.starts_with("/raft/blocks/") => {
                let Ok(height) = path["/raft/blocks/".len()..].parse::<u64>() else {
                    return PeerAnswer::error(
                        400,
                        "BAD_HEIGHT",
                        "a block height is a whole number",
                    );
                };
                let ledger = shared.ledger.clone();
                match tokio::task::spawn_blocking(move || catchup::serve_blocks(&ledger, height))
                    .await
                {
                    Ok(Ok(blocks)) => PeerAnswer::json(200, &blocks),
                    Ok(Err(e)) => {
                        tracing::error!(error = %e, "reading blocks for a peer failed");
                        PeerAnswer::error(500, e.code(), "the store failed")
                    }
                    Err(_) => PeerAnswer::error(503, "UNAVAILABLE", "the peer is shutting down"),
                }
            }
            _ => PeerAnswer::error(404, "UNKNOWN_ROUTE", "no such peer route"),
        }
    }
}

/// Parses a raft message off the IO threads, runs it on the raft runtime, and answers
/// the `Result` as JSON.
async fn rpc<Req, Resp, E, F, Fut>(shared: &Arc<Shared>, body: Vec<u8>, call: F) -> PeerAnswer
where
    Req: DeserializeOwned + Send + 'static,
    Resp: Serialize + Send + 'static,
    E: Serialize + Send + 'static,
    F: FnOnce(crate::types::Raft, Req) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<Resp, E>> + Send + 'static,
{
    let parsed = tokio::task::spawn_blocking(move || serde_json::from_slice::<Req>(&body)).await;
    let request = match parsed {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => return PeerAnswer::error(400, "MALFORMED_RAFT_MESSAGE", e.to_string()),
        Err(_) => return PeerAnswer::error(503, "UNAVAILABLE", "the peer is shutting down"),
    };
    let raft = shared.raft.clone();
    match shared
        .handle
        .spawn(async move { call(raft, request).await })
        .await
    {
        Ok(result) => PeerAnswer::json(200, &result),
        Err(_) => PeerAnswer::error(503, "UNAVAILABLE", "the raft is shutting down"),
    }
}

/// The leader's side of forwarding: orders the events and answers once committed.
async fn submit(shared: Arc<Shared>, body: Vec<u8>) -> PeerAnswer {
    if !shared.is_leader() {
        let leader = shared.leader().map(|l| l.to_string());
        return PeerAnswer::json(
            409,
            &json!({"code": "NOT_LEADER", "message": "this peer does not lead the ordering", "leader": leader}),
        );
    }
    let parsed = tokio::task::spawn_blocking(move || {
        let forwarded: Forwarded = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
        forwarded
            .events
            .into_iter()
            .map(|v| Envelope::from_value(v).map_err(|r| r.to_string()))
            .collect::<Result<Vec<_>, _>>()
    })
    .await;
    let events = match parsed {
        Ok(Ok(events)) if !events.is_empty() => events,
        Ok(Ok(_)) => return PeerAnswer::error(400, "EMPTY_SUBMISSION", "no events"),
        Ok(Err(e)) => return PeerAnswer::error(400, "MALFORMED_EVENT", e),
        Err(_) => return PeerAnswer::error(503, "UNAVAILABLE", "the peer is shutting down"),
    };
    let (tx, rx) = tokio::sync::oneshot::channel::<Result<ledger::Receipt, Rejection>>();
    orderer::enqueue(
        &shared,
        Submission {
            events,
            done: Box::new(move |r| drop(tx.send(r))),
            forwardable: false,
            deadline: Instant::now() + SUBMIT_DEADLINE,
        },
    );
    match rx.await {
        Ok(Ok(receipt)) => PeerAnswer::json(
            200,
            &ForwardedReceipt {
                block_height: receipt.block_height,
                block_hash: receipt.block_hash,
                results: receipt.results,
            },
        ),
        Ok(Err(r)) => {
            let status = if r.code == "NOT_LEADER" { 409 } else { 503 };
            PeerAnswer::error(status, &r.code, r.message)
        }
        Err(_) => PeerAnswer::error(503, "UNAVAILABLE", "the ordering service stopped"),
    }
}
