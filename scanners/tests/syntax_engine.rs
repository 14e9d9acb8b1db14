//! GS1 Barcode Syntax Engine vectors (`../shared/conformance/gs1-syntax-engine/`),
//! one test per JSONL file. Each prints how many vectors passed and which
//! kinds were skipped, and why. Without the conformance folder they skip.

mod common;

use common::{Tally, bytes_of, jsonl};
use scanners::convert::{self, Association, Options};
use scanners::dictionary;
use scanners::lint::Linter;
use serde_json::Value;

const DIR: &str = "gs1-syntax-engine";

fn opts(v: &Value) -> Options {
    let o = &v["options"];
    let disabled = |name: &str| {
        o["validationsDisabled"]
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x == name))
    };
    Options {
        permit_unknown_ais: o["permitUnknownAIs"].as_bool() == Some(true),
        zero_suppressed_gtin: o["permitZeroSuppressedGTINinDLuris"].as_bool() == Some(true),
        lax_dl_attributes: disabled("vUNKNOWN_AI_NOT_DL_ATTR"),
        convenience_alphas: o["permitConvenienceAlphas"].as_bool() == Some(true),
    }
}

/// `^`-notation element string (FNC1 first) to raw data with GS.
fn caret_to_raw(s: &str) -> Option<String> {
    s.strip_prefix('^').map(|r| r.replace('^', "\u{1d}"))
}

fn input(v: &Value) -> String {
    v["input"].as_str().unwrap_or_default().to_string()
}

fn show(v: &Value) -> String {
    format!("{} {:?} (line {})", v["kind"], v["input"], v["line"])
}

#[test]
fn element_string_vectors() {
    let Some(lines) = jsonl(&format!("{DIR}/element_string.jsonl")) else {
        return;
    };
    let mut t = Tally::default();
    let mut coupons = 0;
    for v in &lines {
        let o = opts(v);
        let want = v["valid"].as_bool() == Some(true);
        let text = input(v);
        if v["kind"] == "bracketed_lint"
            && (text.starts_with("(8110)") || text.starts_with("(8112)"))
        {
            coupons += 1;
            continue;
        }
        match v["kind"].as_str().unwrap_or("") {
            "bracketed_to_element_string" => {
                let got = convert::from_bracketed(&text, o)
                    .map(|a| format!("^{}", convert::to_element_string(&a, '^')));
                let ok = match (&got, want) {
                    (Ok(s), true) => Some(s.as_str()) == v["expect"].as_str(),
                    (Err(_), false) => true,
                    _ => false,
                };
                t.check(ok, || format!("{} -> {got:?}", show(v)));
            }
            "element_string" => {
                let got = caret_to_raw(&text)
                    .ok_or(())
                    .and_then(|r| convert::from_element_string(&r, o).map_err(|_| ()));
                t.check(got.is_ok() == want, || format!("{} -> {got:?}", show(v)));
            }
            "bracketed_lint" | "bracketed_err_markup" => {
                let got = convert::from_bracketed(&text, o);
                let ok = match (&got, v["error"].as_str()) {
                    (Ok(_), _) => want,
                    (Err(e), Some(code)) => !want && e.message().contains(code),
                    (Err(_), None) => !want,
                };
                t.check(ok, || format!("{} -> {got:?}", show(v)));
            }
            "ai_association_validation" => {
                let which = match v["validation"].as_str() {
                    Some("repeated_ais") => Association::Repeats,
                    Some("mutex_ais") => Association::Exclusions,
                    Some("requisite_ais") => Association::Requisites,
                    _ => Association::DigitalSignature,
                };
                let errors =
                    convert::from_bracketed(&text, o).map(|a| convert::associations(&a, which));
                let ok = matches!(&errors, Ok(e) if e.is_empty() == want);
                t.check(ok, || format!("{} -> {errors:?}", show(v)));
            }
            "ai_prefix_length" => {
                let got = scanners::length_by_prefix(&text);
                t.check(got.map(|n| n as u64) == v["expect"].as_u64(), || {
                    format!("{} -> {got:?}", show(v))
                });
            }
            other => panic!("unexpected kind {other}"),
        }
    }
    t.skipped += coupons;
    println!(
        "skipped {coupons}: coupon linters for (8110)/(8112), North American retail coupons, out of scope"
    );
    t.finish("element_string.jsonl");
}

