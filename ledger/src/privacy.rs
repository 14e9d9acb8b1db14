//! Pseudonymous patient references: the only way a patient may appear on the ledger.
//! A reference is a keyed hash (64 lowercase hex digits) that only the patient's hospital
//! can map back to a person; it is never shown in logs or `Debug` output.

use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;

/// A reference that is not 64 lowercase hex digits (so possibly a name or record number).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "BAD_PATIENT_REF: a patient reference must be 64 lowercase hex digits (a keyed hash the hospital holds), never a name or record number"
)]
pub struct BadPatientRef;

/// A pseudonymous patient reference.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct PatientRef(String);

impl PatientRef {
    /// Checks the shape: exactly 64 lowercase hex digits. Anything else is refused
    /// without echoing it, since it may be personal data.
    pub fn new(s: &str) -> Result<Self, BadPatientRef> {
        if s.len() == 64
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            Ok(Self(s.to_string()))
        } else {
            Err(BadPatientRef)
        }
    }

    /// The reference, for the hospital holding the key and for state keys.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PatientRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PatientRef(<redacted>)")
    }
}

impl<'de> Deserialize<'de> for PatientRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::new(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_keyed_hashes_pass_and_nothing_leaks() {
        let good = "ab".repeat(32);
        assert!(PatientRef::new(&good).is_ok());
        assert_eq!(
            format!("{:?}", PatientRef::new(&good).unwrap()),
            "PatientRef(<redacted>)"
        );
        for bad in ["Jane Doe", "MRN-12345", &"AB".repeat(32), &"ab".repeat(31)] {
            assert_eq!(PatientRef::new(bad), Err(BadPatientRef));
        }
        let err = serde_json::from_str::<PatientRef>("\"Jane Doe\"")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("Jane"), "{err}");
    }
}
