"""Low-level canonical (Borsh 1.x) writing and strict reading.

The rules of docs/encoding.md: little-endian fixed-width integers, ``u32``
lengths before strings, byte strings and sequences, one byte for ``bool``
(0 or 1) and for option and enum tags. Reading is strict: truncation,
trailing bytes, bad UTF-8 and out-of-range tags are errors, never guesses.
"""

from __future__ import annotations

import re

from .errors import CodecError

_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def check_id(value: str, what: str = "identifier") -> str:
    """``value`` if it is a valid identifier (1 to 64 of ``A-Z a-z 0-9 . _ : -``)."""
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise CodecError(f"{what} must be 1 to 64 characters of A-Z a-z 0-9 . _ : -, got {value!r:.80}")
    return value


class Writer:
    """Appends canonical encodings to a buffer."""

    def __init__(self) -> None:
        self._out = bytearray()

    def getvalue(self) -> bytes:
        """What was written."""
        return bytes(self._out)

    def raw(self, data: bytes) -> Writer:
        """Bytes as they are (fixed arrays)."""
        self._out += data
        return self

    def uint(self, value: int, size: int) -> Writer:
        """An unsigned integer of ``size`` bytes."""
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 1 << (8 * size):
            raise CodecError(f"{value!r} is not a u{8 * size}")
        self._out += value.to_bytes(size, "little")
        return self

    def u8(self, value: int) -> Writer:
        return self.uint(value, 1)

    def u32(self, value: int) -> Writer:
        return self.uint(value, 4)

    def u64(self, value: int) -> Writer:
        return self.uint(value, 8)

    def boolean(self, value: bool) -> Writer:
        return self.u8(1 if value else 0)

    def bytes_(self, data: bytes) -> Writer:
        """A length-prefixed byte string."""
        self.u32(len(data))
        self._out += data
        return self

    def string(self, value: str) -> Writer:
        """A length-prefixed UTF-8 string."""
        try:
            return self.bytes_(value.encode("utf-8"))
        except UnicodeEncodeError as e:
            raise CodecError(f"not encodable as UTF-8: {e}") from None

    def option_string(self, value: str | None) -> Writer:
        if value is None:
            return self.u8(0)
        return self.u8(1).string(value)


class Reader:
    """Reads canonical encodings from bytes, strictly."""

    def __init__(self, data: bytes) -> None:
        self._data = memoryview(bytes(data))
        self._pos = 0

    def take(self, n: int) -> bytes:
        """The next ``n`` bytes."""
        if n < 0 or self._pos + n > len(self._data):
            raise CodecError(f"truncated: {n} bytes wanted at offset {self._pos}, {len(self._data) - self._pos} left")
        out = bytes(self._data[self._pos : self._pos + n])
        self._pos += n
        return out

    def uint(self, size: int) -> int:
        return int.from_bytes(self.take(size), "little")

    def u8(self) -> int:
        return self.uint(1)

    def u32(self) -> int:
        return self.uint(4)

    def u64(self) -> int:
        return self.uint(8)

    def boolean(self) -> bool:
        b = self.u8()
        if b > 1:
            raise CodecError(f"a bool is 0 or 1, got {b}")
        return b == 1

    def bytes_(self) -> bytes:
        return self.take(self.u32())

    def string(self) -> str:
        raw = self.bytes_()
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise CodecError(f"a string is not UTF-8: {e}") from None

    def option_tag(self) -> bool:
        tag = self.u8()
        if tag > 1:
            raise CodecError(f"an option tag is 0 or 1, got {tag}")
        return tag == 1

    def option_string(self) -> str | None:
        return self.string() if self.option_tag() else None

    def remaining(self) -> int:
        return len(self._data) - self._pos

    def finish(self) -> None:
        """Refuses trailing bytes."""
        if self.remaining():
            raise CodecError(f"{self.remaining()} trailing bytes")
