//! The host ABI: what a contract imports from module `billflow`.
//!
//! Pointers and lengths are `i32` offsets into the contract's exported
//! `memory`. Host functions that produce bytes of unknown length put them in a
//! per-call *return buffer* and return their length; the contract then copies
//! them into its memory with `ret_read(ptr)`. Structured data is the canonical
//! (Borsh) encoding of the types below. Every host call costs fuel: a base cost
//! and one unit per byte moved.
//!
//! | import | signature | does |
//! |---|---|---|
//! | `method_len` / `method_read` | `() -> i32` / `(ptr)` | the method name |
//! | `input_len` / `input_read` | `() -> i32` / `(ptr)` | the arguments |
//! | `context` | `() -> i32` | [`ContextView`] into the return buffer |
//! | `ret_len` | `() -> i32` | the length of the return buffer (for `call`'s failure statuses) |
//! | `ret_read` | `(ptr)` | copies the return buffer (and empties it) |
//! | `state_get` | `(kptr, klen) -> i32` | value into the return buffer; `-1` if absent |
//! | `state_put` | `(kptr, klen, vptr, vlen)` | sets a value of this contract |
//! | `state_delete` | `(kptr, klen)` | deletes a value of this contract |
//! | `state_range` | `(sptr, slen, eptr, elen, limit) -> i32` | `Vec<(key, value)>` in key order from `start` to before `end` (`elen < 0`: no end) |
//! | `emit` | `(tptr, tlen, dptr, dlen)` | an event with a topic and data |
//! | `call` | `(cptr, clen, mptr, mlen, aptr, alen, fuel: i64) -> i32` | read-only call into another contract: its output into the return buffer; `-1` it aborted (`(code, message)` in the buffer), `-2` it trapped or ran out of fuel, `-3` refused (message in the buffer) |
//! | `output` | `(ptr, len)` | the call's result |
//! | `abort` | `(cptr, clen, mptr, mlen)` | ends the call with a stable error code and message; nothing it wrote is kept, nor any event but alerts (topic ending `.alert`) |
//!
//! The contract exports `memory` and `call: () -> i32` (0 on success). It may
//! also export `init: () -> i32`, run once when the contract is deployed (input:
//! the deployment's init arguments, method `init`), and `migrate: () -> i32`,
//! run once when an upgrade installs it (input: the upgrade's migrate arguments,
//! method `migrate`). Importing anything else makes the code invalid.
//!
//! A call that fails ends with an error code in its receipt: the contract's own
//! `abort` code, or one the host reserves ([`crate::FailureKind`]). A contract
//! that aborts with a reserved code gets `E_CONTRACT` instead, so a receipt's
//! code always says truthfully who failed.

//! [`ContextView`] and [`CallerView`] are the guest SDK's own types
//! (`contracts/sdk`), so host and contracts cannot disagree on their layout.

pub use billflow_contract::{Caller as CallerView, Context as ContextView};
