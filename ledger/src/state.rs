//! Module state as ordered key-value tables, one namespace per module, read through layers:
//! committed state (a [`StateSource`]: the store, or memory), the block's writes so far,
//! and the current event's writes. An event's writes join the block only if its `apply`
//! succeeds, so a rejected event changes nothing.

use crate::config::{Consortium, Directory};
use crate::store::StoreError;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::borrow::Borrow;
use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::ops::Bound;

/// Pending writes: `None` deletes.
pub type Writes = BTreeMap<(String, Vec<u8>), Option<Vec<u8>>>;

/// Key-value pairs read back from state, in key order.
pub type Entries = Vec<(Vec<u8>, Vec<u8>)>;

/// Whole-state entries with their module, for the audit: ((module, key), value).
pub type ModuleEntries = Vec<((String, Vec<u8>), Vec<u8>)>;

/// Committed state that layers read from.
pub trait StateSource: Send + Sync {
    /// The value under `key` in `module`'s namespace.
    fn state_get(&self, module: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;
    /// Up to `limit` entries whose keys start with `prefix`, in key order.
    fn state_scan(&self, module: &str, prefix: &[u8], limit: usize) -> Result<Entries, StoreError>;
}

/// Committed state held in memory: the audit's replay target, and tests' store.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct MemState {
    /// All entries, by (module, key).
    pub entries: BTreeMap<(String, Vec<u8>), Vec<u8>>,
}

impl MemState {
    /// Applies committed writes.
    pub fn apply(&mut self, writes: &Writes) {
        for (k, v) in writes {
            match v {
                Some(v) => {
                    self.entries.insert(k.clone(), v.clone());
                }
                None => {
                    self.entries.remove(k);
                }
            }
        }
    }
}

/// A (module, key) pair as the write layers order them, so a lookup can borrow the
/// caller's module name and key instead of building an owned pair first (every state read
/// of every event goes through those layers).
trait ModuleKey {
    fn module(&self) -> &str;
    fn key(&self) -> &[u8];
}

impl ModuleKey for (String, Vec<u8>) {
    fn module(&self) -> &str {
        &self.0
    }
    fn key(&self) -> &[u8] {
        &self.1
    }
}

impl ModuleKey for (&str, &[u8]) {
    fn module(&self) -> &str {
        self.0
    }
    fn key(&self) -> &[u8] {
        self.1
    }
}

impl<'a> Borrow<dyn ModuleKey + 'a> for (String, Vec<u8>) {
    fn borrow(&self) -> &(dyn ModuleKey + 'a) {
        self
    }
}

// The tuple's own order (module, then key, both bytewise), as `Borrow` requires.
impl Ord for dyn ModuleKey + '_ {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.module(), self.key()).cmp(&(other.module(), other.key()))
    }
}

impl PartialOrd for dyn ModuleKey + '_ {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for dyn ModuleKey + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for dyn ModuleKey + '_ {}

/// The value `map` holds under (`module`, `key`), looked up without copying either.
pub(crate) fn lookup<'m, V>(
    map: &'m BTreeMap<(String, Vec<u8>), V>,
    module: &str,
    key: &[u8],
) -> Option<&'m V> {
    map.get(&(module, key) as &dyn ModuleKey)
}

fn prefix_range<'a, V>(
    map: &'a BTreeMap<(String, Vec<u8>), V>,
    module: &'a str,
    prefix: &'a [u8],
) -> impl Iterator<Item = (&'a Vec<u8>, &'a V)> + 'a {
    let start = (module, prefix);
    map.range::<dyn ModuleKey, _>((Bound::Included(&start as &dyn ModuleKey), Bound::Unbounded))
        .take_while(move |((m, k), _)| m == module && k.starts_with(prefix))
        .map(|((_, k), v)| (k, v))
}

impl StateSource for MemState {
    fn state_get(&self, module: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(lookup(&self.entries, module, key).cloned())
    }

