//! Fund movements: instructed `pending`, answered `success` or `failed` by
//! the bank that executes them, `unknown` when the answer does not come in
//! time (never taken as failure: a later answer or the day's reconciliation
//! resolves it); reversal by the originator, idempotent; end-of-day
//! reconciliation against the bank's statement.

use alloc::collections::BTreeSet;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::codes::*;
use crate::ledger::{Cx, Out, Refusal, check_amount, check_id, check_text, ensure, keys, ok, statement_hash};
use crate::party::custody_owner;
use crate::types::*;
use crate::{bill, risk};

/// A movement (`E_UNKNOWN_MOVEMENT`).
pub(crate) fn load(cx: &Cx<'_>, id: &str) -> Result<Movement, Refusal> {
    cx.get(&keys::movement(id))?.ok_or_else(|| Refusal::new(E_UNKNOWN_MOVEMENT, format!("no movement {id}")))
}

fn save(cx: &mut Cx<'_>, m: &Movement) {
    cx.put(&keys::movement(&m.request_id), m);
}

fn event(cx: &mut Cx<'_>, m: &Movement) {
    let e = MovementEvent {
        request_id: m.request_id.clone(),
        kind: m.kind,
        status: m.status,
        amount: m.amount,
        from: m.debit.owner.clone(),
        to: m.credit.owner.clone(),
        bank: m.bank.clone(),
    };
    cx.emit(topics::FUND, &e);
}

/// What a new movement moves.
pub(crate) struct Instruction {
    pub id: String,
    pub kind: MovementKind,
    pub amount: u64,
    pub debit: AccountRef,
    pub credit: AccountRef,
    pub originator: PartyId,
    pub purpose: Purpose,
    pub reference: Option<String>,
}

/// Instructs a movement: `pending` until the debit account's bank answers.
pub(crate) fn instruct(cx: &mut Cx<'_>, i: Instruction) -> Result<Movement, Refusal> {
    check_amount("the movement amount", i.amount)?;
    ensure!(!cx.exists(&keys::movement(&i.id)), E_DUPLICATE, "movement {} exists already", i.id);
    let m = Movement {
        request_id: i.id,
        kind: i.kind,
        original: i.reference,
        amount: i.amount,
        bank: i.debit.account.bank.clone(),
        debit: i.debit,
        credit: i.credit,
        originator: i.originator,
        status: MovementStatus::Pending,
        bank_serial: None,
        purpose: i.purpose,
        reversed_by: None,
        day: cx.today(),
        created_ms: cx.env.time_ms,
        height: cx.env.height,
    };
    save(cx, &m);
    cx.put(&keys::bank_day(&m.bank, m.day, &m.request_id), &());
    cx.put(&keys::pending_movement(&m.request_id), &());
    cx.put(&keys::bank_inbox(&m.bank, &m.request_id), &());
    if let Some(bill) = &m.original {
        if m.kind != MovementKind::Reversal {
            cx.put(&keys::bill_movement(bill, &m.request_id), &());
        }
    }
    event(cx, &m);
    Ok(m)
}

/// Sets a movement's final status and finishes what waits on it.
fn settle(cx: &mut Cx<'_>, m: &mut Movement, status: MovementStatus, serial: Option<String>) -> Result<(), Refusal> {
    m.status = status;
    if serial.is_some() {
        m.bank_serial = serial;
    }
    cx.delete(&keys::pending_movement(&m.request_id));
    cx.delete(&keys::bank_inbox(&m.bank, &m.request_id));
    save(cx, m);
    event(cx, m);
    if let (MovementKind::Reversal, Some(original)) = (m.kind, &m.original) {
        match status {
            MovementStatus::Success => {
                let mut o = load(cx, original)?;
                o.reversed_by = Some(m.request_id.clone());
                save(cx, &o);
            }
            // A failed reversal leaves the way open to another.
            _ => cx.delete(&keys::reversal(original)),
        }
    }
    bill::funds_settled(cx, m)
}

fn check_serial(serial: &str) -> Result<(), Refusal> {
    ensure!(
        !serial.is_empty() && serial.len() <= 64 && serial.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'),
        E_BAD_ARGS,
        "a bank serial number is 1 to 64 letters, digits and dashes"
    );
    Ok(())
}

