//! FHIR Claim and ClaimResponse: round trips (property tests), the exported shapes
//! (snapshots in `tests/snapshots/`, rewritten with UPDATE_SNAPSHOTS=1), and every refusal.

use claims::fhir::{
    ClaimDecision, FhirError, ImportContext, codes, export_claim, export_claim_response,
    import_claim, import_claim_response,
};
use claims::{ClaimRecord, ClaimStatus, ItemKind, Line, LineResult, Outcome, Submit};
use ledger::{EventId, OrgId, PatientRef};
use proptest::prelude::*;
use serde_json::{Value, json};

const CREATED: i64 = 1_763_900_000_123;

fn org(s: &str) -> OrgId {
    s.parse().unwrap()
}

fn ctx(provider: &str) -> ImportContext<'static> {
    ImportContext {
        provider: org(provider),
        organizations: [("Organization/2".to_string(), org("carehealth"))].into(),
        pseudonymise: None,
    }
}

fn sample() -> ClaimRecord {
    ClaimRecord {
        provider: org("st-mary"),
        claim: "RX-2026-001".into(),
        patient: PatientRef::new(&"ab".repeat(32)).unwrap(),
        payer: org("carehealth"),
        lines: vec![
            Line {
                sequence: 1,
                kind: ItemKind::Drug,
                gtin: "00614141100019".into(),
                serial: "AMX0001".into(),
                event: EventId([1; 32]),
                date: 1_763_856_000_000, // midnight UTC: a servicedDate
                amount_cents: 4250,
            },
            Line {
                sequence: 2,
                kind: ItemKind::Device,
                gtin: "08600010000016".into(),
                serial: "PM-77".into(),
                event: EventId([2; 32]),
                date: 1_763_899_123_456, // a time of day: a servicedPeriod
                amount_cents: 1_250_000,
            },
        ],
        submitted: EventId([3; 32]),
        status: ClaimStatus::Adjudicated,
        outcome: Some(Outcome::Partial),
        results: vec![
            LineResult {
                sequence: 1,
                approved: true,
                reason: "APPROVED".into(),
                approved_cents: 4250,
            },
            LineResult {
                sequence: 2,
                approved: false,
                reason: "RECALLED_UNIT".into(),
                approved_cents: 0,
            },
        ],
        adjudicated: Some(EventId([4; 32])),
    }
}

fn submit_of(c: &ClaimRecord) -> Submit {
    Submit {
        claim: c.claim.clone(),
        patient: c.patient.clone(),
        payer: c.payer.clone(),
        lines: c.lines.clone(),
    }
}

fn snapshot(name: &str, value: &Value) {
    let path = format!("{}/tests/snapshots/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = serde_json::to_string_pretty(value).unwrap() + "\n";
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(std::path::Path::new(&path).parent().unwrap()).unwrap();
        std::fs::write(&path, &text).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == text,
        "{name} changed; review and rerun with UPDATE_SNAPSHOTS=1:\n{text}"
    );
}

#[test]
fn exported_shapes_match_the_snapshots() {
    let c = sample();
    snapshot("claim.json", &export_claim(&c, CREATED));
    snapshot("claim_response.json", &export_claim_response(&c, CREATED));
    let mut queued = c.clone();
    queued.status = ClaimStatus::Submitted;
    queued.outcome = None;
    queued.results.clear();
    queued.adjudicated = None;
    snapshot(
        "claim_response_queued.json",
        &export_claim_response(&queued, CREATED),
    );
}

#[test]
fn the_sample_round_trips() {
    let c = sample();
    assert_eq!(
        import_claim(&export_claim(&c, CREATED), &ctx("st-mary")),
        Ok(submit_of(&c))
    );
    assert_eq!(
        import_claim_response(&export_claim_response(&c, CREATED)),
        Ok(ClaimDecision {
            provider: c.provider.clone(),
            claim: c.claim.clone(),
            outcome: c.outcome,
            results: c.results.clone(),
        })
    );
}

