//! What the rules run against: the [`Store`], the call's [`Context`], refusals,
//! the state's key layout, and [`execute`], the contract's dispatcher.

use alloc::borrow::ToOwned;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use billflow_contract::Context;
use billflow_contract::interface::Interface;
use billflow_finance::Date;
use borsh::{BorshDeserialize, BorshSerialize};

use crate::codes::*;
use crate::types::*;
use crate::{bill, fund, order, party, risk};

/// The contract's state and events.
pub trait Store {
    /// The value under `key`.
    fn get(&self, key: &[u8]) -> Option<Vec<u8>>;
    /// Stores `value` under `key`.
    fn put(&mut self, key: &[u8], value: &[u8]);
    /// Deletes `key`.
    fn delete(&mut self, key: &[u8]);
    /// Up to `limit` entries with keys in `[start, end)` in key order.
    fn range(&self, start: &[u8], end: &[u8], limit: u32) -> Vec<(Vec<u8>, Vec<u8>)>;
    /// Emits an event.
    fn emit(&mut self, topic: &str, data: &[u8]);
}

/// An in-memory [`Store`] that behaves as the host does: [`MemStore::call`]
/// keeps a refused call's writes and events out, except `.alert` events.
#[derive(Debug, Clone, Default)]
pub struct MemStore {
    /// The state.
    pub state: BTreeMap<Vec<u8>, Vec<u8>>,
    /// Events of the last call.
    pub events: Vec<(String, Vec<u8>)>,
    /// Range reads made so far: a range read costs the host a seek in every
    /// table of its index, a point read far less, and tests count them.
    pub ranges: core::cell::Cell<u64>,
}

impl Store for MemStore {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.state.get(key).cloned()
    }
    fn put(&mut self, key: &[u8], value: &[u8]) {
        self.state.insert(key.to_vec(), value.to_vec());
    }
    fn delete(&mut self, key: &[u8]) {
        self.state.remove(key);
    }
    fn range(&self, start: &[u8], end: &[u8], limit: u32) -> Vec<(Vec<u8>, Vec<u8>)> {
        self.ranges.set(self.ranges.get() + 1);
        self.state
            .range(start.to_vec()..end.to_vec())
            .take(limit as usize)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
    fn emit(&mut self, topic: &str, data: &[u8]) {
        self.events.push((topic.to_string(), data.to_vec()));
    }
}

impl MemStore {
    /// Runs one call as the host would: all of it, or (refused) nothing but its alerts.
    pub fn call(&mut self, env: &Context, method: &str, args: &[u8]) -> Result<Vec<u8>, Refusal> {
        let before = self.state.clone();
        self.events.clear();
        let result = execute(self, env, method, args);
        if result.is_err() {
            self.state = before;
            self.events.retain(|(topic, _)| topic.ends_with(".alert"));
        }
        result
    }
}

/// The business day of a call: its block time's date in China Standard Time.
pub fn today(ctx: &Context) -> Date {
    Date::of_block_time(ctx.time_ms)
}

/// Why a call is refused: a stable code and a message for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// `E_...`.
    pub code: &'static str,
    /// What was wrong.
    pub message: String,
}

impl Refusal {
    /// A refusal.
    pub fn new(code: &'static str, message: impl Into<String>) -> Refusal {
        Refusal { code, message: message.into() }
    }
}

impl From<billflow_finance::Invalid> for Refusal {
    fn from(e: billflow_finance::Invalid) -> Refusal {
        Refusal { code: e.code, message: e.message }
    }
}

/// `Err(Refusal)` from the enclosing function unless `cond` holds.
macro_rules! ensure {
    ($cond:expr, $code:expr, $($message:tt)+) => {
        if !$cond {
            return Err($crate::ledger::Refusal::new($code, alloc::format!($($message)+)));
        }
    };
}
pub(crate) use ensure;

/// What a method returns.
pub(crate) type Out = Result<Vec<u8>, Refusal>;

/// The largest amount: 10 trillion yuan (keeps every sum far from overflow).
pub const MAX_AMOUNT: u64 = 1_000_000_000_000_000;

