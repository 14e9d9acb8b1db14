//! Normal forms the CBV 2.0 event hash compares in: EPC URNs and GS1 Digital Link URIs
//! as canonical `https://id.gs1.org/...` URIs, CBV vocabulary as `https://ref.gs1.org/cbv/`
//! URIs, timestamps as UTC with milliseconds.

use crate::state::days_from_civil;
use scanners::mod10;

/// The canonical GS1 Digital Link base.
pub const DL: &str = "https://id.gs1.org";

fn with_check(digits: &str) -> Option<String> {
    Some(format!("{digits}{}", mod10(digits)?))
}

/// An EPC URN or GS1 Digital Link URI as a canonical Digital Link URI; other URIs as
/// given (trimmed).
pub fn epc(value: &str) -> String {
    let v = value.trim();
    if let Some(dl) = v.strip_prefix("urn:epc:").and_then(urn) {
        return dl;
    }
    if (v.starts_with("http://") || v.starts_with("https://"))
        && let Some(dl) = digital_link(v)
    {
        return dl;
    }
    v.to_string()
}

/// Percent-encoding as the canonical form has it: every byte but letters, digits,
/// `-._~` and `'` encoded (after decoding what was encoded).
pub fn reencode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut raw = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                raw.push(b);
                i += 3;
            }
            (b, _) => {
                raw.push(b);
                i += 1;
            }
        }
    }
    raw.iter()
        .map(|&b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'\'' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn urn(rest: &str) -> Option<String> {
    let (scheme, body) = rest.rsplit_once(':')?;
    let encoded: Vec<String> = body
        .split('.')
        .map(|p| if p == "*" { p.to_string() } else { reencode(p) })
        .collect();
    let parts: Vec<&str> = encoded.iter().map(String::as_str).collect();
    let gtin = |p: &str, ir: &str| with_check(&format!("{}{p}{}", ir.get(..1)?, ir.get(1..)?));
    Some(match (scheme, parts.as_slice()) {
        ("id:sgtin", [p, ir, s]) => format!("{DL}/01/{}/21/{s}", gtin(p, ir)?),
        ("class:lgtin", [p, ir, l]) => format!("{DL}/01/{}/10/{l}", gtin(p, ir)?),
        ("idpat:sgtin", [p, ir, "*"]) => format!("{DL}/01/{}", gtin(p, ir)?),
        ("id:sscc", [p, s]) => {
            format!(
                "{DL}/00/{}",
                with_check(&format!("{}{p}{}", s.get(..1)?, s.get(1..)?))?
            )
        }
        ("id:sgln", [p, l, e]) => {
            let gln = with_check(&format!("{p}{l}"))?;
            if *e == "0" {
                format!("{DL}/414/{gln}")
            } else {
                format!("{DL}/414/{gln}/254/{e}")
            }
        }
        ("id:pgln", [p, r]) => format!("{DL}/417/{}", with_check(&format!("{p}{r}"))?),
        ("id:grai", [p, t, s]) => {
            format!("{DL}/8003/{}{s}", with_check(&format!("0{p}{t}"))?)
        }
        ("id:giai", [p, r]) => format!("{DL}/8004/{p}{r}"),
        ("id:gsrn", [p, r]) => format!("{DL}/8018/{}", with_check(&format!("{p}{r}"))?),
        ("id:gsrnp", [p, r]) => format!("{DL}/8017/{}", with_check(&format!("{p}{r}"))?),
        ("id:gdti", [p, t, s]) => format!("{DL}/253/{}{s}", with_check(&format!("{p}{t}"))?),
        ("id:ginc", [p, r]) => format!("{DL}/401/{p}{r}"),
        ("id:gsin", [p, r]) => format!("{DL}/402/{}", with_check(&format!("{p}{r}"))?),
        ("id:cpi", [p, c, s]) => format!("{DL}/8010/{p}{c}/8011/{s}"),
        ("id:sgcn", [p, t, s]) => format!("{DL}/255/{}{s}", with_check(&format!("{p}{t}"))?),
        ("id:itip", [p, ir, pc, tt, s]) => {
            format!("{DL}/8006/{}{pc}{tt}/21/{s}", gtin(p, ir)?)
        }
        ("id:upui", [p, ir, tpx]) => format!("{DL}/01/{}/235/{tpx}", gtin(p, ir)?),
        ("idpat:grai", [p, t, "*"]) => format!("{DL}/8003/{}", with_check(&format!("0{p}{t}"))?),
        ("idpat:gdti", [p, t, "*"]) => format!("{DL}/253/{}", with_check(&format!("{p}{t}"))?),
        ("idpat:sgcn", [p, t, "*"]) => format!("{DL}/255/{}", with_check(&format!("{p}{t}"))?),
        ("idpat:cpi", [p, c, "*"]) => format!("{DL}/8010/{p}{c}"),
        ("idpat:itip", [p, ir, pc, tt, "*"]) => format!("{DL}/8006/{}{pc}{tt}", gtin(p, ir)?),
        _ => return None,
    })
}

/// Primary keys and the qualifiers kept with them, in path order.
const KEYS: &[(&str, &[&str])] = &[
    ("01", &["21", "235", "10"]),
    ("00", &[]),
    ("414", &["254"]),
    ("417", &[]),
    ("8003", &[]),
    ("8004", &[]),
    ("8006", &["21"]),
    ("8010", &["8011"]),
    ("8017", &[]),
    ("8018", &[]),
    ("253", &[]),
    ("255", &[]),
    ("401", &[]),
    ("402", &[]),
];

fn digital_link(uri: &str) -> Option<String> {
    let no_query = uri.split(['?', '#']).next()?;
    let after_scheme = no_query.split_once("://")?.1;
    let path = after_scheme.split_once('/')?.1;
    let segs: Vec<&str> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| alias(s).unwrap_or(s))
        .collect();
    let start = segs.iter().position(|s| KEYS.iter().any(|(k, _)| k == s))?;
    let pairs: Vec<(&str, &str)> = segs[start..]
        .chunks(2)
        .filter_map(|c| match c {
            [a, v] => Some((*a, *v)),
            _ => None,
        })
        .collect();
    let (key, value) = *pairs.first()?;
    let (_, qualifiers) = KEYS.iter().find(|(k, _)| *k == key)?;
    let mut out = format!("{DL}/{key}/{}", reencode(value));
    // an instance (serial) drops class qualifiers such as the lot
    for q in qualifiers.iter() {
        if let Some((_, v)) = pairs.iter().find(|(a, _)| a == q) {
            out.push_str(&format!("/{q}/{}", reencode(v)));
            if key == "01" && matches!(*q, "21" | "235") {
                break;
            }
        }
    }
    Some(out)
}

