//! The native system contract: the registry of organisations, tenants,
//! participants and their signing keys.
//!
//! Calls are ordinary transactions to contract [`SYSTEM_CONTRACT`] at
//! [`SYSTEM_VERSION`]; `method` names the call and `args` is the canonical
//! encoding of its argument struct. Records live in the system contract's state
//! under the keys built by [`state_key`].

use borsh::{BorshDeserialize, BorshSchema, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::contract::Registrations;
use crate::crypto::PublicKey;
use crate::encoding::{Canonical, DecodeError};
use crate::genesis::{NodeRole, OrgRole};
use crate::ids::{ContractName, KeyId, MethodName, NodeId, OrgId, ParticipantId, TenantId, TxId, Version};

/// The system contract's name.
pub const SYSTEM_CONTRACT: &str = "system";
/// The system contract's version.
pub const SYSTEM_VERSION: Version = Version::new(1, 0, 0);

/// The system contract's name as an identifier.
pub fn system_contract() -> ContractName {
    #[allow(clippy::expect_used)]
    ContractName::new(SYSTEM_CONTRACT).expect("valid constant")
}

/// Who a key acts for.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "id")]
pub enum Principal {
    /// An administrator of a consortium organisation.
    Admin(OrgId),
    /// A tenant platform.
    Tenant(TenantId),
    /// A participant (enterprise or bank).
    Participant(ParticipantId),
}

/// Whether a key may still sign.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyStatus {
    /// It may sign.
    Active,
    /// Revoked at this height; nothing it signs is accepted any more.
    Revoked {
        /// Block height of the revocation.
        at_height: u64,
    },
}

/// A registered signing key.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema, Serialize, Deserialize)]
pub struct KeyRecord {
    /// Its id.
    pub key_id: KeyId,
    /// The ed25519 public key.
    pub public_key: PublicKey,
    /// Who it acts for.
    pub owner: Principal,
    /// Active or revoked.
    pub status: KeyStatus,
    /// Height of the block that registered it (0: genesis).
    pub added_at_height: u64,
}

/// A consortium organisation.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema, Serialize, Deserialize)]
pub struct OrgRecord {
    /// Its id.
    pub id: OrgId,
    /// Its name.
    pub name: String,
    /// Its role.
    pub role: OrgRole,
    /// Its CA certificate (PEM), the only issuer of its nodes' certificates.
    pub ca_cert_pem: Option<String>,
    /// CAs it rotated away from, whose certificates keep working for a while.
    pub retiring_cas: Vec<RetiringCa>,
    /// A member, or removed.
    pub status: OrgStatus,
}

/// A CA an organisation rotated away from.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema, Serialize, Deserialize)]
pub struct RetiringCa {
    /// The CA certificate (PEM).
    pub ca_cert_pem: String,
    /// Its certificates admit nodes until the ledger reaches this height.
    pub until_height: u64,
}

impl OrgRecord {
    /// The CAs whose certificates admit this organisation's nodes at `height`:
    /// none once it is removed.
    pub fn cas_at(&self, height: u64) -> Vec<&str> {
        if self.status != OrgStatus::Active {
            return Vec::new();
        }
        let retiring = self.retiring_cas.iter().filter(|r| height < r.until_height).map(|r| r.ca_cert_pem.as_str());
        self.ca_cert_pem.as_deref().into_iter().chain(retiring).collect()
    }
}

/// Whether an organisation is still a member.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum OrgStatus {
    /// A member.
    Active,
    /// Removed by an administrative action: its keys are revoked, its nodes
    /// refused, its approvals no longer count; its id is never reused.
    Removed {
        /// The block that removed it.
        at_height: u64,
        /// Why.
        reason: String,
    },
}

/// A tenant platform.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema, Serialize, Deserialize)]
pub struct TenantRecord {
    /// Its id.
    pub id: TenantId,
    /// Its name.
    pub name: String,
    /// The organisation that registered it.
    pub registered_by: OrgId,
    /// Height of registration (0: genesis).
    pub registered_at_height: u64,
}

/// What kind of participant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParticipantKind {
    /// An enterprise, keyed by its unified social credit code.
    Enterprise,
    /// A bank.
    Bank,
    /// A notary: co-signs evidence for a notary office.
    Notary,
}

/// Where a participant is registered.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "id")]
pub enum Home {
    /// Under a tenant platform (enterprises).
    Tenant(TenantId),
    /// Under a consortium organisation (banks).
    Org(OrgId),
}

/// Whether a participant may act.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParticipantStatus {
    /// It may act.
    Active,
    /// It may take no new action.
    Frozen {
        /// Why, as given by whoever froze it.
        reason: String,
        /// Height of the freeze.
        at_height: u64,
    },
}

