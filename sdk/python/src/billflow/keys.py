"""Ed25519 keys from PKCS#8 PEM files, domain-separated signing, and strict verification.

Verification follows ``ed25519_dalek::VerifyingKey::verify_strict``, as the
node does: besides the RFC 8032 check, a public key or signature point of
small order and a non-canonical ``S`` are refused.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .canonical import Domain
from .errors import KeyFileError

# The group order L of ed25519: a canonical S is below it.
_L = 2**252 + 27742317777372353535851937790883648493

# Encodings (sign bit aside) of the y coordinates of the small-order points,
# canonical and not (libsodium's blocklist): 0, 1, the two order-8 points, p-1, p, p+1.
_SMALL_ORDER = [
    bytes(32),
    bytes([1]) + bytes(31),
    bytes.fromhex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"),
    bytes.fromhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"),
    bytes([0xEC]) + b"\xff" * 30 + bytes([0x7F]),
    bytes([0xED]) + b"\xff" * 30 + bytes([0x7F]),
    bytes([0xEE]) + b"\xff" * 30 + bytes([0x7F]),
]


def _small_order(point: bytes) -> bool:
    masked = point[:31] + bytes([point[31] & 0x7F])
    return masked in _SMALL_ORDER


def verify(public_key: bytes, domain: Domain, message: bytes, signature: bytes) -> bool:
    """Whether ``signature`` is ``public_key``'s over ``message`` in ``domain``, strictly."""
    if len(public_key) != 32 or len(signature) != 64:
        return False
    if _small_order(public_key) or _small_order(signature[:32]):
        return False
    if int.from_bytes(signature[32:], "little") >= _L:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, domain.prefix() + message)
    except (InvalidSignature, ValueError):
        return False
    return True


class Key:
    """An ed25519 signing key. Its ``repr`` shows the public key only."""

    __slots__ = ("_private", "public_key")

    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private
        self.public_key: bytes = private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    @classmethod
    def from_pem(cls, pem: bytes | str) -> Key:
        """A key from PKCS#8 PEM text (``-----BEGIN PRIVATE KEY-----``, RFC 8410)."""
        data = pem.encode("ascii") if isinstance(pem, str) else pem
        try:
            private = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError) as e:
            raise KeyFileError(f"not an unencrypted PKCS#8 PEM private key: {e}") from None
        if not isinstance(private, Ed25519PrivateKey):
            raise KeyFileError(f"not an ed25519 key but {type(private).__name__}")
        return cls(private)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> Key:
        """A key from a PKCS#8 PEM file (what ``billflow keys new`` writes)."""
        try:
            data = Path(path).read_bytes()
        except OSError as e:
            raise KeyFileError(f"cannot read the key file {path}: {e.strerror}") from None
        try:
            return cls.from_pem(data)
        except KeyFileError as e:
            raise KeyFileError(f"{path}: {e}") from None

    @classmethod
    def from_seed(cls, seed: bytes) -> Key:
        """A key from its 32-byte seed (tests and worked examples)."""
        if len(seed) != 32:
            raise KeyFileError("an ed25519 seed is 32 bytes")
        return cls(Ed25519PrivateKey.from_private_bytes(seed))

    @classmethod
    def generate(cls) -> Key:
        """A new random key."""
        return cls(Ed25519PrivateKey.generate())

    def to_pem(self) -> bytes:
        """The key as PKCS#8 PEM (store it where only its owner can read it)."""
        return self._private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    @property
    def public_hex(self) -> str:
        """The public key as lower-case hex (what the ledger registers)."""
        return self.public_key.hex()

    def sign(self, domain: Domain, message: bytes) -> bytes:
        """The 64-byte ed25519 signature over ``len(tag) || tag || message``."""
        return self._private.sign(domain.prefix() + message)

    def __repr__(self) -> str:
        return f"Key(public {self.public_hex})"
