use crate::state::{ConsentRecord, ConsentStatus, decide_among};
use crate::{Category, Consent, Grantee, Purpose, access_log, consent, patient_index};
use fixtures::{Outcome, TestNet};
use ledger::hash::sha256;
use ledger::{EventId, Ledger, Modules, OrgId, PatientRef};
use proptest::prelude::*;
use serde_json::{Value, json};

/// The consent module on a one-peer test ledger.
struct Net(TestNet);

const DAY: i64 = 86_400_000;

fn patient(n: u8) -> PatientRef {
    PatientRef::new(&sha256(&[n]).to_hex()).unwrap()
}

impl Net {
    fn new() -> Self {
        Self(TestNet::new(
            Modules::new().with(Consent),
            1_700_000_000_000,
        ))
    }

    fn send(&self, actor: &str, kind: &str, payload: Value) -> (EventId, Outcome) {
        self.0.send(actor, "consent", kind, payload)
    }

    fn ok(&self, actor: &str, kind: &str, payload: Value) -> EventId {
        self.0.ok(actor, "consent", kind, payload)
    }

    fn ledger(&self) -> &Ledger {
        &self.0.ledger
    }

    /// Blocks take the orderer's clock, so "now" for consent periods is the wall clock.
    fn now(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64
    }
}

fn grant(
    p: &PatientRef,
    grantee: Value,
    purposes: &[&str],
    categories: &[&str],
    start: i64,
    end: Option<i64>,
) -> Value {
    json!({"patient": p, "grantee": grantee, "purposes": purposes, "categories": categories, "start": start, "end": end})
}

#[test]
fn access_follows_consent_and_every_decision_is_recorded() {
    let net = Net::new();
    let p = patient(1);
    let t = net.now();
    net.ok("st-mary/surgeon", "register_document", json!({"patient": p, "document": "doc-1", "digest": sha256(b"discharge letter"), "category": "medication"}));
    // the payer has no consent yet: denied, and the denial is recorded
    let (denied, r) = net.send(
        "carehealth/adjudicator",
        "access",
        json!({"document": "doc-1", "purpose": "payment"}),
    );
    assert_eq!(r, Ok(None), "a denied access is recorded, not refused");
    // the custodian reads its own records for treatment
    net.ok(
        "st-mary/surgeon",
        "access",
        json!({"document": "doc-1", "purpose": "treatment"}),
    );
    let c = net.ok(
        "st-mary/admin",
        "grant",
        grant(
            &p,
            json!({"org": "carehealth"}),
            &["payment"],
            &["medication"],
            t - DAY,
            Some(t + 30 * DAY),
        ),
    );
    let allowed = net.ok(
        "carehealth/adjudicator",
        "access",
        json!({"document": "doc-1", "purpose": "payment"}),
    );
    // research is not covered by that consent
    net.ok(
        "carehealth/adjudicator",
        "access",
        json!({"document": "doc-1", "purpose": "research"}),
    );
    // revocation takes effect for the next access
    net.ok("st-mary/admin", "revoke", json!({"consent": c}));
    let after = net.ok(
        "carehealth/adjudicator",
        "access",
        json!({"document": "doc-1", "purpose": "payment"}),
    );

    let log = access_log(net.ledger(), &p).unwrap();
    let summary: Vec<(String, bool, &str)> = log
        .iter()
        .map(|a| (a.org.to_string(), a.granted, a.reason.as_str()))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("carehealth".into(), false, "NO_CONSENT"),
            ("st-mary".into(), true, "CUSTODIAN"),
            ("carehealth".into(), true, "CONSENT"),
            ("carehealth".into(), false, "PURPOSE_NOT_COVERED"),
            ("carehealth".into(), false, "CONSENT_REVOKED"),
        ]
    );
    assert_eq!(log[0].event, denied);
    assert_eq!(log[2].event, allowed);
    assert_eq!(log[2].consent, Some(c));
    assert_eq!(log[4].event, after);
    let index = patient_index(net.ledger(), &p).unwrap();
    assert_eq!(index.documents.len(), 1);
    assert_eq!(index.documents[0].digest, sha256(b"discharge letter"));
    assert_eq!(index.consents[0].status, ConsentStatus::Revoked);
    assert!(
        consent(net.ledger(), &c)
            .unwrap()
            .unwrap()
            .revoked_at
            .is_some()
    );
    net.0.assert_audit_passes();
}

