//! The consortium's founding material: each organisation's CA, administrator
//! and node certificates, tenant keys, the signed `genesis.json` and one
//! configuration file per node. Used by the `billflow-genesis` command and by
//! test harnesses.
//!
//! Every key is ed25519. Keys come from the operating system's random source, or
//! from a seed when a reproducible network is wanted (tests, demos): then, with a
//! fixed genesis time, the same inputs give byte-identical output and the same
//! genesis hash. This crate writes files; it never talks to a node.

pub mod ceremony;
pub mod certs;
pub mod config;
pub mod init;
pub mod inspect;
pub mod keys;

pub use ceremony::{AssembleSpec, Bundle, BundleNode, OrgInitSpec, assemble, org_init, read_bundle};
pub use certs::{Ca, CertError, IssuedCert, NodeCertSpec};
pub use config::{ExplorerConfig, NodeConfig, PeerConfig};
pub use init::{InitOutput, InitSpec, OrgSpec, init};

#[cfg(test)]
mod tests;
