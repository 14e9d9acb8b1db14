//! The consortium network with real `pedigree serve` processes on loopback: events
//! submitted at different peers commit into one chain, peers that were stopped or killed
//! catch up, a lost leader is replaced without losing anything acknowledged, peer routes
//! refuse unsigned requests, and a recall at the manufacturer's peer reaches the
//! pharmacy's own peer.

mod graphql_support;
mod network_support;

use e2e::pedigree;
use network_support::{Net, anchors};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

fn post_ok(net: &Net, i: usize, events: Vec<Value>) -> Value {
    let (status, body) = net.post(i, "/events", &Value::Array(events));
    assert_eq!(status, 200, "peer {i}: {body}");
    assert!(
        body["events"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["status"] == "committed"),
        "{body}"
    );
    body
}

#[test]
fn four_peers_commit_everywhere_agree_and_pass_the_audit() {
    let mut net = Net::start(4, 3);
    net.leader();
    let actors = [
        "medicines-agency/admin",
        "acme-pharma/qa",
        "medidev/qa",
        "northwind/warehouse",
    ];
    let mut top = 0;
    for round in 0..2 {
        for (i, actor) in actors.iter().enumerate() {
            let body = post_ok(&net, i, anchors(actor, &format!("r{round}-{i}"), 4));
            let height = body["block_height"].as_u64().unwrap();
            // Answered once the submitting peer holds the block.
            assert!(net.height(i).unwrap() >= height);
            top = top.max(height);
        }
    }
    net.converge(top);
    assert!(net.assert_same_chain() >= top);

    // Peer routes answer only signed requests from consortium peers.
    let (status, body) = net.get(0, "/raft/blocks/0");
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("PEER_UNAUTHENTICATED"))
    );
    let (status, body) = net.post(0, "/raft/append", &json!({}));
    assert_eq!(status, 401, "{body}");
    let (_, status) = net.get(3, "/raft/status");
    assert_eq!(status["state"], "Learner", "{status}");

    // The learner is stopped for a while, then catches up.
    net.stop(3);
    for n in 0..5 {
        top = post_ok(
            &net,
            n % 3,
            anchors("acme-pharma/qa", &format!("away-{n}"), 3),
        )["block_height"]
            .as_u64()
            .unwrap();
    }
    net.run(3);
    net.converge(top);
    net.assert_same_chain();
    net.stop_all_and_audit();
}

