//! Joining a running network. A new organisation's peer starts from the consortium's
//! genesis block alone (`pedigree init --join`), and genesis does not list it: a
//! governor's `add_peer` event added it later. Until its own copy of the chain holds that
//! event, the peer cannot take part in raft (it would not know itself, nor trust a leader
//! added after genesis). So it first fetches the chain from the peers its copy knows,
//! checking every block as catch-up always does, until its copy lists it and the peers
//! that answer have nothing more; then raft takes over.

use crate::catchup::{self, CatchUpError};
use crate::client::{Directory, PeerClient};
use ledger::{Ledger, PeerId, SecretKey};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long one attempt asks the peers before it is logged and tried again.
const ATTEMPT: Duration = Duration::from_secs(2);
/// How often "still waiting" is logged while nothing changes.
const REMIND_EVERY: Duration = Duration::from_secs(30);

/// Why joining stopped.
#[derive(Debug, thiserror::Error)]
pub enum JoinError {
    /// The local store failed.
    #[error(transparent)]
    Store(CatchUpError),
    /// The chain lists this peer under another public key.
    #[error(
        "PEER_KEY_MISMATCH: the consortium config lists peer {0} with another public key than this peer's key"
    )]
    KeyMismatch(PeerId),
    /// `patience` ran out before the chain listed this peer.
    #[error(
        "NOT_A_MEMBER: no reachable peer holds a chain that lists peer {peer} (last: {last}); a governor's admin adds it with `pedigree consortium add-peer`"
    )]
    NotListed {
        /// This peer.
        peer: PeerId,
        /// The last problem seen.
        last: String,
    },
}

/// Fetches the chain until it lists `me` and no answering peer has more; returns the
/// blocks committed. A peer the chain already lists returns at once. Waits for the
/// `add_peer` event as long as `patience` allows (`None`: until it comes), logging why.
pub fn join(
    ledger: &Arc<Ledger>,
    me: &PeerId,
    key: &SecretKey,
    endpoints: BTreeMap<PeerId, String>,
    patience: Option<Duration>,
) -> Result<u64, JoinError> {
    let listed = |ledger: &Ledger| ledger.consortium().peer(me).map(|p| p.public_key);
    if let Some(public) = listed(ledger) {
        return check_key(me, key, public).map(|()| 0);
    }
    let client = PeerClient::new(
        me.clone(),
        key.clone(),
        Directory::new(ledger.clone(), endpoints),
    );
    let started = Instant::now();
    let mut reminded: Option<Instant> = None;
    let mut committed = 0;
    tracing::info!(peer = %me, height = ledger.head().height, "this peer is not in its copy of the consortium config yet; fetching the chain from the other peers");
    loop {
        // The peers to ask change as the chain does: the config in force lists them.
        let peers: Vec<PeerId> = ledger
            .consortium()
            .peers
            .iter()
            .map(|p| p.id.clone())
            .filter(|p| p != me)
            .collect();
        let last =
            match catchup::catch_up_to_head(ledger, &client, &peers, Instant::now() + ATTEMPT) {
                Ok(n) => {
                    committed += n;
                    format!("the peers have no block after {}", ledger.head().height)
                }
                Err(e @ CatchUpError::Store(_)) => return Err(JoinError::Store(e)),
                Err(CatchUpError::NoSource { last, .. }) => last,
            };
        if let Some(public) = listed(ledger) {
            check_key(me, key, public)?;
            tracing::info!(peer = %me, blocks = committed, height = ledger.head().height, "the chain lists this peer; joining the raft");
            return Ok(committed);
        }
        if patience.is_some_and(|p| started.elapsed() >= p) {
            return Err(JoinError::NotListed {
                peer: me.clone(),
                last,
            });
        }
        if reminded.is_none_or(|r| r.elapsed() >= REMIND_EVERY) {
            reminded = Some(Instant::now());
            tracing::warn!(peer = %me, height = ledger.head().height, last = %last, "waiting for a governor's add_peer event listing this peer");
        }
        std::thread::sleep(Duration::from_secs(1));
    }
}

fn check_key(me: &PeerId, key: &SecretKey, listed: ledger::PublicKey) -> Result<(), JoinError> {
    if listed == key.public() {
        Ok(())
    } else {
        Err(JoinError::KeyMismatch(me.clone()))
    }
}
