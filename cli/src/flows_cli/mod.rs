//! The bill, fund and order flows on the command line: `party`, `order`,
//! `invoice`, `bill`, `fund` and `risk`, built on [`billflow_sdk::flows`].
//!
//! A command that writes signs one transaction of the flows contract, waits
//! for its commit and prints what the receipt's events say happened; a
//! request's id is its transaction's id. A refusal prints its code and message
//! (and any risk alert) and exits with status 1. Queries run as the signing
//! key: each party sees its own bills.
//!
//! The commands' arguments are here; running them is in `run.rs`, and
//! rendering what the ledger answers, as text or JSON, in `render.rs`.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use billflow_sdk::flows::finance::{Date, RatePpm};
use billflow_sdk::flows::{
    self, Account, AccountRef, Action, Answer, ApproveDiscount, Bill, BillKind, BillStage, BillSummary, BillView,
    Blacklist, ByBill, ById, ChargeFee, CreateOrder, DayRef, DeliveryRef, DiscountPolicy, FlowEvent, FreezeBill,
    HistoryEntry, Holding, HoldingState, HoldingView, Invoice, InvoiceKey, IssueBill, Limits, Movement, MovementKind,
    OpenCustody, Order, OrderStatus, Outcome, Party, PartyKind, Purpose, Range, RateBand, ReconReport, RecordDelivery,
    RecordInvoice, Recourse, Rediscount, RegisterParty, ReportMovement, Request, RequestDiscount, RequestKind, Reverse,
    SetLimits, StatementLine, Transfer, VerifyInvoice,
};
use billflow_sdk::types::Hash32;
use billflow_sdk::types::view::TxView;
use billflow_sdk::{SdkError, new_tx_id};
use clap::{ArgGroup, Args, Subcommand, ValueEnum};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{CliError, Session, create_private, emit, failure, parse_hash, read_json};

mod render;
mod run;

pub(crate) use render::inbox_text;
pub(crate) use run::{Cx, run};

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

#[cfg(test)]
mod tests {
    use super::render::*;
    use super::run::*;
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
