//! What execution reads: committed state and the transaction index.

use std::collections::{BTreeMap, BTreeSet};

use billflow_storage::{StorageError, Store};
use billflow_types::{ContractName, StateChange, TxId};

/// Read access to a ledger's committed state.
///
/// To ensure correctness, implementations must answer from one consistent
/// committed point: the state after some block `n` and the transactions of
/// blocks `0..=n`, never a mix.
pub trait LedgerRead {
    /// A contract's state value.
    fn state_get(&self, contract: &ContractName, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError>;
    /// Whether a transaction with this id is recorded.
    fn tx_recorded(&self, tx_id: &TxId) -> Result<bool, StorageError>;
}

impl LedgerRead for Store {
    fn state_get(&self, contract: &ContractName, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        Store::state_get(self, contract, key)
    }

    fn tx_recorded(&self, tx_id: &TxId) -> Result<bool, StorageError> {
        Ok(self.tx_location(tx_id)?.is_some())
    }
}

/// A ledger held in memory: used to replay a chain in `verify`.
#[derive(Debug, Default, Clone)]
pub struct MemoryLedger {
    /// State values by contract and key.
    pub state: BTreeMap<(ContractName, Vec<u8>), Vec<u8>>,
    /// Recorded transaction ids.
    pub txs: BTreeSet<TxId>,
}

impl MemoryLedger {
    /// Applies one block's changes.
    pub fn apply(&mut self, changes: &[StateChange]) {
        for c in changes {
            let key = (c.contract.clone(), c.key.clone());
            match &c.value {
                Some(v) => self.state.insert(key, v.clone()),
                None => self.state.remove(&key),
            };
        }
    }
}

impl LedgerRead for MemoryLedger {
    fn state_get(&self, contract: &ContractName, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.state.get(&(contract.clone(), key.to_vec())).cloned())
    }

    fn tx_recorded(&self, tx_id: &TxId) -> Result<bool, StorageError> {
        Ok(self.txs.contains(tx_id))
    }
}
