//! GS1 Digital Link URIs, both ways: reading one (any host, a path stem
//! before the key, key qualifiers in their fixed order, query attributes,
//! percent-encoding) into AIs, and making the URI from AIs.
//!
//! Compressed Digital Link URIs are refused with
//! [`DIGITAL_LINK_COMPRESSED`](crate::codes::DIGITAL_LINK_COMPRESSED):
//! the uncompressed form is what GS1 resolvers and this ledger exchange.

mod escape;

pub use escape::{escape_path, escape_query, unescape_path, unescape_query};

use crate::ai::{self, AiEntry};
use crate::element::Field;
use crate::error::{Error, codes};

/// The base of canonical GS1 Digital Link URIs.
pub const CANONICAL_BASE: &str = "https://id.gs1.org";

/// Reading policy for Digital Link URIs.
#[derive(Debug, Clone, Copy, Default)]
pub struct DlOptions {
    /// Accept GTIN-8/12/13 in `01` and left-pad them to 14 digits.
    pub zero_suppressed_gtin: bool,
    /// Accept numeric query parameters that are not known AIs, and AIs not
    /// flagged as Digital Link data attributes.
    pub lax_attributes: bool,
    /// Accept the GS1 Digital Link 1.x short names for path keys (`/gtin/`, `/ser/` ...).
    pub convenience_alphas: bool,
}

/// GS1 Digital Link 1.x short names of path AIs ("convenience alphas").
const CONVENIENCE_ALPHAS: &[(&str, &str)] = &[
    ("gtin", "01"),
    ("itip", "8006"),
    ("cpv", "22"),
    ("lot", "10"),
    ("ser", "21"),
    ("sscc", "00"),
    ("gln", "414"),
    ("glnx", "254"),
    ("party", "417"),
    ("gsrnp", "8017"),
    ("gsrn", "8018"),
    ("srin", "8019"),
    ("gcn", "255"),
    ("gdti", "253"),
    ("ginc", "401"),
    ("gsin", "402"),
    ("grai", "8003"),
    ("giai", "8004"),
    ("cpid", "8010"),
    ("cpsn", "8011"),
    ("gmn", "8013"),
];

/// The AI a DL 1.x short name stands for.
fn convenience_alpha(name: &str) -> Option<&'static str> {
    CONVENIENCE_ALPHAS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, ai)| *ai)
}

fn dl_err(msg: impl Into<String>) -> Error {
    Error::new(codes::DIGITAL_LINK, msg)
}

/// True if `s` starts like a web URI (`http://` or `https://`, one case).
pub fn looks_like_uri(s: &str) -> bool {
    ["http://", "https://", "HTTP://", "HTTPS://"]
        .iter()
        .any(|p| s.starts_with(p))
}

