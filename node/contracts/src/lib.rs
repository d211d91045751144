//! The contracts that ship with the node, as WASM modules ready to deploy,
//! and the types of their arguments, outputs, events and state.
//!
//! The contracts' sources are the separate cargo workspace `contracts/` at the
//! repository's root (the contract SDK, the evidence contract, the bill, fund
//! and order flows contract, and the hostile test fixture). This crate's build script compiles that workspace
//! for `wasm32-unknown-unknown` (release profile, `--locked`, into
//! `<target>/contracts/`) and embeds the results, so the node's build needs the
//! `wasm32-unknown-unknown` target installed (the build script adds it with
//! `rustup` when it is missing).

pub use billflow_contract_evidence as evidence;
pub use billflow_contract_flows as flows;

/// The evidence contract's code: document hashes submitted by participants and
/// co-signed by notaries. Deploy it with init arguments [`evidence::EvidenceConfig`];
/// its methods, arguments and outputs are described in [`evidence`].
pub const EVIDENCE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/evidence.wasm"));

/// The flows contract's code: bills through their life cycle, fund movements
/// and reconciliation, orders and invoices, risk rules. Deploy it as `flows`
/// with init arguments [`flows::FlowsConfig`]; its methods and types are in [`flows`].
pub const FLOWS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/flows.wasm"));

/// A test fixture's code: a contract whose methods misbehave (loop for ever,
/// exhaust memory, overflow the stack, panic, trap, write too much, write and
/// then fail, claim the host's error codes, write in read-only calls). For the
/// VM's and executor's tests; never deploy it on a real network. Its methods
/// are listed in `contracts/hostile/src/lib.rs`.
pub const HOSTILE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/hostile.wasm"));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contracts_are_wasm_modules_of_reasonable_size() {
        // The interfaces' Borsh schemas take about a third of each contract's code.
        for (code, limit) in [(EVIDENCE, 200), (HOSTILE, 200), (FLOWS, 640)] {
            assert_eq!(code.get(..8), Some(&b"\0asm\x01\0\0\0"[..]));
            assert!(code.len() < limit * 1024, "{} bytes", code.len());
        }
    }

    #[test]
    fn evidence_keys_are_the_contracts() {
        let hash = [7u8; 32];
        assert!(evidence::record_key(&hash).starts_with(b"e/"));
        assert_eq!(evidence::submitter_of(Some("p1"), None, None).as_deref(), Some("participant:p1"));
    }
}
