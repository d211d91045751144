//! The genesis document: the chain's founding organisations, keys and parameters.
//!
//! Every node starts from the same genesis; its hash (over the canonical encoding,
//! not the JSON text) is the chain's identity.

use std::collections::BTreeSet;

use borsh::{BorshDeserialize, BorshSchema, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::crypto::{PublicKey, SecretKey, Signature};
use crate::encoding::Canonical;
use crate::hash::{Domain, Hash32};
use crate::ids::{ChainId, KeyId, NodeId, OrgId, TenantId};

/// What an organisation does in the consortium.
#[derive(Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisKey {
    /// Its id.
    pub key_id: KeyId,
    /// The ed25519 public key.
    pub public_key: PublicKey,
}

/// A founding organisation.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema, Serialize, Deserialize)]
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
    /// Its own CA certificate (PEM): the only issuer of its nodes' certificates.
    /// `None` for an organisation that runs no node.
    #[serde(default)]
    pub ca_cert_pem: Option<String>,
}

/// A tenant registered from the start.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum NodeRole {
    /// Votes (notary offices and banks).
    Voter,
    /// Follows the ledger without voting (regulators).
    Observer,
}

/// A node admitted from the start.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema, Serialize, Deserialize)]
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
    /// Where other nodes dial it (a libp2p multiaddr), as its organisation announced it.
    #[serde(default)]
    pub address: Option<String>,
}

/// A founding organisation's approval of a genesis document: its
/// administrator's signature over the genesis hash.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisSignature {
    /// The organisation.
    pub org: OrgId,
    /// Its administrator key that signed.
    pub key_id: KeyId,
    /// ed25519 over the genesis hash in the `GenesisSignature` domain.
    pub signature: Signature,
}

/// How a regulator's approval of an administrative action weighs.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum RegulatorApproval {
    /// It counts like any organisation's.
    #[default]
    Counts,
    /// It counts, and no action is carried out without one.
    Required,
    /// It is recorded but does not count towards the policy.
    Excluded,
}

/// Which approvals carry out an administrative action: at least
/// `min_approving_orgs` organisations, and at least `min_share_percent` of the
/// member organisations whose approval counts (so that the policy keeps its
/// meaning as organisations join and leave).
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminPolicy {
    /// Distinct organisations whose administrators must approve (among those that count).
    pub min_approving_orgs: u32,
    /// The share of the organisations whose approval counts that must approve,
    /// in percent (0 to 100; 51 is a strict majority of up to a hundred).
    #[serde(default)]
    pub min_share_percent: u32,
    /// How a regulator's approval weighs.
    #[serde(default)]
    pub regulator: RegulatorApproval,
}

/// The genesis document.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema, Serialize, Deserialize)]
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
    /// Nodes admitted from the start.
    #[serde(default)]
    pub nodes: Vec<GenesisNode>,
    /// Approval policy for administrative actions (revocations, membership changes).
    pub admin_policy: AdminPolicy,
    /// Every founding organisation's signature over the genesis hash. Encoded
    /// (stored copies keep them) but not hashed: the hash is over the encoding
    /// with this list empty, since they sign it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signatures: Vec<GenesisSignature>,
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
    /// A founding organisation has not signed.
    #[error("genesis lacks the signature of founding organisation {0}")]
    MissingSignature(OrgId),
    /// A signature does not verify against the key it names.
    #[error(
        "the signature of organisation {org} by key {key_id} does not verify over this genesis (signed over other bytes, or by another key)"
    )]
    BadSignature {
        /// The organisation it claims to be from.
        org: OrgId,
        /// The key it names.
        key_id: KeyId,
    },
    /// A signature by someone who is not a founding organisation's administrator.
    #[error("signature by {org} key {key_id}: not an administrator key of a founding organisation")]
    NotFounder {
        /// The organisation it claims to be from.
        org: OrgId,
        /// The key it names.
        key_id: KeyId,
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
    /// A strict majority of the organisations (51 %, and at least `orgs / 2 + 1`
    /// of the `orgs` founders), a regulator's approval counting like any.
    pub fn majority(orgs: usize) -> AdminPolicy {
        AdminPolicy {
            min_approving_orgs: (orgs / 2 + 1) as u32,
            min_share_percent: 51,
            regulator: RegulatorApproval::Counts,
        }
    }

    /// How many of these organisations' approvals count, and how many are regulators.
    fn count(&self, roles: impl IntoIterator<Item = OrgRole>) -> (u32, u32) {
        let (mut counted, mut regulators) = (0u32, 0u32);
        for role in roles {
            if role == OrgRole::Regulator {
                regulators += 1;
                if self.regulator == RegulatorApproval::Excluded {
                    continue;
                }
            }
            counted += 1;
        }
        (counted, regulators)
    }

    /// Approvals needed of a consortium whose approvals count for `counted` organisations.
    pub fn needed(&self, counted: u32) -> u32 {
        let share = (u64::from(self.min_share_percent) * u64::from(counted)).div_ceil(100) as u32;
        self.min_approving_orgs.max(share)
    }

    /// Why the policy cannot be met by a consortium of organisations with
    /// these roles, if it cannot.
    pub fn unmeetable(&self, roles: impl IntoIterator<Item = OrgRole>) -> Option<&'static str> {
        let (counted, regulators) = self.count(roles);
        if self.min_share_percent > 100 {
            return Some("min_share_percent must be 0 to 100");
        }
        if self.min_approving_orgs == 0 || self.min_approving_orgs > counted {
            return Some("min_approving_orgs must be between 1 and the number of organisations whose approval counts");
        }
        if self.regulator == RegulatorApproval::Required && regulators == 0 {
            return Some("a regulator's approval is required, but the consortium has no regulator");
        }
        None
    }

    /// Whether approvals by organisations of roles `approvers`, in a
    /// consortium of organisations of roles `members`, carry an action out.
    pub fn is_met(
        &self,
        approvers: impl IntoIterator<Item = OrgRole>,
        members: impl IntoIterator<Item = OrgRole>,
    ) -> bool {
        let (approved, regulators) = self.count(approvers);
        let (counted, _) = self.count(members);
        approved >= self.needed(counted) && (self.regulator != RegulatorApproval::Required || regulators > 0)
    }
}