/// Digital Link's convenience names for AIs.
fn alias(segment: &str) -> Option<&'static str> {
    Some(match segment {
        "gtin" => "01",
        "sscc" => "00",
        "gln" => "414",
        "ser" => "21",
        "lot" => "10",
        "cpv" => "22",
        "party" => "417",
        "grai" => "8003",
        "giai" => "8004",
        "gsrn" => "8018",
        "gdti" => "253",
        "itip" => "8006",
        "cpid" => "8010",
        _ => return None,
    })
}

/// A CBV vocabulary value (`departing`, `urn:epcglobal:cbv:bizstep:departing`,
/// `cbv:BizStep-departing`) as its `https://ref.gs1.org/cbv/<Kind>-<value>` URI.
pub fn cbv(kind: &str, value: &str) -> String {
    let v = value.trim();
    let urn_kind = match kind {
        "BizStep" => "bizstep",
        "Disp" => "disp",
        "BTT" => "btt",
        "SDT" => "sdt",
        "ER" => "er",
        _ => "",
    };
    if let Some(rest) = v.strip_prefix(&format!("urn:epcglobal:cbv:{urn_kind}:")) {
        return format!("https://ref.gs1.org/cbv/{kind}-{rest}");
    }
    if let Some(rest) = v.strip_prefix(&format!("cbv:{kind}-")) {
        return format!("https://ref.gs1.org/cbv/{kind}-{rest}");
    }
    if v.contains(':') {
        return v.to_string();
    }
    format!("https://ref.gs1.org/cbv/{kind}-{v}")
}

