//! What a label says: GTIN, serial, lot and expiry, checked once on construction (by
//! the `scanners` identifier types) so that rendering never meets a bad value. Also the
//! texts made from it: the GS1 element string (DataMatrix), the Digital Link URI (QR)
//! and the human-readable lines.

use crate::LabelError;
use scanners::{Expiry, Gtin, Lot, Serial};

/// The Digital Link resolver used when no base URI is given: GS1's own.
pub const DEFAULT_BASE_URI: &str = "https://id.gs1.org";

/// The ASCII group separator that stands for FNC1 after a variable-length field.
pub const GS: char = scanners::GS;

/// The data of one pack label, valid by construction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelData {
    gtin: Gtin,
    serial: Serial,
    lot: Lot,
    expiry: Expiry,
}

impl LabelData {
    /// Checks and builds label data. `gtin` has 8, 12, 13 or 14 digits and a correct
    /// check digit (shorter GTINs are padded to 14); `serial` and `lot` have 1 to 20
    /// characters of GS1 character set 82; `expiry` is a real date `YYYY-MM-DD` whose
    /// two-digit year a scanner will read back as the same year.
    pub fn new(gtin: &str, serial: &str, lot: &str, expiry: &str) -> Result<Self, LabelError> {
        let gtin = Gtin::new(gtin).map_err(|e| LabelError::Gtin {
            value: gtin.to_string(),
            reason: e.message().to_string(),
        })?;
        let serial = Serial::new(serial).map_err(|e| LabelError::Serial {
            value: serial.to_string(),
            reason: e.message().to_string(),
        })?;
        let lot = Lot::new(lot).map_err(|e| LabelError::Lot {
            value: lot.to_string(),
            reason: e.message().to_string(),
        })?;
        let expiry = parse_expiry(expiry)?;
        Ok(Self {
            gtin,
            serial,
            lot,
            expiry,
        })
    }

    /// The GTIN, as 14 digits.
    pub fn gtin(&self) -> &Gtin {
        &self.gtin
    }

    /// The serial number (AI 21).
    pub fn serial(&self) -> &Serial {
        &self.serial
    }

    /// The lot or batch number (AI 10).
    pub fn lot(&self) -> &Lot {
        &self.lot
    }

    /// The expiry date (AI 17); displays as `YYYY-MM-DD`.
    pub fn expiry(&self) -> &Expiry {
        &self.expiry
    }

    /// The expiry as GS1 writes it in AI 17: `YYMMDD`.
    pub fn expiry_yymmdd(&self) -> String {
        yymmdd(&self.expiry)
    }

