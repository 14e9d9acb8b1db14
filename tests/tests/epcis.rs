//! EPCIS 2.0 against the real binary: `pedigree epcis import` of a document built from
//! the demo's products commits its events; importing it again refuses every event as a
//! duplicate; `pedigree epcis export --code` gives the events back under the CBV 2.0
//! hashes they were imported with, to those who may see them; and every JSON document of
//! the openepcis test set in `../shared/conformance/` is imported or refused per event with
//! a code and a reason (skipped with a notice when the folder is absent).

use e2e::{Peer, pedigree, workspace_root};
use serde_json::{Value, json};
use std::path::Path;
use std::process::Output;
use std::time::Duration;

const ACME: &str = "acme-pharma/line-1";

fn epc(serial: &str) -> String {
    format!("https://id.gs1.org/01/00614141100019/21/{serial}")
}

/// Commission two packs at Acme's site, pack them into a case, ship it to Northwind, and
/// one event the trace model does not record.
fn document() -> Value {
    let case = "urn:epc:id:sscc:0614141.0999990042";
    json!({
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-01-01T00:00:00Z",
        "epcisBody": {"eventList": [
            {"type": "ObjectEvent", "eventTime": "2026-01-01T08:00:00.000Z",
             "eventTimeZoneOffset": "+01:00", "epcList": [epc("EPC-A1"), epc("EPC-A2")],
             "action": "ADD", "bizStep": "commissioning", "disposition": "active",
             "bizLocation": {"id": "urn:epc:id:sgln:0614141.00001.0"},
             "ilmd": {"cbvmda:lotNumber": "LOT-E2E", "cbvmda:itemExpirationDate": "2028-06-30"}},
            {"type": "AggregationEvent", "eventTime": "2026-01-01T08:01:00.000Z",
             "eventTimeZoneOffset": "+01:00", "parentID": case,
             "childEPCs": [epc("EPC-A1"), epc("EPC-A2")], "action": "ADD",
             "bizStep": "urn:epcglobal:cbv:bizstep:packing", "disposition": "in_progress"},
            {"type": "ObjectEvent", "eventTime": "2026-01-01T09:00:00.000Z",
             "eventTimeZoneOffset": "+01:00", "epcList": [case], "action": "OBSERVE",
             "bizStep": "shipping", "disposition": "in_transit",
             "sourceList": [{"type": "owning_party", "source": "https://id.gs1.org/417/0614141000012"}],
             "destinationList": [{"type": "owning_party", "destination": "https://id.gs1.org/417/0500001000011"}]},
        ]}
    })
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn cli(args: &[&str], data: &Path, actor: &str) -> Output {
    let mut all: Vec<&str> = args.to_vec();
    let data = data.to_str().unwrap();
    all.extend(["--data-dir", data, "--actor", actor]);
    pedigree(&all)
}

fn token(data: &Path, actor: &str) -> String {
    let text = std::fs::read_to_string(data.join("demo-credentials.json")).unwrap();
    let c: Value = serde_json::from_str(&text).unwrap();
    c["actors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == actor)
        .unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string()
}

fn capture(peer: &Peer, token: &str, body: &[u8]) -> (u16, Value) {
    let r = ureq::post(&format!("{}/epcis/capture", peer.url))
        .set("authorization", &format!("Bearer {token}"))
        .set("content-type", "application/ld+json")
        .timeout(Duration::from_secs(60))
        .send_bytes(body);
    let resp = match r {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("capture failed: {e}"),
    };
    let status = resp.status();
    (status, resp.into_json().expect("a JSON answer"))
}

fn strings(v: &Value, field: &str) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|e| e[field].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn import_commits_once_refuses_duplicates_and_exports_the_same_hashes() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("peer");
    let peer = Peer::serve(&data, &["--demo"]).unwrap();
    let file = tmp.path().join("doc.jsonld");
    std::fs::write(&file, serde_json::to_vec(&document()).unwrap()).unwrap();
    let file = file.to_str().unwrap();

    let out = cli(&["epcis", "import", file], &data, ACME);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let first = json_of(&out);
    assert_eq!(first["committed"], 3);
    let events = &first["events"];
    assert_eq!(strings(events, "status"), ["committed"; 3]);
    assert_eq!(strings(events, "kind"), ["commission", "pack", "ship"]);
    let hashes = strings(events, "hash");
    let ids = strings(events, "id");
    for (h, id) in hashes.iter().zip(&ids) {
        assert!(
            h.starts_with("ni:///sha-256;") && h.ends_with("?ver=CBV2.0"),
            "{h}"
        );
        assert_eq!(id.len(), 64);
    }
    assert!(
        events
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["block_height"].as_u64() > Some(0))
    );

    // the same document again: every event refused as a duplicate of the first import
    let out = cli(&["epcis", "import", file], &data, ACME);
    assert_eq!(out.status.code(), Some(1));
    let again = json_of(&out);
    assert_eq!(again["committed"], 0);
    assert_eq!(again["code"], "DUPLICATE_EPCIS_EVENT");
    assert_eq!(
        strings(&again["events"], "code"),
        ["DUPLICATE_EPCIS_EVENT"; 3]
    );
    assert_eq!(strings(&again["events"], "duplicate_of"), ids);
    assert_eq!(strings(&again["events"], "hash"), hashes);

    // exported by code: the events under the hashes they were imported with
    let out = cli(
        &["epcis", "export", "--code", "(01)00614141100019(21)EPC-A1"],
        &data,
        ACME,
    );
    assert_eq!(out.status.code(), Some(0));
    let doc = json_of(&out);
    assert_eq!(doc["type"], "EPCISDocument");
    let list = &doc["epcisBody"]["eventList"];
    assert_eq!(strings(list, "eventID"), hashes);
    assert_eq!(
        strings(list, "type"),
        ["ObjectEvent", "AggregationEvent", "ObjectEvent"]
    );

    // the receiver sees the shipment; a pharmacy that was never party sees nothing
    let (status, doc) = peer.get_as(
        "/epcis/events?code=(01)00614141100019(21)EPC-A1",
        &token(&data, "northwind/warehouse"),
    );
    assert_eq!(status, 200);
    assert_eq!(
        strings(&doc["epcisBody"]["eventList"], "eventID"),
        [hashes[2].clone()]
    );
    let (status, doc) = peer.get_as(
        "/epcis/events?code=(01)00614141100019(21)EPC-A1",
        &token(&data, "city-pharmacy/pharmacist"),
    );
    assert_eq!(status, 200);
    assert_eq!(doc["epcisBody"]["eventList"], json!([]));

    // by time: everything since the first import's block, for a regulator
    let out = cli(
        &["epcis", "export", "--since", "2020-01-01T00:00:00Z"],
        &data,
        "medicines-agency/inspector",
    );
    assert_eq!(out.status.code(), Some(0));
    let all = strings(&json_of(&out)["epcisBody"]["eventList"], "eventID");
    assert!(hashes.iter().all(|h| all.contains(h)), "{all:?}");

    // without a token, or with a wrong one
    let (status, body) = peer.get("/epcis/events?code=(01)00614141100019(21)EPC-A1");
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("UNAUTHENTICATED"))
    );
    let (status, body) = capture(&peer, "pdg_wrong", b"{}");
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("UNAUTHENTICATED"))
    );
    // not a document; neither or both query parameters
    let acme = token(&data, ACME);
    let (status, body) = capture(&peer, &acme, br#"{"type": "ObjectEvent"}"#);
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("EPCIS_BAD_DOCUMENT"))
    );
    let (status, body) = peer.get_as("/epcis/events", &acme);
    assert_eq!((status, body["code"].as_str()), (400, Some("BAD_QUERY")));
    // a member imports as itself: not at Acme's site, and a pharmacist does not commission
    let pharmacist = token(&data, "city-pharmacy/pharmacist");
    let mut doc = document();
    let (status, body) = capture(&peer, &pharmacist, &serde_json::to_vec(&doc).unwrap());
    assert_eq!(status, 422);
    assert_eq!(body["events"][0]["code"], "EPCIS_WRONG_PARTY");
    doc["epcisBody"]["eventList"][0]
        .as_object_mut()
        .unwrap()
        .remove("bizLocation");
    let (status, body) = capture(&peer, &pharmacist, &serde_json::to_vec(&doc).unwrap());
    assert_eq!(status, 422);
    assert_eq!(body["events"][0]["code"], "FORBIDDEN");

    // usage and connection errors exit 2
    let out = pedigree(&[
        "epcis",
        "import",
        "/nonexistent/doc.json",
        "--token",
        "t",
        "--url",
        &peer.url,
    ]);
    assert_eq!(out.status.code(), Some(2));
    let out = pedigree(&[
        "epcis",
        "import",
        file,
        "--token",
        "t",
        "--url",
        "http://127.0.0.1:1",
    ]);
    assert_eq!(out.status.code(), Some(2));
}

