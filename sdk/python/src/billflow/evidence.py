"""The evidence contract from the client's side: what a submission holds, and
the offline check of an evidence proof against the genesis file alone.

:func:`verify` is a port of ``billflow_sdk::evidence::verify`` with the same
refusals. It decodes the contract's records with the SDK's own copy of the
evidence types (never with anything a node hands it).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .codec import Interface
from .errors import CodecError, ProofError, VerificationError
from .proof import Genesis, TxProof, VoterHistory

CONTRACT = "evidence"


def _struct(*fields: tuple[str, str]) -> dict[str, Any]:
    return {"kind": "struct", "fields": [{"name": n, "type": t} for n, t in fields]}


# The evidence contract's types (contracts/evidence/src/types.rs), in the interface format.
TYPES: dict[str, Any] = {
    "()": {"kind": "unit"},
    "[u8; 32]": {"kind": "fixed_bytes", "length": 32},
    "String": {"kind": "string"},
    "u32": {"kind": "int", "bytes": 4, "signed": False},
    "u64": {"kind": "int", "bytes": 8, "signed": False},
    "Option<String>": {"kind": "option", "type": "String"},
    "Option<u64>": {"kind": "option", "type": "u64"},
    "(String, String)": {"kind": "tuple", "types": ["String", "String"]},
    "Vec<(String, String)>": {"kind": "vec", "type": "(String, String)"},
    "Vec<String>": {"kind": "vec", "type": "String"},
    "SubmitEvidence": _struct(("hash", "[u8; 32]"), ("doc_type", "String"), ("metadata", "Vec<(String, String)>")),
    "CosignEvidence": _struct(("hash", "[u8; 32]")),
    "NotarySignature": _struct(("notary", "String"), ("org", "Option<String>"), ("height", "u64"), ("time_ms", "u64")),
    "Vec<NotarySignature>": {"kind": "vec", "type": "NotarySignature"},
    "EvidenceRecord": _struct(
        ("hash", "[u8; 32]"),
        ("doc_type", "String"),
        ("metadata", "Vec<(String, String)>"),
        ("submitter", "String"),
        ("tenant", "Option<String>"),
        ("tx_id", "String"),
        ("height", "u64"),
        ("time_ms", "u64"),
        ("signatures", "Vec<NotarySignature>"),
        ("notarised_at", "Option<u64>"),
    ),
    "EvidenceSubmitted": _struct(
        ("hash", "[u8; 32]"), ("doc_type", "String"), ("submitter", "String"), ("tenant", "Option<String>")
    ),
    "EvidenceCosigned": _struct(
        ("hash", "[u8; 32]"),
        ("notary", "String"),
        ("org", "Option<String>"),
        ("signatures", "u32"),
        ("offices", "u32"),
        ("threshold", "u32"),
    ),
    "EvidenceNotarised": _struct(("hash", "[u8; 32]"), ("notaries", "Vec<String>")),
    "Option<EvidenceRecord>": {"kind": "option", "type": "EvidenceRecord"},
}

_CODEC = Interface(
    {
        "contract": CONTRACT,
        "version": "1.0.0",
        "methods": [
            {"name": "submit", "kind": "write", "args": "SubmitEvidence", "result": "EvidenceRecord"},
            {"name": "cosign", "kind": "write", "args": "CosignEvidence", "result": "EvidenceRecord"},
        ],
        "events": [
            {"topic": "evidence.submitted", "data": "EvidenceSubmitted"},
            {"topic": "evidence.cosigned", "data": "EvidenceCosigned"},
            {"topic": "evidence.notarised", "data": "EvidenceNotarised"},
        ],
        "types": TYPES,
    }
)


def builtin_interface() -> Interface:
    """The evidence contract's ``submit`` and ``cosign`` and its events, from the SDK's own types."""
    return _CODEC


def document_hash(document: bytes) -> bytes:
    """The SHA-256 of a document: what the ledger records of it."""
    return hashlib.sha256(document).digest()


def as_hash(value: bytes | str) -> bytes:
    """A 32-byte hash given as bytes or 64 hex digits."""
    if isinstance(value, (bytes, bytearray)) and len(value) == 32:
        return bytes(value)
    if isinstance(value, str) and len(value) == 64:
        try:
            return bytes.fromhex(value)
        except ValueError:
            pass
    raise CodecError(f"a document hash is 32 bytes or 64 hex digits, got {value!r:.80}")


def submit_args(
    hash: bytes | str, doc_type: str, metadata: Mapping[str, str] | Sequence[Sequence[str]] = ()
) -> dict[str, Any]:
    """The arguments of ``evidence.submit`` as a JSON value (metadata pairs in order)."""
    pairs = list(metadata.items()) if isinstance(metadata, Mapping) else [tuple(p) for p in metadata]
    for p in pairs:
        if len(p) != 2 or not all(isinstance(x, str) for x in p):
            raise CodecError(f"a metadata pair is two strings, got {p!r:.80}")
    return {"hash": as_hash(hash).hex(), "doc_type": doc_type, "metadata": [list(p) for p in pairs]}


@dataclass(frozen=True)
class Verdict:
    """What a verified evidence proof shows."""

    hash: bytes
    record: dict[str, Any]
    """The record (``EvidenceRecord`` as JSON: ``doc_type``, ``metadata``, ``submitter``, ...)."""
    submitted_at: int
    """Block height of the submission."""
    cosigned_by: list[str]
    """The key ids of the notaries whose co-signatures are proven."""
    notarised: bool
    """Whether a proven co-signature completed the notary threshold."""

    @property
    def doc_type(self) -> str:
        return str(self.record["doc_type"])

    @property
    def metadata(self) -> list[tuple[str, str]]:
        return [(k, v) for k, v in self.record["metadata"]]

    @property
    def submitter(self) -> str:
        return str(self.record["submitter"])

    @property
    def tx_id(self) -> str:
        return str(self.record["tx_id"])


def _offices(signatures: Sequence[Mapping[str, Any]]) -> int:
    return len({s["org"] if s["org"] is not None else s["notary"] for s in signatures})


def _proven(p: TxProof, voters: VoterHistory, what: str, method: str, hash: bytes) -> None:
    try:
        p.verify_in(voters)
    except ProofError as e:
        raise VerificationError("proof", f"{what}: {e}", e) from None
    tx = p.tx.tx
    if tx.contract != CONTRACT or tx.method != method:
        raise VerificationError("mismatch", f"{what} calls {tx.contract}.{tx.method}, not {CONTRACT}.{method}")
    try:
        doc = _CODEC.decode("SubmitEvidence" if method == "submit" else "CosignEvidence", tx.args)["hash"]
    except CodecError:
        doc = None
    if doc != hash.hex():
        raise VerificationError("mismatch", f"{what} is about another document")
    if not p.receipt.success:
        raise VerificationError("mismatch", f"{what} failed on the ledger")


def _event(p: TxProof, topic: str, what: str) -> dict[str, Any] | None:
    for e in p.receipt.events:
        if e.contract == CONTRACT and e.topic == topic:
            try:
                decoded: dict[str, Any] = _CODEC.decode_event(topic, e.data)
                return decoded
            except CodecError as err:
                raise VerificationError("mismatch", f"{what}: its {topic} event does not decode: {err}") from None
    return None


def _load_proof(proof: Mapping[str, Any] | str | os.PathLike[str]) -> Mapping[str, Any]:
    if isinstance(proof, Mapping):
        return proof
    text = proof if isinstance(proof, str) and proof.lstrip().startswith("{") else Path(proof).read_text("utf-8")
    parsed = json.loads(text)
    if not isinstance(parsed, dict):
        raise CodecError("an evidence proof is a JSON object")
    return parsed


def verify(
    proof: Mapping[str, Any] | str | os.PathLike[str],
    genesis: Genesis | Mapping[str, Any] | str | os.PathLike[str],
    hash: bytes | str,
    *,
    genesis_hash: bytes | str | None = None,
) -> Verdict:
    """Verifies an evidence proof for document ``hash`` with nothing but the genesis document.

    Every transaction is in a block attested by a majority of the voters in
    force at its height (followed from genesis through the proven changes of
    voters the proof carries); the submission and co-signatures are about this
    document and succeeded; and every field of the record is what those
    transactions prove: the document type and metadata are the submission's
    arguments, the submitter and tenant what the contract recorded for it, each
    co-signature (notary, office, height) one proven co-signing, and the
    notarisation the proven co-signing that completed it, over the threshold of
    distinct notary offices the contract named.

    Args:
        proof: the answer of ``GET /v1/evidence/{hash}`` (parsed JSON, JSON text or a file path).
        genesis: the genesis document (``genesis.json`` path, parsed JSON or :class:`Genesis`).
        hash: the document's SHA-256 (bytes or hex).
        genesis_hash: if given, the genesis must hash to it (the chain identity you trust).

    Returns:
        The :class:`Verdict`; raises :class:`VerificationError` when the proof does not hold.
    """
    expected = as_hash(hash)
    try:
        g = Genesis.load(genesis)
        if genesis_hash is not None and g.hash() != as_hash(genesis_hash):
            raise VerificationError("malformed", f"the genesis document does not hash to {as_hash(genesis_hash).hex()}")
        j = _load_proof(proof)
        got = as_hash(j["hash"])
        submit = TxProof.from_json(j["submit"], "submit")
        cosigns = [TxProof.from_json(c, f"cosigns[{n}]") for n, c in enumerate(j.get("cosigns", []))]
        changes = [TxProof.from_json(c, f"voter_changes[{n}]") for n, c in enumerate(j.get("voter_changes", []))]
        record_bytes = bytes.fromhex(j["record"])
    except (CodecError, KeyError, TypeError, ValueError) as e:
        raise VerificationError("malformed", f"the proof does not parse: {e}") from None

    if got != expected:
        raise VerificationError("other_document", f"the proof is for {got.hex()}, not {expected.hex()}")
    try:
        voters = VoterHistory.follow(g, changes)
    except ProofError as e:
        raise VerificationError("proof", f"the changes of voters: {e}", e) from None

    def mismatch(text: str) -> VerificationError:
        return VerificationError("mismatch", text)

    _proven(submit, voters, "the submission", "submit", expected)
    submitted = _event(submit, "evidence.submitted", "the submission")
    if submitted is None:
        raise mismatch("the submission's receipt records no evidence.submitted event")
    try:
        args = _CODEC.decode("SubmitEvidence", submit.tx.tx.args)
    except CodecError as e:
        raise mismatch(f"the submission's arguments do not decode: {e}") from None
    try:
        record = _CODEC.decode("EvidenceRecord", record_bytes)
    except CodecError as e:
        raise mismatch(f"the record does not decode: {e}") from None
    if record["hash"] != expected.hex() or submitted["hash"] != expected.hex() or record["tx_id"] != submit.tx.tx.tx_id:
        raise mismatch("the record is not the one the submission made")
    if record["doc_type"] != args["doc_type"]:
        raise mismatch(
            f"the record's document type {record['doc_type']!r} is not the submission's {args['doc_type']!r}"
        )
    if record["metadata"] != args["metadata"]:
        raise mismatch("the record's metadata is not the submission's")
    if record["submitter"] != submitted["submitter"] or record["tenant"] != submitted["tenant"]:
        raise mismatch(
            f"the record's submitter {record['submitter']} is not the one the contract recorded for the "
            f"submission ({submitted['submitter']})"
        )
    if record["height"] != submit.header.height or record["time_ms"] != submit.header.proposed_at_ms:
        raise mismatch("the record's height or time is not the submission's block")

    cosigned_by: list[str] = []
    signatures: list[dict[str, Any]] = []
    notarised_at: int | None = None
    for n, c in enumerate(cosigns):
        what = f"co-signature {n + 1}"
        _proven(c, voters, what, "cosign", expected)
        if c.header.height < submit.header.height:
            raise mismatch(f"{what} precedes the submission")
        cosigned = _event(c, "evidence.cosigned", what)
        if cosigned is None:
            raise mismatch(f"{what}: its receipt records no evidence.cosigned event")
        if cosigned["hash"] != expected.hex():
            raise mismatch(f"{what} is about another document")
        signatures.append(
            {
                "notary": cosigned["notary"],
                "org": cosigned["org"],
                "height": c.header.height,
                "time_ms": c.header.proposed_at_ms,
            }
        )
        cosigned_by.append(c.tx.tx.signer)
        notarises = _event(c, "evidence.notarised", what)
        if notarises is not None and notarises["hash"] == expected.hex() and notarised_at is None:
            # The threshold counts distinct notary offices among the proven co-signatures.
            offices = _offices(signatures)
            if offices < cosigned["threshold"]:
                raise mismatch(
                    f"{what} claims to notarise the record with {offices} notary offices, "
                    f"the threshold is {cosigned['threshold']}"
                )
            notarised_at = c.header.height
    if len(record["signatures"]) != len(signatures):
        raise mismatch(
            f"the record lists {len(record['signatures'])} co-signatures, the proof proves {len(signatures)}"
        )
    for n, (claimed, proven) in enumerate(zip(record["signatures"], signatures, strict=True)):
        if claimed != proven:
            raise mismatch(
                f"co-signature {n + 1} of the record ({claimed['notary']}) is not the proven one ({proven['notary']})"
            )
    if record["notarised_at"] != notarised_at:
        if record["notarised_at"] is not None and notarised_at is None:
            raise mismatch("the record claims to be notarised, but no proven co-signature completed it")
        raise mismatch("the record's notarisation is not the one the proven co-signatures made")
    return Verdict(expected, record, submit.header.height, cosigned_by, notarised_at is not None)
