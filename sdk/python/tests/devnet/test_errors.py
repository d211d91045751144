"""Bad input and refusals: typed errors with the ledger's codes and statuses."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest

import billflow
from billflow import tx as txmod

pytestmark = pytest.mark.devnet


def test_a_contract_refusal_is_a_failed_transaction_with_its_code(as_: Callable[[str], billflow.Client]) -> None:
    core = as_("91310000MA1FL0001R")
    with pytest.raises(billflow.TransactionFailed) as e:
        core.submit("flows", "bill.sign", {"request": "no-such-request", "reason": ""})
    assert e.value.code == "E_UNKNOWN_REQUEST" and e.value.status == 422
    assert e.value.receipt.height is not None and not e.value.receipt.success


def test_arguments_that_do_not_fit_the_interface_never_leave_the_client(client: billflow.Client) -> None:
    with pytest.raises(billflow.CodecError, match=r"has no method 'bill\.steal'"):
        client.submit("flows", "bill.steal", {})
    with pytest.raises(billflow.CodecError) as e:
        client.submit("flows", "order.create", {"id": "PO-1"})
    assert e.value.path == "args" and "lacks" in str(e.value)
    with pytest.raises(billflow.CodecError, match="is a query"):
        client.submit("flows", "bill.get", {"bill": "x"})


def test_an_unknown_key_is_refused(client: billflow.Client) -> None:
    stranger = client.with_key(billflow.Key.generate(), "nobody.k1")
    with pytest.raises(billflow.AuthenticationError) as e:
        stranger.inbox()
    assert e.value.code == "E_UNKNOWN_KEY" and e.value.status == 401 and e.value.request_id


def test_routes_refuse_keys_of_the_wrong_kind(
    client: billflow.Client, devnet: dict[str, Any], as_: Callable[[str], billflow.Client]
) -> None:
    with pytest.raises(billflow.ForbiddenError) as e:
        client.supervision_events("0-0-0")
    assert e.value.code == "E_NOT_REGULATOR"
    admin = as_(devnet["admin_keys"][0]["owner"])
    with pytest.raises(billflow.ForbiddenError) as e:
        admin.events("0-0-0")
    assert e.value.code == "E_NOT_A_PARTY"
    with pytest.raises(billflow.ForbiddenError):
        admin.event_stream("0-0-0").next(timeout=5)


def test_bad_cursors_and_personal_data_are_refused(client: billflow.Client) -> None:
    with pytest.raises(billflow.CodecError, match="HEIGHT-TX-EVENT"):
        client.events("12-0")
    with pytest.raises(billflow.BadRequestError) as e:
        client.request("GET", "/v1/events", "from=12-0")
    assert e.value.code == "E_BAD_CURSOR" and e.value.status == 400
    with pytest.raises(billflow.BadRequestError) as e:
        client.evidence.submit(os.urandom(16), metadata={"contact": "13812345678"})
    assert e.value.code == "E_PERSONAL_DATA" and "13812345678" not in e.value.message


def test_transaction_envelope_refusals(client: billflow.Client) -> None:
    args = client.interface("evidence").encode_args(
        "submit", {"hash": os.urandom(32).hex(), "doc_type": "document", "metadata": []}
    )
    version = client.active_version("evidence")
    assert client.key is not None and client.key_id is not None
    foreign = txmod.build(
        chain_id="another-chain",
        key=client.key,
        key_id=client.key_id,
        tenant=client.tenant,
        contract="evidence",
        version=version,
        method="submit",
        args=args,
    )
    with pytest.raises(billflow.BadRequestError) as e:
        client.submit_signed(foreign)
    assert e.value.code == "E_WRONG_CHAIN"
    stale = txmod.build(
        chain_id=client.chain_id,
        key=client.key,
        key_id=client.key_id,
        tenant=client.tenant,
        contract="evidence",
        version=version,
        method="submit",
        args=args,
        timestamp_ms=1,
    )
    with pytest.raises(billflow.BadRequestError) as e:
        client.submit_signed(stale)
    assert e.value.code == "E_TX_STALE"
    first = client.sign("evidence", "submit", args, version)
    assert client.submit_signed(first, as_json=True)["status"] == "committed"
    # The same transaction again answers the first result; another one under its id is refused.
    assert client.submit_signed(first)["tx_hash"] == first.hash().hex()
    other_args = client.interface("evidence").encode_args(
        "submit", {"hash": os.urandom(32).hex(), "doc_type": "document", "metadata": []}
    )
    other = client.sign("evidence", "submit", other_args, version, tx_id=first.tx.tx_id)
    with pytest.raises(billflow.ConflictError) as e:
        client.submit_signed(other)
    assert e.value.code == "E_DUPLICATE_TX" and e.value.status == 409
    with pytest.raises(billflow.TransactionFailed) as failed:
        client.submit("evidence", "submit", other_args, version="9.0.0")
    assert failed.value.code == "E_VERSION_MISMATCH"


def test_submissions_move_on_when_a_node_cannot_be_reached(devnet_json: Any, devnet: dict[str, Any]) -> None:
    dead = "https://127.0.0.1:9"  # discard port: nothing listens
    with billflow.Client.from_devnet(devnet_json) as c:
        live = billflow.Client(
            [dead, *c.nodes], ca=devnet["ca_cert"], key=c.key, key_id=c.key_id, tenant=c.tenant, chain_id=c.chain_id
        )
        receipt = live.evidence.submit(os.urandom(40))
        assert receipt.success and live.node != dead
        assert live.query("flows", "party.get", {"id": "bank-a"})["id"] == "bank-a"
        with pytest.raises(billflow.TransportError):
            billflow.Client([dead], ca=devnet["ca_cert"]).health()
