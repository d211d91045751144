//! The genesis document: the chain's founding organisations, keys and parameters.
//!
//! Every node starts from the same genesis; its hash (over the canonical encoding,
//! not the JSON text) is the chain's identity.

use std::collections::BTreeSet;

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::crypto::PublicKey;
use crate::encoding::Canonical;
use crate::hash::{Domain, Hash32};
use crate::ids::{ChainId, KeyId, NodeId, OrgId, TenantId};

/// What an organisation does in the consortium.
#[derive(Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrgRole {
    /// A notary office: votes, co-signs evidence.
    Notary,
    /// A bank: votes, discounts bills.
    Bank,
    /// A regulator: observes, never votes.
    Regulator,
}

/// Chain-wide parameters.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainParams {
    /// The most transactions in one proposal. A proposal is cut as soon as
    /// the previous one is done, of whatever is queued up to this many.
    pub max_txs_per_block: u32,
    /// The longest an idle batcher sleeps between looks at its mempool (it
    /// is woken at once by a new transaction; this bounds a missed wake-up).
    pub max_block_wait_ms: u64,
    /// Largest encoded signed transaction.
    pub max_tx_bytes: u32,
    /// How far a transaction's timestamp may lie behind the ledger's clock.
    pub max_tx_age_ms: u64,
    /// How far a transaction's timestamp may lie ahead of the ledger's clock.
    pub max_tx_future_ms: u64,
    /// Largest contract module a deployment or upgrade may carry; system
    /// transactions may exceed `max_tx_bytes` by this much.
    pub max_code_bytes: u32,
    /// Largest argument a contract call may carry.
    pub max_args_bytes: u32,
    /// Fuel granted to each contract transaction.
    pub tx_fuel: u64,
}

impl ChainParams {
    /// The largest encoded transaction to `contract`: deployments carry code.
    pub fn max_bytes_for(&self, contract: &crate::ContractName) -> usize {
        if contract.as_str() == crate::system::SYSTEM_CONTRACT {
            self.max_envelope_bytes()
        } else {
            self.max_tx_bytes as usize
        }
    }

    /// The largest encoded transaction of any kind.
    pub fn max_envelope_bytes(&self) -> usize {
        self.max_tx_bytes as usize + self.max_code_bytes as usize
    }
}

impl Default for ChainParams {
    fn default() -> Self {
        ChainParams {
            max_txs_per_block: 1000,
            max_block_wait_ms: 50,
            max_tx_bytes: 64 * 1024,
            max_tx_age_ms: 3_600_000,
            max_tx_future_ms: 300_000,
            max_code_bytes: 1024 * 1024,
            max_args_bytes: 32 * 1024,
            tx_fuel: 20_000_000,
        }
    }
}

/// A key named in genesis.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisKey {
    /// Its id.
    pub key_id: KeyId,
    /// The ed25519 public key.
    pub public_key: PublicKey,
}

/// A founding organisation.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisOrg {
    /// Its id.
    pub id: OrgId,
    /// Its name.
    pub name: String,
    /// Its role.
    pub role: OrgRole,
    /// Keys of its administrators.
    pub admin_keys: Vec<GenesisKey>,
}

/// A tenant registered from the start.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisTenant {
    /// Its id.
    pub id: TenantId,
    /// Its name.
    pub name: String,
    /// The organisation that registered it.
    pub registered_by: OrgId,
    /// Its API keys.
    pub keys: Vec<GenesisKey>,
}

/// Whether a node votes in consensus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum NodeRole {
    /// Votes (notary offices and banks).
    Voter,
    /// Follows the ledger without voting (regulators).
    Observer,
}

/// A node admitted from the start.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisNode {
    /// Its id.
    pub id: NodeId,
    /// The organisation that runs it.
    pub org: OrgId,
    /// The ed25519 key of its certificate.
    pub public_key: PublicKey,
    /// Its libp2p peer id (derived from `public_key`; kept for people to read).
    pub peer_id: String,
    /// Voter or observer.
    pub role: NodeRole,
}

/// How many organisations must approve an administrative action.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminPolicy {
    /// Distinct organisations whose administrators must approve.
    pub min_approving_orgs: u32,
}

/// The genesis document.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Genesis {
    /// The chain id every transaction names.
    pub chain_id: ChainId,
    /// The genesis block's time, ms since the Unix epoch.
    pub genesis_time_ms: u64,
    /// Chain parameters.
    #[serde(default)]
    pub params: ChainParams,
    /// Founding organisations.
    pub organisations: Vec<GenesisOrg>,
    /// Tenants registered from the start.
    #[serde(default)]
    pub tenants: Vec<GenesisTenant>,
    /// The consortium root CA certificate (PEM); `None` for a standalone development chain.
    #[serde(default)]
    pub ca_cert_pem: Option<String>,
    /// Nodes admitted from the start.
    #[serde(default)]
    pub nodes: Vec<GenesisNode>,
    /// Approval policy for administrative actions (revocations, membership changes).
    pub admin_policy: AdminPolicy,
}

