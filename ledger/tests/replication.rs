//! A second peer that copies blocks from the first: every block is re-checked (chain
//! link, Merkle root, orderer signature, every event signature) before it is committed,
//! so tampered blocks are refused and an honest copy converges to identical hashes.

mod common;

use common::{TestPeer, genesis, modules, signer};
use ledger::{Block, Ledger, LedgerError, SqliteStore};
use serde_json::json;
use std::sync::Arc;

fn follower() -> (tempfile::TempDir, Ledger) {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path().join("copy.sqlite")).unwrap());
    let ledger = Ledger::init(store, modules(), genesis()).unwrap();
    (dir, ledger)
}

/// Copies block `height` through its JSON form, as it would travel between peers.
fn wire(source: &Ledger, height: u64) -> serde_json::Value {
    source.block(height).unwrap().unwrap().to_json_value()
}

#[test]
fn a_copy_converges_and_tampered_blocks_are_refused() {
    let source = TestPeer::new();
    let a = signer("maker/a");
    for round in 0..4 {
        let events = (0..3)
            .map(|i| a.event("notes", "put", json!({"key": format!("k{round}{i}")})))
            .collect();
        assert!(source.submit(events).1.is_some());
    }
    // an event refused at apply travels too, and replays to the same result
    source.submit(vec![a.event("notes", "bump", json!({"key": "fail"}))]);
    let head = source.ledger.head();
    let (_dir, copy) = follower();

    // block 1 with a forged orderer signature
    let mut forged = wire(&source.ledger, 1);
    let mut sig = forged["signature"].as_str().unwrap().to_string();
    sig.replace_range(0..2, if &sig[0..2] == "00" { "01" } else { "00" });
    forged["signature"] = json!(sig);
    let err = copy
        .commit_block(Block::from_json_value(forged).unwrap())
        .unwrap_err();
    assert!(
        matches!(err, LedgerError::Block(ref f) if f.code == "BAD_ORDERER_SIGNATURE"),
        "{err:?}"
    );
    // block 2 before block 1: wrong height
    let err = copy
        .commit_block(Block::from_json_value(wire(&source.ledger, 2)).unwrap())
        .unwrap_err();
    assert!(
        matches!(err, LedgerError::Block(ref f) if f.code == "BAD_HEIGHT"),
        "{err:?}"
    );
    // an event swapped out of block 1: the Merkle root no longer matches
    let mut swapped = wire(&source.ledger, 1);
    swapped["events"][0] = a
        .event("notes", "put", json!({"key": "injected"}))
        .to_json_value();
    let err = copy
        .commit_block(Block::from_json_value(swapped).unwrap())
        .unwrap_err();
    assert!(
        matches!(err, LedgerError::Block(ref f) if f.code == "BAD_MERKLE_ROOT"),
        "{err:?}"
    );
    // a claimed hash that is not the header's is refused on reading
    let mut wrong_hash = wire(&source.ledger, 1);
    wrong_hash["hash"] = json!(ledger::hash::sha256(b"x"));
    assert_eq!(
        Block::from_json_value(wrong_hash).unwrap_err().code,
        "MALFORMED_BLOCK"
    );
    assert_eq!(
        copy.head().height,
        0,
        "nothing was committed by the refused blocks"
    );

    // the honest blocks, in order
    for h in 1..=head.height {
        copy.commit_block(Block::from_json_value(wire(&source.ledger, h)).unwrap())
            .unwrap();
    }
    assert_eq!(
        copy.head(),
        head,
        "same height, block hash, event count and state digest"
    );
    // a block from a different chain at the right height: wrong previous hash
    let other = TestPeer::new();
    other.submit(vec![signer("maker/b").event(
        "notes",
        "put",
        json!({"key": "fork"}),
    )]);
    other.submit(vec![signer("maker/b").event(
        "notes",
        "put",
        json!({"key": "fork2"}),
    )]);
    let mut fork = other.ledger.block(2).unwrap().unwrap();
    fork.header.height = head.height + 1;
    let err = copy.commit_block(fork).unwrap_err();
    assert!(
        matches!(err, LedgerError::Block(ref f) if f.code == "BAD_PREVIOUS_HASH"),
        "{err:?}"
    );
    let report = ledger::audit::audit(copy.store().as_ref(), &modules()).unwrap();
    assert!(report.ok(), "{:?}", report.faults);
}

