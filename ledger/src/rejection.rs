//! Why an event was refused: a stable code for machines and a sentence for people.

use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;

/// An event refused at admission (before ordering) or at apply (kept in the block with
/// this code). `code` is stable SCREAMING_SNAKE text that clients may match on;
/// `message` says what was wrong and what to do, and never carries personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    /// Stable code, e.g. `BAD_SIGNATURE`.
    pub code: Cow<'static, str>,
    /// Human-readable explanation.
    pub message: String,
}

impl Rejection {
    /// A rejection with a stable `code` and a `message`.
    pub fn new(code: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for Rejection {}

/// The stable codes the core itself gives. Modules add their own.
pub mod codes {
    /// The event's JSON is not a valid envelope.
    pub const MALFORMED_EVENT: &str = "MALFORMED_EVENT";
    /// The event's canonical bytes exceed the size limit.
    pub const OVERSIZE_EVENT: &str = "OVERSIZE_EVENT";
    /// Stored bytes are not the canonical (RFC 8785) form of the event.
    pub const NOT_CANONICAL: &str = "NOT_CANONICAL";
    /// The actor is not registered in the consortium config.
    pub const UNKNOWN_ACTOR: &str = "UNKNOWN_ACTOR";
    /// The actor's key was revoked.
    pub const ACTOR_REVOKED: &str = "ACTOR_REVOKED";
    /// The actor does not belong to the organisation named in the event.
    pub const ORG_MISMATCH: &str = "ORG_MISMATCH";
    /// The signature does not verify (strictly) with the actor's registered key.
    pub const BAD_SIGNATURE: &str = "BAD_SIGNATURE";
    /// An event with the same id is already stored or waiting to be ordered.
    pub const DUPLICATE_EVENT: &str = "DUPLICATE_EVENT";
    /// The nonce is not greater than the actor's last one.
    pub const NONCE_REPLAYED: &str = "NONCE_REPLAYED";
    /// No module of that name runs on this ledger.
    pub const UNKNOWN_MODULE: &str = "UNKNOWN_MODULE";
    /// The module does not know this kind of event.
    pub const UNKNOWN_KIND: &str = "UNKNOWN_KIND";
    /// The payload does not have the shape the module expects.
    pub const BAD_PAYLOAD: &str = "BAD_PAYLOAD";
    /// The actor is not allowed to do this.
    pub const FORBIDDEN: &str = "FORBIDDEN";
    /// The peer is shutting down or its ordering service stopped.
    pub const UNAVAILABLE: &str = "UNAVAILABLE";
}