fn refused(claim: &Value, ctx: &ImportContext<'_>) -> &'static str {
    match import_claim(claim, ctx) {
        Err(FhirError { code, message }) => {
            assert!(!message.is_empty());
            // never echoes the patient
            assert!(!message.contains(&"ab".repeat(32)), "{message}");
            code
        }
        Ok(s) => panic!("imported: {s:?}"),
    }
}

#[test]
fn every_claim_refusal_has_its_code() {
    let good = export_claim(&sample(), CREATED);
    let c = ctx("st-mary");
    let with = |f: &dyn Fn(&mut Value)| {
        let mut v = good.clone();
        f(&mut v);
        v
    };
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"resourceType": "Patient"}),
            codes::FHIR_WRONG_RESOURCE,
        ),
        (
            with(&|v| v["status"] = "draft".into()),
            codes::FHIR_NOT_ACTIVE,
        ),
        (with(&|v| v["status"] = "nope".into()), codes::FHIR_INVALID),
        (
            with(&|v| v["use"] = "preauthorization".into()),
            codes::FHIR_NOT_A_CLAIM,
        ),
        (
            with(&|v| v["identifier"][0]["value"] = "a claim".into()),
            codes::FHIR_BAD_CLAIM_NUMBER,
        ),
        (
            with(&|v| v["patient"] = json!({"reference": "#p1"})),
            codes::FHIR_CONTAINED_PATIENT,
        ),
        (
            with(&|v| v["patient"] = json!({"reference": "Patient/1"})),
            codes::FHIR_UNMAPPED_PATIENT,
        ),
        (
            with(&|v| {
                v["patient"] = json!({"identifier": {"system": "urn:pedigree:patient-ref", "value": "Jane Doe"}})
            }),
            codes::FHIR_UNMAPPED_PATIENT,
        ),
        (
            with(&|v| v["insurer"] = json!({"reference": "Organization/9"})),
            codes::FHIR_UNMAPPED_INSURER,
        ),
        (
            with(&|v| v["provider"] = json!({"display": "somebody"})),
            codes::FHIR_UNMAPPED_PROVIDER,
        ),
        (
            with(&|v| v["provider"]["identifier"]["value"] = "city-pharmacy".into()),
            codes::FHIR_PROVIDER_MISMATCH,
        ),
        (with(&|v| v["item"] = json!([])), codes::FHIR_ITEM_COUNT),
        (
            with(&|v| {
                v["item"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("extension")
                    .map(drop)
                    .unwrap()
            }),
            codes::FHIR_NO_LEDGER_EVENT,
        ),
        (
            with(&|v| v["item"][0]["extension"][0]["valueIdentifier"]["value"] = "xyz".into()),
            codes::FHIR_INVALID,
        ),
        (
            with(&|v| v["item"][0]["productOrService"] = json!({"coding": [{"code": "1200"}]})),
            codes::FHIR_NO_GTIN,
        ),
        (
            with(&|v| {
                v["item"][0]["extension"]
                    .as_array_mut()
                    .unwrap()
                    .truncate(1)
            }),
            codes::FHIR_NO_UNIT,
        ),
        (
            with(&|v| v["item"][0]["udi"] = json!([{"reference": "#device-2"}])),
            codes::FHIR_AMBIGUOUS_UNIT,
        ),
        (
            with(&|v| v["item"][1]["udi"] = json!([{"reference": "Device/example"}])),
            codes::FHIR_UNRESOLVED_UDI,
        ),
        (
            with(&|v| {
                v["contained"][0]["udiCarrier"][0]["deviceIdentifier"] = "00000000000017".into()
            }),
            codes::FHIR_UNRESOLVED_UDI,
        ),
        (
            with(&|v| v["item"][0]["detail"] = json!([{"sequence": 1}])),
            codes::FHIR_ITEM_DETAIL,
        ),
        (
            with(&|v| drop(v["item"][0].as_object_mut().unwrap().remove("servicedDate"))),
            codes::FHIR_NO_DATE,
        ),
        (
            with(&|v| v["item"][0]["servicedDate"] = "2026-02-30".into()),
            codes::FHIR_INVALID,
        ),
        (
            with(&|v| v["item"][0]["net"]["value"] = json!(42.505)),
            codes::FHIR_BAD_AMOUNT,
        ),
        (
            with(&|v| v["item"][0]["net"]["value"] = json!(-1)),
            codes::FHIR_BAD_AMOUNT,
        ),
        (
            with(&|v| {
                v["item"][0]["net"]["currency"] = "EUR".into();
                v["item"][1]["net"]["currency"] = "USD".into();
            }),
            codes::FHIR_MIXED_CURRENCY,
        ),
        (
            with(&|v| v["total"]["value"] = json!(1)),
            codes::FHIR_TOTAL_MISMATCH,
        ),
        (
            with(&|v| v["item"][1]["sequence"] = 1.into()),
            codes::FHIR_INVALID,
        ),
    ];
    for (claim, code) in cases {
        assert_eq!(refused(&claim, &c), code, "{claim}");
    }
}

