//! Imported EPCIS events: the CBV 2.0 hash an event carries is recorded at apply, and a
//! second event with the same hash is refused as a duplicate at admission and at apply;
//! capture reads a document for the importing organisation or says why not.

use super::*;
use crate::codes::{BAD_EPCIS_HASH, DUPLICATE_EPCIS_EVENT, NOT_HOLDER};
use crate::epcis::capture::codes::*;
use crate::epcis::{EpcisHash, Prefixes, capture, event_hash};
use proptest::prelude::*;
use serde_json::{Value, json};

fn hash(n: u8) -> EpcisHash {
    format!("ni:///sha-256;{}?ver=CBV2.0", hex::encode([n; 32]))
        .parse()
        .unwrap()
}

fn imported(net: &mut Net, actor: &str, ev: &TraceEvent, h: &EpcisHash) -> Envelope {
    net.sign_raw(actor, ev.kind(), ev.payload_imported(h))
}

fn recorded(net: &Net, h: &EpcisHash) -> Option<EventId> {
    crate::epcis::capture::imported(&net.ledger, h).unwrap()
}

#[test]
fn the_same_epcis_event_twice_is_refused_naming_the_first() {
    let mut net = Net::new();
    let ev = commission(AMOX, "LOT1", "2027-06-30", &["E1", "E2"]);
    let first = imported(&mut net, "acme-pharma/line-1", &ev, &hash(1));
    let first_id = first.id();
    assert_eq!(net.submit(vec![first]), vec![Ok(None)]);
    assert_eq!(recorded(&net, &hash(1)), Some(first_id));

    // Another envelope (new nonce), same EPCIS event: named a duplicate before the
    // commission rules could call it SERIAL_EXISTS.
    let again = imported(&mut net, "acme-pharma/line-1", &ev, &hash(1));
    let refusal = net.ledger.admit(vec![again]).pop().unwrap().unwrap_err();
    assert_eq!(refusal.code, DUPLICATE_EPCIS_EVENT);
    assert!(
        refusal.message.contains(&first_id.to_hex()),
        "{}",
        refusal.message
    );
    let again = imported(&mut net, "acme-pharma/line-1", &ev, &hash(1));
    assert_eq!(
        net.commit_raw(vec![again]),
        vec![Some(DUPLICATE_EPCIS_EVENT.to_string())]
    );
    assert_eq!(recorded(&net, &hash(1)), Some(first_id));
    net.audit();
}

#[test]
fn a_duplicate_in_the_same_block_is_refused_at_apply() {
    let mut net = Net::new();
    let a = commission(AMOX, "LOT1", "2027-06-30", &["E1"]);
    let b = commission(AMOX, "LOT1", "2027-06-30", &["E2"]);
    let ea = imported(&mut net, "acme-pharma/line-1", &a, &hash(7));
    let eb = imported(&mut net, "acme-pharma/line-1", &b, &hash(7));
    let first_id = ea.id();
    // both pass admission (committed state knows neither); the block decides
    assert_eq!(
        net.submit(vec![ea, eb]),
        vec![Ok(None), Ok(Some(DUPLICATE_EPCIS_EVENT.to_string()))]
    );
    assert_eq!(recorded(&net, &hash(7)), Some(first_id));
    // the refused one changed nothing
    assert!(
        crate::unit(&net.ledger, &item(AMOX, "E2"))
            .unwrap()
            .is_none()
    );
}

#[test]
fn a_refused_import_records_no_hash() {
    let mut net = Net::new();
    let items = net.commission(AMOX, "LOT1", "2027-06-30", &["E1"]);
    // Northwind does not hold the pack: refused, and the hash stays free
    let ship_wrong = ship(&items, "city-pharmacy");
    let e = imported(&mut net, "northwind/warehouse", &ship_wrong, &hash(3));
    assert_eq!(net.commit_raw(vec![e]), vec![Some(NOT_HOLDER.to_string())]);
    assert_eq!(recorded(&net, &hash(3)), None);
    let e = imported(&mut net, "acme-pharma/line-1", &ship_wrong, &hash(3));
    assert_eq!(net.submit(vec![e]), vec![Ok(None)]);
    assert!(recorded(&net, &hash(3)).is_some());
}

