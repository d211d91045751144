//! A contract's interface: every method with its argument and result types,
//! and every event topic with its data type, as Borsh schema declarations.
//!
//! A contract builds it from its own Rust types, so it cannot drift from what
//! the contract decodes and encodes, and answers it to the reserved query
//! method [`METHOD`] (see [`contract!`](crate::contract)'s `interface` entry).
//! The node turns it into the JSON document that clients in any language
//! encode arguments from.

use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use borsh::schema::{Declaration, Definition};
use borsh::{BorshDeserialize, BorshSchema, BorshSerialize};

/// The reserved read-only method that answers a contract's [`Interface`].
pub const METHOD: &str = "interface";

/// Whether a method writes (a transaction) or only reads (a query).
#[derive(Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub enum Kind {
    /// Called by a transaction; changes the ledger.
    Write,
    /// Called by a query; reads the committed state.
    Query,
}

/// One method.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct MethodSpec {
    /// Its name, e.g. `bill.issue`.
    pub name: String,
    /// Write or query.
    pub kind: Kind,
    /// The declaration of its argument type.
    pub args: Declaration,
    /// The declaration of its result type.
    pub result: Declaration,
}

/// One event topic.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct EventSpec {
    /// The topic, e.g. `bill.changed`.
    pub topic: String,
    /// The declaration of its data type.
    pub data: Declaration,
}

/// Every method and event of a contract, with the definitions of every type
/// they use (Borsh schema).
#[derive(Debug, Clone, PartialEq, Eq, Default, BorshSerialize, BorshDeserialize)]
pub struct Interface {
    /// The methods, in the order the contract lists them.
    pub methods: Vec<MethodSpec>,
    /// The event topics.
    pub events: Vec<EventSpec>,
    /// Each declaration used above, and each one those use, with its definition.
    pub definitions: BTreeMap<Declaration, Definition>,
}

impl Interface {
    /// An empty interface.
    pub fn new() -> Interface {
        Interface::default()
    }

    /// Adds method `name` of `kind`, taking `A` and answering `R`.
    pub fn method<A: BorshSchema, R: BorshSchema>(mut self, name: &str, kind: Kind) -> Interface {
        A::add_definitions_recursively(&mut self.definitions);
        R::add_definitions_recursively(&mut self.definitions);
        self.methods.push(MethodSpec {
            name: name.to_string(),
            kind,
            args: A::declaration(),
            result: R::declaration(),
        });
        self
    }

    /// Adds a write method (see [`method`](Self::method)).
    pub fn write<A: BorshSchema, R: BorshSchema>(self, name: &str) -> Interface {
        self.method::<A, R>(name, Kind::Write)
    }

    /// Adds a query method (see [`method`](Self::method)).
    pub fn query<A: BorshSchema, R: BorshSchema>(self, name: &str) -> Interface {
        self.method::<A, R>(name, Kind::Query)
    }

    /// Adds event `topic` carrying `T`.
    pub fn event<T: BorshSchema>(mut self, topic: &str) -> Interface {
        T::add_definitions_recursively(&mut self.definitions);
        self.events.push(EventSpec { topic: topic.to_string(), data: T::declaration() });
        self
    }

    /// The method named `name`.
    pub fn find(&self, name: &str) -> Option<&MethodSpec> {
        self.methods.iter().find(|m| m.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(BorshSerialize, BorshDeserialize, BorshSchema)]
    struct Greet {
        name: String,
        times: Option<u32>,
    }

    #[test]
    fn an_interface_names_its_types_and_defines_each_one_it_uses() {
        let i = Interface::new().write::<Greet, Vec<u8>>("greet").query::<(), u64>("count").event::<Greet>("greeted");
        assert_eq!(i.find("greet").map(|m| (m.args.as_str(), m.result.as_str())), Some(("Greet", "Vec<u8>")));
        assert_eq!(i.find("count").map(|m| m.kind), Some(Kind::Query));
        for name in ["Greet", "String", "Option<u32>", "u32", "Vec<u8>", "u8", "()", "u64"] {
            assert!(i.definitions.contains_key(name), "{name} is not defined: {:?}", i.definitions.keys());
        }
        let bytes = borsh::to_vec(&i).unwrap();
        assert_eq!(borsh::from_slice::<Interface>(&bytes).unwrap(), i);
    }
}
