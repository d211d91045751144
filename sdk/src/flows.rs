//! The flows contract (deployed as [`CONTRACT`], `flows`) from the client's
//! side: bills through their life cycle, the fund movements that go with
//! them, and the orders and invoices behind them.
//!
//! Everything the contract defines is re-exported here: its argument, record
//! and event types, the method names ([`methods`]), the event topics
//! ([`topics`]), the refusal codes ([`codes`]), [`statement_hash`], and the
//! money and date arithmetic ([`finance`]: [`Fen`](finance::Fen),
//! [`Date`](finance::Date), [`RatePpm`](finance::RatePpm)). On top of them:
//! [`Action`], one variant per method that writes, and [`tx`], which signs
//! one; [`Client::flows_act`](crate::Client::flows_act) submits it and waits,
//! and the typed queries ([`Client::bill`](crate::Client::bill) and friends)
//! read the ledger as the signing key sees it: each party sees only its own
//! bills, orders and movements.
//!
//! # Ids
//!
//! - A **request**'s id is the id of the transaction that made it: the
//!   [`TxView::tx_id`](crate::types::view::TxView) returned for
//!   `bill.request_acceptance`, `bill.endorse`, `bill.request_discount`,
//!   `bill.present`, `bill.recourse` and the other requests is what the
//!   counterparty signs ([`Action::Sign`]), refuses or the requester withdraws.
//! - The **disbursement** of a discount is the movement
//!   [`disbursement_id`]`(request)` = `<request>.disb`, instructed when the
//!   bank approves (or its policy approves instantly).
//! - The **payment** of a presentment, and the payment of a recourse claim, is
//!   the movement [`payment_id`]`(request)` = `<request>.pay`, instructed when
//!   the acceptor (or the party claimed from) signs.
//!
//! The executing bank answers a movement with [`Action::ReportMovement`];
//! that answer finishes the request that waits on it.
//!
//! # Accounts
//!
//! An account number never leaves the client in plain text: [`account`]
//! masks it (`6222****1234`) and hashes it with a salt the client keeps.
//!
//! ```no_run
//! # async fn demo(client: &billflow_sdk::Client, me: &billflow_sdk::Signer) -> billflow_sdk::Result<()> {
//! use billflow_sdk::flows::{self, Action, ByBill};
//!
//! let view = client.flows_act(me, &Action::RequestAcceptance(ByBill { bill: "5".repeat(30) })).await?;
//! println!("request {} waits for the acceptor", view.tx_id);
//! # Ok(()) }
//! ```

use std::time::Duration;

use billflow_types::{ContractName, MethodName, Receipt, SignedTx, TxId, Version};
use borsh::BorshDeserialize;
use sha2::{Digest as _, Sha256};

pub use billflow_contract_flows::*;

use crate::{Result, SdkError, Signer};

/// The flows contract's name on a ledger.
pub const CONTRACT: &str = "flows";

/// How long [`Client::flows_act`](crate::Client::flows_act) waits for its transaction to commit.
pub const COMMIT_WAIT: Duration = Duration::from_secs(30);

/// The contract's name as a [`ContractName`].
pub fn contract_name() -> ContractName {
    #[allow(clippy::expect_used)]
    ContractName::new(CONTRACT).expect("valid constant")
}

/// The queries: read-only methods, run with [`Client::flows_query`](crate::Client::flows_query).
pub const QUERY_METHODS: [&str; 11] = [
    methods::PARTY_GET,
    methods::ORDER_GET,
    methods::INVOICE_GET,
    methods::BILL_GET,
    methods::BILL_DISCLOSURE,
    methods::BILL_LIST,
    methods::BILL_HOLDINGS,
    methods::BILL_POLICY,
    methods::FUND_MOVEMENT,
    methods::FUND_RECON_REPORT,
    methods::INBOX,
];

