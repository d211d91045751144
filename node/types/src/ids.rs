//! Validated identifiers. Every identifier is 1 to 64 characters of
//! `A-Z a-z 0-9 . _ : -`, checked when it is built, decoded or parsed from JSON, so
//! an invalid identifier cannot exist in memory.

use std::fmt;
use std::str::FromStr;

use borsh::{BorshDeserialize, BorshSchema, BorshSerialize};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The longest identifier, in bytes.
pub const MAX_ID_LEN: usize = 64;

/// Why a string is not a valid identifier or version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// Empty or longer than [`MAX_ID_LEN`].
    #[error("{kind} must be 1 to {MAX_ID_LEN} characters, got {len}")]
    Length {
        /// Which identifier.
        kind: &'static str,
        /// Its length.
        len: usize,
    },
    /// Holds a character outside the allowed set.
    #[error("{kind} may only hold A-Z a-z 0-9 . _ : - (found {found:?})")]
    Character {
        /// Which identifier.
        kind: &'static str,
        /// The first offending character.
        found: char,
    },
    /// Not `MAJOR.MINOR.PATCH`.
    #[error("version must be MAJOR.MINOR.PATCH with decimal numbers, got {0:?}")]
    Version(String),
}

fn check_id(kind: &'static str, s: &str) -> Result<(), IdError> {
    if s.is_empty() || s.len() > MAX_ID_LEN {
        return Err(IdError::Length { kind, len: s.len() });
    }
    if let Some(found) = s.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-'))) {
        return Err(IdError::Character { kind, found });
    }
    Ok(())
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, BorshSerialize, BorshSchema)]
        pub struct $name(String);

        impl $name {
            /// Validates and wraps `s`.
            pub fn new(s: impl Into<String>) -> Result<Self, IdError> {
                let s = s.into();
                check_id($kind, &s)?;
                Ok($name(s))
            }

            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl BorshDeserialize for $name {
            fn deserialize_reader<R: std::io::Read>(reader: &mut R) -> std::io::Result<Self> {
                let s = String::deserialize_reader(reader)?;
                $name::new(s).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()))
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                $name::new(s)
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

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $name::new(<String as Deserialize>::deserialize(d)?).map_err(serde::de::Error::custom)
            }
        }
    };
}

id_type!(
    /// The chain a transaction or block belongs to.
    ChainId, "chain id"
);
id_type!(
    /// A transaction id chosen by the client; unique on the chain for ever.
    TxId, "tx_id"
);
id_type!(
    /// A SaaS tenant (a core enterprise's platform).
    TenantId, "tenant id"
);
id_type!(
    /// A participant: an enterprise (its unified social credit code) or a bank.
    ParticipantId, "participant id"
);
id_type!(
    /// A consortium organisation (notary office, bank, regulator).
    OrgId, "organisation id"
);
id_type!(
    /// A signing key's id.
    KeyId, "key id"
);
id_type!(
    /// A contract name.
    ContractName, "contract name"
);
id_type!(
    /// A contract method name.
    MethodName, "method name"
);
id_type!(
    /// A node of the network.
    NodeId, "node id"
);

/// A contract version, `MAJOR.MINOR.PATCH`; versions order numerically.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct Version {
    /// Incompatible changes.
    pub major: u32,
    /// Compatible additions.
    pub minor: u32,
    /// Fixes.
    pub patch: u32,
}

impl Version {
    /// `major.minor.patch`.
    pub const fn new(major: u32, minor: u32, patch: u32) -> Version {
        Version { major, minor, patch }
    }
}

impl FromStr for Version {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Version, IdError> {
        let bad = || IdError::Version(s.chars().take(MAX_ID_LEN).collect());
        let mut parts = s.split('.');
        let mut next = || -> Result<u32, IdError> {
            let p = parts.next().ok_or_else(bad)?;
            if p.is_empty()
                || p.len() > 10
                || !p.bytes().all(|b| b.is_ascii_digit())
                || (p.len() > 1 && p.starts_with('0'))
            {
                return Err(bad());
            }
            p.parse().map_err(|_| bad())
        };
        let v = Version::new(next()?, next()?, next()?);
        if parts.next().is_some() {
            return Err(bad());
        }
        Ok(v)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

impl fmt::Debug for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl Serialize for Version {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Version {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        <String as Deserialize>::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::encoding::Canonical;

    #[test]
    fn identifiers_are_checked_everywhere() {
        assert!(TxId::new("order-2025:0001.a_b").is_ok());
        assert_eq!(TxId::new(""), Err(IdError::Length { kind: "tx_id", len: 0 }));
        assert!(matches!(TxId::new("a".repeat(65)), Err(IdError::Length { len: 65, .. })));
        assert_eq!(TxId::new("a b"), Err(IdError::Character { kind: "tx_id", found: ' ' }));
        // Decoding refuses what construction refuses.
        let bytes = "a/b".to_string().encode();
        assert!(TxId::decode(&bytes).is_err());
        assert!(serde_json::from_str::<TenantId>("\"<script>\"").is_err());
    }

    #[test]
    fn versions_parse_and_order() {
        let v: Version = "1.10.0".parse().unwrap();
        assert_eq!(v, Version::new(1, 10, 0));
        assert!(Version::new(1, 9, 9) < v);
        for bad in ["1.0", "1.0.0.0", "01.0.0", "a.b.c", "1..0", "", "99999999999.0.0"] {
            assert!(bad.parse::<Version>().is_err(), "{bad}");
        }
        assert_eq!(serde_json::to_string(&v).unwrap(), "\"1.10.0\"");
    }

    proptest! {
        #[test]
        fn ids_round_trip(s in "[A-Za-z0-9._:-]{1,64}") {
            let id = KeyId::new(s.clone()).unwrap();
            prop_assert_eq!(KeyId::decode(&id.encode()).unwrap(), id.clone());
            prop_assert_eq!(id.as_str(), s.as_str());
        }

        #[test]
        fn versions_round_trip(a in any::<u32>(), b in any::<u32>(), c in any::<u32>()) {
            let v = Version::new(a, b, c);
            prop_assert_eq!(v.to_string().parse::<Version>().unwrap(), v);
            prop_assert_eq!(Version::decode(&v.encode()).unwrap(), v);
        }
    }
}

/// Characters of a unified social credit code (GB 32100-2015), in value order.
// Shared with personal-data detection, which must tell an all-digit credit
// code from an identity or card number.
pub use billflow_privacy::{credit_code_check_char, is_valid_credit_code};

#[cfg(test)]
mod credit_code_tests {
    use super::*;

    #[test]
    fn known_codes_check() {
        // A published code of a well-known company.
        assert!(is_valid_credit_code("914403001922038216"));
        assert!(!is_valid_credit_code("914403001922038217"));
        assert!(!is_valid_credit_code("91440300192203821"));
        assert!(!is_valid_credit_code("91440300192203821I"));
    }
}