/// Every method: `query` or `write`, its name, its handler, its argument type
/// and its result type. [`execute`] dispatches by this table and [`interface`]
/// publishes it, so the interface cannot drift from what the contract decodes;
/// a handler's argument type is checked by the compiler, its result type by
/// the tests, which decode every output with it.
macro_rules! methods {
    ($($kind:ident $name:path => $handler:path : $args:ty => $result:ty;)*) => {
        /// Runs `method` with `args`, or `None` when there is no such method.
        fn dispatch(cx: &mut Cx<'_>, method: &str, args: &[u8]) -> Option<Out> {
            match method {
                $($name => Some(methods!(@run $kind cx, $name, $handler, $args, args)),)*
                _ => None,
            }
        }

        /// The contract's interface: every method and event with its types.
        pub fn interface() -> Interface {
            let methods = Interface::new()$(.$kind::<$args, $result>($name))*;
            events(methods)
        }

        /// Whether `output` of `method` decodes as the result type its table row names.
        #[cfg(test)]
        pub(crate) fn output_matches(method: &str, output: &[u8]) -> bool {
            match method {
                $($name => borsh::from_slice::<$result>(output).is_ok(),)*
                _ => false,
            }
        }
    };
    (@run query $cx:ident, $name:path, $handler:path, $args:ty, $bytes:ident) => {
        decode::<$args>($bytes).and_then(|a| $handler($cx, a))
    };
    (@run write $cx:ident, $name:path, $handler:path, $args:ty, $bytes:ident) => {
        writing($cx, $name).and_then(|()| decode::<$args>($bytes)).and_then(|a| $handler($cx, a))
    };
}

methods! {
    write methods::PARTY_REGISTER => party::register: RegisterParty => Party;
    query methods::PARTY_GET => party::get: ById => Option<Party>;
    write methods::ORDER_CREATE => order::create: CreateOrder => Order;
    write methods::ORDER_DELIVER => order::deliver: RecordDelivery => Order;
    write methods::ORDER_CONFIRM_DELIVERY => order::confirm_delivery: DeliveryRef => Order;
    write methods::ORDER_CLOSE => order::close: ById => Order;
    write methods::ORDER_CANCEL => order::cancel: ById => Order;
    query methods::ORDER_GET => order::get: ById => Order;
    write methods::INVOICE_RECORD => order::record_invoice: RecordInvoice => Invoice;
    write methods::INVOICE_VERIFY => order::verify_invoice: VerifyInvoice => Invoice;
    query methods::INVOICE_GET => order::get_invoice: InvoiceKey => Invoice;
    write methods::BILL_ISSUE => bill::issue: IssueBill => Bill;
    write methods::BILL_REQUEST_ACCEPTANCE => bill::request_acceptance: ByBill => Request;
    write methods::BILL_REQUEST_DELIVERY => bill::request_delivery: ByBill => Request;
    write methods::BILL_ENDORSE => bill::endorse: Transfer => Request;
    write methods::BILL_PLEDGE => bill::pledge: Transfer => Request;
    write methods::BILL_RELEASE => bill::release: Range => Request;
    write methods::BILL_REQUEST_DISCOUNT => bill::request_discount: RequestDiscount => Request;
    write methods::BILL_APPROVE_DISCOUNT => bill::approve_discount: ApproveDiscount => Request;
    write methods::BILL_REDISCOUNT => bill::rediscount: Rediscount => Request;
    write methods::BILL_PRESENT => bill::present: Range => Request;
    write methods::BILL_RECOURSE => bill::recourse: Recourse => Request;
    write methods::BILL_SIGN => bill::sign: Answer => Request;
    write methods::BILL_REFUSE => bill::refuse: Answer => Request;
    write methods::BILL_WITHDRAW => bill::withdraw: Answer => Request;
    write methods::BILL_CANCEL => bill::cancel: ByBill => Bill;
    write methods::BILL_FREEZE => bill::freeze: FreezeBill => Bill;
    write methods::BILL_UNFREEZE => bill::unfreeze: ByBill => Bill;
    write methods::BILL_CLEANUP => bill::cleanup: () => Cleanup;
    write methods::BILL_SET_POLICY => bill::set_policy: DiscountPolicy => ();
    query methods::BILL_POLICY => bill::policy: ById => Option<DiscountPolicy>;
    query methods::BILL_GET => bill::get: ByBill => BillView;
    query methods::BILL_DISCLOSURE => bill::disclosure: ByBill => BillDisclosure;
    query methods::BILL_LIST => bill::list: Page => Vec<BillSummary>;
    query methods::INBOX => bill::inbox: () => Inbox;
    query methods::BILL_HOLDINGS => bill::holdings: ById => Vec<HoldingView>;
    write methods::FUND_REPORT => fund::report: ReportMovement => Movement;
    write methods::FUND_MARK_UNKNOWN => fund::mark_unknown: ById => Movement;
    write methods::FUND_REVERSE => fund::reverse: Reverse => Movement;
    write methods::FUND_FEE => fund::fee: ChargeFee => Movement;
    write methods::FUND_OPEN_CUSTODY => party::open_custody: OpenCustody => Party;
    write methods::FUND_RECONCILE => fund::reconcile: Reconcile => ReconReport;
    write methods::FUND_CLOSE_DAY => fund::close_day: DayRef => ReconReport;
    query methods::FUND_MOVEMENT => fund::get: ById => Option<Movement>;
    query methods::FUND_RECON_REPORT => fund::recon_report: ReportRef => Option<ReconReport>;
    write methods::RISK_SET_LIMITS => risk::set_limits: SetLimits => ();
    write methods::RISK_BLACKLIST => risk::blacklist: Blacklist => ();
    write methods::RISK_UNBLACKLIST => risk::unblacklist: ById => ();
}

