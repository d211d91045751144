//! Bills: the package, its sub-range holdings, and every transition of the
//! life cycle (domain.md, "Bill flow"), with discount's trade-background
//! checks and instant approval.
//!
//! A request (acceptance, delivery, endorsement, pledge, release, discount,
//! rediscount, presentment, recourse) locks its sub-range, or the whole bill
//! before it circulates, until the counterparty signs or refuses, the
//! requester withdraws, or its business day ends. A signed discount,
//! presentment or recourse waits on its fund movement; the movement's outcome
//! finishes it ([`funds_settled`]).

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use billflow_finance::{Date, Fen, RatePpm};

use crate::codes::*;
use crate::ledger::{Cx, MAX_AMOUNT, Out, Refusal, check_amount, check_text, encode, ensure, keys, ok, owned, stored};
use crate::order::{invoice_event, load as load_order, load_invoice};
use crate::types::*;
use crate::{fund, risk};

/// The most entries a list query returns.
pub const MAX_PAGE: u32 = 100;
/// The most history entries `bill.get` returns.
pub const MAX_HISTORY: u32 = 1000;

// ------------------------------------------------------------- helpers

// A circulating bill's holdings are stored apart from it, one key each by
// its last unit ([`keys::holding`]), so that a transition reads and writes
// only the sub-ranges it touches: a bill split into thousands of holdings
// costs a step what a whole one does. A bill being changed carries in
// `holdings` only those it has loaded, in unit order; [`save`] writes them
// back. A bill stored with its holdings inline (before they moved out) loads
// them all and moves them out at its next save.

/// A bill as stored, its holdings not loaded (`E_UNKNOWN_BILL`).
pub(crate) fn load(cx: &Cx<'_>, number: &str) -> Result<Bill, Refusal> {
    cx.get(&keys::bill(number))?.ok_or_else(|| Refusal::new(E_UNKNOWN_BILL, format!("no bill {number}")))
}

/// A bill with all its holdings, as queries show it.
pub(crate) fn load_whole(cx: &Cx<'_>, number: &str) -> Result<Bill, Refusal> {
    let mut bill = load(cx, number)?;
    with_holdings(cx, &mut bill)?;
    Ok(bill)
}

/// Fills in every holding of `bill`, in unit order.
fn with_holdings(cx: &Cx<'_>, bill: &mut Bill) -> Result<(), Refusal> {
    if bill.holdings.is_empty() {
        // Otherwise they were stored inline, and are all here.
        bill.holdings = cx.scan_all(&keys::holding_prefix(&bill.number))?;
    }
    Ok(())
}

/// The index in `bill.holdings` of the holding that holds `unit`, loading it
/// if it is not loaded yet; `None` if no holding does.
fn holding_at(cx: &Cx<'_>, bill: &mut Bill, unit: u64) -> Result<Option<usize>, Refusal> {
    holding_at_hinted(cx, bill, unit, None)
}

/// [`holding_at`], told the holding's last unit when the caller knows it:
/// holdings are stored under their last unit, so that is one point read of
/// the key instead of a range read (a range read seeks in every table of the
/// index, a point read skips most by their filters). The same holding
/// either way: stored holdings never overlap, so none is stored under a key
/// between `unit` and the last unit of the one that holds it. A wrong hint
/// costs the point read, then the range read.
///
/// Without a hint, or with a wrong one, the bill's last holding is tried
/// next, by its key (the bill's last unit), unless it is loaded already: a
/// transfer takes units from the front of a holding, so what a holder keeps
/// as they endorse, discount or pledge part after part is the bill's tail,
/// and each next part starts there.
fn holding_at_hinted(cx: &Cx<'_>, bill: &mut Bill, unit: u64, last: Option<u64>) -> Result<Option<usize>, Refusal> {
    let at = bill.holdings.partition_point(|h| h.end < unit);
    if bill.holdings.get(at).is_some_and(|h| h.start <= unit) {
        return Ok(Some(at));
    }
    if unit == 0 {
        return Ok(None);
    }
    let tail_loaded = bill.holdings.last().is_some_and(|h| h.end == bill.amount);
    let tail = (!tail_loaded && last != Some(bill.amount)).then_some(bill.amount);
    for last in [last, tail].into_iter().flatten().filter(|&l| l >= unit) {
        if let Some(h) = cx.get::<Holding>(&keys::holding(&bill.number, last))? {
            if h.start <= unit && h.end == last {
                bill.holdings.insert(at, h);
                return Ok(Some(at));
            }
        }
    }
    let prefix = keys::holding_prefix(&bill.number);
    let Some((key, value)) = cx.scan(&prefix, Some(&keys::unit(unit - 1)), 1).into_iter().next() else {
        return Ok(None);
    };
    let h: Holding = stored(&format!("{prefix}{key}"), &value)?;
    if h.start > unit {
        return Ok(None);
    }
    bill.holdings.insert(at, h);
    Ok(Some(at))
}

/// A bill about to change: requests of past business days end first, on the
/// bill's first change of the day. After that none is left until tomorrow (a
/// request is of the day it was opened, and block time never goes back), and
/// the scan is skipped: a busy bill's requests come and go, and a scan of its
/// open requests walks the index's traces of every one that went.
fn load_for_write(cx: &mut Cx<'_>, number: &str) -> Result<Bill, Refusal> {
    let mut bill = load(cx, number)?;
    let today = cx.today();
    let swept = keys::bill_swept(number);
    if cx.get::<Date>(&swept)? == Some(today) {
        return Ok(bill);
    }
    for (id, _) in cx.scan(&keys::bill_request_prefix(number), None, 1000) {
        let req = load_request(cx, &id)?;
        if req.status == "pending" && req.day < today {
            expire(cx, &mut bill, req)?;
        }
    }
    cx.put(&swept, &today);
    Ok(bill)
}

/// Stores `bill`, and those of its loaded holdings that changed under their own keys.
fn save(cx: &mut Cx<'_>, bill: &Bill) {
    // Only the few holdings a step loaded are cloned here.
    let stored = Bill { holdings: Vec::new(), ..bill.clone() };
    cx.put(&keys::bill(&bill.number), &stored);
    for h in &bill.holdings {
        let key = keys::holding(&bill.number, h.end);
        let value = encode(h);
        if cx.store.get(key.as_bytes()).as_deref() != Some(value.as_slice()) {
            cx.store.put(key.as_bytes(), &value);
        }
    }
}

/// A request (`E_UNKNOWN_REQUEST`).
pub(crate) fn load_request(cx: &Cx<'_>, id: &str) -> Result<Request, Refusal> {
    cx.get(&keys::request(id))?.ok_or_else(|| Refusal::new(E_UNKNOWN_REQUEST, format!("no request {id}")))
}

fn save_request(cx: &mut Cx<'_>, req: &Request) {
    cx.put(&keys::request(&req.id), req);
}

/// Lets `party` see `bill`.
fn see(cx: &mut Cx<'_>, party: &str, bill: &str) {
    // Nearly every step names parties that see the bill already: a read
    // costs less than writing the same nothing again into the block.
    let key = keys::visible(party, bill);
    if !cx.exists(&key) {
        cx.put(&key, &());
    }
}

/// What one history step says.
struct Step<'a> {
    action: &'a str,
    actor: &'a str,
    counterparty: Option<&'a str>,
    range: (u64, u64),
    request: Option<&'a str>,
    movement: Option<&'a str>,
    note: String,
}

impl<'a> Step<'a> {
    fn new(action: &'a str, actor: &'a str, range: (u64, u64)) -> Step<'a> {
        Step { action, actor, counterparty: None, range, request: None, movement: None, note: String::new() }
    }
    fn with(mut self, counterparty: &'a str) -> Step<'a> {
        self.counterparty = Some(counterparty);
        self
    }
    fn req(mut self, id: &'a str) -> Step<'a> {
        self.request = Some(id);
        self
    }
    fn note(mut self, note: String) -> Step<'a> {
        self.note = note;
        self
    }
}

/// Appends a step to `bill`'s history and emits it.
fn record(cx: &mut Cx<'_>, bill: &mut Bill, step: Step<'_>) {
    let entry = HistoryEntry {
        bill: bill.number.clone(),
        seq: bill.history_len,
        height: cx.env.height,
        time_ms: cx.env.time_ms,
        tx_id: cx.env.tx_id.clone(),
        action: owned(step.action),
        actor: owned(step.actor),
        counterparty: step.counterparty.map(owned),
        start: step.range.0,
        end: step.range.1,
        request: step.request.map(owned),
        movement: step.movement.map(owned),
        note: step.note,
    };
    bill.history_len += 1;
    cx.put(&keys::history(&bill.number, entry.seq), &entry);
    cx.emit(topics::BILL, &entry);
    see(cx, step.actor, &bill.number);
    if let Some(c) = step.counterparty {
        see(cx, c, &bill.number);
    }
}

