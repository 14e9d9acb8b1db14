//! Signatures this peer already checked at admission. In a network every event is
//! admitted at the peer its user sent it to (and again at the leader when forwarded), and
//! then arrives back at those peers inside a block from the orderer. Checking it a second
//! time there proves nothing new: the block carries the same bytes and signature, and an
//! actor's key never changes. So admission remembers what it checked, and
//! `Ledger::commit_block` checks only what it does not find here.
//!
//! An entry is the SHA-256 of the event id and its signature, so a block holding the same
//! event under another signature is checked again. The memory is bounded (oldest first
//! out): events that were admitted but never ordered cannot grow it.

use crate::hash::{Digest, EventId, sha256_parts};
use crate::keys::Signature;
use parking_lot::Mutex;
use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};

/// How many checked signatures are remembered: a few seconds of ingest at full rate,
/// far longer than an event waits between admission and commit (about 8 MB).
pub(crate) const CAPACITY: usize = 1 << 17;

/// The remembered signatures.
pub(crate) struct Checked {
    inner: Mutex<Inner>,
    capacity: usize,
    enabled: AtomicBool,
}

#[derive(Default)]
struct Inner {
    set: HashSet<Digest>,
    order: VecDeque<Digest>,
}

fn entry(id: &EventId, signature: &Signature) -> Digest {
    sha256_parts(&[&id.0, &signature.to_bytes()])
}

impl Checked {
    /// An empty memory of `capacity` entries.
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            capacity: capacity.max(1),
            enabled: AtomicBool::new(false),
        }
    }

    /// Starts remembering.
    pub(crate) fn enable(&self) {
        self.enabled.store(true, Ordering::Relaxed);
    }

    /// Whether admission should remember what it checked.
    pub(crate) fn enabled(&self) -> bool {
        self.enabled.load(Ordering::Relaxed)
    }

    /// Remembers signatures that verified.
    pub(crate) fn remember<'a>(&self, events: impl Iterator<Item = (EventId, &'a Signature)>) {
        let entries: Vec<Digest> = events.map(|(id, s)| entry(&id, s)).collect();
        let mut inner = self.inner.lock();
        for e in entries {
            if inner.set.insert(e) {
                inner.order.push_back(e);
            }
            while inner.order.len() > self.capacity {
                if let Some(old) = inner.order.pop_front() {
                    inner.set.remove(&old);
                }
            }
        }
    }

    /// For each event, whether its signature was checked here; the entries found are
    /// forgotten (an event is committed once).
    pub(crate) fn take<'a>(
        &self,
        events: impl Iterator<Item = (EventId, &'a Signature)>,
    ) -> Vec<bool> {
        if !self.enabled() {
            return events.map(|_| false).collect();
        }
        let entries: Vec<Digest> = events.map(|(id, s)| entry(&id, s)).collect();
        let mut inner = self.inner.lock();
        entries.iter().map(|e| inner.set.remove(e)).collect()
    }

    /// How many entries are remembered.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.inner.lock().set.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::SecretKey;

    fn sig(n: u8) -> (EventId, Signature) {
        let key = SecretKey::from_seed(&[n; 32]);
        (EventId([n; 32]), key.sign(&[n]))
    }

    #[test]
    fn an_event_is_found_once_and_only_with_its_own_signature() {
        let checked = Checked::new(8);
        checked.enable();
        let (id, s) = sig(1);
        let (_, other) = sig(2);
        checked.remember([(id, &s)].into_iter());
        assert_eq!(checked.take([(id, &other)].into_iter()), vec![false]);
        assert_eq!(checked.take([(id, &s)].into_iter()), vec![true]);
        assert_eq!(checked.take([(id, &s)].into_iter()), vec![false]);
    }

    #[test]
    fn the_oldest_entries_leave_first_and_the_memory_stays_bounded() {
        let checked = Checked::new(3);
        checked.enable();
        let sigs: Vec<_> = (0..5).map(sig).collect();
        checked.remember(sigs.iter().map(|(id, s)| (*id, s)));
        assert_eq!(checked.len(), 3);
        let found = checked.take(sigs.iter().map(|(id, s)| (*id, s)));
        assert_eq!(found, vec![false, false, true, true, true]);
    }
}
