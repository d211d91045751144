//! Contract interfaces in JSON, and the JSON form of contract data.
//!
//! A contract answers its [`Interface`]
//! (Borsh schema declarations of every method's argument and result and every
//! event's data) to the reserved query method `interface`; the node's own
//! `system` contract has [`system_interface`]. [`ContractInterface::from_schema`]
//! turns either into the document `GET /v1/contracts/{name}/interface` serves:
//! every type named by a flat definition (its [`TypeDef`]) that says both its
//! canonical bytes and its JSON form, so that a client in any language can
//! encode arguments from JSON itself. [`ContractInterface::encode`] and
//! [`ContractInterface::decode`] are that mapping, in both directions.

use std::collections::BTreeMap;

use billflow_contract::interface::Kind;
pub use billflow_contract::interface::{Interface, METHOD};
use borsh::schema::{Definition, Fields};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::system::{
    AddKey, AddTenantKey, ApproveAdmin, ParticipantRecord, ProposalRecord, ProposeAdmin, RegisterParticipant,
    RegisterTenant, RevokeKey, SetFrozen, TenantRecord,
};

/// Nesting deeper than this is refused (a type cannot recurse without end,
/// but a hostile value could nest options and vectors).
const MAX_DEPTH: usize = 64;

/// A contract's interface, as the gateway serves it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContractInterface {
    /// The contract's name.
    pub contract: String,
    /// The version described (the active one).
    pub version: String,
    /// Every method, in the contract's order.
    pub methods: Vec<MethodInfo>,
    /// Every event topic.
    pub events: Vec<EventInfo>,
    /// Every type named above, and every one those name, by name.
    pub types: BTreeMap<String, TypeDef>,
}

/// One method.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MethodInfo {
    /// The method's name.
    pub name: String,
    /// `write` (a transaction) or `query`.
    pub kind: MethodKind,
    /// Its argument type.
    pub args: String,
    /// Its result type.
    pub result: String,
}

/// Whether a method is called by a transaction or a query.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MethodKind {
    /// A transaction.
    Write,
    /// A query.
    Query,
}

/// One event topic.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventInfo {
    /// The topic.
    pub topic: String,
    /// The type of its data.
    pub data: String,
}

/// A type: its canonical encoding and its JSON form (docs/api.md has the table).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TypeDef {
    /// No bytes; JSON `null`.
    Unit,
    /// One byte, 0 or 1; JSON `true` or `false`.
    Bool,
    /// `bytes` little-endian bytes; a JSON number (a decimal string is also
    /// taken for 8 and 16 bytes).
    Int {
        /// 1, 2, 4, 8 or 16.
        bytes: u8,
        /// Two's complement.
        signed: bool,
    },
    /// `u32` length and UTF-8; a JSON string.
    String,
    /// `u32` length and the bytes; lower-case hex.
    Bytes,
    /// Exactly `length` bytes; hex.
    FixedBytes {
        /// The byte count.
        length: u32,
    },
    /// Byte 0, or byte 1 and the value; `null` or the value.
    Option {
        /// The type inside.
        #[serde(rename = "type")]
        ty: String,
    },
    /// `u32` count and the items; an array.
    Vec {
        /// The items' type.
        #[serde(rename = "type")]
        ty: String,
    },
    /// `length` items and no count; an array.
    Array {
        /// The item count.
        length: u32,
        /// The items' type.
        #[serde(rename = "type")]
        ty: String,
    },
    /// Each element in order; an array.
    Tuple {
        /// The elements' types.
        types: Vec<String>,
    },
    /// Each field in order; an object.
    Struct {
        /// The fields.
        fields: Vec<Field>,
    },
    /// Exactly the type inside, bytes and JSON.
    Newtype {
        /// The type inside.
        #[serde(rename = "type")]
        ty: String,
    },
    /// The variant's index byte, then its data; `"Name"` for a variant
    /// without data, `{"Name": data}` for one with.
    Enum {
        /// The variants.
        variants: Vec<Variant>,
    },
}

