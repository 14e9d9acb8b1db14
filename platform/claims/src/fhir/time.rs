//! FHIR `date` and `dateTime` values as Unix milliseconds, through chrono.
//!
//! The consent module has its own reader of the same format; the two modules may not
//! depend on each other, and a shared home for it would be the ledger crate, which knows
//! no FHIR. Both read the same grammar (partial dates mean their first instant).

use chrono::{DateTime, NaiveDate, SecondsFormat};

/// Reads a FHIR `date` or `dateTime` (`YYYY`, `YYYY-MM`, `YYYY-MM-DD`, or a full date and
/// time with seconds and a zone) as Unix milliseconds; a partial date means its first
/// instant, UTC.
pub fn fhir_time(text: &str) -> Option<i64> {
    if text.contains('T') {
        return DateTime::parse_from_rfc3339(text)
            .ok()
            .map(|t| t.timestamp_millis());
    }
    let mut parts = text.split('-');
    let number = |p: Option<&str>, len: usize| -> Option<u32> {
        let p = p?;
        (p.len() == len && p.bytes().all(|b| b.is_ascii_digit()))
            .then(|| p.parse().ok())
            .flatten()
    };
    let year = number(parts.next(), 4)?;
    let month = match parts.next() {
        Some(p) => number(Some(p), 2)?,
        None => 1,
    };
    let day = match parts.next() {
        Some(p) => number(Some(p), 2)?,
        None => 1,
    };
    if parts.next().is_some() {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis())
}

/// A FHIR `dateTime` in UTC with milliseconds (`2026-11-23T16:37:13.000Z`).
pub fn fhir_date_time(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A FHIR `date` (`2026-11-23`) when `ms` is midnight UTC exactly.
pub(crate) fn fhir_date(ms: i64) -> Option<String> {
    if ms.rem_euclid(86_400_000) != 0 {
        return None;
    }
    DateTime::from_timestamp_millis(ms).map(|t| t.format("%Y-%m-%d").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_times_read_as_their_first_instant() {
        assert_eq!(fhir_time("1970-01-02"), Some(86_400_000));
        assert_eq!(fhir_time("1970-02"), Some(31 * 86_400_000));
        assert_eq!(fhir_time("1971"), Some(365 * 86_400_000));
        assert_eq!(
            fhir_time("2015-10-16T00:00:00-07:00"),
            fhir_time("2015-10-16T07:00:00Z")
        );
        assert_eq!(fhir_time("1970-01-01T00:00:01.5Z"), Some(1500));
        for bad in [
            "",
            "15-10-16",
            "2015-13-01",
            "2015-02-30",
            "2015-1-01",
            "2015-10-16T10:00",
        ] {
            assert_eq!(fhir_time(bad), None, "{bad}");
        }
        assert_eq!(fhir_date_time(1500), "1970-01-01T00:00:01.500Z");
        assert_eq!(fhir_date(86_400_000).as_deref(), Some("1970-01-02"));
        assert_eq!(fhir_date(86_400_001), None);
    }
}