/// A stable code: capture's own (`EPCIS_...`), the trace module's or the role check's,
/// all UPPER_SNAKE_CASE.
fn known(code: &str) -> bool {
    !code.is_empty() && code.chars().all(|c| c.is_ascii_uppercase() || c == '_')
}

#[test]
fn openepcis_documents_import_or_are_refused_with_reasons() {
    let dir = workspace_root().join("../shared/conformance/openepcis");
    let Ok(manifest) = std::fs::read_to_string(dir.join("manifest.jsonl")) else {
        println!(
            "notice: {} is absent; openepcis documents skipped",
            dir.display()
        );
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("peer");
    let mut peer = Peer::serve(&data, &["--demo"]).unwrap();
    // Acme owns GS1's example company prefix 0614141, which the examples use
    let acme = token(&data, ACME);
    let (mut documents, mut committed, mut refused) = (0, 0, 0);
    let mut by_code: std::collections::BTreeMap<String, usize> = Default::default();
    for line in manifest.lines() {
        let m: Value = serde_json::from_str(line).unwrap();
        if m["format"] != "json" && m["format"] != "jsonld" {
            continue;
        }
        let Ok(bytes) = std::fs::read(dir.join(m["path"].as_str().unwrap())) else {
            continue;
        };
        let (status, body) = capture(&peer, &acme, &bytes);
        documents += 1;
        assert!(
            [200, 400, 422].contains(&status),
            "{}: HTTP {status} {body}",
            m["path"]
        );
        if status == 400 {
            // the whole document: not JSON, or not an EPCISDocument with events
            assert!(known(body["code"].as_str().unwrap()), "{body}");
            assert!(!body["message"].as_str().unwrap().is_empty());
            *by_code
                .entry(body["code"].as_str().unwrap().to_string())
                .or_default() += 1;
            continue;
        }
        for e in body["events"].as_array().unwrap() {
            match e["status"].as_str() {
                Some("committed") => {
                    committed += 1;
                    assert!(e["hash"].as_str().unwrap().starts_with("ni:///sha-256;"));
                }
                Some("refused") => {
                    refused += 1;
                    let code = e["code"].as_str().unwrap();
                    assert!(known(code), "{}: {e}", m["path"]);
                    assert!(!e["message"].as_str().unwrap().is_empty(), "{e}");
                    *by_code.entry(code.to_string()).or_default() += 1;
                }
                other => panic!("{}: event status {other:?}: {e}", m["path"]),
            }
        }
    }
    println!(
        "openepcis: {documents} JSON documents, {committed} events committed, {refused} refused: {by_code:?}"
    );
    assert!(documents > 0);
    assert!(committed + refused > 0);
    // the chain still audits after all of it
    peer.stop();
    let out = pedigree(&["audit", "--data-dir", data.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
