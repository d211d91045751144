"""Transactions: the ``Tx`` envelope, its canonical encoding and its signature.

Layout (docs/encoding.md): ``Tx`` is chain_id, tx_id, tenant (option),
signer, contract, version (three u32), method, args (bytes), timestamp_ms
(u64); ``SignedTx`` is the ``Tx`` and a 64-byte signature. The signer signs
``len(tag) || tag || encoded Tx`` with tag ``billflow/v1/tx-signature``; the
transaction hash is ``H(billflow/v1/tx, encoded SignedTx)``.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

from . import keys
from .borsh import Reader, Writer, check_id
from .canonical import Domain, domain_hash
from .errors import CodecError

_VERSION_PART = re.compile(r"0|[1-9][0-9]{0,9}")


def parse_version(text: str) -> tuple[int, int, int]:
    """``MAJOR.MINOR.PATCH`` as three u32, as the node parses it (no leading zeros)."""
    parts = text.split(".") if isinstance(text, str) else []
    if len(parts) != 3 or not all(_VERSION_PART.fullmatch(p) and int(p) < 1 << 32 for p in parts):
        raise CodecError(f"a version is MAJOR.MINOR.PATCH with decimal numbers, got {text!r:.64}")
    return int(parts[0]), int(parts[1]), int(parts[2])


def now_ms() -> int:
    """The local clock in ms since the Unix epoch."""
    return time.time_ns() // 1_000_000


def new_tx_id(prefix: str = "py") -> str:
    """A fresh transaction id, ``PREFIX-`` and 16 random letters and digits.

    The random part never holds eight digits in a row, so that no id reads as
    a phone, identity or bank card number (which the ledger refuses).
    """
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    while True:
        tail = "".join(secrets.choice(alphabet) for _ in range(16))
        if not re.search(r"[0-9]{8}", tail):
            return check_id(f"{prefix}-{tail}", "tx_id")


@dataclass(frozen=True)
class Tx:
    """A transaction before signing."""

    chain_id: str
    tx_id: str
    tenant: str | None
    signer: str
    contract: str
    version: str
    method: str
    args: bytes
    timestamp_ms: int

    def __post_init__(self) -> None:
        for what in ("chain_id", "tx_id", "signer", "contract", "method"):
            check_id(getattr(self, what), what)
        if self.tenant is not None:
            check_id(self.tenant, "tenant")
        parse_version(self.version)

    def encode(self) -> bytes:
        """The canonical encoding (what the signature covers)."""
        w = Writer().string(self.chain_id).string(self.tx_id).option_string(self.tenant).string(self.signer)
        w.string(self.contract)
        for part in parse_version(self.version):
            w.u32(part)
        return w.string(self.method).bytes_(self.args).u64(self.timestamp_ms).getvalue()

    @classmethod
    def read(cls, r: Reader) -> Tx:
        """Reads one ``Tx`` (validating its identifiers)."""
        chain_id, tx_id, tenant, signer, contract = r.string(), r.string(), r.option_string(), r.string(), r.string()
        version = f"{r.u32()}.{r.u32()}.{r.u32()}"
        return cls(chain_id, tx_id, tenant, signer, contract, version, r.string(), r.bytes_(), r.u64())

    def sign(self, key: keys.Key) -> SignedTx:
        """Signs in the ``billflow/v1/tx-signature`` domain."""
        return SignedTx(self, key.sign(Domain.TX_SIGNATURE, self.encode()))

    def to_json(self) -> dict[str, Any]:
        """The JSON form the gateway reads (args as lower-case hex)."""
        return {
            "chain_id": self.chain_id,
            "tx_id": self.tx_id,
            "tenant": self.tenant,
            "signer": self.signer,
            "contract": self.contract,
            "version": self.version,
            "method": self.method,
            "args": self.args.hex(),
            "timestamp_ms": self.timestamp_ms,
        }

    @classmethod
    def from_json(cls, j: dict[str, Any]) -> Tx:
        try:
            return cls(
                j["chain_id"],
                j["tx_id"],
                j.get("tenant"),
                j["signer"],
                j["contract"],
                j["version"],
                j["method"],
                _hex(j["args"], None, "args"),
                _uint(j["timestamp_ms"], 8, "timestamp_ms"),
            )
        except KeyError as e:
            raise CodecError(f"a transaction lacks {e}") from None


@dataclass(frozen=True)
class SignedTx:
    """A transaction with its signer's signature."""

    tx: Tx
    signature: bytes

    def encode(self) -> bytes:
        """The canonical encoding (``POST /v1/transactions`` as ``application/octet-stream``)."""
        return self.tx.encode() + self.signature

    @classmethod
    def read(cls, r: Reader) -> SignedTx:
        return cls(Tx.read(r), r.take(64))

    @classmethod
    def decode(cls, data: bytes) -> SignedTx:
        """Decodes the canonical bytes strictly."""
        r = Reader(data)
        tx = cls.read(r)
        r.finish()
        return tx

    def hash(self) -> bytes:
        """The transaction hash: its identity in blocks and proofs."""
        return domain_hash(Domain.TX, self.encode())

    def verify(self, public_key: bytes) -> bool:
        """Whether the signature is ``public_key``'s over this transaction."""
        return keys.verify(public_key, Domain.TX_SIGNATURE, self.tx.encode(), self.signature)

    def to_json(self) -> dict[str, Any]:
        """The JSON form (``POST /v1/transactions`` as ``application/json``)."""
        return {"tx": self.tx.to_json(), "signature": self.signature.hex()}

    @classmethod
    def from_json(cls, j: dict[str, Any]) -> SignedTx:
        try:
            return cls(Tx.from_json(j["tx"]), _hex(j["signature"], 64, "signature"))
        except (KeyError, TypeError) as e:
            raise CodecError(f"not a signed transaction: {e}") from None


def build(
    *,
    chain_id: str,
    key: keys.Key,
    key_id: str,
    tenant: str | None,
    contract: str,
    version: str,
    method: str,
    args: bytes,
    tx_id: str | None = None,
    timestamp_ms: int | None = None,
) -> SignedTx:
    """A signed transaction (a fresh id and the current time unless given)."""
    tx = Tx(
        chain_id=chain_id,
        tx_id=tx_id or new_tx_id(),
        tenant=tenant,
        signer=key_id,
        contract=contract,
        version=version,
        method=method,
        args=bytes(args),
        timestamp_ms=now_ms() if timestamp_ms is None else timestamp_ms,
    )
    return tx.sign(key)


def _hex(value: Any, length: int | None, what: str) -> bytes:
    if not isinstance(value, str) or not re.fullmatch(r"([0-9a-fA-F]{2})*", value):
        raise CodecError(f"{what} is not hex: {value!r:.80}")
    raw = bytes.fromhex(value)
    if length is not None and len(raw) != length:
        raise CodecError(f"{what} is {len(raw)} bytes, not {length}")
    return raw


def _uint(value: Any, size: int, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 1 << (8 * size):
        raise CodecError(f"{what} is not a u{8 * size}: {value!r:.40}")
    return value


__all__ = ["SignedTx", "Tx", "build", "new_tx_id", "now_ms", "parse_version"]
