//! Catch-up from stored blocks. A node that starts empty and far behind its
//! peers (a new node, or one whose data was lost) fetches their stored blocks,
//! each with its receipts, state changes and attestations, checks every block
//! and installs it without executing a transaction; Raft starts afterwards and
//! carries the node on from the last block installed.
//!
//! A block is taken only if it extends the node's tip, its transaction and
//! receipt roots match its contents, its state changes continue the state hash
//! chain to the hash in its header, its consensus metadata names the entry its
//! header names, and more than half of the voters in force at its height
//! signed its hash. What a majority of voters signed is what they executed and
//! committed; the peer that sends it is trusted for nothing. The first block
//! that fails ends the catch-up there (the node goes on through Raft, which
//! re-executes), and nothing of it is stored.

use std::time::Duration;

use billflow_chain::Chain;
use billflow_net::NetHandle;
use billflow_storage::StoredBlock;
use billflow_types::proof::check_attested;
use billflow_types::state::chain_state_hash;
use billflow_types::system::SYSTEM_CONTRACT;
use billflow_types::{Attestation, Canonical, ChainTip, NodeId, VOTERS_CHANGED, merkle::merkle_root};
use openraft::{LogId, StoredMembership};

use crate::config::{RaftNode, decode, raft_id};
use crate::state_machine::{APPLIED, MEMBERSHIP};
use crate::wire::{
    Status, SyncedBlock, WireRequest, WireResponse, ask_status, decode_request, decode_response, encode_request,
    encode_response,
};

/// A node at most this many blocks behind its most advanced peer leaves the
/// rest to Raft.
pub const MIN_GAP: u64 = 64;
/// An answer to [`WireRequest::Blocks`] stops after the block that takes it past this many bytes.
const ANSWER_BYTES: usize = 4 << 20;
/// How often, and how long apart, the peers are asked for their height
/// before the node gives up waiting for any of them to answer.
const STATUS_ROUNDS: u32 = 4;
const STATUS_PAUSE: Duration = Duration::from_millis(500);
const STATUS_TIMEOUT: Duration = Duration::from_secs(2);
const BLOCKS_TIMEOUT: Duration = Duration::from_secs(30);

/// What a catch-up did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// The peer the blocks came from, if the node was far enough behind one.
    pub peer: Option<NodeId>,
    /// That peer's height when asked.
    pub peer_height: u64,
    /// Blocks installed.
    pub blocks: u64,
    /// Their transactions.
    pub txs: u64,
    /// Why it stopped short of the peer's height, if it did.
    pub stopped: Option<String>,
}

/// The answer to [`WireRequest::Blocks`]: the stored blocks from `from` on,
/// with the attestations held of each, until about [`ANSWER_BYTES`].
pub(crate) fn serve(chain: &Chain, from: u64) -> WireResponse {
    let store = chain.store();
    let tip = chain.tip().height;
    let mut out = Vec::new();
    let mut size = 0;
    for height in from.max(1)..=tip {
        let record = match store.stored_block_bytes(height) {
            Ok(Some(record)) => record,
            Ok(None) => break,
            Err(e) => return WireResponse::Error(format!("block {height}: {e}")),
        };
        let attestations = match store.attestations(height) {
            Ok(held) => held.into_iter().map(|(_, bytes)| bytes).collect::<Vec<_>>(),
            Err(e) => return WireResponse::Error(format!("attestations of block {height}: {e}")),
        };
        size += record.len() + attestations.iter().map(Vec::len).sum::<usize>();
        out.push(SyncedBlock { record, attestations });
        if size >= ANSWER_BYTES {
            break;
        }
    }
    WireResponse::Blocks(out)
}

/// Catches `chain` up from the most advanced peer that answers, if it is more
/// than [`MIN_GAP`] blocks ahead. Never fails: what it could not do, Raft does.
///
/// Raft is not running yet, so what peers send meanwhile (`requests`) is
/// answered here: their height questions with this node's height, anything
/// else as not yet served. Left waiting, the leader's appends (up to 4 MiB
/// each, re-sent as they time out) would pile up in memory.
pub async fn catch_up(
    chain: &Chain,
    net: &NetHandle,
    me: &NodeId,
    requests: &mut tokio::sync::mpsc::Receiver<billflow_net::InboundRequest>,
) -> SyncReport {
    let work = fetch_and_install(chain, net, me);
    tokio::pin!(work);
    loop {
        tokio::select! {
            report = &mut work => return report,
            Some(req) = requests.recv() => {
                let _ = req.reply.send(encode_response(&answer_before_raft(chain, me, &req.payload)));
            }
        }
    }
}

