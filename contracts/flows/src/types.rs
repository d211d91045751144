//! The flows contract's arguments, records, events and outputs.
//!
//! Plain data: it compiles on any target, so host-side code (the SDK, the
//! command line, the node's tests) encodes arguments and decodes outputs with
//! these very definitions. Amounts are integer fen ([`billflow_finance::Fen`]
//! values carried as `u64`); dates are civil dates in China Standard Time.

use alloc::string::String;
// The `BorshSchema` derive names its types with `to_string`.
#[allow(unused_imports)]
use alloc::string::ToString;
use alloc::vec::Vec;

use billflow_finance::{Date, Discount, RatePpm};
use borsh::{BorshDeserialize, BorshSchema, BorshSerialize};

/// A participant's id as the system contract registered it (an enterprise's
/// unified social credit code, a bank's id).
pub type PartyId = String;
/// A request's id: the id of the transaction that made it.
pub type RequestId = String;
/// A SHA-256 digest: of a document (evidence), an account number (salted), a statement.
pub type Digest = [u8; 32];

/// Method names: `area.action`. Queries are marked.
pub mod methods {
    /// Deployment: [`FlowsConfig`](super::FlowsConfig).
    pub const INIT: &str = "init";
    /// [`RegisterParty`](super::RegisterParty) → [`Party`](super::Party).
    pub const PARTY_REGISTER: &str = "party.register";
    /// Query: [`ById`](super::ById) → `Option<Party>`.
    pub const PARTY_GET: &str = "party.get";
    /// [`CreateOrder`](super::CreateOrder) → [`Order`](super::Order).
    pub const ORDER_CREATE: &str = "order.create";
    /// [`RecordDelivery`](super::RecordDelivery) → [`Order`](super::Order).
    pub const ORDER_DELIVER: &str = "order.deliver";
    /// [`DeliveryRef`](super::DeliveryRef) → [`Order`](super::Order).
    pub const ORDER_CONFIRM_DELIVERY: &str = "order.confirm_delivery";
    /// [`ById`](super::ById) → [`Order`](super::Order).
    pub const ORDER_CLOSE: &str = "order.close";
    /// [`ById`](super::ById) → [`Order`](super::Order).
    pub const ORDER_CANCEL: &str = "order.cancel";
    /// Query: [`ById`](super::ById) → [`Order`](super::Order).
    pub const ORDER_GET: &str = "order.get";
    /// [`RecordInvoice`](super::RecordInvoice) → [`Invoice`](super::Invoice).
    pub const INVOICE_RECORD: &str = "invoice.record";
    /// [`VerifyInvoice`](super::VerifyInvoice) → [`Invoice`](super::Invoice).
    pub const INVOICE_VERIFY: &str = "invoice.verify";
    /// Query: [`InvoiceKey`](super::InvoiceKey) → [`Invoice`](super::Invoice).
    pub const INVOICE_GET: &str = "invoice.get";
    /// [`IssueBill`](super::IssueBill) → [`Bill`](super::Bill).
    pub const BILL_ISSUE: &str = "bill.issue";
    /// [`ByBill`](super::ByBill) → [`Request`](super::Request).
    pub const BILL_REQUEST_ACCEPTANCE: &str = "bill.request_acceptance";
    /// [`ByBill`](super::ByBill) → [`Request`](super::Request).
    pub const BILL_REQUEST_DELIVERY: &str = "bill.request_delivery";
    /// [`Transfer`](super::Transfer) → [`Request`](super::Request).
    pub const BILL_ENDORSE: &str = "bill.endorse";
    /// [`Transfer`](super::Transfer) → [`Request`](super::Request).
    pub const BILL_PLEDGE: &str = "bill.pledge";
    /// [`Range`](super::Range) → [`Request`](super::Request): the pledgee releases.
    pub const BILL_RELEASE: &str = "bill.release";
    /// [`RequestDiscount`](super::RequestDiscount) → [`Request`](super::Request).
    pub const BILL_REQUEST_DISCOUNT: &str = "bill.request_discount";
    /// [`ApproveDiscount`](super::ApproveDiscount) → [`Request`](super::Request).
    pub const BILL_APPROVE_DISCOUNT: &str = "bill.approve_discount";
    /// [`Rediscount`](super::Rediscount) → [`Request`](super::Request).
    pub const BILL_REDISCOUNT: &str = "bill.rediscount";
    /// [`Range`](super::Range) → [`Request`](super::Request).
    pub const BILL_PRESENT: &str = "bill.present";
    /// [`Recourse`](super::Recourse) → [`Request`](super::Request).
    pub const BILL_RECOURSE: &str = "bill.recourse";
    /// [`Answer`](super::Answer) → [`Request`](super::Request): the counterparty says yes
    /// (accepts, receives, signs, pays, agrees and pays).
    pub const BILL_SIGN: &str = "bill.sign";
    /// [`Answer`](super::Answer) → [`Request`](super::Request): the counterparty says no.
    pub const BILL_REFUSE: &str = "bill.refuse";
    /// [`Answer`](super::Answer) → [`Request`](super::Request): the requester takes it back.
    pub const BILL_WITHDRAW: &str = "bill.withdraw";
    /// [`ByBill`](super::ByBill) → [`Bill`](super::Bill).
    pub const BILL_CANCEL: &str = "bill.cancel";
    /// [`FreezeBill`](super::FreezeBill) → [`Bill`](super::Bill) (consortium administrators).
    pub const BILL_FREEZE: &str = "bill.freeze";
    /// [`ByBill`](super::ByBill) → [`Bill`](super::Bill) (consortium administrators).
    pub const BILL_UNFREEZE: &str = "bill.unfreeze";
    /// `()` → [`Cleanup`](super::Cleanup): ends the requests of past business days.
    pub const BILL_CLEANUP: &str = "bill.cleanup";
    /// [`DiscountPolicy`](super::DiscountPolicy) → `()` (a bank).
    pub const BILL_SET_POLICY: &str = "bill.set_policy";
    /// Query: [`ById`](super::ById) (a bank) → `Option<DiscountPolicy>`.
    pub const BILL_POLICY: &str = "bill.policy";
    /// Query: [`ByBill`](super::ByBill) → [`BillView`](super::BillView).
    pub const BILL_GET: &str = "bill.get";
    /// Query, open to anyone: [`ByBill`](super::ByBill) → [`BillDisclosure`](super::BillDisclosure).
    pub const BILL_DISCLOSURE: &str = "bill.disclosure";
    /// Query: [`Page`](super::Page) → `Vec<BillSummary>`: the bills the caller may see.
    pub const BILL_LIST: &str = "bill.list";
    /// Query: `()` → [`Inbox`](super::Inbox): what waits for the caller's answer.
    pub const INBOX: &str = "inbox";
    /// Query: [`ById`](super::ById) (a party) → `Vec<HoldingView>`.
    pub const BILL_HOLDINGS: &str = "bill.holdings";
    /// [`ReportMovement`](super::ReportMovement) → [`Movement`](super::Movement) (the executing bank).
    pub const FUND_REPORT: &str = "fund.report";
    /// [`ById`](super::ById) → [`Movement`](super::Movement): the bank's answer did not come.
    pub const FUND_MARK_UNKNOWN: &str = "fund.mark_unknown";
    /// [`Reverse`](super::Reverse) → [`Movement`](super::Movement) (the originator).
    pub const FUND_REVERSE: &str = "fund.reverse";
    /// [`ChargeFee`](super::ChargeFee) → [`Movement`](super::Movement) (a bank).
    pub const FUND_FEE: &str = "fund.fee";
    /// [`OpenCustody`](super::OpenCustody) → [`Party`](super::Party) (a bank).
    pub const FUND_OPEN_CUSTODY: &str = "fund.open_custody";
    /// [`Reconcile`](super::Reconcile) → [`ReconReport`](super::ReconReport) (a bank).
    pub const FUND_RECONCILE: &str = "fund.reconcile";
    /// [`DayRef`](super::DayRef) → [`ReconReport`](super::ReconReport) (a bank).
    pub const FUND_CLOSE_DAY: &str = "fund.close_day";
    /// Query: [`ById`](super::ById) → `Option<Movement>`.
    pub const FUND_MOVEMENT: &str = "fund.movement";
    /// Query: [`ReportRef`](super::ReportRef) → `Option<ReconReport>`.
    pub const FUND_RECON_REPORT: &str = "fund.recon_report";
    /// [`SetLimits`](super::SetLimits) → `()` (consortium administrators).
    pub const RISK_SET_LIMITS: &str = "risk.set_limits";
    /// [`Blacklist`](super::Blacklist) → `()` (consortium administrators).
    pub const RISK_BLACKLIST: &str = "risk.blacklist";
    /// [`ById`](super::ById) → `()` (consortium administrators).
    pub const RISK_UNBLACKLIST: &str = "risk.unblacklist";
}

