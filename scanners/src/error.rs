//! The one error type of the crate, and the diagnostic a scan carries.
//!
//! Every error has a stable SCREAMING_SNAKE `code` (the constants in [`codes`]),
//! a message that says what was wrong and what to do, and where known the
//! character position in the input.

use serde::Serialize;

/// Stable error codes. Callers match on these, never on message text.
pub mod codes {
    /// Nothing was scanned (empty input).
    pub const EMPTY: &str = "EMPTY";
    /// The data is not GS1 AI data, a Digital Link, HIBCC nor ICCBBA.
    pub const NOT_GS1: &str = "NOT_GS1";
    /// An Application Identifier not in the GS1 Syntax Dictionary.
    pub const UNKNOWN_AI: &str = "UNKNOWN_AI";
    /// An AI value is shorter or longer than its format allows.
    pub const AI_LENGTH: &str = "AI_LENGTH";
    /// An AI value holds a character its character set forbids.
    pub const AI_CHARSET: &str = "AI_CHARSET";
    /// An AI value has no data at all.
    pub const AI_EMPTY: &str = "AI_EMPTY";
    /// A check digit (mod 10, check pair, mod 43) is wrong.
    pub const CHECK_DIGIT: &str = "CHECK_DIGIT";
    /// The check digit is wrong because two adjacent digits were swapped.
    pub const CHECK_DIGIT_TRANSPOSITION: &str = "CHECK_DIGIT_TRANSPOSITION";
    /// A date or time field is not a real date or time.
    pub const INVALID_DATE: &str = "INVALID_DATE";
    /// A component failed a GS1 syntax linter (code list, percent encoding, ...).
    pub const AI_CONTENT: &str = "AI_CONTENT";
    /// An AI needs another AI alongside it (`req=` in the dictionary).
    pub const AI_REQUIRES: &str = "AI_REQUIRES";
    /// Two AIs may not appear together (`ex=` in the dictionary).
    pub const AI_EXCLUDES: &str = "AI_EXCLUDES";
    /// The same AI appears twice with different values.
    pub const AI_REPEATED: &str = "AI_REPEATED";
    /// Serialised-key rules for a digital signature (8030) are not met.
    pub const DIGSIG_KEY: &str = "DIGSIG_KEY";
    /// A variable-length AI was not followed by a separator (FNC1/GS).
    pub const MISSING_SEPARATOR: &str = "MISSING_SEPARATOR";
    /// The GS separator arrived as other characters (`^`, `<GS>`, `~` ...).
    pub const SEPARATOR_SUBSTITUTED: &str = "SEPARATOR_SUBSTITUTED";
    /// Digits arrived as the symbols of another keyboard layout (AZERTY, shifted).
    pub const KEYBOARD_LAYOUT: &str = "KEYBOARD_LAYOUT";
    /// Letters arrived with their case flipped (caps lock on).
    pub const CAPS_LOCK: &str = "CAPS_LOCK";
    /// The scan ended in the middle of a field.
    pub const TRUNCATED: &str = "TRUNCATED";
    /// Bracketed `(AI)value` text is malformed.
    pub const BRACKET_SYNTAX: &str = "BRACKET_SYNTAX";
    /// A symbology identifier (`]xN`) is malformed or unknown.
    pub const SYMBOLOGY: &str = "SYMBOLOGY";
    /// A GS1 Digital Link URI is malformed.
    pub const DIGITAL_LINK: &str = "DIGITAL_LINK";
    /// A compressed GS1 Digital Link URI (not supported: ask for the uncompressed form).
    pub const DIGITAL_LINK_COMPRESSED: &str = "DIGITAL_LINK_COMPRESSED";
    /// The AIs cannot form a Digital Link (no primary key, bad qualifier order).
    pub const DIGITAL_LINK_KEY: &str = "DIGITAL_LINK_KEY";
    /// A HIBCC code is malformed.
    pub const HIBCC: &str = "HIBCC";
    /// An ICCBBA (ISBT 128) code is malformed.
    pub const ICCBBA: &str = "ICCBBA";
    /// A typed identifier (Gtin, Serial, ...) was given a bad value.
    pub const INVALID_IDENTIFIER: &str = "INVALID_IDENTIFIER";
}

/// An error with a stable code, a helpful message and an optional position
/// (a byte offset into the scanned input; for ASCII data, the character index).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct Error {
    code: &'static str,
    message: String,
    position: Option<usize>,
}

impl Error {
    /// A new error with one of the [`codes`].
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Error {
            code,
            message: message.into(),
            position: None,
        }
    }

    /// The same error, placed at a character position of the input.
    pub fn at(mut self, position: usize) -> Self {
        self.position = Some(position);
        self
    }

    /// The same error shifted by `offset` characters (when a field sits inside a larger input).
    pub(crate) fn shifted(mut self, offset: usize) -> Self {
        self.position = Some(self.position.unwrap_or(0) + offset);
        self
    }

    /// The stable code (see [`codes`]).
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// What was wrong and what to do.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Character position in the input, where known.
    pub fn position(&self) -> Option<usize> {
        self.position
    }
}

/// One problem found in a scan: stable code, message, position in the input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// Stable code (see [`codes`]).
    pub code: &'static str,
    /// What went wrong and what to do.
    pub message: String,
    /// Byte offset into the scanned input, where known.
    pub position: Option<usize>,
}

impl From<Error> for Diagnostic {
    fn from(e: Error) -> Self {
        Diagnostic {
            code: e.code,
            message: e.message,
            position: e.position,
        }
    }
}
