//! A reader for the GS1 Barcode Syntax Dictionary text format.
//!
//! The crate does not read the dictionary at run time: `tests/ai_table.rs`
//! uses this reader to (re)generate the committed `src/ai_table.rs`, and the
//! conformance tests check it against GS1's own parser vectors. Each line is
//! `AIs [flags] components [attributes] [# title]`; see the dictionary's header.

use crate::lint::Linter;

/// One component spec, e.g. `N13,csum,gcppos1` or `[X..17]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentSpec {
    /// `N`, `X`, `Y` or `Z`.
    pub cset: char,
    /// Minimum length.
    pub min: u8,
    /// Maximum length.
    pub max: u8,
    /// Written in brackets: may be left out at the end of the data.
    pub optional: bool,
    /// Linter names, in order.
    pub linters: Vec<String>,
}

/// One AI entry (a range line gives one entry per AI).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntrySpec {
    /// The AI digits.
    pub ai: String,
    /// `*` flag: predefined length, no FNC1 needed after it.
    pub fixed: bool,
    /// `?` flag: allowed as a Digital Link data attribute.
    pub dl_attr: bool,
    /// The components.
    pub components: Vec<ComponentSpec>,
    /// Attributes as written, space separated (e.g. `req=01 ex=02`).
    pub attrs: Vec<String>,
    /// Title (after `#`), trimmed.
    pub title: String,
}

impl EntrySpec {
    /// Values of every attribute named `key` (`req`, `ex`, `dlpkey`); a bare key gives "".
    pub fn attr_values<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.attrs
            .iter()
            .filter_map(move |a| match a.split_once('=') {
                Some((k, v)) if k == key => Some(v),
                None if a == key => Some(""),
                _ => None,
            })
    }
}

/// Why a dictionary line was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("syntax dictionary line refused: {0}")]
pub struct DictionaryError(pub String);

fn err<T>(msg: impl Into<String>) -> Result<T, DictionaryError> {
    Err(DictionaryError(msg.into()))
}

const MAX_COMPONENTS: usize = 5;
const MAX_LINTERS: usize = 3;
const MAX_REQ: usize = 5;
const MAX_TITLE: usize = 90;

/// Parse one dictionary line: `Ok(vec![])` for a blank or comment line.
pub fn parse_line(line: &str) -> Result<Vec<EntrySpec>, DictionaryError> {
    let (body, title) = match line.split_once('#') {
        Some((b, t)) => (b, Some(t.trim())),
        None => (line, None),
    };
    let mut words = body.split_whitespace();
    let Some(ais) = words.next() else {
        return if title.is_some() || line.trim().is_empty() {
            Ok(Vec::new())
        } else {
            err("empty")
        };
    };
    let title = title.unwrap_or("");
    if title.len() > MAX_TITLE || title.contains('@') {
        return err("bad title");
    }
    let (first, last) = parse_ai_range(ais)?;
    let mut fixed = false;
    let mut dl_attr = false;
    let mut components = Vec::new();
    let mut attrs = Vec::new();
    for w in words {
        let lead = w.as_bytes()[0];
        if components.is_empty()
            && attrs.is_empty()
            && !lead.is_ascii_alphanumeric()
            && lead != b'['
        {
            // Flags: only `*` and `?` mean something; the rest are reserved.
            fixed |= w.contains('*');
            dl_attr |= w.contains('?');
        } else if attrs.is_empty() && (lead == b'[' || lead.is_ascii_uppercase()) {
            components.push(parse_component(w)?);
        } else {
            attrs.push(parse_attr(w)?);
        }
    }
    check_components(&components, fixed)?;
    if attrs.iter().filter(|a| a.starts_with("req=")).count() > MAX_REQ {
        return err("too many req attributes");
    }
    Ok((first..=last)
        .map(|n| EntrySpec {
            ai: format!("{n:0width$}", width = ais_width(ais)),
            fixed,
            dl_attr,
            components: components.clone(),
            attrs: attrs.clone(),
            title: title.to_string(),
        })
        .collect())
}

fn ais_width(ais: &str) -> usize {
    ais.split('-').next().map_or(2, str::len)
}

