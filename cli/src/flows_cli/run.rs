//! Running a flows command: what it signs or reads, and the files it reads
//! and writes (statements, the account-number salt).

use super::render::*;
use super::*;

// ------------------------------------------------------------------ running

/// What a flows command runs with.
pub(crate) struct Cx<'a> {
    /// The connection and signer.
    pub(crate) session: &'a Session,
    /// The participant of `--as`, if any.
    pub(crate) participant: Option<&'a str>,
    /// `--json`.
    pub(crate) json: bool,
}

/// What a command does: an action to sign, or a read.
pub(super) enum Step {
    /// Sign and submit.
    Act(Box<Action>, Notes),
    /// Everything else (it prints itself).
    Done,
}

/// Extra lines and JSON fields printed with a committed action.
#[derive(Default)]
pub(super) struct Notes {
    pub(super) text: String,
    pub(super) json: Map<String, Value>,
}

/// Runs a flows command.
pub(crate) async fn run(cx: &Cx<'_>, command: FlowsCommand) -> Result<(), CliError> {
    let step = match command {
        FlowsCommand::Party(c) => party(cx, c).await?,
        FlowsCommand::Order(c) => order(cx, c).await?,
        FlowsCommand::Invoice(c) => invoice(cx, c).await?,
        FlowsCommand::Bill(c) => bill(cx, c).await?,
        FlowsCommand::Fund(c) => fund(cx, c).await?,
        FlowsCommand::Risk(c) => Step::Act(Box::new(risk(c)), Notes::default()),
    };
    match step {
        Step::Act(action, notes) => act(cx, &action, notes).await.map(|_| ()),
        Step::Done => Ok(()),
    }
}

/// Signs and submits `action`, waits, prints the outcome; a refusal is an error.
pub(super) async fn act(cx: &Cx<'_>, action: &Action, notes: Notes) -> Result<TxView, CliError> {
    let signer = cx.session.signer()?;
    let view = cx.session.client.flows_submit(signer, action).await?;
    let mut value = written_json(action, &view);
    if let Value::Object(map) = &mut value {
        map.extend(notes.json);
    }
    emit(cx.json, &value, |_| format!("{}{}", written_text(action, &view), notes.text))?;
    match failure(&view) {
        Some(f) => Err(CliError::Failed(f)),
        None => Ok(view),
    }
}

/// Flows queries run as the caller: they need a key.
pub(super) fn need_key(cx: &Cx<'_>) -> Result<(), CliError> {
    cx.session.signer().map(|_| ())
}

pub(super) async fn party(cx: &Cx<'_>, command: PartyCommand) -> Result<Step, CliError> {
    Ok(match command {
        PartyCommand::Register { bank, account_number, city, finance_company, salt_file } => {
            let (account, notes) = salted_account(&bank, &account_number, salt_file)?;
            Step::Act(Box::new(Action::RegisterParty(RegisterParty { account, city, finance_company })), notes)
        }
        PartyCommand::Show { id } => {
            need_key(cx)?;
            let id = &id;
            let party = cx.session.read(|c| async move { c.party(id).await }).await?;
            let party =
                party.ok_or_else(|| CliError::NotFound(format!("{id} has not registered with the flows contract")))?;
            emit(cx.json, &party_json(&party), |_| party_text(&party))?;
            Step::Done
        }
    })
}