/// The block after `copy`'s head, sealed by peer-1, holding `events`.
fn next_block(copy: &Ledger, events: Vec<ledger::Envelope>) -> Block {
    let head = copy.head();
    Block::seal(
        head.height + 1,
        head.hash,
        head.time + 1,
        ledger::PeerId::new("peer-1").unwrap(),
        &common::key("peer/peer-1"),
        events,
    )
}

/// `events` with event `i` carrying event `from`'s signature: a registered actor, a
/// wrong signature.
fn signature_swapped(events: &[ledger::Envelope], i: usize, from: usize) -> Vec<ledger::Envelope> {
    let mut out = events.to_vec();
    let mut forged = out[i].to_json_value();
    forged["signature"] = out[from].to_json_value()["signature"].clone();
    out[i] = ledger::Envelope::from_value(forged).unwrap();
    out
}

/// Signatures of a block from elsewhere are checked up front in parallel: a forged one
/// among many good ones makes the whole block refused (its orderer should never have
/// ordered it), and nothing of it is applied; without the forgery the same events commit,
/// including those of an actor added within the block.
#[test]
fn a_block_holding_a_forged_signature_is_refused_whole() {
    let (_dir, copy) = follower();
    let a = signer("maker/a");
    let admin = signer("maker/admin");
    let newcomer_key = common::key("maker/newcomer");
    let newcomer = ledger::Signer::new(
        ledger::ActorId::new("maker/newcomer").unwrap(),
        ledger::OrgId::new("maker").unwrap(),
        newcomer_key.clone(),
    );
    let mut events: Vec<ledger::Envelope> = (0..100)
        .map(|i| a.event("notes", "put", json!({"key": format!("p{i}")})))
        .collect();
    events.push(admin.event(
        "consortium",
        "add_actor",
        json!({"org": "maker", "actor": {"id": "maker/newcomer", "public_key": newcomer_key.public(), "roles": []}}),
    ));
    events.push(newcomer.event("notes", "put", json!({"key": "from-newcomer"})));
    let seal = |events: Vec<ledger::Envelope>| next_block(&copy, events);
    // event 37 carries the signature of event 36: a registered actor, a wrong signature
    let err = copy
        .commit_block(seal(signature_swapped(&events, 37, 36)))
        .unwrap_err();
    assert!(
        matches!(err, LedgerError::Block(ref f) if f.code == "BAD_EVENT_SIGNATURE" && f.message.contains("event 37")),
        "{err:?}"
    );
    assert_eq!(copy.head().height, 0, "nothing of the block was applied");
    let notice = copy.commit_block(seal(events)).unwrap();
    assert!(
        notice.results.iter().all(|(_, r)| r.is_none()),
        "{:?}",
        notice.results
    );
    let report = ledger::audit::audit(copy.store().as_ref(), &modules()).unwrap();
    assert!(report.ok(), "{:?}", report.faults);
}

/// A peer that remembers the signatures it checked at admission (raft peers do) does not
/// check them again when the leader's block brings the events back; the memory is keyed
/// by event id and signature, so the same event under another signature is still checked
/// and refused.
#[test]
fn signatures_checked_at_admission_are_trusted_only_with_the_same_bytes() {
    let (_dir, copy) = follower();
    copy.remember_checked_signatures();
    let a = signer("maker/a");
    let events: Vec<ledger::Envelope> = (0..10)
        .map(|i| a.event("notes", "put", json!({"key": format!("m{i}")})))
        .collect();
    let admitted = copy.admit(events.clone());
    assert!(admitted.iter().all(Result::is_ok), "{admitted:?}");
    let seal = |events: Vec<ledger::Envelope>| next_block(&copy, events);
    // event 4 admitted, but the block carries it with event 3's signature
    let err = copy
        .commit_block(seal(signature_swapped(&events, 4, 3)))
        .unwrap_err();
    assert!(
        matches!(err, LedgerError::Block(ref f) if f.code == "BAD_EVENT_SIGNATURE" && f.message.contains("event 4")),
        "{err:?}"
    );
    assert_eq!(copy.head().height, 0);
    // the honest block commits (the refused block took the other nine from the memory:
    // they are simply checked again)
    let notice = copy.commit_block(seal(events)).unwrap();
    assert!(notice.results.iter().all(|(_, r)| r.is_none()));
    let report = ledger::audit::audit(copy.store().as_ref(), &modules()).unwrap();
    assert!(report.ok(), "{:?}", report.faults);
}