/// Opens a request from `from` to `to` with the transaction's id.
fn open(
    cx: &mut Cx<'_>,
    bill: &str,
    kind: RequestKind,
    range: (u64, u64),
    from: &str,
    to: &str,
) -> Result<Request, Refusal> {
    risk::open_request(cx, from)?;
    let req = Request {
        id: cx.env.tx_id.clone(),
        kind,
        bill: owned(bill),
        start: range.0,
        end: range.1,
        from: owned(from),
        to: owned(to),
        day: cx.today(),
        height: cx.env.height,
        status: owned("pending"),
    };
    ensure!(!cx.exists(&keys::request(&req.id)), E_DUPLICATE, "request {} exists already", req.id);
    save_request(cx, &req);
    cx.put(&keys::request_day(req.day, &req.id), &());
    cx.put(&keys::bill_request(bill, &req.id), &());
    cx.put(&keys::inbox(to, &req.id), &());
    see(cx, to, bill);
    Ok(req)
}

/// Ends a request with `status`.
fn close(cx: &mut Cx<'_>, req: &mut Request, status: &str) -> Result<(), Refusal> {
    cx.delete(&keys::request_day(req.day, &req.id));
    cx.delete(&keys::bill_request(&req.bill, &req.id));
    cx.delete(&keys::inbox(&req.to, &req.id));
    req.status = owned(status);
    save_request(cx, req);
    risk::close_request(cx, &req.from)
}

/// The holding a request locks: the one its range starts (a lock splits the
/// holding to the request's range).
fn locked_holding(cx: &Cx<'_>, bill: &mut Bill, req: &Request) -> Result<usize, Refusal> {
    holding_at_hinted(cx, bill, req.start, Some(req.end))?
        .filter(|&i| bill.holdings[i].locked_by.as_deref() == Some(req.id.as_str()))
        .ok_or_else(|| {
            Refusal::new("E_CORRUPT_STATE", format!("no holding of bill {} is locked by {}", bill.number, req.id))
        })
}

/// The index of the holding that is exactly `range` once [`split`]; checks that
/// `range` lies in one holding, starts at its first unit, and respects the
/// bill's splittability. `who` must hold it, unless `any_holder`.
fn locate(cx: &Cx<'_>, bill: &mut Bill, range: &Range, who: &str, any_holder: bool) -> Result<usize, Refusal> {
    // A bill that cannot be split moves whole: the holding ends where the range does.
    let last = (!bill.splittable).then_some(range.end);
    let i = holding_at_hinted(cx, bill, range.start, last)?.ok_or_else(|| {
        Refusal::new(E_SUBRANGE_NOT_CONTAINED, format!("unit {} is outside bill {}", range.start, bill.number))
    })?;
    let h = &bill.holdings[i];
    ensure!(
        any_holder || h.holder == who,
        E_WRONG_PARTY,
        "unit {} of bill {} is not held by {who}",
        range.start,
        bill.number
    );
    ensure!(
        range.start == h.start,
        E_SUBRANGE_START_MISMATCH,
        "a transfer takes a sub-range from the holding's first unit {}, not {}",
        h.start,
        range.start
    );
    ensure!(
        range.end >= range.start && range.end <= h.end,
        E_SUBRANGE_NOT_CONTAINED,
        "units {}..={} are not inside the holding {}..={}",
        range.start,
        range.end,
        h.start,
        h.end
    );
    ensure!(
        bill.splittable || range.end == h.end,
        E_BILL_NOT_SPLITTABLE,
        "bill {} was issued non-splittable: it moves whole",
        bill.number
    );
    Ok(i)
}

/// Splits holding `i` after unit `end` (the remainder stays with the holder).
fn split(bill: &mut Bill, i: usize, end: u64) {
    let h = &mut bill.holdings[i];
    if end < h.end {
        let mut rest = h.clone();
        rest.start = end + 1;
        h.end = end;
        bill.holdings.insert(i + 1, rest);
    }
}

/// Joins neighbouring free holdings that a refused or withdrawn split left
/// apart. No two stored neighbours are joinable after any transition, so only
/// the loaded holdings and their neighbours need a look, and only the
/// neighbours of a loaded holding that could join at all (free and held): a
/// pair of joinable holdings has such a loaded one, or neither changed. The
/// neighbour before a holding is the one stored under the unit before its
/// first.
fn merge(cx: &mut Cx<'_>, bill: &mut Bill) -> Result<(), Refusal> {
    let loaded: Vec<(u64, u64)> = bill.holdings.iter().filter(|h| joinable_kind(h)).map(|h| (h.start, h.end)).collect();
    for (start, end) in loaded {
        if start > 1 {
            holding_at_hinted(cx, bill, start - 1, Some(start - 1))?;
        }
        if end < bill.amount {
            holding_at(cx, bill, end + 1)?;
        }
    }
    let mut i = 0;
    while i + 1 < bill.holdings.len() {
        let (a, b) = (&bill.holdings[i], &bill.holdings[i + 1]);
        let joinable =
            joinable_kind(a) && joinable_kind(b) && a.holder == b.holder && a.chain == b.chain && a.end + 1 == b.start;
        if joinable {
            cx.delete(&keys::holding(&bill.number, bill.holdings[i].end));
            bill.holdings[i].end = bill.holdings[i + 1].end;
            bill.holdings.remove(i + 1);
        } else {
            i += 1;
        }
    }
    Ok(())
}

/// Whether a holding may join a neighbour at all: free and held.
fn joinable_kind(h: &Holding) -> bool {
    h.locked_by.is_none() && h.state == HoldingState::Held
}

/// The bill may change: not frozen, circulating.
fn circulating(bill: &Bill) -> Result<(), Refusal> {
    ensure!(
        bill.frozen.is_none(),
        E_BILL_FROZEN,
        "bill {} is frozen: {}",
        bill.number,
        bill.frozen.as_deref().unwrap_or("")
    );
    ensure!(bill.stage != BillStage::Cancelled, E_BILL_CANCELLED, "bill {} is cancelled", bill.number);
    ensure!(
        bill.stage == BillStage::Circulating,
        E_BILL_STATE,
        "bill {} has not reached its payee (it is {:?})",
        bill.number,
        bill.stage
    );
    Ok(())
}

/// The holding is held, free and unlocked.
fn free(cx: &Cx<'_>, h: &Holding) -> Result<(), Refusal> {
    match &h.state {
        HoldingState::Held => {}
        HoldingState::Pledged { pledgee } => {
            return Err(Refusal::new(
                E_BILL_PLEDGED,
                format!("units {}..={} are pledged to {pledgee}", h.start, h.end),
            ));
        }
        HoldingState::Settled => {
            return Err(Refusal::new(E_BILL_SETTLED, format!("units {}..={} are settled", h.start, h.end)));
        }
        other => return Err(Refusal::new(E_BILL_STATE, format!("units {}..={} are {other:?}", h.start, h.end))),
    }
    not_locked(cx, h)
}

/// `E_BILL_LOCKED`, or `E_FUNDS_STATUS_UNKNOWN` when the lock waits on an `unknown` movement.
fn not_locked(cx: &Cx<'_>, h: &Holding) -> Result<(), Refusal> {
    let Some(id) = &h.locked_by else { return Ok(()) };
    let waits_on_unknown = load_request(cx, id)
        .ok()
        .and_then(|r| waiting_movement(&r))
        .is_some_and(|m| fund::load(cx, &m).map(|m| m.status == MovementStatus::Unknown).unwrap_or(false));
    ensure!(
        !waits_on_unknown,
        E_FUNDS_STATUS_UNKNOWN,
        "units {}..={} wait on a fund movement whose status is unknown (request {id})",
        h.start,
        h.end
    );
    Err(Refusal::new(E_BILL_LOCKED, format!("units {}..={} are locked by request {id}", h.start, h.end)))
}

/// The movement a request waits on, if it does.
fn waiting_movement(req: &Request) -> Option<String> {
    if req.status != "awaiting_funds" {
        return None;
    }
    match &req.kind {
        RequestKind::Discount(t) => t.disbursement.clone(),
        RequestKind::Presentment { .. } | RequestKind::Recourse => Some(movement_id(&req.id, "pay")),
        _ => None,
    }
}

fn movement_id(request: &str, what: &str) -> String {
    format!("{request}.{what}")
}

fn before_due(cx: &Cx<'_>, bill: &Bill, code: &'static str, what: &str) -> Result<(), Refusal> {
    let today = cx.today();
    ensure!(today < bill.due_date, code, "{what} on {today} is not before the due date {}", bill.due_date);
    Ok(())
}

fn rate_ok(rate: RatePpm) -> Result<(), Refusal> {
    ensure!(rate.0 > 0 && rate.0 < 1_000_000, E_BAD_ARGS, "a rate is 1 to 999999 parts per million a year");
    Ok(())
}

