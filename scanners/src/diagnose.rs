//! Scan diagnostics: recognising the usual ways a good code turns into a bad
//! scan (separator sent as other characters, keyboard layouts, caps lock,
//! truncation, a missing separator) and saying what to do about it.

use crate::ai;
use crate::element::{self, Field, GS};
use crate::error::{Error, codes};
use crate::validate;

/// Texts scanners and keyboard wedges send in place of GS (ASCII 29).
/// None of them can be GS1 data (their characters are outside CSET 82),
/// except the bracketed words, which no real value spells.
const STAND_INS: &[&str] = &[
    "<GS>", "{GS}", "[GS]", "<gs>", "{gs}", "[gs]", "<FNC1>", "{FNC1}", "[FNC1]", "\\x1d", "\\x1D",
    "\\u001d", "\\u001D", "\\035", "\\029", "<1D>", "{1D}", "[1D]", "\u{241d}", "^", "~", "|", "@",
    " ", "\t",
];

/// Bytes that can open a stand-in (0xE2 opens U+241D).
const STAND_IN_START: [bool; 256] = {
    let mut t = [false; 256];
    let starts = b"<{[\\^~|@\xe2 \t";
    let mut i = 0;
    while i < starts.len() {
        t[starts[i] as usize] = true;
        i += 1;
    }
    t
};

/// Replace GS stand-ins with GS. Returns the repaired data and the error to report.
pub(crate) fn separator_stand_ins(raw: &str, at: usize) -> Option<(String, Error)> {
    // Every stand-in starts with one of these bytes (0xE2 opens U+241D).
    if !raw.bytes().any(|b| STAND_IN_START[usize::from(b)]) {
        return None;
    }
    let (pos, found) = STAND_INS
        .iter()
        .filter_map(|s| raw.find(s).map(|p| (p, *s)))
        .min_by_key(|(p, s)| (*p, usize::MAX - s.len()))?;
    let mut fixed = raw.to_string();
    for s in STAND_INS {
        fixed = fixed.replace(s, "\u{1d}");
    }
    // Only a reading that then splits into AIs is worth proposing.
    if !splits(fixed.trim_start_matches(GS)) {
        return None;
    }
    let shown = match found {
        "\u{241d}" => "\"\u{241d}\" (the GS symbol)".to_string(),
        " " => "a space".to_string(),
        "\t" => "a tab".to_string(),
        other => format!("{other:?}"),
    };
    let e = Error::new(
        codes::SEPARATOR_SUBSTITUTED,
        format!(
            "the field separator (GS, ASCII 29) arrived as {shown}: the scanner or keyboard \
             wedge rewrites it. Configure the scanner to send GS (often Ctrl+] or \"FNC1 as GS\"); \
             the data was read as if it were GS"
        ),
    )
    .at(at + pos);
    Some((fixed, e))
}

/// Host characters and the digit the scanner meant, per keyboard layout.
const LAYOUTS: &[(&str, &[(char, char)])] = &[
    (
        "French AZERTY",
        &[
            ('$', ']'),
            ('&', '1'),
            ('é', '2'),
            ('"', '3'),
            ('\'', '4'),
            ('(', '5'),
            ('-', '6'),
            ('è', '7'),
            ('_', '8'),
            ('ç', '9'),
            ('à', '0'),
            ('q', 'a'),
            ('a', 'q'),
            ('Q', 'A'),
            ('A', 'Q'),
            ('w', 'z'),
            ('z', 'w'),
            ('W', 'Z'),
            ('Z', 'W'),
        ],
    ),
    (
        "shifted digits (US)",
        &[
            ('!', '1'),
            ('@', '2'),
            ('#', '3'),
            ('$', '4'),
            ('%', '5'),
            ('^', '6'),
            ('&', '7'),
            ('*', '8'),
            ('(', '9'),
            (')', '0'),
        ],
    ),
    (
        "German QWERTZ (shifted)",
        &[
            ('!', '1'),
            ('"', '2'),
            ('§', '3'),
            ('$', '4'),
            ('%', '5'),
            ('&', '6'),
            ('/', '7'),
            ('(', '8'),
            (')', '9'),
            ('=', '0'),
        ],
    ),
];

