//! WASM contract transactions: resolving the contract, the version and
//! registration checks, and the ledger a contract call sees.
//!
//! A contract reads and writes only its own namespace (state keyed by its
//! name); it may call other contracts read-only. What a call writes joins the
//! block only if the call returns.

use std::sync::Arc;

use billflow_storage::StorageError;
use billflow_types::contract::{ContractRecord, ContractStatus, code_key, contract_key};
use billflow_types::state::Entries;
use billflow_types::system::{
    Home, KeyRecord, KeyStatus, OrgRecord, ParticipantKind, ParticipantRecord, ParticipantStatus, Principal,
    RecordKind, state_key, system_contract,
};
use billflow_types::{ContractName, Event, KeyId, OrgId, OrgRole, TenantId, TxFailure};
use billflow_vm::{
    Call, CallOutcome, CallerView, ContextView, EmittedEvent, Entry, FailureKind, Ledger, LedgerError, Vm,
};

use crate::ExecError;
use crate::overlay::{Snapshot, StateView, Writes, range_over};

/// Who is calling, as contracts and registration checks see it.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub view: CallerView,
    pub org: Option<OrgId>,
    pub tenant: Option<TenantId>,
    pub participant: Option<ParticipantRecord>,
}

impl Caller {
    /// Resolves the owner of `key` against `state`.
    pub(crate) fn resolve(state: &impl StateView, key: &KeyRecord) -> Result<Caller, StorageError> {
        let system = system_contract();
        let (org, tenant, participant) = match &key.owner {
            Principal::Admin(org) => (Some(org.clone()), None, None),
            Principal::Tenant(t) => (None, Some(t.clone()), None),
            Principal::Participant(p) => {
                let record: ParticipantRecord = state
                    .get_record(&system, &state_key(RecordKind::Participant, p.as_str()))?
                    .ok_or_else(|| StorageError::Corrupt {
                        what: format!("key {}", key.key_id),
                        reason: format!("owner participant {p} is not registered"),
                    })?;
                match &record.home {
                    Home::Org(o) => (Some(o.clone()), None, Some(record)),
                    Home::Tenant(t) => (None, Some(t.clone()), Some(record)),
                }
            }
        };
        let org_role = match &org {
            Some(o) => state
                .get_record::<OrgRecord>(&system, &state_key(RecordKind::Org, o.as_str()))?
                .map(|r| role_name(r.role).to_string()),
            None => None,
        };
        let view = CallerView {
            key_id: key.key_id.to_string(),
            tenant: tenant.as_ref().map(ToString::to_string),
            participant: participant.as_ref().map(|p| p.id.to_string()),
            participant_kind: participant.as_ref().map(|p| kind_name(p.kind).to_string()),
            org: org.as_ref().map(ToString::to_string),
            org_role,
        };
        Ok(Caller { view, org, tenant, participant })
    }

    /// Who a query signed by `key` runs as: the key's owner, resolved as for a
    /// transaction, if `key` is registered and active in `state`; anonymous
    /// otherwise. Being frozen does not matter: a query only reads.
    pub(crate) fn of_query(state: &impl StateView, key: Option<&KeyId>) -> Result<Caller, StorageError> {
        let Some(key) = key else { return Ok(Caller::anonymous()) };
        let record: Option<KeyRecord> =
            state.get_record(&system_contract(), &state_key(RecordKind::Key, key.as_str()))?;
        match record {
            Some(record) if matches!(record.status, KeyStatus::Active) => Caller::resolve(state, &record),
            _ => Ok(Caller::anonymous()),
        }
    }

    /// A caller with no identity: read-only queries that name no key, or a
    /// key that is not registered and active.
    pub(crate) fn anonymous() -> Caller {
        let view = CallerView {
            key_id: String::new(),
            tenant: None,
            participant: None,
            participant_kind: None,
            org: None,
            org_role: None,
        };
        Caller { view, org: None, tenant: None, participant: None }
    }

    /// Why the caller may take no action, if it is frozen.
    pub(crate) fn frozen(&self) -> Option<TxFailure> {
        let p = self.participant.as_ref()?;
        match &p.status {
            ParticipantStatus::Frozen { reason, .. } => Some(TxFailure {
                code: "E_PARTICIPANT_FROZEN".into(),
                message: format!("participant {} is frozen: {reason}", p.id),
            }),
            ParticipantStatus::Active => None,
        }
    }
}

fn role_name(role: OrgRole) -> &'static str {
    match role {
        OrgRole::Notary => "notary",
        OrgRole::Bank => "bank",
        OrgRole::Regulator => "regulator",
    }
}