// ------------------------------------------------------------- issue to delivery

/// `bill.issue`: the drawer issues a bill package.
pub(crate) fn issue(cx: &mut Cx<'_>, a: IssueBill) -> Out {
    let drawer = cx.actor()?;
    ensure!(
        a.number.len() == 30 && a.number.bytes().all(|b| b.is_ascii_digit()),
        E_BILL_NUMBER_INVALID,
        "a bill package number is 30 digits"
    );
    check_amount("the bill amount", a.amount)?;
    ensure!(
        a.due_date > a.issue_date,
        E_DUE_NOT_AFTER_ISSUE,
        "the due date {} is not after the issue date {}",
        a.due_date,
        a.issue_date
    );
    ensure!(
        a.due_date <= a.issue_date.plus_months(cx.config.max_tenor_months),
        E_TENOR_EXCEEDS_6M,
        "a bill runs at most {} months: {} to {} is longer",
        cx.config.max_tenor_months,
        a.issue_date,
        a.due_date
    );
    let today = cx.today();
    ensure!(a.issue_date <= today, E_DATE_INVALID, "the issue date {} is after today {today}", a.issue_date);
    ensure!(a.due_date > today, E_DATE_INVALID, "the due date {} has passed", a.due_date);
    let acceptor = cx.counterparty(&a.acceptor)?;
    let payee = cx.counterparty(&a.payee)?;
    let fits = match a.kind {
        BillKind::BankAcceptance => acceptor.kind == PartyKind::Bank,
        BillKind::FinanceCompanyAcceptance => acceptor.kind == PartyKind::FinanceCompany,
        BillKind::CommercialAcceptance | BillKind::SupplyChain => acceptor.kind == PartyKind::Enterprise,
    };
    ensure!(fits, E_ACCEPTOR_TYPE_MISMATCH, "a {:?} bill cannot be accepted by a {:?}", a.kind, acceptor.kind);
    ensure!(payee.id != drawer.id, E_SAME_PARTY, "the drawer cannot be its own payee");
    ensure!(!cx.exists(&keys::bill(&a.number)), E_DUPLICATE, "bill {} exists already", a.number);
    let mut bill = Bill {
        number: a.number,
        kind: a.kind,
        amount: a.amount,
        issue_date: a.issue_date,
        due_date: a.due_date,
        drawer: drawer.id.clone(),
        acceptor: acceptor.id.clone(),
        payee: payee.id.clone(),
        splittable: a.splittable,
        non_transferable: a.non_transferable,
        stage: BillStage::Issued,
        frozen: None,
        locked_by: None,
        holdings: Vec::new(),
        evidence: a.evidence,
        history_len: 0,
        height: cx.env.height,
    };
    let note = format!("{:?}, {} yuan, due {}", bill.kind, Fen(bill.amount), bill.due_date);
    record(cx, &mut bill, Step::new("issued", &drawer.id, (1, a.amount)).with(&payee.id).note(note));
    see(cx, &acceptor.id, &bill.number);
    save(cx, &bill);
    ok(&bill)
}

/// A whole-bill request by the drawer (acceptance, delivery).
fn drawer_request(cx: &mut Cx<'_>, a: ByBill, kind: RequestKind) -> Out {
    let drawer = cx.actor()?;
    let mut bill = load_for_write(cx, &a.bill)?;
    ensure!(bill.drawer == drawer.id, E_WRONG_PARTY, "only the drawer {} may do this", bill.drawer);
    ensure!(bill.frozen.is_none(), E_BILL_FROZEN, "bill {} is frozen", bill.number);
    ensure!(bill.stage != BillStage::Cancelled, E_BILL_CANCELLED, "bill {} is cancelled", bill.number);
    let (stage, to, action) = match kind {
        RequestKind::Acceptance => (BillStage::Issued, bill.acceptor.clone(), "acceptance_requested"),
        _ => (BillStage::Accepted, bill.payee.clone(), "delivery_requested"),
    };
    ensure!(bill.stage == stage, E_BILL_STATE, "bill {} is {:?}, not {stage:?}", bill.number, bill.stage);
    if let Some(id) = &bill.locked_by {
        return Err(Refusal::new(E_BILL_LOCKED, format!("bill {} is locked by request {id}", bill.number)));
    }
    before_due(cx, &bill, E_BILL_OVERDUE, action)?;
    let req = open(cx, &bill.number, kind, (1, bill.amount), &drawer.id, &to)?;
    bill.locked_by = Some(req.id.clone());
    let whole = (1, bill.amount);
    record(cx, &mut bill, Step::new(action, &drawer.id, whole).with(&to).req(&req.id));
    save(cx, &bill);
    ok(&req)
}

/// `bill.request_acceptance`.
pub(crate) fn request_acceptance(cx: &mut Cx<'_>, a: ByBill) -> Out {
    drawer_request(cx, a, RequestKind::Acceptance)
}

/// `bill.request_delivery`.
pub(crate) fn request_delivery(cx: &mut Cx<'_>, a: ByBill) -> Out {
    drawer_request(cx, a, RequestKind::Delivery)
}

/// `bill.cancel`: the drawer cancels a bill its payee has not received.
pub(crate) fn cancel(cx: &mut Cx<'_>, a: ByBill) -> Out {
    let drawer = cx.actor()?;
    let mut bill = load_for_write(cx, &a.bill)?;
    ensure!(bill.drawer == drawer.id, E_WRONG_PARTY, "only the drawer {} may cancel", bill.drawer);
    ensure!(bill.frozen.is_none(), E_BILL_FROZEN, "bill {} is frozen", bill.number);
    ensure!(bill.stage != BillStage::Cancelled, E_BILL_CANCELLED, "bill {} is cancelled already", bill.number);
    ensure!(
        matches!(bill.stage, BillStage::Issued | BillStage::Accepted),
        E_BILL_STATE,
        "the payee has received bill {}: it cannot be cancelled",
        bill.number
    );
    if let Some(id) = bill.locked_by.take() {
        let mut req = load_request(cx, &id)?;
        close(cx, &mut req, "withdrawn")?;
    }
    bill.stage = BillStage::Cancelled;
    let whole = (1, bill.amount);
    record(cx, &mut bill, Step::new("cancelled", &drawer.id, whole));
    save(cx, &bill);
    ok(&bill)
}

// ------------------------------------------------------------- transfers

/// The common path of endorsement, pledge, discount and rediscount requests:
/// the holding is the actor's, free, and split to `range`.
fn take(cx: &Cx<'_>, bill: &mut Bill, range: &Range, actor: &str) -> Result<usize, Refusal> {
    circulating(bill)?;
    let i = locate(cx, bill, range, actor, false)?;
    free(cx, &bill.holdings[i])?;
    Ok(i)
}

/// Locks holding `i` (split to `end`) with `req`.
fn lock(bill: &mut Bill, i: usize, end: u64, req: &str) {
    split(bill, i, end);
    bill.holdings[i].locked_by = Some(owned(req));
}

/// `bill.endorse`: whole or split endorsement to a registered party.
pub(crate) fn endorse(cx: &mut Cx<'_>, a: Transfer) -> Out {
    let holder = cx.actor()?;
    let mut bill = load_for_write(cx, &a.range.bill)?;
    circulating(&bill)?;
    ensure!(!bill.non_transferable, E_NOT_TRANSFERABLE, "bill {} is marked not transferable", bill.number);
    let i = take(cx, &mut bill, &a.range, &holder.id)?;
    let to = cx.counterparty(&a.to)?;
    ensure!(to.id != holder.id, E_SAME_PARTY, "an endorsee must differ from the holder");
    before_due(cx, &bill, E_BILL_OVERDUE, "endorsement")?;
    let range = (a.range.start, a.range.end);
    let req = open(cx, &bill.number, RequestKind::Endorsement, range, &holder.id, &to.id)?;
    lock(&mut bill, i, a.range.end, &req.id);
    record(cx, &mut bill, Step::new("endorsement_requested", &holder.id, range).with(&to.id).req(&req.id));
    save(cx, &bill);
    ok(&req)
}

/// `bill.pledge`: the holder pledges a sub-range.
pub(crate) fn pledge(cx: &mut Cx<'_>, a: Transfer) -> Out {
    let holder = cx.actor()?;
    let mut bill = load_for_write(cx, &a.range.bill)?;
    let i = take(cx, &mut bill, &a.range, &holder.id)?;
    let to = cx.counterparty(&a.to)?;
    ensure!(to.id != holder.id, E_SAME_PARTY, "a pledgee must differ from the pledgor");
    before_due(cx, &bill, E_PLEDGE_AT_OR_AFTER_DUE, "a pledge")?;
    let range = (a.range.start, a.range.end);
    let req = open(cx, &bill.number, RequestKind::Pledge, range, &holder.id, &to.id)?;
    lock(&mut bill, i, a.range.end, &req.id);
    record(cx, &mut bill, Step::new("pledge_requested", &holder.id, range).with(&to.id).req(&req.id));
    save(cx, &bill);
    ok(&req)
}