/// Event topics.
pub mod topics {
    /// A party registered: [`Party`](super::Party).
    pub const PARTY_REGISTERED: &str = "party.registered";
    /// An order changed: [`OrderEvent`](super::OrderEvent).
    pub const ORDER: &str = "order.changed";
    /// An invoice was recorded, verified or occupied: [`InvoiceEvent`](super::InvoiceEvent).
    pub const INVOICE: &str = "invoice.changed";
    /// A step in a bill's history: [`HistoryEntry`](super::HistoryEntry).
    pub const BILL: &str = "bill.changed";
    /// A fund movement was instructed or changed status: [`MovementEvent`](super::MovementEvent).
    pub const FUND: &str = "fund.movement";
    /// A bank's day was reconciled or closed: [`ReconEvent`](super::ReconEvent).
    pub const RECON: &str = "fund.reconciled";
    /// A risk rule fired: [`RiskAlert`](super::RiskAlert). Kept in the receipt
    /// of the refused transaction too.
    pub const RISK_ALERT: &str = "risk.alert";
}

/// The deployment's configuration (`init` arguments); the *configurable*
/// rules of the domain, with its defaults in [`FlowsConfig::default`].
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct FlowsConfig {
    /// A movement with no bank answer after this long (block time) is `unknown`: 30 s.
    pub answer_timeout_ms: u64,
    /// Extra interest days when the acceptor is in another city than the applicant: 0 (off).
    pub other_city_extra_days: u32,
    /// Presentment this many days after the due date is late: 10.
    pub presentment_grace_days: u32,
    /// The longest term of a bill, in months: 6.
    pub max_tenor_months: u32,
    /// Recourse is barred this many months after dishonour: 6.
    pub recourse_months: u32,
    /// Default limits for every party (overridden per party by [`SetLimits`]).
    pub limits: Limits,
    /// Burst check: at most this many actions by one key ...
    pub burst_max_actions: u32,
    /// ... within this window of block time.
    pub burst_window_ms: u64,
}

