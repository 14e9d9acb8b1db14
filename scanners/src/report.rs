//! The JSON report behind `pedigree barcode parse [DATA|-]`.
//!
//! One object per scan with the keys `valid`, `symbology`, `gtin`, `serial`,
//! `lot`, `expiry` (YYYY-MM-DD), `sscc`, `gln`, `ais` (`{ai, value}` in scan
//! order), `digital_link`, `errors` (`{code, message, position}`) and `hints`.
//! The command exits 0 when `valid` is true and 1 when it is false (2 is
//! left for usage errors, which never reach this function).

use crate::parse::parse;
use serde_json::{Value, json};

/// The report of one scan as a JSON object (see the module docs for the keys).
pub fn report(input: &[u8]) -> Value {
    let scan = parse(input);
    json!({
        "valid": scan.valid,
        "symbology": scan.symbology.as_ref().map(|s| s.name().to_string()),
        "gtin": scan.gtin(),
        "serial": scan.serial(),
        "lot": scan.lot(),
        "expiry": scan.expiry(),
        "sscc": scan.sscc(),
        "gln": scan.gln(),
        "ais": scan.ais,
        "digital_link": scan.digital_link(),
        "errors": scan.errors,
        "hints": scan.hints,
    })
}

/// The process exit code for a report: 0 valid, 1 invalid.
pub fn exit_code(report: &Value) -> i32 {
    if report["valid"].as_bool() == Some(true) {
        0
    } else {
        1
    }
}
