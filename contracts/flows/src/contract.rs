//! The WASM entry points: the host's state, events and context, handed to
//! [`execute`](crate::execute).

use alloc::vec::Vec;

use billflow_contract::{Error, context, input, state};

use crate::ledger::{Store, execute};

billflow_contract::contract! {
    call => dispatch,
    interface => crate::ledger::interface,
    init => init,
}

/// The host's state and events.
struct Host;

impl Store for Host {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        state::get(key)
    }
    fn put(&mut self, key: &[u8], value: &[u8]) {
        state::put(key, value)
    }
    fn delete(&mut self, key: &[u8]) {
        state::delete(key)
    }
    fn range(&self, start: &[u8], end: &[u8], limit: u32) -> Vec<(Vec<u8>, Vec<u8>)> {
        state::range(start, Some(end), limit.min(state::MAX_RANGE))
    }
    fn emit(&mut self, topic: &str, data: &[u8]) {
        billflow_contract::emit_raw(topic, data)
    }
}

fn run(method: &str) -> Result<Vec<u8>, Error> {
    execute(&mut Host, &context(), method, &input()).map_err(|r| Error::new(r.code, r.message))
}

fn dispatch(method: &str) -> Result<Vec<u8>, Error> {
    run(method)
}

fn init() -> Result<(), Error> {
    run(crate::methods::INIT).map(|_| ())
}
