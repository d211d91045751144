//! The trade background: orders, deliveries and VAT invoices, and the
//! invoices' occupied amounts that guard against financing a trade twice.

use alloc::format;
use alloc::vec::Vec;

use crate::codes::*;
use crate::ledger::{Cx, Out, Refusal, check_amount, check_id, ensure, keys, ok, owned};
use crate::types::*;

/// An order (`E_UNKNOWN_ORDER`).
pub(crate) fn load(cx: &Cx<'_>, id: &str) -> Result<Order, Refusal> {
    cx.get(&keys::order(id))?.ok_or_else(|| Refusal::new(E_UNKNOWN_ORDER, format!("no order {id}")))
}

/// An invoice as stored (`E_UNKNOWN_INVOICE`). Its occupations are stored
/// apart, one key each ([`keys::occupation`]), so that a discount writes only
/// its own however many financings an invoice has; [`with_occupations`] reads
/// them for what is shown.
pub(crate) fn load_invoice(cx: &Cx<'_>, key: &InvoiceKey) -> Result<Invoice, Refusal> {
    cx.get(&keys::invoice(key))?
        .ok_or_else(|| Refusal::new(E_UNKNOWN_INVOICE, format!("no invoice {} {}", key.code, key.number)))
}

/// `invoice` with every financing that occupies it, in the order they were asked.
pub(crate) fn with_occupations(cx: &Cx<'_>, mut invoice: Invoice) -> Result<Invoice, Refusal> {
    invoice.occupations.extend(cx.scan_all(&keys::occupation_prefix(&invoice.key))?);
    Ok(invoice)
}

fn event(cx: &mut Cx<'_>, order: &Order, action: &str, actor: &str, amount: u64) {
    let e = OrderEvent {
        order: order.id.clone(),
        action: owned(action),
        actor: owned(actor),
        buyer: order.buyer.clone(),
        seller: order.seller.clone(),
        amount,
    };
    cx.emit(topics::ORDER, &e);
}

pub(crate) fn invoice_event(cx: &mut Cx<'_>, invoice: &Invoice, action: &str, actor: &str) {
    let e = InvoiceEvent {
        key: invoice.key.clone(),
        action: owned(action),
        actor: owned(actor),
        seller: invoice.seller.clone(),
        buyer: invoice.buyer.clone(),
        occupied: invoice.occupied,
    };
    cx.emit(topics::INVOICE, &e);
}

/// `order.create`: the buyer records an order with a registered seller.
pub(crate) fn create(cx: &mut Cx<'_>, a: CreateOrder) -> Out {
    let buyer = cx.actor()?;
    check_id("the order id", &a.id)?;
    check_amount("the order amount", a.amount)?;
    let seller = cx.counterparty(&a.seller)?;
    ensure!(seller.id != buyer.id, E_SAME_PARTY, "an order needs a buyer and a seller that differ");
    ensure!(a.date <= cx.today(), E_DATE_INVALID, "the order date {} is after today {}", a.date, cx.today());
    ensure!(!cx.exists(&keys::order(&a.id)), E_DUPLICATE, "order {} is recorded already", a.id);
    let order = Order {
        id: a.id,
        buyer: buyer.id.clone(),
        seller: seller.id,
        amount: a.amount,
        date: a.date,
        status: OrderStatus::Open,
        deliveries: Vec::new(),
        invoices: Vec::new(),
        financed: 0,
        evidence: a.evidence,
        height: cx.env.height,
    };
    cx.put(&keys::order(&order.id), &order);
    event(cx, &order, "created", &buyer.id, order.amount);
    ok(&order)
}