/// Declares [`Action`] and everything that goes by its variants.
macro_rules! actions {
    ($($(#[$doc:meta])* $variant:ident($args:ty) = $method:ident,)*) => {
        /// One call of a method of the flows contract that writes: the method
        /// and its arguments. ([`methods::INIT`] runs only at deployment.)
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum Action {
            $($(#[$doc])* $variant($args),)*
            /// `bill.cleanup`: ends the requests of past business days, marks
            /// movements whose bank answer did not come in time `unknown`.
            Cleanup,
        }

        /// Every method that writes, in the order of [`Action`]'s variants.
        pub const WRITE_METHODS: &[&str] = &[$(methods::$method,)* methods::BILL_CLEANUP];

        impl Action {
            /// The method it calls.
            pub fn method(&self) -> &'static str {
                match self {
                    $(Action::$variant(_) => methods::$method,)*
                    Action::Cleanup => methods::BILL_CLEANUP,
                }
            }

            /// Its arguments, Borsh-encoded, as the transaction carries them.
            pub fn args(&self) -> Vec<u8> {
                // Encoding plain data into a Vec cannot fail.
                match self {
                    $(Action::$variant(a) => borsh::to_vec(a).unwrap_or_default(),)*
                    Action::Cleanup => borsh::to_vec(&()).unwrap_or_default(),
                }
            }

            /// The action a transaction of `method` with `args` carries
            /// (`None`: not a method that writes, or arguments that do not decode).
            pub fn decode(method: &str, args: &[u8]) -> Option<Action> {
                match method {
                    $(methods::$method => <$args>::try_from_slice(args).ok().map(Action::$variant),)*
                    methods::BILL_CLEANUP => <()>::try_from_slice(args).ok().map(|()| Action::Cleanup),
                    _ => None,
                }
            }
        }
    };
}

actions! {
    /// `party.register`: the signer registers itself with its settlement account.
    RegisterParty(RegisterParty) = PARTY_REGISTER,
    /// `order.create`: the buyer records an order.
    CreateOrder(CreateOrder) = ORDER_CREATE,
    /// `order.deliver`: the seller records a delivery note.
    RecordDelivery(RecordDelivery) = ORDER_DELIVER,
    /// `order.confirm_delivery`: the buyer confirms a delivery.
    ConfirmDelivery(DeliveryRef) = ORDER_CONFIRM_DELIVERY,
    /// `order.close`: the buyer closes an order.
    CloseOrder(ById) = ORDER_CLOSE,
    /// `order.cancel`: the buyer cancels an order nothing was delivered or financed on.
    CancelOrder(ById) = ORDER_CANCEL,
    /// `invoice.record`: the seller records a VAT invoice of its order.
    RecordInvoice(RecordInvoice) = INVOICE_RECORD,
    /// `invoice.verify`: a bank or notary records the tax authority's verification.
    VerifyInvoice(VerifyInvoice) = INVOICE_VERIFY,
    /// `bill.issue`: the drawer issues a bill package.
    IssueBill(IssueBill) = BILL_ISSUE,
    /// `bill.request_acceptance`: the drawer asks the acceptor (a request).
    RequestAcceptance(ByBill) = BILL_REQUEST_ACCEPTANCE,
    /// `bill.request_delivery`: the drawer delivers the accepted bill to the payee (a request).
    RequestDelivery(ByBill) = BILL_REQUEST_DELIVERY,
    /// `bill.endorse`: the holder endorses a sub-range (a request).
    Endorse(Transfer) = BILL_ENDORSE,
    /// `bill.pledge`: the holder pledges a sub-range (a request).
    Pledge(Transfer) = BILL_PLEDGE,
    /// `bill.release`: the pledgee releases a pledge (a request).
    Release(Range) = BILL_RELEASE,
    /// `bill.request_discount`: the holder asks a bank to discount (a request).
    RequestDiscount(RequestDiscount) = BILL_REQUEST_DISCOUNT,
    /// `bill.approve_discount`: the bank approves at a rate and instructs the disbursement.
    ApproveDiscount(ApproveDiscount) = BILL_APPROVE_DISCOUNT,
    /// `bill.rediscount`: a bank holder sells a sub-range to another bank (a request).
    Rediscount(Rediscount) = BILL_REDISCOUNT,
    /// `bill.present`: the holder (or pledgee) presents for payment (a request).
    Present(Range) = BILL_PRESENT,
    /// `bill.recourse`: the holder of a dishonoured sub-range claims from an earlier party (a request).
    Recourse(Recourse) = BILL_RECOURSE,
    /// `bill.sign`: the counterparty says yes to a request.
    Sign(Answer) = BILL_SIGN,
    /// `bill.refuse`: the counterparty says no.
    Refuse(Answer) = BILL_REFUSE,
    /// `bill.withdraw`: the requester takes its request back.
    Withdraw(Answer) = BILL_WITHDRAW,
    /// `bill.cancel`: the drawer cancels a bill its payee has not received.
    CancelBill(ByBill) = BILL_CANCEL,
    /// `bill.freeze`: a consortium administrator freezes a bill.
    FreezeBill(FreezeBill) = BILL_FREEZE,
    /// `bill.unfreeze`: a consortium administrator lifts the freeze.
    UnfreezeBill(ByBill) = BILL_UNFREEZE,
    /// `bill.set_policy`: a bank registers its instant-discount policy.
    SetPolicy(DiscountPolicy) = BILL_SET_POLICY,
    /// `fund.report`: the executing bank answers for a movement.
    ReportMovement(ReportMovement) = FUND_REPORT,
    /// `fund.mark_unknown`: the bank's answer did not come.
    MarkUnknown(ById) = FUND_MARK_UNKNOWN,
    /// `fund.reverse`: the originator undoes a successful movement.
    Reverse(Reverse) = FUND_REVERSE,
    /// `fund.fee`: a bank charges a fee into one of its custody accounts.
    ChargeFee(ChargeFee) = FUND_FEE,
    /// `fund.open_custody`: a bank opens a platform custody account with itself.
    OpenCustody(OpenCustody) = FUND_OPEN_CUSTODY,
    /// `fund.reconcile`: a bank's statement of a day (see [`statement`]).
    Reconcile(Reconcile) = FUND_RECONCILE,
    /// `fund.close_day`: a bank closes a cleanly reconciled day.
    CloseDay(DayRef) = FUND_CLOSE_DAY,
    /// `risk.set_limits`: a consortium administrator sets a party's limits.
    SetLimits(SetLimits) = RISK_SET_LIMITS,
    /// `risk.blacklist`: a consortium administrator blacklists a party.
    Blacklist(Blacklist) = RISK_BLACKLIST,
    /// `risk.unblacklist`: a consortium administrator lifts a blacklisting.
    Unblacklist(ById) = RISK_UNBLACKLIST,
}

impl Action {
    /// Whether the action opens a request: its transaction's id is then the
    /// request's id, which the counterparty answers.
    pub fn opens_request(&self) -> bool {
        matches!(
            self,
            Action::RequestAcceptance(_)
                | Action::RequestDelivery(_)
                | Action::Endorse(_)
                | Action::Pledge(_)
                | Action::Release(_)
                | Action::RequestDiscount(_)
                | Action::Rediscount(_)
                | Action::Present(_)
                | Action::Recourse(_)
        )
    }
}

/// The signed transaction carrying `action` to contract version `version`
/// (the active one: [`Client::flows_version`](crate::Client::flows_version)).
pub fn tx(signer: &Signer, tx_id: TxId, version: Version, action: &Action) -> SignedTx {
    #[allow(clippy::expect_used)]
    let method = MethodName::new(action.method()).expect("the contract's method names are valid");
    signer.sign(tx_id, contract_name(), version, method, action.args())
}

/// The id of a discount's disbursement movement: `<request>.disb`.
pub fn disbursement_id(request: &str) -> String {
    format!("{request}.disb")
}

/// The id of the payment movement of a presentment or a recourse claim: `<request>.pay`.
pub fn payment_id(request: &str) -> String {
    format!("{request}.pay")
}

/// An event of the flows contract, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlowEvent {
    /// `party.registered`.
    PartyRegistered(Party),
    /// `order.changed`.
    Order(OrderEvent),
    /// `invoice.changed`.
    Invoice(InvoiceEvent),
    /// `bill.changed`: a step of a bill's history.
    Bill(HistoryEntry),
    /// `fund.movement`: a movement was instructed or changed status.
    Movement(MovementEvent),
    /// `fund.reconciled`: a bank's day was reconciled or closed.
    Reconciled(ReconEvent),
    /// `risk.alert`: a risk rule fired (kept in a refused transaction's receipt too).
    RiskAlert(RiskAlert),
    /// A topic this SDK does not know, or data that does not decode.
    Other {
        /// The topic.
        topic: String,
        /// The raw data.
        data: Vec<u8>,
    },
}

impl FlowEvent {
    /// Decodes an event of the flows contract.
    pub fn decode(topic: &str, data: &[u8]) -> FlowEvent {
        fn as_<T: BorshDeserialize>(data: &[u8], f: fn(T) -> FlowEvent) -> Option<FlowEvent> {
            T::try_from_slice(data).ok().map(f)
        }
        let decoded = match topic {
            topics::PARTY_REGISTERED => as_(data, FlowEvent::PartyRegistered),
            topics::ORDER => as_(data, FlowEvent::Order),
            topics::INVOICE => as_(data, FlowEvent::Invoice),
            topics::BILL => as_(data, FlowEvent::Bill),
            topics::FUND => as_(data, FlowEvent::Movement),
            topics::RECON => as_(data, FlowEvent::Reconciled),
            topics::RISK_ALERT => as_(data, FlowEvent::RiskAlert),
            _ => None,
        };
        decoded.unwrap_or_else(|| FlowEvent::Other { topic: topic.to_string(), data: data.to_vec() })
    }
}

/// The flows contract's events in a receipt, in order.
pub fn events(receipt: &Receipt) -> Vec<FlowEvent> {
    receipt
        .events
        .iter()
        .filter(|e| e.contract.as_str() == CONTRACT)
        .map(|e| FlowEvent::decode(&e.topic, &e.data))
        .collect()
}

/// The risk alerts in a receipt: why a refused action was refused, for supervisors.
pub fn alerts(receipt: &Receipt) -> Vec<RiskAlert> {
    events(receipt)
        .into_iter()
        .filter_map(|e| match e {
            FlowEvent::RiskAlert(a) => Some(a),
            _ => None,
        })
        .collect()
}

/// An account as the ledger keeps it: `number` masked and hashed with `salt`.
///
/// The masked number shows the first and the last four digits
/// (`6222000012341234` → `6222****1234`); a number shorter than twelve digits
/// shows fewer, so that at least four digits stay hidden (`12345678` →
/// `12****78`). `number_hash` is `SHA-256(salt || number)`: keep the salt (the
/// command line keeps it in `~/.billflow/account-salt`) to prove the number
/// later; without it the digest tells nothing. The number must be 8 to 32
/// ASCII digits and the salt at least 16 bytes ([`SdkError::Invalid`] otherwise).
pub fn account(bank: &str, number: &str, salt: &[u8]) -> Result<Account> {
    if !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SdkError::Invalid("an account number is digits only (no spaces, letters or dashes)".into()));
    }
    if !(8..=32).contains(&number.len()) {
        return Err(SdkError::Invalid(format!("an account number has 8 to 32 digits, this one {}", number.len())));
    }
    if salt.len() < 16 {
        return Err(SdkError::Invalid("the account salt must be at least 16 bytes".into()));
    }
    Ok(Account { bank: bank.to_string(), masked: mask(number), number_hash: number_hash(number, salt) })
}

