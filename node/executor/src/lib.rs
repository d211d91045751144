//! The deterministic apply path: a block proposal in, a committed block out.
//!
//! [`Executor::execute`] is a pure function of the ledger state it reads and the
//! proposal: it reads no clock, no randomness and no environment, and iterates
//! only ordered maps, so every node that executes the same proposal on the same
//! state gets the same block, receipts and state changes. [`Executor::apply`]
//! executes against the store and commits the result in one atomic write.
//! Consensus sits in front of `apply`; nothing here knows how proposals were
//! ordered. [`verify`] replays a stored chain through the same path.

mod auth;
mod contracts;
mod genesis;
mod ledger;
mod overlay;
mod system;
mod verified;
pub mod verify;

pub use genesis::genesis_block;
pub use ledger::{LedgerRead, MemoryLedger, SharedLedger};

use std::sync::Arc;

use billflow_storage::{StorageError, Store, StoredBlock};
use billflow_types::system::system_contract;
use billflow_types::{
    Block, BlockHeader, BlockProposal, ChainId, ChainParams, ChainTip, ConsensusRef, ContractName, Event, Genesis,
    Hash32, KeyId, Receipt, Rejection, SignedTx, TxFailure, TxId, TxStatus, merkle_root, state::chain_state_hash,
    voter_set_hash,
};
use billflow_vm::{Vm, VmLimits};

use crate::contracts::{Caller, Env, Target};
use crate::ledger::Pending;
use crate::overlay::{BlockWrites, Overlay, Snapshot, Writes};

/// Executor failures. A transaction's own failure is never an error: it is a
/// rejection or a failed receipt.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// Reading or writing the store failed; fatal for the node.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The store holds another chain, or none.
    #[error("store and genesis disagree: {0}")]
    Genesis(String),
    /// The contract VM failed (not a contract's fault); fatal for the node.
    #[error("contract VM: {0}")]
    Vm(String),
}

/// Instance slots of the VM that runs transactions: one block at a time, at
/// most [`VmLimits::max_call_depth`] calls deep, with room to spare. A call
/// the pool cannot take runs unpooled ([`Vm::pooled`]).
const BLOCK_SLOTS: u32 = 16;

/// Instance slots of the queries' VM. Queries run on the gateway's runtime
/// threads (one per core), each at most [`VmLimits::max_call_depth`] calls
/// deep: twice what they could hold at once, and at least 64.
fn query_slots(limits: &VmLimits) -> u32 {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get()) as u32;
    (cores * (limits.max_call_depth + 1) * 2).max(64)
}

/// Result of executor operations.
pub type Result<T, E = ExecError> = std::result::Result<T, E>;

/// A transaction left out of the block, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// The transaction's id.
    pub tx_id: TxId,
    /// Its hash.
    pub tx_hash: Hash32,
    /// Why it was left out.
    pub reason: Rejection,
}

/// The outcome of executing one proposal.
#[derive(Debug, Clone)]
pub struct Executed {
    /// The block with its receipts and state changes, or `None` when no
    /// transaction of the proposal could be recorded.
    pub block: Option<StoredBlock>,
    /// Transactions left out.
    pub rejected: Vec<Rejected>,
}

/// Executes proposals for one chain.
#[derive(Debug, Clone)]
pub struct Executor {
    chain_id: ChainId,
    params: ChainParams,
    /// The VM that runs transactions, from a pool of instance slots.
    vm: Arc<Vm>,
    /// The VM that runs queries, from a pool of instance slots.
    query_vm: Arc<Vm>,
    /// Signatures checked at admission, taken instead of checking them again in the block.
    verified: Arc<verified::Verified>,
    /// Blocks' signature batches checked ahead of their turn to apply.
    checked: Arc<verified::CheckedBatches>,
    /// The hash of the voter set in force after a block, by the block's
    /// hash, for the newest block executed that changed no node record: the
    /// next block names the same set without reading the node records again.
    /// A block's hash fixes the state after it, so the pair holds wherever
    /// a block on top of it is executed.
    voters_after: Arc<std::sync::Mutex<Option<(Hash32, Hash32)>>>,
}

impl Executor {
    /// An executor for the chain `genesis` founds.
    pub fn new(genesis: &Genesis) -> Result<Executor> {
        let params = genesis.params.clone();
        let limits = VmLimits { max_args_bytes: params.max_args_bytes as usize, ..VmLimits::default() };
        let vm = Vm::pooled(limits, BLOCK_SLOTS).map_err(|e| ExecError::Vm(e.to_string()))?;
        let query_vm = Vm::pooled(limits, query_slots(&limits)).map_err(|e| ExecError::Vm(e.to_string()))?;
        Ok(Executor {
            chain_id: genesis.chain_id.clone(),
            params,
            vm: Arc::new(vm),
            query_vm: Arc::new(query_vm),
            verified: Arc::default(),
            checked: Arc::default(),
            voters_after: Arc::default(),
        })
    }