#[test]
fn digital_link_vectors() {
    let Some(lines) = jsonl(&format!("{DIR}/digital_link.jsonl")) else {
        return;
    };
    let mut t = Tally::default();
    for v in &lines {
        let o = opts(v);
        let want = v["valid"].as_bool() == Some(true);
        match v["kind"].as_str().unwrap_or("") {
            "dl_uri_to_element_string" => {
                let got = convert::from_digital_link(&input(v), o)
                    .map(|a| format!("^{}", convert::to_element_string(&a, '^')));
                let ok = match (&got, want) {
                    (Ok(s), true) => Some(s.as_str()) == v["expect"].as_str(),
                    (Err(_), false) => true,
                    _ => false,
                };
                t.check(ok, || format!("{} -> {got:?}", show(v)));
            }
            "element_string_to_dl_uri" => {
                let got = convert::from_bracketed(&input(v), o)
                    .and_then(|a| convert::to_digital_link(&a, v["stem"].as_str(), o));
                let ok = match (&got, want) {
                    (Ok(s), true) => Some(s.as_str()) == v["expect"].as_str(),
                    (Err(_), false) => true,
                    _ => false,
                };
                t.check(ok, || format!("{} -> {got:?}", show(v)));
            }
            "uri_unescape" => {
                let text = input(v);
                let p = scanners::digital_link::unescape_path(&text).unwrap_or_default();
                let q = scanners::digital_link::unescape_query(&text).unwrap_or_default();
                let ok = Some(p.as_str()) == v["expect_path"].as_str()
                    && Some(q.as_str()) == v["expect_query"].as_str();
                t.check(ok, || format!("{} -> {p:?} {q:?}", show(v)));
            }
            "uri_escape" => {
                let text = input(v);
                let p = scanners::digital_link::escape_path(&text);
                let q = scanners::digital_link::escape_query(&text);
                let ok = Some(p.as_str()) == v["expect_path"].as_str()
                    && Some(q.as_str()) == v["expect_query"].as_str();
                t.check(ok, || format!("{} -> {p:?} {q:?}", show(v)));
            }
            "dl_path_ai_sequence" => {
                let ais: Vec<&str> = v["input"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter_map(Value::as_str)
                    .collect();
                t.check(
                    scanners::digital_link::valid_path_sequence(&ais) == want,
                    || show(v),
                );
            }
            other => panic!("unexpected kind {other}"),
        }
    }
    t.finish("digital_link.jsonl");
}

fn sym_name(s: &scanners::Scan) -> &'static str {
    use scanners::Symbology::*;
    match s.symbology {
        Some(Gs1DataMatrix | DataMatrix) => "DM",
        Some(Gs1Qr | Qr) => "QR",
        Some(Gs1DotCode | DotCode) => "DotCode",
        Some(Gs1DataBar) => "DataBarExpanded",
        Some(Gs1_128 | Code128) => "GS1_128_CCA",
        Some(Ean13) => "EAN13",
        Some(Ean8) => "EAN8",
        _ => "NONE",
    }
}

