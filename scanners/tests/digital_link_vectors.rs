//! GS1 Digital Link vectors from GS1's simple C parser and from digital-link.js
//! (`../shared/conformance/gs1-digital-link/`). Both libraries have their own
//! policies, which are modelled here only where they are GS1 Digital Link
//! rules; the rest is skipped by kind, with the count and the reason printed.

mod common;

use common::{Tally, jsonl};
use scanners::convert::{self, Options};
use scanners::{Error, codes};
use serde_json::Value;

fn show(v: &Value) -> String {
    format!("{} {:?} (line {})", v["kind"], v["input"], v["line"])
}

fn caret(ais: &[scanners::AiValue]) -> String {
    format!("^{}", convert::to_element_string(ais, '^'))
}

#[test]
fn simple_parser_vectors() {
    let Some(lines) =
        jsonl("gs1-digital-link/gs1-digital-link-uri-simple-parser/dl_uri_parse.jsonl")
    else {
        return;
    };
    // The simple parser pads short GTINs and takes unknown AIs: its stated policy.
    let opts = Options {
        permit_unknown_ais: true,
        zero_suppressed_gtin: true,
        lax_dl_attributes: true,
        convenience_alphas: false,
    };
    let mut t = Tally::default();
    let mut unknown_in_path = 0;
    for v in &lines {
        let text = v["input"].as_str().unwrap_or_default();
        let want = v["valid"].as_bool() == Some(true);
        match v["kind"].as_str().unwrap_or("") {
            "dl_uri_parse" => {
                if text.contains("/89/") {
                    // An unknown AI as a path qualifier: the simple parser accepts it,
                    // GS1 Digital Link path rules (and the Syntax Engine) do not.
                    unknown_in_path += 1;
                    continue;
                }
                let got = convert::from_digital_link(text, opts).map(|a| caret(&a));
                let ok = match (&got, want) {
                    (Ok(s), true) => Some(s.as_str()) == v["expect"].as_str(),
                    (Err(_), false) => true,
                    _ => false,
                };
                t.check(ok, || format!("{} -> {got:?}", show(v)));
            }
            "uri_unescape" => {
                let p = scanners::digital_link::unescape_path(text).unwrap_or_default();
                let q = scanners::digital_link::unescape_query(text).unwrap_or_default();
                let ok = Some(p.as_str()) == v["expect_path"].as_str()
                    && Some(q.as_str()) == v["expect_query"].as_str();
                t.check(ok, || format!("{} -> {p:?} {q:?}", show(v)));
            }
            other => panic!("unexpected kind {other}"),
        }
    }
    t.skipped += unknown_in_path;
    println!(
        "skipped {unknown_in_path}: unknown AI (89) as a path qualifier (simple-parser policy, not DL path rules)"
    );
    t.finish("dl_uri_parse.jsonl");
}

/// The digital-link.js verdict for a URI under GS1 Digital Link rules: AIs
/// and values checked, GTIN-8/12/13 allowed (DL 1.x), a trailing `/` allowed.
fn js_valid(uri: &str) -> Result<Vec<scanners::AiValue>, Error> {
    let opts = Options {
        permit_unknown_ais: false,
        zero_suppressed_gtin: true,
        lax_dl_attributes: false,
        convenience_alphas: true,
    };
    convert::from_digital_link(uri.strip_suffix('/').unwrap_or(uri), opts)
}

