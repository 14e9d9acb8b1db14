//! Calendar arithmetic for GS1 dates: month lengths, the two-digit-year
//! century rule, and today's year from the system clock (the one place the
//! crate looks at the clock, used only to resolve YY).

use std::time::{SystemTime, UNIX_EPOCH};

/// Days in a month (0 for a month outside 1-12); February counts 29 in a leap year.
pub fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        _ => 0,
    }
}

/// The four-digit year of a GS1 `YY`, relative to `this_year` (GS1 General
/// Specifications 7.12): a difference of 51..=99 years ahead means the previous
/// century, 50..=99 behind the next one, anything else this century.
pub fn century(yy: u16, this_year: u16) -> u16 {
    let base = this_year - this_year % 100;
    let diff = i32::from(yy) - i32::from(this_year % 100);
    let year = i32::from(base + yy)
        + match diff {
            51..=99 => -100,
            -99..=-50 => 100,
            _ => 0,
        };
    year as u16
}

/// The current year (UTC) from the system clock.
pub fn current_year() -> u16 {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    year_of_day(secs / 86_400)
}

/// The civil year of a day count since 1970-01-01.
fn year_of_day(days: u64) -> u16 {
    let mut year = 1970u64;
    let mut left = days;
    loop {
        let len = if days_in_month(year as u32, 2) == 29 {
            366
        } else {
            365
        };
        if left < len {
            return year.min(u64::from(u16::MAX)) as u16;
        }
        left -= len;
        year += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn century_rule() {
        assert_eq!(century(26, 2026), 2026);
        assert_eq!(century(76, 2026), 2076);
        assert_eq!(century(77, 2026), 1977);
        assert_eq!(century(1, 2099), 2101);
        assert_eq!(century(50, 2099), 2050);
        assert_eq!(century(49, 2099), 2149);
    }

    #[test]
    fn epoch_years() {
        assert_eq!(year_of_day(0), 1970);
        assert_eq!(year_of_day(365), 1971);
        assert_eq!(year_of_day(20_454), 2026);
    }
}
