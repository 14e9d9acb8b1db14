//! A unit's life through the GraphQL API on a real peer: commission, pack, ship,
//! receive, unpack, dispense, and `verify` at each step; a recall that reaches the
//! holding pharmacy's `recallAlerts` subscription over a real websocket and turns its
//! verdict to RECALLED.

mod graphql_support;

use graphql_support::{Demo, Ws, sscc};
use serde_json::{Value, json};

const ATORVASTATIN: &str = "00614141100033";

fn verify(demo: &Demo, actor: &str, code: &str) -> Value {
    demo.ok(
        actor,
        "query($c: String!) { verify(code: $c) { verdict reason nextAction gtin serial lot expiry holder { id } recall { id class active } } }",
        json!({"c": code}),
    )["verify"]
        .clone()
}

const COMMISSION: &str =
    "mutation($i: CommissionInput!) { commission(input: $i) { eventIds blockHeight blockHash } }";
const PACK: &str = "mutation($i: PackInput!) { pack(input: $i) { eventIds blockHeight } }";
const UNPACK: &str = "mutation($i: UnpackInput!) { unpack(input: $i) { eventIds blockHeight } }";
const SHIP: &str = "mutation($i: ShipInput!) { ship(input: $i) { eventIds blockHeight } }";
const RECEIVE: &str = "mutation($i: ReceiveInput!) { receive(input: $i) { eventIds blockHeight } }";
const DISPENSE: &str =
    "mutation($i: DispenseInput!) { dispense(input: $i) { eventIds blockHeight } }";

#[test]
fn commission_pack_ship_receive_unpack_dispense_then_already_dispensed() {
    let demo = Demo::start();
    let item = |s: &str| format!("(01){ATORVASTATIN}(21){s}");
    let case = format!("(00){}", sscc("00614141770000001"));

    let r = demo.ok(
        "acme-pharma/line-1",
        COMMISSION,
        json!({"i": {"gtin": ATORVASTATIN, "lot": "ATV-E2E", "expiry": "2029-01-31", "serials": ["E2E1", "E2E2", "E2E3"]}}),
    );
    let before = r["commission"]["blockHeight"].as_u64().unwrap();
    assert!(before > 0);
    assert_eq!(r["commission"]["eventIds"].as_array().unwrap().len(), 1);

    let children: Vec<String> = ["E2E1", "E2E2", "E2E3"].iter().map(|s| item(s)).collect();
    demo.ok(
        "acme-pharma/line-1",
        PACK,
        json!({"i": {"parent": case, "children": children}}),
    );
    demo.ok(
        "acme-pharma/line-1",
        SHIP,
        json!({"i": {"codes": [case], "to": "northwind"}}),
    );
    // in transit: genuine, but not in the distributor's custody yet
    assert_eq!(
        verify(&demo, "northwind/warehouse", &item("E2E1"))["verdict"],
        "NOT_IN_YOUR_CUSTODY"
    );
    demo.ok(
        "northwind/warehouse",
        RECEIVE,
        json!({"i": {"codes": [case]}}),
    );
    demo.ok(
        "northwind/warehouse",
        UNPACK,
        json!({"i": {"parent": case}}),
    );
    demo.ok(
        "northwind/warehouse",
        SHIP,
        json!({"i": {"codes": [item("E2E1")], "to": "city-pharmacy"}}),
    );
    // a scan as a pharmacy's scanner sends it: symbology id, FNC1 as GS, lot and expiry
    let scanned = format!("]d201{ATORVASTATIN}21E2E1\u{1d}10ATV-E2E\u{1d}17290131");
    demo.ok(
        "city-pharmacy/pharmacist",
        RECEIVE,
        json!({"i": {"codes": [scanned]}}),
    );

    let v = verify(&demo, "city-pharmacy/pharmacist", &scanned);
    assert_eq!(v["verdict"], "VERIFIED", "{v}");
    assert_eq!(v["holder"]["id"], "city-pharmacy");
    assert_eq!(
        (v["lot"].as_str(), v["expiry"].as_str()),
        (Some("ATV-E2E"), Some("2029-01-31"))
    );

    // the pharmacy's dispensing feed, over a real websocket
    let (mut feed, ack) = Ws::connect(&demo.peer.url, &demo.token("city-pharmacy/pharmacist"));
    assert_eq!(ack["type"], "connection_ack", "{ack}");
    feed.send(json!({"id": "f", "type": "subscribe", "payload": {"query":
        "subscription { events(bizStep: \"dispensing\") { kind org codes blockHeight } }"}}));
    std::thread::sleep(std::time::Duration::from_millis(300));
    let r = demo.ok(
        "city-pharmacy/pharmacist",
        DISPENSE,
        json!({"i": {"code": item("E2E1")}}),
    );
    assert!(r["dispense"]["blockHeight"].as_u64().unwrap() > before);
    let v = verify(&demo, "city-pharmacy/pharmacist", &item("E2E1"));
    assert_eq!(v["verdict"], "ALREADY_DISPENSED", "{v}");
    let heard = feed.next();
    assert_eq!(heard["type"], "next", "{heard}");
    let e = &heard["payload"]["data"]["events"];
    assert_eq!(
        (e["kind"].as_str(), e["org"].as_str()),
        (Some("dispense"), Some("city-pharmacy"))
    );
    assert_eq!(e["codes"], json!([item("E2E1")]));

    // dispensing it again is refused with the module's stable code
    let code = demo.error_code(
        Some("city-pharmacy/pharmacist"),
        DISPENSE,
        json!({"i": {"code": item("E2E1")}}),
    );
    assert_eq!(code, "ALREADY_DISPENSED");
    // a bad scan is a clear error, not a guess
    let code = demo.error_code(
        Some("city-pharmacy/pharmacist"),
        DISPENSE,
        json!({"i": {"code": format!("(01)00614141100034(21)E2E2")}}),
    );
    assert_eq!(code, "BAD_CODE");
    // and verify answers RESCAN with the scanner library's diagnosis
    let v = verify(
        &demo,
        "city-pharmacy/pharmacist",
        "(01)00614141100034(21)E2E2",
    );
    assert_eq!(v["verdict"], "RESCAN");

    // the events are on the chain, each with its proof
    let page = demo.ok(
        "acme-pharma/qa",
        "query($c: String) { events(code: $c, first: 20) { edges { node { kind bizStep org blockHeight proof } } pageInfo { hasNextPage } } }",
        json!({"c": item("E2E1")}),
    );
    let kinds: Vec<&str> = page["events"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "commission",
            "pack",
            "unpack",
            "ship",
            "receive",
            "dispense"
        ]
    );
}

