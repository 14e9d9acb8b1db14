//! The checks. Each takes a fresh [`Harness`] and panics with a message naming what the
//! store got wrong.

use crate::Harness;
use crate::chain::{
    self, GENESIS_TIME, MemChain, NOTEBOOK, REFUSED, commit, delete, expected_rows, genesis,
    modules, put, refuse, seal_next, signer,
};
use ledger::block::{id_key, index_key};
use ledger::{CutPolicy, Ledger, Orderer, SoloOrderer, Store, StoreError};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

fn init(store: Arc<dyn Store>) -> Ledger {
    Ledger::init(store, modules(), genesis()).expect("genesis commits to an empty store")
}

fn notebook(store: &dyn Store) -> ledger::state::Entries {
    store
        .state_scan(NOTEBOOK, b"", usize::MAX)
        .expect("state scan")
}

/// A store without blocks has no head and no block 0, and reports a size.
pub fn empty_store_has_no_head(h: &dyn Harness) {
    let store = h.open().store;
    assert_eq!(store.head().unwrap(), None, "an empty store has no head");
    assert_eq!(store.raw_block(0).unwrap(), None);
    assert!(store.state_entries().unwrap().is_empty());
    assert!(store.index_entries().unwrap().is_empty());
    assert!(store.events_by_index_key(1, 10).unwrap().is_empty());
    assert!(store.size().is_ok());
}

/// Blocks committed through the trait read back row for row, and the head follows.
pub fn blocks_read_back_as_committed(h: &dyn Harness) {
    let store = h.open().store;
    let a = signer("maker/clerk");
    let (mut mem, genesis) = MemChain::new(GENESIS_TIME);
    let mut applied = vec![genesis];
    applied.push(mem.next(vec![
        put(&a, b"k1", "one"),
        put(&a, &[0xFF, 0x00], "binary"),
        refuse(&a, b"nope"),
    ]));
    applied.push(mem.next(vec![delete(&a, b"k1"), put(&a, b"k2", "two")]));
    applied.push(mem.next(vec![put(&a, b"k3", "")]));
    let size_before = store.size().unwrap().bytes;
    for block in &applied {
        store
            .commit(block)
            .expect("a block that extends the head commits");
        assert_eq!(
            store.head().unwrap(),
            Some(block.head()),
            "head after block {}",
            block.head().height
        );
    }
    for block in &applied {
        let want = expected_rows(block);
        let got = store.raw_block(want.height).unwrap().expect("stored block");
        assert_eq!(got, want, "block {} reads back as written", want.height);
    }
    assert_eq!(store.raw_block(applied.len() as u64).unwrap(), None);
    assert_eq!(
        store.raw_block(1).unwrap().unwrap().events[2]
            .result
            .as_deref(),
        Some(REFUSED),
        "a refused event is kept with its code"
    );
    assert_eq!(
        notebook(store.as_ref()),
        vec![
            (b"k2".to_vec(), b"two".to_vec()),
            (b"k3".to_vec(), b"".to_vec()),
            (vec![0xFF, 0x00], b"binary".to_vec()),
        ],
        "state holds the last value of every key; deleted and refused writes are gone"
    );
    let entries = store.state_entries().unwrap();
    let mut sorted = entries.clone();
    sorted.sort();
    assert_eq!(entries, sorted, "state entries come in (module, key) order");
    let mut index: Vec<(i64, u64)> = applied
        .iter()
        .flat_map(|b| b.index().iter().copied())
        .collect();
    index.sort_unstable();
    index.dedup();
    assert_eq!(store.index_entries().unwrap(), index);
    assert!(store.size().unwrap().bytes >= size_before);
}

fn assert_conflict(result: Result<(), StoreError>, what: &str) {
    match result {
        Err(e) => assert_eq!(e.code(), "BLOCK_CONFLICT", "{what}: {e}"),
        Ok(()) => panic!("{what}: the store accepted it"),
    }
}

