//! The native system contract: tenants, participants and their keys.
//!
//! Authority is hierarchical: an organisation's administrators act for the
//! organisation, the tenants it registered and the participants under either; a
//! tenant acts for itself and its participants; a participant for itself.

use billflow_storage::StorageError;
use billflow_types::system::{
    AddKey, AdminAction, ApproveAdmin, Home, KeyGrant, KeyRecord, KeyStatus, NodeRecord, NodeStatus, OrgRecord,
    PROPOSAL_TTL_MS, ParticipantKind, ParticipantRecord, ParticipantStatus, Principal, ProposalRecord, ProposalStatus,
    ProposeAdmin, RecordKind, RegisterParticipant, RegisterTenant, RevokeKey, SYSTEM_VERSION, SetFrozen, SystemCall,
    TenantRecord, state_key, system_contract,
};
use billflow_types::{
    AdminPolicy, Canonical, Event, OrgId, ParticipantId, SignedTx, TxFailure, ids::is_valid_credit_code,
};

use crate::overlay::{Overlay, StateView as _};

/// Fuel charged for any native call; writes add one unit per byte.
pub(crate) const BASE_FUEL: u64 = 1_000;
const MAX_NAME_CHARS: usize = 200;
const MAX_REASON_CHARS: usize = 500;
const MAX_KEYS_PER_CALL: usize = 16;

pub(crate) struct TxContext<'a> {
    pub tx: &'a SignedTx,
    pub caller: &'a Principal,
    pub height: u64,
    pub time_ms: u64,
}

pub(crate) struct Success {
    pub events: Vec<Event>,
    pub fuel_used: u64,
}

type Outcome = Result<Result<Success, TxFailure>, StorageError>;
type Outcome2 = Result<Result<(), TxFailure>, StorageError>;

fn fail(code: &str, message: impl Into<String>) -> TxFailure {
    TxFailure { code: code.into(), message: message.into() }
}

macro_rules! bail {
    ($code:expr, $($msg:tt)+) => {
        return Ok(Err(fail($code, format!($($msg)+))))
    };
}

/// Executes one transaction. Storage errors are fatal; everything else is a receipt.
pub(crate) fn execute(state: &mut Overlay<'_>, ctx: &TxContext<'_>) -> Outcome {
    let tx = &ctx.tx.tx;
    if tx.contract != system_contract() {
        bail!("E_UNKNOWN_CONTRACT", "no contract named {} is deployed", tx.contract);
    }
    if tx.version != SYSTEM_VERSION {
        bail!(
            "E_VERSION_MISMATCH",
            "contract system is at version {SYSTEM_VERSION}, the transaction names {}",
            tx.version
        );
    }
    if let Principal::Participant(p) = ctx.caller {
        if let Some(ParticipantStatus::Frozen { reason, .. }) = participant(state, p)?.map(|r| r.status) {
            bail!("E_PARTICIPANT_FROZEN", "participant {p} is frozen: {reason}");
        }
    }
    let call = match SystemCall::decode(&tx.method, &tx.args) {
        Ok(c) => c,
        Err(e @ billflow_types::system::CallError::UnknownMethod(_)) => bail!("E_UNKNOWN_METHOD", "{e}"),
        Err(e) => bail!("E_BAD_ARGS", "{e}"),
    };
    let mut events = Vec::new();
    let result = match call {
        SystemCall::RegisterTenant(a) => register_tenant(state, ctx, a, &mut events)?,
        SystemCall::RegisterParticipant(a) => register_participant(state, ctx, a, &mut events)?,
        SystemCall::AddKey(a) => add_key(state, ctx, a, &mut events)?,
        SystemCall::RevokeKey(a) => revoke_key(state, ctx, a, &mut events)?,
        SystemCall::FreezeParticipant(a) => set_frozen(state, ctx, a, true, &mut events)?,
        SystemCall::UnfreezeParticipant(a) => set_frozen(state, ctx, a, false, &mut events)?,
        SystemCall::ProposeAdmin(a) => propose_admin(state, ctx, a, &mut events)?,
        SystemCall::ApproveAdmin(a) => approve_admin(state, ctx, a, &mut events)?,
    };
    Ok(result.map(|()| Success { events, fuel_used: BASE_FUEL + state.bytes_written() }))
}

