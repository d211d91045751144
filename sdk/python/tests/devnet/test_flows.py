"""A bill's life on a real devnet, with the JSON arguments encoded by the
contracts' interfaces: a new enterprise registers, an order is delivered and
invoiced, a bill is issued, accepted and delivered, discounted instantly by a
bank's policy and disbursed; the bill is read with its history, and the
parties' events are followed on their streams."""

from __future__ import annotations

import datetime as dt
import os
import secrets
from collections.abc import Callable
from typing import Any

import pytest

import billflow
from billflow import flows

pytestmark = pytest.mark.devnet

CORE = "91310000MA1FL0001R"
BANK = "bank-a"
YUAN = 100  # fen


def day(offset: int) -> dict[str, int]:
    """A business day (Beijing time, as the flows contract counts) ``offset`` days from today."""
    today = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=8)).date()
    return flows.date(today + dt.timedelta(days=offset))


def digits(n: int) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(n))


class Story:
    """What the scenario made, shared by the tests of this module in order."""

    supplier: str
    supplier_client: billflow.Client
    order: str
    invoice: dict[str, str]
    bill: str
    discount: str
    receipts: list[billflow.Receipt]
    own: set[str]
    """The ids of the supplier's own transactions."""


@pytest.fixture(scope="module")
def story() -> Story:
    s = Story()
    s.receipts, s.own = [], set()
    return s


def test_a_new_enterprise_registers_as_participant_and_party(
    client: billflow.Client, devnet: dict[str, Any], story: Story
) -> None:
    body = "91320500MA" + "".join(secrets.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(7))
    story.supplier = body + flows.credit_code_check_char(body)
    key = billflow.Key.generate()
    key_id = f"{story.supplier}.k1"
    # Registering a participant is a system call by its tenant platform.
    receipt = client.submit(
        "system",
        "register_participant",
        {
            "participant": story.supplier,
            "kind": "Enterprise",
            "name": "Python Supplier Co.",
            "keys": [{"key_id": key_id, "public_key": key.public_hex}],
        },
    )
    assert receipt.success and receipt.event("participant.registered") is not None
    assert receipt.event("participant.registered").decoded["id"] == story.supplier  # type: ignore[union-attr]
    story.supplier_client = client.with_key(key, key_id, tenant=client.tenant)
    account = flows.account(BANK, "6222021001" + digits(6), os.urandom(16))
    receipt = story.supplier_client.submit(
        "flows", "party.register", {"account": account, "city": "Suzhou", "finance_company": False}
    )
    story.receipts.append(receipt)
    story.own.add(receipt.tx_id)
    party = story.supplier_client.query("flows", "party.get", {"id": story.supplier})
    assert party["id"] == story.supplier and party["kind"] == "Enterprise"
    assert party["account"]["masked"] == account["masked"] and party["tenant"] == client.tenant


def test_order_delivery_and_invoice(as_: Callable[[str], billflow.Client], story: Story) -> None:
    core, supplier, bank = as_(CORE), story.supplier_client, as_(BANK)
    story.order = f"PO-PY-{secrets.token_hex(4)}"
    amount = 300_000 * YUAN
    steps = [
        (
            core,
            "order.create",
            {"id": story.order, "seller": story.supplier, "amount": amount, "date": day(-20), "evidence": None},
        ),
        (
            supplier,
            "order.deliver",
            {"order": story.order, "delivery": "DN-1", "amount": amount, "date": day(-10), "evidence": None},
        ),
        (core, "order.confirm_delivery", {"order": story.order, "delivery": "DN-1"}),
    ]
    check_code = digits(20)
    story.invoice = {"code": "3100231130", "number": digits(8)}
    steps += [
        (
            supplier,
            "invoice.record",
            {
                "key": story.invoice,
                "order": story.order,
                "date": day(-9),
                "amount_ex_tax": 26_548_673,
                "amount_inc_tax": amount,
                "seller": story.supplier,
                "buyer": CORE,
                "check_code": check_code,
                "evidence": None,
            },
        ),
        (bank, "invoice.verify", {"key": story.invoice, "check_code": check_code[14:]}),
    ]
    for who, method, args in steps:
        story.receipts.append(who.submit("flows", method, args))
        if who is supplier:
            story.own.add(story.receipts[-1].tx_id)
    order = core.query("flows", "order.get", {"id": story.order})
    assert order["status"] == "Delivered" and order["invoices"] == [story.invoice]
    invoice = supplier.query("flows", "invoice.get", story.invoice)
    assert invoice["verified_by"] == BANK


def test_bill_issue_acceptance_and_delivery(as_: Callable[[str], billflow.Client], story: Story) -> None:
    core, supplier = as_(CORE), story.supplier_client
    story.bill = "5301" + digits(26)
    issued = core.submit(
        "flows",
        "bill.issue",
        {
            "number": story.bill,
            "kind": "SupplyChain",
            "amount": 200_000 * YUAN,
            "issue_date": day(0),
            "due_date": day(80),
            "acceptor": CORE,
            "payee": story.supplier,
            "splittable": True,
            "non_transferable": False,
            "evidence": None,
        },
    )
    request = core.submit("flows", "bill.request_acceptance", {"bill": story.bill})
    # The acceptor's inbox holds the request until it answers.
    waiting = core.inbox()["requests"]
    assert any(r["id"] == request.tx_id and r["kind"] == "acceptance" for r in waiting)
    signed = core.submit("flows", "bill.sign", {"request": request.tx_id, "reason": ""})
    delivery = core.submit("flows", "bill.request_delivery", {"bill": story.bill})
    assert any(r["id"] == delivery.tx_id for r in supplier.inbox()["requests"])
    received = supplier.submit("flows", "bill.sign", {"request": delivery.tx_id, "reason": ""})
    story.receipts += [issued, request, signed, delivery, received]
    story.own.add(received.tx_id)
    # The node decodes receipt events too: it agrees with the SDK.
    for r in story.receipts:
        assert r.view["decoded_events"] == [e.decoded for e in r.events]
        assert all(e.decoded is not None for e in r.events)