#[test]
fn scan_data_vectors() {
    let Some(lines) = jsonl(&format!("{DIR}/scan_data.jsonl")) else {
        return;
    };
    let mut t = Tally::default();
    let mut generate = 0;
    for v in &lines {
        let want = v["valid"].as_bool() == Some(true);
        match v["kind"].as_str().unwrap_or("") {
            "scan_data_to_data" => {
                let scan = scanners::parse(&bytes_of(v, "input"));
                let expect = v["expect"].as_str().unwrap_or("");
                let gs1 = expect.starts_with('^') || expect.contains("|^");
                let dl = v["expect_dl_element_string"].as_str();
                let caret = format!("^{}", convert::to_element_string(&scan.ais, '^'));
                let ok = if !want {
                    !scan.valid
                } else if let Some(dl) = dl {
                    // A Digital Link in a plain QR/DataMatrix/DotCode.
                    sym_name(&scan) == v["expect_sym"]
                        && if dl.is_empty() {
                            !scan.valid
                        } else {
                            scan.valid && caret == dl
                        }
                } else if gs1 {
                    let expect_ais = expect.replace("|^", "^").replace('|', "");
                    let primary = expect.split('|').next().unwrap_or("");
                    let want_caret = if expect.contains('|') {
                        // EAN primary + composite: the GTIN then the composite AIs.
                        format!(
                            "^01{primary:0>14}{}",
                            expect_ais[primary.len()..].trim_start_matches('^')
                        )
                    } else {
                        expect_ais
                    };
                    scan.valid && sym_name(&scan) == v["expect_sym"] && caret == want_caret
                } else if v["expect_sym"] == "EAN13" || v["expect_sym"] == "EAN8" {
                    scan.valid && scan.gtin() == Some(format!("{expect:0>14}"))
                } else {
                    // Plain (non-GS1) data: accepted by the engine, reported here as not GS1.
                    sym_name(&scan) == v["expect_sym"] && !scan.valid
                };
                t.check(ok, || {
                    format!(
                        "{} -> {} {:?} {:?}",
                        show(v),
                        sym_name(&scan),
                        caret,
                        scan.errors
                    )
                });
            }
            "data_to_scan_data" => match data_to_scan_data(v) {
                Some(got) => {
                    let ok = match (&got, want) {
                        (Ok(s), true) => Some(s.as_str()) == v["expect"].as_str(),
                        (Err(_), false) => true,
                        _ => false,
                    };
                    t.check(ok, || format!("{} -> {got:?}", show(v)));
                }
                None => generate += 1,
            },
            "check_digit" => {
                let text = input(v);
                let ok = scanners::mod10_valid(&text) == want
                    && (want
                        || scanners::with_correct_check_digit(&text).as_deref()
                            == v["expect"].as_str());
                t.check(ok, || show(v));
            }
            other => panic!("unexpected kind {other}"),
        }
    }
    t.skipped += generate;
    println!(
        "skipped {generate} data_to_scan_data: plain (non-GS1) data, composite components (\"|\") \
         and a kept trailing FNC1 are engine data-string features, not AI data"
    );
    t.finish("scan_data.jsonl");
}

/// `scanners::scan_data` for a vector, or `None` when the vector is out of scope.
fn data_to_scan_data(v: &Value) -> Option<Result<String, scanners::Error>> {
    use scanners::Symbology::*;
    let text = input(v);
    if text.contains('|') || text.ends_with('^') {
        return None;
    }
    let gs1 = text.starts_with('^');
    let sym = match (v["sym"].as_str()?, gs1) {
        ("QR", true) => Gs1Qr,
        ("DM", true) => Gs1DataMatrix,
        ("DotCode", true) => Gs1DotCode,
        ("DataBarExpanded", true) => Gs1DataBar,
        ("GS1_128_CCA", true) => Gs1_128,
        ("EAN13", false) => Ean13,
        ("EAN8", false) => Ean8,
        _ => return None,
    };
    if gs1 {
        let ais = convert::from_element_string(&caret_to_raw(&text)?, Options::default());
        return Some(ais.and_then(|a| {
            let pairs: Vec<(&str, &str)> = a
                .iter()
                .map(|x| (x.ai.as_str(), x.value.as_str()))
                .collect();
            scanners::scan_data(&sym, &pairs)
        }));
    }
    let width = if sym == Ean13 { 13 } else { 8 };
    let mut digits = text.clone();
    if v["options"]["addCheckDigit"].as_bool() == Some(true)
        && digits.len() == width - 1
        && let Some(d) = scanners::mod10(&digits)
    {
        digits.push(char::from(b'0' + d));
    }
    if digits.len() != width {
        return Some(Err(scanners::Error::new(
            scanners::codes::AI_LENGTH,
            "wrong length",
        )));
    }
    let gtin = format!("{digits:0>14}");
    Some(scanners::scan_data(&sym, &[("01", gtin.as_str())]))
}