/// `bill.release`: the pledgee releases a pledged holding back to the pledgor.
pub(crate) fn release(cx: &mut Cx<'_>, a: Range) -> Out {
    let pledgee = cx.actor()?;
    let mut bill = load_for_write(cx, &a.bill)?;
    circulating(&bill)?;
    let i = locate(cx, &mut bill, &a, &pledgee.id, true)?;
    let h = &bill.holdings[i];
    ensure!(
        h.state == HoldingState::Pledged { pledgee: pledgee.id.clone() },
        E_WRONG_PARTY,
        "units {}..={} are not pledged to {}",
        h.start,
        h.end,
        pledgee.id
    );
    ensure!(a.end == h.end, E_SUBRANGE_NOT_CONTAINED, "a pledge is released whole ({}..={})", h.start, h.end);
    not_locked(cx, h)?;
    let pledgor = h.holder.clone();
    let range = (h.start, h.end);
    let req = open(cx, &bill.number, RequestKind::Release, range, &pledgee.id, &pledgor)?;
    lock(&mut bill, i, a.end, &req.id);
    record(cx, &mut bill, Step::new("release_requested", &pledgee.id, range).with(&pledgor).req(&req.id));
    save(cx, &bill);
    ok(&req)
}

/// `bill.rediscount`: a bank holder sells a sub-range to another bank.
pub(crate) fn rediscount(cx: &mut Cx<'_>, a: Rediscount) -> Out {
    let seller = cx.actor()?;
    ensure!(seller.kind != PartyKind::Enterprise, E_NOT_BANK, "rediscount is between banks; {} is not one", seller.id);
    rate_ok(a.rate)?;
    let mut bill = load_for_write(cx, &a.range.bill)?;
    let i = take(cx, &mut bill, &a.range, &seller.id)?;
    let to = cx.counterparty(&a.to)?;
    ensure!(to.kind != PartyKind::Enterprise, E_NOT_BANK, "rediscount is between banks; {} is not one", to.id);
    ensure!(to.id != seller.id, E_SAME_PARTY, "a bank cannot rediscount to itself");
    before_due(cx, &bill, E_DISCOUNT_AT_OR_AFTER_DUE, "a rediscount")?;
    let range = (a.range.start, a.range.end);
    let req = open(cx, &bill.number, RequestKind::Rediscount { rate: a.rate }, range, &seller.id, &to.id)?;
    lock(&mut bill, i, a.range.end, &req.id);
    let note = format!("rate {} ppm", a.rate.0);
    record(cx, &mut bill, Step::new("rediscount_requested", &seller.id, range).with(&to.id).req(&req.id).note(note));
    save(cx, &bill);
    ok(&req)
}

// ------------------------------------------------------------- discount

/// `bill.request_discount`: the holder asks a bank; the trade background is
/// checked and the invoices occupied now; a bank policy that covers the
/// request approves it and instructs the disbursement in the same transaction.
pub(crate) fn request_discount(cx: &mut Cx<'_>, a: RequestDiscount) -> Out {
    let applicant = cx.actor()?;
    let mut bill = load_for_write(cx, &a.range.bill)?;
    let i = take(cx, &mut bill, &a.range, &applicant.id)?;
    let bank = cx.counterparty(&a.bank)?;
    ensure!(
        bank.kind != PartyKind::Enterprise,
        E_DISCOUNTER_UNLICENSED,
        "{} is not a licensed bank or finance company",
        bank.id
    );
    ensure!(bank.id != applicant.id, E_SAME_PARTY, "a bank does not discount to itself");
    before_due(cx, &bill, E_DISCOUNT_AT_OR_AFTER_DUE, "a discount")?;
    let amount = a.range.end - a.range.start + 1;
    let predecessor = bill.holdings[i].chain.last().cloned().unwrap_or_else(|| bill.drawer.clone());
    let invoices = trade_background(cx, &a, &applicant.id, &predecessor, amount)?;
    risk::count_discount(cx, &applicant.id, amount)?;

    let range = (a.range.start, a.range.end);
    let terms = DiscountTerms {
        order: a.order.clone(),
        invoices: invoices.clone(),
        figures: None,
        rate: None,
        disbursement: None,
        instant: false,
    };
    let mut req = open(cx, &bill.number, RequestKind::Discount(terms), range, &applicant.id, &bank.id)?;
    occupy(cx, &req, &bill.number, &a.order, &invoices, amount)?;
    lock(&mut bill, i, a.range.end, &req.id);
    let note = format!("order {}, {} invoice(s)", a.order, invoices.len());
    record(cx, &mut bill, Step::new("discount_requested", &applicant.id, range).with(&bank.id).req(&req.id).note(note));
    if let Some(rate) = instant_rate(cx, &bill, &bank.id, &applicant.id, amount)? {
        approve(cx, &mut bill, &mut req, rate, true)?;
    }
    save(cx, &bill);
    ok(&req)
}

/// The trade-background checks of domain.md, in its order: how much of each
/// invoice the discount takes.
fn trade_background(
    cx: &Cx<'_>,
    a: &RequestDiscount,
    applicant: &str,
    predecessor: &str,
    amount: u64,
) -> Result<Vec<(InvoiceKey, u64)>, Refusal> {
    let order = load_order(cx, &a.order)
        .map_err(|_| Refusal::new(E_TRADE_DOCS_MISSING, format!("no order {} on the ledger", a.order)))?;
    ensure!(
        order.seller == applicant && order.buyer == predecessor,
        E_TRADE_DOCS_MISSING,
        "order {} is from {} to {}, not from the applicant {applicant} to its predecessor {predecessor}",
        order.id,
        order.seller,
        order.buyer
    );
    ensure!(order.status != OrderStatus::Cancelled, E_TRADE_DOCS_MISSING, "order {} is cancelled", order.id);
    ensure!(
        order.deliveries.iter().any(|d| d.confirmed),
        E_TRADE_DOCS_MISSING,
        "order {} has no confirmed delivery",
        order.id
    );
    ensure!(!a.invoices.is_empty(), E_TRADE_DOCS_MISSING, "a discount needs the trade's invoices");
    ensure!(a.invoices.len() <= 20, E_BAD_ARGS, "at most 20 invoices per discount");
    let mut taken = Vec::new();
    let mut free_total = 0u64;
    for (n, key) in a.invoices.iter().enumerate() {
        ensure!(!a.invoices[..n].contains(key), E_BAD_ARGS, "invoice {} {} is named twice", key.code, key.number);
        let invoice = load_invoice(cx, key).map_err(|_| {
            Refusal::new(E_TRADE_DOCS_MISSING, format!("no invoice {} {} on the ledger", key.code, key.number))
        })?;
        ensure!(
            invoice.order == order.id,
            E_TRADE_DOCS_MISSING,
            "invoice {} {} bills order {}, not {}",
            key.code,
            key.number,
            invoice.order,
            order.id
        );
        ensure!(
            invoice.seller == applicant && invoice.buyer == predecessor,
            E_INVOICE_PARTY_MISMATCH,
            "invoice {} {} is from {} to {}",
            key.code,
            key.number,
            invoice.seller,
            invoice.buyer
        );
        ensure!(
            invoice.verified_by.is_some(),
            E_INVOICE_UNVERIFIED,
            "invoice {} {} is not verified",
            key.code,
            key.number
        );
        let share = invoice.free().min(amount - free_total.min(amount));
        free_total = free_total.saturating_add(invoice.free());
        if share > 0 {
            taken.push((key.clone(), share));
        }
    }
    ensure!(
        free_total >= amount,
        E_INVOICE_OVER_OCCUPIED,
        "the invoices have {free_total} fen free to finance, the discount needs {amount}"
    );
    let unfinanced = order.amount - order.financed;
    ensure!(
        amount <= unfinanced,
        E_BILL_EXCEEDS_CONTRACT,
        "the discount of {amount} fen exceeds the {unfinanced} fen of order {} not yet financed",
        order.id
    );
    Ok(taken)
}

/// Occupies the invoices and the order for a discount.
fn occupy(
    cx: &mut Cx<'_>,
    req: &Request,
    bill: &str,
    order: &str,
    invoices: &[(InvoiceKey, u64)],
    amount: u64,
) -> Result<(), Refusal> {
    for (key, share) in invoices {
        let mut invoice = load_invoice(cx, key)?;
        invoice.occupied += share;
        ensure!(invoice.occupied <= invoice.amount_inc_tax, E_INVOICE_OVER_OCCUPIED, "invoice over-occupied");
        let occupation = Occupation { request: req.id.clone(), bill: owned(bill), amount: *share };
        cx.put(&keys::occupation(key, req.height, &req.id), &occupation);
        cx.put(&keys::invoice(key), &invoice);
        invoice_event(cx, &invoice, "occupied", &req.from);
    }
    let mut order = load_order(cx, order)?;
    order.financed += amount;
    cx.put(&keys::order(&order.id), &order);
    Ok(())
}

