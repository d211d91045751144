//! What nodes say to each other, as postcard bytes inside the network's
//! request-response protocol.

use std::time::Duration;

use billflow_net::NetHandle;
use billflow_types::{Hash32, NodeId, Rejection};
use openraft::error::{InstallSnapshotError, RaftError};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse, VoteRequest,
    VoteResponse,
};
use serde::{Deserialize, Serialize};

use crate::config::TypeConfig;

/// A request from one node to another.
#[derive(Debug, Serialize, Deserialize)]
pub enum WireRequest {
    /// The peer's chain position and leader.
    Status,
    /// Raft log replication.
    AppendEntries(AppendEntriesRequest<TypeConfig>),
    /// Raft election.
    Vote(VoteRequest<u64>),
    /// Raft snapshot transfer (one chunk).
    InstallSnapshot(InstallSnapshotRequest<TypeConfig>),
    /// Signed transactions (canonical bytes) submitted at a follower, for the
    /// leader's mempool.
    ForwardTxs {
        /// The follower's committed height when it took them: the leader checks
        /// them against at least that much of the ledger, so that a key
        /// registered in a block the follower applied first is known to it too.
        seen: u64,
        /// The transactions.
        txs: Vec<Vec<u8>>,
    },
    /// A node's attestations of blocks (canonical bytes each).
    Attestations(Vec<Vec<u8>>),
    /// Every attestation the peer holds of these heights (at most 256): how
    /// a node that joined late, or was down, gets the attestations its
    /// proofs need.
    AttestationsOf(Vec<u64>),
    /// The peer's stored blocks from this height on, with their attestations,
    /// up to about 4 MiB: how a node far behind catches up without executing
    /// ([`crate::sync`]).
    Blocks {
        /// The first height wanted.
        from: u64,
    },
}

/// A node's chain position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// The answering node.
    pub node_id: String,
    /// Its committed height.
    pub height: u64,
    /// Its tip hash.
    pub tip_hash: Hash32,
    /// The leader it knows of.
    pub leader: Option<String>,
}

/// Asks `peer` for its [`Status`]; `None` if it does not answer one within `timeout`.
pub(crate) async fn ask_status(net: &NetHandle, peer: &NodeId, timeout: Duration) -> Option<Status> {
    let bytes =
        tokio::time::timeout(timeout, net.request(peer, encode_request(&WireRequest::Status))).await.ok()?.ok()?;
    match decode_response(&bytes).ok()? {
        WireResponse::Status(status) => Some(status),
        _ => None,
    }
}

/// A stored block as one node hands it to another: the record of the block
/// files (block, receipts, state changes, consensus metadata) and the
/// attestations the sender holds of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncedBlock {
    /// The canonical bytes of the stored block.
    pub record: Vec<u8>,
    /// Canonical bytes of each attestation.
    pub attestations: Vec<Vec<u8>>,
}

/// An answer.
#[derive(Debug, Serialize, Deserialize)]
pub enum WireResponse {
    /// See [`WireRequest::Status`].
    Status(Status),
    /// See [`WireRequest::AppendEntries`].
    AppendEntries(Result<AppendEntriesResponse<u64>, RaftError<u64>>),
    /// See [`WireRequest::Vote`].
    Vote(Result<VoteResponse<u64>, RaftError<u64>>),
    /// See [`WireRequest::InstallSnapshot`].
    InstallSnapshot(Result<InstallSnapshotResponse<u64>, RaftError<u64, InstallSnapshotError>>),
    /// One result per forwarded transaction; `NotLeader` when this node cannot take them.
    Forwarded(Vec<Result<(), Rejection>>),
    /// The receiver is not the leader; the sender should find the leader and retry.
    NotLeader(Option<String>),
    /// See [`WireRequest::AttestationsOf`]: canonical bytes each.
    Attestations(Vec<Vec<u8>>),
    /// See [`WireRequest::Blocks`]: consecutive blocks from the height asked
    /// for, none if the peer holds none there.
    Blocks(Vec<SyncedBlock>),
    /// Received.
    Ack,
    /// The request could not be understood or served.
    Error(String),
}

/// The bytes of a request.
pub fn encode_request(req: &WireRequest) -> Vec<u8> {
    crate::config::encode(req)
}

/// Reads a request; the error says why the bytes are not one.
pub fn decode_request(bytes: &[u8]) -> Result<WireRequest, String> {
    crate::config::decode(bytes).map_err(|e| e.to_string())
}

/// The bytes of an answer.
pub fn encode_response(resp: &WireResponse) -> Vec<u8> {
    crate::config::encode(resp)
}

/// Reads an answer.
pub fn decode_response(bytes: &[u8]) -> Result<WireResponse, String> {
    crate::config::decode(bytes).map_err(|e| e.to_string())
}
