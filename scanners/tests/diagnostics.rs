//! Every scan fault the crate diagnoses, each with its stable code, the
//! position it points at, and that the AIs were still recovered where the
//! data allows it.

use scanners::{Scan, codes, parse};

fn codes_of(s: &Scan) -> Vec<&'static str> {
    s.errors.iter().map(|e| e.code).collect()
}

fn ais_of(s: &Scan) -> Vec<(&str, &str)> {
    s.ais
        .iter()
        .map(|a| (a.ai.as_str(), a.value.as_str()))
        .collect()
}

const PACK: [(&str, &str); 3] = [("01", "09506000134352"), ("10", "LOT1"), ("21", "SN1")];

#[test]
fn good_scan_in_every_spelling() {
    for input in [
        "]d2010950600013435210LOT1\u{1d}21SN1",
        "]Q3010950600013435210LOT1\u{1d}21SN1",
        "]C1010950600013435210LOT1\u{1d}21SN1",
        "]e0010950600013435210LOT1\u{1d}21SN1",
        "\u{1d}010950600013435210LOT1\u{1d}21SN1",
        "010950600013435210LOT1\u{1d}21SN1\r\n",
        "(01)09506000134352(10)LOT1(21)SN1",
        "https://id.gs1.org/01/09506000134352/10/LOT1/21/SN1",
        "https://example.com/any/stem/01/09506000134352/10/LOT1/21/SN1#x",
        "]Q1https://example.com/01/9506000134352/10/LOT1/21/SN1",
    ] {
        let s = parse(input.as_bytes());
        assert!(s.valid, "{input:?}: {:?}", s.errors);
        assert_eq!(ais_of(&s), PACK, "{input:?}");
        assert_eq!(
            s.digital_link().as_deref(),
            Some("https://id.gs1.org/01/09506000134352/10/LOT1/21/SN1")
        );
    }
}

#[test]
fn separator_stand_ins_are_named_and_read_through() {
    for (stand_in, shown) in [
        ("<GS>", "<GS>"),
        ("{GS}", "{GS}"),
        ("^", "^"),
        ("~", "~"),
        ("|", "|"),
        ("@", "@"),
        ("\\x1d", "\\x1d"),
        ("\u{241d}", "\u{241d}"),
    ] {
        let input = format!("]d2010950600013435210LOT1{stand_in}21SN1");
        let s = parse(input.as_bytes());
        assert_eq!(codes_of(&s), [codes::SEPARATOR_SUBSTITUTED], "{input:?}");
        assert!(s.errors[0].message.contains(shown));
        assert_eq!(s.errors[0].position, Some(25));
        assert_eq!(ais_of(&s), PACK);
        assert!(!s.valid && !s.hints.is_empty());
    }
}

#[test]
fn stand_in_for_fnc1_in_first_position_too() {
    let s = parse(b"<GS>010950600013435210LOT1<GS>21SN1");
    assert_eq!(codes_of(&s), [codes::SEPARATOR_SUBSTITUTED]);
    assert_eq!(s.errors[0].position, Some(0));
    assert_eq!(ais_of(&s), PACK);
}

#[test]
fn digital_link_short_names() {
    let s = parse(b"https://example.com/gtin/09506000134352/lot/LOT1/ser/SN1");
    assert!(s.valid, "{:?}", s.errors);
    assert_eq!(ais_of(&s), PACK);
}

#[test]
fn missing_separator_points_at_the_split() {
    // (21) runs into (10): 17 + 7 characters, over the 20 allowed.
    let s = parse(b"]d2010950600013435221ABCDEFGHIJKLMNOPQ10LOT42");
    assert_eq!(codes_of(&s), [codes::MISSING_SEPARATOR]);
    assert!(s.errors[0].message.contains("\"ABCDEFGHIJKLMNOPQ\""));
    assert_eq!(s.errors[0].position, Some(3 + 2 + 14 + 2 + 17));
    // Within the length limit, only a hint: the lot may really read so.
    let s = parse(b"]d20109506000134352102024A17271231");
    assert!(s.valid);
    assert!(s.hints.iter().any(|h| h.contains("(17)")));
}

