//! From the bytes a scanner sent to one [`Scan`]: strip the line ending and
//! the symbology identifier, recognise the form (element string, bracketed
//! text, Digital Link, EAN, HIBCC, ICCBBA), split into AIs, validate them and
//! turn what is wrong into diagnostics and hints.

use std::borrow::Cow;

use crate::ai;
use crate::check_digit;
use crate::diagnose;
use crate::digital_link::{self, DlOptions};
use crate::element::{self, Field, GS};
use crate::error::{Diagnostic, Error, codes};
use crate::scan::{AiValue, DataFormat, Scan};
use crate::symbology::Symbology;
use crate::udi;
use crate::validate::{self, Rules};

/// Bytes as text: UTF-8 when it is, else each byte as one Latin-1 character.
pub(crate) fn decode(input: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(input) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => Cow::Owned(input.iter().map(|&b| char::from(b)).collect()),
    }
}

/// Parse what a scanner emitted. Never panics; see [`Scan`].
pub fn parse(input: &[u8]) -> Scan {
    let text = decode(input);
    let trimmed_start = text.len() - text.trim_start_matches(is_padding).len();
    let body = text.trim_matches(is_padding);
    let mut scan = Scan {
        valid: false,
        symbology: None,
        format: DataFormat::Unknown,
        ais: Vec::new(),
        errors: Vec::new(),
        hints: Vec::new(),
        udi: None,
    };
    let mut errors: Vec<Error> = Vec::new();
    if body.is_empty() {
        errors.push(Error::new(
            codes::EMPTY,
            "nothing was scanned; scan the code again",
        ));
        return finish(scan, errors, Vec::new());
    }
    let mut at = trimmed_start;
    let layout_fixed = diagnose::keyboard_layout_whole(body).map(|(fixed, e)| {
        errors.push(e.at(at));
        fixed
    });
    let body = layout_fixed.as_deref().unwrap_or(body);
    let mut data = Cow::Borrowed(body);
    if body.starts_with(']') {
        match Symbology::detect(body.as_bytes()) {
            Some((sym, len)) => {
                if let Some(fixed) = diagnose::flipped_symbology(&body[..len], &body[len..]) {
                    errors.push(diagnose::caps_lock_error(&body[..len], fixed));
                    data = Cow::Owned(diagnose::flip_case(&body[len..]));
                    scan.symbology = Symbology::detect(fixed.as_bytes()).map(|(s, _)| s);
                } else {
                    data = Cow::Borrowed(&body[len..]);
                    scan.symbology = Some(sym);
                }
                at += len;
            }
            None => {
                errors.push(
                    Error::new(
                        codes::SYMBOLOGY,
                        "the data starts with \"]\" but no valid symbology identifier (]d2, ]Q3, ]C1, ]e0 ...)",
                    )
                    .at(at),
                );
                return finish(scan, errors, Vec::new());
            }
        }
    }
    let (format, fields) = split(&data, at, &scan.symbology, &mut errors, &mut scan.hints);
    scan.format = format;
    if matches!(format, DataFormat::Hibcc | DataFormat::Iccbba) {
        scan.udi = match format {
            DataFormat::Hibcc => udi::hibcc(&data, at).map_err(|e| errors.push(e)).ok(),
            _ => udi::iccbba(&data, at).map_err(|e| errors.push(e)).ok(),
        };
        let mut scan = finish(scan, errors, Vec::new());
        advise(&mut scan, Vec::new());
        return scan;
    }
    if errors
        .iter()
        .all(|e| e.code() != codes::NOT_GS1 && e.code() != codes::SYMBOLOGY)
    {
        check_fields(&fields, &mut errors);
    }
    scan.udi = udi::gs1(&fields);
    let hidden: Vec<String> = if errors.is_empty() {
        fields
            .iter()
            .filter_map(|f| diagnose::hidden_ai(f, &fields))
            .collect()
    } else {
        Vec::new()
    };
    let mut scan = finish(scan, errors, fields);
    advise(&mut scan, hidden);
    scan
}

fn is_padding(c: char) -> bool {
    c.is_ascii_whitespace() && c != '\u{1d}'
}

/// Recognise the form and split it into fields.
fn split(
    data: &str,
    at: usize,
    sym: &Option<Symbology>,
    errors: &mut Vec<Error>,
    hints: &mut Vec<String>,
) -> (DataFormat, Vec<Field>) {
    if data.is_empty() {
        errors.push(
            Error::new(
                codes::TRUNCATED,
                "the scan holds a symbology identifier but no data; scan again",
            )
            .at(at),
        );
        return (DataFormat::Unknown, Vec::new());
    }
    if digital_link::looks_like_uri(data) || diagnose::looks_like_uri_any_case(data) {
        let uri: Cow<'_, str> = if digital_link::looks_like_uri(data) {
            Cow::Borrowed(data)
        } else {
            // A mixed-case scheme: read on with it lower-cased, but report it.
            errors.push(diagnose::mixed_case_uri(at));
            let scheme_end = data.find("://").unwrap_or(0);
            Cow::Owned(format!(
                "{}{}",
                data[..scheme_end].to_ascii_lowercase(),
                &data[scheme_end..]
            ))
        };
        if let Some(h) = diagnose::shouting_uri(&uri) {
            hints.push(h);
        }
        let opts = DlOptions {
            zero_suppressed_gtin: true,
            lax_attributes: false,
            convenience_alphas: true,
        };
        return match digital_link::parse(&uri, at, opts) {
            Ok(f) => (DataFormat::DigitalLink, f),
            Err(e) => {
                errors.push(e);
                (DataFormat::DigitalLink, Vec::new())
            }
        };
    }
    if data.starts_with('(') {
        return match element::split_bracketed(data, at, false, true) {
            Ok(f) => (DataFormat::Bracketed, f),
            Err(e) => {
                errors.push(e);
                (DataFormat::Bracketed, Vec::new())
            }
        };
    }
    if data.starts_with('+') {
        return (DataFormat::Hibcc, Vec::new());
    }
    if udi::looks_like_iccbba(data) {
        return (DataFormat::Iccbba, Vec::new());
    }
    if let Some(f) = ean(data, at, sym, errors) {
        return (DataFormat::Ean, f);
    }
    (
        DataFormat::ElementString,
        raw_element_string(data, at, errors, hints),
    )
}