/// Every event topic with its data type, for [`interface`]; the tests decode
/// every event they see with it.
macro_rules! events {
    ($($topic:path => $data:ty;)*) => {
        fn events(interface: Interface) -> Interface {
            interface$(.event::<$data>($topic))*
        }

        /// Whether `data` of an event on `topic` decodes as the type its row names.
        #[cfg(test)]
        pub(crate) fn event_matches(topic: &str, data: &[u8]) -> bool {
            match topic {
                $($topic => borsh::from_slice::<$data>(data).is_ok(),)*
                _ => false,
            }
        }
    };
}

events! {
    topics::PARTY_REGISTERED => Party;
    topics::ORDER => OrderEvent;
    topics::INVOICE => InvoiceEvent;
    topics::BILL => HistoryEntry;
    topics::FUND => MovementEvent;
    topics::RECON => ReconEvent;
    topics::RISK_ALERT => RiskAlert;
}

/// A write method called read-only is refused before its arguments are read.
fn writing(cx: &Cx<'_>, method: &str) -> Result<(), Refusal> {
    ensure!(!cx.env.read_only, E_READ_ONLY_CALL, "`{}` changes the ledger: it cannot be queried", shown(method));
    Ok(())
}

/// Runs `method` with its Borsh `args` against `store`: the method's Borsh
/// output, or a [`Refusal`].
pub fn execute(store: &mut dyn Store, env: &Context, method: &str, args: &[u8]) -> Result<Vec<u8>, Refusal> {
    if method == methods::INIT {
        return init(store, args);
    }
    let config: FlowsConfig = get(store, CONFIG_KEY)?
        .ok_or_else(|| Refusal::new(E_NOT_INITIALISED, "the contract was deployed without its configuration"))?;
    let mut cx = Cx { store, env, config, method };
    dispatch(&mut cx, method, args).unwrap_or_else(|| {
        Err(Refusal::new(E_UNKNOWN_METHOD, format!("the contract has no method `{}`", shown(method))))
    })
}

fn init(store: &mut dyn Store, args: &[u8]) -> Out {
    let config: FlowsConfig = decode(args)?;
    ensure!(
        config.answer_timeout_ms > 0 && config.max_tenor_months > 0 && config.burst_window_ms > 0,
        E_BAD_ARGS,
        "timeouts, windows and the tenor must be positive"
    );
    put(store, CONFIG_KEY, &config);
    Ok(Vec::new())
}

fn shown(text: &str) -> String {
    text.chars().take(64).collect()
}

/// Decodes Borsh arguments (`E_BAD_ARGS`).
pub(crate) fn decode<T: BorshDeserialize>(bytes: &[u8]) -> Result<T, Refusal> {
    T::try_from_slice(bytes).map_err(|e| Refusal::new(E_BAD_ARGS, format!("the arguments do not decode: {e}")))
}