/// `fund.report`: the executing bank's answer, also after a query for an
/// `unknown` movement. The same answer again changes nothing.
pub(crate) fn report(cx: &mut Cx<'_>, a: ReportMovement) -> Out {
    let bank = cx.actor()?;
    let mut m = load(cx, &a.request_id)?;
    ensure!(
        m.bank == bank.id,
        E_WRONG_PARTY,
        "only the executing bank {} answers for movement {}",
        m.bank,
        m.request_id
    );
    let (status, serial) = match a.outcome {
        Outcome::Success { bank_serial } => {
            check_serial(&bank_serial)?;
            (MovementStatus::Success, Some(bank_serial))
        }
        Outcome::Failed { reason } => {
            check_text("the reason", &reason, 200)?;
            (MovementStatus::Failed, None)
        }
    };
    match m.status {
        MovementStatus::Pending | MovementStatus::Unknown => settle(cx, &mut m, status, serial)?,
        known if known == status => {}
        known => {
            return Err(Refusal::new(
                E_MOVEMENT_SETTLED,
                format!("movement {} is {known:?} already; a correction goes through reversal", m.request_id),
            ));
        }
    }
    ok(&m)
}

/// `fund.mark_unknown`: the originator or the bank says the bank's answer did
/// not come; anyone may once the answer timeout has passed in block time.
pub(crate) fn mark_unknown(cx: &mut Cx<'_>, a: ById) -> Out {
    let me = cx.actor()?;
    let mut m = load(cx, &a.id)?;
    ensure!(m.status == MovementStatus::Pending, E_MOVEMENT_SETTLED, "movement {} is {:?}", m.request_id, m.status);
    let overdue = cx.env.time_ms >= m.created_ms.saturating_add(cx.config.answer_timeout_ms);
    ensure!(
        overdue || me.id == m.originator || me.id == m.bank,
        E_FUNDS_PENDING,
        "movement {} has {} ms left to be answered",
        m.request_id,
        m.created_ms.saturating_add(cx.config.answer_timeout_ms).saturating_sub(cx.env.time_ms)
    );
    m.status = MovementStatus::Unknown;
    cx.delete(&keys::pending_movement(&m.request_id));
    save(cx, &m);
    event(cx, &m);
    ok(&m)
}

/// Marks pending movements past the answer timeout `unknown` (at most 500).
pub(crate) fn time_out(cx: &mut Cx<'_>) -> Result<Vec<RequestId>, Refusal> {
    let mut out = Vec::new();
    for (id, _) in cx.scan("mp/", None, 500) {
        let mut m = load(cx, &id)?;
        if m.status == MovementStatus::Pending
            && cx.env.time_ms >= m.created_ms.saturating_add(cx.config.answer_timeout_ms)
        {
            m.status = MovementStatus::Unknown;
            cx.delete(&keys::pending_movement(&id));
            save(cx, &m);
            event(cx, &m);
            out.push(id);
        }
    }
    Ok(out)
}

/// `fund.reverse`: the originator undoes a successful movement. Idempotent:
/// asking again returns the reversal there is.
pub(crate) fn reverse(cx: &mut Cx<'_>, a: Reverse) -> Out {
    let me = cx.actor()?;
    check_id("the request id", &a.request_id)?;
    let original = load(cx, &a.original)?;
    ensure!(
        original.originator == me.id,
        E_REVERSAL_NOT_ORIGINATOR,
        "only {} (the originator) may reverse movement {}",
        original.originator,
        original.request_id
    );
    if let Some(existing) = cx.get::<Movement>(&keys::movement(&a.request_id))? {
        ensure!(
            existing.kind == MovementKind::Reversal
                && existing.original.as_deref() == Some(original.request_id.as_str()),
            E_DUPLICATE,
            "request id {} is another movement's",
            a.request_id
        );
        return ok(&existing);
    }
    if let Some(done) = &original.reversed_by {
        return ok(&load(cx, done)?);
    }
    if let Some(open) = cx.get::<RequestId>(&keys::reversal(&original.request_id))? {
        return ok(&load(cx, &open)?);
    }
    match original.status {
        MovementStatus::Success => {}
        MovementStatus::Unknown => {
            return Err(Refusal::new(
                E_FUNDS_STATUS_UNKNOWN,
                format!("movement {} is unknown: resolve it by query or reconciliation first", original.request_id),
            ));
        }
        MovementStatus::Pending => {
            return Err(Refusal::new(
                E_FUNDS_PENDING,
                format!("movement {} awaits its bank's answer", original.request_id),
            ));
        }
        MovementStatus::Failed => {
            return Err(Refusal::new(
                E_NOTHING_TO_REVERSE,
                format!("movement {} failed: nothing moved", original.request_id),
            ));
        }
    }
    risk::admit(cx, &me.id)?;
    cx.put(&keys::reversal(&original.request_id), &a.request_id);
    let m = instruct(
        cx,
        Instruction {
            id: a.request_id,
            kind: MovementKind::Reversal,
            amount: original.amount,
            debit: original.credit.clone(),
            credit: original.debit.clone(),
            originator: me.id,
            purpose: Purpose::None,
            reference: Some(original.request_id),
        },
    )?;
    ok(&m)
}

