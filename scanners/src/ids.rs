//! Identifier types whose constructors check everything once: `Gtin`,
//! `Serial`, `Lot`, `Sscc`, `Gln` and `Expiry`. Past the edge, code holds
//! these and never re-checks a string. Each is `Display`, `FromStr` and
//! serialises as its string form.

use crate::check_digit;
use crate::error::{Error, codes};
use crate::lint::{Linter, is_cset82};
use std::fmt;
use std::str::FromStr;

fn bad(what: &str, why: impl fmt::Display) -> Error {
    Error::new(codes::INVALID_IDENTIFIER, format!("{what}: {why}"))
}

fn check_digits(what: &str, s: &str, len: usize) -> Result<(), Error> {
    if s.len() != len || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad(what, format!("expected {len} digits, got {s:?}")));
    }
    if !check_digit::mod10_valid(s) {
        let right = check_digit::with_correct_check_digit(s).unwrap_or_default();
        return Err(Error::new(
            codes::CHECK_DIGIT,
            format!(
                "{what} {s}: check digit is wrong (expected {}); re-scan or re-key it",
                &right[right.len().saturating_sub(1)..]
            ),
        ));
    }
    Ok(())
}

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            /// The identifier as a string.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The identifier from text its checked constructor returned before, taken
            /// as it is: for values a program reads back from data it wrote itself after
            /// checking them (its own stored state), where checking again costs more than
            /// the lookup. Text from anywhere else goes through the checked constructor.
            pub fn from_checked(s: &str) -> Self {
                debug_assert!(
                    s.parse::<$name>().is_ok_and(|v| v.0 == s),
                    "{s:?} is not a checked {}",
                    stringify!($name)
                );
                $name(s.to_owned())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self, Error> {
                $name::new(s)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                $name::new(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

string_id!(
    /// A Global Trade Item Number, held as 14 digits (GTIN-8/12/13 are left-padded with zeros).
    Gtin
);
string_id!(
    /// A serial number (AI 21): 1 to 20 characters of GS1 character set 82.
    Serial
);
string_id!(
    /// A batch or lot number (AI 10): 1 to 20 characters of GS1 character set 82.
    Lot
);
string_id!(
    /// A Serial Shipping Container Code (AI 00): 18 digits with a valid check digit.
    Sscc
);
string_id!(
    /// A Global Location Number (AI 414 and others): 13 digits with a valid check digit.
    Gln
);

impl Gtin {
    /// A GTIN-8, -12, -13 or -14 with a valid check digit, normalised to 14 digits.
    pub fn new(s: &str) -> Result<Self, Error> {
        if !matches!(s.len(), 8 | 12 | 13 | 14) {
            return Err(bad(
                "GTIN",
                format!(
                    "expected 8, 12, 13 or 14 digits, got {} characters",
                    s.len()
                ),
            ));
        }
        let padded = format!("{s:0>14}");
        check_digits("GTIN", &padded, 14)?;
        Ok(Gtin(padded))
    }

    /// The GS1 Company Prefix and item reference part with the indicator digit (all but the check digit).
    pub fn without_check_digit(&self) -> &str {
        &self.0[..13]
    }
}

fn cset82_text(what: &str, s: &str) -> Result<String, Error> {
    if s.is_empty() || s.len() > 20 {
        return Err(bad(
            what,
            format!("expected 1 to 20 characters, got {}", s.len()),
        ));
    }
    if let Some(c) = s.bytes().position(|b| !is_cset82(b)) {
        return Err(bad(
            what,
            format!("character {} of {s:?} is not allowed in GS1 data", c + 1),
        ));
    }
    Ok(s.to_string())
}

impl Serial {
    /// A serial number: 1-20 characters of GS1 character set 82.
    pub fn new(s: &str) -> Result<Self, Error> {
        cset82_text("serial", s).map(Serial)
    }
}

impl Lot {
    /// A lot number: 1-20 characters of GS1 character set 82.
    pub fn new(s: &str) -> Result<Self, Error> {
        cset82_text("lot", s).map(Lot)
    }
}

impl Sscc {
    /// An SSCC: 18 digits with a valid check digit.
    pub fn new(s: &str) -> Result<Self, Error> {
        check_digits("SSCC", s, 18).map(|()| Sscc(s.to_string()))
    }
}

impl Gln {
    /// A GLN: 13 digits with a valid check digit.
    pub fn new(s: &str) -> Result<Self, Error> {
        check_digits("GLN", s, 13).map(|()| Gln(s.to_string()))
    }
}

/// An expiry date. `DD = 00` in GS1 data means the last day of the month and
/// is resolved to that day; two-digit years follow the GS1 century rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Expiry {
    year: u16,
    month: u8,
    day: u8,
}

impl Expiry {
    /// A checked calendar date.
    pub fn from_ymd(year: u16, month: u8, day: u8) -> Result<Self, Error> {
        let dim = crate::date::days_in_month(u32::from(year), u32::from(month));
        if dim == 0 || day == 0 || u32::from(day) > dim {
            return Err(Error::new(
                codes::INVALID_DATE,
                format!("{year:04}-{month:02}-{day:02} is not a calendar date"),
            ));
        }
        Ok(Expiry { year, month, day })
    }

    /// From GS1 `YYMMDD` (AI 17), using this year for the century rule.
    pub fn from_yymmdd(s: &str) -> Result<Self, Error> {
        Self::from_yymmdd_at(s, crate::date::current_year())
    }

    /// From GS1 `YYMMDD`, deciding the century relative to `this_year`
    /// (GS1 General Specifications 7.12: YY more than 50 years ahead is in the
    /// previous century, more than 49 years behind is in the next).
    pub fn from_yymmdd_at(s: &str, this_year: u16) -> Result<Self, Error> {
        if let Err(e) = Linter::Yymmd0.check(s) {
            return Err(Error::new(
                codes::INVALID_DATE,
                format!("{s:?} is not a GS1 date YYMMDD ({})", e.code),
            ));
        }
        let n = |i: usize| {
            u16::from(s.as_bytes()[i] - b'0') * 10 + u16::from(s.as_bytes()[i + 1] - b'0')
        };
        let year = crate::date::century(n(0), this_year);
        let month = n(2) as u8;
        let mut day = n(4) as u8;
        if day == 0 {
            day = crate::date::days_in_month(u32::from(year), u32::from(month)) as u8;
        }
        Self::from_ymd(year, month, day)
    }

    /// Year (four digits).
    pub fn year(&self) -> u16 {
        self.year
    }

    /// Month 1-12.
    pub fn month(&self) -> u8 {
        self.month
    }

    /// Day of the month.
    pub fn day(&self) -> u8 {
        self.day
    }
}

impl fmt::Display for Expiry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl FromStr for Expiry {
    type Err = Error;
    /// `YYYY-MM-DD`, or GS1 `YYMMDD`.
    fn from_str(s: &str) -> Result<Self, Error> {
        let b = s.as_bytes();
        if b.len() == 10 && b[4] == b'-' && b[7] == b'-' {
            let part = |r: std::ops::Range<usize>| s[r].parse::<u16>().ok();
            if let (Some(y), Some(m), Some(d)) = (part(0..4), part(5..7), part(8..10))
                && s[..4].bytes().all(|c| c.is_ascii_digit())
            {
                return Expiry::from_ymd(y, m as u8, d as u8);
            }
        }
        if b.len() == 6 {
            return Expiry::from_yymmdd(s);
        }
        Err(Error::new(
            codes::INVALID_DATE,
            format!("{s:?}: expected YYYY-MM-DD or YYMMDD"),
        ))
    }
}

impl serde::Serialize for Expiry {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Expiry {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gtin_is_normalised() {
        assert_eq!(
            Gtin::new("4006381333931").unwrap().as_str(),
            "04006381333931"
        );
        assert_eq!(
            Gtin::new("4006381333932").unwrap_err().code(),
            codes::CHECK_DIGIT
        );
        assert_eq!(
            Gtin::new("123").unwrap_err().code(),
            codes::INVALID_IDENTIFIER
        );
    }

    #[test]
    fn checked_text_reads_back_as_the_checked_value() {
        let g = Gtin::new("4006381333931").unwrap();
        assert_eq!(Gtin::from_checked(g.as_str()), g);
        let s = Sscc::new("006141410000000005").unwrap();
        assert_eq!(Sscc::from_checked(s.as_str()), s);
        assert_eq!(
            Serial::from_checked("A(B)/1"),
            Serial::new("A(B)/1").unwrap()
        );
        assert_eq!(Lot::from_checked("L-1"), Lot::new("L-1").unwrap());
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "not a checked Gtin")]
    fn unchecked_text_is_caught_in_debug_builds() {
        // the un-normalised form of a valid GTIN was never what `new` returned
        let _ = Gtin::from_checked("4006381333931");
    }

    #[test]
    fn expiry_end_of_month_and_century() {
        assert_eq!(
            Expiry::from_yymmdd_at("240200", 2026).unwrap().to_string(),
            "2024-02-29"
        );
        assert_eq!(
            Expiry::from_yymmdd_at("991231", 2026).unwrap().to_string(),
            "1999-12-31"
        );
        assert_eq!(
            Expiry::from_yymmdd_at("751231", 2026).unwrap().to_string(),
            "2075-12-31"
        );
        assert_eq!(
            Expiry::from_yymmdd_at("761231", 2026).unwrap().to_string(),
            "2076-12-31"
        );
        assert_eq!(
            Expiry::from_yymmdd_at("771231", 2026).unwrap().to_string(),
            "1977-12-31"
        );
        assert_eq!("2026-02-28".parse::<Expiry>().unwrap().day(), 28);
        assert!("2026-02-29".parse::<Expiry>().is_err());
    }

    #[test]
    fn serde_as_strings() {
        let g = Gtin::new("09506000134352").unwrap();
        assert_eq!(serde_json::to_string(&g).unwrap(), "\"09506000134352\"");
        let back: Gtin = serde_json::from_str("\"09506000134352\"").unwrap();
        assert_eq!(back, g);
        assert!(serde_json::from_str::<Sscc>("\"123\"").is_err());
    }
}
