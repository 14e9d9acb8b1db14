//! FHIR claims end to end on a real server: a pack is dispensed and a pacemaker
//! implanted; the pharmacy and the hospital send FHIR Claims to `POST /fhir/Claim` and get
//! the adjudicated ClaimResponse back (the demo peer holds the payer's key, so it
//! adjudicates at once); the same claim again is refused as a duplicate, and the same pack
//! on a new claim is denied as double billing. Then the same module through GraphQL:
//! reading, listing, submitting from lines and adjudicating, each with its role checks.

use e2e::Peer;
use fixtures::{PeerLayout, demo};
use ledger::hash::sha256;
use serde_json::{Value, json};
use std::time::Duration;

const DRUG: &str = "00614141100019";
const DEVICE: &str = "00860001200010";
const EVENT_URL: &str = "https://pedigree.dev/fhir/StructureDefinition/ledger-event";
const SERIAL_URL: &str = "https://pedigree.dev/fhir/StructureDefinition/serial-number";

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn read(r: Result<ureq::Response, ureq::Error>) -> (u16, Value) {
    let (status, resp) = match r {
        Ok(resp) => (resp.status(), resp),
        Err(ureq::Error::Status(s, resp)) => (s, resp),
        Err(e) => return (0, Value::String(e.to_string())),
    };
    let text = resp.into_string().unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

struct Demo {
    peer: Peer,
    creds: Value,
    keys: fixtures::Demo,
}

impl Demo {
    fn token(&self, actor: &str) -> String {
        self.creds["actors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == actor)
            .unwrap()["token"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Signs and posts one event; its id once committed.
    fn commit(&self, actor: &str, module: &str, kind: &str, payload: Value) -> String {
        let e = self
            .keys
            .signer(actor)
            .event(module, kind, payload)
            .to_json_value();
        let (status, body) = self.peer.post("/events", &json!([e]));
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["events"][0]["status"], "committed", "{body}");
        body["events"][0]["id"].as_str().unwrap().to_string()
    }

    fn post_fhir(&self, actor: Option<&str>, body: &Value) -> (u16, Value) {
        let mut req = ureq::post(&format!("{}/fhir/Claim", self.peer.url))
            .set("content-type", "application/fhir+json")
            .timeout(Duration::from_secs(15));
        if let Some(a) = actor {
            req = req.set("authorization", &format!("Bearer {}", self.token(a)));
        }
        read(req.send_json(body.clone()))
    }

    /// A GraphQL request as `actor`: `(data, first error code)`.
    fn gql(&self, actor: &str, query: &str, variables: Value) -> (Value, Option<String>) {
        let (status, body) = read(
            ureq::post(&format!("{}/graphql", self.peer.url))
                .set("authorization", &format!("Bearer {}", self.token(actor)))
                .timeout(Duration::from_secs(15))
                .send_json(json!({"query": query, "variables": variables})),
        );
        assert_eq!(status, 200, "{body}");
        let code = body["errors"][0]["extensions"]["code"]
            .as_str()
            .map(str::to_string);
        (body["data"].clone(), code)
    }
}

fn fhir_claim(number: &str, provider: &str, patient: &str, items: Vec<Value>) -> Value {
    json!({
        "resourceType": "Claim",
        "identifier": [{"system": "http://billing.example/claims", "value": number}],
        "status": "active",
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": "pharmacy"}]},
        "use": "claim",
        "patient": {"identifier": {"system": "urn:pedigree:patient-ref", "value": patient}},
        "created": "2026-11-23",
        "insurer": {"reference": "Organization/carehealth"},
        "provider": {"identifier": {"system": "urn:pedigree:org", "value": provider}},
        "priority": {"coding": [{"code": "normal"}]},
        "insurance": [{"sequence": 1, "focal": true, "coverage": {"display": "CareHealth"}}],
        "item": items,
    })
}

fn drug_item(serial: &str, event: &str, euros: f64) -> Value {
    json!({
        "sequence": 1,
        "productOrService": {"coding": [{"system": "https://www.gs1.org/gtin", "code": DRUG}]},
        "servicedDate": today(),
        "net": {"value": euros, "currency": "EUR"},
        "extension": [
            {"url": EVENT_URL, "valueIdentifier": {"system": "urn:pedigree:event", "value": event}},
            {"url": SERIAL_URL, "valueString": serial},
        ],
    })
}

/// Today's date, UTC, as a FHIR `date` (civil-from-days, Howard Hinnant's algorithm).
fn today() -> String {
    let z = now().div_euclid(86_400_000) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

fn reasons(response: &Value) -> Vec<String> {
    response["item"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            i["adjudication"][1]["reason"]["coding"][0]["code"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

#[test]
fn dispense_fhir_claim_adjudicated_then_duplicate_refused_and_graphql() {
    let dir = tempfile::tempdir().unwrap();
    let peer = Peer::serve(&dir.path().join("peer"), &["--demo"]).unwrap();
    let creds: Value = serde_json::from_slice(
        &std::fs::read(dir.path().join("peer/demo-credentials.json")).unwrap(),
    )
    .unwrap();
    let d = Demo {
        peer,
        creds,
        keys: demo(&PeerLayout::Single {
            endpoint: String::new(),
        }),
    };
    let tag = now() % 1_000_000;
    let (pack, other) = (format!("FC{tag}"), format!("FD{tag}"));
    let unit = |s: &str| format!("(01){DRUG}(21){s}");
    d.commit(
        "acme-pharma/qa",
        "trace",
        "commission",
        json!({"gtin": DRUG, "lot": "L2611", "expiry": "2030-01-31", "serials": [pack, other]}),
    );
    d.commit(
        "acme-pharma/qa",
        "trace",
        "ship",
        json!({"codes": [unit(&pack), unit(&other)], "to": "city-pharmacy"}),
    );
    d.commit(
        "city-pharmacy/pharmacist",
        "trace",
        "receive",
        json!({"codes": [unit(&pack), unit(&other)]}),
    );
    let dispensed = d.commit(
        "city-pharmacy/pharmacist",
        "trace",
        "dispense",
        json!({"codes": [unit(&pack)]}),
    );
    let dispensed_other = d.commit(
        "city-pharmacy/pharmacist",
        "trace",
        "dispense",
        json!({"codes": [unit(&other)]}),
    );
    let patient = sha256(format!("fhir claims patient {tag}").as_bytes()).to_hex();
    d.commit(
        "st-mary/admin",
        "consent",
        "grant",
        json!({
            "patient": patient, "grantee": {"org": "carehealth"}, "purposes": ["payment"],
            "categories": ["medication", "device"], "start": now() - 86_400_000, "end": null,
        }),
    );

    // --- POST /fhir/Claim: who may, and what comes back
    let claim = fhir_claim(
        "FHIR-1",
        "city-pharmacy",
        &patient,
        vec![drug_item(&pack, &dispensed, 42.5)],
    );
    let (status, body) = d.post_fhir(None, &claim);
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("UNAUTHENTICATED"))
    );
    let (status, body) = d.post_fhir(Some("carehealth/adjudicator"), &claim);
    assert_eq!((status, body["code"].as_str()), (403, Some("FORBIDDEN")));
    let (status, body) = d.post_fhir(Some("corner-pharmacy/pharmacist"), &claim);
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("FHIR_PROVIDER_MISMATCH")),
        "{body}"
    );
    let mut no_event = claim.clone();
    no_event["item"][0]["extension"] = json!([{"url": SERIAL_URL, "valueString": pack}]);
    let (status, body) = d.post_fhir(Some("city-pharmacy/pharmacist"), &no_event);
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("FHIR_NO_LEDGER_EVENT"))
    );

    let (status, response) = d.post_fhir(Some("city-pharmacy/pharmacist"), &claim);
    assert_eq!(status, 200, "{response}");
    assert_eq!(response["resourceType"], "ClaimResponse");
    assert_eq!(response["outcome"], "complete", "{response}");
    assert_eq!(reasons(&response), ["APPROVED"]);
    assert_eq!(
        response["item"][0]["adjudication"][1]["amount"]["value"],
        42.5
    );
    assert_eq!(response["request"]["identifier"]["value"], "FHIR-1");
    let id = response["id"].as_str().unwrap().to_string();

    // the response and the claim read back, only by the parties and regulators
    let path = format!("/fhir/ClaimResponse/{id}");
    let (status, again) = d.peer.get_as(&path, &d.token("carehealth/adjudicator"));
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["outcome"], "complete");
    assert_eq!(again["extension"][0]["url"], EVENT_URL);
    let (status, _) = d.peer.get_as(&path, &d.token("medicines-agency/inspector"));
    assert_eq!(status, 200);
    let (status, body) = d.peer.get_as(&path, &d.token("corner-pharmacy/pharmacist"));
    assert_eq!((status, body["code"].as_str()), (403, Some("FORBIDDEN")));
    let (status, body) = d.peer.get(&path);
    assert_eq!(status, 401, "{body}");
    let (status, body) = d.peer.get_as(
        &format!("/fhir/ClaimResponse/{}", "0".repeat(64)),
        &d.token("carehealth/adjudicator"),
    );
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("UNKNOWN_CLAIM"))
    );
    let (status, exported) = d.peer.get_as(
        &format!("/fhir/Claim/{id}"),
        &d.token("city-pharmacy/pharmacist"),
    );
    assert_eq!(status, 200, "{exported}");
    assert_eq!(
        exported["item"][0]["extension"][0]["valueIdentifier"]["value"],
        dispensed
    );

    // the same claim again is refused as a duplicate; the same pack on a new claim is
    // double billing
    let (status, body) = d.post_fhir(Some("city-pharmacy/pharmacist"), &claim);
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("DUPLICATE_CLAIM")),
        "{body}"
    );
    let rebill = fhir_claim(
        "FHIR-2",
        "city-pharmacy",
        &patient,
        vec![drug_item(&pack, &dispensed, 42.5)],
    );
    let (status, response) = d.post_fhir(Some("city-pharmacy/pharmacist"), &rebill);
    assert_eq!(status, 200, "{response}");
    assert_eq!(response["outcome"], "error");
    assert_eq!(reasons(&response), ["DUPLICATE_BILLING"]);

    // --- a device line: the hospital implants a pacemaker and claims it with its UDI
    let device_serial = format!("PMX{tag}");
    let device = format!("(01){DEVICE}(21){device_serial}");
    d.commit(
        "medidev/qa",
        "trace",
        "commission",
        json!({"gtin": DEVICE, "lot": "CP2611", "expiry": "2031-01-31", "serials": [device_serial], "device": true}),
    );
    d.commit(
        "medidev/qa",
        "trace",
        "ship",
        json!({"codes": [device], "to": "st-mary"}),
    );
    d.commit(
        "st-mary/pharmacist",
        "trace",
        "receive",
        json!({"codes": [device]}),
    );
    let implanted = d.commit(
        "st-mary/surgeon",
        "trace",
        "implant",
        json!({"code": device, "patient": patient}),
    );
    let mut hospital = fhir_claim(
        "IMPL-1",
        "st-mary",
        &patient,
        vec![json!({
            "sequence": 1,
            "productOrService": {"coding": [{"system": "https://www.gs1.org/gtin", "code": DEVICE}]},
            "servicedDate": today(),
            "net": {"value": 9800},
            "udi": [{"reference": "#pm"}],
            "extension": [{"url": EVENT_URL, "valueIdentifier": {"system": "urn:pedigree:event", "value": implanted}}],
        })],
    );
    hospital["contained"] = json!([{
        "resourceType": "Device", "id": "pm",
        "udiCarrier": [{"deviceIdentifier": DEVICE, "carrierHRF": device}],
    }]);
    let (status, response) = d.post_fhir(Some("st-mary/pharmacist"), &hospital);
    assert_eq!(status, 200, "{response}");
    assert_eq!(response["outcome"], "complete", "{response}");
    assert_eq!(response["type"]["coding"][0]["code"], "institutional");

    // --- GraphQL
    let one = "query($p: String!, $id: String!) { claim(provider: $p, id: $id) { id status outcome payer { id } approvedCents lines { serial decision { approved reason } } claimResponse } }";
    let (data, code) = d.gql(
        "carehealth/adjudicator",
        one,
        json!({"p": "city-pharmacy", "id": "FHIR-1"}),
    );
    assert_eq!(code, None, "{data}");
    assert_eq!(data["claim"]["outcome"], "APPROVED");
    assert_eq!(data["claim"]["approvedCents"], 4250);
    assert_eq!(data["claim"]["payer"]["id"], "carehealth");
    assert_eq!(data["claim"]["lines"][0]["decision"]["reason"], "APPROVED");
    assert_eq!(data["claim"]["claimResponse"]["id"], id.as_str());
    let (_, code) = d.gql(
        "corner-pharmacy/pharmacist",
        one,
        json!({"p": "city-pharmacy", "id": "FHIR-1"}),
    );
    assert_eq!(code.as_deref(), Some("FORBIDDEN"));
    let (_, code) = d.gql(
        "city-pharmacy/pharmacist",
        one,
        json!({"p": "city-pharmacy", "id": "NOPE"}),
    );
    assert_eq!(code.as_deref(), Some("NOT_FOUND"));

    let list =
        "query($p: String, $y: String) { claims(provider: $p, payer: $y) { id provider { id } } }";
    let (data, _) = d.gql("city-pharmacy/pharmacist", list, json!({}));
    let ids: Vec<&str> = data["claims"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"FHIR-1") && ids.contains(&"FHIR-2"), "{data}");
    assert!(!ids.contains(&"IMPL-1"));
    let (data, _) = d.gql("carehealth/adjudicator", list, json!({}));
    assert!(data["claims"].as_array().unwrap().len() >= 3, "{data}");
    // another pharmacy sees none of them; a regulator must say whose
    let (data, _) = d.gql(
        "corner-pharmacy/pharmacist",
        list,
        json!({"p": "city-pharmacy"}),
    );
    assert_eq!(data["claims"], json!([]));
    let (_, code) = d.gql("medicines-agency/inspector", list, json!({}));
    assert_eq!(code.as_deref(), Some("BAD_INPUT"));
    let (data, _) = d.gql(
        "medicines-agency/inspector",
        list,
        json!({"y": "carehealth"}),
    );
    assert!(data["claims"].as_array().unwrap().len() >= 3);

    // submit from lines (one real, one phantom), then the payer adjudicates
    let submit = "mutation($input: ClaimInput, $fhir: JSON) { submitClaim(input: $input, fhir: $fhir) { id status outcome } }";
    let today = today();
    let input = json!({"input": {"id": "GQL-1", "patient": patient, "payer": "carehealth", "lines": [
        {"sequence": 1, "kind": "DRUG", "gtin": DRUG, "serial": other, "event": dispensed_other, "date": today, "amountCents": 990},
        {"sequence": 2, "kind": "DRUG", "gtin": DRUG, "serial": "NEVER-HELD", "event": dispensed_other, "date": today, "amountCents": 990},
    ]}});
    let (_, code) = d.gql("carehealth/adjudicator", submit, input.clone());
    assert_eq!(code.as_deref(), Some("FORBIDDEN"));
    let (data, code) = d.gql("city-pharmacy/pharmacist", submit, input);
    assert_eq!(code, None, "{data}");
    assert_eq!(data["submitClaim"]["status"], "SUBMITTED");
    let adjudicate = "mutation($p: String!, $id: String!) { adjudicateClaim(provider: $p, id: $id) { outcome lines { decision { reason approvedCents } } } }";
    let args = json!({"p": "city-pharmacy", "id": "GQL-1"});
    let (_, code) = d.gql("city-pharmacy/pharmacist", adjudicate, args.clone());
    assert_eq!(code.as_deref(), Some("FORBIDDEN"));
    let (data, code) = d.gql("carehealth/adjudicator", adjudicate, args.clone());
    assert_eq!(code, None, "{data}");
    assert_eq!(data["adjudicateClaim"]["outcome"], "PARTIAL");
    let lines = &data["adjudicateClaim"]["lines"];
    assert_eq!(lines[0]["decision"]["reason"], "APPROVED");
    assert_eq!(lines[1]["decision"]["reason"], "PHANTOM_DISPENSE");
    let (_, code) = d.gql("carehealth/adjudicator", adjudicate, args);
    assert_eq!(code.as_deref(), Some("ALREADY_ADJUDICATED"));

    // a FHIR Claim through GraphQL: refused with the same codes as over HTTP
    let (_, code) = d.gql(
        "city-pharmacy/pharmacist",
        submit,
        json!({"fhir": no_event}),
    );
    assert_eq!(code.as_deref(), Some("FHIR_NO_LEDGER_EVENT"));
    let (_, code) = d.gql("city-pharmacy/pharmacist", submit, json!({"fhir": claim}));
    assert_eq!(code.as_deref(), Some("DUPLICATE_CLAIM"));
}
