//! The evidence contract: participants submit the hashes of documents
//! (invoices, contracts, delivery notes) with a little metadata, and notaries
//! co-sign them; a record co-signed by notaries of enough distinct notary
//! offices is *notarised* (two notaries of one office count once).
//!
//! Methods (arguments and outputs in Borsh; see [`methods`]):
//!
//! | method | arguments | output |
//! |---|---|---|
//! | `init` (deployment) | [`EvidenceConfig`] | — |
//! | `submit` | [`SubmitEvidence`] | [`EvidenceRecord`] |
//! | `cosign` | [`CosignEvidence`] | [`EvidenceRecord`] |
//! | `get` (query) | [`GetEvidence`] | `Option<EvidenceRecord>` |
//! | `list_by_submitter` (query) | [`ListBySubmitter`] | `Vec<EvidenceRecord>` |
//!
//! `submit` refuses a hash that is there already (`E_DUPLICATE_EVIDENCE`) and
//! metadata that looks like personal data (`E_PERSONAL_DATA`,
//! [`find_personal_data`]). `cosign` needs a notary participant (`E_NOT_NOTARY`),
//! a known record (`E_UNKNOWN_EVIDENCE`) and a notary that has not signed it yet
//! (`E_ALREADY_SIGNED`). Events: [`topics`].
//!
//! State: the [`EvidenceConfig`] under [`CONFIG_KEY`]; each record under
//! [`record_key`] (`e/<hash>`); an empty value under [`submitter_index_key`]
//! (`s/<submitter>/<height><hash>`) for listing by submitter.
//!
//! Built for `wasm32-unknown-unknown` with the default feature `contract`,
//! this is the contract itself (a `cdylib`). Otherwise only the types and the
//! [`interface`] remain: host-side code depends on this crate with
//! `default-features = false` to encode arguments and decode outputs, events
//! and state.

#![no_std]
#![warn(missing_docs)]
#![forbid(unsafe_code)]

extern crate alloc;
// Outside a WASM contract, std provides the panic handler and allocator.
#[cfg(not(all(target_arch = "wasm32", feature = "contract")))]
extern crate std;

// The entry points exist only in the WASM build, so that no host build (even
// one that enables `contract`) links symbols named `call` and `init`.
#[cfg(all(feature = "contract", target_arch = "wasm32"))]
mod contract;
mod types;

pub use types::*;