/// A raw element string: repair keyboard-layout and separator faults
/// (reporting them), then split into fields.
fn raw_element_string(
    data: &str,
    at: usize,
    errors: &mut Vec<Error>,
    hints: &mut Vec<String>,
) -> Vec<Field> {
    let mut raw = data.strip_prefix(GS).unwrap_or(data).to_string();
    let mut raw_at = at + (data.len() - raw.len());
    if let Some((fixed, err)) = diagnose::keyboard_layout(&raw, raw_at) {
        errors.push(err);
        raw = fixed;
    }
    if raw.starts_with('^') && !raw[1..].contains('^') {
        // `^` for FNC1 in first position is GS1's own notation for element strings.
        raw.remove(0);
        raw_at += 1;
    }
    if let Some((fixed, err)) = diagnose::separator_stand_ins(&raw, raw_at) {
        errors.push(err);
        raw = fixed;
    }
    if raw.starts_with(GS) {
        raw.remove(0);
        raw_at += 1;
    }
    let (fields, err) = element::split_raw(&raw, raw_at);
    if let Some(e) = err {
        let e = diagnose::explain_split_failure(&raw, raw_at, &fields, e, hints);
        errors.push(e);
    }
    fields
}

/// EAN-13/EAN-8/UPC-A/ITF-14 numbers: the whole scan is one GTIN.
fn ean(
    data: &str,
    at: usize,
    sym: &Option<Symbology>,
    errors: &mut Vec<Error>,
) -> Option<Vec<Field>> {
    let is_ean_sym = matches!(sym, Some(Symbology::Ean13 | Symbology::Ean8));
    let bare_digits = sym.is_none() && data.bytes().all(|b| b.is_ascii_digit());
    if !is_ean_sym && !bare_digits {
        return None;
    }
    let (primary, composite) = match data.split_once("|]e0") {
        Some((p, c)) => (p, Some(c)),
        None => (data, None),
    };
    let digits = primary.bytes().all(|b| b.is_ascii_digit());
    let plausible = digits
        && match sym {
            Some(Symbology::Ean13) => primary.len() == 13,
            Some(Symbology::Ean8) => primary.len() == 8,
            _ => matches!(primary.len(), 8 | 12 | 13 | 14),
        };
    if !(is_ean_sym || (sym.is_none() && plausible && check_digit::mod10_valid(primary))) {
        return None;
    }
    if !plausible {
        errors.push(
            Error::new(
                codes::AI_LENGTH,
                format!("an EAN/UPC scan must be 8, 12 or 13 digits, got {primary:?}; scan again"),
            )
            .at(at),
        );
        return Some(Vec::new());
    }
    let entry = ai::lookup("01")?;
    let mut fields = vec![Field {
        ai: "01".to_string(),
        value: format!("{primary:0>14}"),
        pos: at,
        value_pos: at,
        entry: Some(entry),
    }];
    if let Some(cc) = composite {
        let cc_at = at + primary.len() + 4;
        let (more, err) = element::split_raw(cc, cc_at);
        fields.extend(more);
        if let Some(e) = err {
            errors.push(e);
        }
    }
    Some(fields)
}

/// Per-value checks, then the rules between AIs.
fn check_fields(fields: &[Field], errors: &mut Vec<Error>) {
    let last = fields.len().saturating_sub(1);
    for (n, f) in fields.iter().enumerate() {
        let Some(entry) = f.entry else { continue };
        if let Err(e) = validate::check_value(entry, &f.value) {
            let e = diagnose::refine_value_error(f, n == last, e);
            errors.push(e.shifted(f.value_pos));
        }
    }
    if errors.is_empty() {
        errors.extend(validate::check_associations(fields, Rules::ALL));
    }
}

/// Advice that does not make the scan invalid: an AI that seems to hide in
/// a variable-length value, and what a device code was read as.
fn advise(scan: &mut Scan, hidden: Vec<String>) {
    scan.hints.extend(hidden);
    if let Some(udi) = &scan.udi
        && udi.issuer != udi::Issuer::Gs1
    {
        let parts: Vec<String> = udi
            .fields
            .iter()
            .chain(&udi.pi)
            .map(|x| format!("{} {}", x.name, x.value))
            .collect();
        scan.hints.push(format!(
            "{} device code read: device identifier {:?}; {}",
            udi.issuer.name(),
            udi.di,
            parts.join(", ")
        ));
    }
}

fn finish(mut scan: Scan, errors: Vec<Error>, fields: Vec<Field>) -> Scan {
    scan.ais = fields
        .into_iter()
        .map(|f| AiValue {
            ai: f.ai,
            value: f.value,
        })
        .collect();
    for e in &errors {
        if let Some(h) = diagnose::hint_for(e)
            && !scan.hints.contains(&h)
        {
            scan.hints.push(h);
        }
    }
    scan.errors = errors.into_iter().map(Diagnostic::from).collect();
    scan.valid = scan.errors.is_empty() && !scan.ais.is_empty();
    if scan.ais.is_empty() && scan.errors.is_empty() && scan.udi.is_some() {
        scan.valid = true;
    }
    scan
}
