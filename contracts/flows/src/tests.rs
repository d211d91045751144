#![allow(clippy::too_many_arguments)]

//! The rules, table by table (domain.md), against an in-memory store that
//! behaves as the host does: every precondition allowed and refused with its
//! code, and a refusal changes nothing.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use std::collections::BTreeMap;

use billflow_finance::{Date, Fen, RatePpm};
use borsh::{BorshDeserialize, BorshSerialize};

use crate::codes::*;
use crate::ledger::{encode, keys};
use crate::*;

const BILL: &str = "523456789012345678901234567890";
const BILL2: &str = "523456789012345678901234567891";

/// A ledger with parties, a clock and a transaction counter.
struct World {
    store: MemStore,
    time_ms: u64,
    height: u64,
    kinds: BTreeMap<String, &'static str>,
}

fn date(text: &str) -> Date {
    Date::parse(text).unwrap()
}

fn account(bank: &str, tail: u8) -> Account {
    Account { bank: bank.to_string(), masked: format!("6222****{tail:04}"), number_hash: [tail.max(1); 32] }
}

impl World {
    /// A deployed contract on `today` with the demo's parties registered:
    /// core enterprise CORE, suppliers E1 and E2, banks BANK1 and BANK2, finance company FIN1.
    fn new(today: &str) -> World {
        let mut w = World { store: MemStore::default(), time_ms: 0, height: 1, kinds: BTreeMap::new() };
        w.at(today);
        execute(&mut w.store, &Context::default(), methods::INIT, &encode(&FlowsConfig::default())).unwrap();
        for (id, kind) in [("BANK1", "bank"), ("BANK2", "bank"), ("FIN1", "bank")] {
            w.kinds.insert(id.to_string(), kind);
            let a = RegisterParty { account: account(id, 1), city: "Shanghai".into(), finance_company: id == "FIN1" };
            w.ok::<_, Party>(id, methods::PARTY_REGISTER, &a);
        }
        for (i, id) in ["CORE", "E1", "E2", "E3"].into_iter().enumerate() {
            w.kinds.insert(id.to_string(), "enterprise");
            let a = RegisterParty {
                account: account("BANK1", 10 + i as u8),
                city: "Shanghai".into(),
                finance_company: false,
            };
            w.ok::<_, Party>(id, methods::PARTY_REGISTER, &a);
        }
        w
    }

    /// 10:00 in Beijing on `day`.
    fn at(&mut self, day: &str) {
        self.time_ms = (date(day).day_number() as u64) * 86_400_000 + 2 * 3_600_000;
    }

    fn env(&mut self, who: &str) -> Context {
        self.height += 1;
        let caller = if who.is_empty() {
            Caller::default()
        } else if let Some(org) = who.strip_prefix("admin:") {
            Caller {
                key_id: format!("{org}.admin"),
                org: Some(org.to_string()),
                org_role: Some("notary".into()),
                ..Caller::default()
            }
        } else {
            Caller {
                key_id: format!("{who}.k1"),
                tenant: (self.kinds.get(who) == Some(&"enterprise")).then(|| "t1".to_string()),
                participant: Some(who.to_string()),
                participant_kind: Some(self.kinds.get(who).copied().unwrap_or("enterprise").to_string()),
                org: None,
                org_role: None,
            }
        };
        Context {
            tx_id: format!("tx-{}", self.height),
            height: self.height,
            time_ms: self.time_ms,
            caller,
            ..Context::default()
        }
    }

    fn call<A: BorshSerialize, R: BorshDeserialize>(
        &mut self,
        who: &str,
        method: &str,
        args: &A,
    ) -> Result<R, Refusal> {
        let env = self.env(who);
        let seen = self.store.events.len();
        let out = self.store.call(&env, method, &encode(args))?;
        self.check_interface(method, &out, seen);
        Ok(R::try_from_slice(&out).expect("output decodes"))
    }

    fn ok<A: BorshSerialize, R: BorshDeserialize>(&mut self, who: &str, method: &str, args: &A) -> R {
        match self.call(who, method, args) {
            Ok(r) => r,
            Err(e) => panic!("{who} {method}: {}: {}", e.code, e.message),
        }
    }

    /// Asserts the call is refused with `code` and leaves the state as it was.
    fn refused<A: BorshSerialize>(&mut self, who: &str, method: &str, args: &A, code: &str) {
        let before = self.store.state.clone();
        let env = self.env(who);
        match self.store.call(&env, method, &encode(args)) {
            Ok(_) => panic!("{who} {method}: expected {code}, it succeeded"),
            Err(e) => assert_eq!(e.code, code, "{who} {method}: {}", e.message),
        }
        assert_eq!(self.store.state, before, "{method} refused with {code} but changed the state");
    }

    fn query<A: BorshSerialize, R: BorshDeserialize>(
        &mut self,
        who: &str,
        method: &str,
        args: &A,
    ) -> Result<R, Refusal> {
        let mut env = self.env(who);
        env.read_only = true;
        env.tx_id.clear();
        let out = execute(&mut self.store, &env, method, &encode(args))?;
        self.check_interface(method, &out, self.store.events.len());
        Ok(R::try_from_slice(&out).expect("output decodes"))
    }

    /// The output of `method`, and every event since the first `seen`, are
    /// of the types the contract's interface names.
    fn check_interface(&self, method: &str, output: &[u8], seen: usize) {
        assert!(crate::ledger::output_matches(method, output), "the output of {method} is not its interface's type");
        for (topic, data) in &self.store.events[seen.min(self.store.events.len())..] {
            assert!(crate::ledger::event_matches(topic, data), "event {topic} is not its interface's type");
        }
    }

    fn bill(&mut self, number: &str) -> Bill {
        self.query::<_, BillView>("admin:notary-1", methods::BILL_GET, &ByBill { bill: number.into() }).unwrap().bill
    }

    fn movement(&mut self, id: &str) -> Movement {
        self.query::<_, Option<Movement>>("admin:notary-1", methods::FUND_MOVEMENT, &ById { id: id.into() })
            .unwrap()
            .unwrap()
    }

    fn invoice(&mut self, number: &str) -> Invoice {
        self.query("admin:notary-1", methods::INVOICE_GET, &invoice_key(number)).unwrap()
    }

    fn alerts(&self) -> Vec<RiskAlert> {
        self.store
            .events
            .iter()
            .filter(|(t, _)| t == topics::RISK_ALERT)
            .map(|(_, d)| RiskAlert::try_from_slice(d).unwrap())
            .collect()
    }

    // ---- scenario steps

    fn issue(&mut self, number: &str, amount: u64, issue: &str, due: &str) -> IssueBill {
        let a = issue_args(number, amount, issue, due);
        self.ok::<_, Bill>("CORE", methods::BILL_ISSUE, &a);
        a
    }

    /// Issued by CORE, accepted by CORE, received by E1.
    fn circulating(&mut self, number: &str, amount: u64, issue: &str, due: &str) {
        self.issue(number, amount, issue, due);
        let r: Request = self.ok("CORE", methods::BILL_REQUEST_ACCEPTANCE, &ByBill { bill: number.into() });
        self.ok::<_, Request>("CORE", methods::BILL_SIGN, &answer(&r.id));
        let r: Request = self.ok("CORE", methods::BILL_REQUEST_DELIVERY, &ByBill { bill: number.into() });
        self.ok::<_, Request>("E1", methods::BILL_SIGN, &answer(&r.id));
    }

    /// Order `id` from `seller` to `buyer` with a confirmed delivery and a verified invoice.
    fn trade(
        &mut self,
        id: &str,
        buyer: &str,
        seller: &str,
        amount: u64,
        invoice: &str,
        invoice_amount: u64,
        on: &str,
    ) {
        let order = CreateOrder { id: id.into(), seller: seller.into(), amount, date: date(on), evidence: None };
        self.ok::<_, Order>(buyer, methods::ORDER_CREATE, &order);
        let d = RecordDelivery { order: id.into(), delivery: "d1".into(), amount, date: date(on), evidence: None };
        self.ok::<_, Order>(seller, methods::ORDER_DELIVER, &d);
        self.ok::<_, Order>(
            buyer,
            methods::ORDER_CONFIRM_DELIVERY,
            &DeliveryRef { order: id.into(), delivery: "d1".into() },
        );
        let inv = invoice_args(id, buyer, seller, invoice, invoice_amount, on);
        self.ok::<_, Invoice>(seller, methods::INVOICE_RECORD, &inv);
        let v = VerifyInvoice { key: invoice_key(invoice), check_code: "12345678901234567890".into() };
        self.ok::<_, Invoice>("BANK1", methods::INVOICE_VERIFY, &v);
    }

    fn discount(
        &mut self,
        who: &str,
        number: &str,
        start: u64,
        end: u64,
        bank: &str,
        order: &str,
        invoices: &[&str],
    ) -> Result<Request, Refusal> {
        let a = discount_args(number, start, end, bank, order, invoices);
        self.call(who, methods::BILL_REQUEST_DISCOUNT, &a)
    }

    /// BANK1 discounts CORE's bills instantly up to 800 000, at 1.5 % a year
    /// for up to 184 days, within `daily_limit` per enterprise.
    fn instant_discounts(&mut self, daily_limit: u64) {
        let policy = DiscountPolicy {
            enabled: true,
            acceptors: vec!["CORE".into()],
            max_amount: 800_000,
            rates: vec![RateBand { max_days: 184, rate: RatePpm(15_000) }],
            daily_limit_per_enterprise: daily_limit,
        };
        self.ok::<_, ()>("BANK1", methods::BILL_SET_POLICY, &policy);
    }

    fn report(&mut self, bank: &str, id: &str, success: bool) -> Movement {
        let outcome = if success {
            Outcome::Success { bank_serial: format!("SN-{}", id.len()) }
        } else {
            Outcome::Failed { reason: "insufficient funds".into() }
        };
        self.ok(bank, methods::FUND_REPORT, &ReportMovement { request_id: id.into(), outcome })
    }
}

fn issue_args(number: &str, amount: u64, issue: &str, due: &str) -> IssueBill {
    IssueBill {
        number: number.into(),
        kind: BillKind::SupplyChain,
        amount,
        issue_date: date(issue),
        due_date: date(due),
        acceptor: "CORE".into(),
        payee: "E1".into(),
        splittable: true,
        non_transferable: false,
        evidence: None,
    }
}

fn invoice_key(number: &str) -> InvoiceKey {
    InvoiceKey { code: "3100231130".into(), number: number.into() }
}

fn invoice_args(order: &str, buyer: &str, seller: &str, number: &str, amount: u64, on: &str) -> RecordInvoice {
    RecordInvoice {
        key: invoice_key(number),
        order: order.into(),
        date: date(on),
        amount_ex_tax: amount * 100 / 113,
        amount_inc_tax: amount,
        seller: seller.into(),
        buyer: buyer.into(),
        check_code: "12345678901234567890".into(),
        evidence: None,
    }
}

