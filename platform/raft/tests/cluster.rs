//! Four peers on loopback (three voters, one learner): ordering through raft, forwarding
//! from any peer, identical chains, restarts, a lost leader, and blocks that must be
//! refused.

mod support;

use ledger::{Block, BlockHash};
use raft_orderer::types::Outcome;
use support::{Cluster, PEERS};

#[test]
fn events_submitted_at_every_peer_commit_into_one_chain() {
    let cluster = Cluster::start();
    cluster.leader();
    let actors = [
        "medicines-agency/admin",
        "acme-pharma/qa",
        "medidev/qa",
        "northwind/warehouse",
    ];
    let mut top = 0;
    for round in 0..3 {
        for (i, actor) in actors.iter().enumerate() {
            let receipt = cluster.submit(i, actor, &format!("r{round}-p{i}"), 5);
            assert_eq!(receipt.results.len(), 5);
            assert!(
                receipt.results.iter().all(|(_, code)| code.is_none()),
                "{receipt:?}"
            );
            // The submitter is answered once its peer holds the block.
            assert!(cluster.node(i).ledger.head().height >= receipt.block_height);
            top = top.max(receipt.block_height);
        }
    }
    cluster.converge(top);
    assert!(cluster.assert_same_chain() >= top);
    let status = cluster.node(3).raft.status();
    assert_eq!(status.voters.len(), 3, "{status:?}");
    assert_eq!(
        status.learners,
        vec![cluster.ids[3].to_string()],
        "{status:?}"
    );
}

#[test]
fn stopped_peers_catch_up_and_a_lost_leader_is_replaced() {
    let mut cluster = Cluster::start();
    let leader = cluster.leader();
    let follower = (0..3).find(|i| *i != leader).unwrap();
    let learner = 3;
    cluster.submit(leader, "medicines-agency/admin", "before", 3);
    cluster.stop(follower);
    cluster.stop(learner);
    // Enough blocks that the log is snapshotted and purged past the stopped peers.
    let mut top = 0;
    for n in 0..30 {
        top = cluster
            .submit(leader, "acme-pharma/qa", &format!("while-down-{n}"), 2)
            .block_height;
    }
    cluster.restart(follower);
    cluster.restart(learner);
    cluster.converge(top);
    cluster.assert_same_chain();

    // The leader goes away: another voter takes over and nothing acknowledged is lost.
    let acknowledged = cluster.submit(leader, "medidev/qa", "acked", 4);
    cluster.stop(leader);
    let next = cluster.leader();
    assert_ne!(next, leader);
    let after = cluster.submit(learner, "northwind/warehouse", "after", 3);
    assert!(after.block_height > acknowledged.block_height);
    cluster.converge(after.block_height);
    for (i, n) in cluster.nodes.iter().enumerate() {
        let Some(n) = n else { continue };
        for (id, _) in &acknowledged.results {
            assert!(
                n.ledger.event(id).unwrap().is_some(),
                "peer {i} lost an acknowledged event"
            );
        }
    }
    cluster.restart(leader);
    cluster.converge(after.block_height);
    assert_eq!(cluster.nodes.iter().flatten().count(), PEERS);
    cluster.assert_same_chain();
}