/// Blocks at the wrong height or with the wrong previous hash are refused with
/// `BLOCK_CONFLICT`, and change nothing.
pub fn misplaced_blocks_are_refused(h: &dyn Harness) {
    let store = h.open().store;
    let a = signer("maker/clerk");
    let (mut mem, genesis) = MemChain::new(GENESIS_TIME);
    let b1 = mem.next(vec![put(&a, b"x", "1")]);
    let b2 = mem.next(vec![put(&a, b"x", "2")]);
    let (mut other, other_genesis) = MemChain::new(GENESIS_TIME + 1);
    let other_b1 = other.next(vec![put(&a, b"x", "other")]);

    assert_conflict(store.commit(&b1), "block 1 on an empty store");
    assert_eq!(store.head().unwrap(), None);
    store.commit(&genesis).unwrap();
    let before = (
        store.head().unwrap(),
        store.state_entries().unwrap(),
        store.index_entries().unwrap(),
    );
    assert_conflict(store.commit(&genesis), "genesis again");
    assert_conflict(store.commit(&other_genesis), "another chain's genesis");
    assert_conflict(store.commit(&b2), "block 2 before block 1 (a gap)");
    assert_conflict(
        store.commit(&other_b1),
        "block 1 whose previous hash is another genesis",
    );
    let after = (
        store.head().unwrap(),
        store.state_entries().unwrap(),
        store.index_entries().unwrap(),
    );
    assert_eq!(before, after, "refused blocks change nothing");
    assert_eq!(store.raw_block(1).unwrap(), None);
    for e in &b2.block().events {
        assert!(store.events_by_id_key(id_key(&e.id())).unwrap().is_empty());
    }
    store.commit(&b1).unwrap();
    assert_conflict(store.commit(&b1), "block 1 twice");
    store.commit(&b2).unwrap();
    assert_eq!(store.head().unwrap(), Some(b2.head()));
}

/// A block whose commit fails part way (the index insert fails after the block, its
/// events and its state were written) leaves no trace, and commits once writes work.
pub fn failed_commit_leaves_no_trace(h: &dyn Harness) {
    let opened = h.open();
    let store = opened.store.clone();
    let ledger = init(store.clone());
    let a = signer("maker/clerk");
    commit(&ledger, vec![put(&a, b"kept", "1")]);
    let before = (
        store.head().unwrap(),
        store.state_entries().unwrap(),
        store.index_entries().unwrap(),
    );
    (opened.sql)(&h.fail_index_writes_sql()).expect("installing the failure");
    let block = seal_next(&ledger, vec![put(&a, b"lost", "2"), delete(&a, b"kept")]);
    let err = ledger
        .commit_block(block.clone())
        .expect_err("the store was made to fail");
    assert!(
        err.to_string().contains("STORE_FAILED"),
        "a failed write is STORE_FAILED, got {err}"
    );
    let after = (
        store.head().unwrap(),
        store.state_entries().unwrap(),
        store.index_entries().unwrap(),
    );
    assert_eq!(before, after, "a failed commit changes nothing");
    assert_eq!(store.raw_block(2).unwrap(), None, "no block row is left");
    for e in &block.events {
        assert!(
            store.events_by_id_key(id_key(&e.id())).unwrap().is_empty(),
            "no event row is left"
        );
    }
    assert_eq!(ledger.head(), before.0.unwrap());
    (opened.sql)(&h.allow_index_writes_sql()).expect("removing the failure");
    ledger
        .commit_block(block)
        .expect("the same block commits once the store works");
    assert_eq!(store.head().unwrap().unwrap().height, 2);
    assert_eq!(
        store.state_get(NOTEBOOK, b"lost").unwrap(),
        Some(b"2".to_vec())
    );
    assert_eq!(store.state_get(NOTEBOOK, b"kept").unwrap(), None);
    let report = ledger::audit::audit(store.as_ref(), &modules()).unwrap();
    assert!(report.ok(), "{:?}", report.faults);
}

