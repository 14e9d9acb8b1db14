//! Recalls: who may issue them, the affected units through aggregations, blocking,
//! acknowledgements, dispositions and effectiveness.

use super::*;
use crate::codes::*;
use crate::{Acknowledge, Disposition, Recall, RecallAction, RecallClass, RecallDepth};
use scanners::Lot;

pub fn recall_lots(gtin: &str, lots: &[&str], depth: RecallDepth) -> TraceEvent {
    TraceEvent::Recall(Recall {
        gtin: Gtin::new(gtin).unwrap(),
        lots: lots.iter().map(|l| Lot::new(l).unwrap()).collect(),
        serials: vec![],
        class: RecallClass::I,
        depth,
        reason: "particulate contamination".into(),
    })
}

fn recall_serials(gtin: &str, serials: &[&str]) -> TraceEvent {
    TraceEvent::Recall(Recall {
        gtin: Gtin::new(gtin).unwrap(),
        lots: vec![],
        serials: serials.iter().map(|s| Serial::new(s).unwrap()).collect(),
        class: RecallClass::II,
        depth: RecallDepth::Retail,
        reason: "label misprint".into(),
    })
}

fn ack(id: EventId) -> TraceEvent {
    TraceEvent::Acknowledge(Acknowledge { recall: id })
}

fn disposition(id: EventId, codes: &[Code], action: RecallAction) -> TraceEvent {
    TraceEvent::Disposition(Disposition {
        recall: id,
        codes: codes.to_vec(),
        action,
    })
}

#[test]
fn who_may_recall_and_what() {
    let mut n = Net::new();
    n.commission(AMOX, "LOT1", "2027-06-30", &["A1"]);
    let r = recall_lots(AMOX, &["LOT1"], RecallDepth::Retail);
    assert_eq!(n.refused("medidev/qa", r.clone()), RECALL_NOT_ALLOWED);
    assert_eq!(n.refused("northwind/admin", r), RECALL_NOT_ALLOWED);
    assert_eq!(
        n.refused(
            "acme-pharma/qa",
            recall_lots(METF, &["LOT1"], RecallDepth::Retail)
        ),
        UNKNOWN_PRODUCT
    );
    assert_eq!(
        n.refused(
            "acme-pharma/qa",
            recall_lots(AMOX, &["LOT7"], RecallDepth::Retail)
        ),
        UNKNOWN_LOT
    );
    assert_eq!(
        n.refused("acme-pharma/qa", recall_serials(AMOX, &["A9"])),
        UNKNOWN_SERIAL
    );
    let mut both = recall_serials(AMOX, &["A1"]);
    if let TraceEvent::Recall(r) = &mut both {
        r.lots.push(Lot::new("LOT1").unwrap());
    }
    assert_eq!(n.refused("acme-pharma/qa", both), "BAD_PAYLOAD");
    assert_eq!(
        n.refused("acme-pharma/qa", recall_serials(AMOX, &["A1", "A1"])),
        DUPLICATE_CODE
    );
    // the brand owner and the regulator may
    n.ok("acme-pharma/qa", recall_serials(AMOX, &["A1"]));
    n.ok(
        "medicines-agency/inspector",
        recall_lots(AMOX, &["LOT1"], RecallDepth::Wholesale),
    );
    assert_eq!(crate::recalls(&n.ledger, None).unwrap().len(), 2);
    n.audit();
}