/// The Borsh encoding of `value`.
pub(crate) fn encode<T: BorshSerialize + ?Sized>(value: &T) -> Vec<u8> {
    borsh::to_vec(value).unwrap_or_default()
}

/// `Ok` with the encoding of `value`.
pub(crate) fn ok<T: BorshSerialize + ?Sized>(value: &T) -> Out {
    Ok(encode(value))
}

fn get<T: BorshDeserialize>(store: &dyn Store, key: &str) -> Result<Option<T>, Refusal> {
    store.get(key.as_bytes()).map(|bytes| stored(key, &bytes)).transpose()
}

/// Decodes the value stored under `key` (`E_CORRUPT_STATE`).
pub(crate) fn stored<T: BorshDeserialize>(key: &str, value: &[u8]) -> Result<T, Refusal> {
    T::try_from_slice(value)
        .map_err(|e| Refusal::new("E_CORRUPT_STATE", format!("the value under {key} does not decode: {e}")))
}

fn put<T: BorshSerialize>(store: &mut dyn Store, key: &str, value: &T) {
    store.put(key.as_bytes(), &encode(value));
}

/// The SHA-256 digest a bank statement's lines must carry.
pub fn statement_hash(lines: &[StatementLine]) -> Digest {
    use sha2::Digest as _;
    sha2::Sha256::digest(encode(lines)).into()
}

// ------------------------------------------------------------- key layout

/// The configuration.
pub(crate) const CONFIG_KEY: &str = "cfg";

/// State keys. Ids are validated (no `/`), so prefixes do not collide.
pub(crate) mod keys {
    use alloc::format;
    use alloc::string::String;

    use billflow_finance::Date;

    use crate::types::InvoiceKey;

    pub fn party(id: &str) -> String {
        format!("p/{id}")
    }
    pub fn order(id: &str) -> String {
        format!("o/{id}")
    }
    pub fn invoice(k: &InvoiceKey) -> String {
        format!("i/{}/{}", k.code, k.number)
    }
    /// A financing that occupies an invoice, in the order they were asked
    /// (by height, then request).
    pub fn occupation(k: &InvoiceKey, height: u64, request: &str) -> String {
        format!("io/{}/{}/{height:020}/{request}", k.code, k.number)
    }
    pub fn occupation_prefix(k: &InvoiceKey) -> String {
        format!("io/{}/{}/", k.code, k.number)
    }
    pub fn bill(number: &str) -> String {
        format!("b/{number}")
    }
    /// A holding of a circulating bill, by its last unit: the holding that
    /// holds unit `u` is the first at or after `holding(bill, u)`.
    pub fn holding(number: &str, end: u64) -> String {
        format!("bh/{number}/{}", unit(end))
    }
    pub fn holding_prefix(number: &str) -> String {
        format!("bh/{number}/")
    }
    /// A unit as holding keys spell it: fixed width, so key order is unit order.
    pub fn unit(u: u64) -> String {
        format!("{u:020}")
    }
    pub fn history(number: &str, seq: u32) -> String {
        format!("h/{number}/{seq:010}")
    }
    pub fn history_prefix(number: &str) -> String {
        format!("h/{number}/")
    }
    pub fn request(id: &str) -> String {
        format!("r/{id}")
    }
    /// Open requests by business day, for the end-of-day clean-up.
    pub fn request_day(day: Date, id: &str) -> String {
        format!("rd/{day}/{id}")
    }
    /// Open requests by bill.
    pub fn bill_request(bill: &str, id: &str) -> String {
        format!("br/{bill}/{id}")
    }
    pub fn bill_request_prefix(bill: &str) -> String {
        format!("br/{bill}/")
    }
    /// The business day on which the bill's open requests of earlier days
    /// were last ended.
    pub fn bill_swept(bill: &str) -> String {
        format!("bs/{bill}")
    }
    /// Pending requests by the party that answers them: its inbox.
    pub fn inbox(party: &str, id: &str) -> String {
        format!("ib/{party}/{id}")
    }
    pub fn inbox_prefix(party: &str) -> String {
        format!("ib/{party}/")
    }
    /// Movements waiting for their executing bank's report, by bank.
    pub fn bank_inbox(bank: &str, id: &str) -> String {
        format!("ibm/{bank}/{id}")
    }
    pub fn bank_inbox_prefix(bank: &str) -> String {
        format!("ibm/{bank}/")
    }
    /// Bills a party may see.
    pub fn visible(party: &str, bill: &str) -> String {
        format!("v/{party}/{bill}")
    }
    pub fn visible_prefix(party: &str) -> String {
        format!("v/{party}/")
    }
    pub fn movement(id: &str) -> String {
        format!("m/{id}")
    }
    /// Movements by executing bank and day.
    pub fn bank_day(bank: &str, day: Date, id: &str) -> String {
        format!("mb/{bank}/{day}/{id}")
    }
    pub fn bank_day_prefix(bank: &str, day: Date) -> String {
        format!("mb/{bank}/{day}/")
    }
    /// Movements waiting for their bank's answer.
    pub fn pending_movement(id: &str) -> String {
        format!("mp/{id}")
    }
    /// Movements by bill.
    pub fn bill_movement(bill: &str, id: &str) -> String {
        format!("mv/{bill}/{id}")
    }
    pub fn bill_movement_prefix(bill: &str) -> String {
        format!("mv/{bill}/")
    }
    /// The reversal under way of a movement.
    pub fn reversal(original: &str) -> String {
        format!("rv/{original}")
    }
    pub fn report(bank: &str, day: Date) -> String {
        format!("rep/{bank}/{day}")
    }
    pub fn policy(bank: &str) -> String {
        format!("pol/{bank}")
    }
    pub fn limits(party: &str) -> String {
        format!("lim/{party}")
    }
    pub fn blacklist(party: &str) -> String {
        format!("bl/{party}")
    }
    /// Discount amount a party asked for on a day.
    pub fn daily_discount(party: &str, day: Date) -> String {
        format!("dd/{party}/{day}")
    }
    /// Instant discounts of a party with a bank on a day.
    pub fn daily_instant(bank: &str, party: &str, day: Date) -> String {
        format!("di/{bank}/{party}/{day}")
    }
    /// Requests a party has open.
    pub fn open_requests(party: &str) -> String {
        format!("open/{party}")
    }
    /// A key's recent actions.
    pub fn burst(key_id: &str) -> String {
        format!("burst/{key_id}")
    }
}