/// What a node catching up answers a peer, before Raft runs.
fn answer_before_raft(chain: &Chain, me: &NodeId, payload: &[u8]) -> WireResponse {
    match decode_request(payload) {
        Ok(WireRequest::Status) => {
            let tip = chain.tip();
            WireResponse::Status(Status {
                node_id: me.to_string(),
                height: tip.height,
                tip_hash: tip.hash,
                leader: None,
            })
        }
        Ok(_) => WireResponse::Error("this node is catching up from stored blocks; Raft starts after".into()),
        Err(e) => WireResponse::Error(format!("undecodable request: {e}")),
    }
}

async fn fetch_and_install(chain: &Chain, net: &NetHandle, me: &NodeId) -> SyncReport {
    let mut report = SyncReport::default();
    let Some((peer, height)) = most_advanced(chain, net, me).await else {
        report.stopped = Some("no peer answered".into());
        return report;
    };
    report.peer_height = height;
    if height <= chain.tip().height + MIN_GAP {
        return report;
    }
    report.peer = Some(peer.clone());
    tracing::info!(%peer, from = chain.tip().height, to = height, "catching up from a peer's stored blocks");
    let ask = |from: u64| {
        let net = net.clone();
        let peer = peer.clone();
        tokio::spawn(async move {
            let request = encode_request(&WireRequest::Blocks { from });
            match tokio::time::timeout(BLOCKS_TIMEOUT, net.request_bulk(&peer, request)).await {
                Err(_) => Err(format!("{peer} did not answer within {} s", BLOCKS_TIMEOUT.as_secs())),
                Ok(Err(e)) => Err(e.to_string()),
                Ok(Ok(bytes)) => match decode_response(&bytes) {
                    Ok(WireResponse::Blocks(blocks)) => Ok(blocks),
                    Ok(WireResponse::Error(e)) => Err(format!("{peer}: {e}")),
                    Ok(other) => Err(format!("{peer} answered {other:?}")),
                    Err(e) => Err(format!("{peer}'s answer does not decode: {e}")),
                },
            }
        })
    };
    let mut from = chain.tip().height + 1;
    let mut pending = ask(from);
    while from <= height {
        let blocks = match pending.await {
            Ok(Ok(blocks)) if !blocks.is_empty() => blocks,
            Ok(Ok(_)) => {
                report.stopped = Some(format!("{peer} holds no block {from}"));
                break;
            }
            Ok(Err(e)) => {
                report.stopped = Some(e);
                break;
            }
            Err(e) => {
                report.stopped = Some(e.to_string());
                break;
            }
        };
        let offered = blocks.len() as u64;
        // The next answer travels while this one is checked and written.
        pending = ask(from + offered);
        let c = chain.clone();
        let done = tokio::task::spawn_blocking(move || install(&c, blocks)).await;
        let (installed, txs, stopped) = match done {
            Ok(Ok(done)) => done,
            Ok(Err(e)) => (0, 0, Some(e)),
            Err(e) => (0, 0, Some(e.to_string())),
        };
        report.blocks += installed;
        report.txs += txs;
        if let Some(reason) = stopped {
            pending.abort();
            report.stopped = Some(reason);
            break;
        }
        from += offered;
        if from > height {
            pending.abort();
        }
    }
    if report.blocks > 0
        && let Err(e) = crate::restore::raise_vote(chain.store())
    {
        report.stopped = Some(format!("the vote could not follow the installed blocks: {e}"));
    }
    report
}

