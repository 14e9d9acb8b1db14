//! Every Claim and ClaimResponse of the official FHIR R4 examples
//! (`../shared/conformance/fhir-r4`, listed in its `manifest.jsonl`) either imports or is
//! refused with its own stable code and a message. None of them names ledger evidence, so
//! the table below pins down why each one is refused. Skipped, with a notice, when the
//! folder is absent.

use claims::fhir::{FhirError, ImportContext, import_claim, import_claim_response};
use ledger::{OrgId, PatientRef};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;

fn folder() -> Option<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = root.join("../shared/conformance/fhir-r4");
    dir.join("manifest.jsonl").exists().then_some(dir)
}

/// Why each example is refused (resource id → code).
const EXPECTED: &[(&str, &str)] = &[
    ("100150", "FHIR_NO_LEDGER_EVENT"),
    ("100151", "FHIR_NO_LEDGER_EVENT"),
    ("100152", "FHIR_CONTAINED_PATIENT"),
    ("100153", "FHIR_NOT_A_CLAIM"),
    ("100154", "FHIR_UNMAPPED_PATIENT"),
    ("100155", "FHIR_CONTAINED_PATIENT"),
    ("100156", "FHIR_NO_LEDGER_EVENT"),
    ("660150", "FHIR_NO_LEDGER_EVENT"),
    ("660151", "FHIR_ITEM_DETAIL"),
    ("660152", "FHIR_ITEM_DETAIL"),
    ("760150", "FHIR_NO_LEDGER_EVENT"),
    ("760151", "FHIR_ITEM_DETAIL"),
    ("760152", "FHIR_ITEM_DETAIL"),
    ("860150", "FHIR_NO_LEDGER_EVENT"),
    ("960150", "FHIR_NO_LEDGER_EVENT"),
    ("960151", "FHIR_UNMAPPED_PROVIDER"),
    ("MED-00050", "FHIR_CONTAINED_PATIENT"),
    ("R3500", "FHIR_UNKNOWN_REQUEST"),
    ("R3501", "FHIR_NO_DECISION"),
    ("R3502", "FHIR_UNKNOWN_REQUEST"),
    ("R3503", "FHIR_UNKNOWN_REQUEST"),
    ("UR3503", "FHIR_NOT_A_CLAIM"),
];

#[test]
fn every_example_claim_and_response_imports_or_is_refused_with_a_reason() {
    let Some(dir) = folder() else {
        eprintln!(
            "NOTICE: ../shared/conformance/fhir-r4 is absent; FHIR Claim conformance skipped"
        );
        return;
    };
    let manifest = std::fs::read_to_string(dir.join("manifest.jsonl")).unwrap();
    // The examples' organisations stand for demo members, and the importer holds a
    // patient key, so the refusals are about the claims themselves.
    let hash = |_: &str| PatientRef::new(&"ef".repeat(32)).unwrap();
    let ctx = ImportContext {
        provider: "city-pharmacy".parse::<OrgId>().unwrap(),
        organizations: [
            (
                "Organization/1".to_string(),
                "city-pharmacy".parse().unwrap(),
            ),
            ("Organization/2".to_string(), "carehealth".parse().unwrap()),
        ]
        .into(),
        pseudonymise: Some(&hash),
    };
    let mut seen = BTreeMap::new();
    for line in manifest.lines().filter(|l| !l.trim().is_empty()) {
        let entry: Value = serde_json::from_str(line).unwrap();
        let kind = entry["resourceType"].as_str().unwrap();
        if kind != "Claim" && kind != "ClaimResponse" {
            continue;
        }
        let path = dir.join(entry["path"].as_str().unwrap());
        let resource: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let outcome = if kind == "Claim" {
            import_claim(&resource, &ctx).map(drop)
        } else {
            import_claim_response(&resource).map(drop)
        };
        let id = entry["id"].as_str().unwrap().to_string();
        let code = match outcome {
            Ok(()) => "IMPORTED",
            Err(FhirError { code, message }) => {
                assert!(
                    message.len() > 20,
                    "{id}: the reason must say what to change: {message}"
                );
                // personal data of the examples never comes back in a message
                for name in ["Ashcraft", "123AB345", "Patient/1"] {
                    assert!(!message.contains(name), "{id}: {message}");
                }
                eprintln!("{kind}/{id}: {code}: {message}");
                code
            }
        };
        seen.insert(id, code);
    }
    let expected: BTreeMap<String, &str> =
        EXPECTED.iter().map(|(i, c)| (i.to_string(), *c)).collect();
    assert_eq!(seen, expected);
}
