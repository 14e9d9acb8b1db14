//! The in-memory index against the state-based rule: after any sequence of grants,
//! revocations and document registrations, both answer the same for every question.

use crate::{Category, Consent, ConsentIndex, MODULE, Purpose, decide};
use fixtures::TestNet;
use ledger::hash::sha256;
use ledger::{ActorId, EventId, Modules, OrgId, PatientRef};
use proptest::prelude::*;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

const DAY: i64 = 86_400_000;
const T0: i64 = 1_800_000_000_000;

fn patient(n: u8) -> PatientRef {
    PatientRef::new(&sha256(&[b'p', n]).to_hex()).unwrap()
}

/// Who asks: (organisation, actor).
const ASKERS: [(&str, &str); 4] = [
    ("carehealth", "carehealth/adjudicator"),
    ("carehealth", "carehealth/admin"),
    ("medicines-agency", "medicines-agency/inspector"),
    ("st-mary", "st-mary/surgeon"),
];
const GRANTEES: [(&str, &str); 4] = [
    ("org", "carehealth"),
    ("actor", "carehealth/adjudicator"),
    ("org", "medicines-agency"),
    ("org", "st-mary"),
];
const PURPOSES: [Purpose; 4] = [
    Purpose::Treatment,
    Purpose::Payment,
    Purpose::Research,
    Purpose::RecallNotification,
];
const CATEGORIES: [Category; 6] = [
    Category::Medication,
    Category::Device,
    Category::Lab,
    Category::Imaging,
    Category::Notes,
    Category::All,
];

#[derive(Debug, Clone)]
enum Op {
    Grant {
        patient: u8,
        grantee: usize,
        purposes: Vec<usize>,
        categories: Vec<usize>,
        start: i64,
        days: Option<i64>,
    },
    Revoke(usize),
    Register {
        patient: u8,
        category: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0u8..3, 0..GRANTEES.len(), prop::collection::vec(0..4usize, 1..3), prop::collection::vec(0..6usize, 1..3), -3i64..3, prop::option::of(1i64..4))
            .prop_map(|(patient, grantee, purposes, categories, start, days)| Op::Grant { patient, grantee, purposes, categories, start, days }),
        2 => (0usize..8).prop_map(Op::Revoke),
        1 => (0u8..3, 0..5usize).prop_map(|(patient, category)| Op::Register { patient, category }),
    ]
}

fn snake(v: impl serde::Serialize) -> Value {
    serde_json::to_value(v).unwrap()
}

fn run(net: &TestNet, ops: &[Op], docs: &mut u32) {
    let mut grants: Vec<EventId> = Vec::new();
    for op in ops {
        match op {
            Op::Grant {
                patient: p,
                grantee,
                purposes,
                categories,
                start,
                days,
            } => {
                let (kind, who) = GRANTEES[*grantee];
                let start = T0 + start * DAY;
                let payload = json!({
                    "patient": patient(*p),
                    "grantee": {kind: who},
                    "purposes": purposes.iter().map(|i| snake(PURPOSES[*i])).collect::<Vec<_>>(),
                    "categories": categories.iter().map(|i| snake(CATEGORIES[*i])).collect::<Vec<_>>(),
                    "start": start,
                    "end": days.map(|d| start + d * DAY),
                });
                grants.push(net.ok("st-mary/admin", MODULE, "grant", payload));
            }
            Op::Revoke(i) => {
                if let Some(c) = grants.get(*i) {
                    // a second revocation is refused; either way the state is what it is
                    let _ = net.send("st-mary/admin", MODULE, "revoke", json!({"consent": c}));
                }
            }
            Op::Register {
                patient: p,
                category,
            } => {
                *docs += 1;
                net.ok(
                    "st-mary/admin",
                    MODULE,
                    "register_document",
                    json!({"patient": patient(*p), "document": format!("doc-{docs}"), "digest": sha256(&docs.to_be_bytes()), "category": snake(CATEGORIES[*category])}),
                );
            }
        }
    }
}