#[test]
fn killed_voters_and_a_killed_leader_lose_nothing_acknowledged() {
    let mut net = Net::start(4, 3);
    net.leader();
    let learner = 3;
    // Ingest at the learner (forwarded to whoever leads) while voters are killed.
    let acked = Arc::new(acked::Acked::default());
    let stop = Arc::new(AtomicBool::new(false));
    let urls: Vec<String> = net.peers.iter().map(|p| p.url.clone()).collect();
    let ingest = {
        let acked = acked.clone();
        let stop = stop.clone();
        let url = urls[learner].clone();
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(120);
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) && Instant::now() < deadline && n < 2000 {
                n += 1;
                let events = anchors("northwind/warehouse", &format!("ingest-{n}"), 5);
                let r = ureq::post(&format!("{url}/events"))
                    .timeout(Duration::from_secs(20))
                    .send_json(Value::Array(events));
                if let Ok(resp) = r {
                    let body: Value = resp.into_json().unwrap();
                    for e in body["events"].as_array().unwrap() {
                        if e["status"] == "committed" {
                            acked.push(e["id"].as_str().unwrap().to_string());
                        }
                    }
                }
            }
        })
    };
    let wait_acks = |more: usize| {
        let start = acked.len();
        let deadline = Instant::now() + Duration::from_secs(60);
        while acked.len() < start + more {
            assert!(
                Instant::now() < deadline,
                "ingest stalled at {} acknowledged events",
                acked.len()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    wait_acks(20);
    let leader = net.leader();
    let follower = (0..3).find(|i| *i != leader).unwrap();
    net.kill(follower);
    wait_acks(20);
    net.run(follower);
    wait_acks(20);
    let leader = net.leader();
    net.kill(leader);
    let next = net.leader();
    assert_ne!(next, leader);
    wait_acks(20);
    net.run(leader);
    wait_acks(10);
    stop.store(true, Ordering::SeqCst);
    ingest.join().unwrap();

    let top = (0..4).filter_map(|i| net.height(i)).max().unwrap();
    net.converge(top);
    net.assert_same_chain();
    for id in acked.all() {
        for i in 0..4 {
            let (status, _) = net.get(i, &format!("/events/{id}"));
            assert_eq!(status, 200, "peer {i} lacks acknowledged event {id}");
        }
    }
    net.stop_all_and_audit();
}

#[test]
fn a_recall_at_the_manufacturer_reaches_the_pharmacy_peer() {
    // medicines-agency, acme-pharma, medidev (voters), northwind, city-pharmacy.
    let net = Net::start(5, 3);
    net.leader();
    let acme = net.index("acme-pharma-peer");
    let pharmacy = net.index("city-pharmacy-peer");
    let gtin = "00614141100033";
    let item = |s: &str| format!("(01){gtin}(21){s}");
    let height_of = |v: &Value, field: &str| v[field]["blockHeight"].as_u64().unwrap();
    let c = net.gql(
        acme,
        "acme-pharma/line-1",
        "mutation($i: CommissionInput!) { commission(input: $i) { blockHeight } }",
        json!({"i": {"gtin": gtin, "lot": "NET-R1", "expiry": "2029-03-31", "serials": ["N1", "N2"]}}),
    );
    net.converge(height_of(&c, "commission"));
    let s = net.gql(
        acme,
        "acme-pharma/line-1",
        "mutation($i: ShipInput!) { ship(input: $i) { blockHeight } }",
        json!({"i": {"codes": [item("N1"), item("N2")], "to": "city-pharmacy"}}),
    );
    net.converge(height_of(&s, "ship"));
    let r = net.gql(
        pharmacy,
        "city-pharmacy/pharmacist",
        "mutation($i: ReceiveInput!) { receive(input: $i) { blockHeight } }",
        json!({"i": {"codes": [item("N1"), item("N2")]}}),
    );
    net.converge(height_of(&r, "receive"));

    let (mut ws, ack) = graphql_support::Ws::connect(
        &net.peers[pharmacy].url,
        &net.token("city-pharmacy/pharmacist"),
    );
    assert_eq!(ack["type"], "connection_ack", "{ack}");
    ws.send(json!({"id": "1", "type": "subscribe", "payload": {"query":
        "subscription { recallAlerts { unitsHeld blockHeight recall { id gtin lots } } }"}}));
    std::thread::sleep(Duration::from_millis(300));
    let issued = net.gql(
        acme,
        "acme-pharma/qa",
        "mutation($i: RecallInput!) { issueRecall(input: $i) { id units } }",
        json!({"i": {"gtin": gtin, "lots": ["NET-R1"], "class": "I", "depth": "RETAIL", "reason": "Seal may be broken"}}),
    )["issueRecall"]
        .clone();
    let alert = ws.next();
    assert_eq!(alert["type"], "next", "{alert}");
    let a = &alert["payload"]["data"]["recallAlerts"];
    assert_eq!(a["recall"]["id"], issued["id"]);
    assert_eq!(a["unitsHeld"], 2);
}

/// A list shared between the ingest thread and the test.
mod acked {
    use std::sync::Mutex;

    #[derive(Default)]
    pub struct Acked(Mutex<Vec<String>>);

    impl Acked {
        pub fn push(&self, id: String) {
            self.0.lock().unwrap().push(id);
        }
        pub fn len(&self) -> usize {
            self.0.lock().unwrap().len()
        }
        pub fn all(&self) -> Vec<String> {
            self.0.lock().unwrap().clone()
        }
    }
}

/// Sets a stored block's orderer signature to zeros (the peer is stopped).
fn forge_signature(dir: &std::path::Path, height: u64) {
    let db = rusqlite::Connection::open(dir.join("ledger.sqlite")).unwrap();
    let n = db
        .execute(
            "UPDATE blocks SET signature = zeroblob(64) WHERE height = ?1",
            [height as i64],
        )
        .unwrap();
    assert_eq!(n, 1);
}

/// Points a stored block's header at another previous block (the peer is stopped).
fn relink(dir: &std::path::Path, height: u64) {
    let db = rusqlite::Connection::open(dir.join("ledger.sqlite")).unwrap();
    let header: Vec<u8> = db
        .query_row(
            "SELECT header FROM blocks WHERE height = ?1",
            [height as i64],
            |r| r.get(0),
        )
        .unwrap();
    let mut header: Value = serde_json::from_slice(&header).unwrap();
    let previous = header["previous"].as_str().unwrap().to_string();
    let flipped = if previous.ends_with('0') { '1' } else { '0' };
    header["previous"] = format!("{}{flipped}", &previous[..previous.len() - 1]).into();
    db.execute(
        "UPDATE blocks SET header = ?1 WHERE height = ?2",
        rusqlite::params![serde_json::to_vec(&header).unwrap(), height as i64],
    )
    .unwrap();
}

fn block_hash(net: &Net, i: usize, height: u64) -> Value {
    net.get(i, &format!("/blocks/{height}")).1["hash"].clone()
}

#[test]
fn a_new_organisations_peer_joins_refuses_forged_blocks_and_catches_up_after_a_stop() {
    let mut net = Net::start(4, 3);
    let honest = 2;
    for n in 0..6 {
        post_ok(
            &net,
            honest,
            anchors("northwind/warehouse", &format!("j{n}"), 3),
        );
    }
    let top = net.height(honest).unwrap();
    net.converge(top);
    // Two peers' stores are tampered with while they are stopped: one block of peer 0
    // loses its orderer signature, a later block of peer 1 is linked to another block.
    let (forged, relinked) = (top - 3, top - 1);
    let honest_hashes: Vec<Value> = (0..=top).map(|h| block_hash(&net, honest, h)).collect();
    net.stop(0);
    net.stop(1);
    forge_signature(&net.peers[0].dir, forged);
    relink(&net.peers[1].dir, relinked);
    net.run(0);
    net.run(1);
    net.leader();

    // The new organisation's operator makes a key and initialises from genesis, pinned.
    let root = net.root.path().to_path_buf();
    let key_file = root.join("new-peer.pem");
    let out = pedigree(&["keys", "generate", "--out", key_file.to_str().unwrap()]);
    assert!(out.status.success());
    let public_key = serde_json::from_slice::<Value>(&out.stdout).unwrap()["public_key"]
        .as_str()
        .unwrap()
        .to_string();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let pin = block_hash(&net, honest, 0).as_str().unwrap().to_string();
    let dir = root.join("new-peer");
    let join = |pin: &str| {
        pedigree(&[
            "init",
            "--join",
            &net.peers[0].url,
            "--pin",
            pin,
            "--peer-id",
            "medicines-agency-peer-2",
            "--peer-key",
            key_file.to_str().unwrap(),
            "--listen",
            &listen,
            "--data-dir",
            dir.to_str().unwrap(),
        ])
    };
    let wrong = join(&"ab".repeat(32));
    assert!(!wrong.status.success());
    assert!(
        String::from_utf8_lossy(&wrong.stderr).contains("GENESIS_MISMATCH"),
        "{}",
        String::from_utf8_lossy(&wrong.stderr)
    );
    assert!(
        !dir.join("peer.toml").exists(),
        "nothing written on a mismatch"
    );
    let out = join(&pin);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let new = net.add(network_support::Info {
        peer: "medicines-agency-peer-2".into(),
        org: "medicines-agency".into(),
        url: format!("http://{listen}"),
        dir: dir.clone(),
        voter: false,
    });
    // Started before the consortium lists it: it waits, says why, and does not listen.
    let listening = net.spawn(new);
    let deadline = Instant::now() + Duration::from_secs(20);
    while !net
        .log(new)
        .contains("waiting for a governor's add_peer event")
    {
        assert!(
            Instant::now() < deadline,
            "no wait logged:\n{}",
            net.log(new)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(listening.try_recv().is_err(), "{}", net.log(new));
    assert!(net.log(new).contains("UNKNOWN_PEER"), "{}", net.log(new));
    net.stop(new);

    // A governor's admin adds it, signing on their own machine.
    let admin_key = root.join("admin.pem");
    std::fs::write(
        &admin_key,
        fixtures::demo_key("medicines-agency/admin").to_pem(),
    )
    .unwrap();
    let added = pedigree(&[
        "consortium",
        "add-peer",
        "--url",
        &net.peers[3].url,
        "--admin",
        "medicines-agency/admin",
        "--admin-key",
        admin_key.to_str().unwrap(),
        "--peer-id",
        "medicines-agency-peer-2",
        "--org",
        "medicines-agency",
        "--endpoint",
        &format!("http://{listen}"),
        "--public-key",
        &public_key,
    ]);
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let receipt: Value = serde_json::from_slice(&added.stdout).unwrap();
    let added_at = receipt["block_height"].as_u64().unwrap();
    // Once every peer holds the change, it starts again; it asks the peers in the
    // config's order, so the two tampered ones first.
    net.converge(added_at);
    net.run(new);
    net.converge(added_at);

    // It took no forged block: its chain is the honest one, and it named both forgers.
    for h in 0..=top {
        assert_eq!(
            block_hash(&net, new, h),
            honest_hashes[h as usize],
            "block {h}"
        );
    }
    let log = net.log(new);
    for (i, h) in [(0, forged), (1, relinked)] {
        assert!(
            log.lines().any(|l| l.contains("does not verify")
                && l.contains(&net.peers[i].peer)
                && l.contains(&format!("height={h}"))),
            "no refusal of {}'s block {h} in:\n{log}",
            net.peers[i].peer
        );
    }

    // It takes its own users' events, and as a learner it catches up after a stop.
    let mine = post_ok(&net, new, anchors("medicines-agency/inspector", "new", 2));
    net.converge(mine["block_height"].as_u64().unwrap());
    net.stop(new);
    let mut last = 0;
    for n in 0..4 {
        last =
            post_ok(&net, 3, anchors("northwind/warehouse", &format!("k{n}"), 2))["block_height"]
                .as_u64()
                .unwrap();
    }
    net.run(new);
    net.converge(last);
    for h in (top + 1)..=last {
        assert_eq!(
            block_hash(&net, new, h),
            block_hash(&net, honest, h),
            "block {h}"
        );
    }
    let (_, status) = net.get(new, "/raft/status");
    assert!(
        status["learners"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p == "medicines-agency-peer-2"),
        "{status}"
    );

    // The tampered stores fail their audit; the honest ones and the new peer's pass.
    for i in 0..net.peers.len() {
        net.stop(i);
    }
    for i in 0..net.peers.len() {
        let out = pedigree(&["audit", "--data-dir", net.peers[i].dir.to_str().unwrap()]);
        assert_eq!(
            out.status.success(),
            i >= 2,
            "audit of {}: {}",
            net.peers[i].peer,
            String::from_utf8_lossy(&out.stdout)
        );
    }
}
