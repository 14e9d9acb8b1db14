//! Reading codes back from a picture (PNG or JPEG) with rxing, and turning what was
//! read into the exact text a scanner would send: AIM symbology identifier first, FNC1
//! separators as GS (0x1D), so `scanners::parse` sees the same as from a handheld.

use crate::{LabelError, codes};
use rxing::common::HybridBinarizer;
use rxing::multi::{GenericMultipleBarcodeReader, MultipleBarcodeReader};
use rxing::{
    BarcodeFormat, BinaryBitmap, DecodeHints, Luma8LuminanceSource, MultiUseMultiFormatReader,
    RXingResult, RXingResultMetadataType, RXingResultMetadataValue,
};
use serde_json::{Value, json};
use std::collections::HashSet;

/// One code found in an image.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Decoded {
    /// What kind of code: `datamatrix`, `qr`, `code128`, `ean13`, `databar`,
    /// `databar-expanded`.
    pub symbology: String,
    /// The data as a scanner transmits it: the AIM symbology identifier (`]d2`, `]Q1`,
    /// `]C1`, ...) when the decoder reports one, then the data with every FNC1
    /// separator as GS (0x1D).
    pub text: String,
}

/// Every code rxing finds in `image_bytes`, in the order found, without duplicates.
/// An image with no code gives an empty list; bytes that are no image give an error.
pub(crate) fn decode(image_bytes: &[u8]) -> Result<Vec<Decoded>, LabelError> {
    let image = image::load_from_memory(image_bytes).map_err(|e| LabelError::Image {
        message: e.to_string(),
    })?;
    let luma = grey_on_white(&image);
    let (width, height) = luma.dimensions();
    let source = Luma8LuminanceSource::new(luma.into_raw(), width, height).map_err(|e| {
        LabelError::Image {
            message: e.to_string(),
        }
    })?;
    let mut bitmap = BinaryBitmap::new(HybridBinarizer::new(source));
    let mut reader = GenericMultipleBarcodeReader::new(MultiUseMultiFormatReader::default());
    // rxing answers "not found" as an error; for us that is simply no code.
    let results = reader
        .decode_multiple_with_hints(&mut bitmap, &hints())
        .unwrap_or_default();

    let mut seen = HashSet::new();
    Ok(results
        .iter()
        .map(to_decoded)
        .filter(|d| seen.insert(d.clone()))
        .collect())
}

/// The image in grey levels, transparent parts shown as white paper: a code exported
/// with a transparent background would otherwise turn black on black.
fn grey_on_white(image: &image::DynamicImage) -> image::GrayImage {
    if !image.color().has_alpha() {
        return image.to_luma8();
    }
    let with_alpha = image.to_luma_alpha8();
    image::GrayImage::from_fn(with_alpha.width(), with_alpha.height(), |x, y| {
        let [grey, alpha] = with_alpha.get_pixel(x, y).0;
        let (grey, alpha) = (u32::from(grey), u32::from(alpha));
        image::Luma([((grey * alpha + 255 * (255 - alpha)) / 255) as u8])
    })
}

/// The JSON behind `pedigree barcode decode IMAGE`: an array with
/// `scanners::report` of each code found. When the image cannot be read or holds no
/// code, the array holds one report of the same shape with `valid: false` and the
/// error [`codes::IMAGE_UNREADABLE`] or [`codes::NO_CODE_FOUND`], so a caller can
/// always print the array and exit non-zero unless every entry is valid.
pub(crate) fn report(image_bytes: &[u8]) -> Value {
    match decode(image_bytes) {
        Ok(found) if !found.is_empty() => found
            .iter()
            .map(|code| scanners::report(code.text.as_bytes()))
            .collect(),
        Ok(_) => json!([failure(
            codes::NO_CODE_FOUND,
            "no barcode was found in the image",
            "Photograph the code straight on, filling at least a fifth of the picture, \
             in focus and evenly lit; or scan it with a handheld scanner.",
        )]),
        Err(e) => json!([failure(
            e.code(),
            &e.to_string(),
            "Give a PNG or JPEG photo or scan of the label.",
        )]),
    }
}

/// A report-shaped object for an image that gave no code.
fn failure(code: &str, message: &str, hint: &str) -> Value {
    json!({
        "valid": false,
        "symbology": null,
        "gtin": null,
        "serial": null,
        "lot": null,
        "expiry": null,
        "sscc": null,
        "gln": null,
        "ais": [],
        "digital_link": null,
        "errors": [{ "code": code, "message": message, "position": null }],
        "hints": [hint],
    })
}

fn hints() -> DecodeHints {
    let formats = [
        BarcodeFormat::DATA_MATRIX,
        BarcodeFormat::QR_CODE,
        BarcodeFormat::CODE_128,
        BarcodeFormat::EAN_13,
        BarcodeFormat::RSS_14,
        BarcodeFormat::RSS_EXPANDED,
    ];
    DecodeHints {
        TryHarder: Some(true),
        // Makes the Code 128 reader turn FNC1 into `]C1` and GS, as GS1-128 scanners do.
        AssumeGs1: Some(true),
        PossibleFormats: Some(formats.into_iter().collect()),
        ..DecodeHints::default()
    }
}

fn to_decoded(result: &RXingResult) -> Decoded {
    let raw = result.getText();
    let identifier = result
        .getRXingResultMetadata()
        .get(&RXingResultMetadataType::SYMBOLOGY_IDENTIFIER)
        .and_then(|value| match value {
            RXingResultMetadataValue::SymbologyIdentifier(id) => Some(id.as_str()),
            _ => None,
        });
    // Some readers (Code 128 with GS1 on) already put the identifier in the text.
    let text = match identifier {
        Some(id) if !raw.starts_with(']') => format!("{id}{raw}"),
        _ => raw.to_string(),
    };
    Decoded {
        symbology: symbology_name(result.getBarcodeFormat()).to_string(),
        text,
    }
}

fn symbology_name(format: &BarcodeFormat) -> &'static str {
    match format {
        BarcodeFormat::DATA_MATRIX => "datamatrix",
        BarcodeFormat::QR_CODE => "qr",
        BarcodeFormat::CODE_128 => "code128",
        BarcodeFormat::EAN_13 => "ean13",
        BarcodeFormat::RSS_14 => "databar",
        BarcodeFormat::RSS_EXPANDED => "databar-expanded",
        _ => "other",
    }
}
