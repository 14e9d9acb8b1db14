//! The claims module's events: `submit` and `adjudicate`.

use ledger::rejection::codes as core_codes;
use ledger::{EventId, OrgId, PatientRef, Rejection};
use serde::{Deserialize, Serialize};

/// Module name.
pub const MODULE: &str = "claims";
/// Most lines in one claim.
pub const MAX_LINES: usize = 100;

/// What a claim line bills for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    /// A dispensed drug pack.
    Drug,
    /// An implanted device.
    Device,
}

/// One line of a claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Line {
    /// Line number, unique within the claim.
    pub sequence: u32,
    /// Drug or device.
    pub kind: ItemKind,
    /// GTIN-14 of the unit.
    pub gtin: String,
    /// Its serial.
    pub serial: String,
    /// The dispense or implant event that proves it.
    pub event: EventId,
    /// Date of service, Unix ms.
    pub date: i64,
    /// Amount billed, in cents.
    pub amount_cents: u64,
}

/// `claims/submit`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Submit {
    /// The provider's claim number (1-64 of A-Z a-z 0-9 . _ -).
    pub claim: String,
    /// The patient, pseudonymously.
    pub patient: PatientRef,
    /// The payer organisation.
    pub payer: OrgId,
    /// The lines.
    pub lines: Vec<Line>,
}

/// `claims/adjudicate`: the payer decides a submitted claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Adjudicate {
    /// The provider that submitted it.
    pub provider: OrgId,
    /// Its claim number.
    pub claim: String,
}

/// A claims event read from an envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimEvent {
    /// Submit.
    Submit(Submit),
    /// Adjudicate.
    Adjudicate(Adjudicate),
}

fn bad(message: impl Into<String>) -> Rejection {
    Rejection::new(core_codes::BAD_PAYLOAD, message)
}

pub(crate) fn check_claim_number(id: &str) -> Result<(), Rejection> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(bad("a claim number is 1-64 of A-Z a-z 0-9 . _ -"))
    }
}

impl ClaimEvent {
    /// Reads and checks a payload.
    pub fn parse(kind: &str, value: &serde_json::Value) -> Result<Self, Rejection> {
        match kind {
            "submit" => {
                let s = Submit::deserialize(value)
                    .map_err(|e| bad(format!("claims/submit payload: {e}")))?;
                check_claim_number(&s.claim)?;
                if s.lines.is_empty() || s.lines.len() > MAX_LINES {
                    return Err(bad(format!("a claim has 1 to {MAX_LINES} lines")));
                }
                let mut seen = std::collections::BTreeSet::new();
                for l in &s.lines {
                    if !seen.insert(l.sequence) {
                        return Err(bad(format!("line {} appears twice", l.sequence)));
                    }
                    if l.gtin.len() != 14 || !l.gtin.bytes().all(|b| b.is_ascii_digit()) {
                        return Err(bad(format!(
                            "line {}: the GTIN must be 14 digits",
                            l.sequence
                        )));
                    }
                    if l.serial.is_empty() || l.serial.len() > 20 {
                        return Err(bad(format!(
                            "line {}: the serial must be 1-20 characters",
                            l.sequence
                        )));
                    }
                }
                Ok(Self::Submit(s))
            }
            "adjudicate" => {
                let a = Adjudicate::deserialize(value)
                    .map_err(|e| bad(format!("claims/adjudicate payload: {e}")))?;
                check_claim_number(&a.claim)?;
                Ok(Self::Adjudicate(a))
            }
            other => Err(Rejection::new(
                core_codes::UNKNOWN_KIND,
                format!("the claims module has no event kind {other:?}"),
            )),
        }
    }
}
