//! Rendering what the ledger answers, for people (text) and machines (JSON).

use super::*;

// ------------------------------------------------------------------ words

/// Yuan for people: `1,000,000.00`.
pub(super) fn y(fen: u64) -> String {
    flows::yuan(fen)
}

/// Yuan for machines: `1000000.00` (what `Fen::parse_yuan` reads back).
pub(super) fn yj(fen: u64) -> String {
    format!("{}.{:02}", fen / 100, fen % 100)
}

pub(super) fn hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

/// Block time in China Standard Time, the ledger's calendar: `2025-03-10 10:00:00 CST`.
pub(super) fn cst(ms: u64) -> String {
    let local = ms + 8 * 3_600_000;
    let of_day = local % 86_400_000;
    let (h, m, s) = (of_day / 3_600_000, of_day / 60_000 % 60, of_day / 1_000 % 60);
    format!("{} {h:02}:{m:02}:{s:02} CST", Date::of_block_time(ms))
}

pub(super) fn bill_kind(k: BillKind) -> &'static str {
    match k {
        BillKind::BankAcceptance => "bank",
        BillKind::FinanceCompanyAcceptance => "finance-company",
        BillKind::CommercialAcceptance => "commercial",
        BillKind::SupplyChain => "supply-chain",
    }
}

pub(super) fn stage(s: BillStage) -> &'static str {
    match s {
        BillStage::Issued => "issued",
        BillStage::Accepted => "accepted",
        BillStage::Circulating => "circulating",
        BillStage::Cancelled => "cancelled",
    }
}

pub(super) fn party_kind(k: PartyKind) -> &'static str {
    match k {
        PartyKind::Enterprise => "enterprise",
        PartyKind::Bank => "bank",
        PartyKind::FinanceCompany => "finance-company",
    }
}

pub(super) fn order_status(s: OrderStatus) -> &'static str {
    match s {
        OrderStatus::Open => "open",
        OrderStatus::Delivered => "delivered",
        OrderStatus::Closed => "closed",
        OrderStatus::Cancelled => "cancelled",
    }
}

pub(super) fn holding_state(s: &HoldingState) -> String {
    match s {
        HoldingState::Held => "held".into(),
        HoldingState::Pledged { pledgee } => format!("pledged to {pledgee}"),
        HoldingState::Presented { late: false } => "presented".into(),
        HoldingState::Presented { late: true } => "presented (late)".into(),
        HoldingState::Settled => "settled".into(),
        HoldingState::Dishonoured { on, late } => {
            format!("dishonoured {on}{}", if *late { " (late presentment)" } else { "" })
        }
    }
}

pub(super) fn invoice_name(k: &InvoiceKey) -> String {
    if k.code.is_empty() { k.number.clone() } else { format!("{} {}", k.code, k.number) }
}

pub(super) fn units(start: u64, end: u64) -> String {
    format!("{start}..={end}")
}

/// A table: columns padded to their widest cell; headers starting with `>` are right-aligned.
pub(super) fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.trim_start_matches('>').chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut out = String::new();
        for (i, (cell, h)) in cells.iter().zip(headers).enumerate() {
            if i > 0 {
                out.push_str("  ");
            }
            let w = widths[i];
            if h.starts_with('>') {
                let _ = write!(out, "{cell:>w$}");
            } else {
                let _ = write!(out, "{cell:<w$}");
            }
        }
        out.truncate(out.trim_end().len());
        out.push('\n');
        out
    };
    let mut out = line(headers.iter().map(|h| h.trim_start_matches('>')).collect());
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

// ------------------------------------------------------------------ writes

/// What a committed action did, for machines.
pub(super) fn written_json(action: &Action, view: &TxView) -> Value {
    let receipt = view.receipt.as_ref();
    let failed = failure(view);
    let events: Vec<Value> = receipt.map(flows::events).unwrap_or_default().iter().map(event_json).collect();
    let mut value = json!({
        "method": action.method(),
        "tx_id": view.tx_id,
        "height": view.height,
        "status": if failed.is_some() { "failed" } else { "success" },
        "events": events,
    });
    if let Some(f) = failed {
        value["failure"] = json!({ "code": f.code, "message": f.message });
    } else if action.opens_request() {
        value["request"] = json!(view.tx_id);
    }
    value
}

