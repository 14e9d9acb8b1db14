//! Structured-number linters: IBAN, coordinates, percent sequences,
//! piece-of-total, position-in-sequence and the importer index.

use super::{LintError, codes, digits};

fn num(v: &str) -> u64 {
    v.bytes().fold(0u64, |n, b| {
        n.saturating_mul(10).saturating_add(u64::from(b - b'0'))
    })
}

/// International Bank Account Number (ISO 13616): country, mod-97 check.
pub(crate) fn iban(v: &str) -> Result<(), LintError> {
    // The shortest IBANs (Norway) have 15 characters, the longest 34.
    if v.len() < 5 || (v.len() < 15 && v.is_char_boundary(2) && codes::is_alpha2(&v[..2])) {
        return Err(LintError::whole("IBAN_TOO_SHORT", v));
    }
    if v.len() > 34 {
        return Err(LintError::whole("IBAN_TOO_LONG", v));
    }
    let valid_char = |(i, b): (usize, u8)| match i {
        0 | 1 => b.is_ascii_uppercase(),
        2 | 3 => b.is_ascii_digit(),
        _ => b.is_ascii_uppercase() || b.is_ascii_digit(),
    };
    if let Some(i) = v.bytes().enumerate().position(|p| !valid_char(p)) {
        return Err(LintError::new("INVALID_IBAN_CHARACTER", i, 1));
    }
    if !codes::is_alpha2(&v[..2]) {
        return Err(LintError::new("ILLEGAL_IBAN_COUNTRY_CODE", 0, 2));
    }
    let rearranged = v[4..].bytes().chain(v[..4].bytes());
    let rem = rearranged.fold(0u32, |acc, b| {
        if b.is_ascii_digit() {
            (acc * 10 + u32::from(b - b'0')) % 97
        } else {
            (acc * 100 + u32::from(b - b'A' + 10)) % 97
        }
    });
    if rem == 1 {
        Ok(())
    } else {
        Err(LintError::new("INCORRECT_IBAN_CHECKSUM", 2, 2))
    }
}

/// One character of `-`, digits, letters or `_` (the importer index of AI 7040).
pub(crate) fn importer_index(v: &str) -> Result<(), LintError> {
    if v.chars().count() != 1 {
        return Err(LintError::whole("IMPORTER_IDX_MUST_BE_ONE_CHARACTER", v));
    }
    if super::is_cset64(v.as_bytes()[0]) {
        Ok(())
    } else {
        Err(LintError::whole("INVALID_IMPORT_IDX_CHARACTER", v))
    }
}

/// Ten digits, at most `max`: latitude (+90 offset) or longitude (+180 offset) in 10^-7 degrees.
pub(crate) fn coordinate(v: &str, max: u64, which: &str) -> Result<(), LintError> {
    let latitude = which == "LATITUDE";
    if v.len() != 10 {
        let code = if latitude {
            "LATITUDE_INVALID_LENGTH"
        } else {
            "LONGITUDE_INVALID_LENGTH"
        };
        return Err(LintError::whole(code, v));
    }
    digits(v)?;
    if num(v) > max {
        let code = if latitude {
            "INVALID_LATITUDE"
        } else {
            "INVALID_LONGITUDE"
        };
        return Err(LintError::whole(code, v));
    }
    Ok(())
}

/// Every `%` starts a two-hex-digit sequence.
pub(crate) fn percent_encoding(v: &str) -> Result<(), LintError> {
    let b = v.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let ok =
                b.len() >= i + 3 && b[i + 1].is_ascii_hexdigit() && b[i + 2].is_ascii_hexdigit();
            if !ok {
                return Err(LintError::new(
                    "INVALID_PERCENT_SEQUENCE",
                    i,
                    (b.len() - i).min(3),
                ));
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    Ok(())
}

/// Piece number then total count, each half of the value: neither zero, piece <= total.
pub(crate) fn piece_of_total(v: &str) -> Result<(), LintError> {
    if v.is_empty() || !v.len().is_multiple_of(2) {
        return Err(LintError::whole("INVALID_LENGTH_FOR_PIECE_OF_TOTAL", v));
    }
    digits(v)?;
    let half = v.len() / 2;
    let (piece, total) = (num(&v[..half]), num(&v[half..]));
    if piece == 0 {
        return Err(LintError::new("ZERO_PIECE_NUMBER", 0, half));
    }
    if total == 0 {
        return Err(LintError::new("ZERO_TOTAL_PIECES", half, half));
    }
    if piece > total {
        return Err(LintError::whole("PIECE_NUMBER_EXCEEDS_TOTAL", v));
    }
    Ok(())
}

/// "position/end", e.g. "2/3": digits, no leading zeros, position <= end.
pub(crate) fn position_in_sequence(v: &str) -> Result<(), LintError> {
    let malformed = || LintError::whole("POSITION_IN_SEQUENCE_MALFORMED", v);
    let (pos, end) = v.split_once('/').ok_or_else(malformed)?;
    let numeric = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !numeric(pos) || !numeric(end) {
        return Err(malformed());
    }
    if pos.starts_with('0') {
        return Err(LintError::new("ILLEGAL_ZERO_PREFIX", 0, pos.len()));
    }
    if end.starts_with('0') {
        return Err(LintError::new(
            "ILLEGAL_ZERO_PREFIX",
            pos.len() + 1,
            end.len(),
        ));
    }
    if num(pos) > num(end) {
        return Err(LintError::whole("POSITION_EXCEEDS_END", v));
    }
    Ok(())
}
