//! The raw host imports (module `billflow`) and thin wrappers over them.
//!
//! This module and the allocator ([`crate::heap`]) hold all of the crate's
//! `unsafe` code. Every import takes and returns `i32`s (plus one `i64`):
//! pointers are offsets into this module's exported linear memory. The host
//! checks every pointer and length it is given (a bad one traps the call), so
//! the obligations on this side are only that a pointer passed for *reading*
//! covers the stated number of initialised bytes and that a pointer passed for
//! *writing* has room for all the bytes the host will put there.
//!
//! On targets other than `wasm32` there is no host: the imports are replaced by
//! stubs that panic, so that contracts and their types still compile (and can be
//! unit-tested in their pure parts) on the developer's machine.

use alloc::string::String;
use alloc::vec::Vec;

#[cfg(target_arch = "wasm32")]
mod ffi {
    //! The imports exactly as the host defines them (`node/vm/src/abi.rs`).
    #[link(wasm_import_module = "billflow")]
    unsafe extern "C" {
        pub fn method_len() -> i32;
        pub fn method_read(ptr: *mut u8);
        pub fn input_len() -> i32;
        pub fn input_read(ptr: *mut u8);
        pub fn context() -> i32;
        pub fn ret_len() -> i32;
        pub fn ret_read(ptr: *mut u8);
        pub fn state_get(kptr: *const u8, klen: i32) -> i32;
        pub fn state_put(kptr: *const u8, klen: i32, vptr: *const u8, vlen: i32);
        pub fn state_delete(kptr: *const u8, klen: i32);
        pub fn state_range(sptr: *const u8, slen: i32, eptr: *const u8, elen: i32, limit: i32) -> i32;
        pub fn emit(tptr: *const u8, tlen: i32, dptr: *const u8, dlen: i32);
        #[allow(clippy::too_many_arguments)]
        pub fn call(
            cptr: *const u8,
            clen: i32,
            mptr: *const u8,
            mlen: i32,
            aptr: *const u8,
            alen: i32,
            fuel: i64,
        ) -> i32;
        pub fn output(ptr: *const u8, len: i32);
        pub fn abort(cptr: *const u8, clen: i32, mptr: *const u8, mlen: i32) -> !;
    }
}

#[cfg(not(target_arch = "wasm32"))]
#[allow(clippy::missing_safety_doc, clippy::too_many_arguments)]
mod ffi {
    //! Stand-ins for the imports where there is no host: each panics.

    fn unavailable() -> ! {
        panic!("billflow host functions exist only inside a WASM contract (target_arch = \"wasm32\")")
    }

    pub unsafe fn method_len() -> i32 {
        unavailable()
    }
    pub unsafe fn method_read(_: *mut u8) {
        unavailable()
    }
    pub unsafe fn input_len() -> i32 {
        unavailable()
    }
    pub unsafe fn input_read(_: *mut u8) {
        unavailable()
    }
    pub unsafe fn context() -> i32 {
        unavailable()
    }
    pub unsafe fn ret_len() -> i32 {
        unavailable()
    }

    pub unsafe fn ret_read(_: *mut u8) {
        unavailable()
    }
    pub unsafe fn state_get(_: *const u8, _: i32) -> i32 {
        unavailable()
    }
    pub unsafe fn state_put(_: *const u8, _: i32, _: *const u8, _: i32) {
        unavailable()
    }
    pub unsafe fn state_delete(_: *const u8, _: i32) {
        unavailable()
    }
    pub unsafe fn state_range(_: *const u8, _: i32, _: *const u8, _: i32, _: i32) -> i32 {
        unavailable()
    }
    pub unsafe fn emit(_: *const u8, _: i32, _: *const u8, _: i32) {
        unavailable()
    }
    pub unsafe fn call(_: *const u8, _: i32, _: *const u8, _: i32, _: *const u8, _: i32, _: i64) -> i32 {
        unavailable()
    }
    pub unsafe fn output(_: *const u8, _: i32) {
        unavailable()
    }
    pub unsafe fn abort(_: *const u8, _: i32, _: *const u8, _: i32) -> ! {
        unavailable()
    }
}

/// A length as the ABI passes it. A length that does not fit is passed as
/// `i32::MAX`, which the host refuses as too large (it cannot occur in practice:
/// the host's limits are far lower).
fn len32(len: usize) -> i32 {
    i32::try_from(len).unwrap_or(i32::MAX)
}

/// A length the host returned.
fn host_len(len: i32) -> usize {
    match usize::try_from(len) {
        Ok(len) => len,
        Err(_) => panic!("the host returned the invalid length {len}"),
    }
}

/// A buffer of exactly `len` bytes filled by `write`, a host import that writes
/// exactly `len` bytes at the pointer it is given.
fn filled(len: usize, write: impl FnOnce(*mut u8)) -> Vec<u8> {
    let mut buf = Vec::with_capacity(len);
    if len > 0 {
        write(buf.as_mut_ptr());
        // SAFETY: the host wrote `len` bytes at the start of `buf`'s allocation,
        // which has room for at least `len`.
        unsafe { buf.set_len(len) };
    }
    buf
}