#[test]
fn keyboard_layouts() {
    // AZERTY: the digit row without shift.
    let azerty = "à&àç(à-ààà&\"'\"(é&àLOT&\u{1d}é&SN&";
    let s = parse(azerty.as_bytes());
    assert_eq!(codes_of(&s), [codes::KEYBOARD_LAYOUT]);
    assert!(s.errors[0].message.contains("AZERTY"));
    assert_eq!(ais_of(&s), PACK);
    // With the symbology identifier: "]d2" arrives as "$dé".
    let s = parse(format!("$dé{azerty}").as_bytes());
    assert_eq!(codes_of(&s), [codes::KEYBOARD_LAYOUT]);
    assert_eq!(s.symbology, Some(scanners::Symbology::Gs1DataMatrix));
    assert_eq!(ais_of(&s), PACK);
    // Shifted digits on a US layout.
    let shifted = ")!)(%)^)))!#$#%@!)LOT!\u{1d}@!SN!";
    let s = parse(shifted.as_bytes());
    assert_eq!(codes_of(&s), [codes::KEYBOARD_LAYOUT]);
    assert_eq!(ais_of(&s), PACK);
}

#[test]
fn caps_lock() {
    let s = parse(b"]D2010950600013435210lot1\x1d21sn1");
    assert_eq!(codes_of(&s), [codes::CAPS_LOCK]);
    assert_eq!(ais_of(&s), PACK, "case flipped back");
    let s = parse(b"]E0010950600013435210lot1\x1d21sn1");
    assert_eq!(codes_of(&s), [codes::CAPS_LOCK]);
    assert_eq!(ais_of(&s), PACK);
    let s = parse(b"hTTPS://id.gs1.org/01/09506000134352/10/LOT1/21/SN1");
    assert_eq!(codes_of(&s), [codes::CAPS_LOCK]);
    let s = parse(b"HTTPS://ID.GS1.ORG/01/09506000134352/10/LOT1/21/SN1");
    assert!(s.valid && s.hints.iter().any(|h| h.contains("caps lock")));
}

#[test]
fn truncation() {
    let s = parse(b"]d20109506000134");
    assert_eq!(codes_of(&s), [codes::TRUNCATED]);
    let s = parse(b"]d2010950600013435217");
    assert_eq!(codes_of(&s), [codes::TRUNCATED]);
    let s = parse(b"]d20109506000134352172712");
    assert_eq!(codes_of(&s), [codes::TRUNCATED]);
    let s = parse(b"]d201095060001343521");
    assert_eq!(codes_of(&s), [codes::TRUNCATED]);
    for link in [
        "https://id.gs1.org/01/095060001",
        "https://id.gs1.org/01/09506000134352/21",
        "https://id.gs1.org/01",
    ] {
        assert_eq!(
            codes_of(&parse(link.as_bytes())),
            [codes::TRUNCATED],
            "{link}"
        );
    }
}

#[test]
fn check_digits_and_transpositions() {
    let s = parse(b"]d20109506000134353");
    assert_eq!(codes_of(&s), [codes::CHECK_DIGIT]);
    assert_eq!(s.errors[0].position, Some(18));
    // 34 keyed as 43.
    let s = parse(b"]d20109506000143352");
    assert_eq!(codes_of(&s), [codes::CHECK_DIGIT_TRANSPOSITION]);
    assert!(s.errors[0].message.contains("09506000134352"));
    // SSCC and GLN use the same rule.
    assert_eq!(
        codes_of(&parse(b"]C100095060001000000037")),
        [codes::CHECK_DIGIT]
    );
    assert_eq!(
        codes_of(&parse(b"]C14149506000134353")),
        [codes::CHECK_DIGIT]
    );
}