/// The real path: admission, the solo orderer, apply and commit; receipts, queries,
/// proofs and refused-at-apply results all come back from the store.
pub fn ledger_commits_through_the_orderer(h: &dyn Harness) {
    let store = h.open().store;
    let ledger = Arc::new(init(store.clone()));
    let orderer = SoloOrderer::start(
        ledger.clone(),
        chain::peer_id(),
        chain::peer_key(),
        CutPolicy {
            max_events: 16,
            max_wait: Duration::from_millis(1),
        },
    );
    let (a, b) = (signer("maker/clerk"), signer("maker/clerk-2"));
    let mut ids = Vec::new();
    let (tx, rx) = std::sync::mpsc::channel::<Answer>();
    for round in 0..5 {
        let events = vec![
            put(&a, format!("a{round}").as_bytes(), "v"),
            put(&b, b"shared", &format!("round {round}")),
            refuse(&a, b"shared"),
        ];
        ids.extend(events.iter().map(|e| e.id()));
        let admitted: Vec<_> = ledger
            .admit(events)
            .into_iter()
            .map(|r| r.expect("admitted"))
            .collect();
        let tx = tx.clone();
        orderer.submit(admitted, Box::new(move |r| tx.send(r).unwrap()));
    }
    let mut receipts = Vec::new();
    for _ in 0..5 {
        receipts.push(
            rx.recv_timeout(Duration::from_secs(30))
                .expect("a receipt")
                .expect("committed"),
        );
    }
    drop(orderer);
    let head = store.head().unwrap().unwrap();
    assert_eq!(head, ledger.head());
    assert!(receipts.iter().all(|r| r.block_height <= head.height));
    assert_eq!(
        store.state_get(NOTEBOOK, b"shared").unwrap(),
        Some(b"round 4".to_vec()),
        "the last put wins; refused writes never stick"
    );
    for (i, id) in ids.iter().enumerate() {
        let record = ledger.event(id).unwrap().expect("every event is stored");
        assert_eq!(record.envelope.id(), *id);
        let want = (i % 3 == 2).then(|| REFUSED.to_string());
        assert_eq!(record.result, want, "result of event {i}");
        let (header, proof) = ledger.proof(id).unwrap().expect("a proof");
        assert!(proof.verify(id, &header.merkle_root));
    }
    let shared = ledger.events_by_key(b"shared", 100).unwrap();
    assert_eq!(
        shared.len(),
        5,
        "the five puts on `shared`; events refused at apply index nothing"
    );
    let report = ledger::audit::audit(store.as_ref(), &modules()).unwrap();
    assert!(report.ok(), "{:?}", report.faults);
}

type Answer = Result<ledger::Receipt, ledger::Rejection>;

/// `events_by_id_key` finds every event under its key with its place; `events_by_index_key`
/// returns oldest first and honours the limit.
pub fn events_found_by_id_and_index_key(h: &dyn Harness) {
    let store = h.open().store;
    let ledger = init(store.clone());
    let a = signer("maker/clerk");
    let mut item_events = Vec::new();
    for block in 0..4 {
        let mut events = vec![put(&a, b"other", &format!("{block}"))];
        for i in 0..3 {
            events.push(put(&a, b"item", &format!("{block}.{i}")));
        }
        events.push(put(&a, format!("noise{block}").as_bytes(), "n"));
        item_events.extend(events[1..4].iter().map(|e| e.id()));
        commit(&ledger, events);
    }
    let all = store.events_by_index_key(index_key(b"item"), 1000).unwrap();
    let got: Vec<_> = all
        .iter()
        .map(|l| ledger::hash::sha256(&l.event.body))
        .map(|d| ledger::EventId(d.0))
        .collect();
    assert_eq!(got, item_events, "indexed events come oldest first");
    for (n, l) in all.iter().enumerate() {
        assert_eq!(l.height, 1 + n as u64 / 3);
        assert_eq!(l.index, 1 + n as u32 % 3);
        assert_eq!(l.event.height, l.height);
    }
    let seqs: Vec<u64> = all.iter().map(|l| l.event.seq).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]));
    let first5 = store.events_by_index_key(index_key(b"item"), 5).unwrap();
    assert_eq!(first5, all[..5].to_vec(), "the limit keeps the oldest");
    assert!(
        store
            .events_by_index_key(index_key(b"item"), 0)
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .events_by_index_key(index_key(b"never"), 10)
            .unwrap()
            .is_empty()
    );
    for (n, id) in item_events.iter().enumerate() {
        let found = store.events_by_id_key(id_key(id)).unwrap();
        let hit: Vec<_> = found
            .iter()
            .filter(|l| ledger::hash::sha256(&l.event.body).0 == id.0)
            .collect();
        assert_eq!(hit.len(), 1, "event {n} is found by its id key");
        assert_eq!(
            (hit[0].height, hit[0].index),
            (1 + n as u64 / 3, 1 + n as u32 % 3)
        );
        assert_eq!(hit[0].event.id_key, id_key(id));
    }
    assert!(store.events_by_id_key(0x0123_4567).unwrap().is_empty());
    let genesis_id = chain::genesis().events[0].id();
    let g = store.events_by_id_key(id_key(&genesis_id)).unwrap();
    assert_eq!((g[0].height, g[0].index, g[0].event.seq), (0, 0, 0));
}

