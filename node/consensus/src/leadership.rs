//! A leader that commits blocks later than a quorum of its followers hands its
//! role over.
//!
//! Raft keeps a leader for as long as its heartbeats flow, and a leader whose
//! disk has become slow still sends them. Its sequencer proposes a block only
//! once it has applied the previous one, so the whole ledger then commits at
//! the pace of that one disk (in the fault suite, from 156 to 10 tx/s), while
//! the followers, whose acknowledgements are what commits an entry, apply each
//! block in a moment.
//!
//! Followers attest every block they commit and send the attestation to every
//! member, so the leader learns when a quorum of the other voters holds a
//! height it has not applied yet. [`LagDetector`] turns that into a decision:
//! when, over [`WINDOW`] of leadership, most of the blocks the leader applied
//! (at least [`MIN_BLOCKS`]) had been attested by such a quorum at least
//! [`LAG`] earlier, or it applied nothing while such a quorum moved ahead, the
//! leader is the slow member and steps down. A healthy leader applies a block
//! before any follower even hears that it is committed, so it never lags.
//!
//! openraft 0.9 has no leadership transfer. [`run`] stops this node's
//! proposals (the sequencer puts them back, [`Leadership::handing_over`]),
//! turns its heartbeats and its own elections off, so that the followers'
//! election timers fire and one of them is elected (its log is as long: every
//! entry was committed by them), and turns both back on once another leader is
//! known, or after [`HANDOVER_WITHIN`] if none comes forward. A node restored
//! from a backup keeps its elections off until the restore gate lets them on
//! ([`crate::restore`]); it never hands over while that gate holds.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use billflow_chain::Chain;
use openraft::{Raft, ServerState};
use tokio::sync::Notify;

use crate::config::TypeConfig;
use crate::restore;

/// How long a leader is watched before it may step down.
pub(crate) const WINDOW: Duration = Duration::from_secs(5);
/// How much later than a quorum of followers a block must reach the leader to
/// count as late. A healthy leader applies a block before any follower's
/// attestation of it arrives (0 ms on every one of 800 blocks in the fault
/// suite, with two CPU hogs beside it); on a starved disk it applied each
/// block 64 to 300 ms after the followers, in two clusters around 70 and
/// 170 ms, so a threshold at 100 ms counted only about half of them.
pub(crate) const LAG: Duration = Duration::from_millis(40);
/// Fewer blocks than this in the window say nothing about the leader's pace.
pub(crate) const MIN_BLOCKS: usize = 5;
/// How long the handover waits for another leader before this node resumes.
pub(crate) const HANDOVER_WITHIN: Duration = Duration::from_secs(10);
/// How often the leader looks even when no block or attestation arrives.
const LOOK_EVERY: Duration = Duration::from_millis(100);

/// The height that a quorum of all `voters` holds without this node: the
/// quorum-th highest of the other voters' attested heights (`others`), or
/// `None` when the others alone are no quorum.
pub(crate) fn quorum_height(others: &[u64], voters: usize) -> Option<u64> {
    let quorum = voters / 2 + 1;
    if others.len() < quorum {
        return None;
    }
    let mut sorted = others.to_vec();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    sorted.get(quorum - 1).copied()
}

/// What [`LagDetector::observe`] concludes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The leader keeps pace, or there is not enough to judge yet.
    Keep,
    /// The leader lags a quorum of its followers.
    StepDown {
        /// Blocks applied in the window later than [`LAG`] after a quorum had them.
        late: usize,
        /// Blocks applied in the window.
        of: usize,
        /// How long the blocks applied in the window had been held by a
        /// quorum before, the median (or how long the oldest height not applied
        /// yet has been, when longer).
        median: Duration,
    },
}

/// Watches one leadership term: when this node applied each block compared
/// with when a quorum of the other voters had attested it.
#[derive(Debug, Default)]
pub(crate) struct LagDetector {
    /// When the watch began (leadership, or the last reset).
    since: Option<Instant>,
    /// The highest own height seen.
    own: u64,
    /// The highest quorum height seen.
    quorum: u64,
    /// Quorum heights this node has not applied yet, with when a quorum was
    /// first seen holding them (each stands for the heights above the one before).
    ahead: VecDeque<(u64, Instant)>,
    /// Each advance of this node's tip in the window: when, and how long a
    /// quorum had held the new height before (zero if it did not yet).
    applied: VecDeque<(Instant, Duration)>,
}

