//! Catch-up: a peer whose ledger is behind (it was stopped, it is new, or it installed a
//! snapshot) fetches the missing blocks from other peers and commits each through
//! `Ledger::commit_block`, which checks the orderer's signature, the link to the previous
//! block, the Merkle root and every event signature. A peer that serves a block that
//! does not pass is named in the log and not asked again in this round.

use ledger::{Block, Ledger, LedgerError, PeerId};
use std::time::{Duration, Instant};

/// Most blocks one `GET /raft/blocks/{from}` answers with.
pub const BLOCKS_PER_FETCH: u64 = 64;
/// Most bytes of blocks one fetch answers with (at least one block is always sent).
pub const FETCH_BYTES: usize = 8 * 1024 * 1024;

/// Where blocks come from: another peer's `GET /raft/blocks/{from}`.
pub trait Fetch: Send + Sync {
    /// Blocks from height `from` on, as JSON, from `peer` (empty when it has none).
    fn fetch(&self, peer: &PeerId, from: u64) -> Result<Vec<serde_json::Value>, String>;
}

/// Why catch-up stopped short.
#[derive(Debug, thiserror::Error)]
pub enum CatchUpError {
    /// No peer could provide the next block before the deadline.
    #[error("CATCH_UP_FAILED: no peer provided block {height} in time ({last})")]
    NoSource {
        /// The height still missing.
        height: u64,
        /// The last problem seen.
        last: String,
    },
    /// The local store failed.
    #[error("the local store failed during catch-up: {0}")]
    Store(ledger::StoreError),
}

/// Fetches and commits blocks until the local head is at least `target`, asking the
/// `peers` in order (put the most likely source first). Returns how many blocks were
/// committed.
pub fn catch_up(
    ledger: &Ledger,
    fetch: &dyn Fetch,
    peers: &[PeerId],
    target: u64,
    deadline: Instant,
) -> Result<u64, CatchUpError> {
    let mut round = Round::new(peers);
    while ledger.head().height < target {
        if !round.pass(ledger, fetch)? {
            round.wait(ledger, deadline)?;
        }
    }
    Ok(round.committed)
}

/// Fetches and commits blocks until the peers that answer have no block after the local
/// head (or `deadline` passes with no peer answering at all): for a peer that does not
/// know how far the chain goes, such as a new one joining before it takes part in raft.
/// Returns how many blocks were committed.
pub fn catch_up_to_head(
    ledger: &Ledger,
    fetch: &dyn Fetch,
    peers: &[PeerId],
    deadline: Instant,
) -> Result<u64, CatchUpError> {
    let mut round = Round::new(peers);
    loop {
        if round.pass(ledger, fetch)? {
            continue;
        }
        if round.some_had_none {
            return Ok(round.committed);
        }
        round.wait(ledger, deadline)?;
    }
}

/// One catch-up: the peers asked, those that served a bad block, what was committed.
struct Round<'a> {
    peers: &'a [PeerId],
    refused: Vec<PeerId>,
    committed: u64,
    /// The last problem seen, for the error.
    last: String,
    /// In the last pass, some peer answered that it holds nothing after the local head.
    some_had_none: bool,
}

impl<'a> Round<'a> {
    fn new(peers: &'a [PeerId]) -> Self {
        Self {
            peers,
            refused: Vec::new(),
            committed: 0,
            last: String::from("no peer to ask"),
            some_had_none: false,
        }
    }

