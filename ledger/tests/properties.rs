//! Properties of the encodings and of the audit: canonical bytes do not depend on how the
//! JSON was written, and any single-byte change to stored blocks or events is caught.

mod common;

use common::{TestPeer, signer};
use ledger::Envelope;
use proptest::prelude::*;
use serde_json::{Value, json};

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(|n| json!(n)),
        "[a-zA-Z0-9 éü\\-_/]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,6}", inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Writes `v` as JSON text with object keys in the order given by `seed`, and optional
/// spacing: a different text for the same value.
fn write_shuffled(v: &Value, seed: u64, spaced: bool, out: &mut String) {
    let sep = if spaced { " " } else { "" };
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            let n = keys.len().max(1) as u64;
            keys.rotate_left((seed % n) as usize);
            if seed.is_multiple_of(2) {
                keys.reverse();
            }
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                    out.push_str(sep);
                }
                out.push_str(&serde_json::to_string(k).unwrap());
                out.push(':');
                out.push_str(sep);
                write_shuffled(
                    &m[*k],
                    seed.wrapping_mul(31).wrapping_add(i as u64),
                    spaced,
                    out,
                );
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                    out.push_str(sep);
                }
                write_shuffled(x, seed.wrapping_add(i as u64), spaced, out);
            }
            out.push(']');
        }
        other => out.push_str(&serde_json::to_string(other).unwrap()),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn canonical_bytes_do_not_depend_on_field_order(payload in json_value(), seed in any::<u64>(), spaced in any::<bool>()) {
        let event = signer("maker/a").event("notes", "put", payload);
        let mut text = String::new();
        write_shuffled(&event.to_json_value(), seed, spaced, &mut text);
        let back = Envelope::from_json(text.as_bytes()).unwrap();
        prop_assert_eq!(back.id(), event.id());
        prop_assert_eq!(back.bytes(), event.bytes());
        // and the stored form reads back as itself
        let stored = Envelope::from_stored(event.bytes().to_vec(), *event.signature()).unwrap();
        prop_assert_eq!(stored.id(), event.id());
    }
}

/// A chain of a few blocks, built once and copied for each tampering case.
fn template() -> &'static tempfile::TempDir {
    use std::sync::OnceLock;
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let mut peer = TestPeer::new();
        let a = signer("maker/a");
        let b = signer("maker/b");
        for round in 0..4 {
            let events = (0..5)
                .map(|i| {
                    let s = if i % 2 == 0 { &a } else { &b };
                    if i == 3 {
                        s.event(
                            "notes",
                            "bump",
                            json!({"key": if round == 1 { "fail" } else { "c" }}),
                        )
                    } else {
                        s.event(
                            "notes",
                            "put",
                            json!({"key": format!("k{round}-{i}"), "value": round}),
                        )
                    }
                })
                .collect();
            let (_, r) = peer.submit(events);
            assert!(r.is_some());
        }
        peer.orderer.take();
        let report = ledger::audit::audit(peer.store.as_ref(), &common::modules()).unwrap();
        assert!(report.ok(), "{:?}", report.faults);
        peer.store.checkpoint().unwrap();
        peer.dir
    })
}

/// (table, column to tamper with, the columns that name a row)
const TARGETS: &[(&str, &str, &[&str])] = &[
    ("events", "body", &["seq"]),
    ("events", "signature", &["seq"]),
    ("events", "id_key", &["seq"]),
    ("events", "height", &["seq"]),
    ("events", "result", &["seq"]),
    ("blocks", "header", &["height"]),
    ("blocks", "hash", &["height"]),
    ("blocks", "signature", &["height"]),
    ("blocks", "state_digest", &["height"]),
    ("blocks", "first_seq", &["height"]),
    ("blocks", "event_count", &["height"]),
    ("state", "value", &["module", "key"]),
    ("item_index", "seq", &["key", "seq"]),
];

/// One byte of a stored value changed (for integers: one of their two low bytes; for text:
/// one character).
fn tamper(
    value: &rusqlite::types::Value,
    at: prop::sample::Index,
    flip: u8,
) -> rusqlite::types::Value {
    use rusqlite::types::Value as V;
    match value {
        V::Blob(b) => {
            let mut b = b.clone();
            let i = at.index(b.len());
            b[i] ^= flip;
            V::Blob(b)
        }
        V::Integer(n) => {
            let mut b = n.to_be_bytes();
            let i = 7 - at.index(2);
            b[i] ^= flip;
            V::Integer(i64::from_be_bytes(b))
        }
        V::Text(t) => {
            let mut b = t.clone().into_bytes();
            let i = at.index(b.len());
            b[i] = if b[i] == b'Z' { b'Y' } else { b'Z' };
            V::Text(String::from_utf8_lossy(&b).into_owned())
        }
        V::Null => V::Text("TAMPERED".into()),
        V::Real(_) => unreachable!("no real columns"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_single_byte_change_makes_the_audit_fail(target in 0..TARGETS.len(), row in any::<prop::sample::Index>(), at in any::<prop::sample::Index>(), flip in 1u8..=255) {
        let (table, column, keys) = TARGETS[target];
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.sqlite");
        std::fs::copy(template().path().join("ledger.sqlite"), &path).unwrap();
        let conn = rusqlite::Connection::open(&path).unwrap();
        // The value and the columns naming its row come from one query, so the row changed
        // is the row whose value was read.
        let key_list = keys.join(", ");
        let rows: Vec<(rusqlite::types::Value, Vec<rusqlite::types::Value>)> = {
            let mut stmt = conn.prepare(&format!("SELECT {column}, {key_list} FROM {table} ORDER BY {key_list}")).unwrap();
            stmt.query_map([], |r| {
                let named = (1..=keys.len()).map(|i| r.get(i)).collect::<Result<Vec<_>, _>>()?;
                Ok((r.get(0)?, named))
            }).unwrap().map(Result::unwrap).collect()
        };
        let index = row.index(rows.len());
        let (value, named) = &rows[index];
        let changed = tamper(value, at, flip);
        prop_assert_ne!(&changed, value);
        let condition: Vec<String> = keys.iter().enumerate().map(|(i, k)| format!("{k} = ?{}", i + 2)).collect();
        let mut args: Vec<&dyn rusqlite::ToSql> = vec![&changed];
        args.extend(named.iter().map(|v| v as &dyn rusqlite::ToSql));
        let updated = conn.execute(
            &format!("UPDATE OR IGNORE {table} SET {column} = ?1 WHERE {}", condition.join(" AND ")),
            args.as_slice(),
        ).unwrap();
        drop(conn);
        // a change that would collide with another row's primary key is refused by SQLite
        prop_assume!(updated == 1);
        let store = ledger::SqliteStore::open(&path).unwrap();
        let report = ledger::audit::audit(&store, &common::modules()).unwrap();
        prop_assert!(!report.ok(), "changing {table}.{column} row {index} went unnoticed");
        // every fault names where it is (a block, or a state/index entry)
        for f in &report.faults {
            prop_assert!(f.height.is_some() || f.code.starts_with("STATE") || f.code == "INDEX_MISMATCH" || f.code == "REPLAY_STOPPED" || f.code == "BAD_HEAD", "{f:?}");
        }
    }
}