/// What a committed action did, for people.
pub(super) fn written_text(action: &Action, view: &TxView) -> String {
    let height = view.height.map_or_else(|| "?".to_string(), |h| h.to_string());
    let mut out = match failure(view) {
        Some(f) => format!("{} refused at height {height} (tx {}): {}\n", action.method(), view.tx_id, f.code),
        None => format!("{} committed at height {height} (tx {})\n", action.method(), view.tx_id),
    };
    if failure(view).is_none() && action.opens_request() {
        let _ = writeln!(out, "request {}", view.tx_id);
    }
    for e in view.receipt.as_ref().map(flows::events).unwrap_or_default() {
        let _ = writeln!(out, "  {}", event_text(&e));
    }
    out
}

pub(super) fn event_json(e: &FlowEvent) -> Value {
    match e {
        FlowEvent::PartyRegistered(p) => json!({ "topic": flows::topics::PARTY_REGISTERED, "party": party_json(p) }),
        FlowEvent::Order(o) => json!({
            "topic": flows::topics::ORDER, "order": o.order, "action": o.action, "actor": o.actor,
            "buyer": o.buyer, "seller": o.seller, "amount": yj(o.amount),
        }),
        FlowEvent::Invoice(i) => json!({
            "topic": flows::topics::INVOICE, "code": i.key.code, "number": i.key.number, "action": i.action,
            "actor": i.actor, "seller": i.seller, "buyer": i.buyer, "occupied": yj(i.occupied),
        }),
        FlowEvent::Bill(h) => {
            let mut v = history_json(h);
            v["topic"] = json!(flows::topics::BILL);
            v
        }
        FlowEvent::Movement(m) => json!({
            "topic": flows::topics::FUND, "request_id": m.request_id, "kind": m.kind.name(),
            "status": m.status.name(), "amount": yj(m.amount), "from": m.from, "to": m.to, "bank": m.bank,
        }),
        FlowEvent::Reconciled(r) => json!({
            "topic": flows::topics::RECON, "bank": r.bank, "day": r.day.to_string(),
            "matched": r.counts[0], "resolved": r.counts[1], "ledger_only": r.counts[2],
            "bank_only": r.counts[3], "mismatched": r.counts[4], "closed": r.closed,
        }),
        FlowEvent::RiskAlert(a) => json!({
            "topic": flows::topics::RISK_ALERT, "rule": a.rule, "party": a.party, "key_id": a.key_id,
            "method": a.method, "facts": a.facts,
        }),
        FlowEvent::Other { topic, data } => json!({ "topic": topic, "data": hex(data) }),
    }
}

pub(super) fn event_text(e: &FlowEvent) -> String {
    match e {
        FlowEvent::PartyRegistered(p) => format!(
            "party {} registered: {}, {}, account {} at {}",
            p.id,
            party_kind(p.kind),
            p.city,
            p.account.masked,
            p.account.bank
        ),
        FlowEvent::Order(o) => {
            format!(
                "order {} {} by {}: {} yuan ({} buys from {})",
                o.order,
                o.action,
                o.actor,
                y(o.amount),
                o.buyer,
                o.seller
            )
        }
        FlowEvent::Invoice(i) => {
            format!("invoice {} {} by {}: {} yuan occupied", invoice_name(&i.key), i.action, i.actor, y(i.occupied))
        }
        FlowEvent::Bill(h) => {
            let mut line = format!("bill {} #{} {} by {}", h.bill, h.seq, h.action, h.actor);
            if let Some(c) = &h.counterparty {
                let _ = write!(line, " with {c}");
            }
            let _ = write!(line, ", units {} ({} yuan)", units(h.start, h.end), y(h.end - h.start + 1));
            if let Some(r) = &h.request {
                let _ = write!(line, ", request {r}");
            }
            if let Some(m) = &h.movement {
                let _ = write!(line, ", movement {m}");
            }
            if !h.note.is_empty() {
                let _ = write!(line, ": {}", h.note);
            }
            line
        }
        FlowEvent::Movement(m) => format!(
            "movement {} ({}) {}: {} yuan from {} to {}, bank {}",
            m.request_id,
            m.kind.name(),
            m.status.name(),
            y(m.amount),
            m.from,
            m.to,
            m.bank
        ),
        FlowEvent::Reconciled(r) => format!(
            "reconciliation of {} on {}: {} matched, {} resolved, {} ledger-only, {} bank-only, {} mismatched{}",
            r.bank,
            r.day,
            r.counts[0],
            r.counts[1],
            r.counts[2],
            r.counts[3],
            r.counts[4],
            if r.closed { "; day closed" } else { "" }
        ),
        FlowEvent::RiskAlert(a) => format!("risk alert {} on {} ({}): {}", a.rule, a.party, a.method, a.facts),
        FlowEvent::Other { topic, data } => format!("event {topic} ({} bytes)", data.len()),
    }
}

