//! Error codes: every refusal's receipt carries one. The business codes are
//! domain.md's; the others name what is wrong as plainly.

/// Arguments that do not decode or break a format rule (ids, lengths, lists).
pub const E_BAD_ARGS: &str = "E_BAD_ARGS";
/// The contract has no such method.
pub const E_UNKNOWN_METHOD: &str = "E_UNKNOWN_METHOD";
/// A method that writes was called read-only.
pub const E_READ_ONLY_CALL: &str = "E_READ_ONLY_CALL";
/// The contract was deployed without its configuration.
pub const E_NOT_INITIALISED: &str = "E_NOT_INITIALISED";
/// The signer is not a participant (business actions need one).
pub const E_NOT_A_PARTICIPANT: &str = "E_NOT_A_PARTICIPANT";
/// The caller may not do this (administrative actions, queries of others' records).
pub const E_NOT_AUTHORISED: &str = "E_NOT_AUTHORISED";
/// The party named (or the caller) has not registered with `party.register`.
pub const E_PARTY_UNKNOWN: &str = "E_PARTY_UNKNOWN";
/// The caller registered already.
pub const E_PARTY_EXISTS: &str = "E_PARTY_EXISTS";
/// The action belongs to another party (the holder, the drawer, the counterparty...).
pub const E_WRONG_PARTY: &str = "E_WRONG_PARTY";
/// Both sides of an action are the same party.
pub const E_SAME_PARTY: &str = "E_SAME_PARTY";
/// Not a whole positive number of fen, or too large.
pub const E_AMOUNT_INVALID: &str = "E_AMOUNT_INVALID";
/// Not a date, or dates out of order.
pub const E_DATE_INVALID: &str = "E_DATE_INVALID";
/// A record with this id exists already.
pub const E_DUPLICATE: &str = "E_DUPLICATE";
/// No such order.
pub const E_UNKNOWN_ORDER: &str = "E_UNKNOWN_ORDER";
/// No such invoice.
pub const E_UNKNOWN_INVOICE: &str = "E_UNKNOWN_INVOICE";
/// No such delivery in the order.
pub const E_UNKNOWN_DELIVERY: &str = "E_UNKNOWN_DELIVERY";
/// Deliveries would exceed the order's amount.
pub const E_DELIVERY_EXCEEDS_ORDER: &str = "E_DELIVERY_EXCEEDS_ORDER";
/// The order's status does not allow it.
pub const E_ORDER_STATE: &str = "E_ORDER_STATE";
/// An invoice's parties are not the order's, or not the discount's applicant and predecessor.
pub const E_INVOICE_PARTY_MISMATCH: &str = "E_INVOICE_PARTY_MISMATCH";
/// The invoice's amounts are inconsistent (tax-inclusive below tax-exclusive).
pub const E_INVOICE_AMOUNT: &str = "E_INVOICE_AMOUNT";
/// The check code does not match the invoice's.
pub const E_CHECK_CODE_MISMATCH: &str = "E_CHECK_CODE_MISMATCH";
/// Only banks and notaries verify invoices.
pub const E_NOT_VERIFIER: &str = "E_NOT_VERIFIER";
/// No such bill.
pub const E_UNKNOWN_BILL: &str = "E_UNKNOWN_BILL";
/// The package number is not 30 digits.
pub const E_BILL_NUMBER_INVALID: &str = "E_BILL_NUMBER_INVALID";
/// The due date is not after the issue date.
pub const E_DUE_NOT_AFTER_ISSUE: &str = "E_DUE_NOT_AFTER_ISSUE";
/// The term is over six months.
pub const E_TENOR_EXCEEDS_6M: &str = "E_TENOR_EXCEEDS_6M";
/// The acceptor's kind does not fit the bill type.
pub const E_ACCEPTOR_TYPE_MISMATCH: &str = "E_ACCEPTOR_TYPE_MISMATCH";
/// The bill (or sub-range) is not in a state that allows the action.
pub const E_BILL_STATE: &str = "E_BILL_STATE";
/// The bill is cancelled.
pub const E_BILL_CANCELLED: &str = "E_BILL_CANCELLED";
/// The sub-range is settled.
pub const E_BILL_SETTLED: &str = "E_BILL_SETTLED";
/// Marked not transferable.
pub const E_NOT_TRANSFERABLE: &str = "E_NOT_TRANSFERABLE";
/// The sub-range is pledged.
pub const E_BILL_PLEDGED: &str = "E_BILL_PLEDGED";
/// The bill is frozen.
pub const E_BILL_FROZEN: &str = "E_BILL_FROZEN";
/// A pending request locks the sub-range.
pub const E_BILL_LOCKED: &str = "E_BILL_LOCKED";
/// The sub-range is not inside one holding of the caller.
pub const E_SUBRANGE_NOT_CONTAINED: &str = "E_SUBRANGE_NOT_CONTAINED";
/// A split must start at the holding's first unit.
pub const E_SUBRANGE_START_MISMATCH: &str = "E_SUBRANGE_START_MISMATCH";
/// The bill was issued non-splittable: it moves whole.
pub const E_BILL_NOT_SPLITTABLE: &str = "E_BILL_NOT_SPLITTABLE";
/// On or after the due date (acceptance, delivery, endorsement).
pub const E_BILL_OVERDUE: &str = "E_BILL_OVERDUE";
/// Pledging on or after the due date.
pub const E_PLEDGE_AT_OR_AFTER_DUE: &str = "E_PLEDGE_AT_OR_AFTER_DUE";
/// Discounting on or after the due date.
pub const E_DISCOUNT_AT_OR_AFTER_DUE: &str = "E_DISCOUNT_AT_OR_AFTER_DUE";
/// The discounting party is not a licensed bank.
pub const E_DISCOUNTER_UNLICENSED: &str = "E_DISCOUNTER_UNLICENSED";
/// Rediscount is between banks only.
pub const E_NOT_BANK: &str = "E_NOT_BANK";
/// No order with a confirmed delivery, or no invoices, between the applicant and its predecessor.
pub const E_TRADE_DOCS_MISSING: &str = "E_TRADE_DOCS_MISSING";
/// An invoice is not verified.
pub const E_INVOICE_UNVERIFIED: &str = "E_INVOICE_UNVERIFIED";
/// The invoices' free amount does not cover the discount: the double-financing guard.
pub const E_INVOICE_OVER_OCCUPIED: &str = "E_INVOICE_OVER_OCCUPIED";
/// The discount exceeds the order's amount not yet financed.
pub const E_BILL_EXCEEDS_CONTRACT: &str = "E_BILL_EXCEEDS_CONTRACT";
/// Presentment before the due date.
pub const E_PRESENTMENT_BEFORE_DUE: &str = "E_PRESENTMENT_BEFORE_DUE";
/// A warning, not a refusal: presented more than the grace days after the due date.
pub const W_PRESENTMENT_LATE: &str = "W_PRESENTMENT_LATE";
/// Recourse more than six months after dishonour.
pub const E_RECOURSE_TIME_BARRED: &str = "E_RECOURSE_TIME_BARRED";
/// Recourse against a party that is not earlier in the sub-range's chain.
pub const E_NOT_EARLIER_PARTY: &str = "E_NOT_EARLIER_PARTY";
/// No such request.
pub const E_UNKNOWN_REQUEST: &str = "E_UNKNOWN_REQUEST";
/// The request is answered, withdrawn or expired already.
pub const E_REQUEST_CLOSED: &str = "E_REQUEST_CLOSED";
/// The answer does not fit the request (a discount is approved with `bill.approve_discount`).
pub const E_WRONG_ANSWER: &str = "E_WRONG_ANSWER";
/// No such movement.
pub const E_UNKNOWN_MOVEMENT: &str = "E_UNKNOWN_MOVEMENT";
/// The movement's outcome is known already and differs.
pub const E_MOVEMENT_SETTLED: &str = "E_MOVEMENT_SETTLED";
/// A step waits on a movement whose status is `unknown`.
pub const E_FUNDS_STATUS_UNKNOWN: &str = "E_FUNDS_STATUS_UNKNOWN";
/// The movement is still pending: nothing to reverse or mark yet.
pub const E_FUNDS_PENDING: &str = "E_FUNDS_PENDING";
/// Only the movement's originator may reverse it.
pub const E_REVERSAL_NOT_ORIGINATOR: &str = "E_REVERSAL_NOT_ORIGINATOR";
/// A failed movement moved nothing to reverse.
pub const E_NOTHING_TO_REVERSE: &str = "E_NOTHING_TO_REVERSE";
/// The statement's digest is not that of its lines.
pub const E_STATEMENT_HASH_MISMATCH: &str = "E_STATEMENT_HASH_MISMATCH";
/// The day has one-sided or mismatched movements: it cannot close.
pub const E_RECON_MISMATCH: &str = "E_RECON_MISMATCH";
/// No reconciliation for that bank and day.
pub const E_RECON_MISSING: &str = "E_RECON_MISSING";
/// The day is closed: its reconciliation cannot change.
pub const E_DAY_CLOSED: &str = "E_DAY_CLOSED";
/// The party is blacklisted.
pub const E_BLACKLISTED: &str = "E_BLACKLISTED";
/// A per-party limit would be exceeded.
pub const E_LIMIT_EXCEEDED: &str = "E_LIMIT_EXCEEDED";
/// Too many actions from one key in a short time.
pub const E_BURST: &str = "E_BURST";
/// The text looks like personal data, which never goes on the ledger in plain text.
pub const E_PERSONAL_DATA: &str = "E_PERSONAL_DATA";
