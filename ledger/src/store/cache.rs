//! A read cache of committed state for stores, so a key that admission just looked up is
//! not read from the database again when its block is applied a moment later (a query
//! costs microseconds on SQLite and a round trip on PostgreSQL; a trace event reads about
//! ten keys at admission and again at apply).
//!
//! It is exact as long as the store is the only writer of its database, which the ledger
//! already assumes (it keeps the chain head in memory). Commits update cached keys after
//! the database transaction commits; a lookup that raced with a commit is not cached
//! (a generation counter tells); raw SQL and failed commits empty the cache.

use parking_lot::Mutex;
use std::collections::HashMap;

/// foldhash rather than the standard SipHash: every state read of admission and apply
/// hashes its key here, and a trace event reads a dozen. Seeded per process like the
/// standard hasher; nothing iterates the maps, so no outcome depends on their order.
type Hasher = foldhash::fast::RandomState;

/// Most entries kept; the cache starts over when it is full.
const CAPACITY: usize = 200_000;

type Key = (String, Vec<u8>);

type Entries = HashMap<Vec<u8>, Option<Vec<u8>>, Hasher>;

#[derive(Default)]
struct Inner {
    generation: u64,
    /// By module (a handful, found by comparing names: cheaper than hashing one), then
    /// key: a lookup borrows both and allocates nothing.
    entries: Vec<(String, Entries)>,
    len: usize,
}

impl Inner {
    fn module(&self, module: &str) -> Option<&Entries> {
        self.entries
            .iter()
            .find(|(m, _)| m == module)
            .map(|(_, e)| e)
    }

    fn module_mut(&mut self, module: &str) -> Option<&mut Entries> {
        self.entries
            .iter_mut()
            .find(|(m, _)| m == module)
            .map(|(_, e)| e)
    }
}

/// Committed values (or their absence) by (module, key).
#[derive(Default)]
pub struct StateCache {
    inner: Mutex<Inner>,
}

/// What a lookup found: the value, or the generation to hand back with the fetched one.
pub enum Lookup {
    /// Cached: the committed value or `None` for absent.
    Hit(Option<Vec<u8>>),
    /// Not cached; fetch it and call [`StateCache::fill`] with this generation.
    Miss(u64),
}

impl StateCache {
    /// Looks `module`/`key` up.
    pub fn get(&self, module: &str, key: &[u8]) -> Lookup {
        let inner = self.inner.lock();
        match inner.module(module).and_then(|m| m.get(key)) {
            Some(v) => Lookup::Hit(v.clone()),
            None => Lookup::Miss(inner.generation),
        }
    }

    /// Remembers a value read from the database, unless a commit happened since the
    /// lookup that missed (the read may predate it).
    pub fn fill(&self, generation: u64, module: &str, key: &[u8], value: &Option<Vec<u8>>) {
        let mut inner = self.inner.lock();
        if inner.generation != generation {
            return;
        }
        if inner.len >= CAPACITY {
            inner.entries.clear();
            inner.len = 0;
        }
        let at = match inner.entries.iter().position(|(m, _)| m == module) {
            Some(at) => at,
            None => {
                // a miss already cost a database read; the module name's copy is nothing
                inner.entries.push((module.to_string(), HashMap::default()));
                inner.entries.len() - 1
            }
        };
        let fresh = inner.entries[at]
            .1
            .insert(key.to_vec(), value.clone())
            .is_none();
        inner.len += usize::from(fresh);
    }

    /// Applies a committed block's writes to the keys already cached.
    pub fn committed<'a>(&self, writes: impl Iterator<Item = (&'a Key, &'a Option<Vec<u8>>)>) {
        let mut inner = self.inner.lock();
        inner.generation += 1;
        for ((module, key), v) in writes {
            if let Some(slot) = inner
                .module_mut(module)
                .and_then(|m| m.get_mut(key.as_slice()))
            {
                slot.clone_from(v);
            }
        }
    }

    /// Forgets everything (after raw SQL, or a commit whose outcome is unknown).
    pub fn clear(&self) {
        let mut inner = self.inner.lock();
        inner.generation += 1;
        inner.entries.clear();
        inner.len = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_that_raced_with_a_commit_is_not_cached() {
        let cache = StateCache::default();
        let Lookup::Miss(g) = cache.get("m", b"k") else {
            panic!("empty cache")
        };
        let w: Vec<(Key, Option<Vec<u8>>)> =
            vec![(("m".into(), b"k".to_vec()), Some(b"v".to_vec()))];
        cache.committed(w.iter().map(|(k, v)| (k, v)));
        cache.fill(g, "m", b"k", &None);
        assert!(matches!(cache.get("m", b"k"), Lookup::Miss(_)));
    }

    #[test]
    fn commits_update_cached_keys() {
        let cache = StateCache::default();
        cache.fill(0, "m", b"k", &None);
        assert!(matches!(cache.get("m", b"k"), Lookup::Hit(None)));
        let w: Vec<(Key, Option<Vec<u8>>)> =
            vec![(("m".into(), b"k".to_vec()), Some(b"v".to_vec()))];
        cache.committed(w.iter().map(|(k, v)| (k, v)));
        assert!(matches!(cache.get("m", b"k"), Lookup::Hit(Some(v)) if v == b"v"));
        cache.clear();
        assert!(matches!(cache.get("m", b"k"), Lookup::Miss(_)));
    }
}