// ------------------------------------------------------------------ records

pub(super) fn account_json(a: &Account) -> Value {
    json!({ "bank": a.bank, "masked": a.masked, "number_hash": hex(&a.number_hash) })
}

pub(super) fn account_ref_json(a: &AccountRef) -> Value {
    json!({ "owner": a.owner, "account": account_json(&a.account) })
}

pub(super) fn party_json(p: &Party) -> Value {
    json!({
        "id": p.id, "kind": party_kind(p.kind), "tenant": p.tenant, "org": p.org, "city": p.city,
        "account": account_json(&p.account), "custody": p.custody.iter().map(account_json).collect::<Vec<_>>(),
        "height": p.height,
    })
}

pub(super) fn party_text(p: &Party) -> String {
    let mut out = format!("party    {}\nkind     {}\n", p.id, party_kind(p.kind));
    if let Some(t) = &p.tenant {
        let _ = writeln!(out, "tenant   {t}");
    }
    if let Some(o) = &p.org {
        let _ = writeln!(out, "org      {o}");
    }
    let _ = writeln!(out, "city     {}", p.city);
    let _ =
        writeln!(out, "account  {} at {} (digest {})", p.account.masked, p.account.bank, hex(&p.account.number_hash));
    for (i, c) in p.custody.iter().enumerate() {
        let _ = writeln!(out, "custody  #{i} {} at {}", c.masked, c.bank);
    }
    let _ = writeln!(out, "height   {}", p.height);
    out
}

pub(super) fn order_json(o: &Order) -> Value {
    json!({
        "id": o.id, "buyer": o.buyer, "seller": o.seller, "amount": yj(o.amount), "date": o.date.to_string(),
        "status": order_status(o.status), "delivered": yj(o.delivered()), "financed": yj(o.financed),
        "deliveries": o.deliveries.iter().map(|d| json!({
            "id": d.id, "amount": yj(d.amount), "date": d.date.to_string(), "confirmed": d.confirmed,
            "evidence": d.evidence.map(|h| hex(&h)),
        })).collect::<Vec<_>>(),
        "invoices": o.invoices.iter().map(|k| json!({ "code": k.code, "number": k.number })).collect::<Vec<_>>(),
        "evidence": o.evidence.map(|h| hex(&h)),
        "height": o.height,
    })
}

pub(super) fn order_text(o: &Order) -> String {
    let mut out = format!(
        "order     {}\nbuyer     {}\nseller    {}\namount    {} yuan, dated {}\nstatus    {}\ndelivered {} yuan\nfinanced  {} yuan\n",
        o.id,
        o.buyer,
        o.seller,
        y(o.amount),
        o.date,
        order_status(o.status),
        y(o.delivered()),
        y(o.financed)
    );
    if let Some(h) = &o.evidence {
        let _ = writeln!(out, "evidence  {}", hex(h));
    }
    if !o.deliveries.is_empty() {
        let rows: Vec<Vec<String>> = o
            .deliveries
            .iter()
            .map(|d| vec![d.id.clone(), y(d.amount), d.date.to_string(), if d.confirmed { "yes" } else { "no" }.into()])
            .collect();
        out.push('\n');
        out.push_str(&table(&["DELIVERY", ">AMOUNT", "DATE", "CONFIRMED"], &rows));
    }
    if !o.invoices.is_empty() {
        let names: Vec<String> = o.invoices.iter().map(invoice_name).collect();
        let _ = writeln!(out, "\ninvoices  {}", names.join(", "));
    }
    out
}

