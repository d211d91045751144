//! Write overlays: a transaction writes into its own overlay, which joins the
//! block's writes only if the transaction succeeds (all or nothing).
//!
//! Native code reads through a borrowed [`Overlay`]; a WASM call must own what
//! it reads (wasmtime's host state is `'static`), so it reads through a
//! [`Snapshot`]: the committed ledger and the block's writes so far, both
//! behind `Arc`s, cheap to clone and released before the block's writes grow.

use std::collections::BTreeMap;
use std::sync::Arc;

use billflow_storage::StorageError;
use billflow_types::state::Entries;
use billflow_types::{Canonical, ContractName, StateChange};

use crate::ledger::{LedgerRead, SharedLedger, prefix_end};

pub(crate) type Writes = BTreeMap<(ContractName, Vec<u8>), Option<Vec<u8>>>;

/// Reads state as seen through any stack of overlays.
pub(crate) trait StateView {
    fn get(&self, contract: &ContractName, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError>;

    /// Up to `limit` entries of `contract` with keys in `[start, end)`, in key order.
    fn range(
        &self,
        contract: &ContractName,
        start: &[u8],
        end: Option<&[u8]>,
        limit: usize,
    ) -> Result<Entries, StorageError>;

    /// Every entry of `contract` whose key starts with `prefix`, in key order.
    fn prefix(&self, contract: &ContractName, prefix: &[u8]) -> Result<BTreeMap<Vec<u8>, Vec<u8>>, StorageError> {
        let end = prefix_end(prefix);
        Ok(self.range(contract, prefix, end.as_deref(), usize::MAX)?.into_iter().collect())
    }

    /// A record of `contract`, decoded.
    fn get_record<T: Canonical>(&self, contract: &ContractName, key: &[u8]) -> Result<Option<T>, StorageError>
    where
        Self: Sized,
    {
        decode_record(contract, key, self.get(contract, key)?)
    }
}

pub(crate) fn decode_record<T: Canonical>(
    contract: &ContractName,
    key: &[u8],
    bytes: Option<Vec<u8>>,
) -> Result<Option<T>, StorageError> {
    match bytes {
        None => Ok(None),
        Some(bytes) => T::decode(&bytes).map(Some).map_err(|e| StorageError::Corrupt {
            what: format!("state {contract}/{}", String::from_utf8_lossy(key)),
            reason: e.to_string(),
        }),
    }
}

impl<L: LedgerRead + ?Sized> StateView for L {
    fn get(&self, contract: &ContractName, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        self.state_get(contract, key)
    }

    fn range(
        &self,
        contract: &ContractName,
        start: &[u8],
        end: Option<&[u8]>,
        limit: usize,
    ) -> Result<Entries, StorageError> {
        self.state_range(contract, start, end, limit)
    }
}

/// `writes` laid over what `below` returns for a range. `below(n)` must return
/// up to `n` entries of the layer underneath.
pub(crate) fn range_over(
    writes: &Writes,
    contract: &ContractName,
    start: &[u8],
    end: Option<&[u8]>,
    limit: usize,
    below: impl FnOnce(usize) -> Result<Entries, StorageError>,
) -> Result<Entries, StorageError> {
    let in_range = || {
        writes
            .range((contract.clone(), start.to_vec())..)
            .take_while(|((c, k), _)| c == contract && end.is_none_or(|e| k.as_slice() < e))
    };
    // Deletions here may hide entries below: fetch that many more.
    let deleted = in_range().filter(|(_, v)| v.is_none()).count();
    let mut entries: BTreeMap<Vec<u8>, Vec<u8>> = below(limit.saturating_add(deleted))?.into_iter().collect();
    for ((_, k), v) in in_range() {
        match v {
            Some(v) => entries.insert(k.clone(), v.clone()),
            None => entries.remove(k),
        };
    }
    Ok(entries.into_iter().take(limit).collect())
}

fn get_over(writes: &Writes, contract: &ContractName, key: &[u8]) -> Option<Option<Vec<u8>>> {
    writes.get(&(contract.clone(), key.to_vec())).cloned()
}

/// Writes over a borrowed view.
pub(crate) struct Overlay<'a> {
    base: &'a dyn StateView,
    writes: Writes,
}

