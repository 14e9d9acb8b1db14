//! Content checks ("linters") that the GS1 Syntax Dictionary names for AI
//! components: check digits, dates, code lists, percent encoding, ...
//!
//! Each check takes one component value and answers `Ok` or a [`LintError`]
//! naming the offending span, so a diagnostic can point at the bad characters.

mod codes;
mod dates;
mod numbers;

use crate::check_digit;

/// A failed content check: a GS1 linter code and the bad span of the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LintError {
    /// The GS1 linter code without its `GS1_LINTER_` prefix, e.g. `ILLEGAL_DAY`.
    pub code: &'static str,
    /// Start of the offending span (character index into the component).
    pub start: usize,
    /// Length of the offending span (may be 0 for "something missing here").
    pub len: usize,
}

impl LintError {
    pub(crate) fn new(code: &'static str, start: usize, len: usize) -> Self {
        LintError { code, start, len }
    }

    /// The whole value is at fault.
    pub(crate) fn whole(code: &'static str, value: &str) -> Self {
        LintError::new(code, 0, value.len())
    }
}

/// The content checks named in the Syntax Dictionary (and the character set checks).
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Linter {
    Cset82,
    Cset39,
    Cset64,
    Csetnumeric,
    Couponcode,
    Couponposoffer,
    Csum,
    Csumalpha,
    Gcppos1,
    Gcppos2,
    Hasnondigit,
    Hh,
    Hhmi,
    Hyphen,
    Iban,
    Importeridx,
    Iso3166,
    Iso3166999,
    Iso3166alpha2,
    Iso4217,
    Iso5218,
    Latitude,
    Longitude,
    Mediatype,
    Mi,
    Nonzero,
    Nozeroprefix,
    Packagetype,
    Pcenc,
    Pieceoftotal,
    Posinseqslash,
    Ss,
    Winding,
    Yesno,
    Yymmd0,
    Yymmdd,
    Yyyymmd0,
    Yyyymmdd,
    Zero,
}

