//! Commission, pack, unpack, ship, receive, dispense, decommission, quarantine.

use super::*;
use crate::codes::*;
use crate::{Decommission, Reason, UndoDecommission};
use scanners::Gln;

#[test]
fn commission_rules() {
    let mut n = Net::new();
    let items = n.commission(AMOX, "LOT1", "2027-06-30", &["A1", "A2", "A3"]);
    let u = n.unit(&items[0]);
    assert_eq!((u.holder.as_str(), u.status), ("acme-pharma", "active"));
    assert_eq!(u.lot.as_deref(), Some("LOT1"));
    assert_eq!(u.expiry.as_deref(), Some("2027-06-30"));
    // only the owner of prefix 0614141
    for actor in [
        "medidev/qa",
        "northwind/warehouse",
        "medicines-agency/admin",
    ] {
        let c = commission(AMOX, "LOT1", "2027-06-30", &["B1"]);
        assert_eq!(n.refused(actor, c), NOT_BRAND_OWNER);
    }
    let c = commission(PACER, "P1", "2030-01-31", &["X1"]);
    assert_eq!(n.refused("acme-pharma/line-1", c), NOT_BRAND_OWNER);
    // serial unique per GTIN, also within one event
    let again = commission(AMOX, "LOT1", "2027-06-30", &["B1", "A2"]);
    assert_eq!(n.refused("acme-pharma/line-1", again), SERIAL_EXISTS);
    let twice = commission(AMOX, "LOT1", "2027-06-30", &["C1", "C1"]);
    assert_eq!(n.refused("acme-pharma/line-1", twice), DUPLICATE_CODE);
    assert_eq!(
        n.refused(
            "acme-pharma/line-1",
            commission(AMOX, "LOT1", "2027-06-30", &[])
        ),
        CODE_COUNT
    );
    // same serial under another GTIN is another unit
    n.commission(METF, "M1", "2027-06-30", &["A1"]);
    // a lot has one expiry
    let other_expiry = commission(AMOX, "LOT1", "2028-01-31", &["D1"]);
    assert_eq!(
        n.refused("acme-pharma/line-1", other_expiry),
        LOT_EXPIRY_CONFLICT
    );
    // a GTIN stays a drug
    let mut as_device = commission(AMOX, "LOT9", "2027-06-30", &["D2"]);
    if let TraceEvent::Commission(c) = &mut as_device {
        c.device = true;
    }
    assert_eq!(
        n.refused("acme-pharma/line-1", as_device),
        PRODUCT_KIND_MISMATCH
    );
    // already expired at block time
    let stale = commission(AMOX, "OLD", "2025-12-31", &["E1"]);
    assert_eq!(n.refused("acme-pharma/line-1", stale), EXPIRED);
    // the location must be one of the organisation's GLNs
    let mut elsewhere = commission(AMOX, "LOT2", "2027-06-30", &["F1"]);
    if let TraceEvent::Commission(c) = &mut elsewhere {
        c.location = Some(Gln::new("0500001000011").unwrap());
    }
    assert_eq!(
        n.refused("acme-pharma/line-1", elsewhere.clone()),
        UNKNOWN_LOCATION
    );
    if let TraceEvent::Commission(c) = &mut elsewhere {
        c.location = Some(Gln::new("0614141000029").unwrap());
    }
    n.ok("acme-pharma/line-1", elsewhere);
    // payload shape and kind
    let e = n.sign_raw(
        "acme-pharma/line-1",
        "commission",
        serde_json::json!({"gtin": "00614141100018", "lot": "L", "expiry": "2027-01-01", "serials": ["1"]}),
    );
    assert_eq!(n.submit(vec![e]), vec![Err("BAD_PAYLOAD".into())]);
    let e = n.sign_raw("acme-pharma/line-1", "teleport", serde_json::json!({}));
    assert_eq!(n.submit(vec![e]), vec![Err("UNKNOWN_KIND".into())]);
    n.audit();
}

