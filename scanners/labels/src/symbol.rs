//! The two symbologies a label can carry, encoded to a plain grid of dark and light
//! modules that the SVG, PNG and PDF writers draw. No drawing happens here.

use crate::LabelError;

/// Which 2D code a label carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Symbology {
    /// GS1 DataMatrix (ECC 200, FNC1 in first position) carrying the element string
    /// `(01)(17)(10)(21)`: the code regulators require on a medicine pack.
    DataMatrix,
    /// QR code carrying a GS1 Digital Link URI, readable by any phone camera.
    Qr,
}

impl Symbology {
    /// The name used on the command line: `datamatrix` or `qr`.
    pub fn name(self) -> &'static str {
        match self {
            Self::DataMatrix => "datamatrix",
            Self::Qr => "qr",
        }
    }

    /// The width of the quiet zone around the symbol, in modules. GS1 asks for at least
    /// one module around DataMatrix and four around QR; DataMatrix gets two so that
    /// camera readers find its finder pattern even next to the printed text.
    pub(crate) fn quiet_modules(self) -> u32 {
        match self {
            Self::DataMatrix => 2,
            Self::Qr => 4,
        }
    }
}

impl std::str::FromStr for Symbology {
    type Err = String;

    /// Parses `datamatrix` (also `dm`, `data-matrix`) or `qr` (also `qrcode`), any case.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.to_ascii_lowercase().as_str() {
            "datamatrix" | "data-matrix" | "dm" => Ok(Self::DataMatrix),
            "qr" | "qrcode" | "qr-code" => Ok(Self::Qr),
            other => Err(format!("unknown symbology {other:?}: use datamatrix or qr")),
        }
    }
}

/// A symbol as a grid of modules, without quiet zone; `true` is dark.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Modules {
    width: u32,
    height: u32,
    dark: Vec<bool>,
}

impl Modules {
    /// Width of the symbol in modules.
    pub(crate) fn width(&self) -> u32 {
        self.width
    }

    /// Height of the symbol in modules.
    pub(crate) fn height(&self) -> u32 {
        self.height
    }

    /// Whether the module at column `x`, row `y` is dark.
    pub(crate) fn is_dark(&self, x: u32, y: u32) -> bool {
        self.dark[(y * self.width + x) as usize]
    }

    /// The dark runs of one row as `(start column, length)`: drawing runs instead of
    /// single modules keeps SVG and PDF small and leaves no hairlines between modules.
    pub(crate) fn dark_runs(&self, y: u32) -> impl Iterator<Item = (u32, u32)> + '_ {
        let mut x = 0;
        std::iter::from_fn(move || {
            while x < self.width && !self.is_dark(x, y) {
                x += 1;
            }
            if x >= self.width {
                return None;
            }
            let start = x;
            while x < self.width && self.is_dark(x, y) {
                x += 1;
            }
            Some((start, x - start))
        })
    }
}

/// Encodes `data` in `symbology`. For DataMatrix, `data` is a GS1 element string whose
/// variable-length fields end with GS (0x1D); the symbol starts with FNC1 and every GS
/// becomes an FNC1 codeword. For QR, `data` is the Digital Link URI, encoded as-is at
/// error correction level M. Both symbols are square.
pub(crate) fn encode(symbology: Symbology, data: &str) -> Result<Modules, LabelError> {
    let (width, dark) = match symbology {
        Symbology::DataMatrix => crate::datamatrix::encode(data)?,
        Symbology::Qr => crate::qr::encode(data.as_bytes())?,
    };
    Ok(Modules {
        width,
        height: width,
        dark,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_matrix_is_a_square_ecc200_symbol() {
        let m = encode(
            Symbology::DataMatrix,
            "0109506000134352172712311012345\u{1d}21ABC",
        )
        .unwrap();
        assert_eq!(m.width(), m.height());
        // ECC 200 finder: solid left column and bottom row.
        assert!((0..m.height()).all(|y| m.is_dark(0, y)));
        assert!((0..m.width()).all(|x| m.is_dark(x, m.height() - 1)));
    }

    #[test]
    fn runs_cover_exactly_the_dark_modules() {
        let m = encode(Symbology::Qr, "https://id.gs1.org/01/09506000134352").unwrap();
        for y in 0..m.height() {
            let from_runs: u32 = m.dark_runs(y).map(|(_, n)| n).sum();
            let counted = (0..m.width()).filter(|&x| m.is_dark(x, y)).count() as u32;
            assert_eq!(from_runs, counted);
        }
    }

    #[test]
    fn symbology_names_parse_back() {
        for s in [Symbology::DataMatrix, Symbology::Qr] {
            assert_eq!(s.name().parse::<Symbology>(), Ok(s));
        }
        assert!("ean13".parse::<Symbology>().is_err());
    }
}