pub(super) async fn order(cx: &Cx<'_>, command: OrderCommand) -> Result<Step, CliError> {
    let act = |a| Ok(Step::Act(Box::new(a), Notes::default()));
    match command {
        OrderCommand::Create { id, seller, amount, date, evidence } => {
            act(Action::CreateOrder(CreateOrder { id, seller, amount, date, evidence: evidence.map(|h| h.0) }))
        }
        OrderCommand::Deliver { order, delivery, amount, date, evidence } => {
            act(Action::RecordDelivery(RecordDelivery {
                order,
                delivery,
                amount,
                date,
                evidence: evidence.map(|h| h.0),
            }))
        }
        OrderCommand::Confirm { order, delivery } => act(Action::ConfirmDelivery(DeliveryRef { order, delivery })),
        OrderCommand::Close { id } => act(Action::CloseOrder(ById { id })),
        OrderCommand::Cancel { id } => act(Action::CancelOrder(ById { id })),
        OrderCommand::Show { id } => {
            need_key(cx)?;
            let id = &id;
            let order = cx.session.read(|c| async move { c.order(id).await }).await?;
            emit(cx.json, &order_json(&order), |_| order_text(&order))?;
            Ok(Step::Done)
        }
    }
}

pub(super) async fn invoice(cx: &Cx<'_>, command: InvoiceCommand) -> Result<Step, CliError> {
    let act = |a| Ok(Step::Act(Box::new(a), Notes::default()));
    match command {
        InvoiceCommand::Record {
            code,
            number,
            order,
            date,
            amount,
            amount_ex_tax,
            seller,
            buyer,
            check_code,
            evidence,
        } => act(Action::RecordInvoice(RecordInvoice {
            key: InvoiceKey { code, number },
            order,
            date,
            amount_ex_tax,
            amount_inc_tax: amount,
            seller,
            buyer,
            check_code,
            evidence: evidence.map(|h| h.0),
        })),
        InvoiceCommand::Verify { code, number, check_code } => {
            act(Action::VerifyInvoice(VerifyInvoice { key: InvoiceKey { code, number }, check_code }))
        }
        InvoiceCommand::Show { code, number } => {
            need_key(cx)?;
            let key = &InvoiceKey { code, number };
            let invoice = cx.session.read(|c| async move { c.invoice(key).await }).await?;
            emit(cx.json, &invoice_json(&invoice), |_| invoice_text(&invoice))?;
            Ok(Step::Done)
        }
    }
}

pub(super) fn answer(request: String, reason: String) -> Answer {
    Answer { request, reason }
}

