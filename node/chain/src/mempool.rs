//! The mempool: transactions admitted but not yet applied, in arrival order,
//! de-duplicated by `tx_id`.

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use billflow_types::{Hash32, Rejection, SignedTx, TxId};

/// Admitted transactions waiting for a block.
#[derive(Debug)]
pub struct Mempool {
    capacity: usize,
    queue: VecDeque<(Instant, SignedTx)>,
    /// Proposed or forwarded, not yet applied, with when they left the queue.
    in_flight: HashMap<TxId, (Instant, SignedTx)>,
    /// Queued or in flight, with their hashes.
    pending: HashMap<TxId, Hash32>,
}

impl Mempool {
    /// An empty mempool holding at most `capacity` transactions.
    pub fn new(capacity: usize) -> Mempool {
        Mempool { capacity, queue: VecDeque::new(), in_flight: HashMap::new(), pending: HashMap::new() }
    }

    /// Transactions pending (queued or in a proposal being applied).
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// Transactions queued for the next proposal.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// Whether `tx_id` is pending.
    pub fn contains(&self, tx_id: &TxId) -> bool {
        self.pending.contains_key(tx_id)
    }

    /// The hash of the pending transaction `tx_id`.
    pub fn pending_hash(&self, tx_id: &TxId) -> Option<Hash32> {
        self.pending.get(tx_id).copied()
    }

    /// When the oldest queued transaction arrived.
    pub fn oldest_queued_at(&self) -> Option<Instant> {
        self.queue.front().map(|(at, _)| *at)
    }

    /// Queues a transaction; refuses a duplicate id or a full mempool.
    pub fn push(&mut self, tx: SignedTx, hash: Hash32) -> Result<(), Rejection> {
        if self.pending.contains_key(&tx.tx.tx_id) {
            return Err(Rejection::Duplicate(tx.tx.tx_id.clone()));
        }
        if self.pending.len() >= self.capacity {
            return Err(Rejection::Busy(self.pending.len()));
        }
        self.pending.insert(tx.tx.tx_id.clone(), hash);
        self.queue.push_back((Instant::now(), tx));
        Ok(())
    }

    /// Takes up to `n` queued transactions for a proposal; they stay pending, in flight.
    pub fn take(&mut self, n: usize) -> Vec<SignedTx> {
        let n = n.min(self.queue.len());
        let now = Instant::now();
        let taken: Vec<SignedTx> = self.queue.drain(..n).map(|(_, tx)| tx).collect();
        for tx in &taken {
            self.in_flight.insert(tx.tx.tx_id.clone(), (now, tx.clone()));
        }
        taken
    }

    /// Puts in-flight transactions back at the front of the queue (their
    /// proposal or forward failed), in their order.
    pub fn requeue(&mut self, txs: Vec<SignedTx>) {
        let now = Instant::now();
        for tx in txs.into_iter().rev() {
            if self.in_flight.remove(&tx.tx.tx_id).is_some() {
                self.queue.push_front((now, tx));
            }
        }
    }

    /// Puts back transactions in flight for longer than `age` (their block never
    /// came: the leader that took them may have failed). Returns how many.
    pub fn requeue_stale(&mut self, age: std::time::Duration) -> usize {
        let mut stale: Vec<(Instant, SignedTx)> =
            self.in_flight.values().filter(|(at, _)| at.elapsed() >= age).cloned().collect();
        stale.sort_by_key(|(at, _)| *at);
        let n = stale.len();
        self.requeue(stale.into_iter().map(|(_, tx)| tx).collect());
        n
    }

    /// Forgets a transaction once its proposal was applied.
    pub fn settle(&mut self, tx_id: &TxId) {
        self.pending.remove(tx_id);
        self.in_flight.remove(tx_id);
        self.queue.retain(|(_, tx)| &tx.tx.tx_id != tx_id);
    }
}
