//! The host side of the ABI ([`crate::abi`]).

use std::any::Any;

use borsh::BorshSerialize;
use wasmtime::{Caller, Linker, Memory, ResourceLimiter, Trap};

use crate::{Call, CallOutcome, EmittedEvent, FailureKind, Ledger, LedgerError, VmLimits};

/// Base fuel of any host call; moving bytes costs one unit each on top.
const HOST_CALL_FUEL: u64 = 200;

/// A [`Ledger`] that can be given back as its concrete type.
pub(crate) trait AnyLedger: Ledger {
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send>;
}

impl<T: Ledger> AnyLedger for T {
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send> {
        self
    }
}

/// Why a call stopped other than by returning.
pub(crate) enum Fault {
    /// The contract aborted.
    Abort { code: String, message: String },
    /// A limit of the host was broken.
    Limit(FailureKind, String),
    /// Storage failed underneath.
    Ledger(String),
}

/// The per-call host state.
pub(crate) struct Host {
    call: Call,
    ledger: Box<dyn AnyLedger>,
    limits: VmLimits,
    ret: Vec<u8>,
    output: Vec<u8>,
    events: Vec<EmittedEvent>,
    fault: Option<Fault>,
}

type Finished = (Box<dyn AnyLedger>, Option<Fault>, Vec<u8>, Vec<EmittedEvent>);

impl Host {
    pub(crate) fn new(call: Call, ledger: Box<dyn AnyLedger>, limits: VmLimits) -> Host {
        Host { call, ledger, limits, ret: Vec::new(), output: Vec::new(), events: Vec::new(), fault: None }
    }

    pub(crate) fn finish(self) -> Finished {
        (self.ledger, self.fault, self.output, self.events)
    }

    /// The ledger and the call, untouched: for a call that never started.
    pub(crate) fn give_back(self) -> (Box<dyn AnyLedger>, Call) {
        (self.ledger, self.call)
    }
}