fn kind_name(kind: ParticipantKind) -> &'static str {
    match kind {
        ParticipantKind::Enterprise => "enterprise",
        ParticipantKind::Bank => "bank",
        ParticipantKind::Notary => "notary",
    }
}

fn failure(code: &str, message: String) -> TxFailure {
    TxFailure { code: code.into(), message }
}

/// What a transaction or query names.
pub(crate) struct Target<'a> {
    pub contract: &'a ContractName,
    pub version: Option<&'a billflow_types::Version>,
    pub method: &'a str,
    pub args: &'a [u8],
}

/// Where and when a call runs.
#[derive(Clone)]
pub(crate) struct Env {
    pub vm: Arc<Vm>,
    pub tx_id: String,
    pub height: u64,
    pub time_ms: u64,
    pub fuel: u64,
}

/// A successful contract call.
pub(crate) struct Done {
    pub output: Vec<u8>,
    pub events: Vec<Event>,
    pub writes: Writes,
    pub fuel_used: u64,
}

/// A failed one.
pub(crate) struct Failed {
    /// The receipt's failure.
    pub failure: TxFailure,
    /// Fuel burnt.
    pub fuel_used: u64,
    /// How the call failed (`None`: refused before it ran).
    pub kind: Option<FailureKind>,
    /// The alerts the contract emitted before it aborted, for the failed
    /// receipt; empty unless the contract itself aborted.
    pub alerts: Vec<Event>,
}

impl Failed {
    fn refused(code: &str, message: String) -> Failed {
        Failed { failure: failure(code, message), fuel_used: 0, kind: None, alerts: Vec::new() }
    }
}

/// The active record of `contract`, or why it cannot be invoked.
pub(crate) fn active(
    state: &impl StateView,
    contract: &ContractName,
) -> Result<Result<ContractRecord, TxFailure>, StorageError> {
    let Some(record) = state.get_record::<ContractRecord>(&system_contract(), &contract_key(contract))? else {
        return Ok(Err(failure("E_UNKNOWN_CONTRACT", format!("no contract named {contract} is deployed"))));
    };
    if let ContractStatus::Frozen { reason, at_height } = &record.status {
        return Ok(Err(failure(
            "E_CONTRACT_FROZEN",
            format!("contract {contract} was frozen at height {at_height}: {reason}"),
        )));
    }
    Ok(Ok(record))
}

/// Makes sure the VM holds the compiled code of `record`.
pub(crate) fn ensure_prepared(vm: &Vm, state: &impl StateView, record: &ContractRecord) -> Result<(), ExecError> {
    if vm.prepared(&record.code_hash).is_some() {
        return Ok(());
    }
    let corrupt = |reason: String| StorageError::Corrupt { what: format!("code of contract {}", record.name), reason };
    let code = state
        .get(&system_contract(), &code_key(&record.code_hash))?
        .ok_or_else(|| corrupt(format!("code {} is missing", record.code_hash)))?;
    let prepared = vm.prepare(&code).map_err(|e| corrupt(e.to_string()))?;
    if prepared.hash != record.code_hash {
        return Err(corrupt(format!("stored code hashes to {}", prepared.hash)).into());
    }
    Ok(())
}

/// Runs a transaction or query against a deployed contract: the contract must
/// exist, be active, be at the version named (if one is), and admit the caller
/// (unless the call is a read-only query).
pub(crate) fn invoke(
    env: &Env,
    view: Snapshot,
    caller: &Caller,
    target: Target<'_>,
    read_only: bool,
) -> Result<Result<Done, Failed>, ExecError> {
    let record = match active(&view, target.contract)? {
        Ok(r) => r,
        Err(f) => return Ok(Err(Failed { failure: f, fuel_used: 0, kind: None, alerts: Vec::new() })),
    };
    if let Some(version) = target.version {
        if *version != record.version {
            return Ok(Err(Failed::refused(
                "E_VERSION_MISMATCH",
                format!("contract {} is at version {}, the transaction names {version}", record.name, record.version),
            )));
        }
    }
    if !read_only && !record.registrations.admits(caller.org.as_ref(), caller.tenant.as_ref()) {
        let who = match (&caller.org, &caller.tenant) {
            (Some(o), _) => format!("organisation {o}"),
            (None, Some(t)) => format!("tenant {t}"),
            (None, None) => "the caller".to_string(),
        };
        return Ok(Err(Failed::refused(
            "E_NOT_REGISTERED",
            format!("{who} is not registered for contract {}", record.name),
        )));
    }
    run(env, view, caller, &record, Entry::Call, target.method, target.args, read_only, 0)
}

