//! The consortium network with real `pedigree serve` processes on loopback: events
//! submitted at different peers commit into one chain, peers that were stopped or killed
//! catch up, a lost leader is replaced without losing anything acknowledged, peer routes
//! refuse unsigned requests, and a recall at the manufacturer's peer reaches the
//! pharmacy's own peer.

mod graphql_support;
mod network_support;

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
