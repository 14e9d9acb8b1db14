//! Conversions between the spellings of GS1 AI data, each validating the
//! values on the way: bracketed text, raw element strings and Digital Link
//! URIs to AI lists, and back. [`crate::parse`] is the scanner-facing entry;
//! these are for callers that know which form they hold.

use crate::digital_link::{self, DlOptions};
use crate::element::{self, Field, GS};
use crate::error::{Error, codes};
use crate::scan::AiValue;
use crate::validate::{self, Rules};

/// Reading policy.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Let AIs that are not in the dictionary through (bracketed text and
    /// Digital Link query attributes only: raw data cannot be split without
    /// knowing the AI).
    pub permit_unknown_ais: bool,
    /// In a Digital Link, accept GTIN-8/12/13 in (01) and pad them to 14 digits.
    pub zero_suppressed_gtin: bool,
    /// In a Digital Link, accept any known or unknown AI as a query attribute.
    pub lax_dl_attributes: bool,
    /// In a Digital Link, accept the DL 1.x short names for path AIs (`/gtin/`, `/ser/` ...).
    pub convenience_alphas: bool,
}

/// Which rules between AIs to check (see [`associations`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Association {
    /// The same AI twice with different values.
    Repeats,
    /// `ex=`: AIs that may not appear together.
    Exclusions,
    /// `req=`: AIs that need others alongside.
    Requisites,
    /// A digital signature (8030) needs a serialised key.
    DigitalSignature,
    /// All of the above.
    All,
}

fn to_values(fields: Vec<Field>) -> Vec<AiValue> {
    fields
        .into_iter()
        .map(|f| AiValue {
            ai: f.ai,
            value: f.value,
        })
        .collect()
}

fn check_each(fields: &[Field]) -> Result<(), Error> {
    if fields.is_empty() {
        return Err(Error::new(codes::EMPTY, "no AI data"));
    }
    for f in fields {
        if let Some(entry) = f.entry {
            validate::check_value(entry, &f.value).map_err(|e| e.shifted(f.value_pos))?;
        }
    }
    Ok(())
}

/// Bracketed text `(01)...(10)...` to checked AIs (no rules between AIs).
pub fn from_bracketed(text: &str, opts: Options) -> Result<Vec<AiValue>, Error> {
    let fields = element::split_bracketed(text, 0, opts.permit_unknown_ais, false)?;
    check_each(&fields)?;
    Ok(to_values(fields))
}

/// A raw element string (after the FNC1 in first position, GS between
/// fields) to checked AIs (no rules between AIs).
pub fn from_element_string(raw: &str, opts: Options) -> Result<Vec<AiValue>, Error> {
    let (fields, err) = element::split_raw_with(raw, 0, opts.permit_unknown_ais);
    if let Some(e) = err {
        return Err(e);
    }
    check_each(&fields)?;
    Ok(to_values(fields))
}

/// A Digital Link URI to checked AIs: path AIs, then query AIs, in URI order
/// (no rules between AIs).
pub fn from_digital_link(uri: &str, opts: Options) -> Result<Vec<AiValue>, Error> {
    let dl = DlOptions {
        zero_suppressed_gtin: opts.zero_suppressed_gtin,
        lax_attributes: opts.lax_dl_attributes,
        convenience_alphas: opts.convenience_alphas,
    };
    let fields = digital_link::parse(uri, 0, dl)?;
    check_each(&fields)?;
    Ok(to_values(fields))
}

/// The raw element string of checked AIs with `sep` as the separator
/// (GS for barcodes, `^` in GS1's test notation).
pub fn to_element_string(ais: &[AiValue], sep: char) -> String {
    element::join_raw(ais.iter().map(|a| (a.ai.as_str(), a.value.as_str())))
        .replace(GS, &sep.to_string())
}

/// Errors from the chosen rules between AIs (unknown AIs take part in repeats only).
pub fn associations(ais: &[AiValue], which: Association) -> Vec<Error> {
    let fields: Vec<Field> = ais
        .iter()
        .map(|a| Field {
            ai: a.ai.clone(),
            value: a.value.clone(),
            pos: 0,
            value_pos: 0,
            entry: crate::ai::lookup(&a.ai),
        })
        .collect();
    let only = |r: Association| Rules {
        repeats: r == Association::Repeats,
        exclusions: r == Association::Exclusions,
        requisites: r == Association::Requisites,
        digsig: r == Association::DigitalSignature,
    };
    let rules = match which {
        Association::All => Rules::ALL,
        r => only(r),
    };
    validate::check_associations(&fields, rules)
}

/// Build a Digital Link URI from checked AIs; `opts.lax_dl_attributes` lets
/// unknown AIs through as query attributes.
pub fn to_digital_link(
    ais: &[AiValue],
    base: Option<&str>,
    opts: Options,
) -> Result<String, Error> {
    let pairs: Vec<(&str, &str)> = ais
        .iter()
        .map(|a| (a.ai.as_str(), a.value.as_str()))
        .collect();
    digital_link::build_with(&pairs, base, opts.lax_dl_attributes)
}