/// An ISO 8601 timestamp as UTC with exactly three decimals (`...T10:00:30.000Z`); the
/// fourth decimal rounds half up. `None` when it does not read.
pub fn timestamp(value: &str) -> Option<String> {
    unix_ms(value).map(format_ms)
}

/// An ISO 8601 timestamp (`2026-01-01T10:00:30.5+01:00`) as Unix milliseconds; the
/// fourth decimal rounds half up. `None` when it does not read.
pub fn unix_ms(value: &str) -> Option<i64> {
    let v = value.trim();
    let (date, rest) = v.split_once('T')?;
    let mut d = date.split('-').map(|p| p.parse::<i64>().ok());
    let (y, mo, da) = (d.next()??, d.next()??, d.next()??);
    let offset_at = rest.find(['Z', '+', '-']).unwrap_or(rest.len());
    let (clock, zone) = rest.split_at(offset_at);
    let (hms, frac) = clock.split_once('.').unwrap_or((clock, ""));
    let mut t = hms.split(':').map(|p| p.parse::<i64>().ok());
    let (h, mi, s) = (t.next()??, t.next()??, t.next().unwrap_or(Some(0))?);
    let digits: String = format!("{frac:0<4}").chars().take(4).collect();
    let tenths_of_ms: i64 = digits.parse().ok()?;
    let ms = (tenths_of_ms + 5) / 10;
    let offset_min = match zone {
        "" | "Z" => 0,
        z => {
            let sign = if z.starts_with('-') { -1 } else { 1 };
            let (oh, om) = z[1..]
                .split_once(':')
                .unwrap_or((&z[1..3.min(z.len())], "0"));
            sign * (oh.parse::<i64>().ok()? * 60 + om.parse::<i64>().ok()?)
        }
    };
    let total = ((days_from_civil(y, mo, da) * 86_400 + h * 3600 + mi * 60 + s) - offset_min * 60)
        * 1000
        + ms;
    Some(total)
}

/// Unix milliseconds as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn format_ms(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let in_day = ms.rem_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000
    )
}

/// The civil date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// A JSON number without trailing zeros (`12.50` → `12.5`, `200.0` → `200`).
pub fn number(n: &serde_json::Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    match n.as_f64() {
        Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
        Some(f) => format!("{f}"),
        None => n.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_forms() {
        assert_eq!(
            epc("urn:epc:id:sscc:4012345.0000000333"),
            "https://id.gs1.org/00/040123450000003338"
        );
        assert_eq!(
            epc("urn:epc:id:sgln:4012345.00011.987"),
            "https://id.gs1.org/414/4012345000115/254/987"
        );
        assert_eq!(
            epc("https://example.com/01/04012345111118/10/L1/21/9876?17=290101"),
            "https://id.gs1.org/01/04012345111118/21/9876"
        );
        assert_eq!(
            cbv("BizStep", "departing"),
            "https://ref.gs1.org/cbv/BizStep-departing"
        );
        assert_eq!(
            cbv("Disp", "urn:epcglobal:cbv:disp:in_transit"),
            "https://ref.gs1.org/cbv/Disp-in_transit"
        );
        assert_eq!(
            timestamp("2020-03-04T11:00:30.000+01:00").unwrap(),
            "2020-03-04T10:00:30.000Z"
        );
        assert_eq!(
            timestamp("2022-02-17T11:30:47.0Z").unwrap(),
            "2022-02-17T11:30:47.000Z"
        );
        assert_eq!(
            timestamp("2020-01-01T00:00:00.9995Z").unwrap(),
            "2020-01-01T00:00:01.000Z"
        );
        assert_eq!(format_ms(0), "1970-01-01T00:00:00.000Z");
    }
}
