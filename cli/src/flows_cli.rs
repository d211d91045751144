//! The bill, fund and order flows on the command line: `party`, `order`,
//! `invoice`, `bill`, `fund` and `risk`, built on [`billflow_sdk::flows`].
//!
//! A command that writes signs one transaction of the flows contract, waits
//! for its commit and prints what the receipt's events say happened; a
//! request's id is its transaction's id. A refusal prints its code and message
//! (and any risk alert) and exits with status 1. Queries run as the signing
//! key: each party sees its own bills.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use billflow_sdk::flows::finance::{Date, RatePpm};
use billflow_sdk::flows::{
    self, Account, AccountRef, Action, Answer, ApproveDiscount, Bill, BillKind, BillStage, BillSummary, BillView,
    Blacklist, ByBill, ById, ChargeFee, CreateOrder, DayRef, DeliveryRef, DiscountPolicy, FlowEvent, FreezeBill,
    HistoryEntry, Holding, HoldingState, HoldingView, Invoice, InvoiceKey, IssueBill, Limits, Movement, MovementKind,
    MovementStatus, OpenCustody, Order, OrderStatus, Outcome, Party, PartyKind, Purpose, Range, RateBand, ReconReport,
    RecordDelivery, RecordInvoice, Recourse, Rediscount, RegisterParty, ReportMovement, Request, RequestDiscount,
    RequestKind, Reverse, SetLimits, StatementLine, Transfer, VerifyInvoice,
};
use billflow_sdk::types::Hash32;
use billflow_sdk::types::view::TxView;
use billflow_sdk::{SdkError, new_tx_id};
use clap::{ArgGroup, Args, Subcommand, ValueEnum};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{CliError, Session, create_private, emit, failure, parse_hash, read_json};

// ------------------------------------------------------------------ arguments

/// An amount of yuan in whole fen (`1000000`, `1,000,000.50`).
fn amount(s: &str) -> Result<u64, String> {
    flows::parse_amount(s).map_err(|e| e.to_string())
}

/// A `YYYY-MM-DD` date.
fn date(s: &str) -> Result<Date, String> {
    Date::parse(s).map_err(|e| e.message)
}

/// An annual rate in percent (`1.5` is 15 000 ppm).
fn rate(s: &str) -> Result<RatePpm, String> {
    flows::parse_rate(s).map_err(|e| e.to_string())
}

/// `DAYS:PERCENT` of `--band`.
fn band(s: &str) -> Result<RateBand, String> {
    let (days, percent) = s.split_once(':').ok_or_else(|| format!("expected DAYS:PERCENT (e.g. 90:1.5), got {s:?}"))?;
    let max_days = days.trim().parse().map_err(|_| format!("{days:?} is not a number of days"))?;
    Ok(RateBand { max_days, rate: rate(percent)? })
}

/// An invoice code: digits, or `-` (or nothing) for a fully digital invoice.
fn invoice_code(s: &str) -> Result<String, String> {
    let code = if s == "-" { "" } else { s };
    if code.bytes().all(|b| b.is_ascii_digit()) {
        Ok(code.to_string())
    } else {
        Err(format!("an invoice code is digits (or - for a digital invoice), got {s:?}"))
    }
}

/// `CODE:NUMBER` of `--invoice` (`:NUMBER` for a digital invoice).
fn invoice_key(s: &str) -> Result<InvoiceKey, String> {
    let (code, number) = s.split_once(':').ok_or_else(|| format!("expected CODE:NUMBER, got {s:?}"))?;
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("an invoice number is digits, got {number:?}"));
    }
    Ok(InvoiceKey { code: invoice_code(code)?, number: number.to_string() })
}

/// An account number: 8 to 32 digits.
fn account_number(s: &str) -> Result<String, String> {
    if s.len() >= 8 && s.len() <= 32 && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(s.to_string())
    } else {
        Err("an account number is 8 to 32 digits, without spaces or dashes".into())
    }
}

/// Units of a bill: `--start` and `--end`, inclusive (unit n is the n-th fen).
#[derive(Debug, Clone, Copy, Args)]
pub(super) struct Units {
    /// The first unit (1 is the bill's first fen).
    #[arg(long, value_name = "UNIT")]
    start: u64,
    /// The last unit, inclusive.
    #[arg(long, value_name = "UNIT")]
    end: u64,
}

impl Units {
    /// The sub-range of `bill`.
    fn of(self, bill: &str) -> Result<Range, CliError> {
        if self.start == 0 || self.end < self.start {
            return Err(CliError::Usage(format!(
                "units run from 1: --start {} --end {} is no sub-range",
                self.start, self.end
            )));
        }
        Ok(Range { bill: bill.to_string(), start: self.start, end: self.end })
    }
}

/// The type of a bill, which decides who may accept it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(super) enum BillType {
    /// Bank acceptance: a bank accepts.
    Bank,
    /// Finance-company acceptance.
    FinanceCompany,
    /// Commercial acceptance: an enterprise accepts.
    Commercial,
    /// Supply-chain bill: the core enterprise accepts.
    SupplyChain,
}

