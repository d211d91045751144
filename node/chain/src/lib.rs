//! A node's chain: the mempool, the batcher that cuts block proposals, the apply
//! step that commits them and tells waiting clients, and the single-node
//! sequencer that connects the two.
//!
//! Proposals are the unit of ordering. On a single node the [`run_single_node`]
//! loop applies each proposal as soon as it is cut; a replicated node puts
//! consensus between [`Chain::next_proposal`] and [`Chain::apply`] instead, and
//! nothing else changes. This crate reads the wall clock only to time proposals
//! and to check client timestamps at admission, never while applying.

mod mempool;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use billflow_executor::{ExecError, Executor};
use billflow_storage::{StorageError, Store};
use billflow_types::system::system_contract;
use billflow_types::{
    BlockProposal, Canonical as _, ChainTip, ConsensusRef, Genesis, Hash32, NodeId, Receipt, Rejection, SignedTx, TxId,
    TxLocation,
};
use tokio::sync::{Notify, broadcast, oneshot, watch};

pub use billflow_executor::Meta;
pub use mempool::Mempool;

/// Chain failures that are not a transaction's own fault.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// Storage or the apply path failed: the node must stop.
    #[error(transparent)]
    Exec(#[from] ExecError),
    /// The node is shutting down.
    #[error("the node is shutting down")]
    ShuttingDown,
}

impl From<StorageError> for ChainError {
    fn from(e: StorageError) -> Self {
        ChainError::Exec(ExecError::Storage(e))
    }
}

/// Result of chain operations.
pub type Result<T, E = ChainError> = std::result::Result<T, E>;

/// A transaction in flight (proposed or forwarded) for this long without its
/// block arriving is queued again: whoever took it may have failed.
pub const IN_FLIGHT_LIMIT: Duration = Duration::from_secs(15);

/// How a submitted transaction ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxOutcome {
    /// Recorded in a block.
    Committed {
        /// Where.
        location: TxLocation,
        /// Its receipt (which may say it failed).
        receipt: Receipt,
    },
    /// Left out of the block it was proposed in.
    Rejected(Rejection),
}

/// What `submit` did with a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Submitted {
    /// Accepted into the mempool.
    Accepted,
    /// The same transaction is already pending; nothing was added.
    AlreadyPending,
    /// The same transaction is already recorded: here is its first result.
    AlreadyCommitted(TxOutcome),
}

/// A node's settings that are not chain parameters.
#[derive(Debug, Clone)]
pub struct ChainConfig {
    /// This node's id, named as proposer.
    pub node_id: NodeId,
    /// Most transactions waiting in the mempool.
    pub mempool_capacity: usize,
}

struct Inner {
    store: Store,
    executor: Executor,
    config: ChainConfig,
    mempool: Mutex<Mempool>,
    new_tx: Notify,
    waiters: Mutex<HashMap<TxId, Vec<oneshot::Sender<TxOutcome>>>>,
    /// The newest committed block: it moves before the clients waiting on
    /// the block hear of it, so that whatever they read next sees it.
    tip: watch::Sender<ChainTip>,
    /// The newest committed block whose block files are synced: what this
    /// node attests to, and what its leader's lag check follows.
    durable: watch::Sender<ChainTip>,
    /// The hashes of the newest committed blocks, oldest first, so that
    /// attesting and checking attestations does not read whole blocks back.
    recent: Mutex<VecDeque<(u64, Hash32)>>,
    /// Each block this node commits, as it commits.
    committed: broadcast::Sender<Arc<CommittedBlock>>,
    /// The node and organisation records as of a system generation of the
    /// store: the gateway, the network and the attestations ask for them
    /// with every block, and they change only with the system contract.
    records: Mutex<Records>,
}

#[derive(Default)]
struct Records {
    nodes: Option<(u64, Vec<billflow_types::system::NodeRecord>)>,
    orgs: Option<(u64, Vec<billflow_types::system::OrgRecord>)>,
}