    /// Asks the peers in order for the blocks after the local head until one provides
    /// some that verify. True when blocks were committed.
    fn pass(&mut self, ledger: &Ledger, fetch: &dyn Fetch) -> Result<bool, CatchUpError> {
        let next = ledger.head().height + 1;
        self.some_had_none = false;
        for peer in self.peers {
            if self.refused.contains(peer) {
                continue;
            }
            let values = match fetch.fetch(peer, next) {
                Ok(v) if !v.is_empty() => v,
                Ok(_) => {
                    self.last = format!("{peer} has no block {next} yet");
                    self.some_had_none = true;
                    continue;
                }
                Err(e) => {
                    self.last = format!("{peer}: {e}");
                    continue;
                }
            };
            let (n, outcome) = commit_all(ledger, values);
            self.committed += n;
            match outcome {
                Ok(()) => {}
                Err(Refusal::Bad(why)) => {
                    let height = ledger.head().height + 1;
                    tracing::warn!(%peer, height, reason = %why, "a peer served a block that does not verify; not asking it again in this catch-up");
                    self.last = format!("{peer} served a bad block {height}: {why}");
                    self.refused.push(peer.clone());
                }
                Err(Refusal::Store(e)) => return Err(CatchUpError::Store(e)),
            }
            if n > 0 {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// After a pass that committed nothing: fails once `deadline` has passed, else
    /// waits a little (and, when every peer was refused, gives them another chance).
    fn wait(&mut self, ledger: &Ledger, deadline: Instant) -> Result<(), CatchUpError> {
        if Instant::now() >= deadline {
            return Err(CatchUpError::NoSource {
                height: ledger.head().height + 1,
                last: std::mem::take(&mut self.last),
            });
        }
        std::thread::sleep(Duration::from_millis(100));
        if self.refused.len() >= self.peers.len() {
            self.refused.clear();
        }
        Ok(())
    }
}

enum Refusal {
    Bad(String),
    Store(ledger::StoreError),
}

/// Commits the fetched blocks that extend the local chain, in order. Blocks at or below
/// the head are skipped (another path committed them meanwhile). Returns how many were
/// committed, and why it stopped short, if it did.
fn commit_all(ledger: &Ledger, values: Vec<serde_json::Value>) -> (u64, Result<(), Refusal>) {
    let mut n = 0;
    for value in values {
        let block = match Block::from_json_value(value) {
            Ok(b) => b,
            Err(r) => return (n, Err(Refusal::Bad(r.to_string()))),
        };
        let head = ledger.head();
        if block.header.height <= head.height {
            continue;
        }
        if block.header.height != head.height + 1 {
            let why = format!(
                "block {} does not follow the local head {}",
                block.header.height, head.height
            );
            return (n, Err(Refusal::Bad(why)));
        }
        match ledger.commit_block(block) {
            Ok(_) => n += 1,
            Err(LedgerError::Store(e)) => return (n, Err(Refusal::Store(e))),
            Err(e) => return (n, Err(Refusal::Bad(e.to_string()))),
        }
    }
    (n, Ok(()))
}

/// The blocks a peer serves from `from` on: at most [`BLOCKS_PER_FETCH`] and about
/// [`FETCH_BYTES`], as JSON.
pub fn serve_blocks(
    ledger: &Ledger,
    from: u64,
) -> Result<Vec<serde_json::Value>, ledger::StoreError> {
    let head = ledger.head().height;
    let mut out = Vec::new();
    let mut bytes = 0;
    let mut h = from;
    while h <= head && (h - from) < BLOCKS_PER_FETCH && bytes < FETCH_BYTES {
        let Some(block) = ledger.block(h)? else {
            break;
        };
        bytes += block.events.iter().map(|e| e.raw_len() + 96).sum::<usize>() + 512;
        out.push(block.to_json_value());
        h += 1;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use fixtures::TestNet;
    use ledger::Modules;
    use serde_json::json;

    /// Changes a block's JSON.
    type Damage = fn(&mut serde_json::Value);

    /// Serves blocks from a ledger, optionally damaging the block at one height.
    struct From<'a> {
        ledger: &'a Ledger,
        damage: Option<(u64, Damage)>,
    }

    impl Fetch for From<'_> {
        fn fetch(&self, _: &PeerId, from: u64) -> Result<Vec<serde_json::Value>, String> {
            let mut blocks = serve_blocks(self.ledger, from).map_err(|e| e.to_string())?;
            if let Some((h, damage)) = self.damage {
                for b in &mut blocks {
                    if b["header"]["height"] == h {
                        damage(b);
                    }
                }
            }
            Ok(blocks)
        }
    }

    /// Several peers, each serving through its own [`From`]; an unknown peer is down.
    struct Peers<'a>(Vec<(PeerId, From<'a>)>);