/// Point reads and prefix scans over byte keys: bytewise order, 0xFF bytes, the empty
/// prefix, limits, overwrites, deletes, and one module never seeing another's keys.
pub fn state_get_and_scan_by_prefix(h: &dyn Harness) {
    let store = h.open().store;
    let ledger = init(store.clone());
    let a = signer("maker/clerk");
    let keys: Vec<Vec<u8>> = vec![
        vec![],
        vec![0x00],
        vec![0x00, 0x00],
        b"a".to_vec(),
        b"a/1".to_vec(),
        b"a/2".to_vec(),
        b"a/10".to_vec(),
        b"a0".to_vec(),
        b"b".to_vec(),
        vec![0x7F],
        vec![0x80],
        vec![0xFE, 0xFF],
        vec![0xFF],
        vec![0xFF, 0x00],
        vec![0xFF, 0xFF],
        vec![0xFF, 0xFF, 0xFF],
        vec![0xFF, 0xFF, 0xFF, 0x01],
    ];
    commit(
        &ledger,
        keys.iter()
            .map(|k| put(&a, k, &format!("v{}", hex::encode(k))))
            .collect(),
    );
    // Read before the next block, so a store that caches reads must follow the commit.
    assert_eq!(
        store.state_get(NOTEBOOK, b"b").unwrap(),
        Some(b"v62".to_vec())
    );
    assert_eq!(
        store.state_get(NOTEBOOK, b"a/2").unwrap(),
        Some(b"v612f32".to_vec())
    );
    assert_eq!(store.state_get(NOTEBOOK, b"new").unwrap(), None);
    commit(
        &ledger,
        vec![
            put(&a, b"a/2", "changed"),
            delete(&a, b"b"),
            delete(&a, b"missing"),
            put(&a, b"new", "fresh"),
        ],
    );
    assert_eq!(
        store.state_get(NOTEBOOK, b"new").unwrap(),
        Some(b"fresh".to_vec()),
        "a key read as absent is there once its block commits"
    );
    commit(&ledger, vec![delete(&a, b"new")]);
    assert_eq!(store.state_get(NOTEBOOK, b"new").unwrap(), None);
    let value = |k: &[u8]| -> Vec<u8> {
        match k {
            b"a/2" => b"changed".to_vec(),
            _ => format!("v{}", hex::encode(k)).into_bytes(),
        }
    };
    let mut live: Vec<Vec<u8>> = keys.iter().filter(|k| *k != b"b").cloned().collect();
    live.sort();
    for k in &live {
        assert_eq!(
            store.state_get(NOTEBOOK, k).unwrap(),
            Some(value(k)),
            "get {}",
            hex::encode(k)
        );
    }
    assert_eq!(store.state_get(NOTEBOOK, b"b").unwrap(), None, "deleted");
    assert_eq!(store.state_get(NOTEBOOK, b"zz").unwrap(), None);
    assert_eq!(store.state_get("elsewhere", b"a").unwrap(), None);
    let scan = |prefix: &[u8], limit: usize| -> Vec<Vec<u8>> {
        store
            .state_scan(NOTEBOOK, prefix, limit)
            .unwrap()
            .into_iter()
            .map(|(k, v)| {
                assert_eq!(v, value(&k), "value of {}", hex::encode(&k));
                k
            })
            .collect()
    };
    let starting =
        |p: &[u8]| -> Vec<Vec<u8>> { live.iter().filter(|k| k.starts_with(p)).cloned().collect() };
    assert_eq!(
        scan(b"", usize::MAX),
        live,
        "the empty prefix scans everything"
    );
    assert_eq!(scan(b"", 3), live[..3].to_vec(), "in bytewise order");
    for prefix in [
        &b"a"[..],
        b"a/",
        b"a/1",
        &[0x00],
        &[0xFF],
        &[0xFF, 0xFF],
        &[0xFF, 0xFF, 0xFF],
        &[0xFE],
        b"b",
        b"c",
        &[0x7F],
    ] {
        assert_eq!(
            scan(prefix, usize::MAX),
            starting(prefix),
            "prefix {}",
            hex::encode(prefix)
        );
    }
    assert_eq!(scan(&[0xFF], 2), starting(&[0xFF])[..2].to_vec());
    assert!(scan(b"a", 0).is_empty());
    assert!(store.state_scan("elsewhere", b"", 10).unwrap().is_empty());
    let core = store.state_scan("core", b"", usize::MAX).unwrap();
    assert!(!core.is_empty(), "the core module keeps nonces");
    assert!(
        core.iter().all(|(k, _)| !live.contains(k) || k.is_empty()),
        "modules do not see each other's keys"
    );
    let entries = store.state_entries().unwrap();
    let mut sorted = entries.clone();
    sorted.sort();
    assert_eq!(entries, sorted, "state entries come in (module, key) order");
    let in_notebook: Vec<Vec<u8>> = entries
        .iter()
        .filter(|((m, _), _)| m == NOTEBOOK)
        .map(|((_, k), _)| k.clone())
        .collect();
    assert_eq!(in_notebook, live);
}

