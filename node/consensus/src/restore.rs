//! A voter rebuilt from a backup, made ready for Raft.
//!
//! A backup holds blocks, and with each block the log id of the Raft entry it
//! applied; it holds no Raft log, no vote and no committed index. openraft
//! reads such a store as "applied up to the last block, never voted", and a
//! node that never voted campaigns in a term below its own last entry's, which
//! openraft refuses as a broken invariant. [`prepare`] writes what the store
//! must hold: a vote in the last entry's term (not granted to anyone, so the
//! node can still vote in a later term), the last block's log id as committed
//! (every block in a backup was committed), and a restore marker.
//!
//! When every voter was restored, each from its own backup, the backups end at
//! different heights. Raft's election rule alone would let two voters restored
//! from older backups elect each other and write over the newest backup's
//! blocks at the same indexes. So a restored voter starts with elections off
//! (`Gate`): it asks every voter for its height, and only the voter holding
//! the highest chain (the lowest node id among equals) turns elections on,
//! once every voter has answered and none knows a leader. The others vote for
//! it (its log is the longest) and catch up from it. Once a restored node has
//! applied an entry past its backup, or follows a leader, the consortium runs
//! again: the marker is cleared and elections are back on. A voter restored while the others run
//! finds a leader and simply follows it.

use billflow_storage::{RaftValue, Store};
use openraft::{LogId, Vote};

use crate::config::{decode, encode};
use crate::state_machine::APPLIED;

/// Meta key of the restore marker: the log id the backup ended at, or `None`
/// once the node has applied past it.
pub(crate) const RESTORED: &str = "raft/restored";

/// Why a restored store could not be prepared for Raft.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    /// Reading or writing the store.
    #[error(transparent)]
    Storage(#[from] billflow_storage::StorageError),
    /// The store's consensus metadata does not decode.
    #[error("the restored store's {what} is unreadable: {reason}")]
    Corrupt {
        /// Which value.
        what: &'static str,
        /// The decoder's complaint.
        reason: String,
    },
}

/// Where a restored store ends, as Raft sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestoredPoint {
    /// The Raft term of the last restored block's entry (0 for genesis only).
    pub term: u64,
    /// Its Raft log index.
    pub index: u64,
}

/// Writes the vote, the committed log id and the restore marker into a store
/// just rebuilt from a backup. Returns the point the backup ends at, or `None`
/// when the backup holds genesis alone (nothing for Raft to know).
pub fn prepare(store: &Store) -> Result<Option<RestoredPoint>, RestoreError> {
    let Some(last) = applied(store)? else { return Ok(None) };
    let vote = Vote::new(last.leader_id.term, last.leader_id.node_id);
    store.put_raft_value(RaftValue::Vote, &encode(&vote))?;
    store.put_raft_value(RaftValue::Committed, &encode(&Some(last)))?;
    store.put_meta(&[(RESTORED.to_string(), encode(&Some(last)))])?;
    Ok(Some(RestoredPoint { term: last.leader_id.term, index: last.index }))
}

/// After blocks were installed from peers ([`crate::sync`]): makes the vote
/// at least the term of the last applied entry, as [`prepare`] does for a
/// backup, so that the node never campaigns in a term below its own last
/// entry's. A vote already that high stays as it is.
pub(crate) fn raise_vote(store: &Store) -> Result<(), RestoreError> {
    let Some(last) = applied(store)? else { return Ok(()) };
    let current: Option<Vote<u64>> = match store.raft_value(RaftValue::Vote)? {
        Some(bytes) => Some(decode(&bytes).map_err(|e| RestoreError::Corrupt { what: "vote", reason: e.to_string() })?),
        None => None,
    };
    if current.is_none_or(|v| v.leader_id().term < last.leader_id.term) {
        let vote = Vote::new(last.leader_id.term, last.leader_id.node_id);
        store.put_raft_value(RaftValue::Vote, &encode(&vote))?;
    }
    Ok(())
}

/// The last applied log id recorded in `store`.
fn applied(store: &Store) -> Result<Option<LogId<u64>>, RestoreError> {
    match store.meta(APPLIED)? {
        Some(bytes) => decode(&bytes)
            .map(Some)
            .map_err(|e| RestoreError::Corrupt { what: "applied log id", reason: e.to_string() }),
        None => Ok(None),
    }
}

/// The restore marker of `store`: the log id its backup ended at, while the
/// node has not yet applied past it.
pub(crate) fn marker(store: &Store) -> Result<Option<LogId<u64>>, RestoreError> {
    match store.meta(RESTORED)? {
        Some(bytes) => decode::<Option<LogId<u64>>>(&bytes)
            .map_err(|e| RestoreError::Corrupt { what: "restore marker", reason: e.to_string() }),
        None => Ok(None),
    }
}

/// Clears the restore marker: the node has applied past its backup.
pub(crate) fn clear(store: &Store) -> Result<(), RestoreError> {
    store.put_meta(&[(RESTORED.to_string(), encode(&None::<LogId<u64>>))])?;
    Ok(())
}