fn discount_args(number: &str, start: u64, end: u64, bank: &str, order: &str, invoices: &[&str]) -> RequestDiscount {
    RequestDiscount {
        range: Range { bill: number.into(), start, end },
        bank: bank.into(),
        order: order.into(),
        invoices: invoices.iter().map(|n| invoice_key(n)).collect(),
    }
}

fn answer(id: &str) -> Answer {
    Answer { request: id.into(), reason: String::new() }
}

fn range(bill: &str, start: u64, end: u64) -> Range {
    Range { bill: bill.into(), start, end }
}

fn transfer(bill: &str, start: u64, end: u64, to: &str) -> Transfer {
    Transfer { range: range(bill, start, end), to: to.into() }
}

fn holders(bill: &Bill) -> Vec<(u64, u64, &str)> {
    bill.holdings.iter().map(|h| (h.start, h.end, h.holder.as_str())).collect()
}

// ------------------------------------------------------------- tests

#[test]
fn the_worked_example_is_disbursed_to_the_fen() {
    let mut w = World::new("2025-03-06");
    w.circulating(BILL, 100_000_000, "2025-03-06", "2025-09-06");
    w.trade("O1", "CORE", "E1", 100_000_000, "00000001", 113_000_000, "2025-03-06");
    w.at("2025-03-10");
    let req = w.discount("E1", BILL, 1, 100_000_000, "BANK1", "O1", &["00000001"]).unwrap();
    assert_eq!(req.status, "pending", "no policy: the bank decides");
    let req: Request =
        w.ok("BANK1", methods::BILL_APPROVE_DISCOUNT, &ApproveDiscount { request: req.id, rate: RatePpm(15_000) });
    let RequestKind::Discount(terms) = &req.kind else { panic!() };
    let figures = terms.figures.unwrap();
    assert_eq!(
        (figures.days, Fen(figures.interest).to_string(), figures.net.to_string()),
        (182, "7,583.33".into(), "992,416.67".into())
    );
    let m = w.movement(terms.disbursement.as_ref().unwrap());
    assert_eq!((m.amount, m.status, m.kind), (99_241_667, MovementStatus::Pending, MovementKind::Disbursement));
    assert_eq!((m.debit.owner.as_str(), m.credit.owner.as_str(), m.bank.as_str()), ("BANK1", "E1", "BANK1"));
    assert_eq!(m.credit.account, account("BANK1", 11), "proceeds go to the applicant's registered account");
    w.report("BANK1", &m.request_id, true);
    let bill = w.bill(BILL);
    assert_eq!(holders(&bill), vec![(1, 100_000_000, "BANK1")]);
    assert_eq!(bill.holdings[0].chain, vec!["CORE".to_string(), "E1".into()]);
}

#[test]
fn issue_preconditions() {
    let mut w = World::new("2025-03-06");
    let good = issue_args(BILL, 1_000, "2025-03-06", "2025-09-06");
    let cases: Vec<(IssueBill, &str)> = vec![
        (IssueBill { due_date: date("2025-03-06"), ..good.clone() }, E_DUE_NOT_AFTER_ISSUE),
        (IssueBill { due_date: date("2025-03-01"), ..good.clone() }, E_DUE_NOT_AFTER_ISSUE),
        (IssueBill { due_date: date("2025-09-07"), ..good.clone() }, E_TENOR_EXCEEDS_6M),
        (IssueBill { amount: 0, ..good.clone() }, E_AMOUNT_INVALID),
        (IssueBill { amount: u64::MAX, ..good.clone() }, E_AMOUNT_INVALID),
        (IssueBill { number: "12345".into(), ..good.clone() }, E_BILL_NUMBER_INVALID),
        (IssueBill { number: "52345678901234567890123456789X".into(), ..good.clone() }, E_BILL_NUMBER_INVALID),
        (IssueBill { kind: BillKind::BankAcceptance, ..good.clone() }, E_ACCEPTOR_TYPE_MISMATCH),
        (
            IssueBill { kind: BillKind::CommercialAcceptance, acceptor: "BANK1".into(), ..good.clone() },
            E_ACCEPTOR_TYPE_MISMATCH,
        ),
        (
            IssueBill { kind: BillKind::FinanceCompanyAcceptance, acceptor: "BANK1".into(), ..good.clone() },
            E_ACCEPTOR_TYPE_MISMATCH,
        ),
        (IssueBill { acceptor: "NOBODY".into(), ..good.clone() }, E_PARTY_UNKNOWN),
        (IssueBill { payee: "CORE".into(), ..good.clone() }, E_SAME_PARTY),
        (IssueBill { issue_date: date("2025-03-07"), ..good.clone() }, E_DATE_INVALID),
    ];
    for (args, code) in cases {
        w.refused("CORE", methods::BILL_ISSUE, &args, code);
    }
    w.refused("NOBODY", methods::BILL_ISSUE, &good, E_PARTY_UNKNOWN);
    w.refused("admin:notary-1", methods::BILL_ISSUE, &good, E_NOT_A_PARTICIPANT);
    // Allowed: each acceptor kind with its bill type, the six-month edge.
    let bill: Bill = w.ok("CORE", methods::BILL_ISSUE, &good);
    assert_eq!(bill.stage, BillStage::Issued);
    w.refused("CORE", methods::BILL_ISSUE, &good, E_DUPLICATE);
    let bank =
        IssueBill { number: BILL2.into(), kind: BillKind::BankAcceptance, acceptor: "BANK1".into(), ..good.clone() };
    w.ok::<_, Bill>("CORE", methods::BILL_ISSUE, &bank);
    let fin = IssueBill {
        number: "623456789012345678901234567890".into(),
        kind: BillKind::FinanceCompanyAcceptance,
        acceptor: "FIN1".into(),
        ..good
    };
    w.ok::<_, Bill>("CORE", methods::BILL_ISSUE, &fin);
}

#[test]
fn acceptance_delivery_and_cancellation() {
    let mut w = World::new("2025-03-06");
    w.issue(BILL, 1_000, "2025-03-06", "2025-06-06");
    let by = ByBill { bill: BILL.into() };
    w.refused("E1", methods::BILL_REQUEST_ACCEPTANCE, &by, E_WRONG_PARTY);
    w.refused("CORE", methods::BILL_REQUEST_DELIVERY, &by, E_BILL_STATE);
    let r: Request = w.ok("CORE", methods::BILL_REQUEST_ACCEPTANCE, &by);
    w.refused("CORE", methods::BILL_REQUEST_ACCEPTANCE, &by, E_BILL_LOCKED);
    w.refused("E1", methods::BILL_SIGN, &answer(&r.id), E_WRONG_PARTY);
    // Refused: back to issued; asked again and accepted.
    w.ok::<_, Request>("CORE", methods::BILL_REFUSE, &answer(&r.id));
    assert_eq!(w.bill(BILL).stage, BillStage::Issued);
    w.refused("CORE", methods::BILL_SIGN, &answer(&r.id), E_REQUEST_CLOSED);
    let r: Request = w.ok("CORE", methods::BILL_REQUEST_ACCEPTANCE, &by);
    w.ok::<_, Request>("CORE", methods::BILL_SIGN, &answer(&r.id));
    assert_eq!(w.bill(BILL).stage, BillStage::Accepted);
    // Delivery refused by the payee, then received.
    let r: Request = w.ok("CORE", methods::BILL_REQUEST_DELIVERY, &by);
    w.ok::<_, Request>("E1", methods::BILL_REFUSE, &answer(&r.id));
    assert_eq!(w.bill(BILL).stage, BillStage::Accepted);
    let r: Request = w.ok("CORE", methods::BILL_REQUEST_DELIVERY, &by);
    w.ok::<_, Request>("E1", methods::BILL_SIGN, &answer(&r.id));
    let bill = w.bill(BILL);
    assert_eq!((bill.stage, holders(&bill)), (BillStage::Circulating, vec![(1, 1_000, "E1")]));
    // Cancellation only before the payee has it, only by the drawer.
    w.refused("CORE", methods::BILL_CANCEL, &by, E_BILL_STATE);
    w.issue(BILL2, 500, "2025-03-06", "2025-06-06");
    let by2 = ByBill { bill: BILL2.into() };
    w.refused("E1", methods::BILL_CANCEL, &by2, E_WRONG_PARTY);
    let r: Request = w.ok("CORE", methods::BILL_REQUEST_ACCEPTANCE, &by2);
    let cancelled: Bill = w.ok("CORE", methods::BILL_CANCEL, &by2);
    assert_eq!(cancelled.stage, BillStage::Cancelled);
    w.refused("CORE", methods::BILL_SIGN, &answer(&r.id), E_REQUEST_CLOSED);
    w.refused("CORE", methods::BILL_REQUEST_ACCEPTANCE, &by2, E_BILL_CANCELLED);
    w.refused("CORE", methods::BILL_CANCEL, &by2, E_BILL_CANCELLED);
    w.refused("E1", methods::BILL_ENDORSE, &transfer(BILL2, 1, 500, "E2"), E_BILL_CANCELLED);
    // Acceptance on or after the due date is refused.
    w.issue("723456789012345678901234567890", 500, "2025-03-06", "2025-03-20");
    w.at("2025-03-20");
    w.refused(
        "CORE",
        methods::BILL_REQUEST_ACCEPTANCE,
        &ByBill { bill: "723456789012345678901234567890".into() },
        E_BILL_OVERDUE,
    );
}

