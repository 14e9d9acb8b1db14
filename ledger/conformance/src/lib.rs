//! The store conformance suite: one set of checks, written once, that every implementation
//! of the ledger's `Store` trait must pass unchanged (SQLite, PostgreSQL, whatever comes
//! next). It must never special-case a backend: a backend only supplies a [`Harness`]
//! (how to open its store again, and its dialect for raw SQL that damages data on purpose).
//!
//! Use [`store_conformance_tests!`] in a backend's integration tests to get one `#[test]`
//! per check, so a failure is named after the check that failed.

pub mod chain;
mod checks;

pub use checks::*;

use ledger::{Store, StoreError};
use std::sync::Arc;

/// Runs raw SQL through a store's own maintenance hook; returns the rows affected.
pub type RawSql = Box<dyn Fn(&str) -> Result<u64, StoreError> + Send + Sync>;

/// A store opened by a harness, with the way to run raw SQL on the same database.
pub struct Opened {
    /// The store under test.
    pub store: Arc<dyn Store>,
    /// Its raw-SQL hook (used only to damage data or make writes fail on purpose).
    pub sql: RawSql,
}

/// One backend's database for one check: empty when created, kept until dropped.
pub trait Harness {
    /// Opens a store on this harness's database. Called again after every earlier store
    /// was dropped, it must see the same data (that is how reopening is checked).
    fn open(&self) -> Opened;
    /// SQL that sets byte `offset` (from 0) of the stored body of event `seq` to `byte`.
    fn set_event_body_byte_sql(&self, seq: u64, offset: usize, byte: u8) -> String;
    /// SQL that makes every later insert into the item index fail (for example a trigger
    /// that raises): the index is written last, so a block fails after its other rows.
    fn fail_index_writes_sql(&self) -> String;
    /// SQL that undoes [`Harness::fail_index_writes_sql`].
    fn allow_index_writes_sql(&self) -> String;
}

/// Every check's name, in a sensible order.
pub const CHECKS: &[&str] = &[
    "empty_store_has_no_head",
    "blocks_read_back_as_committed",
    "misplaced_blocks_are_refused",
    "failed_commit_leaves_no_trace",
    "ledger_commits_through_the_orderer",
    "events_found_by_id_and_index_key",
    "state_get_and_scan_by_prefix",
    "head_and_state_survive_reopening",
    "readers_see_whole_blocks_during_writes",
    "large_blocks_round_trip",
    "events_prove_from_their_chunk",
    "audit_passes_then_catches_tampering",
];

/// Runs every check against fresh harnesses from `factory`, in one go (prefer
/// [`store_conformance_tests!`] so each check is its own test).
pub fn run_all(factory: &dyn Fn() -> Box<dyn Harness>) {
    empty_store_has_no_head(factory().as_ref());
    blocks_read_back_as_committed(factory().as_ref());
    misplaced_blocks_are_refused(factory().as_ref());
    failed_commit_leaves_no_trace(factory().as_ref());
    ledger_commits_through_the_orderer(factory().as_ref());
    events_found_by_id_and_index_key(factory().as_ref());
    state_get_and_scan_by_prefix(factory().as_ref());
    head_and_state_survive_reopening(factory().as_ref());
    readers_see_whole_blocks_during_writes(factory().as_ref());
    large_blocks_round_trip(factory().as_ref());
    events_prove_from_their_chunk(factory().as_ref());
    audit_passes_then_catches_tampering(factory().as_ref());
}

/// Stamps out one `#[test]` per check. `$factory` is an expression of type
/// `Option<H>` where `H: Harness`, evaluated once per test; `None` skips the test (a
/// backend whose server is absent says so itself).
///
/// ```ignore
/// store_conformance::store_conformance_tests!(Some(SqliteHarness::new()));
/// ```
#[macro_export]
macro_rules! store_conformance_tests {
    ($factory:expr) => {
        $crate::store_conformance_tests!(@each $factory;
            empty_store_has_no_head,
            blocks_read_back_as_committed,
            misplaced_blocks_are_refused,
            failed_commit_leaves_no_trace,
            ledger_commits_through_the_orderer,
            events_found_by_id_and_index_key,
            state_get_and_scan_by_prefix,
            head_and_state_survive_reopening,
            readers_see_whole_blocks_during_writes,
            large_blocks_round_trip,
            events_prove_from_their_chunk,
            audit_passes_then_catches_tampering,
        );
    };
    (@each $factory:expr; $($check:ident),* $(,)?) => {
        $(
            #[test]
            fn $check() {
                if let Some(harness) = $factory {
                    $crate::$check(&harness);
                }
            }
        )*
    };
}