#[test]
fn packing_nests_and_children_move_with_their_container() {
    let mut n = Net::new();
    let items = n.commission(AMOX, "LOT1", "2027-06-30", &["A1", "A2", "A3", "A4"]);
    n.ok("acme-pharma/line-1", pack(1, &items[..2]));
    n.ok("acme-pharma/line-1", pack(2, &items[2..3]));
    n.ok("acme-pharma/line-1", pack(9, &[case(1), case(2)]));
    assert_eq!(n.unit(&items[0]).root, case(9));
    // cycles, double packing, strangers
    assert_eq!(
        n.refused("acme-pharma/line-1", pack(1, &[case(9)])),
        PACK_CYCLE
    );
    assert_eq!(
        n.refused("acme-pharma/line-1", pack(3, &[items[0].clone()])),
        PACKED
    );
    assert_eq!(
        n.refused("northwind/warehouse", pack(3, &[items[3].clone()])),
        NOT_HOLDER
    );
    assert_eq!(
        n.refused("acme-pharma/line-1", pack(3, &[item(AMOX, "NOPE")])),
        UNKNOWN_CODE
    );
    // a packed child cannot move alone
    assert_eq!(
        n.refused("acme-pharma/line-1", ship(&[items[0].clone()], "northwind")),
        PACKED
    );
    assert_eq!(
        n.refused("acme-pharma/line-1", ship(&[case(1)], "northwind")),
        PACKED
    );
    let shipment = n.ok("acme-pharma/line-1", ship(&[case(9)], "northwind"));
    let u = n.unit(&items[0]);
    assert_eq!((u.holder.as_str(), u.status), ("acme-pharma", "in_transit"));
    assert_eq!(
        n.refused("acme-pharma/line-1", pack(4, &[case(9)])),
        IN_TRANSIT
    );
    assert_eq!(n.refused("acme-pharma/line-1", unpack(9, &[])), IN_TRANSIT);
    // receiving by scanning one pack inside receives the whole pallet
    n.ok(
        "northwind/warehouse",
        receive(&[items[2].clone()], Some(shipment)),
    );
    for c in [&items[0], &items[2], &case(1)] {
        let u = n.unit(c);
        assert_eq!(
            (u.holder.as_str(), u.status),
            ("northwind", "active"),
            "{c}"
        );
    }
    // unpacking: only from a top-level container, only its children
    assert_eq!(n.refused("northwind/warehouse", unpack(1, &[])), PACKED);
    assert_eq!(
        n.refused("northwind/warehouse", unpack(9, &[items[0].clone()])),
        NOT_IN_CONTAINER
    );
    n.ok("northwind/warehouse", unpack(9, &[case(1)]));
    assert_eq!(n.unit(&case(1)).parent, None);
    assert_eq!(n.unit(&items[2]).root, case(9));
    n.ok("northwind/warehouse", unpack(1, &[]));
    assert_eq!(n.refused("northwind/warehouse", unpack(1, &[])), CODE_COUNT);
    let u = n.unit(&items[1]);
    assert_eq!((u.holder.as_str(), u.parent.is_none()), ("northwind", true));
    n.audit();
}

