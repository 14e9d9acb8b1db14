//! The one event kind: `anchor/anchor`.

use ledger::Rejection;
use ledger::hash::Digest;
use ledger::rejection::codes;
use serde::{Deserialize, Serialize};

/// Module name.
pub const MODULE: &str = "anchor";
/// Event kind.
pub const KIND: &str = "anchor";

/// What an anchor event carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnchorPayload {
    /// SHA-256 of the off-chain content, lowercase hex.
    pub digest: Digest,
    /// Where the content lives or what it belongs to (a URI, a shipment or logger id):
    /// an identifier, never personal data. Events with the same reference are indexed
    /// together.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// What kind of content, e.g. `document`, `reading`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
}

/// Longest reference accepted.
pub const MAX_REFERENCE: usize = 256;

impl AnchorPayload {
    /// Reads and checks a payload.
    pub fn parse(value: &serde_json::Value) -> Result<Self, Rejection> {
        let p = Self::deserialize(value)
            .map_err(|e| Rejection::new(codes::BAD_PAYLOAD, format!("anchor payload: {e}")))?;
        if p.reference.as_ref().is_some_and(|r| {
            r.is_empty() || r.len() > MAX_REFERENCE || r.chars().any(char::is_control)
        }) {
            return Err(Rejection::new(
                codes::BAD_PAYLOAD,
                format!(
                    "reference must be 1-{MAX_REFERENCE} characters without control characters"
                ),
            ));
        }
        if p.category.as_ref().is_some_and(|c| {
            c.is_empty()
                || c.len() > 32
                || !c
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'_' || b == b'-')
        }) {
            return Err(Rejection::new(
                codes::BAD_PAYLOAD,
                "category must be 1-32 of a-z _ -",
            ));
        }
        Ok(p)
    }
}