/// What a block this node applied holds for its metrics: told as it commits,
/// so that counting it reads nothing back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommittedBlock {
    /// Its height.
    pub height: u64,
    /// When its proposal was cut, by the proposer's clock.
    pub proposed_at_ms: u64,
    /// Each transaction's outcome and fuel, in block order.
    pub outcomes: Vec<(billflow_types::TxStatus, u64)>,
}

impl CommittedBlock {
    /// The summary of a stored block.
    pub fn of(block: &billflow_types::Block, receipts: &[Receipt]) -> CommittedBlock {
        CommittedBlock {
            height: block.header.height,
            proposed_at_ms: block.header.proposed_at_ms,
            outcomes: receipts.iter().map(|r| (r.status, r.fuel_used)).collect(),
        }
    }
}

/// How many committed blocks [`Chain::subscribe_committed`] holds for a
/// reader that falls behind, before it must read the rest from the store.
/// The feed keeps this many summaries at all times (a block of a thousand
/// transactions makes one of 16 KB).
const COMMITTED_FEED: usize = 128;

/// How many of the newest block hashes [`Chain::block_hash`] answers from memory.
const RECENT_HASHES: usize = 4096;

/// A handle to the chain; clones share it.
#[derive(Clone)]
pub struct Chain {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Chain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chain").field("node_id", &self.inner.config.node_id).finish_non_exhaustive()
    }
}