#[test]
fn shipping_rules() {
    let mut n = Net::new();
    let items = n.commission(AMOX, "LOT1", "2027-06-30", &["A1", "A2", "A3", "A4", "A5"]);
    let short = n.commission(METF, "SHORT", "2026-02-28", &["S1"]);
    let acme = "acme-pharma/line-1";
    assert_eq!(n.refused(acme, ship(&items[..1], "nobody")), UNKNOWN_ORG);
    assert_eq!(
        n.refused(acme, ship(&items[..1], "acme-pharma")),
        SHIP_TO_SELF
    );
    assert_eq!(
        n.refused(
            acme,
            ship(&[items[0].clone(), items[0].clone()], "northwind")
        ),
        DUPLICATE_CODE
    );
    assert_eq!(
        n.refused("northwind/warehouse", ship(&items[..1], "city-pharmacy")),
        NOT_HOLDER
    );
    n.ok(acme, TraceEvent::Quarantine(codes(&items[1..2])));
    assert_eq!(
        n.refused(acme, ship(&items[1..2], "northwind")),
        QUARANTINED
    );
    // a quarantined pack inside a case stops the case
    n.ok(acme, pack(5, &items[1..3]));
    assert_eq!(n.refused(acme, ship(&[case(5)], "northwind")), QUARANTINED);
    n.ok(
        acme,
        TraceEvent::Decommission(Decommission {
            codes: items[3..4].to_vec(),
            reason: Reason::Damaged,
            location: None,
        }),
    );
    assert_eq!(
        n.refused(acme, ship(&items[3..4], "northwind")),
        DECOMMISSIONED
    );
    n.ok(acme, ship(&short, "northwind"));
    n.ok("northwind/warehouse", receive(&short, None));
    n.time = T0 + 60 * DAY; // past 2026-02-28
    assert_eq!(
        n.refused("northwind/warehouse", ship(&short, "city-pharmacy")),
        EXPIRED
    );
    n.ok(acme, ship(&items[4..5], "northwind"));
    assert_eq!(
        n.refused(acme, ship(&items[4..5], "city-pharmacy")),
        IN_TRANSIT
    );
    n.audit();
}

#[test]
fn receiving_records_overage_and_shortage() {
    let mut n = Net::new();
    let items = n.commission(AMOX, "LOT1", "2027-06-30", &["A1", "A2", "A3", "A4"]);
    let acme = "acme-pharma/line-1";
    let s1 = n.ok(acme, ship(&items[..3], "city-pharmacy"));
    // only the named receiver
    let wrong = receive(&items[..1], Some(s1));
    assert_eq!(n.refused("corner-pharmacy/pharmacist", wrong), NOT_RECEIVER);
    assert_eq!(
        n.refused("corner-pharmacy/pharmacist", receive(&items[..1], None)),
        NOT_RECEIVER
    );
    let bogus = receive(&items[..1], Some(EventId([7; 32])));
    assert_eq!(
        n.refused("city-pharmacy/pharmacist", bogus),
        UNKNOWN_SHIPMENT
    );
    assert_eq!(
        n.refused("city-pharmacy/pharmacist", receive(&items[3..4], None)),
        NOTHING_TO_RECEIVE
    );
    // A1 and A2 arrive with A4, which was never shipped: A3 short, A4 over
    let e = n.sign(
        "city-pharmacy/pharmacist",
        &receive(
            &[items[0].clone(), items[1].clone(), items[3].clone()],
            Some(s1),
        ),
    );
    let watch = n.ledger.watch();
    assert_eq!(n.submit(vec![e]), vec![Ok(None)]);
    let s = crate::shipment(&n.ledger, &s1).unwrap().unwrap();
    assert_eq!(s.received, items[..2].to_vec());
    assert_eq!(s.shortage, items[2..3].to_vec());
    assert_eq!(s.overage, items[3..4].to_vec());
    assert_eq!(
        n.unit(&items[3]).holder.as_str(),
        "acme-pharma",
        "overage is not taken into custody"
    );
    let notice = watch.recv().unwrap();
    let note = &notice.notifications[0];
    assert_eq!(note.topic, "shipment_exception");
    assert_eq!(note.orgs, vec![org("acme-pharma"), org("city-pharmacy")]);
    // the missing pack turns up later: the shortage clears
    n.ok("city-pharmacy/pharmacist", receive(&items[2..3], None));
    let s = crate::shipment(&n.ledger, &s1).unwrap().unwrap();
    assert!(s.shortage.is_empty());
    assert_eq!(n.unit(&items[2]).holder.as_str(), "city-pharmacy");
    n.audit();
}