    impl Fetch for Peers<'_> {
        fn fetch(&self, peer: &PeerId, from: u64) -> Result<Vec<serde_json::Value>, String> {
            match self.0.iter().find(|(p, _)| p == peer) {
                Some((_, f)) => f.fetch(peer, from),
                None => Err("connection refused".into()),
            }
        }
    }

    fn named(name: &str) -> PeerId {
        PeerId::new(name).unwrap()
    }

    fn source() -> TestNet {
        let net = TestNet::new(Modules::new(), 1_700_000_000_000);
        for n in 0..3 {
            net.ok(
                "acme-pharma/admin",
                "consortium",
                "update_organization",
                json!({"org": "acme-pharma", "name": format!("Acme Pharma {n}")}),
            );
        }
        net
    }

    fn peer() -> Vec<PeerId> {
        vec![PeerId::new("demo-peer").unwrap()]
    }

    #[test]
    fn a_peer_behind_fetches_checks_and_commits_the_missing_blocks() {
        let a = source();
        let b = TestNet::new(Modules::new(), 1_700_000_000_000);
        let fetch = From {
            ledger: &a.ledger,
            damage: None,
        };
        let deadline = Instant::now() + Duration::from_secs(5);
        assert_eq!(
            catch_up(&b.ledger, &fetch, &peer(), 3, deadline).unwrap(),
            3
        );
        assert_eq!(b.ledger.head(), a.ledger.head());
        b.assert_audit_passes();
    }

    #[test]
    fn tampered_blocks_are_refused_and_nothing_after_them_is_taken() {
        let a = source();
        let damages: [Damage; 3] = [
            // another orderer signature
            |b| b["signature"] = serde_json::Value::String("00".repeat(64)),
            // linked to another block
            |b| b["header"]["previous"] = serde_json::Value::String("11".repeat(32)),
            // an event dropped: the Merkle root no longer matches
            |b| {
                b["events"].as_array_mut().unwrap().clear();
                b["header"]["event_count"] = 0.into();
            },
        ];
        for damage in damages {
            let b = TestNet::new(Modules::new(), 1_700_000_000_000);
            let fetch = From {
                ledger: &a.ledger,
                damage: Some((2, damage)),
            };
            let deadline = Instant::now() + Duration::from_millis(300);
            let err = catch_up(&b.ledger, &fetch, &peer(), 3, deadline).unwrap_err();
            assert!(
                matches!(err, CatchUpError::NoSource { height: 2, .. }),
                "{err}"
            );
            assert_eq!(
                b.ledger.head().height,
                1,
                "only the good block before is kept"
            );
        }
    }

    #[test]
    fn catching_up_to_the_head_passes_over_a_peer_down_and_one_serving_a_forgery() {
        let a = source();
        let b = TestNet::new(Modules::new(), 1_700_000_000_000);
        let forger: Damage = |b| b["signature"] = serde_json::Value::String("00".repeat(64));
        let fetch = Peers(vec![
            (
                named("forger"),
                From {
                    ledger: &a.ledger,
                    damage: Some((2, forger)),
                },
            ),
            (
                named("honest"),
                From {
                    ledger: &a.ledger,
                    damage: None,
                },
            ),
        ]);
        let order = [named("down"), named("forger"), named("honest")];
        let deadline = Instant::now() + Duration::from_secs(5);
        let n = catch_up_to_head(&b.ledger, &fetch, &order, deadline).unwrap();
        assert_eq!(n, 3);
        assert_eq!(b.ledger.head(), a.ledger.head());
        b.assert_audit_passes();
        // At the head already: nothing more, and no waiting for the deadline.
        let again = catch_up_to_head(&b.ledger, &fetch, &order, Instant::now()).unwrap();
        assert_eq!(again, 0);
    }

    #[test]
    fn catching_up_to_the_head_with_no_peer_answering_fails_at_the_deadline() {
        let b = TestNet::new(Modules::new(), 1_700_000_000_000);
        let fetch = Peers(vec![]);
        let deadline = Instant::now() + Duration::from_millis(200);
        let err = catch_up_to_head(&b.ledger, &fetch, &[named("down")], deadline).unwrap_err();
        assert!(
            matches!(&err, CatchUpError::NoSource { height: 1, last } if last.contains("refused")),
            "{err}"
        );
        assert_eq!(b.ledger.head().height, 0);
    }
}