impl From<BillType> for BillKind {
    fn from(t: BillType) -> BillKind {
        match t {
            BillType::Bank => BillKind::BankAcceptance,
            BillType::FinanceCompany => BillKind::FinanceCompanyAcceptance,
            BillType::Commercial => BillKind::CommercialAcceptance,
            BillType::SupplyChain => BillKind::SupplyChain,
        }
    }
}

/// `billflow party …`.
#[derive(Debug, Subcommand)]
pub(super) enum PartyCommand {
    /// Register the signing participant with its settlement account (once).
    /// The account number is masked and salted here: only `6222****1234` and
    /// a digest reach the ledger.
    Register {
        /// The bank that keeps the account (a bank registering names itself).
        #[arg(long, value_name = "BANK")]
        bank: String,
        /// The account number, digits only.
        #[arg(long, value_name = "DIGITS", value_parser = account_number)]
        account_number: String,
        /// The party's city (for the other-city interest rule).
        #[arg(long)]
        city: String,
        /// A bank participant that is a finance company.
        #[arg(long)]
        finance_company: bool,
        /// The salt of the account number's digest (created with 32 random
        /// bytes if absent; default ~/.billflow/account-salt). Keep it.
        #[arg(long, value_name = "FILE")]
        salt_file: Option<PathBuf>,
    },
    /// A registered party.
    Show {
        /// Its participant id.
        id: String,
    },
}

/// `billflow order …`.
#[derive(Debug, Subcommand)]
pub(super) enum OrderCommand {
    /// Record a purchase order or contract, as its buyer.
    Create {
        /// The order's id (1 to 64 of A-Z a-z 0-9 . _ : -).
        id: String,
        /// The seller.
        #[arg(long, value_name = "PARTY")]
        seller: String,
        /// The contract amount in yuan.
        #[arg(long, value_name = "YUAN", value_parser = amount)]
        amount: u64,
        /// The contract date.
        #[arg(long, value_name = "YYYY-MM-DD", value_parser = date)]
        date: Date,
        /// The SHA-256 of the contract document (as recorded with `evidence submit`).
        #[arg(long, value_name = "SHA256", value_parser = parse_hash)]
        evidence: Option<Hash32>,
    },
    /// Record a delivery, as the seller.
    Deliver {
        /// The order.
        order: String,
        /// The delivery's id within the order.
        delivery: String,
        /// The amount delivered, in yuan.
        #[arg(long, value_name = "YUAN", value_parser = amount)]
        amount: u64,
        /// The delivery date.
        #[arg(long, value_name = "YYYY-MM-DD", value_parser = date)]
        date: Date,
        /// The SHA-256 of the delivery note.
        #[arg(long, value_name = "SHA256", value_parser = parse_hash)]
        evidence: Option<Hash32>,
    },
    /// Confirm a delivery, as the buyer.
    Confirm {
        /// The order.
        order: String,
        /// The delivery.
        delivery: String,
    },
    /// Close an order, as the buyer.
    Close {
        /// The order.
        id: String,
    },
    /// Cancel an order nothing was delivered on, as the buyer.
    Cancel {
        /// The order.
        id: String,
    },
    /// An order with its deliveries and invoices.
    Show {
        /// The order.
        id: String,
    },
}

/// `billflow invoice …`.
#[derive(Debug, Subcommand)]
pub(super) enum InvoiceCommand {
    /// Record a VAT invoice of an order, as its seller.
    Record {
        /// The invoice code (10 or 12 digits; - for a fully digital invoice).
        #[arg(value_parser = invoice_code)]
        code: String,
        /// The invoice number (8 or 20 digits).
        number: String,
        /// The order it bills.
        #[arg(long, value_name = "ORDER")]
        order: String,
        /// The invoice date.
        #[arg(long, value_name = "YYYY-MM-DD", value_parser = date)]
        date: Date,
        /// The amount including tax, in yuan.
        #[arg(long, value_name = "YUAN", value_parser = amount)]
        amount: u64,
        /// The amount excluding tax, in yuan.
        #[arg(long, value_name = "YUAN", value_parser = amount)]
        amount_ex_tax: u64,
        /// The seller (the caller).
        #[arg(long, value_name = "PARTY")]
        seller: String,
        /// The buyer.
        #[arg(long, value_name = "PARTY")]
        buyer: String,
        /// The check code printed on the invoice (20 digits, or its last 6).
        #[arg(long, value_name = "DIGITS")]
        check_code: String,
        /// The SHA-256 of the invoice image.
        #[arg(long, value_name = "SHA256", value_parser = parse_hash)]
        evidence: Option<Hash32>,
    },
    /// Record the tax authority's verification, as a bank or notary.
    Verify {
        /// The invoice code (- for a digital invoice).
        #[arg(value_parser = invoice_code)]
        code: String,
        /// The invoice number.
        number: String,
        /// The check code the tax authority confirmed (at least its last 6 digits).
        #[arg(long, value_name = "DIGITS")]
        check_code: String,
    },
    /// An invoice and what financings occupy of it.
    Show {
        /// The invoice code (- for a digital invoice).
        #[arg(value_parser = invoice_code)]
        code: String,
        /// The invoice number.
        number: String,
    },
}