#[test]
fn dispensing_rules() {
    let mut n = Net::new();
    let p = "city-pharmacy/pharmacist";
    let items = n.deliver(p, &["A1", "A2", "A3", "A4", "A5"], 1);
    assert_eq!(n.refused(p, dispense(&items[..1])), PACKED);
    assert_eq!(n.refused(p, dispense(&[case(1)])), NOT_AN_ITEM);
    n.ok(p, unpack(1, &[]));
    assert_eq!(
        n.refused("northwind/warehouse", dispense(&items[..1])),
        ROLE_NOT_ALLOWED
    );
    assert_eq!(
        n.refused("corner-pharmacy/pharmacist", dispense(&items[..1])),
        NOT_HOLDER
    );
    assert_eq!(
        crate::dispense_evidence(&n.ledger, &items[0]).unwrap(),
        None
    );
    let id = n.ok(p, dispense(&items[..1]));
    assert_eq!(n.unit(&items[0]).status, "dispensed");
    let proof = crate::dispense_evidence(&n.ledger, &items[0])
        .unwrap()
        .unwrap();
    assert_eq!((proof.event, proof.org.as_str()), (id, "city-pharmacy"));
    // the same fact is kept in state, where the claims module's evidence reads it
    let record = n
        .ledger
        .read(crate::MODULE, |s| {
            crate::state::dispensed(&crate::state::ReadOnly(s), &items[0])
        })
        .unwrap()
        .unwrap();
    assert_eq!(
        (record.event, record.org.as_str(), record.kind.as_str()),
        (id, "city-pharmacy", "dispense")
    );
    assert_eq!(n.refused(p, dispense(&items[..1])), ALREADY_DISPENSED);
    n.ok(p, TraceEvent::Quarantine(codes(&items[1..2])));
    assert_eq!(n.refused(p, dispense(&items[1..2])), QUARANTINED);
    n.ok(p, TraceEvent::Release(codes(&items[1..2])));
    n.ok(p, dispense(&items[1..2]));
    // expiry against block time
    n.time = T0 + 600 * DAY; // 2027-08
    assert_eq!(n.refused(p, dispense(&items[2..3])), EXPIRED);
    n.audit();
}

#[test]
fn quarantine_and_release() {
    let mut n = Net::new();
    let items = n.commission(AMOX, "LOT1", "2027-06-30", &["A1", "A2"]);
    let acme = "acme-pharma/line-1";
    n.ok(acme, TraceEvent::Quarantine(codes(&items[..1])));
    assert!(n.unit(&items[0]).quarantined);
    assert_eq!(
        n.refused(acme, TraceEvent::Quarantine(codes(&items[..1]))),
        ALREADY_QUARANTINED
    );
    assert_eq!(
        n.refused(acme, TraceEvent::Release(codes(&items[1..2]))),
        NOT_QUARANTINED
    );
    assert_eq!(
        n.refused(
            "northwind/warehouse",
            TraceEvent::Release(codes(&items[..1]))
        ),
        NOT_HOLDER
    );
    // a quarantined case quarantines what is inside
    n.ok(acme, pack(2, &items[1..2]));
    n.ok(acme, TraceEvent::Quarantine(codes(&[case(2)])));
    assert!(n.unit(&items[1]).quarantined);
    assert_eq!(
        n.refused(acme, TraceEvent::Release(codes(&items[1..2]))),
        NOT_QUARANTINED
    );
    n.ok(acme, TraceEvent::Release(codes(&[case(2)])));
    n.ok(acme, TraceEvent::Release(codes(&items[..1])));
    assert!(!n.unit(&items[0]).quarantined && !n.unit(&items[1]).quarantined);
    n.audit();
}

fn decom(codes: &[Code], reason: Reason, location: Option<&str>) -> TraceEvent {
    TraceEvent::Decommission(Decommission {
        codes: codes.to_vec(),
        reason,
        location: location.map(|g| Gln::new(g).unwrap()),
    })
}

fn undo(codes: &[Code], location: Option<&str>) -> TraceEvent {
    TraceEvent::UndoDecommission(UndoDecommission {
        codes: codes.to_vec(),
        location: location.map(|g| Gln::new(g).unwrap()),
    })
}

