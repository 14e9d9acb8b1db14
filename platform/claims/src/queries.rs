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