/// One linear memory, one instance, a few tables; growing memory past the
/// limit is a trap with its own code rather than a failed `memory.grow`, so a
/// contract that runs out of memory cannot carry on in a state it did not expect.
impl ResourceLimiter for Host {
    fn memory_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> Result<bool> {
        let max = self.limits.max_memory_bytes;
        if desired > max {
            self.fault = Some(Fault::Limit(
                FailureKind::OutOfMemory,
                format!("the contract asked for {desired} bytes of memory; the limit is {max}"),
            ));
            return Err(trap("memory limit"));
        }
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> Result<bool> {
        Ok(desired <= 100_000)
    }

    fn instances(&self) -> usize {
        1
    }

    fn tables(&self) -> usize {
        4
    }

    fn memories(&self) -> usize {
        1
    }
}

type Result<T> = wasmtime::Result<T>;

fn trap(message: impl Into<String>) -> wasmtime::Error {
    wasmtime::Error::msg(message.into())
}

/// Records a broken limit and traps.
fn limit(caller: &mut Caller<'_, Host>, kind: FailureKind, message: String) -> wasmtime::Error {
    caller.data_mut().fault = Some(Fault::Limit(kind, message.clone()));
    trap(message)
}

fn refuse_read_only(caller: &mut Caller<'_, Host>, what: &str) -> Result<()> {
    if caller.data().call.context.read_only {
        return Err(limit(caller, FailureKind::ReadOnly, format!("{what} in a read-only call")));
    }
    Ok(())
}

fn memory(caller: &mut Caller<'_, Host>) -> Result<Memory> {
    caller.get_export("memory").and_then(|e| e.into_memory()).ok_or_else(|| trap("the contract exports no memory"))
}

/// Charges `bytes` worth of fuel plus the base cost.
fn charge(caller: &mut Caller<'_, Host>, bytes: usize) -> Result<()> {
    let cost = HOST_CALL_FUEL + bytes as u64;
    let left = caller.get_fuel()?;
    if left < cost {
        caller.set_fuel(0)?;
        return Err(Trap::OutOfFuel.into());
    }
    caller.set_fuel(left - cost)
}

fn read(caller: &mut Caller<'_, Host>, ptr: i32, len: i32) -> Result<Vec<u8>> {
    let max = caller.data().limits.max_value_bytes;
    let (Ok(ptr), Ok(len)) = (usize::try_from(ptr), usize::try_from(len)) else {
        return Err(trap("negative pointer or length"));
    };
    if len > max {
        return Err(limit(caller, FailureKind::ValueTooLarge, format!("{len} bytes exceed the limit of {max}")));
    }
    charge(caller, len)?;
    let mem = memory(caller)?;
    let data = mem.data(&*caller);
    let end = ptr.checked_add(len).filter(|e| *e <= data.len()).ok_or_else(|| trap("read outside memory"))?;
    Ok(data[ptr..end].to_vec())
}

fn write(caller: &mut Caller<'_, Host>, ptr: i32, bytes: &[u8]) -> Result<()> {
    charge(caller, bytes.len())?;
    let ptr = usize::try_from(ptr).map_err(|_| trap("negative pointer"))?;
    let mem = memory(caller)?;
    mem.write(&mut *caller, ptr, bytes).map_err(|_| trap("write outside memory"))
}

fn text(bytes: Vec<u8>, what: &str) -> Result<String> {
    String::from_utf8(bytes).map_err(|_| trap(format!("{what} is not UTF-8")))
}

/// Puts bytes in the return buffer and returns their length.
fn ret(caller: &mut Caller<'_, Host>, bytes: Vec<u8>) -> Result<i32> {
    let len = i32::try_from(bytes.len()).map_err(|_| trap("result too large"))?;
    caller.data_mut().ret = bytes;
    Ok(len)
}

/// A ledger failure: fatal ones stop the node, the rest trap the contract.
fn ledger_error(caller: &mut Caller<'_, Host>, e: LedgerError) -> wasmtime::Error {
    match e {
        LedgerError::Storage(s) => {
            caller.data_mut().fault = Some(Fault::Ledger(s.clone()));
            trap(format!("storage: {s}"))
        }
        LedgerError::ReadOnly => limit(caller, FailureKind::ReadOnly, e.to_string()),
        other => trap(other.to_string()),
    }
}

fn encode(value: &impl BorshSerialize) -> Vec<u8> {
    borsh::to_vec(value).unwrap_or_default()
}

pub(crate) fn define(linker: &mut Linker<Host>) -> Result<()> {
    const M: &str = "billflow";
    linker.func_wrap(M, "method_len", |c: Caller<'_, Host>| -> Result<i32> {
        i32::try_from(c.data().call.method.len()).map_err(|_| trap("method too long"))
    })?;
    linker.func_wrap(M, "method_read", |mut c: Caller<'_, Host>, ptr: i32| -> Result<()> {
        let m = c.data().call.method.clone().into_bytes();
        write(&mut c, ptr, &m)
    })?;
    linker.func_wrap(M, "input_len", |c: Caller<'_, Host>| -> Result<i32> {
        i32::try_from(c.data().call.args.len()).map_err(|_| trap("arguments too long"))
    })?;
    linker.func_wrap(M, "input_read", |mut c: Caller<'_, Host>, ptr: i32| -> Result<()> {
        let a = c.data().call.args.clone();
        write(&mut c, ptr, &a)
    })?;
    linker.func_wrap(M, "context", |mut c: Caller<'_, Host>| -> Result<i32> {
        let bytes = encode(&c.data().call.context);
        ret(&mut c, bytes)
    })?;
    linker.func_wrap(M, "ret_len", |c: Caller<'_, Host>| -> Result<i32> {
        i32::try_from(c.data().ret.len()).map_err(|_| trap("result too large"))
    })?;
    linker.func_wrap(M, "ret_read", |mut c: Caller<'_, Host>, ptr: i32| -> Result<()> {
        let bytes = std::mem::take(&mut c.data_mut().ret);
        write(&mut c, ptr, &bytes)
    })?;
    linker.func_wrap(M, "state_get", |mut c: Caller<'_, Host>, kp: i32, kl: i32| -> Result<i32> {
        let key = read(&mut c, kp, kl)?;
        match c.data_mut().ledger.get(&key) {
            Ok(Some(v)) => {
                charge(&mut c, v.len())?;
                ret(&mut c, v)
            }
            Ok(None) => Ok(-1),
            Err(e) => Err(ledger_error(&mut c, e)),
        }
    })?;
    linker.func_wrap(M, "state_put", |mut c: Caller<'_, Host>, kp: i32, kl: i32, vp: i32, vl: i32| -> Result<()> {
        refuse_read_only(&mut c, "state changed")?;
        let key = read(&mut c, kp, kl)?;
        let value = read(&mut c, vp, vl)?;
        // Writing is dearer than reading: it grows every node's state for ever.
        charge(&mut c, 10 * (key.len() + value.len()))?;
        let r = c.data_mut().ledger.put(&key, &value);
        r.map_err(|e| ledger_error(&mut c, e))
    })?;
    linker.func_wrap(M, "state_delete", |mut c: Caller<'_, Host>, kp: i32, kl: i32| -> Result<()> {
        refuse_read_only(&mut c, "state changed")?;
        let key = read(&mut c, kp, kl)?;
        let r = c.data_mut().ledger.delete(&key);
        r.map_err(|e| ledger_error(&mut c, e))
    })?;
    linker.func_wrap(
        M,
        "state_range",
        |mut c: Caller<'_, Host>, sp: i32, sl: i32, ep: i32, el: i32, limit: i32| -> Result<i32> {
            let start = read(&mut c, sp, sl)?;
            let end = if el < 0 { None } else { Some(read(&mut c, ep, el)?) };
            let limit = u32::try_from(limit).map_err(|_| trap("negative limit"))?.min(10_000);
            let r = c.data_mut().ledger.range(&start, end.as_deref(), limit);
            match r {
                Ok(entries) => {
                    let bytes = encode(&entries);
                    charge(&mut c, bytes.len())?;
                    ret(&mut c, bytes)
                }
                Err(e) => Err(ledger_error(&mut c, e)),
            }
        },
    )?;
    linker.func_wrap(M, "emit", |mut c: Caller<'_, Host>, tp: i32, tl: i32, dp: i32, dl: i32| -> Result<()> {
        refuse_read_only(&mut c, "event emitted")?;
        let topic = text(read(&mut c, tp, tl)?, "event topic")?;
        if topic.is_empty() || topic.len() > 64 {
            return Err(trap("event topic must be 1 to 64 bytes"));
        }
        let data = read(&mut c, dp, dl)?;
        c.data_mut().events.push(EmittedEvent { topic, data });
        Ok(())
    })?;
    linker.func_wrap(
        M,
        "call",
        |mut c: Caller<'_, Host>, cp: i32, cl: i32, mp: i32, ml: i32, ap: i32, al: i32, fuel: i64| -> Result<i32> {
            let contract = text(read(&mut c, cp, cl)?, "contract name")?;
            let method = text(read(&mut c, mp, ml)?, "method name")?;
            let args = read(&mut c, ap, al)?;
            if c.data().call.depth >= c.data().limits.max_call_depth {
                return Err(trap("calls nest too deep"));
            }
            // The callee's fuel comes out of ours.
            let fuel = u64::try_from(fuel).map_err(|_| trap("negative fuel"))?.min(c.get_fuel()?);
            let depth = c.data().call.depth + 1;
            let r = c.data_mut().ledger.call(&contract, &method, &args, fuel, depth);
            let (status, bytes, used) = match r {
                Ok(CallOutcome::Returned { output, fuel_used, .. }) => (0, output, fuel_used),
                // A read-only callee cannot emit, so it has no alerts to pass on.
                Ok(CallOutcome::Failed { kind: FailureKind::Aborted, code, message, fuel_used, .. }) => {
                    (-1, encode(&(code, message)), fuel_used)
                }
                Ok(CallOutcome::Failed { fuel_used, .. }) => (-2, Vec::new(), fuel_used),
                Err(LedgerError::Refused(m)) => (-3, m.into_bytes(), 0),
                Err(e) => return Err(ledger_error(&mut c, e)),
            };
            let left = c.get_fuel()?;
            c.set_fuel(left.saturating_sub(used))?;
            let len = ret(&mut c, bytes)?;
            Ok(if status == 0 { len } else { status })
        },
    )?;
    linker.func_wrap(M, "output", |mut c: Caller<'_, Host>, ptr: i32, len: i32| -> Result<()> {
        let out = read(&mut c, ptr, len)?;
        c.data_mut().output = out;
        Ok(())
    })?;
    linker.func_wrap(M, "abort", |mut c: Caller<'_, Host>, cp: i32, cl: i32, mp: i32, ml: i32| -> Result<()> {
        let code = text(read(&mut c, cp, cl)?, "error code")?;
        let message = text(read(&mut c, mp, ml)?, "error message")?;
        let valid = code.len() <= 64
            && code.starts_with("E_")
            && code.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
        let code = if valid { code } else { "E_CONTRACT".to_string() };
        c.data_mut().fault = Some(Fault::Abort { code, message: message.chars().take(500).collect() });
        Err(trap("contract aborted"))
    })?;
    Ok(())
}
