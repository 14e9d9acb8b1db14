//! A hospital peer's off-chain EMR store: each document is sealed with ChaCha20-Poly1305
//! under the peer's key (from the key file `peer.toml` names) and kept in an `emr` table
//! of its own SQLite file. The ledger only ever sees a document's id and SHA-256 digest.
//! This crate never logs, and its errors never carry document content or key material.

mod key;
mod store;

pub use key::Key;
pub use store::{EmrStore, digest};

/// Why an EMR store operation failed. The message names what to do; it never holds
/// document content, key material or a patient reference.
#[derive(Debug, thiserror::Error)]
pub enum EmrError {
    /// No document with that id in this peer's store.
    #[error("EMR_NOT_FOUND: this peer keeps no document with that id")]
    NotFound,
    /// A document with that id is already stored; documents are never overwritten.
    #[error("EMR_EXISTS: a document with that id is already stored; choose another id")]
    Exists,
    /// The stored bytes do not open under the key, or do not match the digest on the
    /// ledger: someone changed the stored document.
    #[error(
        "EMR_TAMPERED: the stored document does not match its digest on the ledger; it was altered at rest"
    )]
    Tampered,
    /// The key file is missing or not 64 hex digits.
    #[error("EMR_BAD_KEY: {0}")]
    BadKey(String),
    /// The store file failed.
    #[error("EMR_STORE: the EMR store failed ({0})")]
    Store(String),
}

impl EmrError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound => "EMR_NOT_FOUND",
            Self::Exists => "EMR_EXISTS",
            Self::Tampered => "EMR_TAMPERED",
            Self::BadKey(_) => "EMR_BAD_KEY",
            Self::Store(_) => "EMR_STORE",
        }
    }
}

impl From<rusqlite::Error> for EmrError {
    fn from(e: rusqlite::Error) -> Self {
        // SQLite's messages name tables and constraints, never bound values.
        Self::Store(e.to_string())
    }
}

#[cfg(test)]
mod tests;