pub(super) fn invoice_json(i: &Invoice) -> Value {
    json!({
        "code": i.key.code, "number": i.key.number, "order": i.order, "date": i.date.to_string(),
        "amount": yj(i.amount_inc_tax), "amount_ex_tax": yj(i.amount_ex_tax), "seller": i.seller, "buyer": i.buyer,
        "check_code": i.check_code, "verified_by": i.verified_by, "occupied": yj(i.occupied), "free": yj(i.free()),
        "occupations": i.occupations.iter().map(|o| json!({
            "request": o.request, "bill": o.bill, "amount": yj(o.amount),
        })).collect::<Vec<_>>(),
        "evidence": i.evidence.map(|h| hex(&h)),
        "height": i.height,
    })
}

pub(super) fn invoice_text(i: &Invoice) -> String {
    let mut out = format!(
        "invoice   {}\norder     {}\ndate      {}\namount    {} yuan ({} before tax)\nseller    {}\nbuyer     {}\n",
        invoice_name(&i.key),
        i.order,
        i.date,
        y(i.amount_inc_tax),
        y(i.amount_ex_tax),
        i.seller,
        i.buyer
    );
    let _ = writeln!(out, "verified  {}", i.verified_by.as_deref().map_or("no".to_string(), |v| format!("by {v}")));
    let _ = writeln!(out, "occupied  {} yuan, free {} yuan", y(i.occupied), y(i.free()));
    if !i.occupations.is_empty() {
        let rows: Vec<Vec<String>> =
            i.occupations.iter().map(|o| vec![o.request.clone(), o.bill.clone(), y(o.amount)]).collect();
        out.push('\n');
        out.push_str(&table(&["REQUEST", "BILL", ">AMOUNT"], &rows));
    }
    out
}

pub(super) fn holding_state_json(s: &HoldingState) -> Value {
    match s {
        HoldingState::Held => json!({ "state": "held" }),
        HoldingState::Pledged { pledgee } => json!({ "state": "pledged", "pledgee": pledgee }),
        HoldingState::Presented { late } => json!({ "state": "presented", "late": late }),
        HoldingState::Settled => json!({ "state": "settled" }),
        HoldingState::Dishonoured { on, late } => json!({ "state": "dishonoured", "on": on.to_string(), "late": late }),
    }
}

pub(super) fn holding_json(h: &Holding) -> Value {
    json!({
        "start": h.start, "end": h.end, "amount": yj(h.amount()), "holder": h.holder, "chain": h.chain,
        "state": holding_state_json(&h.state), "locked_by": h.locked_by,
    })
}

pub(super) fn bill_json(b: &Bill) -> Value {
    json!({
        "number": b.number, "type": bill_kind(b.kind), "amount": yj(b.amount), "issue_date": b.issue_date.to_string(),
        "due_date": b.due_date.to_string(), "drawer": b.drawer, "acceptor": b.acceptor, "payee": b.payee,
        "splittable": b.splittable, "non_transferable": b.non_transferable, "stage": stage(b.stage),
        "frozen": b.frozen, "locked_by": b.locked_by, "holdings": b.holdings.iter().map(holding_json).collect::<Vec<_>>(),
        "evidence": b.evidence.map(|h| hex(&h)), "history_len": b.history_len, "height": b.height,
    })
}

pub(super) fn history_json(h: &HistoryEntry) -> Value {
    json!({
        "bill": h.bill, "seq": h.seq, "height": h.height, "time_ms": h.time_ms, "tx_id": h.tx_id,
        "action": h.action, "actor": h.actor, "counterparty": h.counterparty, "start": h.start, "end": h.end,
        "request": h.request, "movement": h.movement, "note": h.note,
    })
}

