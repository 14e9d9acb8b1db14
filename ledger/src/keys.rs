//! ed25519 keys and signatures: public keys and signatures shown as hex, secret keys never
//! shown at all, and strict verification.

use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey, spki::der::pem::LineEnding};
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A key or signature that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Not 64 (key) or 128 (signature) hex digits.
    #[error("{0} must be {1} lowercase hex digits")]
    BadHex(&'static str, usize),
    /// The bytes are not a valid, non-weak ed25519 public key.
    #[error("not a usable ed25519 public key (invalid point or small order)")]
    WeakKey,
    /// A PKCS#8 PEM secret key could not be read.
    #[error("cannot read the PKCS#8 PEM secret key: {0}")]
    Pem(String),
}

fn hex_exact<const N: usize>(what: &'static str, s: &str) -> Result<[u8; N], KeyError> {
    let mut out = [0u8; N];
    if s.len() != 2 * N
        || !s
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(KeyError::BadHex(what, 2 * N));
    }
    hex::decode_to_slice(s, &mut out).map_err(|_| KeyError::BadHex(what, 2 * N))?;
    Ok(out)
}

/// An ed25519 public key registered for an actor or a peer.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicKey(pub(crate) VerifyingKey);

impl PublicKey {
    /// Reads 32 bytes, refusing invalid and small-order (weak) keys.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, KeyError> {
        let key = VerifyingKey::from_bytes(bytes).map_err(|_| KeyError::WeakKey)?;
        if key.is_weak() {
            return Err(KeyError::WeakKey);
        }
        Ok(Self(key))
    }

    /// Reads 64 lowercase hex digits.
    pub fn from_hex(s: &str) -> Result<Self, KeyError> {
        Self::from_bytes(&hex_exact::<32>("public key", s)?)
    }

    /// Lowercase hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0.as_bytes())
    }

    /// Strict single verification (`verify_strict`): refuses small-order components and
    /// non-canonical encodings, so one message has one valid signature per key.
    pub fn verify(&self, message: &[u8], signature: &Signature) -> bool {
        self.0.verify_strict(message, &signature.0).is_ok()
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", &self.to_hex()[..16])
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl Serialize for PublicKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for PublicKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::from_hex(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// An ed25519 signature, 64 bytes, shown as hex.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature(pub(crate) ed25519_dalek::Signature);

impl Signature {
    /// From the raw 64 bytes.
    pub fn from_bytes(bytes: &[u8; 64]) -> Self {
        Self(ed25519_dalek::Signature::from_bytes(bytes))
    }

    /// From exactly 64 raw bytes, if that many.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        <[u8; 64]>::try_from(bytes)
            .ok()
            .map(|b| Self::from_bytes(&b))
    }

    /// The raw 64 bytes.
    pub fn to_bytes(&self) -> [u8; 64] {
        self.0.to_bytes()
    }

    /// Reads 128 lowercase hex digits.
    pub fn from_hex(s: &str) -> Result<Self, KeyError> {
        Ok(Self::from_bytes(&hex_exact::<64>("signature", s)?))
    }

    /// Lowercase hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0.to_bytes())
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({}..)", &self.to_hex()[..16])
    }
}

impl Serialize for Signature {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Signature {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::from_hex(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// A secret signing key. Its `Debug` never shows the key; it is written only as PKCS#8 PEM.
#[derive(Clone)]
pub struct SecretKey(SigningKey);

impl SecretKey {
    /// A fresh key from the operating system's random source.
    pub fn generate() -> Self {
        Self(SigningKey::generate(&mut rand::rngs::OsRng))
    }

    /// A key from a 32-byte seed (deterministic keys for fixtures and tests).
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        Self(SigningKey::from_bytes(seed))
    }

    /// The matching public key.
    pub fn public(&self) -> PublicKey {
        PublicKey(self.0.verifying_key())
    }

    /// Signs `message`.
    pub fn sign(&self, message: &[u8]) -> Signature {
        Signature(self.0.sign(message))
    }

    /// PKCS#8 PEM text, for a key file.
    pub fn to_pem(&self) -> String {
        self.0
            .to_pkcs8_pem(LineEnding::LF)
            .map(|z| z.to_string())
            .expect("an ed25519 key always encodes as PKCS#8")
    }

    /// Reads PKCS#8 PEM text.
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        SigningKey::from_pkcs8_pem(pem)
            .map(Self)
            .map_err(|e| KeyError::Pem(e.to_string()))
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SecretKey(public {}, secret redacted)",
            &self.public().to_hex()[..16]
        )
    }
}

