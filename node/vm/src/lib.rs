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
use wasmtime::{Config, Engine, InstancePre, Linker, Module, Store, StoreLimitsBuilder, Trap};

pub use abi::{CallerView, ContextView};
use host::Host;

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
}

/// Limits applied to every call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VmLimits {
    /// Largest linear memory.
    pub max_memory_bytes: usize,
    /// Largest value, key, argument or output a contract may pass.
    pub max_value_bytes: usize,
    /// Deepest chain of read-only calls into other contracts.
    pub max_call_depth: u32,
}

impl Default for VmLimits {
    fn default() -> Self {
        VmLimits { max_memory_bytes: 16 * 1024 * 1024, max_value_bytes: 1024 * 1024, max_call_depth: 4 }
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
    /// A read-only call into another contract, with at most `fuel`.
    fn call(&mut self, contract: &str, method: &str, args: &[u8], fuel: u64) -> Result<CallOutcome, LedgerError>;
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
    /// The contract aborted with a stable code (`E_...`) and a message.
    Aborted {
        /// The code.
        code: String,
        /// The message.
        message: String,
        /// Fuel consumed.
        fuel_used: u64,
    },
    /// The fuel ran out.
    OutOfFuel {
        /// Fuel consumed (all of it).
        fuel_used: u64,
    },
    /// The contract trapped (a bug in it, or a limit it broke).
    Trapped {
        /// What happened.
        message: String,
        /// Fuel consumed.
        fuel_used: u64,
    },
}

/// One call.
#[derive(Debug, Clone)]
pub struct Call {
    /// What the contract may learn of the call.
    pub context: ContextView,
    /// The method.
    pub method: String,
    /// The arguments.
    pub args: Vec<u8>,
    /// Fuel granted.
    pub fuel: u64,
    /// Depth of read-only calls leading here (0 for a transaction).
    pub depth: u32,
}

/// The VM: an engine and a cache of pre-instantiated modules.
pub struct Vm {
    engine: Engine,
    linker: Linker<Host>,
    cache: Mutex<HashMap<Hash32, Arc<InstancePre<Host>>>>,
    limits: VmLimits,
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
    /// A VM with deterministic settings and `limits`.
    pub fn new(limits: VmLimits) -> Result<Vm, VmError> {
        // Threads and GC are absent: wasmtime is built without those features.
        let mut config = Config::new();
        config
            .consume_fuel(true)
            .cranelift_nan_canonicalization(true)
            .wasm_relaxed_simd(false)
            .wasm_multi_memory(false)
            .wasm_memory64(false);
        let engine = Engine::new(&config).map_err(|e| VmError::Engine(e.to_string()))?;
        let mut linker = Linker::new(&engine);
        host::define(&mut linker).map_err(|e| VmError::Engine(e.to_string()))?;
        Ok(Vm { engine, linker, cache: Mutex::new(HashMap::new()), limits })
    }

    /// The limits.
    pub fn limits(&self) -> VmLimits {
        self.limits
    }

    /// Compiles and checks `code` as a contract (its imports are host functions,
    /// it exports `memory` and `call`), caches it, and returns its code hash.
    pub fn prepare(&self, code: &[u8]) -> Result<Hash32, VmError> {
        let hash = code_hash(code);
        if self.cached(&hash).is_some() {
            return Ok(hash);
        }
        let module = Module::new(&self.engine, code).map_err(|e| VmError::InvalidCode(format!("{e:#}")))?;
        if !module.exports().any(|e| e.name() == "call" && e.ty().func().is_some()) {
            return Err(VmError::InvalidCode("no exported function `call`".into()));
        }
        if !module.exports().any(|e| e.name() == "memory" && e.ty().memory().is_some()) {
            return Err(VmError::InvalidCode("no exported memory `memory`".into()));
        }
        let pre = self.linker.instantiate_pre(&module).map_err(|e| VmError::InvalidCode(format!("{e:#}")))?;
        self.cache.lock().unwrap_or_else(|p| p.into_inner()).insert(hash, Arc::new(pre));
        Ok(hash)
    }

    fn cached(&self, hash: &Hash32) -> Option<Arc<InstancePre<Host>>> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner()).get(hash).cloned()
    }

    /// Runs `call` on the contract with `code` against `ledger`. Returns the
    /// ledger (with whatever the contract wrote) and how the call ended.
    pub fn call<L: Ledger>(&self, code: &[u8], call: Call, ledger: L) -> Result<(L, CallOutcome), VmError> {
        let hash = self.prepare(code)?;
        let pre = self.cached(&hash).ok_or_else(|| VmError::Engine("module cache lost an entry".into()))?;
        let limits = StoreLimitsBuilder::new()
            .memory_size(self.limits.max_memory_bytes)
            .instances(1)
            .memories(1)
            .tables(4)
            .build();
        let fuel = call.fuel;
        let host = Host::new(call, Box::new(ledger), self.limits, limits);
        let mut store = Store::new(&self.engine, host);
        store.limiter(|h| &mut h.store_limits);
        store.set_fuel(fuel).map_err(|e| VmError::Engine(e.to_string()))?;
        let result = pre.instantiate(&mut store).and_then(|instance| {
            let entry = instance.get_typed_func::<(), i32>(&mut store, "call")?;
            entry.call(&mut store, ())
        });
        let fuel_used = fuel - store.get_fuel().unwrap_or(0);
        let host = store.into_data();
        let (ledger, fault, output, events) = host.finish();
        let ledger = *ledger.into_any().downcast::<L>().map_err(|_| VmError::Engine("ledger type changed".into()))?;
        let outcome = match (result, fault) {
            (_, Some(host::Fault::Ledger(e))) => return Err(VmError::Ledger(e)),
            (_, Some(host::Fault::Abort { code, message })) => CallOutcome::Aborted { code, message, fuel_used },
            (Ok(0), None) => CallOutcome::Returned { output, events, fuel_used },
            (Ok(status), None) => CallOutcome::Trapped { message: format!("call returned status {status}"), fuel_used },
            (Err(e), None) => match e.downcast_ref::<Trap>() {
                Some(Trap::OutOfFuel) => CallOutcome::OutOfFuel { fuel_used },
                _ => CallOutcome::Trapped { message: format!("{e:#}").chars().take(500).collect(), fuel_used },
            },
        };
        Ok((ledger, outcome))
    }
}

#[cfg(test)]
mod tests;