/// A field of a struct.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    /// Its name.
    pub name: String,
    /// Its type.
    #[serde(rename = "type")]
    pub ty: String,
}

/// A variant of an enum.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Variant {
    /// Its name.
    pub name: String,
    /// Its index byte.
    pub index: u8,
    /// The type of its data; `None` when it has none.
    #[serde(rename = "type")]
    pub ty: Option<String>,
}

/// Why a schema cannot be described, or a value encoded or decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InterfaceError {
    /// The contract's schema uses something the JSON form does not cover.
    #[error("type {name}: {reason}")]
    Schema {
        /// The declaration.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// No such method in the interface.
    #[error("the contract has no method `{0}`")]
    UnknownMethod(String),
    /// A JSON value does not fit its type.
    #[error("{path}: {reason}")]
    Value {
        /// Where in the value, e.g. `$.terms.rate`.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// Bytes do not decode as the type.
    #[error("the bytes do not decode as {ty}: {reason}")]
    Bytes {
        /// The type.
        ty: String,
        /// What is wrong.
        reason: String,
    },
}

fn schema_err(name: &str, reason: impl Into<String>) -> InterfaceError {
    InterfaceError::Schema { name: name.to_string(), reason: reason.into() }
}

fn value_err(path: &str, reason: impl Into<String>) -> InterfaceError {
    InterfaceError::Value { path: path.to_string(), reason: reason.into() }
}

/// The `system` contract's interface: the calls the node itself carries out.
/// Their results are empty; their events carry the records they wrote.
pub fn system_interface() -> Interface {
    use crate::block::{VOTERS_CHANGED, VoterKey};
    use crate::contract::ContractRecord;
    use crate::genesis::AdminPolicy;
    use crate::system::{AdminAction, NodeRecord, OrgRecord};
    Interface::new()
        .write::<RegisterTenant, ()>("register_tenant")
        .write::<RegisterParticipant, ()>("register_participant")
        .write::<AddKey, ()>("add_key")
        .write::<AddTenantKey, ()>("add_tenant_key")
        .write::<RevokeKey, ()>("revoke_key")
        .write::<SetFrozen, ()>("freeze_participant")
        .write::<SetFrozen, ()>("unfreeze_participant")
        .write::<ProposeAdmin, ()>("propose_admin")
        .write::<ApproveAdmin, ()>("approve_admin")
        .event::<TenantRecord>("tenant.registered")
        .event::<TenantRecord>("tenant.sponsor_changed")
        .event::<TenantRecord>("tenant.suspended")
        .event::<ParticipantRecord>("participant.registered")
        .event::<AddKey>("key.added")
        .event::<AddTenantKey>("tenant_key.added")
        .event::<RevokeKey>("key.revoked")
        .event::<SetFrozen>("participant.frozen")
        .event::<SetFrozen>("participant.unfrozen")
        .event::<NodeRecord>("node.added")
        .event::<NodeRecord>("node.revoked")
        .event::<NodeRecord>("node.role_changed")
        .event::<OrgRecord>("org.added")
        .event::<OrgRecord>("org.removed")
        .event::<OrgRecord>("org.ca_rotated")
        .event::<AdminAction>("admin_key.rotated")
        .event::<AdminPolicy>("policy.changed")
        .event::<ContractRecord>("contract.deployed")
        .event::<ContractRecord>("contract.upgraded")
        .event::<ContractRecord>("contract.frozen")
        .event::<ContractRecord>("contract.unfrozen")
        .event::<ContractRecord>("contract.registrations_changed")
        .event::<ProposalRecord>("admin.proposed")
        .event::<ApproveAdmin>("admin.approved")
        .event::<ProposalRecord>("admin.executed")
        .event::<Vec<VoterKey>>(VOTERS_CHANGED)
}

impl ContractInterface {
    /// Describes `schema` as the interface of version `version` of `contract`.
    pub fn from_schema(contract: &str, version: &str, schema: &Interface) -> Result<ContractInterface, InterfaceError> {
        let mut types = BTreeMap::new();
        for (name, definition) in &schema.definitions {
            types.insert(name.clone(), describe(name, definition, &schema.definitions)?);
        }
        let methods = schema
            .methods
            .iter()
            .map(|m| MethodInfo {
                name: m.name.clone(),
                kind: match m.kind {
                    Kind::Write => MethodKind::Write,
                    Kind::Query => MethodKind::Query,
                },
                args: m.args.clone(),
                result: m.result.clone(),
            })
            .collect::<Vec<_>>();
        let events = schema
            .events
            .iter()
            .map(|e| EventInfo { topic: e.topic.clone(), data: e.data.clone() })
            .collect::<Vec<_>>();
        let interface =
            ContractInterface { contract: contract.to_string(), version: version.to_string(), methods, events, types };
        let methods = interface.methods.iter().flat_map(|m| [&m.args, &m.result]);
        for name in methods.chain(interface.events.iter().map(|e| &e.data)) {
            interface.check(name, 0)?;
        }
        Ok(interface)
    }

    /// Every type `name` uses is defined.
    fn check(&self, name: &str, depth: usize) -> Result<(), InterfaceError> {
        if depth > MAX_DEPTH {
            return Ok(());
        }
        let def = self.types.get(name).ok_or_else(|| schema_err(name, "is not defined"))?;
        let inner: Vec<&String> = match def {
            TypeDef::Option { ty } | TypeDef::Vec { ty } | TypeDef::Array { ty, .. } | TypeDef::Newtype { ty } => {
                vec![ty]
            }
            TypeDef::Tuple { types } => types.iter().collect(),
            TypeDef::Struct { fields } => fields.iter().map(|f| &f.ty).collect(),
            TypeDef::Enum { variants } => variants.iter().filter_map(|v| v.ty.as_ref()).collect(),
            _ => Vec::new(),
        };
        inner.into_iter().try_for_each(|t| self.check(t, depth + 1))
    }

    /// The method `name`.
    pub fn method(&self, name: &str) -> Result<&MethodInfo, InterfaceError> {
        self.methods.iter().find(|m| m.name == name).ok_or_else(|| InterfaceError::UnknownMethod(name.to_string()))
    }

    /// The data type of events on `topic`, if the interface names it.
    pub fn event_type(&self, topic: &str) -> Option<&str> {
        self.events.iter().find(|e| e.topic == topic).map(|e| e.data.as_str())
    }

    /// The canonical bytes of JSON `value` as type `ty`.
    pub fn encode(&self, ty: &str, value: &Value) -> Result<Vec<u8>, InterfaceError> {
        let mut out = Vec::new();
        self.encode_into(ty, value, "$", 0, &mut out)?;
        Ok(out)
    }

    /// The JSON form of `bytes` as type `ty`; every byte must be used.
    pub fn decode(&self, ty: &str, bytes: &[u8]) -> Result<Value, InterfaceError> {
        let mut rest = bytes;
        let value = self
            .decode_from(ty, &mut rest, 0)
            .map_err(|reason| InterfaceError::Bytes { ty: ty.to_string(), reason })?;
        if !rest.is_empty() {
            return Err(InterfaceError::Bytes {
                ty: ty.to_string(),
                reason: format!("{} bytes left over", rest.len()),
            });
        }
        Ok(value)
    }

    fn def(&self, ty: &str) -> Result<&TypeDef, String> {
        self.types.get(ty).ok_or_else(|| format!("type {ty} is not defined"))
    }

    fn encode_into(
        &self,
        ty: &str,
        value: &Value,
        path: &str,
        depth: usize,
        out: &mut Vec<u8>,
    ) -> Result<(), InterfaceError> {
        if depth > MAX_DEPTH {
            return Err(value_err(path, "nested too deeply"));
        }
        let def = self.def(ty).map_err(|e| value_err(path, e))?;
        let expected = |what: &str| value_err(path, format!("expected {what} ({ty}), found {}", kind_of(value)));
        match def {
            TypeDef::Unit => {
                if !value.is_null() {
                    return Err(expected("null"));
                }
            }
            TypeDef::Bool => out.push(u8::from(value.as_bool().ok_or_else(|| expected("true or false"))?)),
            TypeDef::Int { bytes, signed } => encode_int(value, *bytes, *signed, path, ty, out)?,
            TypeDef::String => {
                let s = value.as_str().ok_or_else(|| expected("a string"))?;
                put_len(s.len(), path, out)?;
                out.extend_from_slice(s.as_bytes());
            }
            TypeDef::Bytes => {
                let bytes = hex_of(value, path, ty)?;
                put_len(bytes.len(), path, out)?;
                out.extend_from_slice(&bytes);
            }
            TypeDef::FixedBytes { length } => {
                let bytes = hex_of(value, path, ty)?;
                if bytes.len() != *length as usize {
                    return Err(value_err(path, format!("expected {length} bytes ({ty}), found {}", bytes.len())));
                }
                out.extend_from_slice(&bytes);
            }
            TypeDef::Option { ty: inner } => {
                if value.is_null() {
                    out.push(0);
                } else {
                    out.push(1);
                    self.encode_into(inner, value, path, depth + 1, out)?;
                }
            }
            TypeDef::Vec { ty: inner } => {
                let items = value.as_array().ok_or_else(|| expected("an array"))?;
                put_len(items.len(), path, out)?;
                for (i, item) in items.iter().enumerate() {
                    self.encode_into(inner, item, &format!("{path}[{i}]"), depth + 1, out)?;
                }
            }
            TypeDef::Array { length, ty: inner } => {
                let items = value.as_array().ok_or_else(|| expected("an array"))?;
                if items.len() != *length as usize {
                    return Err(value_err(path, format!("expected {length} items ({ty}), found {}", items.len())));
                }
                for (i, item) in items.iter().enumerate() {
                    self.encode_into(inner, item, &format!("{path}[{i}]"), depth + 1, out)?;
                }
            }
            TypeDef::Tuple { types } => {
                let items = value.as_array().ok_or_else(|| expected("an array"))?;
                if items.len() != types.len() {
                    return Err(value_err(
                        path,
                        format!("expected {} items ({ty}), found {}", types.len(), items.len()),
                    ));
                }
                for (i, (item, t)) in items.iter().zip(types).enumerate() {
                    self.encode_into(t, item, &format!("{path}[{i}]"), depth + 1, out)?;
                }
            }
            TypeDef::Struct { fields } => {
                let object = value.as_object().ok_or_else(|| expected("an object"))?;
                if let Some(unknown) = object.keys().find(|k| !fields.iter().any(|f| &f.name == *k)) {
                    return Err(value_err(path, format!("{ty} has no field `{unknown}`")));
                }
                for field in fields {
                    let at = format!("{path}.{}", field.name);
                    let item = object.get(&field.name).ok_or_else(|| value_err(&at, "is missing"))?;
                    self.encode_into(&field.ty, item, &at, depth + 1, out)?;
                }
            }
            TypeDef::Newtype { ty: inner } => self.encode_into(inner, value, path, depth + 1, out)?,
            TypeDef::Enum { variants } => {
                let names = || variants.iter().map(|v| v.name.as_str()).collect::<Vec<_>>().join(", ");
                let (name, data) = match value {
                    Value::String(name) => (name.as_str(), None),
                    Value::Object(object) if object.len() == 1 => {
                        let (name, data) = object.iter().next().ok_or_else(|| expected("a variant"))?;
                        (name.as_str(), Some(data))
                    }
                    _ => return Err(expected(&format!("one of {}", names()))),
                };
                let variant = variants
                    .iter()
                    .find(|v| v.name == name)
                    .ok_or_else(|| value_err(path, format!("{ty} has no variant `{name}` (it has {})", names())))?;
                out.push(variant.index);
                match (&variant.ty, data) {
                    (None, None) => {}
                    (None, Some(_)) => return Err(value_err(path, format!("variant {name} carries no data"))),
                    (Some(t), Some(data)) => self.encode_into(t, data, &format!("{path}.{name}"), depth + 1, out)?,
                    (Some(_), None) => {
                        return Err(value_err(path, format!("variant {name} carries data: write {{\"{name}\": ...}}")));
                    }
                }
            }
        }
        Ok(())
    }

    fn decode_from(&self, ty: &str, input: &mut &[u8], depth: usize) -> Result<Value, String> {
        if depth > MAX_DEPTH {
            return Err("nested too deeply".into());
        }
        Ok(match self.def(ty)? {
            TypeDef::Unit => Value::Null,
            TypeDef::Bool => match take(input, 1)?[0] {
                0 => Value::Bool(false),
                1 => Value::Bool(true),
                b => return Err(format!("{b} is not a bool")),
            },
            TypeDef::Int { bytes, signed } => decode_int(take(input, usize::from(*bytes))?, *signed)?,
            TypeDef::String => {
                let len = take_len(input)?;
                let bytes = take(input, len)?;
                Value::String(String::from_utf8(bytes.to_vec()).map_err(|e| format!("not UTF-8: {e}"))?)
            }
            TypeDef::Bytes => {
                let len = take_len(input)?;
                Value::String(hex::encode(take(input, len)?))
            }
            TypeDef::FixedBytes { length } => Value::String(hex::encode(take(input, *length as usize)?)),
            TypeDef::Option { ty: inner } => match take(input, 1)?[0] {
                0 => Value::Null,
                1 => self.decode_from(inner, input, depth + 1)?,
                b => return Err(format!("option tag {b}")),
            },
            TypeDef::Vec { ty: inner } => {
                let count = take_len(input)?;
                let mut items = Vec::with_capacity(count.min(input.len()));
                for _ in 0..count {
                    items.push(self.decode_from(inner, input, depth + 1)?);
                }
                Value::Array(items)
            }
            TypeDef::Array { length, ty: inner } => {
                let mut items = Vec::with_capacity(*length as usize);
                for _ in 0..*length {
                    items.push(self.decode_from(inner, input, depth + 1)?);
                }
                Value::Array(items)
            }
            TypeDef::Tuple { types } => {
                Value::Array(types.iter().map(|t| self.decode_from(t, input, depth + 1)).collect::<Result<_, _>>()?)
            }
            TypeDef::Struct { fields } => {
                let mut object = Map::new();
                for field in fields {
                    object.insert(field.name.clone(), self.decode_from(&field.ty, input, depth + 1)?);
                }
                Value::Object(object)
            }
            TypeDef::Newtype { ty: inner } => self.decode_from(inner, input, depth + 1)?,
            TypeDef::Enum { variants } => {
                let index = take(input, 1)?[0];
                let variant =
                    variants.iter().find(|v| v.index == index).ok_or_else(|| format!("{ty} has no variant {index}"))?;
                match &variant.ty {
                    None => Value::String(variant.name.clone()),
                    Some(t) => {
                        let data = self.decode_from(t, input, depth + 1)?;
                        Value::Object(Map::from_iter([(variant.name.clone(), data)]))
                    }
                }
            }
        })
    }
}

/// The [`TypeDef`] of declaration `name`, whose Borsh definition is `def`.
fn describe(name: &str, def: &Definition, all: &BTreeMap<String, Definition>) -> Result<TypeDef, InterfaceError> {
    Ok(match def {
        Definition::Primitive(size) => match name {
            "()" => TypeDef::Unit,
            "bool" => TypeDef::Bool,
            "u8" | "u16" | "u32" | "u64" | "u128" | "i8" | "i16" | "i32" | "i64" | "i128" => {
                TypeDef::Int { bytes: *size, signed: name.starts_with('i') }
            }
            _ => return Err(schema_err(name, "is a primitive the JSON form does not cover")),
        },
        Definition::Sequence { length_width, length_range, elements } => match length_width {
            0 => {
                let length = u32::try_from(*length_range.end()).map_err(|_| schema_err(name, "is too long"))?;
                if elements == "u8" {
                    TypeDef::FixedBytes { length }
                } else {
                    TypeDef::Array { length, ty: elements.clone() }
                }
            }
            4 if name == "String" => TypeDef::String,
            4 if elements == "u8" => TypeDef::Bytes,
            4 => TypeDef::Vec { ty: elements.clone() },
            w => return Err(schema_err(name, format!("has a {w}-byte length"))),
        },
        Definition::Tuple { elements } if elements.is_empty() => TypeDef::Unit,
        Definition::Tuple { elements } => TypeDef::Tuple { types: elements.clone() },
        Definition::Enum { tag_width, variants } => {
            if *tag_width != 1 {
                return Err(schema_err(name, format!("has a {tag_width}-byte tag")));
            }
            let is_option = name.starts_with("Option<")
                && variants.len() == 2
                && variants[0].0 == 0
                && variants[0].1 == "None"
                && variants[1].0 == 1
                && variants[1].1 == "Some";
            if is_option {
                return Ok(TypeDef::Option { ty: variants[1].2.clone() });
            }
            let variants = variants
                .iter()
                .map(|(index, variant, decl)| {
                    let index = u8::try_from(*index).map_err(|_| schema_err(name, format!("variant index {index}")))?;
                    let empty = matches!(all.get(decl), Some(Definition::Struct { fields: Fields::Empty }))
                        || matches!(all.get(decl), Some(Definition::Primitive(0)));
                    Ok(Variant { name: variant.clone(), index, ty: (!empty).then(|| decl.clone()) })
                })
                .collect::<Result<Vec<_>, InterfaceError>>()?;
            TypeDef::Enum { variants }
        }
        Definition::Struct { fields } => match fields {
            Fields::NamedFields(fields) => TypeDef::Struct {
                fields: fields.iter().map(|(n, t)| Field { name: n.clone(), ty: t.clone() }).collect(),
            },
            Fields::UnnamedFields(types) if types.len() == 1 => TypeDef::Newtype { ty: types[0].clone() },
            Fields::UnnamedFields(types) => TypeDef::Tuple { types: types.clone() },
            Fields::Empty => TypeDef::Unit,
        },
    })
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a bool",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn put_len(len: usize, path: &str, out: &mut Vec<u8>) -> Result<(), InterfaceError> {
    let len = u32::try_from(len).map_err(|_| value_err(path, "is longer than 2^32 - 1"))?;
    out.extend_from_slice(&len.to_le_bytes());
    Ok(())
}

fn hex_of(value: &Value, path: &str, ty: &str) -> Result<Vec<u8>, InterfaceError> {
    let text = value.as_str().ok_or_else(|| value_err(path, format!("expected lower-case hex ({ty})")))?;
    if text.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(value_err(path, format!("expected lower-case hex ({ty})")));
    }
    hex::decode(text).map_err(|e| value_err(path, format!("not hex ({ty}): {e}")))
}