impl LagDetector {
    /// Starts afresh (a new term, or after a handover).
    pub(crate) fn reset(&mut self) {
        *self = LagDetector::default();
    }

    /// Takes what the leader sees at `now`: its own applied height and the
    /// height a quorum of the other voters attested (`None`: they are no quorum).
    pub(crate) fn observe(&mut self, now: Instant, own: u64, quorum: Option<u64>) -> Verdict {
        let since = *self.since.get_or_insert_with(|| {
            self.own = own;
            self.quorum = own;
            now
        });
        if let Some(q) = quorum {
            if q > self.quorum.max(own) {
                self.ahead.push_back((q, now));
            }
            self.quorum = self.quorum.max(q);
        }
        if own > self.own {
            // The front stands for the lowest heights a quorum held before this node.
            let waited = match self.ahead.front() {
                Some(&(_, seen)) => now.saturating_duration_since(seen),
                None => Duration::ZERO,
            };
            self.applied.push_back((now, waited));
            while self.ahead.front().is_some_and(|&(h, _)| h <= own) {
                self.ahead.pop_front();
            }
            self.own = own;
        }
        while self.applied.front().is_some_and(|&(at, _)| now.saturating_duration_since(at) > WINDOW) {
            self.applied.pop_front();
        }
        if now.saturating_duration_since(since) < WINDOW {
            return Verdict::Keep;
        }
        let waiting = self.ahead.front().map(|&(_, seen)| now.saturating_duration_since(seen)).unwrap_or_default();
        let late = self.applied.iter().filter(|(_, waited)| *waited >= LAG).count();
        let of = self.applied.len();
        let stalled = waiting >= WINDOW;
        let slow = of >= MIN_BLOCKS && late * 2 > of;
        if !(stalled || slow) {
            return Verdict::Keep;
        }
        let mut waits: Vec<Duration> = self.applied.iter().map(|(_, waited)| *waited).collect();
        waits.sort_unstable();
        let median = waits.get(waits.len() / 2).copied().unwrap_or_default().max(waiting);
        Verdict::StepDown { late, of, median }
    }
}

/// What the rest of the node shares with [`run`]: the heights the other
/// members attested, and whether a handover is under way.
#[derive(Debug, Default)]
pub(crate) struct Leadership {
    attested: Mutex<HashMap<String, u64>>,
    news: Notify,
    handing_over: AtomicBool,
}

impl Leadership {
    /// Records that member `node` attested a block at `height`.
    pub(crate) fn attested(&self, node: &str, height: u64) {
        let mut attested = self.attested.lock().unwrap_or_else(|p| p.into_inner());
        let highest = attested.entry(node.to_string()).or_default();
        if height > *highest {
            *highest = height;
            self.news.notify_one();
        }
    }

    /// Whether this node is handing leadership over: it must not propose.
    pub(crate) fn handing_over(&self) -> bool {
        self.handing_over.load(Ordering::Acquire)
    }

    fn highest(&self, node: &str) -> u64 {
        self.attested.lock().unwrap_or_else(|p| p.into_inner()).get(node).copied().unwrap_or(0)
    }
}