#[test]
fn tampered_blocks_are_skipped_by_every_peer() {
    let cluster = Cluster::start();
    let leader = cluster.leader();
    let receipt = cluster.submit(leader, "acme-pharma/qa", "base", 2);
    cluster.converge(receipt.block_height);
    let head = cluster.node(leader).ledger.head();
    let me = cluster.ids[leader].clone();
    let key = &cluster.demo.peer_keys[&me];
    let other_key = &cluster.demo.peer_keys[&cluster.ids[(leader + 1) % PEERS]];
    let event = cluster.demo.signer("acme-pharma/qa").event(
        "notes",
        "put",
        serde_json::json!({"key": "x", "value": 1}),
    );

    // Signed with another peer's key under this peer's name.
    let mut forged = Block::seal(
        head.height + 1,
        head.hash,
        head.time + 1,
        me.clone(),
        key,
        vec![event.clone()],
    );
    forged.signature = Block::seal(
        head.height + 1,
        head.hash,
        head.time + 1,
        me.clone(),
        other_key,
        vec![event.clone()],
    )
    .signature;
    match cluster.node(leader).raft.propose(forged).unwrap() {
        Outcome::Skipped { code, .. } => assert_eq!(code, "BAD_ORDERER_SIGNATURE"),
        other => panic!("a forged block was not refused: {other:?}"),
    }
    // Linked to a block that is not the head.
    let unlinked = Block::seal(
        head.height + 1,
        BlockHash([7; 32]),
        head.time + 1,
        me.clone(),
        key,
        vec![event.clone()],
    );
    match cluster.node(leader).raft.propose(unlinked).unwrap() {
        Outcome::Skipped { code, .. } => assert_eq!(code, "STALE_BLOCK"),
        other => panic!("an unlinked block was not refused: {other:?}"),
    }
    // Every peer still holds the same chain, and ordering goes on.
    let after = cluster.submit(3, "northwind/warehouse", "after", 1);
    assert_eq!(after.block_height, head.height + 1);
    cluster.converge(after.block_height);
    cluster.assert_same_chain();
    assert!(cluster.node(0).ledger.event(&event.id()).unwrap().is_none());
}

#[test]
fn requests_from_unknown_or_badly_signed_peers_are_refused() {
    let cluster = Cluster::start();
    cluster.leader();
    let url = format!("{}/raft/blocks/0", cluster.addrs[0]);
    let status = |r: Result<ureq::Response, ureq::Error>| match r {
        Ok(r) => r.status(),
        Err(ureq::Error::Status(s, _)) => s,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(status(ureq::get(&url).call()), 401);
    let stranger = ledger::SecretKey::generate();
    let mut req = ureq::get(&url);
    for (h, v) in raft_orderer::auth::sign(&cluster.ids[1], &stranger, "GET", "/raft/blocks/0", b"")
    {
        req = req.set(h, &v);
    }
    assert_eq!(status(req.call()), 401);
    let mut req = ureq::get(&url);
    for (h, v) in raft_orderer::auth::sign(
        &cluster.ids[1],
        &cluster.demo.peer_keys[&cluster.ids[1]],
        "GET",
        "/raft/blocks/0",
        b"",
    ) {
        req = req.set(h, &v);
    }
    let ok = req
        .call()
        .expect("a signed request from a peer is answered");
    let blocks: Vec<serde_json::Value> = serde_json::from_reader(ok.into_reader()).unwrap();
    assert_eq!(blocks[0]["header"]["height"], 0);
}

#[test]
fn a_peer_added_by_a_consortium_event_joins_from_genesis_and_converges() {
    let mut cluster = Cluster::start();
    let leader = cluster.leader();
    let mut top = 0;
    for n in 0..25 {
        top = cluster
            .submit(leader, "acme-pharma/qa", &format!("early-{n}"), 2)
            .block_height;
    }
    // A governor's admin adds the fifth peer to the consortium config.
    let mut spare = cluster.spare.clone();
    spare.endpoint = cluster.addrs[support::SPARE].clone();
    let add = cluster.demo.signer("medicines-agency/admin").event(
        "consortium",
        "add_peer",
        serde_json::json!({"peer": spare}),
    );
    let receipt = cluster.submit_events(leader, vec![add]);
    assert_eq!(receipt.results[0].1, None, "{receipt:?}");
    top = top.max(receipt.block_height);
    // It starts from genesis alone; the leader makes it a learner and it catches up.
    cluster.launch_spare();
    cluster.converge(top);
    let after = cluster.submit(
        support::SPARE,
        "northwind/warehouse",
        "from-the-new-peer",
        2,
    );
    cluster.converge(after.block_height);
    cluster.assert_same_chain();
    let status = cluster.node(support::SPARE).raft.status();
    assert!(
        status.learners.contains(&spare.id.to_string()),
        "{status:?}"
    );
}