impl Default for FlowsConfig {
    fn default() -> FlowsConfig {
        FlowsConfig {
            answer_timeout_ms: 30_000,
            other_city_extra_days: 0,
            presentment_grace_days: 10,
            max_tenor_months: 6,
            recourse_months: 6,
            limits: Limits { daily_discount_fen: 0, max_open_requests: 200 },
            burst_max_actions: 600,
            burst_window_ms: 10_000,
        }
    }
}

/// A party's risk limits. Zero means no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct Limits {
    /// The most fen a party may ask to discount in one business day.
    pub daily_discount_fen: u64,
    /// The most requests a party may have open (as requester) at once.
    pub max_open_requests: u32,
}

// ---------------------------------------------------------------- parties

/// What kind of institution a party is, for the acceptor rules of bill types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub enum PartyKind {
    /// An enterprise (a participant of kind `enterprise`).
    Enterprise,
    /// A bank (a participant of kind `bank`).
    Bank,
    /// A finance company: a participant of kind `bank` (licensed and
    /// registered by a consortium organisation) that says it is one.
    FinanceCompany,
}

/// A bank account as the ledger keeps it: never the number itself.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct Account {
    /// The bank that keeps the account (a registered bank party) and answers for its movements.
    pub bank: PartyId,
    /// The account number masked: `6222****1234` (at most 4 digits at each end shown).
    pub masked: String,
    /// SHA-256 of a salt and the number (the SDK computes it; the salt stays off the ledger).
    pub number_hash: Digest,
}

/// `party.register`: the caller registers itself with its settlement account.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct RegisterParty {
    /// Its settlement account; a bank's account at itself names itself as `bank`.
    pub account: Account,
    /// Its city (for the other-city interest rule), e.g. `Shanghai`.
    pub city: String,
    /// A bank participant that is a finance company.
    pub finance_company: bool,
}

/// A registered party.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct Party {
    /// Its participant id.
    pub id: PartyId,
    /// What it is.
    pub kind: PartyKind,
    /// The tenant it is registered under (enterprises).
    pub tenant: Option<String>,
    /// The organisation it is registered under (banks).
    pub org: Option<String>,
    /// Its city.
    pub city: String,
    /// Its settlement account.
    pub account: Account,
    /// Custody accounts the platform keeps at this bank (banks only).
    pub custody: Vec<Account>,
    /// When it registered.
    pub height: u64,
}

/// `fund.open_custody`: a bank opens a platform custody account with itself.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct OpenCustody {
    /// The account (its `bank` must be the caller).
    pub account: Account,
}

/// Arguments naming one record by id.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct ById {
    /// The id.
    pub id: String,
}

/// A page of a list: entries after `after` (exclusive), at most `limit` (≤ 100).
#[derive(Debug, Clone, PartialEq, Eq, Default, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct Page {
    /// Start after this key (the last one of the previous page).
    pub after: Option<String>,
    /// How many.
    pub limit: u32,
}

// ---------------------------------------------------------------- orders

/// An order's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub enum OrderStatus {
    /// Open for deliveries.
    Open,
    /// Delivered in full.
    Delivered,
    /// Closed by the buyer.
    Closed,
    /// Cancelled (nothing delivered, nothing financed).
    Cancelled,
}

/// `order.create`: the buyer records a purchase contract or order.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct CreateOrder {
    /// Unique id (1 to 64 of `A-Z a-z 0-9 . _ : -`).
    pub id: String,
    /// The seller.
    pub seller: PartyId,
    /// The contract amount.
    pub amount: u64,
    /// The contract date.
    pub date: Date,
    /// The evidence of the contract document, if submitted.
    pub evidence: Option<Digest>,
}

/// A delivery note.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct Delivery {
    /// Its id within the order.
    pub id: String,
    /// The amount delivered.
    pub amount: u64,
    /// The delivery date.
    pub date: Date,
    /// Whether the buyer confirmed it.
    pub confirmed: bool,
    /// The evidence of the delivery note, if submitted.
    pub evidence: Option<Digest>,
}

/// A purchase contract or order with its deliveries and invoices.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct Order {
    /// Its id.
    pub id: String,
    /// The buyer.
    pub buyer: PartyId,
    /// The seller.
    pub seller: PartyId,
    /// The contract amount.
    pub amount: u64,
    /// The contract date.
    pub date: Date,
    /// Its status.
    pub status: OrderStatus,
    /// Deliveries recorded.
    pub deliveries: Vec<Delivery>,
    /// Invoices recorded against it.
    pub invoices: Vec<InvoiceKey>,
    /// How much of it discounts have financed so far.
    pub financed: u64,
    /// The evidence of the contract document.
    pub evidence: Option<Digest>,
    /// When it was recorded.
    pub height: u64,
}

impl Order {
    /// The amount delivered so far.
    pub fn delivered(&self) -> u64 {
        self.deliveries.iter().map(|d| d.amount).sum()
    }
}

