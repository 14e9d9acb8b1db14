//! Requests the GraphQL endpoint must refuse clearly: bodies that are not JSON, queries
//! that do not parse or name what does not exist, queries nested too deep, and bodies
//! over the size limit. Every answer carries a stable code.

mod graphql_support;

use graphql_support::{Demo, post};
use serde_json::json;

#[test]
fn malformed_deep_and_oversized_requests_are_refused_with_codes() {
    let demo = Demo::with(&["--demo", "--no-seed"]);
    let token = demo.token("medicines-agency/inspector");
    let url = &demo.peer.url;

    let (status, body) = demo.peer.post_bytes("/graphql", b"{ chain { height } }");
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("MALFORMED_JSON")),
        "{body}"
    );

    let code = |query: &str| {
        let (status, body) = post(url, Some(&token), &json!({"query": query}));
        assert_eq!(status, 200, "{body}");
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{}: {}",
            &query[..query.len().min(80)],
            &body.to_string()[..body.to_string().len().min(300)]
        );
        body["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or("none")
            .to_string()
    };
    assert_eq!(code("{ chain { height "), "GRAPHQL_PARSE_FAILED");
    assert_eq!(code("{ chain { nope } }"), "GRAPHQL_VALIDATION_FAILED");
    assert_eq!(code("{ verify { verdict } }"), "GRAPHQL_VALIDATION_FAILED");
    assert_eq!(
        code("{ provenance(code: \"(01)0061414110001(21)X\") { code } }"),
        "BAD_CODE"
    );
    assert_eq!(code("{ block(height: 99999) { hash } }"), "NOT_FOUND");
    assert_eq!(
        code("{ events(first: 100000) { nextCursor } }"),
        "BAD_INPUT"
    );

    let deep = format!(
        "{{ __schema {{ types {{ {}name{} }} }} }}",
        "fields { type { ofType { ".repeat(4),
        " } } }".repeat(4)
    );
    assert_eq!(code(&deep), "QUERY_TOO_DEEP");
    let wide: String = (0..800)
        .map(|i| format!("a{i}: chain {{ height headHash }} "))
        .collect();
    assert_eq!(code(&format!("{{ {wide} }}")), "QUERY_TOO_COMPLEX");

    let big =
        json!({"query": "{ chain { height } }", "variables": {"pad": "x".repeat(300 * 1024)}});
    let (status, body) = post(url, Some(&token), &big);
    assert_eq!(
        (status, body["code"].as_str()),
        (413, Some("PAYLOAD_TOO_LARGE")),
        "{body}"
    );
}
