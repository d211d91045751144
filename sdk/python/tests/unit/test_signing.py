"""Keys, signed requests and transactions against the documented and recorded bytes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from billflow import Domain, Key, KeyFileError, SignedTx, Tx, new_tx_id, request_message
from billflow.keys import verify
from billflow.proof import Genesis

DATA = Path(__file__).parent.parent / "data"


def test_the_worked_example_of_docs_api_md() -> None:
    key = Key.from_seed(bytes([3]) * 32)
    assert key.public_hex == "ed4928c628d1c2c6eae90338905995612959273a5c63f93636c14614ac8737d1"
    message = request_message("get", "/v1/blocks", "limit=2", 1_767_225_600_000, "nonce-0123456789ab", b"")
    assert message == (
        b"GET\n/v1/blocks\nlimit=2\n1767225600000\nnonce-0123456789ab\n"
        b"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )
    assert key.sign(Domain.API_REQUEST, message).hex() == (
        "8d886c99aaff09043d098405d40ac037732ce6d62593d177a14cb974e1e3e56c"
        "9fd90bca3261d8f2e8ff3b82cedaf534e8da450d080bc27a8ccf404567290a0b"
    )
    assert Domain.API_REQUEST.prefix() == b"\x17billflow/v1/api-request"


def test_keys_load_from_pkcs8_pem_and_hide_their_secret(tmp_path: Path) -> None:
    key = Key.generate()
    path = tmp_path / "k.pem"
    path.write_bytes(key.to_pem())
    assert path.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert Key.from_file(path).public_key == key.public_key
    assert key.to_pem().decode() not in repr(key) and key.public_hex in repr(key)
    other = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(KeyFileError, match="not an ed25519 key"):
        Key.from_pem(other)
    with pytest.raises(KeyFileError, match="cannot read"):
        Key.from_file(tmp_path / "missing.pem")


def test_verification_is_strict() -> None:
    key = Key.from_seed(bytes([7]) * 32)
    sig = key.sign(Domain.TX_SIGNATURE, b"hello")
    assert verify(key.public_key, Domain.TX_SIGNATURE, b"hello", sig)
    assert not verify(key.public_key, Domain.BLOCK_HEADER, b"hello", sig)  # another domain
    assert not verify(key.public_key, Domain.TX_SIGNATURE, b"hellp", sig)
    # S + L: the same signature in a non-canonical form.
    s = int.from_bytes(sig[32:], "little") + 2**252 + 27742317777372353535851937790883648493
    assert not verify(key.public_key, Domain.TX_SIGNATURE, b"hello", sig[:32] + s.to_bytes(32, "little"))
    identity = bytes([1]) + bytes(31)  # a small-order (weak) key
    assert not verify(identity, Domain.TX_SIGNATURE, b"hello", identity + bytes(32))


def test_a_recorded_transaction_encodes_hashes_and_verifies_as_the_node_did() -> None:
    proof = json.loads((DATA / "evidence-proof.json").read_text())["submit"]
    signed = SignedTx.from_json(proof["tx"])
    assert signed.hash().hex() == proof["receipt"]["tx_hash"]
    assert SignedTx.decode(signed.encode()) == signed
    assert SignedTx.from_json(signed.to_json()) == signed
    genesis = json.loads((DATA / "genesis.json").read_text())
    tenant_key = {k["key_id"]: k["public_key"] for t in genesis["tenants"] for k in t["keys"]}[signed.tx.signer]
    assert signed.verify(bytes.fromhex(tenant_key))
    assert not signed.verify(Key.generate().public_key)


def test_tx_layout_and_signature_domain() -> None:
    key = Key.from_seed(bytes([3]) * 32)
    tx = Tx("c", "t-1", None, "k", "flows", "1.2.3", "m", b"\xab", 5)
    assert tx.encode() == (
        b"\x01\x00\x00\x00c"
        b"\x03\x00\x00\x00t-1"
        b"\x00"
        b"\x01\x00\x00\x00k"
        b"\x05\x00\x00\x00flows"
        b"\x01\x00\x00\x00\x02\x00\x00\x00\x03\x00\x00\x00"
        b"\x01\x00\x00\x00m"
        b"\x01\x00\x00\x00\xab"
        b"\x05\x00\x00\x00\x00\x00\x00\x00"
    )
    signed = tx.sign(key)
    assert signed.signature == key.sign(Domain.TX_SIGNATURE, tx.encode())
    assert signed.verify(key.public_key)
    with pytest.raises(ValueError, match="tx_id"):
        Tx("c", "has space", None, "k", "flows", "1.0.0", "m", b"", 5)
    with pytest.raises(ValueError, match="version"):
        Tx("c", "t", None, "k", "flows", "1.02.0", "m", b"", 5)


def test_new_ids_never_read_as_personal_data() -> None:
    for _ in range(2000):
        tx_id = new_tx_id("x")
        assert re.fullmatch(r"x-[a-z0-9]{16}", tx_id) and not re.search(r"[0-9]{8}", tx_id)


def test_the_genesis_hash_is_the_chain_identity() -> None:
    genesis = Genesis.load(DATA / "genesis.json")
    document = json.loads((DATA / "genesis.json").read_text())
    genesis.verify_signatures()
    assert genesis.hash() == Genesis.from_json({**document, "signatures": []}).hash()
    changed = Genesis.from_json({**document, "genesis_time_ms": document["genesis_time_ms"] + 1})
    assert changed.hash() != genesis.hash()
    with pytest.raises(Exception, match="does not verify"):
        changed.verify_signatures()
    assert [v.node for v in genesis.voters] == sorted(n["id"] for n in document["nodes"] if n["role"] == "voter")
