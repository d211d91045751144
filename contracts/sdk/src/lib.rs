//! Write billflow smart contracts in Rust.
//!
//! A contract is a `cdylib` built for `wasm32-unknown-unknown` that imports the
//! host functions of module `billflow` (see `node/vm/src/abi.rs` in the node)
//! and exports `memory`, `call` and optionally `init` and `migrate`. This crate
//! wraps that ABI safely (it holds all the `unsafe` code), and provides a bump
//! allocator and a panic handler, so that a contract is a page of ordinary Rust:
//!
//! ```ignore
//! #![no_std]
//! extern crate alloc;
//!
//! use alloc::vec::Vec;
//! use billflow_contract::{Error, args, ok, state};
//!
//! billflow_contract::contract! {
//!     call => dispatch,
//!     init => init,
//! }
//!
//! fn init() -> Result<(), Error> {
//!     let greeting: alloc::string::String = args()?;
//!     state::put_as("greeting", &greeting);
//!     Ok(())
//! }
//!
//! fn dispatch(method: &str) -> Result<Vec<u8>, Error> {
//!     match method {
//!         "greeting" => ok(&state::get_as::<alloc::string::String>("greeting")?),
//!         other => Err(Error::unknown_method(other)),
//!     }
//! }
//! ```
//!
//! Arguments, outputs, state values and event data are Borsh-encoded by
//! convention ([`args`], [`ok`], [`state::get_as`], [`emit`]); the raw byte
//! forms are there too.
//!
//! Each call runs in a fresh instance: nothing in memory survives it, only
//! what it stored with [`state`]. A call that fails (returns an [`Error`],
//! panics or traps) keeps none of its writes or events.
//!
//! On targets other than `wasm32` the crate compiles, but every host function
//! panics: only a contract's pure parts can run there (in unit tests).

#![cfg_attr(not(test), no_std)]
#![warn(missing_docs)]

extern crate alloc;

#[cfg(target_arch = "wasm32")]
mod heap;
#[cfg(target_arch = "wasm32")]
mod panic;
mod sys;

mod context;
pub mod interface;
pub mod state;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

pub use borsh;
use borsh::{BorshDeserialize, BorshSerialize};

pub use context::{Caller, Context, context};

/// Error codes the SDK itself uses.
///
/// A contract's own codes are `E_` followed by up to 62 of `A-Z 0-9 _`. The
/// host reserves `E_OUT_OF_FUEL`, `E_OUT_OF_MEMORY`, `E_STACK_OVERFLOW`,
/// `E_CONTRACT_TRAP`, `E_VALUE_TOO_LARGE`, `E_ARGS_TOO_LARGE`, `E_READ_ONLY`
/// and `E_CONTRACT`: an abort with one of those (or with a malformed code) is
/// reported as `E_CONTRACT`.
pub mod codes {
    /// The arguments do not decode as the method's argument type, or break its rules.
    pub const E_BAD_ARGS: &str = "E_BAD_ARGS";
    /// The contract has no such method.
    pub const E_UNKNOWN_METHOD: &str = "E_UNKNOWN_METHOD";
    /// The contract panicked (the message is the panic's).
    pub const E_CONTRACT_PANIC: &str = "E_CONTRACT_PANIC";
    /// A stored value does not decode as the type asked for.
    pub const E_CORRUPT_STATE: &str = "E_CORRUPT_STATE";
    /// A call into another contract trapped or ran out of fuel.
    pub const E_CALL_TRAPPED: &str = "E_CALL_TRAPPED";
    /// The host refused a call into another contract.
    pub const E_CALL_REFUSED: &str = "E_CALL_REFUSED";
}

/// Why a call fails: a stable error code (`E_...`) and a message for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// The code: `E_` followed by `A-Z 0-9 _`, at most 64 bytes in all.
    pub code: String,
    /// What went wrong (the host keeps the first 500 characters).
    pub message: String,
}