/// An enterprise or bank.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema, Serialize, Deserialize)]
pub struct ParticipantRecord {
    /// Its id.
    pub id: ParticipantId,
    /// Enterprise or bank.
    pub kind: ParticipantKind,
    /// Its registered (company) name.
    pub name: String,
    /// Where it is registered.
    pub home: Home,
    /// Active or frozen.
    pub status: ParticipantStatus,
    /// Height of registration.
    pub registered_at_height: u64,
}

/// A key to register.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema, Serialize, Deserialize)]
pub struct KeyGrant {
    /// Its id (unique on the chain).
    pub key_id: KeyId,
    /// The ed25519 public key.
    pub public_key: PublicKey,
}

/// `register_tenant`: a consortium administrator registers a tenant platform.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema, Serialize, Deserialize)]
pub struct RegisterTenant {
    /// The new tenant.
    pub tenant: TenantId,
    /// Its name.
    pub name: String,
    /// Its first API keys.
    pub keys: Vec<KeyGrant>,
}

/// `register_participant`: a tenant registers an enterprise it serves, or an
/// organisation administrator registers a bank.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema, Serialize, Deserialize)]
pub struct RegisterParticipant {
    /// The new participant.
    pub participant: ParticipantId,
    /// Enterprise or bank.
    pub kind: ParticipantKind,
    /// Its registered name.
    pub name: String,
    /// Its first signing keys.
    pub keys: Vec<KeyGrant>,
}

/// `add_key`: a participant gets another signing key.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema, Serialize, Deserialize)]
pub struct AddKey {
    /// The participant.
    pub participant: ParticipantId,
    /// The key.
    pub key: KeyGrant,
}

/// `add_tenant_key`: a tenant platform gets another signing key, added by the
/// tenant itself (signing with a key it holds: how it rotates its keys) or by
/// the organisation that registered it.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema, Serialize, Deserialize)]
pub struct AddTenantKey {
    /// The tenant.
    pub tenant: TenantId,
    /// The key.
    pub key: KeyGrant,
}

/// `revoke_key`: a key stops being accepted, for ever.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema, Serialize, Deserialize)]
pub struct RevokeKey {
    /// The key.
    pub key_id: KeyId,
}

/// `freeze_participant` / `unfreeze_participant`.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema, Serialize, Deserialize)]
pub struct SetFrozen {
    /// The participant.
    pub participant: ParticipantId,
    /// Why (kept on the record when freezing).
    pub reason: String,
}

/// Whether a node may take part in the network.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeStatus {
    /// Admitted.
    Active,
    /// Revoked at this height: its connections are closed and refused for ever.
    Revoked {
        /// Block height of the revocation.
        at_height: u64,
        /// Why.
        reason: String,
    },
}

/// A node of the network, as the ledger admits it.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema, Serialize, Deserialize)]
pub struct NodeRecord {
    /// Its id.
    pub id: NodeId,
    /// The organisation that runs it.
    pub org: OrgId,
    /// The ed25519 key of its certificate.
    pub public_key: PublicKey,
    /// Its libp2p peer id.
    pub peer_id: String,
    /// Voter or observer.
    pub role: NodeRole,
    /// Admitted or revoked.
    pub status: NodeStatus,
    /// Where other nodes dial it (`None`: from their configuration).
    pub address: Option<String>,
}

