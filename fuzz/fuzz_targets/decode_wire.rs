//! What one node says to another (postcard inside the request-response
//! protocol), as an admitted peer could send it: decoding a request or an
//! answer never panics, and what decodes encodes to bytes that decode to the
//! same message.
#![no_main]

use billflow_consensus::wire::{decode_request, decode_response, encode_request, encode_response};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(req) = decode_request(data) {
        let again = decode_request(&encode_request(&req)).expect("a request's own encoding decodes");
        assert_eq!(format!("{req:?}"), format!("{again:?}"));
    }
    if let Ok(resp) = decode_response(data) {
        let again = decode_response(&encode_response(&resp)).expect("an answer's own encoding decodes");
        assert_eq!(format!("{resp:?}"), format!("{again:?}"));
    }
});