/// `*bad*` markup of a span, as the linter vectors write it.
fn markup(s: &str, start: usize, len: usize) -> String {
    format!(
        "{}*{}*{}",
        &s[..start],
        &s[start..start + len],
        &s[start + len..]
    )
}

#[test]
fn linter_vectors() {
    let Some(lines) = jsonl(&format!("{DIR}/linters.jsonl")) else {
        return;
    };
    let mut t = Tally::default();
    let mut skipped: std::collections::BTreeMap<String, usize> = Default::default();
    for v in &lines {
        let name = v["linter"].as_str().unwrap_or("");
        if matches!(name, "couponcode" | "couponposoffer" | "packagetype") {
            *skipped.entry(name.to_string()).or_default() += 1;
            continue;
        }
        let linter = Linter::from_name(name).unwrap_or_else(|| panic!("unknown linter {name}"));
        let bytes = bytes_of(v, "input");
        let text: String = bytes.iter().map(|&b| b as char).collect();
        let got = linter.check(&text);
        let ok = match (&got, v["error"].as_str()) {
            (Ok(()), None) => true,
            (Err(e), Some(code)) => {
                let same_code = code.strip_prefix("GS1_LINTER_") == Some(e.code);
                let span_ok = !text.is_ascii()
                    || text.bytes().any(|b| b.is_ascii_control())
                    || v["expect"].as_str() == Some(markup(&text, e.start, e.len).as_str());
                same_code && span_ok
            }
            _ => false,
        };
        t.check(ok, || {
            format!(
                "{name} {:?} -> {got:?} (want {} {})",
                text, v["error"], v["expect"]
            )
        });
    }
    for (name, n) in &skipped {
        t.skipped += n;
        let why = if name == "packagetype" {
            "the UN/ECE Rec. 21 package-type code list is not carried (only its shape is checked)"
        } else {
            "North American retail coupon structures are out of scope for a healthcare ledger"
        };
        println!("skipped {n} {name} vectors: {why}");
    }
    t.finish("linters.jsonl");
}

#[test]
fn syntax_dictionary_vectors() {
    let Some(lines) = jsonl(&format!("{DIR}/syntax_dictionary.jsonl")) else {
        return;
    };
    let mut t = Tally::default();
    for v in &lines {
        let want = v["valid"].as_bool() == Some(true);
        match v["kind"].as_str().unwrap_or("") {
            "syntax_dictionary_entry" => {
                let got = dictionary::parse_line(&input(v));
                let ok = match (&got, want) {
                    (Ok(entries), true) => v["expect"].as_array().is_none_or(|exp| {
                        exp.len() == entries.len()
                            && exp.iter().zip(entries).all(|(x, e)| same_entry(x, e))
                    }),
                    (Err(_), false) => true,
                    _ => false,
                };
                t.check(ok, || format!("{} -> {got:?}", show(v)));
            }
            "syntax_dictionary_file" => {
                let got = dictionary::parse(&input(v));
                t.check(got.is_ok() == want, || format!("{} -> {got:?}", show(v)));
            }
            other => panic!("unexpected kind {other}"),
        }
    }
    t.finish("syntax_dictionary.jsonl");
}

/// The getters an `api` vector asserts after a successful set: data string,
/// HRI lines, ignored Digital Link parameters, scan data and symbology.
fn api_getters(v: &Value, text: &str, ais: &[scanners::AiValue]) -> bool {
    let e = &v["expect"];
    let pairs: Vec<(&str, &str)> = ais
        .iter()
        .map(|a| (a.ai.as_str(), a.value.as_str()))
        .collect();
    let mut ok = true;
    if let Some(want) = e["getDataStr"].as_str()
        && !scanners::digital_link::looks_like_uri(text)
        && (text.starts_with('^') || text.starts_with('('))
    {
        ok &= format!("^{}", convert::to_element_string(ais, '^')) == want;
    }
    if let Some(want) = e["getHRI"].as_array() {
        // The engine's HRI without data titles: "(01) 12312312312333".
        let ours: Vec<String> = scanners::hri(&pairs)
            .into_iter()
            .map(|l| l[l.find('(').unwrap_or(0)..].to_string())
            .collect();
        ok &= want
            .iter()
            .map(|x| x.as_str().unwrap_or(""))
            .eq(ours.iter().map(String::as_str));
    }
    if let Some(want) = e["getDLignoredQueryParams"].as_array() {
        let ours = scanners::digital_link::ignored_query_params(text);
        ok &= want
            .iter()
            .map(|x| x.as_str().unwrap_or(""))
            .eq(ours.iter().map(String::as_str));
    }
    if let (Some(want), Some("GS1_128_CCA")) = (e["getScanData"].as_str(), v["sym"].as_str()) {
        ok &= scanners::scan_data(&scanners::Symbology::Gs1_128, &pairs)
            .ok()
            .as_deref()
            == Some(want);
    }
    if let Some(want) = e["getSym"].as_str() {
        ok &= sym_name(&scanners::parse(text.as_bytes())) == want;
    }
    ok
}