/// An administrative action that needs the approval of several organisations.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "action")]
pub enum AdminAction {
    /// Revoke a node's admission.
    RevokeNode {
        /// The node.
        node: NodeId,
        /// Why.
        reason: String,
    },
    /// Admit a new node (it joins as a learner and, if a voter, is promoted once caught up).
    AddNode {
        /// The node.
        node: NodeId,
        /// The organisation that runs it.
        org: OrgId,
        /// The ed25519 key of its certificate.
        public_key: PublicKey,
        /// Voter or observer (regulators' nodes are always observers).
        role: NodeRole,
        /// Where other nodes dial it.
        address: String,
    },
    /// Deploy a new contract.
    DeployContract {
        /// Its name (not yet used by any contract).
        name: ContractName,
        /// Its first version.
        version: Version,
        /// The WASM module.
        #[serde(with = "crate::tx::hex_bytes")]
        code: Vec<u8>,
        /// Who may invoke it.
        registrations: Registrations,
        /// Input of the module's `init` export, run once at deployment if it has one.
        #[serde(with = "crate::tx::hex_bytes")]
        init_args: Vec<u8>,
    },
    /// Install a new version of a contract; its state carries over.
    UpgradeContract {
        /// The contract.
        name: ContractName,
        /// The new version: must sort after the active one.
        version: Version,
        /// The new WASM module.
        #[serde(with = "crate::tx::hex_bytes")]
        code: Vec<u8>,
        /// Input of the new module's `migrate` export, run once if it has one.
        #[serde(with = "crate::tx::hex_bytes")]
        migrate_args: Vec<u8>,
    },
    /// Stop a contract from being invoked.
    FreezeContract {
        /// The contract.
        name: ContractName,
        /// Why.
        reason: String,
    },
    /// Let a frozen contract be invoked again.
    UnfreezeContract {
        /// The contract.
        name: ContractName,
    },
    /// Replace who may invoke a contract.
    SetRegistrations {
        /// The contract.
        name: ContractName,
        /// The new lists.
        registrations: Registrations,
    },
    /// Make a node a voter or an observer (a regulator's node stays an observer).
    SetNodeRole {
        /// The node.
        node: NodeId,
        /// Its new role.
        role: NodeRole,
    },
    /// Admit a new organisation: its CA and administrator key (its nodes are
    /// added afterwards with `AddNode`).
    AddOrg {
        /// Its id (unused on the chain).
        org: OrgId,
        /// Its name.
        name: String,
        /// Its role.
        role: OrgRole,
        /// Its CA certificate (PEM).
        ca_cert_pem: String,
        /// Its administrator's key.
        admin_key: KeyGrant,
    },
    /// Replace an organisation's CA: the new one admits its nodes at once;
    /// certificates of the old one keep working until `old_until_height`.
    RotateCa {
        /// The organisation.
        org: OrgId,
        /// The new CA certificate (PEM).
        ca_cert_pem: String,
        /// The height from which the old CA's certificates are refused.
        old_until_height: u64,
    },
    /// Remove an organisation: its nodes are revoked, its administrator keys
    /// and its own participants' keys revoked, and its tenants move to
    /// `tenants_to` or, with none named, are suspended (their keys revoked).
    RemoveOrg {
        /// The organisation.
        org: OrgId,
        /// Why, for the record.
        reason: String,
        /// The organisation that sponsors its tenants from now on.
        tenants_to: Option<OrgId>,
    },
    /// Give an organisation a new administrator key and, if named, retire an
    /// old one (it is revoked in the same block).
    RotateAdminKey {
        /// The organisation.
        org: OrgId,
        /// The new key (its id unused on the chain).
        key: KeyGrant,
        /// The administrator key of `org` to retire.
        retire: Option<KeyId>,
    },
    /// Replace the approval policy of administrative actions (this one
    /// included: it is carried out under the policy in force when approved).
    SetPolicy {
        /// The new policy.
        policy: crate::AdminPolicy,
    },
}

impl AdminAction {
    /// Whether the action changes network membership (those go one at a time).
    pub fn is_membership(&self) -> bool {
        matches!(
            self,
            AdminAction::RevokeNode { .. }
                | AdminAction::AddNode { .. }
                | AdminAction::SetNodeRole { .. }
                | AdminAction::RemoveOrg { .. }
        )
    }
}

/// `propose_admin`: an organisation administrator proposes an action; the
/// proposer's organisation counts as the first approval.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema, Serialize, Deserialize)]
pub struct ProposeAdmin {
    /// A new, unique proposal id.
    pub proposal_id: TxId,
    /// What to do.
    pub action: AdminAction,
}

/// `approve_admin`: another organisation approves; the action runs in the
/// transaction that completes the policy.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema, Serialize, Deserialize)]
pub struct ApproveAdmin {
    /// The proposal.
    pub proposal_id: TxId,
}

/// Where a proposal stands.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProposalStatus {
    /// Waiting for approvals.
    Open,
    /// Approved and carried out at this height.
    Executed {
        /// Block height.
        at_height: u64,
    },
}

/// An administrative proposal on the ledger.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema, Serialize, Deserialize)]
pub struct ProposalRecord {
    /// Its id.
    pub id: TxId,
    /// The action.
    pub action: AdminAction,
    /// Organisations that approved, sorted.
    pub approvals: Vec<OrgId>,
    /// Open or executed.
    pub status: ProposalStatus,
    /// Block time of the proposal; an open proposal expires [`PROPOSAL_TTL_MS`] later.
    pub proposed_at_ms: u64,
}

/// How long a proposal stays open for approvals.
pub const PROPOSAL_TTL_MS: u64 = 24 * 3_600_000;

/// A decoded system call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "method", content = "args")]
pub enum SystemCall {
    /// See [`RegisterTenant`].
    RegisterTenant(RegisterTenant),
    /// See [`RegisterParticipant`].
    RegisterParticipant(RegisterParticipant),
    /// See [`AddKey`].
    AddKey(AddKey),
    /// See [`RevokeKey`].
    RevokeKey(RevokeKey),
    /// See [`SetFrozen`].
    FreezeParticipant(SetFrozen),
    /// See [`SetFrozen`].
    UnfreezeParticipant(SetFrozen),
    /// See [`ProposeAdmin`].
    ProposeAdmin(ProposeAdmin),
    /// See [`ApproveAdmin`].
    ApproveAdmin(ApproveAdmin),
    /// See [`AddTenantKey`].
    AddTenantKey(AddTenantKey),
}