    /// The contract VM.
    pub fn vm(&self) -> &Vm {
        &self.vm
    }

    /// The chain id.
    pub fn chain_id(&self) -> &ChainId {
        &self.chain_id
    }

    /// The chain parameters.
    pub fn params(&self) -> &ChainParams {
        &self.params
    }

    /// Writes the genesis block into an empty store, or checks that a non-empty
    /// store holds this genesis. Returns the tip.
    pub fn init(&self, store: &Store, genesis: &Genesis) -> Result<ChainTip> {
        match (store.genesis()?, store.tip()?) {
            (Some(stored), Some(tip)) => {
                if stored.hash() != genesis.hash() {
                    return Err(ExecError::Genesis(format!(
                        "the store holds chain {} (genesis {}), the configuration names {} (genesis {})",
                        stored.chain_id,
                        stored.hash(),
                        genesis.chain_id,
                        genesis.hash()
                    )));
                }
                Ok(tip)
            }
            (None, None) => {
                let (block, changes) = genesis_block(genesis);
                let stored = StoredBlock {
                    block,
                    receipts: Vec::new(),
                    changes,
                    genesis: Some(genesis.clone()),
                    meta: Vec::new(),
                };
                Ok(store.commit_block(&stored)?)
            }
            _ => Err(ExecError::Genesis("the store is partly initialised".into())),
        }
    }

    /// Checks a transaction before it enters the mempool: everything the block
    /// would check except business rules, against the current state and `now_ms`.
    pub fn admit(&self, ledger: &impl LedgerRead, tx: &SignedTx, now_ms: u64) -> Result<Result<(), Rejection>> {
        if let Err(r) = tx.check_stateless(&self.chain_id, &self.params, now_ms) {
            return Ok(Err(r));
        }
        if ledger.tx_recorded(&tx.tx.tx_id)? {
            return Ok(Err(Rejection::Duplicate(tx.tx.tx_id.clone())));
        }
        let overlay = Overlay::new(ledger);
        let key = match auth::signer(&overlay, tx)? {
            Ok(k) => k,
            Err(r) => return Ok(Err(r)),
        };
        let verified = tx.verify(&key.public_key);
        if verified.is_ok() {
            self.verified.remember(tx.hash(), key.public_key);
        }
        Ok(verified)
    }

    /// Checks the signatures of `proposal`, a block still to apply, as one
    /// batch against the keys `ledger` holds now, and remembers the batch if
    /// it verifies whole: its block takes that answer if it forms the same
    /// batch on the state before it, and checks again otherwise. Nothing else
    /// changes, so calling it or not, early or late, never changes a block.
    pub fn check_ahead(&self, ledger: &impl LedgerRead, proposal: &BlockProposal) -> Result<()> {
        Ok(auth::check_ahead(&Overlay::new(ledger), &proposal.txs, &self.verified, &self.checked)?)
    }

    /// Executes `proposal` on top of `tip`, reading `ledger`. Pure: writes nothing.
    pub fn execute(
        &self,
        ledger: &SharedLedger,
        tip: &ChainTip,
        proposal: &BlockProposal,
        consensus: ConsensusRef,
    ) -> Result<Executed> {
        let signatures = {
            let view = BlockWrites::default().view(ledger);
            auth::verify_signatures(&Overlay::new(&view), &proposal.txs, &self.verified, &self.checked)?
        };
        self.execute_checked(ledger, tip, proposal, consensus, signatures)
    }