/// Read a Digital Link URI into fields (path AIs, then query AIs, in URI order).
/// Values are checked for characters only by the caller's validation.
pub(crate) fn parse(uri: &str, base: usize, opts: DlOptions) -> Result<Vec<Field>, Error> {
    let scheme_len = ["http://", "https://", "HTTP://", "HTTPS://"]
        .iter()
        .find(|p| uri.starts_with(*p))
        .map(|p| p.len())
        .ok_or_else(|| dl_err("a Digital Link starts with http:// or https://").at(base))?;
    let rest = &uri[scheme_len..];
    let rest = rest.split_once('#').map_or(rest, |(r, _)| r);
    let (before_query, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (host, path) = match before_query.find('/') {
        Some(p) => before_query.split_at(p),
        None => return Err(dl_err("the URI has no path: no GS1 identifier in it").at(base)),
    };
    check_host(host).map_err(|e| e.at(base + scheme_len))?;
    let path_at = base + scheme_len + host.len();
    if let Some(p) = path.bytes().position(|b| !is_uri_char(b)) {
        return Err(dl_err(format!(
            "character {:?} is not allowed in a URI path; the scan may be garbled",
            path[p..].chars().next().unwrap_or(' ')
        ))
        .at(path_at + p));
    }
    let segments: Vec<&str> = path[1..].split('/').collect();
    // AI names as written, or their numbers for DL 1.x short names (/gtin/).
    let names: Vec<&str> = segments
        .iter()
        .map(|s| match opts.convenience_alphas {
            true => convenience_alpha(s).unwrap_or(s),
            false => s,
        })
        .collect();
    let start = find_key(&names).ok_or_else(|| compressed_or(&segments).at(path_at))?;
    let mut fields = Vec::new();
    let mut pos = path_at + 1 + segments[..start].iter().map(|s| s.len() + 1).sum::<usize>();
    for (pair, written) in names[start..].chunks(2).zip(segments[start..].chunks(2)) {
        let (ai, raw) = (pair[0], pair[1]);
        let advance = written[0].len() + raw.len() + 2;
        let entry = ai::lookup(ai)
            .ok_or_else(|| dl_err(format!("/{ai}/ is not a GS1 Application Identifier")).at(pos))?;
        let value = unescape_path(raw).map_err(|e| e.shifted(pos + ai.len() + 1))?;
        fields.push(field(entry, value, pos, opts)?);
        pos += advance;
    }
    check_path_order(&fields).map_err(|e| e.at(path_at))?;
    let path_count = fields.len();
    let query_at = path_at + path.len() + 1;
    let mut at = query_at;
    for param in query.split('&') {
        let here = at;
        at += param.len() + 1;
        let Some((k, raw)) = param.split_once('=') else {
            continue; // empty or a singleton: not GS1 data
        };
        if k.is_empty() || !k.bytes().all(|b| b.is_ascii_digit()) {
            continue; // a non-AI parameter is ignored
        }
        let entry = ai::lookup(k);
        let value = unescape_query(raw).map_err(|e| e.shifted(here + k.len() + 1))?;
        match entry {
            Some(e) if e.dl_attr || opts.lax_attributes => {
                fields.push(field(e, value, here, opts)?)
            }
            Some(_) => {
                return Err(
                    dl_err(format!("({k}) may not be a Digital Link query attribute")).at(here),
                );
            }
            None if opts.lax_attributes && !value.is_empty() && (2..=4).contains(&k.len()) => {
                fields.push(Field {
                    ai: k.to_string(),
                    value,
                    pos: here,
                    value_pos: here + k.len() + 1,
                    entry: None,
                })
            }
            None => {
                return Err(dl_err(format!(
                    "query parameter {k} is not a GS1 Application Identifier"
                ))
                .at(here));
            }
        }
    }
    check_query(&fields, path_count).map_err(|e| e.at(query_at))?;
    Ok(fields)
}

fn field(
    entry: &'static AiEntry,
    mut value: String,
    pos: usize,
    opts: DlOptions,
) -> Result<Field, Error> {
    if value.is_empty() {
        return Err(dl_err(format!("({}) has an empty value", entry.ai)).at(pos));
    }
    if value.contains('\0') {
        return Err(dl_err(format!("({}) holds a NUL character", entry.ai)).at(pos));
    }
    if entry.ai == "01" && opts.zero_suppressed_gtin && matches!(value.len(), 8 | 12 | 13) {
        value = format!("{value:0>14}");
    }
    Ok(Field {
        ai: entry.ai.to_string(),
        value,
        pos,
        value_pos: pos + entry.ai.len() + 1,
        entry: Some(entry),
    })
}

/// The error for a path with no GS1 key: a compressed URI gets its own code.
fn compressed_or(segments: &[&str]) -> Error {
    let last = segments.last().copied().unwrap_or("");
    let compressed = last.len() >= 8
        && last.bytes().any(|b| b.is_ascii_uppercase())
        && last.bytes().all(crate::lint::is_cset64);
    // A key path cut off after an AI: ".../01" or ".../01/<GTIN>/21".
    let before = &segments[..segments.len().saturating_sub(1)];
    let cut_short =
        ai::lookup(last).is_some_and(|e| e.dlpkey.is_some() || find_key(before).is_some());
    if cut_short && !last.is_empty() {
        Error::new(
            codes::TRUNCATED,
            format!(
                "the web address ends after /{last}/ without its value: the scan is cut short; scan again"
            ),
        )
    } else if compressed {
        Error::new(
            codes::DIGITAL_LINK_COMPRESSED,
            "this looks like a compressed GS1 Digital Link, which is not supported; \
             print or ask for the uncompressed URI (/01/<GTIN>/...)",
        )
    } else {
        dl_err("no GS1 primary key (e.g. /01/<GTIN>) in the URI path")
    }
}

/// Host: a name, IPv4 or `[IPv6]`, optionally `:port`.
fn check_host(host: &str) -> Result<(), Error> {
    let bad = || dl_err(format!("{host:?} is not a valid host name"));
    let name = if let Some(v6) = host.strip_prefix('[') {
        let (addr, after) = v6.split_once(']').ok_or_else(bad)?;
        if addr.is_empty()
            || !addr
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        {
            return Err(bad());
        }
        if !after.is_empty()
            && !after
                .strip_prefix(':')
                .is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(bad());
        }
        return Ok(());
    } else {
        match host.split_once(':') {
            Some((n, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => n,
            Some(_) => return Err(bad()),
            None => host,
        }
    };
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    {
        return Err(bad());
    }
    Ok(())
}

/// Characters allowed unescaped in a URI path (RFC 3986 pchar and `/`).
fn is_uri_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/%".contains(&b)
}

/// Index of the path segment where the GS1 key starts: the rightmost key AI
/// followed by an odd number of segments.
fn find_key(segments: &[&str]) -> Option<usize> {
    (0..segments.len())
        .rev()
        .filter(|&i| (segments.len() - i).is_multiple_of(2))
        .find(|&i| ai::lookup(segments[i]).is_some_and(|e| e.dlpkey.is_some()))
}

/// The qualifier sequences of `key` that the path qualifiers fit, in order.
fn fitting<'a>(key: &'a AiEntry, qualifiers: &[&str]) -> Vec<&'a [&'static str]> {
    let alts: &[&[&str]] = key.dlpkey.unwrap_or(&[]);
    let mut out: Vec<&[&str]> = alts
        .iter()
        .copied()
        .filter(|alt| is_subsequence(qualifiers, alt))
        .collect();
    if alts.is_empty() && qualifiers.is_empty() {
        out.push(&[]);
    }
    out
}

