//! Claims end to end on a real server: a pack is commissioned, shipped, received and
//! dispensed; the patient's hospital records payment consent; the pharmacy claims it and
//! the payer adjudicates against the ledger's evidence; resubmitting and billing the pack
//! again are refused.

use e2e::Peer;
use fixtures::{PeerLayout, demo};
use ledger::hash::sha256;
use serde_json::{Value, json};

const GTIN: &str = "00614141100019";

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[test]
fn dispense_claim_adjudicate_and_duplicates_refused() {
    let dir = tempfile::tempdir().unwrap();
    let peer = Peer::serve(&dir.path().join("peer"), &["--demo"]).unwrap();
    let d = demo(&PeerLayout::Single {
        endpoint: String::new(),
    });
    let send = |actor: &str, module: &str, kind: &str, payload: Value| -> (u16, Value) {
        let e = d.signer(actor).event(module, kind, payload).to_json_value();
        peer.post("/events", &json!([e]))
    };
    let committed = |(status, body): (u16, Value)| -> String {
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["events"][0]["status"], "committed", "{body}");
        body["events"][0]["id"].as_str().unwrap().to_string()
    };
    let serial = format!("CLM{}", now() % 1_000_000);
    let unit = format!("(01){GTIN}(21){serial}");
    committed(send(
        "acme-pharma/qa",
        "trace",
        "commission",
        json!({"gtin": GTIN, "lot": "L2611", "expiry": "2030-01-31", "serials": [serial]}),
    ));
    committed(send(
        "acme-pharma/qa",
        "trace",
        "ship",
        json!({"codes": [unit], "to": "city-pharmacy"}),
    ));
    committed(send(
        "city-pharmacy/pharmacist",
        "trace",
        "receive",
        json!({"codes": [unit]}),
    ));
    let dispensed = committed(send(
        "city-pharmacy/pharmacist",
        "trace",
        "dispense",
        json!({"codes": [unit]}),
    ));
    let patient = sha256(b"a patient's keyed hash").to_hex();
    committed(send(
        "st-mary/admin",
        "consent",
        "grant",
        json!({
            "patient": patient, "grantee": {"org": "carehealth"}, "purposes": ["payment"],
            "categories": ["medication"], "start": now() - 86_400_000, "end": null,
        }),
    ));
    let line = json!({"sequence": 1, "kind": "drug", "gtin": GTIN, "serial": serial, "event": dispensed, "date": now(), "amount_cents": 4200});
    let claim =
        json!({"claim": "RX-1", "patient": patient, "payer": "carehealth", "lines": [line]});
    committed(send(
        "city-pharmacy/pharmacist",
        "claims",
        "submit",
        claim.clone(),
    ));
    committed(send(
        "carehealth/adjudicator",
        "claims",
        "adjudicate",
        json!({"provider": "city-pharmacy", "claim": "RX-1"}),
    ));
    let creds: Value = serde_json::from_slice(
        &std::fs::read(dir.path().join("peer/demo-credentials.json")).unwrap(),
    )
    .unwrap();
    let token = |actor: &str| -> String {
        creds["actors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == actor)
            .unwrap()["token"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let pharmacy = token("city-pharmacy/pharmacist");
    // only the provider, the payer and a regulator read a claim
    let (status, body) = peer.get("/claims/city-pharmacy/RX-1");
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("UNAUTHENTICATED"))
    );
    let (status, body) = peer.get_as(
        "/claims/city-pharmacy/RX-1",
        &token("corner-pharmacy/pharmacist"),
    );
    assert_eq!((status, body["code"].as_str()), (403, Some("FORBIDDEN")));
    let (status, _) = peer.get_as(
        "/claims/city-pharmacy/RX-1",
        &token("carehealth/adjudicator"),
    );
    assert_eq!(status, 200);
    let (status, c) = peer.get_as("/claims/city-pharmacy/RX-1", &pharmacy);
    assert_eq!(status, 200, "{c}");
    assert_eq!(c["outcome"], "approved", "{c}");
    assert_eq!(c["results"][0]["approved_cents"], 4200);

    // the same claim again, and a second adjudication, are refused outright
    let (status, body) = send("city-pharmacy/pharmacist", "claims", "submit", claim);
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("DUPLICATE_CLAIM")),
        "{body}"
    );
    let (status, body) = send(
        "carehealth/adjudicator",
        "claims",
        "adjudicate",
        json!({"provider": "city-pharmacy", "claim": "RX-1"}),
    );
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("ALREADY_ADJUDICATED")),
        "{body}"
    );
    // billing the same pack on a new claim is denied as double billing; a pack never
    // dispensed by this pharmacy is a phantom
    let again = json!({"claim": "RX-2", "patient": patient, "payer": "carehealth", "lines": [
        line,
        {"sequence": 2, "kind": "drug", "gtin": GTIN, "serial": "NEVER-SOLD", "event": dispensed, "date": now(), "amount_cents": 100},
    ]});
    committed(send("city-pharmacy/pharmacist", "claims", "submit", again));
    committed(send(
        "carehealth/adjudicator",
        "claims",
        "adjudicate",
        json!({"provider": "city-pharmacy", "claim": "RX-2"}),
    ));
    let (_, c) = peer.get_as("/claims/city-pharmacy/RX-2", &pharmacy);
    assert_eq!(c["outcome"], "denied", "{c}");
    assert_eq!(c["results"][0]["reason"], "DUPLICATE_BILLING");
    assert_eq!(c["results"][1]["reason"], "PHANTOM_DISPENSE");
    let (status, body) = peer.get_as("/claims/city-pharmacy/NOPE", &pharmacy);
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("UNKNOWN_CLAIM"))
    );
}
