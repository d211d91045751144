"""Domain-separated hashing and the canonical string of signed requests.

``H(domain, data) = SHA-256(len(tag) || tag || data)`` with a one-byte tag
length (docs/encoding.md, "Hashes and signatures"); ed25519 signatures are
over the same ``len(tag) || tag || message``.
"""

from __future__ import annotations

import hashlib
from enum import Enum


class Domain(str, Enum):
    """What a hash or a signature is over, with its tag."""

    TX = "billflow/v1/tx"
    TX_SIGNATURE = "billflow/v1/tx-signature"
    BLOCK_HEADER = "billflow/v1/block-header"
    RECEIPT = "billflow/v1/receipt"
    MERKLE_LEAF = "billflow/v1/merkle-leaf"
    MERKLE_NODE = "billflow/v1/merkle-node"
    MERKLE_EMPTY = "billflow/v1/merkle-empty"
    STATE_CHANGES = "billflow/v1/state-changes"
    STATE_CHAIN = "billflow/v1/state-chain"
    GENESIS = "billflow/v1/genesis"
    GENESIS_SIGNATURE = "billflow/v1/genesis-signature"
    BLOCK_ATTESTATION = "billflow/v1/block-attestation"
    CONTRACT_CODE = "billflow/v1/contract-code"
    API_REQUEST = "billflow/v1/api-request"
    AUDIT_ENTRY = "billflow/v1/audit-entry"
    VOTER_SET = "billflow/v1/voter-set"
    AUDIT_ANCHOR = "billflow/v1/audit-anchor"

    def prefix(self) -> bytes:
        """``len(tag) || tag``: what every hashed or signed message of this domain starts with."""
        tag = self.value.encode("ascii")
        return bytes([len(tag)]) + tag


def domain_hash(domain: Domain, *parts: bytes) -> bytes:
    """``H(domain, parts...)``: SHA-256 over the domain prefix and the concatenated parts."""
    h = hashlib.sha256(domain.prefix())
    for p in parts:
        h.update(p)
    return h.digest()


EMPTY_BODY_SHA256 = hashlib.sha256(b"").hexdigest()


def request_message(method: str, path: str, query: str, timestamp_ms: int, nonce: str, body: bytes) -> bytes:
    """The canonical string of a signed gateway request (docs/api.md, "Signed requests").

    ``METHOD\\nPATH\\nQUERY\\nTIMESTAMP\\nNONCE\\nSHA256HEX(BODY)``: the method in
    upper case, the path and query exactly as sent (percent-encoding and all,
    the query without ``?``), no newline at the end. The signature is over
    ``len(tag) || tag || message`` in :attr:`Domain.API_REQUEST`.
    """
    body_hash = hashlib.sha256(body).hexdigest()
    return f"{method.upper()}\n{path}\n{query}\n{timestamp_ms}\n{nonce}\n{body_hash}".encode()
