//! The store key: 32 random bytes kept in a file of 64 hex digits (mode 0600), never
//! printed (`Debug` is redacted) and wiped from memory when dropped.

use crate::EmrError;
use chacha20poly1305::aead::{KeyInit, OsRng, rand_core::RngCore};
use std::fmt;
use std::path::Path;
use zeroize::{Zeroize, Zeroizing};

/// A ChaCha20-Poly1305 key for the EMR store.
#[derive(Clone)]
pub struct Key([u8; 32]);

impl Key {
    /// A fresh random key.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// Reads 64 hex digits (surrounding whitespace ignored).
    pub fn from_hex(text: &str) -> Result<Self, EmrError> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(text.trim(), &mut bytes)
            .map_err(|_| EmrError::BadKey("an EMR key file holds exactly 64 hex digits".into()))?;
        Ok(Self(bytes))
    }

    /// Reads a key file.
    pub fn read(path: &Path) -> Result<Self, EmrError> {
        let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| {
            EmrError::BadKey(format!(
                "cannot read the EMR key file {} ({e}); `pedigree init` creates one",
                path.display()
            ))
        })?);
        Self::from_hex(&text)
    }

    /// Writes the key to a new file readable by its owner only; refuses to replace an
    /// existing file, since documents sealed under the old key would be lost.
    pub fn write_new(&self, path: &Path) -> Result<(), EmrError> {
        use std::io::Write;
        let fail = |e: std::io::Error| {
            EmrError::BadKey(format!(
                "cannot write the EMR key file {}: {e}",
                path.display()
            ))
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(fail)?;
        }
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(path).map_err(fail)?;
        let text = Zeroizing::new(format!("{}\n", hex::encode(self.0)));
        file.write_all(text.as_bytes()).map_err(fail)?;
        file.sync_all().map_err(fail)
    }

    pub(crate) fn cipher(&self) -> chacha20poly1305::ChaCha20Poly1305 {
        chacha20poly1305::ChaCha20Poly1305::new((&self.0).into())
    }
}

impl Drop for Key {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Key(<redacted>)")
    }
}