/// Asks every other active node for its height, a few times while none
/// answers; answers the highest, if any did.
async fn most_advanced(chain: &Chain, net: &NetHandle, me: &NodeId) -> Option<(NodeId, u64)> {
    let peers = chain.active_peers(me).ok()?;
    for round in 0..STATUS_ROUNDS {
        if round > 0 {
            tokio::time::sleep(STATUS_PAUSE).await;
        }
        let asked = peers.iter().map(|peer| async move {
            ask_status(net, peer, STATUS_TIMEOUT).await.map(|status| (peer.clone(), status.height))
        });
        let answered: Vec<(NodeId, u64)> = futures_util::future::join_all(asked).await.into_iter().flatten().collect();
        if let Some(best) = answered.into_iter().max_by_key(|(_, height)| *height) {
            return Some(best);
        }
    }
    None
}

/// Checks and installs `blocks`, in order, up to the first that fails.
/// Answers the blocks and transactions installed, and the failure, if any.
fn install(chain: &Chain, blocks: Vec<SyncedBlock>) -> Result<(u64, u64, Option<String>), String> {
    let mut history = chain.voter_history().map_err(|e| e.to_string())?;
    let mut known = known_nodes(chain)?;
    let chain_id = chain.executor().chain_id().clone();
    let mut tip = chain.tip();
    let mut checked: Vec<(StoredBlock, Vec<Attestation>)> = Vec::new();
    let (mut blocks_done, mut txs_done) = (0, 0);
    let mut stopped = None;
    for synced in blocks {
        let height = tip.height + 1;
        let checked_block = StoredBlock::decode(&synced.record)
            .map_err(|e| format!("block {height} does not decode: {e}"))
            .and_then(|stored| {
                let attestations: Vec<Attestation> =
                    synced.attestations.iter().filter_map(|bytes| Attestation::decode(bytes).ok()).collect();
                let kept = check(&stored, &tip, &chain_id, history.at(height), &attestations, &known)?;
                let kept = kept.into_iter().cloned().collect();
                Ok((stored, kept))
            });
        let (stored, attestations) = match checked_block {
            Ok(checked) => checked,
            Err(reason) => {
                stopped = Some(reason);
                break;
            }
        };
        tip = ChainTip::of(&stored.block.header);
        // A block that changes the voters or the nodes changes what the next
        // one is checked against: write what is checked, then read them again.
        let changes_members = stored.changes.iter().any(|c| c.contract.as_str() == SYSTEM_CONTRACT)
            || stored.receipts.iter().any(|r| r.events.iter().any(|e| e.topic == VOTERS_CHANGED));
        checked.push((stored, attestations));
        if changes_members {
            let (b, t) = write(chain, &mut checked)?;
            (blocks_done, txs_done) = (blocks_done + b, txs_done + t);
            history = chain.voter_history().map_err(|e| e.to_string())?;
            known = known_nodes(chain)?;
        }
    }
    let (b, t) = write(chain, &mut checked)?;
    Ok((blocks_done + b, txs_done + t, stopped))
}

/// Raft ids of every node the ledger has a record of.
fn known_nodes(chain: &Chain) -> Result<Vec<u64>, String> {
    let records = chain.node_records().map_err(|e| e.to_string())?;
    Ok(records.iter().map(|r| raft_id(r.id.as_str())).collect())
}

/// Installs the checked blocks with one sync of the block files, then the
/// attestations that vouched for them; empties `checked`.
fn write(chain: &Chain, checked: &mut Vec<(StoredBlock, Vec<Attestation>)>) -> Result<(u64, u64), String> {
    if checked.is_empty() {
        return Ok((0, 0));
    }
    let blocks = checked.len() as u64;
    let txs = checked.iter().map(|(s, _)| s.block.txs.len() as u64).sum();
    let mut attested = Vec::new();
    let stored = checked.drain(..).map(|(stored, attestations)| {
        attested.extend(attestations);
        stored
    });
    chain.install_blocks(stored).map_err(|e| e.to_string())?;
    for a in attested {
        chain.store().put_attestation(a.height, a.node.as_str(), &a.encode()).map_err(|e| e.to_string())?;
    }
    chain.store().flush().map_err(|e| e.to_string())?;
    Ok((blocks, txs))
}