#[test]
fn a_malformed_hash_is_refused_and_events_without_one_still_work() {
    let mut net = Net::new();
    let ev = commission(AMOX, "LOT1", "2027-06-30", &["E1"]);
    for bad in [
        json!("ni:///sha-256;ABC?ver=CBV2.0"),
        json!(format!("ni:///sha-256;{}?ver=CBV1.0", "a".repeat(64))),
        json!(42),
    ] {
        let mut payload = ev.payload();
        payload["epcis_hash"] = bad.clone();
        let e = net.sign_raw("acme-pharma/line-1", "commission", payload);
        assert_eq!(
            net.submit(vec![e]),
            vec![Err(BAD_EPCIS_HASH.to_string())],
            "{bad}"
        );
    }
    net.ok("acme-pharma/line-1", ev);
}

// ---- capture ----

const ACME_SITE: &str = "urn:epc:id:sgln:0614141.00001.0";
const NORTHWIND_PARTY: &str = "https://id.gs1.org/417/0500001000011";

fn epc(gtin: &str, serial: &str) -> String {
    format!("https://id.gs1.org/01/{gtin}/21/{serial}")
}

/// Commission two packs, pack them into a case, ship the case to Northwind.
fn sample() -> Value {
    let case = format!("https://id.gs1.org/00/{}", fixtures::generator::sscc(77));
    json!({
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-01-01T00:00:00Z",
        "epcisBody": {"eventList": [
            {"type": "ObjectEvent", "eventTime": "2026-01-01T08:00:00.000Z",
             "eventTimeZoneOffset": "+01:00", "epcList": [epc(AMOX, "C1"), epc(AMOX, "C2")],
             "action": "ADD", "bizStep": "commissioning", "disposition": "active",
             "readPoint": {"id": ACME_SITE}, "bizLocation": {"id": ACME_SITE},
             "ilmd": {"cbvmda:lotNumber": "LOTC", "cbvmda:itemExpirationDate": "2027-06-30"}},
            {"type": "AggregationEvent", "eventTime": "2026-01-01T08:01:00.000Z",
             "eventTimeZoneOffset": "+01:00", "parentID": case,
             "childEPCs": [epc(AMOX, "C1"), epc(AMOX, "C2")], "action": "ADD",
             "bizStep": "packing", "disposition": "in_progress"},
            {"type": "ObjectEvent", "eventTime": "2026-01-01T09:00:00.000Z",
             "eventTimeZoneOffset": "+01:00", "epcList": [case], "action": "OBSERVE",
             "bizStep": "shipping", "disposition": "in_transit",
             "destinationList": [{"type": "owning_party", "destination": NORTHWIND_PARTY}]},
        ]}
    })
}

fn capture_codes(doc: &Value, as_org: &str) -> Vec<Result<String, String>> {
    let d = fixtures::demo(&PeerLayout::Single {
        endpoint: "http://127.0.0.1:1".into(),
    });
    capture(doc, &d.consortium, &org(as_org))
        .unwrap()
        .into_iter()
        .map(|c| match c.outcome {
            Ok(e) => Ok(e.kind().to_string()),
            Err(r) => Err(r.code.into_owned()),
        })
        .collect()
}

