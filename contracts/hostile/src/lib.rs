//! A test fixture: a contract whose methods misbehave in every way the VM
//! must contain. Not for deployment on a real network.
//!
//! | method | does | the host should report |
//! |---|---|---|
//! | `ok` | puts `k` = `v`, emits `ok` (data `ok`), outputs `ok` | success |
//! | `loop` | loops for ever | `E_OUT_OF_FUEL` |
//! | `bomb` | allocates ever larger buffers, touching every page, and never frees them | `E_OUT_OF_MEMORY` |
//! | `panic` | puts `p`, then panics with `boom` | `E_CONTRACT_PANIC` (message `boom`), `p` not kept |
//! | `recurse` | recurses without end on the WASM call stack | `E_STACK_OVERFLOW` |
//! | `big_put` | puts a 2 MiB value under `big` | `E_VALUE_TOO_LARGE` |
//! | `write_then_abort` | puts `w`, then fails with `E_HOSTILE` | `E_HOSTILE`, `w` not kept |
//! | `fake_fuel` | fails with the host's own code `E_OUT_OF_FUEL` | `E_CONTRACT` (rewritten) |
//! | `div_zero` | loads from an address far outside its memory | `E_CONTRACT_TRAP` |
//! | `read_only_write` | puts `ro` = `x` (call it read-only) | `E_READ_ONLY` |
//! | `call_other` | calls another contract: input Borsh `(contract, method, args, fuel)`, output Borsh `(status, bytes, code, message)` | success |
//!
//! `call_other`'s status is 0 (returned: `bytes` is the output), 1 (aborted:
//! `code`, `message`), 2 (trapped) or 3 (refused: `message`).
//!
//! `init` stores its input under `init`; `migrate` stores its input under
//! `migrated`. Any other method fails with `E_UNKNOWN_METHOD`.

#![no_std]
#![warn(missing_docs)]
#![deny(unsafe_code)]

extern crate alloc;
#[cfg(not(target_arch = "wasm32"))]
extern crate std;

use alloc::vec;
use alloc::vec::Vec;
use core::hint::black_box;

use alloc::string::String;
use billflow_contract::{CallError, Error, args, emit_raw, input, ok, state};

billflow_contract::contract! {
    call => dispatch,
    init => init,
    migrate => migrate,
}

fn init() -> Result<(), Error> {
    state::put("init", input());
    Ok(())
}

fn migrate() -> Result<(), Error> {
    state::put("migrated", input());
    Ok(())
}

fn dispatch(method: &str) -> Result<Vec<u8>, Error> {
    match method {
        "ok" => {
            state::put("k", "v");
            emit_raw("ok", b"ok");
            Ok(b"ok".to_vec())
        }
        "loop" => spin(),
        "bomb" => bomb(),
        "panic" => {
            state::put("p", "x");
            panic!("boom")
        }
        "recurse" => {
            // The input can bound the depth (a little-endian u32), so that the
            // optimiser cannot know the recursion has no end.
            let limit = input().get(..4).map_or(u32::MAX, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
            Ok(recurse(0, limit).to_le_bytes().to_vec())
        }
        "big_put" => {
            state::put("big", vec![0xabu8; 2 * 1024 * 1024]);
            Ok(Vec::new())
        }
        "write_then_abort" => {
            state::put("w", "x");
            Err(Error::new("E_HOSTILE", "refused after writing"))
        }
        "fake_fuel" => Err(Error::new("E_OUT_OF_FUEL", "a contract claiming the host's own error")),
        "div_zero" => Ok(trap().to_le_bytes().to_vec()),
        "read_only_write" => {
            state::put("ro", "x");
            Ok(Vec::new())
        }
        "call_other" => call_other(),
        other => Err(Error::unknown_method(other)),
    }
}

/// Calls another contract and reports how it went, whatever it was.
fn call_other() -> Result<Vec<u8>, Error> {
    let (contract, method, call_args, fuel): (String, String, Vec<u8>, u64) = args()?;
    let none = String::new;
    let report: (u8, Vec<u8>, String, String) = match billflow_contract::call(&contract, &method, &call_args, fuel) {
        Ok(output) => (0, output, none(), none()),
        Err(CallError::Aborted { code, message }) => (1, Vec::new(), code, message),
        Err(CallError::Trapped) => (2, Vec::new(), none(), none()),
        Err(CallError::Refused(message)) => (3, Vec::new(), none(), message),
    };
    ok(&report)
}

/// Never returns: a counter the optimiser cannot see through.
fn spin() -> ! {
    let mut n: u64 = 0;
    loop {
        n = black_box(n.wrapping_add(1));
    }
}

/// Allocates and leaks ever larger buffers, writing to every page of each,
/// until the memory limit stops it.
fn bomb() -> ! {
    let mut size: usize = 64 * 1024;
    loop {
        let mut buf: Vec<u8> = Vec::with_capacity(size);
        buf.resize(size, 1);
        for page in buf.chunks_mut(4096) {
            page[0] = 2;
        }
        black_box(buf.leak());
        size = size.saturating_add(size / 2);
    }
}

/// Recurses `limit - n` levels deep. Each level does work after the inner call
/// returns that is neither associative nor commutative, so it cannot become a
/// loop or a tail call, and only integers (WASM locals, no addresses taken)
/// live across the call, so each frame is on the WASM call stack, not the
/// shadow stack in linear memory.
#[inline(never)]
fn recurse(n: u32, limit: u32) -> u32 {
    if n == limit {
        return n;
    }
    let inner = recurse(n.wrapping_add(1), limit);
    inner.wrapping_mul(31).wrapping_sub(n).rotate_left(n & 7)
}

/// Loads from an address far outside the linear memory: a trap that is not a
/// panic (Rust checks division by zero and turns it into a panic, so a
/// division cannot be used here).
#[allow(unsafe_code)]
fn trap() -> u64 {
    let address = black_box(0xffff_fff0usize);
    // SAFETY: none: this is a deliberate out-of-bounds access. On wasm32 it
    // traps (the memory is far smaller than 4 GiB), which is the point; the
    // method is never called on other targets.
    unsafe { core::ptr::read_volatile(address as *const u64) }
}
