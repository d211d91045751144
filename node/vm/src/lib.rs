//! The contract virtual machine. This is the only crate that uses wasmtime.
//!
//! A contract is a WASM module (no WASI) that imports the host functions of
//! module `billflow` ([`abi`]) and exports its linear memory as `memory` and an
//! entry point `call`. Execution is deterministic: fuel metering bounds every
//! call, NaNs are canonicalised, threads and relaxed SIMD are off, memory is
//! capped, and the host offers no clock, randomness or environment — time is
//! the block's. Compiled modules are cached by code hash and pre-instantiated,
//! so a call costs an instantiation, not a compilation.
//!
//! The VM knows nothing of storage or consensus: what a contract reads and
//! writes goes through the [`Ledger`] the caller supplies.

pub mod abi;
mod host;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use billflow_types::state::Entries;
use billflow_types::{Domain, Hash32};
use wasmtime::{Config, Engine, ExternType, InstancePre, Linker, Module, Store, Trap, ValType};

pub use abi::{CallerView, ContextView};
use host::{Fault, Host};

/// VM failures that are not the contract's fault.
#[derive(Debug, thiserror::Error)]
pub enum VmError {
    /// The engine could not be configured.
    #[error("engine: {0}")]
    Engine(String),
    /// The code is not a usable contract: not WASM, wrong imports or exports.
    #[error("invalid contract code: {0}")]
    InvalidCode(String),
    /// The ledger failed underneath the contract (storage): fatal for the node.
    #[error("ledger: {0}")]
    Ledger(String),
    /// [`Vm::run`] was given the hash of a module that was never prepared.
    #[error("no prepared module with code hash {0}")]
    NotPrepared(Hash32),
}

/// Limits applied to every call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VmLimits {
    /// Largest linear memory.
    pub max_memory_bytes: usize,
    /// Largest value, key, event or output a contract may pass.
    pub max_value_bytes: usize,
    /// Largest arguments of a call.
    pub max_args_bytes: usize,
    /// Deepest chain of read-only calls into other contracts.
    pub max_call_depth: u32,
}

impl Default for VmLimits {
    fn default() -> Self {
        VmLimits {
            max_memory_bytes: 16 * 1024 * 1024,
            max_value_bytes: 1024 * 1024,
            max_args_bytes: 32 * 1024,
            max_call_depth: 4,
        }
    }
}

/// What a contract's calls reach: its own state namespace, and read-only calls
/// into other contracts. The executor implements it over the block's overlay.
///
/// To ensure correctness, implementations must be deterministic (the same
/// answers for the same ledger state) and must refuse writes on a read-only
/// call by returning [`LedgerError::ReadOnly`].
pub trait Ledger: Send + 'static {
    /// A value of the calling contract.
    fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, LedgerError>;
    /// Sets a value of the calling contract.
    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<(), LedgerError>;
    /// Deletes a value of the calling contract.
    fn delete(&mut self, key: &[u8]) -> Result<(), LedgerError>;
    /// Up to `limit` entries with keys in `[start, end)` (`end = None`: to the end), in key order.
    fn range(&mut self, start: &[u8], end: Option<&[u8]>, limit: u32) -> Result<Entries, LedgerError>;
    /// A read-only call into another contract, with at most `fuel`, nested
    /// `depth` calls deep (pass it on in [`Call::depth`]).
    fn call(
        &mut self,
        contract: &str,
        method: &str,
        args: &[u8],
        fuel: u64,
        depth: u32,
    ) -> Result<CallOutcome, LedgerError>;
}

/// Why the ledger refused an operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    /// A write during a read-only call.
    #[error("state cannot be changed in a read-only call")]
    ReadOnly,
    /// The contract or method called does not exist or may not be called.
    #[error("{0}")]
    Refused(String),
    /// Storage failed (fatal for the node).
    #[error("storage: {0}")]
    Storage(String),
}

/// An event a contract emitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmittedEvent {
    /// What happened.
    pub topic: String,
    /// Data, as the contract encodes it.
    pub data: Vec<u8>,
}