#[test]
fn expired_and_future_consents_do_not_grant() {
    let net = Net::new();
    let p = patient(2);
    let t = net.now();
    net.ok("st-mary/admin", "register_document", json!({"patient": p, "document": "img-7", "digest": sha256(b"x-ray"), "category": "imaging"}));
    net.ok(
        "st-mary/admin",
        "grant",
        grant(
            &p,
            json!({"org": "medicines-agency"}),
            &["research"],
            &["all"],
            t - 10 * DAY,
            Some(t - DAY),
        ),
    );
    net.ok(
        "medicines-agency/inspector",
        "access",
        json!({"document": "img-7", "purpose": "research"}),
    );
    net.ok(
        "st-mary/admin",
        "grant",
        grant(
            &p,
            json!({"actor": "carehealth/adjudicator"}),
            &["payment"],
            &["imaging"],
            t + 100 * DAY,
            None,
        ),
    );
    net.ok(
        "carehealth/adjudicator",
        "access",
        json!({"document": "img-7", "purpose": "payment"}),
    );
    // an actor grant does not cover the rest of the organisation
    net.ok(
        "st-mary/admin",
        "grant",
        grant(
            &p,
            json!({"actor": "carehealth/adjudicator"}),
            &["payment"],
            &["lab"],
            t - DAY,
            None,
        ),
    );
    net.ok(
        "carehealth/admin",
        "access",
        json!({"document": "img-7", "purpose": "payment"}),
    );
    net.ok(
        "carehealth/adjudicator",
        "access",
        json!({"document": "img-7", "purpose": "payment"}),
    );
    let reasons: Vec<String> = access_log(net.ledger(), &p)
        .unwrap()
        .into_iter()
        .map(|a| a.reason)
        .collect();
    assert_eq!(
        reasons,
        vec![
            "CONSENT_EXPIRED",
            "CONSENT_NOT_YET_VALID",
            "NO_CONSENT",
            "CONSENT_NOT_YET_VALID"
        ]
    );
}

#[test]
fn who_may_do_what_and_bad_payloads() {
    let net = Net::new();
    let p = patient(3);
    let t = net.now();
    let doc = |id: &str| json!({"patient": p, "document": id, "digest": sha256(id.as_bytes()), "category": "device"});
    // only hospitals keep records
    assert_eq!(
        net.send("city-pharmacy/admin", "register_document", doc("d1"))
            .1,
        Err("NOT_A_HOSPITAL".into())
    );
    net.ok("st-mary/admin", "register_document", doc("d1"));
    assert_eq!(
        net.send("st-mary/admin", "register_document", doc("d1")).1,
        Err("DUPLICATE_DOCUMENT".into())
    );
    assert_eq!(
        net.send(
            "carehealth/adjudicator",
            "access",
            json!({"document": "nope", "purpose": "payment"})
        )
        .1,
        Err("UNKNOWN_DOCUMENT".into())
    );
    assert_eq!(
        net.send(
            "st-mary/admin",
            "grant",
            grant(
                &p,
                json!({"org": "nobody"}),
                &["payment"],
                &["all"],
                t,
                None
            )
        )
        .1,
        Err("UNKNOWN_GRANTEE".into())
    );
    assert_eq!(
        net.send(
            "st-mary/admin",
            "revoke",
            json!({"consent": sha256(b"none")})
        )
        .1,
        Err("UNKNOWN_CONSENT".into())
    );
    let c = net.ok(
        "st-mary/admin",
        "grant",
        grant(
            &p,
            json!({"org": "carehealth"}),
            &["payment"],
            &["all"],
            t,
            None,
        ),
    );
    net.ok("st-mary/admin", "revoke", json!({"consent": c}));
    assert_eq!(
        net.send("st-mary/admin", "revoke", json!({"consent": c})).1,
        Err("ALREADY_REVOKED".into())
    );
    // names, record numbers and free text never pass as a patient reference
    for bad in ["Jane Doe", "MRN-0042"] {
        let (_, r) = net.send(
            "st-mary/admin",
            "register_document",
            json!({"patient": bad, "document": "d9", "digest": sha256(b"d"), "category": "lab"}),
        );
        assert_eq!(r, Err("BAD_PAYLOAD".into()));
    }
    for bad in [
        json!({"patient": p, "document": "has space", "digest": sha256(b"d"), "category": "lab"}),
        json!({"patient": p, "document": "d8", "digest": sha256(b"d"), "category": "gossip"}),
    ] {
        assert_eq!(
            net.send("st-mary/admin", "register_document", bad).1,
            Err("BAD_PAYLOAD".into())
        );
    }
    assert_eq!(
        net.send(
            "st-mary/admin",
            "grant",
            grant(&p, json!({"org": "carehealth"}), &[], &["all"], t, None)
        )
        .1,
        Err("BAD_PAYLOAD".into())
    );
    assert_eq!(
        net.send(
            "st-mary/admin",
            "grant",
            grant(
                &p,
                json!({"org": "carehealth"}),
                &["payment"],
                &["all"],
                t,
                Some(t - 1)
            )
        )
        .1,
        Err("BAD_PAYLOAD".into())
    );
    assert_eq!(
        net.send("st-mary/admin", "erase", json!({})).1,
        Err("UNKNOWN_KIND".into())
    );
}

