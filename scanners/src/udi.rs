//! Unique Device Identification: the device identifier (DI) and production
//! identifiers (PI) of a device code, for the three FDA-accredited issuers:
//! GS1 (DI = AI 01; PI = lot, serial, dates), HIBCC (`+` codes, mod-43
//! check character) and ICCBBA (ISBT 128 data structures, `=` and `&`).

use crate::check_digit;
use crate::element::Field;
use crate::error::{Error, codes};
use serde::Serialize;

/// Who issued the device identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Issuer {
    /// GS1 (GTIN with AIs).
    Gs1,
    /// Health Industry Business Communications Council.
    Hibcc,
    /// ICCBBA (ISBT 128).
    Iccbba,
}

impl Issuer {
    /// The agency's name: "GS1", "HIBCC" or "ICCBBA".
    pub fn name(self) -> &'static str {
        match self {
            Issuer::Gs1 => "GS1",
            Issuer::Hibcc => "HIBCC",
            Issuer::Iccbba => "ICCBBA",
        }
    }
}

/// One named field of a UDI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UdiField {
    /// Stable field name, e.g. `lot`, `serial`, `expiry`, `labeler`.
    pub name: String,
    /// The value as carried in the code.
    pub value: String,
}

/// A device code split into its device identifier and production identifiers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Udi {
    /// The issuing agency.
    pub issuer: Issuer,
    /// The device identifier (UDI-DI).
    pub di: String,
    /// Production identifiers (UDI-PI), in code order.
    pub pi: Vec<UdiField>,
    /// Other recognised fields (labeler code, unit of measure, ...).
    pub fields: Vec<UdiField>,
}

fn f(name: &str, value: &str) -> UdiField {
    UdiField {
        name: name.to_string(),
        value: value.to_string(),
    }
}

/// AIs that are production identifiers in a GS1 UDI, and their names.
const GS1_PI: &[(&str, &str)] = &[
    ("10", "lot"),
    ("11", "manufactured"),
    ("17", "expiry"),
    ("21", "serial"),
    ("7003", "expiry_time"),
    ("8020", "reference"),
];

/// The GS1 UDI split: present when there is a GTIN and at least one PI.
pub(crate) fn gs1(fields: &[Field]) -> Option<Udi> {
    let di = fields.iter().find(|x| x.ai == "01")?;
    let pi: Vec<UdiField> = fields
        .iter()
        .filter_map(|x| {
            GS1_PI
                .iter()
                .find(|(ai, _)| *ai == x.ai)
                .map(|(_, n)| f(n, &x.value))
        })
        .collect();
    if pi.is_empty() {
        return None;
    }
    Some(Udi {
        issuer: Issuer::Gs1,
        di: di.value.clone(),
        pi,
        fields: Vec::new(),
    })
}

fn hibcc_err(msg: impl Into<String>, at: usize) -> Error {
    Error::new(codes::HIBCC, msg).at(at)
}