/// Dropping the store and opening it again on the same database keeps the head, the
/// blocks and the state, and the chain goes on from there.
pub fn head_and_state_survive_reopening(h: &dyn Harness) {
    let (head, entries, block2) = {
        let store = h.open().store;
        let ledger = init(store.clone());
        let a = signer("maker/clerk");
        commit(
            &ledger,
            vec![put(&a, b"one", "1"), put(&a, &[0xFF; 3], "ff")],
        );
        commit(&ledger, vec![delete(&a, b"one"), put(&a, b"two", "2")]);
        (
            store.head().unwrap().unwrap(),
            store.state_entries().unwrap(),
            store.raw_block(2).unwrap(),
        )
    };
    for round in 0..2 {
        let store = h.open().store;
        assert_eq!(store.head().unwrap(), Some(head), "head after reopening");
        assert_eq!(store.state_entries().unwrap(), entries);
        assert_eq!(store.raw_block(2).unwrap(), block2);
        if round == 1 {
            let ledger = Ledger::open(store.clone(), modules()).expect("the ledger reopens");
            assert!(matches!(
                Ledger::init(store.clone(), modules(), genesis()),
                Err(ledger::LedgerError::AlreadyInitialised)
            ));
            // A fresh signer starts its nonces at a later time than the stored ones.
            std::thread::sleep(Duration::from_millis(5));
            let a = signer("maker/clerk");
            commit(&ledger, vec![put(&a, b"three", "3")]);
            assert_eq!(ledger.head().height, head.height + 1);
            assert_eq!(store.head().unwrap().unwrap().height, head.height + 1);
        }
    }
    let store = h.open().store;
    assert_eq!(store.head().unwrap().unwrap().height, head.height + 1);
    let report = ledger::audit::audit(store.as_ref(), &modules()).unwrap();
    assert!(report.ok(), "{:?}", report.faults);
}

