"""Contract arguments, results and events between JSON values and canonical bytes.

A contract's interface document (``GET /v1/contracts/{name}/interface``) names
each method's argument and result types and each event topic's data type, and
defines every type it uses. :class:`Interface` encodes a JSON value (Python
``dict``/``list``/``str``/``int``/``bool``/``None``) to a type's canonical
(Borsh) bytes and decodes bytes back to the JSON value, strictly:

=================================  ====================================  ==========================================
definition                         canonical bytes                       JSON value
=================================  ====================================  ==========================================
``unit``                           nothing                               ``None``
``bool``                           one byte, 0 or 1                      ``True`` / ``False``
``int`` (bytes N, signed S)        N bytes little-endian                 ``int`` (for N >= 8 a decimal ``str`` too)
``string``                         u32 length, UTF-8                     ``str``
``bytes``                          u32 length, bytes                     lower-case hex ``str`` (``bytes`` too)
``fixed_bytes`` (length N)         N bytes                               lower-case hex, 2N digits (``bytes`` too)
``option`` (type T)                0, or 1 then T                        ``None`` or T's value
``vec`` (type T)                   u32 count, items                      ``list``
``array`` (length N, type T)       N items                               ``list`` of N
``tuple`` (types)                  each in order                         ``list``
``struct`` (fields)                fields in order                       ``dict`` with exactly those keys
``newtype`` (type T)               as T                                  as T
``enum`` (variants)                index byte, then the variant's data   ``"V"``, or ``{"V": data}``
=================================  ====================================  ==========================================

Decoding refuses truncation, trailing bytes, bad UTF-8, unknown option and
enum tags: never a guess.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .borsh import Reader, Writer
from .errors import CodecError

_KINDS = {
    "unit",
    "bool",
    "int",
    "string",
    "bytes",
    "fixed_bytes",
    "option",
    "vec",
    "array",
    "tuple",
    "struct",
    "newtype",
    "enum",
}
_DECIMAL = re.compile(r"-?(0|[1-9][0-9]*)")
_HEX = re.compile(r"([0-9a-f]{2})*")
_MAX_DEPTH = 64


@dataclass(frozen=True)
class Method:
    """One method of a contract."""

    name: str
    kind: str
    """``write`` (a transaction) or ``query``."""
    args: str
    """The argument type's name."""
    result: str
    """The result type's name."""