/// Checks one received block against the tip it must extend and the voters
/// in force at its height; answers the attestations that count.
fn check<'a>(
    stored: &StoredBlock,
    tip: &ChainTip,
    chain_id: &billflow_types::ChainId,
    voters: &[billflow_types::VoterKey],
    attestations: &'a [Attestation],
    known: &[u64],
) -> Result<Vec<&'a Attestation>, String> {
    let h = &stored.block.header;
    let height = tip.height + 1;
    let bad = |what: &str| Err(format!("block {height} from the peer: {what}"));
    if &h.chain_id != chain_id || h.height != height || h.prev_hash != tip.hash {
        return bad("it does not extend this node's tip");
    }
    if stored.genesis.is_some() || h.tx_count as usize != stored.block.txs.len() {
        return bad("its header does not describe its contents");
    }
    if stored.block.compute_tx_root() != h.tx_root {
        return bad("its transactions are not the ones its header names");
    }
    if stored.receipts.len() != stored.block.txs.len()
        || stored.receipts.iter().zip(&stored.block.txs).any(|(r, tx)| r.tx_hash != tx.hash())
    {
        return bad("its receipts are not one for each of its transactions");
    }
    let receipt_hashes: Vec<_> = stored.receipts.iter().map(|r| r.hash()).collect();
    if merkle_root(&receipt_hashes) != h.receipts_root {
        return bad("its receipts are not the ones its header names");
    }
    if chain_state_hash(&tip.state_hash, &stored.changes) != h.state_hash {
        return bad("its state changes do not lead to the state hash in its header");
    }
    for (name, value) in &stored.meta {
        let fits = match name.as_str() {
            APPLIED => decode::<LogId<u64>>(value)
                .is_ok_and(|id| id.leader_id.term == h.consensus.term && id.index == h.consensus.index),
            MEMBERSHIP => decode::<StoredMembership<u64, RaftNode>>(value)
                .is_ok_and(|m| m.membership().nodes().all(|(id, _)| known.contains(id))),
            _ => false,
        };
        if !fits {
            return bad(&format!("its consensus metadata `{name}` does not fit its header or the ledger's nodes"));
        }
    }
    check_attested(h, attestations, voters).map_err(|e| format!("block {height} from the peer: {e}"))
}

#[cfg(test)]
mod tests {
    use billflow_chain::{Chain, ChainConfig};
    use billflow_storage::Store;
    use billflow_types::dev::{DEV_NOTARY, dev_genesis, dev_key, dev_registration};
    use billflow_types::{ConsensusRef, Genesis, GenesisNode, NodeRole};
    use openraft::CommittedLeaderId;

    use super::*;
    use crate::config::encode;

    const VOTER: &str = "notary-dev-1";

    fn genesis() -> Genesis {
        let mut genesis = dev_genesis();
        let key = dev_key(VOTER).public();
        genesis.nodes = vec![GenesisNode {
            id: VOTER.parse().unwrap(),
            org: DEV_NOTARY.0.parse().unwrap(),
            public_key: key,
            peer_id: key.peer_id(),
            role: NodeRole::Voter,
            address: None,
        }];
        billflow_types::dev::dev_signed(genesis)
    }

    fn open(dir: &std::path::Path) -> Chain {
        let config = ChainConfig { node_id: VOTER.parse().unwrap(), mempool_capacity: 100 };
        Chain::open(Store::open(dir).unwrap(), &genesis(), config).unwrap()
    }

    /// A chain of `blocks` blocks, each attested by its one voter.
    async fn source(dir: &std::path::Path, blocks: u64) -> Chain {
        let chain = open(dir);
        for n in 1..=blocks {
            assert!(chain.submit(dev_registration(n, billflow_chain::now_ms())).unwrap().is_ok());
            let proposal = chain.next_proposal().await;
            let log_id = LogId::new(CommittedLeaderId::new(2, 7), 10 + n);
            let meta = vec![(APPLIED.to_string(), encode(&log_id))];
            chain.apply(&proposal, ConsensusRef { term: 2, index: 10 + n }, meta).unwrap();
            let hash = chain.block_hash(n).unwrap().unwrap();
            let att = Attestation::sign(n, hash, VOTER.parse().unwrap(), &dev_key(VOTER));
            chain.store().put_attestation(n, VOTER, &att.encode()).unwrap();
        }
        chain
    }