/// The query parameters of a Digital Link that are not AIs (`linkType=...`,
/// singletons), in URI order: what a resolver may use and the AI data ignores.
pub fn ignored_query_params(uri: &str) -> Vec<String> {
    let rest = uri.split_once('#').map_or(uri, |(r, _)| r);
    let Some((_, query)) = rest.split_once('?') else {
        return Vec::new();
    };
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .filter(|p| {
            let key = p.split('=').next().unwrap_or("");
            !(p.contains('=') && !key.is_empty() && key.bytes().all(|b| b.is_ascii_digit()))
        })
        .map(str::to_string)
        .collect()
}

/// True if `ais` (key first, then qualifiers) is a path GS1 Digital Link allows.
pub fn valid_path_sequence(ais: &[&str]) -> bool {
    match ais.split_first() {
        Some((key, qualifiers)) => ai::lookup(key)
            .filter(|e| e.dlpkey.is_some())
            .is_some_and(|e| !fitting(e, qualifiers).is_empty()),
        None => false,
    }
}

fn is_subsequence(seq: &[&str], alt: &[&str]) -> bool {
    let mut it = alt.iter();
    seq.iter().all(|q| it.any(|a| a == q))
}

fn check_path_order(fields: &[Field]) -> Result<(), Error> {
    let Some(key) = fields[0].entry else {
        return Err(dl_err("no GS1 key"));
    };
    let qualifiers: Vec<&str> = fields[1..].iter().map(|f| f.ai.as_str()).collect();
    if fitting(key, &qualifiers).is_empty() {
        let alts: Vec<String> = key
            .dlpkey
            .unwrap_or(&[])
            .iter()
            .map(|a| a.iter().map(|q| format!("/{q}")).collect::<String>())
            .collect();
        let allowed = if alts.is_empty() {
            "none".to_string()
        } else {
            alts.join(" or ")
        };
        return Err(Error::new(
            codes::DIGITAL_LINK_KEY,
            format!(
                "after /{}/ the path may only hold the qualifiers {allowed}, in that order",
                key.ai
            ),
        ));
    }
    Ok(())
}

fn check_query(fields: &[Field], path_count: usize) -> Result<(), Error> {
    for (n, f) in fields.iter().enumerate() {
        if fields[..n].iter().any(|o| o.ai == f.ai) {
            return Err(dl_err(format!("({}) appears twice in the URI", f.ai)));
        }
    }
    let Some(key) = fields[0].entry else {
        return Ok(());
    };
    let qualifiers: Vec<&str> = fields[1..path_count]
        .iter()
        .map(|f| f.ai.as_str())
        .collect();
    let alts = fitting(key, &qualifiers);
    if let Some(f) = fields[path_count..]
        .iter()
        .find(|f| alts.iter().any(|alt| alt.contains(&f.ai.as_str())))
    {
        return Err(Error::new(
            codes::DIGITAL_LINK_KEY,
            format!(
                "({}) qualifies ({}) and belongs in the path (/{}/.../{}/...), not the query",
                f.ai, key.ai, key.ai, f.ai
            ),
        ));
    }
    Ok(())
}