impl Error {
    /// An error with `code` and `message`.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Error {
        Error { code: code.into(), message: message.into() }
    }

    /// `E_BAD_ARGS`: the arguments break the method's rules.
    pub fn bad_args(message: impl Into<String>) -> Error {
        Error::new(codes::E_BAD_ARGS, message)
    }

    /// `E_UNKNOWN_METHOD`: the contract has no method `method`.
    pub fn unknown_method(method: &str) -> Error {
        let shown: String = method.chars().take(64).collect();
        Error::new(codes::E_UNKNOWN_METHOD, format!("the contract has no method `{shown}`"))
    }
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl core::error::Error for Error {}

/// `Ok(())` if `cond` holds, else an [`Error`] with `code` and `message`.
///
/// The [`ensure!`] macro formats its message only when the condition fails.
pub fn ensure(cond: bool, code: &str, message: &str) -> Result<(), Error> {
    if cond { Ok(()) } else { Err(Error::new(code, message)) }
}

/// Returns `Err(Error::new(code, format!(...)))` from the enclosing function
/// unless the condition holds.
///
/// ```ignore
/// ensure!(limit <= 100, "E_BAD_ARGS", "limit {limit} is over 100");
/// ```
#[macro_export]
macro_rules! ensure {
    ($cond:expr, $code:expr, $($message:tt)+) => {
        if !$cond {
            return ::core::result::Result::Err($crate::Error::new($code, $crate::__format!($($message)+)));
        }
    };
}

#[doc(hidden)]
pub use alloc::format as __format;

/// The method called.
pub fn method() -> String {
    sys::text(sys::method())
}

/// The call's argument bytes.
pub fn input() -> Vec<u8> {
    sys::input()
}

/// The call's arguments decoded as `T` (Borsh; every byte must be used).
///
/// # Errors
/// `E_BAD_ARGS` if they do not decode.
pub fn args<T: BorshDeserialize>() -> Result<T, Error> {
    T::try_from_slice(&input()).map_err(|e| Error::bad_args(format!("the arguments do not decode: {e}")))
}

/// The Borsh encoding of `value`.
///
/// # Panics
/// If `value`'s encoding fails, which only a hand-written `BorshSerialize` can do.
pub fn encode<T: BorshSerialize + ?Sized>(value: &T) -> Vec<u8> {
    match borsh::to_vec(value) {
        Ok(bytes) => bytes,
        Err(e) => panic!("encoding failed: {e}"),
    }
}

/// A method's output: `Ok` with the Borsh encoding of `value`.
pub fn ok<T: BorshSerialize + ?Sized>(value: &T) -> Result<Vec<u8>, Error> {
    Ok(encode(value))
}

/// Sets the call's output bytes (the [`contract!`] entry point does this with
/// what the method returns).
pub fn output(bytes: &[u8]) {
    sys::output(bytes)
}

/// Ends the call with error `code` and `message`: nothing it wrote or emitted
/// is kept. Does not return.
pub fn abort(code: &str, message: &str) -> ! {
    sys::abort(code, message)
}

/// Emits an event: `topic` (1 to 64 bytes) and the Borsh encoding of `data`.
/// An event in a read-only call makes the host fail the call.
pub fn emit<T: BorshSerialize + ?Sized>(topic: &str, data: &T) {
    sys::emit(topic, &encode(data))
}

/// Emits an event with raw `data`.
pub fn emit_raw(topic: &str, data: &[u8]) {
    sys::emit(topic, data)
}

/// Why a call into another contract failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallError {
    /// It aborted with its own error.
    Aborted {
        /// Its error code.
        code: String,
        /// Its message.
        message: String,
    },
    /// It trapped (panicked, ran out of fuel, broke a limit).
    Trapped,
    /// The host refused the call (no such contract or method, calls nested too deep).
    Refused(String),
}

impl From<CallError> for Error {
    /// An aborted call passes its error on; the other failures become
    /// `E_CALL_TRAPPED` and `E_CALL_REFUSED`.
    fn from(e: CallError) -> Error {
        match e {
            CallError::Aborted { code, message } => Error { code, message },
            CallError::Trapped => Error::new(codes::E_CALL_TRAPPED, "the called contract trapped"),
            CallError::Refused(why) => Error::new(codes::E_CALL_REFUSED, why),
        }
    }
}

