//! Label → image → decoder → parser round trips: what we print is what a scanner reads.
//! Rendering and decoding are slow, so the property tests run few cases.

use labels::{Format, LabelData, Symbology, decode, render};
use proptest::prelude::*;

/// GS1 character set 82, the alphabet of serials and lots.
const CSET82: &str =
    "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";

fn cset82_text(max: usize) -> impl Strategy<Value = String> {
    let chars: Vec<char> = CSET82.chars().collect();
    proptest::collection::vec(proptest::sample::select(chars), 1..=max)
        .prop_map(|v| v.into_iter().collect())
}

/// A GTIN-14 with a correct check digit.
fn gtin() -> impl Strategy<Value = String> {
    proptest::collection::vec(0u32..10, 13).prop_map(|digits| {
        let sum: u32 = digits
            .iter()
            .enumerate()
            .map(|(i, d)| if i % 2 == 0 { d * 3 } else { *d })
            .sum();
        let check = (10 - sum % 10) % 10;
        digits
            .iter()
            .chain(std::iter::once(&check))
            .map(|d| char::from_digit(*d, 10).unwrap())
            .collect()
    })
}

fn expiry() -> impl Strategy<Value = String> {
    // Day 28 at most keeps every month valid; the years stay inside GS1's date window.
    (2020u32..2049, 1u32..=12, 1u32..=28).prop_map(|(y, m, d)| format!("{y}-{m:02}-{d:02}"))
}

fn label_data() -> impl Strategy<Value = LabelData> {
    (gtin(), cset82_text(20), cset82_text(20), expiry())
        .prop_map(|(g, s, l, e)| LabelData::new(&g, &s, &l, &e).expect("generated data is valid"))
}

/// What a scanner-side parse of `text` says, as (gtin, serial, lot, expiry).
fn parsed(
    text: &str,
) -> (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
) {
    let scan = scanners::parse(text.as_bytes());
    assert!(scan.valid, "{text:?} parses as valid: {:?}", scan.errors);
    (scan.gtin(), scan.serial(), scan.lot(), scan.expiry())
}

fn expected(
    data: &LabelData,
) -> (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
) {
    (
        Some(data.gtin().to_string()),
        Some(data.serial().to_string()),
        Some(data.lot().to_string()),
        Some(data.expiry().to_string()),
    )
}

/// Renders `data` as PNG, decodes it, and returns the one code's text.
fn read_back(data: &LabelData, symbology: Symbology) -> (String, String) {
    let png = render(data, symbology, Format::Png, None).expect("renders");
    let found = decode(&png).expect("decodes");
    assert_eq!(found.len(), 1, "exactly one code on a label: {found:?}");
    (found[0].symbology.clone(), found[0].text.clone())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn data_matrix_round_trips(data in label_data()) {
        let (symbology, text) = read_back(&data, Symbology::DataMatrix);
        prop_assert_eq!(symbology, "datamatrix");
        prop_assert_eq!(&text, &format!("]d2{}", data.element_string()));
        prop_assert_eq!(parsed(&text), expected(&data));
    }

    #[test]
    fn qr_round_trips(data in label_data()) {
        let (symbology, text) = read_back(&data, Symbology::Qr);
        prop_assert_eq!(symbology, "qr");
        prop_assert_eq!(&text, &format!("]Q1{}", data.digital_link(None).unwrap()));
        prop_assert_eq!(parsed(&text), expected(&data));
    }
}

/// Found by the property test: rxing's own DataMatrix encoder switched to EDIFACT for
/// this serial and never switched back, so readers saw pad codewords as more data.
#[test]
fn edifact_prone_data_reads_back_exactly() {
    let data =
        LabelData::new("00000000000000", "!boQ=J?%RD(", "nUUNy<mVfY?", "2044-01-12").unwrap();
    let (_, text) = read_back(&data, Symbology::DataMatrix);
    assert_eq!(text, format!("]d2{}", data.element_string()));
    assert_eq!(parsed(&text), expected(&data));
}

/// `pedigree barcode decode` prints the same report as `pedigree barcode parse`.
#[test]
fn decode_report_is_the_parse_report_of_each_code() {
    let data = LabelData::new("09506000134352", "SN0001", "LOT42", "2027-03-31").unwrap();
    for symbology in [Symbology::DataMatrix, Symbology::Qr] {
        let png = render(&data, symbology, Format::Png, None).unwrap();
        let report = labels::decode_report(&png);
        let text = &decode(&png).unwrap()[0].text;
        assert_eq!(
            report,
            serde_json::json!([scanners::report(text.as_bytes())])
        );
        assert_eq!(report[0]["valid"], true, "{report}");
        assert_eq!(report[0]["gtin"], "09506000134352");
        assert_eq!(report[0]["serial"], "SN0001");
        assert_eq!(report[0]["lot"], "LOT42");
        assert_eq!(report[0]["expiry"], "2027-03-31");
    }
}

/// A blank picture holds no code: an empty list, and a report saying so.
#[test]
fn blank_image_has_no_code() {
    let blank = image::GrayImage::from_pixel(200, 100, image::Luma([255]));
    let mut png = Vec::new();
    blank
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    assert_eq!(decode(&png).unwrap(), vec![]);
    let report = labels::decode_report(&png);
    assert_eq!(report[0]["errors"][0]["code"], labels::codes::NO_CODE_FOUND);
}