/// One voter's chain position, as it answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Position {
    /// Its node id.
    pub node_id: String,
    /// Its committed height.
    pub height: u64,
    /// Whether it knows a leader.
    pub has_leader: bool,
}

/// The restored voters' agreement on who may campaign.
#[derive(Debug)]
pub(crate) enum Gate {
    /// Some voter did not answer: it may hold the newest chain, so wait.
    Waiting,
    /// A leader is known somewhere: follow it, campaign never.
    LeaderKnown,
    /// This node holds the newest chain: it campaigns.
    Campaign,
    /// Another voter holds the newest chain: vote for it.
    Defer {
        /// The voter that campaigns.
        to: String,
    },
}

impl Gate {
    /// Decides from this node's position and every other voter's answer
    /// (`None` where a voter did not answer).
    pub(crate) fn decide(me: &Position, others: &[Option<Position>]) -> Gate {
        if me.has_leader || others.iter().flatten().any(|p| p.has_leader) {
            return Gate::LeaderKnown;
        }
        if others.iter().any(Option::is_none) {
            return Gate::Waiting;
        }
        // Highest chain first; among equals the lowest node id.
        let best = others
            .iter()
            .flatten()
            .chain(std::iter::once(me))
            .min_by(|a, b| b.height.cmp(&a.height).then_with(|| a.node_id.cmp(&b.node_id)));
        match best {
            Some(p) if p.node_id == me.node_id => Gate::Campaign,
            Some(p) => Gate::Defer { to: p.node_id.clone() },
            None => Gate::Campaign,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(node: &str, height: u64) -> Position {
        Position { node_id: node.into(), height, has_leader: false }
    }

    #[test]
    fn only_the_newest_chain_campaigns_once_every_voter_answered() {
        let cases: Vec<(&str, Position, Vec<Option<Position>>, &str)> = vec![
            ("newest campaigns", at("n3", 376), vec![Some(at("n1", 125)), Some(at("n2", 251))], "campaign"),
            ("older defers", at("n1", 125), vec![Some(at("n2", 251)), Some(at("n3", 376))], "defer n3"),
            ("middle defers", at("n2", 251), vec![Some(at("n1", 125)), Some(at("n3", 376))], "defer n3"),
            ("a silent voter may be newer", at("n3", 376), vec![Some(at("n1", 125)), None], "wait"),
            ("equal heights: lowest id", at("n2", 300), vec![Some(at("n1", 300)), Some(at("n3", 300))], "defer n1"),
            ("equal heights: lowest id campaigns", at("n1", 300), vec![Some(at("n2", 300))], "campaign"),
            (
                "a leader somewhere",
                at("n3", 376),
                vec![Some(Position { has_leader: true, ..at("n1", 125) }), None],
                "leader",
            ),
            ("alone in the membership", at("n1", 5), vec![], "campaign"),
        ];
        for (what, me, others, expected) in cases {
            let got = match Gate::decide(&me, &others) {
                Gate::Waiting => "wait".to_string(),
                Gate::LeaderKnown => "leader".to_string(),
                Gate::Campaign => "campaign".to_string(),
                Gate::Defer { to } => format!("defer {to}"),
            };
            assert_eq!(got, expected, "{what}");
        }
    }

    #[tokio::test]
    async fn prepare_writes_the_vote_the_committed_id_and_the_marker() {
        use billflow_chain::{Chain, ChainConfig};
        use billflow_types::ConsensusRef;
        use billflow_types::dev::{dev_genesis, dev_registration};

        let dir = tempfile::tempdir().unwrap();
        let config = ChainConfig { node_id: "n1".parse().unwrap(), mempool_capacity: 100 };
        let chain = Chain::open(Store::open(dir.path()).unwrap(), &dev_genesis(), config).unwrap();
        assert!(prepare(chain.store()).unwrap().is_none(), "genesis alone has nothing for Raft");

        let submitted = chain.submit(dev_registration(1, billflow_chain::now_ms())).unwrap();
        assert!(submitted.is_ok());
        let proposal = chain.next_proposal().await;
        let last = LogId::new(openraft::CommittedLeaderId::new(7, 42), 19);
        chain
            .apply(&proposal, ConsensusRef { term: 7, index: 19 }, vec![(APPLIED.to_string(), encode(&last))])
            .unwrap();

        let point = prepare(chain.store()).unwrap().unwrap();
        assert_eq!(point, RestoredPoint { term: 7, index: 19 });
        let vote: Vote<u64> = decode(&chain.store().raft_value(RaftValue::Vote).unwrap().unwrap()).unwrap();
        assert_eq!(vote, Vote::new(7, 42));
        assert!(!vote.is_committed(), "the restored vote grants nothing");
        let committed: Option<LogId<u64>> =
            decode(&chain.store().raft_value(RaftValue::Committed).unwrap().unwrap()).unwrap();
        assert_eq!(committed, Some(last));
        assert_eq!(marker(chain.store()).unwrap(), Some(last));
        clear(chain.store()).unwrap();
        assert_eq!(marker(chain.store()).unwrap(), None);
    }
}