/// Calls `method` of `contract` read-only with `args`, giving it at most
/// `fuel` (taken from this call's fuel): its output bytes, or why it failed.
/// The callee cannot change state or emit events.
pub fn call(contract: &str, method: &str, args: &[u8], fuel: u64) -> Result<Vec<u8>, CallError> {
    match sys::call(contract, method, args, fuel) {
        sys::CallStatus::Returned(output) => Ok(output),
        sys::CallStatus::Trapped => Err(CallError::Trapped),
        sys::CallStatus::Aborted(buf) => Err(aborted(&buf)),
        sys::CallStatus::Refused(buf) => Err(CallError::Refused(sys::text(buf))),
    }
}

/// The error of a callee that aborted, from the return buffer: Borsh
/// `(code, message)`, read leniently (a field cut short keeps what is there).
fn aborted(buf: &[u8]) -> CallError {
    // A length-prefixed field at `at`, cut at the end of the buffer, and where the next one starts.
    let field = |at: usize| -> (&[u8], usize) {
        let len = buf.get(at..at.saturating_add(4)).map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
        let start = at.saturating_add(4).min(buf.len());
        let end = start.saturating_add(len as usize);
        (&buf[start..end.min(buf.len())], end)
    };
    let (code, next) = field(0);
    let (message, _) = field(next);
    CallError::Aborted {
        code: String::from_utf8_lossy(code).into_owned(),
        message: String::from_utf8_lossy(message).into_owned(),
    }
}

/// [`call`] with Borsh-encoded arguments and output.
///
/// # Errors
/// The callee's failure as a [`CallError`]; an output that does not decode as
/// `R` is reported as `CallError::Aborted` with code `E_BAD_OUTPUT`.
pub fn call_as<A: BorshSerialize + ?Sized, R: BorshDeserialize>(
    contract: &str,
    method: &str,
    args: &A,
    fuel: u64,
) -> Result<R, CallError> {
    let output = call(contract, method, &encode(args), fuel)?;
    R::try_from_slice(&output).map_err(|e| CallError::Aborted {
        code: String::from("E_BAD_OUTPUT"),
        message: format!("the output of `{method}` does not decode: {e}"),
    })
}