fn participant(state: &Overlay<'_>, id: &ParticipantId) -> Result<Option<ParticipantRecord>, StorageError> {
    state.get_record(&system_contract(), &state_key(RecordKind::Participant, id.as_str()))
}

fn tenant(state: &Overlay<'_>, id: &str) -> Result<Option<TenantRecord>, StorageError> {
    state.get_record(&system_contract(), &state_key(RecordKind::Tenant, id))
}

/// Whether `caller` has authority over `target`.
fn has_authority(state: &Overlay<'_>, caller: &Principal, target: &Principal) -> Result<bool, StorageError> {
    if caller == target {
        return Ok(true);
    }
    let tenant_registered_by = |t: &str| -> Result<Option<billflow_types::OrgId>, StorageError> {
        Ok(tenant(state, t)?.map(|r| r.registered_by))
    };
    Ok(match (caller, target) {
        (Principal::Admin(org), Principal::Tenant(t)) => tenant_registered_by(t.as_str())?.as_ref() == Some(org),
        (Principal::Admin(org), Principal::Participant(p)) => match participant(state, p)?.map(|r| r.home) {
            Some(Home::Org(o)) => &o == org,
            Some(Home::Tenant(t)) => tenant_registered_by(t.as_str())?.as_ref() == Some(org),
            None => false,
        },
        (Principal::Tenant(t), Principal::Participant(p)) => {
            participant(state, p)?.map(|r| r.home) == Some(Home::Tenant(t.clone()))
        }
        _ => false,
    })
}

fn check_name(field: &str, name: &str, max: usize) -> Result<(), TxFailure> {
    let chars = name.chars().count();
    if (field == "name" && chars == 0) || chars > max || name.chars().any(char::is_control) {
        return Err(fail(
            "E_BAD_ARGS",
            format!("{field} must be {} to {max} printable characters", usize::from(field == "name")),
        ));
    }
    Ok(())
}

/// Records new keys for `owner`, refusing invalid or already used key ids.
fn grant_keys(
    state: &mut Overlay<'_>,
    owner: &Principal,
    keys: &[KeyGrant],
    height: u64,
) -> Result<Result<(), TxFailure>, StorageError> {
    if keys.len() > MAX_KEYS_PER_CALL {
        bail!("E_BAD_ARGS", "at most {MAX_KEYS_PER_CALL} keys per call");
    }
    let system = system_contract();
    for k in keys {
        if k.public_key.validate().is_err() {
            bail!("E_INVALID_KEY", "key {} is not a valid ed25519 public key", k.key_id);
        }
        let key = state_key(RecordKind::Key, k.key_id.as_str());
        if state.get(&system, &key)?.is_some() {
            bail!("E_KEY_EXISTS", "key id {} is already used", k.key_id);
        }
        let record = KeyRecord {
            key_id: k.key_id.clone(),
            public_key: k.public_key,
            owner: owner.clone(),
            status: KeyStatus::Active,
            added_at_height: height,
        };
        state.put_record(&system, key, &record);
    }
    Ok(Ok(()))
}

fn event(topic: &str, data: &impl Canonical) -> Event {
    Event { contract: system_contract(), topic: topic.into(), data: data.encode() }
}

fn register_tenant(
    state: &mut Overlay<'_>,
    ctx: &TxContext<'_>,
    a: RegisterTenant,
    events: &mut Vec<Event>,
) -> Outcome2 {
    let Principal::Admin(org) = ctx.caller else {
        bail!("E_UNAUTHORIZED", "only consortium organisation administrators register tenants");
    };
    if let Err(f) = check_name("name", &a.name, MAX_NAME_CHARS) {
        return Ok(Err(f));
    }
    if tenant(state, a.tenant.as_str())?.is_some() {
        bail!("E_TENANT_EXISTS", "tenant {} is already registered", a.tenant);
    }
    let record = TenantRecord {
        id: a.tenant.clone(),
        name: a.name,
        registered_by: org.clone(),
        registered_at_height: ctx.height,
    };
    state.put_record(&system_contract(), state_key(RecordKind::Tenant, a.tenant.as_str()), &record);
    if let Err(f) = grant_keys(state, &Principal::Tenant(a.tenant), &a.keys, ctx.height)? {
        return Ok(Err(f));
    }
    events.push(event("tenant.registered", &record));
    Ok(Ok(()))
}

