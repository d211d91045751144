"""The interface-driven codec, with hand-written interface documents (no node)."""

from __future__ import annotations

import pytest

from billflow import CodecError, Interface

INT = {f"{s}{8 * n}": {"kind": "int", "bytes": n, "signed": s == "i"} for n in (1, 2, 4, 8, 16) for s in "ui"}

DOC = {
    "contract": "sample",
    "version": "1.2.3",
    "methods": [
        {"name": "thing.put", "kind": "write", "args": "Thing", "result": "()"},
        {"name": "thing.get", "kind": "query", "args": "ById", "result": "Option<Thing>"},
    ],
    "events": [{"topic": "thing.changed", "data": "Thing"}],
    "types": {
        **INT,
        "()": {"kind": "unit"},
        "bool": {"kind": "bool"},
        "String": {"kind": "string"},
        "Vec<u8>": {"kind": "bytes"},
        "[u8; 4]": {"kind": "fixed_bytes", "length": 4},
        "Option<Thing>": {"kind": "option", "type": "Thing"},
        "Option<u64>": {"kind": "option", "type": "u64"},
        "Vec<String>": {"kind": "vec", "type": "String"},
        "[u16; 2]": {"kind": "array", "length": 2, "type": "u16"},
        "(String, u32)": {"kind": "tuple", "types": ["String", "u32"]},
        "Fen": {"kind": "newtype", "type": "u64"},
        "Date": {
            "kind": "struct",
            "fields": [{"name": "year", "type": "i32"}, {"name": "month", "type": "u8"}, {"name": "day", "type": "u8"}],
        },
        "Held": {"kind": "struct", "fields": [{"name": "by", "type": "String"}]},
        "State": {
            "kind": "enum",
            "variants": [
                {"name": "Open", "index": 0, "type": None},
                {"name": "Held", "index": 1, "type": "Held"},
                {"name": "Closed", "index": 5, "type": "Date"},
            ],
        },
        "ById": {"kind": "struct", "fields": [{"name": "id", "type": "String"}]},
        "Thing": {
            "kind": "struct",
            "fields": [
                {"name": "id", "type": "String"},
                {"name": "ok", "type": "bool"},
                {"name": "amount", "type": "Fen"},
                {"name": "delta", "type": "i64"},
                {"name": "big", "type": "u128"},
                {"name": "blob", "type": "Vec<u8>"},
                {"name": "tag", "type": "[u8; 4]"},
                {"name": "limit", "type": "Option<u64>"},
                {"name": "names", "type": "Vec<String>"},
                {"name": "pair", "type": "(String, u32)"},
                {"name": "grid", "type": "[u16; 2]"},
                {"name": "date", "type": "Date"},
                {"name": "state", "type": "State"},
                {"name": "nothing", "type": "()"},
            ],
        },
    },
}

THING = {
    "id": "B1",
    "ok": True,
    "amount": 5,
    "delta": -2,
    "big": 2**100,
    "blob": "0aff",
    "tag": "00010203",
    "limit": None,
    "names": ["a", "中"],
    "pair": ["x", 7],
    "grid": [1, 65535],
    "date": {"year": 2025, "month": 3, "day": 6},
    "state": {"Held": {"by": "bank-a"}},
    "nothing": None,
}


def expected_bytes() -> bytes:
    s = lambda t: len(t.encode()).to_bytes(4, "little") + t.encode()  # noqa: E731
    return b"".join(
        [
            s("B1"),
            b"\x01",
            (5).to_bytes(8, "little"),
            (-2).to_bytes(8, "little", signed=True),
            (2**100).to_bytes(16, "little"),
            b"\x02\x00\x00\x00\x0a\xff",
            b"\x00\x01\x02\x03",
            b"\x00",
            b"\x02\x00\x00\x00" + s("a") + s("中"),
            s("x") + (7).to_bytes(4, "little"),
            b"\x01\x00\xff\xff",
            (2025).to_bytes(4, "little", signed=True) + b"\x03\x06",
            b"\x01" + s("bank-a"),
        ]
    )


@pytest.fixture(scope="module")
def iface() -> Interface:
    return Interface(DOC)


def test_every_kind_encodes_as_the_table_says_and_decodes_back(iface: Interface) -> None:
    data = iface.encode_args("thing.put", THING)
    assert data == expected_bytes()
    assert iface.decode("Thing", data) == {**THING, "big": 2**100}
    assert iface.decode_event("thing.changed", data)["state"] == {"Held": {"by": "bank-a"}}
    assert iface.decode_result("thing.get", b"\x01" + data)["id"] == "B1"
    assert iface.decode_result("thing.get", b"\x00") is None