/// `fund.fee`: a bank charges a registered party a fee into one of its custody accounts.
pub(crate) fn fee(cx: &mut Cx<'_>, a: ChargeFee) -> Out {
    let bank = cx.actor()?;
    ensure!(bank.kind != PartyKind::Enterprise, E_NOT_BANK, "fees are charged by banks");
    check_id("the request id", &a.request_id)?;
    check_text("the reference", &a.reference, 64)?;
    let payer = cx.counterparty(&a.payer)?;
    let custody = bank
        .custody
        .get(a.custody as usize)
        .cloned()
        .ok_or_else(|| Refusal::new(E_BAD_ARGS, format!("{} has no custody account {}", bank.id, a.custody)))?;
    if let Some(existing) = cx.get::<Movement>(&keys::movement(&a.request_id))? {
        ensure!(
            existing.kind == MovementKind::Fee && existing.amount == a.amount && existing.debit.owner == payer.id,
            E_DUPLICATE,
            "request id {} is another movement's",
            a.request_id
        );
        return ok(&existing);
    }
    let m = instruct(
        cx,
        Instruction {
            id: a.request_id,
            kind: MovementKind::Fee,
            amount: a.amount,
            debit: AccountRef { owner: payer.id.clone(), account: payer.account },
            credit: AccountRef { owner: custody_owner(&bank.id), account: custody },
            originator: bank.id,
            purpose: Purpose::None,
            reference: None,
        },
    )?;
    ok(&m)
}

/// `fund.reconcile`: matches a bank's statement of a day against the ledger,
/// movement by movement; resolves `pending` and `unknown` movements by it;
/// stores the report. The day closes with `fund.close_day` once it is clean.
pub(crate) fn reconcile(cx: &mut Cx<'_>, a: Reconcile) -> Out {
    let bank = cx.actor()?;
    ensure!(bank.kind != PartyKind::Enterprise, E_NOT_BANK, "statements come from banks");
    ensure!(a.day <= cx.today(), E_DATE_INVALID, "the statement's day {} has not ended", a.day);
    ensure!(a.lines.len() <= 5000, E_BAD_ARGS, "at most 5000 lines per statement");
    ensure!(
        statement_hash(&a.lines) == a.statement_hash,
        E_STATEMENT_HASH_MISMATCH,
        "the statement's digest is not that of its lines"
    );
    let key = keys::report(&bank.id, a.day);
    if let Some(previous) = cx.get::<ReconReport>(&key)? {
        ensure!(!previous.closed, E_DAY_CLOSED, "{} closed {} already", bank.id, a.day);
    }
    let mut report = ReconReport {
        bank: bank.id.clone(),
        day: a.day,
        statement_hash: a.statement_hash,
        matched: Vec::new(),
        resolved: Vec::new(),
        ledger_only: Vec::new(),
        bank_only: Vec::new(),
        mismatched: Vec::new(),
        closed: false,
        height: cx.env.height,
    };
    // Up to 5000 lines: a set, not a list scanned per line (fuel is finite).
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    for line in &a.lines {
        ensure!(
            seen.insert(line.request_id.as_str()),
            E_BAD_ARGS,
            "movement {} is on the statement twice",
            line.request_id
        );
        let ledger =
            cx.get::<Movement>(&keys::movement(&line.request_id))?.filter(|m| m.bank == bank.id && m.day == a.day);
        let Some(mut m) = ledger else {
            report.bank_only.push(line.request_id.clone());
            continue;
        };
        let status = if line.success { MovementStatus::Success } else { MovementStatus::Failed };
        if line.amount != m.amount {
            report.mismatched.push(mismatch(&m, line));
            continue;
        }
        match m.status {
            MovementStatus::Pending | MovementStatus::Unknown => {
                if line.success {
                    check_serial(&line.bank_serial)?;
                }
                settle(cx, &mut m, status, line.success.then(|| line.bank_serial.clone()))?;
                report.resolved.push((m.request_id.clone(), status));
            }
            known if known == status => report.matched.push(m.request_id.clone()),
            _ => report.mismatched.push(mismatch(&m, line)),
        }
    }
    for (id, _) in cx.scan(&keys::bank_day_prefix(&bank.id, a.day), None, 10_000) {
        if seen.contains(&id.as_str()) {
            continue;
        }
        let mut m = load(cx, &id)?;
        match m.status {
            MovementStatus::Failed => {}
            // The bank's statement is its answer: what it does not list, it did not do.
            MovementStatus::Unknown | MovementStatus::Pending => {
                settle(cx, &mut m, MovementStatus::Failed, None)?;
                report.resolved.push((id, MovementStatus::Failed));
            }
            MovementStatus::Success => report.ledger_only.push(id),
        }
    }
    cx.put(&key, &report);
    emit_recon(cx, &report);
    ok(&report)
}