pub(super) async fn bill(cx: &Cx<'_>, command: BillCommand) -> Result<Step, CliError> {
    let act = |a| Ok(Step::Act(Box::new(a), Notes::default()));
    match command {
        BillCommand::Issue {
            number,
            kind,
            amount,
            issue_date,
            due_date,
            acceptor,
            payee,
            non_splittable,
            non_transferable,
            evidence,
        } => act(Action::IssueBill(IssueBill {
            number,
            kind: kind.into(),
            amount,
            issue_date,
            due_date,
            acceptor,
            payee,
            splittable: !non_splittable,
            non_transferable,
            evidence: evidence.map(|h| h.0),
        })),
        BillCommand::RequestAcceptance { number } => act(Action::RequestAcceptance(ByBill { bill: number })),
        BillCommand::RequestDelivery { number } => act(Action::RequestDelivery(ByBill { bill: number })),
        BillCommand::Sign { request } => act(Action::Sign(answer(request, String::new()))),
        BillCommand::Refuse { request, reason } => act(Action::Refuse(answer(request, reason))),
        BillCommand::Withdraw { request, reason } => act(Action::Withdraw(answer(request, reason))),
        BillCommand::Endorse { number, to, units } => act(Action::Endorse(Transfer { range: units.of(&number)?, to })),
        BillCommand::Pledge { number, to, units } => act(Action::Pledge(Transfer { range: units.of(&number)?, to })),
        BillCommand::Release { number, units } => act(Action::Release(units.of(&number)?)),
        BillCommand::Discount { number, units, bank, order, invoices } => {
            act(Action::RequestDiscount(RequestDiscount { range: units.of(&number)?, bank, order, invoices }))
        }
        BillCommand::Approve { request, rate } => act(Action::ApproveDiscount(ApproveDiscount { request, rate })),
        BillCommand::Rediscount { number, units, to, rate } => {
            act(Action::Rediscount(Rediscount { range: units.of(&number)?, to, rate }))
        }
        BillCommand::Present { number, units } => act(Action::Present(units.of(&number)?)),
        BillCommand::Recourse { number, units, against } => {
            act(Action::Recourse(Recourse { range: units.of(&number)?, against }))
        }
        BillCommand::Cancel { number } => act(Action::CancelBill(ByBill { bill: number })),
        BillCommand::Freeze { number, reason } => act(Action::FreezeBill(FreezeBill { bill: number, reason })),
        BillCommand::Unfreeze { number } => act(Action::UnfreezeBill(ByBill { bill: number })),
        BillCommand::Cleanup => act(Action::Cleanup),
        BillCommand::Policy {
            command: PolicyCommand::Set { acceptors, max_amount, mut bands, daily_limit, disabled },
        } => {
            bands.sort_by_key(|b| b.max_days);
            act(Action::SetPolicy(DiscountPolicy {
                enabled: !disabled,
                acceptors,
                max_amount,
                rates: bands,
                daily_limit_per_enterprise: daily_limit.unwrap_or(0),
            }))
        }
        BillCommand::Policy { command: PolicyCommand::Show { bank } } => {
            need_key(cx)?;
            let bank = &bank;
            let policy = cx.session.read(|c| async move { c.policy(bank).await }).await?;
            let policy =
                policy.ok_or_else(|| CliError::NotFound(format!("{bank} has published no discount policy")))?;
            emit(cx.json, &policy_json(bank, &policy), |_| policy_text(bank, &policy))?;
            Ok(Step::Done)
        }
        BillCommand::List { after, limit } => {
            need_key(cx)?;
            let page = &flows::Page { after, limit };
            let bills = cx.session.read(|c| async move { c.bills(page).await }).await?;
            let value = json!({ "bills": bills.iter().map(summary_json).collect::<Vec<_>>() });
            emit(cx.json, &value, |_| list_text(&bills, page.limit))?;
            Ok(Step::Done)
        }
        BillCommand::Show { number } => {
            need_key(cx)?;
            let number = &number;
            let view = cx.session.read(|c| async move { c.bill(number).await }).await?;
            emit(cx.json, &bill_view_json(&view), |_| bill_view_text(&view))?;
            Ok(Step::Done)
        }
        BillCommand::Holdings { party } => {
            need_key(cx)?;
            let party = party.or_else(|| cx.participant.map(str::to_string)).ok_or_else(|| {
                CliError::Usage("name the party whose holdings to show (or sign with --as PARTICIPANT)".into())
            })?;
            let party = &party;
            let holdings = cx.session.read(|c| async move { c.holdings(party).await }).await?;
            let value =
                json!({ "party": party, "holdings": holdings.iter().map(holding_view_json).collect::<Vec<_>>() });
            emit(cx.json, &value, |_| holdings_text(party, &holdings))?;
            Ok(Step::Done)
        }
    }
}