fn parse_ai_range(ais: &str) -> Result<(u32, u32), DictionaryError> {
    let is_ai = |s: &str| (2..=4).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
    let (a, b) = ais.split_once('-').unwrap_or((ais, ais));
    if !is_ai(a) || !is_ai(b) || a.len() != b.len() || a[..a.len() - 1] != b[..b.len() - 1] {
        return err(format!("bad AI or range {ais}"));
    }
    let (a, b) = (a.parse::<u32>().unwrap_or(0), b.parse::<u32>().unwrap_or(0));
    if a > b {
        return err("range runs backwards");
    }
    Ok((a, b))
}

fn parse_len(s: &str) -> Result<u8, DictionaryError> {
    if s.is_empty() || s.len() > 2 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return err(format!("bad length {s}"));
    }
    match s.parse::<u8>() {
        Ok(n) if n > 0 => Ok(n),
        _ => err(format!("bad length {s}")),
    }
}

fn parse_component(w: &str) -> Result<ComponentSpec, DictionaryError> {
    let mut parts = w.split(',');
    let head = parts.next().unwrap_or("");
    let (optional, head) = match head.strip_prefix('[') {
        Some(inner) => match inner.strip_suffix(']') {
            Some(h) => (true, h),
            None => return err("unclosed ["),
        },
        None => (false, head),
    };
    let mut chars = head.chars();
    let cset = chars.next().unwrap_or(' ');
    if !matches!(cset, 'N' | 'X' | 'Y' | 'Z') {
        return err(format!("bad character set {cset}"));
    }
    let len = chars.as_str();
    let (min, max) = match len.strip_prefix("..") {
        Some(m) => (1, parse_len(m)?),
        None => {
            let n = parse_len(len)?;
            (n, n)
        }
    };
    let linters: Vec<String> = parts.map(str::to_string).collect();
    if linters.len() > MAX_LINTERS {
        return err("too many linters");
    }
    if let Some(bad) = linters.iter().find(|l| Linter::from_name(l).is_none()) {
        return err(format!("unknown linter {bad}"));
    }
    Ok(ComponentSpec {
        cset,
        min,
        max,
        optional,
        linters,
    })
}

fn check_components(c: &[ComponentSpec], fixed: bool) -> Result<(), DictionaryError> {
    if c.is_empty() {
        return err("no components");
    }
    if c.len() > MAX_COMPONENTS {
        return err("too many components");
    }
    if c[..c.len() - 1].iter().any(|x| x.min != x.max) {
        return err("only the last component may vary in length");
    }
    if let Some(first_opt) = c.iter().position(|x| x.optional)
        && c[first_opt..].iter().any(|x| !x.optional)
    {
        return err("a mandatory component follows an optional one");
    }
    if fixed && c.iter().any(|x| x.optional) {
        return err("predefined-length AI with an optional component");
    }
    if fixed && c.iter().any(|x| x.min != x.max) && c.len() > 1 {
        return err("predefined-length AI with variable components");
    }
    if fixed && c.len() == 1 && c[0].min != c[0].max && c[0].cset != 'N' {
        return err("predefined-length AI with variable length");
    }
    Ok(())
}

fn is_ai_pattern(p: &str) -> bool {
    let digits = p.bytes().take_while(u8::is_ascii_digit).count();
    (2..=4).contains(&p.len()) && digits >= 1 && p.bytes().skip(digits).all(|b| b == b'n')
}

fn parse_attr(w: &str) -> Result<String, DictionaryError> {
    let (key, value) = w.split_once('=').unwrap_or((w, ""));
    let list_ok = |sep: &[char]| !value.is_empty() && value.split(sep).all(is_ai_pattern);
    let ok = match key {
        "req" => list_ok(&[',', '+']),
        "ex" => list_ok(&[',']),
        "dlpkey" => value.is_empty() && !w.contains('=') || list_ok(&[',', '|']),
        _ => false,
    };
    if ok {
        Ok(w.to_string())
    } else {
        err(format!("bad attribute {w}"))
    }
}

/// Parse a whole dictionary: entries must be strictly ascending without overlaps.
pub fn parse(text: &str) -> Result<Vec<EntrySpec>, DictionaryError> {
    let mut out: Vec<EntrySpec> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let entries =
            parse_line(line).map_err(|e| DictionaryError(format!("line {}: {}", n + 1, e.0)))?;
        for e in entries {
            if let Some(prev) = out.last()
                && prev.ai >= e.ai
            {
                return err(format!("line {}: AI {} out of order", n + 1, e.ai));
            }
            out.push(e);
        }
    }
    Ok(out)
}
