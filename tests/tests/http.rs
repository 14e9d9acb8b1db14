//! The peer's HTTP surface as a client meets it: health and metrics, events committed
//! with receipts, and bad requests answered with stable codes while nothing is stored.

use e2e::{Peer, pedigree};
use fixtures::{PeerLayout, demo};
use ledger::hash::sha256;
use serde_json::{Value, json};

fn demo_peer() -> (tempfile::TempDir, Peer) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("peer");
    let peer = Peer::serve(&data, &["--demo", "--no-seed"]).unwrap();
    (dir, peer)
}

#[test]
fn health_metrics_events_blocks_and_bad_requests() {
    let (dir, peer) = demo_peer();
    let d = demo(&PeerLayout::Single {
        endpoint: String::new(),
    });
    let (status, health) = peer.get("/healthz");
    assert_eq!((status, health["status"].as_str()), (200, Some("ok")));
    assert_eq!(health["height"], 0);

    // a good batch
    let signer = d.signer("acme-pharma/qa");
    let events: Vec<Value> = (0..3)
        .map(|i| {
            signer
                .event(
                    "anchor",
                    "anchor",
                    json!({"digest": sha256(&[i]), "reference": "lot-42"}),
                )
                .to_json_value()
        })
        .collect();
    let (status, body) = peer.post("/events", &Value::Array(events.clone()));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["block_height"], 1);
    let id = body["events"][0]["id"].as_str().unwrap().to_string();
    assert!(
        body["events"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["status"] == "committed")
    );

    // the event, with a Merkle proof a client can check against the block
    let (status, ev) = peer.get(&format!("/events/{id}"));
    assert_eq!(status, 200);
    let proof: ledger::merkle::InclusionProof =
        serde_json::from_value(ev["proof"].clone()).unwrap();
    let root: ledger::Digest = serde_json::from_value(ev["merkle_root"].clone()).unwrap();
    assert!(proof.verify(&id.parse().unwrap(), &root));
    let (status, block) = peer.get("/blocks/1");
    assert_eq!(status, 200);
    assert_eq!(block["hash"], ev["block_hash"]);
    assert_eq!(block["events"].as_array().unwrap().len(), 3);

    // resubmitting is a duplicate; mixed batches are answered per event
    let (status, body) = peer.post("/events", &Value::Array(events[..1].to_vec()));
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("DUPLICATE_EVENT")),
        "{body}"
    );
    let mut forged = signer
        .event("anchor", "anchor", json!({"digest": sha256(b"f")}))
        .to_json_value();
    forged["payload"]["digest"] = json!(sha256(b"g"));
    let fine = signer
        .event("anchor", "anchor", json!({"digest": sha256(b"h")}))
        .to_json_value();
    let (status, body) = peer.post("/events", &json!([forged, {"module": "anchor"}, fine]));
    assert_eq!(status, 200, "{body}");
    let codes: Vec<&str> = body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap_or(e["status"].as_str().unwrap()))
        .collect();
    assert_eq!(codes, vec!["BAD_SIGNATURE", "MALFORMED_EVENT", "committed"]);

    // malformed, empty, oversized
    let (status, body) = peer.post_bytes("/events", b"{not json");
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("MALFORMED_JSON"))
    );
    let (status, body) = peer.post("/events", &json!([]));
    assert_eq!((status, body["code"].as_str()), (400, Some("BAD_BATCH")));
    let big = vec![b' '; 9 * 1024 * 1024];
    let (status, body) = peer.post_bytes("/events", &big);
    assert_eq!(
        (status, body["code"].as_str()),
        (413, Some("PAYLOAD_TOO_LARGE")),
        "{body}"
    );
    let (status, body) = peer.get("/events/xyz");
    assert_eq!((status, body["code"].as_str()), (400, Some("BAD_EVENT_ID")));
    let (status, body) = peer.get(&format!("/events/{}", sha256(b"nothing")));
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("UNKNOWN_EVENT"))
    );
    let (status, body) = peer.get("/blocks/99");
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("UNKNOWN_BLOCK"))
    );

    // only the two good submissions made blocks
    let (_, chain) = peer.get("/chain");
    assert_eq!(chain["height"], 2);
    // metrics are Prometheus text and count what happened
    let metrics = ureq::get(&format!("{}/metrics", peer.url))
        .call()
        .unwrap()
        .into_string()
        .unwrap();
    assert!(metrics.contains("pedigree_chain_height 2"), "{metrics}");
    assert!(
        metrics.contains("pedigree_events_refused_total{code=\"BAD_SIGNATURE\"} 1"),
        "{metrics}"
    );
    drop(peer);
    let out = pedigree(&[
        "audit",
        "--data-dir",
        dir.path().join("peer").to_str().unwrap(),
    ]);
    assert!(out.status.success());
}