#[test]
fn dates() {
    assert_eq!(
        codes_of(&parse(b"]d2010950600013435217271301")),
        [codes::INVALID_DATE]
    );
    assert_eq!(
        codes_of(&parse(b"]d2010950600013435217270230")),
        [codes::INVALID_DATE]
    );
    let leap = parse(b"]d2010950600013435217280229");
    assert!(leap.valid);
    assert_eq!(leap.expiry().as_deref(), Some("2028-02-29"));
    let end = parse(b"]d2010950600013435217280200");
    assert_eq!(
        end.expiry().as_deref(),
        Some("2028-02-29"),
        "DD = 00 is the month's end"
    );
}

#[test]
fn associations() {
    assert_eq!(codes_of(&parse(b"]d221SN1")), [codes::AI_REQUIRES]);
    assert_eq!(codes_of(&parse(b"]d210LOT1")), [codes::AI_REQUIRES]);
    // (01) and (02) exclude each other; (37) also wants an SSCC (00) alongside.
    let s = parse(b"(01)09506000134352(02)09506000134352(37)1");
    assert_eq!(codes_of(&s), [codes::AI_EXCLUDES, codes::AI_REQUIRES]);
    assert_eq!(
        codes_of(&parse(b"(01)09506000134352(21)A(21)B")),
        [codes::AI_REPEATED]
    );
    assert!(
        parse(b"(01)09506000134352(21)A(21)A").valid,
        "a repeat with the same value is fine"
    );
}

#[test]
fn not_gs1_and_unknown() {
    assert_eq!(codes_of(&parse(b"")), [codes::EMPTY]);
    assert_eq!(codes_of(&parse(b"  \r\n")), [codes::EMPTY]);
    assert_eq!(codes_of(&parse(b"hello")), [codes::NOT_GS1]);
    assert_eq!(codes_of(&parse(b"]d2891234")), [codes::UNKNOWN_AI]);
    assert_eq!(codes_of(&parse(b"]")), [codes::SYMBOLOGY]);
    assert_eq!(codes_of(&parse(b"(01)0950600013435")), [codes::TRUNCATED]);
    assert_eq!(codes_of(&parse(b"(01")), [codes::BRACKET_SYNTAX]);
}

#[test]
fn digital_link_faults() {
    assert_eq!(
        codes_of(&parse(b"https://id.gs1.org/01/09506000134352/21/S/10/L")),
        [codes::DIGITAL_LINK_KEY]
    );
    assert_eq!(
        codes_of(&parse(b"https://id.gs1.org/01/09506000134352?10=L")),
        [codes::DIGITAL_LINK_KEY]
    );
    assert_eq!(
        codes_of(&parse(b"https://example.com/no/key")),
        [codes::DIGITAL_LINK]
    );
    assert_eq!(
        codes_of(&parse(b"https://id.gs1.org/ARHKVAdpQgZzjr")),
        [codes::DIGITAL_LINK_COMPRESSED]
    );
}

#[test]
fn ean_and_upc() {
    let s = parse(b"]E09506000134352");
    assert!(s.valid);
    assert_eq!(s.gtin().as_deref(), Some("09506000134352"));
    assert!(parse(b"]E495060002").valid);
    assert!(parse(b"9506000134352").valid, "a bare EAN-13");
    assert_eq!(codes_of(&parse(b"]E09506000134353")), [codes::CHECK_DIGIT]);
}

#[test]
fn spaces_as_separators_and_printed_hri() {
    let s = parse(b"]d20109506000134352 10LOT1 21SN1");
    assert_eq!(codes_of(&s), [codes::SEPARATOR_SUBSTITUTED]);
    assert!(s.errors[0].message.contains("a space"));
    assert_eq!(ais_of(&s), PACK);
    // Printed human-readable text, typed with its spaces, is fine.
    let s = parse(b"(01) 09506000134352 (10) LOT1 (21) SN1");
    assert!(s.valid, "{:?}", s.errors);
    assert_eq!(ais_of(&s), PACK);
}