/// A JPEG (what a phone camera saves), slightly blurred by its compression, reads too.
#[test]
fn jpeg_labels_decode() {
    let data = LabelData::new("09506000134352", "SN0001", "LOT42", "2027-03-31").unwrap();
    for symbology in [Symbology::DataMatrix, Symbology::Qr] {
        let png = render(&data, symbology, Format::Png, None).unwrap();
        let picture = image::load_from_memory(&png).unwrap();
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 60)
            .encode_image(&picture)
            .unwrap();
        let found = decode(&jpeg).unwrap();
        assert_eq!(found.len(), 1, "{symbology:?}: {found:?}");
        assert_eq!(parsed(&found[0].text), expected(&data));
    }
}

/// Two labels in one picture: both codes are returned.
#[test]
fn every_code_in_the_picture_is_returned() {
    let first = LabelData::new("09506000134352", "SN0001", "LOT42", "2027-03-31").unwrap();
    let second = LabelData::new("04012345000009", "SN0002", "LOT43", "2028-01-15").unwrap();
    let a =
        image::load_from_memory(&render(&first, Symbology::DataMatrix, Format::Png, None).unwrap())
            .unwrap()
            .to_luma8();
    let b = image::load_from_memory(&render(&second, Symbology::Qr, Format::Png, None).unwrap())
        .unwrap()
        .to_luma8();
    let mut both = image::GrayImage::from_pixel(
        a.width().max(b.width()),
        a.height() + b.height(),
        image::Luma([255]),
    );
    image::imageops::replace(&mut both, &a, 0, 0);
    image::imageops::replace(&mut both, &b, 0, i64::from(a.height()));
    let mut png = Vec::new();
    both.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();

    let mut found: Vec<_> = decode(&png)
        .unwrap()
        .into_iter()
        .map(|d| (d.symbology, parsed(&d.text)))
        .collect();
    found.sort();
    assert_eq!(
        found,
        vec![
            ("datamatrix".to_string(), expected(&first)),
            ("qr".to_string(), expected(&second)),
        ]
    );
}

/// A GS1-128 (Code 128 with FNC1 first) pack or case code reads with `]C1` once and
/// GS between fields, as a handheld sends it.
#[test]
fn gs1_128_decodes_with_its_symbology_identifier() {
    use rxing::Writer;
    // rxing's Code 128 writer takes U+00F1 for FNC1.
    let contents = "\u{f1}0109506000134352\u{f1}10LOT42\u{f1}21SN1";
    let bars = rxing::oned::Code128Writer
        .encode(contents, &rxing::BarcodeFormat::CODE_128, 0, 0)
        .unwrap();
    let (modules, height) = (bars.getWidth(), 60);
    let (scale, quiet) = (3, 30);
    let picture = image::GrayImage::from_fn(modules * scale + 2 * quiet, height, |x, _| {
        let inside = x >= quiet && x < quiet + modules * scale;
        let dark = inside && bars.get((x - quiet) / scale, 0);
        image::Luma([if dark { 0 } else { 255 }])
    });
    let mut png = Vec::new();
    picture
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();

    let found = decode(&png).unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].symbology, "code128");
    assert_eq!(found[0].text, "]C10109506000134352\u{1d}10LOT42\u{1d}21SN1");
    assert!(scanners::parse(found[0].text.as_bytes()).valid);
}

/// A code on a transparent background (dark modules opaque, the rest see-through)
/// reads as if printed on white paper.
#[test]
fn transparent_background_reads_as_white() {
    let data = LabelData::new("09506000134352", "SN0001", "LOT42", "2027-03-31").unwrap();
    let png = render(&data, Symbology::DataMatrix, Format::Png, None).unwrap();
    let grey = image::load_from_memory(&png).unwrap().to_luma8();
    let clear = image::RgbaImage::from_fn(grey.width(), grey.height(), |x, y| {
        let dark = grey.get_pixel(x, y).0[0] < 128;
        image::Rgba(if dark { [0, 0, 0, 255] } else { [0, 0, 0, 0] })
    });
    let mut transparent = Vec::new();
    clear
        .write_to(
            &mut std::io::Cursor::new(&mut transparent),
            image::ImageFormat::Png,
        )
        .unwrap();
    let found = decode(&transparent).unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(parsed(&found[0].text), expected(&data));
}

/// A label photographed turned on its side and smaller (about 3 pixels per module)
/// still reads, as from a phone held any way round.
#[test]
fn turned_and_shrunk_labels_read() {
    let data = LabelData::new("09506000134352", "SN0001", "LOT42", "2027-03-31").unwrap();
    for symbology in [Symbology::DataMatrix, Symbology::Qr] {
        let png = render(&data, symbology, Format::Png, None).unwrap();
        let picture = image::load_from_memory(&png).unwrap().to_luma8();
        let turned = image::imageops::rotate90(&picture);
        let small = image::imageops::resize(
            &turned,
            turned.width() * 2 / 5,
            turned.height() * 2 / 5,
            image::imageops::FilterType::Triangle,
        );
        let mut photo = Vec::new();
        small
            .write_to(
                &mut std::io::Cursor::new(&mut photo),
                image::ImageFormat::Png,
            )
            .unwrap();
        let found = decode(&photo).unwrap();
        assert_eq!(found.len(), 1, "{symbology:?}: {found:?}");
        assert_eq!(parsed(&found[0].text), expected(&data));
    }
}