pub(super) async fn fund(cx: &Cx<'_>, command: FundCommand) -> Result<Step, CliError> {
    let act = |a| Ok(Step::Act(Box::new(a), Notes::default()));
    match command {
        FundCommand::Report { movement, success, failed } => {
            let outcome = match (success, failed) {
                (Some(bank_serial), None) => Outcome::Success { bank_serial },
                (None, Some(reason)) => Outcome::Failed { reason },
                _ => return Err(CliError::Usage("give either --success SERIAL or --failed REASON".into())),
            };
            act(Action::ReportMovement(ReportMovement { request_id: movement, outcome }))
        }
        FundCommand::MarkUnknown { movement } => act(Action::MarkUnknown(ById { id: movement })),
        FundCommand::Reverse { original, request_id } => {
            let request_id = request_id.unwrap_or_else(|| format!("{original}.rev"));
            act(Action::Reverse(Reverse { request_id, original }))
        }
        FundCommand::Fee { payer, amount, custody, reference, request_id } => {
            let request_id = match request_id {
                Some(id) => id,
                None => new_tx_id("fee")?.to_string(),
            };
            act(Action::ChargeFee(ChargeFee { request_id, payer, amount, custody, reference }))
        }
        FundCommand::OpenCustody { bank, account_number, salt_file } => {
            let bank = bank
                .or_else(|| cx.participant.map(str::to_string))
                .ok_or_else(|| CliError::Usage("name your bank with --bank BANK (or sign with --as BANK)".into()))?;
            let (account, notes) = salted_account(&bank, &account_number, salt_file)?;
            Ok(Step::Act(Box::new(Action::OpenCustody(OpenCustody { account })), notes))
        }
        FundCommand::Reconcile { day, statement } => {
            let lines = read_statement(&statement)?;
            let reconcile = flows::statement(day, lines);
            let mut notes = Notes {
                text: format!(
                    "statement {} lines, SHA-256 {}\n",
                    reconcile.lines.len(),
                    hex(&reconcile.statement_hash)
                ),
                json: Map::new(),
            };
            notes.json.insert("statement_hash".into(), json!(hex(&reconcile.statement_hash)));
            let action = Action::Reconcile(reconcile);
            if cx.json {
                // One JSON document: the outcome with the report.
                return reconcile_json(cx, &action, notes).await;
            }
            act_then_report(cx, &action, notes, day).await
        }
        FundCommand::CloseDay { day } => act(Action::CloseDay(DayRef { day })),
        FundCommand::Show { movement } => {
            need_key(cx)?;
            let id = &movement;
            let m = cx.session.read(|c| async move { c.movement(id).await }).await?;
            let m = m.ok_or_else(|| CliError::NotFound(format!("no movement {id}")))?;
            emit(cx.json, &movement_json(&m), |_| movement_text(&m))?;
            Ok(Step::Done)
        }
        FundCommand::ReportOf { bank, day } => {
            need_key(cx)?;
            let bank = &bank;
            let report = cx.session.read(|c| async move { c.recon_report(bank, day).await }).await?;
            let report = report.ok_or_else(|| CliError::NotFound(format!("{bank} has not reconciled {day}")))?;
            emit(cx.json, &recon_json(&report), |_| recon_text(&report))?;
            Ok(Step::Done)
        }
    }
}

/// Reconciles, then prints the stored report (text).
pub(super) async fn act_then_report(cx: &Cx<'_>, action: &Action, notes: Notes, day: Date) -> Result<Step, CliError> {
    act(cx, action, notes).await?;
    if let Some(bank) = cx.participant {
        if let Ok(Some(report)) = cx.session.read(|c| async move { c.recon_report(bank, day).await }).await {
            print!("\n{}", recon_text(&report));
        }
    }
    Ok(Step::Done)
}

/// Reconciles and prints one JSON document with the report, if it can be read.
pub(super) async fn reconcile_json(cx: &Cx<'_>, action: &Action, notes: Notes) -> Result<Step, CliError> {
    let signer = cx.session.signer()?;
    let view = cx.session.client.flows_submit(signer, action).await?;
    let mut value = written_json(action, &view);
    if let Value::Object(map) = &mut value {
        map.extend(notes.json);
        if let (None, Some(bank), Action::Reconcile(r)) = (failure(&view), cx.participant, action) {
            let day = r.day;
            if let Ok(Some(report)) = cx.session.read(|c| async move { c.recon_report(bank, day).await }).await {
                map.insert("report".into(), recon_json(&report));
            }
        }
    }
    crate::print_json(&value)?;
    match failure(&view) {
        Some(f) => Err(CliError::Failed(f)),
        None => Ok(Step::Done),
    }
}