impl Genesis {
    /// The genesis voters, sorted by node id: the voter set in force from block 1.
    pub fn voters(&self) -> Vec<crate::block::VoterKey> {
        let mut voters: Vec<_> = self
            .nodes
            .iter()
            .filter(|n| n.role == NodeRole::Voter)
            .map(|n| crate::block::VoterKey { node: n.id.clone(), public_key: n.public_key })
            .collect();
        voters.sort();
        voters
    }

    /// The genesis hash: the chain's identity, over the canonical encoding
    /// with an empty signature list (the signatures sign this hash).
    pub fn hash(&self) -> Hash32 {
        if self.signatures.is_empty() {
            return Hash32::of(Domain::Genesis, &self.encode());
        }
        let unsigned = Genesis { signatures: Vec::new(), ..self.clone() };
        Hash32::of(Domain::Genesis, &unsigned.encode())
    }

    /// The signature of the administrator holding `key` over this genesis, as
    /// organisation `org` with key `key_id`.
    pub fn sign(&self, org: OrgId, key_id: KeyId, key: &SecretKey) -> GenesisSignature {
        GenesisSignature { org, key_id, signature: key.sign(Domain::GenesisSignature, &self.hash().0) }
    }

    /// Checks one signature: it names a founding organisation's administrator
    /// key and verifies over this genesis.
    pub fn check_signature(&self, sig: &GenesisSignature) -> Result<(), GenesisError> {
        let not_founder = || GenesisError::NotFounder { org: sig.org.clone(), key_id: sig.key_id.clone() };
        let org = self.organisations.iter().find(|o| o.id == sig.org).ok_or_else(not_founder)?;
        let key = org.admin_keys.iter().find(|k| k.key_id == sig.key_id).ok_or_else(not_founder)?;
        key.public_key
            .verify(Domain::GenesisSignature, &self.hash().0, &sig.signature)
            .map_err(|_| GenesisError::BadSignature { org: sig.org.clone(), key_id: sig.key_id.clone() })
    }

    /// Checks that every founding organisation has signed and that every
    /// signature verifies: no party can start a chain in another's name.
    pub fn verify_signatures(&self) -> Result<(), GenesisError> {
        for sig in &self.signatures {
            self.check_signature(sig)?;
        }
        match self.organisations.iter().find(|o| !self.signatures.iter().any(|s| s.org == o.id)) {
            Some(missing) => Err(GenesisError::MissingSignature(missing.id.clone())),
            None => Ok(()),
        }
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
            if org.ca_cert_pem.is_none() {
                return Err(bad("its organisation has no CA certificate to issue its certificate"));
            }
        }
        if let Some(reason) = self.admin_policy.unmeetable(self.organisations.iter().map(|o| o.role)) {
            return Err(GenesisError::Param { name: "admin_policy", reason });
        }
        Ok(())
    }
}
