//! Checking AI values against the dictionary: length, character set and the
//! component linters for each value, then the rules between AIs (`req`,
//! `ex`, repeats, the digital-signature key rule).

use crate::ai::{self, AiEntry, Cset};
use crate::check_digit;
use crate::element::Field;
use crate::error::{Error, codes};
use crate::lint::{self, LintError, Linter};

/// Check one value against its AI's components. Positions in the error are
/// relative to the start of the value.
pub(crate) fn check_value(entry: &AiEntry, value: &str) -> Result<(), Error> {
    let ai = entry.ai;
    if value.is_empty() {
        return Err(Error::new(
            codes::AI_EMPTY,
            format!("({ai}) {} has no data; re-scan the code", entry.title),
        ));
    }
    if let Some((p, c)) = value.char_indices().find(|(_, c)| !c.is_ascii()) {
        return Err(Error::new(
            codes::AI_CHARSET,
            format!(
                "({ai}) {}: character {c:?} is not allowed in GS1 data; \
                 check the scanner's keyboard layout and code page",
                entry.title
            ),
        )
        .at(p));
    }
    let (min, max) = (entry.min_len(), entry.max_len());
    let len = value.len();
    if len < min || len > max {
        let want = if min == max {
            format!("{min}")
        } else {
            format!("{min} to {max}")
        };
        let hint = if len < min {
            "the scan may be truncated; re-scan the whole code"
        } else if entry.fixed {
            "re-scan the code"
        } else {
            "a separator (FNC1/GS) may be missing after it"
        };
        return Err(Error::new(
            codes::AI_LENGTH,
            format!(
                "({ai}) {} must be {want} characters long, got {len}; {hint}",
                entry.title
            ),
        )
        .at(min.min(len)));
    }
    check_components(entry, value)
}

/// Apply each component (character set, then linters) to its slice of the value.
fn check_components(entry: &AiEntry, value: &str) -> Result<(), Error> {
    let ai = entry.ai;
    let mut at = 0;
    for c in entry.components {
        let rest = &value[at..];
        if rest.is_empty() && c.optional {
            break;
        }
        let take = if c.min == c.max {
            c.min as usize
        } else {
            rest.len().min(c.max as usize)
        };
        if rest.len() < take || (rest.len() < c.min as usize) {
            return Err(Error::new(
                codes::AI_LENGTH,
                format!("({ai}) {}: a part of the value is too short", entry.title),
            )
            .at(at));
        }
        let part = &value[at..at + take];
        let cset_check = match c.cset {
            Cset::N => lint::digits(part),
            Cset::X => Linter::Cset82.check(part),
            Cset::Y => Linter::Cset39.check(part),
            Cset::Z => Linter::Cset64.check(part),
        };
        cset_check.map_err(|e| lint_error(entry, part, e).shifted(at))?;
        for l in c.linters {
            l.check(part)
                .map_err(|e| lint_error(entry, part, e).shifted(at))?;
        }
        at += take;
    }
    if at < value.len() {
        return Err(Error::new(
            codes::AI_LENGTH,
            format!("({ai}) {} has extra data at the end", entry.title),
        )
        .at(at));
    }
    Ok(())
}

/// Turn a linter failure into an error with a stable code and advice.
fn lint_error(entry: &AiEntry, part: &str, e: LintError) -> Error {
    let ai = entry.ai;
    let title = entry.title;
    let bad: String = part.get(e.start..e.start + e.len).unwrap_or("").to_string();
    let detail = format!("GS1_LINTER_{}", e.code);
    let (code, msg) = match e.code {
        "INCORRECT_CHECK_DIGIT" => return check_digit_error(entry, part),
        "INCORRECT_CHECK_PAIR" => (
            codes::CHECK_DIGIT,
            format!(
                "({ai}) {title} {part}: the check character pair is wrong ({detail}); re-scan or re-key it"
            ),
        ),
        c if c.starts_with("INVALID_CSET") || c == "NON_DIGIT_CHARACTER" => (
            codes::AI_CHARSET,
            format!(
                "({ai}) {title}: character {bad:?} is not allowed here ({detail}); \
                 the scan may be garbled by a keyboard layout or the data is wrong"
            ),
        ),
        c if c.contains("DAY")
            || c.contains("MONTH")
            || c.starts_with("DATE")
            || c.contains("HOUR")
            || c.contains("MINUTE")
            || c.contains("SECOND") =>
        {
            (
                codes::INVALID_DATE,
                format!(
                    "({ai}) {title} {part:?} is not a valid date or time ({detail}): {bad:?} is out of range"
                ),
            )
        }
        _ => (
            codes::AI_CONTENT,
            format!("({ai}) {title} {part:?} fails the GS1 content rule {detail} at {bad:?}"),
        ),
    };
    Error::new(code, msg).at(e.start)
}

