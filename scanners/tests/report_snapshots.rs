//! Snapshots of the `report` JSON (the `pedigree barcode parse` output) for
//! good and bad scans. Each case is stored as `tests/snapshots/<name>.json`;
//! run with `UPDATE_SNAPSHOTS=1` to rewrite them after a deliberate change.

use std::path::PathBuf;

/// (snapshot name, scanned bytes). GS is ASCII 29.
const CASES: &[(&str, &[u8])] = &[
    // Good scans.
    ("datamatrix_pack", b"]d2010950600013435217271231102024A\x1d21SN000123"),
    ("datamatrix_end_of_month", b"]d201095060001343521727020010LOT7\x1d21ABC"),
    ("no_symbology_gs_first", b"\x1d0109506000134352172712311021X9"),
    ("bracketed_text", b"(01)09506000134352(17)271231(10)2024A(21)SN000123"),
    ("digital_link", b"https://id.gs1.org/01/09506000134352/10/2024A/21/SN000123?17=271231"),
    ("digital_link_custom_host", b"]Q1https://pharma.example.com/p/01/09506000134352/21/SN%2F9"),
    ("gs1_128_sscc", b"]C100095060001000000036"),
    ("gln_location", b"]C14149506000134352"),
    ("ean13_retail", b"]E09506000134352"),
    ("scanner_enter_suffix", b"]d201095060001343522112345\r\n"),
    ("hibcc_device", b"+H123ABC01234567891/$$3271231LOT5F"),
    ("iccbba_product", b"=<E0713V00=>027123"),
    // Bad scans.
    ("empty", b""),
    ("plain_text", b"hello world"),
    ("check_digit_wrong", b"]d20109506000134353"),
    ("check_digit_transposed", b"]d2010950600014335221X"),
    ("missing_separator_hint", b"]d20109506000134352102024A17271231"),
    ("missing_separator", b"]d2010950600013435221ABCDEFGHIJKLMNOPQ10LOT42"),
    ("caret_as_fnc1_first", b"^010950600013435221SN1"),
    ("gs_as_caret", b"]d201095060001343521020^21SN1"),
    ("gs_as_text", b"]d2010950600013435210LOT1<GS>21SN1"),
    // "01095060001343521727123121SN1" typed through a French AZERTY layout.
    (
        "azerty_layout",
        b"\xc3\xa0&\xc3\xa0\xc3\xa7(\xc3\xa0-\xc3\xa0\xc3\xa0\xc3\xa0&\"'\"(\xc3\xa9&\xc3\xa8\xc3\xa9\xc3\xa8&\xc3\xa9\"&\xc3\xa9&SN&",
    ),
    ("caps_lock", b"]D2010950600013435221abc"),
    // "]d2" + "0109506000134352" + "21SN1" through AZERTY: "]d2" arrives as "$dé".
    (
        "azerty_with_symbology",
        b"$d\xc3\xa9\xc3\xa0&\xc3\xa0\xc3\xa7(\xc3\xa0-\xc3\xa0\xc3\xa0\xc3\xa0&\"'\"(\xc3\xa9\xc3\xa9&SN&",
    ),
    ("gs_as_space", b"]d2010950600013435210LOT1 21SN1"),
    ("printed_hri_with_spaces", b"(01) 09506000134352 (17) 271231 (10) LOT1 (21) SN1"),
    ("truncated", b"]d2010950600013435217271"),
    ("invalid_date", b"]d2010950600013435217271332"),
    ("serial_without_gtin", b"]d221SN000123"),
    ("unknown_ai", b"]d2890123"),
    ("bad_symbology", b"]"),
    ("compressed_digital_link", b"https://id.gs1.org/ARHKVAdpQgZzjr"),
    ("dl_qualifier_order", b"https://id.gs1.org/01/09506000134352/21/SN1/10/LOT"),
    ("binary_garbage", b"\xff\xfe\x00\x01"),
];

fn dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/snapshots"))
}

#[test]
fn report_snapshots() {
    let update = std::env::var_os("UPDATE_SNAPSHOTS").is_some();
    let mut mismatched = Vec::new();
    for (name, input) in CASES {
        let json = scanners::report(input);
        let text = serde_json::to_string_pretty(&json).expect("JSON") + "\n";
        let path = dir().join(format!("{name}.json"));
        if update {
            std::fs::create_dir_all(dir()).expect("snapshot dir");
            std::fs::write(&path, &text).expect("write snapshot");
            continue;
        }
        match std::fs::read_to_string(&path) {
            Ok(stored) if stored == text => {}
            Ok(stored) => {
                println!("--- {name} stored\n{stored}+++ {name} now\n{text}");
                mismatched.push(*name);
            }
            Err(_) => {
                println!("+++ {name} has no snapshot; now\n{text}");
                mismatched.push(*name);
            }
        }
    }
    println!("report snapshots: {} cases", CASES.len());
    assert!(
        mismatched.is_empty(),
        "snapshots differ: {mismatched:?}; run UPDATE_SNAPSHOTS=1 cargo test -p scanners --test report_snapshots"
    );
}

#[test]
fn report_has_exactly_the_documented_keys() {
    let json = scanners::report(b"]d20109506000134352");
    let mut keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "ais",
            "digital_link",
            "errors",
            "expiry",
            "gln",
            "gtin",
            "hints",
            "lot",
            "serial",
            "sscc",
            "symbology",
            "valid"
        ]
    );
    assert_eq!(scanners::exit_code(&json), 0);
    assert_eq!(scanners::exit_code(&scanners::report(b"garbage")), 1);
}
