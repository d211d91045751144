//! The running consensus of one node: Raft, the proposal loop, forwarding,
//! attestations and membership.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use billflow_chain::{Chain, Submitted};
use billflow_net::NetHandle;
use billflow_types::audit::AuditHead;
use billflow_types::system::NodeStatus;
use billflow_types::{Attestation, BlockProposal, Canonical, NodeId, NodeRole, Rejection, SecretKey, SignedTx};
use openraft::error::{ClientWriteError, Fatal, InitializeError, RaftError};
use openraft::{ChangeMembers, Raft, SnapshotPolicy};
use tokio::sync::watch;

use crate::config::{Proposal, RaftNode, TypeConfig, raft_id};
use crate::leadership::{self, Leadership};
use crate::log_store::LogStore;
use crate::network::NetworkFactory;
use crate::restore;
use crate::state_machine::StateMachine;
use crate::wire::{
    Status, WireRequest, WireResponse, decode_request, decode_response, encode_request, encode_response,
};

/// Why consensus cannot go on, grouped by what the caller does next. Transient
/// failures (no leader yet, a peer out of reach, leadership lost during a
/// write) never come out: the sequencer and the forwarding retry them.
#[derive(Debug, thiserror::Error)]
pub enum ConsensusError {
    // Report and exit: the node cannot start as it is set up.
    /// The Raft timings do not work together: fix the node configuration.
    #[error(
        "consensus timings refused (heartbeat {heartbeat_ms} ms, elections after {}..{} ms): {reason}",
        election_timeout_ms.0,
        election_timeout_ms.1
    )]
    Timings {
        /// The heartbeat interval.
        heartbeat_ms: u64,
        /// The election timeout range.
        election_timeout_ms: (u64, u64),
        /// What does not fit.
        reason: String,
    },
    /// A directory consensus needs cannot be prepared (permissions, a full disk).
    #[error("consensus cannot prepare {}: {source}", path.display())]
    Files {
        /// The directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A startup step failed on what the store or genesis holds: report it; a
    /// `billflow-node verify` or a restore settles it.
    #[error("consensus cannot start: {step}: {source}")]
    Startup {
        /// The step, as "read the restore marker".
        step: &'static str,
        /// The cause.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    // Stop the node: going on could lose or fork the ledger.
    /// The Raft log, the vote or the state machine could not be read or
    /// written, or an entry could not be applied. Raft has stopped; run
    /// `billflow-node verify` before starting the node again.
    #[error("consensus storage failed: {source}")]
    Storage {
        /// openraft's account: what it was doing, on which entry.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Raft's core task panicked (a defect).
    #[error("Raft panicked")]
    Panicked,
    /// Raft stopped while the node still ran.
    #[error("Raft stopped before the node did")]
    Stopped,
}

impl ConsensusError {
    /// The error for Raft having stopped on `fatal`.
    fn stopped(fatal: Fatal<u64>) -> ConsensusError {
        match fatal {
            Fatal::StorageError(e) => ConsensusError::Storage { source: Box::new(e) },
            Fatal::Panicked => ConsensusError::Panicked,
            Fatal::Stopped => ConsensusError::Stopped,
        }
    }
}

/// How long a leader waits to reach the height a follower forwarded
/// transactions at, before it checks them anyway.
const FORWARD_CATCH_UP: Duration = Duration::from_secs(2);

/// At most how many entries of one append a follower checks ahead: more
/// arrive only while it catches up.
const CHECK_AHEAD_ENTRIES: usize = 8;

/// At most how many appends a follower checks ahead at once.
const CHECKS_AHEAD: usize = 2;

/// How long an attestation waits for those of the next blocks before it is
/// sent to a peer. It delays only what a follower tells the leader of its
/// height (a leader hands over when it trails a quorum by
/// [`crate::leadership::LAG`], five times this, and the delay can only make it
/// look less late), never a commit.
const ATTESTATION_GATHER: Duration = Duration::from_millis(20);

/// At most how many entries one `AppendEntries` carries (openraft's default
/// is 300). An entry is a whole block, up to `max_txs_per_block`
/// transactions: a block of 1,000 evidence transactions is about 230 KB, so
/// 300 of them made a 69 MB request that openraft reads from the log,
/// encodes and sends within one heartbeat interval, its timeout: more than
/// 5 Gbit/s, which only loopback gives. For a peer that is down (an observer
/// stopped for maintenance) the leader read such a batch from its log at
/// every retry. Sixteen blocks are at most a few megabytes, and a
/// follower behind still takes sixteen at a round trip; in steady state an
/// append carries the one or two blocks that are new.
const MAX_PAYLOAD_ENTRIES: u64 = 16;

/// How a node runs consensus.
#[derive(Debug, Clone)]
pub struct ConsensusConfig {
    /// This node.
    pub node_id: NodeId,
    /// Its key, to attest blocks.
    pub key: SecretKey,
    /// The voters named in genesis (they initialise a new cluster).
    pub genesis_voters: Vec<NodeId>,
    /// Leader heartbeat interval.
    pub heartbeat: Duration,
    /// Election timeout range.
    pub election_timeout: (Duration, Duration),
    /// A snapshot is taken after this many log entries.
    pub snapshot_every: u64,
}

impl ConsensusConfig {
    /// Defaults: 100 ms heartbeats, elections after 500 to 1000 ms of silence, a
    /// snapshot every 5000 entries.
    pub fn new(node_id: NodeId, key: SecretKey, genesis_voters: Vec<NodeId>) -> ConsensusConfig {
        ConsensusConfig {
            node_id,
            key,
            genesis_voters,
            heartbeat: Duration::from_millis(100),
            election_timeout: (Duration::from_millis(500), Duration::from_millis(1000)),
            snapshot_every: 5000,
        }
    }
}

struct Inner {
    raft: Raft<TypeConfig>,
    chain: Chain,
    net: NetHandle,
    node_id: NodeId,
    key: SecretKey,
    /// Attested heights and the handover of a lagging leader (crate::leadership).
    leadership: Arc<Leadership>,
    /// Signature checks ahead of apply under way (`Consensus::check_ahead`).
    checks_ahead: Arc<std::sync::atomic::AtomicUsize>,
}

/// A node's running consensus; clones share it.
#[derive(Clone)]
pub struct Consensus {
    inner: Arc<Inner>,
}

impl Consensus {
    /// Starts Raft on `chain`'s store, talking over `net`. A genesis voter on an
    /// empty log initialises the cluster with the genesis voters.
    pub async fn start(chain: Chain, net: NetHandle, config: ConsensusConfig) -> Result<Consensus, ConsensusError> {
        let raft_config = openraft::Config {
            cluster_name: chain.executor().chain_id().to_string(),
            heartbeat_interval: config.heartbeat.as_millis() as u64,
            election_timeout_min: config.election_timeout.0.as_millis() as u64,
            election_timeout_max: config.election_timeout.1.as_millis() as u64,
            snapshot_policy: SnapshotPolicy::LogsSinceLast(config.snapshot_every),
            max_in_snapshot_log_to_keep: 500,
            max_payload_entries: MAX_PAYLOAD_ENTRIES,
            install_snapshot_timeout: 10_000,
            ..Default::default()
        }
        .validate()
        .map_err(|e| ConsensusError::Timings {
            heartbeat_ms: config.heartbeat.as_millis() as u64,
            election_timeout_ms: (
                config.election_timeout.0.as_millis() as u64,
                config.election_timeout.1.as_millis() as u64,
            ),
            reason: e.to_string(),
        })?;
        // A voter rebuilt from a backup campaigns only once the restored
        // voters agree that it holds the newest chain (crate::restore).
        let restored = restore::marker(chain.store())
            .map_err(|e| ConsensusError::Startup { step: "read the restore marker", source: Box::new(e) })?;
        let raft_config = openraft::Config { enable_elect: restored.is_none(), ..raft_config };
        let id = raft_id(config.node_id.as_str());
        let raft = Raft::new(
            id,
            Arc::new(raft_config),
            NetworkFactory::new(net.clone()),
            LogStore::new(chain.store().clone()),
            StateMachine::new(chain.clone())
                .map_err(|source| ConsensusError::Files { path: crate::snapshot::dir(chain.store()), source })?,
        )
        .await
        .map_err(ConsensusError::stopped)?;
        if config.genesis_voters.contains(&config.node_id)
            && !raft.is_initialized().await.map_err(ConsensusError::stopped)?
        {
            let members: BTreeMap<u64, RaftNode> = config
                .genesis_voters
                .iter()
                .map(|v| (raft_id(v.as_str()), RaftNode { node_id: v.to_string() }))
                .collect();
            match raft.initialize(members).await {
                Ok(()) | Err(RaftError::APIError(InitializeError::NotAllowed(_))) => {}
                Err(RaftError::APIError(e)) => {
                    return Err(ConsensusError::Startup {
                        step: "initialise the cluster with the genesis voters",
                        source: Box::new(e),
                    });
                }
                Err(RaftError::Fatal(e)) => return Err(ConsensusError::stopped(e)),
            }
        }
        let leadership = Arc::new(Leadership::default());
        tokio::spawn(leadership::run(raft.clone(), chain.clone(), leadership.clone()));
        let consensus = Consensus {
            inner: Arc::new(Inner {
                raft,
                chain,
                net,
                node_id: config.node_id,
                key: config.key,
                leadership,
                checks_ahead: Arc::default(),
            }),
        };
        if let Some(point) = restored {
            tracing::info!(
                term = point.leader_id.term,
                index = point.index,
                "restored from a backup; elections wait for the other voters"
            );
            let gate = consensus.clone();
            tokio::spawn(async move { gate.run_restore_gate(point).await });
        }
        Ok(consensus)
    }

    /// Until this restored node applies an entry past its backup or follows a
    /// leader: campaigns only if every voter answered, none knows a leader, and
    /// this node holds the highest chain (see [`crate::restore`]). Then clears
    /// the marker and leaves elections on.
    async fn run_restore_gate(&self, restored: openraft::LogId<u64>) {
        let raft = &self.inner.raft;
        let mut campaigning = false;
        loop {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let (applied, leader, voters) = {
                let metrics = raft.metrics();
                let m = metrics.borrow();
                let voters: Vec<String> = m
                    .membership_config
                    .membership()
                    .voter_ids()
                    .filter_map(|id| m.membership_config.membership().get_node(&id).map(|n| n.node_id.clone()))
                    .collect();
                (m.last_applied, m.current_leader, voters)
            };
            // Applied past the backup, or following a leader: the consortium
            // runs again (a leader exists only once the newest chain was chosen,
            // or where the others never stopped, as on an idle consortium).
            if applied > Some(restored) || leader.is_some_and(|l| l != raft_id(self.inner.node_id.as_str())) {
                if let Err(e) = restore::clear(self.inner.chain.store()) {
                    tracing::error!(error = %e, "cannot clear the restore marker; will retry");
                    continue;
                }
                raft.runtime_config().elect(true);
                tracing::info!(applied = %applied.map(|a| a.index).unwrap_or_default(), "restored node runs with the consortium again");
                return;
            }
            if campaigning {
                continue;
            }
            let me = restore::Position {
                node_id: self.inner.node_id.to_string(),
                height: self.inner.chain.tip().height,
                has_leader: leader.is_some(),
            };
            let mut others = Vec::new();
            for voter in voters.iter().filter(|v| **v != me.node_id) {
                others.push(self.ask_position(voter).await);
            }
            match restore::Gate::decide(&me, &others) {
                restore::Gate::Campaign => {
                    tracing::info!(height = me.height, "this restored voter holds the newest chain; it campaigns");
                    raft.runtime_config().elect(true);
                    campaigning = true;
                }
                restore::Gate::Defer { to } => tracing::debug!(%to, "another voter holds the newest chain"),
                restore::Gate::Waiting => tracing::debug!("waiting for every voter to answer"),
                restore::Gate::LeaderKnown => {}
            }
        }
    }

    /// A voter's chain position, or `None` if it does not answer in time.
    async fn ask_position(&self, voter: &str) -> Option<restore::Position> {
        let id = voter.parse::<NodeId>().ok()?;
        let s = crate::wire::ask_status(&self.inner.net, &id, Duration::from_secs(1)).await?;
        Some(restore::Position { node_id: s.node_id, height: s.height, has_leader: s.leader.is_some() })
    }

    /// The current leader's node id, if known.
    pub fn leader(&self) -> Option<String> {
        let metrics = self.inner.raft.metrics();
        let m = metrics.borrow();
        let leader = m.current_leader?;
        m.membership_config.membership().get_node(&leader).map(|n| n.node_id.clone())
    }

    /// The node ids of the voters in the current consensus configuration.
    pub fn voters(&self) -> Vec<String> {
        let metrics = self.inner.raft.metrics();
        let m = metrics.borrow();
        let membership = m.membership_config.membership();
        let mut voters: Vec<String> =
            membership.voter_ids().filter_map(|id| membership.get_node(&id).map(|n| n.node_id.clone())).collect();
        voters.sort();
        voters
    }

    /// Whether this node leads now.
    pub fn is_leader(&self) -> bool {
        self.leader().as_deref() == Some(self.inner.node_id.as_str())
    }

    /// Stops Raft and waits until it has: no more elections, replication or
    /// applying. Call it once the sequencer has stopped. Fails if Raft had
    /// already stopped on its own (a storage failure, a panic): the run did
    /// not end cleanly.
    pub async fn shutdown(&self) -> Result<(), ConsensusError> {
        let raft = &self.inner.raft;
        raft.shutdown()
            .await
            .map_err(|e| if e.is_panic() { ConsensusError::Panicked } else { ConsensusError::Stopped })?;
        let ended = raft.metrics().borrow().running_state.clone();
        match ended {
            Ok(()) | Err(Fatal::Stopped) => Ok(()),
            Err(fatal) => Err(ConsensusError::stopped(fatal)),
        }
    }

    /// Answers a request from another node.
    pub async fn handle(&self, from: &NodeId, payload: &[u8]) -> Vec<u8> {
        let response = match decode_request(payload) {
            Ok(req) => self.dispatch(from, req).await,
            Err(e) => {
                tracing::warn!(%from, error = %e, "undecodable request from a peer");
                WireResponse::Error(format!("undecodable request: {e}"))
            }
        };
        encode_response(&response)
    }

    async fn dispatch(&self, from: &NodeId, req: WireRequest) -> WireResponse {
        let raft = &self.inner.raft;
        match req {
            WireRequest::Status => WireResponse::Status(self.status()),
            WireRequest::AppendEntries(r) => {
                self.check_ahead(&r.entries);
                WireResponse::AppendEntries(raft.append_entries(r).await)
            }
            WireRequest::Vote(r) => WireResponse::Vote(raft.vote(r).await),
            WireRequest::InstallSnapshot(r) => WireResponse::InstallSnapshot(raft.install_snapshot(r).await),
            WireRequest::ForwardTxs { seen, txs } => {
                if !self.is_leader() {
                    return WireResponse::NotLeader(self.leader());
                }
                let chain = &self.inner.chain;
                // A leader applies a committed block on its own schedule and may
                // be behind the follower: it catches up to `seen` (bounded)
                // before it checks keys, or a key the follower knows would be
                // refused as unknown.
                if chain.tip().height < seen {
                    let mut tip = chain.subscribe_tip();
                    let _ = tokio::time::timeout(FORWARD_CATCH_UP, tip.wait_for(|t| t.height >= seen)).await;
                }
                let results = txs
                    .iter()
                    .map(|bytes| {
                        let tx = SignedTx::decode_limited(bytes, chain.executor().params())?;
                        match chain.submit(tx) {
                            Ok(Ok(
                                Submitted::Accepted | Submitted::AlreadyPending | Submitted::AlreadyCommitted(_),
                            )) => Ok(()),
                            Ok(Err(r)) => Err(r),
                            Err(e) => {
                                tracing::error!(error = %e, "cannot take a forwarded transaction");
                                Err(Rejection::Busy(chain.pending()))
                            }
                        }
                    })
                    .collect();
                WireResponse::Forwarded(results)
            }
            WireRequest::AttestationsOf(heights) => crate::backfill::serve(&self.inner.chain, &heights),
            WireRequest::Blocks { from } => {
                let chain = self.inner.chain.clone();
                tokio::task::spawn_blocking(move || crate::sync::serve(&chain, from))
                    .await
                    .unwrap_or_else(|e| WireResponse::Error(format!("reading blocks: {e}")))
            }
            WireRequest::Attestations(batch) => match self.receive_attestations(from, &batch) {
                Ok(()) => WireResponse::Ack,
                Err(e) => {
                    tracing::warn!(%from, error = %e, "attestation refused");
                    WireResponse::Error(e)
                }
            },
        }
    }

    /// Checks the signatures of the blocks a leader hands this follower, on a
    /// blocking thread, while Raft logs them and until they commit: applying
    /// them then finds their batches checked ([`Chain::check_ahead`]). Not
    /// for a node catching up (many entries at once), whose blocks apply in
    /// runs as soon as they arrive, nor while [`CHECKS_AHEAD`] are under way:
    /// each holds its decoded blocks, and a node that falls that far behind
    /// checks at apply as before.
    fn check_ahead(&self, entries: &[openraft::Entry<TypeConfig>]) {
        use std::sync::atomic::Ordering;
        if entries.is_empty() || entries.len() > CHECK_AHEAD_ENTRIES {
            return;
        }
        let under_way = self.inner.checks_ahead.clone();
        if under_way.fetch_add(1, Ordering::AcqRel) >= CHECKS_AHEAD {
            under_way.fetch_sub(1, Ordering::AcqRel);
            return;
        }
        let proposals: Vec<BlockProposal> = entries
            .iter()
            .filter_map(|e| match &e.payload {
                openraft::EntryPayload::Normal(p) => BlockProposal::decode(&p.0).ok(),
                _ => None,
            })
            .collect();
        let chain = self.inner.chain.clone();
        tokio::task::spawn_blocking(move || {
            for proposal in &proposals {
                if let Err(e) = chain.check_ahead(proposal) {
                    tracing::warn!(error = %e, "checking a block's signatures ahead");
                }
            }
            under_way.fetch_sub(1, Ordering::AcqRel);
        });
    }

    /// This node's chain position and the leader it knows.
    pub fn status(&self) -> Status {
        let tip = self.inner.chain.tip();
        Status {
            node_id: self.inner.node_id.to_string(),
            height: tip.height,
            tip_hash: tip.hash,
            leader: self.leader(),
        }
    }

    /// Cuts proposals from the mempool and orders them: the leader writes them to
    /// the Raft log, a follower forwards their transactions to the leader. Runs
    /// until `shutdown` fires; returns an error only when Raft failed fatally.
    pub async fn run_sequencer(&self, mut shutdown: watch::Receiver<bool>) -> Result<(), ConsensusError> {
        let chain = &self.inner.chain;
        loop {
            let proposal = tokio::select! {
                p = chain.next_proposal() => p,
                _ = shutdown.changed() => return Ok(()),
            };
            if self.inner.leadership.handing_over() {
                // This leader lags its followers and is handing over: the next
                // leader orders these.
                chain.requeue(proposal.txs);
                tokio::time::sleep(Duration::from_millis(100)).await;
            } else if self.is_leader() {
                let txs = proposal.txs.clone();
                match self.inner.raft.client_write(Proposal(proposal.encode())).await {
                    Ok(_) => {}
                    Err(RaftError::APIError(ClientWriteError::ForwardToLeader(_))) => {
                        // Lost leadership: the transactions go to the new leader.
                        chain.requeue(txs);
                    }
                    Err(RaftError::APIError(e)) => {
                        tracing::warn!(error = %e, "proposal not written");
                        chain.requeue(txs);
                    }
                    Err(RaftError::Fatal(e)) => return Err(ConsensusError::stopped(e)),
                }
            } else {
                self.forward(proposal.txs).await;
            }
        }
    }

    async fn forward(&self, txs: Vec<SignedTx>) {
        let chain = &self.inner.chain;
        let leader = match self.leader() {
            Some(l) if l != self.inner.node_id.as_str() => l,
            _ => {
                // No leader yet (election under way): keep them and try again shortly.
                chain.requeue(txs);
                tokio::time::sleep(Duration::from_millis(100)).await;
                return;
            }
        };
        let Ok(leader_id) = leader.parse::<NodeId>() else {
            chain.requeue(txs);
            return;
        };
        let seen = chain.tip().height;
        let request =
            encode_request(&WireRequest::ForwardTxs { seen, txs: txs.iter().map(Canonical::encode).collect() });
        // A leader cut off answers nothing. Stop waiting for it once an
        // election starts (the term moves): the next try goes to the new leader.
        let mut metrics = self.inner.raft.metrics();
        let term = metrics.borrow().current_term;
        let answer = tokio::select! {
            answer = tokio::time::timeout(Duration::from_secs(5), self.inner.net.request(&leader_id, request)) => {
                answer.ok().and_then(Result::ok)
            }
            _ = metrics.wait_for(|m| m.current_term != term) => None,
        };
        let response = answer.and_then(|bytes| decode_response(&bytes).ok());
        match response {
            Some(WireResponse::Forwarded(results)) if results.len() == txs.len() => {
                for (tx, result) in txs.iter().zip(results) {
                    if let Err(reason) = result {
                        // The leader refused it: tell the client that waits here.
                        chain.reject(&tx.tx.tx_id, reason);
                    }
                }
            }
            other => {
                tracing::debug!(leader = %leader, answer = ?other.map(|_| ()), "forward failed; retrying");
                chain.requeue(txs);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }

    /// Checks and stores a batch of attestations `from` sent. The members'
    /// keys are read once per batch; the hashes compared come from the chain's
    /// memory of its newest blocks.
    fn receive_attestations(&self, from: &NodeId, batch: &[Vec<u8>]) -> Result<(), String> {
        let records = self.inner.chain.node_records().map_err(|e| e.to_string())?;
        let record = records.iter().find(|r| &r.id == from).ok_or("not a member")?;
        for bytes in batch {
            let att = Attestation::decode(bytes).map_err(|e| e.to_string())?;
            if &att.node != from {
                return Err(format!("attestation of {} sent by {from}", att.node));
            }
            att.verify(&record.public_key).map_err(|e| e.to_string())?;
            if let Some(hash) = self.inner.chain.block_hash(att.height).map_err(|e| e.to_string())? {
                if hash != att.block_hash {
                    return Err(format!("attests hash {} for height {}, ours is {hash}", att.block_hash, att.height));
                }
            }
            self.inner
                .chain
                .store()
                .put_attestation(att.height, att.node.as_str(), bytes)
                .map_err(|e| e.to_string())?;
            self.inner.leadership.attested(att.node.as_str(), att.height);
        }
        Ok(())
    }

    /// Signs every block this node commits, stores the attestation and sends it to
    /// every other member: one sender per peer, which batches whatever piled up
    /// while its previous request was under way, and what comes within
    /// 20 ms (`ATTESTATION_GATHER`) of the first. Runs until the chain is dropped.
    ///
    /// Each attestation anchors the node's audit log head as `audit_head`
    /// holds it then, when the node keeps one.
    pub async fn run_attestations(&self, audit_head: Option<watch::Receiver<Option<AuditHead>>>) {
        let chain = &self.inner.chain;
        // A node attests to what its block files hold after a power cut.
        let mut tip = chain.subscribe_durable();
        let mut next = chain.durable_tip().height + 1;
        let mut senders: std::collections::HashMap<NodeId, tokio::sync::mpsc::UnboundedSender<Vec<u8>>> =
            std::collections::HashMap::new();
        loop {
            let height = chain.durable_tip().height;
            let peers = chain.active_peers(&self.inner.node_id).unwrap_or_default();
            senders.retain(|id, tx| peers.contains(id) && !tx.is_closed());
            for peer in peers {
                senders.entry(peer.clone()).or_insert_with(|| self.spawn_attestation_sender(peer));
            }
            while next <= height {
                if let Ok(Some(hash)) = chain.block_hash(next) {
                    let mut att = Attestation::sign(next, hash, self.inner.node_id.clone(), &self.inner.key);
                    if let Some(head) = audit_head.as_ref().and_then(|rx| *rx.borrow()) {
                        att = att.with_audit(head, &self.inner.key);
                    }
                    let bytes = att.encode();
                    if let Err(e) = chain.store().put_attestation(next, self.inner.node_id.as_str(), &bytes) {
                        tracing::error!(error = %e, "cannot store attestation");
                    }
                    for tx in senders.values() {
                        let _ = tx.send(bytes.clone());
                    }
                }
                next += 1;
            }
            if tip.changed().await.is_err() {
                return;
            }
        }
    }

    /// Fetches the attestations this node lacks of settled blocks from its
    /// peers (see the `backfill` module). Runs until the chain is dropped.
    pub async fn run_attestation_backfill(&self) {
        crate::backfill::run(self.inner.chain.clone(), self.inner.net.clone(), self.inner.node_id.clone()).await;
    }

    fn spawn_attestation_sender(&self, peer: NodeId) -> tokio::sync::mpsc::UnboundedSender<Vec<u8>> {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Vec<u8>>();
        let net = self.inner.net.clone();
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                // Let the attestations of the blocks right behind this one join
                // it: at low load a block commits every few milliseconds, and a
                // request costs both nodes more than the attestation it carries.
                tokio::time::sleep(ATTESTATION_GATHER).await;
                let mut batch = vec![first];
                while batch.len() < 1000 {
                    match rx.try_recv() {
                        Ok(more) => batch.push(more),
                        Err(_) => break,
                    }
                }
                // Best effort: a peer that misses attestations still has its own, and
                // attestations are evidence, not consensus.
                let request = encode_request(&WireRequest::Attestations(batch));
                let _ = tokio::time::timeout(Duration::from_secs(5), net.request(&peer, request)).await;
            }
        });
        tx
    }

    /// On the leader, brings Raft's membership in line with the ledger's node
    /// records, one change at a time: new members join as learners, voters are
    /// promoted once caught up, revoked or removed nodes leave. Observers never vote.
    pub async fn run_membership(&self) {
        loop {
            tokio::time::sleep(Duration::from_millis(300)).await;
            if !self.is_leader() || self.inner.leadership.handing_over() {
                continue;
            }
            if let Err(e) = self.reconcile_once().await {
                tracing::warn!(error = %e, "membership change not made; will retry");
            }
        }
    }

    async fn reconcile_once(&self) -> Result<(), String> {
        let records = self.inner.chain.node_records().map_err(|e| e.to_string())?;
        let active: Vec<_> = records.iter().filter(|r| r.status == NodeStatus::Active).collect();
        let desired_voters: BTreeSet<u64> =
            active.iter().filter(|r| r.role == NodeRole::Voter).map(|r| raft_id(r.id.as_str())).collect();
        let desired_all: BTreeSet<u64> = active.iter().map(|r| raft_id(r.id.as_str())).collect();
        let membership = self.inner.raft.metrics().borrow().membership_config.clone();
        let m = membership.membership();
        if m.get_joint_config().len() > 1 {
            return Ok(()); // a change is still under way
        }
        let voters: BTreeSet<u64> = m.voter_ids().collect();
        let nodes: BTreeSet<u64> = m.nodes().map(|(id, _)| *id).collect();
        let raft = &self.inner.raft;
        // 1. A new member joins as a learner (and catches up).
        if let Some(r) = active.iter().find(|r| !nodes.contains(&raft_id(r.id.as_str()))) {
            tracing::info!(node = %r.id, "adding learner");
            raft.add_learner(raft_id(r.id.as_str()), RaftNode { node_id: r.id.to_string() }, true)
                .await
                .map_err(|e| e.to_string())?;
            return Ok(());
        }
        // 2. One voter is promoted.
        if let Some(id) = desired_voters.iter().find(|id| !voters.contains(id)) {
            tracing::info!(raft_id = id, "promoting to voter");
            raft.change_membership(ChangeMembers::AddVoterIds(BTreeSet::from([*id])), true)
                .await
                .map_err(|e| e.to_string())?;
            return Ok(());
        }
        // 3. One voter that should not vote is demoted (never the last one).
        if let Some(id) = voters.iter().find(|id| !desired_voters.contains(id)) {
            if voters.len() > 1 {
                tracing::info!(raft_id = id, "removing voter");
                raft.change_membership(ChangeMembers::RemoveVoters(BTreeSet::from([*id])), true)
                    .await
                    .map_err(|e| e.to_string())?;
            }
            return Ok(());
        }
        // 4. Nodes no longer members leave.
        let gone: BTreeSet<u64> = nodes.difference(&desired_all).copied().filter(|id| !voters.contains(id)).collect();
        if !gone.is_empty() {
            tracing::info!(?gone, "removing nodes");
            raft.change_membership(ChangeMembers::RemoveNodes(gone), false).await.map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}