impl EmittedEvent {
    /// How the topic of an alert ends (`risk.alert`).
    pub const ALERT_SUFFIX: &'static str = ".alert";

    /// Whether this is an alert: an event kept even when the contract aborts
    /// afterwards, so that a refusal can tell supervisors why.
    pub fn is_alert(&self) -> bool {
        self.topic.ends_with(Self::ALERT_SUFFIX)
    }
}

/// Why a call failed. Every kind but [`FailureKind::Aborted`] has an error
/// code the host reserves; an aborting contract names its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The contract aborted with its own code.
    Aborted,
    /// The fuel ran out: `E_OUT_OF_FUEL`.
    OutOfFuel,
    /// The contract asked for more memory than the limit: `E_OUT_OF_MEMORY`.
    OutOfMemory,
    /// The call stack overflowed: `E_STACK_OVERFLOW`.
    StackOverflow,
    /// The contract panicked (reached `unreachable`): `E_CONTRACT_PANIC`.
    Panicked,
    /// A key, value, event or output over the size limit: `E_VALUE_TOO_LARGE`.
    ValueTooLarge,
    /// The call's arguments are over the size limit: `E_ARGS_TOO_LARGE`.
    ArgsTooLarge,
    /// A write or event in a read-only call: `E_READ_ONLY`.
    ReadOnly,
    /// Any other trap (out-of-bounds access, division by zero, a bad host
    /// call): `E_CONTRACT_TRAP`.
    Trapped,
}

impl FailureKind {
    /// Codes the host reserves: a contract cannot abort with them.
    pub const RESERVED: [&'static str; 8] = [
        "E_OUT_OF_FUEL",
        "E_OUT_OF_MEMORY",
        "E_STACK_OVERFLOW",
        "E_VALUE_TOO_LARGE",
        "E_ARGS_TOO_LARGE",
        "E_READ_ONLY",
        "E_CONTRACT_TRAP",
        "E_CONTRACT",
    ];

    /// The receipt code of a host-detected failure (`None` for an abort).
    pub fn code(self) -> Option<&'static str> {
        Some(match self {
            FailureKind::Aborted => return None,
            FailureKind::OutOfFuel => "E_OUT_OF_FUEL",
            FailureKind::OutOfMemory => "E_OUT_OF_MEMORY",
            FailureKind::StackOverflow => "E_STACK_OVERFLOW",
            FailureKind::Panicked => "E_CONTRACT_PANIC",
            FailureKind::ValueTooLarge => "E_VALUE_TOO_LARGE",
            FailureKind::ArgsTooLarge => "E_ARGS_TOO_LARGE",
            FailureKind::ReadOnly => "E_READ_ONLY",
            FailureKind::Trapped => "E_CONTRACT_TRAP",
        })
    }
}

/// How a call ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallOutcome {
    /// Returned normally.
    Returned {
        /// The output bytes.
        output: Vec<u8>,
        /// Events in order.
        events: Vec<EmittedEvent>,
        /// Fuel consumed.
        fuel_used: u64,
    },
    /// Failed: nothing the call wrote may be kept, and of its events only
    /// the alerts of an abort.
    Failed {
        /// Why.
        kind: FailureKind,
        /// The stable error code (`E_...`).
        code: String,
        /// What happened.
        message: String,
        /// When the contract aborted ([`FailureKind::Aborted`]): the alerts
        /// ([`EmittedEvent::is_alert`]) it emitted before, in order. Empty for
        /// every other kind of failure.
        alerts: Vec<EmittedEvent>,
        /// Fuel consumed.
        fuel_used: u64,
    },
}

impl CallOutcome {
    /// Fuel consumed.
    pub fn fuel_used(&self) -> u64 {
        match self {
            CallOutcome::Returned { fuel_used, .. } | CallOutcome::Failed { fuel_used, .. } => *fuel_used,
        }
    }

    fn failed(kind: FailureKind, message: impl Into<String>, fuel_used: u64) -> CallOutcome {
        let code = kind.code().unwrap_or("E_CONTRACT").to_string();
        CallOutcome::Failed { kind, code, message: message.into(), alerts: Vec::new(), fuel_used }
    }
}