/// `number` with all but the first and last (at most) four digits replaced by `****`.
fn mask(number: &str) -> String {
    let shown = ((number.len() - 4) / 2).min(4);
    format!("{}****{}", &number[..shown], &number[number.len() - shown..])
}

/// `SHA-256(salt || number)`.
fn number_hash(number: &str, salt: &[u8]) -> Digest {
    let mut h = Sha256::new();
    h.update(salt);
    h.update(number.as_bytes());
    h.finalize().into()
}

/// A bank statement of `day` for `fund.reconcile`, with its digest
/// ([`statement_hash`] of the lines) filled in.
pub fn statement(day: finance::Date, lines: Vec<StatementLine>) -> Reconcile {
    Reconcile { day, statement_hash: statement_hash(&lines), lines }
}

/// Parses an amount of yuan as written (`1000000`, `1,000,000.5`, `0.01`) into
/// fen: a positive whole number of fen, else [`SdkError::Invalid`].
pub fn parse_amount(text: &str) -> Result<u64> {
    finance::Fen::parse_yuan(text.trim()).map(|f| f.0).map_err(|e| SdkError::Invalid(e.message))
}

/// An amount in fen as yuan: `992,416.67`.
pub fn yuan(fen: u64) -> String {
    finance::Fen(fen).to_string()
}

