//! [`StoreReader`]: the store's reads, and nothing that writes.

use billflow_types::{Block, BlockHeader, ContractName, Hash32, Receipt, SignedTx, TxId, TxLocation};

use crate::{Result, Store, StoredBlock};

/// A read-only handle on a [`Store`], for code that serves reads and must
/// never change the ledger (the REST gateway). It has the reads that code
/// needs and no way back to the [`Store`]: no block commit, no consensus log,
/// no attestations or metadata to put. Add a read here when a reader needs
/// one; never a write.
///
/// It reads the same database as the store it came from, so it sees every
/// block as soon as the commit returns.
#[derive(Clone, Debug)]
pub struct StoreReader {
    store: Store,
}

impl Store {
    /// A read-only handle on this store.
    pub fn reader(&self) -> StoreReader {
        StoreReader { store: self.clone() }
    }
}

impl From<Store> for StoreReader {
    fn from(store: Store) -> StoreReader {
        StoreReader { store }
    }
}

impl StoreReader {
    /// The stored genesis document ([`Store::genesis`]).
    pub fn genesis(&self) -> Result<Option<billflow_types::Genesis>> {
        self.store.genesis()
    }

    /// The block at `height` ([`Store::block`]).
    pub fn block(&self, height: u64) -> Result<Option<Block>> {
        self.store.block(height)
    }

    /// Everything block `height` wrote ([`Store::stored_block`]).
    pub fn stored_block(&self, height: u64) -> Result<Option<StoredBlock>> {
        self.store.stored_block(height)
    }

    /// The height of the block with this hash ([`Store::height_of`]).
    pub fn height_of(&self, hash: &Hash32) -> Result<Option<u64>> {
        self.store.height_of(hash)
    }

    /// Where the transaction `tx_id` is recorded ([`Store::tx_location`]).
    pub fn tx_location(&self, tx_id: &TxId) -> Result<Option<TxLocation>> {
        self.store.tx_location(tx_id)
    }

    /// The transaction at `loc` and its block's header, decoding no more of
    /// the block ([`Store::tx_at`]).
    pub fn tx_at(&self, loc: TxLocation) -> Result<Option<(BlockHeader, SignedTx)>> {
        self.store.tx_at(loc)
    }

    /// Where a transaction is recorded, and its receipt ([`Store::tx_receipt`]).
    pub fn tx_receipt(&self, tx_id: &TxId) -> Result<Option<(TxLocation, Receipt)>> {
        self.store.tx_receipt(tx_id)
    }

    /// The receipts of the block at `height`, in order ([`Store::receipts`]).
    pub fn receipts(&self, height: u64) -> Result<Vec<Receipt>> {
        self.store.receipts(height)
    }

    /// The attestations of block `height`, by node ([`Store::attestations`]).
    pub fn attestations(&self, height: u64) -> Result<Vec<(String, Vec<u8>)>> {
        self.store.attestations(height)
    }

    /// A contract's state value ([`Store::state_get`]).
    pub fn state_get(&self, contract: &ContractName, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.store.state_get(contract, key)
    }
}