/// `order.deliver`: the seller records a delivery note.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct RecordDelivery {
    /// The order.
    pub order: String,
    /// The delivery's id within the order.
    pub delivery: String,
    /// The amount delivered.
    pub amount: u64,
    /// The delivery date.
    pub date: Date,
    /// The evidence of the delivery note.
    pub evidence: Option<Digest>,
}

/// `order.confirm_delivery`: the buyer confirms a delivery.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct DeliveryRef {
    /// The order.
    pub order: String,
    /// The delivery.
    pub delivery: String,
}

/// A VAT invoice's identity: code and number, unique nationwide.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct InvoiceKey {
    /// The invoice code (10 or 12 digits; empty for fully digital invoices).
    pub code: String,
    /// The invoice number (8 or 20 digits).
    pub number: String,
}

/// `invoice.record`: the seller records a VAT invoice of an order.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct RecordInvoice {
    /// Code and number.
    pub key: InvoiceKey,
    /// The order it bills.
    pub order: String,
    /// The invoice date.
    pub date: Date,
    /// The amount excluding tax.
    pub amount_ex_tax: u64,
    /// The amount including tax.
    pub amount_inc_tax: u64,
    /// The seller's credit code.
    pub seller: PartyId,
    /// The buyer's credit code.
    pub buyer: PartyId,
    /// The check code printed on the invoice (digits).
    pub check_code: String,
    /// The evidence of the invoice image.
    pub evidence: Option<Digest>,
}

/// What an invoice finances: one discount's share.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct Occupation {
    /// The discount request.
    pub request: RequestId,
    /// The bill.
    pub bill: String,
    /// How much of the invoice it takes.
    pub amount: u64,
}

/// A VAT invoice.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct Invoice {
    /// Code and number.
    pub key: InvoiceKey,
    /// The order.
    pub order: String,
    /// The invoice date.
    pub date: Date,
    /// Excluding tax.
    pub amount_ex_tax: u64,
    /// Including tax.
    pub amount_inc_tax: u64,
    /// The seller.
    pub seller: PartyId,
    /// The buyer.
    pub buyer: PartyId,
    /// The check code.
    pub check_code: String,
    /// Who verified it against the tax authority, if anyone has.
    pub verified_by: Option<PartyId>,
    /// How much financings have used (never more than the amount including tax).
    pub occupied: u64,
    /// The financings that use it.
    pub occupations: Vec<Occupation>,
    /// The evidence of the invoice image.
    pub evidence: Option<Digest>,
    /// When it was recorded.
    pub height: u64,
}

impl Invoice {
    /// What is still free to finance.
    pub fn free(&self) -> u64 {
        self.amount_inc_tax.saturating_sub(self.occupied)
    }
}

/// `invoice.verify`: a bank or notary records the tax authority's verification.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct VerifyInvoice {
    /// The invoice.
    pub key: InvoiceKey,
    /// The check code the tax authority confirmed (must match the invoice's).
    pub check_code: String,
}

/// An order changed.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct OrderEvent {
    /// The order.
    pub order: String,
    /// `created`, `delivered`, `delivery_confirmed`, `closed`, `cancelled`.
    pub action: String,
    /// Who acted.
    pub actor: PartyId,
    /// Buyer.
    pub buyer: PartyId,
    /// Seller.
    pub seller: PartyId,
    /// The amount concerned (the order's, or the delivery's).
    pub amount: u64,
}

/// An invoice changed.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct InvoiceEvent {
    /// The invoice.
    pub key: InvoiceKey,
    /// `recorded`, `verified`, `occupied`, `released`.
    pub action: String,
    /// Who acted.
    pub actor: PartyId,
    /// Seller.
    pub seller: PartyId,
    /// Buyer.
    pub buyer: PartyId,
    /// The occupied amount after the change.
    pub occupied: u64,
}

// ---------------------------------------------------------------- bills

/// The type of a bill, which decides who may accept it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub enum BillKind {
    /// Bank acceptance: the acceptor is a bank.
    BankAcceptance,
    /// Finance-company acceptance: the acceptor is a finance company.
    FinanceCompanyAcceptance,
    /// Commercial acceptance: the acceptor is an enterprise.
    CommercialAcceptance,
    /// Supply-chain bill: the acceptor is an enterprise (the core enterprise).
    SupplyChain,
}

/// `bill.issue`: the drawer issues a bill package.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct IssueBill {
    /// The bill package number: 30 digits.
    pub number: String,
    /// Its type.
    pub kind: BillKind,
    /// Face amount.
    pub amount: u64,
    /// Issue date.
    pub issue_date: Date,
    /// Due date.
    pub due_date: Date,
    /// The acceptor.
    pub acceptor: PartyId,
    /// The payee.
    pub payee: PartyId,
    /// Whether it may be split into sub-ranges.
    pub splittable: bool,
    /// Marked "not transferable": it cannot be endorsed.
    pub non_transferable: bool,
    /// The evidence of the underlying trade documents.
    pub evidence: Option<Digest>,
}

/// Where a bill is before it reaches the payee, or after.
#[derive(Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub enum BillStage {
    /// Issued, not yet accepted.
    Issued,
    /// Accepted by the acceptor, with the drawer.
    Accepted,
    /// Received by the payee: its sub-ranges circulate as holdings.
    Circulating,
    /// Cancelled by the drawer (final).
    Cancelled,
}