fn remap(raw: &str, map: &[(char, char)]) -> String {
    raw.chars()
        .map(|c| {
            map.iter()
                .find(|(from, _)| *from == c)
                .map_or(c, |(_, to)| *to)
        })
        .collect()
}

/// True if the element string splits and every value passes its checks.
fn clean(raw: &str) -> bool {
    let (fields, err) = element::split_raw(raw, 0);
    err.is_none()
        && !fields.is_empty()
        && fields.iter().all(|f| {
            f.entry
                .is_some_and(|e| validate::check_value(e, &f.value).is_ok())
        })
}

/// True if the element string splits into known AIs (values unchecked).
fn splits(raw: &str) -> bool {
    let (fields, err) = element::split_raw(raw, 0);
    err.is_none() && !fields.is_empty()
}

/// Digits that arrived as another layout's symbols: repaired data and the error.
pub(crate) fn keyboard_layout(raw: &str, at: usize) -> Option<(String, Error)> {
    if raw.starts_with(|c: char| c.is_ascii_digit()) || raw.is_empty() {
        return None;
    }
    LAYOUTS.iter().find_map(|(name, map)| {
        let fixed = remap(raw, map);
        if !fixed.starts_with(|c: char| c.is_ascii_digit()) || !splits(&fixed) {
            return None;
        }
        let e = layout_error(raw, name, &fixed, at);
        Some((fixed, e))
    })
}

/// A whole scan, symbology identifier included, typed through another
/// keyboard layout (AZERTY turns `]d2` into `$dé`). Only a reading that then
/// passes every check is proposed, so real data is never rewritten.
pub(crate) fn keyboard_layout_whole(body: &str) -> Option<(String, Error)> {
    let other_form = |c: char| c.is_ascii_digit() || "](+=\u{1d}hH".contains(c);
    if body.starts_with(other_form) {
        return None;
    }
    LAYOUTS.iter().find_map(|(name, map)| {
        let fixed = remap(body, map);
        let data = match crate::symbology::Symbology::detect(fixed.as_bytes()) {
            Some((_, len)) if fixed.starts_with(']') => &fixed[len..],
            _ => fixed.as_str(),
        };
        if !data.starts_with(|c: char| c.is_ascii_digit()) || !clean(data) {
            return None;
        }
        let e = layout_error(body, name, &fixed, 0);
        Some((fixed, e))
    })
}

fn layout_error(seen: &str, layout: &str, fixed: &str, at: usize) -> Error {
    let shown: String = seen.chars().take(6).collect();
    Error::new(
        codes::KEYBOARD_LAYOUT,
        format!(
            "the scan starts {shown:?} where digits belong: the scanner types for a different \
             keyboard layout than this computer ({layout}). Set the scanner's keyboard country to \
             match the computer, or use a USB-COM/HID-POS interface; read as {:?}",
            fixed.replace(GS, "<GS>")
        ),
    )
    .at(at)
}

/// A symbology identifier whose letter came with its case flipped, e.g. `]D2`.
/// `]E0` is EAN-13 in its own right, so it counts as a flipped `]e0` only
/// when what follows is GS1 AI data rather than 13 digits.
pub(crate) fn flipped_symbology(id: &str, rest: &str) -> Option<&'static str> {
    match id {
        "]E0" if rest.len() > 13 && !rest.contains('|') && clean(&flip_case(rest)) => Some("]e0"),
        "]D2" => Some("]d2"),
        "]D1" => Some("]d1"),
        "]q3" => Some("]Q3"),
        "]q1" => Some("]Q1"),
        "]c1" => Some("]C1"),
        "]c0" => Some("]C0"),
        _ => None,
    }
}

/// Swap upper and lower case.
pub(crate) fn flip_case(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_uppercase() {
                c.to_ascii_lowercase()
            } else {
                c.to_ascii_uppercase()
            }
        })
        .collect()
}

/// The caps-lock error for a flipped symbology identifier.
pub(crate) fn caps_lock_error(seen: &str, meant: &str) -> Error {
    Error::new(
        codes::CAPS_LOCK,
        format!(
            "the symbology identifier arrived as {seen:?} instead of {meant:?}: caps lock is on, so \
             every letter in lot and serial has its case flipped. Turn caps lock off and scan \
             again; the data was read with the case flipped back"
        ),
    )
    .at(0)
}

