"""Proofs that a transaction and its receipt are in a block the network
committed, checked offline against the genesis document alone.

A port of ``node/types/src/proof.rs`` and what it relies on (``merkle.rs``,
``block.rs``, ``receipt.rs``, ``genesis.rs``), with the same refusals: a
:class:`TxProof` holds when the transaction's and the receipt's Merkle paths
(RFC 9162) lead to the header's roots, the header names the voter set the
verifier followed from genesis through the proven changes of voters, and more
than half of those voters attested the header's hash.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import keys
from .borsh import Reader, Writer, check_id
from .canonical import Domain, domain_hash
from .errors import CodecError, ProofError
from .tx import SignedTx

SYSTEM_CONTRACT = "system"
VOTERS_CHANGED = "voters.changed"


# ---- JSON helpers (strict: a malformed proof is refused before any check) ----


def _get(j: Mapping[str, Any], name: str, what: str) -> Any:
    if not isinstance(j, Mapping) or name not in j:
        raise CodecError(f"{what} lacks {name!r}")
    return j[name]


def _hexfield(j: Mapping[str, Any], name: str, what: str, length: int | None = None) -> bytes:
    v = _get(j, name, what)
    try:
        raw = bytes.fromhex(v) if isinstance(v, str) and len(v) % 2 == 0 else None
    except ValueError:
        raw = None
    if raw is None or (length is not None and len(raw) != length):
        raise CodecError(f"{what}.{name} is not {'hex' if length is None else f'{length} bytes of hex'}")
    return raw


def _int(j: Mapping[str, Any], name: str, what: str, size: int = 8) -> int:
    v = _get(j, name, what)
    if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v < 1 << (8 * size):
        raise CodecError(f"{what}.{name} is not a u{8 * size}")
    return v


def _id(j: Mapping[str, Any], name: str, what: str) -> str:
    return check_id(_get(j, name, what), f"{what}.{name}")


def _str(j: Mapping[str, Any], name: str, what: str) -> str:
    v = _get(j, name, what)
    if not isinstance(v, str):
        raise CodecError(f"{what}.{name} is not a string")
    return v


def _list(j: Mapping[str, Any], name: str, what: str, default: list[Any] | None = None) -> list[Any]:
    if default is not None and name not in j:
        return default
    v = _get(j, name, what)
    if not isinstance(v, list):
        raise CodecError(f"{what}.{name} is not an array")
    return v


# ---- Merkle trees (RFC 9162 shape) ----


def _leaf(item: bytes) -> bytes:
    return domain_hash(Domain.MERKLE_LEAF, item)


def _node(left: bytes, right: bytes) -> bytes:
    return domain_hash(Domain.MERKLE_NODE, left, right)


def merkle_root(items: Sequence[bytes]) -> bytes:
    """The Merkle root of item hashes (the empty tree's hash for none)."""
    n = len(items)
    if n == 0:
        return domain_hash(Domain.MERKLE_EMPTY, b"")
    if n == 1:
        return _leaf(items[0])
    k = 1
    while k << 1 < n:
        k <<= 1
    return _node(merkle_root(items[:k]), merkle_root(items[k:]))


@dataclass(frozen=True)
class MerkleProof:
    """That one item is at ``leaf_index`` of a tree of ``tree_size`` items."""

    leaf_index: int
    tree_size: int
    path: tuple[bytes, ...]

    @classmethod
    def from_json(cls, j: Mapping[str, Any], what: str = "merkle proof") -> MerkleProof:
        path = []
        for n, h in enumerate(_list(j, "path", what)):
            path.append(_hexfield({"h": h}, "h", f"{what}.path[{n}]", 32))
        return cls(_int(j, "leaf_index", what), _int(j, "tree_size", what), tuple(path))

    def verify(self, item: bytes, root: bytes) -> bool:
        """Whether this proof shows ``item`` under ``root`` (RFC 9162 section 2.1.3.2)."""
        if self.leaf_index >= self.tree_size:
            return False
        fn, sn = self.leaf_index, self.tree_size - 1
        r = _leaf(item)
        for p in self.path:
            if sn == 0:
                return False
            if fn & 1 == 1 or fn == sn:
                r = _node(p, r)
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
            else:
                r = _node(r, p)
            fn >>= 1
            sn >>= 1
        return sn == 0 and r == root


# ---- blocks ----


@dataclass(frozen=True)
class BlockHeader:
    """A block header; its hash is the block hash."""

    chain_id: str
    height: int
    prev_hash: bytes
    tx_root: bytes
    receipts_root: bytes
    state_hash: bytes
    tx_count: int
    proposer: str
    proposed_at_ms: int
    consensus_term: int
    consensus_index: int
    voters_hash: bytes

    @classmethod
    def from_json(cls, j: Mapping[str, Any], what: str = "header") -> BlockHeader:
        consensus = _get(j, "consensus", what)
        return cls(
            chain_id=_id(j, "chain_id", what),
            height=_int(j, "height", what),
            prev_hash=_hexfield(j, "prev_hash", what, 32),
            tx_root=_hexfield(j, "tx_root", what, 32),
            receipts_root=_hexfield(j, "receipts_root", what, 32),
            state_hash=_hexfield(j, "state_hash", what, 32),
            tx_count=_int(j, "tx_count", what, 4),
            proposer=_id(j, "proposer", what),
            proposed_at_ms=_int(j, "proposed_at_ms", what),
            consensus_term=_int(consensus, "term", f"{what}.consensus"),
            consensus_index=_int(consensus, "index", f"{what}.consensus"),
            voters_hash=_hexfield(j, "voters_hash", what, 32),
        )

    def encode(self) -> bytes:
        w = Writer().string(self.chain_id).u64(self.height)
        w.raw(self.prev_hash).raw(self.tx_root).raw(self.receipts_root).raw(self.state_hash)
        w.u32(self.tx_count).string(self.proposer).u64(self.proposed_at_ms)
        return w.u64(self.consensus_term).u64(self.consensus_index).raw(self.voters_hash).getvalue()

    def hash(self) -> bytes:
        """The block hash."""
        return domain_hash(Domain.BLOCK_HEADER, self.encode())


@dataclass(frozen=True, order=True)
class VoterKey:
    """A voter: a node and the key its attestations are checked under (ordered by node id, then key)."""

    node: str
    public_key: bytes

    def encode_into(self, w: Writer) -> None:
        w.string(self.node).raw(self.public_key)


def encode_voters(voters: Sequence[VoterKey]) -> bytes:
    w = Writer().u32(len(voters))
    for v in voters:
        v.encode_into(w)
    return w.getvalue()


def decode_voters(data: bytes) -> list[VoterKey]:
    """A ``Vec<VoterKey>`` (the data of a ``voters.changed`` event)."""
    r = Reader(data)
    out = []
    for _ in range(r.u32()):
        node = check_id(r.string(), "node id")
        out.append(VoterKey(node, r.take(32)))
    r.finish()
    return out


def voter_set_hash(voters: Sequence[VoterKey]) -> bytes:
    """What a header commits to: the voter set sorted by node id, encoded."""
    ordered = sorted(voters, key=lambda v: (v.node.encode(), v.public_key))
    return domain_hash(Domain.VOTER_SET, encode_voters(ordered))


@dataclass(frozen=True)
class Attestation:
    """A node's signature over a block it committed, with its audit-log anchor if any."""

    height: int
    block_hash: bytes
    node: str
    signature: bytes
    audit_seq: int | None = None
    audit_hash: bytes | None = None
    audit_signature: bytes | None = None

    @classmethod
    def from_json(cls, j: Mapping[str, Any], what: str = "attestation") -> Attestation:
        audit = j.get("audit") if isinstance(j, Mapping) else None
        seq = head_hash = audit_sig = None
        if audit is not None:
            head = _get(audit, "head", f"{what}.audit")
            seq = _int(head, "seq", f"{what}.audit.head")
            head_hash = _hexfield(head, "hash", f"{what}.audit.head", 32)
            audit_sig = _hexfield(audit, "signature", f"{what}.audit", 64)
        return cls(
            _int(j, "height", what),
            _hexfield(j, "block_hash", what, 32),
            _id(j, "node", what),
            _hexfield(j, "signature", what, 64),
            seq,
            head_hash,
            audit_sig,
        )

    def verify(self, public_key: bytes) -> bool:
        """The signature over ``height || block_hash``, and the audit anchor's if there is one."""
        message = self.height.to_bytes(8, "little") + self.block_hash
        if not keys.verify(public_key, Domain.BLOCK_ATTESTATION, message, self.signature):
            return False
        if self.audit_signature is None:
            return True
        anchor = Writer().string(self.node).u64(self.height).u64(self.audit_seq or 0).raw(self.audit_hash or b"")
        return keys.verify(public_key, Domain.AUDIT_ANCHOR, anchor.getvalue(), self.audit_signature)


# ---- receipts ----


@dataclass(frozen=True)
class ReceiptEvent:
    """An event a transaction emitted."""

    contract: str
    topic: str
    data: bytes


@dataclass(frozen=True)
class ProvenReceipt:
    """A receipt as a block commits to it."""

    tx_hash: bytes
    tx_id: str
    success: bool
    failure: tuple[str, str] | None
    events: tuple[ReceiptEvent, ...]
    fuel_used: int

    @classmethod
    def from_json(cls, j: Mapping[str, Any], what: str = "receipt") -> ProvenReceipt:
        status = _get(j, "status", what)
        if status not in ("success", "failed"):
            raise CodecError(f"{what}.status is neither success nor failed")
        failure = j.get("failure")
        if failure is not None:
            failure = (_str(failure, "code", f"{what}.failure"), _str(failure, "message", f"{what}.failure"))
        events = tuple(
            ReceiptEvent(
                _id(e, "contract", f"{what}.events[{n}]"),
                _str(e, "topic", f"{what}.events[{n}]"),
                _hexfield(e, "data", f"{what}.events[{n}]"),
            )
            for n, e in enumerate(_list(j, "events", what))
        )
        return cls(
            _hexfield(j, "tx_hash", what, 32),
            _id(j, "tx_id", what),
            status == "success",
            failure,
            events,
            _int(j, "fuel_used", what),
        )

    def encode(self) -> bytes:
        w = Writer().raw(self.tx_hash).string(self.tx_id).u8(0 if self.success else 1)
        if self.failure is None:
            w.u8(0)
        else:
            w.u8(1).string(self.failure[0]).string(self.failure[1])
        w.u32(len(self.events))
        for e in self.events:
            w.string(e.contract).string(e.topic).bytes_(e.data)
        return w.u64(self.fuel_used).getvalue()

    def hash(self) -> bytes:
        return domain_hash(Domain.RECEIPT, self.encode())


# ---- genesis ----

_PARAMS = (
    ("max_txs_per_block", 4, 1000),
    ("max_block_wait_ms", 8, 50),
    ("max_tx_bytes", 4, 64 * 1024),
    ("max_tx_age_ms", 8, 3_600_000),
    ("max_tx_future_ms", 8, 300_000),
    ("max_code_bytes", 4, 1024 * 1024),
    ("max_args_bytes", 4, 32 * 1024),
    ("tx_fuel", 8, 20_000_000),
)
_ORG_ROLES = ("notary", "bank", "regulator")
_NODE_ROLES = ("voter", "observer")
_REGULATOR = ("counts", "required", "excluded")


def _only(j: Mapping[str, Any], allowed: set[str], what: str) -> None:
    unknown = set(j) - allowed
    if unknown:
        raise CodecError(f"{what} has unknown fields {sorted(unknown)}")


def _enum(value: Any, names: Sequence[str], what: str) -> int:
    if value not in names:
        raise CodecError(f"{what} is not one of {', '.join(names)}")
    return names.index(value)


@dataclass(frozen=True)
class Genesis:
    """The genesis document (``genesis.json``): the chain's identity and founding voters."""

    document: Mapping[str, Any] = field(repr=False)
    chain_id: str
    voters: tuple[VoterKey, ...]

    @classmethod
    def load(cls, source: str | os.PathLike[str] | Mapping[str, Any] | Genesis) -> Genesis:
        """A genesis from a file path, its parsed JSON, or as is."""
        if isinstance(source, Genesis):
            return source
        if isinstance(source, Mapping):
            return cls.from_json(source)
        try:
            return cls.from_json(json.loads(Path(source).read_text("utf-8")))
        except (OSError, ValueError) as e:
            raise CodecError(f"cannot read the genesis file {source}: {e}") from None

    @classmethod
    def from_json(cls, j: Mapping[str, Any]) -> Genesis:
        g = "genesis"
        _only(
            j,
            {
                "chain_id",
                "genesis_time_ms",
                "params",
                "organisations",
                "tenants",
                "nodes",
                "admin_policy",
                "signatures",
            },
            g,
        )
        voters = []
        for n, node in enumerate(j.get("nodes", [])):
            what = f"genesis.nodes[{n}]"
            role = _enum(_get(node, "role", what), _NODE_ROLES, f"{what}.role")
            if role == 0:
                voters.append(VoterKey(_id(node, "id", what), _hexfield(node, "public_key", what, 32)))
        voters.sort(key=lambda v: (v.node.encode(), v.public_key))
        genesis = cls(j, _id(j, "chain_id", g), tuple(voters))
        genesis.encode(signatures=False)  # every field parses
        return genesis

    def encode(self, signatures: bool = True) -> bytes:
        """The canonical encoding (without the founders' signatures for the hash)."""
        j, g = self.document, "genesis"
        w = Writer().string(_id(j, "chain_id", g)).u64(_int(j, "genesis_time_ms", g))
        params = j.get("params")
        if params is not None:
            _only(params, {p[0] for p in _PARAMS}, "genesis.params")
        for name, size, default in _PARAMS:
            w.uint(default if params is None else _int(params, name, "genesis.params", size), size)
        orgs = _list(j, "organisations", g)
        w.u32(len(orgs))
        for n, o in enumerate(orgs):
            what = f"genesis.organisations[{n}]"
            _only(o, {"id", "name", "role", "admin_keys", "ca_cert_pem"}, what)
            w.string(_id(o, "id", what)).string(_str(o, "name", what))
            w.u8(_enum(_get(o, "role", what), _ORG_ROLES, f"{what}.role"))
            _keys(w, _list(o, "admin_keys", what), f"{what}.admin_keys")
            pem = o.get("ca_cert_pem")
            w.option_string(None if pem is None else _str(o, "ca_cert_pem", what))
        tenants = _list(j, "tenants", g, [])
        w.u32(len(tenants))
        for n, t in enumerate(tenants):
            what = f"genesis.tenants[{n}]"
            _only(t, {"id", "name", "registered_by", "keys"}, what)
            w.string(_id(t, "id", what)).string(_str(t, "name", what)).string(_id(t, "registered_by", what))
            _keys(w, _list(t, "keys", what), f"{what}.keys")
        nodes = _list(j, "nodes", g, [])
        w.u32(len(nodes))
        for n, node in enumerate(nodes):
            what = f"genesis.nodes[{n}]"
            _only(node, {"id", "org", "public_key", "peer_id", "role", "address"}, what)
            w.string(_id(node, "id", what)).string(_id(node, "org", what))
            w.raw(_hexfield(node, "public_key", what, 32)).string(_str(node, "peer_id", what))
            w.u8(_enum(_get(node, "role", what), _NODE_ROLES, f"{what}.role"))
            w.option_string(None if node.get("address") is None else _str(node, "address", what))
        policy = _get(j, "admin_policy", g)
        _only(policy, {"min_approving_orgs", "min_share_percent", "regulator"}, "genesis.admin_policy")
        w.u32(_int(policy, "min_approving_orgs", "genesis.admin_policy", 4))
        w.u32(_int(policy, "min_share_percent", "genesis.admin_policy", 4) if "min_share_percent" in policy else 0)
        w.u8(_enum(policy.get("regulator", "counts"), _REGULATOR, "genesis.admin_policy.regulator"))
        sigs = _list(j, "signatures", g, []) if signatures else []
        w.u32(len(sigs))
        for n, s in enumerate(sigs):
            what = f"genesis.signatures[{n}]"
            _only(s, {"org", "key_id", "signature"}, what)
            w.string(_id(s, "org", what)).string(_id(s, "key_id", what)).raw(_hexfield(s, "signature", what, 64))
        return w.getvalue()

    def hash(self) -> bytes:
        """The genesis hash: the chain identity (over the encoding without signatures)."""
        return domain_hash(Domain.GENESIS, self.encode(signatures=False))

    def verify_signatures(self) -> None:
        """Every founding organisation signed this genesis with one of its administrator keys."""
        digest = self.hash()
        admin = {}
        for o in self.document["organisations"]:
            for k in o["admin_keys"]:
                admin[(o["id"], k["key_id"])] = bytes.fromhex(k["public_key"])
        signed = set()
        for s in self.document.get("signatures", []):
            key = admin.get((s["org"], s["key_id"]))
            if key is None:
                raise ProofError("genesis", f"signature by {s['org']} key {s['key_id']}: not a founder's key")
            if not keys.verify(key, Domain.GENESIS_SIGNATURE, digest, bytes.fromhex(s["signature"])):
                raise ProofError("genesis", f"the signature of {s['org']} by {s['key_id']} does not verify")
            signed.add(s["org"])
        for o in self.document["organisations"]:
            if o["id"] not in signed:
                raise ProofError("genesis", f"genesis lacks the signature of founding organisation {o['id']}")


def _keys(w: Writer, ks: list[Any], what: str) -> None:
    w.u32(len(ks))
    for n, k in enumerate(ks):
        _only(k, {"key_id", "public_key"}, f"{what}[{n}]")
        w.string(_id(k, "key_id", f"{what}[{n}]")).raw(_hexfield(k, "public_key", f"{what}[{n}]", 32))


# ---- voter history and transaction proofs ----


class VoterHistory:
    """The voter sets from genesis on, each with the height it is in force from."""

    def __init__(self, chain_id: str, sets: list[tuple[int, tuple[VoterKey, ...]]]) -> None:
        self.chain_id = chain_id
        self.sets = sets

    @classmethod
    def genesis(cls, genesis: Genesis) -> VoterHistory:
        """The genesis voters only."""
        return cls(genesis.chain_id, [(1, genesis.voters)])

    @classmethod
    def follow(cls, genesis: Genesis, changes: Sequence[TxProof]) -> VoterHistory:
        """Follows the voters from genesis through ``changes``: each must be proven
        under the set in force at its height, later than the one before, and name
        the new set in its receipt."""
        history = cls.genesis(genesis)
        for n, change in enumerate(changes):
            height = change.header.height

            def bad(reason: str, n: int = n, height: int = height) -> ProofError:
                return ProofError(
                    "bad_voter_change",
                    f"change of voters {n + 1} (block {height}): {reason}",
                    index=n + 1,
                    height=height,
                    reason=reason,
                )

            if history.sets and height < history.sets[-1][0]:
                raise bad("it is not later than the change before it")
            try:
                change.verify_in(history)
            except ProofError as e:
                raise bad(str(e)) from None
            if change.tx.tx.contract != SYSTEM_CONTRACT:
                raise bad("it is not a system transaction")
            if not change.receipt.success:
                raise bad("its transaction failed")
            named = [e for e in change.receipt.events if e.contract == SYSTEM_CONTRACT and e.topic == VOTERS_CHANGED]
            if len(named) != 1:
                raise bad("its receipt does not name one new voter set")
            try:
                voters = decode_voters(named[0].data)
            except CodecError as e:
                raise bad(str(e)) from None
            if not voters:
                raise bad("it names no voter")
            history.sets.append((height + 1, tuple(voters)))
        return history

    def at(self, height: int) -> tuple[VoterKey, ...]:
        """The voters in force at ``height``."""
        for start, voters in reversed(self.sets):
            if start <= height:
                return voters
        return ()


@dataclass(frozen=True)
class TxProof:
    """A transaction and its receipt, proven to be in a committed block."""

    header: BlockHeader
    attestations: tuple[Attestation, ...]
    tx: SignedTx
    tx_path: MerkleProof
    receipt: ProvenReceipt
    receipt_path: MerkleProof
    voter_changes: tuple[TxProof, ...] = ()

    @classmethod
    def from_json(cls, j: Mapping[str, Any], what: str = "proof") -> TxProof:
        return cls(
            header=BlockHeader.from_json(_get(j, "header", what), f"{what}.header"),
            attestations=tuple(
                Attestation.from_json(a, f"{what}.attestations[{n}]")
                for n, a in enumerate(_list(j, "attestations", what))
            ),
            tx=SignedTx.from_json(_get(j, "tx", what)),
            tx_path=MerkleProof.from_json(_get(j, "tx_path", what), f"{what}.tx_path"),
            receipt=ProvenReceipt.from_json(_get(j, "receipt", what), f"{what}.receipt"),
            receipt_path=MerkleProof.from_json(_get(j, "receipt_path", what), f"{what}.receipt_path"),
            voter_changes=tuple(
                TxProof.from_json(c, f"{what}.voter_changes[{n}]")
                for n, c in enumerate(_list(j, "voter_changes", what, []))
            ),
        )

    def verify(self, genesis: Genesis) -> None:
        """Checks the proof against ``genesis``, following the voters through the changes it carries."""
        self.verify_in(VoterHistory.follow(genesis, self.voter_changes))

    def verify_in(self, history: VoterHistory) -> None:
        """Checks the proof against the voters of ``history``; :class:`ProofError` if it does not hold."""
        h = self.header
        if h.chain_id != history.chain_id:
            raise ProofError(
                "wrong_chain",
                f"the block is of chain {h.chain_id}, the genesis founds {history.chain_id}",
                expected=history.chain_id,
                got=h.chain_id,
            )
        tx_hash = self.tx.hash()
        if not self.tx_path.verify(tx_hash, h.tx_root):
            raise ProofError(
                "tx_not_in_block",
                "the transaction is not in the block (Merkle path does not lead to the transaction root)",
            )
        if (
            self.receipt.tx_hash != tx_hash
            or self.receipt_path.leaf_index != self.tx_path.leaf_index
            or not self.receipt_path.verify(self.receipt.hash(), h.receipts_root)
        ):
            raise ProofError("receipt_not_in_block", "the receipt is not the transaction's receipt in the block")
        voters = history.at(h.height)
        if voter_set_hash(voters) != h.voters_hash:
            raise ProofError(
                "unknown_voters",
                f"block {h.height} names other voters than the proof leads to: the proof lacks a change of voters "
                "before it, or holds one that is not the chain's",
                height=h.height,
            )
        block_hash = h.hash()
        signed = set()
        for a in self.attestations:
            if a.height != h.height or a.block_hash != block_hash:
                continue
            voter = next((v for v in voters if v.node == a.node), None)
            if voter is not None and a.verify(voter.public_key):
                signed.add(voter.node)
        if len(signed) * 2 <= len(voters):
            raise ProofError(
                "not_attested",
                f"{len(signed)} of the {len(voters)} voters in force attest block {h.height}; more than half must",
                height=h.height,
                valid=len(signed),
                voters=len(voters),
            )
