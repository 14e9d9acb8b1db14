//! Date and time linters: YYMMDD (with DD = 00 allowed where the dictionary
//! says so), YYYYMMDD, HH, MI, SS and HHMI.

use super::{LintError, digits};

use crate::date::days_in_month;

fn num(v: &str) -> u32 {
    v.bytes().fold(0, |n, b| n * 10 + u32::from(b - b'0'))
}

fn month_day(v: &str, at: usize, year: u32, zero_day: bool) -> Result<(), LintError> {
    let month = num(&v[at..at + 2]);
    if !(1..=12).contains(&month) {
        return Err(LintError::new("ILLEGAL_MONTH", at, 2));
    }
    let day = num(&v[at + 2..at + 4]);
    let ok = (day == 0 && zero_day) || (day >= 1 && day <= days_in_month(year, month));
    if ok {
        Ok(())
    } else {
        Err(LintError::new("ILLEGAL_DAY", at + 2, 2))
    }
}

fn sized(v: &str, len: usize, short: &'static str, long: &'static str) -> Result<(), LintError> {
    if v.len() < len {
        return Err(LintError::whole(short, v));
    }
    if v.len() > len {
        return Err(LintError::whole(long, v));
    }
    digits(v)
}

/// YYMMDD; `zero_day` allows DD = 00 (meaning the last day of the month).
/// The century is not known here, so a YY divisible by 4 counts as leap.
pub(crate) fn yymmdd(v: &str, zero_day: bool) -> Result<(), LintError> {
    digits(v)?;
    sized(v, 6, "DATE_TOO_SHORT", "DATE_TOO_LONG")?;
    let yy = num(&v[..2]);
    // 2000 is leap, so treating YY as 20YY decides February correctly for every YY % 4.
    month_day(v, 2, 2000 + yy, zero_day)
}

/// YYYYMMDD; `zero_day` allows DD = 00.
pub(crate) fn yyyymmdd(v: &str, zero_day: bool) -> Result<(), LintError> {
    digits(v)?;
    sized(v, 8, "DATE_TOO_SHORT", "DATE_TOO_LONG")?;
    month_day(v, 4, num(&v[..4]), zero_day)
}

fn two(
    v: &str,
    max: u32,
    short: &'static str,
    long: &'static str,
    bad: &'static str,
) -> Result<(), LintError> {
    digits(v)?;
    sized(v, 2, short, long)?;
    if num(v) > max {
        Err(LintError::whole(bad, v))
    } else {
        Ok(())
    }
}

/// Hour 00-23.
pub(crate) fn hh(v: &str) -> Result<(), LintError> {
    two(v, 23, "HOUR_TOO_SHORT", "HOUR_TOO_LONG", "ILLEGAL_HOUR")
}

/// Minute 00-59.
pub(crate) fn mi(v: &str) -> Result<(), LintError> {
    two(
        v,
        59,
        "MINUTE_TOO_SHORT",
        "MINUTE_TOO_LONG",
        "ILLEGAL_MINUTE",
    )
}

/// Second 00-59.
pub(crate) fn ss(v: &str) -> Result<(), LintError> {
    two(
        v,
        59,
        "SECOND_TOO_SHORT",
        "SECOND_TOO_LONG",
        "ILLEGAL_SECOND",
    )
}

/// HHMI: hour 00-23 and minute 00-59.
pub(crate) fn hhmi(v: &str) -> Result<(), LintError> {
    digits(v)?;
    sized(
        v,
        4,
        "HOUR_WITH_MINUTE_TOO_SHORT",
        "HOUR_WITH_MINUTE_TOO_LONG",
    )?;
    if num(&v[..2]) > 23 {
        return Err(LintError::new("ILLEGAL_HOUR", 0, 2));
    }
    if num(&v[2..]) > 59 {
        return Err(LintError::new("ILLEGAL_MINUTE", 2, 2));
    }
    Ok(())
}