fn same_entry(x: &Value, e: &dictionary::EntrySpec) -> bool {
    let comps = x["components"].as_array().cloned().unwrap_or_default();
    x["ai"] == e.ai.as_str()
        && x["fnc1_required"] == !e.fixed
        && x["dl_data_attr"] == e.dl_attr
        && x["attrs"] == e.attrs.join(" ").as_str()
        && x["title"] == e.title.as_str()
        && comps.len() == e.components.len()
        && comps.iter().zip(&e.components).all(|(c, s)| {
            c["cset"] == s.cset.to_string().as_str()
                && c["min"] == u64::from(s.min)
                && c["max"] == u64::from(s.max)
                && c["linters"] == serde_json::json!(s.linters)
        })
}

#[test]
fn api_vectors() {
    let Some(lines) = jsonl(&format!("{DIR}/api.jsonl")) else {
        return;
    };
    let mut t = Tally::default();
    let mut composite = 0;
    for v in &lines {
        let want = v["valid"].as_bool() == Some(true);
        let text = input(v);
        if text.contains('|') {
            composite += 1;
            continue;
        }
        let got: Result<Vec<scanners::AiValue>, String> = match v["op"].as_str().unwrap_or("") {
            "setAIdataStr" => convert::from_bracketed(&text, opts(v)).map_err(|e| e.to_string()),
            "setDataStr" if text.starts_with('^') => {
                let raw = caret_to_raw(&text).unwrap_or_default();
                convert::from_element_string(&raw, opts(v)).map_err(|e| e.to_string())
            }
            "setDataStr" if scanners::digital_link::looks_like_uri(&text) => {
                convert::from_digital_link(&text, opts(v)).map_err(|e| e.to_string())
            }
            "setDataStr" => {
                // Plain, non-GS1 data: the engine accepts it as such.
                t.check(want, || show(v));
                continue;
            }
            _ => {
                let mut full = text.clone();
                if let Some(sym) = v["sym"].as_str().filter(|_| !text.starts_with(']')) {
                    full = format!("{sym}{text}");
                }
                let scan = scanners::parse(full.as_bytes());
                if scan.valid {
                    Ok(scan.ais)
                } else {
                    Err(format!("{:?}", scan.errors))
                }
            }
        };
        // Full validation: the rules between AIs apply too.
        let got = got.and_then(
            |a| match convert::associations(&a, Association::All).first() {
                Some(e) => Err(e.to_string()),
                None => Ok(a),
            },
        );
        let mut ok = got.is_ok() == want;
        if let Ok(ais) = &got {
            ok &= api_getters(v, &text, ais);
        }
        if let (Ok(ais), Some(hri)) = (&got, v["expect"]["getAIdataStr"].as_str()) {
            ok &= scanners::bracketed(
                &ais.iter()
                    .map(|a| (a.ai.as_str(), a.value.as_str()))
                    .collect::<Vec<_>>(),
            ) == hri;
        }
        t.check(ok, || {
            format!("{} {} -> {got:?} expect {}", v["op"], show(v), v["expect"])
        });
    }
    t.skipped += composite;
    println!(
        "skipped {composite}: composite-symbol notation (linear|2D, \"|\"), used on retail DataBar/UPC, not on pharma packs"
    );
    t.finish("api.jsonl");
}
