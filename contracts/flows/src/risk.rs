//! Risk: per-party limits, the blacklist and burst checks. A rule that fires
//! emits a `risk.alert` naming the rule and the facts, and the action is
//! refused; the host keeps the alert in the refused transaction's receipt.

use alloc::format;
use alloc::string::String;

use billflow_finance::Date;

use crate::codes::*;
use crate::ledger::{Cx, Out, Refusal, check_text, keys, ok, owned};
use crate::types::*;

/// Emits an alert for `rule` and returns the refusal to go with it.
pub(crate) fn alert(cx: &mut Cx<'_>, rule: &str, party: &str, code: &'static str, facts: String) -> Refusal {
    let event = RiskAlert {
        rule: owned(rule),
        party: owned(party),
        key_id: cx.env.caller.key_id.clone(),
        method: owned(cx.method),
        facts: facts.clone(),
    };
    cx.emit(topics::RISK_ALERT, &event);
    Refusal::new(code, facts)
}

/// `E_BLACKLISTED` (with an alert) if `party` is on the blacklist.
pub(crate) fn not_blacklisted(cx: &mut Cx<'_>, party: &str, role: &str) -> Result<(), Refusal> {
    if let Some(reason) = cx.get::<String>(&keys::blacklist(party))? {
        return Err(alert(cx, "blacklist", party, E_BLACKLISTED, format!("{role} {party} is blacklisted: {reason}")));
    }
    Ok(())
}

/// The checks before any action of `party`: not blacklisted; the signing key
/// not over the burst limit (and counts this action).
pub(crate) fn admit(cx: &mut Cx<'_>, party: &str) -> Result<(), Refusal> {
    not_blacklisted(cx, party, "party")?;
    let key = keys::burst(&cx.env.caller.key_id);
    let now = cx.env.time_ms;
    let (start, count) = match cx.get::<(u64, u32)>(&key)? {
        Some((start, count)) if now.saturating_sub(start) < cx.config.burst_window_ms => (start, count),
        _ => (now, 0),
    };
    if cx.config.burst_max_actions > 0 && count >= cx.config.burst_max_actions {
        let facts = format!(
            "key {} made {count} actions within {} ms (limit {})",
            cx.env.caller.key_id, cx.config.burst_window_ms, cx.config.burst_max_actions
        );
        return Err(alert(cx, "burst", party, E_BURST, facts));
    }
    cx.put(&key, &(start, count + 1));
    Ok(())
}

/// A party's limits: its own, or the configuration's defaults.
pub(crate) fn limits(cx: &Cx<'_>, party: &str) -> Result<Limits, Refusal> {
    Ok(cx.get(&keys::limits(party))?.unwrap_or(cx.config.limits))
}

/// Counts a discount of `amount` against `party`'s daily limit.
pub(crate) fn count_discount(cx: &mut Cx<'_>, party: &str, amount: u64) -> Result<(), Refusal> {
    let key = keys::daily_discount(party, cx.today());
    let used: u64 = cx.get(&key)?.unwrap_or(0);
    let limit = limits(cx, party)?.daily_discount_fen;
    let total = used.saturating_add(amount);
    if limit > 0 && total > limit {
        let facts =
            format!("{party} asks to discount {amount} fen today with {used} fen asked already; the limit is {limit}");
        return Err(alert(cx, "daily_discount_limit", party, E_LIMIT_EXCEEDED, facts));
    }
    cx.put(&key, &total);
    Ok(())
}

/// Gives back to `party`'s limit of `day` a discount of `amount` that did not
/// happen (refused, withdrawn, expired, or its disbursement failed).
pub(crate) fn uncount_discount(cx: &mut Cx<'_>, party: &str, day: Date, amount: u64) -> Result<(), Refusal> {
    let key = keys::daily_discount(party, day);
    let used: u64 = cx.get(&key)?.unwrap_or(0);
    cx.put(&key, &used.saturating_sub(amount));
    Ok(())
}

/// Counts a new open request of `party` against its limit.
pub(crate) fn open_request(cx: &mut Cx<'_>, party: &str) -> Result<(), Refusal> {
    let key = keys::open_requests(party);
    let open: u32 = cx.get(&key)?.unwrap_or(0);
    let limit = limits(cx, party)?.max_open_requests;
    if limit > 0 && open >= limit {
        let facts = format!("{party} has {open} requests open; the limit is {limit}");
        return Err(alert(cx, "open_requests", party, E_LIMIT_EXCEEDED, facts));
    }
    cx.put(&key, &(open + 1));
    Ok(())
}

/// A request of `party` closed.
pub(crate) fn close_request(cx: &mut Cx<'_>, party: &str) -> Result<(), Refusal> {
    let key = keys::open_requests(party);
    let open: u32 = cx.get(&key)?.unwrap_or(0);
    cx.put(&key, &open.saturating_sub(1));
    Ok(())
}

/// `risk.set_limits`.
pub(crate) fn set_limits(cx: &mut Cx<'_>, a: SetLimits) -> Out {
    cx.require_admin()?;
    cx.party(&a.party)?;
    cx.put(&keys::limits(&a.party), &a.limits);
    ok(&())
}

/// `risk.blacklist`.
pub(crate) fn blacklist(cx: &mut Cx<'_>, a: Blacklist) -> Out {
    cx.require_admin()?;
    cx.party(&a.party)?;
    check_text("the reason", &a.reason, 200)?;
    cx.put(&keys::blacklist(&a.party), &a.reason);
    ok(&())
}

/// `risk.unblacklist`.
pub(crate) fn unblacklist(cx: &mut Cx<'_>, a: ById) -> Out {
    cx.require_admin()?;
    cx.party(&a.id)?;
    cx.delete(&keys::blacklist(&a.id));
    ok(&())
}