/// The state of one holding.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub enum HoldingState {
    /// Held by its holder.
    Held,
    /// Pledged to a pledgee.
    Pledged {
        /// The pledgee.
        pledgee: PartyId,
    },
    /// Presented to the acceptor for payment, awaiting the answer.
    Presented {
        /// Whether presentment was late (recourse then only against drawer and acceptor).
        late: bool,
    },
    /// Paid (final).
    Settled,
    /// Payment refused or not answered.
    Dishonoured {
        /// The day of dishonour.
        on: Date,
        /// Whether presentment was late.
        late: bool,
    },
}

/// A contiguous sub-range of a bill package and who holds it.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct Holding {
    /// First unit (1 = the first fen).
    pub start: u64,
    /// Last unit, inclusive.
    pub end: u64,
    /// The holder.
    pub holder: PartyId,
    /// Earlier parties of this sub-range in order, the drawer first; the last
    /// is the holder's direct predecessor.
    pub chain: Vec<PartyId>,
    /// Its state.
    pub state: HoldingState,
    /// The request that locks it, if any.
    pub locked_by: Option<RequestId>,
}

impl Holding {
    /// Its amount in fen.
    pub fn amount(&self) -> u64 {
        self.end - self.start + 1
    }
}

/// A bill package.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct Bill {
    /// The 30-digit package number.
    pub number: String,
    /// Its type.
    pub kind: BillKind,
    /// Face amount: units `1..=amount`.
    pub amount: u64,
    /// Issue date.
    pub issue_date: Date,
    /// Due date.
    pub due_date: Date,
    /// The drawer.
    pub drawer: PartyId,
    /// The acceptor.
    pub acceptor: PartyId,
    /// The payee.
    pub payee: PartyId,
    /// Whether it may be split.
    pub splittable: bool,
    /// Whether it may be endorsed.
    pub non_transferable: bool,
    /// Where it is.
    pub stage: BillStage,
    /// A judicial or administrative freeze, with its reason.
    pub frozen: Option<String>,
    /// The request pending on the whole bill (acceptance, delivery), if any.
    pub locked_by: Option<RequestId>,
    /// The sub-ranges, in unit order (empty until the payee receives it).
    pub holdings: Vec<Holding>,
    /// The evidence of its documents.
    pub evidence: Option<Digest>,
    /// How many history entries it has.
    pub history_len: u32,
    /// When it was issued.
    pub height: u64,
}

/// What a request asks.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub enum RequestKind {
    /// The drawer asks the acceptor to accept.
    Acceptance,
    /// The drawer delivers the accepted bill to the payee.
    Delivery,
    /// The holder endorses a sub-range to the counterparty.
    Endorsement,
    /// The holder pledges a sub-range to the counterparty.
    Pledge,
    /// The pledgee releases the pledge back to the pledgor.
    Release,
    /// The holder asks a bank to discount.
    Discount(DiscountTerms),
    /// A bank sells to another bank at a rate.
    Rediscount {
        /// The annual rate.
        rate: RatePpm,
    },
    /// The holder (or pledgee) presents for payment to the acceptor.
    Presentment {
        /// Presented more than the grace days after the due date.
        late: bool,
    },
    /// The holder of a dishonoured sub-range claims from an earlier party.
    Recourse,
}

impl RequestKind {
    /// Its name in lower case, as JSON and the command line show it.
    pub fn name(&self) -> &'static str {
        match self {
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
}

/// A discount request's terms and, once approved, its figures and funds leg.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct DiscountTerms {
    /// The order behind the applicant's holding.
    pub order: String,
    /// How much of each invoice this discount occupies.
    pub invoices: Vec<(InvoiceKey, u64)>,
    /// The approval's figures.
    pub figures: Option<Discount>,
    /// The rate approved.
    pub rate: Option<RatePpm>,
    /// The disbursement movement, once instructed.
    pub disbursement: Option<RequestId>,
    /// Approved by the bank's registered policy in the request's own block.
    pub instant: bool,
}

/// A pending request: it locks its sub-range (or the bill) until answered,
/// withdrawn, or ended at the close of its business day.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct Request {
    /// Its id (the requesting transaction's).
    pub id: RequestId,
    /// What it asks.
    pub kind: RequestKind,
    /// The bill.
    pub bill: String,
    /// The sub-range (the whole package for acceptance and delivery).
    pub start: u64,
    /// Last unit.
    pub end: u64,
    /// Who asks.
    pub from: PartyId,
    /// Who answers.
    pub to: PartyId,
    /// The business day it was made on.
    pub day: Date,
    /// When it was made.
    pub height: u64,
    /// `pending`, `awaiting_funds`, `signed`, `refused`, `withdrawn`, `expired`.
    pub status: String,
}

/// What waits for a participant's answer (`inbox`).
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct Inbox {
    /// Pending requests it answers (they expire at the end of their business day).
    pub requests: Vec<Request>,
    /// Fund movements it executes and has not reported (a bank's).
    pub movements: Vec<Movement>,
}

/// `bill.request_acceptance`, `bill.request_delivery`, `bill.cancel`, ...: a bill.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct ByBill {
    /// The package number.
    pub bill: String,
}

/// A sub-range of a bill: units `start..=end`.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct Range {
    /// The package number.
    pub bill: String,
    /// First unit.
    pub start: u64,
    /// Last unit (inclusive).
    pub end: u64,
}