/// Watches this node while it leads and hands leadership over when it lags
/// (see the module documentation). Runs until Raft stops.
pub(crate) async fn run(raft: Raft<TypeConfig>, chain: Chain, shared: std::sync::Arc<Leadership>) {
    let me = raft.metrics().borrow().id;
    let mut tip = chain.subscribe_durable();
    let mut detector = LagDetector::default();
    loop {
        tokio::select! {
            changed = tip.changed() => if changed.is_err() { return },
            _ = shared.news.notified() => {}
            _ = tokio::time::sleep(LOOK_EVERY) => {}
        }
        let (leading, others, voters) = {
            let metrics = raft.metrics();
            let m = metrics.borrow();
            if m.running_state.is_err() {
                return;
            }
            let membership = m.membership_config.membership();
            let others: Vec<String> = membership
                .voter_ids()
                .filter(|id| *id != me)
                .filter_map(|id| membership.get_node(&id).map(|n| n.node_id.clone()))
                .collect();
            (m.state == ServerState::Leader, others, membership.voter_ids().count())
        };
        if !leading {
            detector.reset();
            continue;
        }
        let heights: Vec<u64> = others.iter().map(|n| shared.highest(n)).collect();
        let own = chain.durable_tip().height;
        if let Verdict::StepDown { late, of, median } =
            detector.observe(Instant::now(), own, quorum_height(&heights, voters))
        {
            tracing::warn!(
                late,
                of,
                median_ms = median.as_millis() as u64,
                height = own,
                "this leader commits blocks later than a quorum of its followers; handing leadership over"
            );
            hand_over(&raft, &chain, &shared, me).await;
            detector.reset();
        }
    }
}