/// `http://`/`https://` in any mix of case.
pub(crate) fn looks_like_uri_any_case(s: &str) -> bool {
    let head: String = s.chars().take(8).collect::<String>().to_ascii_lowercase();
    head.starts_with("http://") || head.starts_with("https://")
}

/// Mixed-case URI scheme (e.g. `hTTPS://`): typical of caps lock with shift.
pub(crate) fn mixed_case_uri(at: usize) -> Error {
    Error::new(
        codes::CAPS_LOCK,
        "the web address starts with mixed-case \"http\": caps lock or shift was on while the \
         scanner typed, so letters in the code may have the wrong case. Turn caps lock off and scan again",
    )
    .at(at)
}

/// A Digital Link typed all in capitals (`HTTPS://ID.GS1.ORG/...`): legal,
/// but the usual sign of caps lock, which also flips lot and serial letters.
pub(crate) fn shouting_uri(uri: &str) -> Option<String> {
    let host = uri.split("://").nth(1)?.split('/').next()?;
    let letters = host.bytes().filter(u8::is_ascii_alphabetic).count();
    (letters >= 4 && !host.bytes().any(|b| b.is_ascii_lowercase())).then(|| {
        "The web address arrived in capitals: if caps lock is on, letters in lot and serial \
         are flipped too. Turn caps lock off and scan again."
            .to_string()
    })
}

/// Explain why a raw element string stopped splitting.
pub(crate) fn explain_split_failure(
    raw: &str,
    at: usize,
    fields: &[Field],
    e: Error,
    hints: &mut Vec<String>,
) -> Error {
    let pos = e.position().unwrap_or(at).saturating_sub(at);
    let rest = raw.get(pos..).unwrap_or("");
    if fields.is_empty() && !raw.starts_with(|c: char| c.is_ascii_digit()) {
        return Error::new(
            codes::NOT_GS1,
            "this is not GS1 data (no Application Identifier at the start): scan the pack's \
             2D code (DataMatrix) or its GS1 barcode",
        )
        .at(at);
    }
    if e.code() == codes::UNKNOWN_AI && rest.len() < 2 {
        return Error::new(
            codes::TRUNCATED,
            "the scan ends in the middle of an Application Identifier: part of the code is \
             missing; scan again, holding the code fully in view",
        )
        .at(at + pos);
    }
    if e.code() == codes::UNKNOWN_AI
        && let Some(prev) = fields.last()
        && prev.entry.is_some_and(|x| x.fixed)
    {
        hints.push(format!(
            "after ({}) the data continues with {:?}, which is no known AI: the code may be damaged",
            prev.ai,
            rest.chars().take(4).collect::<String>()
        ));
    }
    e
}

/// Sharpen a value error with what the field's place in the scan says.
pub(crate) fn refine_value_error(f: &Field, is_last: bool, e: Error) -> Error {
    let Some(entry) = f.entry else { return e };
    if e.code() == codes::AI_EMPTY && is_last {
        return Error::new(
            codes::TRUNCATED,
            format!(
                "the scan ends right after ({}) {}, before its value: part of the code is missing; \
                 scan again, holding the code fully in view",
                f.ai, entry.title
            ),
        );
    }
    if e.code() != codes::AI_LENGTH {
        return e;
    }
    let len = f.value.len();
    if len < entry.min_len() && is_last {
        return Error::new(
            codes::TRUNCATED,
            format!(
                "the scan ends early: ({}) {} needs {} characters but only {len} arrived; \
                 scan again, holding the code fully in view",
                f.ai,
                entry.title,
                entry.min_len()
            ),
        )
        .at(len);
    }
    if len > entry.max_len() && !entry.fixed {
        return missing_separator(f, entry.max_len()).unwrap_or(e);
    }
    e
}