#[test]
fn endorsement_whole_and_split() {
    let mut w = World::new("2025-03-06");
    w.circulating(BILL, 1_000, "2025-03-06", "2025-06-06");
    let cases = [
        (transfer(BILL, 1, 1_000, "E1"), "E1", E_SAME_PARTY),
        (transfer(BILL, 2, 400, "E2"), "E1", E_SUBRANGE_START_MISMATCH),
        (transfer(BILL, 1, 1_001, "E2"), "E1", E_SUBRANGE_NOT_CONTAINED),
        (transfer(BILL, 1, 0, "E2"), "E1", E_SUBRANGE_NOT_CONTAINED),
        (transfer(BILL, 1, 400, "E2"), "E2", E_WRONG_PARTY),
        (transfer(BILL, 1_001, 1_200, "E2"), "E1", E_SUBRANGE_NOT_CONTAINED),
        (transfer(BILL, 1, 400, "NOBODY"), "E1", E_PARTY_UNKNOWN),
        (transfer("999999999999999999999999999999", 1, 400, "E2"), "E1", E_UNKNOWN_BILL),
    ];
    for (args, who, code) in cases {
        w.refused(who, methods::BILL_ENDORSE, &args, code);
    }
    // Split: 400 to E2, the remainder stays with E1; the endorsee signs.
    let r: Request = w.ok("E1", methods::BILL_ENDORSE, &transfer(BILL, 1, 400, "E2"));
    assert_eq!(holders(&w.bill(BILL)), vec![(1, 400, "E1"), (401, 1_000, "E1")]);
    w.refused("E1", methods::BILL_ENDORSE, &transfer(BILL, 1, 400, "E3"), E_BILL_LOCKED);
    w.refused(
        "E1",
        methods::BILL_WITHDRAW,
        &Answer { request: "nope".into(), reason: String::new() },
        E_UNKNOWN_REQUEST,
    );
    w.ok::<_, Request>("E2", methods::BILL_SIGN, &answer(&r.id));
    let bill = w.bill(BILL);
    assert_eq!(holders(&bill), vec![(1, 400, "E2"), (401, 1_000, "E1")]);
    assert_eq!(bill.holdings[0].chain, vec!["CORE".to_string(), "E1".into()]);
    // A refused split joins back; so does a withdrawn one.
    let r: Request = w.ok("E1", methods::BILL_ENDORSE, &transfer(BILL, 401, 700, "E3"));
    w.ok::<_, Request>("E3", methods::BILL_REFUSE, &answer(&r.id));
    assert_eq!(holders(&w.bill(BILL)), vec![(1, 400, "E2"), (401, 1_000, "E1")]);
    let r: Request = w.ok("E1", methods::BILL_ENDORSE, &transfer(BILL, 401, 700, "E3"));
    w.refused("E3", methods::BILL_WITHDRAW, &answer(&r.id), E_WRONG_PARTY);
    w.ok::<_, Request>("E1", methods::BILL_WITHDRAW, &answer(&r.id));
    assert_eq!(holders(&w.bill(BILL)), vec![(1, 400, "E2"), (401, 1_000, "E1")]);
    // After the due date, no endorsement.
    w.at("2025-06-06");
    w.refused("E1", methods::BILL_ENDORSE, &transfer(BILL, 401, 1_000, "E3"), E_BILL_OVERDUE);
}

/// The state keys `f` writes or deletes.
fn keys_changed(w: &mut World, f: impl FnOnce(&mut World)) -> Vec<String> {
    let before = w.store.state.clone();
    f(w);
    let after = &w.store.state;
    let mut changed: Vec<String> = before
        .iter()
        .filter(|(k, v)| after.get(*k) != Some(*v))
        .map(|(k, _)| k.clone())
        .chain(after.keys().filter(|k| !before.contains_key(*k)).cloned())
        .map(|k| String::from_utf8_lossy(&k).into_owned())
        .collect();
    changed.sort();
    changed
}

#[test]
fn a_step_on_a_bill_of_many_holdings_touches_only_its_own() {
    let mut w = World::new("2025-03-06");
    w.circulating(BILL, 100_000, "2025-03-06", "2025-06-06");
    // E1 hands E2 and E3 alternate slices of 100: a thousand holdings.
    for k in 0..1_000u64 {
        let to = if k % 2 == 0 { "E2" } else { "E3" };
        w.time_ms += 100; // within the burst limit
        let r: Request = w.ok("E1", methods::BILL_ENDORSE, &transfer(BILL, k * 100 + 1, k * 100 + 100, to));
        w.ok::<_, Request>(to, methods::BILL_SIGN, &answer(&r.id));
    }
    assert_eq!(w.bill(BILL).holdings.len(), 1_000);
    // E2 endorses half of one holding in the middle: the holding it splits
    // and the remainder are the only holdings written, the bill is stored
    // without any.
    let mut req = None;
    let changed = keys_changed(&mut w, |w| {
        req = Some(w.ok::<_, Request>("E2", methods::BILL_ENDORSE, &transfer(BILL, 50_001, 50_050, "E3")));
    });
    let holdings: Vec<&String> = changed.iter().filter(|k| k.starts_with("bh/")).collect();
    assert_eq!(holdings, vec![&keys::holding(BILL, 50_050), &keys::holding(BILL, 50_100)], "written: {changed:?}");
    let stored = Bill::try_from_slice(&w.store.state[keys::bill(BILL).as_bytes()]).unwrap();
    assert!(stored.holdings.is_empty());
    // Refused, the split joins back: the half's key goes, the whole is written again.
    let r = req.unwrap();
    let changed = keys_changed(&mut w, |w| {
        w.ok::<_, Request>("E3", methods::BILL_REFUSE, &answer(&r.id));
    });
    let holdings: Vec<&String> = changed.iter().filter(|k| k.starts_with("bh/")).collect();
    assert_eq!(holdings, vec![&keys::holding(BILL, 50_050), &keys::holding(BILL, 50_100)]);
    assert!(!w.store.state.contains_key(keys::holding(BILL, 50_050).as_bytes()));
    let bill = w.bill(BILL);
    assert_eq!(bill.holdings.len(), 1_000);
    assert_eq!(holders(&bill)[500], (50_001, 50_100, "E2"));
    // E2's neighbours are E3's: a holding E3 signs for does not join them
    // (their chains differ), and the bill's view stays in unit order.
    let r: Request = w.ok("E2", methods::BILL_ENDORSE, &transfer(BILL, 50_001, 50_100, "E3"));
    w.ok::<_, Request>("E3", methods::BILL_SIGN, &answer(&r.id));
    let bill = w.bill(BILL);
    assert_eq!(bill.holdings.len(), 1_000);
    assert!(bill.holdings.windows(2).all(|p| p[0].end + 1 == p[1].start));
    assert_eq!(bill.holdings.last().map(|h| h.end), Some(100_000));
}

#[test]
fn a_bill_stored_with_its_holdings_inline_moves_them_out_at_its_next_change() {
    let mut w = World::new("2025-03-06");
    w.circulating(BILL, 1_000, "2025-03-06", "2025-06-06");
    let r: Request = w.ok("E1", methods::BILL_ENDORSE, &transfer(BILL, 1, 400, "E2"));
    w.ok::<_, Request>("E2", methods::BILL_SIGN, &answer(&r.id));
    let expected = w.bill(BILL);
    // The layout before holdings had their own keys.
    let prefix = keys::holding_prefix(BILL).into_bytes();
    w.store.state.retain(|k, _| !k.starts_with(&prefix));
    w.store.state.insert(keys::bill(BILL).into_bytes(), encode(&expected));
    assert_eq!(w.bill(BILL), expected);
    let r: Request = w.ok("E1", methods::BILL_ENDORSE, &transfer(BILL, 401, 700, "E3"));
    w.ok::<_, Request>("E3", methods::BILL_REFUSE, &answer(&r.id));
    let stored = Bill::try_from_slice(&w.store.state[keys::bill(BILL).as_bytes()]).unwrap();
    assert!(stored.holdings.is_empty());
    assert_eq!(holders(&w.bill(BILL)), vec![(1, 400, "E2"), (401, 1_000, "E1")]);
    assert_eq!(w.bill(BILL).holdings, expected.holdings);
}

#[test]
fn non_transferable_non_splittable_and_frozen_bills() {
    let mut w = World::new("2025-03-06");
    let a = IssueBill { non_transferable: true, ..issue_args(BILL, 1_000, "2025-03-06", "2025-06-06") };
    w.ok::<_, Bill>("CORE", methods::BILL_ISSUE, &a);
    let r: Request = w.ok("CORE", methods::BILL_REQUEST_ACCEPTANCE, &ByBill { bill: BILL.into() });
    w.ok::<_, Request>("CORE", methods::BILL_SIGN, &answer(&r.id));
    let r: Request = w.ok("CORE", methods::BILL_REQUEST_DELIVERY, &ByBill { bill: BILL.into() });
    w.ok::<_, Request>("E1", methods::BILL_SIGN, &answer(&r.id));
    w.refused("E1", methods::BILL_ENDORSE, &transfer(BILL, 1, 1_000, "E2"), E_NOT_TRANSFERABLE);

    let b = IssueBill { splittable: false, ..issue_args(BILL2, 1_000, "2025-03-06", "2025-06-06") };
    w.ok::<_, Bill>("CORE", methods::BILL_ISSUE, &b);
    let r: Request = w.ok("CORE", methods::BILL_REQUEST_ACCEPTANCE, &ByBill { bill: BILL2.into() });
    w.ok::<_, Request>("CORE", methods::BILL_SIGN, &answer(&r.id));
    let r: Request = w.ok("CORE", methods::BILL_REQUEST_DELIVERY, &ByBill { bill: BILL2.into() });
    w.ok::<_, Request>("E1", methods::BILL_SIGN, &answer(&r.id));
    w.refused("E1", methods::BILL_ENDORSE, &transfer(BILL2, 1, 500, "E2"), E_BILL_NOT_SPLITTABLE);

    // Frozen by an administrator: nothing moves; only administrators freeze.
    let freeze = FreezeBill { bill: BILL2.into(), reason: "court order 2025-017".into() };
    w.refused("E1", methods::BILL_FREEZE, &freeze, E_NOT_AUTHORISED);
    w.ok::<_, Bill>("admin:notary-1", methods::BILL_FREEZE, &freeze);
    w.refused("E1", methods::BILL_ENDORSE, &transfer(BILL2, 1, 1_000, "E2"), E_BILL_FROZEN);
    w.refused("E1", methods::BILL_PLEDGE, &transfer(BILL2, 1, 1_000, "BANK1"), E_BILL_FROZEN);
    w.ok::<_, Bill>("admin:notary-1", methods::BILL_UNFREEZE, &ByBill { bill: BILL2.into() });
    let r: Request = w.ok("E1", methods::BILL_ENDORSE, &transfer(BILL2, 1, 1_000, "E2"));
    w.ok::<_, Request>("E2", methods::BILL_SIGN, &answer(&r.id));
    assert_eq!(holders(&w.bill(BILL2)), vec![(1, 1_000, "E2")]);
}

#[test]
fn pledge_and_release() {
    let mut w = World::new("2025-03-06");
    w.circulating(BILL, 1_000, "2025-03-06", "2025-06-06");
    let r: Request = w.ok("E1", methods::BILL_PLEDGE, &transfer(BILL, 1, 600, "BANK2"));
    w.ok::<_, Request>("BANK2", methods::BILL_SIGN, &answer(&r.id));
    let bill = w.bill(BILL);
    assert_eq!(bill.holdings[0].state, HoldingState::Pledged { pledgee: "BANK2".into() });
    w.refused("E1", methods::BILL_ENDORSE, &transfer(BILL, 1, 600, "E2"), E_BILL_PLEDGED);
    w.refused("E1", methods::BILL_RELEASE, &range(BILL, 1, 600), E_WRONG_PARTY);
    let r: Request = w.ok("BANK2", methods::BILL_RELEASE, &range(BILL, 1, 600));
    w.refused("BANK2", methods::BILL_SIGN, &answer(&r.id), E_WRONG_PARTY);
    w.ok::<_, Request>("E1", methods::BILL_SIGN, &answer(&r.id));
    assert_eq!(holders(&w.bill(BILL)), vec![(1, 1_000, "E1")], "released and joined");
    w.at("2025-06-06");
    w.refused("E1", methods::BILL_PLEDGE, &transfer(BILL, 1, 600, "BANK2"), E_PLEDGE_AT_OR_AFTER_DUE);
}

