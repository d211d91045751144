//! openraft's network over the node's admitted libp2p connections.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use billflow_net::NetHandle;
use billflow_types::NodeId;
use openraft::error::{InstallSnapshotError, NetworkError, RPCError, RaftError, RemoteError, Unreachable};
use openraft::network::{RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse, VoteRequest,
    VoteResponse,
};
use openraft::{Entry, EntryPayload};

use crate::config::{RaftNode, TypeConfig, decode, encode};
use crate::wire::{WireRequest, WireResponse};

/// Most block bytes one append-entries request carries (at least one entry is always sent).
const APPEND_BUDGET_BYTES: usize = 4 << 20;

/// How many of `entries`, from the first, fit in `budget` bytes of block proposals (at least one).
fn prefix_within(entries: &[Entry<TypeConfig>], budget: usize) -> usize {
    let mut total = 0;
    for (i, entry) in entries.iter().enumerate() {
        total += match &entry.payload {
            EntryPayload::Normal(p) => p.0.len(),
            _ => 0,
        };
        if total > budget && i > 0 {
            return i;
        }
    }
    entries.len()
}

/// Makes a client per peer.
#[derive(Clone)]
pub struct NetworkFactory {
    net: NetHandle,
}

impl NetworkFactory {
    /// Raft traffic over `net`.
    pub fn new(net: NetHandle) -> NetworkFactory {
        NetworkFactory { net }
    }
}

impl RaftNetworkFactory<TypeConfig> for NetworkFactory {
    type Network = PeerClient;

    async fn new_client(&mut self, target: u64, node: &RaftNode) -> PeerClient {
        PeerClient { net: self.net.clone(), target, node: node.clone(), slow: Arc::new(AtomicBool::new(false)) }
    }
}

/// Raft RPCs to one peer.
pub struct PeerClient {
    net: NetHandle,
    target: u64,
    node: RaftNode,
    /// The last request timed out on a live connection: the link is slow, not down.
    slow: Arc<AtomicBool>,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct WireError(String);

impl PeerClient {
    async fn call<E: std::error::Error>(
        &self,
        req: WireRequest,
        option: &RPCOption,
    ) -> Result<WireResponse, RPCError<u64, RaftNode, E>> {
        let node: NodeId = self
            .node
            .node_id
            .parse()
            .map_err(|e| RPCError::Network(NetworkError::new(&WireError(format!("bad node id: {e}")))))?;
        let sent = tokio::time::timeout(option.hard_ttl(), self.net.request(&node, encode(&req))).await;
        let bytes = match sent {
            Ok(Ok(bytes)) => bytes,
            Ok(Err(e)) => {
                self.slow.store(false, Ordering::Relaxed);
                return Err(RPCError::Unreachable(Unreachable::new(&e)));
            }
            Err(_) => {
                let connected = self.net.connected().await.is_ok_and(|nodes| nodes.contains(&node));
                self.slow.store(connected, Ordering::Relaxed);
                return Err(RPCError::Unreachable(Unreachable::new(&WireError("timed out".into()))));
            }
        };
        decode(&bytes).map_err(|e| RPCError::Network(NetworkError::new(&e)))
    }

    fn unexpected<E: std::error::Error>(resp: WireResponse) -> RPCError<u64, RaftNode, E> {
        RPCError::Network(NetworkError::new(&WireError(format!("unexpected answer: {resp:?}"))))
    }
}

/// Between attempts to reach a peer that is not connected. openraft's default
/// is 500 ms; a member back from a cut hears of the current leader only at
/// the next attempt, so the attempts are closer. An attempt at a link that is
/// down costs a dial, or one request that times out.
const RETRY_UNREACHABLE: Duration = Duration::from_millis(200);
/// Between attempts at a peer whose connection is up but did not answer in
/// time. Its link is slow: each attempt sends the entries again and queues
/// more on it, and a link that queues for seconds is taken for a dead one.
const RETRY_SLOW: Duration = Duration::from_millis(500);

impl RaftNetwork<TypeConfig> for PeerClient {
    fn backoff(&self) -> openraft::network::Backoff {
        let slow = self.slow.clone();
        openraft::network::Backoff::new(std::iter::repeat_with(move || {
            if slow.load(Ordering::Relaxed) { RETRY_SLOW } else { RETRY_UNREACHABLE }
        }))
    }

    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<u64>, RPCError<u64, RaftNode, RaftError<u64>>> {
        // A node far behind is sent hundreds of entries at once, and each
        // carries a whole block: the message could outgrow the wire's limit
        // or the RPC's time. Only a prefix within the budget is sent, and a
        // success is reported as a partial one up to it (openraft then sends the rest).
        let mut rpc = rpc;
        let keep = prefix_within(&rpc.entries, APPEND_BUDGET_BYTES);
        let sent_last = (keep < rpc.entries.len()).then(|| {
            rpc.entries.truncate(keep);
            rpc.entries.last().map(|e| e.log_id)
        });
        let answer = match self.call(WireRequest::AppendEntries(rpc), &option).await? {
            WireResponse::AppendEntries(r) => r.map_err(|e| RPCError::RemoteError(RemoteError::new(self.target, e)))?,
            other => return Err(Self::unexpected(other)),
        };
        Ok(match (answer, sent_last) {
            (AppendEntriesResponse::Success, Some(last)) => AppendEntriesResponse::PartialSuccess(last),
            (answer, _) => answer,
        })
    }

    async fn install_snapshot(
        &mut self,
        rpc: InstallSnapshotRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<InstallSnapshotResponse<u64>, RPCError<u64, RaftNode, RaftError<u64, InstallSnapshotError>>> {
        match self.call(WireRequest::InstallSnapshot(rpc), &option).await? {
            WireResponse::InstallSnapshot(r) => r.map_err(|e| RPCError::RemoteError(RemoteError::new(self.target, e))),
            other => Err(Self::unexpected(other)),
        }
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<u64>,
        option: RPCOption,
    ) -> Result<VoteResponse<u64>, RPCError<u64, RaftNode, RaftError<u64>>> {
        match self.call(WireRequest::Vote(rpc), &option).await? {
            WireResponse::Vote(r) => r.map_err(|e| RPCError::RemoteError(RemoteError::new(self.target, e))),
            other => Err(Self::unexpected(other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use openraft::{CommittedLeaderId, LogId};

    use super::*;
    use crate::config::Proposal;

    fn entry(index: u64, bytes: usize) -> Entry<TypeConfig> {
        Entry {
            log_id: LogId::new(CommittedLeaderId::new(1, 0), index),
            payload: EntryPayload::Normal(Proposal(vec![0; bytes])),
        }
    }

    #[test]
    fn append_requests_are_cut_to_the_budget_but_never_empty() {
        let entries: Vec<_> = (1..=10).map(|i| entry(i, 1000)).collect();
        assert_eq!(prefix_within(&entries, 10_000), 10);
        assert_eq!(prefix_within(&entries, 3_500), 3);
        assert_eq!(prefix_within(&entries[..1], 10), 1, "one entry over the budget still goes");
        assert_eq!(prefix_within(&[], 10), 0);
        let blank = Entry { log_id: LogId::new(CommittedLeaderId::new(1, 0), 1), payload: EntryPayload::Blank };
        assert_eq!(prefix_within(&[blank, entry(2, 10)], 5), 1);
    }
}