/// While one thread commits blocks, readers on other threads only ever see whole blocks:
/// every block's keys at one value, the head block complete, the index never ahead.
pub fn readers_see_whole_blocks_during_writes(h: &dyn Harness) {
    const KEYS: usize = 8;
    const BLOCKS: u64 = 25;
    let store = h.open().store;
    let ledger = init(store.clone());
    let a = signer("maker/clerk");
    let done = AtomicBool::new(false);
    let key = |i: usize| format!("c/{i}").into_bytes();
    std::thread::scope(|s| {
        let readers: Vec<_> = (0..2)
            .map(|_| {
                let store = store.clone();
                let done = &done;
                s.spawn(move || {
                    let mut reads = 0u64;
                    while !done.load(Ordering::Acquire) || reads < 5 {
                        let before = store.head().unwrap().unwrap().height;
                        let values: Vec<Vec<u8>> = store
                            .state_scan(NOTEBOOK, b"c/", 100)
                            .unwrap()
                            .into_iter()
                            .map(|(_, v)| v)
                            .collect();
                        assert!(
                            values.is_empty() || values.len() == KEYS,
                            "a scan saw {} of a block's {KEYS} keys",
                            values.len()
                        );
                        assert!(
                            values.windows(2).all(|w| w[0] == w[1]),
                            "a scan saw keys from two blocks"
                        );
                        let indexed = store
                            .events_by_index_key(index_key(&key(0)), 10_000)
                            .unwrap()
                            .len() as u64;
                        let head = store.head().unwrap().unwrap();
                        assert!(head.height >= before, "the head never goes back");
                        assert!(indexed <= head.height, "the index is never ahead of blocks");
                        let raw = store.raw_block(head.height).unwrap().expect("head block");
                        assert_eq!(raw.events.len() as u64, raw.event_count);
                        assert_eq!(raw.first_seq + raw.event_count, head.next_seq);
                        reads += 1;
                    }
                    reads
                })
            })
            .collect();
        for n in 1..=BLOCKS {
            let events = (0..KEYS)
                .map(|i| put(&a, &key(i), &format!("block {n}")))
                .collect();
            commit(&ledger, events);
        }
        done.store(true, Ordering::Release);
        for r in readers {
            assert!(r.join().expect("reader thread") > 0);
        }
    });
    let values = store.state_scan(NOTEBOOK, b"c/", 100).unwrap();
    assert_eq!(values.len(), KEYS);
    assert!(
        values
            .iter()
            .all(|(_, v)| v == format!("block {BLOCKS}").as_bytes())
    );
}

/// A block of 5,000 events, some with 60 KiB payloads, commits and reads back whole.
pub fn large_blocks_round_trip(h: &dyn Harness) {
    const EVENTS: usize = 5_000;
    let store = h.open().store;
    let ledger = init(store.clone());
    let a = signer("maker/clerk");
    let big = "x".repeat(60 * 1024);
    let events: Vec<_> = (0..EVENTS)
        .map(|i| {
            let value = if i % 80 == 0 { big.as_str() } else { "small" };
            put(&a, format!("item/{i:05}").as_bytes(), value)
        })
        .collect();
    let block = commit(&ledger, events);
    let raw = store.raw_block(1).unwrap().expect("the large block");
    assert_eq!(raw.events.len(), EVENTS);
    assert_eq!(raw.event_count, EVENTS as u64);
    for (i, (stored, sent)) in raw.events.iter().zip(&block.events).enumerate() {
        assert_eq!(stored.body, sent.bytes(), "body of event {i}");
        assert_eq!(stored.seq, 1 + i as u64);
    }
    assert_eq!(ledger.block(1).unwrap().as_ref(), Some(&block));
    let scanned = store.state_scan(NOTEBOOK, b"item/", usize::MAX).unwrap();
    assert_eq!(scanned.len(), EVENTS);
    assert_eq!(scanned[0].1.len(), big.len());
    assert_eq!(store.index_entries().unwrap().len(), EVENTS);
    let report = ledger::audit::audit(store.as_ref(), &modules()).unwrap();
    assert!(report.ok(), "{:?}", report.faults);
}

