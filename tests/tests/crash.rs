//! A peer killed with SIGKILL in the middle of ingest restarts with every block it
//! acknowledged, keeps taking events, and passes the audit.

use e2e::{Peer, pedigree};
use fixtures::{PeerLayout, demo};
use ledger::hash::sha256;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[test]
fn sigkill_during_ingest_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("peer");
    let out = pedigree(&["init", "--demo", "--data-dir", data.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut peer = Peer::serve(&data, &[]).unwrap();
    let d = Arc::new(demo(&PeerLayout::Single {
        endpoint: String::new(),
    }));

    let acked: Arc<Mutex<Vec<(String, Value)>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let batches = Arc::new(AtomicUsize::new(0));
    let url = peer.url.clone();
    let clients: Vec<_> = ["northwind/warehouse", "city-pharmacy/pharmacist"]
        .into_iter()
        .enumerate()
        .map(|(c, actor)| {
            let (d, acked, stop, batches, url) = (
                d.clone(),
                acked.clone(),
                stop.clone(),
                batches.clone(),
                url.clone(),
            );
            std::thread::spawn(move || {
                let signer = d.signer(actor);
                let started = Instant::now();
                // bounded: at most 400 requests or 60 s per client
                for round in 0..400 {
                    if stop.load(Ordering::Relaxed) || started.elapsed() > Duration::from_secs(60) {
                        break;
                    }
                    let events: Vec<Value> = (0..40)
                        .map(|i| {
                            let digest = sha256(format!("crash/{c}/{round}/{i}").as_bytes());
                            signer
                                .event("anchor", "anchor", json!({"digest": digest}))
                                .to_json_value()
                        })
                        .collect();
                    let resp = ureq::post(&format!("{url}/events"))
                        .timeout(Duration::from_secs(10))
                        .send_json(Value::Array(events));
                    let Ok(resp) = resp else { break };
                    let body: Value = resp.into_json().unwrap();
                    let mut acked = acked.lock().unwrap();
                    for e in body["events"].as_array().unwrap() {
                        assert_eq!(e["status"], "committed", "{e}");
                        acked.push((
                            e["id"].as_str().unwrap().to_string(),
                            body["block_height"].clone(),
                        ));
                    }
                    batches.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    // let ingest run, then kill the peer while requests are in flight
    let until = Instant::now() + Duration::from_secs(30);
    while batches.load(Ordering::Relaxed) < 15 && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    peer.kill();
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() >= 15 * 40,
        "only {} events acknowledged before the kill",
        acked.len()
    );

    let peer = Peer::serve(&data, &[]).unwrap();
    for (id, height) in &acked {
        let (status, body) = peer.get(&format!("/events/{id}"));
        assert_eq!(
            status, 200,
            "acknowledged event {id} is missing after the crash: {body}"
        );
        assert_eq!(&body["block_height"], height);
        assert_eq!(body["result"], Value::Null);
    }
    // the restarted peer keeps taking events
    let signer = d.signer("st-mary/admin");
    let (status, body) = peer.post(
        "/events",
        &json!([signer
            .event(
                "anchor",
                "anchor",
                json!({"digest": sha256(b"after restart")})
            )
            .to_json_value()]),
    );
    assert_eq!(status, 200, "{body}");
    drop(peer);

    let out = pedigree(&["audit", "--data-dir", data.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "audit failed after the crash: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["ok"], true);
    assert!(report["events"].as_u64().unwrap() as usize > acked.len());
}