/// Read a HIBCC code (`+` primary, optional `/` secondary, final mod-43 check character).
pub(crate) fn hibcc(data: &str, at: usize) -> Result<Udi, Error> {
    if data.len() < 3 || !data.is_ascii() {
        return Err(hibcc_err(
            "a HIBCC code is \"+\", data and a check character; this one is too short",
            at,
        ));
    }
    let (body, check) = data.split_at(data.len() - 1);
    let want = check_digit::mod43(body).ok_or_else(|| {
        hibcc_err(
            "a HIBCC code holds only 0-9, A-Z, -, ., space, $, /, + and %",
            at,
        )
    })?;
    if !check.starts_with(want) {
        return Err(Error::new(
            codes::CHECK_DIGIT,
            format!("HIBCC check character is {check:?} but the data gives {want:?}; scan again"),
        )
        .at(at + data.len() - 1));
    }
    let content = &body[1..];
    if content.starts_with('$') || content.starts_with(|c: char| c.is_ascii_digit()) {
        // A secondary-only code: its last character links it to the primary.
        let (sec, link) = content.split_at(content.len().saturating_sub(1));
        let mut udi = Udi {
            issuer: Issuer::Hibcc,
            di: String::new(),
            pi: secondary(sec),
            fields: vec![f("link", link)],
        };
        udi.fields.push(f("secondary", sec));
        return Ok(udi);
    }
    let (primary, sec) = content.split_once('/').unwrap_or((content, ""));
    if primary.len() < 6 || !primary.starts_with(|c: char| c.is_ascii_uppercase()) {
        return Err(hibcc_err(
            "HIBCC primary data is a 4-character labeler code (starting with a letter), a product number and a unit-of-measure digit",
            at + 1,
        ));
    }
    let uom = &primary[primary.len() - 1..];
    if !uom.bytes().all(|b| b.is_ascii_digit()) {
        return Err(hibcc_err(
            "the HIBCC unit of measure (last primary character) must be a digit",
            at + primary.len(),
        ));
    }
    Ok(Udi {
        issuer: Issuer::Hibcc,
        di: primary.to_string(),
        pi: secondary(sec),
        fields: vec![
            f("labeler", &primary[..4]),
            f("product", &primary[4..primary.len() - 1]),
            f("unit_of_measure", uom),
        ],
    })
}

/// HIBCC secondary data: quantity/date flags, then lot or serial, then `/`-supplements.
fn secondary(sec: &str) -> Vec<UdiField> {
    let mut out = Vec::new();
    if sec.is_empty() {
        return out;
    }
    let (main, supplements) = sec.split_once('/').unwrap_or((sec, ""));
    let date_len = |fmt: u8| match fmt {
        b'2' | b'3' => 6,
        b'4' => 8,
        b'5' => 5,
        b'6' => 7,
        _ => 0,
    };
    let (serial, rest) = if let Some(r) = main.strip_prefix("$$+") {
        (true, Some(r))
    } else if let Some(r) = main.strip_prefix("$$") {
        (false, Some(r))
    } else {
        (false, None)
    };
    let id = if let Some(r) = rest {
        // An optional quantity: "8" and 2 digits, or "9" and 5 digits.
        let qty_len = match r.as_bytes().first() {
            Some(b'8') => 2,
            Some(b'9') => 5,
            _ => 0,
        };
        let r = match r.get(1..1 + qty_len) {
            Some(q) if qty_len > 0 => {
                out.push(f("quantity", q));
                &r[1 + qty_len..]
            }
            _ => r,
        };
        // Expiry follows: a format digit 2-7, or MMYY when the next character is 0 or 1.
        let b = r.as_bytes();
        let (date, tail) = match b.first() {
            Some(b'7') => ("", &r[1..]),
            Some(&c) if (b'2'..=b'6').contains(&c) && r.len() > date_len(c) => {
                (&r[1..1 + date_len(c)], &r[1 + date_len(c)..])
            }
            Some(b'0' | b'1') if r.len() >= 4 => (&r[..4], &r[4..]),
            _ => ("", r),
        };
        if !date.is_empty() {
            out.push(f("expiry", date));
        }
        tail
    } else if let Some(r) = main.strip_prefix("$+") {
        return with_supplements(out, "serial", r, supplements);
    } else if let Some(r) = main.strip_prefix('$') {
        r
    } else if main.len() >= 5 && main[..5].bytes().all(|b| b.is_ascii_digit()) {
        out.push(f("expiry", &main[..5]));
        &main[5..]
    } else {
        main
    };
    with_supplements(out, if serial { "serial" } else { "lot" }, id, supplements)
}

