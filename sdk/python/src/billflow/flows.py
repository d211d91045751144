"""Helpers for the flows contract's arguments that must be computed on the client.

Only what the ledger must never see stays here: a settlement account number
is masked and hashed with a salt kept by its owner (``flows::account`` of
the Rust SDK); enterprises are keyed by their unified social credit code.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from .errors import CodecError

CONTRACT = "flows"

_CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def account(bank: str, number: str, salt: bytes) -> dict[str, Any]:
    """A settlement account as ``party.register`` takes it (the JSON of ``Account``).

    Only the masked number (``6222****0202``) and ``SHA-256(salt || number)``
    reach the ledger; keep ``salt`` (at least 16 bytes) to prove the number later.
    """
    if not number.isascii() or not number.isdigit():
        raise CodecError("an account number is digits only (no spaces, letters or dashes)")
    if not 8 <= len(number) <= 32:
        raise CodecError(f"an account number has 8 to 32 digits, this one {len(number)}")
    if len(salt) < 16:
        raise CodecError("the account salt must be at least 16 bytes")
    shown = min((len(number) - 4) // 2, 4)
    masked = f"{number[:shown]}****{number[len(number) - shown :]}"
    return {"bank": bank, "masked": masked, "number_hash": hashlib.sha256(salt + number.encode()).hexdigest()}


def credit_code_check_char(body: str) -> str:
    """The check character of a 17-character unified social credit code body."""
    if len(body) != 17 or any(c not in _CREDIT_CHARS for c in body):
        raise CodecError(f"a credit code body is 17 of {_CREDIT_CHARS}")
    total = sum(_CREDIT_CHARS.index(c) * w for c, w in zip(body, _CREDIT_WEIGHTS, strict=True))
    return _CREDIT_CHARS[(31 - total % 31) % 31]


def is_credit_code(code: str) -> bool:
    """Whether ``code`` is an 18-character unified social credit code with the right check character."""
    try:
        return len(code) == 18 and credit_code_check_char(code[:17]) == code[17]
    except CodecError:
        return False


def fen(yuan: str | int | Decimal) -> int:
    """An amount of yuan (``"1,000,000.50"``) as whole fen; fractions of a fen are refused."""
    text = yuan.replace(",", "") if isinstance(yuan, str) else str(yuan)
    if isinstance(yuan, str) and not re.fullmatch(r"[0-9]+(\.[0-9]{1,2})?", text):
        raise CodecError(f"an amount is yuan with at most two decimals, got {yuan!r}")
    try:
        value = Decimal(text) * 100
    except InvalidOperation:
        raise CodecError(f"not an amount: {yuan!r}") from None
    if value != value.to_integral_value() or value <= 0:
        raise CodecError(f"an amount is a positive whole number of fen, got {yuan!r}")
    return int(value)


def date(day: _dt.date) -> dict[str, int]:
    """A calendar date as the flows contract's ``Date`` JSON (``{"year", "month", "day"}``)."""
    return {"year": day.year, "month": day.month, "day": day.day}