/// The first key after every key that starts with `prefix` (prefixes here are ASCII).
pub(crate) fn prefix_end(prefix: &str) -> Vec<u8> {
    let mut end = prefix.as_bytes().to_vec();
    if let Some(last) = end.last_mut() {
        *last += 1;
    }
    end
}

// ------------------------------------------------------------- the call

/// One call: the store, the environment, the configuration.
pub(crate) struct Cx<'a> {
    pub store: &'a mut dyn Store,
    pub env: &'a Context,
    pub config: FlowsConfig,
    pub method: &'a str,
}

impl Cx<'_> {
    /// The value under `key`.
    pub fn get<T: BorshDeserialize>(&self, key: &str) -> Result<Option<T>, Refusal> {
        get(&*self.store, key)
    }

    /// Stores `value` under `key`.
    pub fn put<T: BorshSerialize>(&mut self, key: &str, value: &T) {
        put(self.store, key, value)
    }

    /// Deletes `key`.
    pub fn delete(&mut self, key: &str) {
        self.store.delete(key.as_bytes())
    }

    /// Whether `key` holds a value.
    pub fn exists(&self, key: &str) -> bool {
        self.store.get(key.as_bytes()).is_some()
    }

    /// Keys (after the prefix) and values under `prefix`, at most `limit`, starting after `after`.
    pub fn scan(&self, prefix: &str, after: Option<&str>, limit: u32) -> Vec<(String, Vec<u8>)> {
        let start = match after {
            Some(a) => {
                let mut s = format!("{prefix}{a}").into_bytes();
                s.push(0);
                s
            }
            None => prefix.as_bytes().to_vec(),
        };
        self.store
            .range(&start, &prefix_end(prefix), limit)
            .into_iter()
            .map(|(k, v)| (String::from_utf8_lossy(&k[prefix.len()..]).into_owned(), v))
            .collect()
    }

    /// Every value under `prefix`, decoded, in key order.
    pub fn scan_all<T: BorshDeserialize>(&self, prefix: &str) -> Result<Vec<T>, Refusal> {
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = self.scan(prefix, after.as_deref(), 1000);
            let full = page.len() == 1000;
            for (key, value) in page {
                out.push(stored(&format!("{prefix}{key}"), &value)?);
                after = Some(key);
            }
            if !full {
                return Ok(out);
            }
        }
    }

    /// Emits `data` under `topic`.
    pub fn emit<T: BorshSerialize>(&mut self, topic: &str, data: &T) {
        self.store.emit(topic, &encode(data))
    }

    /// The business day.
    pub fn today(&self) -> Date {
        today(self.env)
    }

    /// The calling participant's id (`E_NOT_A_PARTICIPANT`).
    pub fn participant(&self) -> Result<String, Refusal> {
        self.env
            .caller
            .participant
            .clone()
            .ok_or_else(|| Refusal::new(E_NOT_A_PARTICIPANT, "business actions are signed by a participant's key"))
    }

    /// The calling party, registered, not blacklisted, not bursting: the
    /// start of every business action.
    pub fn actor(&mut self) -> Result<Party, Refusal> {
        let id = self.participant()?;
        let party = self.party(&id)?;
        risk::admit(self, &party.id)?;
        Ok(party)
    }

    /// A registered party (`E_PARTY_UNKNOWN`).
    pub fn party(&self, id: &str) -> Result<Party, Refusal> {
        self.get(&keys::party(id))?.ok_or_else(|| {
            Refusal::new(E_PARTY_UNKNOWN, format!("{} has not registered with the flows contract", shown(id)))
        })
    }

    /// A registered counterparty that is not blacklisted.
    pub fn counterparty(&mut self, id: &str) -> Result<Party, Refusal> {
        let party = self.party(id)?;
        risk::not_blacklisted(self, &party.id, "counterparty")?;
        Ok(party)
    }

    /// A consortium administrator or regulator (`E_NOT_AUTHORISED`).
    pub fn require_admin(&self) -> Result<(), Refusal> {
        ensure!(
            self.env.caller.is_org_admin(),
            E_NOT_AUTHORISED,
            "only a consortium organisation's administrator may call `{}`",
            self.method
        );
        Ok(())
    }

    /// Whether the caller sees everything (consortium administrators, regulators).
    pub fn sees_all(&self) -> bool {
        self.env.caller.is_org_admin() || self.env.caller.has_org_role("regulator")
    }
}

