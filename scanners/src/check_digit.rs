//! Check characters: the GS1 mod-10 check digit (GTIN, GLN, SSCC, GSIN,
//! GRAI ...), the GS1 alphanumeric check pair (GMN, MUDI) and the HIBCC
//! mod-43 check character, with the transposition search that turns a wrong
//! check digit into a suggested correction.

/// GS1 mod-10 check digit for `data` (the digits before the check digit).
/// Weights 3 and 1 alternate from the rightmost digit, which weighs 3.
/// Returns `None` if `data` holds a non-digit.
pub fn mod10(data: &str) -> Option<u8> {
    let mut sum = 0u32;
    for (i, b) in data.bytes().rev().enumerate() {
        if !b.is_ascii_digit() {
            return None;
        }
        let d = u32::from(b - b'0');
        sum += if i % 2 == 0 { 3 * d } else { d };
    }
    Some(((10 - sum % 10) % 10) as u8)
}

/// True if the last digit of `full` is the right mod-10 check digit.
pub fn mod10_valid(full: &str) -> bool {
    match full.as_bytes().split_last() {
        Some((&last, data)) if last.is_ascii_digit() => {
            std::str::from_utf8(data).ok().and_then(mod10) == Some(last - b'0')
        }
        _ => false,
    }
}

/// `full` with its last digit replaced by the right check digit.
pub fn with_correct_check_digit(full: &str) -> Option<String> {
    let data = full.get(..full.len().checked_sub(1)?)?;
    let d = mod10(data)?;
    Some(format!("{data}{d}"))
}

/// Values that pass the mod-10 check after swapping two adjacent, different
/// digits of `full`: the usual keying error a wrong check digit reveals.
pub fn transpositions(full: &str) -> Vec<String> {
    let b = full.as_bytes();
    if !b.iter().all(u8::is_ascii_digit) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for i in 0..b.len().saturating_sub(1) {
        if b[i] == b[i + 1] {
            continue;
        }
        let mut v = b.to_vec();
        v.swap(i, i + 1);
        let s = String::from_utf8(v).unwrap_or_default();
        if mod10_valid(&s) {
            out.push(s);
        }
    }
    out
}

/// The GS1 AI encodable character set 82, in check-pair value order.
const CSET82: &[u8] =
    b"!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";
/// Characters that a check pair is made of.
const CSET32: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

/// Weights of the check pair: the first primes, the rightmost data character weighing 2.
const PRIMES: [u32; 97] = [
    2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97,
    101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167, 173, 179, 181, 191, 193,
    197, 199, 211, 223, 227, 229, 233, 239, 241, 251, 257, 263, 269, 271, 277, 281, 283, 293, 307,
    311, 313, 317, 331, 337, 347, 349, 353, 359, 367, 373, 379, 383, 389, 397, 401, 409, 419, 421,
    431, 433, 439, 443, 449, 457, 461, 463, 467, 479, 487, 491, 499, 503, 509,
];

/// Longest data (before the check pair) that [`check_pair`] computes for.
pub const CHECK_PAIR_MAX_DATA: usize = PRIMES.len();

/// The GS1 check character pair for `data` (CSET 82 characters), or `None`
/// if `data` is too long or holds a character outside CSET 82.
pub fn check_pair(data: &str) -> Option<String> {
    if data.len() > CHECK_PAIR_MAX_DATA {
        return None;
    }
    let mut sum = 0u32;
    for (b, w) in data.bytes().rev().zip(PRIMES.iter()) {
        let value = CSET82.iter().position(|&c| c == b)? as u32;
        sum += value * w;
    }
    let sum = sum % 1021;
    let pair = [CSET32[(sum / 32) as usize], CSET32[(sum % 32) as usize]];
    Some(String::from_utf8_lossy(&pair).into_owned())
}

/// The HIBCC character set, in mod-43 value order.
const HIBCC_SET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-. $/+%";

/// HIBCC mod-43 check character over `data` (including the leading `+`).
pub fn mod43(data: &str) -> Option<char> {
    let mut sum = 0usize;
    for b in data.bytes() {
        sum += HIBCC_SET.iter().position(|&c| c == b)?;
    }
    Some(HIBCC_SET[sum % 43] as char)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gtin_check_digits() {
        assert!(mod10_valid("09506000134352"));
        assert!(mod10_valid("4006381333931"));
        assert!(!mod10_valid("4006381333932"));
        assert_eq!(
            with_correct_check_digit("24012345678909").as_deref(),
            Some("24012345678905")
        );
    }

    #[test]
    fn transposition_found() {
        // 09506000134352 with the 3 and 4 at positions 10/11 swapped.
        let bad = "09506000143352";
        assert!(!mod10_valid(bad));
        assert!(transpositions(bad).contains(&"09506000134352".to_string()));
    }

    #[test]
    fn check_pair_examples() {
        assert_eq!(check_pair("1987654Ad4X4bL5ttr2310c").as_deref(), Some("2K"));
        assert_eq!(check_pair("").as_deref(), Some("22"));
    }

    #[test]
    fn hibcc_check() {
        // '+' = 41, 'A' = 10, '1' = 1: 52 mod 43 = 9.
        assert_eq!(mod43("+A1"), Some('9'));
        assert_eq!(mod43("+a"), None);
    }
}