def test_an_instant_discount_is_approved_by_the_banks_policy_and_disbursed(
    as_: Callable[[str], billflow.Client], story: Story
) -> None:
    bank, supplier = as_(BANK), story.supplier_client
    bank.submit(
        "flows",
        "bill.set_policy",
        {
            "enabled": True,
            "acceptors": [CORE],
            "max_amount": 2_000_000 * YUAN,
            "rates": [{"max_days": 90, "rate": 13_500}, {"max_days": 184, "rate": 15_000}],
            "daily_limit_per_enterprise": 0,
        },
    )
    assert bank.query("flows", "bill.policy", {"id": BANK})["enabled"] is True
    request = supplier.submit(
        "flows",
        "bill.request_discount",
        {
            "range": {"bill": story.bill, "start": 1, "end": 50_000 * YUAN},
            "bank": BANK,
            "order": story.order,
            "invoices": [story.invoice],
        },
    )
    story.discount = request.tx_id
    story.receipts.append(request)
    story.own.add(request.tx_id)
    # Approved at once: the disbursement waits in the bank's inbox, not the request.
    movements = bank.inbox()["movements"]
    assert any(m["request_id"] == f"{request.tx_id}.disb" and m["kind"] == "disbursement" for m in movements)
    assert not any(r["id"] == request.tx_id for r in bank.inbox()["requests"])
    report = bank.submit(
        "flows",
        "fund.report",
        {"request_id": f"{request.tx_id}.disb", "outcome": {"Success": {"bank_serial": f"BA-{digits(6)}"}}},
    )
    story.receipts.append(report)
    movement = bank.query("flows", "fund.movement", {"id": f"{request.tx_id}.disb"})
    assert movement is not None and movement["amount"] > 0


def test_the_bill_reads_with_its_holders_and_history(story: Story) -> None:
    view = story.supplier_client.query("flows", "bill.get", {"bill": story.bill})
    holders = {(h["start"], h["end"]): h["holder"] for h in view["bill"]["holdings"]}
    assert holders == {(1, 50_000 * YUAN): BANK, (50_000 * YUAN + 1, 200_000 * YUAN): story.supplier}
    actions = [h["action"] for h in view["history"]]
    assert actions == [
        "issued",
        "acceptance_requested",
        "accepted",
        "delivery_requested",
        "received",
        "discount_requested",
        "discount_approved",
        "discounted",
    ]
    (disbursement,) = view["movements"]
    assert disbursement["request_id"] == f"{story.discount}.disb" and disbursement["status"] == "Success"
    assert disbursement["credit"]["owner"] == story.supplier and 0 < disbursement["amount"] < 50_000 * YUAN
    assert view["orders"] == [story.order] and view["invoices"] == [story.invoice]
    with pytest.raises(billflow.ContractError) as e:
        story.supplier_client.query("flows", "bill.get", {"bill": "5301" + digits(26)})
    assert e.value.code == "E_UNKNOWN_BILL" and e.value.status == 422


def test_the_party_follows_its_events_page_by_page_and_on_the_stream(story: Story) -> None:
    supplier = story.supplier_client
    paged = list(supplier.iter_events("0-0-0"))
    # Its own transactions' events, and those naming it (an order it sells, an invoice it issued, ...).
    own = {r.tx_id for r in story.receipts if r.events and r.view["tx_id"] in story.own}
    assert own and own <= {e.tx_id for e in paged}
    raw = supplier.request("GET", "/v1/events", "from=0-0-0")["events"]
    assert [e["decoded"] for e in raw] == [e.decoded for e in paged[: len(raw)]]
    cursors = [e.cursor for e in paged]
    assert len(cursors) == len(set(cursors)) and [e.position for e in paged] == sorted(e.position for e in paged)
    # From a cursor in the middle, the stream yields exactly what follows it.
    middle = len(paged) // 2
    with supplier.event_stream(from_=paged[middle].cursor) as stream:
        got = [stream.next(timeout=20) for _ in paged[middle + 1 :]]
        assert [e.cursor for e in got if e] == cursors[middle + 1 :]
        assert stream.next(timeout=1) is None
        # Live: a new event arrives; after the connection is dropped, the
        # stream resumes from its last cursor and yields nothing twice.
        first = supplier.evidence.submit(os.urandom(32), doc_type="delivery_note")
        event = stream.next(timeout=20)
        assert event is not None and event.tx_id == first.tx_id and event.topic == "evidence.submitted"
        assert event.decoded["doc_type"] == "delivery_note"
        stream.close()
        second = supplier.evidence.submit(os.urandom(32))
        event = stream.next(timeout=20)
        assert event is not None and event.tx_id == second.tx_id
        assert stream.next(timeout=1) is None


def test_a_regulator_supervises_the_bill_flow(
    as_: Callable[[str], billflow.Client], devnet: dict[str, Any], story: Story
) -> None:
    regulator = as_(devnet["regulator_keys"][0]["owner"])
    page = regulator.supervision_events("0-0-0", types=["bill."], participant=story.supplier)
    assert page.events and all(e.topic.startswith("bill.") for e in page.events)
    with regulator.supervise(from_="0-0-0", types=["bill."], participant=story.supplier) as stream:
        streamed = [stream.next(timeout=20) for _ in page.events]
    assert [e.cursor for e in streamed if e] == [e.cursor for e in page.events]