fn with_supplements(
    mut out: Vec<UdiField>,
    name: &str,
    id: &str,
    supplements: &str,
) -> Vec<UdiField> {
    if !id.is_empty() {
        out.push(f(name, id));
    }
    for s in supplements.split('/').filter(|s| !s.is_empty()) {
        if let Some(v) = s.strip_prefix("16D") {
            out.push(f("manufactured", v));
        } else if let Some(v) = s.strip_prefix("14D") {
            out.push(f("expiry", v));
        } else if let Some(v) = s.strip_prefix('S') {
            out.push(f("serial", v));
        } else if let Some(v) = s.strip_prefix('Q') {
            out.push(f("quantity", v));
        }
    }
    out
}

/// ISBT 128 data identifiers: (identifier, field name, data length, is PI).
/// A length of 0 means "the rest of the code".
const ISBT: &[(&str, &str, usize, bool)] = &[
    ("=/", "processor_product_id", 16, false),
    ("=<", "product_code", 8, false),
    ("=%", "blood_group", 4, false),
    ("=>", "expiry", 6, true),
    ("&>", "expiry_time", 10, true),
    ("=*", "collected", 6, true),
    ("&*", "collected_time", 10, true),
    ("=}", "manufactured", 6, true),
    ("&}", "manufactured_time", 10, true),
    ("&(", "special_testing", 5, false),
    ("=)", "container", 10, false),
    ("&)", "container_lot", 10, true),
    ("=;", "donor_id", 21, false),
    ("=+", "compound_message", 5, false),
];

/// True if the data starts with an ISBT 128 data identifier.
pub(crate) fn looks_like_iccbba(data: &str) -> bool {
    let b = data.as_bytes();
    (b.len() >= 3
        && (b[0] == b'=' || b[0] == b'&')
        && b[1].is_ascii_graphic()
        && !b[1].is_ascii_digit())
        || (b.first() == Some(&b'=') && b.len() >= 16)
}

/// Split an ICCBBA (ISBT 128) code into its data structures.
pub(crate) fn iccbba(data: &str, at: usize) -> Result<Udi, Error> {
    if !data.is_ascii() {
        return Err(Error::new(codes::ICCBBA, "ISBT 128 data is plain ASCII").at(at));
    }
    let mut fields = Vec::new();
    let mut i = 0;
    while i < data.len() {
        let rest = &data[i..];
        let known = ISBT.iter().find(|(id, ..)| rest.starts_with(id));
        let (name, take) = match known {
            Some((id, name, len, _)) => {
                let len = if *len == 0 {
                    rest.len() - id.len()
                } else {
                    *len
                };
                (*name, id.len() + len)
            }
            // "=" followed by a letter or digit: the Donation Identification Number (=αppppyynnnnnnff).
            None if rest.starts_with('=') && rest.len() >= 16 => ("donation_id", 16),
            None => {
                return Err(Error::new(
                    codes::ICCBBA,
                    format!(
                        "unknown ISBT 128 data identifier {:?}",
                        rest.chars().take(2).collect::<String>()
                    ),
                )
                .at(at + i));
            }
        };
        if take > rest.len() {
            return Err(Error::new(
                codes::TRUNCATED,
                format!("the ISBT 128 {name} is cut short; scan again"),
            )
            .at(at + i));
        }
        let id_len = known.map_or(1, |(id, ..)| id.len());
        fields.push((name, rest[id_len..take].to_string()));
        i += take;
    }
    let is_pi =
        |n: &str| ISBT.iter().any(|(_, name, _, pi)| *name == n && *pi) || n == "donation_id";
    let di = fields
        .iter()
        .find(|(n, _)| *n == "processor_product_id" || *n == "product_code")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    Ok(Udi {
        issuer: Issuer::Iccbba,
        di,
        pi: fields
            .iter()
            .filter(|(n, _)| is_pi(n))
            .map(|(n, v)| f(n, v))
            .collect(),
        fields: fields
            .iter()
            .filter(|(n, _)| !is_pi(n))
            .map(|(n, v)| f(n, v))
            .collect(),
    })
}
