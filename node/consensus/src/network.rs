//! openraft's network over the node's admitted libp2p connections.

use billflow_net::NetHandle;
use billflow_types::NodeId;
use openraft::error::{InstallSnapshotError, NetworkError, RPCError, RaftError, RemoteError, Unreachable};
use openraft::network::{RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse, VoteRequest,
    VoteResponse,
};

use crate::config::{RaftNode, TypeConfig, decode, encode};
use crate::wire::{WireRequest, WireResponse};

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
        PeerClient { net: self.net.clone(), target, node: node.clone() }
    }
}

/// Raft RPCs to one peer.
pub struct PeerClient {
    net: NetHandle,
    target: u64,
    node: RaftNode,
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
            Ok(Err(e)) => return Err(RPCError::Unreachable(Unreachable::new(&e))),
            Err(_) => return Err(RPCError::Unreachable(Unreachable::new(&WireError("timed out".into())))),
        };
        decode(&bytes).map_err(|e| RPCError::Network(NetworkError::new(&e)))
    }

    fn unexpected<E: std::error::Error>(resp: WireResponse) -> RPCError<u64, RaftNode, E> {
        RPCError::Network(NetworkError::new(&WireError(format!("unexpected answer: {resp:?}"))))
    }
}

impl RaftNetwork<TypeConfig> for PeerClient {
    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<u64>, RPCError<u64, RaftNode, RaftError<u64>>> {
        match self.call(WireRequest::AppendEntries(rpc), &option).await? {
            WireResponse::AppendEntries(r) => r.map_err(|e| RPCError::RemoteError(RemoteError::new(self.target, e))),
            other => Err(Self::unexpected(other)),
        }
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
