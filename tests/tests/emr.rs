//! EMR access end to end on a real server: St Mary's stores a lab result (sealed in its
//! own store, digest on the ledger); the payer is denied, then granted consent and served,
//! then revoked and denied again; an expired consent does not serve; the stored row is
//! altered and the next fetch reports tampering. Every access shows in the patient's
//! access log, which the patient reads with their own token; the audit passes.

use e2e::{Peer, pedigree};
use ledger::hash::sha256;
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;

const DAY: i64 = 86_400_000;

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn token(dir: &Path, actor: &str) -> String {
    let text = std::fs::read_to_string(dir.join("demo-credentials.json")).unwrap();
    let creds: Value = serde_json::from_str(&text).unwrap();
    creds["actors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == actor)
        .unwrap_or_else(|| panic!("no demo actor {actor}"))["token"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Status, headers we care about, and the body bytes.
struct Answer {
    status: u16,
    access_event: Option<String>,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

fn call(r: Result<ureq::Response, ureq::Error>) -> Answer {
    let resp = match r {
        Ok(resp) => resp,
        Err(ureq::Error::Status(_, resp)) => resp,
        Err(e) => panic!("transport error: {e}"),
    };
    let status = resp.status();
    let access_event = resp.header("x-pedigree-access-event").map(str::to_string);
    let mut body = Vec::new();
    std::io::Read::read_to_end(&mut resp.into_reader(), &mut body).unwrap();
    Answer {
        status,
        access_event,
        body,
    }
}

fn fetch(peer: &Peer, token: &str, document: &str, purpose: &str) -> Answer {
    call(
        ureq::get(&format!("{}/emr/{document}?purpose={purpose}", peer.url))
            .set("authorization", &format!("Bearer {token}"))
            .timeout(Duration::from_secs(20))
            .call(),
    )
}

fn store(peer: &Peer, token: &str, body: &Value) -> Answer {
    call(
        ureq::post(&format!("{}/emr", peer.url))
            .set("authorization", &format!("Bearer {token}"))
            .timeout(Duration::from_secs(20))
            .send_json(body),
    )
}

fn gql(peer: &Peer, token: &str, query: &str, variables: Value) -> Value {
    let a = call(
        ureq::post(&format!("{}/graphql", peer.url))
            .set("authorization", &format!("Bearer {token}"))
            .timeout(Duration::from_secs(20))
            .send_json(json!({"query": query, "variables": variables})),
    );
    assert_eq!(a.status, 200);
    a.json()
}

fn error_code(answer: &Value) -> Option<&str> {
    answer["errors"][0]["extensions"]["code"].as_str()
}

const GRANT: &str =
    "mutation($i: GrantConsentInput!) { grantConsent(input: $i) { id status custodian } }";
const LOG: &str = "query($p: String) { accessLog(patient: $p) { org actor purpose granted reason tampered consent } }";

#[test]
fn store_grant_fetch_revoke_deny_and_detect_tampering() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("peer");
    let mut peer = Peer::serve(&dir, &["--demo", "--no-seed"]).unwrap();
    assert!(
        dir.join("keys/emr.key").exists(),
        "init creates the EMR key"
    );
    let hospital = token(&dir, "st-mary/admin");
    let surgeon = token(&dir, "st-mary/surgeon");
    let payer = token(&dir, "carehealth/adjudicator");
    let agency = token(&dir, "medicines-agency/inspector");
    let patient = sha256(b"e2e patient keyed hash").to_hex();
    let letter = b"Haemoglobin 13.5 g/dL; ferritin within range.".to_vec();

    // store: sealed at rest, digest on the ledger
    let stored = store(
        &peer,
        &hospital,
        &json!({"patient": patient, "document": "lab-0001", "category": "lab", "content": base64(&letter)}),
    );
    assert_eq!(stored.status, 201, "{}", stored.json());
    assert_eq!(stored.json()["digest"], sha256(&letter).to_hex());
    let raw = std::fs::read(dir.join("emr.sqlite")).unwrap_or_default();
    let wal = std::fs::read(dir.join("emr.sqlite-wal")).unwrap_or_default();
    for bytes in [&raw, &wal] {
        assert!(
            !bytes.windows(11).any(|w| w == b"Haemoglobin"),
            "stored in clear"
        );
    }
    let again = store(
        &peer,
        &hospital,
        &json!({"patient": patient, "document": "lab-0001", "category": "lab", "content": base64(b"other")}),
    );
    assert_eq!(
        (again.status, again.json()["code"].clone()),
        (409, json!("DUPLICATE_DOCUMENT"))
    );
    let bad = store(
        &peer,
        &hospital,
        &json!({"patient": "Jane Doe", "document": "lab-0002", "category": "lab", "content": base64(b"x")}),
    );
    assert_eq!(bad.status, 400);
    assert!(!String::from_utf8_lossy(&bad.body).contains("Jane"));
    // only a hospital keeps records: refused by the ledger, and nothing stays in the store
    let refused = store(
        &peer,
        &payer,
        &json!({"patient": patient, "document": "lab-0003", "category": "lab", "content": base64(b"x")}),
    );
    assert_eq!(
        (refused.status, refused.json()["code"].clone()),
        (422, json!("NOT_A_HOSPITAL"))
    );

    // no consent yet: denied, and recorded
    let denied = fetch(&peer, &payer, "lab-0001", "payment");
    assert_eq!(denied.status, 403);
    assert_eq!(denied.json()["code"], "CONSENT_DENIED");
    assert_eq!(denied.json()["reason"], "NO_CONSENT");
    assert!(!String::from_utf8_lossy(&denied.body).contains("Haemoglobin"));

    // consent granted: served, and recorded
    let g = gql(
        &peer,
        &hospital,
        GRANT,
        json!({"i": {"patient": patient, "grantee": {"org": "carehealth"}, "purposes": ["PAYMENT"], "categories": ["LAB"], "start": now() - DAY}}),
    );
    let consent = g["data"]["grantConsent"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{g}"))
        .to_string();
    assert_eq!(g["data"]["grantConsent"]["custodian"], "st-mary");
    let served = fetch(&peer, &payer, "lab-0001", "payment");
    assert_eq!(served.status, 200, "{}", served.json());
    assert_eq!(served.body, letter);
    assert!(served.access_event.is_some());
    // the consent covers payment, not research
    assert_eq!(
        fetch(&peer, &payer, "lab-0001", "research").json()["reason"],
        "PURPOSE_NOT_COVERED"
    );

    // revoked: the next access is denied, and recorded
    let r = gql(
        &peer,
        &hospital,
        "mutation($c: ID!) { revokeConsent(consent: $c) { status revokedAt } }",
        json!({"c": consent}),
    );
    assert_eq!(r["data"]["revokeConsent"]["status"], "REVOKED", "{r}");
    let after = fetch(&peer, &payer, "lab-0001", "payment");
    assert_eq!(after.status, 403);
    assert_eq!(after.json()["reason"], "CONSENT_REVOKED");

    // an expired consent does not serve
    let g = gql(
        &peer,
        &hospital,
        GRANT,
        json!({"i": {"patient": patient, "grantee": {"org": "medicines-agency"}, "purposes": ["RESEARCH"], "categories": ["ALL"], "start": now() - 3 * DAY, "end": now() - DAY}}),
    );
    assert!(g["errors"].is_null(), "{g}");
    let expired = fetch(&peer, &agency, "lab-0001", "research");
    assert_eq!(
        (expired.status, expired.json()["reason"].clone()),
        (403, json!("CONSENT_EXPIRED"))
    );

    // the custodian reads its own record for treatment
    assert_eq!(fetch(&peer, &surgeon, "lab-0001", "treatment").body, letter);

    // a larger binary document (an image) round-trips byte for byte
    let image: Vec<u8> = (0..400_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let stored = store(
        &peer,
        &hospital,
        &json!({"patient": patient, "document": "img-0001", "category": "imaging", "content": base64(&image)}),
    );
    assert_eq!(stored.status, 201, "{}", stored.json());
    assert_eq!(fetch(&peer, &surgeon, "img-0001", "treatment").body, image);

    // someone alters the sealed row at rest: the next fetch reports tampering
    {
        let db = rusqlite::Connection::open(dir.join("emr.sqlite")).unwrap();
        let mut sealed: Vec<u8> = db
            .query_row(
                "SELECT sealed FROM emr WHERE document = 'lab-0001'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        sealed[3] ^= 0x20;
        db.execute(
            "UPDATE emr SET sealed = ?1 WHERE document = 'lab-0001'",
            rusqlite::params![sealed],
        )
        .unwrap();
    }
    let tampered = fetch(&peer, &surgeon, "lab-0001", "treatment");
    assert_eq!(tampered.status, 409);
    assert_eq!(tampered.json()["code"], "EMR_TAMPERED");
    assert!(tampered.json()["access_event"].is_string());

    // every access is in the log, in order, with its reason
    let log = gql(&peer, &hospital, LOG, json!({"p": patient}));
    let rows: Vec<(String, bool, String, bool)> = log["data"]["accessLog"]
        .as_array()
        .unwrap_or_else(|| panic!("{log}"))
        .iter()
        .map(|a| {
            (
                a["org"].as_str().unwrap().to_string(),
                a["granted"].as_bool().unwrap(),
                a["reason"].as_str().unwrap().to_string(),
                a["tampered"].as_bool().unwrap(),
            )
        })
        .collect();
    let row = |org: &str, granted, reason: &str, tampered| {
        (org.to_string(), granted, reason.to_string(), tampered)
    };
    assert_eq!(
        rows,
        vec![
            row("carehealth", false, "NO_CONSENT", false),
            row("carehealth", true, "CONSENT", false),
            row("carehealth", false, "PURPOSE_NOT_COVERED", false),
            row("carehealth", false, "CONSENT_REVOKED", false),
            row("medicines-agency", false, "CONSENT_EXPIRED", false),
            row("st-mary", true, "CUSTODIAN", false),
            row("st-mary", true, "CUSTODIAN", false),
            row("st-mary", true, "CUSTODIAN", true),
        ]
    );

    // roles: a regulator reads any patient; a hospital pharmacist may not grant
    let read = gql(&peer, &agency, LOG, json!({"p": patient}));
    assert_eq!(
        read["data"]["accessLog"].as_array().map(Vec::len),
        Some(8),
        "{read}"
    );
    let pharmacist = token(&dir, "st-mary/pharmacist");
    let g = gql(
        &peer,
        &pharmacist,
        GRANT,
        json!({"i": {"patient": patient, "grantee": {"org": "carehealth"}, "purposes": ["PAYMENT"], "categories": ["ALL"]}}),
    );
    assert_eq!(error_code(&g), Some("FORBIDDEN"), "{g}");
    // the payer may not read the patient's log; the patient reads their own
    assert_eq!(
        error_code(&gql(&peer, &payer, LOG, json!({"p": patient}))),
        Some("FORBIDDEN")
    );
    let out = pedigree(&[
        "token",
        "create",
        "--data-dir",
        dir.to_str().unwrap(),
        "--actor",
        "st-mary/admin",
        "--patient",
        &patient,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let created: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mine = created["token"].as_str().unwrap();
    let index = gql(
        &peer,
        mine,
        "{ personalIndex { documents { document custodian digest } accesses { org time granted } consents { status } } }",
        json!({}),
    );
    let pi = &index["data"]["personalIndex"];
    let lab = pi["documents"]
        .as_array()
        .unwrap_or_else(|| panic!("{index}"))
        .iter()
        .find(|d| d["document"] == "lab-0001")
        .expect("the lab result is in the patient's index");
    assert_eq!(lab["custodian"], "st-mary");
    assert_eq!(lab["digest"], sha256(&letter).to_hex());
    assert_eq!(pi["accesses"].as_array().unwrap().len(), 8);
    assert_eq!(pi["documents"].as_array().unwrap().len(), 2);
    let other = sha256(b"someone else").to_hex();
    assert_eq!(
        error_code(&gql(&peer, mine, LOG, json!({"p": other}))),
        Some("FORBIDDEN")
    );
    // a patient's token does nothing else
    assert_eq!(
        error_code(&gql(&peer, mine, "{ recalls { id } }", json!({}))),
        Some("UNAUTHENTICATED")
    );
    assert_eq!(fetch(&peer, mine, "lab-0001", "treatment").status, 401);
    // the patient grants research consent themselves (signed by their hospital's actor)
    let g = gql(
        &peer,
        mine,
        GRANT,
        json!({"i": {"grantee": {"org": "medicines-agency"}, "purposes": ["RESEARCH"], "categories": ["LAB"]}}),
    );
    assert_eq!(g["data"]["grantConsent"]["status"], "ACTIVE", "{g}");

    peer.stop();
    let audit = pedigree(&["audit", "--data-dir", dir.to_str().unwrap()]);
    assert!(
        audit.status.success(),
        "{}",
        String::from_utf8_lossy(&audit.stdout)
    );
}