#[test]
fn discount_trade_background_checks() {
    let mut w = World::new("2025-03-06");
    w.circulating(BILL, 1_000_000, "2025-03-06", "2025-06-06");
    // No order yet.
    assert_eq!(
        w.discount("E1", BILL, 1, 500_000, "BANK1", "O1", &["00000001"]).unwrap_err().code,
        E_TRADE_DOCS_MISSING
    );
    // An order without a confirmed delivery.
    let order =
        CreateOrder { id: "O1".into(), seller: "E1".into(), amount: 800_000, date: date("2025-03-01"), evidence: None };
    w.ok::<_, Order>("CORE", methods::ORDER_CREATE, &order);
    let stored: Order = w.query("CORE", methods::ORDER_GET, &ById { id: "O1".into() }).unwrap();
    assert_eq!(stored.seller, "E1");
    w.ok::<_, Invoice>(
        "E1",
        methods::INVOICE_RECORD,
        &invoice_args("O1", "CORE", "E1", "00000001", 1_200_000, "2025-03-02"),
    );
    assert_eq!(
        w.discount("E1", BILL, 1, 500_000, "BANK1", "O1", &["00000001"]).unwrap_err().code,
        E_TRADE_DOCS_MISSING
    );
    let d = RecordDelivery {
        order: "O1".into(),
        delivery: "d1".into(),
        amount: 800_000,
        date: date("2025-03-03"),
        evidence: None,
    };
    w.ok::<_, Order>("E1", methods::ORDER_DELIVER, &d);
    assert_eq!(
        w.discount("E1", BILL, 1, 500_000, "BANK1", "O1", &["00000001"]).unwrap_err().code,
        E_TRADE_DOCS_MISSING
    );
    w.ok::<_, Order>(
        "CORE",
        methods::ORDER_CONFIRM_DELIVERY,
        &DeliveryRef { order: "O1".into(), delivery: "d1".into() },
    );
    // The invoice is not verified yet.
    let before = w.store.state.clone();
    assert_eq!(
        w.discount("E1", BILL, 1, 500_000, "BANK1", "O1", &["00000001"]).unwrap_err().code,
        E_INVOICE_UNVERIFIED
    );
    assert_eq!(w.store.state, before);
    w.refused(
        "E1",
        methods::INVOICE_VERIFY,
        &VerifyInvoice { key: invoice_key("00000001"), check_code: "34567890".into() },
        E_NOT_VERIFIER,
    );
    w.refused(
        "BANK1",
        methods::INVOICE_VERIFY,
        &VerifyInvoice { key: invoice_key("00000001"), check_code: "999999".into() },
        E_CHECK_CODE_MISMATCH,
    );
    w.ok::<_, Invoice>(
        "BANK1",
        methods::INVOICE_VERIFY,
        &VerifyInvoice { key: invoice_key("00000001"), check_code: "567890".into() },
    );
    // Not a bank; the applicant's own bank is fine; unlicensed and wrong holder refused.
    assert_eq!(
        w.discount("E1", BILL, 1, 500_000, "E2", "O1", &["00000001"]).unwrap_err().code,
        E_DISCOUNTER_UNLICENSED
    );
    assert_eq!(w.discount("E2", BILL, 1, 500_000, "BANK1", "O1", &["00000001"]).unwrap_err().code, E_WRONG_PARTY);
    assert_eq!(w.discount("E1", BILL, 1, 500_000, "BANK1", "O1", &[]).unwrap_err().code, E_TRADE_DOCS_MISSING);
    // More than the order not yet financed (the invoice would cover it).
    assert_eq!(
        w.discount("E1", BILL, 1, 900_000, "BANK1", "O1", &["00000001"]).unwrap_err().code,
        E_BILL_EXCEEDS_CONTRACT
    );
    // Allowed: occupies 500 000 of the invoice and of the order.
    let req = w.discount("E1", BILL, 1, 500_000, "BANK1", "O1", &["00000001"]).unwrap();
    assert_eq!(w.invoice("00000001").occupied, 500_000);
    // The rest of the bill with the same invoice: 700 000 free, but only 300 000 of the order left.
    assert_eq!(
        w.discount("E1", BILL, 500_001, 1_000_000, "BANK2", "O1", &["00000001"]).unwrap_err().code,
        E_BILL_EXCEEDS_CONTRACT
    );
    // Refused by the bank: the occupation is given back.
    w.ok::<_, Request>("BANK1", methods::BILL_REFUSE, &answer(&req.id));
    assert_eq!(w.invoice("00000001").occupied, 0);
    assert_eq!(holders(&w.bill(BILL)), vec![(1, 1_000_000, "E1")]);
    // Too late.
    w.at("2025-06-06");
    assert_eq!(
        w.discount("E1", BILL, 1, 500_000, "BANK1", "O1", &["00000001"]).unwrap_err().code,
        E_DISCOUNT_AT_OR_AFTER_DUE
    );
}

#[test]
fn the_same_invoice_cannot_finance_twice() {
    let mut w = World::new("2025-03-06");
    w.circulating(BILL, 1_000_000, "2025-03-06", "2025-06-06");
    w.circulating(BILL2, 1_000_000, "2025-03-06", "2025-06-06");
    w.trade("O1", "CORE", "E1", 5_000_000, "00000001", 1_500_000, "2025-03-06");
    let first = w.discount("E1", BILL, 1, 1_000_000, "BANK1", "O1", &["00000001"]).unwrap();
    assert_eq!(first.status, "pending");
    let before = w.store.state.clone();
    let err = w.discount("E1", BILL2, 1, 1_000_000, "BANK2", "O1", &["00000001"]).unwrap_err();
    assert_eq!(err.code, E_INVOICE_OVER_OCCUPIED, "{}", err.message);
    assert_eq!(w.store.state, before);
    // Half of the second bill still fits in what is free.
    w.ok::<_, Request>(
        "E1",
        methods::BILL_REQUEST_DISCOUNT,
        &discount_args(BILL2, 1, 500_000, "BANK2", "O1", &["00000001"]),
    );
    let invoice = w.invoice("00000001");
    assert_eq!((invoice.occupied, invoice.occupations.len()), (1_500_000, 2));
}

#[test]
fn instant_discount_approves_and_disburses_in_the_same_call() {
    let mut w = World::new("2025-03-06");
    w.circulating(BILL, 1_000_000, "2025-03-06", "2025-06-06");
    w.trade("O1", "CORE", "E1", 5_000_000, "00000001", 5_000_000, "2025-03-06");
    let policy = DiscountPolicy {
        enabled: true,
        acceptors: vec!["CORE".into()],
        max_amount: 800_000,
        rates: vec![
            RateBand { max_days: 90, rate: RatePpm(12_000) },
            RateBand { max_days: 184, rate: RatePpm(15_000) },
        ],
        daily_limit_per_enterprise: 1_000_000,
    };
    w.refused("E1", methods::BILL_SET_POLICY, &policy, E_DISCOUNTER_UNLICENSED);
    w.ok::<_, ()>("BANK1", methods::BILL_SET_POLICY, &policy);
    let stored: Option<DiscountPolicy> = w.query("E1", methods::BILL_POLICY, &ById { id: "BANK1".into() }).unwrap();
    assert_eq!(stored, Some(policy.clone()));
    // Over the policy's maximum: waits for the bank.
    let manual = w.discount("E1", BILL, 1, 900_000, "BANK1", "O1", &["00000001"]).unwrap();
    assert_eq!(manual.status, "pending");
    w.ok::<_, Request>("E1", methods::BILL_WITHDRAW, &answer(&manual.id));
    // Within it: approved, disbursement instructed, all in this call.
    let req = w.discount("E1", BILL, 1, 600_000, "BANK1", "O1", &["00000001"]).unwrap();
    assert_eq!(req.status, "awaiting_funds");
    let RequestKind::Discount(terms) = &req.kind else { panic!() };
    assert!(terms.instant);
    assert_eq!(terms.rate, Some(RatePpm(15_000)), "92 days to run: the second band");
    let m = w.movement(terms.disbursement.as_ref().unwrap());
    assert_eq!(m.status, MovementStatus::Pending);
    w.report("BANK1", &m.request_id, true);
    assert_eq!(holders(&w.bill(BILL)), vec![(1, 600_000, "BANK1"), (600_001, 1_000_000, "E1")]);
    // The daily limit per enterprise: 600 000 used, 400 000 more would be 1 000 000 (fits), 400 001 not.
    let next = w.discount("E1", BILL, 600_001, 1_000_000, "BANK1", "O1", &["00000001"]).unwrap();
    assert_eq!(next.status, "awaiting_funds");
}

/// The range reads `f` makes.
fn ranges_read(w: &mut World, f: impl FnOnce(&mut World)) -> u64 {
    let before = w.store.ranges.get();
    f(w);
    w.store.ranges.get() - before
}

#[test]
fn a_holding_whose_last_unit_is_known_is_read_by_its_key() {
    let mut w = World::new("2025-03-06");
    w.circulating(BILL, 1_000_000, "2025-03-06", "2025-06-06");
    w.trade("O1", "CORE", "E1", 5_000_000, "00000001", 5_000_000, "2025-03-06");
    w.instant_discounts(1_000_000);
    let r: Request = w.ok("E1", methods::BILL_ENDORSE, &transfer(BILL, 1, 100, "E2"));
    w.ok::<_, Request>("E2", methods::BILL_SIGN, &answer(&r.id));
    // The request starts E1's remainder, the bill's last holding, read by
    // the bill's last unit; the part it locks has no neighbour to join, and
    // the remainder's neighbour before it is the locked part, loaded already.
    let mut req = None;
    let n = ranges_read(&mut w, |w| req = Some(w.discount("E1", BILL, 101, 200, "BANK1", "O1", &["00000001"])));
    let req = req.unwrap().unwrap();
    assert_eq!(n, 0, "the request");
    let RequestKind::Discount(terms) = &req.kind else { panic!() };
    let id = w.movement(terms.disbursement.as_ref().unwrap()).request_id;
    // The bank's answer: the locked holding ends where the request does, the
    // one before it where the request starts less one, and the one after it
    // is the bill's last.
    let n = ranges_read(&mut w, |w| {
        w.report("BANK1", &id, true);
    });
    assert_eq!(n, 0, "the answer");
    assert_eq!(holders(&w.bill(BILL)), vec![(1, 100, "E2"), (101, 200, "BANK1"), (201, 1_000_000, "E1")]);
    // A part from the front of the bill: neither its last unit nor the
    // bill's is where the holding ends, so a range read finds it.
    let n = ranges_read(&mut w, |w| {
        w.ok::<_, Request>("E2", methods::BILL_ENDORSE, &transfer(BILL, 1, 50, "E3"));
    });
    assert_eq!(n, 1, "a part of the first holding");
    let r: Request = w.ok("E1", methods::BILL_ENDORSE, &transfer(BILL, 201, 300, "E2"));
    assert_eq!(r.start, 201);
}

