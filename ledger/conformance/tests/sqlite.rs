//! The store conformance suite against the embedded SQLite store.

use ledger::SqliteStore;
use std::path::PathBuf;
use std::sync::Arc;
use store_conformance::{Harness, Opened};

/// A SQLite file in a temporary directory, removed with it.
struct SqliteHarness {
    dir: tempfile::TempDir,
}

impl SqliteHarness {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("a temporary directory"),
        }
    }

    fn path(&self) -> PathBuf {
        self.dir.path().join("ledger.sqlite")
    }
}

impl Harness for SqliteHarness {
    fn open(&self) -> Opened {
        let store = Arc::new(SqliteStore::open(self.path()).expect("opening SQLite"));
        let raw = store.clone();
        Opened {
            store,
            sql: Box::new(move |sql| raw.execute_raw(sql, &[]).map(|n| n as u64)),
        }
    }

    fn set_event_body_byte_sql(&self, seq: u64, offset: usize, byte: u8) -> String {
        // substr counts from 1; the concatenation is cast back so the column stays a BLOB.
        format!(
            "UPDATE events SET body = CAST(substr(body, 1, {offset}) || X'{byte:02x}' || substr(body, {}) AS BLOB) WHERE seq = {seq}",
            offset + 2
        )
    }

    fn fail_index_writes_sql(&self) -> String {
        "CREATE TRIGGER conformance_fail_index BEFORE INSERT ON item_index \
         BEGIN SELECT RAISE(ABORT, 'conformance: index writes fail'); END"
            .into()
    }

    fn allow_index_writes_sql(&self) -> String {
        "DROP TRIGGER conformance_fail_index".into()
    }
}

store_conformance::store_conformance_tests!(Some(SqliteHarness::new()));

#[test]
fn run_all_runs_every_check_in_one_go() {
    store_conformance::run_all(&|| Box::new(SqliteHarness::new()));
    assert_eq!(store_conformance::CHECKS.len(), 12);
}