#[test]
fn references_map_to_members_and_keyed_hashes() {
    let mut v = export_claim(&sample(), CREATED);
    v["insurer"] = json!({"reference": "Organization/2"});
    v["patient"] = json!({"reference": "Patient/1"});
    // a GTIN-13 on the drug line is read as GTIN-14
    v["item"][0]["productOrService"]["coding"][0]["code"] = "0614141100019".into();
    let hashed = PatientRef::new(&"cd".repeat(32)).unwrap();
    let hash = |r: &str| {
        assert_eq!(r, "Patient/1");
        PatientRef::new(&"cd".repeat(32)).unwrap()
    };
    let context = ImportContext {
        pseudonymise: Some(&hash),
        ..ctx("st-mary")
    };
    let s = import_claim(&v, &context).unwrap();
    assert_eq!(s.patient, hashed);
    assert_eq!(s.payer, org("carehealth"));
    assert_eq!(s.lines[0].gtin, "00614141100019");
    // a device line may give its serial only in the UDI's human-readable form
    let mut v = export_claim(&sample(), CREATED);
    drop(
        v["contained"][0]
            .as_object_mut()
            .unwrap()
            .remove("serialNumber"),
    );
    assert_eq!(
        import_claim(&v, &ctx("st-mary")).unwrap().lines[1].serial,
        "PM-77"
    );
}

#[test]
fn claim_response_refusals() {
    let good = export_claim_response(&sample(), CREATED);
    let with = |f: &dyn Fn(&mut Value)| {
        let mut v = good.clone();
        f(&mut v);
        v
    };
    let cases: Vec<(Value, &str)> = vec![
        (json!({"resourceType": "Claim"}), codes::FHIR_WRONG_RESOURCE),
        (
            with(&|v| v["status"] = "cancelled".into()),
            codes::FHIR_NOT_ACTIVE,
        ),
        (
            with(&|v| v["use"] = "preauthorization".into()),
            codes::FHIR_NOT_A_CLAIM,
        ),
        (
            with(&|v| v["outcome"] = "maybe".into()),
            codes::FHIR_INVALID,
        ),
        (
            with(&|v| {
                v["outcome"] = "error".into();
                v["item"] = json!([]);
            }),
            codes::FHIR_NO_DECISION,
        ),
        (
            with(&|v| v["request"] = json!({"reference": "Claim/100156"})),
            codes::FHIR_UNKNOWN_REQUEST,
        ),
        (
            with(&|v| {
                v["item"][0]["adjudication"][1]["reason"]["coding"][0]["system"] = "x".into()
            }),
            codes::FHIR_FOREIGN_ADJUDICATION,
        ),
        (
            with(&|v| v["outcome"] = "complete".into()),
            codes::FHIR_OUTCOME_MISMATCH,
        ),
        (
            with(&|v| v["outcome"] = "queued".into()),
            codes::FHIR_OUTCOME_MISMATCH,
        ),
    ];
    for (v, code) in cases {
        assert_eq!(
            import_claim_response(&v).map_err(|e| e.code),
            Err(code),
            "{v}"
        );
    }
}

