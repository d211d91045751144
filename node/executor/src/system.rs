//! The native system contract: tenants, participants and their keys.
//!
//! Authority is hierarchical: an organisation's administrators act for the
//! organisation, the tenants it registered and the participants under either; a
//! tenant acts for itself and its participants; a participant for itself.

use std::collections::BTreeMap;

use billflow_storage::StorageError;
use billflow_types::contract::{
    ContractRecord, ContractStatus, ContractVersion, Registrations, code_key, contract_key,
};
use billflow_types::system::{
    AddKey, AddTenantKey, AdminAction, ApproveAdmin, Home, KeyGrant, KeyRecord, KeyStatus, NodeRecord, NodeStatus,
    OrgRecord, OrgStatus, PROPOSAL_TTL_MS, ParticipantKind, ParticipantRecord, ParticipantStatus, Principal,
    ProposalRecord, ProposalStatus, ProposeAdmin, RecordKind, RegisterParticipant, RegisterTenant, RetiringCa,
    RevokeKey, SYSTEM_VERSION, SetFrozen, SystemCall, TenantRecord, VoterChange, VoterChanges, state_key,
    system_contract,
};
use billflow_types::{
    AdminPolicy, Canonical, ChainParams, Event, KeyId, OrgId, ParticipantId, SignedTx, TxFailure, VOTERS_CHANGED,
    VoterKey, ids::is_valid_credit_code,
};
use billflow_vm::Entry;

use crate::ExecError;
use crate::contracts::{self, Caller, Env};
use crate::overlay::{Overlay, Snapshot, StateView as _};

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
    /// The caller as contracts see it (for `init` and `migrate`).
    pub contract_caller: &'a Caller,
    /// The block's state before this transaction, for `init` and `migrate`.
    pub view: &'a Snapshot,
    pub env: &'a Env,
    pub params: &'a ChainParams,
}

pub(crate) struct Success {
    pub events: Vec<Event>,
    pub fuel_used: u64,
}

