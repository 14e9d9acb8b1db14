//! Calling other peers: signed HTTP requests (see [`crate::auth`]) to the address the
//! consortium config gives for a peer, or the one this peer's config overrides it with.
//! Blocking (ureq); async callers run it with `spawn_blocking`.

use crate::auth;
use crate::catchup::Fetch;
use ledger::{Ledger, PeerId, SecretKey};
use std::collections::BTreeMap;
use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

/// Largest answer read from a peer.
const MAX_ANSWER: u64 = 256 * 1024 * 1024;

/// Where peers are reached.
#[derive(Clone)]
pub struct Directory {
    ledger: Arc<Ledger>,
    overrides: Arc<BTreeMap<PeerId, String>>,
}

impl Directory {
    /// Addresses from the consortium config in force, except those in `overrides`.
    pub fn new(ledger: Arc<Ledger>, overrides: BTreeMap<PeerId, String>) -> Self {
        Self {
            ledger,
            overrides: Arc::new(overrides),
        }
    }

    /// The base URL of `peer`, without a trailing slash.
    pub fn endpoint(&self, peer: &PeerId) -> Option<String> {
        let url = match self.overrides.get(peer) {
            Some(url) => url.clone(),
            None => self.ledger.consortium().peer(peer)?.endpoint.clone(),
        };
        let url = url.trim_end_matches('/').to_string();
        (!url.is_empty()).then_some(url)
    }
}

/// Why a call to a peer failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CallError {
    /// The peer has no known address.
    #[error("NO_ENDPOINT: peer {0} has no address in the consortium config")]
    NoEndpoint(PeerId),
    /// It could not be reached: nothing was delivered.
    #[error("PEER_UNREACHABLE: {0}")]
    Unreachable(String),
    /// The request may have been delivered but no answer came (timed out, reset).
    #[error("PEER_NO_ANSWER: {0}")]
    NoAnswer(String),
}

/// Signs and sends requests as this peer.
#[derive(Clone)]
pub struct PeerClient {
    me: PeerId,
    key: SecretKey,
    agent: ureq::Agent,
    directory: Directory,
}

impl PeerClient {
    /// A client sending as `me`, signing with `key`.
    pub fn new(me: PeerId, key: SecretKey, directory: Directory) -> Self {
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_secs(2))
            .max_idle_connections_per_host(8)
            .build();
        Self {
            me,
            key,
            agent,
            directory,
        }
    }

    /// This peer's id.
    pub fn me(&self) -> &PeerId {
        &self.me
    }

    /// The directory of addresses.
    pub fn directory(&self) -> &Directory {
        &self.directory
    }

    /// Sends `method path` with `body` to `peer`; any HTTP status is an answer.
    pub fn call(
        &self,
        peer: &PeerId,
        method: &str,
        path: &str,
        body: &[u8],
        timeout: Duration,
    ) -> Result<(u16, Vec<u8>), CallError> {
        let base = self
            .directory
            .endpoint(peer)
            .ok_or_else(|| CallError::NoEndpoint(peer.clone()))?;
        let mut request = self
            .agent
            .request(method, &format!("{base}{path}"))
            .timeout(timeout)
            .set("content-type", "application/json");
        for (name, value) in auth::sign(&self.me, &self.key, method, path, body) {
            request = request.set(name, &value);
        }
        let response = if method == "GET" {
            request.call()
        } else {
            request.send_bytes(body)
        };
        let response = match response {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e)
                if matches!(
                    e.kind(),
                    ureq::ErrorKind::ConnectionFailed | ureq::ErrorKind::Dns
                ) =>
            {
                return Err(CallError::Unreachable(format!("{peer}: {e}")));
            }
            Err(e) => return Err(CallError::NoAnswer(format!("{peer}: {e}"))),
        };
        let status = response.status();
        let mut bytes = Vec::new();
        response
            .into_reader()
            .take(MAX_ANSWER)
            .read_to_end(&mut bytes)
            .map_err(|e| CallError::NoAnswer(format!("{peer}: reading the answer: {e}")))?;
        Ok((status, bytes))
    }
}

impl Fetch for PeerClient {
    fn fetch(&self, peer: &PeerId, from: u64) -> Result<Vec<serde_json::Value>, String> {
        let (status, body) = self
            .call(
                peer,
                "GET",
                &format!("/raft/blocks/{from}"),
                b"",
                Duration::from_secs(30),
            )
            .map_err(|e| e.to_string())?;
        if status != 200 {
            return Err(format!(
                "HTTP {status}: {}",
                String::from_utf8_lossy(&body[..body.len().min(200)])
            ));
        }
        serde_json::from_slice(&body)
            .map_err(|e| format!("the answer is not a JSON array of blocks: {e}"))
    }
}
