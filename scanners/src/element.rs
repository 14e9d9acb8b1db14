//! GS1 element strings in their two spellings: the raw form a barcode holds
//! (AIs run together, GS after each variable-length value) and the bracketed
//! human-readable form `(01)...(21)...`. Splitting only: the values are
//! checked by `validate`.

use crate::ai::{self, AiEntry};
use crate::error::{Error, codes};

/// The group separator (ASCII 29) that stands for FNC1 between fields.
pub const GS: char = '\u{1d}';

/// One AI and its value, with where the AI started in the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Field {
    pub ai: String,
    pub value: String,
    /// Character position of the AI in the whole input.
    pub pos: usize,
    /// Character position of the value in the whole input.
    pub value_pos: usize,
    /// The dictionary entry, `None` for an unknown AI that was let through.
    pub entry: Option<&'static AiEntry>,
}

/// Split a raw element string (after any FNC1 in first position) into fields.
/// `base` is the position of `data` in the whole input, for diagnostics.
/// Stops at the first field it cannot split; the fields before it are kept.
pub(crate) fn split_raw(data: &str, base: usize) -> (Vec<Field>, Option<Error>) {
    split_raw_with(data, base, false)
}

/// As [`split_raw`]; `permit_unknown` lets through AIs missing from the
/// dictionary when their length follows from their first two digits.
pub(crate) fn split_raw_with(
    data: &str,
    base: usize,
    permit_unknown: bool,
) -> (Vec<Field>, Option<Error>) {
    let b = data.as_bytes();
    let mut fields = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == GS as u8 {
            // A separator after a predefined-length AI or at the very end is
            // tolerated; one before any AI or doubled is not.
            if fields.is_empty() || b[i - 1] == GS as u8 {
                let e = Error::new(codes::NOT_GS1, "a separator with no AI before it");
                return (fields, Some(e.at(base + i)));
            }
            i += 1;
            continue;
        }
        let rest = &data[i..];
        let Some(entry) = ai::lookup_prefix(rest) else {
            let len = rest.get(..2).and_then(ai::length_by_prefix);
            match len {
                Some(n)
                    if permit_unknown
                        && rest.len() >= n
                        && rest[..n].bytes().all(|c| c.is_ascii_digit()) =>
                {
                    let vend = data[i + n..].find(GS).map_or(b.len(), |p| i + n + p);
                    fields.push(Field {
                        ai: rest[..n].to_string(),
                        value: data[i + n..vend].to_string(),
                        pos: base + i,
                        value_pos: base + i + n,
                        entry: None,
                    });
                    i = vend;
                    continue;
                }
                _ => return (fields, Some(unknown_ai(rest, base + i))),
            }
        };
        let vstart = i + entry.ai.len();
        let vend = if entry.fixed {
            let want = vstart + entry.max_len();
            let gs = data[vstart..].find(GS).map_or(b.len(), |p| vstart + p);
            let mut end = want.min(gs).min(b.len());
            while !data.is_char_boundary(end) {
                end -= 1;
            }
            end
        } else {
            data[vstart..].find(GS).map_or(b.len(), |p| vstart + p)
        };
        fields.push(Field {
            ai: entry.ai.to_string(),
            value: data[vstart..vend].to_string(),
            pos: base + i,
            value_pos: base + vstart,
            entry: Some(entry),
        });
        i = vend;
    }
    (fields, None)
}

fn unknown_ai(rest: &str, pos: usize) -> Error {
    let shown: String = rest.chars().take(4).collect();
    let digits = rest.bytes().take(2).all(|c| c.is_ascii_digit()) && rest.len() >= 2;
    let msg = if digits {
        format!(
            "no GS1 Application Identifier starts {shown:?}: the data may be damaged, \
             or a separator is missing before it; re-scan the code"
        )
    } else {
        format!(
            "expected an Application Identifier (digits) but found {shown:?}: \
             the code is not GS1 data or was mangled on the way in"
        )
    };
    Error::new(codes::UNKNOWN_AI, msg).at(pos)
}

/// Split bracketed text `(01)09506000134352(10)ABC`. A literal `(` inside a
/// value may be written `\(`. Unknown AIs fail unless `permit_unknown`;
/// `spaced` also reads printed HRI, with spaces around the values.
pub(crate) fn split_bracketed(
    text: &str,
    base: usize,
    permit_unknown: bool,
    spaced: bool,
) -> Result<Vec<Field>, Error> {
    let b = text.as_bytes();
    let mut fields = Vec::new();
    let mut i = 0;
    if b.first() != Some(&b'(') {
        return Err(Error::new(
            codes::BRACKET_SYNTAX,
            "bracketed text must start with \"(AI)\"",
        )
        .at(base));
    }
    while i < b.len() {
        // b[i] == '('
        let close = text[i..].find(')').map(|p| i + p);
        let Some(close) = close else {
            return Err(
                Error::new(codes::BRACKET_SYNTAX, "\"(\" without a closing \")\"").at(base + i),
            );
        };
        let ai = &text[i + 1..close];
        if !(2..=4).contains(&ai.len()) || !ai.bytes().all(|c| c.is_ascii_digit()) {
            return Err(Error::new(
                codes::BRACKET_SYNTAX,
                format!("\"({ai})\" is not an Application Identifier: expected 2 to 4 digits in brackets"),
            )
            .at(base + i));
        }
        let entry = ai::lookup(ai);
        if entry.is_none() && !permit_unknown {
            return Err(Error::new(
                codes::UNKNOWN_AI,
                format!("({ai}) is not a GS1 Application Identifier; check the text"),
            )
            .at(base + i));
        }
        if entry.is_none() && ai::lookup_prefix(ai).is_some() {
            return Err(Error::new(
                codes::UNKNOWN_AI,
                format!("({ai}) is not a GS1 Application Identifier (it starts like a known one)"),
            )
            .at(base + i));
        }
        let vstart = close + 1;
        let mut value = String::new();
        let mut j = vstart;
        while j < b.len() {
            if b[j] == b'\\' && b.get(j + 1) == Some(&b'(') {
                value.push('(');
                j += 2;
            } else if b[j] == b'(' {
                break;
            } else {
                let c = text[j..].chars().next().unwrap_or(' ');
                value.push(c);
                j += c.len_utf8();
            }
        }
        let mut value_pos = base + vstart;
        if spaced {
            // Printed HRI puts spaces around values; GS1 data never holds a space.
            value_pos += value.len() - value.trim_start_matches(' ').len();
            value = value.trim_matches(' ').to_string();
        }
        fields.push(Field {
            ai: ai.to_string(),
            value,
            pos: base + i,
            value_pos,
            entry,
        });
        i = j;
    }
    Ok(fields)
}

/// Join AIs into a raw element string: GS after every value that is not of
/// predefined length, except the last. No leading FNC1.
pub(crate) fn join_raw<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let pairs: Vec<_> = pairs.into_iter().collect();
    let mut out = String::new();
    for (n, (ai, value)) in pairs.iter().enumerate() {
        out.push_str(ai);
        out.push_str(value);
        let fixed = ai::lookup(ai).is_some_and(|e| e.fixed);
        if !fixed && n + 1 < pairs.len() {
            out.push(GS);
        }
    }
    out
}

/// Bracketed human-readable text, `(` in values escaped as `\(`.
pub(crate) fn join_bracketed<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::new();
    for (ai, value) in pairs {
        out.push('(');
        out.push_str(ai);
        out.push(')');
        out.push_str(&value.replace('(', "\\("));
    }
    out
}