/// `bill.endorse`, `bill.pledge`: a sub-range to a counterparty.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct Transfer {
    /// What.
    pub range: Range,
    /// To whom.
    pub to: PartyId,
}

/// `bill.request_discount`.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct RequestDiscount {
    /// What to discount.
    pub range: Range,
    /// The bank.
    pub bank: PartyId,
    /// The order between the applicant and its predecessor.
    pub order: String,
    /// The invoices of that order to finance it with, in the order to use them.
    pub invoices: Vec<InvoiceKey>,
}

/// `bill.approve_discount`: the bank approves at a rate and instructs the disbursement.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct ApproveDiscount {
    /// The request.
    pub request: RequestId,
    /// The annual rate.
    pub rate: RatePpm,
}

/// `bill.rediscount`: a bank holder sells a sub-range to another bank.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct Rediscount {
    /// What.
    pub range: Range,
    /// The buying bank.
    pub to: PartyId,
    /// The annual rate.
    pub rate: RatePpm,
}

/// `bill.recourse`: the holder of a dishonoured sub-range claims from an earlier party.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct Recourse {
    /// The dishonoured sub-range.
    pub range: Range,
    /// The earlier party (drawer, acceptor, or an earlier holder).
    pub against: PartyId,
}

/// `bill.sign`, `bill.refuse`, `bill.withdraw`: an answer to a request.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct Answer {
    /// The request.
    pub request: RequestId,
    /// Why (for refusals; may be empty).
    pub reason: String,
}

/// `bill.freeze`.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct FreezeBill {
    /// The bill.
    pub bill: String,
    /// The order or ruling behind it.
    pub reason: String,
}

/// What `bill.cleanup` did.
#[derive(Debug, Clone, PartialEq, Eq, Default, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct Cleanup {
    /// Requests of past business days that ended unanswered.
    pub expired: Vec<RequestId>,
    /// Presentments that went unanswered: dishonoured.
    pub dishonoured: Vec<RequestId>,
    /// Movements whose bank answer did not come in time: now `unknown`.
    pub unknown: Vec<RequestId>,
}

/// A rate for a band of remaining term.
#[derive(Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct RateBand {
    /// For bills with at most this many days to the due date ...
    pub max_days: u32,
    /// ... this annual rate.
    pub rate: RatePpm,
}

/// A bank's automatic approval policy for instant discount.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct DiscountPolicy {
    /// Whether it is on.
    pub enabled: bool,
    /// Acceptors whose bills qualify.
    pub acceptors: Vec<PartyId>,
    /// The largest amount one request may discount.
    pub max_amount: u64,
    /// Rates by remaining term, shortest band first.
    pub rates: Vec<RateBand>,
    /// The most one enterprise may discount with this bank in a day (0: no limit).
    pub daily_limit_per_enterprise: u64,
}

impl DiscountPolicy {
    /// The rate for a bill with `days` to run, if a band covers it.
    pub fn rate_for(&self, days: u32) -> Option<RatePpm> {
        self.rates.iter().find(|b| days <= b.max_days).map(|b| b.rate)
    }
}

/// One step of a bill's history.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct HistoryEntry {
    /// The bill.
    pub bill: String,
    /// Position in the bill's history, from 0.
    pub seq: u32,
    /// Block height.
    pub height: u64,
    /// Block time.
    pub time_ms: u64,
    /// The transaction.
    pub tx_id: String,
    /// What happened: `issued`, `acceptance_requested`, `accepted`, `endorsed`, ...
    pub action: String,
    /// Who acted.
    pub actor: PartyId,
    /// The other party, if any.
    pub counterparty: Option<PartyId>,
    /// The sub-range concerned (`0..=0` for the bill as a whole before it circulates).
    pub start: u64,
    /// Last unit.
    pub end: u64,
    /// The request concerned, if any.
    pub request: Option<RequestId>,
    /// A fund movement concerned, if any.
    pub movement: Option<RequestId>,
    /// Figures and notes for people (rate, interest, reason).
    pub note: String,
}

/// `bill.get`: a bill with everything linked to it.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct BillView {
    /// The bill.
    pub bill: Bill,
    /// Its history, oldest first.
    pub history: Vec<HistoryEntry>,
    /// Requests still pending on it.
    pub pending: Vec<Request>,
    /// Fund movements of it.
    pub movements: Vec<Movement>,
    /// Orders behind its discounts.
    pub orders: Vec<String>,
    /// Invoices its discounts occupy.
    pub invoices: Vec<InvoiceKey>,
}

/// `bill.disclosure`: what of a bill anyone may read, in the spirit of
/// commercial-bill information disclosure. The acceptor, banks and finance
/// companies are named; every other enterprise, order id and invoice number
/// is masked; notes (rates, interest, reasons) and accounts are left out.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct BillDisclosure {
    /// The 30-digit package number.
    pub number: String,
    /// Its type.
    pub kind: BillKind,
    /// Face amount in fen.
    pub amount: u64,
    /// Issue date.
    pub issue_date: Date,
    /// Due date.
    pub due_date: Date,
    /// The drawer, masked unless it is the acceptor or a bank.
    pub drawer: String,
    /// The acceptor (always disclosed).
    pub acceptor: PartyId,
    /// The payee, masked unless it is the acceptor or a bank.
    pub payee: String,
    /// Where it is.
    pub stage: BillStage,
    /// Whether it is frozen (never the reason).
    pub frozen: bool,
    /// Its sub-ranges and their holders.
    pub ranges: Vec<DisclosedRange>,
    /// Its history, oldest first.
    pub history: Vec<DisclosedStep>,
    /// Orders behind its discounts, masked.
    pub orders: Vec<String>,
    /// Invoices its discounts occupy.
    pub invoices: Vec<DisclosedInvoice>,
    /// Fund movements of it.
    pub movements: Vec<DisclosedMovement>,
}

