//! One scenario per verdict, with scans in every form.

use super::recall::recall_lots;
use super::*;
use crate::{RecallDepth, Verdict, verify};

fn v(n: &Net, code: &str, as_org: &str) -> crate::Verification {
    verify(&n.ledger, code, &org(as_org), n.time).unwrap()
}

fn hri(c: &Code, lot: &str, yymmdd: &str) -> String {
    format!(
        "(01){}(21){}(10){lot}(17){yymmdd}",
        c.gtin().unwrap(),
        c.serial().unwrap()
    )
}

#[test]
fn every_verdict() {
    let mut n = Net::new();
    let p = "city-pharmacy";
    let items = n.deliver(
        "city-pharmacy/pharmacist",
        &["A1", "A2", "A3", "A4", "A5", "A6", "A7"],
        1,
    );
    n.ok("city-pharmacy/pharmacist", unpack(1, &[]));
    let [a1, a2, a3, a4, a5, a6, a7] = <[Code; 7]>::try_from(items).unwrap();

    // VERIFIED, in all three scan forms
    let forms = [
        hri(&a1, "LOT1", "270630"),
        format!("]d201{}21A1\u{1d}10LOT1\u{1d}17270630", AMOX),
        format!("https://id.gs1.org/01/{AMOX}/10/LOT1/21/A1?17=270630"),
        a1.to_string(),
    ];
    for f in &forms {
        let r = v(&n, f, p);
        assert_eq!(r.verdict, Verdict::Verified, "{f}: {r:?}");
        assert_eq!(r.lot.as_deref(), Some("LOT1"));
        assert_eq!(r.expiry.as_deref(), Some("2027-06-30"));
        assert_eq!(r.holder.as_ref().map(|o| o.as_str()), Some(p));
    }
    // RESCAN with the scanner's diagnostic
    let r = v(&n, &format!("(01){}(21)A1", "00614141100018"), p);
    assert_eq!(r.verdict, Verdict::Rescan);
    assert!(
        r.diagnostic
            .as_ref()
            .unwrap()
            .code
            .starts_with("CHECK_DIGIT"),
        "{r:?}"
    );
    assert!(!r.next_action.is_empty());
    let r = v(&n, AMOX, p);
    assert_eq!(r.verdict, Verdict::Rescan);
    assert_eq!(r.diagnostic.unwrap().code, crate::NOT_A_UNIT_CODE);
    // UNKNOWN_PRODUCT, UNKNOWN_SERIAL
    assert_eq!(
        v(&n, "(01)00614141100071(21)A1", p).verdict,
        Verdict::UnknownProduct
    );
    assert_eq!(
        v(&n, &format!("(01){AMOX}(21)NOPE"), p).verdict,
        Verdict::UnknownSerial
    );
    assert_eq!(
        v(&n, &case(77).to_string(), p).verdict,
        Verdict::UnknownSerial
    );
    // MISMATCH: lot or expiry differ
    assert_eq!(
        v(&n, &hri(&a1, "LOT9", "270630"), p).verdict,
        Verdict::Mismatch
    );
    assert_eq!(
        v(&n, &hri(&a1, "LOT1", "280630"), p).verdict,
        Verdict::Mismatch
    );
    // NOT_IN_YOUR_CUSTODY
    let r = v(&n, &a1.to_string(), "corner-pharmacy");
    assert_eq!(r.verdict, Verdict::NotInYourCustody);
    // ALREADY_DISPENSED
    n.ok(
        "city-pharmacy/pharmacist",
        dispense(std::slice::from_ref(&a2)),
    );
    assert_eq!(v(&n, &a2.to_string(), p).verdict, Verdict::AlreadyDispensed);
    // DECOMMISSIONED
    n.ok(
        "city-pharmacy/pharmacist",
        TraceEvent::Decommission(crate::Decommission {
            codes: vec![a3.clone()],
            reason: crate::Reason::Damaged,
            location: None,
        }),
    );
    let r = v(&n, &a3.to_string(), p);
    assert_eq!(r.verdict, Verdict::Decommissioned);
    assert!(r.reason.contains("damaged"));
    // QUARANTINED
    n.ok(
        "city-pharmacy/pharmacist",
        TraceEvent::Quarantine(codes(std::slice::from_ref(&a4))),
    );
    assert_eq!(v(&n, &a4.to_string(), p).verdict, Verdict::Quarantined);
    // in transit to me
    n.ok(
        "city-pharmacy/pharmacist",
        ship(std::slice::from_ref(&a5), "corner-pharmacy"),
    );
    let r = v(&n, &a5.to_string(), "corner-pharmacy");
    assert_eq!(r.verdict, Verdict::NotInYourCustody);
    assert!(r.next_action.contains("Receive"), "{r:?}");
    // EXPIRED: "now" is the caller's
    let later = verify(&n.ledger, &a6.to_string(), &org(p), T0 + 600 * DAY).unwrap();
    assert_eq!(later.verdict, Verdict::Expired);
    // RECALLED, with the recall
    let id = n.ok(
        "acme-pharma/qa",
        recall_lots(AMOX, &["LOT1"], RecallDepth::Retail),
    );
    let r = v(&n, &a7.to_string(), p);
    assert_eq!(r.verdict, Verdict::Recalled);
    assert_eq!(r.recall.as_ref().unwrap().id, id);
    for r in [&r, &later] {
        assert!(!r.reason.is_empty() && !r.next_action.is_empty());
    }
}

#[test]
fn containers_verify_by_their_contents() {
    let mut n = Net::new();
    let items = n.deliver("northwind/warehouse", &["A1", "A2"], 1);
    assert_eq!(
        v(&n, &case(1).to_string(), "northwind").verdict,
        Verdict::Verified
    );
    let scanned = format!("(00){}", sscc(1));
    assert_eq!(v(&n, &scanned, "northwind").verdict, Verdict::Verified);
    n.ok(
        "acme-pharma/qa",
        recall_lots(AMOX, &["LOT1"], RecallDepth::Wholesale),
    );
    let r = v(&n, &case(1).to_string(), "northwind");
    assert_eq!(r.verdict, Verdict::Recalled);
    // a pack inside the case reads its holder through the case
    assert_eq!(
        v(&n, &items[0].to_string(), "northwind").holder,
        Some(org("northwind"))
    );
}