#[test]
fn digital_link_js_vectors() {
    let Some(lines) = jsonl("gs1-digital-link/digital-link.js/dl_js.jsonl") else {
        return;
    };
    let mut t = Tally::default();
    let mut skipped: std::collections::BTreeMap<&str, usize> = Default::default();
    for v in &lines {
        let kind = v["kind"].as_str().unwrap_or("");
        let text = v["input"].as_str().unwrap_or_default();
        let want = v["valid"].as_bool() == Some(true);
        match kind {
            "dl_js_validate" if text.contains("/giai/") => {
                // The library wants a check digit in a GIAI; (8004) has none in GS1's rules.
                *skipped
                    .entry("GIAI check digit: a digital-link.js rule, (8004) has no check digit")
                    .or_default() += 1;
            }
            "dl_js_validate" if v["options"]["sortKeyQualifiers"].as_bool() == Some(true) => {
                *skipped
                    .entry("sortKeyQualifiers: a library setter that reorders before validating")
                    .or_default() += 1;
            }
            "dl_js_validate" | "dl_js_check_digit_in_uri" => {
                let got = js_valid(text);
                let compressed =
                    matches!(&got, Err(e) if e.code() == codes::DIGITAL_LINK_COMPRESSED);
                if want && compressed {
                    // Compressed links are refused with their own code, by design.
                    *skipped
                        .entry("compressed URI: refused with DIGITAL_LINK_COMPRESSED by design")
                        .or_default() += 1;
                    continue;
                }
                t.check(got.is_ok() == want, || format!("{} -> {got:?}", show(v)));
            }
            "dl_js_parse" => {
                let got = js_valid(text);
                if matches!(&got, Err(e) if e.code() == codes::DIGITAL_LINK_COMPRESSED) {
                    *skipped
                        .entry("compressed URI: refused with DIGITAL_LINK_COMPRESSED by design")
                        .or_default() += 1;
                    continue;
                }
                let ok = match (&got, want) {
                    (Ok(ais), true) => js_parse_matches(ais, &v["expect"]),
                    (Err(_), false) => true,
                    _ => false,
                };
                t.check(ok, || format!("{} -> {got:?}", show(v)));
            }
            "dl_js_is_compressed" => {
                let got = js_valid(text);
                let compressed =
                    matches!(&got, Err(e) if e.code() == codes::DIGITAL_LINK_COMPRESSED);
                t.check(compressed == (v["expect"] == true), || {
                    format!("{} -> {got:?}", show(v))
                });
            }
            "dl_js_check_digit" => {
                // 1-based position of the check digit; -1 = the last digit.
                let pos = v["check_digit_position"].as_i64().unwrap_or(-1);
                let digits = if pos < 0 {
                    text
                } else {
                    text.get(..pos as usize).unwrap_or(text)
                };
                t.check(scanners::mod10_valid(digits) == want, || show(v));
            }
            "dl_js_is_key_code" => {
                let key =
                    text.len() <= 4 && scanners::ai_entry(text).is_some_and(|e| e.dlpkey.is_some());
                let numeric = text.bytes().all(|b| b.is_ascii_digit());
                // The library calls any all-digit key a key code.
                t.check((key || numeric) == (v["expect"] == true), || show(v));
            }
            "dl_js_compress" | "dl_js_decompress" => {
                *skipped
                    .entry("compression: refused with DIGITAL_LINK_COMPRESSED by design")
                    .or_default() += 1;
            }
            "dl_js_grammar_rule" | "dl_js_build" => {
                *skipped
                    .entry("library internals (ABNF rule names, builder setters, linkType)")
                    .or_default() += 1;
            }
            other => panic!("unexpected kind {other}"),
        }
    }
    for (why, n) in &skipped {
        t.skipped += n;
        println!("skipped {n}: {why}");
    }
    t.finish("dl_js.jsonl");
}

/// `expect` ⊆ {identifier, keyQualifiers, attributes} against our AIs.
fn js_parse_matches(ais: &[scanners::AiValue], expect: &Value) -> bool {
    let has = |ai: &str, value: &Value| {
        ais.iter().any(|a| {
            a.ai == ai
                && (Some(a.value.as_str()) == value.as_str()
                    || Some(a.value.trim_start_matches('0'))
                        == value.as_str().map(|s| s.trim_start_matches('0')))
        })
    };
    ["identifier", "keyQualifiers", "attributes"]
        .iter()
        .all(|k| {
            expect[k].as_object().is_none_or(|m| {
                m.iter()
                    .filter(|(ai, _)| ai.bytes().all(|b| b.is_ascii_digit()))
                    .all(|(ai, value)| has(ai, value))
            })
        })
}