/// `billflow bill …`.
#[derive(Debug, Subcommand)]
pub(super) enum BillCommand {
    /// Issue a bill package, as its drawer.
    Issue {
        /// The package number: 30 digits.
        number: String,
        /// The bill's type.
        #[arg(long = "type", value_name = "TYPE")]
        kind: BillType,
        /// The face amount in yuan.
        #[arg(long, value_name = "YUAN", value_parser = amount)]
        amount: u64,
        /// The issue date (today or earlier).
        #[arg(long, value_name = "YYYY-MM-DD", value_parser = date)]
        issue_date: Date,
        /// The due date (at most six months later).
        #[arg(long, value_name = "YYYY-MM-DD", value_parser = date)]
        due_date: Date,
        /// The acceptor.
        #[arg(long, value_name = "PARTY")]
        acceptor: String,
        /// The payee.
        #[arg(long, value_name = "PARTY")]
        payee: String,
        /// The bill moves whole: no split endorsements or discounts.
        #[arg(long)]
        non_splittable: bool,
        /// Marked "not transferable": it cannot be endorsed.
        #[arg(long)]
        non_transferable: bool,
        /// The SHA-256 of the underlying trade documents.
        #[arg(long, value_name = "SHA256", value_parser = parse_hash)]
        evidence: Option<Hash32>,
    },
    /// Ask the acceptor to accept, as the drawer (a request).
    RequestAcceptance {
        /// The bill.
        number: String,
    },
    /// Deliver the accepted bill to the payee, as the drawer (a request).
    RequestDelivery {
        /// The bill.
        number: String,
    },
    /// Say yes to a request (accept, receive, take an endorsement or pledge, pay, agree).
    Sign {
        /// The request: the id of the transaction that made it.
        request: String,
    },
    /// Say no to a request (a refused presentment is a dishonour).
    Refuse {
        /// The request.
        request: String,
        /// Why.
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Take back a request you made.
    Withdraw {
        /// The request.
        request: String,
        /// Why.
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Endorse units of a holding to another party (a request).
    Endorse {
        /// The bill.
        number: String,
        /// The endorsee.
        #[arg(long, value_name = "PARTY")]
        to: String,
        #[command(flatten)]
        units: Units,
    },
    /// Pledge units of a holding (a request).
    Pledge {
        /// The bill.
        number: String,
        /// The pledgee.
        #[arg(long, value_name = "PARTY")]
        to: String,
        #[command(flatten)]
        units: Units,
    },
    /// Release a pledge back to the pledgor, as the pledgee (a request).
    Release {
        /// The bill.
        number: String,
        #[command(flatten)]
        units: Units,
    },
    /// Ask a bank to discount units of a holding (a request; a bank policy may approve it at once).
    Discount {
        /// The bill.
        number: String,
        #[command(flatten)]
        units: Units,
        /// The bank.
        #[arg(long, value_name = "BANK")]
        bank: String,
        /// The order between you (the seller) and your predecessor on the bill (the buyer).
        #[arg(long, value_name = "ORDER")]
        order: String,
        /// An invoice of that order, CODE:NUMBER (repeatable, in the order to use them).
        #[arg(long = "invoice", value_name = "CODE:NUMBER", value_parser = invoice_key, required = true)]
        invoices: Vec<InvoiceKey>,
    },
    /// Approve a discount request at a rate, as the bank: instructs the disbursement.
    Approve {
        /// The discount request.
        request: String,
        /// The annual rate in percent (1.5 is 1.5 %).
        #[arg(long, value_name = "PERCENT", value_parser = rate)]
        rate: RatePpm,
    },
    /// Sell units to another bank at a rate, as a bank holder (a request).
    Rediscount {
        /// The bill.
        number: String,
        #[command(flatten)]
        units: Units,
        /// The buying bank.
        #[arg(long, value_name = "BANK")]
        to: String,
        /// The annual rate in percent.
        #[arg(long, value_name = "PERCENT", value_parser = rate)]
        rate: RatePpm,
    },
    /// Present units for payment to the acceptor, on or after the due date (a request).
    Present {
        /// The bill.
        number: String,
        #[command(flatten)]
        units: Units,
    },
    /// Claim dishonoured units from an earlier party (a request).
    Recourse {
        /// The bill.
        number: String,
        #[command(flatten)]
        units: Units,
        /// The earlier party: drawer, acceptor or an earlier holder.
        #[arg(long, value_name = "PARTY")]
        against: String,
    },
    /// Cancel a bill its payee has not received, as the drawer.
    Cancel {
        /// The bill.
        number: String,
    },
    /// Freeze a bill (consortium administrators).
    Freeze {
        /// The bill.
        number: String,
        /// The order or ruling behind it.
        #[arg(long)]
        reason: String,
    },
    /// Lift a freeze (consortium administrators).
    Unfreeze {
        /// The bill.
        number: String,
    },
    /// End the requests of past business days; mark movements without a bank answer in time unknown.
    Cleanup,
    /// A bank's instant-discount policy.
    Policy {
        /// What to do with the policy.
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// The bills you may see.
    List {
        /// Start after this package number (the last of the previous page).
        #[arg(long, value_name = "NUMBER")]
        after: Option<String>,
        /// How many (at most 100).
        #[arg(long, value_name = "N", default_value_t = 20)]
        limit: u32,
    },
    /// A bill: its sub-ranges, history, pending requests, movements, orders and invoices.
    Show {
        /// The bill.
        number: String,
    },
    /// What a party holds (default: the participant of --as).
    Holdings {
        /// The party.
        party: Option<String>,
    },
}

/// `billflow bill policy …`.
#[derive(Debug, Subcommand)]
pub(super) enum PolicyCommand {
    /// Register your instant-discount policy, as a bank.
    Set {
        /// An acceptor whose bills qualify (repeatable).
        #[arg(long = "acceptor", value_name = "PARTY", required = true)]
        acceptors: Vec<String>,
        /// The largest amount one request may discount, in yuan.
        #[arg(long, value_name = "YUAN", value_parser = amount)]
        max_amount: u64,
        /// A rate for bills with at most DAYS to run, DAYS:PERCENT (repeatable).
        #[arg(long = "band", value_name = "DAYS:PERCENT", value_parser = band, required = true)]
        bands: Vec<RateBand>,
        /// The most one enterprise may discount with you in a day, in yuan (default: no limit).
        #[arg(long, value_name = "YUAN", value_parser = amount)]
        daily_limit: Option<u64>,
        /// Register the policy switched off.
        #[arg(long)]
        disabled: bool,
    },
    /// A bank's published policy.
    Show {
        /// The bank.
        bank: String,
    },
}

/// `billflow fund …`.
#[derive(Debug, Subcommand)]
pub(super) enum FundCommand {
    /// Answer for a movement, as the executing bank.
    #[command(group(ArgGroup::new("outcome").required(true).args(["success", "failed"])))]
    Report {
        /// The movement (`<request>.disb`, `<request>.pay`, a fee or a reversal).
        movement: String,
        /// It was done: the bank's serial number.
        #[arg(long, value_name = "SERIAL")]
        success: Option<String>,
        /// It was not done: the bank's reason.
        #[arg(long, value_name = "REASON")]
        failed: Option<String>,
    },
    /// The bank's answer did not come: mark the movement unknown (never a failure).
    MarkUnknown {
        /// The movement.
        movement: String,
    },
    /// Undo a successful movement, as its originator (asking again returns the same reversal).
    Reverse {
        /// The movement to undo.
        original: String,
        /// The reversal's own id (default: `<original>.rev`).
        #[arg(long, value_name = "ID")]
        request_id: Option<String>,
    },
    /// Charge a party a fee into one of your custody accounts, as a bank.
    Fee {
        /// Who pays.
        #[arg(long, value_name = "PARTY")]
        payer: String,
        /// How much, in yuan.
        #[arg(long, value_name = "YUAN", value_parser = amount)]
        amount: u64,
        /// Which custody account (its index, from 0).
        #[arg(long, value_name = "N", default_value_t = 0)]
        custody: u32,
        /// The bill or financing it is for.
        #[arg(long)]
        reference: String,
        /// The fee's id (default: a new one; give one to retry safely).
        #[arg(long, value_name = "ID")]
        request_id: Option<String>,
    },
    /// Open a platform custody account with yourself, as a bank.
    OpenCustody {
        /// You, the bank (default: the participant of --as).
        #[arg(long, value_name = "BANK")]
        bank: Option<String>,
        /// The account number, digits only.
        #[arg(long, value_name = "DIGITS", value_parser = account_number)]
        account_number: String,
        /// The salt of the account number's digest (default ~/.billflow/account-salt).
        #[arg(long, value_name = "FILE")]
        salt_file: Option<PathBuf>,
    },
    /// Reconcile a day against your statement, as a bank.
    Reconcile {
        /// The business day.
        #[arg(long, value_name = "YYYY-MM-DD", value_parser = date)]
        day: Date,
        /// The statement: a JSON array of {request_id, bank_serial, amount (yuan), success}.
        #[arg(long, value_name = "FILE")]
        statement: PathBuf,
    },
    /// Close a cleanly reconciled day, as a bank.
    CloseDay {
        /// The business day.
        #[arg(value_parser = date)]
        day: Date,
    },
    /// A movement.
    Show {
        /// The movement.
        movement: String,
    },
    /// A bank's reconciliation report of a day.
    ReportOf {
        /// The bank.
        #[arg(long, value_name = "BANK")]
        bank: String,
        /// The day.
        #[arg(long, value_name = "YYYY-MM-DD", value_parser = date)]
        day: Date,
    },
}

/// `billflow risk …` (consortium administrators).
#[derive(Debug, Subcommand)]
pub(super) enum RiskCommand {
    /// Set a party's limits.
    Limits {
        /// The party.
        party: String,
        /// The most it may ask to discount in a day, in yuan (default: no limit).
        #[arg(long, value_name = "YUAN", value_parser = amount)]
        daily_discount: Option<u64>,
        /// The most requests it may have open at once (0: no limit).
        #[arg(long, value_name = "N")]
        max_open_requests: u32,
    },
    /// Blacklist a party.
    Blacklist {
        /// The party.
        party: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// Lift a blacklisting.
    Unblacklist {
        /// The party.
        party: String,
    },
}

/// The flows commands.
#[derive(Debug)]
pub(super) enum FlowsCommand {
    /// `party …`.
    Party(PartyCommand),
    /// `order …`.
    Order(OrderCommand),
    /// `invoice …`.
    Invoice(InvoiceCommand),
    /// `bill …`.
    Bill(BillCommand),
    /// `fund …`.
    Fund(FundCommand),
    /// `risk …`.
    Risk(RiskCommand),
}

// ------------------------------------------------------------------ running

/// What a flows command runs with.
pub(super) struct Cx<'a> {
    /// The connection and signer.
    pub session: &'a Session,
    /// The participant of `--as`, if any.
    pub participant: Option<&'a str>,
    /// `--json`.
    pub json: bool,
}

/// What a command does: an action to sign, or a read.
enum Step {
    /// Sign and submit.
    Act(Box<Action>, Notes),
    /// Everything else (it prints itself).
    Done,
}

/// Extra lines and JSON fields printed with a committed action.
#[derive(Default)]
struct Notes {
    text: String,
    json: Map<String, Value>,
}

/// Runs a flows command.
pub(super) async fn run(cx: &Cx<'_>, command: FlowsCommand) -> Result<(), CliError> {
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
async fn act(cx: &Cx<'_>, action: &Action, notes: Notes) -> Result<TxView, CliError> {
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
fn need_key(cx: &Cx<'_>) -> Result<(), CliError> {
    cx.session.signer().map(|_| ())
}

async fn party(cx: &Cx<'_>, command: PartyCommand) -> Result<Step, CliError> {
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

async fn order(cx: &Cx<'_>, command: OrderCommand) -> Result<Step, CliError> {
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

async fn invoice(cx: &Cx<'_>, command: InvoiceCommand) -> Result<Step, CliError> {
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

fn answer(request: String, reason: String) -> Answer {
    Answer { request, reason }
}

async fn bill(cx: &Cx<'_>, command: BillCommand) -> Result<Step, CliError> {
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

async fn fund(cx: &Cx<'_>, command: FundCommand) -> Result<Step, CliError> {
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
async fn act_then_report(cx: &Cx<'_>, action: &Action, notes: Notes, day: Date) -> Result<Step, CliError> {
    act(cx, action, notes).await?;
    if let Some(bank) = cx.participant {
        if let Ok(Some(report)) = cx.session.read(|c| async move { c.recon_report(bank, day).await }).await {
            print!("\n{}", recon_text(&report));
        }
    }
    Ok(Step::Done)
}

/// Reconciles and prints one JSON document with the report, if it can be read.
async fn reconcile_json(cx: &Cx<'_>, action: &Action, notes: Notes) -> Result<Step, CliError> {
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
    super::print_json(&value)?;
    match failure(&view) {
        Some(f) => Err(CliError::Failed(f)),
        None => Ok(Step::Done),
    }
}

fn risk(command: RiskCommand) -> Action {
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
struct StatementFileLine {
    request_id: String,
    #[serde(default)]
    bank_serial: String,
    /// Yuan, as a string: `"9924.17"`.
    amount: String,
    success: bool,
}

/// Reads a statement file: a JSON array of `{request_id, bank_serial, amount, success}`.
fn read_statement(path: &Path) -> Result<Vec<StatementLine>, CliError> {
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
fn default_salt_file() -> Result<PathBuf, CliError> {
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .ok_or_else(|| CliError::Usage("no home directory: give --salt-file FILE".into()))?;
    Ok(PathBuf::from(home).join(".billflow").join("account-salt"))
}

/// The account salt in `path`, created (32 random bytes, hex) if absent. Also says whether it was created.
fn salt(path: &Path) -> Result<(Vec<u8>, bool), CliError> {
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
fn salted_account(bank: &str, number: &str, salt_file: Option<PathBuf>) -> Result<(Account, Notes), CliError> {
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

// ------------------------------------------------------------------ words

/// Yuan for people: `1,000,000.00`.
fn y(fen: u64) -> String {
    flows::yuan(fen)
}

/// Yuan for machines: `1000000.00` (what `Fen::parse_yuan` reads back).
fn yj(fen: u64) -> String {
    format!("{}.{:02}", fen / 100, fen % 100)
}

fn hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

/// Block time in China Standard Time, the ledger's calendar: `2025-03-10 10:00:00 CST`.
fn cst(ms: u64) -> String {
    let local = ms + 8 * 3_600_000;
    let of_day = local % 86_400_000;
    let (h, m, s) = (of_day / 3_600_000, of_day / 60_000 % 60, of_day / 1_000 % 60);
    format!("{} {h:02}:{m:02}:{s:02} CST", Date::of_block_time(ms))
}

fn bill_kind(k: BillKind) -> &'static str {
    match k {
        BillKind::BankAcceptance => "bank",
        BillKind::FinanceCompanyAcceptance => "finance-company",
        BillKind::CommercialAcceptance => "commercial",
        BillKind::SupplyChain => "supply-chain",
    }
}

fn stage(s: BillStage) -> &'static str {
    match s {
        BillStage::Issued => "issued",
        BillStage::Accepted => "accepted",
        BillStage::Circulating => "circulating",
        BillStage::Cancelled => "cancelled",
    }
}

fn party_kind(k: PartyKind) -> &'static str {
    match k {
        PartyKind::Enterprise => "enterprise",
        PartyKind::Bank => "bank",
        PartyKind::FinanceCompany => "finance-company",
    }
}

fn order_status(s: OrderStatus) -> &'static str {
    match s {
        OrderStatus::Open => "open",
        OrderStatus::Delivered => "delivered",
        OrderStatus::Closed => "closed",
        OrderStatus::Cancelled => "cancelled",
    }
}

fn movement_kind(k: MovementKind) -> &'static str {
    match k {
        MovementKind::Disbursement => "disbursement",
        MovementKind::Payment => "payment",
        MovementKind::Recourse => "recourse",
        MovementKind::Fee => "fee",
        MovementKind::Reversal => "reversal",
    }
}

fn movement_status(s: MovementStatus) -> &'static str {
    match s {
        MovementStatus::Pending => "pending",
        MovementStatus::Success => "success",
        MovementStatus::Failed => "failed",
        MovementStatus::Unknown => "unknown",
    }
}

fn holding_state(s: &HoldingState) -> String {
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

fn request_kind(k: &RequestKind) -> &'static str {
    match k {
        RequestKind::Acceptance => "acceptance",
        RequestKind::Delivery => "delivery",
        RequestKind::Endorsement => "endorsement",
        RequestKind::Pledge => "pledge",
        RequestKind::Release => "release",
        RequestKind::Discount(_) => "discount",
        RequestKind::Rediscount { .. } => "rediscount",
        RequestKind::Presentment { .. } => "presentment",
        RequestKind::Recourse => "recourse",
    }
}

fn invoice_name(k: &InvoiceKey) -> String {
    if k.code.is_empty() { k.number.clone() } else { format!("{} {}", k.code, k.number) }
}

fn units(start: u64, end: u64) -> String {
    format!("{start}..={end}")
}

/// A table: columns padded to their widest cell; headers starting with `>` are right-aligned.
fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
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
fn written_json(action: &Action, view: &TxView) -> Value {
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
fn written_text(action: &Action, view: &TxView) -> String {
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

fn event_json(e: &FlowEvent) -> Value {
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
            "topic": flows::topics::FUND, "request_id": m.request_id, "kind": movement_kind(m.kind),
            "status": movement_status(m.status), "amount": yj(m.amount), "from": m.from, "to": m.to, "bank": m.bank,
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

fn event_text(e: &FlowEvent) -> String {
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
            movement_kind(m.kind),
            movement_status(m.status),
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

fn account_json(a: &Account) -> Value {
    json!({ "bank": a.bank, "masked": a.masked, "number_hash": hex(&a.number_hash) })
}

fn account_ref_json(a: &AccountRef) -> Value {
    json!({ "owner": a.owner, "account": account_json(&a.account) })
}

fn party_json(p: &Party) -> Value {
    json!({
        "id": p.id, "kind": party_kind(p.kind), "tenant": p.tenant, "org": p.org, "city": p.city,
        "account": account_json(&p.account), "custody": p.custody.iter().map(account_json).collect::<Vec<_>>(),
        "height": p.height,
    })
}

fn party_text(p: &Party) -> String {
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

fn order_json(o: &Order) -> Value {
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

fn order_text(o: &Order) -> String {
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

fn invoice_json(i: &Invoice) -> Value {
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

fn invoice_text(i: &Invoice) -> String {
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

fn holding_state_json(s: &HoldingState) -> Value {
    match s {
        HoldingState::Held => json!({ "state": "held" }),
        HoldingState::Pledged { pledgee } => json!({ "state": "pledged", "pledgee": pledgee }),
        HoldingState::Presented { late } => json!({ "state": "presented", "late": late }),
        HoldingState::Settled => json!({ "state": "settled" }),
        HoldingState::Dishonoured { on, late } => json!({ "state": "dishonoured", "on": on.to_string(), "late": late }),
    }
}

fn holding_json(h: &Holding) -> Value {
    json!({
        "start": h.start, "end": h.end, "amount": yj(h.amount()), "holder": h.holder, "chain": h.chain,
        "state": holding_state_json(&h.state), "locked_by": h.locked_by,
    })
}

fn bill_json(b: &Bill) -> Value {
    json!({
        "number": b.number, "type": bill_kind(b.kind), "amount": yj(b.amount), "issue_date": b.issue_date.to_string(),
        "due_date": b.due_date.to_string(), "drawer": b.drawer, "acceptor": b.acceptor, "payee": b.payee,
        "splittable": b.splittable, "non_transferable": b.non_transferable, "stage": stage(b.stage),
        "frozen": b.frozen, "locked_by": b.locked_by, "holdings": b.holdings.iter().map(holding_json).collect::<Vec<_>>(),
        "evidence": b.evidence.map(|h| hex(&h)), "history_len": b.history_len, "height": b.height,
    })
}

fn history_json(h: &HistoryEntry) -> Value {
    json!({
        "bill": h.bill, "seq": h.seq, "height": h.height, "time_ms": h.time_ms, "tx_id": h.tx_id,
        "action": h.action, "actor": h.actor, "counterparty": h.counterparty, "start": h.start, "end": h.end,
        "request": h.request, "movement": h.movement, "note": h.note,
    })
}

fn request_json(r: &Request) -> Value {
    let mut v = json!({
        "id": r.id, "kind": request_kind(&r.kind), "bill": r.bill, "start": r.start, "end": r.end,
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

fn purpose_json(p: &Purpose) -> Value {
    match p {
        Purpose::None => Value::Null,
        Purpose::Discount(r) => json!({ "discount": r }),
        Purpose::Payment(r) => json!({ "payment": r }),
        Purpose::Recourse(r) => json!({ "recourse": r }),
    }
}

fn movement_json(m: &Movement) -> Value {
    json!({
        "request_id": m.request_id, "kind": movement_kind(m.kind), "original": m.original, "amount": yj(m.amount),
        "debit": account_ref_json(&m.debit), "credit": account_ref_json(&m.credit), "bank": m.bank,
        "originator": m.originator, "status": movement_status(m.status), "bank_serial": m.bank_serial,
        "purpose": purpose_json(&m.purpose), "reversed_by": m.reversed_by, "day": m.day.to_string(),
        "created_ms": m.created_ms, "height": m.height,
    })
}

fn movement_text(m: &Movement) -> String {
    let mut out = format!(
        "movement   {}\nkind       {}\nstatus     {}{}\namount     {} yuan\n",
        m.request_id,
        movement_kind(m.kind),
        movement_status(m.status),
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

fn movement_rows(ms: &[Movement]) -> String {
    let rows: Vec<Vec<String>> = ms
        .iter()
        .map(|m| {
            vec![
                m.request_id.clone(),
                movement_kind(m.kind).into(),
                y(m.amount),
                m.debit.owner.clone(),
                m.credit.owner.clone(),
                m.bank.clone(),
                movement_status(m.status).into(),
                m.bank_serial.clone().unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    table(&["MOVEMENT", "KIND", ">AMOUNT", "FROM", "TO", "BANK", "STATUS", "SERIAL"], &rows)
}

fn bill_view_json(v: &BillView) -> Value {
    json!({
        "bill": bill_json(&v.bill),
        "history": v.history.iter().map(history_json).collect::<Vec<_>>(),
        "pending": v.pending.iter().map(request_json).collect::<Vec<_>>(),
        "movements": v.movements.iter().map(movement_json).collect::<Vec<_>>(),
        "orders": v.orders,
        "invoices": v.invoices.iter().map(|k| json!({ "code": k.code, "number": k.number })).collect::<Vec<_>>(),
    })
}

fn bill_view_text(v: &BillView) -> String {
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
                    request_kind(&r.kind).into(),
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

fn summary_json(s: &BillSummary) -> Value {
    json!({
        "number": s.number, "type": bill_kind(s.kind), "amount": yj(s.amount), "due_date": s.due_date.to_string(),
        "drawer": s.drawer, "acceptor": s.acceptor, "stage": stage(s.stage), "held_by_caller": yj(s.held_by_caller),
    })
}

fn list_text(bills: &[BillSummary], limit: u32) -> String {
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

fn holding_view_json(h: &HoldingView) -> Value {
    let mut v = holding_json(&h.holding);
    v["bill"] = json!(h.bill);
    v["due_date"] = json!(h.due_date.to_string());
    v["acceptor"] = json!(h.acceptor);
    v
}

fn holdings_text(party: &str, holdings: &[HoldingView]) -> String {
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

fn policy_json(bank: &str, p: &DiscountPolicy) -> Value {
    json!({
        "bank": bank, "enabled": p.enabled, "acceptors": p.acceptors, "max_amount": yj(p.max_amount),
        "bands": p.rates.iter().map(|b| json!({ "max_days": b.max_days, "rate_ppm": b.rate.0 })).collect::<Vec<_>>(),
        "daily_limit_per_enterprise": yj(p.daily_limit_per_enterprise),
    })
}

fn policy_text(bank: &str, p: &DiscountPolicy) -> String {
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

fn recon_json(r: &ReconReport) -> Value {
    json!({
        "bank": r.bank, "day": r.day.to_string(), "statement_hash": hex(&r.statement_hash), "clean": r.clean(),
        "closed": r.closed, "matched": r.matched,
        "resolved": r.resolved.iter().map(|(id, s)| json!({ "request_id": id, "status": movement_status(*s) })).collect::<Vec<_>>(),
        "ledger_only": r.ledger_only, "bank_only": r.bank_only,
        "mismatched": r.mismatched.iter().map(|m| json!({
            "request_id": m.request_id, "ledger_amount": yj(m.ledger_amount), "bank_amount": yj(m.bank_amount),
            "ledger_status": movement_status(m.ledger_status), "bank_success": m.bank_success,
        })).collect::<Vec<_>>(),
        "height": r.height,
    })
}

fn recon_text(r: &ReconReport) -> String {
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
    let resolved: Vec<String> = r.resolved.iter().map(|(id, s)| format!("{id} → {}", movement_status(*s))).collect();
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
                    movement_status(m.ledger_status).into(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_parse_as_the_ledger_wants_them() {
        assert_eq!(amount("1,000,000.50"), Ok(100_000_050));
        assert!(amount("1.234").unwrap_err().contains("whole fen"));
        assert_eq!(rate("1.5"), Ok(RatePpm(15_000)));
        assert_eq!(band("90:1.5").unwrap(), RateBand { max_days: 90, rate: RatePpm(15_000) });
        assert!(band("90").is_err() && band("x:1").is_err() && band("90:0").is_err());
        assert_eq!(invoice_key("3100231130:00000001").unwrap().code, "3100231130");
        assert_eq!(invoice_key(":12345678901234567890").unwrap().code, "");
        assert!(invoice_key("3100231130").is_err() && invoice_key("31x:1").is_err() && invoice_key("1:").is_err());
        assert_eq!(invoice_code("-"), Ok(String::new()));
        assert!(account_number("6222 0202").is_err() && account_number("1234567").is_err());
        assert!(Units { start: 0, end: 5 }.of("b").is_err() && Units { start: 6, end: 5 }.of("b").is_err());
        assert_eq!(Units { start: 1, end: 5 }.of("b").unwrap().end, 5);
    }

    #[test]
    fn amounts_print_for_people_and_machines() {
        assert_eq!(y(99_241_667), "992,416.67");
        assert_eq!(yj(99_241_667), "992416.67");
        assert_eq!(flows::parse_amount(&yj(5)).unwrap(), 5);
        assert_eq!(cst(1_741_536_000_000), "2025-03-10 00:00:00 CST");
    }

    #[test]
    fn tables_align() {
        let t = table(&["A", ">N"], &[vec!["xx".into(), "1".into()], vec!["y".into(), "100".into()]]);
        assert_eq!(t, "A     N\nxx    1\ny   100\n");
    }

    #[test]
    fn salts_are_created_once_and_kept_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("salt");
        let (first, created) = salt(&path).unwrap();
        assert!(created);
        assert_eq!(first.len(), 32);
        let (again, created) = salt(&path).unwrap();
        assert_eq!((again, created), (first.clone(), false));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let (account, notes) = salted_account("bank-a", "6222020200112341234", Some(path.clone())).unwrap();
        assert_eq!(account, flows::account("bank-a", "6222020200112341234", &first).unwrap());
        assert_eq!(notes.json["salt_file"], json!(path));
        std::fs::write(&path, "short").unwrap();
        assert!(salt(&path).is_err());
    }

    #[test]
    fn statements_read_yuan_strings() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        std::fs::write(
            &path,
            r#"[{"request_id":"a.disb","bank_serial":"SN-1","amount":"9,924.17","success":true},
                {"request_id":"b.pay","amount":"5","success":false}]"#,
        )
        .unwrap();
        let lines = read_statement(&path).unwrap();
        assert_eq!(lines[0].amount, 992_417);
        assert_eq!((lines[1].bank_serial.as_str(), lines[1].amount, lines[1].success), ("", 500, false));
        std::fs::write(&path, r#"[{"request_id":"a","amount":"1.234","success":true}]"#).unwrap();
        assert!(matches!(read_statement(&path), Err(CliError::Input(m)) if m.contains("line 1")));
        std::fs::write(&path, r#"[{"request_id":"a","amount":12,"success":true}]"#).unwrap();
        assert!(read_statement(&path).is_err(), "amounts are strings");
    }
}