/// Gives back what a discount that did not happen occupied: its invoices, its
/// order, and its amount in the applicant's daily limits (the risk limit and,
/// if the bank's policy approved it at once, the policy's limit) of the day it
/// was asked on.
fn release_occupation(cx: &mut Cx<'_>, req: &Request, terms: &DiscountTerms) -> Result<(), Refusal> {
    let amount = req.end - req.start + 1;
    risk::uncount_discount(cx, &req.from, req.day, amount)?;
    if terms.instant {
        let key = keys::daily_instant(&req.to, &req.from, req.day);
        let used: u64 = cx.get(&key)?.unwrap_or(0);
        cx.put(&key, &used.saturating_sub(amount));
    }
    for (key, share) in &terms.invoices {
        let mut invoice = load_invoice(cx, key)?;
        invoice.occupied = invoice.occupied.saturating_sub(*share);
        // Stored inline before occupations moved under their own keys.
        invoice.occupations.retain(|o| o.request != req.id);
        cx.delete(&keys::occupation(key, req.height, &req.id));
        cx.put(&keys::invoice(key), &invoice);
        invoice_event(cx, &invoice, "released", &req.to);
    }
    let mut order = load_order(cx, &terms.order)?;
    order.financed = order.financed.saturating_sub(amount);
    cx.put(&keys::order(&order.id), &order);
    Ok(())
}

/// The rate of `bank`'s policy for this request, if the policy approves it.
fn instant_rate(
    cx: &mut Cx<'_>,
    bill: &Bill,
    bank: &str,
    applicant: &str,
    amount: u64,
) -> Result<Option<RatePpm>, Refusal> {
    let Some(policy) = cx.get::<DiscountPolicy>(&keys::policy(bank))? else { return Ok(None) };
    let days = (bill.due_date.day_number() - cx.today().day_number()) as u32;
    let rate = match policy.rate_for(days) {
        Some(rate) if policy.enabled && policy.acceptors.contains(&bill.acceptor) && amount <= policy.max_amount => {
            rate
        }
        _ => return Ok(None),
    };
    let key = keys::daily_instant(bank, applicant, cx.today());
    let used: u64 = cx.get(&key)?.unwrap_or(0);
    if policy.daily_limit_per_enterprise > 0 && used + amount > policy.daily_limit_per_enterprise {
        return Ok(None);
    }
    cx.put(&key, &(used + amount));
    Ok(Some(rate))
}

/// Approves a discount at `rate` and instructs the disbursement of the net
/// amount to the applicant's registered settlement account.
fn approve(cx: &mut Cx<'_>, bill: &mut Bill, req: &mut Request, rate: RatePpm, instant: bool) -> Result<(), Refusal> {
    rate_ok(rate)?;
    let RequestKind::Discount(terms) = &mut req.kind else {
        return Err(Refusal::new(E_WRONG_ANSWER, format!("request {} is not a discount", req.id)));
    };
    let applicant = cx.party(&req.from)?;
    let bank = cx.party(&req.to)?;
    let acceptor = cx.party(&bill.acceptor)?;
    let extra = if acceptor.city != applicant.city { cx.config.other_city_extra_days } else { 0 };
    let face = Fen(req.end - req.start + 1);
    let figures = billflow_finance::discount(face, rate, cx.today(), bill.due_date, extra)?;
    let id = movement_id(&req.id, "disb");
    let movement = fund::instruct(
        cx,
        fund::Instruction {
            id: id.clone(),
            kind: MovementKind::Disbursement,
            amount: figures.net.0,
            debit: AccountRef { owner: bank.id.clone(), account: bank.account.clone() },
            credit: AccountRef { owner: applicant.id.clone(), account: applicant.account.clone() },
            originator: bank.id.clone(),
            purpose: Purpose::Discount(req.id.clone()),
            reference: Some(bill.number.clone()),
        },
    )?;
    terms.figures = Some(figures);
    terms.rate = Some(rate);
    terms.disbursement = Some(id.clone());
    terms.instant = instant;
    req.status = owned("awaiting_funds");
    cx.delete(&keys::inbox(&req.to, &req.id));
    save_request(cx, req);
    let note = format!(
        "{}rate {} ppm, {} days to {}, interest {}, net {}",
        if instant { "instant: " } else { "" },
        rate.0,
        figures.days,
        figures.due,
        Fen(figures.interest),
        figures.net
    );
    let step =
        Step { movement: Some(&movement.request_id), ..Step::new("discount_approved", &bank.id, (req.start, req.end)) };
    record(cx, bill, step.with(&applicant.id).req(&req.id).note(note));
    Ok(())
}

/// `bill.approve_discount`: the bank approves a pending discount request.
pub(crate) fn approve_discount(cx: &mut Cx<'_>, a: ApproveDiscount) -> Out {
    let bank = cx.actor()?;
    let req = pending_for(cx, &a.request, &bank.id, true)?;
    let mut bill = load_for_write(cx, &req.bill)?;
    let mut req = pending_for(cx, &a.request, &bank.id, true)?;
    ensure!(bill.frozen.is_none(), E_BILL_FROZEN, "bill {} is frozen", bill.number);
    ensure!(matches!(req.kind, RequestKind::Discount(_)), E_WRONG_ANSWER, "request {} is not a discount", req.id);
    before_due(cx, &bill, E_DISCOUNT_AT_OR_AFTER_DUE, "a discount")?;
    approve(cx, &mut bill, &mut req, a.rate, false)?;
    save(cx, &bill);
    ok(&req)
}

// ------------------------------------------------------------- maturity

/// `bill.present`: the holder, or the pledgee of a pledged holding, presents for payment.
pub(crate) fn present(cx: &mut Cx<'_>, a: Range) -> Out {
    let presenter = cx.actor()?;
    let mut bill = load_for_write(cx, &a.bill)?;
    circulating(&bill)?;
    let i = locate(cx, &mut bill, &a, &presenter.id, true)?;
    let h = &bill.holdings[i];
    not_locked(cx, h)?;
    let entitled = match &h.state {
        HoldingState::Held => h.holder == presenter.id,
        HoldingState::Pledged { pledgee } => *pledgee == presenter.id,
        HoldingState::Settled => {
            return Err(Refusal::new(E_BILL_SETTLED, format!("units {}..={} are settled", h.start, h.end)));
        }
        other => return Err(Refusal::new(E_BILL_STATE, format!("units {}..={} are {other:?}", h.start, h.end))),
    };
    ensure!(
        entitled,
        E_WRONG_PARTY,
        "{} neither holds units {}..={} nor holds them in pledge",
        presenter.id,
        h.start,
        h.end
    );
    let today = cx.today();
    ensure!(
        today >= bill.due_date,
        E_PRESENTMENT_BEFORE_DUE,
        "bill {} is due {}, today is {today}",
        bill.number,
        bill.due_date
    );
    let late = today > bill.due_date.plus_days(i64::from(cx.config.presentment_grace_days));
    let range = (a.start, a.end);
    let acceptor = bill.acceptor.clone();
    let req = open(cx, &bill.number, RequestKind::Presentment { late }, range, &presenter.id, &acceptor)?;
    lock(&mut bill, i, a.end, &req.id);
    bill.holdings[i].state = HoldingState::Presented { late };
    let note = if late {
        format!(
            "{W_PRESENTMENT_LATE}: presented more than {} days after the due date {}; recourse only against the drawer and the acceptor",
            cx.config.presentment_grace_days, bill.due_date
        )
    } else {
        String::new()
    };
    record(cx, &mut bill, Step::new("presented", &presenter.id, range).with(&acceptor).req(&req.id).note(note));
    save(cx, &bill);
    ok(&req)
}

