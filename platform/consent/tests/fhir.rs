//! FHIR R4 Consent import and export: round trips, time parsing, and the HL7 examples in
//! ../shared/conformance/fhir-r4 (each imports or is refused with a stable code).

use consent::fhir::{ImportContext, export_consent, fhir_time, import_consent, patient_ref};
use consent::{Category, ConsentRecord, ConsentStatus, Grantee, Purpose};
use ledger::hash::sha256;
use ledger::{EventId, OrgId, PatientRef};
use proptest::prelude::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;

#[test]
fn fhir_times() {
    assert_eq!(fhir_time("1970-01-01"), Some(0));
    assert_eq!(fhir_time("2015-11-18"), Some(1_447_804_800_000));
    assert_eq!(
        fhir_time("2015-11-18T10:30:00Z"),
        Some(1_447_804_800_000 + 37_800_000)
    );
    assert_eq!(
        fhir_time("2015-11-18T10:30:00+02:00"),
        Some(1_447_804_800_000 + 30_600_000)
    );
    assert_eq!(fhir_time("2016"), Some(1_451_606_400_000));
    assert_eq!(fhir_time("2016-13-01"), None);
    assert_eq!(fhir_time("yesterday"), None);
}

#[test]
fn patient_references_are_keyed_hashes() {
    let a = patient_ref(b"hospital key", "Patient/f001");
    assert_eq!(a, patient_ref(b"hospital key", "Patient/f001"));
    assert_ne!(a, patient_ref(b"another key", "Patient/f001"));
    assert!(!a.as_str().contains("f001"));
}

fn record() -> impl Strategy<Value = ConsentRecord> {
    let purposes = prop::sample::subsequence(
        vec![
            Purpose::Treatment,
            Purpose::Payment,
            Purpose::Research,
            Purpose::RecallNotification,
        ],
        1..4,
    );
    let categories = prop::sample::subsequence(
        vec![
            Category::Medication,
            Category::Device,
            Category::Lab,
            Category::Imaging,
            Category::Notes,
        ],
        0..4,
    );
    (
        purposes,
        categories,
        any::<bool>(),
        0i64..4_000_000_000_000,
        prop::option::of(1i64..1_000_000_000_000),
        any::<u8>(),
    )
        .prop_map(|(purposes, categories, org, start, len, n)| ConsentRecord {
            id: EventId(sha256(&[n]).0),
            patient: PatientRef::new(&sha256(&[n, 1]).to_hex()).unwrap(),
            grantee: if org {
                Grantee::Org("carehealth".parse().unwrap())
            } else {
                Grantee::Actor("carehealth/adjudicator".parse().unwrap())
            },
            purposes,
            categories: if categories.is_empty() {
                vec![Category::All]
            } else {
                categories
            },
            start,
            end: len.map(|l| start + l),
            custodian: OrgId::new("st-mary").unwrap(),
            status: ConsentStatus::Active,
            revoked_at: None,
        })
}

proptest! {
    #[test]
    fn export_then_import_gives_the_same_grant(r in record()) {
        let map = BTreeMap::new();
        let ctx = ImportContext { patient_key: b"k", grantees: &map };
        let grants = import_consent(&export_consent(&r), &ctx).unwrap();
        prop_assert_eq!(grants.len(), 1);
        let g = &grants[0];
        prop_assert_eq!(&g.patient, &r.patient);
        prop_assert_eq!(&g.grantee, &r.grantee);
        prop_assert_eq!(&g.purposes, &r.purposes);
        prop_assert_eq!(&g.categories, &r.categories);
        prop_assert_eq!((g.start, g.end), (r.start, r.end));
    }
}

fn conformance() -> Option<PathBuf> {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/conformance/fhir-r4"
    ));
    if dir.join("manifest.jsonl").exists() {
        Some(dir)
    } else {
        None
    }
}

#[test]
fn hl7_consent_examples_import_or_are_refused_with_a_code() {
    let Some(dir) = conformance() else {
        eprintln!("SKIPPED: ../shared/conformance/fhir-r4 is absent");
        return;
    };
    let manifest = std::fs::read_to_string(dir.join("manifest.jsonl")).unwrap();
    let mut grantees = BTreeMap::new();
    grantees.insert(
        "Organization/f001".to_string(),
        Grantee::Org("st-mary".parse().unwrap()),
    );
    grantees.insert(
        "Organization/f203".to_string(),
        Grantee::Org("carehealth".parse().unwrap()),
    );
    grantees.insert(
        "Practitioner/f204".to_string(),
        Grantee::Actor("st-mary/surgeon".parse().unwrap()),
    );
    let ctx = ImportContext {
        patient_key: b"test key",
        grantees: &grantees,
    };
    let (mut imported, mut refused) = (0, BTreeMap::<&str, usize>::new());
    for line in manifest.lines() {
        let entry: Value = serde_json::from_str(line).unwrap();
        if entry["resourceType"] != "Consent" {
            continue;
        }
        let resource: Value = serde_json::from_slice(
            &std::fs::read(dir.join(entry["path"].as_str().unwrap())).unwrap(),
        )
        .unwrap();
        match import_consent(&resource, &ctx) {
            Ok(grants) => {
                imported += 1;
                for g in grants {
                    assert!(!g.purposes.is_empty() && !g.categories.is_empty());
                }
            }
            Err(e) => {
                assert!(
                    e.code.starts_with("FHIR_") && !e.message.is_empty(),
                    "{e:?}"
                );
                // a refusal never echoes a patient's name or reference
                assert!(!e.message.contains("Patient/"), "{e:?}");
                *refused.entry(e.code).or_default() += 1;
            }
        }
    }
    eprintln!("fhir-r4 Consent examples: {imported} imported, refused by code: {refused:?}");
    assert!(
        imported + refused.values().sum::<usize>() >= 10,
        "the examples were not found"
    );
    assert!(
        refused.contains_key("FHIR_DENY_NOT_SUPPORTED"),
        "the opt-out examples must be refused as such"
    );
}
