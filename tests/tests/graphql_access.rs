//! Who may do and see what through the GraphQL API, on a real seeded demo peer:
//! tokens (none, wrong, revoked-by-absence, created by `pedigree token create`), the
//! role rules for mutations, and what each kind of member sees of a unit's history.

mod graphql_support;

use e2e::pedigree;
use graphql_support::{Demo, Ws, post};
use serde_json::json;

const AMX1: &str = "(01)00614141100019(21)AMX0001";
const AMX3: &str = "(01)00614141100019(21)AMX0003";
const COMMISSION: &str = "mutation($i: CommissionInput!) { commission(input: $i) { blockHeight } }";

#[test]
fn tokens_decide_who_is_asking() {
    let demo = Demo::start();
    // no token: public fields answer, the rest says UNAUTHENTICATED
    let (status, body) = post(
        &demo.peer.url,
        None,
        &json!({"query": "{ chain { height } organizations { id } }"}),
    );
    assert_eq!(status, 200, "{body}");
    assert!(body["data"]["chain"]["height"].as_u64().unwrap() > 0);
    assert_eq!(
        demo.error_code(None, "{ me { actor } }", json!({})),
        "UNAUTHENTICATED"
    );
    assert_eq!(
        demo.error_code(None, "{ verify(code: \"x\") { verdict } }", json!({})),
        "UNAUTHENTICATED"
    );
    // a wrong token: HTTP 401 with the stable code
    for bad in ["pdg_0000", "", "not a token at all"] {
        let (status, body) = post(
            &demo.peer.url,
            Some(bad),
            &json!({"query": "{ chain { height } }"}),
        );
        assert_eq!(
            (status, body["code"].as_str()),
            (401, Some("UNAUTHENTICATED")),
            "{body}"
        );
    }
    // a good one names the actor
    let me = demo.ok(
        "northwind/warehouse",
        "{ me { actor roles org { id role } } }",
        json!({}),
    );
    assert_eq!(
        me["me"],
        json!({"actor": "northwind/warehouse", "roles": ["operator"], "org": {"id": "northwind", "role": "distributor"}})
    );
    // a websocket with a wrong token is closed
    let (_ws, answer) = Ws::connect(&demo.peer.url, "pdg_wrong");
    assert_ne!(answer["type"], "connection_ack", "{answer}");

    // pedigree token create: a new token for a real actor works at once
    let data = demo.data();
    let out = pedigree(&[
        "token",
        "create",
        "--data-dir",
        data.to_str().unwrap(),
        "--actor",
        "medidev/qa",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let created: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let token = created["token"].as_str().unwrap();
    let (status, body) = post(
        &demo.peer.url,
        Some(token),
        &json!({"query": "{ me { actor } }"}),
    );
    assert_eq!(
        (status, &body["data"]["me"]["actor"]),
        (200, &json!("medidev/qa")),
        "{body}"
    );
    // only hashes are stored
    let stored = std::fs::read_to_string(data.join("tokens.json")).unwrap();
    assert!(!stored.contains(token));
    let out = pedigree(&[
        "token",
        "create",
        "--data-dir",
        data.to_str().unwrap(),
        "--actor",
        "nobody/here",
    ]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn roles_decide_what_a_caller_may_do() {
    let demo = Demo::start();
    let commission = json!({"i": {"gtin": "00614141100033", "lot": "L1", "expiry": "2029-01-31", "serials": ["ROLE1"]}});
    for actor in [
        "northwind/warehouse",        // a distributor does not commission
        "carehealth/adjudicator",     // a payer writes nothing
        "medicines-agency/inspector", // a regulator reads, it does not commission
        "st-mary/surgeon",            // a clinician role is not an operator's
    ] {
        assert_eq!(
            demo.error_code(Some(actor), COMMISSION, commission.clone()),
            "FORBIDDEN",
            "{actor}"
        );
    }
    // the module's own rule: only the brand owner of the company prefix commissions
    let other_brand = json!({"i": {"gtin": "00860001200027", "lot": "L1", "expiry": "2029-01-31", "serials": ["X1"], "device": true}});
    assert_eq!(
        demo.error_code(Some("acme-pharma/line-1"), COMMISSION, other_brand),
        "NOT_BRAND_OWNER"
    );
    // dispensing needs a pharmacist in a pharmacy or hospital
    let dispense = "mutation($i: DispenseInput!) { dispense(input: $i) { blockHeight } }";
    assert_eq!(
        demo.error_code(
            Some("northwind/warehouse"),
            dispense,
            json!({"i": {"code": AMX3}})
        ),
        "FORBIDDEN"
    );
    // ...and custody: Corner Pharmacy does not hold City Pharmacy's pack
    assert_eq!(
        demo.error_code(
            Some("corner-pharmacy/pharmacist"),
            dispense,
            json!({"i": {"code": AMX3}})
        ),
        "NOT_HOLDER"
    );
    let ship = "mutation($i: ShipInput!) { ship(input: $i) { blockHeight } }";
    assert_eq!(
        demo.error_code(
            Some("northwind/warehouse"),
            ship,
            json!({"i": {"codes": [AMX3], "to": "st-mary"}})
        ),
        "NOT_HOLDER"
    );
    // recalls: a recall manager or a regulator's admin, never a pharmacist
    let recall = "mutation($i: RecallInput!) { issueRecall(input: $i) { id } }";
    let input = json!({"i": {"gtin": "00614141100026", "lots": ["MET2602"], "class": "III", "depth": "WHOLESALE", "reason": "Label typo"}});
    assert_eq!(
        demo.error_code(Some("city-pharmacy/pharmacist"), recall, input.clone()),
        "FORBIDDEN"
    );
    assert_eq!(
        demo.error_code(Some("acme-pharma/line-1"), recall, input.clone()),
        "FORBIDDEN"
    );
    demo.ok("acme-pharma/qa", recall, input);
}

#[test]
fn members_see_what_their_role_allows() {
    let demo = Demo::start();
    let prov = "query($c: String!) { provenance(code: $c) { code complete events { kind org blockHeight blockHash merkleRoot proof payload } } }";
    let events_of = |actor: &str| demo.ok(actor, prov, json!({"c": AMX1}))["provenance"].clone();

    // the regulator and the brand owner see the whole history, with proofs
    let full = events_of("medicines-agency/inspector");
    assert_eq!(full["complete"], true);
    let kinds: Vec<&str> = full["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.first(), Some(&"commission"));
    assert_eq!(kinds.last(), Some(&"dispense"));
    assert!(kinds.contains(&"ship") && kinds.contains(&"receive") && kinds.contains(&"pack"));
    assert!(full["events"][0]["proof"].is_object());
    assert_eq!(events_of("acme-pharma/qa")["events"], full["events"]);

    // City Pharmacy sees the events it was party to only
    let city = events_of("city-pharmacy/pharmacist");
    assert_eq!(city["complete"], false);
    let city_events = city["events"].as_array().unwrap();
    assert!(!city_events.is_empty());
    for e in city_events {
        assert!(
            e["org"] == "city-pharmacy"
                || (e["kind"] == "ship" && e["payload"]["to"] == "city-pharmacy"),
            "{e}"
        );
    }
    // another brand, and a pharmacy that never touched it, see none of its history
    assert_eq!(events_of("medidev/qa")["events"], json!([]));
    assert_eq!(events_of("corner-pharmacy/pharmacist")["events"], json!([]));

    // verdicts for any code, custody details only for the holder, the brand owner and regulators
    let verify = "query($c: String!) { verify(code: $c) { verdict holder { id } } }";
    let v = |actor: &str| demo.ok(actor, verify, json!({"c": AMX3}))["verify"].clone();
    assert_eq!(
        v("city-pharmacy/pharmacist"),
        json!({"verdict": "VERIFIED", "holder": {"id": "city-pharmacy"}})
    );
    assert_eq!(
        v("corner-pharmacy/pharmacist"),
        json!({"verdict": "NOT_IN_YOUR_CUSTODY", "holder": null})
    );
    let reason = demo.ok(
        "corner-pharmacy/pharmacist",
        "query($c: String!) { verify(code: $c) { reason } }",
        json!({"c": AMX3}),
    );
    assert!(!reason.to_string().contains("city-pharmacy"), "{reason}");
    assert_eq!(
        v("medicines-agency/inspector")["holder"]["id"],
        "city-pharmacy"
    );
    assert_eq!(v("acme-pharma/qa")["holder"]["id"], "city-pharmacy");

    // the events list: a pharmacy's page holds its own events, ships to it and recalls
    let page = demo.ok(
        "city-pharmacy/pharmacist",
        "{ events(first: 3) { edges { cursor node { kind org payload } } pageInfo { hasNextPage } nextCursor } }",
        json!({}),
    )["events"]
        .clone();
    assert_eq!(page["edges"].as_array().unwrap().len(), 3);
    assert_eq!(page["pageInfo"]["hasNextPage"], true);
    let mut seen = page["edges"].as_array().unwrap().clone();
    let mut after = page["nextCursor"].as_str().unwrap().to_string();
    loop {
        let p = demo.ok(
            "city-pharmacy/pharmacist",
            "query($a: String) { events(first: 3, after: $a) { edges { node { kind org payload } } nextCursor } }",
            json!({"a": after}),
        )["events"]
            .clone();
        seen.extend(p["edges"].as_array().unwrap().iter().cloned());
        match p["nextCursor"].as_str() {
            Some(c) => after = c.to_string(),
            None => break,
        }
    }
    for e in &seen {
        let n = &e["node"];
        assert!(
            n["org"] == "city-pharmacy"
                || n["payload"]["to"] == "city-pharmacy"
                || n["kind"] == "recall",
            "{n}"
        );
    }
    assert!(seen.iter().any(|e| e["node"]["kind"] == "dispense"));
    // the recall's holders: the issuer sees every holder, a holder its own line
    let holders = |actor: &str| {
        demo.ok(
            actor,
            "{ recalls(active: true) { holders { org { id } } } }",
            json!({}),
        )["recalls"][0]["holders"]
            .as_array()
            .unwrap()
            .len()
    };
    assert!(holders("acme-pharma/qa") >= 2);
    assert_eq!(holders("city-pharmacy/pharmacist"), 1);
}