    fn served(chain: &Chain, from: u64) -> Vec<SyncedBlock> {
        match serve(chain, from) {
            WireResponse::Blocks(blocks) => blocks,
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn checked_blocks_are_installed_without_execution_and_match_the_source() {
        let dirs: Vec<_> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
        let source = source(dirs[0].path(), 6).await;
        let target = open(dirs[1].path());
        let blocks = served(&source, 1);
        assert_eq!(blocks.len(), 6);
        let (installed, txs, stopped) = install(&target, blocks).unwrap();
        assert_eq!((installed, txs, stopped), (6, 6, None));
        assert_eq!(target.tip(), source.tip());
        for h in 1..=6 {
            assert_eq!(target.store().stored_block(h).unwrap(), source.store().stored_block(h).unwrap());
            assert_eq!(target.store().attestations(h).unwrap(), source.store().attestations(h).unwrap());
        }
        let state = |c: &Chain| c.store().state_entries().collect::<Result<Vec<_>, _>>().unwrap();
        assert_eq!(state(&target), state(&source));
        // The installed ledger replays to the same blocks and state.
        billflow_executor::verify::verify(target.store()).unwrap();
        // The answer from a height on, and past the tip.
        assert_eq!(served(&source, 4).len(), 3);
        assert!(served(&source, 7).is_empty());
    }

    /// Changes the stored block `b` carries.
    fn rewrite(b: &mut SyncedBlock, f: impl Fn(&mut StoredBlock)) {
        let mut stored = StoredBlock::decode(&b.record).unwrap();
        f(&mut stored);
        b.record = stored.encode();
    }

    #[tokio::test]
    async fn a_block_that_is_not_what_its_voters_attested_ends_the_catch_up_before_it() {
        let dirs: Vec<_> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
        let source = source(dirs[0].path(), 4).await;
        let blocks = served(&source, 1);
        let tamper = |f: &dyn Fn(&mut SyncedBlock)| {
            let mut blocks = blocks.clone();
            f(&mut blocks[2]);
            blocks
        };
        let stranger = |b: &mut SyncedBlock| {
            let hash = StoredBlock::decode(&b.record).unwrap().block.header.hash();
            b.attestations = vec![Attestation::sign(3, hash, VOTER.parse().unwrap(), &dev_key("stranger")).encode()];
        };
        let cases: Vec<(&str, Vec<SyncedBlock>, &str)> = vec![
            ("no attestation", tamper(&|b| b.attestations.clear()), "0 of the 1 voters"),
            ("an attestation by another key", tamper(&stranger), "0 of the 1 voters"),
            (
                "a receipt changed",
                tamper(&|b| rewrite(b, |s| s.receipts[0].fuel_used += 1)),
                "receipts are not the ones its header names",
            ),
            (
                "a state change dropped",
                tamper(&|b| {
                    rewrite(b, |s| {
                        s.changes.pop();
                    })
                }),
                "state changes do not lead",
            ),
            (
                "the applied entry changed",
                tamper(&|b| {
                    rewrite(b, |s| {
                        let other = LogId::new(CommittedLeaderId::new(2, 7), 99);
                        s.meta = vec![(APPLIED.to_string(), encode(&other))];
                    })
                }),
                "consensus metadata `raft/applied`",
            ),
            (
                "a transaction dropped",
                tamper(&|b| {
                    rewrite(b, |s| {
                        s.block.txs.clear();
                        s.receipts.clear();
                    })
                }),
                "does not describe its contents",
            ),
            ("bytes that are no block", tamper(&|b| b.record.truncate(10)), "does not decode"),
        ];
        for (what, blocks, expected) in cases {
            let dir = tempfile::tempdir().unwrap();
            let target = open(dir.path());
            let (installed, _, stopped) = install(&target, blocks).unwrap();
            let stopped = stopped.unwrap_or_default();
            assert_eq!(installed, 2, "{what}: {stopped}");
            assert!(stopped.contains("block 3") && stopped.contains(expected), "{what}: {stopped}");
            assert_eq!(target.tip(), ChainTip::of(&source.store().block(2).unwrap().unwrap().header), "{what}");
            assert!(target.store().attestations(3).unwrap().is_empty(), "{what}");
        }
    }
}