fn encode_int(
    value: &Value,
    bytes: u8,
    signed: bool,
    path: &str,
    ty: &str,
    out: &mut Vec<u8>,
) -> Result<(), InterfaceError> {
    let bad = || value_err(path, format!("expected an integer that fits {ty}, found {value}"));
    let n: i128 = match value {
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i128::from(i),
            (None, Some(u)) => i128::from(u),
            _ => return Err(bad()),
        },
        // Large integers as decimal strings, for languages whose numbers are
        // doubles: one way to write each (no sign but `-`, no leading zero, no `-0`).
        Value::String(s) if bytes >= 8 && canonical_decimal(s) => {
            s.parse::<i128>().or_else(|_| s.parse::<u128>().map(|u| u as i128).map_err(|_| ())).map_err(|()| bad())?
        }
        _ => return Err(bad()),
    };
    let width = usize::from(bytes);
    if bytes == 16 && !signed {
        // u128: the string form may exceed i128; reparse it unsigned.
        let u: u128 = match value {
            Value::String(s) => s.parse().map_err(|_| bad())?,
            _ => u128::try_from(n).map_err(|_| bad())?,
        };
        out.extend_from_slice(&u.to_le_bytes());
        return Ok(());
    }
    let fits = if signed {
        let half = 1i128 << (width * 8 - 1);
        (-half..half).contains(&n)
    } else {
        n >= 0 && (width == 16 || n < (1i128 << (width * 8)))
    };
    if !fits {
        return Err(bad());
    }
    out.extend_from_slice(&n.to_le_bytes()[..width]);
    Ok(())
}

