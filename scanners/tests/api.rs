//! The public building API and the identifier types, as other crates use them.

use scanners::{
    Expiry, Gln, Gtin, Issuer, Lot, Serial, Sscc, Symbology, bracketed, codes, digital_link_uri,
    element_string, parse,
};

#[test]
fn element_string_puts_gs_only_after_variable_length_values() {
    let es = element_string(&[
        ("01", "09506000134352"),
        ("17", "271231"),
        ("10", "L1"),
        ("21", "S1"),
    ])
    .unwrap();
    assert_eq!(es, "01095060001343521727123110L1\x1d21S1");
    assert_eq!(
        element_string(&[("10", "L1")]).unwrap_err().code(),
        codes::AI_REQUIRES
    );
    assert_eq!(
        element_string(&[("01", "09506000134353")])
            .unwrap_err()
            .code(),
        codes::CHECK_DIGIT
    );
    assert_eq!(
        element_string(&[("89", "X")]).unwrap_err().code(),
        codes::UNKNOWN_AI
    );
    assert_eq!(element_string(&[]).unwrap_err().code(), codes::EMPTY);
}

#[test]
fn digital_link_uri_orders_qualifiers_and_escapes() {
    let ais = [
        ("21", "A/B"),
        ("01", "09506000134352"),
        ("17", "271231"),
        ("10", "L%1"),
        ("22", "V"),
    ];
    assert_eq!(
        digital_link_uri(&ais, None).unwrap(),
        "https://id.gs1.org/01/09506000134352/22/V/10/L%251/21/A%2FB?17=271231"
    );
    assert_eq!(
        digital_link_uri(
            &[("00", "095060001000000036")],
            Some("https://resolver.example.com/")
        )
        .unwrap(),
        "https://resolver.example.com/00/095060001000000036"
    );
    assert_eq!(
        digital_link_uri(&[("01", "09506000134352"), ("22", "V"), ("235", "T")], None)
            .unwrap_err()
            .code(),
        codes::DIGITAL_LINK_KEY
    );
}

#[test]
fn bracketed_text_escapes_brackets() {
    assert_eq!(
        bracketed(&[("01", "09506000134352"), ("10", "A(1)")]),
        "(01)09506000134352(10)A\\(1)"
    );
    let s = parse(b"(01)09506000134352(10)A\\(1)");
    assert_eq!(s.lot().as_deref(), Some("A(1)"));
}

#[test]
fn identifier_types_check_once() {
    let g: Gtin = "9506000134352".parse().unwrap();
    assert_eq!(g.to_string(), "09506000134352");
    assert_eq!(
        "9506000134353".parse::<Gtin>().unwrap_err().code(),
        codes::CHECK_DIGIT
    );
    assert!(Sscc::new("095060001000000036").is_ok());
    assert!(Gln::new("9506000134352").is_ok());
    assert!(Gln::new("950600013435").is_err());
    assert!(Serial::new("SN/1-2").is_ok());
    assert!(Serial::new("").is_err());
    assert_eq!(
        Lot::new("A B").unwrap_err().code(),
        codes::INVALID_IDENTIFIER
    );
    assert_eq!(
        "271231".parse::<Expiry>().unwrap().to_string(),
        "2027-12-31"
    );
    assert_eq!("2027-12-31".parse::<Expiry>().unwrap().month(), 12);
    assert_eq!(
        "2027-13-01".parse::<Expiry>().unwrap_err().code(),
        codes::INVALID_DATE
    );
    let json = serde_json::to_string(&(
        Gtin::new("09506000134352").unwrap(),
        Expiry::from_ymd(2027, 2, 28).unwrap(),
    ))
    .unwrap();
    assert_eq!(json, r#"["09506000134352","2027-02-28"]"#);
    let back: (Gtin, Expiry) = serde_json::from_str(&json).unwrap();
    assert_eq!(back.1.day(), 28);
}

#[test]
fn scan_accessors_and_typed_ids() {
    let s = parse(b"]d201095060001343521727120010L1\x1d21S1");
    assert_eq!(s.symbology, Some(Symbology::Gs1DataMatrix));
    assert_eq!(s.symbology.as_ref().map(Symbology::identifier), Some("]d2"));
    assert_eq!(s.gtin().as_deref(), Some("09506000134352"));
    assert_eq!(s.expiry().as_deref(), Some("2027-12-31"));
    let ids = s.ids();
    assert_eq!(ids.serial.unwrap().as_str(), "S1");
    assert_eq!(ids.lot.unwrap().as_str(), "L1");
    let udi = s.udi.unwrap();
    assert_eq!(
        (udi.issuer, udi.di.as_str()),
        (Issuer::Gs1, "09506000134352")
    );
    let names: Vec<&str> = udi.pi.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["expiry", "lot", "serial"]);
}