pub(super) fn request_json(r: &Request) -> Value {
    let mut v = json!({
        "id": r.id, "kind": r.kind.name(), "bill": r.bill, "start": r.start, "end": r.end,
        "amount": yj(r.end - r.start + 1), "from": r.from, "to": r.to, "day": r.day.to_string(),
        "height": r.height, "status": r.status,
    });
    match &r.kind {
        RequestKind::Discount(t) => {
            v["order"] = json!(t.order);
            v["invoices"] = t
                .invoices
                .iter()
                .map(|(k, a)| json!({ "code": k.code, "number": k.number, "amount": yj(*a) }))
                .collect();
            v["rate_ppm"] = json!(t.rate.map(|r| r.0));
            v["figures"] = json!(t.figures.map(|f| json!({
                "due": f.due.to_string(), "days": f.days, "interest": yj(f.interest), "net": yj(f.net.0),
            })));
            v["disbursement"] = json!(t.disbursement);
            v["instant"] = json!(t.instant);
        }
        RequestKind::Rediscount { rate } => v["rate_ppm"] = json!(rate.0),
        RequestKind::Presentment { late } => v["late"] = json!(late),
        _ => {}
    }
    v
}

pub(super) fn purpose_json(p: &Purpose) -> Value {
    match p {
        Purpose::None => Value::Null,
        Purpose::Discount(r) => json!({ "discount": r }),
        Purpose::Payment(r) => json!({ "payment": r }),
        Purpose::Recourse(r) => json!({ "recourse": r }),
    }
}

pub(super) fn movement_json(m: &Movement) -> Value {
    json!({
        "request_id": m.request_id, "kind": m.kind.name(), "original": m.original, "amount": yj(m.amount),
        "debit": account_ref_json(&m.debit), "credit": account_ref_json(&m.credit), "bank": m.bank,
        "originator": m.originator, "status": m.status.name(), "bank_serial": m.bank_serial,
        "purpose": purpose_json(&m.purpose), "reversed_by": m.reversed_by, "day": m.day.to_string(),
        "created_ms": m.created_ms, "height": m.height,
    })
}

pub(super) fn movement_text(m: &Movement) -> String {
    let mut out = format!(
        "movement   {}\nkind       {}\nstatus     {}{}\namount     {} yuan\n",
        m.request_id,
        m.kind.name(),
        m.status.name(),
        m.bank_serial.as_deref().map(|s| format!(" (bank serial {s})")).unwrap_or_default(),
        y(m.amount)
    );
    let _ = writeln!(out, "from       {} ({} at {})", m.debit.owner, m.debit.account.masked, m.debit.account.bank);
    let _ = writeln!(out, "to         {} ({} at {})", m.credit.owner, m.credit.account.masked, m.credit.account.bank);
    let _ = writeln!(out, "bank       {}\noriginator {}", m.bank, m.originator);
    match &m.purpose {
        Purpose::None => {}
        Purpose::Discount(r) => {
            let _ = writeln!(out, "completes  discount request {r}");
        }
        Purpose::Payment(r) => {
            let _ = writeln!(out, "completes  presentment {r}");
        }
        Purpose::Recourse(r) => {
            let _ = writeln!(out, "completes  recourse claim {r}");
        }
    }
    if let Some(o) = &m.original {
        let what = if m.kind == MovementKind::Reversal { "reverses" } else { "bill" };
        let _ = writeln!(out, "{what:<10} {o}");
    }
    if let Some(r) = &m.reversed_by {
        let _ = writeln!(out, "reversed   by {r}");
    }
    let _ = writeln!(out, "day        {} ({}, height {})", m.day, cst(m.created_ms), m.height);
    out
}

