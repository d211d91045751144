//! Contract interfaces, asked of each contract once per code and kept.
//!
//! A contract answers its interface to the reserved query `interface`; the
//! `system` contract's is the node's own. The JSON form of query results,
//! events and records is decoded with them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use billflow_chain::Chain;
use billflow_types::interface::{ContractInterface, Interface, METHOD, system_interface};
use billflow_types::system::{SYSTEM_CONTRACT, SYSTEM_VERSION};
use billflow_types::{ContractName, Event, Hash32};
use serde_json::Value;

use crate::error::ApiError;

/// Each contract's interface, with the code it describes (`None`: the node's own).
type Known = HashMap<ContractName, (Option<Hash32>, Arc<ContractInterface>)>;

/// The interfaces asked so far.
#[derive(Default)]
pub(crate) struct Interfaces {
    known: Mutex<Known>,
}

impl Interfaces {
    /// The interface of `name`'s active version. The first ask for a code
    /// runs the contract's `interface` query here (a few milliseconds, once
    /// per code); later ones are a lookup.
    pub(crate) fn of(&self, chain: &Chain, name: &ContractName) -> Result<Arc<ContractInterface>, ApiError> {
        if name.as_str() == SYSTEM_CONTRACT {
            return self.system();
        }
        let record = chain
            .contract(name)?
            .ok_or_else(|| ApiError::not_found(format!("no contract named {name} is deployed")))?;
        if let Some((Some(code), known)) = self.lock().get(name)
            && *code == record.code_hash
        {
            return Ok(known.clone());
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
        self.lock().insert(name.clone(), (Some(record.code_hash), interface.clone()));
        Ok(interface)
    }

    fn system(&self) -> Result<Arc<ContractInterface>, ApiError> {
        let name = billflow_types::system::system_contract();
        if let Some((_, known)) = self.lock().get(&name) {
            return Ok(known.clone());
        }
        let interface =
            ContractInterface::from_schema(SYSTEM_CONTRACT, &SYSTEM_VERSION.to_string(), &system_interface())
                .map_err(|e| ApiError::internal(format!("the system interface cannot be described: {e}")))?;
        let interface = Arc::new(interface);
        self.lock().insert(name, (None, interface.clone()));
        Ok(interface)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Known> {
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