#[test]
fn recall_reaches_holders_through_cases_and_blocks_movement() {
    let mut n = Net::new();
    let acme = "acme-pharma/line-1";
    // six packs of LOT1: two in a case at City Pharmacy, two in a pallet at Northwind,
    // one dispensed at City Pharmacy, one still at Acme; one pack of LOT2 untouched
    let items = n.commission(
        AMOX,
        "LOT1",
        "2027-06-30",
        &["A1", "A2", "A3", "A4", "A5", "A6"],
    );
    let other = n.commission(AMOX, "LOT2", "2027-06-30", &["B1"]);
    n.ok(acme, pack(1, &items[..2]));
    n.ok(acme, pack(2, &items[2..4]));
    n.ok(acme, pack(3, &[case(2)]));
    n.ok(acme, ship(&[case(1), items[4].clone()], "city-pharmacy"));
    n.ok(
        "city-pharmacy/pharmacist",
        receive(&[case(1), items[4].clone()], None),
    );
    n.ok("city-pharmacy/pharmacist", dispense(&items[4..5]));
    n.ok(acme, ship(&[case(3)], "northwind"));
    n.ok("northwind/warehouse", receive(&[case(3)], None));

    let r = n.sign(
        "acme-pharma/qa",
        &recall_lots(AMOX, &["LOT1"], RecallDepth::Retail),
    );
    let id = r.id();
    let watch = n.ledger.watch();
    assert_eq!(n.submit(vec![r]), vec![Ok(None)]);
    let notice = watch.recv().unwrap();
    let alert = notice
        .notifications
        .iter()
        .find(|x| x.topic == "recall")
        .unwrap();
    let mut orgs = alert.orgs.clone();
    orgs.sort();
    assert_eq!(
        orgs,
        vec![org("acme-pharma"), org("city-pharmacy"), org("northwind")]
    );
    assert_eq!(alert.body["units_by_holder"]["northwind"], 2);
    assert_eq!(alert.body["affected"], 6);

    let view = crate::recall(&n.ledger, &id).unwrap().unwrap();
    assert_eq!(view.units, 5, "the dispensed pack is beyond retail depth");
    assert!(view.active);
    let units = crate::recall_units(&n.ledger, &id, None).unwrap();
    assert_eq!(units.len(), 6);
    assert!(
        units
            .iter()
            .all(|(c, _)| c.gtin().unwrap().as_str() == AMOX && !other.contains(c))
    );

    // blocked: shipping the pallet (a recalled pack is deep inside), dispensing
    assert_eq!(
        n.refused("northwind/warehouse", ship(&[case(3)], "city-pharmacy")),
        RECALLED
    );
    n.ok("city-pharmacy/pharmacist", unpack(1, &[]));
    assert_eq!(
        n.refused("city-pharmacy/pharmacist", dispense(&items[..1])),
        RECALLED
    );
    // ... but a return to the brand owner is allowed
    n.ok("northwind/warehouse", ship(&[case(3)], "acme-pharma"));
    // LOT2 is unaffected
    n.ok(acme, ship(&other, "northwind"));
    n.audit();
}