    /// The AIs of the label in element-string order: fixed-length fields (GTIN,
    /// expiry) first so that only the lot needs a separator.
    fn ais(&self) -> [(&'static str, String); 4] {
        [
            ("01", self.gtin.to_string()),
            ("17", self.expiry_yymmdd()),
            ("10", self.lot.to_string()),
            ("21", self.serial.to_string()),
        ]
    }

    /// The GS1 element string a DataMatrix carries, without the leading FNC1:
    /// `01` GTIN `17` expiry `10` lot GS `21` serial.
    pub fn element_string(&self) -> String {
        let ais = self.ais();
        let pairs: Vec<(&str, &str)> = ais.iter().map(|(a, v)| (*a, v.as_str())).collect();
        // Every value was checked on construction; an error here is a bug in the
        // `scanners` rules, so fall back to joining the fields by hand.
        scanners::element_string(&pairs).unwrap_or_else(|_| {
            format!(
                "01{}17{}10{}{GS}21{}",
                self.gtin,
                self.expiry_yymmdd(),
                self.lot,
                self.serial
            )
        })
    }

    /// The GS1 Digital Link URI a QR code carries, on `base_uri` (default
    /// [`DEFAULT_BASE_URI`]): `BASE/01/GTIN/10/LOT/21/SERIAL?17=YYMMDD`.
    pub fn digital_link(&self, base_uri: Option<&str>) -> Result<String, LabelError> {
        let base = check_base_uri(base_uri.unwrap_or(DEFAULT_BASE_URI))?;
        let ais = self.ais();
        let pairs: Vec<(&str, &str)> = ais.iter().map(|(a, v)| (*a, v.as_str())).collect();
        scanners::digital_link_uri(&pairs, Some(&base)).map_err(|e| LabelError::Encode {
            message: format!("Digital Link: {}", e.message()),
        })
    }

    /// The lines printed beside the code, in order: GTIN, serial, lot, expiry.
    pub fn human_lines(&self) -> [String; 4] {
        [
            format!("GTIN {}", self.gtin),
            format!("SN {}", self.serial),
            format!("LOT {}", self.lot),
            format!("EXP {}", self.expiry),
        ]
    }
}

fn yymmdd(expiry: &Expiry) -> String {
    format!(
        "{:02}{:02}{:02}",
        expiry.year() % 100,
        expiry.month(),
        expiry.day()
    )
}

/// `YYYY-MM-DD` only (the label's input format), a real date, and a year that GS1's
/// two-digit-year rule maps back to itself when a scanner reads the code today.
fn parse_expiry(value: &str) -> Result<Expiry, LabelError> {
    let refuse = |reason: String| LabelError::Expiry {
        value: value.to_string(),
        reason,
    };
    let b = value.as_bytes();
    let shaped = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shaped {
        return Err(refuse("it is not written YYYY-MM-DD".to_string()));
    }
    let expiry: Expiry = value
        .parse()
        .map_err(|e: scanners::Error| refuse(e.message().to_string()))?;
    match Expiry::from_yymmdd(&yymmdd(&expiry)) {
        Ok(read_back) if read_back == expiry => Ok(expiry),
        Ok(read_back) => Err(refuse(format!(
            "in the two-digit year of the barcode, scanners would read {} as {}",
            expiry.year(),
            read_back.year()
        ))),
        Err(e) => Err(refuse(e.message().to_string())),
    }
}

/// An `http://` or `https://` address with a host, no query, fragment or spaces; the
/// trailing slash is dropped.
fn check_base_uri(value: &str) -> Result<String, LabelError> {
    let refuse = |reason: &str| LabelError::BaseUri {
        value: value.to_string(),
        reason: reason.to_string(),
    };
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"))
        .ok_or_else(|| refuse("it must start with http:// or https://"))?;
    if rest.split('/').next().unwrap_or("").is_empty() {
        return Err(refuse("it has no host name"));
    }
    if value
        .chars()
        .any(|c| !c.is_ascii_graphic() || matches!(c, '?' | '#'))
    {
        return Err(refuse(
            "it may not hold spaces, a query (?) or a fragment (#)",
        ));
    }
    Ok(value.trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> LabelData {
        LabelData::new("09506000134352", "SN/1", "L1", "2027-03-31").unwrap()
    }

    #[test]
    fn element_string_puts_gs_after_the_lot_only() {
        assert_eq!(
            sample().element_string(),
            "01095060001343521727033110L1\u{1d}21SN/1"
        );
    }

    #[test]
    fn digital_link_escapes_the_serial_and_keeps_expiry_in_the_query() {
        assert_eq!(
            sample().digital_link(None).unwrap(),
            "https://id.gs1.org/01/09506000134352/10/L1/21/SN%2F1?17=270331"
        );
        assert_eq!(
            sample()
                .digital_link(Some("https://example.com/dl/"))
                .unwrap(),
            "https://example.com/dl/01/09506000134352/10/L1/21/SN%2F1?17=270331"
        );
    }

    #[test]
    fn short_gtins_are_padded() {
        let data = LabelData::new("9506000134352", "1", "1", "2027-03-31").unwrap();
        assert_eq!(data.gtin().as_str(), "09506000134352");
    }

    #[test]
    fn bad_base_uris_are_refused() {
        for base in [
            "ftp://x",
            "https://",
            "https://a b",
            "https://x/?q",
            "id.gs1.org",
        ] {
            let e = sample().digital_link(Some(base)).unwrap_err();
            assert_eq!(e.code(), crate::codes::INVALID_BASE_URI, "{base}");
        }
    }
}
