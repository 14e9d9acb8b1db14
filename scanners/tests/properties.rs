//! Properties: building then parsing is the identity (element strings,
//! bracketed text, Digital Link), parsing never panics, and check digits
//! catch every single-digit error and the adjacent swaps they can.

use proptest::prelude::*;
use scanners::{
    Gtin, bracketed, digital_link_uri, element_string, mod10, mod10_valid, parse, transpositions,
};

/// A valid GTIN-14.
fn gtin() -> impl Strategy<Value = String> {
    proptest::collection::vec(0u8..10, 13).prop_map(|d| {
        let data: String = d.iter().map(|x| char::from(b'0' + x)).collect();
        let check = mod10(&data).unwrap();
        format!("{data}{check}")
    })
}

/// CSET 82 text of 1..=20 characters (without "<", so no text reads as a "<GS>" stand-in).
fn cset82_text() -> impl Strategy<Value = String> {
    "[!\"%&'()*+,\\-./0-9:;=>?A-Z_a-z]{1,20}"
}

/// A valid YYMMDD with DD possibly 00.
fn yymmdd() -> impl Strategy<Value = String> {
    (0u32..100, 1u32..13, 0u32..29).prop_map(|(y, m, d)| format!("{y:02}{m:02}{d:02}"))
}

/// A random valid pack code: GTIN plus some of expiry, lot, serial, in random order.
fn pack() -> impl Strategy<Value = Vec<(String, String)>> {
    (
        gtin(),
        proptest::option::of(yymmdd()),
        proptest::option::of(cset82_text()),
        proptest::option::of(cset82_text()),
        any::<proptest::sample::Index>(),
    )
        .prop_map(|(g, exp, lot, ser, shuffle)| {
            let mut rest: Vec<(String, String)> = Vec::new();
            if let Some(e) = exp {
                rest.push(("17".into(), e));
            }
            if let Some(l) = lot {
                rest.push(("10".into(), l));
            }
            if let Some(s) = ser {
                rest.push(("21".into(), s));
            }
            if !rest.is_empty() {
                let k = shuffle.index(rest.len());
                rest.rotate_left(k);
            }
            let mut all = vec![("01".to_string(), g)];
            all.extend(rest);
            all
        })
}

fn pairs(v: &[(String, String)]) -> Vec<(&str, &str)> {
    v.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect()
}

fn scanned(input: &[u8]) -> Vec<(String, String)> {
    let scan = parse(input);
    assert!(
        scan.valid,
        "{:?} -> {:?}",
        String::from_utf8_lossy(input),
        scan.errors
    );
    scan.ais.into_iter().map(|a| (a.ai, a.value)).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn element_string_round_trip(ais in pack()) {
        let es = element_string(&pairs(&ais)).unwrap();
        prop_assert_eq!(scanned(format!("]d2{es}").as_bytes()), ais.clone());
        // Without a symbology identifier, FNC1 sent as a leading GS.
        prop_assert_eq!(scanned(format!("\u{1d}{es}").as_bytes()), ais);
    }

    #[test]
    fn bracketed_round_trip(ais in pack()) {
        let text = bracketed(&pairs(&ais));
        prop_assert_eq!(scanned(text.as_bytes()), ais);
    }

    #[test]
    fn digital_link_round_trip(ais in pack(), base in prop_oneof![Just(None), Just(Some("https://example.com/p"))]) {
        let uri = digital_link_uri(&pairs(&ais), base).unwrap();
        let mut back = scanned(uri.as_bytes());
        let mut want = ais.clone();
        back.sort();
        want.sort();
        prop_assert_eq!(back, want);
        // The scan's canonical link is the same link on id.gs1.org.
        let canonical = parse(uri.as_bytes()).digital_link().unwrap();
        prop_assert_eq!(canonical, digital_link_uri(&pairs(&ais), None).unwrap());
    }

    #[test]
    fn parse_never_panics_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
        let scan = parse(&bytes);
        prop_assert_eq!(scan.valid, scan.errors.is_empty() && (!scan.ais.is_empty() || scan.udi.is_some()));
        let report = scanners::report(&bytes);
        let obj = report.as_object().unwrap();
        prop_assert_eq!(obj.len(), 12);
        prop_assert_eq!(obj["valid"].as_bool(), Some(scan.valid));
        prop_assert_eq!(obj["errors"].as_array().unwrap().len(), scan.errors.len());
    }

    #[test]
    fn parse_never_panics_on_gs1_like_text(text in "(\\]d2|\\]Q3|\\]C1|\\]E0|\\]E4|\\]D2|https://a/|hTTPS://a/01/|\\(|\\+|=|&|\\^|\u{1d})?([0-9A-Za-z\u{1d}()/?=&%^<>~|.\\-éà␝$+\\[\\]{}\\\\]|<GS>|\\|\\]e0|01|10|17|21|00){0,40}") {
        let scan = parse(text.as_bytes());
        for e in &scan.errors {
            prop_assert!(!e.code.is_empty() && e.code.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'));
        }
        let _ = scanners::report(text.as_bytes());
    }

    #[test]
    fn identifiers_round_trip_through_text_and_json(g in gtin(), d in yymmdd()) {
        let gtin: Gtin = g.parse().unwrap();
        prop_assert_eq!(gtin.to_string().parse::<Gtin>().unwrap(), gtin.clone());
        let json = serde_json::to_string(&gtin).unwrap();
        prop_assert_eq!(serde_json::from_str::<Gtin>(&json).unwrap(), gtin);
        let expiry = scanners::Expiry::from_yymmdd(&d).unwrap();
        prop_assert_eq!(expiry.to_string().parse::<scanners::Expiry>().unwrap(), expiry);
    }

    #[test]
    fn any_single_digit_change_is_caught(g in gtin(), pos in 0usize..14, delta in 1u8..10) {
        let mut b = g.clone().into_bytes();
        b[pos] = b'0' + (b[pos] - b'0' + delta) % 10;
        let changed = String::from_utf8(b).unwrap();
        prop_assert!(mod10_valid(&g));
        prop_assert!(!mod10_valid(&changed));
        prop_assert!(Gtin::new(&changed).is_err());
    }

    #[test]
    fn adjacent_swaps_are_caught_and_undone(g in gtin(), pos in 0usize..13) {
        let mut b = g.clone().into_bytes();
        let (x, y) = (b[pos], b[pos + 1]);
        prop_assume!(x != y && x.abs_diff(y) != 5);
        b.swap(pos, pos + 1);
        let swapped = String::from_utf8(b).unwrap();
        prop_assert!(!mod10_valid(&swapped));
        prop_assert!(transpositions(&swapped).contains(&g));
    }
}
