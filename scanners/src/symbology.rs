//! Symbology identifiers (ISO/IEC 15424): the `]Xm` prefix a scanner sends
//! before the data, saying which kind of code it read and how.

use serde::Serialize;
use std::fmt;

/// The kind of barcode a scan came from, as its symbology identifier says.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Symbology {
    /// `]d2`: GS1 DataMatrix (FNC1 in first position).
    Gs1DataMatrix,
    /// `]d1` and other DataMatrix modifiers: plain DataMatrix.
    DataMatrix,
    /// `]Q3`: GS1 QR Code.
    Gs1Qr,
    /// `]Q1` and other QR modifiers: plain QR Code.
    Qr,
    /// `]C1`: GS1-128.
    Gs1_128,
    /// `]C0` and other Code 128 modifiers: plain Code 128.
    Code128,
    /// `]e0`: GS1 DataBar (and composite components).
    Gs1DataBar,
    /// `]E0`: EAN-13 / UPC-A.
    Ean13,
    /// `]E4`: EAN-8.
    Ean8,
    /// `]J1`: GS1 DotCode.
    Gs1DotCode,
    /// `]J0`: plain DotCode.
    DotCode,
    /// Any other well-formed identifier, kept as sent (e.g. `]A0`).
    Other(String),
}

impl Symbology {
    /// Read a symbology identifier at the start of `data`: the symbology and its length (3).
    pub fn detect(data: &[u8]) -> Option<(Symbology, usize)> {
        match data {
            [b']', code, modifier, ..]
                if code.is_ascii_alphabetic() && modifier.is_ascii_alphanumeric() =>
            {
                Some((Symbology::from_parts(*code, *modifier), 3))
            }
            _ => None,
        }
    }

    fn from_parts(code: u8, modifier: u8) -> Symbology {
        match (code, modifier) {
            (b'd', b'2') => Symbology::Gs1DataMatrix,
            (b'd', _) => Symbology::DataMatrix,
            (b'Q', b'3') => Symbology::Gs1Qr,
            (b'Q', _) => Symbology::Qr,
            (b'C', b'1') => Symbology::Gs1_128,
            (b'C', _) => Symbology::Code128,
            (b'e', b'0') => Symbology::Gs1DataBar,
            (b'E', b'0') => Symbology::Ean13,
            (b'E', b'4') => Symbology::Ean8,
            (b'J', b'1') => Symbology::Gs1DotCode,
            (b'J', _) => Symbology::DotCode,
            _ => Symbology::Other(format!("]{}{}", code as char, modifier as char)),
        }
    }

    /// True if this identifier announces GS1 AI element string data (FNC1 first).
    pub fn is_gs1(&self) -> bool {
        matches!(
            self,
            Symbology::Gs1DataMatrix
                | Symbology::Gs1Qr
                | Symbology::Gs1_128
                | Symbology::Gs1DataBar
                | Symbology::Gs1DotCode
        )
    }

    /// A stable, readable name, e.g. "GS1 DataMatrix" (the `symbology` in reports).
    pub fn name(&self) -> &str {
        match self {
            Symbology::Gs1DataMatrix => "GS1 DataMatrix",
            Symbology::DataMatrix => "DataMatrix",
            Symbology::Gs1Qr => "GS1 QR Code",
            Symbology::Qr => "QR Code",
            Symbology::Gs1_128 => "GS1-128",
            Symbology::Code128 => "Code 128",
            Symbology::Gs1DataBar => "GS1 DataBar",
            Symbology::Ean13 => "EAN-13",
            Symbology::Ean8 => "EAN-8",
            Symbology::Gs1DotCode => "GS1 DotCode",
            Symbology::DotCode => "DotCode",
            Symbology::Other(id) => id,
        }
    }

    /// The identifier as a scanner sends it for GS1 data, e.g. `]d2`.
    pub fn identifier(&self) -> &str {
        match self {
            Symbology::Gs1DataMatrix => "]d2",
            Symbology::DataMatrix => "]d1",
            Symbology::Gs1Qr => "]Q3",
            Symbology::Qr => "]Q1",
            Symbology::Gs1_128 => "]C1",
            Symbology::Code128 => "]C0",
            Symbology::Gs1DataBar => "]e0",
            Symbology::Ean13 => "]E0",
            Symbology::Ean8 => "]E4",
            Symbology::Gs1DotCode => "]J1",
            Symbology::DotCode => "]J0",
            Symbology::Other(id) => id,
        }
    }
}

impl fmt::Display for Symbology {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for Symbology {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// What a scanner transmits for these AIs when it reads them from a code of
/// this symbology: the symbology identifier, then the element string with GS
/// separators (GS1 symbologies), the GTIN digits (EAN-13/EAN-8), or the
/// canonical Digital Link URI (plain QR Code and DataMatrix). Useful to check
/// a printed label against what a scanner will send.
pub fn scan_data(symbology: &Symbology, ais: &[(&str, &str)]) -> Result<String, crate::Error> {
    use crate::error::{Error, codes};
    match symbology {
        s if s.is_gs1() => Ok(format!("{}{}", s.identifier(), crate::element_string(ais)?)),
        Symbology::Ean13 | Symbology::Ean8 => {
            let width = if *symbology == Symbology::Ean13 {
                13
            } else {
                8
            };
            let gtin = match ais {
                [("01", g)] => crate::Gtin::new(g)?,
                _ => {
                    return Err(Error::new(
                        codes::NOT_GS1,
                        "an EAN barcode carries one GTIN (01) and nothing else",
                    ));
                }
            };
            let digits = gtin.as_str();
            let (pad, keep) = digits.split_at(14 - width);
            if pad.bytes().any(|b| b != b'0') {
                return Err(Error::new(
                    codes::AI_LENGTH,
                    format!("GTIN {digits} does not fit in {width} digits"),
                ));
            }
            Ok(format!("{}{keep}", symbology.identifier()))
        }
        Symbology::Qr | Symbology::DataMatrix => Ok(format!(
            "{}{}",
            symbology.identifier(),
            crate::digital_link_uri(ais, None)?
        )),
        other => Err(Error::new(
            codes::SYMBOLOGY,
            format!("{} does not carry GS1 data", other.name()),
        )),
    }
}