/// Every event of blocks of many sizes proves through the store's proof parts (its chunk
/// and the block's stored Merkle nodes), and the proofs equal those over the whole block.
pub fn events_prove_from_their_chunk(h: &dyn Harness) {
    let store = h.open().store;
    let ledger = init(store.clone());
    let a = signer("maker/clerk");
    let mut n = 0;
    for size in [1usize, 2, 3, 4, 5, 7, 8, 9, 31, 33, 100] {
        let events: Vec<_> = (0..size)
            .map(|i| {
                n += 1;
                put(&a, format!("proof/{n}/{i}").as_bytes(), "v")
            })
            .collect();
        let block = commit(&ledger, events);
        let height = block.header.height;
        let ids = block.ids();
        for (i, id) in ids.iter().enumerate() {
            let parts = store
                .proof_parts(height, i as u32)
                .unwrap()
                .expect("proof parts of a stored block");
            assert!(
                parts.tree.is_some(),
                "block {height}: the store must keep the Merkle nodes"
            );
            assert!(
                parts.bodies.len() <= ledger::merkle::CHUNK,
                "block {height}: read {} events to prove one; a chunk is enough",
                parts.bodies.len()
            );
            let (header, proved, proof) = ledger
                .prove_at(height, i as u32)
                .unwrap()
                .expect("a stored event proves");
            assert_eq!(proved, *id, "block {height}, event {i}");
            assert_eq!(header, block.header);
            assert_eq!(Some(proof.clone()), ledger::merkle::prove(&ids, i));
            assert!(proof.verify(id, &block.header.merkle_root));
        }
        assert!(ledger.prove_at(height, size as u32).unwrap().is_none());
    }
    assert!(store.proof_parts(9_999, 0).unwrap().is_none());
    // many at once, in the order asked, with gaps for what is not there
    let head = ledger.head().height;
    let mut positions: Vec<(u64, u32)> = (1..=head)
        .rev()
        .flat_map(|h| [(h, 0), (h, 2), (h, 99), (h, 4)])
        .collect();
    positions.push((9_999, 0));
    let many = ledger.prove_many(&positions).unwrap();
    assert_eq!(many.len(), positions.len());
    for (&(height, index), got) in positions.iter().zip(&many) {
        let one = ledger.prove_at(height, index).unwrap();
        assert_eq!(got, &one, "block {height}, event {index}");
    }
    assert!(many.iter().any(Option::is_some) && many.iter().any(Option::is_none));
}

/// The audit passes on a good chain; one byte changed in a stored event body (through the
/// store's own raw SQL) is reported at its block; restored, the chain passes again; a
/// deleted index row is reported too.
pub fn audit_passes_then_catches_tampering(h: &dyn Harness) {
    let opened = h.open();
    let store = opened.store.clone();
    let ledger = init(store.clone());
    let a = signer("maker/clerk");
    commit(&ledger, vec![put(&a, b"first", "1")]);
    commit(
        &ledger,
        vec![put(&a, b"target", "tamper-me"), put(&a, b"x", "y")],
    );
    commit(&ledger, vec![put(&a, b"last", "3")]);
    let modules = modules();
    let report = ledger::audit::audit(store.as_ref(), &modules).unwrap();
    assert!(report.ok(), "a good chain passes: {:?}", report.faults);
    assert_eq!(report.blocks, 4);

    let raw = store.raw_block(2).unwrap().unwrap();
    let event = &raw.events[0];
    let offset = event
        .body
        .windows(9)
        .position(|w| w == b"tamper-me")
        .expect("the payload is in the body");
    (opened.sql)(&h.set_event_body_byte_sql(event.seq, offset, b'T')).expect("damaging");
    let damaged = store.raw_block(2).unwrap().unwrap();
    assert_eq!(damaged.events[0].body[offset], b'T', "the byte was changed");
    assert_eq!(damaged.events[0].body.len(), event.body.len());
    let report = ledger::audit::audit(store.as_ref(), &modules).unwrap();
    assert!(!report.ok(), "one changed byte must fail the audit");
    assert!(
        report.faults.iter().any(|f| f.height == Some(2)),
        "the fault names block 2: {:?}",
        report.faults
    );

    (opened.sql)(&h.set_event_body_byte_sql(event.seq, offset, b't')).expect("restoring");
    let report = ledger::audit::audit(store.as_ref(), &modules).unwrap();
    assert!(
        report.ok(),
        "restored, the chain passes: {:?}",
        report.faults
    );

    let removed = (opened.sql)(&format!("DELETE FROM item_index WHERE seq = {}", event.seq))
        .expect("deleting an index row");
    assert_eq!(removed, 1);
    let report = ledger::audit::audit(store.as_ref(), &modules).unwrap();
    assert!(
        report.faults.iter().any(|f| f.code == "INDEX_MISMATCH"),
        "{:?}",
        report.faults
    );
}