/// `bill.recourse`: the holder of a dishonoured sub-range claims from an earlier party.
pub(crate) fn recourse(cx: &mut Cx<'_>, a: Recourse) -> Out {
    let holder = cx.actor()?;
    let mut bill = load_for_write(cx, &a.range.bill)?;
    ensure!(bill.frozen.is_none(), E_BILL_FROZEN, "bill {} is frozen", bill.number);
    let i = locate(cx, &mut bill, &a.range, &holder.id, false)?;
    let h = &bill.holdings[i];
    let HoldingState::Dishonoured { on, late } = h.state else {
        return Err(Refusal::new(E_BILL_STATE, format!("units {}..={} are not dishonoured", h.start, h.end)));
    };
    not_locked(cx, h)?;
    let today = cx.today();
    ensure!(
        today <= on.plus_months(cx.config.recourse_months),
        E_RECOURSE_TIME_BARRED,
        "dishonoured on {on}: recourse ended {} months later",
        cx.config.recourse_months
    );
    let drawer = h.chain.first().cloned().unwrap_or_else(|| bill.drawer.clone());
    let earlier = if late {
        a.against == drawer || a.against == bill.acceptor
    } else {
        a.against == bill.acceptor || h.chain.contains(&a.against)
    };
    ensure!(a.against != holder.id, E_SAME_PARTY, "a holder has no recourse against itself");
    ensure!(
        earlier,
        E_NOT_EARLIER_PARTY,
        "{} is not an earlier party of units {}..={}{}",
        a.against,
        h.start,
        h.end,
        if late { " (after late presentment only the drawer and the acceptor are)" } else { "" }
    );
    cx.counterparty(&a.against)?;
    let range = (a.range.start, a.range.end);
    let req = open(cx, &bill.number, RequestKind::Recourse, range, &holder.id, &a.against)?;
    lock(&mut bill, i, a.range.end, &req.id);
    record(cx, &mut bill, Step::new("recourse_requested", &holder.id, range).with(&a.against).req(&req.id));
    save(cx, &bill);
    ok(&req)
}

// ------------------------------------------------------------- answers

/// A pending request and the check that `who` answers it (`to`) or made it (`from`).
fn pending_for(cx: &Cx<'_>, id: &str, who: &str, answering: bool) -> Result<Request, Refusal> {
    let req = load_request(cx, id)?;
    ensure!(req.status == "pending", E_REQUEST_CLOSED, "request {id} is {}", req.status);
    let (party, role) = if answering { (&req.to, "answers") } else { (&req.from, "withdraws") };
    ensure!(party == who, E_WRONG_PARTY, "only {party} {role} request {id}");
    Ok(req)
}

/// The request after a possible end-of-day expiry, still pending.
fn answerable(cx: &mut Cx<'_>, a: &Answer, who: &str, answering: bool) -> Result<(Bill, Request), Refusal> {
    let req = pending_for(cx, &a.request, who, answering)?;
    let bill = load_for_write(cx, &req.bill)?;
    let req = pending_for(cx, &a.request, who, answering)?;
    ensure!(bill.frozen.is_none(), E_BILL_FROZEN, "bill {} is frozen", bill.number);
    check_text("the reason", &a.reason, 200)?;
    Ok((bill, req))
}

/// `bill.sign`: the counterparty says yes.
pub(crate) fn sign(cx: &mut Cx<'_>, a: Answer) -> Out {
    let me = cx.actor()?;
    let (mut bill, mut req) = answerable(cx, &a, &me.id, true)?;
    let range = (req.start, req.end);
    match req.kind.clone() {
        RequestKind::Acceptance => {
            before_due(cx, &bill, E_BILL_OVERDUE, "acceptance")?;
            bill.stage = BillStage::Accepted;
            bill.locked_by = None;
            record(cx, &mut bill, Step::new("accepted", &me.id, range).with(&req.from).req(&req.id));
        }
        RequestKind::Delivery => {
            bill.stage = BillStage::Circulating;
            bill.locked_by = None;
            bill.holdings = vec![Holding {
                start: 1,
                end: bill.amount,
                holder: me.id.clone(),
                chain: vec![bill.drawer.clone()],
                state: HoldingState::Held,
                locked_by: None,
            }];
            record(cx, &mut bill, Step::new("received", &me.id, range).with(&req.from).req(&req.id));
        }
        RequestKind::Endorsement | RequestKind::Rediscount { .. } => {
            let code =
                if matches!(req.kind, RequestKind::Endorsement) { E_BILL_OVERDUE } else { E_DISCOUNT_AT_OR_AFTER_DUE };
            before_due(cx, &bill, code, "the transfer")?;
            let i = locked_holding(cx, &mut bill, &req)?;
            let h = &mut bill.holdings[i];
            h.chain.push(req.from.clone());
            h.holder = me.id.clone();
            h.locked_by = None;
            let action = if matches!(req.kind, RequestKind::Endorsement) { "endorsed" } else { "rediscounted" };
            record(cx, &mut bill, Step::new(action, &me.id, range).with(&req.from).req(&req.id));
        }
        RequestKind::Pledge => {
            before_due(cx, &bill, E_PLEDGE_AT_OR_AFTER_DUE, "a pledge")?;
            let i = locked_holding(cx, &mut bill, &req)?;
            bill.holdings[i].state = HoldingState::Pledged { pledgee: me.id.clone() };
            bill.holdings[i].locked_by = None;
            record(cx, &mut bill, Step::new("pledged", &me.id, range).with(&req.from).req(&req.id));
        }
        RequestKind::Release => {
            let i = locked_holding(cx, &mut bill, &req)?;
            bill.holdings[i].state = HoldingState::Held;
            bill.holdings[i].locked_by = None;
            record(cx, &mut bill, Step::new("released", &me.id, range).with(&req.from).req(&req.id));
        }
        RequestKind::Discount(_) => {
            return Err(Refusal::new(
                E_WRONG_ANSWER,
                "a bank approves a discount with bill.approve_discount and a rate",
            ));
        }
        RequestKind::Presentment { .. } | RequestKind::Recourse => {
            let payer = cx.party(&me.id)?;
            let payee = cx.party(&req.from)?;
            let (kind, purpose, action) = match req.kind {
                RequestKind::Recourse => (MovementKind::Recourse, Purpose::Recourse(req.id.clone()), "recourse_agreed"),
                _ => (MovementKind::Payment, Purpose::Payment(req.id.clone()), "payment_instructed"),
            };
            let id = movement_id(&req.id, "pay");
            fund::instruct(
                cx,
                fund::Instruction {
                    id: id.clone(),
                    kind,
                    amount: req.end - req.start + 1,
                    debit: AccountRef { owner: payer.id.clone(), account: payer.account.clone() },
                    credit: AccountRef { owner: payee.id.clone(), account: payee.account.clone() },
                    originator: payer.id.clone(),
                    purpose,
                    reference: Some(bill.number.clone()),
                },
            )?;
            req.status = owned("awaiting_funds");
            cx.delete(&keys::inbox(&req.to, &req.id));
            save_request(cx, &req);
            let step = Step { movement: Some(&id), ..Step::new(action, &me.id, range) };
            record(cx, &mut bill, step.with(&req.from).req(&req.id));
            save(cx, &bill);
            return ok(&req);
        }
    }
    close(cx, &mut req, "signed")?;
    merge(cx, &mut bill)?;
    save(cx, &bill);
    ok(&req)
}

/// Undoes what a request locked, on refusal, withdrawal or expiry.
fn unwind(cx: &mut Cx<'_>, bill: &mut Bill, req: &Request) -> Result<(), Refusal> {
    match &req.kind {
        RequestKind::Acceptance | RequestKind::Delivery => bill.locked_by = None,
        RequestKind::Presentment { late } => {
            let i = locked_holding(cx, bill, req)?;
            bill.holdings[i].state = HoldingState::Dishonoured { on: req.day, late: *late };
            bill.holdings[i].locked_by = None;
        }
        kind => {
            if let RequestKind::Discount(terms) = kind {
                release_occupation(cx, req, terms)?;
            }
            let i = locked_holding(cx, bill, req)?;
            bill.holdings[i].locked_by = None;
            merge(cx, bill)?;
        }
    }
    Ok(())
}

fn refusal_action(kind: &RequestKind) -> &'static str {
    match kind {
        RequestKind::Acceptance => "acceptance_refused",
        RequestKind::Delivery => "delivery_refused",
        RequestKind::Endorsement => "endorsement_refused",
        RequestKind::Pledge => "pledge_refused",
        RequestKind::Release => "release_refused",
        RequestKind::Discount(_) => "discount_refused",
        RequestKind::Rediscount { .. } => "rediscount_refused",
        RequestKind::Presentment { .. } => "dishonoured",
        RequestKind::Recourse => "recourse_refused",
    }
}

/// `bill.refuse`: the counterparty says no (a refused presentment is a dishonour).
pub(crate) fn refuse(cx: &mut Cx<'_>, a: Answer) -> Out {
    let me = cx.actor()?;
    let (mut bill, mut req) = answerable(cx, &a, &me.id, true)?;
    unwind(cx, &mut bill, &req)?;
    close(cx, &mut req, "refused")?;
    let step = Step::new(refusal_action(&req.kind), &me.id, (req.start, req.end));
    record(cx, &mut bill, step.with(&req.from).req(&req.id).note(a.reason));
    save(cx, &bill);
    ok(&req)
}