async fn hand_over(raft: &Raft<TypeConfig>, chain: &Chain, shared: &Leadership, me: u64) {
    // A restored node's elections belong to the restore gate until it lets
    // them on; the marker never comes back while the node runs, so if it is
    // gone now, turning elections back on below cannot overrule the gate.
    match restore::marker(chain.store()) {
        Ok(None) => {}
        Ok(Some(_)) => {
            tracing::info!("restored from a backup and not yet past it: leadership stays");
            return;
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot read the restore marker: leadership stays");
            return;
        }
    }
    let started = Instant::now();
    shared.handing_over.store(true, Ordering::Release);
    let runtime = raft.runtime_config();
    runtime.elect(false);
    runtime.heartbeat(false);
    let mut metrics = raft.metrics();
    let followed =
        tokio::time::timeout(HANDOVER_WITHIN, metrics.wait_for(|m| m.current_leader.is_some_and(|l| l != me))).await;
    runtime.heartbeat(true);
    runtime.elect(true);
    shared.handing_over.store(false, Ordering::Release);
    match followed {
        Ok(Ok(m)) => {
            let leader = m
                .current_leader
                .and_then(|l| m.membership_config.membership().get_node(&l).map(|n| n.node_id.clone()))
                .unwrap_or_default();
            tracing::info!(%leader, after_ms = started.elapsed().as_millis() as u64, "leadership handed over");
        }
        Ok(Err(_)) => {}
        Err(_) => {
            tracing::warn!(within_s = HANDOVER_WITHIN.as_secs(), "no other leader came forward; this node leads on")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quorum_without_this_node_needs_enough_other_voters() {
        let rows: &[(&[u64], usize, Option<u64>)] = &[
            (&[5, 7], 3, Some(5)),
            (&[7], 3, None),
            (&[9, 8, 7, 6], 5, Some(7)),
            (&[4, 9, 6], 4, Some(4)),
            (&[], 1, None),
            (&[3], 2, None),
        ];
        for (others, voters, expected) in rows {
            assert_eq!(quorum_height(others, *voters), *expected, "others {others:?} of {voters} voters");
        }
    }

    /// `blocks` blocks, one every `every_ms`: a quorum of followers attests
    /// block k at k × `every_ms`, the leader applies it `leader_after_ms`
    /// later (earlier if negative). The detector looks at every event and
    /// every 100 ms, as [`run`] does; the first step-down or the last verdict.
    fn watch(blocks: u64, every_ms: i64, leader_after_ms: i64) -> Verdict {
        let mut events: Vec<(i64, bool, u64)> = Vec::new();
        for k in 1..=blocks {
            let at = k as i64 * every_ms;
            events.push((at, false, k));
            events.push((at + leader_after_ms, true, k));
        }
        let end = events.iter().map(|e| e.0).max().unwrap_or(0) + 100;
        events.extend((0..end).step_by(100).map(|t| (t, false, 0)));
        events.sort();
        let base = Instant::now();
        let (mut own, mut quorum) = (0, 0);
        let mut detector = LagDetector::default();
        let mut verdict = Verdict::Keep;
        for (t, leader, k) in events {
            if leader {
                own = own.max(k)
            } else {
                quorum = quorum.max(k)
            }
            let now = base + Duration::from_millis(t.max(0) as u64);
            verdict = detector.observe(now, own, Some(quorum));
            if verdict != Verdict::Keep {
                break;
            }
        }
        verdict
    }

    fn steps_down(v: &Verdict) -> bool {
        matches!(v, Verdict::StepDown { .. })
    }

    #[test]
    fn only_a_leader_that_lags_a_quorum_steps_down() {
        let rows: &[(&str, u64, i64, i64, bool)] = &[
            // name, blocks, one every (ms), the leader applies each after (ms), steps down
            ("healthy: the leader applies before the followers hear of the commit", 100, 50, -20, false),
            ("a busy healthy leader trails by a few milliseconds", 100, 50, 10, false),
            ("slower, but by less than LAG", 40, 200, 30, false),
            ("a starved disk: every block 70 ms after the followers", 20, 300, 70, true),
            ("a slow disk: every block 300 ms after the followers", 14, 500, 300, true),
            ("lagging, but not yet for a whole window", 8, 500, 300, false),
            ("lagging on too few blocks to judge", 4, 1500, 300, false),
        ];
        for (name, blocks, every, after, expected) in rows {
            let verdict = watch(*blocks, *every, *after);
            assert_eq!(steps_down(&verdict), *expected, "{name}: {verdict:?}");
        }
    }

    #[test]
    fn half_late_is_not_most() {
        let base = Instant::now();
        let at = |ms: u64| base + Duration::from_millis(ms);
        let mut d = LagDetector::default();
        d.observe(at(0), 0, Some(0));
        // Ten blocks: odd ones reach a quorum 200 ms before the leader, even ones after it.
        for k in 1..=10u64 {
            let t = k * 450;
            if k % 2 == 1 {
                d.observe(at(t), k - 1, Some(k));
                d.observe(at(t + 200), k, Some(k));
            } else {
                d.observe(at(t), k, Some(k - 1));
                d.observe(at(t + 10), k, Some(k));
            }
        }
        assert_eq!(d.observe(at(5_000), 10, Some(10)), Verdict::Keep);
        // One more late block tips it.
        d.observe(at(5_010), 10, Some(11));
        let v = d.observe(at(5_250), 11, Some(11));
        assert!(steps_down(&v), "{v:?}");
    }

    #[test]
    fn a_leader_stuck_while_a_quorum_moves_on_steps_down() {
        let base = Instant::now();
        let mut d = LagDetector::default();
        d.observe(base, 10, Some(10));
        d.observe(base + Duration::from_millis(100), 10, Some(11));
        assert_eq!(d.observe(base + Duration::from_millis(5_000), 10, Some(12)), Verdict::Keep);
        let v = d.observe(base + Duration::from_millis(5_200), 10, Some(12));
        assert_eq!(v, Verdict::StepDown { late: 0, of: 0, median: Duration::from_millis(5_100) });
    }

    #[test]
    fn nothing_to_compare_keeps_the_leader() {
        let base = Instant::now();
        let mut d = LagDetector::default();
        // An idle ledger, then followers that are no quorum without this node.
        for t in 0..100 {
            assert_eq!(d.observe(base + Duration::from_millis(t * 100), 7, Some(7)), Verdict::Keep);
        }
        for t in 100..200 {
            assert_eq!(d.observe(base + Duration::from_millis(t * 100), 7 + t / 10, None), Verdict::Keep);
        }
    }

    #[test]
    fn a_reset_starts_a_new_window() {
        let base = Instant::now();
        let mut d = LagDetector::default();
        d.observe(base, 10, Some(11));
        d.reset();
        let v = d.observe(base + Duration::from_millis(5_200), 10, Some(11));
        assert_eq!(v, Verdict::Keep, "a fresh watch needs a whole window first");
    }

    #[test]
    fn the_shared_state_keeps_each_members_highest_attestation() {
        let shared = Leadership::default();
        shared.attested("notary-a-1", 5);
        shared.attested("notary-a-1", 3);
        shared.attested("bank-b-1", 4);
        assert_eq!((shared.highest("notary-a-1"), shared.highest("bank-b-1"), shared.highest("x")), (5, 4, 0));
        assert!(!shared.handing_over());
    }
}
