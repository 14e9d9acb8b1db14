//! The identifiers trace events carry: a serialised item (GTIN-14 + serial, an SGTIN or
//! a device UDI) or a logistic unit (SSCC-18), and the pseudonymous patient reference of
//! an implant. Users give codes in any scan form; [`ScannedCode::read`] parses them once
//! at the edge with `scanners::parse`, and everything past it holds a [`Code`].

use scanners::{Expiry, Gtin, Lot, Serial, Sscc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// A serialised item or a logistic unit, normalised.
///
/// Its text form is bracketed GS1 with normalised values: `(01)` + 14 digits + `(21)` +
/// serial, or `(00)` + 18 digits. Payloads and state hold exactly that form; reading it
/// back accepts nothing else, so two spellings of one code can never coexist.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Code {
    /// A serialised trade item: a drug pack, or a device (UDI-DI + serial).
    Item {
        /// GTIN-14.
        gtin: Gtin,
        /// Serial number (AI 21).
        serial: Serial,
    },
    /// A logistic unit: case, tote or pallet.
    Container(Sscc),
}

/// A normalised code that did not read back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadCode(pub String);

impl Code {
    /// An item code.
    pub fn item(gtin: Gtin, serial: Serial) -> Self {
        Self::Item { gtin, serial }
    }

    /// The GTIN of an item, `None` for a container.
    pub fn gtin(&self) -> Option<&Gtin> {
        match self {
            Self::Item { gtin, .. } => Some(gtin),
            Self::Container(_) => None,
        }
    }

    /// The serial of an item, `None` for a container.
    pub fn serial(&self) -> Option<&Serial> {
        match self {
            Self::Item { serial, .. } => Some(serial),
            Self::Container(_) => None,
        }
    }

    /// The SSCC of a container, `None` for an item.
    pub fn sscc(&self) -> Option<&Sscc> {
        match self {
            Self::Container(s) => Some(s),
            Self::Item { .. } => None,
        }
    }

    /// True for a logistic unit.
    pub fn is_container(&self) -> bool {
        matches!(self, Self::Container(_))
    }
}

impl Code {
    /// Appends the text form (as [`Display`](fmt::Display) writes it) to `out`: state
    /// keys are built this way for every unit an event touches, without the formatter.
    pub fn push_to(&self, out: &mut Vec<u8>) {
        match self {
            Self::Item { gtin, serial } => {
                out.extend_from_slice(b"(01)");
                out.extend_from_slice(gtin.as_str().as_bytes());
                out.extend_from_slice(b"(21)");
                out.extend_from_slice(serial.as_str().as_bytes());
            }
            Self::Container(s) => {
                out.extend_from_slice(b"(00)");
                out.extend_from_slice(s.as_str().as_bytes());
            }
        }
    }
}

impl Code {
    /// Reads back the text form this module wrote into its own state (keys and records),
    /// which [`FromStr`] accepted before it was written, without checking the identifiers
    /// again; `None` when the text is not of that form. Scans and payloads never come
    /// through here.
    pub(crate) fn from_stored(s: &str) -> Option<Self> {
        if let Some(rest) = s.strip_prefix("(00)") {
            return Some(Self::Container(Sscc::from_checked(rest)));
        }
        let rest = s.strip_prefix("(01)")?;
        let serial = rest.get(14..)?.strip_prefix("(21)")?;
        Some(Self::Item {
            gtin: Gtin::from_checked(rest.get(..14)?),
            serial: Serial::from_checked(serial),
        })
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Item { gtin, serial } => write!(f, "(01){gtin}(21){serial}"),
            Self::Container(s) => write!(f, "(00){s}"),
        }
    }
}

impl FromStr for Code {
    type Err = BadCode;

    /// Reads the normalised form only (see [`Code`]); scans go through [`ScannedCode`].
    fn from_str(s: &str) -> Result<Self, BadCode> {
        let bad = |why: &str| BadCode(format!("code {:?}: {why}", shorten(s)));
        if let Some(rest) = s.strip_prefix("(00)") {
            return Sscc::new(rest)
                .map(Self::Container)
                .map_err(|e| bad(e.message()));
        }
        let Some(rest) = s.strip_prefix("(01)") else {
            return Err(bad(
                "expected the normalised form (01)<GTIN-14>(21)<serial> or (00)<SSCC-18>",
            ));
        };
        let (gtin, serial) = match (rest.get(..14), rest.get(14..)) {
            (Some(g), Some(tail)) => match tail.strip_prefix("(21)") {
                Some(serial) => (g, serial),
                None => return Err(bad("an item code needs (21) and a serial after the GTIN")),
            },
            _ => return Err(bad("the GTIN must have 14 digits")),
        };
        if gtin.len() != 14 || !gtin.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad("the GTIN must have 14 digits"));
        }
        let gtin = Gtin::new(gtin).map_err(|e| bad(e.message()))?;
        let serial = Serial::new(serial).map_err(|e| bad(e.message()))?;
        Ok(Self::Item { gtin, serial })
    }
}

impl Serialize for Code {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Code {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        /// Reads the text where it lies (a payload's JSON value) instead of copying it first.
        struct Text;
        impl serde::de::Visitor<'_> for Text {
            type Value = Code;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Code, E> {
                s.parse().map_err(E::custom)
            }
        }
        d.deserialize_str(Text)
    }
}

fn shorten(s: &str) -> String {
    s.chars().take(48).collect()
}

