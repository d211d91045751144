//! Blocks and block proposals as peers send them and block files hold them:
//! decoding never panics, and what decodes encodes to the same bytes.
#![no_main]

use billflow_types::{Block, BlockProposal, Canonical};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(block) = Block::decode(data) {
        assert_eq!(block.encode(), data);
        let _ = block.header.hash();
    }
    if let Ok(proposal) = BlockProposal::decode(data) {
        assert_eq!(proposal.encode(), data);
    }
});