/// Checks many signatures, one flag per item: `true` where the signature holds under
/// `verify_strict`.
///
/// Deliberately not a batch check: ed25519-dalek's batch equation is cofactorless over a
/// random linear combination, so a signer can craft an `R` with a small torsion component
/// that passes a batch (for some coefficients) but fails `verify_strict`. A peer that
/// admitted such an event after a batch check would then disagree with peers that check
/// the block strictly. Every peer and the audit use this one strict rule.
///
/// Large sets are split across the machine's cores, so one big request is not verified
/// on a single core while the others idle.
pub fn verify_many(items: &[(&PublicKey, &[u8], &Signature)]) -> Vec<bool> {
    const PARALLEL_FROM: usize = 64;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if items.len() < PARALLEL_FROM || cores < 2 {
        return items.iter().map(|(k, m, s)| k.verify(m, s)).collect();
    }
    let chunk = items.len().div_ceil(cores);
    std::thread::scope(|scope| {
        let parts: Vec<_> = items
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|(k, m, s)| k.verify(m, s))
                        .collect::<Vec<bool>>()
                })
            })
            .collect();
        parts
            .into_iter()
            .flat_map(|p| p.join().expect("verification does not panic"))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_verify_and_pem_round_trip() {
        let k = SecretKey::from_seed(&[7; 32]);
        let sig = k.sign(b"hello");
        assert!(k.public().verify(b"hello", &sig));
        assert!(!k.public().verify(b"hellp", &sig));
        let back = SecretKey::from_pem(&k.to_pem()).unwrap();
        assert_eq!(back.public(), k.public());
        assert!(!format!("{k:?}").contains(&hex::encode([7u8; 32])));
        assert_eq!(
            PublicKey::from_hex(&k.public().to_hex()).unwrap(),
            k.public()
        );
        assert_eq!(Signature::from_hex(&sig.to_hex()).unwrap(), sig);
    }

    #[test]
    fn many_in_parallel_keeps_order() {
        let keys: Vec<SecretKey> = (0..200u8).map(|i| SecretKey::from_seed(&[i; 32])).collect();
        let pubs: Vec<PublicKey> = keys.iter().map(|k| k.public()).collect();
        let msgs: Vec<Vec<u8>> = (0..200u8).map(|i| vec![i; 3]).collect();
        let sigs: Vec<Signature> = keys
            .iter()
            .zip(&msgs)
            .enumerate()
            .map(|(i, (k, m))| {
                if i % 7 == 3 {
                    keys[0].sign(m)
                } else {
                    k.sign(m)
                }
            })
            .collect();
        let items: Vec<_> = (0..200)
            .map(|i| (&pubs[i], msgs[i].as_slice(), &sigs[i]))
            .collect();
        let want: Vec<bool> = (0..200).map(|i| i % 7 != 3).collect();
        assert_eq!(verify_many(&items), want);
    }

    #[test]
    fn many_finds_the_bad_one() {
        let keys: Vec<SecretKey> = (0..5u8)
            .map(|i| SecretKey::from_seed(&[i + 1; 32]))
            .collect();
        let pubs: Vec<PublicKey> = keys.iter().map(|k| k.public()).collect();
        let msgs: Vec<Vec<u8>> = (0..5u8).map(|i| vec![i; 10]).collect();
        let mut sigs: Vec<Signature> = keys.iter().zip(&msgs).map(|(k, m)| k.sign(m)).collect();
        let items: Vec<_> = (0..5)
            .map(|i| (&pubs[i], msgs[i].as_slice(), &sigs[i]))
            .collect();
        assert_eq!(verify_many(&items), vec![true; 5]);
        sigs[3] = keys[0].sign(&msgs[3]);
        let items: Vec<_> = (0..5)
            .map(|i| (&pubs[i], msgs[i].as_slice(), &sigs[i]))
            .collect();
        assert_eq!(verify_many(&items), vec![true, true, true, false, true]);
    }

    #[test]
    fn weak_keys_are_refused() {
        // the identity point, encoded: small order
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert_eq!(PublicKey::from_bytes(&identity), Err(KeyError::WeakKey));
    }
}