/// A variable-length value that ran into the next AI: find where a GS belongs.
fn missing_separator(f: &Field, max: usize) -> Option<Error> {
    let v = &f.value;
    let split = (1..=max.min(v.len().saturating_sub(2))).rev().find(|&p| {
        v.is_char_boundary(p)
            && ai::lookup_prefix(&v[p..]).is_some()
            && clean(&format!("{}{}{GS}{}", f.ai, &v[..p], &v[p..]))
    })?;
    let next = ai::lookup_prefix(&v[split..]).map_or("?", |e| e.ai);
    Some(
        Error::new(
            codes::MISSING_SEPARATOR,
            format!(
                "({}) is {} characters long, more than its maximum {max}: the separator (FNC1/GS) \
                 after ({}) {:?} is missing, so ({next}) ran into it. The barcode was printed \
                 without FNC1, or the scanner drops GS: check the scanner's GS setting, \
                 and report the label if it persists",
                f.ai,
                v.len(),
                f.ai,
                &v[..split]
            ),
        )
        .at(split),
    )
}

/// A variable-length value that ends with what reads as a whole
/// predefined-length AI absent from the scan (e.g. a lot ending "17271231"):
/// the sign of a separator missing in the barcode, worth a hint.
pub(crate) fn hidden_ai(f: &Field, all: &[Field]) -> Option<String> {
    let entry = f.entry?;
    if entry.fixed {
        return None;
    }
    let v = &f.value;
    // The longest predefined-length AI with its value is 20 characters: (00).
    let from = v.len().saturating_sub(20).max(1);
    (from..v.len().saturating_sub(3)).find_map(|p| {
        let rest = v.get(p..)?;
        let inner = ai::lookup_prefix(rest)?;
        let fits = inner.fixed
            && rest.len() == inner.ai.len() + inner.max_len()
            && !all.iter().any(|o| o.ai == inner.ai)
            && validate::check_value(inner, &rest[inner.ai.len()..]).is_ok();
        fits.then(|| {
            format!(
                "({}) {:?} ends with {:?}, which reads as ({}) {} {:?}: if the pack prints that \
                 separately, the barcode lacks the separator after ({}); check the scanner sends GS \
                 and compare with the printed text",
                f.ai,
                v,
                rest,
                inner.ai,
                inner.title,
                &rest[inner.ai.len()..],
                f.ai
            )
        })
    })
}

/// One line of advice for an error code, for the person at the scanner.
pub(crate) fn hint_for(e: &Error) -> Option<String> {
    let h = match e.code() {
        codes::EMPTY | codes::TRUNCATED => {
            "Scan again and hold the code steady until the scanner beeps."
        }
        codes::NOT_GS1 => "This is not a GS1 code: scan the pack's DataMatrix or GS1 barcode.",
        codes::SEPARATOR_SUBSTITUTED => {
            "Set the scanner to transmit GS (ASCII 29) for FNC1; it now sends a stand-in character."
        }
        codes::KEYBOARD_LAYOUT => {
            "Set the scanner's keyboard language to match this computer's layout."
        }
        codes::CAPS_LOCK => "Turn caps lock off, then scan again.",
        codes::MISSING_SEPARATOR => {
            "A field separator is missing: check the scanner sends GS; if it does, the label is misprinted."
        }
        codes::CHECK_DIGIT_TRANSPOSITION => {
            "Two digits look swapped: if the number was typed, re-key it; if scanned, report the label."
        }
        codes::CHECK_DIGIT => {
            "Scan again; if the check digit is still wrong, set the pack aside and report the label."
        }
        codes::INVALID_DATE => {
            "A date in the code is not a real date: scan again, then report the label."
        }
        codes::AI_REQUIRES | codes::AI_EXCLUDES | codes::AI_REPEATED | codes::DIGSIG_KEY => {
            "The code's fields do not belong together: scan the main pack code (GTIN with serial)."
        }
        codes::DIGITAL_LINK_COMPRESSED => {
            "Compressed Digital Links are not supported: scan the uncompressed code."
        }
        codes::DIGITAL_LINK | codes::DIGITAL_LINK_KEY => {
            "The web link in the code is not a valid GS1 Digital Link: scan the pack's DataMatrix instead."
        }
        codes::UNKNOWN_AI
        | codes::AI_LENGTH
        | codes::AI_CHARSET
        | codes::AI_EMPTY
        | codes::AI_CONTENT => {
            "The code's data does not follow the GS1 format: scan again; if it persists, report the label."
        }
        _ => "Scan again; if the problem stays, report the label.",
    };
    Some(h.to_string())
}