def test_enum_forms_and_large_integers_as_decimal_strings(iface: Interface) -> None:
    assert iface.encode("State", "Open") == b"\x00"
    assert iface.encode("State", {"Closed": {"year": -1, "month": 1, "day": 2}})[0] == 5
    assert iface.decode("State", b"\x00") == "Open"
    assert iface.encode("u64", "18446744073709551615") == b"\xff" * 8
    assert iface.encode("i128", str(-(2**127))) == (-(2**127)).to_bytes(16, "little", signed=True)
    assert iface.encode("Vec<u8>", b"\x01\x02") == b"\x02\x00\x00\x00\x01\x02"  # Python bytes too


@pytest.mark.parametrize(
    ("type_name", "value", "path", "words"),
    [
        ("Thing", {**THING, "amount": -1}, "value.amount", "out of range"),
        ("Thing", {**THING, "grid": [1, 65536]}, "value.grid[1]", "out of range"),
        ("Thing", {k: v for k, v in THING.items() if k != "ok"}, "value", "lacks ok"),
        ("Thing", {**THING, "extra": 1}, "value", "unknown extra"),
        ("Thing", {**THING, "ok": 1}, "value.ok", "true or false"),
        ("Thing", {**THING, "tag": "0001"}, "value.tag", "expected 4 bytes"),
        ("Thing", {**THING, "blob": "0AFF"}, "value.blob", "lower-case hex"),
        ("Thing", {**THING, "state": "Held"}, "value.state", '{"Held": data}'),
        ("Thing", {**THING, "state": {"Open": None}}, "value.state", '"Open"'),
        ("Thing", {**THING, "state": "Gone"}, "value.state", "no variant 'Gone'"),
        ("Thing", {**THING, "names": ["a", 3]}, "value.names[1]", "a string"),
        ("Thing", {**THING, "pair": ["x"]}, "value.pair", "an array of 2"),
        ("Thing", {**THING, "nothing": 0}, "value.nothing", "null"),
        ("Thing", {**THING, "delta": 1.5}, "value.delta", "an integer"),
        ("u32", "7", "value", "an integer"),  # decimal strings only for 8 bytes and more
        ("u64", "07", "value", "an integer"),
        ("String", "\ud800", "value", "UTF-8"),
    ],
)
def test_bad_values_are_refused_with_where(
    iface: Interface, type_name: str, value: object, path: str, words: str
) -> None:
    with pytest.raises(CodecError) as e:
        iface.encode(type_name, value)
    assert e.value.path == path
    assert words in str(e.value)


@pytest.mark.parametrize(
    ("type_name", "data", "words"),
    [
        ("bool", b"\x02", "0 or 1"),
        ("Option<u64>", b"\x02", "option tag"),
        ("State", b"\x03", "no variant with index 3"),
        ("u32", b"\x01\x00\x00", "truncated"),
        ("u32", b"\x01\x00\x00\x00\x00", "trailing"),
        ("String", b"\x02\x00\x00\x00\xff\xfe", "not UTF-8"),
        ("Vec<String>", b"\xff\xff\xff\xff", "cannot be in"),
    ],
)
def test_decoding_is_strict(iface: Interface, type_name: str, data: bytes, words: str) -> None:
    with pytest.raises(CodecError, match=words):
        iface.decode(type_name, data)


def test_methods_and_documents_are_checked(iface: Interface) -> None:
    with pytest.raises(CodecError, match=r"has no method 'thing\.drop'"):
        iface.encode_args("thing.drop", {})
    broken = {**DOC, "types": {**DOC["types"], "Fen": {"kind": "newtype", "type": "Money"}}}
    with pytest.raises(CodecError, match="without defining it"):
        Interface(broken)
    # A kind of a later format fails where it is used, not for the whole contract.
    later = Interface({**DOC, "types": {**DOC["types"], "Fen": {"kind": "decimal"}}})
    assert later.encode("State", "Open") == b"\x00"
    with pytest.raises(CodecError, match="kind 'decimal', which this SDK does not know") as e:
        later.encode_args("thing.put", THING)
    assert e.value.path == "args.amount"


def test_recursive_types_are_bounded() -> None:
    doc = {
        "contract": "r",
        "version": "1.0.0",
        "methods": [],
        "types": {
            "Tree": {"kind": "struct", "fields": [{"name": "kids", "type": "Vec<Tree>"}]},
            "Vec<Tree>": {"kind": "vec", "type": "Tree"},
        },
    }
    tree: dict[str, object] = {"kids": []}
    assert Interface(doc).decode("Tree", Interface(doc).encode("Tree", {"kids": [tree, tree]})) == {
        "kids": [tree, tree]
    }
    deep: dict[str, object] = {"kids": []}
    for _ in range(100):
        deep = {"kids": [deep]}
    with pytest.raises(CodecError, match="nested too deeply"):
        Interface(doc).encode("Tree", deep)
