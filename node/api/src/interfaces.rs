//! Contract interfaces, asked of each contract once per code and kept.
//!
//! A contract answers its interface to the reserved query `interface`; the
//! `system` contract's is the node's own. The JSON form of query results,
//! events and records is decoded with them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use axum::http::StatusCode;
use billflow_chain::Chain;
use billflow_types::interface::{ContractInterface, Interface, METHOD, system_interface};
use billflow_types::system::{SYSTEM_CONTRACT, SYSTEM_VERSION};
use billflow_types::{ContractName, Event, Hash32};
use serde_json::Value;

use crate::error::ApiError;

/// A contract's interface, the code it describes, and the height at which
/// that code was last seen active.
struct Known {
    code: Hash32,
    seen_at: u64,
    interface: Arc<ContractInterface>,
}

/// The interfaces asked so far.
#[derive(Default)]
pub(crate) struct Interfaces {
    known: Mutex<HashMap<ContractName, Known>>,
    system: OnceLock<Arc<ContractInterface>>,
}

impl Interfaces {
    /// The interface of `name`'s active version. The first ask for a code
    /// runs the contract's `interface` query here (a few milliseconds, once
    /// per code); later ones are a lookup, with the contract's record read
    /// again at most once a block (an upgrade changes its code).
    pub(crate) fn of(&self, chain: &Chain, name: &ContractName) -> Result<Arc<ContractInterface>, ApiError> {
        if name.as_str() == SYSTEM_CONTRACT {
            return self.system();
        }
        let tip = chain.tip().height;
        if let Some(known) = self.lock().get(name)
            && known.seen_at == tip
        {
            return Ok(known.interface.clone());
        }
        let record = chain
            .contract(name)?
            .ok_or_else(|| ApiError::not_found(format!("no contract named {name} is deployed")))?;
        if let Some(known) = self.lock().get_mut(name)
            && known.code == record.code_hash
        {
            known.seen_at = tip;
            return Ok(known.interface.clone());
        }
        let bytes = chain.query(None, name, METHOD, &[])?.map_err(|f| ApiError {
            status: StatusCode::NOT_FOUND,
            code: "E_NO_INTERFACE".into(),
            message: format!("version {} of {name} publishes no interface ({}: {})", record.version, f.code, f.message),
        })?;
        let schema: Interface = borsh::from_slice(&bytes)
            .map_err(|e| ApiError::internal(format!("the interface of {name} does not decode: {e}")))?;
        let interface = ContractInterface::from_schema(name.as_str(), &record.version.to_string(), &schema)
            .map_err(|e| ApiError::internal(format!("the interface of {name} cannot be described: {e}")))?;
        let interface = Arc::new(interface);
        let known = Known { code: record.code_hash, seen_at: tip, interface: interface.clone() };
        self.lock().insert(name.clone(), known);
        Ok(interface)
    }

    fn system(&self) -> Result<Arc<ContractInterface>, ApiError> {
        if let Some(known) = self.system.get() {
            return Ok(known.clone());
        }
        let interface =
            ContractInterface::from_schema(SYSTEM_CONTRACT, &SYSTEM_VERSION.to_string(), &system_interface())
                .map_err(|e| ApiError::internal(format!("the system interface cannot be described: {e}")))?;
        Ok(self.system.get_or_init(|| Arc::new(interface)).clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ContractName, Known>> {
        self.known.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The JSON form of `event`'s data, when its contract's interface names
    /// the topic and the data decodes; `None` otherwise (a contract without
    /// an interface, or an event of a version before the active one that
    /// no longer fits).
    pub(crate) fn event(&self, chain: &Chain, event: &Event) -> Option<Value> {
        let interface = self.of(chain, &event.contract).ok()?;
        interface.decode(interface.event_type(&event.topic)?, &event.data).ok()
    }

    /// [`event`](Self::event) of each of `events`, in order.
    pub(crate) fn events(&self, chain: &Chain, events: &[Event]) -> Vec<Option<Value>> {
        events.iter().map(|e| self.event(chain, e)).collect()
    }
}