/// The first `len` bytes of the return buffer (`len` as a host import returned it).
fn ret(len: usize) -> Vec<u8> {
    // SAFETY: the return buffer holds exactly `len` bytes, and `filled` gives
    // room for `len`.
    filled(len, |ptr| unsafe { ffi::ret_read(ptr) })
}

/// The whole return buffer, when the host did not announce its length (the
/// failure statuses of `call`).
fn ret_unsized() -> Vec<u8> {
    // SAFETY: no pointers are involved.
    ret(host_len(unsafe { ffi::ret_len() }))
}

pub(crate) fn method() -> Vec<u8> {
    // SAFETY: no pointers are involved.
    let len = host_len(unsafe { ffi::method_len() });
    // SAFETY: the host writes exactly the `len` bytes of the method name.
    filled(len, |ptr| unsafe { ffi::method_read(ptr) })
}

pub(crate) fn input() -> Vec<u8> {
    // SAFETY: no pointers are involved.
    let len = host_len(unsafe { ffi::input_len() });
    // SAFETY: the host writes exactly the `len` bytes of the input.
    filled(len, |ptr| unsafe { ffi::input_read(ptr) })
}

pub(crate) fn context() -> Vec<u8> {
    // SAFETY: no pointers are involved.
    ret(host_len(unsafe { ffi::context() }))
}

pub(crate) fn state_get(key: &[u8]) -> Option<Vec<u8>> {
    // SAFETY: the key is read from a live slice of its length.
    let len = unsafe { ffi::state_get(key.as_ptr(), len32(key.len())) };
    if len == -1 { None } else { Some(ret(host_len(len))) }
}

pub(crate) fn state_exists(key: &[u8]) -> bool {
    // SAFETY: the key is read from a live slice of its length. The value stays
    // in the return buffer unread.
    unsafe { ffi::state_get(key.as_ptr(), len32(key.len())) != -1 }
}

pub(crate) fn state_put(key: &[u8], value: &[u8]) {
    // SAFETY: key and value are read from live slices of their lengths.
    unsafe { ffi::state_put(key.as_ptr(), len32(key.len()), value.as_ptr(), len32(value.len())) }
}

pub(crate) fn state_delete(key: &[u8]) {
    // SAFETY: the key is read from a live slice of its length.
    unsafe { ffi::state_delete(key.as_ptr(), len32(key.len())) }
}

pub(crate) fn state_range(start: &[u8], end: Option<&[u8]>, limit: u32) -> Vec<u8> {
    let (eptr, elen) = match end {
        Some(end) => (end.as_ptr(), len32(end.len())),
        None => (core::ptr::null(), -1),
    };
    let limit = i32::try_from(limit).unwrap_or(i32::MAX);
    // SAFETY: start and end are read from live slices of their lengths; the
    // host ignores `eptr` when `elen` is negative.
    let len = unsafe { ffi::state_range(start.as_ptr(), len32(start.len()), eptr, elen, limit) };
    ret(host_len(len))
}

pub(crate) fn emit(topic: &str, data: &[u8]) {
    // SAFETY: topic and data are read from live slices of their lengths.
    unsafe { ffi::emit(topic.as_ptr(), len32(topic.len()), data.as_ptr(), len32(data.len())) }
}

/// How a call into another contract ended, as the host reports it.
pub(crate) enum CallStatus {
    /// Its output.
    Returned(Vec<u8>),
    /// It aborted: the return buffer (Borsh `(code, message)`).
    Aborted(Vec<u8>),
    /// It trapped or ran out of fuel.
    Trapped,
    /// The host refused the call: the return buffer (UTF-8).
    Refused(Vec<u8>),
}

pub(crate) fn call(contract: &str, method: &str, args: &[u8], fuel: u64) -> CallStatus {
    let fuel = i64::try_from(fuel).unwrap_or(i64::MAX);
    // SAFETY: contract, method and args are read from live slices of their lengths.
    let status = unsafe {
        ffi::call(
            contract.as_ptr(),
            len32(contract.len()),
            method.as_ptr(),
            len32(method.len()),
            args.as_ptr(),
            len32(args.len()),
            fuel,
        )
    };
    match status {
        len if len >= 0 => CallStatus::Returned(ret(host_len(len))),
        -1 => CallStatus::Aborted(ret_unsized()),
        -2 => CallStatus::Trapped,
        -3 => CallStatus::Refused(ret_unsized()),
        other => panic!("the host returned the unknown call status {other}"),
    }
}

pub(crate) fn output(bytes: &[u8]) {
    // SAFETY: the bytes are read from a live slice of their length.
    unsafe { ffi::output(bytes.as_ptr(), len32(bytes.len())) }
}

pub(crate) fn abort(code: &str, message: &str) -> ! {
    // SAFETY: code and message are read from live slices of their lengths; the
    // host traps, so this does not return.
    unsafe { ffi::abort(code.as_ptr(), len32(code.len()), message.as_ptr(), len32(message.len())) }
}

/// Text from the host, which is UTF-8 by the ABI.
pub(crate) fn text(bytes: Vec<u8>) -> String {
    match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}