/// `bill.withdraw`: the requester takes a request back (not a presentment).
pub(crate) fn withdraw(cx: &mut Cx<'_>, a: Answer) -> Out {
    let me = cx.actor()?;
    let (mut bill, mut req) = answerable(cx, &a, &me.id, false)?;
    ensure!(
        !matches!(req.kind, RequestKind::Presentment { .. }),
        E_WRONG_ANSWER,
        "a presentment is answered by the acceptor; it cannot be withdrawn"
    );
    unwind(cx, &mut bill, &req)?;
    close(cx, &mut req, "withdrawn")?;
    let step = Step::new("withdrawn", &me.id, (req.start, req.end));
    record(cx, &mut bill, step.with(&req.to).req(&req.id).note(a.reason));
    save(cx, &bill);
    ok(&req)
}

/// Ends a request of a past business day: unanswered presentments are dishonoured.
fn expire(cx: &mut Cx<'_>, bill: &mut Bill, mut req: Request) -> Result<bool, Refusal> {
    unwind(cx, bill, &req)?;
    close(cx, &mut req, "expired")?;
    let action = if matches!(req.kind, RequestKind::Presentment { .. }) { "dishonoured" } else { "expired" };
    let step = Step::new(action, &req.to, (req.start, req.end)).with(&req.from).req(&req.id);
    record(cx, bill, step.note(format!("no answer by the end of {}", req.day)));
    Ok(matches!(req.kind, RequestKind::Presentment { .. }))
}

/// `bill.cleanup`: ends the open requests of past business days (at most 500
/// per call) and marks movements with no bank answer in time `unknown`.
pub(crate) fn cleanup(cx: &mut Cx<'_>, _: ()) -> Out {
    let today = cx.today();
    let mut done = Cleanup::default();
    let end = keys::request_day(today, "");
    let stale: Vec<String> = cx
        .store
        .range(b"rd/", end.as_bytes(), 500)
        .into_iter()
        .filter_map(|(k, _)| String::from_utf8(k).ok())
        // rd/<day>/<request>: request ids hold no `/`.
        .filter_map(|k| k.rsplit('/').next().map(owned))
        .collect();
    for id in stale {
        let req = load_request(cx, &id)?;
        if req.status != "pending" {
            continue;
        }
        let mut bill = load(cx, &req.bill)?;
        if expire(cx, &mut bill, req)? {
            done.dishonoured.push(id);
        } else {
            done.expired.push(id);
        }
        save(cx, &bill);
    }
    done.unknown = fund::time_out(cx)?;
    ok(&done)
}

/// A fund movement that a request waits on has its outcome: finish the request.
pub(crate) fn funds_settled(cx: &mut Cx<'_>, movement: &Movement) -> Result<(), Refusal> {
    let success = match movement.status {
        MovementStatus::Success => true,
        MovementStatus::Failed => false,
        MovementStatus::Pending | MovementStatus::Unknown => return Ok(()),
    };
    let req_id = match &movement.purpose {
        Purpose::Discount(r) | Purpose::Payment(r) | Purpose::Recourse(r) => r.clone(),
        Purpose::None => return Ok(()),
    };
    let mut req = load_request(cx, &req_id)?;
    if req.status != "awaiting_funds" {
        return Ok(());
    }
    let mut bill = load(cx, &req.bill)?;
    let i = locked_holding(cx, &mut bill, &req)?;
    let range = (req.start, req.end);
    let today = cx.today();
    let action = match (&req.kind, success) {
        (RequestKind::Discount(_), true) => {
            let h = &mut bill.holdings[i];
            h.chain.push(req.from.clone());
            h.holder = req.to.clone();
            h.locked_by = None;
            "discounted"
        }
        (RequestKind::Discount(terms), false) => {
            release_occupation(cx, &req, &terms.clone())?;
            bill.holdings[i].locked_by = None;
            "discount_failed"
        }
        (RequestKind::Presentment { .. }, true) => {
            bill.holdings[i].state = HoldingState::Settled;
            bill.holdings[i].locked_by = None;
            "paid"
        }
        (RequestKind::Presentment { late }, false) => {
            bill.holdings[i].state = HoldingState::Dishonoured { on: today, late: *late };
            bill.holdings[i].locked_by = None;
            "dishonoured"
        }
        (RequestKind::Recourse, true) => {
            let payer = req.to.clone();
            let h = &mut bill.holdings[i];
            h.locked_by = None;
            if payer == bill.acceptor {
                h.state = HoldingState::Settled;
                h.chain.push(h.holder.clone());
            } else {
                let pos = h.chain.iter().position(|p| *p == payer).unwrap_or(h.chain.len());
                h.chain.truncate(pos);
            }
            h.holder = payer;
            "recourse_paid"
        }
        (_, _) => {
            bill.holdings[i].locked_by = None;
            "recourse_failed"
        }
    };
    close(cx, &mut req, if success { "signed" } else { "refused" })?;
    merge(cx, &mut bill)?;
    let step = Step { movement: Some(&movement.request_id), ..Step::new(action, &movement.bank, range) };
    let note = format!(
        "{} {} yuan, bank serial {}",
        movement_kind(movement.kind),
        Fen(movement.amount),
        movement.bank_serial.as_deref().unwrap_or("-")
    );
    record(cx, &mut bill, step.with(&req.from).req(&req.id).note(note));
    save(cx, &bill);
    Ok(())
}

fn movement_kind(kind: MovementKind) -> &'static str {
    match kind {
        MovementKind::Disbursement => "disbursement",
        MovementKind::Payment => "payment",
        MovementKind::Recourse => "recourse payment",
        MovementKind::Fee => "fee",
        MovementKind::Reversal => "reversal",
    }
}

// ------------------------------------------------------------- administration

/// `bill.freeze`: a consortium administrator freezes a bill (a court order).
pub(crate) fn freeze(cx: &mut Cx<'_>, a: FreezeBill) -> Out {
    cx.require_admin()?;
    check_text("the reason", &a.reason, 200)?;
    ensure!(!a.reason.is_empty(), E_BAD_ARGS, "a freeze names its reason");
    let mut bill = load(cx, &a.bill)?;
    ensure!(bill.frozen.is_none(), E_BILL_FROZEN, "bill {} is frozen already", bill.number);
    bill.frozen = Some(a.reason.clone());
    let who = cx.env.caller.org.clone().unwrap_or_default();
    let whole = (1, bill.amount);
    record(cx, &mut bill, Step::new("frozen", &who, whole).note(a.reason));
    save(cx, &bill);
    with_holdings(cx, &mut bill)?;
    ok(&bill)
}

/// `bill.unfreeze`.
pub(crate) fn unfreeze(cx: &mut Cx<'_>, a: ByBill) -> Out {
    cx.require_admin()?;
    let mut bill = load(cx, &a.bill)?;
    ensure!(bill.frozen.is_some(), E_BILL_STATE, "bill {} is not frozen", bill.number);
    bill.frozen = None;
    let who = cx.env.caller.org.clone().unwrap_or_default();
    let whole = (1, bill.amount);
    record(cx, &mut bill, Step::new("unfrozen", &who, whole));
    save(cx, &bill);
    with_holdings(cx, &mut bill)?;
    ok(&bill)
}

/// `bill.set_policy`: a bank registers its instant-discount policy.
pub(crate) fn set_policy(cx: &mut Cx<'_>, p: DiscountPolicy) -> Out {
    let bank = cx.actor()?;
    ensure!(bank.kind != PartyKind::Enterprise, E_DISCOUNTER_UNLICENSED, "{} is not a bank", bank.id);
    ensure!(!p.rates.is_empty() && p.rates.len() <= 12, E_BAD_ARGS, "a policy has 1 to 12 rate bands");
    ensure!(
        p.rates.windows(2).all(|w| w[0].max_days < w[1].max_days),
        E_BAD_ARGS,
        "rate bands go from the shortest term to the longest"
    );
    for band in &p.rates {
        rate_ok(band.rate)?;
    }
    ensure!(p.max_amount > 0 && p.max_amount <= MAX_AMOUNT, E_AMOUNT_INVALID, "the policy's maximum amount is invalid");
    ensure!(p.daily_limit_per_enterprise <= MAX_AMOUNT, E_AMOUNT_INVALID, "the daily limit is invalid");
    ensure!(p.acceptors.len() <= 200, E_BAD_ARGS, "at most 200 acceptors");
    for acceptor in &p.acceptors {
        cx.party(acceptor)?;
    }
    cx.put(&keys::policy(&bank.id), &p);
    ok(&())
}

// ------------------------------------------------------------- queries

/// Whether the caller may see `bill`.
fn visible(cx: &Cx<'_>, bill: &str) -> bool {
    cx.sees_all() || cx.env.caller.participant.as_deref().is_some_and(|p| cx.exists(&keys::visible(p, bill)))
}