/// Which export a call enters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Entry {
    /// `call`: transactions and queries.
    #[default]
    Call,
    /// `init`: once, at deployment.
    Init,
    /// `migrate`: once, when an upgrade installs the code.
    Migrate,
}

impl Entry {
    /// The export's name.
    pub fn export(self) -> &'static str {
        match self {
            Entry::Call => "call",
            Entry::Init => "init",
            Entry::Migrate => "migrate",
        }
    }
}

/// What [`Vm::prepare`] learnt of a module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prepared {
    /// The code hash.
    pub hash: Hash32,
    /// Whether it exports `init`.
    pub has_init: bool,
    /// Whether it exports `migrate`.
    pub has_migrate: bool,
}

impl Prepared {
    /// Whether the module exports `entry`.
    pub fn has(&self, entry: Entry) -> bool {
        match entry {
            Entry::Call => true,
            Entry::Init => self.has_init,
            Entry::Migrate => self.has_migrate,
        }
    }
}

/// One call.
#[derive(Debug, Clone)]
pub struct Call {
    /// What the contract may learn of the call.
    pub context: ContextView,
    /// The export entered.
    pub entry: Entry,
    /// The method.
    pub method: String,
    /// The arguments.
    pub args: Vec<u8>,
    /// Fuel granted.
    pub fuel: u64,
    /// Depth of read-only calls leading here (0 for a transaction).
    pub depth: u32,
}

struct CachedModule {
    pre: InstancePre<Host>,
    info: Prepared,
    /// The code, kept by a pooled VM to prepare it on its spare when a call
    /// has to move there.
    code: Option<Arc<[u8]>>,
}

/// The VM: an engine and a cache of pre-instantiated modules.
pub struct Vm {
    engine: Engine,
    linker: Linker<Host>,
    cache: Mutex<HashMap<Hash32, Arc<CachedModule>>>,
    limits: VmLimits,
    /// A pooled VM's unpooled twin, which takes a call the pool cannot: every
    /// slot in use, or a module the pool's limits do not fit.
    spare: Option<Box<Vm>>,
}

impl std::fmt::Debug for Vm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vm").field("limits", &self.limits).finish_non_exhaustive()
    }
}

/// The hash that names contract code.
pub fn code_hash(code: &[u8]) -> Hash32 {
    Hash32::of(Domain::ContractCode, code)
}

impl Vm {
    /// A VM with deterministic settings and `limits`: each call maps a fresh
    /// linear memory and unmaps it after, so calls never wait for a slot.
    pub fn new(limits: VmLimits) -> Result<Vm, VmError> {
        Vm::with_config(Vm::config(), limits)
    }

    /// A VM like [`Vm::new`] whose instances come from a pool of `slots`
    /// reserved up front: a call reuses a slot's memory (reset between
    /// calls, so nothing survives a call) instead of mapping and unmapping
    /// one, which costs system calls and TLB shootdowns on every core.
    ///
    /// A call the pool cannot take (every slot in use, or a module beyond the
    /// pool's limits) runs on an unpooled VM kept beside it, before any of
    /// the contract's code has run, so every call ends exactly as it would on
    /// [`Vm::new`] and never waits for a slot.
    pub fn pooled(limits: VmLimits, slots: u32) -> Result<Vm, VmError> {
        // Where the kernel tells which pages a call touched (`PAGEMAP_SCAN`,
        // Linux 6.7 and later), only those are reset, with memset, up to
        // 1 MiB of them, and madvise (and the TLB shootdowns it sends to every
        // core) is left for a call that touched more. Elsewhere memset resets
        // the first 64 KiB and madvise the rest: memset over a whole 1 MiB
        // costs more than it saves.
        let pool = |pagemap: bool| {
            let mut pool = wasmtime::PoolingAllocationConfig::default();
            pool.total_core_instances(slots)
                .total_memories(slots)
                .total_tables(slots)
                .max_memory_size(limits.max_memory_bytes)
                .table_keep_resident(1 << 16);
            let (scan, resident) =
                if pagemap { (wasmtime::Enabled::Yes, 1 << 20) } else { (wasmtime::Enabled::No, 64 << 10) };
            pool.pagemap_scan(scan).linear_memory_keep_resident(resident);
            let mut config = Vm::config();
            config.allocation_strategy(wasmtime::InstanceAllocationStrategy::Pooling(pool));
            config
        };
        let mut vm = Vm::with_config(pool(true), limits).or_else(|_| Vm::with_config(pool(false), limits))?;
        vm.spare = Some(Box::new(Vm::new(limits)?));
        Ok(vm)
    }