fn register_participant(
    state: &mut Overlay<'_>,
    ctx: &TxContext<'_>,
    a: RegisterParticipant,
    events: &mut Vec<Event>,
) -> Outcome2 {
    let home = match (ctx.caller, a.kind) {
        (Principal::Tenant(t), ParticipantKind::Enterprise) => Home::Tenant(t.clone()),
        (Principal::Admin(o), ParticipantKind::Bank) => Home::Org(o.clone()),
        (Principal::Tenant(_), ParticipantKind::Bank) => {
            bail!("E_UNAUTHORIZED", "banks are registered by their consortium organisation, not by a tenant")
        }
        (Principal::Admin(_), ParticipantKind::Enterprise) => {
            bail!("E_UNAUTHORIZED", "enterprises are registered by the tenant that serves them")
        }
        (Principal::Participant(_), _) => bail!("E_UNAUTHORIZED", "participants cannot register participants"),
    };
    if a.kind == ParticipantKind::Enterprise && !is_valid_credit_code(a.participant.as_str()) {
        bail!("E_INVALID_CREDIT_CODE", "{} is not a valid unified social credit code", a.participant);
    }
    if let Err(f) = check_name("name", &a.name, MAX_NAME_CHARS) {
        return Ok(Err(f));
    }
    if participant(state, &a.participant)?.is_some() {
        bail!("E_PARTICIPANT_EXISTS", "participant {} is already registered", a.participant);
    }
    let record = ParticipantRecord {
        id: a.participant.clone(),
        kind: a.kind,
        name: a.name,
        home,
        status: ParticipantStatus::Active,
        registered_at_height: ctx.height,
    };
    state.put_record(&system_contract(), state_key(RecordKind::Participant, a.participant.as_str()), &record);
    if let Err(f) = grant_keys(state, &Principal::Participant(a.participant), &a.keys, ctx.height)? {
        return Ok(Err(f));
    }
    events.push(event("participant.registered", &record));
    Ok(Ok(()))
}

fn add_key(state: &mut Overlay<'_>, ctx: &TxContext<'_>, a: AddKey, events: &mut Vec<Event>) -> Outcome2 {
    if participant(state, &a.participant)?.is_none() {
        bail!("E_UNKNOWN_PARTICIPANT", "participant {} is not registered", a.participant);
    }
    let target = Principal::Participant(a.participant.clone());
    if !has_authority(state, ctx.caller, &target)? {
        bail!("E_UNAUTHORIZED", "the signer has no authority over participant {}", a.participant);
    }
    if let Err(f) = grant_keys(state, &target, std::slice::from_ref(&a.key), ctx.height)? {
        return Ok(Err(f));
    }
    events.push(event("key.added", &a));
    Ok(Ok(()))
}

fn revoke_key(state: &mut Overlay<'_>, ctx: &TxContext<'_>, a: RevokeKey, events: &mut Vec<Event>) -> Outcome2 {
    let system = system_contract();
    let key = state_key(RecordKind::Key, a.key_id.as_str());
    let Some(mut record) = state.get_record::<KeyRecord>(&system, &key)? else {
        bail!("E_UNKNOWN_KEY", "key {} is not registered", a.key_id);
    };
    if !has_authority(state, ctx.caller, &record.owner)? {
        bail!("E_UNAUTHORIZED", "the signer has no authority over key {}", a.key_id);
    }
    if let KeyStatus::Revoked { at_height } = record.status {
        bail!("E_KEY_REVOKED", "key {} was already revoked at height {at_height}", a.key_id);
    }
    record.status = KeyStatus::Revoked { at_height: ctx.height };
    state.put_record(&system, key, &record);
    events.push(event("key.revoked", &a));
    Ok(Ok(()))
}