/// Declares the contract's entry points (exports).
///
/// ```ignore
/// billflow_contract::contract! {
///     call => dispatch,   // fn dispatch(method: &str) -> Result<Vec<u8>, Error>
///     interface => iface, // optional: fn iface() -> interface::Interface
///     init => init,       // optional: fn init() -> Result<(), Error>
///     migrate => migrate, // optional: fn migrate() -> Result<(), Error>
/// }
/// ```
///
/// `call` reads the method name and passes it on; `Ok` bytes become the call's
/// output, an `Err` aborts with its code and message. `init` runs once at
/// deployment and `migrate` once when an upgrade installs the code; both read
/// their arguments with [`args`] or [`input`]. With `interface`, the query
/// method [`interface::METHOD`] answers the contract's
/// [`Interface`](interface::Interface) (Borsh-encoded).
#[macro_export]
macro_rules! contract {
    (call => $call:path, interface => $interface:path $(, $entry:ident => $handler:path)* $(,)?) => {
        const _: () = {
            /// The `call` export: runs a method, or answers the interface.
            #[unsafe(export_name = "call")]
            extern "C" fn __billflow_call() -> i32 {
                $crate::__rt::call(|method: &str| {
                    if method == $crate::interface::METHOD {
                        $crate::ok(&$interface())
                    } else {
                        $call(method)
                    }
                })
            }
            $($crate::__contract_entry!($entry => $handler);)*
        };
    };
    (call => $call:path $(, $entry:ident => $handler:path)* $(,)?) => {
        // Exported under their ABI names; the Rust names cannot clash with the
        // handlers' (which may well be called `init` and `migrate`).
        const _: () = {
            /// The `call` export: runs a method.
            #[unsafe(export_name = "call")]
            extern "C" fn __billflow_call() -> i32 {
                $crate::__rt::call($call)
            }
            $($crate::__contract_entry!($entry => $handler);)*
        };
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __contract_entry {
    (init => $handler:path) => {
        /// The `init` export: runs once at deployment.
        #[unsafe(export_name = "init")]
        extern "C" fn __billflow_init() -> i32 {
            $crate::__rt::run($handler)
        }
    };
    (migrate => $handler:path) => {
        /// The `migrate` export: runs once when an upgrade installs the code.
        #[unsafe(export_name = "migrate")]
        extern "C" fn __billflow_migrate() -> i32 {
            $crate::__rt::run($handler)
        }
    };
}

#[doc(hidden)]
pub mod __rt {
    //! What the [`contract!`](crate::contract) entry points run.
    use alloc::vec::Vec;

    use crate::Error;

    /// Runs a method: its output, or an abort.
    #[inline(always)]
    pub fn call(dispatch: impl FnOnce(&str) -> Result<Vec<u8>, Error>) -> i32 {
        let method = crate::method();
        match dispatch(&method) {
            Ok(output) => {
                crate::output(&output);
                0
            }
            Err(e) => crate::abort(&e.code, &e.message),
        }
    }

    /// Runs `init` or `migrate`.
    #[inline(always)]
    pub fn run(entry: impl FnOnce() -> Result<(), Error>) -> i32 {
        match entry() {
            Ok(()) => 0,
            Err(e) => crate::abort(&e.code, &e.message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(n: u32) -> Result<(), Error> {
        ensure!(n < 10, "E_TOO_BIG", "{n} is not under 10");
        Ok(())
    }

    #[test]
    fn ensure_formats_only_on_failure() {
        assert_eq!(check(3), Ok(()));
        assert_eq!(check(12), Err(Error::new("E_TOO_BIG", "12 is not under 10")));
        assert_eq!(ensure(false, "E_X", "no"), Err(Error::new("E_X", "no")));
        assert_eq!(ensure(true, "E_X", "no"), Ok(()));
    }

    #[test]
    fn context_layout_is_the_hosts() {
        let context = Context {
            contract: "evidence".into(),
            version: "1.0.0".into(),
            tx_id: "tx-1".into(),
            height: 7,
            time_ms: 1_700_000_000_000,
            caller: Caller {
                key_id: "k1".into(),
                tenant: Some("t1".into()),
                participant: Some("p1".into()),
                participant_kind: Some("notary".into()),
                org: None,
                org_role: None,
            },
            read_only: true,
        };
        let bytes = encode(&context);
        // Strings are u32-length-prefixed, options a 0/1 tag, integers little-endian.
        assert_eq!(&bytes[..12], &[8, 0, 0, 0, b'e', b'v', b'i', b'd', b'e', b'n', b'c', b'e']);
        assert_eq!(bytes.last(), Some(&1));
        assert_eq!(Context::try_from_slice(&bytes).ok(), Some(context.clone()));
        assert!(context.caller.is_notary());
        assert!(!context.caller.has_org_role("notary"));
    }

    #[test]
    fn aborts_are_read_from_padded_buffers() {
        let mut buf = encode(&(String::from("E_NOPE"), String::from("no")));
        buf.resize(64, 0);
        assert_eq!(aborted(&buf), CallError::Aborted { code: "E_NOPE".into(), message: "no".into() });
        let mut cut = encode(&(String::from("E_NOPE"), "x".repeat(100)));
        cut.truncate(40);
        assert_eq!(aborted(&cut), CallError::Aborted { code: "E_NOPE".into(), message: "x".repeat(26) });
        assert_eq!(aborted(&[]), CallError::Aborted { code: String::new(), message: String::new() });
        assert_eq!(aborted(&[0xff; 3]), CallError::Aborted { code: String::new(), message: String::new() });
    }

    #[test]
    fn call_errors_become_errors() {
        let aborted = CallError::Aborted { code: "E_NOPE".into(), message: "no".into() };
        assert_eq!(Error::from(aborted), Error::new("E_NOPE", "no"));
        assert_eq!(Error::from(CallError::Trapped).code, codes::E_CALL_TRAPPED);
        assert_eq!(Error::unknown_method("x").code, codes::E_UNKNOWN_METHOD);
    }
}