/// `order.deliver`: the seller records a delivery note; deliveries never exceed the order.
pub(crate) fn deliver(cx: &mut Cx<'_>, a: RecordDelivery) -> Out {
    let seller = cx.actor()?;
    let mut order = load(cx, &a.order)?;
    ensure!(order.seller == seller.id, E_WRONG_PARTY, "only the seller {} records deliveries", order.seller);
    ensure!(order.status == OrderStatus::Open, E_ORDER_STATE, "order {} is {:?}", order.id, order.status);
    check_id("the delivery id", &a.delivery)?;
    check_amount("the delivery amount", a.amount)?;
    ensure!(
        !order.deliveries.iter().any(|d| d.id == a.delivery),
        E_DUPLICATE,
        "delivery {} is recorded already",
        a.delivery
    );
    ensure!(order.deliveries.len() < 100, E_BAD_ARGS, "an order takes at most 100 deliveries");
    ensure!(
        a.date >= order.date,
        E_DATE_INVALID,
        "the delivery date {} is before the order date {}",
        a.date,
        order.date
    );
    ensure!(a.date <= cx.today(), E_DATE_INVALID, "the delivery date {} is after today", a.date);
    let delivered = order.delivered() + a.amount;
    ensure!(
        delivered <= order.amount,
        E_DELIVERY_EXCEEDS_ORDER,
        "deliveries of {delivered} fen would exceed the order's {} fen",
        order.amount
    );
    order.deliveries.push(Delivery {
        id: a.delivery,
        amount: a.amount,
        date: a.date,
        confirmed: false,
        evidence: a.evidence,
    });
    if delivered == order.amount {
        order.status = OrderStatus::Delivered;
    }
    cx.put(&keys::order(&order.id), &order);
    event(cx, &order, "delivered", &seller.id, a.amount);
    ok(&order)
}

/// `order.confirm_delivery`: the buyer confirms.
pub(crate) fn confirm_delivery(cx: &mut Cx<'_>, a: DeliveryRef) -> Out {
    let buyer = cx.actor()?;
    let mut order = load(cx, &a.order)?;
    ensure!(order.buyer == buyer.id, E_WRONG_PARTY, "only the buyer {} confirms deliveries", order.buyer);
    let delivery =
        order.deliveries.iter_mut().find(|d| d.id == a.delivery).ok_or_else(|| {
            Refusal::new(E_UNKNOWN_DELIVERY, format!("order {} has no delivery {}", a.order, a.delivery))
        })?;
    ensure!(!delivery.confirmed, E_DUPLICATE, "delivery {} is confirmed already", a.delivery);
    delivery.confirmed = true;
    let amount = delivery.amount;
    cx.put(&keys::order(&order.id), &order);
    event(cx, &order, "delivery_confirmed", &buyer.id, amount);
    ok(&order)
}

/// `order.close`: the buyer closes an order (no more deliveries).
pub(crate) fn close(cx: &mut Cx<'_>, a: ById) -> Out {
    let buyer = cx.actor()?;
    let mut order = load(cx, &a.id)?;
    ensure!(order.buyer == buyer.id, E_WRONG_PARTY, "only the buyer {} closes the order", order.buyer);
    ensure!(
        matches!(order.status, OrderStatus::Open | OrderStatus::Delivered),
        E_ORDER_STATE,
        "order {} is {:?}",
        order.id,
        order.status
    );
    order.status = OrderStatus::Closed;
    cx.put(&keys::order(&order.id), &order);
    event(cx, &order, "closed", &buyer.id, order.amount);
    ok(&order)
}

/// `order.cancel`: the buyer cancels an order with nothing delivered, invoiced or financed.
pub(crate) fn cancel(cx: &mut Cx<'_>, a: ById) -> Out {
    let buyer = cx.actor()?;
    let mut order = load(cx, &a.id)?;
    ensure!(order.buyer == buyer.id, E_WRONG_PARTY, "only the buyer {} cancels the order", order.buyer);
    ensure!(
        order.status == OrderStatus::Open && order.deliveries.is_empty() && order.invoices.is_empty(),
        E_ORDER_STATE,
        "order {} has deliveries or invoices, or is not open",
        order.id
    );
    order.status = OrderStatus::Cancelled;
    cx.put(&keys::order(&order.id), &order);
    event(cx, &order, "cancelled", &buyer.id, order.amount);
    ok(&order)
}

fn digits(text: &str, lens: &[usize]) -> bool {
    lens.contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit())
}