    fn state_scan(&self, module: &str, prefix: &[u8], limit: usize) -> Result<Entries, StoreError> {
        Ok(prefix_range(&self.entries, module, prefix)
            .take(limit)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }
}

/// Read access to state, as a module's `validate` gets it.
pub trait StateView {
    /// The value under `key` in the module's own namespace.
    fn get(&self, key: &[u8]) -> Option<Vec<u8>>;
    /// Up to `limit` entries of the module's namespace whose keys start with `prefix`.
    fn scan(&self, prefix: &[u8], limit: usize) -> Vec<(Vec<u8>, Vec<u8>)>;
    /// Read-only access to another module's namespace (for traits a module offers others).
    fn get_in(&self, module: &str, key: &[u8]) -> Option<Vec<u8>>;
    /// Read-only scan of another module's namespace.
    fn scan_in(&self, module: &str, prefix: &[u8], limit: usize) -> Entries;
    /// The consortium config in force.
    fn consortium(&self) -> &Consortium;
    /// The actor directory in force.
    fn directory(&self) -> &Directory;
}

/// Typed helpers over [`StateView`]: values stored as JSON.
pub trait StateViewExt: StateView {
    /// The JSON value under `key`, if present and readable as `T`.
    fn get_json<T: DeserializeOwned>(&self, key: &[u8]) -> Option<T> {
        self.get(key).and_then(|b| serde_json::from_slice(&b).ok())
    }
}

impl<S: StateView + ?Sized> StateViewExt for S {}

/// Another module's namespace seen read-only as if it were the reader's own: how a module
/// offers its query functions to others through a trait (writes are impossible here).
pub struct ForeignView<'a> {
    inner: &'a dyn StateView,
    module: &'a str,
}

impl<'a> ForeignView<'a> {
    /// `module`'s state, read through `inner`.
    pub fn new(inner: &'a dyn StateView, module: &'a str) -> Self {
        Self { inner, module }
    }
}

impl StateView for ForeignView<'_> {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.inner.get_in(self.module, key)
    }

    fn scan(&self, prefix: &[u8], limit: usize) -> Entries {
        self.inner.scan_in(self.module, prefix, limit)
    }

    fn get_in(&self, module: &str, key: &[u8]) -> Option<Vec<u8>> {
        self.inner.get_in(module, key)
    }

    fn scan_in(&self, module: &str, prefix: &[u8], limit: usize) -> Entries {
        self.inner.scan_in(module, prefix, limit)
    }

    fn consortium(&self) -> &Consortium {
        self.inner.consortium()
    }

    fn directory(&self) -> &Directory {
        self.inner.directory()
    }
}

/// State as seen while applying one event of a block, scoped to one module.
pub struct StateTx<'a> {
    base: &'a dyn StateSource,
    block: &'a Writes,
    event: Writes,
    module: &'a str,
    consortium: &'a Consortium,
    directory: &'a Directory,
    error: &'a RefCell<Option<StoreError>>,
}

impl<'a> StateTx<'a> {
    /// A layer over `base` and the block's writes so far; `error` collects the first store
    /// failure, which aborts the block (modules never see store errors).
    pub fn new(
        base: &'a dyn StateSource,
        block: &'a Writes,
        module: &'a str,
        consortium: &'a Consortium,
        directory: &'a Directory,
        error: &'a RefCell<Option<StoreError>>,
    ) -> Self {
        Self {
            base,
            block,
            event: Writes::new(),
            module,
            consortium,
            directory,
            error,
        }
    }

    /// Sets `key` to `value`.
    pub fn put(&mut self, key: &[u8], value: Vec<u8>) {
        self.put_owned(key.to_vec(), value);
    }

    /// [`StateTx::put`] with a key built for the write, taken without a copy.
    pub fn put_owned(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.event
            .insert((self.module.to_string(), key), Some(value));
    }

    /// Sets `key` to the JSON form of `value`.
    pub fn put_json<T: Serialize>(&mut self, key: &[u8], value: &T) {
        self.put(
            key,
            serde_json::to_vec(value).expect("state values serialise"),
        );
    }