#[test]
fn acknowledgements_dispositions_and_effectiveness() {
    let mut n = Net::new();
    let acme = "acme-pharma/line-1";
    let items = n.commission(AMOX, "LOT1", "2027-06-30", &["A1", "A2", "A3", "A4"]);
    n.ok(acme, ship(&items[..2], "city-pharmacy"));
    n.ok("city-pharmacy/pharmacist", receive(&items[..2], None));
    n.ok(acme, ship(&items[2..3], "northwind"));
    n.ok("northwind/warehouse", receive(&items[2..3], None));
    let id = n.ok(
        "acme-pharma/qa",
        recall_lots(AMOX, &["LOT1"], RecallDepth::Retail),
    );
    let p = "city-pharmacy/pharmacist";

    assert_eq!(
        n.refused("corner-pharmacy/pharmacist", ack(id)),
        NOT_AFFECTED
    );
    assert_eq!(n.refused(p, ack(EventId([9; 32]))), UNKNOWN_RECALL);
    n.ok(p, ack(id));
    assert_eq!(n.refused(p, ack(id)), ALREADY_ACKNOWLEDGED);

    n.ok(p, disposition(id, &items[..1], RecallAction::Quarantined));
    assert!(n.unit(&items[0]).quarantined);
    assert_eq!(
        n.refused(p, disposition(id, &items[..1], RecallAction::Destroyed)),
        ALREADY_ACCOUNTED
    );
    assert_eq!(
        n.refused(p, disposition(id, &items[2..3], RecallAction::Returned)),
        NOT_HOLDER
    );
    assert_eq!(
        n.refused(
            p,
            disposition(id, &[item(METF, "X")], RecallAction::Returned)
        ),
        NOT_IN_RECALL
    );
    n.ok(p, disposition(id, &items[1..2], RecallAction::Destroyed));
    assert_eq!(n.unit(&items[1]).status, "decommissioned");

    let v = crate::recall(&n.ledger, &id).unwrap().unwrap();
    let by = |o: &str| {
        v.holders
            .iter()
            .find(|h| h.org.as_str() == o)
            .unwrap()
            .clone()
    };
    assert_eq!(
        (by("city-pharmacy").units, by("city-pharmacy").accounted),
        (2, 2)
    );
    assert_eq!(by("city-pharmacy").ratio, 1.0);
    assert_eq!((by("northwind").units, by("northwind").accounted), (1, 0));
    assert_eq!((v.units, v.accounted), (4, 2));
    assert_eq!(v.unit_ratio, 0.5);
    assert!((v.acknowledged_ratio - 1.0 / 3.0).abs() < 1e-9);
    // the rest: returned by Northwind, destroyed at Acme
    n.ok("northwind/warehouse", ack(id));
    n.ok("northwind/warehouse", ship(&items[2..3], "acme-pharma"));
    n.ok(
        "northwind/warehouse",
        disposition(id, &items[2..3], RecallAction::Returned),
    );
    n.ok(acme, ack(id));
    n.ok(acme, disposition(id, &items[3..4], RecallAction::Destroyed));
    let v = crate::recall(&n.ledger, &id).unwrap().unwrap();
    assert_eq!(
        (v.unit_ratio, v.acknowledged_ratio, v.active),
        (1.0, 1.0, false)
    );
    assert_eq!(crate::recalls(&n.ledger, Some(true)).unwrap().len(), 0);
    n.audit();
}

#[test]
fn recalled_implants_resolve_only_for_the_implanting_hospital() {
    let mut n = Net::new();
    let pacers = n.commission(PACER, "PL1", "2030-12-31", &["PM1", "PM2"]);
    n.ok("medidev/qa", ship(&pacers, "st-mary"));
    n.ok("st-mary/surgeon", receive(&pacers, None));
    let patient = "5e".repeat(32);
    n.ok(
        "st-mary/surgeon",
        TraceEvent::Implant(crate::Device {
            code: pacers[0].clone(),
            patient: Some(crate::PatientRef::new(&patient).unwrap()),
        }),
    );
    let id = n.ok(
        "medidev/qa",
        recall_lots(PACER, &["PL1"], RecallDepth::Patient),
    );
    let v = crate::recall(&n.ledger, &id).unwrap().unwrap();
    assert_eq!(v.units, 2, "patient depth counts the implanted device");
    let mine = crate::recalled_implants(&n.ledger, &id, &org("st-mary")).unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].1.as_str(), patient);
    assert!(
        crate::recalled_implants(&n.ledger, &id, &org("medidev"))
            .unwrap()
            .is_empty()
    );
    n.audit();
}

#[test]
fn a_serial_recall_blocks_that_serial_only_inside_a_case_too() {
    let mut n = Net::new();
    let acme = "acme-pharma/line-1";
    let items = n.commission(AMOX, "LOT1", "2027-06-30", &["S1", "S2", "S3"]);
    // before any serial recall of the GTIN, everything moves
    n.ok(acme, pack(1, &items[1..]));
    n.ok("acme-pharma/qa", recall_serials(AMOX, &["S3"]));
    assert_eq!(n.refused(acme, ship(&[case(1)], "northwind")), RECALLED);
    n.ok(acme, ship(&items[..1], "northwind"));
    n.ok(acme, unpack(1, &[]));
    assert_eq!(n.refused(acme, ship(&items[2..], "northwind")), RECALLED);
    n.ok(acme, ship(&items[1..2], "northwind"));
    n.audit();
}