/// What one discount request counts against E1's daily limits of 2025-03-06:
/// the risk limit and BANK1's instant-discount policy limit.
fn counted(w: &World) -> (u64, u64) {
    let read = |key: String| w.store.get(key.as_bytes()).map(|v| u64::try_from_slice(&v).unwrap()).unwrap_or(0);
    let day = date("2025-03-06");
    (read(keys::daily_discount("E1", day)), read(keys::daily_instant("BANK1", "E1", day)))
}

#[test]
fn a_discount_that_does_not_happen_gives_its_amount_back_to_the_daily_limits() {
    // (how the request ends, approved at once by BANK1's policy, what stays counted)
    let cases = [
        ("refused by the bank", false, (0, 0)),
        ("withdrawn by the applicant", false, (0, 0)),
        ("unanswered, expired by the next day's cleanup", false, (0, 0)),
        ("approved, the disbursement failed", false, (0, 0)),
        ("approved at once, the disbursement failed", true, (0, 0)),
        ("approved, discounted", false, (600_000, 0)),
        ("approved at once, discounted", true, (600_000, 600_000)),
    ];
    for (ending, instant, expected) in cases {
        let mut w = World::new("2025-03-06");
        w.circulating(BILL, 1_000_000, "2025-03-06", "2025-06-06");
        w.trade("O1", "CORE", "E1", 5_000_000, "00000001", 5_000_000, "2025-03-06");
        let limits =
            SetLimits { party: "E1".into(), limits: Limits { daily_discount_fen: 600_000, max_open_requests: 10 } };
        w.ok::<_, ()>("admin:notary-1", methods::RISK_SET_LIMITS, &limits);
        if instant {
            w.instant_discounts(600_000);
        }
        let mut req = w.discount("E1", BILL, 1, 600_000, "BANK1", "O1", &["00000001"]).unwrap();
        assert_eq!(counted(&w), (600_000, if instant { 600_000 } else { 0 }), "{ending}: counted when asked");
        if ending.starts_with("approved,") {
            req = w.ok(
                "BANK1",
                methods::BILL_APPROVE_DISCOUNT,
                &ApproveDiscount { request: req.id, rate: RatePpm(20_000) },
            );
        }
        let disbursement = match &req.kind {
            RequestKind::Discount(terms) => terms.disbursement.clone(),
            _ => None,
        };
        match ending {
            "refused by the bank" => drop(w.ok::<_, Request>("BANK1", methods::BILL_REFUSE, &answer(&req.id))),
            "withdrawn by the applicant" => drop(w.ok::<_, Request>("E1", methods::BILL_WITHDRAW, &answer(&req.id))),
            "unanswered, expired by the next day's cleanup" => {
                w.at("2025-03-07");
                let done: Cleanup = w.ok("BANK2", methods::BILL_CLEANUP, &());
                assert_eq!(done.expired, vec![req.id.clone()], "{ending}");
            }
            _ => drop(w.report("BANK1", &disbursement.unwrap(), ending.ends_with("discounted"))),
        }
        assert_eq!(counted(&w), expected, "{ending}");
        if expected.0 == 0 && !ending.contains("expired") {
            // The day's limit is whole again: the same amount may be asked again.
            let again = w.discount("E1", BILL, 1, 600_000, "BANK1", "O1", &["00000001"]);
            assert!(again.is_ok(), "{ending}: {again:?}");
        }
    }
}

#[test]
fn a_failed_disbursement_gives_everything_back() {
    let mut w = World::new("2025-03-06");
    w.circulating(BILL, 1_000_000, "2025-03-06", "2025-06-06");
    w.trade("O1", "CORE", "E1", 5_000_000, "00000001", 5_000_000, "2025-03-06");
    let req = w.discount("E1", BILL, 1, 1_000_000, "BANK1", "O1", &["00000001"]).unwrap();
    let req: Request =
        w.ok("BANK1", methods::BILL_APPROVE_DISCOUNT, &ApproveDiscount { request: req.id, rate: RatePpm(20_000) });
    let RequestKind::Discount(terms) = &req.kind else { panic!() };
    let id = terms.disbursement.clone().unwrap();
    w.refused(
        "BANK2",
        methods::FUND_REPORT,
        &ReportMovement { request_id: id.clone(), outcome: Outcome::Failed { reason: "x".into() } },
        E_WRONG_PARTY,
    );
    w.report("BANK1", &id, false);
    assert_eq!(w.invoice("00000001").occupied, 0);
    let bill = w.bill(BILL);
    assert_eq!((holders(&bill), bill.holdings[0].locked_by.clone()), (vec![(1, 1_000_000, "E1")], None));
    // The same answer again is a no-op; a contradicting one is refused.
    w.report("BANK1", &id, false);
    w.refused(
        "BANK1",
        methods::FUND_REPORT,
        &ReportMovement { request_id: id, outcome: Outcome::Success { bank_serial: "SN1".into() } },
        E_MOVEMENT_SETTLED,
    );
}

#[test]
fn an_unknown_movement_blocks_until_reconciliation_resolves_it() {
    let mut w = World::new("2025-03-06");
    w.circulating(BILL, 1_000_000, "2025-03-06", "2025-06-06");
    w.trade("O1", "CORE", "E1", 5_000_000, "00000001", 5_000_000, "2025-03-06");
    let req = w.discount("E1", BILL, 1, 1_000_000, "BANK1", "O1", &["00000001"]).unwrap();
    let req: Request =
        w.ok("BANK1", methods::BILL_APPROVE_DISCOUNT, &ApproveDiscount { request: req.id, rate: RatePpm(20_000) });
    let RequestKind::Discount(terms) = &req.kind else { panic!() };
    let id = terms.disbursement.clone().unwrap();
    // Before the timeout only the originator or bank may call it unknown; after it, anyone.
    w.refused("E1", methods::FUND_MARK_UNKNOWN, &ById { id: id.clone() }, E_FUNDS_PENDING);
    w.time_ms += 30_000;
    let cleaned: Cleanup = w.ok("E2", methods::BILL_CLEANUP, &());
    assert_eq!(cleaned.unknown, vec![id.clone()]);
    assert_eq!(w.movement(&id).status, MovementStatus::Unknown);
    // What depends on it waits.
    w.refused("E1", methods::BILL_ENDORSE, &transfer(BILL, 1, 1_000_000, "E2"), E_FUNDS_STATUS_UNKNOWN);
    w.refused(
        "BANK1",
        methods::FUND_REVERSE,
        &Reverse { request_id: "rev-1".into(), original: id.clone() },
        E_FUNDS_STATUS_UNKNOWN,
    );
    // The statement: hash checked, the movement resolved by it, an extra line is bank-only.
    let line = StatementLine {
        request_id: id.clone(),
        bank_serial: "SN-20250306-1".into(),
        amount: 1_000_000 - 5_000,
        success: true,
    };
    let lines = vec![line.clone()];
    let wrong = Reconcile { day: date("2025-03-06"), lines: lines.clone(), statement_hash: [0; 32] };
    w.refused("BANK1", methods::FUND_RECONCILE, &wrong, E_STATEMENT_HASH_MISMATCH);
    let m = w.movement(&id);
    let fixed = StatementLine { amount: m.amount, ..line };
    let extra =
        StatementLine { request_id: "unknown-to-ledger".into(), bank_serial: "SN-2".into(), amount: 5, success: true };
    let lines = vec![fixed.clone(), extra];
    let rec = Reconcile { day: date("2025-03-06"), statement_hash: statement_hash(&lines), lines };
    let report: ReconReport = w.ok("BANK1", methods::FUND_RECONCILE, &rec);
    assert_eq!(report.resolved, vec![(id.clone(), MovementStatus::Success)]);
    assert_eq!(report.bank_only, vec!["unknown-to-ledger".to_string()]);
    assert!(!report.clean());
    w.refused("BANK1", methods::FUND_CLOSE_DAY, &DayRef { day: date("2025-03-06") }, E_RECON_MISMATCH);
    assert_eq!(holders(&w.bill(BILL)), vec![(1, 1_000_000, "BANK1")], "the discount completed");
    // A corrected statement: clean, the day closes, and stays closed.
    let lines = vec![fixed];
    let rec = Reconcile { day: date("2025-03-06"), statement_hash: statement_hash(&lines), lines };
    let report: ReconReport = w.ok("BANK1", methods::FUND_RECONCILE, &rec);
    assert_eq!((report.clean(), report.matched), (true, vec![id]));
    let closed: ReconReport = w.ok("BANK1", methods::FUND_CLOSE_DAY, &DayRef { day: date("2025-03-06") });
    assert!(closed.closed);
    w.refused("BANK1", methods::FUND_RECONCILE, &rec, E_DAY_CLOSED);
    w.refused("BANK2", methods::FUND_CLOSE_DAY, &DayRef { day: date("2025-03-06") }, E_RECON_MISSING);
    let read: Option<ReconReport> = w
        .query("BANK1", methods::FUND_RECON_REPORT, &ReportRef { bank: "BANK1".into(), day: date("2025-03-06") })
        .unwrap();
    assert!(read.unwrap().closed);
    assert_eq!(
        w.query::<_, Option<ReconReport>>(
            "E1",
            methods::FUND_RECON_REPORT,
            &ReportRef { bank: "BANK1".into(), day: date("2025-03-06") }
        )
        .unwrap_err()
        .code,
        E_NOT_AUTHORISED
    );
}