    fn config() -> Config {
        // Threads and GC are absent: wasmtime is built without those features.
        let mut config = Config::new();
        config
            .consume_fuel(true)
            .cranelift_nan_canonicalization(true)
            .wasm_relaxed_simd(false)
            .wasm_multi_memory(false)
            .wasm_memory64(false);
        config
    }

    fn with_config(config: Config, limits: VmLimits) -> Result<Vm, VmError> {
        let engine = Engine::new(&config).map_err(|e| VmError::Engine(e.to_string()))?;
        let mut linker = Linker::new(&engine);
        host::define(&mut linker).map_err(|e| VmError::Engine(e.to_string()))?;
        Ok(Vm { engine, linker, cache: Mutex::new(HashMap::new()), limits, spare: None })
    }

    /// The limits.
    pub fn limits(&self) -> VmLimits {
        self.limits
    }

    /// Compiles and checks `code` as a contract (its imports are host functions,
    /// it exports `memory` and `call`, and `init` and `migrate` if at all with
    /// the same type), and caches it under its code hash.
    pub fn prepare(&self, code: &[u8]) -> Result<Prepared, VmError> {
        if let Some(info) = self.prepared(&code_hash(code)) {
            return Ok(info);
        }
        match (self.compile(code), &self.spare) {
            (Ok(info), _) => Ok(info),
            // The spare decides: the code is at fault, or only beyond the
            // pool's limits, and then it runs on the spare.
            (Err(_), Some(spare)) => spare.prepare(code),
            (Err(e), None) => Err(e),
        }
    }

    fn compile(&self, code: &[u8]) -> Result<Prepared, VmError> {
        let hash = code_hash(code);
        let module = Module::new(&self.engine, code).map_err(|e| VmError::InvalidCode(format!("{e:#}")))?;
        let entry = |name: &str| -> Result<bool, VmError> {
            match module.get_export(name) {
                None => Ok(false),
                Some(ExternType::Func(f)) if f.params().len() == 0 && f.results().len() == 1 => {
                    match f.results().next() {
                        Some(ValType::I32) => Ok(true),
                        _ => Err(VmError::InvalidCode(format!("export `{name}` must have type () -> i32"))),
                    }
                }
                Some(_) => Err(VmError::InvalidCode(format!("export `{name}` must be a function () -> i32"))),
            }
        };
        if !entry("call")? {
            return Err(VmError::InvalidCode("no exported function `call`".into()));
        }
        if !matches!(module.get_export("memory"), Some(ExternType::Memory(_))) {
            return Err(VmError::InvalidCode("no exported memory `memory`".into()));
        }
        let info = Prepared { hash, has_init: entry("init")?, has_migrate: entry("migrate")? };
        let pre = self.linker.instantiate_pre(&module).map_err(|e| VmError::InvalidCode(format!("{e:#}")))?;
        let code = self.spare.is_some().then(|| Arc::from(code));
        self.cache.lock().unwrap_or_else(|p| p.into_inner()).insert(hash, Arc::new(CachedModule { pre, info, code }));
        Ok(info)
    }

