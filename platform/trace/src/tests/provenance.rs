//! Provenance: the item's events and its containers' while it was inside, with proofs.

use super::*;
use crate::provenance;

#[test]
fn history_through_nested_containers_with_proofs() {
    let mut n = Net::new();
    let acme = "acme-pharma/line-1";
    let items = n.commission(AMOX, "LOT1", "2027-06-30", &["A1", "A2"]);
    // before A1 is in case 1, the case has its own past that is not A1's
    let early = n.commission(AMOX, "LOT1", "2027-06-30", &["E1"]);
    n.ok(acme, pack(1, &early));
    n.ok(acme, unpack(1, &[]));
    let pk = n.ok(acme, pack(1, &items));
    n.ok(acme, pack(2, &[case(1)]));
    let sh = n.ok(acme, ship(&[case(2)], "northwind"));
    let rc = n.ok("northwind/warehouse", receive(&[case(2)], None));
    n.ok("northwind/warehouse", unpack(2, &[]));
    let sh2 = n.ok("northwind/warehouse", ship(&[case(1)], "city-pharmacy"));
    n.ok("city-pharmacy/pharmacist", receive(&[case(1)], None));
    let up = n.ok("city-pharmacy/pharmacist", unpack(1, &items[..1]));
    // after A1 left case 1, the case travels on without it
    let later = n.ok(
        "city-pharmacy/pharmacist",
        ship(&[case(1)], "corner-pharmacy"),
    );
    let dp = n.ok("city-pharmacy/pharmacist", dispense(&items[..1]));

    let p = provenance(&n.ledger, &format!("https://id.gs1.org/01/{AMOX}/21/A1")).unwrap();
    let kinds: Vec<&str> = p.events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "commission",
            "pack",
            "pack",
            "ship",
            "receive",
            "unpack",
            "ship",
            "receive",
            "unpack",
            "dispense"
        ]
    );
    let ids: Vec<EventId> = p.events.iter().map(|e| e.event).collect();
    for id in [pk, sh, rc, sh2, up, dp] {
        assert!(ids.contains(&id));
    }
    assert!(!ids.contains(&later));
    assert_eq!(p.events[3].via, Some(case(2)), "the pallet's shipment");
    assert_eq!(p.events[6].via, Some(case(1)));
    assert_eq!(p.events[3].biz_step, "shipping");
    assert_eq!(p.events[3].disposition, "in_transit");
    let mut last = (0, 0);
    for e in &p.events {
        assert!((e.height, e.index) > last, "ordered");
        last = (e.height, e.index);
        assert!(
            e.proof.verify(&e.event, &e.merkle_root),
            "proof of {}",
            e.kind
        );
        let block = n.ledger.block(e.height).unwrap().unwrap();
        assert_eq!(block.hash(), e.block_hash);
        assert_eq!(block.header.merkle_root, e.merkle_root);
    }
    // unknown codes have no history; bad scans say why
    assert!(
        provenance(&n.ledger, &format!("(01){AMOX}(21)ZZ"))
            .unwrap()
            .events
            .is_empty()
    );
    assert!(matches!(
        provenance(&n.ledger, "(01)123"),
        Err(crate::ProvenanceError::Scan(_))
    ));
}

#[test]
fn implant_history_hides_the_patient_reference() {
    let mut n = Net::new();
    let pm = n.commission(PACER, "P1", "2030-12-31", &["PM1"]);
    n.ok("medidev/qa", ship(&pm, "st-mary"));
    n.ok("st-mary/surgeon", receive(&pm, None));
    let patient = "3c".repeat(32);
    n.ok(
        "st-mary/surgeon",
        TraceEvent::Implant(crate::Device {
            code: pm[0].clone(),
            patient: Some(crate::PatientRef::new(&patient).unwrap()),
        }),
    );
    let p = crate::provenance_of(&n.ledger, &pm[0], &crate::BlockCache::new(4)).unwrap();
    assert_eq!(p.events.last().unwrap().kind, "implant");
    assert!(!serde_json::to_string(&p).unwrap().contains(&patient));
}

#[test]
fn generated_supply_chain_applies_and_proves() {
    use fixtures::generator::{Config, generate};
    let mut n = Net::new();
    let work = generate(
        &n.demo,
        &Config {
            items: 45,
            hops: 4,
            case_size: 10,
            block_size: 25,
            seed: 5,
            start_ms: n.time,
        },
    );
    for block in &work.blocks {
        let results = n.commit_raw(block.clone());
        for (e, r) in block.iter().zip(results) {
            assert_eq!(r, None, "{} {}", e.kind(), e.payload());
        }
    }
    for code in &work.items {
        let v = crate::verify(&n.ledger, code, &org("city-pharmacy"), n.time).unwrap();
        assert_eq!(v.verdict, crate::Verdict::AlreadyDispensed);
        let p = provenance(&n.ledger, code).unwrap();
        // commission, pack, 4 x (ship, receive), unpack, dispense
        assert_eq!(p.events.len(), 12, "{code}");
        for e in &p.events {
            let ids = n.ledger.block(e.height).unwrap().unwrap().ids();
            assert_eq!(
                Some(&e.proof),
                ledger::merkle::prove(&ids, e.index as usize).as_ref()
            );
            assert!(e.proof.verify(&e.event, &e.merkle_root));
        }
    }
    n.audit();
}

#[test]
fn provenance_exports_to_epcis_and_imports_back() {
    let mut n = Net::new();
    let p = "city-pharmacy/pharmacist";
    let items = n.deliver(p, &["A1", "A2"], 1);
    n.ok(p, unpack(1, &[]));
    n.ok(p, dispense(&items[..1]));
    let prov = crate::provenance_of(&n.ledger, &items[0], &crate::BlockCache::new(8)).unwrap();
    let consortium = n.ledger.consortium();
    let doc = crate::epcis::export(&prov, &consortium, n.time);
    let events = doc["epcisBody"]["eventList"].as_array().unwrap();
    assert_eq!(events.len(), prov.events.len());
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "ObjectEvent",
            "AggregationEvent",
            "ObjectEvent",
            "ObjectEvent",
            "AggregationEvent",
            "ObjectEvent"
        ]
    );
    assert_eq!(
        events[2]["destinationList"][0]["destination"],
        "https://id.gs1.org/417/0500002000010"
    );
    let prefixes = crate::epcis::Prefixes::of_document(&doc);
    for (e, original) in events.iter().zip(&prov.events) {
        // the eventID is the CBV 2.0 hash of the event (eventID itself is outside it)
        assert_eq!(
            e["eventID"].as_str().unwrap(),
            crate::epcis::event_hash(e, &prefixes).unwrap()
        );
        let back = crate::epcis::from_epcis(e, &consortium).unwrap();
        let want = TraceEvent::parse(&original.kind, &original.payload).unwrap();
        assert_eq!(back, want, "{}", original.kind);
    }
    let imported = crate::epcis::import(&doc, &consortium);
    assert!(imported.iter().all(Result::is_ok));
}