fn set_frozen(
    state: &mut Overlay<'_>,
    ctx: &TxContext<'_>,
    a: SetFrozen,
    freeze: bool,
    events: &mut Vec<Event>,
) -> Outcome2 {
    let Some(mut record) = participant(state, &a.participant)? else {
        bail!("E_UNKNOWN_PARTICIPANT", "participant {} is not registered", a.participant);
    };
    let target = Principal::Participant(a.participant.clone());
    if ctx.caller == &target || !has_authority(state, ctx.caller, &target)? {
        bail!("E_UNAUTHORIZED", "only the participant's tenant or organisation may freeze or unfreeze it");
    }
    if let Err(f) = check_name("reason", &a.reason, MAX_REASON_CHARS) {
        return Ok(Err(f));
    }
    let frozen = matches!(record.status, ParticipantStatus::Frozen { .. });
    match (freeze, frozen) {
        (true, true) => bail!("E_ALREADY_FROZEN", "participant {} is already frozen", a.participant),
        (false, false) => bail!("E_NOT_FROZEN", "participant {} is not frozen", a.participant),
        (true, false) => record.status = ParticipantStatus::Frozen { reason: a.reason.clone(), at_height: ctx.height },
        (false, true) => record.status = ParticipantStatus::Active,
    }
    state.put_record(&system_contract(), state_key(RecordKind::Participant, a.participant.as_str()), &record);
    events.push(event(if freeze { "participant.frozen" } else { "participant.unfrozen" }, &a));
    Ok(Ok(()))
}

/// The genesis records of an organisation.
pub(crate) fn org_record(org: &billflow_types::GenesisOrg) -> OrgRecord {
    OrgRecord { id: org.id.clone(), name: org.name.clone(), role: org.role }
}

fn admin_org(ctx: &TxContext<'_>) -> Result<OrgId, TxFailure> {
    match ctx.caller {
        Principal::Admin(org) => Ok(org.clone()),
        _ => Err(fail(
            "E_UNAUTHORIZED",
            "only consortium organisation administrators propose or approve administrative actions",
        )),
    }
}

/// Checks an action can run on the current state; returns the node record it writes.
fn check_action(state: &Overlay<'_>, action: &AdminAction) -> Result<Result<NodeRecord, TxFailure>, StorageError> {
    match action {
        AdminAction::AddNode { node, org, public_key, role, address } => {
            let system = system_contract();
            if state.get(&system, &state_key(RecordKind::Node, node.as_str()))?.is_some() {
                bail!("E_NODE_EXISTS", "node {node} is already (or was) a member");
            }
            let Some(org_record) = state.get_record::<OrgRecord>(&system, &state_key(RecordKind::Org, org.as_str()))?
            else {
                bail!("E_UNKNOWN_ORG", "organisation {org} is not in the consortium");
            };
            if org_record.role == billflow_types::OrgRole::Regulator && *role == billflow_types::NodeRole::Voter {
                bail!("E_REGULATOR_VOTER", "regulator nodes observe and never vote");
            }
            if public_key.validate().is_err() {
                bail!("E_INVALID_KEY", "the node key is not a valid ed25519 key");
            }
            if address.is_empty() || address.len() > 200 || address.chars().any(char::is_control) {
                bail!("E_BAD_ARGS", "the node address must be 1 to 200 printable characters");
            }
            Ok(Ok(NodeRecord {
                id: node.clone(),
                org: org.clone(),
                public_key: *public_key,
                peer_id: public_key.peer_id(),
                role: *role,
                status: NodeStatus::Active,
                address: Some(address.clone()),
            }))
        }
        AdminAction::RevokeNode { node, reason } => {
            if let Err(f) = check_name("reason", reason, MAX_REASON_CHARS) {
                return Ok(Err(f));
            }
            let Some(record) =
                state.get_record::<NodeRecord>(&system_contract(), &state_key(RecordKind::Node, node.as_str()))?
            else {
                bail!("E_UNKNOWN_NODE", "node {node} is not a member");
            };
            if let NodeStatus::Revoked { at_height, .. } = record.status {
                bail!("E_NODE_REVOKED", "node {node} was already revoked at height {at_height}");
            }
            // Never the last voter: the network could not order anything again.
            if record.role == billflow_types::NodeRole::Voter && active_voters(state)? <= 1 {
                bail!("E_LAST_VOTER", "node {node} is the last voter");
            }
            Ok(Ok(record))
        }
    }
}