#[test]
fn cli_usage_errors_and_barcode_exit_codes() {
    let out = pedigree(&["no-such-command"]);
    assert_eq!(out.status.code(), Some(2));
    let out = pedigree(&["audit", "--data-dir", "/nonexistent/pedigree"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("pedigree init"));
    let out = pedigree(&[
        "barcode",
        "parse",
        "(01)09506000134352(17)271231(10)LOT-1(21)SN123",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["gtin"], "09506000134352");
    assert_eq!(json["expiry"], "2027-12-31");
    let out = pedigree(&["barcode", "parse", "(01)09506000134353(21)SN123"]);
    assert_eq!(out.status.code(), Some(1));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["valid"], false);
    assert!(!json["errors"].as_array().unwrap().is_empty());
}

#[test]
fn keys_generate_and_init_a_real_consortium() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
    let generate = |n: &str| -> String {
        let out = pedigree(&["keys", "generate", "-o", &p(n)]);
        assert!(out.status.success());
        serde_json::from_slice::<Value>(&out.stdout).unwrap()["public_key"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let admin = generate("admin.pem");
    let peer_key = generate("peer.pem");
    // refuses to overwrite
    assert!(
        !pedigree(&["keys", "generate", "-o", &p("admin.pem")])
            .status
            .success()
    );
    let consortium = json!({
        "name": "pilot", "governors": ["agency"],
        "organizations": [{"id": "agency", "name": "Agency", "role": "regulator",
            "actors": [{"id": "agency/admin", "public_key": admin, "roles": ["admin"]}]}],
        "peers": [{"id": "agency-peer", "org": "agency", "endpoint": "http://127.0.0.1:1", "public_key": peer_key, "voter": true}],
    });
    std::fs::write(p("consortium.json"), consortium.to_string()).unwrap();
    let args = [
        "init",
        "--data-dir",
        &p("data"),
        "--consortium",
        &p("consortium.json"),
        "--peer-id",
        "agency-peer",
        "--peer-key",
        &p("peer.pem"),
        "--admin",
        "agency/admin",
        "--admin-key",
    ];
    // the wrong admin key is refused and nothing is created
    let out = pedigree(&[&args[..], &[p("peer.pem").as_str()]].concat());
    assert_eq!(out.status.code(), Some(2));
    assert!(!dir.path().join("data/peer.toml").exists());
    let out = pedigree(&[&args[..], &[p("admin.pem").as_str()]].concat());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = pedigree(&["audit", "--data-dir", &p("data")]);
    assert!(out.status.success());
    // a second init is refused
    let out = pedigree(&[&args[..], &[p("admin.pem").as_str()]].concat());
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn graphql_answers_chain_and_organizations() {
    let (_dir, peer) = demo_peer();
    let (status, body) = peer.post(
        "/graphql",
        &json!({"query": "{ chain { height headHash } organizations { id role } }"}),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["chain"]["height"], 0);
    assert_eq!(body["data"]["organizations"].as_array().unwrap().len(), 8);
    let (status, body) = peer.post("/graphql", &json!({"query": "{ chain { nope } }"}));
    assert_eq!(status, 200);
    assert!(!body["errors"].as_array().unwrap().is_empty());
    let (status, body) = peer.post_bytes("/graphql", b"query");
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("MALFORMED_JSON"))
    );
}