class Interface:
    """A contract's interface document, ready to encode and decode with."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        try:
            self.contract: str = str(document["contract"])
            self.version: str = str(document["version"])
            self.methods: dict[str, Method] = {
                m["name"]: Method(m["name"], m["kind"], m["args"], m["result"]) for m in document["methods"]
            }
            self.events: dict[str, str] = {e["topic"]: e["data"] for e in document.get("events", [])}
            self.types: dict[str, Mapping[str, Any]] = dict(document["types"])
        except (KeyError, TypeError) as e:
            raise CodecError(f"not an interface document: missing or misshapen {e}") from None
        self.document = document
        self._check()

    def _check(self) -> None:
        """Every definition is of a known kind and every type named is defined."""

        def need(name: Any, where: str) -> None:
            if not isinstance(name, str) or name not in self.types:
                raise CodecError(f"the interface of {self.contract} uses type {name!r} ({where}) without defining it")

        for m in self.methods.values():
            need(m.args, f"arguments of {m.name}")
            need(m.result, f"result of {m.name}")
        for topic, t in self.events.items():
            need(t, f"event {topic}")
        for name, d in self.types.items():
            if not isinstance(d, Mapping) or not isinstance(d.get("kind"), str):
                raise CodecError(f"type {name!r} of {self.contract} has no kind")
            kind = d["kind"]
            if kind not in _KINDS:
                continue  # a kind of a later format: refused where a value of it is met, not before
            if kind in ("option", "vec", "array", "newtype"):
                need(d.get("type"), name)
            elif kind == "tuple":
                for t in d["types"]:
                    need(t, name)
            elif kind == "struct":
                for f in d["fields"]:
                    need(f["type"], f"{name}.{f['name']}")
            elif kind == "enum":
                indexes = [v["index"] for v in d["variants"]]
                if len(set(indexes)) != len(indexes) or not all(0 <= i < 256 for i in indexes):
                    raise CodecError(f"enum {name!r} of {self.contract} has repeated or out-of-range indexes")
                for v in d["variants"]:
                    if v.get("type") is not None:
                        need(v["type"], f"{name}::{v['name']}")
            elif kind == "int" and (d.get("bytes") not in (1, 2, 4, 8, 16) or not isinstance(d.get("signed"), bool)):
                raise CodecError(f"int type {name!r} of {self.contract} is not 1, 2, 4, 8 or 16 bytes, signed or not")

    # ---- methods and events ----

    def method(self, name: str) -> Method:
        """The method ``name``, or :class:`CodecError` naming the ones there are."""
        try:
            return self.methods[name]
        except KeyError:
            raise CodecError(
                f"contract {self.contract} {self.version} has no method {name!r} (it has {', '.join(self.methods)})"
            ) from None

    def encode_args(self, method: str, args: Any) -> bytes:
        """The canonical bytes of ``method``'s arguments given as a JSON value."""
        return self.encode(self.method(method).args, args, path="args")

    def decode_args(self, method: str, data: bytes) -> Any:
        """``method``'s arguments from their canonical bytes."""
        return self.decode(self.method(method).args, data)

    def decode_result(self, method: str, data: bytes) -> Any:
        """``method``'s result from its canonical bytes."""
        return self.decode(self.method(method).result, data)

    def decode_event(self, topic: str, data: bytes) -> Any:
        """An event's data (``None`` when the interface does not name the topic is :class:`CodecError`)."""
        if topic not in self.events:
            raise CodecError(f"contract {self.contract} names no event {topic!r}")
        return self.decode(self.events[topic], data)

    # ---- types ----

    def encode(self, type_name: str, value: Any, path: str = "value") -> bytes:
        """The canonical bytes of ``value`` as type ``type_name``."""
        w = Writer()
        self._encode(type_name, value, w, path)
        return w.getvalue()

    def decode(self, type_name: str, data: bytes) -> Any:
        """The JSON value of type ``type_name`` encoded in ``data`` (all of it)."""
        r = Reader(data)
        value = self._decode(type_name, r, type_name)
        try:
            r.finish()
        except CodecError as e:
            raise CodecError(str(e), type_name) from None
        return value

    def _definition(self, name: str, path: str) -> Mapping[str, Any]:
        try:
            d = self.types[name]
        except KeyError:
            raise CodecError(f"type {name!r} is not defined by the interface of {self.contract}", path) from None
        if d["kind"] not in _KINDS:
            raise CodecError(f"type {name!r} is of kind {d['kind']!r}, which this SDK does not know: upgrade it", path)
        return d

    def _encode(self, name: str, v: Any, w: Writer, path: str, depth: int = 0) -> None:
        if depth > _MAX_DEPTH:
            raise CodecError("nested too deeply", path)
        d = self._definition(name, path)
        kind = d["kind"]

        def bad(expected: str) -> CodecError:
            return CodecError(f"expected {expected} ({name}), got {_describe(v)}", path)

        if kind == "unit":
            if v is not None:
                raise bad("null")
        elif kind == "bool":
            if not isinstance(v, bool):
                raise bad("true or false")
            w.boolean(v)
        elif kind == "int":
            n, signed = d["bytes"], d["signed"]
            if isinstance(v, str) and n >= 8 and _DECIMAL.fullmatch(v):
                v = int(v)
            elif not isinstance(v, int) or isinstance(v, bool):
                raise bad("an integer" + (" (or a decimal string)" if n >= 8 else ""))
            lo, hi = (-(1 << (8 * n - 1)), 1 << (8 * n - 1)) if signed else (0, 1 << (8 * n))
            if not lo <= v < hi:
                raise CodecError(f"{v} is out of range for {name} ({lo} to {hi - 1})", path)
            w.raw(v.to_bytes(n, "little", signed=signed))
        elif kind == "string":
            if not isinstance(v, str):
                raise bad("a string")
            try:
                w.string(v)
            except CodecError as e:
                raise CodecError(e.reason, path) from None
        elif kind in ("bytes", "fixed_bytes"):
            raw = _bytes(v, path, name)
            if kind == "bytes":
                w.bytes_(raw)
            else:
                if len(raw) != d["length"]:
                    raise CodecError(f"expected {d['length']} bytes ({name}), got {len(raw)}", path)
                w.raw(raw)
        elif kind == "option":
            if v is None:
                w.u8(0)
            else:
                w.u8(1)
                self._encode(d["type"], v, w, path, depth + 1)
        elif kind in ("vec", "array"):
            if not isinstance(v, (list, tuple)):
                raise bad("an array")
            if kind == "vec":
                w.u32(len(v))
            elif len(v) != d["length"]:
                raise CodecError(f"expected {d['length']} items ({name}), got {len(v)}", path)
            for i, item in enumerate(v):
                self._encode(d["type"], item, w, f"{path}[{i}]", depth + 1)
        elif kind == "tuple":
            types = d["types"]
            if not isinstance(v, (list, tuple)) or len(v) != len(types):
                raise bad(f"an array of {len(types)}")
            for i, (t, item) in enumerate(zip(types, v, strict=True)):
                self._encode(t, item, w, f"{path}[{i}]", depth + 1)
        elif kind == "struct":
            fields = d["fields"]
            if not isinstance(v, Mapping):
                raise bad("an object")
            names = [f["name"] for f in fields]
            missing = [n for n in names if n not in v]
            unknown = [k for k in v if k not in names]
            if missing or unknown:
                parts = ([f"lacks {', '.join(missing)}"] if missing else []) + (
                    [f"has unknown {', '.join(map(str, unknown))}"] if unknown else []
                )
                raise CodecError(f"{name} {' and '.join(parts)} (fields: {', '.join(names)})", path)
            for f in fields:
                self._encode(f["type"], v[f["name"]], w, f"{path}.{f['name']}", depth + 1)
        elif kind == "newtype":
            self._encode(d["type"], v, w, path, depth + 1)
        elif kind == "enum":
            variants = {x["name"]: x for x in d["variants"]}
            if isinstance(v, str):
                tag, data, has_data = v, None, False
            elif isinstance(v, Mapping) and len(v) == 1:
                (tag, data), has_data = next(iter(v.items())), True
            else:
                raise bad('"Variant" or {"Variant": data}')
            variant = variants.get(tag)
            if variant is None:
                raise CodecError(f"{name} has no variant {tag!r} (it has {', '.join(variants)})", path)
            if (variant.get("type") is None) == has_data:
                form = f'{{"{tag}": data}}' if variant.get("type") is not None else f'"{tag}"'
                raise CodecError(f"{name}::{tag} is written {form}", path)
            w.u8(variant["index"])
            if has_data:
                self._encode(variant["type"], data, w, f"{path}.{tag}", depth + 1)
        else:  # pragma: no cover - _definition refuses unknown kinds
            raise CodecError(f"unknown kind {kind!r}", path)

    def _decode(self, name: str, r: Reader, path: str, depth: int = 0) -> Any:
        if depth > _MAX_DEPTH:
            raise CodecError("nested too deeply", path)
        d = self._definition(name, path)
        kind = d["kind"]
        try:
            if kind == "unit":
                return None
            if kind == "bool":
                return r.boolean()
            if kind == "int":
                return int.from_bytes(r.take(d["bytes"]), "little", signed=d["signed"])
            if kind == "string":
                return r.string()
            if kind == "bytes":
                return r.bytes_().hex()
            if kind == "fixed_bytes":
                return r.take(d["length"]).hex()
            if kind == "option":
                return self._decode(d["type"], r, path, depth + 1) if r.option_tag() else None
            if kind == "vec":
                n, least = r.u32(), self._min_size(d["type"])
                if n * least > r.remaining() or (least == 0 and n > 1_000_000):
                    raise CodecError(f"{n} items cannot be in the {r.remaining()} bytes left")
                return [self._decode(d["type"], r, f"{path}[{i}]", depth + 1) for i in range(n)]
            if kind == "array":
                return [self._decode(d["type"], r, f"{path}[{i}]", depth + 1) for i in range(d["length"])]
            if kind == "tuple":
                return [self._decode(t, r, f"{path}[{i}]", depth + 1) for i, t in enumerate(d["types"])]
            if kind == "struct":
                return {f["name"]: self._decode(f["type"], r, f"{path}.{f['name']}", depth + 1) for f in d["fields"]}
            if kind == "newtype":
                return self._decode(d["type"], r, path, depth + 1)
            if kind == "enum":
                tag = r.u8()
                for variant in d["variants"]:
                    if variant["index"] == tag:
                        if variant.get("type") is None:
                            return variant["name"]
                        at = f"{path}.{variant['name']}"
                        return {variant["name"]: self._decode(variant["type"], r, at, depth + 1)}
                raise CodecError(f"{name} has no variant with index {tag}")
        except CodecError as e:
            if e.path:
                raise
            raise CodecError(e.reason, path) from None
        raise CodecError(f"unknown kind {kind!r}", path)  # pragma: no cover

    def _min_size(self, name: str, seen: frozenset[str] = frozenset()) -> int:
        """The fewest bytes a value of ``name`` takes (to refuse absurd counts early)."""
        if name in seen:
            return 1
        d = self.types[name]
        k = d["kind"]
        if k not in _KINDS:
            return 0  # refused when an item is decoded
        if k in ("int", "fixed_bytes", "array"):
            size = int(d["bytes"] if k == "int" else d["length"])
        if k == "unit":
            return 0
        if k == "int":
            return size
        if k in ("bool", "option", "enum"):
            return 1
        if k in ("string", "bytes", "vec"):
            return 4
        if k == "fixed_bytes":
            return size
        if k == "array":
            return size * self._min_size(d["type"], seen | {name})
        if k == "tuple":
            return sum(self._min_size(t, seen | {name}) for t in d["types"])
        if k == "struct":
            return sum(self._min_size(f["type"], seen | {name}) for f in d["fields"])
        return self._min_size(d["type"], seen | {name})  # newtype


def _bytes(v: Any, path: str, name: str) -> bytes:
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v)
    if isinstance(v, str) and _HEX.fullmatch(v):
        return bytes.fromhex(v)
    raise CodecError(f"expected lower-case hex digits, an even number of them ({name}), got {_describe(v)}", path)


def _describe(v: Any) -> str:
    text = repr(v)
    return f"{type(v).__name__} {text[:60]}{'...' if len(text) > 60 else ''}"