/// Parses an annual rate in percent (`1.5`, `1.5%`, `0.0125`) into parts per
/// million (`1.5` → 15 000): more than 0 and less than 100 %, at most four
/// decimals (whole ppm), else [`SdkError::Invalid`].
pub fn parse_rate(text: &str) -> Result<finance::RatePpm> {
    let bad = || SdkError::Invalid(format!("{text:?} is not a rate in percent above 0 and below 100 (e.g. 1.5)"));
    let t = text.trim();
    let t = t.strip_suffix('%').unwrap_or(t).trim_end();
    let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || whole.len() > 2 || !digits(whole) || !digits(frac) || t.ends_with('.') {
        return Err(bad());
    }
    if frac.len() > 4 {
        return Err(SdkError::Invalid(format!("{text:?} has more than four decimals: a rate is whole ppm")));
    }
    let whole: u32 = whole.parse().map_err(|_| bad())?;
    let frac: u32 = if frac.is_empty() { 0 } else { format!("{frac:0<4}").parse().map_err(|_| bad())? };
    let ppm = whole * 10_000 + frac;
    if ppm == 0 || ppm >= 1_000_000 {
        return Err(bad());
    }
    Ok(finance::RatePpm(ppm))
}

/// A rate in parts per million as percent: `15000` → `1.5%`.
pub fn percent(rate: finance::RatePpm) -> String {
    let whole = rate.0 / 10_000;
    let frac = rate.0 % 10_000;
    if frac == 0 {
        format!("{whole}%")
    } else {
        let frac = format!("{frac:04}");
        format!("{whole}.{}%", frac.trim_end_matches('0'))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use billflow_types::SecretKey;

    use super::finance::{Date, RatePpm};
    use super::*;

    fn date(text: &str) -> Date {
        Date::parse(text).unwrap()
    }

    fn range() -> Range {
        Range { bill: "5".repeat(30), start: 1, end: 100 }
    }

    fn acct() -> Account {
        Account { bank: "bank-a".into(), masked: "6222****1234".into(), number_hash: [7; 32] }
    }

    fn answer() -> Answer {
        Answer { request: "flows-0011223344556677".into(), reason: "no".into() }
    }

    /// One action of every variant.
    fn samples() -> Vec<Action> {
        let key = InvoiceKey { code: "3100231130".into(), number: "00000001".into() };
        let by_id = ById { id: "O-1".into() };
        let by_bill = ByBill { bill: "5".repeat(30) };
        let transfer = Transfer { range: range(), to: "91320500MA1FL0SUPA".into() };
        vec![
            Action::RegisterParty(RegisterParty { account: acct(), city: "Suzhou".into(), finance_company: false }),
            Action::CreateOrder(CreateOrder {
                id: "O-1".into(),
                seller: "S".into(),
                amount: 100,
                date: date("2025-03-06"),
                evidence: Some([1; 32]),
            }),
            Action::RecordDelivery(RecordDelivery {
                order: "O-1".into(),
                delivery: "d1".into(),
                amount: 50,
                date: date("2025-03-07"),
                evidence: None,
            }),
            Action::ConfirmDelivery(DeliveryRef { order: "O-1".into(), delivery: "d1".into() }),
            Action::CloseOrder(by_id.clone()),
            Action::CancelOrder(by_id.clone()),
            Action::RecordInvoice(RecordInvoice {
                key: key.clone(),
                order: "O-1".into(),
                date: date("2025-03-07"),
                amount_ex_tax: 100,
                amount_inc_tax: 113,
                seller: "S".into(),
                buyer: "B".into(),
                check_code: "12345678901234567890".into(),
                evidence: None,
            }),
            Action::VerifyInvoice(VerifyInvoice { key: key.clone(), check_code: "567890".into() }),
            Action::IssueBill(IssueBill {
                number: "5".repeat(30),
                kind: BillKind::SupplyChain,
                amount: 100,
                issue_date: date("2025-03-06"),
                due_date: date("2025-09-06"),
                acceptor: "C".into(),
                payee: "S".into(),
                splittable: true,
                non_transferable: false,
                evidence: None,
            }),
            Action::RequestAcceptance(by_bill.clone()),
            Action::RequestDelivery(by_bill.clone()),
            Action::Endorse(transfer.clone()),
            Action::Pledge(transfer),
            Action::Release(range()),
            Action::RequestDiscount(RequestDiscount {
                range: range(),
                bank: "bank-a".into(),
                order: "O-1".into(),
                invoices: vec![key.clone()],
            }),
            Action::ApproveDiscount(ApproveDiscount { request: "r".into(), rate: RatePpm(15_000) }),
            Action::Rediscount(Rediscount { range: range(), to: "bank-b".into(), rate: RatePpm(12_000) }),
            Action::Present(range()),
            Action::Recourse(Recourse { range: range(), against: "C".into() }),
            Action::Sign(answer()),
            Action::Refuse(answer()),
            Action::Withdraw(answer()),
            Action::CancelBill(by_bill.clone()),
            Action::FreezeBill(FreezeBill { bill: "5".repeat(30), reason: "court order 12".into() }),
            Action::UnfreezeBill(by_bill),
            Action::Cleanup,
            Action::SetPolicy(DiscountPolicy {
                enabled: true,
                acceptors: vec!["C".into()],
                max_amount: 1_000,
                rates: vec![RateBand { max_days: 90, rate: RatePpm(15_000) }],
                daily_limit_per_enterprise: 0,
            }),
            Action::ReportMovement(ReportMovement {
                request_id: "r.disb".into(),
                outcome: Outcome::Success { bank_serial: "SN-1".into() },
            }),
            Action::MarkUnknown(ById { id: "r.disb".into() }),
            Action::Reverse(Reverse { request_id: "r.disb.rev".into(), original: "r.disb".into() }),
            Action::ChargeFee(ChargeFee {
                request_id: "fee-1".into(),
                payer: "S".into(),
                amount: 500,
                custody: 0,
                reference: "O-1".into(),
            }),
            Action::OpenCustody(OpenCustody { account: acct() }),
            Action::Reconcile(statement(
                date("2025-03-06"),
                vec![StatementLine {
                    request_id: "r.disb".into(),
                    bank_serial: "SN-1".into(),
                    amount: 5,
                    success: true,
                }],
            )),
            Action::CloseDay(DayRef { day: date("2025-03-06") }),
            Action::SetLimits(SetLimits {
                party: "S".into(),
                limits: Limits { daily_discount_fen: 1_000, max_open_requests: 5 },
            }),
            Action::Blacklist(Blacklist { party: "S".into(), reason: "fraud".into() }),
            Action::Unblacklist(ById { id: "S".into() }),
        ]
    }

    /// Every method of the contract, by its constant in `methods`.
    const ALL_METHODS: [&str; 49] = [
        methods::INIT,
        methods::PARTY_REGISTER,
        methods::PARTY_GET,
        methods::ORDER_CREATE,
        methods::ORDER_DELIVER,
        methods::ORDER_CONFIRM_DELIVERY,
        methods::ORDER_CLOSE,
        methods::ORDER_CANCEL,
        methods::ORDER_GET,
        methods::INVOICE_RECORD,
        methods::INVOICE_VERIFY,
        methods::INVOICE_GET,
        methods::BILL_ISSUE,
        methods::BILL_REQUEST_ACCEPTANCE,
        methods::BILL_REQUEST_DELIVERY,
        methods::BILL_ENDORSE,
        methods::BILL_PLEDGE,
        methods::BILL_RELEASE,
        methods::BILL_REQUEST_DISCOUNT,
        methods::BILL_APPROVE_DISCOUNT,
        methods::BILL_REDISCOUNT,
        methods::BILL_PRESENT,
        methods::BILL_RECOURSE,
        methods::BILL_SIGN,
        methods::BILL_REFUSE,
        methods::BILL_WITHDRAW,
        methods::BILL_CANCEL,
        methods::BILL_FREEZE,
        methods::BILL_UNFREEZE,
        methods::BILL_CLEANUP,
        methods::BILL_SET_POLICY,
        methods::BILL_POLICY,
        methods::BILL_GET,
        methods::BILL_DISCLOSURE,
        methods::BILL_LIST,
        methods::BILL_HOLDINGS,
        methods::FUND_REPORT,
        methods::FUND_MARK_UNKNOWN,
        methods::FUND_REVERSE,
        methods::FUND_FEE,
        methods::FUND_OPEN_CUSTODY,
        methods::FUND_RECONCILE,
        methods::FUND_CLOSE_DAY,
        methods::FUND_MOVEMENT,
        methods::FUND_RECON_REPORT,
        methods::INBOX,
        methods::RISK_SET_LIMITS,
        methods::RISK_BLACKLIST,
        methods::RISK_UNBLACKLIST,
    ];

    #[test]
    fn every_write_method_has_exactly_one_action() {
        let writes: BTreeSet<&str> =
            ALL_METHODS.iter().copied().filter(|m| *m != methods::INIT && !QUERY_METHODS.contains(m)).collect();
        assert_eq!(writes.len(), ALL_METHODS.len() - 1 - QUERY_METHODS.len(), "no method is listed twice");
        let samples = samples();
        let covered: Vec<&str> = samples.iter().map(Action::method).collect();
        let unique: BTreeSet<&str> = covered.iter().copied().collect();
        assert_eq!(unique.len(), covered.len(), "two variants call the same method: {covered:?}");
        assert_eq!(unique, writes);
        assert_eq!(WRITE_METHODS.iter().copied().collect::<BTreeSet<_>>(), writes);
        assert_eq!(WRITE_METHODS.len(), writes.len());
    }

    /// The `methods` module as the contract's source declares it, so that a
    /// method added there and not here fails this test.
    #[test]
    fn the_list_matches_the_contracts_source() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../contracts/flows/src/types.rs");
        let source = std::fs::read_to_string(path).unwrap();
        let module = source.split("pub mod methods {").nth(1).unwrap().split("\n}\n").next().unwrap();
        let declared: BTreeSet<&str> = module
            .lines()
            .filter_map(|l| l.trim().strip_prefix("pub const "))
            .filter_map(|l| l.split('"').nth(1))
            .collect();
        assert_eq!(declared, ALL_METHODS.iter().copied().collect::<BTreeSet<_>>());
    }

    #[test]
    fn args_round_trip() {
        for action in samples() {
            let method = action.method();
            assert_eq!(Action::decode(method, &action.args()).as_ref(), Some(&action), "{method}");
        }
        // The encoding is the argument type's own.
        let a = ApproveDiscount { request: "r".into(), rate: RatePpm(15_000) };
        assert_eq!(Action::ApproveDiscount(a.clone()).args(), borsh::to_vec(&a).unwrap());
        assert!(Action::Cleanup.args().is_empty());
        assert_eq!(Action::decode(methods::BILL_GET, &[]), None, "queries are no actions");
        assert_eq!(Action::decode(methods::BILL_SIGN, &[1, 2]), None);
    }

    #[test]
    fn requests_are_the_actions_that_open_one() {
        let opening: Vec<&str> = samples().iter().filter(|a| a.opens_request()).map(Action::method).collect();
        assert_eq!(
            opening,
            [
                methods::BILL_REQUEST_ACCEPTANCE,
                methods::BILL_REQUEST_DELIVERY,
                methods::BILL_ENDORSE,
                methods::BILL_PLEDGE,
                methods::BILL_RELEASE,
                methods::BILL_REQUEST_DISCOUNT,
                methods::BILL_REDISCOUNT,
                methods::BILL_PRESENT,
                methods::BILL_RECOURSE,
            ]
        );
    }

    #[test]
    fn transactions_call_the_flows_contract() {
        let signer = Signer {
            chain_id: "c1".parse().unwrap(),
            tenant: Some("demo-platform".parse().unwrap()),
            key_id: "supa.k1".parse().unwrap(),
            secret: SecretKey::generate(),
        };
        let action = Action::Endorse(Transfer { range: range(), to: "bank-a".into() });
        let tx = tx(&signer, "flows-1".parse().unwrap(), "1.0.0".parse().unwrap(), &action);
        assert_eq!((tx.tx.contract.as_str(), tx.tx.method.as_str()), (CONTRACT, methods::BILL_ENDORSE));
        assert_eq!(tx.tx.args, action.args());
        assert_eq!(tx.tx.tenant.as_ref().map(|t| t.as_str()), Some("demo-platform"));
        assert_eq!(Action::decode(tx.tx.method.as_str(), &tx.tx.args), Some(action));
    }

    #[test]
    fn receipts_events_decode() {
        use billflow_types::{Event, Hash32, TxStatus};
        let alert = RiskAlert {
            rule: "double_financing".into(),
            party: "S".into(),
            key_id: "s.k1".into(),
            method: methods::BILL_REQUEST_DISCOUNT.into(),
            facts: "requested 6,000.00 with 0.00 free".into(),
        };
        let event = |contract: &str, topic: &str, data: Vec<u8>| Event {
            contract: contract.parse().unwrap(),
            topic: topic.into(),
            data,
        };
        let receipt = Receipt {
            tx_hash: Hash32([0; 32]),
            tx_id: "flows-1".parse().unwrap(),
            status: TxStatus::Failed,
            failure: None,
            events: vec![
                event(CONTRACT, topics::RISK_ALERT, borsh::to_vec(&alert).unwrap()),
                event("evidence", topics::RISK_ALERT, borsh::to_vec(&alert).unwrap()),
                event(CONTRACT, "something.new", vec![1]),
            ],
            fuel_used: 1,
        };
        assert_eq!(alerts(&receipt), vec![alert.clone()]);
        assert_eq!(
            events(&receipt),
            vec![FlowEvent::RiskAlert(alert), FlowEvent::Other { topic: "something.new".into(), data: vec![1] }]
        );
        assert!(matches!(FlowEvent::decode(topics::BILL, &[1]), FlowEvent::Other { .. }));
    }

    #[test]
    fn movement_ids_follow_their_request() {
        assert_eq!(disbursement_id("flows-00aa"), "flows-00aa.disb");
        assert_eq!(payment_id("flows-00aa"), "flows-00aa.pay");
    }

    #[test]
    fn account_numbers_are_masked_and_salted() {
        let salt = [9u8; 32];
        let a = account("bank-a", "6222020200112341234", &salt).unwrap();
        assert_eq!(a.masked, "6222****1234");
        assert_eq!(a.bank, "bank-a");
        let expected: [u8; 32] = Sha256::digest([&salt[..], b"6222020200112341234"].concat()).into();
        assert_eq!(a.number_hash, expected);
        assert_eq!(account("bank-a", "6222000012341234", &salt).unwrap().masked, "6222****1234");
        // Short numbers keep at least four digits hidden.
        assert_eq!(account("b", "123456789012", &salt).unwrap().masked, "1234****9012");
        assert_eq!(account("b", "1234567890", &salt).unwrap().masked, "123****890");
        assert_eq!(account("b", "12345678", &salt).unwrap().masked, "12****78");
        // Another salt, another digest; the number never appears.
        let b = account("bank-a", "6222020200112341234", &[1u8; 32]).unwrap();
        assert_ne!(a.number_hash, b.number_hash);
        for m in [&a.masked, &b.masked] {
            assert!(m.bytes().filter(u8::is_ascii_digit).count() <= 8);
        }
        // Refused: non-digits, too short, too long, no salt.
        for bad in ["6222 0202 0011 2341", "6222-02020011", "62220202001123412x", "1234567", "", &"1".repeat(33)] {
            assert!(matches!(account("bank-a", bad, &salt), Err(SdkError::Invalid(_))), "{bad:?}");
        }
        assert!(matches!(account("bank-a", "6222020200112341234", b"short"), Err(SdkError::Invalid(_))));
    }

    #[test]
    fn statements_carry_their_digest() {
        let lines = vec![
            StatementLine { request_id: "a.disb".into(), bank_serial: "SN-1".into(), amount: 99, success: true },
            StatementLine { request_id: "b.pay".into(), bank_serial: String::new(), amount: 5, success: false },
        ];
        let s = statement(date("2025-03-06"), lines.clone());
        assert_eq!(s.day, date("2025-03-06"));
        assert_eq!(s.statement_hash, statement_hash(&lines));
        let expected: [u8; 32] = Sha256::digest(borsh::to_vec(&lines).unwrap()).into();
        assert_eq!(s.statement_hash, expected, "SHA-256 of the lines' Borsh encoding");
        assert_eq!(s.lines, lines);
    }

    #[test]
    fn amounts_are_whole_positive_fen() {
        assert_eq!(parse_amount("1000000").unwrap(), 100_000_000);
        assert_eq!(parse_amount("1,000,000.5").unwrap(), 100_000_050);
        assert_eq!(parse_amount("0.01").unwrap(), 1);
        assert_eq!(parse_amount(" 12.30 ").unwrap(), 1_230);
        for bad in ["1.234", "-1", "0", "0.00", "", "1,00", "abc", "1e3", "1.", ".5", "99999999999999999999"] {
            assert!(matches!(parse_amount(bad), Err(SdkError::Invalid(_))), "{bad:?}");
        }
        assert_eq!(yuan(99_241_667), "992,416.67");
        assert_eq!(parse_amount(&yuan(99_241_667)).unwrap(), 99_241_667);
    }

    #[test]
    fn rates_are_percent_in_whole_ppm() {
        assert_eq!(parse_rate("1.5").unwrap(), RatePpm(15_000));
        assert_eq!(parse_rate("1.5%").unwrap(), RatePpm(15_000));
        assert_eq!(parse_rate("2").unwrap(), RatePpm(20_000));
        assert_eq!(parse_rate("0.0001").unwrap(), RatePpm(1));
        assert_eq!(parse_rate("99.9999").unwrap(), RatePpm(999_999));
        for bad in ["0", "0.0", "100", "1.23456", "-1", "", "abc", "1.", ".5", "1,5", "150"] {
            assert!(parse_rate(bad).is_err(), "{bad:?}");
        }
        assert_eq!(percent(RatePpm(15_000)), "1.5%");
        assert_eq!(percent(RatePpm(20_000)), "2%");
        assert_eq!(percent(RatePpm(12_345)), "1.2345%");
    }
}