#[test]
fn a_document_is_captured_committed_once_and_exported_with_its_hashes() {
    let mut net = Net::new();
    let doc = sample();
    let captured = capture(&doc, &net.demo.consortium, &org("acme-pharma")).unwrap();
    let prefixes = Prefixes::of_document(&doc);
    let list = doc["epcisBody"]["eventList"].as_array().unwrap();
    let mut hashes = Vec::new();
    for (c, e) in captured.iter().zip(list) {
        let h = c.hash.clone().unwrap();
        assert_eq!(h.as_str(), event_hash(e, &prefixes).unwrap());
        hashes.push(h);
        let payload = c.payload().unwrap();
        let kind = c.outcome.as_ref().unwrap().kind();
        let env = net.sign_raw("acme-pharma/line-1", kind, payload);
        assert_eq!(net.submit(vec![env]), vec![Ok(None)], "{kind}");
    }
    // the commission kept the importer's location
    match captured[0].outcome.as_ref().unwrap() {
        TraceEvent::Commission(c) => {
            assert_eq!(
                c.location.as_ref().map(|g| g.as_str()),
                Some("0614141000012")
            )
        }
        other => panic!("{other:?}"),
    }
    // the same document again: every event a duplicate
    for c in &captured {
        let kind = c.outcome.as_ref().unwrap().kind();
        let env = net.sign_raw("acme-pharma/line-1", kind, c.payload().unwrap());
        assert_eq!(
            net.submit(vec![env]),
            vec![Err(DUPLICATE_EPCIS_EVENT.to_string())]
        );
    }
    // exported, each event has the hash it was imported under
    let p = crate::provenance(&net.ledger, "(01)00614141100019(21)C1").unwrap();
    let out = crate::epcis::export(&p, &net.demo.consortium, T0);
    let ids: Vec<&str> = out["epcisBody"]["eventList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["eventID"].as_str().unwrap())
        .collect();
    let want: Vec<&str> = hashes.iter().map(EpcisHash::as_str).collect();
    assert_eq!(ids, want);
    net.audit();
}

fn with_event(change: impl FnOnce(&mut Value)) -> Value {
    let mut doc = sample();
    change(&mut doc["epcisBody"]["eventList"][0]);
    doc
}

#[test]
fn capture_refuses_what_the_model_does_not_keep_with_a_reason() {
    let ok = Ok("commission".to_string());
    assert_eq!(capture_codes(&sample(), "acme-pharma")[0], ok);
    let cases: Vec<(Value, &str)> = vec![
        (
            with_event(|e| e["type"] = "TransformationEvent".into()),
            EPCIS_UNSUPPORTED,
        ),
        (
            with_event(|e| {
                e["quantityList"] =
                    json!([{"epcClass": "urn:epc:class:lgtin:0614141.010001.L1", "quantity": 2}])
            }),
            EPCIS_UNSUPPORTED,
        ),
        (
            with_event(
                |e| e["bizTransactionList"] = json!([{"type": "po", "bizTransaction": "urn:epcglobal:cbv:bt:0614141000012:PO1"}]),
            ),
            EPCIS_UNSUPPORTED,
        ),
        (
            with_event(|e| e["ilmd"]["cbvmda:countryOfOrigin"] = "DE".into()),
            EPCIS_UNSUPPORTED,
        ),
        (
            with_event(|e| e["example:temperature"] = 4.into()),
            EPCIS_UNSUPPORTED,
        ),
        (
            with_event(|e| e["action"] = "OBSERVE".into()),
            EPCIS_UNSUPPORTED,
        ),
        (
            with_event(|e| {
                e.as_object_mut().unwrap().remove("bizStep");
            }),
            EPCIS_UNSUPPORTED,
        ),
        (
            with_event(|e| e["bizLocation"] = json!({"id": "urn:epc:id:sgln:0500001.00001.0"})),
            EPCIS_WRONG_PARTY,
        ),
        (
            with_event(|e| {
                e["eventID"] = format!("ni:///sha-256;{}?ver=CBV2.0", "0".repeat(64)).into()
            }),
            EPCIS_ID_MISMATCH,
        ),
    ];
    for (doc, code) in cases {
        let got = capture_codes(&doc, "acme-pharma");
        assert_eq!(
            got[0],
            Err(code.to_string()),
            "{}",
            doc["epcisBody"]["eventList"][0]
        );
        // the other events are read on their own
        assert_eq!(got[1], Ok("pack".to_string()));
    }
    // a shipment imported by someone who is not its source
    let mut doc = sample();
    doc["epcisBody"]["eventList"][2]["sourceList"] =
        json!([{"type": "owning_party", "source": "https://id.gs1.org/417/0614141000012"}]);
    assert_eq!(
        capture_codes(&doc, "acme-pharma")[2],
        Ok("ship".to_string())
    );
    assert_eq!(
        capture_codes(&doc, "city-pharmacy")[2],
        Err(EPCIS_WRONG_PARTY.to_string())
    );
    // a UUID event id is kept as given
    let doc = with_event(|e| e["eventID"] = "urn:uuid:3d1a5e4c-0000-4000-8000-000000000001".into());
    assert_eq!(capture_codes(&doc, "acme-pharma")[0], ok);
}

#[test]
fn capture_refuses_what_is_not_a_document() {
    let d = fixtures::demo(&PeerLayout::Single {
        endpoint: "http://127.0.0.1:1".into(),
    });
    let o = org("acme-pharma");
    for bad in [
        json!({"type": "ObjectEvent"}),
        json!({"type": "EPCISDocument"}),
        json!({"type": "EPCISDocument", "epcisBody": {"eventList": []}}),
        json!([1, 2]),
    ] {
        let r = capture(&bad, &d.consortium, &o).unwrap_err();
        assert_eq!(r.code, EPCIS_BAD_DOCUMENT, "{bad}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Imports drawn from a pool of four EPCIS events (each a commission of its own
    /// serial), repeated at random and cut into blocks at random: each event is applied
    /// once, by its first copy, every later copy is refused as a duplicate, admission
    /// agrees with apply, and the hash points at the copy that was applied.
    #[test]
    fn each_epcis_event_is_recorded_once(
        picks in proptest::collection::vec(0u8..4, 1..14),
        cuts in proptest::collection::vec(any::<bool>(), 14),
    ) {
        let mut net = Net::new();
        let mut first: std::collections::BTreeMap<u8, EventId> = Default::default();
        let mut block: Vec<(u8, Envelope)> = Vec::new();
        for (i, &p) in picks.iter().enumerate() {
            let serial = format!("P{p}");
            let ev = commission(AMOX, "LOTP", "2027-06-30", &[serial.as_str()]);
            let e = imported(&mut net, "acme-pharma/line-1", &ev, &hash(p));
            // admission sees committed state only
            let admitted = net.ledger.admit(vec![e.clone()]).pop().unwrap();
            if first.contains_key(&p) {
                prop_assert_eq!(admitted.unwrap_err().code, DUPLICATE_EPCIS_EVENT);
            } else {
                prop_assert!(admitted.is_ok());
            }
            block.push((p, e));
            if cuts[i] || i + 1 == picks.len() {
                let (ps, envs): (Vec<u8>, Vec<Envelope>) = block.drain(..).unzip();
                let ids: Vec<EventId> = envs.iter().map(Envelope::id).collect();
                let results = net.commit_raw(envs);
                for ((p, id), r) in ps.into_iter().zip(ids).zip(results) {
                    if let std::collections::btree_map::Entry::Vacant(slot) = first.entry(p) {
                        prop_assert_eq!(r, None);
                        slot.insert(id);
                    } else {
                        prop_assert_eq!(r.as_deref(), Some(DUPLICATE_EPCIS_EVENT));
                    }
                }
            }
        }
        for (p, id) in &first {
            prop_assert_eq!(recorded(&net, &hash(*p)), Some(*id));
        }
    }

    /// Any digest reads back as the same hash ID; a changed letter does not read.
    #[test]
    fn epcis_hash_ids_round_trip(bytes in any::<[u8; 32]>(), at in 0usize..64) {
        let text = format!("ni:///sha-256;{}?ver=CBV2.0", hex::encode(bytes));
        let h: EpcisHash = text.parse().unwrap();
        prop_assert_eq!(h.as_str(), text.as_str());
        prop_assert_eq!(h.digest(), hex::encode(bytes));
        let back: EpcisHash = serde_json::from_value(serde_json::to_value(&h).unwrap()).unwrap();
        prop_assert_eq!(&back, &h);
        let mut broken = text.clone().into_bytes();
        broken[14 + at] = b'G';
        prop_assert!(String::from_utf8(broken).unwrap().parse::<EpcisHash>().is_err());
    }
}
