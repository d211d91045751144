"""Schemathesis hooks: sign every request to a route that needs a signed request.

Loaded by run.sh through SCHEMATHESIS_HOOKS=hooks. The signature is made on the
prepared request, after schemathesis has serialised the body, so that it covers
exactly the bytes sent (see node/types/src/request.rs):

    message   = METHOD \\n PATH \\n QUERY \\n TIMESTAMP \\n NONCE \\n hex(sha256(body))
    signature = ed25519(len(tag) || tag || message), tag = "billflow/v1/api-request"

The key is the development tenant's, whose seed is public (node/types/src/dev.rs).

Generated transactions would all fail the signature check, so that no request
gets past it. Most well-formed ones are therefore made authentic before they are
sent: named for the development chain and tenant, timed now and signed with the
tenant's key (the signature is ed25519 over the canonical, Borsh, encoding of
the transaction in the `billflow/v1/tx-signature` domain; see
node/types/src/tx.rs and docs/encoding.md). They reach admission, blocks and
receipts, and the chain must stay valid (the test runs `billflow-node verify`).
"""

import hashlib
import os
import re
import secrets
import struct
import time
from urllib.parse import urlsplit

import requests
import schemathesis
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

KEY_ID = os.environ.get("BILLFLOW_KEY_ID", "demo-platform.key1")
SECRET = Ed25519PrivateKey.from_private_bytes(
    hashlib.sha256(f"billflow development key {KEY_ID}".encode()).digest()
)
TENANT = os.environ.get("BILLFLOW_TENANT", "demo-platform")
CHAIN_ID = os.environ.get("BILLFLOW_CHAIN_ID", "billflow-dev")


def domain_prefix(tag: bytes) -> bytes:
    """`len(tag) || tag`: what every signed message of a domain starts with (node/types/src/hash.rs)."""
    return bytes([len(tag)]) + tag


DOMAIN_PREFIX = domain_prefix(b"billflow/v1/api-request")
TX_DOMAIN_PREFIX = domain_prefix(b"billflow/v1/tx-signature")
SYSTEM_METHODS = [
    "register_tenant",
    "register_participant",
    "add_key",
    "revoke_key",
    "freeze_participant",
    "unfreeze_participant",
    "propose_admin",
    "approve_admin",
]
ID = re.compile(r"[A-Za-z0-9._:-]{1,64}\Z")
VERSION = re.compile(r"(0|[1-9][0-9]{0,9})\.(0|[1-9][0-9]{0,9})\.(0|[1-9][0-9]{0,9})\Z")
HEX = re.compile(r"([0-9a-fA-F]{2})*\Z")


def body_bytes(body) -> bytes:
    """The bytes `requests` will send for a prepared body."""
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body)
    if hasattr(body, "read"):
        return body.read()
    return b"".join(body)


class SignedRequest(requests.auth.AuthBase):
    """Adds x-billflow-key, -timestamp, -nonce and -signature to a prepared request."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        body = body_bytes(request.body)
        if request.body is not None and not isinstance(request.body, bytes):
            # Send exactly the bytes that are hashed (a str body would otherwise be encoded later).
            request.body = body
            request.prepare_content_length(body)
        url = urlsplit(request.url)
        timestamp = str(int(time.time() * 1000))
        nonce = secrets.token_hex(16)
        message = "\n".join(
            [request.method.upper(), url.path, url.query, timestamp, nonce, hashlib.sha256(body).hexdigest()]
        ).encode()
        signature = SECRET.sign(DOMAIN_PREFIX + message).hex()
        request.headers["x-billflow-key"] = KEY_ID
        request.headers["x-billflow-timestamp"] = timestamp
        request.headers["x-billflow-nonce"] = nonce
        request.headers["x-billflow-signature"] = signature
        return request


def borsh_str(s: str) -> bytes:
    b = s.encode()
    return struct.pack("<I", len(b)) + b


def encode_tx(tx: dict) -> bytes:
    """The canonical (Borsh) encoding of a `Tx`: its fields in declaration order."""
    out = borsh_str(tx["chain_id"]) + borsh_str(tx["tx_id"])
    out += b"\x00" if tx["tenant"] is None else b"\x01" + borsh_str(tx["tenant"])
    out += borsh_str(tx["signer"]) + borsh_str(tx["contract"])
    out += struct.pack("<III", *(int(p) for p in tx["version"].split(".")))
    out += borsh_str(tx["method"])
    args = bytes.fromhex(tx["args"])
    out += struct.pack("<I", len(args)) + args
    out += struct.pack("<Q", tx["timestamp_ms"])
    return out


def well_formed(tx) -> bool:
    return (
        isinstance(tx, dict)
        and all(isinstance(tx.get(f), str) and ID.match(tx[f]) for f in ("tx_id", "contract", "method"))
        and isinstance(tx.get("version"), str)
        and VERSION.match(tx["version"]) is not None
        and all(int(p) < 2**32 for p in tx["version"].split("."))
        and isinstance(tx.get("args"), str)
        and HEX.match(tx["args"]) is not None
    )


def make_authentic(signed) -> None:
    """Re-signs a generated signed transaction in place, if it is well-formed and picked."""
    if not isinstance(signed, dict) or not well_formed(signed.get("tx")):
        return
    tx = signed["tx"]
    pick = hashlib.sha256(tx["tx_id"].encode()).digest()
    if pick[0] % 8 == 0:
        # Some stay as generated: their signature must be refused, cleanly.
        return
    if pick[1] % 2 == 0:
        # Half call the system contract, which decodes its arguments.
        tx["contract"], tx["version"] = "system", "1.0.0"
        tx["method"] = SYSTEM_METHODS[pick[2] % len(SYSTEM_METHODS)]
    tx["chain_id"], tx["tenant"], tx["signer"] = CHAIN_ID, TENANT, KEY_ID
    tx["timestamp_ms"] = int(time.time() * 1000)
    signed["signature"] = SECRET.sign(TX_DOMAIN_PREFIX + encode_tx(tx)).hex()


def needs_signature(case) -> bool:
    return bool(case.operation.definition.raw.get("security"))


@schemathesis.hook
def before_call(context, case, kwargs):
    # Routes the document marks as signed get a valid signature on every request;
    # public routes are called anonymously, as most clients call them.
    if needs_signature(case):
        kwargs["auth"] = SignedRequest()
    body = case.body
    if case.media_type == "application/json" and isinstance(body, dict):
        if case.operation.path == "/v1/transactions":
            make_authentic(body)
        elif case.operation.path == "/v1/transactions/batch" and isinstance(body.get("txs"), list):
            for signed in body["txs"]:
                make_authentic(signed)