/// Milliseconds since the Unix epoch by the wall clock.
pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding one of these locks leaves plain data behind; go on with it.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Chain {
    /// Opens the chain in `store`, writing genesis into an empty store.
    pub fn open(store: Store, genesis: &Genesis, config: ChainConfig) -> Result<Chain> {
        let executor = Executor::new(genesis)?;
        let tip = executor.init(&store, genesis)?;
        let (durable, _) = watch::channel(tip);
        let (tip, _) = watch::channel(tip);
        Ok(Chain {
            inner: Arc::new(Inner {
                store,
                executor,
                mempool: Mutex::new(Mempool::new(config.mempool_capacity)),
                config,
                new_tx: Notify::new(),
                waiters: Mutex::new(HashMap::new()),
                tip,
                durable,
                recent: Mutex::new(VecDeque::with_capacity(RECENT_HASHES)),
                committed: broadcast::channel(COMMITTED_FEED).0,
                records: Mutex::default(),
            }),
        })
    }

    /// The store (read-only use).
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The executor, for its chain id and parameters.
    pub fn executor(&self) -> &Executor {
        &self.inner.executor
    }

    /// Runs a read-only query of `method` on the active version of `contract`
    /// against the committed state, as `caller` (the key that signed the
    /// request; `None`: anonymous): the contract's output, or why it failed.
    pub fn query(
        &self,
        caller: Option<&billflow_types::KeyId>,
        contract: &billflow_types::ContractName,
        method: &str,
        args: &[u8],
    ) -> Result<std::result::Result<Vec<u8>, billflow_types::TxFailure>> {
        let ledger: billflow_executor::SharedLedger = Arc::new(self.inner.store.clone());
        Ok(self.inner.executor.query(&ledger, &self.tip(), caller, contract, method, args)?)
    }

    /// The role of consortium organisation `org`, if it is registered.
    pub fn org_role(&self, org: &billflow_types::OrgId) -> Result<Option<billflow_types::OrgRole>> {
        use billflow_types::system::{OrgRecord, RecordKind, state_key};
        let key = state_key(RecordKind::Org, org.as_str());
        let Some(bytes) = self.inner.store.state_get(&system_contract(), &key)? else { return Ok(None) };
        let record = OrgRecord::decode(&bytes).map_err(|e| {
            ChainError::from(StorageError::Corrupt {
                what: format!("organisation record {org}"),
                reason: e.to_string(),
            })
        })?;
        Ok(Some(record.role))
    }

    /// The deployed contract `name`, if any.
    pub fn contract(
        &self,
        name: &billflow_types::ContractName,
    ) -> Result<Option<billflow_types::contract::ContractRecord>> {
        let key = billflow_types::contract::contract_key(name);
        let Some(bytes) = self.inner.store.state_get(&system_contract(), &key)? else { return Ok(None) };
        let record = billflow_types::contract::ContractRecord::decode(&bytes).map_err(|e| {
            ChainError::from(StorageError::Corrupt { what: format!("contract record {name}"), reason: e.to_string() })
        })?;
        Ok(Some(record))
    }

    /// Every deployed contract, by name.
    pub fn contracts(&self) -> Result<Vec<billflow_types::contract::ContractRecord>> {
        let entries = self.inner.store.state_range(&system_contract(), b"contract/", Some(b"contract0"), usize::MAX)?;
        entries
            .into_iter()
            .map(|(key, bytes)| {
                billflow_types::contract::ContractRecord::decode(&bytes).map_err(|e| {
                    ChainError::from(StorageError::Corrupt {
                        what: format!("system state {}", String::from_utf8_lossy(&key)),
                        reason: e.to_string(),
                    })
                })
            })
            .collect()
    }

    /// This node's id.
    pub fn node_id(&self) -> &NodeId {
        &self.inner.config.node_id
    }

    /// The newest committed block.
    pub fn tip(&self) -> ChainTip {
        *self.inner.tip.borrow()
    }

    /// The hash of the committed block at `height`: from memory for the
    /// newest blocks, else read from the store.
    pub fn block_hash(&self, height: u64) -> Result<Option<Hash32>> {
        {
            let recent = lock(&self.inner.recent);
            if let Some(&(first, _)) = recent.front() {
                if height >= first {
                    if let Some(&(h, hash)) = recent.get((height - first) as usize) {
                        if h == height {
                            return Ok(Some(hash));
                        }
                    }
                }
            }
        }
        Ok(self.inner.store.block(height)?.map(|b| b.header.hash()))
    }

    /// Follows the tip as blocks commit.
    pub fn subscribe_tip(&self) -> watch::Receiver<ChainTip> {
        self.inner.tip.subscribe()
    }

    /// Each block this node commits from now on (applied, or installed while
    /// catching up), once it is written. A reader that falls more than
    /// 128 blocks behind reads the blocks it missed from the store.
    pub fn subscribe_committed(&self) -> broadcast::Receiver<Arc<CommittedBlock>> {
        self.inner.committed.subscribe()
    }

    /// The newest committed block whose block files are synced. On a node
    /// with a consensus log it trails [`Chain::tip`] by the sync that follows
    /// the clients' answers (each entry is durable in the log before it
    /// commits); otherwise the two are the same.
    pub fn durable_tip(&self) -> ChainTip {
        *self.inner.durable.borrow()
    }

    /// Follows [`Chain::durable_tip`].
    pub fn subscribe_durable(&self) -> watch::Receiver<ChainTip> {
        self.inner.durable.subscribe()
    }

    /// Transactions waiting to be proposed or applied.
    pub fn pending(&self) -> usize {
        lock(&self.inner.mempool).len()
    }

    /// The hash of `tx_id` if it is waiting in the mempool.
    pub fn pending_hash(&self, tx_id: &TxId) -> Option<billflow_types::Hash32> {
        lock(&self.inner.mempool).pending_hash(tx_id)
    }

    /// The recorded outcome of `tx_id`, if it is on the chain.
    pub fn committed(&self, tx_id: &TxId) -> Result<Option<TxOutcome>> {
        let store = &self.inner.store;
        let Some((location, receipt)) = store.tx_receipt(tx_id)? else { return Ok(None) };
        Ok(Some(TxOutcome::Committed { location, receipt }))
    }

    /// Checks the signatures of a block still to apply ahead of its turn
    /// ([`Executor::check_ahead`]); what its block will take, never what it
    /// decides.
    pub fn check_ahead(&self, proposal: &BlockProposal) -> Result<()> {
        Ok(self.inner.executor.check_ahead(&self.inner.store, proposal)?)
    }

    /// Checks `tx` and queues it for the next block. A transaction already
    /// pending or recorded is never queued again: resubmitting is safe.
    pub fn submit(&self, tx: SignedTx) -> Result<Result<Submitted, Rejection>> {
        let hash = tx.hash();
        let tx_id = tx.tx.tx_id.clone();
        if let Some(outcome) = self.committed(&tx_id)? {
            return Ok(match &outcome {
                TxOutcome::Committed { receipt, .. } if receipt.tx_hash == hash => {
                    Ok(Submitted::AlreadyCommitted(outcome))
                }
                _ => Err(Rejection::Duplicate(tx_id)),
            });
        }
        match lock(&self.inner.mempool).pending_hash(&tx_id) {
            Some(h) if h == hash => return Ok(Ok(Submitted::AlreadyPending)),
            Some(_) => return Ok(Err(Rejection::Duplicate(tx_id))),
            None => {}
        }
        if let Err(r) = self.inner.executor.admit(&self.inner.store, &tx, now_ms())? {
            return Ok(Err(r));
        }
        let pushed = lock(&self.inner.mempool).push(tx, hash);
        match pushed {
            Ok(()) => {
                self.inner.new_tx.notify_one();
                Ok(Ok(Submitted::Accepted))
            }
            Err(r) => Ok(Err(r)),
        }
    }

    /// Waits up to `timeout` for the outcome of `tx_id`.
    pub async fn wait(&self, tx_id: &TxId, timeout: Duration) -> Result<Option<TxOutcome>> {
        let (tx, rx) = oneshot::channel();
        lock(&self.inner.waiters).entry(tx_id.clone()).or_default().push(tx);
        // Registered first, then checked: a commit in between is seen either way.
        if let Some(outcome) = self.committed(tx_id)? {
            self.drop_closed_waiters(tx_id);
            return Ok(Some(outcome));
        }
        let result = tokio::time::timeout(timeout, rx).await;
        self.drop_closed_waiters(tx_id);
        match result {
            Ok(Ok(outcome)) => Ok(Some(outcome)),
            Ok(Err(_)) => Err(ChainError::ShuttingDown),
            Err(_) => Ok(None),
        }
    }

    fn drop_closed_waiters(&self, tx_id: &TxId) {
        let mut waiters = lock(&self.inner.waiters);
        if let Some(list) = waiters.get_mut(tx_id) {
            list.retain(|s| !s.is_closed());
            if list.is_empty() {
                waiters.remove(tx_id);
            }
        }
    }

    /// Waits until the mempool holds a transaction, and cuts a proposal of
    /// what is queued, at most `max_txs_per_block`. It never waits for more:
    /// the sequencer calls it when the previous proposal is done, so what
    /// arrived while that one was being committed goes into this one (group
    /// commit), and a lone transaction is proposed at once. While nothing is
    /// queued it looks again at least every `max_block_wait_ms`, and puts
    /// back transactions in flight too long. The transactions stay marked
    /// pending until applied.
    pub async fn next_proposal(&self) -> BlockProposal {
        let params = self.inner.executor.params();
        let max_txs = params.max_txs_per_block as usize;
        let recheck = Duration::from_millis(params.max_block_wait_ms);
        loop {
            self.requeue_stale(IN_FLIGHT_LIMIT);
            let notified = self.inner.new_tx.notified();
            if lock(&self.inner.mempool).queued() > 0 {
                break;
            }
            let _ = tokio::time::timeout(recheck, notified).await;
        }
        let txs = lock(&self.inner.mempool).take(max_txs);
        BlockProposal { proposer: self.inner.config.node_id.clone(), proposed_at_ms: now_ms(), txs }
    }

    /// The node records in the ledger's state: who may take part in the network, and how.
    pub fn node_records(&self) -> Result<Vec<billflow_types::system::NodeRecord>> {
        self.cached_records(|r| &mut r.nodes, b"node/", b"node0")
    }

    /// The active nodes other than `me`: the peers a node asks and tells.
    pub fn active_peers(&self, me: &NodeId) -> Result<Vec<NodeId>> {
        let records = self.node_records()?.into_iter();
        Ok(records
            .filter(|r| &r.id != me && r.status == billflow_types::system::NodeStatus::Active)
            .map(|r| r.id)
            .collect())
    }

    /// The voter sets from genesis on, as this ledger holds them: the genesis
    /// voters, then the set each recorded change of voters named.
    pub fn voter_history(&self) -> Result<billflow_types::proof::VoterHistory> {
        use billflow_types::system::{RecordKind, VoterChanges, state_key};
        let store = &self.inner.store;
        let corrupt =
            |what: String, reason: String| ChainError::from(ExecError::from(StorageError::Corrupt { what, reason }));
        let genesis = store.genesis()?.ok_or_else(|| corrupt("genesis".into(), "missing".into()))?;
        let key = state_key(RecordKind::VoterChanges, "history");
        let history = match store.state_get(&system_contract(), &key)? {
            Some(bytes) => VoterChanges::decode(&bytes).map_err(|e| corrupt("voter history".into(), e.to_string()))?,
            None => VoterChanges::default(),
        };
        let mut changes = Vec::with_capacity(history.changes.len());
        for change in history.changes {
            let named = store
                .tx_receipt(&change.tx_id)?
                .and_then(|(_, r)| r.events.into_iter().find(|e| e.topic == billflow_types::VOTERS_CHANGED))
                .map(|e| Vec::<billflow_types::VoterKey>::decode(&e.data));
            match named {
                Some(Ok(voters)) => changes.push((change.height, voters)),
                _ => {
                    return Err(corrupt(
                        format!("change of voters {}", change.tx_id),
                        "its receipt names no voters".into(),
                    ));
                }
            }
        }
        Ok(billflow_types::proof::VoterHistory::from_ledger(&genesis, changes))
    }

    /// Every consortium organisation's record (with its CA), by id.
    pub fn org_records(&self) -> Result<Vec<billflow_types::system::OrgRecord>> {
        self.cached_records(|r| &mut r.orgs, b"org/", b"org0")
    }

    /// [`Chain::system_records`] through the copy `slot` picks, read again
    /// only once the system contract's state has changed since.
    fn cached_records<T: billflow_types::Canonical + Clone>(
        &self,
        slot: impl Fn(&mut Records) -> &mut Option<(u64, Vec<T>)>,
        from: &[u8],
        to: &[u8],
    ) -> Result<Vec<T>> {
        // Read before the records: a change in between makes the copy look
        // older than it is, never newer.
        let generation = self.inner.store.system_generation();
        if let Some((g, records)) = slot(&mut lock(&self.inner.records)).as_ref()
            && *g == generation
        {
            return Ok(records.clone());
        }
        let records: Vec<T> = self.system_records(from, to)?;
        *slot(&mut lock(&self.inner.records)) = Some((generation, records.clone()));
        Ok(records)
    }

    /// The system records whose keys lie in `[from, to)`, decoded.
    fn system_records<T: billflow_types::Canonical>(&self, from: &[u8], to: &[u8]) -> Result<Vec<T>> {
        let entries = self.inner.store.state_range(&system_contract(), from, Some(to), 100_000)?;
        entries
            .into_iter()
            .map(|(key, value)| {
                T::decode(&value).map_err(|e| {
                    StorageError::Corrupt { what: String::from_utf8_lossy(&key).into_owned(), reason: e.to_string() }
                        .into()
                })
            })
            .collect()
    }

    /// Puts transactions whose proposal or forward failed back at the front of the queue.
    pub fn requeue(&self, txs: Vec<SignedTx>) {
        if txs.is_empty() {
            return;
        }
        lock(&self.inner.mempool).requeue(txs);
        self.inner.new_tx.notify_one();
    }

    /// Puts back transactions in flight for longer than `age`; returns how many.
    pub fn requeue_stale(&self, age: Duration) -> usize {
        let n = lock(&self.inner.mempool).requeue_stale(age);
        if n > 0 {
            self.inner.new_tx.notify_one();
        }
        n
    }

    /// Gives up on a pending transaction that another node refused, telling its waiters why.
    pub fn reject(&self, tx_id: &TxId, reason: Rejection) {
        lock(&self.inner.mempool).settle(tx_id);
        for w in lock(&self.inner.waiters).remove(tx_id).unwrap_or_default() {
            let _ = w.send(TxOutcome::Rejected(reason.clone()));
        }
    }

    /// Commits blocks received whole (from a snapshot of another node's chain,
    /// or from a peer), in order, each extending the one before: those above
    /// the tip with one sync of the block files. Blocks at or below the tip are
    /// skipped if they are the ones stored, and refused otherwise.
    pub fn install_blocks(&self, blocks: impl IntoIterator<Item = billflow_storage::StoredBlock>) -> Result<ChainTip> {
        let store = &self.inner.store;
        let tip = self.tip();
        let mut fresh = Vec::new();
        for stored in blocks {
            let header = &stored.block.header;
            if header.height <= tip.height {
                let ours = store.block(header.height)?.map(|b| b.header.hash());
                if ours != Some(header.hash()) {
                    return Err(StorageError::NotNext {
                        height: header.height,
                        reason: "the received block differs from the stored one at this height".into(),
                    }
                    .into());
                }
                continue;
            }
            fresh.push(stored);
        }
        let Some(t) = store.commit_blocks(&fresh.iter().collect::<Vec<_>>())? else { return Ok(tip) };
        let mut pool = lock(&self.inner.mempool);
        for tx in fresh.iter().flat_map(|stored| &stored.block.txs) {
            pool.settle(&tx.tx.tx_id);
        }
        drop(pool);
        let mut waiters = lock(&self.inner.waiters);
        for stored in &fresh {
            let height = stored.block.header.height;
            for (index, (tx, receipt)) in stored.block.txs.iter().zip(&stored.receipts).enumerate() {
                let outcome = TxOutcome::Committed {
                    location: TxLocation { height, index: index as u32 },
                    receipt: receipt.clone(),
                };
                for w in waiters.remove(&tx.tx.tx_id).unwrap_or_default() {
                    let _ = w.send(outcome.clone());
                }
            }
        }
        drop(waiters);
        self.inner.tip.send_replace(t);
        self.inner.durable.send_replace(t);
        for stored in &fresh {
            let _ = self.inner.committed.send(Arc::new(CommittedBlock::of(&stored.block, &stored.receipts)));
        }
        Ok(t)
    }

    /// Applies an ordered proposal that no consensus log holds (a standalone
    /// node's): commits its block durably, then tells the waiting clients.
    /// Errors are fatal for the node.
    pub fn apply(&self, proposal: &BlockProposal, consensus: ConsensusRef, meta: Meta) -> Result<Option<ChainTip>> {
        Ok(self.apply_batch([(proposal, consensus, meta)], false)?.pop().flatten())
    }

    /// Applies ordered proposals whose consensus log entries are durable, one
    /// after another, and writes their blocks (a node catching up is handed
    /// hundreds at once); tells the waiting clients, and only then syncs the
    /// block files, once: the log already holds what a crash before the sync
    /// would take, and is applied again from it. Answers, for each proposal,
    /// the tip its block made, if it made one. Errors are fatal for the node.
    pub fn apply_all<'a>(
        &self,
        batch: impl IntoIterator<Item = (&'a BlockProposal, ConsensusRef, Meta)>,
    ) -> Result<Vec<Option<ChainTip>>> {
        self.apply_batch(batch, true)
    }

    fn apply_batch<'a>(
        &self,
        batch: impl IntoIterator<Item = (&'a BlockProposal, ConsensusRef, Meta)>,
        logged: bool,
    ) -> Result<Vec<Option<ChainTip>>> {
        let mut proposals = Vec::new();
        let executed = self
            .inner
            .executor
            .apply_all(&self.inner.store, batch.into_iter().inspect(|(p, _, _)| proposals.push(*p)))?;
        // The tip moves before the waiting clients hear, so that what they
        // read next sees their block; the durable tip (attestations, and the
        // leader's view of how far behind it is) once the block files are synced.
        let last = executed.iter().rev().find_map(|e| e.block.as_ref()).map(|s| ChainTip::of(&s.block.header));
        let moved = |tip: &watch::Sender<ChainTip>| {
            if let Some(t) = last {
                tip.send_replace(t);
            }
        };
        if !logged {
            // Without a consensus log the blocks are durable before anyone
            // hears of them.
            self.inner.store.sync_blocks()?;
            moved(&self.inner.durable);
        }
        moved(&self.inner.tip);
        let mut tips = Vec::with_capacity(executed.len());
        for (proposal, executed) in proposals.into_iter().zip(executed) {
            tips.push(self.applied(proposal, executed)?);
        }
        if logged {
            // Off the clients' path: each entry is durable in the consensus log.
            self.inner.store.sync_blocks()?;
            moved(&self.inner.durable);
        }
        Ok(tips)
    }

    /// Tells the waiting clients what became of a proposal's transactions
    /// once its block is written.
    fn applied(&self, proposal: &BlockProposal, executed: billflow_executor::Executed) -> Result<Option<ChainTip>> {
        let mut outcomes = Vec::new();
        let mut tip = None;
        if let Some(stored) = &executed.block {
            let height = stored.block.header.height;
            for (index, (tx, receipt)) in stored.block.txs.iter().zip(&stored.receipts).enumerate() {
                let location = TxLocation { height, index: index as u32 };
                outcomes.push((tx.tx.tx_id.clone(), TxOutcome::Committed { location, receipt: receipt.clone() }));
            }
            let t = ChainTip::of(&stored.block.header);
            {
                let mut recent = lock(&self.inner.recent);
                if recent.back().is_some_and(|&(h, _)| h + 1 != height) {
                    recent.clear();
                }
                if recent.len() == RECENT_HASHES {
                    recent.pop_front();
                }
                recent.push_back((height, t.hash));
            }
            tip = Some(t);
            // No receiver (no gateway) is not an error.
            let _ = self.inner.committed.send(Arc::new(CommittedBlock::of(&stored.block, &stored.receipts)));
        }
        for r in executed.rejected {
            // A resubmission of a transaction that is already recorded (a retry after a
            // leader change, say) answers with the recorded outcome.
            if let Rejection::Duplicate(_) = r.reason {
                if let Some(committed @ TxOutcome::Committed { .. }) = self.committed(&r.tx_id)? {
                    if matches!(&committed, TxOutcome::Committed { receipt, .. } if receipt.tx_hash == r.tx_hash) {
                        outcomes.push((r.tx_id, committed));
                        continue;
                    }
                }
            }
            tracing::info!(tx_id = %billflow_types::privacy::mask(r.tx_id.as_str()), code = r.reason.code(), reason = %r.reason, "transaction left out of block");
            outcomes.push((r.tx_id, TxOutcome::Rejected(r.reason)));
        }
        {
            let mut pool = lock(&self.inner.mempool);
            for tx in &proposal.txs {
                pool.settle(&tx.tx.tx_id);
            }
        }
        let mut waiters = lock(&self.inner.waiters);
        for (tx_id, outcome) in outcomes {
            for w in waiters.remove(&tx_id).unwrap_or_default() {
                let _ = w.send(outcome.clone());
            }
        }
        Ok(tip)
    }
}

/// The single-node sequencer: cuts proposals and applies them in order until
/// `shutdown` fires. Returns an error only when applying failed (fatal).
pub async fn run_single_node(chain: Chain, mut shutdown: watch::Receiver<bool>) -> Result<()> {
    loop {
        let proposal = tokio::select! {
            p = chain.next_proposal() => p,
            _ = shutdown.changed() => return Ok(()),
        };
        let height = chain.tip().height + 1;
        let c = chain.clone();
        let applied = tokio::task::spawn_blocking(move || {
            c.apply(&proposal, ConsensusRef { term: 0, index: height }, Vec::new())
        })
        .await
        .map_err(|_| ChainError::ShuttingDown)?;
        if let Err(e) = applied {
            tracing::error!(error = %e, "applying a block failed; the node stops");
            return Err(e);
        }
    }
}

#[cfg(test)]
mod tests;
