//! Admission and commit: the happy path, apply-time rejections kept in blocks, and bad
//! input of every kind refused with a stable code and nothing stored.

mod common;

use common::{TestPeer, signer};
use ledger::rejection::codes;
use ledger::state::StateViewExt;
use ledger::{Envelope, UnsignedEnvelope};
use serde_json::json;

#[test]
fn events_commit_with_receipts_and_results() {
    let peer = TestPeer::new();
    let a = signer("maker/a");
    let events = vec![
        a.event("notes", "put", json!({"key": "k1", "value": 1})),
        a.event("notes", "bump", json!({"key": "c"})),
        a.event("notes", "bump", json!({"key": "fail"})),
        a.event("notes", "bump", json!({"key": "c"})),
    ];
    let ids: Vec<_> = events.iter().map(|e| e.id()).collect();
    let (answers, receipt) = peer.submit(events);
    assert!(answers.iter().all(|a| a.is_ok()));
    let receipt = receipt.unwrap();
    assert_eq!(receipt.block_height, 1);
    assert_eq!(receipt.results.iter().map(|r| r.0).collect::<Vec<_>>(), ids);
    assert_eq!(receipt.results[2].1.as_deref(), Some("BUMP_REFUSED"));
    assert!(
        receipt
            .results
            .iter()
            .enumerate()
            .all(|(i, r)| i == 2 || r.1.is_none())
    );
    let count: u64 = peer
        .ledger
        .read("notes", |s| s.get_json(b"count/c"))
        .unwrap()
        .unwrap();
    assert_eq!(
        count, 2,
        "the failed bump between the two good ones changed nothing"
    );
    assert!(
        peer.ledger
            .read("notes", |s| s.get(b"should-not-stick"))
            .unwrap()
            .is_none()
    );
    // the refused event is kept, with its code
    let kept = peer.ledger.event(&ids[2]).unwrap().unwrap();
    assert_eq!(kept.result.as_deref(), Some("BUMP_REFUSED"));
    assert_eq!((kept.height, kept.index), (1, 2));
    // indexed events come back in order
    let by_key = peer.ledger.events_by_key(b"note:c", 10).unwrap();
    assert_eq!(
        by_key.iter().map(|r| r.envelope.id()).collect::<Vec<_>>(),
        vec![ids[1], ids[3]]
    );
    // and each has a Merkle proof to its block header
    let (header, proof) = peer.ledger.proof(&ids[3]).unwrap().unwrap();
    assert!(proof.verify(&ids[3], &header.merkle_root));
    assert!(!proof.verify(&ids[1], &header.merkle_root));
}

fn assert_refused(peer: &TestPeer, event: Envelope, code: &str) {
    let head = peer.ledger.head();
    let id = event.id();
    let (answers, receipt) = peer.submit(vec![event]);
    assert_eq!(
        answers[0].as_ref().unwrap_err().code,
        code,
        "{:?}",
        answers[0]
    );
    assert!(receipt.is_none());
    assert_eq!(peer.ledger.head(), head, "nothing was stored");
    if code != codes::DUPLICATE_EVENT {
        assert!(peer.ledger.event(&id).unwrap().is_none());
    }
}

#[test]
fn bad_input_is_refused_with_stable_codes_and_nothing_stored() {
    let peer = TestPeer::new();
    let a = signer("maker/a");
    let (_, r) = peer.submit(vec![a.event("notes", "put", json!({"key": "x"}))]);
    assert!(r.is_some());

    // forged: signed by another key
    let forged = UnsignedEnvelope {
        actor: "maker/a".parse().unwrap(),
        ..signer("maker/b")
            .event("notes", "put", json!({"key": "y"}))
            .body()
            .clone()
    }
    .sign(&common::key("maker/b"));
    assert_refused(&peer, forged, codes::BAD_SIGNATURE);

    // a valid signature over different bytes: flip the payload after signing
    let good = a.event("notes", "put", json!({"key": "z"}));
    let mut wire = good.to_json_value();
    wire["payload"]["key"] = json!("tampered");
    assert_refused(
        &peer,
        Envelope::from_value(wire).unwrap(),
        codes::BAD_SIGNATURE,
    );

    // unknown actor
    let stranger = ledger::Signer::new(
        "maker/ghost".parse().unwrap(),
        "maker".parse().unwrap(),
        common::key("ghost"),
    );
    assert_refused(
        &peer,
        stranger.event("notes", "put", json!({"key": "g"})),
        codes::UNKNOWN_ACTOR,
    );

    // actor claiming another organisation
    let wrong_org = ledger::Signer::new(
        "maker/a".parse().unwrap(),
        "gov".parse().unwrap(),
        common::key("maker/a"),
    );
    assert_refused(
        &peer,
        wrong_org.event("notes", "put", json!({"key": "o"})),
        codes::ORG_MISMATCH,
    );

    // duplicate event (exactly the one already committed)
    let dup = a.event("notes", "put", json!({"key": "d"}));
    let (_, r) = peer.submit(vec![dup.clone()]);
    assert!(r.is_some());
    assert_refused(&peer, dup, codes::DUPLICATE_EVENT);

    // replayed nonce with new content
    let replay = UnsignedEnvelope {
        nonce: 1,
        ..a.event("notes", "put", json!({"key": "r"})).body().clone()
    }
    .sign(&common::key("maker/a"));
    assert_refused(&peer, replay, codes::NONCE_REPLAYED);

    // unknown module, unknown kind, bad payload
    assert_refused(
        &peer,
        a.event("nosuch", "put", json!({"key": "m"})),
        codes::UNKNOWN_MODULE,
    );
    assert_refused(
        &peer,
        a.event("notes", "erase", json!({"key": "m"})),
        codes::UNKNOWN_KIND,
    );
    assert_refused(
        &peer,
        a.event("notes", "put", json!({"value": 1})),
        codes::BAD_PAYLOAD,
    );

    // oversize payload and malformed JSON never become envelopes
    let big = a.event(
        "notes",
        "put",
        json!({"key": "big", "value": "x".repeat(70_000)}),
    );
    let err = Envelope::from_value(big.to_json_value()).unwrap_err();
    assert_eq!(err.code, codes::OVERSIZE_EVENT);
    for bad in [&b"{"[..], b"[]", b"{\"module\":\"notes\"}", b"\xff\xfe", b"{\"module\":\"Notes!\",\"kind\":\"put\",\"payload\":{},\"actor\":\"maker/a\",\"org\":\"maker\",\"created_at\":0,\"nonce\":1,\"signature\":\"00\"}"] {
        assert_eq!(Envelope::from_json(bad).unwrap_err().code, codes::MALFORMED_EVENT);
    }
    let mut extra = a.event("notes", "put", json!({"key": "e"})).to_json_value();
    extra["surprise"] = json!(1);
    assert_eq!(
        Envelope::from_value(extra).unwrap_err().code,
        codes::MALFORMED_EVENT
    );

    // after all that, a good event still goes through and the audit passes
    let (answers, r) = peer.submit(vec![a.event("notes", "put", json!({"key": "fine"}))]);
    assert!(answers[0].is_ok() && r.is_some());
    let report = ledger::audit::audit(peer.store.as_ref(), &common::modules()).unwrap();
    assert!(report.ok(), "{:?}", report.faults);
}

