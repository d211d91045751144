//! The devnet demo's parties, and a trade seeded with its bill: what the
//! flows benchmarks start from.

use anyhow::Result;
use billflow_sdk::Signer;
use billflow_sdk::flows::finance::Date;
use billflow_sdk::flows::{self, Action};

/// The demo's core enterprise.
pub const CORE: &str = "91310000MA1FL0001R";
/// The demo's first supplier.
pub const SUPPLIER_A: &str = "91320500MA1FL0002T";
/// The demo's second supplier.
pub const SUPPLIER_B: &str = "91330100MA1FL0003D";
/// The demo's first bank.
pub const BANK_A: &str = "bank-a";
/// The invoice code of seeded invoices.
pub const INVOICE_CODE: &str = "3100231130";

/// A trade to seed: its order, invoice and bill, all of `amount` fen.
pub struct Trade<'a> {
    /// The order's id.
    pub order: &'a str,
    /// The invoice's number (code [`INVOICE_CODE`]).
    pub invoice: &'a str,
    /// The bill's number.
    pub bill: &'a str,
    /// The amount, in fen.
    pub amount: u64,
    /// The order, delivery, invoice and issue date.
    pub today: Date,
}

/// The signers a trade needs: the core enterprise, supplier A and bank A.
pub struct Parties<'a> {
    /// The core enterprise (buyer, drawer and acceptor).
    pub core: &'a Signer,
    /// Supplier A (seller and payee).
    pub supplier_a: &'a Signer,
    /// Bank A (verifies the invoice).
    pub bank_a: &'a Signer,
}

/// Records `trade`: the core enterprise orders from supplier A, the delivery
/// is recorded and confirmed, supplier A's invoice is recorded and verified
/// by bank A, and the core enterprise issues the bill, accepts it and
/// delivers it to supplier A. `act` commits one action as a signer and
/// returns its transaction id.
pub async fn seed(
    trade: &Trade<'_>,
    p: &Parties<'_>,
    act: impl AsyncFn(&Signer, Action) -> Result<String>,
) -> Result<()> {
    let (order, amount, today) = (trade.order.to_string(), trade.amount, trade.today);
    let create =
        flows::CreateOrder { id: order.clone(), seller: SUPPLIER_A.into(), amount, date: today, evidence: None };
    act(p.core, Action::CreateOrder(create)).await?;
    let dn = flows::RecordDelivery { order: order.clone(), delivery: "DN".into(), amount, date: today, evidence: None };
    act(p.supplier_a, Action::RecordDelivery(dn)).await?;
    act(p.core, Action::ConfirmDelivery(flows::DeliveryRef { order: order.clone(), delivery: "DN".into() })).await?;
    let key = flows::InvoiceKey { code: INVOICE_CODE.into(), number: trade.invoice.into() };
    let invoice = flows::RecordInvoice {
        key: key.clone(),
        order,
        date: today,
        amount_ex_tax: amount,
        amount_inc_tax: amount,
        seller: SUPPLIER_A.into(),
        buyer: CORE.into(),
        check_code: String::new(),
        evidence: None,
    };
    act(p.supplier_a, Action::RecordInvoice(invoice)).await?;
    act(p.bank_a, Action::VerifyInvoice(flows::VerifyInvoice { key, check_code: String::new() })).await?;
    let issue = flows::IssueBill {
        number: trade.bill.into(),
        kind: flows::BillKind::SupplyChain,
        amount,
        issue_date: today,
        due_date: today.plus_days(90),
        acceptor: CORE.into(),
        payee: SUPPLIER_A.into(),
        splittable: true,
        non_transferable: false,
        evidence: None,
    };
    act(p.core, Action::IssueBill(issue)).await?;
    let by = flows::ByBill { bill: trade.bill.into() };
    let answer = |request: String| flows::Answer { request, reason: String::new() };
    let req = act(p.core, Action::RequestAcceptance(by.clone())).await?;
    act(p.core, Action::Sign(answer(req))).await?;
    let req = act(p.core, Action::RequestDelivery(by)).await?;
    act(p.supplier_a, Action::Sign(answer(req))).await?;
    Ok(())
}