#[test]
fn a_recall_reaches_the_holding_pharmacy_over_a_websocket_and_verify_says_recalled() {
    let demo = Demo::start();
    let item = |s: &str| format!("(01){ATORVASTATIN}(21){s}");
    demo.ok(
        "acme-pharma/line-1",
        COMMISSION,
        json!({"i": {"gtin": ATORVASTATIN, "lot": "ATV-R1", "expiry": "2029-03-31", "serials": ["R1", "R2"]}}),
    );
    demo.ok(
        "acme-pharma/line-1",
        SHIP,
        json!({"i": {"codes": [item("R1"), item("R2")], "to": "city-pharmacy"}}),
    );
    demo.ok(
        "city-pharmacy/pharmacist",
        RECEIVE,
        json!({"i": {"codes": [item("R1"), item("R2")]}}),
    );
    assert_eq!(
        verify(&demo, "city-pharmacy/pharmacist", &item("R1"))["verdict"],
        "VERIFIED"
    );

    let (mut ws, ack) = Ws::connect(&demo.peer.url, &demo.token("city-pharmacy/pharmacist"));
    assert_eq!(ack["type"], "connection_ack", "{ack}");
    ws.send(json!({"id": "1", "type": "subscribe", "payload": {"query":
        "subscription { recallAlerts { unitsHeld blockHeight recall { id gtin lots class depth active } } }"}}));
    // a second pharmacy listens too: it holds none of the lot and must hear nothing
    let (mut corner, _) = Ws::connect(&demo.peer.url, &demo.token("corner-pharmacy/pharmacist"));
    corner.send(json!({"id": "c", "type": "subscribe", "payload": {"query": "subscription { recallAlerts { recall { id } } }"}}));
    std::thread::sleep(std::time::Duration::from_millis(300));

    let issued = demo.ok(
        "acme-pharma/qa",
        "mutation($i: RecallInput!) { issueRecall(input: $i) { id gtin lots class depth active units holders { org { id } units } } }",
        json!({"i": {"gtin": ATORVASTATIN, "lots": ["ATV-R1"], "class": "I", "depth": "RETAIL", "reason": "Tablets may contain a foreign particle"}}),
    )["issueRecall"]
        .clone();
    assert_eq!(issued["active"], true);
    assert_eq!(issued["units"], 2);

    let alert = ws.next();
    assert_eq!(alert["type"], "next", "{alert}");
    assert_eq!(alert["id"], "1");
    let a = &alert["payload"]["data"]["recallAlerts"];
    assert_eq!(a["recall"]["id"], issued["id"]);
    assert_eq!(a["unitsHeld"], 2);
    assert_eq!(a["recall"]["class"], "I");
    assert_eq!(a["recall"]["lots"], json!(["ATV-R1"]));

    let v = verify(&demo, "city-pharmacy/pharmacist", &item("R1"));
    assert_eq!(v["verdict"], "RECALLED", "{v}");
    assert_eq!(v["recall"]["id"], issued["id"]);
    let code = demo.error_code(
        Some("city-pharmacy/pharmacist"),
        DISPENSE,
        json!({"i": {"code": item("R2")}}),
    );
    assert_eq!(code, "RECALLED");

    // the pharmacy acknowledges; the recall shows it
    let acked = demo.ok(
        "city-pharmacy/pharmacist",
        "mutation($i: AcknowledgeRecallInput!) { acknowledgeRecall(input: $i) { id holders { org { id } acknowledged } } }",
        json!({"i": {"recall": issued["id"]}}),
    );
    assert_eq!(
        acked["acknowledgeRecall"]["holders"],
        json!([{"org": {"id": "city-pharmacy"}, "acknowledged": true}])
    );

    // the other pharmacy got nothing: the next thing it hears is its own ping answer
    corner.send(json!({"type": "ping"}));
    let heard = corner.next();
    assert_eq!(heard["type"], "pong", "{heard}");
}
