//! The Application Identifier table: what each AI looks like, as the GS1
//! Syntax Dictionary says. The rows live in the generated `ai_table.rs`;
//! this file holds their types and the look-ups.

use crate::ai_table::AI_TABLE;
use crate::lint::Linter;
use std::sync::OnceLock;

/// Character set of one component of an AI value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cset {
    /// Digits only.
    N,
    /// GS1 AI encodable character set 82.
    X,
    /// GS1 AI encodable character set 39.
    Y,
    /// base64url (character set 64).
    Z,
}

/// One component of an AI value: its character set, length and linters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Component {
    /// Character set.
    pub cset: Cset,
    /// Minimum length.
    pub min: u8,
    /// Maximum length.
    pub max: u8,
    /// Component may be left out when the data ends before it.
    pub optional: bool,
    /// Content checks applied after the character set check.
    pub linters: &'static [Linter],
}

/// One AI as the dictionary defines it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AiEntry {
    /// The AI digits, e.g. "01".
    pub ai: &'static str,
    /// Predefined length: no separator needed after it.
    pub fixed: bool,
    /// May appear as a Digital Link query attribute.
    pub dl_attr: bool,
    /// Components in order.
    pub components: &'static [Component],
    /// Each inner slice is one `req=` rule: any one alternative (AIs joined by `+`) satisfies it.
    pub req: &'static [&'static [&'static [&'static str]]],
    /// Patterns (`n` = any digit) this AI may not appear with.
    pub ex: &'static [&'static str],
    /// Digital Link primary key: `None` if not a key, else the alternative qualifier sequences.
    pub dlpkey: Option<&'static [&'static [&'static str]]>,
    /// Short title (data title), e.g. "GTIN".
    pub title: &'static str,
}

impl AiEntry {
    /// Smallest total length of a value.
    pub fn min_len(&self) -> usize {
        self.components
            .iter()
            .filter(|c| !c.optional)
            .map(|c| c.min as usize)
            .sum()
    }

    /// Largest total length of a value.
    pub fn max_len(&self) -> usize {
        self.components.iter().map(|c| c.max as usize).sum()
    }

    /// True if the value has a predefined length in the dictionary's sense.
    pub fn is_fixed(&self) -> bool {
        self.fixed
    }
}

/// The whole table, sorted by AI.
pub fn table() -> &'static [AiEntry] {
    AI_TABLE
}

/// Direct index over the table: by two-digit prefix, the AI length used
/// under that prefix and, by the AI's numeric value, its row.
struct Index {
    /// AI length (2-4) for each two-digit prefix, 0 when none.
    length: [u8; 100],
    /// Row + 1 for each AI, keyed by its value (AIs of one prefix share a length).
    row: Vec<u16>,
}

fn index() -> &'static Index {
    static INDEX: OnceLock<Index> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut idx = Index {
            length: [0; 100],
            row: vec![0; 10_000],
        };
        for (n, e) in AI_TABLE.iter().enumerate() {
            let b = e.ai.as_bytes();
            let prefix = usize::from(b[0] - b'0') * 10 + usize::from(b[1] - b'0');
            idx.length[prefix] = b.len() as u8;
            idx.row[key(b)] = (n + 1) as u16;
        }
        idx
    })
}

/// Numeric value of 2-4 ASCII digits, padded to four digits so the
/// lengths never collide (all AIs of a prefix have one length).
fn key(ai: &[u8]) -> usize {
    let mut v = ai
        .iter()
        .fold(0usize, |n, d| n * 10 + usize::from(d - b'0'));
    for _ in ai.len()..4 {
        v *= 10;
    }
    v
}

fn digits_prefix(b: &[u8], n: usize) -> bool {
    b.len() >= n && b[..n].iter().all(u8::is_ascii_digit)
}

/// The entry for exactly this AI, if the dictionary knows it.
pub fn lookup(ai: &str) -> Option<&'static AiEntry> {
    let b = ai.as_bytes();
    if !(2..=4).contains(&b.len()) || !digits_prefix(b, b.len()) {
        return None;
    }
    let idx = index();
    if usize::from(idx.length[usize::from(b[0] - b'0') * 10 + usize::from(b[1] - b'0')]) != b.len()
    {
        return None;
    }
    match idx.row[key(b)] {
        0 => None,
        r => Some(&AI_TABLE[usize::from(r) - 1]),
    }
}

/// The known AI that starts `data`, if any (AIs are prefix-free).
pub fn lookup_prefix(data: &str) -> Option<&'static AiEntry> {
    let b = data.as_bytes();
    if !digits_prefix(b, 2) {
        return None;
    }
    let n = usize::from(index().length[usize::from(b[0] - b'0') * 10 + usize::from(b[1] - b'0')]);
    if n == 0 || !digits_prefix(b, n) {
        return None;
    }
    lookup(&data[..n])
}

/// Length (2-4) of the AIs that start with this two-digit prefix, if any exist.
pub fn length_by_prefix(prefix: &str) -> Option<usize> {
    let b = prefix.as_bytes();
    if b.len() != 2 || !digits_prefix(b, 2) {
        return None;
    }
    match index().length[usize::from(b[0] - b'0') * 10 + usize::from(b[1] - b'0')] {
        0 => None,
        n => Some(usize::from(n)),
    }
}

/// True if `ai` matches a dictionary pattern such as "31nn" or "01".
pub fn matches_pattern(pattern: &str, ai: &str) -> bool {
    pattern.len() == ai.len()
        && pattern
            .bytes()
            .zip(ai.bytes())
            .all(|(p, a)| p == a || (p == b'n' && a.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_unique() {
        assert!(AI_TABLE.windows(2).all(|w| w[0].ai < w[1].ai));
    }

    #[test]
    fn every_row_is_found() {
        for e in AI_TABLE {
            assert_eq!(lookup(e.ai).map(|x| x.ai), Some(e.ai));
            assert_eq!(
                lookup_prefix(&format!("{}123", e.ai)).map(|x| x.ai),
                Some(e.ai)
            );
        }
        assert!(lookup("89").is_none());
        assert!(lookup("0").is_none());
        assert!(lookup("0a").is_none());
        assert_eq!(length_by_prefix("31"), Some(4));
    }

    #[test]
    fn patterns() {
        assert!(matches_pattern("31nn", "3103"));
        assert!(!matches_pattern("31nn", "310"));
        assert!(matches_pattern("01", "01"));
    }
}
