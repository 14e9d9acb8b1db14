//! Code-list linters: ISO 3166 countries, ISO 4217 currencies, AIDC media
//! types and package types.

use super::LintError;

#[path = "code_lists.rs"]
mod code_lists;

fn listed(list: &[&str], v: &str) -> bool {
    list.binary_search(&v).is_ok()
}

/// True if `v` is an ISO 3166-1 alpha-2 country code.
pub(crate) fn is_alpha2(v: &str) -> bool {
    listed(code_lists::ISO3166_ALPHA2, v)
}

/// ISO 3166-1 numeric country code; `or_999` also accepts "999" (unknown country).
pub(crate) fn iso3166(v: &str, or_999: bool) -> Result<(), LintError> {
    if listed(code_lists::ISO3166_NUMERIC, v) || (or_999 && v == "999") {
        Ok(())
    } else if or_999 {
        Err(LintError::whole("NOT_ISO3166_OR_999", v))
    } else {
        Err(LintError::whole("NOT_ISO3166", v))
    }
}

/// ISO 3166-1 alpha-2 country code.
pub(crate) fn iso3166_alpha2(v: &str) -> Result<(), LintError> {
    if is_alpha2(v) {
        Ok(())
    } else {
        Err(LintError::whole("NOT_ISO3166_ALPHA2", v))
    }
}

/// ISO 4217 numeric currency code.
pub(crate) fn iso4217(v: &str) -> Result<(), LintError> {
    if listed(code_lists::ISO4217_NUMERIC, v) {
        Ok(())
    } else {
        Err(LintError::whole("NOT_ISO4217", v))
    }
}

/// AIDC media type (AI 7241): 01-10 are assigned, 80-99 are for company use.
pub(crate) fn media_type(v: &str) -> Result<(), LintError> {
    let ok = v.len() == 2
        && v.bytes().all(|b| b.is_ascii_digit())
        && matches!(v.parse::<u8>(), Ok(1..=10 | 80..=99));
    if ok {
        Ok(())
    } else {
        Err(LintError::whole("INVALID_MEDIA_TYPE", v))
    }
}

/// Package type (AI 7041, UN/ECE Recommendation 21 codes). The code list is
/// not carried here, so only its shape is checked: upper-case letters
/// or digits, 2 or 3 long (a logistic-unit attribute outside healthcare trade items).
pub(crate) fn package_type(v: &str) -> Result<(), LintError> {
    let ok = (2..=3).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(LintError::whole("INVALID_PACKAGE_TYPE", v))
    }
}