/// A sub-range of a disclosed bill.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct DisclosedRange {
    /// First unit.
    pub start: u64,
    /// Last unit, inclusive.
    pub end: u64,
    /// The holder, masked unless it is the acceptor or a bank.
    pub holder: String,
    /// `held`, `pledged`, `presented`, `settled` or `dishonoured`.
    pub state: String,
}

/// A step of a disclosed bill's history.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct DisclosedStep {
    /// Block height.
    pub height: u64,
    /// Block time.
    pub time_ms: u64,
    /// The transaction.
    pub tx_id: String,
    /// What happened (as in [`HistoryEntry::action`]).
    pub action: String,
    /// Who acted, masked unless the acceptor or a bank.
    pub actor: String,
    /// The other party, likewise.
    pub counterparty: Option<String>,
    /// The sub-range concerned (`0..=0` for the bill as a whole).
    pub start: u64,
    /// Last unit.
    pub end: u64,
}

/// An invoice a disclosed bill's discount occupies.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct DisclosedInvoice {
    /// The invoice code (public: it names the issuing batch).
    pub code: String,
    /// The invoice number, all but its last four digits masked.
    pub number: String,
    /// Amount including tax.
    pub amount_inc_tax: u64,
    /// How much of it financing occupies.
    pub occupied: u64,
}

/// A fund movement of a disclosed bill (never its accounts).
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct DisclosedMovement {
    /// Its id (the instructing request's).
    pub id: RequestId,
    /// What it is.
    pub kind: MovementKind,
    /// Amount in fen.
    pub amount: u64,
    /// Status.
    pub status: MovementStatus,
}

/// A line of `bill.list`.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct BillSummary {
    /// Package number.
    pub number: String,
    /// Type.
    pub kind: BillKind,
    /// Face amount.
    pub amount: u64,
    /// Due date.
    pub due_date: Date,
    /// Drawer.
    pub drawer: PartyId,
    /// Acceptor.
    pub acceptor: PartyId,
    /// Stage.
    pub stage: BillStage,
    /// What the caller holds of it, in fen.
    pub held_by_caller: u64,
}

/// A line of `bill.holdings`.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct HoldingView {
    /// The bill.
    pub bill: String,
    /// Its due date.
    pub due_date: Date,
    /// The acceptor.
    pub acceptor: PartyId,
    /// The holding.
    pub holding: Holding,
}

// ---------------------------------------------------------------- funds

/// What a movement is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub enum MovementKind {
    /// A bank pays the discount's net amount to the applicant.
    Disbursement,
    /// The acceptor pays the holder at maturity.
    Payment,
    /// An earlier party pays the holder of a dishonoured bill.
    Recourse,
    /// A bank charges a fee into a custody account.
    Fee,
    /// Undoes an earlier movement.
    Reversal,
}

impl MovementKind {
    /// Its name in lower case.
    pub fn name(self) -> &'static str {
        match self {
            MovementKind::Disbursement => "disbursement",
            MovementKind::Payment => "payment",
            MovementKind::Recourse => "recourse",
            MovementKind::Fee => "fee",
            MovementKind::Reversal => "reversal",
        }
    }
}

/// Where a movement stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub enum MovementStatus {
    /// Instructed, the bank's answer not yet in.
    Pending,
    /// Done, with the bank's serial number.
    Success,
    /// Not done.
    Failed,
    /// No answer in time: never taken as failure, resolved by query or reconciliation.
    Unknown,
}

impl MovementStatus {
    /// Its name in lower case.
    pub fn name(self) -> &'static str {
        match self {
            MovementStatus::Pending => "pending",
            MovementStatus::Success => "success",
            MovementStatus::Failed => "failed",
            MovementStatus::Unknown => "unknown",
        }
    }
}

/// The business step a movement completes.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub enum Purpose {
    /// Nothing waits for it (fees, reversals).
    None,
    /// The discount request.
    Discount(RequestId),
    /// The presentment.
    Payment(RequestId),
    /// The recourse claim.
    Recourse(RequestId),
}

/// One side of a movement.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct AccountRef {
    /// The account's owner (a party, or `custody:<bank>` for a platform custody account).
    pub owner: PartyId,
    /// The account.
    pub account: Account,
}

/// A fund movement.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct Movement {
    /// The request id: the idempotency key.
    pub request_id: RequestId,
    /// What it is.
    pub kind: MovementKind,
    /// The movement it reverses, for reversals; the bill for bill movements.
    pub original: Option<String>,
    /// Amount.
    pub amount: u64,
    /// Paid from.
    pub debit: AccountRef,
    /// Paid to.
    pub credit: AccountRef,
    /// The bank that executes it and answers for it (the debit account's bank).
    pub bank: PartyId,
    /// Who instructed it.
    pub originator: PartyId,
    /// Status.
    pub status: MovementStatus,
    /// The bank's serial number, once it answered with success.
    pub bank_serial: Option<String>,
    /// What it completes.
    pub purpose: Purpose,
    /// The reversal that undid it, if any.
    pub reversed_by: Option<RequestId>,
    /// The business day it was instructed on.
    pub day: Date,
    /// Block time it was instructed at.
    pub created_ms: u64,
    /// Block height it was instructed at.
    pub height: u64,
}

