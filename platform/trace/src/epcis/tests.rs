//! The CBV 2.0 event hash against the reference implementation's vectors in
//! `../shared/conformance/epcis-event-hash` (skipped with a notice when absent).

use super::*;
use serde_json::Value;
use std::path::PathBuf;

fn vectors() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/conformance/epcis-event-hash");
    if dir.join("manifest.jsonl").exists() {
        Some(dir)
    } else {
        println!(
            "notice: {} is absent; EPCIS hash vectors skipped",
            dir.display()
        );
        None
    }
}

fn events(doc: &Value) -> Vec<Value> {
    let body = &doc["epcisBody"];
    let list = body
        .get("eventList")
        .or_else(|| body.pointer("/queryResults/resultsBody/eventList"))
        .cloned()
        .unwrap_or(Value::Null);
    match list {
        Value::Array(a) => a,
        Value::Object(_) => vec![list],
        _ => vec![],
    }
}

#[test]
fn event_hashes_match_the_reference_vectors() {
    let Some(dir) = vectors() else { return };
    let manifest = std::fs::read_to_string(dir.join("manifest.jsonl")).unwrap();
    let (mut passed, mut skipped, mut failed) = (0, 0, Vec::new());
    for line in manifest.lines() {
        let m: Value = serde_json::from_str(line).unwrap();
        if m["kind"] == "epcis_event_hash_all_equal" && m["format"] != "xml" {
            let path = dir.join(m["document"].as_str().unwrap());
            let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
            let p = Prefixes::of_document(&doc);
            let hashes: Vec<String> = events(&doc)
                .iter()
                .map(|e| event_hash(e, &p).unwrap())
                .collect();
            assert!(
                hashes.len() > 1 && hashes.iter().all(|h| *h == hashes[0]),
                "{}",
                m["document"]
            );
            passed += hashes.len();
            continue;
        }
        if m["kind"] != "epcis_event_hash"
            || !matches!(m["format"].as_str(), Some("jsonld" | "json"))
        {
            continue;
        }
        let doc: Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join(m["document"].as_str().unwrap())).unwrap(),
        )
        .unwrap();
        let prefixes = Prefixes::of_document(&doc);
        let expect: Vec<&str> = m["expect"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let pre_file = m["prehashes_file"]
            .as_str()
            .map(|f| std::fs::read_to_string(dir.join(f)).unwrap_or_default());
        for (i, e) in events(&doc).iter().enumerate() {
            match event_hash(e, &prefixes) {
                Err(u) => {
                    skipped += 1;
                    println!("skip {} #{i}: {u}", m["document"]);
                }
                Ok(h) if expect.get(i) == Some(&h.as_str()) => passed += 1,
                Ok(h) => {
                    let want_pre = pre_file
                        .as_deref()
                        .and_then(|p| p.lines().nth(i))
                        .unwrap_or("");
                    failed.push(format!(
                        "{} #{i}: got {h}\n  ours: {}\n  want: {want_pre}",
                        m["document"],
                        prehash(e, &prefixes).unwrap()
                    ));
                }
            }
        }
    }
    println!("EPCIS event hash vectors: {passed} passed, {skipped} skipped (not covered)");
    assert!(failed.is_empty(), "{}", failed.join("\n"));
    assert!(passed >= 10, "only {passed} vectors checked");
}

#[test]
fn openepcis_documents_hash_and_import_without_panicking() {
    let dir =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/openepcis");
    let Ok(manifest) = std::fs::read_to_string(dir.join("manifest.jsonl")) else {
        println!(
            "notice: {} is absent; openepcis documents skipped",
            dir.display()
        );
        return;
    };
    let d = fixtures::demo(&fixtures::PeerLayout::Single {
        endpoint: "http://127.0.0.1:1".into(),
    });
    let (mut docs, mut hashed, mut imported, mut events_seen) = (0, 0, 0, 0);
    for line in manifest.lines() {
        let m: Value = serde_json::from_str(line).unwrap();
        if m["format"] != "json" && m["format"] != "jsonld" {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(dir.join(m["path"].as_str().unwrap())) else {
            continue;
        };
        let Ok(doc) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        docs += 1;
        let prefixes = Prefixes::of_document(&doc);
        for e in events(&doc) {
            events_seen += 1;
            if let Ok(h) = event_hash(&e, &prefixes) {
                assert!(h.starts_with("ni:///sha-256;") && h.ends_with("?ver=CBV2.0"));
                hashed += 1;
            }
            if from_epcis(&e, &d.consortium).is_ok() {
                imported += 1;
            }
        }
    }
    println!(
        "openepcis: {docs} JSON documents, {events_seen} events, {hashed} hashed, {imported} imported as trace events"
    );
    assert!(docs > 0 && hashed > 0);
}
