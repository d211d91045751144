//! The bill, fund and order flows end to end on a 3-voter devnet, through the
//! SDK: order, delivery, invoice, issue, acceptance, delivery, split
//! endorsement, instant discount with its disbursement, presentment at
//! maturity and payment; a second discount on the same invoice refused; a
//! fund movement gone `unknown` and resolved by reconciliation. The devnet
//! runs under a shifted clock to reach the due date.

use std::time::{Duration, Instant};

use billflow_sdk::flows::finance::{Date, RatePpm};
use billflow_sdk::flows::{self, Action, codes};
use billflow_sdk::types::view::TxState;
use billflow_sdk::{Client, SdkError, Signer};
use billflow_tests::devnet::{Clock, DevnetProcess};
use billflow_tests::{eventually, exclusive};

const CORE: &str = "91310000MA1FL0001R";
const SUPPLIER_A: &str = "91320500MA1FL0002T";
const SUPPLIER_B: &str = "91330100MA1FL0003D";
const BANK_A: &str = "bank-a";
const BILL: &str = "540100000000000000000000000001";
const BILL2: &str = "540100000000000000000000000002";
/// Days the clock jumps to reach the first bill's due date.
const JUMP_DAYS: u32 = 31;

/// The SDK's clock offset for as long as it lives (reset however the test ends).
struct ClockOffset;

impl ClockOffset {
    fn set(offset_ms: i64) -> ClockOffset {
        billflow_sdk::set_clock_offset_ms(offset_ms);
        ClockOffset
    }
}

impl Drop for ClockOffset {
    fn drop(&mut self) {
        billflow_sdk::set_clock_offset_ms(0);
    }
}

fn yuan(text: &str) -> u64 {
    flows::parse_amount(text).unwrap()
}

fn invoice() -> flows::InvoiceKey {
    flows::InvoiceKey { code: "3100231130".into(), number: "00000011".into() }
}

/// The ledger's business day now (the clock offset included).
fn today() -> Date {
    Date::of_block_time(billflow_sdk::now_ms())
}

/// Carries out `action` as `who`; the transaction's id (a request's id).
async fn act(client: &Client, who: &Signer, action: Action) -> String {
    let method = action.method();
    match client.with_auth(who.clone()).flows_act(who, &action).await {
        Ok(view) => {
            assert_eq!(view.status, TxState::Committed, "{method}");
            view.tx_id.to_string()
        }
        Err(e) => panic!("{} {method}: {e}", who.key_id),
    }
}

/// `action` is refused with `code`.
async fn refused(client: &Client, who: &Signer, action: Action, code: &str) {
    match client.with_auth(who.clone()).flows_act(who, &action).await {
        Err(SdkError::Failed(f)) => assert_eq!(f.code, code, "{}", f.message),
        other => panic!("{}: expected {code}, got {other:?}", action.method()),
    }
}

fn answer(request: &str) -> flows::Answer {
    flows::Answer { request: request.into(), reason: String::new() }
}

fn range(bill: &str, start: u64, end: u64) -> flows::Range {
    flows::Range { bill: bill.into(), start, end }
}