/// `invoice.record`: the seller records a VAT invoice of its order, once.
pub(crate) fn record_invoice(cx: &mut Cx<'_>, a: RecordInvoice) -> Out {
    let seller = cx.actor()?;
    ensure!(
        digits(&a.key.code, &[0, 10, 12]) && digits(&a.key.number, &[8, 20]),
        E_BAD_ARGS,
        "an invoice code is 10 or 12 digits (none for digital invoices) and its number 8 or 20 digits"
    );
    ensure!(digits(&a.check_code, &[0, 6, 20]), E_BAD_ARGS, "a check code is 20 digits (or its last 6)");
    let mut order = load(cx, &a.order)?;
    ensure!(
        a.seller == seller.id,
        E_INVOICE_PARTY_MISMATCH,
        "the invoice's seller {} is not the caller {}",
        a.seller,
        seller.id
    );
    ensure!(
        a.seller == order.seller && a.buyer == order.buyer,
        E_INVOICE_PARTY_MISMATCH,
        "the invoice is from {} to {}, the order from {} to {}",
        a.seller,
        a.buyer,
        order.seller,
        order.buyer
    );
    ensure!(order.status != OrderStatus::Cancelled, E_ORDER_STATE, "order {} is cancelled", order.id);
    check_amount("the amount excluding tax", a.amount_ex_tax)?;
    check_amount("the amount including tax", a.amount_inc_tax)?;
    ensure!(
        a.amount_inc_tax >= a.amount_ex_tax,
        E_INVOICE_AMOUNT,
        "the amount including tax {} is below the amount excluding it {}",
        a.amount_inc_tax,
        a.amount_ex_tax
    );
    ensure!(
        a.date >= order.date,
        E_DATE_INVALID,
        "the invoice date {} is before the order date {}",
        a.date,
        order.date
    );
    ensure!(a.date <= cx.today(), E_DATE_INVALID, "the invoice date {} is after today", a.date);
    let key = keys::invoice(&a.key);
    ensure!(!cx.exists(&key), E_DUPLICATE, "invoice {} {} is recorded already", a.key.code, a.key.number);
    ensure!(order.invoices.len() < 100, E_BAD_ARGS, "an order takes at most 100 invoices");
    let invoice = Invoice {
        key: a.key,
        order: order.id.clone(),
        date: a.date,
        amount_ex_tax: a.amount_ex_tax,
        amount_inc_tax: a.amount_inc_tax,
        seller: a.seller,
        buyer: a.buyer,
        check_code: a.check_code,
        verified_by: None,
        occupied: 0,
        occupations: Vec::new(),
        evidence: a.evidence,
        height: cx.env.height,
    };
    order.invoices.push(invoice.key.clone());
    cx.put(&keys::order(&order.id), &order);
    cx.put(&key, &invoice);
    invoice_event(cx, &invoice, "recorded", &seller.id);
    ok(&invoice)
}

/// `invoice.verify`: a bank or notary records the tax authority's confirmation.
pub(crate) fn verify_invoice(cx: &mut Cx<'_>, a: VerifyInvoice) -> Out {
    let verifier = cx.participant()?;
    let kind = cx.env.caller.participant_kind.clone();
    ensure!(
        matches!(kind.as_deref(), Some("bank" | "notary")),
        E_NOT_VERIFIER,
        "invoices are verified by banks and notaries"
    );
    crate::risk::admit(cx, &verifier)?;
    let mut invoice = load_invoice(cx, &a.key)?;
    ensure!(
        invoice.check_code.is_empty() || invoice.check_code.ends_with(a.check_code.as_str()) && a.check_code.len() >= 6,
        E_CHECK_CODE_MISMATCH,
        "the check code does not match the invoice's"
    );
    ensure!(invoice.verified_by.is_none(), E_DUPLICATE, "invoice {} {} is verified already", a.key.code, a.key.number);
    invoice.verified_by = Some(verifier.clone());
    cx.put(&keys::invoice(&invoice.key), &invoice);
    invoice_event(cx, &invoice, "verified", &verifier);
    ok(&with_occupations(cx, invoice)?)
}

/// Whether the caller may read an order or invoice between `buyer` and `seller`.
fn may_see(cx: &Cx<'_>, buyer: &str, seller: &str) -> bool {
    let caller = &cx.env.caller;
    cx.sees_all()
        || matches!(caller.participant_kind.as_deref(), Some("bank" | "notary"))
        || caller.participant.as_deref().is_some_and(|p| p == buyer || p == seller)
}

/// `order.get` (query).
pub(crate) fn get(cx: &mut Cx<'_>, a: ById) -> Out {
    let order = load(cx, &a.id)?;
    ensure!(may_see(cx, &order.buyer, &order.seller), E_NOT_AUTHORISED, "order {} is not the caller's", a.id);
    ok(&order)
}

/// `invoice.get` (query): the invoice with its occupation.
pub(crate) fn get_invoice(cx: &mut Cx<'_>, a: InvoiceKey) -> Out {
    let invoice = load_invoice(cx, &a)?;
    ensure!(
        may_see(cx, &invoice.buyer, &invoice.seller),
        E_NOT_AUTHORISED,
        "invoice {} {} is not the caller's",
        a.code,
        a.number
    );
    ok(&with_occupations(cx, invoice)?)
}