#[test]
fn reversal_is_the_originators_and_idempotent() {
    let mut w = World::new("2025-03-06");
    w.ok::<_, Party>("BANK1", methods::FUND_OPEN_CUSTODY, &OpenCustody { account: account("BANK1", 99) });
    let fee =
        ChargeFee { request_id: "fee-1".into(), payer: "E1".into(), amount: 500, custody: 0, reference: "O1".into() };
    w.refused("E1", methods::FUND_FEE, &fee, E_NOT_BANK);
    let m: Movement = w.ok("BANK1", methods::FUND_FEE, &fee);
    let again: Movement = w.ok("BANK1", methods::FUND_FEE, &fee);
    assert_eq!(m, again, "the same request id is the same movement");
    let rev = Reverse { request_id: "rev-1".into(), original: "fee-1".into() };
    w.refused("BANK1", methods::FUND_REVERSE, &rev, E_FUNDS_PENDING);
    w.report("BANK1", "fee-1", true);
    w.refused("E1", methods::FUND_REVERSE, &rev, E_REVERSAL_NOT_ORIGINATOR);
    w.refused("BANK2", methods::FUND_REVERSE, &rev, E_REVERSAL_NOT_ORIGINATOR);
    let r1: Movement = w.ok("BANK1", methods::FUND_REVERSE, &rev);
    assert_eq!(
        (r1.kind, r1.debit.owner.as_str(), r1.credit.owner.as_str()),
        (MovementKind::Reversal, "custody:BANK1", "E1")
    );
    let r2: Movement = w.ok("BANK1", methods::FUND_REVERSE, &rev);
    let r3: Movement =
        w.ok("BANK1", methods::FUND_REVERSE, &Reverse { request_id: "rev-2".into(), original: "fee-1".into() });
    assert_eq!((r1.clone(), r1.clone()), (r2, r3), "asking again returns the reversal there is");
    // The bank could not carry it out: another reversal may be asked for, and it is that one.
    w.report("BANK1", "rev-1", false);
    let r4: Movement =
        w.ok("BANK1", methods::FUND_REVERSE, &Reverse { request_id: "rev-4".into(), original: "fee-1".into() });
    assert_eq!(r4.request_id, "rev-4");
    let again: Movement = w.ok("BANK1", methods::FUND_REVERSE, &rev);
    assert_eq!(again.request_id, "rev-1", "a request id already used answers with its own movement");
    w.report("BANK1", "rev-4", true);
    assert_eq!(w.movement("fee-1").reversed_by.as_deref(), Some("rev-4"));
    let done: Movement =
        w.ok("BANK1", methods::FUND_REVERSE, &Reverse { request_id: "rev-5".into(), original: "fee-1".into() });
    assert_eq!(done.request_id, "rev-4", "reversed: asking again returns the reversal");
    let fee2 = ChargeFee { request_id: "fee-2".into(), ..fee };
    w.ok::<_, Movement>("BANK1", methods::FUND_FEE, &fee2);
    w.report("BANK1", "fee-2", false);
    w.refused(
        "BANK1",
        methods::FUND_REVERSE,
        &Reverse { request_id: "rev-3".into(), original: "fee-2".into() },
        E_NOTHING_TO_REVERSE,
    );
}

#[test]
fn rediscount_is_between_banks() {
    let mut w = World::new("2025-03-06");
    w.circulating(BILL, 1_000, "2025-03-06", "2025-06-06");
    w.trade("O1", "CORE", "E1", 5_000, "00000001", 5_000, "2025-03-06");
    let req = w.discount("E1", BILL, 1, 1_000, "BANK1", "O1", &["00000001"]).unwrap();
    let req: Request =
        w.ok("BANK1", methods::BILL_APPROVE_DISCOUNT, &ApproveDiscount { request: req.id, rate: RatePpm(20_000) });
    w.report("BANK1", &movement_of(&req), true);
    w.refused(
        "BANK1",
        methods::BILL_REDISCOUNT,
        &Rediscount { range: range(BILL, 1, 1_000), to: "E2".into(), rate: RatePpm(18_000) },
        E_NOT_BANK,
    );
    w.refused(
        "E1",
        methods::BILL_REDISCOUNT,
        &Rediscount { range: range(BILL, 1, 1_000), to: "BANK2".into(), rate: RatePpm(18_000) },
        E_NOT_BANK,
    );
    let r: Request = w.ok(
        "BANK1",
        methods::BILL_REDISCOUNT,
        &Rediscount { range: range(BILL, 1, 1_000), to: "BANK2".into(), rate: RatePpm(18_000) },
    );
    w.ok::<_, Request>("BANK2", methods::BILL_SIGN, &answer(&r.id));
    assert_eq!(holders(&w.bill(BILL)), vec![(1, 1_000, "BANK2")]);
}

fn movement_of(req: &Request) -> String {
    match &req.kind {
        RequestKind::Discount(t) => t.disbursement.clone().unwrap(),
        _ => format!("{}.pay", req.id),
    }
}

#[test]
fn presentment_payment_and_dishonour() {
    let mut w = World::new("2025-03-06");
    w.circulating(BILL, 1_000, "2025-03-06", "2025-06-06");
    let r: Request = w.ok("E1", methods::BILL_ENDORSE, &transfer(BILL, 1, 400, "E2"));
    w.ok::<_, Request>("E2", methods::BILL_SIGN, &answer(&r.id));
    w.refused("E2", methods::BILL_PRESENT, &range(BILL, 1, 400), E_PRESENTMENT_BEFORE_DUE);
    w.at("2025-06-06");
    w.refused("E1", methods::BILL_PRESENT, &range(BILL, 1, 400), E_WRONG_PARTY);
    // E2 presents and is paid once the funds land.
    let p: Request = w.ok("E2", methods::BILL_PRESENT, &range(BILL, 1, 400));
    w.refused("E2", methods::BILL_WITHDRAW, &answer(&p.id), E_WRONG_ANSWER);
    w.refused("E1", methods::BILL_SIGN, &answer(&p.id), E_WRONG_PARTY);
    let paying: Request = w.ok("CORE", methods::BILL_SIGN, &answer(&p.id));
    assert_eq!(paying.status, "awaiting_funds");
    let m = w.movement(&movement_of(&paying));
    assert_eq!(
        (m.kind, m.amount, m.debit.owner.as_str(), m.credit.owner.as_str()),
        (MovementKind::Payment, 400, "CORE", "E2")
    );
    // The bank's answer is late: unknown, and the holding waits on it.
    w.ok::<_, Movement>("CORE", methods::FUND_MARK_UNKNOWN, &ById { id: m.request_id.clone() });
    w.refused("E2", methods::BILL_PRESENT, &range(BILL, 1, 400), E_FUNDS_STATUS_UNKNOWN);
    w.report("BANK1", &m.request_id, true);
    assert_eq!(w.bill(BILL).holdings[0].state, HoldingState::Settled);
    w.refused("E2", methods::BILL_ENDORSE, &transfer(BILL, 1, 400, "E3"), E_BILL_SETTLED);
    w.refused("E2", methods::BILL_PRESENT, &range(BILL, 1, 400), E_BILL_SETTLED);
    // E1 presents; the acceptor does not answer by the end of the day: dishonoured.
    let p: Request = w.ok("E1", methods::BILL_PRESENT, &range(BILL, 401, 1_000));
    w.at("2025-06-07");
    let cleaned: Cleanup = w.ok("E3", methods::BILL_CLEANUP, &());
    assert_eq!(cleaned.dishonoured, vec![p.id.clone()]);
    assert_eq!(w.bill(BILL).holdings[1].state, HoldingState::Dishonoured { on: date("2025-06-06"), late: false });
}

#[test]
fn recourse_within_six_months_against_earlier_parties() {
    let mut w = World::new("2025-03-06");
    w.circulating(BILL, 1_000, "2025-03-06", "2025-06-06");
    let r: Request = w.ok("E1", methods::BILL_ENDORSE, &transfer(BILL, 1, 1_000, "E2"));
    w.ok::<_, Request>("E2", methods::BILL_SIGN, &answer(&r.id));
    w.at("2025-06-09");
    let p: Request = w.ok("E2", methods::BILL_PRESENT, &range(BILL, 1, 1_000));
    w.refused(
        "E2",
        methods::BILL_RECOURSE,
        &Recourse { range: range(BILL, 1, 1_000), against: "E1".into() },
        E_BILL_STATE,
    );
    w.ok::<_, Request>("CORE", methods::BILL_REFUSE, &Answer { request: p.id, reason: "no funds".into() });
    assert!(matches!(w.bill(BILL).holdings[0].state, HoldingState::Dishonoured { .. }));
    w.refused(
        "E2",
        methods::BILL_RECOURSE,
        &Recourse { range: range(BILL, 1, 1_000), against: "E3".into() },
        E_NOT_EARLIER_PARTY,
    );
    w.refused(
        "E2",
        methods::BILL_RECOURSE,
        &Recourse { range: range(BILL, 1, 1_000), against: "E2".into() },
        E_SAME_PARTY,
    );
    // E1 (the endorser) agrees and pays: it holds the bill with recourse against CORE.
    let rc: Request =
        w.ok("E2", methods::BILL_RECOURSE, &Recourse { range: range(BILL, 1, 1_000), against: "E1".into() });
    let paying: Request = w.ok("E1", methods::BILL_SIGN, &answer(&rc.id));
    w.report("BANK1", &movement_of(&paying), true);
    let h = w.bill(BILL).holdings[0].clone();
    assert_eq!((h.holder.as_str(), h.chain.clone()), ("E1", vec!["CORE".to_string()]));
    // Six months and a day after the dishonour: barred.
    w.at("2025-12-10");
    w.refused(
        "E1",
        methods::BILL_RECOURSE,
        &Recourse { range: range(BILL, 1, 1_000), against: "CORE".into() },
        E_RECOURSE_TIME_BARRED,
    );
    w.at("2025-12-09");
    w.ok::<_, Request>(
        "E1",
        methods::BILL_RECOURSE,
        &Recourse { range: range(BILL, 1, 1_000), against: "CORE".into() },
    );
}

#[test]
fn late_presentment_keeps_recourse_only_against_drawer_and_acceptor() {
    let mut w = World::new("2025-03-06");
    w.circulating(BILL, 1_000, "2025-03-06", "2025-06-06");
    let r: Request = w.ok("E1", methods::BILL_ENDORSE, &transfer(BILL, 1, 1_000, "E2"));
    w.ok::<_, Request>("E2", methods::BILL_SIGN, &answer(&r.id));
    w.at("2025-06-17");
    let p: Request = w.ok("E2", methods::BILL_PRESENT, &range(BILL, 1, 1_000));
    assert_eq!(p.kind, RequestKind::Presentment { late: true });
    let view: BillView = w.query("E2", methods::BILL_GET, &ByBill { bill: BILL.into() }).unwrap();
    assert!(view.history.last().unwrap().note.starts_with(W_PRESENTMENT_LATE));
    w.ok::<_, Request>("CORE", methods::BILL_REFUSE, &answer(&p.id));
    w.refused(
        "E2",
        methods::BILL_RECOURSE,
        &Recourse { range: range(BILL, 1, 1_000), against: "E1".into() },
        E_NOT_EARLIER_PARTY,
    );
    w.ok::<_, Request>(
        "E2",
        methods::BILL_RECOURSE,
        &Recourse { range: range(BILL, 1, 1_000), against: "CORE".into() },
    );
}