    /// Removes `key`.
    pub fn delete(&mut self, key: &[u8]) {
        self.delete_owned(key.to_vec());
    }

    /// [`StateTx::delete`] with a key built for the write, taken without a copy.
    pub fn delete_owned(&mut self, key: Vec<u8>) {
        self.event.insert((self.module.to_string(), key), None);
    }

    /// The event's writes, for the caller to merge into the block when apply succeeded.
    pub fn into_writes(self) -> Writes {
        self.event
    }

    fn record(&self, e: StoreError) {
        let mut slot = self.error.borrow_mut();
        if slot.is_none() {
            *slot = Some(e);
        }
    }

    fn layered_get(&self, module: &str, key: &[u8]) -> Option<Vec<u8>> {
        if let Some(v) = lookup(&self.event, module, key) {
            return v.clone();
        }
        if let Some(v) = lookup(self.block, module, key) {
            return v.clone();
        }
        match self.base.state_get(module, key) {
            Ok(v) => v,
            Err(e) => {
                self.record(e);
                None
            }
        }
    }
}

impl StateView for StateTx<'_> {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.layered_get(self.module, key)
    }

    fn scan(&self, prefix: &[u8], limit: usize) -> Vec<(Vec<u8>, Vec<u8>)> {
        self.scan_in(self.module, prefix, limit)
    }

    fn scan_in(&self, module: &str, prefix: &[u8], limit: usize) -> Entries {
        // Deleted keys in the overlays may hide base entries, so ask the base for more.
        let hidden = prefix_range(self.block, module, prefix).count()
            + prefix_range(&self.event, module, prefix).count();
        let base = match self
            .base
            .state_scan(module, prefix, limit.saturating_add(hidden))
        {
            Ok(v) => v,
            Err(e) => {
                self.record(e);
                Vec::new()
            }
        };
        if hidden == 0 {
            // nothing written over the range: the base's answer is the answer
            return base;
        }
        let mut merged: BTreeMap<Vec<u8>, Option<Vec<u8>>> =
            base.into_iter().map(|(k, v)| (k, Some(v))).collect();
        for (k, v) in prefix_range(self.block, module, prefix) {
            merged.insert(k.clone(), v.clone());
        }
        for (k, v) in prefix_range(&self.event, module, prefix) {
            merged.insert(k.clone(), v.clone());
        }
        merged
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k, v)))
            .take(limit)
            .collect()
    }

    fn get_in(&self, module: &str, key: &[u8]) -> Option<Vec<u8>> {
        self.layered_get(module, key)
    }

    fn consortium(&self) -> &Consortium {
        self.consortium
    }

    fn directory(&self) -> &Directory {
        self.directory
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn consortium() -> Consortium {
        Consortium {
            name: "t".into(),
            governors: vec![],
            organizations: vec![],
            peers: vec![],
        }
    }

    #[test]
    fn layers_and_scans_merge_in_key_order() {
        let mut base = MemState::default();
        for k in [b"a1", b"a2", b"a3", b"b1"] {
            base.entries.insert(("m".into(), k.to_vec()), k.to_vec());
        }
        let mut block = Writes::new();
        block.insert(("m".into(), b"a2".to_vec()), None);
        block.insert(("m".into(), b"a4".to_vec()), Some(b"x".to_vec()));
        let c = consortium();
        let d = Directory::default();
        let err = RefCell::new(None);
        let mut tx = StateTx::new(&base, &block, "m", &c, &d, &err);
        tx.put(b"a0", b"y".to_vec());
        tx.delete(b"a3");
        let keys: Vec<Vec<u8>> = tx.scan(b"a", 10).into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys, vec![b"a0".to_vec(), b"a1".to_vec(), b"a4".to_vec()]);
        assert_eq!(tx.scan(b"a", 2).len(), 2);
        assert_eq!(tx.get(b"a2"), None);
        assert_eq!(tx.get(b"a4"), Some(b"x".to_vec()));
        assert_eq!(tx.get_in("other", b"a1"), None);
        let w = tx.into_writes();
        assert_eq!(w.len(), 2);
    }
}