/// Checks an id: 1 to 64 of `A-Z a-z 0-9 . _ : -` (`E_BAD_ARGS`).
pub(crate) fn check_id(what: &str, id: &str) -> Result<(), Refusal> {
    ensure!(
        !id.is_empty()
            && id.len() <= 64
            && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-')),
        E_BAD_ARGS,
        "{what} must be 1 to 64 of A-Z a-z 0-9 . _ : -, got {:?}",
        shown(id)
    );
    Ok(())
}

/// Checks an amount: positive whole fen up to [`MAX_AMOUNT`] (`E_AMOUNT_INVALID`).
pub(crate) fn check_amount(what: &str, amount: u64) -> Result<(), Refusal> {
    ensure!(amount > 0 && amount <= MAX_AMOUNT, E_AMOUNT_INVALID, "{what} must be 1 to {MAX_AMOUNT} fen, got {amount}");
    Ok(())
}

/// Checks free text for people (reasons, cities): short, printable, no personal data.
pub(crate) fn check_text(what: &str, text: &str, max: usize) -> Result<(), Refusal> {
    ensure!(text.chars().count() <= max, E_BAD_ARGS, "{what} is longer than {max} characters");
    ensure!(!text.chars().any(char::is_control), E_BAD_ARGS, "{what} holds control characters");
    if let Some(kind) = billflow_privacy::find_personal_data(text) {
        return Err(Refusal::new(
            E_PERSONAL_DATA,
            format!("{what} looks like it holds {}; personal data stays off the ledger", kind.describe()),
        ));
    }
    Ok(())
}

/// `id` as a `String`.
pub(crate) fn owned(id: &str) -> String {
    id.to_owned()
}