/// Every question over the small universe, asked of the index and of state.
fn assert_agrees(net: &TestNet, index: &ConsentIndex) {
    for p in 0u8..3 {
        let p = patient(p);
        for (org, actor) in ASKERS {
            let org = OrgId::new(org).unwrap();
            let actor = ActorId::new(actor).unwrap();
            for purpose in PURPOSES {
                for category in CATEGORIES {
                    for at in [T0 - 4 * DAY, T0 - DAY, T0, T0 + DAY + 1, T0 + 5 * DAY] {
                        let from_state = net
                            .ledger
                            .read(MODULE, |s| {
                                decide(s, &p, &org, &actor, purpose, category, at)
                            })
                            .unwrap();
                        let from_index = index.decide(&p, &org, &actor, purpose, category, at);
                        assert_eq!(
                            from_index, from_state,
                            "{org} {actor} {purpose:?} {category:?} at {at}"
                        );
                    }
                }
            }
        }
    }
}

fn caught_up(net: &TestNet, index: &ConsentIndex) {
    assert!(
        index.wait_for(net.ledger.head().height, Duration::from_secs(30)),
        "the index never caught up with the ledger"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]
    #[test]
    fn the_index_decides_exactly_as_state_does(before in prop::collection::vec(op(), 0..6), after in prop::collection::vec(op(), 1..12)) {
        let net = TestNet::new(Modules::new().with(Consent), T0 - 10 * DAY);
        let mut docs = 0;
        // some history before the index starts (loaded from state), the rest from notices
        run(&net, &before, &mut docs);
        let index = ConsentIndex::start(&net.ledger).unwrap();
        caught_up(&net, &index);
        assert_agrees(&net, &index);
        run(&net, &after, &mut docs);
        caught_up(&net, &index);
        assert_agrees(&net, &index);
        // a fresh load of the same state agrees as well
        assert_agrees(&net, &ConsentIndex::load(&net.ledger).unwrap());
    }
}

#[test]
fn revocation_reaches_the_index_for_the_next_decision_and_documents_are_indexed() {
    let net = TestNet::new(Modules::new().with(Consent), T0 - 10 * DAY);
    let index: Arc<ConsentIndex> = ConsentIndex::start(&net.ledger).unwrap();
    let p = patient(1);
    let payer = OrgId::new("carehealth").unwrap();
    let adjudicator = ActorId::new("carehealth/adjudicator").unwrap();
    net.ok(
        "st-mary/admin",
        MODULE,
        "register_document",
        json!({"patient": p, "document": "lab-1", "digest": sha256(b"lab"), "category": "lab"}),
    );
    let c = net.ok(
        "st-mary/admin",
        MODULE,
        "grant",
        json!({"patient": p, "grantee": {"org": "carehealth"}, "purposes": ["payment"], "categories": ["lab"], "start": T0 - DAY, "end": T0 + DAY}),
    );
    caught_up(&net, &index);
    let (doc, d) = index
        .decide_document("lab-1", &payer, &adjudicator, Purpose::Payment, T0)
        .expect("the document is indexed");
    assert_eq!(doc.digest, sha256(b"lab"));
    assert!(d.granted);
    assert_eq!(d.consent, Some(c));
    // expired
    let late = index.decide(
        &p,
        &payer,
        &adjudicator,
        Purpose::Payment,
        Category::Lab,
        T0 + DAY,
    );
    assert_eq!((late.granted, late.reason), (false, "CONSENT_EXPIRED"));
    net.ok("st-mary/admin", MODULE, "revoke", json!({"consent": c}));
    caught_up(&net, &index);
    let d = index.decide(
        &p,
        &payer,
        &adjudicator,
        Purpose::Payment,
        Category::Lab,
        T0,
    );
    assert_eq!((d.granted, d.reason), (false, "CONSENT_REVOKED"));
    // the custodian reads its own records for treatment
    let st_mary = OrgId::new("st-mary").unwrap();
    let surgeon = ActorId::new("st-mary/surgeon").unwrap();
    assert!(
        index
            .decide(
                &p,
                &st_mary,
                &surgeon,
                Purpose::Treatment,
                Category::Lab,
                T0
            )
            .granted
    );
    assert!(index.document("lab-2").is_none());
    assert!(index.height() >= 3);
}
