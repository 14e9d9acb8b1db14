//! Percent-encoding for Digital Link path segments and query values.
//!
//! Unreserved characters (`A-Z a-z 0-9 - . _ ~`) stay as they are, every
//! other byte becomes `%XX`; in a query a space is written `+`. Reading,
//! `+` is a space only in a query; a `%` not followed by two hex digits is
//! kept literally. Decoded bytes map one to one onto characters U+0000-U+00FF.

use crate::error::Error;

fn escape(s: &str, query: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            b' ' if query => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Percent-encode a value for a URI path segment.
pub fn escape_path(s: &str) -> String {
    escape(s, false)
}

/// Percent-encode a value for a URI query (space as `+`).
pub fn escape_query(s: &str) -> String {
    escape(s, true)
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

fn unescape(s: &str, query: bool) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(char::from(h * 16 + l));
                    i += 3;
                    continue;
                }
                _ => out.push('%'),
            },
            b'+' if query => out.push(' '),
            _ => {
                let c = s[i..].chars().next().unwrap_or('\u{fffd}');
                out.push(c);
                i += c.len_utf8();
                continue;
            }
        }
        i += 1;
    }
    out
}

/// Decode a URI path segment (`+` stays `+`).
pub fn unescape_path(s: &str) -> Result<String, Error> {
    Ok(unescape(s, false))
}

/// Decode a URI query value (`+` is a space).
pub fn unescape_query(s: &str) -> Result<String, Error> {
    Ok(unescape(s, true))
}
