//! Deployed WASM contracts as the system contract records them.
//!
//! A contract's code is stored once, under its code hash; the contract record
//! names the active version, its code hash, whether it is frozen and who may
//! invoke it. Every change goes through an administrative proposal approved by
//! the admin policy from genesis ([`crate::system::AdminAction`]).

use borsh::{BorshDeserialize, BorshSchema, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::hash::Hash32;
use crate::ids::{ContractName, OrgId, TenantId, Version};

/// Who may invoke a contract: administrators and bank or notary participants
/// of a listed organisation, and the tenant platforms listed with their
/// enterprises. Nobody else.
#[derive(
    Debug, Clone, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema, Serialize, Deserialize,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Registrations {
    /// Consortium organisations, sorted, without repeats.
    pub orgs: Vec<OrgId>,
    /// Tenant platforms, sorted, without repeats.
    pub tenants: Vec<TenantId>,
}

impl Registrations {
    /// The same lists sorted and without repeats: the form stored on the ledger.
    pub fn normalised(mut self) -> Registrations {
        self.orgs.sort();
        self.orgs.dedup();
        self.tenants.sort();
        self.tenants.dedup();
        self
    }

    /// Whether a caller of organisation `org` or tenant `tenant` is registered.
    pub fn admits(&self, org: Option<&OrgId>, tenant: Option<&TenantId>) -> bool {
        org.is_some_and(|o| self.orgs.binary_search(o).is_ok())
            || tenant.is_some_and(|t| self.tenants.binary_search(t).is_ok())
    }
}

/// Whether a contract may be invoked.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ContractStatus {
    /// It may be invoked.
    Active,
    /// Every transaction to it fails with `E_CONTRACT_FROZEN` until it is unfrozen.
    Frozen {
        /// Why.
        reason: String,
        /// Height of the freeze.
        at_height: u64,
    },
}

/// One version a contract has had.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContractVersion {
    /// The version.
    pub version: Version,
    /// The hash of its code ([`crate::Domain::ContractCode`]).
    pub code_hash: Hash32,
    /// Height at which it became active.
    pub installed_at_height: u64,
}

/// A deployed contract.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContractRecord {
    /// Its name.
    pub name: ContractName,
    /// The active version: every transaction must name exactly this one.
    pub version: Version,
    /// The active code.
    pub code_hash: Hash32,
    /// Active or frozen.
    pub status: ContractStatus,
    /// Who may invoke it.
    pub registrations: Registrations,
    /// Every version, oldest first (the last is the active one).
    pub history: Vec<ContractVersion>,
}

/// The system-contract state key of a contract record.
pub fn contract_key(name: &ContractName) -> Vec<u8> {
    [b"contract/".as_slice(), name.as_str().as_bytes()].concat()
}

/// The system-contract state key of contract code.
pub fn code_key(hash: &Hash32) -> Vec<u8> {
    [b"code/".as_slice(), hash.0.as_slice()].concat()
}