impl Linter {
    /// Every linter, for name look-ups.
    pub const ALL: &'static [Linter] = &[
        Linter::Cset82,
        Linter::Cset39,
        Linter::Cset64,
        Linter::Csetnumeric,
        Linter::Couponcode,
        Linter::Couponposoffer,
        Linter::Csum,
        Linter::Csumalpha,
        Linter::Gcppos1,
        Linter::Gcppos2,
        Linter::Hasnondigit,
        Linter::Hh,
        Linter::Hhmi,
        Linter::Hyphen,
        Linter::Iban,
        Linter::Importeridx,
        Linter::Iso3166,
        Linter::Iso3166999,
        Linter::Iso3166alpha2,
        Linter::Iso4217,
        Linter::Iso5218,
        Linter::Latitude,
        Linter::Longitude,
        Linter::Mediatype,
        Linter::Mi,
        Linter::Nonzero,
        Linter::Nozeroprefix,
        Linter::Packagetype,
        Linter::Pcenc,
        Linter::Pieceoftotal,
        Linter::Posinseqslash,
        Linter::Ss,
        Linter::Winding,
        Linter::Yesno,
        Linter::Yymmd0,
        Linter::Yymmdd,
        Linter::Yyyymmd0,
        Linter::Yyyymmdd,
        Linter::Zero,
    ];

    /// The dictionary's name for this linter, e.g. `yymmd0`.
    pub fn name(self) -> String {
        format!("{self:?}").to_ascii_lowercase()
    }

    /// The linter the dictionary calls `name`.
    pub fn from_name(name: &str) -> Option<Linter> {
        Linter::ALL.iter().copied().find(|l| l.name() == name)
    }

    /// Run the check on one component value.
    pub fn check(self, v: &str) -> Result<(), LintError> {
        use Linter::*;
        match self {
            Cset82 => cset(v, is_cset82, "INVALID_CSET82_CHARACTER"),
            Cset39 => cset(v, is_cset39, "INVALID_CSET39_CHARACTER"),
            Cset64 => cset64(v),
            Csetnumeric => digits(v),
            // Coupon codes (North American retail coupons) are outside a
            // healthcare ledger's scope: their structure is not checked.
            Couponcode | Couponposoffer => Ok(()),
            Csum => csum(v),
            Csumalpha => csumalpha(v),
            Gcppos1 => company_prefix(v, 0),
            Gcppos2 => company_prefix(v, 1),
            Hasnondigit => {
                if v.bytes().any(|b| !b.is_ascii_digit()) {
                    Ok(())
                } else {
                    Err(LintError::whole("REQUIRES_NON_DIGIT_CHARACTER", v))
                }
            }
            Hh => dates::hh(v),
            Hhmi => dates::hhmi(v),
            Mi => dates::mi(v),
            Ss => dates::ss(v),
            Yymmd0 => dates::yymmdd(v, true),
            Yymmdd => dates::yymmdd(v, false),
            Yyyymmd0 => dates::yyyymmdd(v, true),
            Yyyymmdd => dates::yyyymmdd(v, false),
            Hyphen => {
                if !v.is_empty() && v.bytes().all(|b| b == b'-') {
                    Ok(())
                } else {
                    Err(LintError::whole("NOT_HYPHEN", v))
                }
            }
            Iban => numbers::iban(v),
            Importeridx => numbers::importer_index(v),
            Iso3166 => codes::iso3166(v, false),
            Iso3166999 => codes::iso3166(v, true),
            Iso3166alpha2 => codes::iso3166_alpha2(v),
            Iso4217 => codes::iso4217(v),
            Iso5218 => one_of(v, &["0", "1", "2", "9"], "INVALID_BIOLOGICAL_SEX_CODE"),
            Latitude => numbers::coordinate(v, 1_800_000_000, "LATITUDE"),
            Longitude => numbers::coordinate(v, 3_600_000_000, "LONGITUDE"),
            Mediatype => codes::media_type(v),
            Nonzero => {
                digits(v)?;
                if v.bytes().all(|b| b == b'0') {
                    Err(LintError::whole("ILLEGAL_ZERO_VALUE", v))
                } else {
                    Ok(())
                }
            }
            Nozeroprefix => {
                digits(v)?;
                if v.starts_with('0') {
                    Err(LintError::new("ILLEGAL_ZERO_PREFIX", 0, 1))
                } else {
                    Ok(())
                }
            }
            Packagetype => codes::package_type(v),
            Pcenc => numbers::percent_encoding(v),
            Pieceoftotal => numbers::piece_of_total(v),
            Posinseqslash => numbers::position_in_sequence(v),
            Winding => one_of(v, &["0", "1", "9"], "INVALID_WINDING_DIRECTION"),
            Yesno => one_of(v, &["0", "1"], "NOT_ZERO_OR_ONE"),
            Zero => {
                if !v.is_empty() && v.bytes().all(|b| b == b'0') {
                    Ok(())
                } else {
                    Err(LintError::whole("NOT_ZERO", v))
                }
            }
        }
    }
}

/// True for characters of GS1 AI encodable character set 82.
pub fn is_cset82(b: u8) -> bool {
    matches!(b,
        b'!' | b'"' | b'%'..=b'?' | b'A'..=b'Z' | b'_' | b'a'..=b'z')
}

/// True for characters of GS1 AI encodable character set 39.
pub fn is_cset39(b: u8) -> bool {
    matches!(b, b'#' | b'-' | b'/' | b'0'..=b'9' | b'A'..=b'Z')
}

/// True for characters of the base64url alphabet (character set 64, without padding).
pub fn is_cset64(b: u8) -> bool {
    matches!(b, b'-' | b'0'..=b'9' | b'A'..=b'Z' | b'_' | b'a'..=b'z')
}

