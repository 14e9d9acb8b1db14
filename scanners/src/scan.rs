//! The one result of parsing a scan, whatever its form, and its accessors.

use crate::error::Diagnostic;
use crate::ids::{Expiry, Gln, Gtin, Lot, Serial, Sscc};
use crate::symbology::Symbology;
use crate::udi::Udi;
use serde::Serialize;

/// One Application Identifier and its value, in scan order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AiValue {
    /// The AI digits, e.g. "01".
    pub ai: String,
    /// The value as scanned.
    pub value: String,
}

/// What form the scanned data had.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DataFormat {
    /// Raw GS1 element string (AIs run together, GS separators).
    ElementString,
    /// Bracketed human-readable text `(01)...(21)...`.
    Bracketed,
    /// A GS1 Digital Link URI.
    DigitalLink,
    /// An EAN-13/EAN-8/UPC-A number (a bare GTIN).
    Ean,
    /// A HIBCC health industry bar code (`+...`).
    Hibcc,
    /// An ICCBBA / ISBT 128 code (`=...`, `&...`).
    Iccbba,
    /// Not recognised.
    Unknown,
}

/// The result of [`crate::parse`]: the data, whether it is valid, and why not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Scan {
    /// True if the data parsed and every check passed.
    pub valid: bool,
    /// The symbology identifier that came with the data, if any.
    pub symbology: Option<Symbology>,
    /// The form of the data.
    pub format: DataFormat,
    /// The AIs in scan order (for a Digital Link: path, then query).
    pub ais: Vec<AiValue>,
    /// What is wrong, each with a stable code (empty when valid).
    pub errors: Vec<Diagnostic>,
    /// Advice for the person scanning: what went wrong and what to do.
    pub hints: Vec<String>,
    /// Device identification (UDI) split, for GS1, HIBCC and ICCBBA device codes.
    pub udi: Option<Udi>,
}

/// Identifiers of a scan as checked types.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Identifiers {
    /// AI (01).
    pub gtin: Option<Gtin>,
    /// AI (21).
    pub serial: Option<Serial>,
    /// AI (10).
    pub lot: Option<Lot>,
    /// AI (17).
    pub expiry: Option<Expiry>,
    /// AI (00).
    pub sscc: Option<Sscc>,
    /// AI (414).
    pub gln: Option<Gln>,
}

impl Scan {
    /// True if the data parsed and every check passed.
    pub fn is_valid(&self) -> bool {
        self.valid
    }

    /// The value of the first occurrence of `ai`.
    pub fn get(&self, ai: &str) -> Option<&str> {
        self.ais
            .iter()
            .find(|a| a.ai == ai)
            .map(|a| a.value.as_str())
    }

    /// GTIN (AI 01) as 14 digits, if present and well formed.
    pub fn gtin(&self) -> Option<String> {
        self.get("01")
            .and_then(|v| Gtin::new(v).ok())
            .map(|g| g.to_string())
    }

    /// Serial number (AI 21).
    pub fn serial(&self) -> Option<String> {
        self.get("21").map(str::to_string)
    }

    /// Batch or lot (AI 10).
    pub fn lot(&self) -> Option<String> {
        self.get("10").map(str::to_string)
    }

    /// Expiry (AI 17) as YYYY-MM-DD, DD = 00 resolved to the month's last day.
    pub fn expiry(&self) -> Option<String> {
        self.get("17")
            .and_then(|v| Expiry::from_yymmdd(v).ok())
            .map(|e| e.to_string())
    }

    /// SSCC (AI 00).
    pub fn sscc(&self) -> Option<String> {
        self.get("00")
            .and_then(|v| Sscc::new(v).ok())
            .map(|s| s.to_string())
    }

    /// GLN of the physical location (AI 414).
    pub fn gln(&self) -> Option<String> {
        self.get("414")
            .and_then(|v| Gln::new(v).ok())
            .map(|g| g.to_string())
    }

    /// The canonical GS1 Digital Link URI of a valid scan, if its AIs make
    /// one: base `https://id.gs1.org`, key and qualifiers in their fixed
    /// order, query attributes sorted by AI (see [`crate::digital_link::canonical`]).
    pub fn digital_link(&self) -> Option<String> {
        if !self.valid || self.ais.is_empty() {
            return None;
        }
        crate::digital_link::canonical(&self.pairs()).ok()
    }

    /// The identifiers as checked types (those present and well formed).
    pub fn ids(&self) -> Identifiers {
        Identifiers {
            gtin: self.get("01").and_then(|v| Gtin::new(v).ok()),
            serial: self.get("21").and_then(|v| Serial::new(v).ok()),
            lot: self.get("10").and_then(|v| Lot::new(v).ok()),
            expiry: self.get("17").and_then(|v| Expiry::from_yymmdd(v).ok()),
            sscc: self.get("00").and_then(|v| Sscc::new(v).ok()),
            gln: self.get("414").and_then(|v| Gln::new(v).ok()),
        }
    }

    /// The AIs as `(ai, value)` pairs.
    pub fn pairs(&self) -> Vec<(&str, &str)> {
        self.ais
            .iter()
            .map(|a| (a.ai.as_str(), a.value.as_str()))
            .collect()
    }

    /// Bracketed human-readable text of the AIs.
    pub fn bracketed(&self) -> String {
        crate::element::join_bracketed(self.pairs())
    }
}
