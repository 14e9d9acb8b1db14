//! Names checked once at the edge: organisations, actors, peers and modules.

use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;

/// A name that broke the rules for its kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind} {value:?}: {rule}")]
pub struct BadName {
    /// Which kind of name.
    pub kind: &'static str,
    /// The offending text (shortened).
    pub value: String,
    /// The rule it broke.
    pub rule: &'static str,
}

fn check(
    kind: &'static str,
    s: &str,
    max: usize,
    extra: &[u8],
    rule: &'static str,
) -> Result<(), BadName> {
    let ok = !s.is_empty()
        && s.len() <= max
        && s.as_bytes()[0].is_ascii_alphanumeric()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || extra.contains(&b));
    if ok {
        Ok(())
    } else {
        Err(BadName {
            kind,
            value: s.chars().take(80).collect(),
            rule,
        })
    }
}

macro_rules! name_type {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $max:literal, $extra:expr, $rule:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Checks `s` against the rule for this kind of name.
            pub fn new(s: impl Into<String>) -> Result<Self, BadName> {
                let s = s.into();
                check($kind, &s, $max, $extra, $rule)?;
                Ok(Self(s))
            }

            /// The name as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{:?}", self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = BadName;
            fn from_str(s: &str) -> Result<Self, BadName> {
                Self::new(s)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                Self::new(String::deserialize(d)?).map_err(serde::de::Error::custom)
            }
        }
    };
}

name_type!(
    /// An organisation of the consortium, e.g. `acme-pharma`.
    OrgId, "organisation id", 64, b"-._", "1-64 of a-z 0-9 - . _, starting with a letter or digit"
);
name_type!(
    /// An actor (a person or system holding a signing key), e.g. `acme-pharma/qa-1`.
    ActorId, "actor id", 128, b"-._/@", "1-128 of a-z 0-9 - . _ / @, starting with a letter or digit"
);
name_type!(
    /// A peer (one running node), e.g. `acme-pharma-peer-1`.
    PeerId, "peer id", 64, b"-._", "1-64 of a-z 0-9 - . _, starting with a letter or digit"
);
name_type!(
    /// A module name or an event kind, e.g. `trace`, `commission`.
    ModuleName, "module or kind name", 32, b"_", "1-32 of a-z 0-9 _, starting with a letter or digit"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert!(OrgId::new("acme-pharma").is_ok());
        assert!(OrgId::new("Acme").is_err());
        assert!(OrgId::new("").is_err());
        assert!(OrgId::new("-x").is_err());
        assert!(ActorId::new("acme-pharma/qa-1").is_ok());
        assert!(ModuleName::new("trace").is_ok());
        assert!(ModuleName::new("trace-x").is_err());
        let e: Result<OrgId, _> = serde_json::from_str("\"BAD ORG\"");
        assert!(e.is_err());
    }
}