fn cset(v: &str, ok: fn(u8) -> bool, code: &'static str) -> Result<(), LintError> {
    match v.bytes().position(|b| !ok(b)) {
        None => Ok(()),
        Some(i) => Err(LintError::new(code, i, char_len(v, i))),
    }
}

/// Byte length of the character starting at byte `i` (1 for ASCII).
fn char_len(v: &str, i: usize) -> usize {
    v[i..].chars().next().map_or(1, char::len_utf8)
}

fn cset64(v: &str) -> Result<(), LintError> {
    let first_pad = v.find('=').unwrap_or(v.len());
    let (body, pad) = v.split_at(first_pad);
    if pad.bytes().any(|b| b != b'=') {
        // "=" in the middle of the data is not a base64url character.
        return Err(LintError::new("INVALID_CSET64_CHARACTER", first_pad, 1));
    }
    if let Some(i) = body.bytes().position(|b| !is_cset64(b)) {
        return Err(LintError::new(
            "INVALID_CSET64_CHARACTER",
            i,
            char_len(body, i),
        ));
    }
    // Padding completes the final group: one "=" after 2 (mod 4) characters, two after 1.
    let completes_group = pad.len() <= 2 && body.len() % 4 + pad.len() == 3;
    if !pad.is_empty() && !completes_group {
        return Err(LintError::new(
            "INVALID_CSET64_PADDING",
            first_pad,
            pad.len(),
        ));
    }
    Ok(())
}

pub(crate) fn digits(v: &str) -> Result<(), LintError> {
    match v.bytes().position(|b| !b.is_ascii_digit()) {
        None => Ok(()),
        Some(i) => Err(LintError::new("NON_DIGIT_CHARACTER", i, char_len(v, i))),
    }
}

fn one_of(v: &str, allowed: &[&str], code: &'static str) -> Result<(), LintError> {
    if allowed.contains(&v) {
        Ok(())
    } else {
        Err(LintError::whole(code, v))
    }
}

fn csum(v: &str) -> Result<(), LintError> {
    digits(v)?;
    if v.is_empty() {
        return Err(LintError::new("TOO_SHORT_FOR_CHECK_DIGIT", 0, 0));
    }
    if check_digit::mod10_valid(v) {
        Ok(())
    } else {
        Err(LintError::new("INCORRECT_CHECK_DIGIT", v.len() - 1, 1))
    }
}

/// Shortest GS1 Company Prefix.
const GCP_MIN: usize = 4;

/// The GS1 Company Prefix that starts at `at`: without a prefix database
/// only its shortest possible form can be checked (at least 4 digits).
fn company_prefix(v: &str, at: usize) -> Result<(), LintError> {
    let rest = v.get(at..).unwrap_or("");
    if rest.len() < GCP_MIN {
        return Err(LintError::whole("TOO_SHORT_FOR_GCP", v));
    }
    match rest.bytes().take(GCP_MIN).position(|b| !b.is_ascii_digit()) {
        None => Ok(()),
        Some(_) => Err(LintError::new("INVALID_GCP_PREFIX", at, GCP_MIN)),
    }
}

fn csumalpha(v: &str) -> Result<(), LintError> {
    if v.len() < 2 {
        return Err(LintError::whole("TOO_SHORT_FOR_CHECK_PAIR", v));
    }
    if v.len() - 2 > check_digit::CHECK_PAIR_MAX_DATA {
        return Err(LintError::whole(
            "TOO_LONG_FOR_CHECK_PAIR_IMPLEMENTATION",
            v,
        ));
    }
    let (data, pair) = v.split_at(v.len() - 2);
    cset(data, is_cset82, "INVALID_CSET82_CHARACTER")?;
    match check_digit::check_pair(data) {
        Some(p) if p == pair => Ok(()),
        _ => Err(LintError::new("INCORRECT_CHECK_PAIR", v.len() - 2, 2)),
    }
}