#[test]
fn decommission_and_undo_within_ten_days_at_the_same_place() {
    let mut n = Net::new();
    let items = n.commission(AMOX, "LOT1", "2027-06-30", &["A1", "A2", "A3", "A4", "A5"]);
    let acme = "acme-pharma/line-1";
    let site = Some("0614141000012");
    let other_site = Some("0614141000029");
    n.ok(acme, decom(&items[..1], Reason::Sample, site));
    assert_eq!(n.unit(&items[0]).status, "decommissioned");
    assert_eq!(
        n.refused(acme, decom(&items[..1], Reason::Damaged, site)),
        DECOMMISSIONED
    );
    assert_eq!(
        n.refused(acme, undo(&items[..1], other_site)),
        UNDO_WRONG_LOCATION
    );
    assert_eq!(
        n.refused(acme, undo(&items[1..2], site)),
        NOT_DECOMMISSIONED
    );
    n.time += 9 * DAY;
    n.ok(acme, undo(&items[..1], site));
    assert_eq!(n.unit(&items[0]).status, "active");
    // past the window
    n.ok(acme, decom(&items[1..2], Reason::Exported, None));
    n.time += 10 * DAY + 1;
    assert_eq!(
        n.refused(acme, undo(&items[1..2], None)),
        UNDO_WINDOW_CLOSED
    );
    // destroyed and stolen are final
    n.ok(acme, decom(&items[2..3], Reason::Destroyed, None));
    n.ok(acme, decom(&items[3..4], Reason::Stolen, None));
    assert_eq!(n.refused(acme, undo(&items[2..3], None)), UNDO_NOT_ALLOWED);
    assert_eq!(n.refused(acme, undo(&items[3..4], None)), UNDO_NOT_ALLOWED);
    // stolen on the way: the shipper decommissions in transit
    n.ok(acme, ship(&items[4..5], "northwind"));
    assert_eq!(
        n.refused(acme, decom(&items[4..5], Reason::Damaged, None)),
        IN_TRANSIT
    );
    n.ok(acme, decom(&items[4..5], Reason::Stolen, None));
    assert_eq!(
        n.refused("northwind/warehouse", receive(&items[4..5], None)),
        NOTHING_TO_RECEIVE
    );
    n.audit();
}

#[test]
fn works_through_the_solo_orderer() {
    let mut n = Net::new();
    let c = n.sign(
        "acme-pharma/line-1",
        &commission(AMOX, "LOT1", "2030-06-30", &["O1", "O2"]),
    );
    let s = n.sign(
        "acme-pharma/line-1",
        &ship(&[item(AMOX, "O1")], "city-pharmacy"),
    );
    let bad = n.sign(
        "acme-pharma/line-1",
        &ship(&[item(AMOX, "O1")], "city-pharmacy"),
    );
    // the second ship passes admission (committed state has no unit yet) and loses at apply
    assert_eq!(
        n.via_orderer(vec![c, s, bad]),
        vec![Ok(None), Err(UNKNOWN_CODE.into()), Err(UNKNOWN_CODE.into())]
    );
    let s = n.sign(
        "acme-pharma/line-1",
        &ship(&[item(AMOX, "O1")], "city-pharmacy"),
    );
    let again = n.sign(
        "acme-pharma/line-1",
        &ship(&[item(AMOX, "O1")], "city-pharmacy"),
    );
    assert_eq!(
        n.via_orderer(vec![s, again]),
        vec![Ok(None), Ok(Some(IN_TRANSIT.into()))]
    );
    n.audit();
}

#[test]
fn every_rejection_code_is_exercised_by_a_test() {
    let codes = include_str!("../codes.rs");
    let tests = [
        include_str!("custody.rs"),
        include_str!("devices.rs"),
        include_str!("recall.rs"),
        include_str!("epcis.rs"),
    ]
    .concat();
    let used = |name: &str| {
        tests.match_indices(name).any(|(at, _)| {
            let next = tests[at + name.len()..].chars().next();
            !next.is_some_and(|c| c.is_ascii_uppercase() || c == '_')
        })
    };
    for line in codes.lines() {
        if let Some(rest) = line.strip_prefix("pub const ") {
            let name = rest.split(':').next().unwrap();
            assert!(used(name), "{name} untested");
        }
    }
}