pub(super) fn risk(command: RiskCommand) -> Action {
    match command {
        RiskCommand::Limits { party, daily_discount, max_open_requests } => Action::SetLimits(SetLimits {
            party,
            limits: Limits { daily_discount_fen: daily_discount.unwrap_or(0), max_open_requests },
        }),
        RiskCommand::Blacklist { party, reason } => Action::Blacklist(Blacklist { party, reason }),
        RiskCommand::Unblacklist { party } => Action::Unblacklist(ById { id: party }),
    }
}

// ------------------------------------------------------------------ files

/// A line of a statement file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct StatementFileLine {
    request_id: String,
    #[serde(default)]
    bank_serial: String,
    /// Yuan, as a string: `"9924.17"`.
    amount: String,
    success: bool,
}

/// Reads a statement file: a JSON array of `{request_id, bank_serial, amount, success}`.
pub(super) fn read_statement(path: &Path) -> Result<Vec<StatementLine>, CliError> {
    let lines: Vec<StatementFileLine> = read_json(path, "statement (a JSON array of lines)")?;
    lines
        .into_iter()
        .enumerate()
        .map(|(n, l)| {
            let amount = flows::parse_amount(&l.amount).map_err(|e| {
                CliError::Input(format!(
                    "{} line {}: {e} (amounts are yuan strings, e.g. \"9924.17\")",
                    path.display(),
                    n + 1
                ))
            })?;
            Ok(StatementLine { request_id: l.request_id, bank_serial: l.bank_serial, amount, success: l.success })
        })
        .collect()
}

/// The default salt file: `~/.billflow/account-salt`.
pub(super) fn default_salt_file() -> Result<PathBuf, CliError> {
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .ok_or_else(|| CliError::Usage("no home directory: give --salt-file FILE".into()))?;
    Ok(PathBuf::from(home).join(".billflow").join("account-salt"))
}

/// The account salt in `path`, created (32 random bytes, hex) if absent. Also says whether it was created.
pub(super) fn salt(path: &Path) -> Result<(Vec<u8>, bool), CliError> {
    match std::fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let salt = match hex::decode(text.trim()) {
                Ok(decoded) if decoded.len() >= 16 => decoded,
                _ => bytes,
            };
            if salt.len() < 16 {
                return Err(CliError::Input(format!("{} holds no salt of at least 16 bytes", path.display())));
            }
            Ok((salt, false))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                let mut builder = std::fs::DirBuilder::new();
                builder.recursive(true);
                #[cfg(unix)]
                std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
                builder
                    .create(dir)
                    .map_err(|source| CliError::Io { what: format!("cannot create {}", dir.display()), source })?;
            }
            let mut salt = vec![0u8; 32];
            getrandom::fill(&mut salt).map_err(|e| CliError::Input(format!("no random source: {e}")))?;
            let mut file = create_private(path)?;
            file.write_all(format!("{}\n", hex::encode(&salt)).as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(|source| CliError::Io { what: format!("cannot write {}", path.display()), source })?;
            Ok((salt, true))
        }
        Err(source) => Err(CliError::Io { what: format!("cannot read {}", path.display()), source }),
    }
}

/// The account for the ledger, and notes saying where its salt is.
pub(super) fn salted_account(
    bank: &str,
    number: &str,
    salt_file: Option<PathBuf>,
) -> Result<(Account, Notes), CliError> {
    let path = match salt_file {
        Some(p) => p,
        None => default_salt_file()?,
    };
    let (salt, created) = salt(&path)?;
    let account = flows::account(bank, number, &salt).map_err(|e| match e {
        SdkError::Invalid(m) => CliError::Usage(m),
        other => CliError::Sdk(other),
    })?;
    let text = if created {
        format!("account salt created in {} (keep it: the ledger's digest of the number needs it)\n", path.display())
    } else {
        format!("account salt from {}\n", path.display())
    };
    let mut notes = Notes { text, json: Map::new() };
    notes.json.insert("salt_file".into(), json!(path));
    notes.json.insert("salt_created".into(), json!(created));
    notes.json.insert("account".into(), account_json(&account));
    Ok((account, notes))
}