/// `bill.get` (query): the bill, its history and what links to it.
pub(crate) fn get(cx: &mut Cx<'_>, a: ByBill) -> Out {
    let bill = load_whole(cx, &a.bill)?;
    ensure!(visible(cx, &bill.number), E_NOT_AUTHORISED, "bill {} is not visible to the caller", bill.number);
    let history = bill_history(cx, &bill.number);
    let mut pending = Vec::new();
    for (id, _) in cx.scan(&keys::bill_request_prefix(&bill.number), None, 1000) {
        pending.push(load_request(cx, &id)?);
    }
    let movements = bill_movements(cx, &bill.number)?;
    let (orders, invoices) = trade_links(cx, &history)?;
    ok(&BillView { bill, history, pending, movements, orders, invoices })
}

fn bill_history(cx: &Cx<'_>, number: &str) -> Vec<HistoryEntry> {
    cx.scan(&keys::history_prefix(number), None, MAX_HISTORY)
        .into_iter()
        .filter_map(|(_, v)| borsh::from_slice(&v).ok())
        .collect()
}

fn bill_movements(cx: &Cx<'_>, number: &str) -> Result<Vec<Movement>, Refusal> {
    cx.scan(&keys::bill_movement_prefix(number), None, 1000).into_iter().map(|(id, _)| fund::load(cx, &id)).collect()
}

/// The orders and invoices behind the discounts in `history`, each once.
fn trade_links(cx: &Cx<'_>, history: &[HistoryEntry]) -> Result<(Vec<String>, Vec<InvoiceKey>), Refusal> {
    let (mut orders, mut invoices) = (Vec::new(), Vec::new());
    for entry in history.iter().filter(|e| e.action == "discount_requested") {
        let Some(id) = &entry.request else { continue };
        if let RequestKind::Discount(terms) = load_request(cx, id)?.kind {
            if !orders.contains(&terms.order) {
                orders.push(terms.order);
            }
            for (key, _) in terms.invoices {
                if !invoices.contains(&key) {
                    invoices.push(key);
                }
            }
        }
    }
    Ok((orders, invoices))
}

/// `bill.disclosure` (query, open to anyone): the bill as [`BillDisclosure`]
/// describes it. It runs for anonymous callers too: the explorer reads it.
pub(crate) fn disclosure(cx: &mut Cx<'_>, a: ByBill) -> Out {
    let bill = load_whole(cx, &a.bill)?;
    let history = bill_history(cx, &bill.number);
    let (orders, invoices) = trade_links(cx, &history)?;
    let party = |id: &str| disclosed_party(cx, id, &bill.acceptor);
    let ranges = bill
        .holdings
        .iter()
        .map(|h| DisclosedRange {
            start: h.start,
            end: h.end,
            holder: party(&h.holder),
            state: String::from(match h.state {
                HoldingState::Held => "held",
                HoldingState::Pledged { .. } => "pledged",
                HoldingState::Presented { .. } => "presented",
                HoldingState::Settled => "settled",
                HoldingState::Dishonoured { .. } => "dishonoured",
            }),
        })
        .collect();
    let steps = history
        .iter()
        .map(|e| DisclosedStep {
            height: e.height,
            time_ms: e.time_ms,
            tx_id: e.tx_id.clone(),
            action: e.action.clone(),
            actor: party(&e.actor),
            counterparty: e.counterparty.as_deref().map(party),
            start: e.start,
            end: e.end,
        })
        .collect();
    let mut disclosed_invoices = Vec::new();
    for key in &invoices {
        let invoice = load_invoice(cx, key)?;
        disclosed_invoices.push(DisclosedInvoice {
            code: key.code.clone(),
            number: masked_tail(&key.number, 4),
            amount_inc_tax: invoice.amount_inc_tax,
            occupied: invoice.occupied,
        });
    }
    let movements = bill_movements(cx, &bill.number)?
        .into_iter()
        .map(|m| DisclosedMovement { id: m.request_id, kind: m.kind, amount: m.amount, status: m.status })
        .collect();
    ok(&BillDisclosure {
        drawer: party(&bill.drawer),
        payee: party(&bill.payee),
        number: bill.number.clone(),
        kind: bill.kind,
        amount: bill.amount,
        issue_date: bill.issue_date,
        due_date: bill.due_date,
        acceptor: bill.acceptor.clone(),
        stage: bill.stage,
        frozen: bill.frozen.is_some(),
        ranges,
        history: steps,
        orders: orders.iter().map(|o| masked_middle(o)).collect(),
        invoices: disclosed_invoices,
        movements,
    })
}

/// A party as a disclosure names it: the acceptor, banks and finance
/// companies in full, any other party masked.
fn disclosed_party(cx: &Cx<'_>, id: &str, acceptor: &str) -> String {
    let public = id == acceptor || cx.party(id).is_ok_and(|p| p.kind != PartyKind::Enterprise);
    if public { String::from(id) } else { masked_middle(id) }
}

/// `id` with all but its first three and last three characters masked
/// (all of it masked when it is shorter than nine).
fn masked_middle(id: &str) -> String {
    let n = id.chars().count();
    if n < 9 {
        return "*".repeat(n.max(3));
    }
    let head: String = id.chars().take(3).collect();
    let tail: String = id.chars().skip(n - 3).collect();
    format!("{head}***{tail}")
}

/// `id` with all but its last `keep` characters masked.
fn masked_tail(id: &str, keep: usize) -> String {
    let n = id.chars().count();
    let tail: String = id.chars().skip(n.saturating_sub(keep)).collect();
    format!("{}{tail}", "*".repeat(n.saturating_sub(keep)))
}

fn page_limit(page: &Page) -> u32 {
    if page.limit == 0 { 20 } else { page.limit.min(MAX_PAGE) }
}

/// `bill.list` (query): the bills the caller may see, by package number.
pub(crate) fn list(cx: &mut Cx<'_>, page: Page) -> Out {
    let me = cx.env.caller.participant.clone();
    let limit = page_limit(&page);
    let numbers: Vec<String> = match &me {
        Some(p) => {
            cx.scan(&keys::visible_prefix(p), page.after.as_deref(), limit).into_iter().map(|(k, _)| k).collect()
        }
        None if cx.sees_all() => cx.scan("b/", page.after.as_deref(), limit).into_iter().map(|(k, _)| k).collect(),
        None => {
            return Err(Refusal::new(E_NOT_AUTHORISED, "only participants, administrators and regulators list bills"));
        }
    };
    let mut out = Vec::new();
    for number in numbers {
        let bill = load_whole(cx, &number)?;
        let held_by_caller =
            bill.holdings.iter().filter(|h| me.as_deref() == Some(h.holder.as_str())).map(Holding::amount).sum();
        out.push(BillSummary {
            number: bill.number,
            kind: bill.kind,
            amount: bill.amount,
            due_date: bill.due_date,
            drawer: bill.drawer,
            acceptor: bill.acceptor,
            stage: bill.stage,
            held_by_caller,
        });
    }
    ok(&out)
}

/// `inbox` (query): what waits for the caller's answer: the requests it must
/// answer (today's: older ones expire at the next change of their bill) and,
/// for a bank, the fund movements it must report.
pub(crate) fn inbox(cx: &mut Cx<'_>, _: ()) -> Out {
    let me = cx.env.caller.participant.clone();
    let me = me.ok_or_else(|| Refusal::new(E_NOT_AUTHORISED, "only participants have an inbox"))?;
    let today = cx.today();
    let mut requests = Vec::new();
    for (id, _) in cx.scan(&keys::inbox_prefix(&me), None, 1000) {
        let req = load_request(cx, &id)?;
        if req.status == "pending" && req.day >= today {
            requests.push(req);
        }
    }
    let mut movements = Vec::new();
    for (id, _) in cx.scan(&keys::bank_inbox_prefix(&me), None, 1000) {
        movements.push(crate::fund::load(cx, &id)?);
    }
    ok(&Inbox { requests, movements })
}

/// `bill.holdings` (query): what a party holds (the party itself, administrators, regulators).
pub(crate) fn holdings(cx: &mut Cx<'_>, a: ById) -> Out {
    ensure!(
        cx.sees_all() || cx.env.caller.participant.as_deref() == Some(a.id.as_str()),
        E_NOT_AUTHORISED,
        "only {} itself, administrators and regulators see its holdings",
        a.id
    );
    let mut out = Vec::new();
    for (number, _) in cx.scan(&keys::visible_prefix(&a.id), None, 1000) {
        let bill = load_whole(cx, &number)?;
        for h in bill.holdings.iter().filter(|h| h.holder == a.id) {
            out.push(HoldingView {
                bill: bill.number.clone(),
                due_date: bill.due_date,
                acceptor: bill.acceptor.clone(),
                holding: h.clone(),
            });
        }
    }
    ok(&out)
}

/// `bill.policy` (query): a bank's published instant-discount policy.
pub(crate) fn policy(cx: &mut Cx<'_>, a: ById) -> Out {
    let policy: Option<DiscountPolicy> = cx.get(&keys::policy(&a.id))?;
    ok(&policy)
}