#[test]
fn consortium_changes_are_events() {
    let peer = TestPeer::new();
    let admin = signer("maker/admin");
    let newcomer_key = common::key("maker/new");
    let add = admin.event(
        "consortium",
        "add_actor",
        json!({"org": "maker", "actor": {"id": "maker/new", "public_key": newcomer_key.public(), "roles": []}}),
    );
    let (answers, r) = peer.submit(vec![add]);
    assert!(answers[0].is_ok(), "{answers:?}");
    assert_eq!(r.unwrap().results[0].1, None);
    let newcomer = signer("maker/new");
    let (answers, r) = peer.submit(vec![newcomer.event(
        "notes",
        "put",
        json!({"key": "hello"}),
    )]);
    assert!(answers[0].is_ok() && r.unwrap().results[0].1.is_none());

    // a non-admin may not change the config
    let (answers, _) = peer.submit(vec![signer("maker/a").event(
        "consortium",
        "revoke_actor",
        json!({"actor": "maker/b"}),
    )]);
    assert_eq!(answers[0].as_ref().unwrap_err().code, codes::FORBIDDEN);
    // an admin of another, non-governor organisation may not either
    // the organisation's admin may revoke
    let (answers, _) = peer.submit(vec![admin.event(
        "consortium",
        "revoke_actor",
        json!({"actor": "maker/new"}),
    )]);
    assert!(answers[0].is_ok());
    let (answers, _) = peer.submit(vec![newcomer.event(
        "notes",
        "put",
        json!({"key": "again"}),
    )]);
    assert_eq!(answers[0].as_ref().unwrap_err().code, codes::ACTOR_REVOKED);

    // the config survives a restart, and the audit replays it
    let mut peer = peer;
    peer.reopen();
    let c = peer.ledger.consortium();
    assert!(
        c.organizations[1]
            .actors
            .iter()
            .any(|a| a.id.as_str() == "maker/new" && a.revoked)
    );
    let report = ledger::audit::audit(peer.store.as_ref(), &common::modules()).unwrap();
    assert!(report.ok(), "{:?}", report.faults);
}

#[test]
fn restart_keeps_the_chain_and_nonces() {
    let mut peer = TestPeer::new();
    let a = signer("maker/a");
    for i in 0..5 {
        let (_, r) = peer.submit(vec![a.event(
            "notes",
            "put",
            json!({"key": format!("k{i}")}),
        )]);
        assert!(r.is_some());
    }
    let head = peer.ledger.head();
    let old = a.event("notes", "put", json!({"key": "later"}));
    let newer = a.event("notes", "put", json!({"key": "latest"}));
    peer.submit(vec![newer]);
    peer.reopen();
    assert_eq!(peer.ledger.head().height, head.height + 1);
    // the nonce high-water mark is read back from state after a restart
    let (answers, _) = peer.submit(vec![old]);
    assert_eq!(answers[0].as_ref().unwrap_err().code, codes::NONCE_REPLAYED);
}

#[test]
fn notifications_reach_watchers() {
    let peer = TestPeer::new();
    let watch = peer.ledger.watch();
    peer.submit(vec![signer("maker/a").event(
        "notes",
        "alert",
        json!({"key": "recall-1"}),
    )]);
    let notice = watch
        .recv_timeout(std::time::Duration::from_secs(5))
        .unwrap();
    assert_eq!(notice.notifications.len(), 1);
    assert_eq!(notice.notifications[0].topic, "alert");
    assert_eq!(notice.notifications[0].orgs[0].as_str(), "maker");
}