/// Build a Digital Link URI from AIs, on `base` (default [`CANONICAL_BASE`]).
/// The first primary key present goes in the path with its qualifiers in the
/// dictionary's order; every other AI becomes a query attribute in input order.
pub fn build(pairs: &[(&str, &str)], base: Option<&str>) -> Result<String, Error> {
    build_with(pairs, base, false)
}

/// The canonical Digital Link of these AIs: base `https://id.gs1.org`, the
/// key and its qualifiers in their fixed order, then the query attributes
/// sorted by AI, so one set of AIs always gives one URI.
pub fn canonical(pairs: &[(&str, &str)]) -> Result<String, Error> {
    let uri = build(pairs, None)?;
    let Some((path, query)) = uri.split_once('?') else {
        return Ok(uri);
    };
    let mut params: Vec<&str> = query.split('&').collect();
    params.sort_by_key(|p| p.split('=').next().unwrap_or(""));
    Ok(format!("{path}?{}", params.join("&")))
}

/// As [`build`]; `lax` lets any AI, known or not, be a query attribute.
pub fn build_with(pairs: &[(&str, &str)], base: Option<&str>, lax: bool) -> Result<String, Error> {
    let mut uniq: Vec<(&str, &str)> = Vec::new();
    for &(a, v) in pairs {
        if !uniq.contains(&(a, v)) {
            uniq.push((a, v));
        }
    }
    let key_at = uniq
        .iter()
        .position(|(a, _)| ai::lookup(a).is_some_and(|e| e.dlpkey.is_some()))
        .ok_or_else(|| {
            Error::new(
                codes::DIGITAL_LINK_KEY,
                "no GS1 primary key (GTIN, SSCC, GLN, ...) to put in a Digital Link",
            )
        })?;
    let (key_ai, key_value) = uniq[key_at];
    let key = ai::lookup(key_ai).ok_or_else(|| dl_err("unknown key"))?;
    let alts: &[&[&str]] = key.dlpkey.unwrap_or(&[]);
    let present: Vec<&str> = uniq
        .iter()
        .map(|(a, _)| *a)
        .filter(|a| alts.iter().any(|alt| alt.contains(a)))
        .collect();
    let alt: &[&str] = if present.is_empty() {
        &[]
    } else {
        alts.iter()
            .copied()
            .find(|alt| present.iter().all(|p| alt.contains(p)))
            .ok_or_else(|| {
                let list: Vec<String> = present.iter().map(|p| format!("({p})")).collect();
                Error::new(
                    codes::DIGITAL_LINK_KEY,
                    format!(
                        "{} cannot all qualify ({key_ai}) in one Digital Link path",
                        list.join(" and ")
                    ),
                )
            })?
    };
    let mut uri = base
        .unwrap_or(CANONICAL_BASE)
        .trim_end_matches('/')
        .to_string();
    uri.push_str(&format!("/{key_ai}/{}", escape_path(key_value)));
    for q in alt {
        if let Some((_, v)) = uniq.iter().find(|(a, _)| a == q) {
            uri.push_str(&format!("/{q}/{}", escape_path(v)));
        }
    }
    // Query attributes: predefined-length AIs first, each group in input order.
    let fixed = |a: &str| ai::lookup(a).is_some_and(|e| e.fixed);
    let mut attrs: Vec<(usize, &(&str, &str))> = uniq
        .iter()
        .enumerate()
        .filter(|(n, (a, _))| *n != key_at && !alt.contains(a))
        .collect();
    attrs.sort_by_key(|(n, (a, _))| (!fixed(a), *n));
    let mut sep = '?';
    for (_, (a, v)) in attrs {
        match ai::lookup(a) {
            Some(e) if e.dl_attr => {}
            _ if lax => {}
            _ => {
                return Err(Error::new(
                    codes::DIGITAL_LINK_KEY,
                    format!("({a}) may not be carried in a Digital Link as a data attribute"),
                ));
            }
        }
        uri.push(sep);
        uri.push_str(&format!("{a}={}", escape_query(v)));
        sep = '&';
    }
    Ok(uri)
}
