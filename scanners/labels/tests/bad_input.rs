//! Bad input is answered with an error that has a stable code and says what to fix,
//! and nothing is rendered.

use labels::{LabelData, LabelError, Symbology, codes, decode, decode_report, sheet_from_csv};

fn error(gtin: &str, serial: &str, lot: &str, expiry: &str) -> LabelError {
    LabelData::new(gtin, serial, lot, expiry).expect_err("input should be refused")
}

#[test]
fn wrong_check_digit() {
    let e = error("09506000134353", "S1", "L1", "2027-03-31");
    assert_eq!(e.code(), codes::INVALID_GTIN);
    assert!(e.to_string().contains("check digit"), "{e}");
}

#[test]
fn gtin_of_wrong_length_or_with_letters() {
    for gtin in [
        "",
        "123",
        "0950600013435",
        "095060001343520",
        "0950600013435A",
    ] {
        assert_eq!(
            error(gtin, "S1", "L1", "2027-03-31").code(),
            codes::INVALID_GTIN,
            "{gtin}"
        );
    }
}

#[test]
fn bad_dates() {
    for expiry in [
        "2027-02-30", // no such day
        "2027-13-01", // no such month
        "2027-00-10",
        "2028-02-30",
        "2027-3-31", // not zero padded
        "27-03-31",
        "270331", // GS1 form, not the label's input form
        "2027/03/31",
        "tomorrow",
        "",
        "2150-01-01", // a scanner would read the year as 2050
    ] {
        let e = error("09506000134352", "S1", "L1", expiry);
        assert_eq!(e.code(), codes::INVALID_EXPIRY, "{expiry}");
        assert!(e.to_string().contains("YYYY-MM-DD"), "{e}");
    }
    // A leap day is fine.
    assert!(LabelData::new("09506000134352", "S1", "L1", "2028-02-29").is_ok());
}

#[test]
fn over_long_serial() {
    assert!(LabelData::new("09506000134352", &"9".repeat(20), "L1", "2027-03-31").is_ok());
    let e = error("09506000134352", &"9".repeat(21), "L1", "2027-03-31");
    assert_eq!(e.code(), codes::INVALID_SERIAL);
}

#[test]
fn bad_characters() {
    for serial in ["", "A B", "A#1", "ÄÖ", "tab\t", "gs\u{1d}"] {
        let e = error("09506000134352", serial, "L1", "2027-03-31");
        assert_eq!(e.code(), codes::INVALID_SERIAL, "{serial:?}");
    }
    for lot in ["", "LOT 1", "L~1", &"L".repeat(21)] {
        let e = error("09506000134352", "S1", lot, "2027-03-31");
        assert_eq!(e.code(), codes::INVALID_LOT, "{lot:?}");
    }
}

#[test]
fn bad_csv_row_names_its_line_and_makes_no_sheet() {
    let csv = "gtin,serial,lot,expiry\n\
               09506000134352,S1,L1,2027-03-31\n\
               09506000134352,S2,L1,2027-02-30\n\
               09506000134352,S3,L1,2027-03-31\n";
    let e = sheet_from_csv(csv, Symbology::DataMatrix, None).unwrap_err();
    assert_eq!(e.code(), codes::CSV_ROW);
    assert_eq!(e.line(), Some(3));
    assert_eq!(e.cause().map(LabelError::code), Some(codes::INVALID_EXPIRY));
    assert!(e.to_string().starts_with("CSV line 3:"), "{e}");
}

#[test]
fn repeated_serial_in_a_csv_is_refused() {
    let csv = "gtin,serial,lot,expiry\n\
               09506000134352,S1,L1,2027-03-31\n\
               04012345000009,S1,L1,2027-03-31\n\
               09506000134352,S1,L2,2027-04-30\n";
    let e = sheet_from_csv(csv, Symbology::Qr, None).unwrap_err();
    assert_eq!(e.code(), codes::CSV_ROW);
    assert_eq!(e.line(), Some(4));
    assert_eq!(
        e.cause().map(LabelError::code),
        Some(codes::DUPLICATE_SERIAL)
    );
    assert!(e.to_string().contains("line 2"), "{e}");
}

#[test]
fn csv_row_with_missing_field() {
    let csv = "gtin,serial,lot,expiry\n09506000134352,S1,L1,2027-03-31\n09506000134352,S2\n";
    let e = sheet_from_csv(csv, Symbology::Qr, None).unwrap_err();
    assert_eq!(e.code(), codes::CSV_ROW);
    assert_eq!(e.line(), Some(3));
}

#[test]
fn csv_header_and_empty_sheet() {
    let e = sheet_from_csv(
        "gtin,sn,lot,expiry\n09506000134352,S1,L1,2027-03-31\n",
        Symbology::Qr,
        None,
    )
    .unwrap_err();
    assert_eq!(e.code(), codes::CSV_HEADER);
    let e = sheet_from_csv("gtin,serial,lot,expiry\n", Symbology::Qr, None).unwrap_err();
    assert_eq!(e.code(), codes::EMPTY_SHEET);
    let e = sheet_from_csv("", Symbology::Qr, None).unwrap_err();
    assert_eq!(e.code(), codes::CSV_HEADER);
}

#[test]
fn bad_base_uri_for_a_sheet() {
    let csv = "gtin,serial,lot,expiry\n09506000134352,S1,L1,2027-03-31\n";
    let e = sheet_from_csv(csv, Symbology::Qr, Some("id.example.com")).unwrap_err();
    assert_eq!(e.code(), codes::INVALID_BASE_URI);
}

#[test]
fn not_an_image() {
    let e = decode(b"%PDF-1.7 not a picture").unwrap_err();
    assert_eq!(e.code(), codes::IMAGE_UNREADABLE);
    let report = decode_report(b"nothing");
    assert_eq!(report[0]["valid"], false);
    assert_eq!(report[0]["errors"][0]["code"], codes::IMAGE_UNREADABLE);
}