/// `0`, or an optional `-` and digits without a leading zero (not `-0`).
fn canonical_decimal(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" && digits.len() == s.len() || !digits.starts_with('0'))
}

fn decode_int(bytes: &[u8], signed: bool) -> Result<Value, String> {
    let mut buf = [0u8; 16];
    buf[..bytes.len()].copy_from_slice(bytes);
    let negative = signed && bytes.last().is_some_and(|b| b & 0x80 != 0);
    if negative {
        buf[bytes.len()..].fill(0xff);
    }
    Ok(if signed {
        let n = i128::from_le_bytes(buf);
        i64::try_from(n).map(Value::from).unwrap_or_else(|_| Value::String(n.to_string()))
    } else {
        let n = u128::from_le_bytes(buf);
        u64::try_from(n).map(Value::from).unwrap_or_else(|_| Value::String(n.to_string()))
    })
}

fn take<'a>(input: &mut &'a [u8], n: usize) -> Result<&'a [u8], String> {
    if input.len() < n {
        return Err(format!("{n} bytes wanted, {} left", input.len()));
    }
    let (head, tail) = input.split_at(n);
    *input = tail;
    Ok(head)
}

fn take_len(input: &mut &[u8]) -> Result<usize, String> {
    let bytes = take(input, 4)?;
    let n = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    usize::try_from(n).map_err(|_| "length does not fit".to_string())
}

