//! The one-command demo: `pedigree serve --demo` seeds a believable history once,
//! writes `demo-credentials.json` with the real port, keeps everything across restarts,
//! and answers the GS1 Digital Link resolver for phones (HTML) and API clients (JSON).

mod graphql_support;

use e2e::Peer;
use graphql_support::{Demo, get_text};
use serde_json::{Value, json};

#[test]
fn demo_is_seeded_once_with_credentials_and_survives_a_restart() {
    let mut demo = Demo::start();
    let creds = demo.credentials();
    assert_eq!(creds["graphql"], format!("{}/graphql", demo.peer.url));
    let actors = creds["actors"].as_array().unwrap();
    assert!(actors.len() >= 17);
    for a in actors {
        assert!(a["id"].is_string() && a["org"].is_string() && a["role"].is_string());
        assert!(a["token"].as_str().unwrap().starts_with("pdg_"));
    }
    let q = "{ chain { height events } recalls(active: true) { gtin lots active } }";
    let before = demo.ok("medicines-agency/inspector", q, json!({}));
    assert!(before["chain"]["height"].as_u64().unwrap() >= 9, "{before}");
    assert_eq!(
        before["recalls"],
        json!([{"gtin": "00614141100057", "lots": ["SAL2604B"], "active": true}])
    );
    // an implanted device: its history never shows the patient reference
    let prov = demo.ok(
        "medicines-agency/inspector",
        "{ provenance(code: \"(01)00860001200010(21)CP0001\") { events { kind payload } } }",
        json!({}),
    );
    let text = prov.to_string();
    assert!(
        text.contains("implant") && !text.contains("patient"),
        "{text}"
    );

    demo.peer.stop();
    demo.peer = Peer::serve(&demo.data(), &["--demo"]).unwrap();
    let after = demo.ok("medicines-agency/inspector", q, json!({}));
    assert_eq!(
        after, before,
        "a restart neither reseeds nor loses anything"
    );
    assert_eq!(
        demo.credentials()["graphql"],
        format!("{}/graphql", demo.peer.url)
    );
}

#[test]
fn digital_link_resolver_answers_phones_and_api_clients_without_custody_details() {
    let demo = Demo::start();
    let url = &demo.peer.url;
    let json_of = |path: &str| {
        let (status, text) = get_text(url, path, "application/json");
        (
            status,
            serde_json::from_str::<Value>(&text).unwrap_or(Value::String(text)),
        )
    };
    let (status, body) = json_of("/01/00614141100019/21/AMX0003");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["verification"]["verdict"], "GENUINE");
    assert_eq!(body["product"]["name"], "Amoxicillin Acme");
    for org in ["city-pharmacy", "northwind", "holder"] {
        assert!(!body.to_string().contains(org), "custody leaked: {body}");
    }
    let (_, body) = json_of("/01/00614141100057/10/SAL2604B/21/SAL0001?17=271231");
    assert_eq!(body["verification"]["verdict"], "RECALLED", "{body}");
    assert_eq!(body["recall"]["active"], true);
    let (_, body) = json_of("/01/00614141100057/10/OTHER/21/SAL0001");
    assert_eq!(body["verification"]["verdict"], "MISMATCH", "{body}");
    let (_, body) = json_of("/01/00614141100019/21/AMX0001");
    assert_eq!(body["verification"]["verdict"], "ALREADY_DISPENSED");
    let (_, body) = json_of("/01/00614141100019/21/NEVER");
    assert_eq!(body["verification"]["verdict"], "UNKNOWN_SERIAL");
    let (status, body) = json_of("/01/00614141100018/21/AMX0001");
    assert_eq!(
        (status, &body["verification"]["verdict"]),
        (400, &json!("RESCAN")),
        "{body}"
    );

    let (status, page) = get_text(url, "/graphiql", "text/html");
    assert!(status == 200 && page.contains("graphiql"), "{status}");

    // a phone gets a small page, everything escaped
    let (status, html) = get_text(url, "/01/00614141100057/21/SAL0002", "text/html");
    assert_eq!(status, 200);
    assert!(
        html.contains("Salbutamol Acme") && html.contains("RECALLED"),
        "{html}"
    );
    let (_, html) = get_text(
        url,
        "/01/00614141100019/21/%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        "text/html",
    );
    assert!(!html.contains("<script>"), "{html}");
}
