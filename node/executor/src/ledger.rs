//! What execution reads: committed state and the transaction index.

use std::collections::{BTreeMap, BTreeSet};

use billflow_storage::{StorageError, Store};
use billflow_types::state::Entries;
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
    /// Every entry of `contract` whose key starts with `prefix`, in key order.
    fn state_prefix(&self, contract: &ContractName, prefix: &[u8]) -> Result<Entries, StorageError>;
}

impl LedgerRead for Store {
    fn state_get(&self, contract: &ContractName, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        Store::state_get(self, contract, key)
    }

    fn tx_recorded(&self, tx_id: &TxId) -> Result<bool, StorageError> {
        Ok(self.tx_location(tx_id)?.is_some())
    }

    fn state_prefix(&self, contract: &ContractName, prefix: &[u8]) -> Result<Entries, StorageError> {
        let mut end = prefix.to_vec();
        // The smallest key above every key with this prefix (none if the prefix is all 0xff).
        while let Some(last) = end.pop() {
            if last < 0xff {
                end.push(last + 1);
                break;
            }
        }
        let to = (!end.is_empty()).then_some(end.as_slice());
        self.state_range(contract, prefix, to, usize::MAX)
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

    fn state_prefix(&self, contract: &ContractName, prefix: &[u8]) -> Result<Entries, StorageError> {
        Ok(self
            .state
            .range((contract.clone(), prefix.to_vec())..)
            .take_while(|((c, k), _)| c == contract && k.starts_with(prefix))
            .map(|((_, k), v)| (k.clone(), v.clone()))
            .collect())
    }
}
