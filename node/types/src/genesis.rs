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
use crate::ids::{ChainId, KeyId, OrgId, TenantId};

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
    /// A proposal is cut when it holds this many transactions...
    pub max_txs_per_block: u32,
    /// ...or when its first transaction has waited this long.
    pub max_block_wait_ms: u64,
    /// Largest encoded signed transaction.
    pub max_tx_bytes: u32,
    /// How far a transaction's timestamp may lie behind the ledger's clock.
    pub max_tx_age_ms: u64,
    /// How far a transaction's timestamp may lie ahead of the ledger's clock.
    pub max_tx_future_ms: u64,
}

impl Default for ChainParams {
    fn default() -> Self {
        ChainParams {
            max_txs_per_block: 1000,
            max_block_wait_ms: 50,
            max_tx_bytes: 64 * 1024,
            max_tx_age_ms: 3_600_000,
            max_tx_future_ms: 300_000,
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
    /// A parameter is out of range.
    #[error("parameter {name} is out of range: {reason}")]
    Param {
        /// The parameter.
        name: &'static str,
        /// Why.
        reason: &'static str,
    },
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
        Ok(())
    }
}