impl StateView for Overlay<'_> {
    fn get(&self, contract: &ContractName, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        match get_over(&self.writes, contract, key) {
            Some(v) => Ok(v),
            None => self.base.get(contract, key),
        }
    }

    fn range(
        &self,
        contract: &ContractName,
        start: &[u8],
        end: Option<&[u8]>,
        limit: usize,
    ) -> Result<Entries, StorageError> {
        range_over(&self.writes, contract, start, end, limit, |n| self.base.range(contract, start, end, n))
    }
}

impl<'a> Overlay<'a> {
    pub(crate) fn new(base: &'a dyn StateView) -> Overlay<'a> {
        Overlay { base, writes: BTreeMap::new() }
    }

    pub(crate) fn put(&mut self, contract: &ContractName, key: Vec<u8>, value: Vec<u8>) {
        self.writes.insert((contract.clone(), key), Some(value));
    }

    pub(crate) fn put_record<T: Canonical>(&mut self, contract: &ContractName, key: Vec<u8>, value: &T) {
        self.put(contract, key, value.encode());
    }

    pub(crate) fn bytes_written(&self) -> u64 {
        bytes_written(&self.writes)
    }

    pub(crate) fn into_writes(self) -> Writes {
        self.writes
    }

    /// Adds writes made elsewhere (a contract's `init` or `migrate`).
    pub(crate) fn merge(&mut self, writes: Writes) {
        self.writes.extend(writes);
    }
}

pub(crate) fn bytes_written(writes: &Writes) -> u64 {
    writes.iter().map(|((_, k), v)| (k.len() + v.as_ref().map_or(0, Vec::len)) as u64).sum()
}

/// An owned view: the committed ledger and layers of writes, newest last.
#[derive(Clone)]
pub(crate) struct Snapshot {
    base: SharedLedger,
    layers: Vec<Arc<Writes>>,
}

impl Snapshot {
    pub(crate) fn new(base: SharedLedger) -> Snapshot {
        Snapshot { base, layers: Vec::new() }
    }

    /// This view with `writes` laid on top.
    pub(crate) fn with(&self, writes: Arc<Writes>) -> Snapshot {
        let mut layers = self.layers.clone();
        layers.push(writes);
        Snapshot { base: self.base.clone(), layers }
    }

    fn range_at(
        &self,
        depth: usize,
        contract: &ContractName,
        start: &[u8],
        end: Option<&[u8]>,
        limit: usize,
    ) -> Result<Entries, StorageError> {
        match depth.checked_sub(1) {
            None => self.base.state_range(contract, start, end, limit),
            Some(below) => range_over(&self.layers[below], contract, start, end, limit, |n| {
                self.range_at(below, contract, start, end, n)
            }),
        }
    }
}

impl StateView for Snapshot {
    fn get(&self, contract: &ContractName, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        for layer in self.layers.iter().rev() {
            if let Some(v) = get_over(layer, contract, key) {
                return Ok(v);
            }
        }
        self.base.state_get(contract, key)
    }

    fn range(
        &self,
        contract: &ContractName,
        start: &[u8],
        end: Option<&[u8]>,
        limit: usize,
    ) -> Result<Entries, StorageError> {
        self.range_at(self.layers.len(), contract, start, end, limit)
    }
}

/// The block's accumulated writes.
#[derive(Default)]
pub(crate) struct BlockWrites {
    writes: Arc<Writes>,
}

impl BlockWrites {
    /// A view of `base` with the block's writes so far. Drop it before
    /// [`BlockWrites::merge`], or the merge copies the writes.
    pub(crate) fn view(&self, base: &SharedLedger) -> Snapshot {
        Snapshot::new(base.clone()).with(self.writes.clone())
    }

    pub(crate) fn merge(&mut self, writes: Writes) {
        Arc::make_mut(&mut self.writes).extend(writes);
    }

    /// The accumulated writes as state changes, sorted by contract and key.
    pub(crate) fn into_changes(self) -> Vec<StateChange> {
        let writes = Arc::try_unwrap(self.writes).unwrap_or_else(|shared| (*shared).clone());
        writes.into_iter().map(|((contract, key), value)| StateChange { contract, key, value }).collect()
    }
}