#[cfg(test)]
mod tests {
    use borsh::{BorshDeserialize, BorshSchema, BorshSerialize};
    use serde_json::json;

    use super::*;
    use crate::system::{KeyGrant, ParticipantKind};

    #[derive(Debug, PartialEq, BorshSerialize, BorshDeserialize, BorshSchema)]
    enum Shape {
        Empty,
        Circle(u32),
        Rect { w: u16, h: i64 },
    }

    #[derive(Debug, PartialEq, BorshSerialize, BorshDeserialize, BorshSchema)]
    struct Sample {
        name: String,
        blob: Vec<u8>,
        digest: [u8; 4],
        maybe: Option<u64>,
        shapes: Vec<Shape>,
        pair: (bool, i8),
        big: u128,
    }

    fn sample_interface() -> ContractInterface {
        let schema = Interface::new().write::<Sample, Option<Shape>>("put").event::<Shape>("shaped");
        ContractInterface::from_schema("demo", "1.0.0", &schema).unwrap()
    }

    #[test]
    fn json_encodes_to_the_same_bytes_as_borsh_and_decodes_back() {
        let i = sample_interface();
        let value = Sample {
            name: "票据".into(),
            blob: vec![0, 255],
            digest: [1, 2, 3, 4],
            maybe: Some(u64::MAX),
            shapes: vec![Shape::Empty, Shape::Circle(7), Shape::Rect { w: 3, h: -9 }],
            pair: (true, -1),
            big: u128::MAX,
        };
        let text = json!({
            "name": "票据", "blob": "00ff", "digest": "01020304", "maybe": "18446744073709551615",
            "shapes": ["Empty", {"Circle": 7}, {"Rect": {"w": 3, "h": -9}}], "pair": [true, -1],
            "big": "340282366920938463463374607431768211455",
        });
        let bytes = i.encode("Sample", &text).unwrap();
        assert_eq!(bytes, borsh::to_vec(&value).unwrap());
        let back = i.decode("Sample", &bytes).unwrap();
        assert_eq!(back["maybe"], json!(u64::MAX));
        assert_eq!(back["big"], json!("340282366920938463463374607431768211455"));
        assert_eq!(i.encode("Sample", &back).unwrap(), bytes);
        assert_eq!(i.decode("Option<Shape>", &[0]).unwrap(), Value::Null);
        assert_eq!(i.event_type("shaped"), Some("Shape"));
    }

