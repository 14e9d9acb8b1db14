//! GS1 codes as real scanners emit them: element strings, Application Identifiers,
//! Digital Link URIs, UDI and scan diagnostics. Depends on nothing else of Pedigree's.
//!
//! Architecture invariant: this crate knows barcodes only. It never depends on
//! the ledger or a business module, does no I/O (the clock is read only to put
//! two-digit years in their century), and never panics on input:
//! [`parse`] answers any bytes with a [`Scan`] whose `errors` say what is wrong
//! (each with a stable code from [`codes`]) and whose `hints` say what to do.
//!
//! What [`parse`] reads, with or without a symbology identifier (`]d2`,
//! `]Q3`, `]C1`, `]e0`, `]E0` ...): raw element strings with FNC1 as GS
//! (0x1D), bracketed text `(01)...(21)...` (also as printed, with spaces),
//! GS1 Digital Link URIs on any host, EAN/UPC numbers, and HIBCC and ICCBBA
//! device codes (split into UDI fields, see [`udi`]). Every value is checked
//! against the GS1 Syntax Dictionary: length, character set, check digits,
//! dates (DD = 00 is the month's end), code lists, and the `req`/`ex` rules
//! between AIs. Scan faults get their own codes: `SEPARATOR_SUBSTITUTED`,
//! `MISSING_SEPARATOR`, `KEYBOARD_LAYOUT`, `CAPS_LOCK`, `TRUNCATED`,
//! `CHECK_DIGIT_TRANSPOSITION` (with the corrected value) and more in [`codes`].
//!
//! [`report`] is the JSON behind `pedigree barcode parse [DATA|-]`, whose exit
//! code is 0 for a valid scan and 1 for an invalid one ([`exit_code`]).
//! Building goes the other way: [`element_string`], [`digital_link_uri`],
//! [`bracketed`] and [`hri`]. Compressed Digital Links are refused with
//! `DIGITAL_LINK_COMPRESSED`.
//!
//! The AI table (`ai_table.rs`) is generated from the GS1 Barcode Syntax
//! Dictionary by `tests/ai_table.rs`; see [`dictionary`]. The dictionary itself
//! stays in `../shared/conformance/` with its licence.

mod ai;
mod ai_table;
mod check_digit;
pub mod convert;
mod date;
mod diagnose;
pub mod dictionary;
pub mod digital_link;
mod element;
mod error;
mod ids;
pub mod lint;
mod parse;
mod report;
mod scan;
mod symbology;
pub mod udi;
mod validate;

pub use ai::{AiEntry, Component, Cset, length_by_prefix, lookup as ai_entry, table as ai_table};
pub use check_digit::{
    check_pair, mod10, mod10_valid, mod43, transpositions, with_correct_check_digit,
};
pub use error::{Diagnostic, Error, codes};
pub use ids::{Expiry, Gln, Gtin, Lot, Serial, Sscc};
pub use parse::parse;
pub use report::{exit_code, report};
pub use scan::{AiValue, DataFormat, Identifiers, Scan};
pub use symbology::{Symbology, scan_data};
pub use udi::{Issuer, Udi, UdiField};

/// The group separator (GS, ASCII 29) that stands for FNC1 between fields.
pub const GS: char = element::GS;

/// Check each `(ai, value)` against the dictionary (format, length, character
/// set, check digits, dates) and the rules between AIs.
pub fn validate(ais: &[(&str, &str)]) -> Result<(), Error> {
    let fields = to_fields(ais)?;
    match validate::check_associations(&fields, validate::Rules::ALL)
        .into_iter()
        .next()
    {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

fn to_fields(ais: &[(&str, &str)]) -> Result<Vec<element::Field>, Error> {
    if ais.is_empty() {
        return Err(Error::new(codes::EMPTY, "no AIs given"));
    }
    ais.iter()
        .map(|&(ai, value)| {
            let entry = ai::lookup(ai).ok_or_else(|| {
                Error::new(
                    codes::UNKNOWN_AI,
                    format!("({ai}) is not a GS1 Application Identifier"),
                )
            })?;
            validate::check_value(entry, value)?;
            Ok(element::Field {
                ai: ai.to_string(),
                value: value.to_string(),
                pos: 0,
                value_pos: 0,
                entry: Some(entry),
            })
        })
        .collect()
}

/// A GS1 element string for these AIs: GS (0x1D) after every value that is
/// not of predefined length, except the last; no leading FNC1. Each AI is
/// validated first.
pub fn element_string(ais: &[(&str, &str)]) -> Result<String, Error> {
    validate(ais)?;
    Ok(element::join_raw(ais.iter().copied()))
}

/// A GS1 Digital Link URI for these AIs on `base` (default `https://id.gs1.org`):
/// the primary key and its qualifiers (22, 10, 21 for a GTIN) in the path,
/// other AIs as query attributes. Each AI is validated first.
pub fn digital_link_uri(ais: &[(&str, &str)], base: Option<&str>) -> Result<String, Error> {
    validate(ais)?;
    digital_link::build(ais, base)
}

/// Bracketed human-readable text, e.g. `(01)09506000134352(10)ABC`.
pub fn bracketed(ais: &[(&str, &str)]) -> String {
    element::join_bracketed(ais.iter().copied())
}

/// Human-readable interpretation lines for a label, one per AI, e.g.
/// `GTIN (01) 09506000134352` (the dictionary's data title, when known).
pub fn hri(ais: &[(&str, &str)]) -> Vec<String> {
    ais.iter()
        .map(|&(ai, value)| match ai::lookup(ai) {
            Some(e) if !e.title.is_empty() => format!("{} ({ai}) {value}", e.title),
            _ => format!("({ai}) {value}"),
        })
        .collect()
}