type Outcome = Result<Result<Success, TxFailure>, ExecError>;
type Outcome2 = Result<Result<(), TxFailure>, ExecError>;

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
        SystemCall::AddTenantKey(a) => add_tenant_key(state, ctx, a, &mut events)?,
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
/// Whether `k` may be granted: a valid key under an id the chain has never used.
fn check_grant(state: &Overlay<'_>, k: &KeyGrant) -> Result<Result<(), TxFailure>, StorageError> {
    if k.public_key.validate().is_err() {
        bail!("E_INVALID_KEY", "key {} is not a valid ed25519 public key", k.key_id);
    }
    if state.get(&system_contract(), &state_key(RecordKind::Key, k.key_id.as_str()))?.is_some() {
        bail!("E_KEY_EXISTS", "key id {} is already used", k.key_id);
    }
    Ok(Ok(()))
}

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
        if let Err(f) = check_grant(state, k)? {
            return Ok(Err(f));
        }
        let key = state_key(RecordKind::Key, k.key_id.as_str());
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
        (Principal::Admin(o), ParticipantKind::Notary) => {
            let role = state.get_record::<OrgRecord>(&system_contract(), &state_key(RecordKind::Org, o.as_str()))?;
            if role.map(|r| r.role) != Some(billflow_types::OrgRole::Notary) {
                bail!("E_UNAUTHORIZED", "notaries are registered by a notary office, and {o} is not one");
            }
            Home::Org(o.clone())
        }
        (Principal::Tenant(_), ParticipantKind::Bank | ParticipantKind::Notary) => {
            bail!(
                "E_UNAUTHORIZED",
                "banks and notaries are registered by their consortium organisation, not by a tenant"
            )
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

/// A tenant's own key adds another (its rotation), or the organisation that
/// registered it does; nobody else.
fn add_tenant_key(state: &mut Overlay<'_>, ctx: &TxContext<'_>, a: AddTenantKey, events: &mut Vec<Event>) -> Outcome2 {
    if tenant(state, a.tenant.as_str())?.is_none() {
        bail!("E_UNKNOWN_TENANT", "tenant {} is not registered", a.tenant);
    }
    let target = Principal::Tenant(a.tenant.clone());
    if !has_authority(state, ctx.caller, &target)? {
        bail!(
            "E_UNAUTHORIZED",
            "only tenant {} itself or the organisation that registered it may add its keys",
            a.tenant
        );
    }
    if let Err(f) = grant_keys(state, &target, std::slice::from_ref(&a.key), ctx.height)? {
        return Ok(Err(f));
    }
    events.push(event("tenant_key.added", &a));
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
    OrgRecord {
        id: org.id.clone(),
        name: org.name.clone(),
        role: org.role,
        ca_cert_pem: org.ca_cert_pem.clone(),
        retiring_cas: Vec::new(),
        status: OrgStatus::Active,
    }
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

/// What an approved action writes.
enum Effect {
    Node(NodeRecord),
    Policy(AdminPolicy),
    /// A new organisation and its administrator key.
    Org(OrgRecord, KeyGrant),
    /// An organisation's record replaced.
    OrgChanged(OrgRecord, &'static str),
    /// An organisation removed, and who sponsors its tenants from now on.
    RemoveOrg {
        record: OrgRecord,
        reason: String,
        tenants_to: Option<OrgId>,
    },
    /// A new administrator key, and the one it retires.
    AdminKey {
        org: OrgId,
        key: KeyGrant,
        retire: Option<KeyRecord>,
    },
    Contract {
        record: ContractRecord,
        /// New code to store under its hash.
        code: Option<Vec<u8>>,
        /// The export to run once, and its input.
        run: Option<(Entry, Vec<u8>)>,
        topic: &'static str,
    },
}

/// Checks an action can run on the current state; returns what it writes.
fn check_action(
    state: &Overlay<'_>,
    ctx: &TxContext<'_>,
    action: &AdminAction,
) -> Result<Result<Effect, TxFailure>, StorageError> {
    if let AdminAction::SetPolicy { policy } = action {
        let roles = org_roles(state)?.into_values();
        if let Some(reason) = policy.unmeetable(roles) {
            bail!("E_BAD_POLICY", "{reason}");
        }
        return Ok(Ok(Effect::Policy(policy.clone())));
    }
    if let AdminAction::RotateAdminKey { org, key, retire } = action {
        return check_admin_key(state, org, key, retire.as_ref());
    }
    if let AdminAction::RotateCa { org, ca_cert_pem, old_until_height } = action {
        return check_rotate_ca(state, ctx, org, ca_cert_pem, *old_until_height);
    }
    if let AdminAction::RemoveOrg { org, reason, tenants_to } = action {
        return check_remove_org(state, org, reason, tenants_to.as_ref());
    }
    if let AdminAction::AddOrg { org, name, role, ca_cert_pem, admin_key } = action {
        return check_new_org(state, org, name, *role, ca_cert_pem, admin_key);
    }
    if !action.is_membership() {
        return check_contract_action(state, ctx, action);
    }
    Ok(check_node_action(state, action)?.map(Effect::Node))
}

/// A member organisation's record, or the failure that says why there is none.
fn member_org(state: &Overlay<'_>, org: &OrgId) -> Result<Result<OrgRecord, TxFailure>, StorageError> {
    let Some(record) = state.get_record::<OrgRecord>(&system_contract(), &state_key(RecordKind::Org, org.as_str()))?
    else {
        bail!("E_UNKNOWN_ORG", "organisation {org} is not in the consortium");
    };
    if let OrgStatus::Removed { at_height, .. } = record.status {
        bail!("E_ORG_REMOVED", "organisation {org} was removed at height {at_height}");
    }
    Ok(Ok(record))
}

fn check_remove_org(
    state: &Overlay<'_>,
    org: &OrgId,
    reason: &str,
    tenants_to: Option<&OrgId>,
) -> Result<Result<Effect, TxFailure>, StorageError> {
    let record = match member_org(state, org)? {
        Ok(r) => r,
        Err(f) => return Ok(Err(f)),
    };
    if let Err(f) = check_name("reason", reason, MAX_REASON_CHARS) {
        return Ok(Err(f));
    }
    if let Some(to) = tenants_to {
        if to == org {
            bail!("E_BAD_ARGS", "the tenants of {org} cannot move to {org} itself");
        }
        if let Err(f) = member_org(state, to)? {
            return Ok(Err(f));
        }
    }
    let mut remaining = org_roles(state)?;
    remaining.remove(org);
    if remaining.is_empty() {
        bail!("E_LAST_ORG", "organisation {org} is the last one");
    }
    if let Some(why) = admin_policy(state)?.unmeetable(remaining.into_values()) {
        bail!("E_BAD_POLICY", "without {org} the approval policy could not be met ({why}): change it first");
    }
    let voters: Vec<OrgId> = active_voters(state)?.into_iter().map(|n| n.org).collect();
    if voters.contains(org) && voters.iter().all(|o| o == org) {
        bail!("E_LAST_VOTER", "organisation {org} runs the last voters: no one could order anything after it");
    }
    Ok(Ok(Effect::RemoveOrg { record, reason: reason.to_string(), tenants_to: tenants_to.cloned() }))
}

/// Every record of kind `prefix` (e.g. `b"key/"`) that `keep` selects, with its state key.
fn records_where<T: Canonical>(
    state: &Overlay<'_>,
    prefix: &[u8],
    keep: impl Fn(&T) -> bool,
) -> Result<Vec<(Vec<u8>, T)>, StorageError> {
    let mut out = Vec::new();
    for (key, bytes) in state.prefix(&system_contract(), prefix)? {
        let record = T::decode(&bytes).map_err(|e| StorageError::Corrupt {
            what: String::from_utf8_lossy(&key).into_owned(),
            reason: e.to_string(),
        })?;
        if keep(&record) {
            out.push((key, record));
        }
    }
    Ok(out)
}

/// Carries out the removal of an organisation (see [`AdminAction::RemoveOrg`]).
fn remove_org(
    state: &mut Overlay<'_>,
    ctx: &TxContext<'_>,
    mut record: OrgRecord,
    reason: String,
    tenants_to: Option<OrgId>,
    events: &mut Vec<Event>,
) -> Result<(), StorageError> {
    let system = system_contract();
    let org = record.id.clone();
    let active_key = |owner: Principal| move |k: &KeyRecord| k.owner == owner && k.status == KeyStatus::Active;
    let revoke_keys = |state: &mut Overlay<'_>, owner: Principal| -> Result<(), StorageError> {
        for (key, mut k) in records_where::<KeyRecord>(state, b"key/", active_key(owner))? {
            k.status = KeyStatus::Revoked { at_height: ctx.height };
            state.put_record(&system, key, &k);
        }
        Ok(())
    };
    revoke_keys(state, Principal::Admin(org.clone()))?;
    // Its own participants (its bank accounts, say) act for it: their keys go too.
    let homed_here = |p: &ParticipantRecord| p.home == Home::Org(org.clone());
    for (_, p) in records_where::<ParticipantRecord>(state, b"participant/", homed_here)? {
        revoke_keys(state, Principal::Participant(p.id))?;
    }
    let ours = |n: &NodeRecord| n.org == org && n.status == NodeStatus::Active;
    for (key, mut node) in records_where::<NodeRecord>(state, b"node/", ours)? {
        node.status = NodeStatus::Revoked { at_height: ctx.height, reason: format!("organisation {org} removed") };
        state.put_record(&system, key, &node);
        events.push(event("node.revoked", &node));
    }
    for (key, mut tenant) in records_where::<TenantRecord>(state, b"tenant/", |t| t.registered_by == org)? {
        match &tenants_to {
            Some(to) => {
                tenant.registered_by = to.clone();
                state.put_record(&system, key, &tenant);
                events.push(event("tenant.sponsor_changed", &tenant));
            }
            None => {
                revoke_keys(state, Principal::Tenant(tenant.id.clone()))?;
                events.push(event("tenant.suspended", &tenant));
            }
        }
    }
    record.status = OrgStatus::Removed { at_height: ctx.height, reason };
    state.put_record(&system, state_key(RecordKind::Org, org.as_str()), &record);
    events.push(event("org.removed", &record));
    Ok(())
}

/// The largest CA certificate an organisation may register.
const MAX_CA_PEM_BYTES: usize = 16 * 1024;

/// A CA certificate as given, checked for shape (one PEM certificate, not too
/// large) and normalised; nodes parse it when they trust it.
fn ca_pem(given: &str) -> Result<String, TxFailure> {
    let pem = given.trim();
    if pem.len() > MAX_CA_PEM_BYTES
        || !pem.starts_with("-----BEGIN CERTIFICATE-----")
        || !pem.ends_with("-----END CERTIFICATE-----")
        || pem.matches("-----BEGIN").count() != 1
    {
        return Err(fail(
            "E_BAD_ARGS",
            format!("the CA certificate must be one PEM certificate of at most {MAX_CA_PEM_BYTES} bytes"),
        ));
    }
    Ok(pem.to_string() + "\n")
}

fn check_rotate_ca(
    state: &Overlay<'_>,
    ctx: &TxContext<'_>,
    org: &OrgId,
    given: &str,
    old_until_height: u64,
) -> Result<Result<Effect, TxFailure>, StorageError> {
    let mut record = match member_org(state, org)? {
        Ok(r) => r,
        Err(f) => return Ok(Err(f)),
    };
    let pem = match ca_pem(given) {
        Ok(p) => p,
        Err(f) => return Ok(Err(f)),
    };
    if record.ca_cert_pem.as_deref() == Some(pem.as_str()) {
        bail!("E_BAD_ARGS", "that is already the CA of {org}");
    }
    if old_until_height < ctx.height {
        bail!("E_BAD_ARGS", "old_until_height {old_until_height} is below the current height {}", ctx.height);
    }
    record.retiring_cas.retain(|r| r.until_height > ctx.height);
    if let Some(old) = record.ca_cert_pem.take() {
        record.retiring_cas.push(RetiringCa { ca_cert_pem: old, until_height: old_until_height });
    }
    record.ca_cert_pem = Some(pem);
    Ok(Ok(Effect::OrgChanged(record, "org.ca_rotated")))
}

fn check_new_org(
    state: &Overlay<'_>,
    org: &OrgId,
    name: &str,
    role: billflow_types::OrgRole,
    ca_cert_pem: &str,
    admin_key: &KeyGrant,
) -> Result<Result<Effect, TxFailure>, StorageError> {
    let system = system_contract();
    if state.get(&system, &state_key(RecordKind::Org, org.as_str()))?.is_some() {
        bail!("E_ORG_EXISTS", "organisation {org} is already in the consortium");
    }
    if let Err(f) = check_name("name", name, MAX_NAME_CHARS) {
        return Ok(Err(f));
    }
    let pem = match ca_pem(ca_cert_pem) {
        Ok(p) => p,
        Err(f) => return Ok(Err(f)),
    };
    if let Err(f) = check_grant(state, admin_key)? {
        return Ok(Err(f));
    }
    let record = OrgRecord {
        id: org.clone(),
        name: name.to_string(),
        role,
        ca_cert_pem: Some(pem),
        retiring_cas: Vec::new(),
        status: OrgStatus::Active,
    };
    Ok(Ok(Effect::Org(record, admin_key.clone())))
}

fn check_admin_key(
    state: &Overlay<'_>,
    org: &OrgId,
    key: &KeyGrant,
    retire: Option<&KeyId>,
) -> Result<Result<Effect, TxFailure>, StorageError> {
    let system = system_contract();
    if let Err(f) = member_org(state, org)? {
        return Ok(Err(f));
    }
    if let Err(f) = check_grant(state, key)? {
        return Ok(Err(f));
    }
    let retire = match retire {
        None => None,
        Some(id) => {
            let Some(record) = state.get_record::<KeyRecord>(&system, &state_key(RecordKind::Key, id.as_str()))? else {
                bail!("E_UNKNOWN_KEY", "key {id} is not registered");
            };
            if record.owner != Principal::Admin(org.clone()) {
                bail!("E_UNAUTHORIZED", "key {id} is not an administrator key of {org}");
            }
            if let KeyStatus::Revoked { at_height } = record.status {
                bail!("E_KEY_REVOKED", "key {id} was already revoked at height {at_height}");
            }
            Some(record)
        }
    };
    Ok(Ok(Effect::AdminKey { org: org.clone(), key: key.clone(), retire }))
}

/// Every organisation of the consortium and its role.
fn org_roles(state: &Overlay<'_>) -> Result<BTreeMap<OrgId, billflow_types::OrgRole>, StorageError> {
    let members = records_where::<OrgRecord>(state, b"org/", |o| o.status == OrgStatus::Active)?;
    Ok(members.into_iter().map(|(_, o)| (o.id, o.role)).collect())
}

fn check_node_action(state: &Overlay<'_>, action: &AdminAction) -> Result<Result<NodeRecord, TxFailure>, StorageError> {
    match action {
        AdminAction::AddNode { node, org, public_key, role, address } => {
            let system = system_contract();
            if state.get(&system, &state_key(RecordKind::Node, node.as_str()))?.is_some() {
                bail!("E_NODE_EXISTS", "node {node} is already (or was) a member");
            }
            let org_record = match member_org(state, org)? {
                Ok(r) => r,
                Err(f) => return Ok(Err(f)),
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
            if record.role == billflow_types::NodeRole::Voter && active_voters(state)?.len() <= 1 {
                bail!("E_LAST_VOTER", "node {node} is the last voter");
            }
            Ok(Ok(record))
        }
        AdminAction::SetNodeRole { node, role } => {
            let system = system_contract();
            let Some(mut record) =
                state.get_record::<NodeRecord>(&system, &state_key(RecordKind::Node, node.as_str()))?
            else {
                bail!("E_UNKNOWN_NODE", "node {node} is not a member");
            };
            if let NodeStatus::Revoked { at_height, .. } = record.status {
                bail!("E_NODE_REVOKED", "node {node} was revoked at height {at_height}");
            }
            if record.role == *role {
                bail!(
                    "E_BAD_ARGS",
                    "node {node} is already a {}",
                    if *role == billflow_types::NodeRole::Voter { "voter" } else { "observer" }
                );
            }
            let org = state.get_record::<OrgRecord>(&system, &state_key(RecordKind::Org, record.org.as_str()))?;
            if *role == billflow_types::NodeRole::Voter
                && org.is_some_and(|o| o.role == billflow_types::OrgRole::Regulator)
            {
                bail!("E_REGULATOR_VOTER", "regulator nodes observe and never vote");
            }
            if *role == billflow_types::NodeRole::Observer && active_voters(state)?.len() <= 1 {
                bail!("E_LAST_VOTER", "node {node} is the last voter");
            }
            record.role = *role;
            Ok(Ok(record))
        }
        _ => bail!("E_BAD_ARGS", "not a membership action"),
    }
}

/// Checks the organisations and tenants named exist; returns the lists sorted.
fn check_registrations(
    state: &Overlay<'_>,
    registrations: &Registrations,
) -> Result<Result<Registrations, TxFailure>, StorageError> {
    let registrations = registrations.clone().normalised();
    if registrations.orgs.len() + registrations.tenants.len() > 1_000 {
        bail!("E_BAD_ARGS", "at most 1000 organisations and tenants may be registered for a contract");
    }
    for org in &registrations.orgs {
        if state.get(&system_contract(), &state_key(RecordKind::Org, org.as_str()))?.is_none() {
            bail!("E_UNKNOWN_ORG", "organisation {org} is not in the consortium");
        }
    }
    for t in &registrations.tenants {
        if tenant(state, t.as_str())?.is_none() {
            bail!("E_UNKNOWN_TENANT", "tenant {t} is not registered");
        }
    }
    Ok(Ok(registrations))
}

/// Checks new contract code; returns its hash and whether it exports `entry`.
fn check_code(
    ctx: &TxContext<'_>,
    code: &[u8],
    entry: Entry,
    args: &[u8],
) -> Result<(billflow_types::Hash32, bool), TxFailure> {
    let max = ctx.params.max_code_bytes as usize;
    if code.len() > max {
        return Err(fail("E_CODE_TOO_LARGE", format!("the code is {} bytes; the limit is {max}", code.len())));
    }
    let prepared = ctx.env.vm.prepare(code).map_err(|e| fail("E_INVALID_CODE", e.to_string()))?;
    let has = prepared.has(entry);
    if !has && !args.is_empty() {
        return Err(fail(
            "E_BAD_ARGS",
            format!("arguments given for `{}`, which the code does not export", entry.export()),
        ));
    }
    if args.len() > ctx.params.max_args_bytes as usize {
        return Err(fail("E_ARGS_TOO_LARGE", format!("{} bytes of `{}` arguments", args.len(), entry.export())));
    }
    Ok((prepared.hash, has))
}

fn check_contract_action(
    state: &Overlay<'_>,
    ctx: &TxContext<'_>,
    action: &AdminAction,
) -> Result<Result<Effect, TxFailure>, StorageError> {
    let system = system_contract();
    let existing = |name: &billflow_types::ContractName| -> Result<Option<ContractRecord>, StorageError> {
        state.get_record(&system, &contract_key(name))
    };
    let unknown = |name: &billflow_types::ContractName| {
        fail("E_UNKNOWN_CONTRACT", format!("no contract named {name} is deployed"))
    };
    let effect = match action {
        AdminAction::DeployContract { name, version, code, registrations, init_args } => {
            if *name == system || existing(name)?.is_some() {
                bail!("E_CONTRACT_EXISTS", "a contract named {name} already exists");
            }
            let (code_hash, has_init) = match check_code(ctx, code, Entry::Init, init_args) {
                Ok(c) => c,
                Err(f) => return Ok(Err(f)),
            };
            let registrations = match check_registrations(state, registrations)? {
                Ok(r) => r,
                Err(f) => return Ok(Err(f)),
            };
            let record = ContractRecord {
                name: name.clone(),
                version: *version,
                code_hash,
                status: ContractStatus::Active,
                registrations,
                history: vec![ContractVersion { version: *version, code_hash, installed_at_height: ctx.height }],
            };
            let run = has_init.then(|| (Entry::Init, init_args.clone()));
            Effect::Contract { record, code: Some(code.clone()), run, topic: "contract.deployed" }
        }
        AdminAction::UpgradeContract { name, version, code, migrate_args } => {
            let Some(mut record) = existing(name)? else { return Ok(Err(unknown(name))) };
            if *version <= record.version {
                bail!(
                    "E_VERSION_NOT_NEWER",
                    "{name} is at version {}; an upgrade must name a later one, not {version}",
                    record.version
                );
            }
            let (code_hash, has_migrate) = match check_code(ctx, code, Entry::Migrate, migrate_args) {
                Ok(c) => c,
                Err(f) => return Ok(Err(f)),
            };
            record.version = *version;
            record.code_hash = code_hash;
            record.history.push(ContractVersion { version: *version, code_hash, installed_at_height: ctx.height });
            let run = has_migrate.then(|| (Entry::Migrate, migrate_args.clone()));
            Effect::Contract { record, code: Some(code.clone()), run, topic: "contract.upgraded" }
        }
        AdminAction::FreezeContract { name, reason } => {
            let Some(mut record) = existing(name)? else { return Ok(Err(unknown(name))) };
            if let Err(f) = check_name("reason", reason, MAX_REASON_CHARS) {
                return Ok(Err(f));
            }
            if let ContractStatus::Frozen { at_height, .. } = record.status {
                bail!("E_ALREADY_FROZEN", "contract {name} was already frozen at height {at_height}");
            }
            record.status = ContractStatus::Frozen { reason: reason.clone(), at_height: ctx.height };
            Effect::Contract { record, code: None, run: None, topic: "contract.frozen" }
        }
        AdminAction::UnfreezeContract { name } => {
            let Some(mut record) = existing(name)? else { return Ok(Err(unknown(name))) };
            if record.status == ContractStatus::Active {
                bail!("E_NOT_FROZEN", "contract {name} is not frozen");
            }
            record.status = ContractStatus::Active;
            Effect::Contract { record, code: None, run: None, topic: "contract.unfrozen" }
        }
        AdminAction::SetRegistrations { name, registrations } => {
            let Some(mut record) = existing(name)? else { return Ok(Err(unknown(name))) };
            record.registrations = match check_registrations(state, registrations)? {
                Ok(r) => r,
                Err(f) => return Ok(Err(f)),
            };
            Effect::Contract { record, code: None, run: None, topic: "contract.registrations_changed" }
        }
        AdminAction::RevokeNode { .. }
        | AdminAction::AddNode { .. }
        | AdminAction::SetNodeRole { .. }
        | AdminAction::AddOrg { .. }
        | AdminAction::RotateCa { .. }
        | AdminAction::RemoveOrg { .. }
        | AdminAction::SetPolicy { .. }
        | AdminAction::RotateAdminKey { .. } => bail!("E_BAD_ARGS", "not a contract action"),
    };
    Ok(Ok(effect))
}

/// Writes what an approved action does.
fn carry_out(state: &mut Overlay<'_>, ctx: &TxContext<'_>, action: &AdminAction, events: &mut Vec<Event>) -> Outcome2 {
    let effect = match check_action(state, ctx, action)? {
        Ok(e) => e,
        Err(f) => return Ok(Err(f)),
    };
    let system = system_contract();
    match effect {
        Effect::OrgChanged(record, topic) => {
            state.put_record(&system, state_key(RecordKind::Org, record.id.as_str()), &record);
            events.push(event(topic, &record));
        }
        Effect::RemoveOrg { record, reason, tenants_to } => {
            remove_org(state, ctx, record, reason, tenants_to, events)?;
        }
        Effect::Org(record, key) => {
            let owner = Principal::Admin(record.id.clone());
            if let Err(f) = grant_keys(state, &owner, std::slice::from_ref(&key), ctx.height)? {
                return Ok(Err(f));
            }
            state.put_record(&system, state_key(RecordKind::Org, record.id.as_str()), &record);
            events.push(event("org.added", &record));
        }
        Effect::AdminKey { org, key, retire } => {
            if let Err(f) = grant_keys(state, &Principal::Admin(org), std::slice::from_ref(&key), ctx.height)? {
                return Ok(Err(f));
            }
            if let Some(mut old) = retire {
                old.status = KeyStatus::Revoked { at_height: ctx.height };
                state.put_record(&system, state_key(RecordKind::Key, old.key_id.as_str()), &old);
            }
            events.push(event("admin_key.rotated", action));
        }
        Effect::Policy(policy) => {
            state.put_record(&system, state_key(RecordKind::Policy, "admin"), &policy);
            events.push(event("policy.changed", &policy));
        }
        Effect::Node(mut record) => {
            let topic = match action {
                AdminAction::RevokeNode { reason, .. } => {
                    record.status = NodeStatus::Revoked { at_height: ctx.height, reason: reason.clone() };
                    "node.revoked"
                }
                AdminAction::SetNodeRole { .. } => "node.role_changed",
                _ => "node.added",
            };
            state.put_record(&system, state_key(RecordKind::Node, record.id.as_str()), &record);
            events.push(event(topic, &record));
        }
        Effect::Contract { record, code, run, topic } => {
            if let Some((entry, args)) = run {
                // The contract's own namespace is untouched by this transaction
                // so far, so the block's state is what `init` or `migrate` sees.
                let view = ctx.view.clone();
                match contracts::run(
                    ctx.env,
                    view,
                    ctx.contract_caller,
                    &record,
                    entry,
                    entry.export(),
                    &args,
                    false,
                    0,
                )? {
                    Ok(done) => {
                        state.merge(done.writes);
                        events.extend(done.events);
                    }
                    Err(f) => {
                        let code = if entry == Entry::Init { "E_INIT_FAILED" } else { "E_MIGRATE_FAILED" };
                        bail!(
                            code,
                            "`{}` of {} {} failed: {}: {}",
                            entry.export(),
                            record.name,
                            record.version,
                            f.failure.code,
                            f.failure.message
                        );
                    }
                }
            }
            if let Some(code) = code {
                state.put(&system, code_key(&record.code_hash), code);
            }
            state.put_record(&system, contract_key(&record.name), &record);
            events.push(event(topic, &record));
        }
    }
    Ok(Ok(()))
}

/// Runs the action if the proposal has enough approvals.
fn maybe_execute(
    state: &mut Overlay<'_>,
    ctx: &TxContext<'_>,
    mut proposal: ProposalRecord,
    events: &mut Vec<Event>,
) -> Outcome2 {
    let policy = admin_policy(state)?;
    let roles = org_roles(state)?;
    let approvers = proposal.approvals.iter().filter_map(|org| roles.get(org).copied());
    if policy.is_met(approvers, roles.values().copied()) {
        let voters_before = if proposal.action.is_membership() { Some(voter_keys(state)?) } else { None };
        if let Err(f) = carry_out(state, ctx, &proposal.action, events)? {
            return Ok(Err(f));
        }
        if let Some(before) = voters_before {
            let after = voter_keys(state)?;
            if after != before {
                record_voter_change(state, ctx, &after, events)?;
            }
        }
        proposal.status = ProposalStatus::Executed { at_height: ctx.height };
        events.push(event("admin.executed", &proposal));
    }
    state.put_record(&system_contract(), state_key(RecordKind::Proposal, proposal.id.as_str()), &proposal);
    Ok(Ok(()))
}

/// Where the system contract keeps node records: a block that writes no key
/// under it leaves the voters as they were.
pub(crate) const NODE_PREFIX: &[u8] = b"node/";

/// The active voters' node records.
fn active_voters(state: &Overlay<'_>) -> Result<Vec<NodeRecord>, StorageError> {
    let records = state.prefix(&system_contract(), NODE_PREFIX)?;
    Ok(records
        .values()
        .filter_map(|bytes| NodeRecord::decode(bytes).ok())
        .filter(|r| r.status == NodeStatus::Active && r.role == billflow_types::NodeRole::Voter)
        .collect())
}

/// The active voters, sorted by node id: the set a block header commits to.
pub(crate) fn voter_keys(state: &Overlay<'_>) -> Result<Vec<VoterKey>, StorageError> {
    let mut voters: Vec<VoterKey> =
        active_voters(state)?.into_iter().map(|r| VoterKey { node: r.id, public_key: r.public_key }).collect();
    voters.sort();
    Ok(voters)
}

/// Names the new voter set in the receipt (what a proof verifier follows)
/// and appends the transaction to the history a node serves with proofs.
fn record_voter_change(
    state: &mut Overlay<'_>,
    ctx: &TxContext<'_>,
    voters: &[VoterKey],
    events: &mut Vec<Event>,
) -> Result<(), StorageError> {
    let system = system_contract();
    let key = state_key(RecordKind::VoterChanges, "history");
    let mut history: VoterChanges = state.get_record(&system, &key)?.unwrap_or_default();
    history.changes.push(VoterChange { height: ctx.height, tx_id: ctx.tx.tx.tx_id.clone() });
    state.put_record(&system, key, &history);
    events.push(event(VOTERS_CHANGED, &voters.to_vec()));
    Ok(())
}

/// The approval policy in force.
fn admin_policy(state: &Overlay<'_>) -> Result<AdminPolicy, StorageError> {
    state
        .get_record(&system_contract(), &state_key(RecordKind::Policy, "admin"))?
        .ok_or_else(|| StorageError::Corrupt { what: "admin policy".into(), reason: "missing from state".into() })
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
    if a.action.is_membership() {
        let open = state
            .prefix(&system_contract(), b"proposal/")?
            .values()
            .filter_map(|bytes| ProposalRecord::decode(bytes).ok())
            .find(|p| {
                p.action.is_membership()
                    && p.status == ProposalStatus::Open
                    && ctx.time_ms < p.proposed_at_ms.saturating_add(PROPOSAL_TTL_MS)
            });
        if let Some(open) = open {
            bail!("E_CHANGE_IN_PROGRESS", "proposal {} is still open; one membership change at a time", open.id);
        }
    }
    if let Err(f) = check_action(state, ctx, &a.action)? {
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