/// A bank's answer.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub enum Outcome {
    /// Done, with the bank's serial number.
    Success {
        /// The serial.
        bank_serial: String,
    },
    /// Not done.
    Failed {
        /// The bank's reason.
        reason: String,
    },
}

/// `fund.report`: the executing bank answers (also after a query for an `unknown` one).
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct ReportMovement {
    /// The movement.
    pub request_id: RequestId,
    /// The answer.
    pub outcome: Outcome,
}

/// `fund.reverse`: the originator undoes a successful movement.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct Reverse {
    /// The reversal's own request id.
    pub request_id: RequestId,
    /// The movement to undo.
    pub original: RequestId,
}

/// `fund.fee`: a bank charges a party a fee into its custody account.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct ChargeFee {
    /// The fee's request id.
    pub request_id: RequestId,
    /// Who pays.
    pub payer: PartyId,
    /// How much.
    pub amount: u64,
    /// Which of the bank's custody accounts (its index in the bank's `custody`).
    pub custody: u32,
    /// The bill or financing it is for.
    pub reference: String,
}

/// A movement event.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct MovementEvent {
    /// The movement.
    pub request_id: RequestId,
    /// What kind.
    pub kind: MovementKind,
    /// Status after the change.
    pub status: MovementStatus,
    /// Amount.
    pub amount: u64,
    /// Debit owner.
    pub from: PartyId,
    /// Credit owner.
    pub to: PartyId,
    /// Executing bank.
    pub bank: PartyId,
}

/// One line of a bank statement.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct StatementLine {
    /// The movement's request id as the bank received it.
    pub request_id: RequestId,
    /// The bank's serial number.
    pub bank_serial: String,
    /// The amount the bank moved.
    pub amount: u64,
    /// Whether the bank executed it.
    pub success: bool,
}

/// `fund.reconcile`: a bank's statement of one day.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct Reconcile {
    /// The business day.
    pub day: Date,
    /// Its lines.
    pub lines: Vec<StatementLine>,
    /// SHA-256 of the Borsh encoding of `lines`: the statement file's digest.
    pub statement_hash: Digest,
}

/// A line the two sides disagree on.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct Mismatch {
    /// The movement.
    pub request_id: RequestId,
    /// The ledger's amount.
    pub ledger_amount: u64,
    /// The bank's amount.
    pub bank_amount: u64,
    /// The ledger's status.
    pub ledger_status: MovementStatus,
    /// Whether the bank executed it.
    pub bank_success: bool,
}

/// A reconciliation report for one bank and day.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct ReconReport {
    /// The bank.
    pub bank: PartyId,
    /// The day.
    pub day: Date,
    /// The statement's digest.
    pub statement_hash: Digest,
    /// Movements on both sides, in agreement.
    pub matched: Vec<RequestId>,
    /// `unknown` or `pending` movements the statement resolved, with the status they took.
    pub resolved: Vec<(RequestId, MovementStatus)>,
    /// On the ledger (and not failed), not on the statement.
    pub ledger_only: Vec<RequestId>,
    /// On the statement, not on the ledger.
    pub bank_only: Vec<RequestId>,
    /// On both, with another amount or outcome.
    pub mismatched: Vec<Mismatch>,
    /// Whether the day is closed.
    pub closed: bool,
    /// When it was reconciled.
    pub height: u64,
}

impl ReconReport {
    /// Whether nothing is one-sided or mismatched.
    pub fn clean(&self) -> bool {
        self.ledger_only.is_empty() && self.bank_only.is_empty() && self.mismatched.is_empty()
    }
}

/// `fund.close_day`: a bank's day.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct DayRef {
    /// The day.
    pub day: Date,
}

/// `fund.recon_report`: a bank's report of a day.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct ReportRef {
    /// The bank.
    pub bank: PartyId,
    /// The day.
    pub day: Date,
}

/// A reconciliation event.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct ReconEvent {
    /// The bank.
    pub bank: PartyId,
    /// The day.
    pub day: Date,
    /// Counts: matched, resolved, ledger-only, bank-only, mismatched.
    pub counts: [u32; 5],
    /// Whether the day closed.
    pub closed: bool,
}

// ---------------------------------------------------------------- risk

/// `risk.set_limits`: limits for one party.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct SetLimits {
    /// The party.
    pub party: PartyId,
    /// Its limits.
    pub limits: Limits,
}

/// `risk.blacklist`.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct Blacklist {
    /// The party.
    pub party: PartyId,
    /// Why.
    pub reason: String,
}

/// A risk rule fired.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema)]
pub struct RiskAlert {
    /// The rule: `blacklist`, `daily_discount_limit`, `open_requests`, `burst`, `double_financing`.
    pub rule: String,
    /// The party concerned.
    pub party: PartyId,
    /// The signing key.
    pub key_id: String,
    /// The method called.
    pub method: String,
    /// The facts, for people: `requested 600000.00 with 9500000.00 used of 10000000.00`.
    pub facts: String,
}