/// Runs `entry` of `record`'s code.
#[allow(clippy::too_many_arguments)]
pub(crate) fn run(
    env: &Env,
    view: Snapshot,
    caller: &Caller,
    record: &ContractRecord,
    entry: Entry,
    method: &str,
    args: &[u8],
    read_only: bool,
    depth: u32,
) -> Result<Result<Done, Failed>, ExecError> {
    ensure_prepared(&env.vm, &view, record)?;
    let call = Call {
        context: ContextView {
            contract: record.name.to_string(),
            version: record.version.to_string(),
            tx_id: env.tx_id.clone(),
            height: env.height,
            time_ms: env.time_ms,
            caller: caller.view.clone(),
            read_only,
        },
        entry,
        method: method.to_string(),
        args: args.to_vec(),
        fuel: env.fuel,
        depth,
    };
    let ledger = ContractLedger {
        env: env.clone(),
        view,
        contract: record.name.clone(),
        caller: caller.clone(),
        writes: Writes::new(),
        read_only,
    };
    let (ledger, outcome) = env.vm.run(&record.code_hash, call, ledger).map_err(|e| match e {
        billflow_vm::VmError::Ledger(s) => {
            ExecError::Storage(StorageError::Corrupt { what: "contract state".into(), reason: s })
        }
        other => ExecError::Vm(other.to_string()),
    })?;
    let events = |events: Vec<EmittedEvent>| -> Vec<Event> {
        events.into_iter().map(|e| Event { contract: record.name.clone(), topic: e.topic, data: e.data }).collect()
    };
    Ok(match outcome {
        CallOutcome::Returned { output, events: emitted, fuel_used } => {
            Ok(Done { output, events: events(emitted), writes: ledger.writes, fuel_used })
        }
        // The writes stay behind in `ledger`; of the events, only the alerts of an abort survive.
        CallOutcome::Failed { kind, code, message, alerts, fuel_used } => {
            Err(Failed { failure: TxFailure { code, message }, fuel_used, kind: Some(kind), alerts: events(alerts) })
        }
    })
}

/// The ledger one contract call sees: its own namespace over the snapshot,
/// and read-only calls into other contracts.
struct ContractLedger {
    env: Env,
    view: Snapshot,
    contract: ContractName,
    caller: Caller,
    writes: Writes,
    read_only: bool,
}

fn storage(e: StorageError) -> LedgerError {
    LedgerError::Storage(e.to_string())
}

impl Ledger for ContractLedger {
    fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, LedgerError> {
        match self.writes.get(&(self.contract.clone(), key.to_vec())) {
            Some(v) => Ok(v.clone()),
            None => self.view.get(&self.contract, key).map_err(storage),
        }
    }

    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<(), LedgerError> {
        if self.read_only {
            return Err(LedgerError::ReadOnly);
        }
        self.writes.insert((self.contract.clone(), key.to_vec()), Some(value.to_vec()));
        Ok(())
    }

    fn delete(&mut self, key: &[u8]) -> Result<(), LedgerError> {
        if self.read_only {
            return Err(LedgerError::ReadOnly);
        }
        self.writes.insert((self.contract.clone(), key.to_vec()), None);
        Ok(())
    }

    fn range(&mut self, start: &[u8], end: Option<&[u8]>, limit: u32) -> Result<Entries, LedgerError> {
        let (view, contract) = (&self.view, &self.contract);
        range_over(&self.writes, contract, start, end, limit as usize, |n| view.range(contract, start, end, n))
            .map_err(storage)
    }

    fn call(
        &mut self,
        contract: &str,
        method: &str,
        args: &[u8],
        fuel: u64,
        depth: u32,
    ) -> Result<CallOutcome, LedgerError> {
        let name = ContractName::new(contract).map_err(|e| LedgerError::Refused(e.to_string()))?;
        let record = match active(&self.view, &name).map_err(storage)? {
            Ok(r) => r,
            Err(f) => return Err(LedgerError::Refused(f.message)),
        };
        // A call back into this contract sees what this call wrote so far.
        let view =
            if name == self.contract { self.view.with(Arc::new(self.writes.clone())) } else { self.view.clone() };
        let env = Env { fuel, ..self.env.clone() };
        match run(&env, view, &self.caller, &record, Entry::Call, method, args, true, depth) {
            Ok(Ok(done)) => {
                Ok(CallOutcome::Returned { output: done.output, events: Vec::new(), fuel_used: done.fuel_used })
            }
            Ok(Err(f)) => Ok(CallOutcome::Failed {
                kind: f.kind.unwrap_or(FailureKind::Aborted),
                code: f.failure.code,
                message: f.failure.message,
                // A read-only call cannot emit, so it has no alerts.
                alerts: Vec::new(),
                fuel_used: f.fuel_used,
            }),
            Err(e) => Err(LedgerError::Storage(e.to_string())),
        }
    }
}