#[test]
fn hibcc_codes() {
    // Primary + secondary in one symbol, mod-43 check character last.
    let s = parse(b"+H123ABC01234567891/$$3271231LOT5F");
    assert!(s.valid, "{:?}", s.errors);
    let udi = s.udi.unwrap();
    assert_eq!(udi.issuer, Issuer::Hibcc);
    assert_eq!(udi.di, "H123ABC01234567891");
    let pi: Vec<(&str, &str)> = udi
        .pi
        .iter()
        .map(|f| (f.name.as_str(), f.value.as_str()))
        .collect();
    assert_eq!(pi, [("expiry", "271231"), ("lot", "LOT5")]);
    // Primary only; then a wrong check character.
    let primary = format!(
        "+H123ABC01234567891{}",
        scanners::mod43("+H123ABC01234567891").unwrap()
    );
    let s = parse(primary.as_bytes());
    assert!(s.valid, "{:?}", s.errors);
    assert_eq!(s.udi.unwrap().fields[0].value, "H123");
    // Quantity, then MMYY expiry, then serial ("$$+").
    let code = "+H123ABC01234567891/$$+8101227SER9";
    let s = parse(format!("{code}{}", scanners::mod43(code).unwrap()).as_bytes());
    let pi: Vec<(String, String)> = s
        .udi
        .unwrap()
        .pi
        .into_iter()
        .map(|f| (f.name, f.value))
        .collect();
    assert_eq!(
        pi,
        [("quantity", "10"), ("expiry", "1227"), ("serial", "SER9")]
            .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    let bad = parse(b"+H123ABC01234567891/$$3271231LOT5G");
    assert_eq!(bad.errors[0].code, codes::CHECK_DIGIT);
}

#[test]
fn iccbba_codes() {
    let s = parse(b"=<E0713V00=>027123");
    assert!(s.valid, "{:?}", s.errors);
    let udi = s.udi.unwrap();
    assert_eq!((udi.issuer, udi.di.as_str()), (Issuer::Iccbba, "E0713V00"));
    assert_eq!(udi.pi[0].name, "expiry");
    let din = parse(b"=A99971812345600");
    assert_eq!(din.udi.unwrap().pi[0].name, "donation_id");
    assert_eq!(parse(b"=<E07").errors[0].code, codes::TRUNCATED);
}

#[test]
fn hri_lines_and_canonical_links() {
    assert_eq!(
        scanners::hri(&[("01", "09506000134352"), ("17", "271231")]),
        ["GTIN (01) 09506000134352", "USE BY or EXPIRY (17) 271231"]
    );
    // One set of AIs, one canonical link, whatever the scan order.
    let a = parse(b"https://example.com/01/09506000134352/10/L?3103=000195&17=271231");
    let b = parse(b"(01)09506000134352(10)L(17)271231(3103)000195");
    assert_eq!(a.digital_link(), b.digital_link());
    assert_eq!(
        a.digital_link().as_deref(),
        Some("https://id.gs1.org/01/09506000134352/10/L?17=271231&3103=000195")
    );
}

#[test]
fn scan_data_is_what_a_scanner_sends() {
    let ais = [("01", "09506000134352"), ("10", "L1"), ("21", "S1")];
    let dm = scanners::scan_data(&Symbology::Gs1DataMatrix, &ais).unwrap();
    assert_eq!(dm, "]d2010950600013435210L1\x1d21S1");
    assert_eq!(parse(dm.as_bytes()).pairs(), ais);
    let qr = scanners::scan_data(&Symbology::Qr, &ais).unwrap();
    assert_eq!(qr, "]Q1https://id.gs1.org/01/09506000134352/10/L1/21/S1");
    assert_eq!(
        scanners::scan_data(&Symbology::Ean13, &[("01", "09506000134352")]).unwrap(),
        "]E09506000134352"
    );
    assert!(scanners::scan_data(&Symbology::Ean8, &[("01", "09506000134352")]).is_err());
}