    /// [`Executor::execute`] with the proposal's signatures already checked
    /// against the keys `ledger` holds, in a batch: for each transaction
    /// whether its signature verifies, or `None` when its key is not (yet)
    /// registered and it is checked on its own at its position. A key's public
    /// key never changes, so a check made before the block holds in it.
    fn execute_checked(
        &self,
        ledger: &SharedLedger,
        tip: &ChainTip,
        proposal: &BlockProposal,
        consensus: ConsensusRef,
        signatures: Vec<Option<bool>>,
    ) -> Result<Executed> {
        let height = tip.height + 1;
        // Block time never goes backwards, whoever proposes.
        let time_ms = proposal.proposed_at_ms.max(tip.time_ms);
        let mut block_writes = BlockWrites::default();
        // The voters in force for this block: the state before it.
        let known = *self.voters_after.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let voters_hash = match known {
            Some((after, voters)) if after == tip.hash => voters,
            _ => voter_set_hash(&system::voter_keys(&Overlay::new(&block_writes.view(ledger)))?),
        };
        let mut seen = std::collections::BTreeSet::new();
        let mut txs = Vec::new();
        let mut receipts = Vec::new();
        let mut rejected = Vec::new();
        for (tx, signature_ok) in proposal.txs.iter().zip(signatures) {
            let reject = |reason: Rejection| Rejected { tx_id: tx.tx.tx_id.clone(), tx_hash: tx.hash(), reason };
            if let Err(r) = tx.check_stateless(&self.chain_id, &self.params, time_ms) {
                rejected.push(reject(r));
                continue;
            }
            if seen.contains(&tx.tx.tx_id) || ledger.tx_recorded(&tx.tx.tx_id)? {
                rejected.push(reject(Rejection::Duplicate(tx.tx.tx_id.clone())));
                continue;
            }
            let view = block_writes.view(ledger);
            let key = match auth::signer(&Overlay::new(&view), tx)? {
                Ok(k) => k,
                Err(r) => {
                    rejected.push(reject(r));
                    continue;
                }
            };
            // Keys registered earlier in this block were not in the batch.
            let verified = match signature_ok {
                Some(ok) => ok,
                None => tx.verify(&key.public_key).is_ok(),
            };
            if !verified {
                rejected.push(reject(Rejection::BadSignature(tx.tx.signer.clone())));
                continue;
            }
            seen.insert(tx.tx.tx_id.clone());
            let env =
                Env { vm: self.vm.clone(), tx_id: tx.tx.tx_id.to_string(), height, time_ms, fuel: self.params.tx_fuel };
            let outcome = self.execute_tx(&env, view, tx, &key)?;
            let receipt = match outcome {
                Ok((writes, events, fuel_used)) => {
                    block_writes.merge(writes);
                    Receipt {
                        tx_hash: tx.hash(),
                        tx_id: tx.tx.tx_id.clone(),
                        status: TxStatus::Success,
                        failure: None,
                        events,
                        fuel_used,
                    }
                }
                // Nothing of a failed transaction is kept but the alerts of a
                // contract that refused (none for any other failure).
                Err((failure, alerts, fuel_used)) => Receipt {
                    tx_hash: tx.hash(),
                    tx_id: tx.tx.tx_id.clone(),
                    status: TxStatus::Failed,
                    failure: Some(failure),
                    events: alerts,
                    fuel_used,
                },
            };
            txs.push(tx.clone());
            receipts.push(receipt);
        }
        if txs.is_empty() {
            return Ok(Executed { block: None, rejected });
        }
        let changes = block_writes.into_changes();
        let tx_hashes: Vec<Hash32> = txs.iter().map(SignedTx::hash).collect();
        let receipt_hashes: Vec<Hash32> = receipts.iter().map(Receipt::hash).collect();
        let header = BlockHeader {
            chain_id: self.chain_id.clone(),
            height,
            prev_hash: tip.hash,
            tx_root: merkle_root(&tx_hashes),
            receipts_root: merkle_root(&receipt_hashes),
            state_hash: chain_state_hash(&tip.state_hash, &changes),
            tx_count: txs.len() as u32,
            proposer: proposal.proposer.clone(),
            proposed_at_ms: time_ms,
            consensus,
            voters_hash,
        };
        let block = Block { header, txs };
        let system = system_contract();
        let same_voters = !changes.iter().any(|c| c.contract == system && c.key.starts_with(system::NODE_PREFIX));
        *self.voters_after.lock().unwrap_or_else(std::sync::PoisonError::into_inner) =
            same_voters.then(|| (block.header.hash(), voters_hash));
        Ok(Executed {
            block: Some(StoredBlock { block, receipts, changes, genesis: None, meta: Vec::new() }),
            rejected,
        })
    }

    /// Executes `proposal` against the store and commits the block durably,
    /// with `meta` (consensus metadata) in the same atomic write; when the
    /// proposal makes no block, `meta` is still written.
    pub fn apply(
        &self,
        store: &Store,
        proposal: &BlockProposal,
        consensus: ConsensusRef,
        meta: Meta,
    ) -> Result<Executed> {
        let mut executed = self.apply_all(store, [(proposal, consensus, meta)])?;
        store.sync_blocks()?;
        Ok(executed.pop().unwrap_or(Executed { block: None, rejected: Vec::new() }))
    }