/// A system call that cannot be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// No such method.
    #[error("the system contract has no method {0}")]
    UnknownMethod(MethodName),
    /// The arguments do not decode.
    #[error("bad arguments: {0}")]
    BadArgs(#[from] DecodeError),
}

impl SystemCall {
    /// The method name.
    pub fn method(&self) -> &'static str {
        match self {
            SystemCall::RegisterTenant(_) => "register_tenant",
            SystemCall::RegisterParticipant(_) => "register_participant",
            SystemCall::AddKey(_) => "add_key",
            SystemCall::RevokeKey(_) => "revoke_key",
            SystemCall::FreezeParticipant(_) => "freeze_participant",
            SystemCall::UnfreezeParticipant(_) => "unfreeze_participant",
            SystemCall::ProposeAdmin(_) => "propose_admin",
            SystemCall::ApproveAdmin(_) => "approve_admin",
            SystemCall::AddTenantKey(_) => "add_tenant_key",
        }
    }

    /// The method name as an identifier.
    pub fn method_name(&self) -> MethodName {
        #[allow(clippy::expect_used)]
        MethodName::new(self.method()).expect("valid constant")
    }

    /// The canonical encoding of the arguments.
    pub fn encode_args(&self) -> Vec<u8> {
        match self {
            SystemCall::RegisterTenant(a) => a.encode(),
            SystemCall::RegisterParticipant(a) => a.encode(),
            SystemCall::AddKey(a) => a.encode(),
            SystemCall::RevokeKey(a) => a.encode(),
            SystemCall::FreezeParticipant(a) | SystemCall::UnfreezeParticipant(a) => a.encode(),
            SystemCall::ProposeAdmin(a) => a.encode(),
            SystemCall::ApproveAdmin(a) => a.encode(),
            SystemCall::AddTenantKey(a) => a.encode(),
        }
    }

    /// Decodes `method` and `args` of a system transaction.
    pub fn decode(method: &MethodName, args: &[u8]) -> Result<SystemCall, CallError> {
        Ok(match method.as_str() {
            "register_tenant" => SystemCall::RegisterTenant(RegisterTenant::decode(args)?),
            "register_participant" => SystemCall::RegisterParticipant(RegisterParticipant::decode(args)?),
            "add_key" => SystemCall::AddKey(AddKey::decode(args)?),
            "revoke_key" => SystemCall::RevokeKey(RevokeKey::decode(args)?),
            "freeze_participant" => SystemCall::FreezeParticipant(SetFrozen::decode(args)?),
            "unfreeze_participant" => SystemCall::UnfreezeParticipant(SetFrozen::decode(args)?),
            "propose_admin" => SystemCall::ProposeAdmin(ProposeAdmin::decode(args)?),
            "approve_admin" => SystemCall::ApproveAdmin(ApproveAdmin::decode(args)?),
            "add_tenant_key" => SystemCall::AddTenantKey(AddTenantKey::decode(args)?),
            _ => return Err(CallError::UnknownMethod(method.clone())),
        })
    }
}

/// The state key of a system record.
pub fn state_key(kind: RecordKind, id: &str) -> Vec<u8> {
    let prefix = match kind {
        RecordKind::Org => "org/",
        RecordKind::Tenant => "tenant/",
        RecordKind::Participant => "participant/",
        RecordKind::Key => "key/",
        RecordKind::Node => "node/",
        RecordKind::Proposal => "proposal/",
        RecordKind::Policy => "policy/",
        RecordKind::VoterChanges => "voters/",
    };
    [prefix.as_bytes(), id.as_bytes()].concat()
}

/// The kinds of system record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordKind {
    /// [`OrgRecord`].
    Org,
    /// [`TenantRecord`].
    Tenant,
    /// [`ParticipantRecord`].
    Participant,
    /// [`KeyRecord`].
    Key,
    /// [`NodeRecord`].
    Node,
    /// [`ProposalRecord`].
    Proposal,
    /// [`crate::AdminPolicy`] (id `admin`).
    Policy,
    /// [`VoterChanges`] (id `history`).
    VoterChanges,
}

/// Every change of the voter set since genesis, in order: what a node
/// serves with a proof so that a verifier holding only the genesis document
/// can follow the voters to the proven block.
#[derive(
    Debug, Clone, Default, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema, Serialize, Deserialize,
)]
pub struct VoterChanges {
    /// The transactions that changed it (each names the new set in a
    /// [`crate::VOTERS_CHANGED`] event), with their heights.
    pub changes: Vec<VoterChange>,
}

/// One change of the voter set.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema, Serialize, Deserialize)]
pub struct VoterChange {
    /// The block that holds it; the new set is in force from the next.
    pub height: u64,
    /// The transaction that carried it out.
    pub tx_id: TxId,
}
