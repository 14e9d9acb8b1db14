//! A Bloom filter of every state key in the store, so a lookup of a key that was never
//! written (a new serial, a new digest: most lookups while ingesting) is answered without
//! a network round trip. It only ever errs towards asking the database.
//!
//! Keys are added before the block that writes them commits, so the filter never lags
//! the database; deleted keys stay (a harmless false positive). It is exact as long as
//! this store is the only writer of its schema (see the read cache).

use parking_lot::RwLock;
use std::hash::{DefaultHasher, Hash, Hasher};

/// Bits per expected key and probes per key: about 1% false positives when full.
const BITS_PER_KEY: u64 = 10;
const PROBES: u64 = 7;
/// Room for this many keys at least.
pub(crate) const MIN_CAPACITY: u64 = 1 << 20;

/// The bits, and how many keys they were sized for.
pub(crate) struct Bloom {
    bits: Vec<u64>,
    keys: u64,
    capacity: u64,
}

fn probes(module: &str, key: &[u8]) -> (u64, u64) {
    let mut a = DefaultHasher::new();
    module.hash(&mut a);
    key.hash(&mut a);
    let mut b = DefaultHasher::new();
    0x5eed_u32.hash(&mut b);
    module.hash(&mut b);
    key.hash(&mut b);
    (a.finish(), b.finish() | 1)
}

impl Bloom {
    /// An empty filter with room for `capacity` keys (`0`: one that admits every key).
    pub(crate) fn with_capacity(capacity: u64) -> Self {
        let words = if capacity == 0 {
            0
        } else {
            (capacity * BITS_PER_KEY).div_ceil(64) as usize
        };
        Self {
            bits: vec![0; words],
            keys: 0,
            capacity,
        }
    }

    fn width(&self) -> u64 {
        self.bits.len() as u64 * 64
    }

    /// Adds a key.
    pub(crate) fn insert(&mut self, module: &str, key: &[u8]) {
        let width = self.width();
        if width == 0 {
            return;
        }
        let (a, b) = probes(module, key);
        for i in 0..PROBES {
            let bit = a.wrapping_add(i.wrapping_mul(b)) % width;
            self.bits[(bit / 64) as usize] |= 1 << (bit % 64);
        }
        self.keys += 1;
    }

    /// False only when the key was certainly never added.
    pub(crate) fn may_contain(&self, module: &str, key: &[u8]) -> bool {
        let width = self.width();
        if width == 0 {
            return true;
        }
        let (a, b) = probes(module, key);
        (0..PROBES).all(|i| {
            let bit = a.wrapping_add(i.wrapping_mul(b)) % width;
            self.bits[(bit / 64) as usize] & (1 << (bit % 64)) != 0
        })
    }

    /// True when more keys were added than it was sized for.
    pub(crate) fn overfull(&self) -> bool {
        self.capacity > 0 && self.keys > self.capacity
    }

    /// How many keys were added.
    pub(crate) fn keys(&self) -> u64 {
        self.keys
    }
}

/// The filter shared by readers and the writer.
pub(crate) struct KeyFilter {
    bloom: RwLock<Bloom>,
}

impl KeyFilter {
    /// Wraps a filled filter.
    pub(crate) fn new(bloom: Bloom) -> Self {
        Self {
            bloom: RwLock::new(bloom),
        }
    }

    /// False only when the key is certainly not stored.
    pub(crate) fn may_contain(&self, module: &str, key: &[u8]) -> bool {
        self.bloom.read().may_contain(module, key)
    }

    /// Adds keys about to be written; true when the filter should be rebuilt larger.
    pub(crate) fn add<'a>(&self, keys: impl Iterator<Item = (&'a str, &'a [u8])>) -> bool {
        let mut bloom = self.bloom.write();
        for (m, k) in keys {
            bloom.insert(m, k);
        }
        bloom.overfull()
    }

    /// How many keys were added.
    pub(crate) fn keys(&self) -> u64 {
        self.bloom.read().keys()
    }

    /// How many keys it was sized for.
    #[cfg(test)]
    pub(crate) fn capacity(&self) -> u64 {
        self.bloom.read().capacity
    }

    /// Swaps in a rebuilt filter.
    pub(crate) fn replace(&self, bloom: Bloom) {
        *self.bloom.write() = bloom;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn added_keys_are_always_found_and_most_others_are_not() {
        let mut bloom = Bloom::with_capacity(10_000);
        for i in 0..10_000u32 {
            bloom.insert("m", &i.to_be_bytes());
        }
        assert!((0..10_000u32).all(|i| bloom.may_contain("m", &i.to_be_bytes())));
        let false_positives = (10_000..20_000u32)
            .filter(|i| bloom.may_contain("m", &i.to_be_bytes()))
            .count();
        assert!(false_positives < 300, "{false_positives} false positives");
        assert!(!bloom.overfull());
        bloom.insert("m", b"one more");
        assert!(bloom.overfull());
    }

    #[test]
    fn an_unsized_filter_admits_everything() {
        let bloom = Bloom::with_capacity(0);
        assert!(bloom.may_contain("m", b"anything"));
    }
}
