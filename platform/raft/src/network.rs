//! openraft's network over HTTP: `append_entries`, `vote` and `install_snapshot` are
//! JSON POSTs to `/raft/append`, `/raft/vote` and `/raft/snapshot` on the target peer,
//! signed as this peer. The answer body is the target's `Result` as JSON.

use crate::client::{CallError, PeerClient};
use crate::types::{NodeId, PeerNode, TypeConfig};
use ledger::PeerId;
use openraft::error::{
    InstallSnapshotError, NetworkError, RPCError, RaftError, RemoteError, Unreachable,
};
use openraft::network::{RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse,
    VoteRequest, VoteResponse,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::time::Duration;

/// The routes raft messages go to.
pub mod paths {
    /// AppendEntries.
    pub const APPEND: &str = "/raft/append";
    /// RequestVote.
    pub const VOTE: &str = "/raft/vote";
    /// InstallSnapshot (one chunk).
    pub const SNAPSHOT: &str = "/raft/snapshot";
}

/// Makes a [`Connection`] per target peer.
#[derive(Clone)]
pub struct Network {
    client: PeerClient,
}

impl Network {
    /// The network sending through `client`.
    pub fn new(client: PeerClient) -> Self {
        Self { client }
    }
}

impl RaftNetworkFactory<TypeConfig> for Network {
    type Network = Connection;

    async fn new_client(&mut self, target: NodeId, node: &PeerNode) -> Connection {
        Connection {
            client: self.client.clone(),
            target,
            peer: PeerId::new(node.peer.clone()).ok(),
        }
    }
}

/// Sends raft messages to one peer.
pub struct Connection {
    client: PeerClient,
    target: NodeId,
    peer: Option<PeerId>,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Failure(String);

impl Connection {
    async fn send<Req, Resp, E>(
        &self,
        path: &'static str,
        request: &Req,
        timeout: Duration,
    ) -> Result<Resp, RPCError<NodeId, PeerNode, RaftError<NodeId, E>>>
    where
        Req: Serialize,
        Resp: DeserializeOwned + Send + 'static,
        E: std::error::Error + DeserializeOwned + Send + 'static,
    {
        let Some(peer) = self.peer.clone() else {
            return Err(RPCError::Unreachable(Unreachable::new(&Failure(
                "the raft member names no valid peer id".into(),
            ))));
        };
        let body =
            serde_json::to_vec(request).map_err(|e| RPCError::Network(NetworkError::new(&e)))?;
        let client = self.client.clone();
        let answer =
            tokio::task::spawn_blocking(move || client.call(&peer, "POST", path, &body, timeout))
                .await
                .map_err(|e| RPCError::Network(NetworkError::new(&e)))?;
        let (status, bytes) = match answer {
            Ok(a) => a,
            Err(
                e @ (CallError::Unreachable(_) | CallError::NoAnswer(_) | CallError::NoEndpoint(_)),
            ) => {
                return Err(RPCError::Unreachable(Unreachable::new(&e)));
            }
        };
        if status != 200 {
            let text = String::from_utf8_lossy(&bytes[..bytes.len().min(300)]).into_owned();
            return Err(RPCError::Unreachable(Unreachable::new(&Failure(format!(
                "{path} answered HTTP {status}: {text}"
            )))));
        }
        let result: Result<Resp, RaftError<NodeId, E>> =
            serde_json::from_slice(&bytes).map_err(|e| RPCError::Network(NetworkError::new(&e)))?;
        result.map_err(|e| RPCError::RemoteError(RemoteError::new(self.target, e)))
    }
}

impl RaftNetwork<TypeConfig> for Connection {
    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<NodeId>, RPCError<NodeId, PeerNode, RaftError<NodeId>>> {
        self.send(paths::APPEND, &rpc, option.hard_ttl()).await
    }

    async fn install_snapshot(
        &mut self,
        rpc: InstallSnapshotRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<
        InstallSnapshotResponse<NodeId>,
        RPCError<NodeId, PeerNode, RaftError<NodeId, InstallSnapshotError>>,
    > {
        // Installing may fetch many blocks: allow it more than one heartbeat.
        self.send(
            paths::SNAPSHOT,
            &rpc,
            option.hard_ttl().max(Duration::from_secs(150)),
        )
        .await
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<NodeId>,
        option: RPCOption,
    ) -> Result<VoteResponse<NodeId>, RPCError<NodeId, PeerNode, RaftError<NodeId>>> {
        self.send(paths::VOTE, &rpc, option.hard_ttl()).await
    }
}
