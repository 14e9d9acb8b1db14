//! The `emr` table: one row per document, `(document, nonce, sealed, stored_at)`, where
//! `sealed` is the ChaCha20-Poly1305 ciphertext of the content under a fresh random nonce,
//! with the document id as associated data (so a row moved under another id does not
//! open). Rows are inserted once and never updated.

use crate::{EmrError, Key};
use chacha20poly1305::aead::{Aead, AeadCore, OsRng, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use parking_lot::Mutex;
use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};
use std::path::Path;

/// SHA-256 of a document's content: what the ledger holds for it.
pub fn digest(content: &[u8]) -> [u8; 32] {
    Sha256::digest(content).into()
}

/// Associated data binding a sealed row to its document id.
fn aad(document: &str) -> Vec<u8> {
    [b"pedigree-emr/v1:".as_slice(), document.as_bytes()].concat()
}

/// A peer's EMR store.
pub struct EmrStore {
    conn: Mutex<Connection>,
    cipher: ChaCha20Poly1305,
}

impl std::fmt::Debug for EmrStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EmrStore")
    }
}

impl EmrStore {
    /// Opens (creating when missing) the store file at `path`, sealing under `key`.
    pub fn open(path: &Path, key: &Key) -> Result<Self, EmrError> {
        let conn = Connection::open(path)?;
        conn.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;
             CREATE TABLE IF NOT EXISTS emr (
                 document  TEXT PRIMARY KEY NOT NULL,
                 nonce     BLOB NOT NULL,
                 sealed    BLOB NOT NULL,
                 stored_at INTEGER NOT NULL
             );",
        )?;
        Ok(Self {
            conn: Mutex::new(conn),
            cipher: key.cipher(),
        })
    }

    /// Seals and stores a new document; returns its SHA-256. Refuses an id already
    /// stored ([`EmrError::Exists`]): a document is never overwritten.
    pub fn insert(&self, document: &str, content: &[u8], now: i64) -> Result<[u8; 32], EmrError> {
        let nonce = ChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: content,
                    aad: &aad(document),
                },
            )
            .map_err(|_| EmrError::Store("sealing the document failed".into()))?;
        let conn = self.conn.lock();
        let inserted = conn.execute(
            "INSERT INTO emr (document, nonce, sealed, stored_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(document) DO NOTHING",
            params![document, nonce.as_slice(), sealed, now],
        )?;
        if inserted == 0 {
            return Err(EmrError::Exists);
        }
        Ok(digest(content))
    }

    /// Removes a document (used only to undo an insert whose registration the ledger
    /// refused). True when a row was removed.
    pub fn remove(&self, document: &str) -> Result<bool, EmrError> {
        let n = self
            .conn
            .lock()
            .execute("DELETE FROM emr WHERE document = ?1", params![document])?;
        Ok(n > 0)
    }

    /// True when a document with that id is stored.
    pub fn contains(&self, document: &str) -> Result<bool, EmrError> {
        let found: Option<i64> = self
            .conn
            .lock()
            .query_row(
                "SELECT 1 FROM emr WHERE document = ?1",
                params![document],
                |r| r.get(0),
            )
            .optional()?;
        Ok(found.is_some())
    }

    /// Opens a stored document. A row that does not open under the key (changed
    /// ciphertext, nonce, or moved from another id) is [`EmrError::Tampered`].
    pub fn read(&self, document: &str) -> Result<Vec<u8>, EmrError> {
        let row: Option<(Vec<u8>, Vec<u8>)> = self
            .conn
            .lock()
            .query_row(
                "SELECT nonce, sealed FROM emr WHERE document = ?1",
                params![document],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let (nonce, sealed) = row.ok_or(EmrError::NotFound)?;
        if nonce.len() != 12 {
            return Err(EmrError::Tampered);
        }
        self.cipher
            .decrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: &sealed,
                    aad: &aad(document),
                },
            )
            .map_err(|_| EmrError::Tampered)
    }

    /// Opens a stored document and checks it against the digest the ledger holds for it:
    /// the content only when both hold, else [`EmrError::Tampered`].
    pub fn read_checked(&self, document: &str, expected: &[u8; 32]) -> Result<Vec<u8>, EmrError> {
        let content = self.read(document)?;
        if &digest(&content) == expected {
            Ok(content)
        } else {
            Err(EmrError::Tampered)
        }
    }
}
