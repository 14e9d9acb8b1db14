//! Test support: a fresh schema per test on the server at `DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`), dropped when the test ends. Without a
//! reachable server a test prints a notice and is skipped, unless `REQUIRE_POSTGRES=1`.

use crate::{PgStore, admin_sql};
use rand::Rng;
use std::time::Duration;

/// The server tests use when `DATABASE_URL` is not set.
pub const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// The database URL for tests.
pub fn database_url() -> String {
    std::env::var("DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| DEFAULT_URL.into())
}

/// True when `REQUIRE_POSTGRES=1`: a missing server fails tests instead of skipping them.
pub fn postgres_required() -> bool {
    std::env::var("REQUIRE_POSTGRES").is_ok_and(|v| v == "1")
}

/// A schema of its own for one test, dropped (with everything in it) on drop.
pub struct TestSchema {
    url: String,
    name: String,
}

impl TestSchema {
    /// Creates `pedigree_test_<random>` on the test server. `None` (after a notice on
    /// stderr) when the server cannot be reached; panics instead when
    /// `REQUIRE_POSTGRES=1`.
    pub fn create() -> Option<Self> {
        let url = database_url();
        let name = format!("pedigree_test_{:016x}", rand::thread_rng().r#gen::<u64>());
        match admin_sql(
            &url,
            &format!("CREATE SCHEMA \"{name}\""),
            Duration::from_secs(3),
        ) {
            Ok(()) => Some(Self { url, name }),
            Err(e) if postgres_required() => {
                panic!("REQUIRE_POSTGRES=1 but PostgreSQL at {url} is not usable: {e}")
            }
            Err(e) => {
                eprintln!(
                    "notice: skipping a PostgreSQL test: no usable server at {url} ({e}); \
                     set DATABASE_URL, or REQUIRE_POSTGRES=1 to make this a failure"
                );
                None
            }
        }
    }

    /// The database URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The schema's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Opens a store in this schema (again: every call is a new store on the same data).
    pub fn open(&self) -> PgStore {
        PgStore::open(&self.url, Some(&self.name)).expect("opening the test store")
    }
}

impl Drop for TestSchema {
    fn drop(&mut self) {
        let sql = format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.name);
        if let Err(e) = admin_sql(&self.url, &sql, Duration::from_secs(10)) {
            eprintln!("warning: could not drop test schema {}: {e}", self.name);
        }
    }
}
