//! What execution reads: committed state and the transaction index.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use billflow_storage::{StorageError, Store};
use billflow_types::state::Entries;
use billflow_types::{ContractName, StateChange, TxId};

use crate::overlay::{Writes, range_over};

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
    /// Up to `limit` entries of `contract` with keys in `[start, end)` (`end =
    /// None`: to the end), in key order.
    fn state_range(
        &self,
        contract: &ContractName,
        start: &[u8],
        end: Option<&[u8]>,
        limit: usize,
    ) -> Result<Entries, StorageError>;

    /// Every entry of `contract` whose key starts with `prefix`, in key order.
    fn state_prefix(&self, contract: &ContractName, prefix: &[u8]) -> Result<Entries, StorageError> {
        let end = prefix_end(prefix);
        self.state_range(contract, prefix, end.as_deref(), usize::MAX)
    }
}

/// A ledger shared with contract calls, which must own what they read.
pub type SharedLedger = Arc<dyn LedgerRead + Send + Sync>;

impl<T: LedgerRead + ?Sized> LedgerRead for Arc<T> {
    fn state_get(&self, contract: &ContractName, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        (**self).state_get(contract, key)
    }

    fn tx_recorded(&self, tx_id: &TxId) -> Result<bool, StorageError> {
        (**self).tx_recorded(tx_id)
    }

    fn state_range(
        &self,
        contract: &ContractName,
        start: &[u8],
        end: Option<&[u8]>,
        limit: usize,
    ) -> Result<Entries, StorageError> {
        (**self).state_range(contract, start, end, limit)
    }
}

/// The smallest key above every key that starts with `prefix` (`None` if the
/// prefix is empty or all `0xff`).
pub(crate) fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

impl LedgerRead for Store {
    fn state_get(&self, contract: &ContractName, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        Store::state_get(self, contract, key)
    }

    fn tx_recorded(&self, tx_id: &TxId) -> Result<bool, StorageError> {
        Ok(self.tx_location(tx_id)?.is_some())
    }

    fn state_range(
        &self,
        contract: &ContractName,
        start: &[u8],
        end: Option<&[u8]>,
        limit: usize,
    ) -> Result<Entries, StorageError> {
        Store::state_range(self, contract, start, end, limit)
    }
}

/// The store with the blocks of a batch that are executed but not yet
/// written laid over it: a batch is executed block after block and written
/// with one sync ([`crate::Executor::apply_all`]).
#[derive(Clone)]
pub(crate) struct Pending {
    store: Store,
    writes: Writes,
    txs: BTreeSet<TxId>,
}

impl Pending {
    pub(crate) fn new(store: Store) -> Pending {
        Pending { store, writes: Writes::new(), txs: BTreeSet::new() }
    }

    /// Lays an executed block's state changes and transactions over the store.
    pub(crate) fn add(&mut self, stored: &billflow_storage::StoredBlock) {
        for c in &stored.changes {
            self.writes.insert((c.contract.clone(), c.key.clone()), c.value.clone());
        }
        self.txs.extend(stored.block.txs.iter().map(|tx| tx.tx.tx_id.clone()));
    }

    /// The blocks laid over the store are now written to it.
    pub(crate) fn clear(&mut self) {
        self.writes.clear();
        self.txs.clear();
    }
}

impl LedgerRead for Pending {
    fn state_get(&self, contract: &ContractName, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        match self.writes.get(&(contract.clone(), key.to_vec())) {
            Some(v) => Ok(v.clone()),
            None => self.store.state_get(contract, key),
        }
    }

    fn tx_recorded(&self, tx_id: &TxId) -> Result<bool, StorageError> {
        Ok(self.txs.contains(tx_id) || self.store.tx_location(tx_id)?.is_some())
    }

    fn state_range(
        &self,
        contract: &ContractName,
        start: &[u8],
        end: Option<&[u8]>,
        limit: usize,
    ) -> Result<Entries, StorageError> {
        range_over(&self.writes, contract, start, end, limit, |n| self.store.state_range(contract, start, end, n))
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

    fn state_range(
        &self,
        contract: &ContractName,
        start: &[u8],
        end: Option<&[u8]>,
        limit: usize,
    ) -> Result<Entries, StorageError> {
        Ok(self
            .state
            .range((contract.clone(), start.to_vec())..)
            .take_while(|((c, k), _)| c == contract && end.is_none_or(|e| k.as_slice() < e))
            .take(limit)
            .map(|((_, k), v)| (k.clone(), v.clone()))
            .collect())
    }
}