#[test]
fn requests_end_with_their_business_day() {
    let mut w = World::new("2025-03-06");
    w.circulating(BILL, 1_000, "2025-03-06", "2025-06-06");
    w.trade("O1", "CORE", "E1", 5_000, "00000001", 5_000, "2025-03-06");
    let r: Request = w.ok("E1", methods::BILL_ENDORSE, &transfer(BILL, 1, 300, "E2"));
    let d = w.discount("E1", BILL, 301, 1_000, "BANK1", "O1", &["00000001"]).unwrap();
    assert_eq!(w.invoice("00000001").occupied, 700);
    w.at("2025-03-07");
    // Lazily: the next action on the bill ends yesterday's requests first.
    w.refused("E2", methods::BILL_SIGN, &answer(&r.id), E_REQUEST_CLOSED);
    let cleaned: Cleanup = w.ok("BANK2", methods::BILL_CLEANUP, &());
    assert_eq!(cleaned.expired.len(), 2);
    assert_eq!(holders(&w.bill(BILL)), vec![(1, 1_000, "E1")]);
    assert_eq!(w.invoice("00000001").occupied, 0);
    w.refused(
        "BANK1",
        methods::BILL_APPROVE_DISCOUNT,
        &ApproveDiscount { request: d.id, rate: RatePpm(1) },
        E_REQUEST_CLOSED,
    );
    let again: Cleanup = w.ok("BANK2", methods::BILL_CLEANUP, &());
    assert_eq!(again, Cleanup::default());
}

#[test]
fn risk_rules_refuse_and_alert() {
    let mut w = World::new("2025-03-06");
    w.circulating(BILL, 1_000_000, "2025-03-06", "2025-06-06");
    w.trade("O1", "CORE", "E1", 5_000_000, "00000001", 5_000_000, "2025-03-06");
    // Daily discount limit.
    let limits =
        SetLimits { party: "E1".into(), limits: Limits { daily_discount_fen: 600_000, max_open_requests: 10 } };
    w.refused("E1", methods::RISK_SET_LIMITS, &limits, E_NOT_AUTHORISED);
    w.ok::<_, ()>("admin:notary-1", methods::RISK_SET_LIMITS, &limits);
    w.discount("E1", BILL, 1, 500_000, "BANK1", "O1", &["00000001"]).unwrap();
    w.refused(
        "E1",
        methods::BILL_REQUEST_DISCOUNT,
        &discount_args(BILL, 500_001, 700_000, "BANK1", "O1", &["00000001"]),
        E_LIMIT_EXCEEDED,
    );
    let alerts = w.alerts();
    assert_eq!(alerts.len(), 1, "the refusal keeps its alert");
    assert_eq!((alerts[0].rule.as_str(), alerts[0].party.as_str()), ("daily_discount_limit", "E1"));
    assert!(alerts[0].facts.contains("600000"), "{}", alerts[0].facts);
    // Blacklist: the party cannot act, nor be acted with.
    let bl = Blacklist { party: "E2".into(), reason: "fraud investigation".into() };
    w.ok::<_, ()>("admin:notary-1", methods::RISK_BLACKLIST, &bl);
    w.refused("E1", methods::BILL_ENDORSE, &transfer(BILL, 500_001, 600_000, "E2"), E_BLACKLISTED);
    assert_eq!(w.alerts()[0].rule, "blacklist");
    w.refused(
        "E2",
        methods::ORDER_CREATE,
        &CreateOrder { id: "O9".into(), seller: "E1".into(), amount: 1, date: date("2025-03-06"), evidence: None },
        E_BLACKLISTED,
    );
    w.ok::<_, ()>("admin:notary-1", methods::RISK_UNBLACKLIST, &ById { id: "E2".into() });
    w.ok::<_, Request>("E1", methods::BILL_ENDORSE, &transfer(BILL, 500_001, 600_000, "E2"));
    // Bursts from one key.
    let mut refused = None;
    for i in 0..700 {
        let o = CreateOrder {
            id: format!("B{i}"),
            seller: "E1".into(),
            amount: 1,
            date: date("2025-03-06"),
            evidence: None,
        };
        if let Err(e) = w.call::<_, Order>("E3", methods::ORDER_CREATE, &o) {
            refused = Some((i, e.code));
            break;
        }
    }
    // E3's key registered the party: 599 orders make 600 actions in the window.
    assert_eq!(refused, Some((599, E_BURST)));
    assert_eq!(w.alerts()[0].rule, "burst");
    w.time_ms += 10_000;
    let o =
        CreateOrder { id: "B-after".into(), seller: "E1".into(), amount: 1, date: date("2025-03-06"), evidence: None };
    w.ok::<_, Order>("E3", methods::ORDER_CREATE, &o);
}

#[test]
fn order_and_invoice_rules() {
    let mut w = World::new("2025-03-06");
    let o =
        CreateOrder { id: "O1".into(), seller: "E1".into(), amount: 1_000, date: date("2025-03-05"), evidence: None };
    w.refused("CORE", methods::ORDER_CREATE, &CreateOrder { seller: "NOBODY".into(), ..o.clone() }, E_PARTY_UNKNOWN);
    w.refused("CORE", methods::ORDER_CREATE, &CreateOrder { seller: "CORE".into(), ..o.clone() }, E_SAME_PARTY);
    w.refused("CORE", methods::ORDER_CREATE, &CreateOrder { amount: 0, ..o.clone() }, E_AMOUNT_INVALID);
    w.refused("CORE", methods::ORDER_CREATE, &CreateOrder { id: "O/1".into(), ..o.clone() }, E_BAD_ARGS);
    w.refused("CORE", methods::ORDER_CREATE, &CreateOrder { date: date("2025-03-07"), ..o.clone() }, E_DATE_INVALID);
    w.ok::<_, Order>("CORE", methods::ORDER_CREATE, &o);
    w.refused("CORE", methods::ORDER_CREATE, &o, E_DUPLICATE);
    let d = RecordDelivery {
        order: "O1".into(),
        delivery: "d1".into(),
        amount: 600,
        date: date("2025-03-06"),
        evidence: None,
    };
    w.refused("CORE", methods::ORDER_DELIVER, &d, E_WRONG_PARTY);
    w.refused("E1", methods::ORDER_DELIVER, &RecordDelivery { date: date("2025-03-04"), ..d.clone() }, E_DATE_INVALID);
    w.ok::<_, Order>("E1", methods::ORDER_DELIVER, &d);
    w.refused(
        "E1",
        methods::ORDER_DELIVER,
        &RecordDelivery { delivery: "d2".into(), amount: 401, ..d.clone() },
        E_DELIVERY_EXCEEDS_ORDER,
    );
    let full: Order =
        w.ok("E1", methods::ORDER_DELIVER, &RecordDelivery { delivery: "d2".into(), amount: 400, ..d.clone() });
    assert_eq!(full.status, OrderStatus::Delivered);
    w.refused(
        "E1",
        methods::ORDER_CONFIRM_DELIVERY,
        &DeliveryRef { order: "O1".into(), delivery: "d1".into() },
        E_WRONG_PARTY,
    );
    w.refused(
        "CORE",
        methods::ORDER_CONFIRM_DELIVERY,
        &DeliveryRef { order: "O1".into(), delivery: "d9".into() },
        E_UNKNOWN_DELIVERY,
    );
    // Invoices: the order's parties, amounts in order, once.
    let inv = invoice_args("O1", "CORE", "E1", "00000001", 1_130, "2025-03-06");
    w.refused(
        "E1",
        methods::INVOICE_RECORD,
        &RecordInvoice { buyer: "E2".into(), ..inv.clone() },
        E_INVOICE_PARTY_MISMATCH,
    );
    w.refused(
        "CORE",
        methods::INVOICE_RECORD,
        &RecordInvoice { seller: "CORE".into(), buyer: "E1".into(), ..inv.clone() },
        E_INVOICE_PARTY_MISMATCH,
    );
    w.refused(
        "E1",
        methods::INVOICE_RECORD,
        &RecordInvoice { amount_inc_tax: 10, amount_ex_tax: 20, ..inv.clone() },
        E_INVOICE_AMOUNT,
    );
    w.refused(
        "E1",
        methods::INVOICE_RECORD,
        &RecordInvoice { key: InvoiceKey { code: "31".into(), number: "1".into() }, ..inv.clone() },
        E_BAD_ARGS,
    );
    w.refused("E1", methods::INVOICE_RECORD, &RecordInvoice { order: "O9".into(), ..inv.clone() }, E_UNKNOWN_ORDER);
    w.ok::<_, Invoice>("E1", methods::INVOICE_RECORD, &inv);
    w.refused("E1", methods::INVOICE_RECORD, &inv, E_DUPLICATE);
    w.refused("CORE", methods::ORDER_CANCEL, &ById { id: "O1".into() }, E_ORDER_STATE);
    let closed: Order = w.ok("CORE", methods::ORDER_CLOSE, &ById { id: "O1".into() });
    assert_eq!(closed.status, OrderStatus::Closed);
    let o2 = CreateOrder { id: "O2".into(), ..o };
    w.ok::<_, Order>("CORE", methods::ORDER_CREATE, &o2);
    w.refused("E1", methods::ORDER_CANCEL, &ById { id: "O2".into() }, E_WRONG_PARTY);
    w.ok::<_, Order>("CORE", methods::ORDER_CANCEL, &ById { id: "O2".into() });
}

#[test]
fn parties_register_once_with_masked_accounts() {
    let mut w = World::new("2025-03-06");
    w.kinds.insert("E9".into(), "enterprise");
    let good = RegisterParty { account: account("BANK1", 42), city: "Suzhou".into(), finance_company: false };
    w.refused(
        "E9",
        methods::PARTY_REGISTER,
        &RegisterParty {
            account: Account { masked: "6222021234567890128".into(), ..good.account.clone() },
            ..good.clone()
        },
        E_PERSONAL_DATA,
    );
    w.refused("E9", methods::PARTY_REGISTER, &RegisterParty { account: account("E1", 42), ..good.clone() }, E_BAD_ARGS);
    w.refused(
        "E9",
        methods::PARTY_REGISTER,
        &RegisterParty { finance_company: true, ..good.clone() },
        E_NOT_AUTHORISED,
    );
    w.refused(
        "E9",
        methods::PARTY_REGISTER,
        &RegisterParty { city: "call 13812345678".into(), ..good.clone() },
        E_PERSONAL_DATA,
    );
    let p: Party = w.ok("E9", methods::PARTY_REGISTER, &good);
    assert_eq!((p.kind, p.tenant.as_deref()), (PartyKind::Enterprise, Some("t1")));
    let stored: Option<Party> = w.query("E9", methods::PARTY_GET, &ById { id: "E9".into() }).unwrap();
    assert_eq!(stored, Some(p.clone()));
    w.refused("E9", methods::PARTY_REGISTER, &good, E_PARTY_EXISTS);
    w.kinds.insert("N1".into(), "notary");
    w.refused("N1", methods::PARTY_REGISTER, &good, E_NOT_AUTHORISED);
}