#[test]
fn recall_notification_needs_consent_and_is_recorded() {
    let net = Net::new();
    let p = patient(4);
    let t = net.now();
    let recall = sha256(b"a trace recall event");
    net.ok("st-mary/admin", "register_document", json!({"patient": p, "document": "implant-1", "digest": sha256(b"op note"), "category": "device"}));
    assert_eq!(
        net.send(
            "st-mary/surgeon",
            "notify_recall",
            json!({"patient": p, "recall": recall})
        )
        .1,
        Err("NO_RECALL_CONSENT".into())
    );
    net.ok(
        "st-mary/admin",
        "grant",
        grant(
            &p,
            json!({"org": "st-mary"}),
            &["recall_notification"],
            &["device"],
            t - DAY,
            None,
        ),
    );
    net.ok(
        "st-mary/surgeon",
        "notify_recall",
        json!({"patient": p, "recall": recall}),
    );
    let recorded = net
        .ledger()
        .events_by_key(format!("consent-recall:{recall}").as_bytes(), 10)
        .unwrap();
    assert_eq!(recorded.len(), 1);
}

fn record(
    grantee: Grantee,
    purposes: Vec<Purpose>,
    categories: Vec<Category>,
    start: i64,
    end: Option<i64>,
    revoked: bool,
) -> ConsentRecord {
    ConsentRecord {
        id: EventId(sha256(format!("{grantee:?}{purposes:?}{start}").as_bytes()).0),
        patient: patient(9),
        grantee,
        purposes,
        categories,
        start,
        end,
        custodian: OrgId::new("st-mary").unwrap(),
        status: if revoked {
            ConsentStatus::Revoked
        } else {
            ConsentStatus::Active
        },
        revoked_at: revoked.then_some(start),
    }
}

fn purpose() -> impl Strategy<Value = Purpose> {
    prop_oneof![
        Just(Purpose::Treatment),
        Just(Purpose::Payment),
        Just(Purpose::Research),
        Just(Purpose::RecallNotification)
    ]
}

fn category() -> impl Strategy<Value = Category> {
    prop_oneof![
        Just(Category::Medication),
        Just(Category::Device),
        Just(Category::Lab),
        Just(Category::All)
    ]
}

fn consent_record() -> impl Strategy<Value = ConsentRecord> {
    (
        any::<bool>(),
        prop::collection::vec(purpose(), 1..3),
        prop::collection::vec(category(), 1..3),
        -5i64..5,
        prop::option::of(-5i64..10),
        any::<bool>(),
    )
        .prop_map(|(org, p, c, start, end, revoked)| {
            let grantee = if org {
                Grantee::Org(OrgId::new("carehealth").unwrap())
            } else {
                Grantee::Actor("carehealth/adjudicator".parse().unwrap())
            };
            record(
                grantee,
                p,
                c,
                start,
                end.map(|e| start + e.abs() + 1),
                revoked,
            )
        })
}

proptest! {
    #[test]
    fn a_grant_always_rests_on_one_consent_that_covers_it(consents in prop::collection::vec(consent_record(), 0..6), p in purpose(), c in category(), at in -6i64..12) {
        let org = OrgId::new("carehealth").unwrap();
        let actor = "carehealth/adjudicator".parse().unwrap();
        let d = decide_among(&consents, &org, &actor, p, c, at);
        let covering = consents.iter().find(|k| {
            k.status == ConsentStatus::Active && k.purposes.contains(&p)
                && (k.categories.contains(&c) || k.categories.contains(&Category::All))
                && k.start <= at && k.end.is_none_or(|e| at < e)
        });
        prop_assert_eq!(d.granted, covering.is_some());
        if let Some(id) = d.consent {
            prop_assert!(consents.iter().any(|k| k.id == id && k.status == ConsentStatus::Active));
        }
        // revoking everything never leaves access granted
        let revoked: Vec<ConsentRecord> = consents.iter().cloned().map(|mut k| { k.status = ConsentStatus::Revoked; k }).collect();
        prop_assert!(!decide_among(&revoked, &org, &actor, p, c, at).granted);
    }
}

#[test]
fn a_tampered_access_is_recorded_as_such_and_the_custodian_told() {
    let net = Net::new();
    let p = patient(5);
    net.ok("st-mary/admin", "register_document", json!({"patient": p, "document": "op-note-1", "digest": sha256(b"op note"), "category": "notes"}));
    let event = net.ok(
        "st-mary/surgeon",
        "access",
        json!({"document": "op-note-1", "purpose": "treatment", "tampered": true}),
    );
    let log = access_log(net.ledger(), &p).unwrap();
    assert_eq!(log.len(), 1);
    assert!(log[0].tampered && log[0].granted);
    assert_eq!(
        crate::access(net.ledger(), &event).unwrap(),
        Some(log[0].clone())
    );
    // an ordinary access leaves the flag out of the payload and the record
    net.ok(
        "st-mary/surgeon",
        "access",
        json!({"document": "op-note-1", "purpose": "treatment"}),
    );
    let log = access_log(net.ledger(), &p).unwrap();
    assert!(!log[1].tampered);
    assert!(
        !serde_json::to_string(&log[1]).unwrap().contains("tampered"),
        "records written before the flag existed read back the same"
    );
    assert_eq!(
        crate::custodian(net.ledger(), &p).unwrap(),
        Some(OrgId::new("st-mary").unwrap())
    );
    net.0.assert_audit_passes();
}
