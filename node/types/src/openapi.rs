//! OpenAPI schemas (feature `openapi`) of the types whose JSON form serde does
//! not derive: hashes, keys and signatures are lower-case hex strings,
//! identifiers and versions are strings. Each is a named component, so a
//! document refers to it by name (`#/components/schemas/Hash32`).

use std::borrow::Cow;

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

use crate::crypto::{PublicKey, Signature};
use crate::hash::Hash32;
use crate::ids::{
    ChainId, ContractName, KeyId, MAX_ID_LEN, MethodName, NodeId, OrgId, ParticipantId, TenantId, TxId, Version,
};

/// The pattern of every identifier: 1 to [`MAX_ID_LEN`] characters of `A-Z a-z 0-9 . _ : -`.
pub const ID_PATTERN: &str = "^[A-Za-z0-9._:-]{1,64}$";
/// The pattern of a contract version, `MAJOR.MINOR.PATCH` in decimal without leading zeros.
pub const VERSION_PATTERN: &str = r"^(0|[1-9][0-9]{0,9})\.(0|[1-9][0-9]{0,9})\.(0|[1-9][0-9]{0,9})$";
/// The pattern of bytes in hex (fields such as transaction arguments).
pub const HEX_BYTES_PATTERN: &str = "^([0-9a-f]{2})*$";

/// A string schema.
fn string(description: &str, pattern: &str, length: Option<(usize, usize)>, example: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .pattern(Some(pattern))
        .min_length(length.map(|l| l.0))
        .max_length(length.map(|l| l.1))
        .examples([example])
        .into()
}

/// `digits` hex digits.
fn hex(description: &str, digits: usize, example: &str) -> RefOr<Schema> {
    string(description, &format!("^[0-9a-f]{{{digits}}}$"), Some((digits, digits)), example)
}

macro_rules! named {
    ($t:ty, $name:expr, $schema:expr) => {
        impl PartialSchema for $t {
            fn schema() -> RefOr<Schema> {
                $schema
            }
        }

        impl ToSchema for $t {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed($name)
            }
        }
    };
}

named!(
    Hash32,
    "Hash32",
    hex(
        "A SHA-256 digest: 64 lower-case hex digits.",
        64,
        "6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b"
    )
);
named!(Signature, "Signature", hex("An ed25519 signature: 128 lower-case hex digits.", 128, &"ab".repeat(64)));
named!(
    PublicKey,
    "PublicKey",
    hex(
        "An ed25519 public key: 64 lower-case hex digits.",
        64,
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    )
);
named!(
    Version,
    "Version",
    string("A contract version, MAJOR.MINOR.PATCH (decimal, no leading zeros).", VERSION_PATTERN, None, "1.0.0")
);

macro_rules! id {
    ($t:ident, $what:literal, $example:literal) => {
        named!(
            $t,
            stringify!($t),
            string(
                concat!($what, ": 1 to 64 characters of A-Z a-z 0-9 . _ : -"),
                ID_PATTERN,
                Some((1, MAX_ID_LEN)),
                $example
            )
        );
    };
}

id!(ChainId, "A chain id", "billflow-dev");
id!(TxId, "A transaction id chosen by the client, unique on the chain for ever", "order-2026:0001");
id!(TenantId, "A tenant platform's id", "demo-platform");
id!(ParticipantId, "A participant's id (an enterprise's unified social credit code, or a bank)", "914403001922038216");
id!(OrgId, "A consortium organisation's id", "notary-dev");
id!(KeyId, "A signing key's id", "demo-platform.key1");
id!(ContractName, "A contract name", "evidence");
id!(MethodName, "A contract method name", "submit");
id!(NodeId, "A node's id", "node-1");

#[cfg(test)]
mod tests {
    use super::*;

    /// The schema as JSON.
    fn json<T: ToSchema>() -> serde_json::Value {
        serde_json::to_value(T::schema()).unwrap()
    }

    #[test]
    fn newtypes_are_strings_as_serde_writes_them() {
        let hash = Hash32::of(crate::hash::Domain::Tx, b"x");
        let h = json::<Hash32>();
        assert_eq!(h["type"], "string");
        assert_eq!(h["pattern"], "^[0-9a-f]{64}$");
        assert_eq!(serde_json::to_value(hash).unwrap().as_str().unwrap().len(), 64);
        assert_eq!(json::<Signature>()["pattern"], "^[0-9a-f]{128}$");
        assert_eq!(Hash32::name(), "Hash32");
        assert_eq!(TxId::name(), "TxId");
        fn example<T: ToSchema>() -> String {
            json::<T>()["examples"][0].as_str().unwrap().to_string()
        }
        assert!(TxId::new(example::<TxId>()).is_ok());
        assert!(ParticipantId::new(example::<ParticipantId>()).is_ok());
        assert!(Hash32::from_hex(&example::<Hash32>()).is_ok());
        assert!(Signature::from_hex(&example::<Signature>()).is_ok());
        assert!(PublicKey::from_hex(&example::<PublicKey>()).unwrap().validate().is_ok());
        assert!(example::<Version>().parse::<Version>().is_ok());
    }
}