    #[test]
    fn values_that_do_not_fit_are_refused_with_where_and_why() {
        let i = sample_interface();
        let good = json!({"name": "a", "blob": "", "digest": "00000000", "maybe": null, "shapes": [],
            "pair": [false, 0], "big": 0});
        assert!(i.encode("Sample", &good).is_ok());
        let cases = [
            ("name", json!(5), "$.name: expected a string"),
            ("blob", json!("0g"), "$.blob: not hex"),
            ("blob", json!("AB"), "$.blob: expected lower-case hex"),
            ("digest", json!("00"), "$.digest: expected 4 bytes"),
            ("maybe", json!(-1), "$.maybe: expected an integer"),
            ("shapes", json!(["Circle"]), "$.shapes[0]: variant Circle carries data"),
            ("shapes", json!([{"Square": 1}]), "$.shapes[0]: Shape has no variant `Square`"),
            ("pair", json!([false, 128]), "$.pair[1]: expected an integer"),
            ("maybe", json!("007"), "$.maybe: expected an integer"),
            ("maybe", json!("-0"), "$.maybe: expected an integer"),
            ("maybe", json!("+7"), "$.maybe: expected an integer"),
        ];
        for (field, bad, says) in cases {
            let mut value = good.clone();
            value[field] = bad;
            let e = i.encode("Sample", &value).unwrap_err().to_string();
            assert!(e.starts_with(says), "{field}: {e}");
        }
        let mut extra = good.clone();
        extra["colour"] = json!("red");
        assert!(i.encode("Sample", &extra).unwrap_err().to_string().contains("no field `colour`"));
        let mut missing = good;
        missing.as_object_mut().unwrap().remove("big");
        assert_eq!(i.encode("Sample", &missing).unwrap_err().to_string(), "$.big: is missing");
        assert!(i.decode("Shape", &[9]).is_err());
        assert!(i.decode("Option<Shape>", &[0, 0]).unwrap_err().to_string().contains("left over"));
    }

    #[test]
    fn the_system_contract_describes_each_call_and_encodes_as_the_node_decodes() {
        let i = ContractInterface::from_schema("system", "1.0.0", &system_interface()).unwrap();
        let call = RegisterParticipant {
            participant: "91350100M000100Y43".parse().unwrap(),
            kind: ParticipantKind::Enterprise,
            name: "Acme".into(),
            keys: vec![KeyGrant { key_id: "acme.k1".parse().unwrap(), public_key: crate::PublicKey([7; 32]) }],
        };
        let text = json!({"participant": "91350100M000100Y43", "kind": "Enterprise", "name": "Acme",
            "keys": [{"key_id": "acme.k1", "public_key": hex::encode([7u8; 32])}]});
        let method = i.method("register_participant").unwrap();
        assert_eq!(i.encode(&method.args, &text).unwrap(), borsh::to_vec(&call).unwrap());
        assert_eq!(i.decode(&method.args, &borsh::to_vec(&call).unwrap()).unwrap(), text);
        assert!(matches!(i.method("mint"), Err(InterfaceError::UnknownMethod(_))));
    }
}