/// A scan that could not be used, with what the scanner library diagnosed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ScanProblem {
    /// Stable code: a `scanners::codes` value, or `NOT_A_UNIT_CODE` when the scan is
    /// valid GS1 but names neither a serialised item nor an SSCC.
    pub code: &'static str,
    /// What went wrong.
    pub message: String,
    /// What to do about it, for the person scanning.
    pub hints: Vec<String>,
}

/// Stable code: the scan is valid GS1 data but carries no serial nor SSCC.
pub const NOT_A_UNIT_CODE: &str = "NOT_A_UNIT_CODE";

/// A code as scanned: the unit it names and the lot and expiry printed with it, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScannedCode {
    /// The unit.
    pub code: Code,
    /// Lot (AI 10) in the scan.
    pub lot: Option<Lot>,
    /// Expiry (AI 17) in the scan.
    pub expiry: Option<Expiry>,
}

impl ScannedCode {
    /// Reads any scan form: raw element string (with or without symbology identifier,
    /// FNC1 as GS), bracketed `(01)..(21)..` text, or a GS1 Digital Link URI.
    pub fn read(text: &str) -> Result<Self, ScanProblem> {
        let scan = scanners::parse(text.trim().as_bytes());
        if !scan.is_valid() {
            let first = scan.errors.first();
            return Err(ScanProblem {
                code: first.map_or(scanners::codes::NOT_GS1, |e| e.code),
                message: first.map_or_else(
                    || "the scan could not be read".to_string(),
                    |e| e.message.clone(),
                ),
                hints: scan.hints.clone(),
            });
        }
        let ids = scan.ids();
        let code = match (ids.sscc, ids.gtin, ids.serial) {
            (Some(sscc), _, _) => Code::Container(sscc),
            (None, Some(gtin), Some(serial)) => Code::Item { gtin, serial },
            (None, Some(_), None) => {
                return Err(ScanProblem {
                    code: NOT_A_UNIT_CODE,
                    message: "the scan has a GTIN but no serial number".into(),
                    hints: vec![
                        "Scan the 2D DataMatrix code on the pack, not the linear barcode.".into(),
                    ],
                });
            }
            _ => {
                return Err(ScanProblem {
                    code: NOT_A_UNIT_CODE,
                    message: "the scan names neither a serialised item (GTIN + serial) nor an SSCC"
                        .into(),
                    hints: vec!["Scan the pack's DataMatrix or the case's SSCC label.".into()],
                });
            }
        };
        Ok(Self {
            code,
            lot: ids.lot,
            expiry: ids.expiry,
        })
    }
}

/// Reads a scan, keeping only the unit it names (see [`ScannedCode::read`]).
pub fn read_code(text: &str) -> Result<Code, ScanProblem> {
    ScannedCode::read(text).map(|s| s.code)
}

/// A pseudonymous patient reference: the core's type, so every module checks it alike.
pub use ledger::PatientRef;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalised_form_round_trips_and_is_strict() {
        let c: Code = "(01)00614141100019(21)A(B)/1".parse().unwrap();
        assert_eq!(c.to_string(), "(01)00614141100019(21)A(B)/1");
        let s: Code = "(00)006141410000000005".parse().unwrap();
        assert!(s.is_container());
        for code in [&c, &s] {
            let mut pushed = Vec::new();
            code.push_to(&mut pushed);
            assert_eq!(pushed, code.to_string().into_bytes());
            assert_eq!(Code::from_stored(&code.to_string()).as_ref(), Some(code));
        }
        for cut in [
            "(01)00614141100019",
            "(01)006141411000",
            "(02)006141410000000005",
            "",
        ] {
            assert_eq!(Code::from_stored(cut), None, "{cut}");
        }
        for bad in [
            "(01)614141100019(21)A",
            "(01)00614141100018(21)A",
            "(01)00614141100019",
            "0100614141100019 21A",
            "(00)006141410000000006",
            "",
        ] {
            assert!(bad.parse::<Code>().is_err(), "{bad}");
        }
    }

    #[test]
    fn every_scan_form_reads_to_one_code() {
        let want: Code = "(01)00614141100019(21)SN1".parse().unwrap();
        for form in [
            "(01)00614141100019(21)SN1(10)L1(17)280131",
            "]d2010061414110001921SN1\u{1d}10L1\u{1d}17280131",
            "https://id.gs1.org/01/00614141100019/10/L1/21/SN1?17=280131",
        ] {
            let s = ScannedCode::read(form).unwrap();
            assert_eq!(s.code, want, "{form}");
            assert_eq!(s.lot.unwrap().as_str(), "L1");
        }
        let e = ScannedCode::read("(01)00614141100018(21)SN1").unwrap_err();
        assert!(e.code.starts_with("CHECK_DIGIT"), "{e:?}");
        assert_eq!(
            ScannedCode::read("(01)00614141100019").unwrap_err().code,
            NOT_A_UNIT_CODE
        );
    }

    #[test]
    fn patient_refs_are_keyed_hashes_only() {
        assert!(PatientRef::new(&"ab".repeat(32)).is_ok());
        for bad in ["Jane Doe", "MRN-123456", &"AB".repeat(32), &"a".repeat(63)] {
            assert!(PatientRef::new(bad).is_err());
        }
        let p = PatientRef::new(&"0f".repeat(32)).unwrap();
        assert!(!format!("{p:?}").contains("0f0f"));
    }
}
