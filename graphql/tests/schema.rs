//! The SDL is committed in graphql/schema.graphql so every change to it shows in review.
//! Run with UPDATE_SNAPSHOTS=1 to rewrite it after an intended change.

use fixtures::{PeerLayout, demo};
use ledger::{ActorId, Ledger, Modules, Rejection, SqliteStore};
use pedigree_graphql::{CommitStream, Peer, SubmitFuture};
use std::sync::Arc;

/// A peer that orders nothing: these tests only read.
struct ReadOnly;

impl Peer for ReadOnly {
    fn submit(&self, _: &ActorId, _: Vec<(&'static str, serde_json::Value)>) -> SubmitFuture {
        Box::pin(async { Err(Rejection::new("UNAVAILABLE", "read-only test peer")) })
    }
    fn commits(&self) -> CommitStream {
        Box::pin(futures_util::stream::empty())
    }
}

#[test]
fn sdl_matches_the_committed_schema() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
    let sdl = pedigree_graphql::sdl();
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(path, &sdl).unwrap();
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == sdl,
        "the GraphQL schema changed; review and run `UPDATE_SNAPSHOTS=1 cargo test -p pedigree-graphql` to commit it"
    );
}

#[tokio::test]
async fn chain_and_organizations_answer_and_limits_hold() {
    let d = demo(&PeerLayout::Single {
        endpoint: "http://127.0.0.1:1".into(),
    });
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path().join("l.sqlite")).unwrap());
    let ledger =
        Arc::new(Ledger::init(store, Modules::new(), d.genesis(1_700_000_000_000)).unwrap());
    let schema = pedigree_graphql::schema(ledger.clone(), Arc::new(ReadOnly));
    let res = schema
        .execute("{ chain { height headHash } organizations { id role companyPrefixes } }")
        .await;
    assert!(res.errors.is_empty(), "{:?}", res.errors);
    let data = res.data.into_json().unwrap();
    assert_eq!(data["chain"]["height"], 0);
    assert_eq!(data["chain"]["headHash"], ledger.head().hash.to_hex());
    let orgs = data["organizations"].as_array().unwrap();
    assert_eq!(orgs.len(), 8);
    assert!(orgs.iter().any(|o| o["id"] == "acme-pharma"
        && o["role"] == "manufacturer"
        && o["companyPrefixes"][0] == "0614141"));
    // malformed queries are refused with an error, not a panic
    let res = schema.execute("{ chain { height ").await;
    assert!(!res.errors.is_empty());
    let res = schema.execute("{ nope }").await;
    assert!(!res.errors.is_empty());
    // every error has a stable code, including async-graphql's own
    let code = |q: &'static str| {
        let schema = schema.clone();
        async move {
            let res = schema.execute(q).await;
            let e = res.errors.first().expect("an error").clone();
            e.extensions
                .and_then(|x| x.get("code").cloned())
                .map(|v| v.into_json().unwrap())
        }
    };
    assert_eq!(
        code("{ chain { height ").await,
        Some("GRAPHQL_PARSE_FAILED".into())
    );
    assert_eq!(
        code("{ nope }").await,
        Some("GRAPHQL_VALIDATION_FAILED".into())
    );
    assert_eq!(
        code("{ me { actor } }").await,
        Some("UNAUTHENTICATED".into())
    );
    assert_eq!(
        code("{ verify(code: \"x\") { verdict } }").await,
        Some("UNAUTHENTICATED".into())
    );
    let deep = format!(
        "{{ __schema {{ types {{ fields {{ type {{ {} __typename {} }} }} }} }} }}",
        "ofType { ".repeat(10),
        "} ".repeat(10)
    );
    let res = schema.execute(deep.as_str()).await;
    let e = res.errors.first().expect("too deep");
    assert_eq!(
        e.extensions
            .as_ref()
            .and_then(|x| x.get("code"))
            .map(|v| v.clone().into_json().unwrap()),
        Some("QUERY_TOO_DEEP".into()),
        "{e:?}"
    );
}
