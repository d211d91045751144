"""The SDK's encoder against the node's, for sample arguments of every method of
every contract (``POST /v1/contracts/{name}/encode/{method}``)."""

from __future__ import annotations

from typing import Any

import pytest

import billflow

pytestmark = pytest.mark.devnet

CONTRACTS = ("flows", "evidence", "system")


def sample(iface: billflow.Interface, name: str, choice: int, depth: int = 0) -> Any:
    """A value of type ``name``; ``choice`` picks enum variants, option presence and sizes."""
    d = iface.types[name]
    kind = d["kind"]
    if kind == "unit":
        return None
    if kind == "bool":
        return choice % 2 == 0
    if kind == "int":
        n = (choice * 37 + 5) % 100 + 1
        if d["signed"] and choice % 2:
            n = -n
        if d["bytes"] == 16:
            return str(2**70 + n)  # beyond 64 bits: a decimal string
        if d["bytes"] == 8 and choice % 3 == 2:
            return str(n)  # decimal strings are taken for 64 bits too
        return n
    if kind == "string":
        return f"sample-{choice}-中"
    if kind == "bytes":
        return "ab01" * (choice % 3)
    if kind == "fixed_bytes":
        return bytes([choice % 256]).hex() * d["length"]
    if kind == "option":
        return None if choice % 2 or depth > 6 else sample(iface, d["type"], choice, depth + 1)
    if kind == "vec":
        return [] if depth > 6 else [sample(iface, d["type"], choice + i, depth + 1) for i in range(1 + choice % 2)]
    if kind == "array":
        return [sample(iface, d["type"], choice, depth + 1) for _ in range(d["length"])]
    if kind == "tuple":
        return [sample(iface, t, choice, depth + 1) for t in d["types"]]
    if kind == "struct":
        return {f["name"]: sample(iface, f["type"], choice, depth + 1) for f in d["fields"]}
    if kind == "newtype":
        return sample(iface, d["type"], choice, depth)
    variants = d["variants"]
    v = variants[choice % len(variants)]
    return v["name"] if v.get("type") is None else {v["name"]: sample(iface, v["type"], choice, depth + 1)}


def variant_count(iface: billflow.Interface, name: str, seen: frozenset[str] = frozenset()) -> int:
    if name in seen:
        return 1
    d, inner = iface.types[name], seen | {name}
    kids = [d["type"]] if "type" in d else d.get("types", []) + [f["type"] for f in d.get("fields", [])]
    kids += [v["type"] for v in d.get("variants", []) if v.get("type")]
    return max([len(d.get("variants", []))] + [variant_count(iface, k, inner) for k in kids] + [1])


@pytest.mark.parametrize("contract", CONTRACTS)
def test_every_method_encodes_as_the_node_does(client: billflow.Client, contract: str) -> None:
    iface = client.interface(contract)
    assert iface.contract == contract and iface.methods
    checked = 0
    for method in iface.methods.values():
        for choice in range(max(3, variant_count(iface, method.args))):
            args = sample(iface, method.args, choice)
            ours = iface.encode_args(method.name, args)
            assert ours == client.node_encode(contract, method.name, args), (contract, method.name, args)
            assert iface.encode(method.args, iface.decode_args(method.name, ours)) == ours
            checked += 1
    assert checked >= len(iface.methods) * 3


def test_the_node_refuses_what_the_sdk_refuses(client: billflow.Client) -> None:
    iface = client.interface("flows")
    bad = {"bill": 7}
    with pytest.raises(billflow.CodecError) as ours:
        iface.encode_args("bill.request_acceptance", bad)
    assert ours.value.path == "args.bill"
    with pytest.raises(billflow.LedgerError) as theirs:
        client.node_encode("flows", "bill.request_acceptance", bad)
    assert theirs.value.status == 400


def shape(iface: billflow.Interface, name: str) -> Any:
    """A type's structure with its names resolved (newtypes are transparent)."""
    d = iface.types[name]
    kind = d["kind"]
    if kind == "newtype":
        return shape(iface, d["type"])
    if kind in ("option", "vec"):
        return (kind, shape(iface, d["type"]))
    if kind == "array":
        return (kind, d["length"], shape(iface, d["type"]))
    if kind == "tuple":
        return (kind, tuple(shape(iface, t) for t in d["types"]))
    if kind == "struct":
        return (kind, tuple((f["name"], shape(iface, f["type"])) for f in d["fields"]))
    if kind == "enum":
        return (kind, tuple((v["name"], v["index"], v["type"] and shape(iface, v["type"])) for v in d["variants"]))
    return (kind, d.get("bytes"), d.get("signed"), d.get("length"))


def test_the_sdks_own_evidence_types_are_the_contracts(client: billflow.Client) -> None:
    """The offline proof check decodes with the SDK's copy of the evidence types: it must match."""
    node = client.interface("evidence")
    own = billflow.evidence.builtin_interface()
    for method in ("submit", "cosign"):
        assert shape(own, own.method(method).args) == shape(node, node.method(method).args)
    for topic, data in own.events.items():
        assert shape(own, data) == shape(node, node.events[topic])
    assert shape(own, "EvidenceRecord") == shape(node, node.method("get").result)[1]