    /// Executes proposals one after another, each on the state the ones before
    /// it left, and writes their blocks ([`Store::write_blocks`]), each block
    /// with its `meta`, without syncing the block files: the caller makes them
    /// durable with [`Store::sync_blocks`], after it has answered (the
    /// proposals' consensus log entries are durable already). A proposal
    /// that makes no block has its `meta` written after the blocks before it.
    /// On an error, blocks executed but not yet written are dropped: they are
    /// applied again from the consensus log.
    pub fn apply_all<'a>(
        &self,
        store: &Store,
        batch: impl IntoIterator<Item = (&'a BlockProposal, ConsensusRef, Meta)>,
    ) -> Result<Vec<Executed>> {
        let mut tip = store.tip()?.ok_or_else(|| ExecError::Genesis("the store has no genesis block".into()))?;
        let mut pending = Arc::new(Pending::new(store.clone()));
        let mut done: Vec<Executed> = Vec::new();
        let mut unwritten = 0;
        let write = |done: &[Executed], pending: &mut Arc<Pending>| -> Result<()> {
            let blocks: Vec<&StoredBlock> = done.iter().filter_map(|e| e.block.as_ref()).collect();
            store.write_blocks(&blocks)?;
            Arc::make_mut(pending).clear();
            Ok(())
        };
        for (proposal, consensus, meta) in batch {
            let ledger: SharedLedger = pending.clone();
            // Each block's signatures against the keys as they stand before
            // it, whichever run it is applied in.
            let mut executed = self.execute(&ledger, &tip, proposal, consensus)?;
            drop(ledger);
            match &mut executed.block {
                Some(stored) => {
                    stored.meta = meta;
                    tip = ChainTip::of(&stored.block.header);
                    Arc::make_mut(&mut pending).add(stored);
                }
                None if !meta.is_empty() => {
                    write(&done[unwritten..], &mut pending)?;
                    unwritten = done.len() + 1;
                    store.put_meta(&meta)?;
                }
                None => {}
            }
            done.push(executed);
        }
        write(&done[unwritten.min(done.len())..], &mut pending)?;
        Ok(done)
    }
}

/// Consensus metadata written with a block: `(name, value)` pairs.
pub type Meta = Vec<(String, Vec<u8>)>;

/// A transaction's writes, events and fuel; or its failure, the alerts the
/// contract emitted before it refused (empty for any other failure), and fuel.
type TxOutcome = std::result::Result<(Writes, Vec<Event>, u64), (TxFailure, Vec<Event>, u64)>;

impl Executor {
    /// Runs one authentic transaction on `view` (the block's state so far).
    fn execute_tx(
        &self,
        env: &Env,
        view: Snapshot,
        tx: &SignedTx,
        key: &billflow_types::system::KeyRecord,
    ) -> Result<TxOutcome> {
        let caller = Caller::resolve(&view, key)?;
        if let Some(f) = caller.frozen() {
            return Ok(Err((f, Vec::new(), system::BASE_FUEL)));
        }
        if tx.tx.contract == system_contract() {
            let mut state = Overlay::new(&view);
            let ctx = system::TxContext {
                tx,
                caller: &key.owner,
                height: env.height,
                time_ms: env.time_ms,
                contract_caller: &caller,
                view: &view,
                env,
                params: &self.params,
            };
            return Ok(match system::execute(&mut state, &ctx)? {
                Ok(out) => Ok((state.into_writes(), out.events, out.fuel_used)),
                Err(failure) => Err((failure, Vec::new(), system::BASE_FUEL)),
            });
        }
        let target = Target {
            contract: &tx.tx.contract,
            version: Some(&tx.tx.version),
            method: tx.tx.method.as_str(),
            args: &tx.tx.args,
        };
        Ok(match contracts::invoke(env, view, &caller, target, false)? {
            Ok(done) => Ok((done.writes, done.events, done.fuel_used)),
            Err(f) => Err((f.failure, f.alerts, f.fuel_used)),
        })
    }

    /// Runs a read-only call of `method` on the active version of `contract`
    /// against the committed state at `tip`: a query. Returns the contract's
    /// output, or why it failed.
    ///
    /// The contract sees `caller` (the key that signed the request) as a
    /// transaction's signer: its tenant, participant and organisation, if the
    /// key is registered and active in the committed state; a frozen
    /// participant may still read. Without a key, or with one the ledger does
    /// not know or has revoked, the caller is anonymous.
    pub fn query(
        &self,
        ledger: &SharedLedger,
        tip: &ChainTip,
        caller: Option<&KeyId>,
        contract: &ContractName,
        method: &str,
        args: &[u8],
    ) -> Result<std::result::Result<Vec<u8>, TxFailure>> {
        let view = Snapshot::new(ledger.clone());
        let caller = Caller::of_query(&view, caller)?;
        let env = Env {
            vm: self.query_vm.clone(),
            tx_id: String::new(),
            height: tip.height,
            time_ms: tip.time_ms,
            fuel: self.params.tx_fuel,
        };
        let target = Target { contract, version: None, method, args };
        let outcome = contracts::invoke(&env, view, &caller, target, true)?;
        Ok(outcome.map(|done| done.output).map_err(|f| f.failure))
    }
}

#[cfg(test)]
mod tests;