#[test]
fn queries_show_each_caller_its_own() {
    let mut w = World::new("2025-03-06");
    w.circulating(BILL, 1_000, "2025-03-06", "2025-06-06");
    w.issue(BILL2, 500, "2025-03-06", "2025-06-06");
    let r: Request = w.ok("E1", methods::BILL_ENDORSE, &transfer(BILL, 1, 400, "E2"));
    w.ok::<_, Request>("E2", methods::BILL_SIGN, &answer(&r.id));
    let e2: Vec<BillSummary> = w.query("E2", methods::BILL_LIST, &Page::default()).unwrap();
    assert_eq!(e2.iter().map(|b| (b.number.as_str(), b.held_by_caller)).collect::<Vec<_>>(), vec![(BILL, 400)]);
    let e1: Vec<BillSummary> = w.query("E1", methods::BILL_LIST, &Page::default()).unwrap();
    assert_eq!(e1.len(), 2, "E1 is the payee of both");
    let page: Vec<BillSummary> =
        w.query("E1", methods::BILL_LIST, &Page { after: Some(BILL.into()), limit: 1 }).unwrap();
    assert_eq!(page.iter().map(|b| b.number.as_str()).collect::<Vec<_>>(), vec![BILL2]);
    assert!(w.query::<_, Vec<BillSummary>>("E3", methods::BILL_LIST, &Page::default()).unwrap().is_empty());
    assert_eq!(
        w.query::<_, BillView>("E3", methods::BILL_GET, &ByBill { bill: BILL.into() }).unwrap_err().code,
        E_NOT_AUTHORISED
    );
    let view: BillView = w.query("E2", methods::BILL_GET, &ByBill { bill: BILL.into() }).unwrap();
    let actions: Vec<&str> = view.history.iter().map(|h| h.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "issued",
            "acceptance_requested",
            "accepted",
            "delivery_requested",
            "received",
            "endorsement_requested",
            "endorsed"
        ]
    );
    let holdings: Vec<HoldingView> = w.query("E2", methods::BILL_HOLDINGS, &ById { id: "E2".into() }).unwrap();
    assert_eq!(holdings.iter().map(|h| (h.holding.start, h.holding.end)).collect::<Vec<_>>(), vec![(1, 400)]);
    assert_eq!(
        w.query::<_, Vec<HoldingView>>("E1", methods::BILL_HOLDINGS, &ById { id: "E2".into() }).unwrap_err().code,
        E_NOT_AUTHORISED
    );
    // Writes cannot run as queries; unknown methods and bad arguments are named.
    assert_eq!(
        w.query::<_, Bill>("CORE", methods::BILL_ISSUE, &issue_args(BILL, 1, "2025-03-06", "2025-06-06"))
            .unwrap_err()
            .code,
        E_READ_ONLY_CALL
    );
    w.refused("E1", "bill.nope", &(), E_UNKNOWN_METHOD);
    w.refused("E1", methods::BILL_ENDORSE, &(1u8, 2u8), E_BAD_ARGS);
}

#[test]
fn unknown_records_and_a_missing_configuration_are_named() {
    let mut w = World::new("2025-03-06");
    w.refused(
        "BANK1",
        methods::INVOICE_VERIFY,
        &VerifyInvoice { key: invoice_key("99999999"), check_code: "123456".into() },
        E_UNKNOWN_INVOICE,
    );
    assert_eq!(
        w.query::<_, Invoice>("BANK1", methods::INVOICE_GET, &invoice_key("99999999")).unwrap_err().code,
        E_UNKNOWN_INVOICE
    );
    let report = ReportMovement { request_id: "nope".into(), outcome: Outcome::Success { bank_serial: "SN1".into() } };
    w.refused("BANK1", methods::FUND_REPORT, &report, E_UNKNOWN_MOVEMENT);
    w.refused("BANK1", methods::FUND_MARK_UNKNOWN, &ById { id: "nope".into() }, E_UNKNOWN_MOVEMENT);
    w.refused("CORE", methods::BILL_SIGN, &answer("nope"), E_UNKNOWN_REQUEST);
    w.refused("CORE", methods::ORDER_CLOSE, &ById { id: "nope".into() }, E_UNKNOWN_ORDER);
    // A deployment without its configuration refuses everything but init.
    let mut bare = MemStore::default();
    let env = Context { tx_id: "tx-1".into(), time_ms: w.time_ms, ..Context::default() };
    let err = bare.call(&env, methods::BILL_CLEANUP, &encode(&())).unwrap_err();
    assert_eq!(err.code, E_NOT_INITIALISED);
    let bad = FlowsConfig { answer_timeout_ms: 0, ..FlowsConfig::default() };
    assert_eq!(bare.call(&env, methods::INIT, &encode(&bad)).unwrap_err().code, E_BAD_ARGS);
    assert!(bare.state.is_empty());
}

#[test]
fn anyone_reads_a_bills_disclosure_with_other_enterprises_masked() {
    let mut w = World::new("2025-03-06");
    w.circulating(BILL, 1_000_000, "2025-03-06", "2025-06-06");
    w.trade("O-2025-0001", "CORE", "E1", 5_000_000, "00000001", 5_000_000, "2025-03-06");
    w.instant_discounts(1_000_000);
    let req = w.discount("E1", BILL, 1, 400_000, "BANK1", "O-2025-0001", &["00000001"]).unwrap();
    let RequestKind::Discount(terms) = &req.kind else { panic!() };
    w.report("BANK1", terms.disbursement.as_ref().unwrap(), true);

    let by_bill = ByBill { bill: BILL.into() };
    // Anonymous callers and parties that never saw the bill read the same.
    let d: BillDisclosure = w.query("", methods::BILL_DISCLOSURE, &by_bill).unwrap();
    let other: BillDisclosure = w.query("E3", methods::BILL_DISCLOSURE, &by_bill).unwrap();
    assert_eq!(d, other);
    assert_eq!(w.query::<_, BillView>("", methods::BILL_GET, &by_bill).unwrap_err().code, E_NOT_AUTHORISED);

    // The acceptor and the bank are named; the supplier is masked everywhere.
    assert_eq!((d.acceptor.as_str(), d.drawer.as_str(), d.payee.as_str()), ("CORE", "CORE", "***"));
    let ranges: Vec<_> = d.ranges.iter().map(|r| (r.start, r.end, r.holder.as_str(), r.state.as_str())).collect();
    assert_eq!(ranges, vec![(1, 400_000, "BANK1", "held"), (400_001, 1_000_000, "***", "held")]);
    let encoded = encode(&d);
    assert!(!encoded.windows(2).any(|w| w == b"E1"), "the supplier's id is disclosed: {d:?}");
    assert_eq!(d.orders, vec!["O-2***001".to_string()]);
    let inv = &d.invoices[0];
    assert_eq!((inv.number.as_str(), inv.amount_inc_tax, inv.occupied), ("****0001", 5_000_000, 400_000));
    let m = &d.movements[0];
    assert_eq!((m.kind, m.amount < 400_000, m.status), (MovementKind::Disbursement, true, MovementStatus::Success));

    // The whole history, in order, each step with its block and transaction.
    let actions: Vec<&str> = d.history.iter().map(|s| s.action.as_str()).collect();
    assert_eq!(actions.first(), Some(&"issued"));
    assert!(actions.contains(&"discount_requested") && actions.contains(&"discount_approved"), "{actions:?}");
    assert!(d.history.windows(2).all(|p| p[0].height <= p[1].height && !p[1].tx_id.is_empty()));
    assert!(d.history.iter().any(|s| s.counterparty.as_deref() == Some("BANK1")));

    assert_eq!(
        w.query::<_, BillDisclosure>("", methods::BILL_DISCLOSURE, &ByBill { bill: "1".repeat(30) }).unwrap_err().code,
        E_UNKNOWN_BILL
    );
}

#[test]
fn the_inbox_holds_what_waits_for_the_callers_answer() {
    let mut w = World::new("2025-03-06");
    w.circulating(BILL, 100_000_000, "2025-03-06", "2025-09-06");
    w.trade("O1", "CORE", "E1", 100_000_000, "00000001", 113_000_000, "2025-03-06");
    let inbox = |w: &mut World, who: &str| -> Inbox { w.query(who, methods::INBOX, &()).unwrap() };
    // An endorsement waits for the endorsee, not the endorser.
    let r: Request = w.ok("E1", methods::BILL_ENDORSE, &transfer(BILL, 1, 400, "E2"));
    assert_eq!(inbox(&mut w, "E2").requests.iter().map(|q| q.id.as_str()).collect::<Vec<_>>(), [r.id.as_str()]);
    assert!(inbox(&mut w, "E1").requests.is_empty());
    w.ok::<_, Request>("E2", methods::BILL_SIGN, &answer(&r.id));
    assert!(inbox(&mut w, "E2").requests.is_empty(), "answered");
    // A discount request waits for the bank; once approved, its disbursement waits for its report.
    w.at("2025-03-10");
    let req = w.discount("E1", BILL, 401, 100_000_000, "BANK1", "O1", &["00000001"]).unwrap();
    assert_eq!(inbox(&mut w, "BANK1").requests.len(), 1);
    let req: Request =
        w.ok("BANK1", methods::BILL_APPROVE_DISCOUNT, &ApproveDiscount { request: req.id, rate: RatePpm(15_000) });
    let RequestKind::Discount(terms) = &req.kind else { panic!() };
    let disbursement = terms.disbursement.clone().unwrap();
    let bank = inbox(&mut w, "BANK1");
    assert!(bank.requests.is_empty(), "approved: no longer the bank's to answer");
    assert_eq!(bank.movements.iter().map(|m| m.request_id.as_str()).collect::<Vec<_>>(), [disbursement.as_str()]);
    w.report("BANK1", &disbursement, true);
    assert!(inbox(&mut w, "BANK1").movements.is_empty(), "reported");
    // Only participants have one.
    assert_eq!(w.query::<_, Inbox>("admin:notary-1", methods::INBOX, &()).unwrap_err().code, E_NOT_AUTHORISED);
}