/// Runs the action if the proposal has enough approvals.
fn maybe_execute(
    state: &mut Overlay<'_>,
    ctx: &TxContext<'_>,
    mut proposal: ProposalRecord,
    events: &mut Vec<Event>,
) -> Outcome2 {
    let policy: AdminPolicy = state
        .get_record(&system_contract(), &state_key(RecordKind::Policy, "admin"))?
        .ok_or_else(|| StorageError::Corrupt { what: "admin policy".into(), reason: "missing from state".into() })?;
    if proposal.approvals.len() as u32 >= policy.min_approving_orgs {
        let mut record = match check_action(state, &proposal.action)? {
            Ok(r) => r,
            Err(f) => return Ok(Err(f)),
        };
        let topic = match &proposal.action {
            AdminAction::RevokeNode { reason, .. } => {
                record.status = NodeStatus::Revoked { at_height: ctx.height, reason: reason.clone() };
                "node.revoked"
            }
            AdminAction::AddNode { .. } => "node.added",
        };
        state.put_record(&system_contract(), state_key(RecordKind::Node, record.id.as_str()), &record);
        events.push(event(topic, &record));
        proposal.status = ProposalStatus::Executed { at_height: ctx.height };
        events.push(event("admin.executed", &proposal));
    }
    state.put_record(&system_contract(), state_key(RecordKind::Proposal, proposal.id.as_str()), &proposal);
    Ok(Ok(()))
}

/// Active voters, from the node records.
fn active_voters(state: &Overlay<'_>) -> Result<usize, StorageError> {
    let records = state.prefix(&system_contract(), b"node/")?;
    Ok(records
        .values()
        .filter_map(|bytes| NodeRecord::decode(bytes).ok())
        .filter(|r| r.status == NodeStatus::Active && r.role == billflow_types::NodeRole::Voter)
        .count())
}

fn propose_admin(state: &mut Overlay<'_>, ctx: &TxContext<'_>, a: ProposeAdmin, events: &mut Vec<Event>) -> Outcome2 {
    let org = match admin_org(ctx) {
        Ok(o) => o,
        Err(f) => return Ok(Err(f)),
    };
    let key = state_key(RecordKind::Proposal, a.proposal_id.as_str());
    if state.get(&system_contract(), &key)?.is_some() {
        bail!("E_PROPOSAL_EXISTS", "proposal {} already exists", a.proposal_id);
    }
    // Membership changes go one at a time.
    let open = state
        .prefix(&system_contract(), b"proposal/")?
        .values()
        .filter_map(|bytes| ProposalRecord::decode(bytes).ok())
        .find(|p| p.status == ProposalStatus::Open && ctx.time_ms < p.proposed_at_ms.saturating_add(PROPOSAL_TTL_MS));
    if let Some(open) = open {
        bail!("E_CHANGE_IN_PROGRESS", "proposal {} is still open; one change at a time", open.id);
    }
    if let Err(f) = check_action(state, &a.action)? {
        return Ok(Err(f));
    }
    let proposal = ProposalRecord {
        id: a.proposal_id,
        action: a.action,
        approvals: vec![org],
        status: ProposalStatus::Open,
        proposed_at_ms: ctx.time_ms,
    };
    events.push(event("admin.proposed", &proposal));
    maybe_execute(state, ctx, proposal, events)
}

fn approve_admin(state: &mut Overlay<'_>, ctx: &TxContext<'_>, a: ApproveAdmin, events: &mut Vec<Event>) -> Outcome2 {
    let org = match admin_org(ctx) {
        Ok(o) => o,
        Err(f) => return Ok(Err(f)),
    };
    let key = state_key(RecordKind::Proposal, a.proposal_id.as_str());
    let Some(mut proposal) = state.get_record::<ProposalRecord>(&system_contract(), &key)? else {
        bail!("E_UNKNOWN_PROPOSAL", "no proposal {}", a.proposal_id);
    };
    if proposal.status != ProposalStatus::Open {
        bail!("E_PROPOSAL_CLOSED", "proposal {} was already carried out", a.proposal_id);
    }
    if ctx.time_ms >= proposal.proposed_at_ms.saturating_add(PROPOSAL_TTL_MS) {
        bail!("E_PROPOSAL_EXPIRED", "proposal {} expired before enough organisations approved it", a.proposal_id);
    }
    match proposal.approvals.binary_search(&org) {
        Ok(_) => bail!("E_ALREADY_APPROVED", "organisation {org} already approved proposal {}", a.proposal_id),
        Err(at) => proposal.approvals.insert(at, org),
    }
    events.push(event("admin.approved", &a));
    maybe_execute(state, ctx, proposal, events)
}
