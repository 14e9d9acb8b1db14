//! Devices: install, service, implant, explant against a UDI, with pseudonymous
//! patient references.

use super::*;
use crate::codes::*;
use crate::{Device, PatientRef};

fn dev(code: &Code, patient: Option<&str>) -> Device {
    Device {
        code: code.clone(),
        patient: patient.map(|p| PatientRef::new(p).unwrap()),
    }
}

/// Commissions devices at MediDev and delivers them to St Mary's.
fn hospital_devices(n: &mut Net, gtin: &str, serials: &[&str]) -> Vec<Code> {
    let items = n.commission(gtin, "D1", "2030-12-31", serials);
    n.ok("medidev/qa", ship(&items, "st-mary"));
    n.ok("st-mary/surgeon", receive(&items, None));
    items
}

#[test]
fn implant_and_explant_with_a_pseudonymous_patient() {
    let mut n = Net::new();
    let pacers = hospital_devices(&mut n, PACER, &["PM1", "PM2"]);
    let patient = "7f".repeat(32);
    let other = "a0".repeat(32);
    let s = "st-mary/surgeon";
    // the shape of the reference is checked: free text cannot slip in
    for bad in [
        serde_json::json!("Jane Doe"),
        serde_json::json!("MRN 0012345"),
        serde_json::json!("7F".repeat(32)),
        serde_json::json!(42),
    ] {
        let e = n.sign_raw(
            s,
            "implant",
            serde_json::json!({"code": pacers[0].to_string(), "patient": bad}),
        );
        assert_eq!(n.submit(vec![e]), vec![Err(BAD_PATIENT_REF.into())]);
    }
    assert_eq!(
        n.refused(s, TraceEvent::Implant(dev(&pacers[0], None))),
        PATIENT_REQUIRED
    );
    assert_eq!(
        n.refused(
            s,
            TraceEvent::Implant(dev(&item(PACER, "PM9"), Some(&patient)))
        ),
        UNKNOWN_CODE
    );
    n.ok(s, TraceEvent::Implant(dev(&pacers[0], Some(&patient))));
    assert_eq!(n.unit(&pacers[0]).status, "implanted");
    assert_eq!(
        n.refused(s, TraceEvent::Implant(dev(&pacers[0], Some(&patient)))),
        NOT_ACTIVE
    );
    assert_eq!(
        n.refused(s, TraceEvent::Explant(dev(&pacers[1], Some(&patient)))),
        NOT_IMPLANTED
    );
    assert_eq!(
        n.refused(s, TraceEvent::Explant(dev(&pacers[0], Some(&other)))),
        PATIENT_MISMATCH
    );
    n.ok(s, TraceEvent::Explant(dev(&pacers[0], Some(&patient))));
    assert_eq!(n.unit(&pacers[0]).status, "explanted");
    // an explanted device may go back to its maker, not into another patient
    assert_eq!(
        n.refused(s, TraceEvent::Implant(dev(&pacers[0], Some(&other)))),
        NOT_ACTIVE
    );
    n.ok(s, ship(&pacers[..1], "medidev"));
    // the patient reference never shows in an error or a state dump's Debug
    let state = n.ledger.read("trace", |v| v.scan(b"u/", 100)).unwrap();
    assert!(
        !format!(
            "{:?}",
            crate::state::Status::Implanted {
                patient: PatientRef::new(&patient).unwrap()
            }
        )
        .contains(&patient)
    );
    assert!(!state.is_empty());
    n.audit();
}

#[test]
fn install_and_service() {
    let mut n = Net::new();
    let pumps = hospital_devices(&mut n, PUMP, &["IP1", "IP2"]);
    let s = "st-mary/surgeon";
    let p = "7f".repeat(32);
    assert_eq!(
        n.refused(s, TraceEvent::Install(dev(&pumps[0], Some(&p)))),
        PATIENT_NOT_ALLOWED
    );
    assert_eq!(
        n.refused(s, TraceEvent::Service(dev(&pumps[0], None))),
        NOT_INSTALLED
    );
    n.ok(s, TraceEvent::Install(dev(&pumps[0], None)));
    n.ok(s, TraceEvent::Service(dev(&pumps[0], None)));
    assert_eq!(n.unit(&pumps[0]).status, "installed");
    assert_eq!(n.refused(s, ship(&pumps[..1], "medidev")), NOT_ACTIVE);
    // only hospitals install; only devices; only items
    let drug = n.deliver("city-pharmacy/pharmacist", &["A1"], 1);
    assert_eq!(
        n.refused(
            "city-pharmacy/pharmacist",
            TraceEvent::Install(dev(&drug[0], None))
        ),
        NOT_A_DEVICE
    );
    assert_eq!(
        n.refused(s, TraceEvent::Install(dev(&case(1), None))),
        NOT_AN_ITEM
    );
    let at_maker = n.commission(PUMP, "D2", "2030-12-31", &["IP3"]);
    assert_eq!(
        n.refused("medidev/qa", TraceEvent::Install(dev(&at_maker[0], None))),
        ROLE_NOT_ALLOWED
    );
    assert_eq!(
        n.refused(s, TraceEvent::Install(dev(&at_maker[0], None))),
        NOT_HOLDER
    );
    n.audit();
}
