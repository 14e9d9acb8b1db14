//! Claims as stored, with their ClaimResponse once adjudicated.

use crate::events::{Line, MODULE};
use ledger::state::StateViewExt;
use ledger::{EventId, Ledger, OrgId, PatientRef, StoreError};
use serde::{Deserialize, Serialize};

/// Where a claim stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClaimStatus {
    /// Waiting for the payer.
    Submitted,
    /// Decided.
    Adjudicated,
}

/// The overall decision (FHIR ClaimResponse `outcome`/`disposition`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Every line approved.
    Approved,
    /// Some lines approved.
    Partial,
    /// No line approved.
    Denied,
}

/// The decision on one line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineResult {
    /// The line's number.
    pub sequence: u32,
    /// Approved?
    pub approved: bool,
    /// `APPROVED` or the stable reason it was not.
    pub reason: String,
    /// Amount approved, in cents.
    pub approved_cents: u64,
}

/// A claim with its response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimRecord {
    /// The provider (pharmacy or hospital).
    pub provider: OrgId,
    /// The provider's claim number.
    pub claim: String,
    /// The patient, pseudonymously.
    pub patient: PatientRef,
    /// The payer.
    pub payer: OrgId,
    /// The lines as submitted.
    pub lines: Vec<Line>,
    /// The submit event.
    pub submitted: EventId,
    /// Submitted or adjudicated.
    pub status: ClaimStatus,
    /// The overall decision, once adjudicated.
    pub outcome: Option<Outcome>,
    /// Per-line decisions, once adjudicated.
    pub results: Vec<LineResult>,
    /// The adjudicate event.
    pub adjudicated: Option<EventId>,
}

pub(crate) fn claim_key(provider: &OrgId, claim: &str) -> Vec<u8> {
    format!("c/{provider}/{claim}").into_bytes()
}

pub(crate) fn billed_key(gtin: &str, serial: &str) -> Vec<u8> {
    format!("u/{gtin}/{serial}").into_bytes()
}

/// A claim by its provider and number.
pub fn claim(
    ledger: &Ledger,
    provider: &OrgId,
    claim: &str,
) -> Result<Option<ClaimRecord>, StoreError> {
    ledger.read(MODULE, |s| s.get_json(&claim_key(provider, claim)))
}

/// Most claims one listing answers.
pub const MAX_LIST: usize = 500;
/// Most stored claims a payer's listing reads through (claims are keyed by provider).
pub const MAX_SCAN: usize = 100_000;

fn records(entries: Vec<(Vec<u8>, Vec<u8>)>) -> impl Iterator<Item = ClaimRecord> {
    entries
        .into_iter()
        .filter_map(|(_, v)| serde_json::from_slice(&v).ok())
}

/// Claims submitted by `provider`, by claim number, at most `limit` (capped at
/// [`MAX_LIST`]).
pub fn claims_of_provider(
    ledger: &Ledger,
    provider: &OrgId,
    limit: usize,
) -> Result<Vec<ClaimRecord>, StoreError> {
    let prefix = format!("c/{provider}/").into_bytes();
    ledger.read(MODULE, |s| {
        records(s.scan(&prefix, limit.min(MAX_LIST))).collect()
    })
}

/// Claims addressed to `payer`, by provider and claim number, at most `limit` (capped at
/// [`MAX_LIST`]), among the first [`MAX_SCAN`] claims stored.
pub fn claims_for_payer(
    ledger: &Ledger,
    payer: &OrgId,
    limit: usize,
) -> Result<Vec<ClaimRecord>, StoreError> {
    ledger.read(MODULE, |s| {
        records(s.scan(b"c/", MAX_SCAN))
            .filter(|c| &c.payer == payer)
            .take(limit.min(MAX_LIST))
            .collect()
    })
}

/// A claim with the time its submit event was signed, by that event's id (the id of its
/// FHIR Claim and ClaimResponse).
pub fn claim_by_event(
    ledger: &Ledger,
    submitted: &EventId,
) -> Result<Option<(ClaimRecord, i64)>, StoreError> {
    let Some(record) = ledger.event(submitted)? else {
        return Ok(None);
    };
    let e = &record.envelope;
    if e.module().as_str() != MODULE || e.kind() != "submit" || record.result.is_some() {
        return Ok(None);
    }
    let Some(number) = e.payload()["claim"].as_str() else {
        return Ok(None);
    };
    Ok(claim(ledger, e.org(), number)?
        .filter(|c| &c.submitted == submitted)
        .map(|c| (c, e.body().created_at)))
}

/// When the event `id` was signed (for a ClaimResponse's `created`).
pub fn signed_at(ledger: &Ledger, id: &EventId) -> Result<Option<i64>, StoreError> {
    Ok(ledger.event(id)?.map(|r| r.envelope.body().created_at))
}