fn check_digit_error(entry: &AiEntry, part: &str) -> Error {
    let ai = entry.ai;
    let swaps = check_digit::transpositions(part);
    let right = check_digit::with_correct_check_digit(part).unwrap_or_default();
    let last = right.chars().last().unwrap_or('?');
    if let [fix] = swaps.as_slice() {
        let at = part
            .bytes()
            .zip(fix.bytes())
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        return Error::new(
            codes::CHECK_DIGIT_TRANSPOSITION,
            format!(
                "({ai}) {} {part}: the check digit does not match; two adjacent digits look swapped \
                 at positions {} and {}: did you mean {fix}? Re-scan or re-key it",
                entry.title,
                at + 1,
                at + 2
            ),
        )
        .at(at);
    }
    Error::new(
        codes::CHECK_DIGIT,
        format!(
            "({ai}) {} {part}: the check digit is {} but the digits before it give {last} \
             (GS1_LINTER_INCORRECT_CHECK_DIGIT); re-scan the code, and if it persists the label is wrong",
            entry.title,
            &part[part.len().saturating_sub(1)..]
        ),
    )
    .at(part.len().saturating_sub(1))
}

/// Which rules between AIs to apply.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rules {
    pub repeats: bool,
    pub exclusions: bool,
    pub requisites: bool,
    pub digsig: bool,
}

impl Rules {
    pub const ALL: Rules = Rules {
        repeats: true,
        exclusions: true,
        requisites: true,
        digsig: true,
    };
}

/// Check the rules between AIs; one error per broken rule.
pub(crate) fn check_associations(fields: &[Field], rules: Rules) -> Vec<Error> {
    let mut errors = Vec::new();
    if rules.repeats {
        errors.extend(repeated(fields));
    }
    if rules.exclusions {
        errors.extend(excluded(fields));
    }
    if rules.requisites {
        errors.extend(missing_requisites(fields));
    }
    if rules.digsig {
        errors.extend(unserialised_signed_keys(fields));
    }
    errors
}

/// The first AI that appears twice with different values.
fn repeated(fields: &[Field]) -> Option<Error> {
    fields.iter().enumerate().find_map(|(n, f)| {
        let other = fields[..n].iter().find(|o| o.ai == f.ai && o.value != f.value)?;
        Some(
            Error::new(
                codes::AI_REPEATED,
                format!(
                    "({}) appears twice with different values ({:?} and {:?}); the code is inconsistent",
                    f.ai, other.value, f.value
                ),
            )
            .at(f.pos),
        )
    })
}

/// The first pair of AIs that the `ex=` rules forbid together (an AI never excludes itself).
fn excluded(fields: &[Field]) -> Option<Error> {
    fields.iter().find_map(|f| {
        let e = f.entry?;
        let o = e.ex.iter().find_map(|pat| {
            fields
                .iter()
                .find(|o| o.ai != f.ai && ai::matches_pattern(pat, &o.ai))
        })?;
        Some(
            Error::new(
                codes::AI_EXCLUDES,
                format!(
                    "({}) and ({}) may not appear together in one code",
                    f.ai, o.ai
                ),
            )
            .at(o.pos),
        )
    })
}

/// One error per `req=` rule that no alternative satisfies.
fn missing_requisites(fields: &[Field]) -> Vec<Error> {
    let present = |p: &str| fields.iter().any(|f| ai::matches_pattern(p, &f.ai));
    let mut errors = Vec::new();
    for f in fields {
        let Some(e) = f.entry else { continue };
        for rule in e.req {
            if rule.iter().any(|alt| alt.iter().all(|p| present(p))) {
                continue;
            }
            let wanted: Vec<String> = rule
                .iter()
                .map(|alt| {
                    alt.iter()
                        .map(|p| format!("({p})"))
                        .collect::<Vec<_>>()
                        .join("+")
                })
                .collect();
            errors.push(
                Error::new(
                    codes::AI_REQUIRES,
                    format!(
                        "({}) {} needs {} in the same code; it is missing (check the scan is complete)",
                        f.ai,
                        e.title,
                        wanted.join(" or ")
                    ),
                )
                .at(f.pos),
            );
        }
    }
    errors
}

/// A digital signature (8030) needs a serialised key: the optional serial
/// component of (253), (255) and (8003) must then be present.
fn unserialised_signed_keys(fields: &[Field]) -> Vec<Error> {
    if !fields.iter().any(|f| f.ai == "8030") {
        return Vec::new();
    }
    fields
        .iter()
        .filter(|f| match f.ai.as_str() {
            "253" | "255" => f.value.len() <= 13,
            "8003" => f.value.len() <= 14,
            _ => false,
        })
        .map(|f| {
            Error::new(
                codes::DIGSIG_KEY,
                format!(
                    "(8030) digital signature needs ({}) with its serial component",
                    f.ai
                ),
            )
            .at(f.pos)
        })
        .collect()
}
