//! A signed transaction as a gateway or a peer receives it: decoding never
//! panics, and what decodes encodes to the same bytes (the encoding is
//! canonical, so its hash is the transaction's identity) and checks its
//! signature without panicking.
#![no_main]

use billflow_types::{Canonical, SignedTx};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(tx) = SignedTx::decode(data) {
        assert_eq!(tx.encode(), data, "a transaction decoded from bytes it does not encode to");
        let _ = tx.hash();
        let _ = tx.verify(&billflow_types::dev::dev_key("fuzz").public());
    }
});
