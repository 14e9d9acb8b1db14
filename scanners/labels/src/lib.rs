//! Labels for packs and devices: GS1 DataMatrix and Digital Link QR codes as SVG, PNG and
//! printable PDF sheets, and decoding codes back from images. Builds on `scanners` only.
//!
//! Every input is checked before anything is drawn: a function here either returns the
//! whole output or an error with a stable [`code`](LabelError::code), never half a file.
//!
//! The command line maps onto it directly: `pedigree label --gtin G --serial S --lot L
//! --expiry YYYY-MM-DD [--symbology datamatrix|qr] [--format svg|png|pdf] [--base-uri
//! URI] -o FILE` is [`LabelData::new`] then [`render`] (`Symbology` and `Format` parse
//! from those flag values); `pedigree label --sheet FILE.csv -o FILE.pdf` is
//! [`sheet_from_csv`]; `pedigree barcode decode IMAGE` prints [`decode_report`]. Write
//! the file only once the call returned `Ok`.
//!
//! ```
//! use labels::{Format, LabelData, Symbology, render};
//! let data = LabelData::new("09506000134352", "SN0001", "LOT42", "2027-03-31")?;
//! let svg = render(&data, Symbology::DataMatrix, Format::Svg, None)?;
//! assert!(svg.starts_with(b"<svg"));
//! # Ok::<(), labels::LabelError>(())
//! ```

mod data;
mod datamatrix;
mod decode;
mod error;
mod layout;
mod pdf;
mod png;
mod qr;
mod sheet;
mod svg;
mod symbol;

pub use data::{DEFAULT_BASE_URI, GS, LabelData};
pub use decode::Decoded;
pub use error::{LabelError, codes};
pub use symbol::Symbology;

use layout::Label;

/// The file format of a rendered label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Scalable vector graphics, sized in millimetres.
    Svg,
    /// A grayscale bitmap at 8 pixels per module (about 400 dpi).
    Png,
    /// A one-page PDF the size of the label, vector modules, Helvetica text.
    Pdf,
}

impl Format {
    /// The usual file extension: `svg`, `png` or `pdf`.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Svg => "svg",
            Self::Png => "png",
            Self::Pdf => "pdf",
        }
    }
}

impl std::str::FromStr for Format {
    type Err = String;

    /// Parses `svg`, `png` or `pdf`, any case.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.to_ascii_lowercase().as_str() {
            "svg" => Ok(Self::Svg),
            "png" => Ok(Self::Png),
            "pdf" => Ok(Self::Pdf),
            other => Err(format!("unknown format {other:?}: use svg, png or pdf")),
        }
    }
}

/// Renders one label: the code on the left, `GTIN`, `SN`, `LOT` and `EXP` lines on the
/// right. DataMatrix carries the GS1 element string; QR carries the Digital Link URI on
/// `base_uri` (default [`DEFAULT_BASE_URI`]; ignored for DataMatrix).
pub fn render(
    data: &LabelData,
    symbology: Symbology,
    format: Format,
    base_uri: Option<&str>,
) -> Result<Vec<u8>, LabelError> {
    let label = Label::new(data, symbology, base_uri)?;
    match format {
        Format::Svg => Ok(svg::write(&label).into_bytes()),
        Format::Png => png::write(&label),
        Format::Pdf => Ok(pdf::single(&label)),
    }
}

/// A printable A4 PDF of many labels, one per CSV row. The CSV has the header row
/// `gtin,serial,lot,expiry` (any order, any case) and one label per line. Any bad row
/// gives an error naming its line ([`codes::CSV_ROW`], with the value's own error as
/// [`LabelError::cause`]) and no PDF.
pub fn sheet_from_csv(
    csv: &str,
    symbology: Symbology,
    base_uri: Option<&str>,
) -> Result<Vec<u8>, LabelError> {
    sheet::from_csv(csv, symbology, base_uri)
}

/// Finds every code in a PNG or JPEG image and returns each with its symbology and the
/// text a scanner would transmit (symbology identifier, GS separators), ready for
/// `scanners::parse`. No code found is an empty list, not an error.
pub fn decode(image_bytes: &[u8]) -> Result<Vec<Decoded>, LabelError> {
    decode::decode(image_bytes)
}

/// What `pedigree barcode decode IMAGE` prints: a JSON array with, for each code found
/// in the image, `scanners::report` of its text (the same object `pedigree barcode
/// parse` prints). An unreadable image or one without a code gives a one-element array
/// whose report has `valid: false` and the error `IMAGE_UNREADABLE` or `NO_CODE_FOUND`.
pub fn decode_report(image_bytes: &[u8]) -> serde_json::Value {
    decode::report(image_bytes)
}