    fn cached(&self, hash: &Hash32) -> Option<Arc<CachedModule>> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner()).get(hash).cloned()
    }

    /// What is known of the prepared module with this hash, if it is cached.
    pub fn prepared(&self, hash: &Hash32) -> Option<Prepared> {
        self.cached(hash).map(|c| c.info).or_else(|| self.spare.as_ref()?.prepared(hash))
    }

    /// Prepares `code` and runs `call` on it: see [`Vm::run`].
    pub fn call<L: Ledger>(&self, code: &[u8], call: Call, ledger: L) -> Result<(L, CallOutcome), VmError> {
        let hash = self.prepare(code)?.hash;
        self.run(&hash, call, ledger)
    }

    /// Runs `call` on the prepared module `hash` against `ledger`. Returns the
    /// ledger (with whatever the contract wrote: the caller keeps it only if the
    /// call returned) and how the call ended.
    pub fn run<L: Ledger>(&self, hash: &Hash32, call: Call, ledger: L) -> Result<(L, CallOutcome), VmError> {
        let Some(module) = self.cached(hash) else {
            return match &self.spare {
                Some(spare) => spare.run(hash, call, ledger),
                None => Err(VmError::NotPrepared(*hash)),
            };
        };
        if !module.info.has(call.entry) {
            return Err(VmError::InvalidCode(format!("the module exports no `{}`", call.entry.export())));
        }
        if call.args.len() > self.limits.max_args_bytes {
            let message =
                format!("{} bytes of arguments exceed the limit of {}", call.args.len(), self.limits.max_args_bytes);
            return Ok((ledger, CallOutcome::failed(FailureKind::ArgsTooLarge, message, 0)));
        }
        let fuel = call.fuel;
        let export = call.entry.export();
        let host = Host::new(call, Box::new(ledger), self.limits);
        let mut store = Store::new(&self.engine, host);
        store.limiter(|h| h);
        store.set_fuel(fuel).map_err(|e| VmError::Engine(e.to_string()))?;
        let instance = match (module.pre.instantiate(&mut store), &self.spare, &module.code) {
            // Not instantiated, and none of the contract's code ran (its start
            // function would have burnt fuel): the spare takes the call whole.
            (Err(_), Some(spare), Some(code)) if store.get_fuel().ok() == Some(fuel) => {
                let (ledger, call) = store.into_data().give_back();
                let ledger =
                    *ledger.into_any().downcast::<L>().map_err(|_| VmError::Engine("ledger type changed".into()))?;
                spare.prepare(code)?;
                return spare.run(hash, call, ledger);
            }
            (instance, _, _) => instance,
        };
        let result = instance.and_then(|instance| {
            let entry = instance.get_typed_func::<(), i32>(&mut store, export)?;
            entry.call(&mut store, ())
        });
        let fuel_used = fuel - store.get_fuel().unwrap_or(0);
        let host = store.into_data();
        let (ledger, fault, output, events) = host.finish();
        let ledger = *ledger.into_any().downcast::<L>().map_err(|_| VmError::Engine("ledger type changed".into()))?;
        let outcome = match (result, fault) {
            (_, Some(Fault::Ledger(e))) => return Err(VmError::Ledger(e)),
            (_, Some(Fault::Abort { code, message })) => {
                let code = if FailureKind::RESERVED.contains(&code.as_str()) { "E_CONTRACT".to_string() } else { code };
                // A refusal keeps its alerts (say, why a risk check refused); nothing else.
                let alerts = events.into_iter().filter(EmittedEvent::is_alert).collect();
                CallOutcome::Failed { kind: FailureKind::Aborted, code, message, alerts, fuel_used }
            }
            (_, Some(Fault::Limit(kind, message))) => CallOutcome::failed(kind, message, fuel_used),
            (Ok(0), None) => CallOutcome::Returned { output, events, fuel_used },
            (Ok(status), None) => {
                CallOutcome::failed(FailureKind::Trapped, format!("`{export}` returned status {status}"), fuel_used)
            }
            (Err(e), None) => {
                let kind = match e.downcast_ref::<Trap>() {
                    Some(Trap::OutOfFuel) => FailureKind::OutOfFuel,
                    Some(Trap::StackOverflow) => FailureKind::StackOverflow,
                    Some(Trap::UnreachableCodeReached) => FailureKind::Panicked,
                    _ => FailureKind::Trapped,
                };
                CallOutcome::failed(kind, format!("{e:#}").chars().take(500).collect::<String>(), fuel_used)
            }
        };
        Ok((ledger, outcome))
    }
}

#[cfg(test)]
mod tests;
