//! Write overlays: a transaction writes into its own overlay, which joins the
//! block's overlay only if the transaction succeeds (all or nothing).

use std::collections::BTreeMap;

use billflow_storage::StorageError;
use billflow_types::{Canonical, ContractName, StateChange};

use crate::ledger::LedgerRead;

pub(crate) type Writes = BTreeMap<(ContractName, Vec<u8>), Option<Vec<u8>>>;

/// Reads state as seen through any stack of overlays.
pub(crate) trait StateView {
    fn get(&self, contract: &ContractName, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError>;
    /// Every entry of `contract` whose key starts with `prefix`, in key order.
    fn prefix(&self, contract: &ContractName, prefix: &[u8]) -> Result<BTreeMap<Vec<u8>, Vec<u8>>, StorageError>;
}

impl<L: LedgerRead> StateView for L {
    fn get(&self, contract: &ContractName, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        self.state_get(contract, key)
    }

    fn prefix(&self, contract: &ContractName, prefix: &[u8]) -> Result<BTreeMap<Vec<u8>, Vec<u8>>, StorageError> {
        Ok(self.state_prefix(contract, prefix)?.into_iter().collect())
    }
}

pub(crate) struct Overlay<'a> {
    base: &'a dyn StateView,
    writes: Writes,
}

impl StateView for Overlay<'_> {
    fn get(&self, contract: &ContractName, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        match self.writes.get(&(contract.clone(), key.to_vec())) {
            Some(v) => Ok(v.clone()),
            None => self.base.get(contract, key),
        }
    }

    fn prefix(&self, contract: &ContractName, prefix: &[u8]) -> Result<BTreeMap<Vec<u8>, Vec<u8>>, StorageError> {
        let mut entries = self.base.prefix(contract, prefix)?;
        let start = (contract.clone(), prefix.to_vec());
        for ((c, k), v) in self.writes.range(start..) {
            if c != contract || !k.starts_with(prefix) {
                break;
            }
            match v {
                Some(v) => entries.insert(k.clone(), v.clone()),
                None => entries.remove(k),
            };
        }
        Ok(entries)
    }
}

impl<'a> Overlay<'a> {
    pub(crate) fn new(base: &'a dyn StateView) -> Overlay<'a> {
        Overlay { base, writes: BTreeMap::new() }
    }

    /// An overlay on top of this one.
    pub(crate) fn child(&self) -> Overlay<'_> {
        Overlay::new(self)
    }

    pub(crate) fn put(&mut self, contract: &ContractName, key: Vec<u8>, value: Vec<u8>) {
        self.writes.insert((contract.clone(), key), Some(value));
    }

    pub(crate) fn get_record<T: Canonical>(
        &self,
        contract: &ContractName,
        key: &[u8],
    ) -> Result<Option<T>, StorageError> {
        match self.get(contract, key)? {
            None => Ok(None),
            Some(bytes) => T::decode(&bytes).map(Some).map_err(|e| StorageError::Corrupt {
                what: format!("state {contract}/{}", String::from_utf8_lossy(key)),
                reason: e.to_string(),
            }),
        }
    }

    pub(crate) fn put_record<T: Canonical>(&mut self, contract: &ContractName, key: Vec<u8>, value: &T) {
        self.put(contract, key, value.encode());
    }

    pub(crate) fn bytes_written(&self) -> u64 {
        self.writes.iter().map(|((_, k), v)| (k.len() + v.as_ref().map_or(0, Vec::len)) as u64).sum()
    }

    pub(crate) fn into_writes(self) -> Writes {
        self.writes
    }

    pub(crate) fn merge(&mut self, writes: Writes) {
        self.writes.extend(writes);
    }

    /// The accumulated writes as state changes, sorted by contract and key.
    pub(crate) fn into_changes(self) -> Vec<StateChange> {
        self.writes.into_iter().map(|((contract, key), value)| StateChange { contract, key, value }).collect()
    }
}