/// Why a genesis document cannot start a chain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GenesisError {
    /// No organisation at all.
    #[error("genesis names no organisation")]
    NoOrganisations,
    /// An id appears twice.
    #[error("{kind} {id} appears more than once")]
    Duplicate {
        /// What kind of id.
        kind: &'static str,
        /// The id.
        id: String,
    },
    /// A key is not a valid ed25519 key.
    #[error("key {0} is not a valid ed25519 public key")]
    InvalidKey(KeyId),
    /// A tenant names an organisation that is not in genesis.
    #[error("tenant {tenant} is registered by unknown organisation {org}")]
    UnknownOrg {
        /// The tenant.
        tenant: TenantId,
        /// The organisation it names.
        org: OrgId,
    },
    /// A node is not consistent.
    #[error("node {node}: {reason}")]
    Node {
        /// The node.
        node: NodeId,
        /// What is wrong.
        reason: String,
    },
    /// A parameter is out of range.
    #[error("parameter {name} is out of range: {reason}")]
    Param {
        /// The parameter.
        name: &'static str,
        /// Why.
        reason: &'static str,
    },
}

impl AdminPolicy {
    /// A strict majority of `orgs` organisations.
    pub fn majority(orgs: usize) -> AdminPolicy {
        AdminPolicy { min_approving_orgs: (orgs / 2 + 1) as u32 }
    }
}

impl Genesis {
    /// The genesis hash: the chain's identity.
    pub fn hash(&self) -> Hash32 {
        Hash32::of(Domain::Genesis, &self.encode())
    }

    /// Checks the document can start a chain.
    pub fn validate(&self) -> Result<(), GenesisError> {
        if self.organisations.is_empty() {
            return Err(GenesisError::NoOrganisations);
        }
        let p = &self.params;
        if p.max_txs_per_block == 0 || p.max_txs_per_block > 100_000 {
            return Err(GenesisError::Param { name: "max_txs_per_block", reason: "must be 1 to 100000" });
        }
        if p.max_tx_bytes < 256 || p.max_tx_bytes > 16 * 1024 * 1024 {
            return Err(GenesisError::Param { name: "max_tx_bytes", reason: "must be 256 B to 16 MiB" });
        }
        if p.max_block_wait_ms == 0 || p.max_block_wait_ms > 60_000 {
            return Err(GenesisError::Param { name: "max_block_wait_ms", reason: "must be 1 ms to 60 s" });
        }
        let mut orgs = BTreeSet::new();
        let mut keys = BTreeSet::new();
        let mut check_key = |k: &GenesisKey| -> Result<(), GenesisError> {
            if !keys.insert(k.key_id.clone()) {
                return Err(GenesisError::Duplicate { kind: "key", id: k.key_id.to_string() });
            }
            k.public_key.validate().map_err(|_| GenesisError::InvalidKey(k.key_id.clone()))
        };
        for org in &self.organisations {
            if !orgs.insert(org.id.clone()) {
                return Err(GenesisError::Duplicate { kind: "organisation", id: org.id.to_string() });
            }
            org.admin_keys.iter().try_for_each(&mut check_key)?;
        }
        let mut tenants = BTreeSet::new();
        for t in &self.tenants {
            if !tenants.insert(t.id.clone()) {
                return Err(GenesisError::Duplicate { kind: "tenant", id: t.id.to_string() });
            }
            if !orgs.contains(&t.registered_by) {
                return Err(GenesisError::UnknownOrg { tenant: t.id.clone(), org: t.registered_by.clone() });
            }
            t.keys.iter().try_for_each(&mut check_key)?;
        }
        let mut nodes = BTreeSet::new();
        for n in &self.nodes {
            let bad = |reason: &str| GenesisError::Node { node: n.id.clone(), reason: reason.into() };
            if !nodes.insert(n.id.clone()) {
                return Err(GenesisError::Duplicate { kind: "node", id: n.id.to_string() });
            }
            let Some(org) = self.organisations.iter().find(|o| o.id == n.org) else {
                return Err(bad("runs under an organisation that is not in genesis"));
            };
            if n.public_key.validate().is_err() {
                return Err(bad("public key is not a valid ed25519 key"));
            }
            if n.peer_id != n.public_key.peer_id() {
                return Err(bad("peer id does not match its public key"));
            }
            if org.role == OrgRole::Regulator && n.role == NodeRole::Voter {
                return Err(bad("regulator nodes observe and never vote"));
            }
        }
        if !self.nodes.is_empty() && self.ca_cert_pem.is_none() {
            return Err(GenesisError::Param {
                name: "ca_cert_pem",
                reason: "nodes need the consortium CA certificate",
            });
        }
        let orgs = self.organisations.len() as u32;
        if self.admin_policy.min_approving_orgs == 0 || self.admin_policy.min_approving_orgs > orgs {
            return Err(GenesisError::Param {
                name: "admin_policy.min_approving_orgs",
                reason: "must be between 1 and the number of organisations",
            });
        }
        Ok(())
    }
}