fn line_strategy() -> impl Strategy<Value = (Line, bool, &'static str)> {
    let reasons = prop::sample::select(vec![
        "PHANTOM_DISPENSE",
        "NOT_DISPENSED_BY_CLAIMANT",
        "DUPLICATE_BILLING",
        "RECALLED_UNIT",
        "EXPIRED_UNIT",
        "NO_PAYMENT_CONSENT",
    ]);
    (
        prop::bool::ANY,
        "[0-9]{14}",
        "[A-Za-z0-9._/-]{1,20}",
        any::<[u8; 32]>(),
        prop_oneof![
            0i64..4_102_444_800_000,
            (0i64..47_000).prop_map(|d| d * 86_400_000)
        ],
        0u64..1_000_000_000_000,
        prop::bool::ANY,
        reasons,
    )
        .prop_map(
            |(device, gtin, serial, event, date, amount_cents, approved, reason)| {
                let line = Line {
                    sequence: 0,
                    kind: if device {
                        ItemKind::Device
                    } else {
                        ItemKind::Drug
                    },
                    gtin,
                    serial,
                    event: EventId(event),
                    date,
                    amount_cents,
                };
                (line, approved, reason)
            },
        )
}

fn record_strategy() -> impl Strategy<Value = ClaimRecord> {
    (
        prop::sample::select(vec!["city-pharmacy", "st-mary"]),
        "[A-Za-z0-9._-]{1,64}",
        any::<[u8; 32]>(),
        prop::collection::vec(line_strategy(), 1..12),
        prop::bool::ANY,
    )
        .prop_map(|(provider, claim, patient, lines, adjudicated)| {
            let mut results = Vec::new();
            let mut out = Vec::new();
            for (i, (mut l, approved, reason)) in lines.into_iter().enumerate() {
                l.sequence = 3 * i as u32 + 1;
                results.push(LineResult {
                    sequence: l.sequence,
                    approved,
                    reason: if approved { "APPROVED" } else { reason }.into(),
                    approved_cents: if approved { l.amount_cents } else { 0 },
                });
                out.push(l);
            }
            let approved = results.iter().filter(|r| r.approved).count();
            let outcome = match approved {
                0 => Outcome::Denied,
                n if n == results.len() => Outcome::Approved,
                _ => Outcome::Partial,
            };
            ClaimRecord {
                provider: org(provider),
                claim,
                patient: PatientRef::new(&hex::encode(patient)).unwrap(),
                payer: org("carehealth"),
                lines: out,
                submitted: EventId(ledger::hash::sha256(&patient).0),
                status: if adjudicated {
                    ClaimStatus::Adjudicated
                } else {
                    ClaimStatus::Submitted
                },
                outcome: adjudicated.then_some(outcome),
                results: if adjudicated { results } else { vec![] },
                adjudicated: adjudicated.then_some(EventId([9; 32])),
            }
        })
}

proptest! {
    #[test]
    fn claims_round_trip_through_fhir(c in record_strategy(), created in 0i64..4_102_444_800_000) {
        let exported = export_claim(&c, created);
        prop_assert_eq!(import_claim(&exported, &ctx(c.provider.as_str())), Ok(submit_of(&c)));
        // and through JSON text, as they travel
        let text = serde_json::to_string(&exported).unwrap();
        let parsed: Value = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(import_claim(&parsed, &ctx(c.provider.as_str())), Ok(submit_of(&c)));
    }

    #[test]
    fn claim_responses_round_trip_through_fhir(c in record_strategy()) {
        let text = serde_json::to_string(&export_claim_response(&c, CREATED)).unwrap();
        let parsed: Value = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(
            import_claim_response(&parsed),
            Ok(ClaimDecision {
                provider: c.provider.clone(),
                claim: c.claim.clone(),
                outcome: c.outcome,
                results: c.results.clone(),
            })
        );
    }
}