async fn issue_and_deliver(client: &Client, core: &Signer, payee: &Signer, number: &str, amount: &str, due_in: i64) {
    let issue = flows::IssueBill {
        number: number.into(),
        kind: flows::BillKind::SupplyChain,
        amount: yuan(amount),
        issue_date: today(),
        due_date: today().plus_days(due_in),
        acceptor: CORE.into(),
        payee: SUPPLIER_A.into(),
        splittable: true,
        non_transferable: false,
        evidence: None,
    };
    act(client, core, Action::IssueBill(issue)).await;
    let by = flows::ByBill { bill: number.into() };
    let req = act(client, core, Action::RequestAcceptance(by.clone())).await;
    act(client, core, Action::Sign(answer(&req))).await;
    let req = act(client, core, Action::RequestDelivery(by)).await;
    act(client, payee, Action::Sign(answer(&req))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_bill_from_trade_to_payment_on_a_devnet() {
    let _one = exclusive().await;
    let devnet = DevnetProcess::start(3, 0, false, Clock::Shifted).unwrap();
    let client = devnet.client().unwrap();
    let who = |id: &str| devnet.participant(id).unwrap();
    let (core, sup_a, sup_b, bank_a) = (who(CORE), who(SUPPLIER_A), who(SUPPLIER_B), who(BANK_A));

    // The trade: an order of 1,000,000.00 from supplier A, delivered and
    // confirmed, invoiced for 700,000.00 and verified by bank A.
    let order = flows::CreateOrder {
        id: "PO-E2E-1".into(),
        seller: SUPPLIER_A.into(),
        amount: yuan("1,000,000.00"),
        date: today(),
        evidence: None,
    };
    act(&client, &core, Action::CreateOrder(order)).await;
    let delivery = flows::RecordDelivery {
        order: "PO-E2E-1".into(),
        delivery: "DN-1".into(),
        amount: yuan("1,000,000.00"),
        date: today(),
        evidence: None,
    };
    act(&client, &sup_a, Action::RecordDelivery(delivery)).await;
    act(
        &client,
        &core,
        Action::ConfirmDelivery(flows::DeliveryRef { order: "PO-E2E-1".into(), delivery: "DN-1".into() }),
    )
    .await;
    let record = flows::RecordInvoice {
        key: invoice(),
        order: "PO-E2E-1".into(),
        date: today(),
        amount_ex_tax: yuan("619,469.03"),
        amount_inc_tax: yuan("700,000.00"),
        seller: SUPPLIER_A.into(),
        buyer: CORE.into(),
        check_code: "01234567890123456789".into(),
        evidence: None,
    };
    act(&client, &sup_a, Action::RecordInvoice(record)).await;
    act(&client, &bank_a, Action::VerifyInvoice(flows::VerifyInvoice { key: invoice(), check_code: "456789".into() }))
        .await;

    // The bill: issued and accepted by the core enterprise, received by supplier A,
    // 200,000.00 endorsed on to supplier B.
    issue_and_deliver(&client, &core, &sup_a, BILL, "1,000,000.00", JUMP_DAYS as i64).await;
    let split = yuan("200,000.00");
    let req =
        act(&client, &sup_a, Action::Endorse(flows::Transfer { range: range(BILL, 1, split), to: SUPPLIER_B.into() }))
            .await;
    act(&client, &sup_b, Action::Sign(answer(&req))).await;

    // Instant discount of 600,000.00 at bank A: approved by its policy and the
    // disbursement instructed in the request's own transaction.
    let policy = flows::DiscountPolicy {
        enabled: true,
        acceptors: vec![CORE.into()],
        max_amount: yuan("2,000,000.00"),
        rates: vec![flows::RateBand { max_days: 184, rate: RatePpm(15_000) }],
        daily_limit_per_enterprise: 0,
    };
    act(&client, &bank_a, Action::SetPolicy(policy)).await;
    let discounted = (split + 1, split + yuan("600,000.00"));
    let request = flows::RequestDiscount {
        range: range(BILL, discounted.0, discounted.1),
        bank: BANK_A.into(),
        order: "PO-E2E-1".into(),
        invoices: vec![invoice()],
    };
    let started = Instant::now();
    let req = act(&client, &sup_a, Action::RequestDiscount(request)).await;
    let committed = started.elapsed();
    let as_a = client.with_auth(sup_a.clone());
    let disbursement = as_a.movement(&flows::disbursement_id(&req)).await.unwrap().expect("instructed");
    assert_eq!(disbursement.status, flows::MovementStatus::Pending);
    assert_eq!(disbursement.credit.owner, SUPPLIER_A, "proceeds go to the applicant's account");
    eprintln!("instant discount: request to committed disbursement instruction in {committed:?}");
    let serial = flows::Outcome::Success { bank_serial: "BA-E2E-0001".into() };
    act(
        &client,
        &bank_a,
        Action::ReportMovement(flows::ReportMovement { request_id: disbursement.request_id.clone(), outcome: serial }),
    )
    .await;
    let view = as_a.bill(BILL).await.unwrap();
    let holders: Vec<(u64, u64, &str)> =
        view.bill.holdings.iter().map(|h| (h.start, h.end, h.holder.as_str())).collect();
    assert_eq!(
        holders,
        vec![
            (1, split, SUPPLIER_B),
            (discounted.0, discounted.1, BANK_A),
            (discounted.1 + 1, yuan("1,000,000.00"), SUPPLIER_A)
        ]
    );
    assert_eq!(as_a.invoice(&invoice()).await.unwrap().occupied, yuan("600,000.00"));

    // Maturity: the clock moves to the due date; bank A presents and the
    // core enterprise pays.
    devnet.shift_clock(JUMP_DAYS).unwrap();
    let _offset = ClockOffset::set(i64::from(JUMP_DAYS) * 86_400_000);
    let due = view.bill.due_date;
    eventually(Duration::from_secs(30), "the ledger to reach the due date", || async {
        client.health().await.is_ok() && today() >= due
    })
    .await
    .unwrap();
    let presentment = act(&client, &bank_a, Action::Present(range(BILL, discounted.0, discounted.1))).await;
    act(&client, &core, Action::Sign(answer(&presentment))).await;
    let payment = flows::payment_id(&presentment);
    let paid = flows::Outcome::Success { bank_serial: "BA-E2E-0002".into() };
    act(&client, &bank_a, Action::ReportMovement(flows::ReportMovement { request_id: payment.clone(), outcome: paid }))
        .await;
    let view = client.with_auth(bank_a.clone()).bill(BILL).await.unwrap();
    let settled = view.bill.holdings.iter().find(|h| h.start == discounted.0).unwrap();
    assert_eq!(settled.state, flows::HoldingState::Settled);
    assert!(view.history.iter().any(|h| h.action == "paid"));

    // A second discount on the same invoice, of another bill: refused, only
    // 100,000.00 of it is free.
    issue_and_deliver(&client, &core, &sup_a, BILL2, "200,000.00", 60).await;
    let second = flows::RequestDiscount {
        range: range(BILL2, 1, yuan("200,000.00")),
        bank: BANK_A.into(),
        order: "PO-E2E-1".into(),
        invoices: vec![invoice()],
    };
    refused(&client, &sup_a, Action::RequestDiscount(second), codes::E_INVOICE_OVER_OCCUPIED).await;

    // Supplier B presents; the core enterprise pays, but the bank's answer
    // does not come: the movement goes unknown, what depends on it waits,
    // and bank A's statement of the day resolves it.
    let presentment = act(&client, &sup_b, Action::Present(range(BILL, 1, split))).await;
    act(&client, &core, Action::Sign(answer(&presentment))).await;
    let lost = flows::payment_id(&presentment);
    act(&client, &core, Action::MarkUnknown(flows::ById { id: lost.clone() })).await;
    let m = client.with_auth(core.clone()).movement(&lost).await.unwrap().unwrap();
    assert_eq!(m.status, flows::MovementStatus::Unknown);
    refused(&client, &sup_b, Action::Present(range(BILL, 1, split)), codes::E_FUNDS_STATUS_UNKNOWN).await;
    let day = today();
    let lines = vec![
        flows::StatementLine {
            request_id: payment.clone(),
            bank_serial: "BA-E2E-0002".into(),
            amount: yuan("600,000.00"),
            success: true,
        },
        flows::StatementLine {
            request_id: lost.clone(),
            bank_serial: "BA-E2E-0003".into(),
            amount: split,
            success: true,
        },
    ];
    act(&client, &bank_a, Action::Reconcile(flows::statement(day, lines))).await;
    act(&client, &bank_a, Action::CloseDay(flows::DayRef { day })).await;
    let report = client.with_auth(bank_a.clone()).recon_report(BANK_A, day).await.unwrap().unwrap();
    assert_eq!(report.matched, vec![payment]);
    assert_eq!(report.resolved, vec![(lost.clone(), flows::MovementStatus::Success)]);
    assert!(report.closed && report.clean());
    let view = client.with_auth(sup_b.clone()).bill(BILL).await.unwrap();
    assert_eq!(view.bill.holdings[0].state, flows::HoldingState::Settled, "resolved: supplier B is paid");

    // Every node holds the same ledger.
    let tip = client.health().await.unwrap().height;
    let mut headers = Vec::new();
    for url in devnet.urls() {
        let node = devnet.client_of(vec![url]).unwrap();
        eventually(Duration::from_secs(20), "every node at the tip", || async {
            node.health().await.map(|h| h.height >= tip).unwrap_or(false)
        })
        .await
        .unwrap();
        headers.push(node.block(tip).await.unwrap().header);
    }
    assert!(headers.windows(2).all(|w| w[0] == w[1]), "every node holds block {tip} alike, state hash included");
}