pub(super) fn movement_rows(ms: &[Movement]) -> String {
    let rows: Vec<Vec<String>> = ms
        .iter()
        .map(|m| {
            vec![
                m.request_id.clone(),
                m.kind.name().into(),
                y(m.amount),
                m.debit.owner.clone(),
                m.credit.owner.clone(),
                m.bank.clone(),
                m.status.name().into(),
                m.bank_serial.clone().unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    table(&["MOVEMENT", "KIND", ">AMOUNT", "FROM", "TO", "BANK", "STATUS", "SERIAL"], &rows)
}

pub(super) fn bill_view_json(v: &BillView) -> Value {
    json!({
        "bill": bill_json(&v.bill),
        "history": v.history.iter().map(history_json).collect::<Vec<_>>(),
        "pending": v.pending.iter().map(request_json).collect::<Vec<_>>(),
        "movements": v.movements.iter().map(movement_json).collect::<Vec<_>>(),
        "orders": v.orders,
        "invoices": v.invoices.iter().map(|k| json!({ "code": k.code, "number": k.number })).collect::<Vec<_>>(),
    })
}

pub(super) fn bill_view_text(v: &BillView) -> String {
    let b = &v.bill;
    let mut out = format!(
        "bill      {}\ntype      {}\namount    {} yuan (units 1..={})\nissued    {}\ndue       {}\ndrawer    {}\nacceptor  {}\npayee     {}\n",
        b.number,
        bill_kind(b.kind),
        y(b.amount),
        b.amount,
        b.issue_date,
        b.due_date,
        b.drawer,
        b.acceptor,
        b.payee
    );
    let mut marks = vec![stage(b.stage).to_string()];
    marks.push(if b.splittable { "splittable" } else { "not splittable" }.into());
    if b.non_transferable {
        marks.push("not transferable".into());
    }
    let _ = writeln!(out, "stage     {}", marks.join(", "));
    if let Some(reason) = &b.frozen {
        let _ = writeln!(out, "FROZEN    {reason}");
    }
    if let Some(r) = &b.locked_by {
        let _ = writeln!(out, "locked    by request {r}");
    }
    if let Some(h) = &b.evidence {
        let _ = writeln!(out, "evidence  {}", hex(h));
    }
    if !b.holdings.is_empty() {
        out.push_str("\nSub-ranges\n");
        let rows: Vec<Vec<String>> = b
            .holdings
            .iter()
            .map(|h| {
                vec![
                    units(h.start, h.end),
                    y(h.amount()),
                    h.holder.clone(),
                    holding_state(&h.state),
                    h.locked_by.clone().unwrap_or_else(|| "-".into()),
                    h.chain.join(" > "),
                ]
            })
            .collect();
        out.push_str(&table(&["UNITS", ">AMOUNT", "HOLDER", "STATE", "LOCKED BY", "EARLIER PARTIES"], &rows));
    }
    if !v.history.is_empty() {
        out.push_str("\nHistory\n");
        let rows: Vec<Vec<String>> = v
            .history
            .iter()
            .map(|h| {
                let mut refs = Vec::new();
                if let Some(r) = &h.request {
                    refs.push(format!("request {r}"));
                }
                if let Some(m) = &h.movement {
                    refs.push(format!("movement {m}"));
                }
                if !h.note.is_empty() {
                    refs.push(h.note.clone());
                }
                vec![
                    h.seq.to_string(),
                    cst(h.time_ms),
                    h.action.clone(),
                    h.actor.clone(),
                    h.counterparty.clone().unwrap_or_else(|| "-".into()),
                    units(h.start, h.end),
                    refs.join("; "),
                ]
            })
            .collect();
        out.push_str(&table(&[">#", "TIME", "ACTION", "BY", "WITH", "UNITS", "DETAILS"], &rows));
    }
    if !v.pending.is_empty() {
        out.push_str("\nPending requests\n");
        let rows: Vec<Vec<String>> = v
            .pending
            .iter()
            .map(|r| {
                vec![
                    r.id.clone(),
                    r.kind.name().into(),
                    units(r.start, r.end),
                    r.from.clone(),
                    r.to.clone(),
                    r.day.to_string(),
                    r.status.clone(),
                ]
            })
            .collect();
        out.push_str(&table(&["REQUEST", "KIND", "UNITS", "FROM", "TO", "DAY", "STATUS"], &rows));
    }
    if !v.movements.is_empty() {
        out.push_str("\nMovements\n");
        out.push_str(&movement_rows(&v.movements));
    }
    if !v.orders.is_empty() {
        let _ = writeln!(out, "\norders    {}", v.orders.join(", "));
    }
    if !v.invoices.is_empty() {
        let names: Vec<String> = v.invoices.iter().map(invoice_name).collect();
        let _ = writeln!(out, "invoices  {}", names.join(", "));
    }
    out
}

pub(super) fn summary_json(s: &BillSummary) -> Value {
    json!({
        "number": s.number, "type": bill_kind(s.kind), "amount": yj(s.amount), "due_date": s.due_date.to_string(),
        "drawer": s.drawer, "acceptor": s.acceptor, "stage": stage(s.stage), "held_by_caller": yj(s.held_by_caller),
    })
}

pub(super) fn list_text(bills: &[BillSummary], limit: u32) -> String {
    if bills.is_empty() {
        return "no bills\n".into();
    }
    let rows: Vec<Vec<String>> = bills
        .iter()
        .map(|s| {
            vec![
                s.number.clone(),
                bill_kind(s.kind).into(),
                y(s.amount),
                s.due_date.to_string(),
                s.drawer.clone(),
                s.acceptor.clone(),
                stage(s.stage).into(),
                y(s.held_by_caller),
            ]
        })
        .collect();
    let mut out = table(&["BILL", "TYPE", ">AMOUNT", "DUE", "DRAWER", "ACCEPTOR", "STAGE", ">YOURS"], &rows);
    let page = if limit == 0 { 20 } else { limit.min(100) };
    if let Some(last) = bills.last().filter(|_| bills.len() as u32 >= page) {
        let _ = writeln!(out, "(more: --after {})", last.number);
    }
    out
}

pub(super) fn holding_view_json(h: &HoldingView) -> Value {
    let mut v = holding_json(&h.holding);
    v["bill"] = json!(h.bill);
    v["due_date"] = json!(h.due_date.to_string());
    v["acceptor"] = json!(h.acceptor);
    v
}

pub(super) fn holdings_text(party: &str, holdings: &[HoldingView]) -> String {
    if holdings.is_empty() {
        return format!("{party} holds nothing\n");
    }
    let rows: Vec<Vec<String>> = holdings
        .iter()
        .map(|h| {
            vec![
                h.bill.clone(),
                units(h.holding.start, h.holding.end),
                y(h.holding.amount()),
                h.due_date.to_string(),
                h.acceptor.clone(),
                holding_state(&h.holding.state),
                h.holding.locked_by.clone().unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    let total: u64 = holdings.iter().map(|h| h.holding.amount()).sum();
    let mut out = table(&["BILL", "UNITS", ">AMOUNT", "DUE", "ACCEPTOR", "STATE", "LOCKED BY"], &rows);
    let _ = writeln!(out, "{party} holds {} yuan in {} sub-range(s)", y(total), holdings.len());
    out
}

pub(super) fn policy_json(bank: &str, p: &DiscountPolicy) -> Value {
    json!({
        "bank": bank, "enabled": p.enabled, "acceptors": p.acceptors, "max_amount": yj(p.max_amount),
        "bands": p.rates.iter().map(|b| json!({ "max_days": b.max_days, "rate_ppm": b.rate.0 })).collect::<Vec<_>>(),
        "daily_limit_per_enterprise": yj(p.daily_limit_per_enterprise),
    })
}

pub(super) fn policy_text(bank: &str, p: &DiscountPolicy) -> String {
    let mut out = format!(
        "bank        {bank}\nenabled     {}\nacceptors   {}\nmax amount  {} yuan per request\n",
        if p.enabled { "yes" } else { "no" },
        p.acceptors.join(", "),
        y(p.max_amount)
    );
    let daily = if p.daily_limit_per_enterprise == 0 {
        "no limit".to_string()
    } else {
        format!("{} yuan per enterprise", y(p.daily_limit_per_enterprise))
    };
    let _ = writeln!(out, "daily       {daily}");
    for b in &p.rates {
        let _ = writeln!(out, "rate        {} a year up to {} days", flows::percent(b.rate), b.max_days);
    }
    out
}

pub(super) fn recon_json(r: &ReconReport) -> Value {
    json!({
        "bank": r.bank, "day": r.day.to_string(), "statement_hash": hex(&r.statement_hash), "clean": r.clean(),
        "closed": r.closed, "matched": r.matched,
        "resolved": r.resolved.iter().map(|(id, s)| json!({ "request_id": id, "status": s.name() })).collect::<Vec<_>>(),
        "ledger_only": r.ledger_only, "bank_only": r.bank_only,
        "mismatched": r.mismatched.iter().map(|m| json!({
            "request_id": m.request_id, "ledger_amount": yj(m.ledger_amount), "bank_amount": yj(m.bank_amount),
            "ledger_status": m.ledger_status.name(), "bank_success": m.bank_success,
        })).collect::<Vec<_>>(),
        "height": r.height,
    })
}

pub(super) fn recon_text(r: &ReconReport) -> String {
    let state = match (r.closed, r.clean()) {
        (true, _) => "closed",
        (false, true) => "clean (close it with fund close-day)",
        (false, false) => "NOT clean",
    };
    let mut out = format!(
        "bank        {}\nday         {}\nstatement   {}\nstate       {state}\n",
        r.bank,
        r.day,
        hex(&r.statement_hash)
    );
    let list = |ids: &[String]| if ids.is_empty() { "-".to_string() } else { ids.join(", ") };
    let _ = writeln!(out, "matched     {}", list(&r.matched));
    let resolved: Vec<String> = r.resolved.iter().map(|(id, s)| format!("{id} → {}", s.name())).collect();
    let _ = writeln!(out, "resolved    {}", list(&resolved));
    let _ = writeln!(out, "ledger-only {}", list(&r.ledger_only));
    let _ = writeln!(out, "bank-only   {}", list(&r.bank_only));
    if !r.mismatched.is_empty() {
        let rows: Vec<Vec<String>> = r
            .mismatched
            .iter()
            .map(|m| {
                vec![
                    m.request_id.clone(),
                    y(m.ledger_amount),
                    m.ledger_status.name().into(),
                    y(m.bank_amount),
                    if m.bank_success { "success" } else { "failed" }.into(),
                ]
            })
            .collect();
        out.push_str("mismatched\n");
        out.push_str(&table(&["MOVEMENT", ">LEDGER", "LEDGER STATUS", ">BANK", "BANK STATUS"], &rows));
    }
    out
}

/// `billflow inbox`: what waits for the caller's answer.
pub(crate) fn inbox_text(inbox: &billflow_sdk::types::view::InboxView) -> String {
    if inbox.requests.is_empty() && inbox.movements.is_empty() {
        return "nothing waits for your answer\n".into();
    }
    let mut out = String::new();
    if !inbox.requests.is_empty() {
        let rows: Vec<Vec<String>> = inbox
            .requests
            .iter()
            .map(|r| {
                vec![r.id.clone(), r.kind.clone(), r.bill.clone(), units(r.start, r.end), r.from.clone(), r.day.clone()]
            })
            .collect();
        out.push_str(&table(&["REQUEST", "KIND", "BILL", ">UNITS", "FROM", "DAY"], &rows));
    }
    if !inbox.movements.is_empty() {
        if !out.is_empty() {
            out.push('\n');
        }
        let rows: Vec<Vec<String>> = inbox
            .movements
            .iter()
            .map(|m| {
                let row = [&m.request_id, &m.kind, &y(m.amount), &m.debit, &m.credit, &m.status, &m.day];
                row.into_iter().cloned().collect()
            })
            .collect();
        out.push_str(&table(&["MOVEMENT", "KIND", ">AMOUNT", "DEBIT", "CREDIT", "STATUS", "DAY"], &rows));
    }
    out
}