fn mismatch(m: &Movement, line: &StatementLine) -> Mismatch {
    Mismatch {
        request_id: m.request_id.clone(),
        ledger_amount: m.amount,
        bank_amount: line.amount,
        ledger_status: m.status,
        bank_success: line.success,
    }
}

fn emit_recon(cx: &mut Cx<'_>, r: &ReconReport) {
    let counts = [r.matched.len(), r.resolved.len(), r.ledger_only.len(), r.bank_only.len(), r.mismatched.len()]
        .map(|n| n as u32);
    let e = ReconEvent { bank: r.bank.clone(), day: r.day, counts, closed: r.closed };
    cx.emit(topics::RECON, &e);
}

/// `fund.close_day`: closes a bank's day if its reconciliation is clean.
pub(crate) fn close_day(cx: &mut Cx<'_>, a: DayRef) -> Out {
    let bank = cx.actor()?;
    let key = keys::report(&bank.id, a.day);
    let mut report: ReconReport = cx
        .get(&key)?
        .ok_or_else(|| Refusal::new(E_RECON_MISSING, format!("{} has not reconciled {}", bank.id, a.day)))?;
    ensure!(!report.closed, E_DAY_CLOSED, "{} closed {} already", bank.id, a.day);
    ensure!(
        report.clean(),
        E_RECON_MISMATCH,
        "{} on {}: {} ledger-only, {} bank-only, {} mismatched",
        bank.id,
        a.day,
        report.ledger_only.len(),
        report.bank_only.len(),
        report.mismatched.len()
    );
    report.closed = true;
    cx.put(&key, &report);
    emit_recon(cx, &report);
    ok(&report)
}

/// Whether the caller may read `m`: its parties, its bank, administrators, regulators.
fn may_see(cx: &Cx<'_>, m: &Movement) -> bool {
    let me = cx.env.caller.participant.as_deref();
    cx.sees_all()
        || me.is_some_and(|p| {
            p == m.debit.owner || p == m.credit.owner || p == m.bank || p == m.originator || p == m.credit.account.bank
        })
}

/// `fund.movement` (query).
pub(crate) fn get(cx: &mut Cx<'_>, a: ById) -> Out {
    let m: Option<Movement> = cx.get(&keys::movement(&a.id))?;
    if let Some(m) = &m {
        ensure!(may_see(cx, m), E_NOT_AUTHORISED, "movement {} is not the caller's", a.id);
    }
    ok(&m)
}

/// `fund.recon_report` (query): the bank itself, administrators, regulators.
pub(crate) fn recon_report(cx: &mut Cx<'_>, a: ReportRef) -> Out {
    ensure!(
        cx.sees_all() || cx.env.caller.participant.as_deref() == Some(a.bank.as_str()),
        E_NOT_AUTHORISED,
        "only {} itself, administrators and regulators read its reconciliation",
        a.bank
    );
    let report: Option<ReconReport> = cx.get(&keys::report(&a.bank, a.day))?;
    ok(&report)
}
