"""Proof checks offline: the recorded devnet proof and its tampered forms, and
a synthetic chain whose voters change (every refusal of proof.rs)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from billflow import Genesis, ProofError, TxProof, VerificationError, evidence
from billflow.codec import Interface
from billflow.proof import MerkleProof, merkle_root

from .chain import Chain, merkle_path

DATA = Path(__file__).parent.parent / "data"
GENESIS_HASH = "0e2e71ecf6d5eaeca5e2e1ff5cff6de2ef90294fc8a27b98155642b4583288b9"
PROOF = json.loads((DATA / "evidence-proof.json").read_text())
HASH = PROOF["hash"]
GENESIS = DATA / "genesis.json"
RECORDS = Interface({"contract": "evidence", "version": "1.0.0", "methods": [], "types": evidence.TYPES})


def tampered(change: Any) -> dict[str, Any]:
    proof = copy.deepcopy(PROOF)
    change(proof)
    return proof


def refusal(proof: dict[str, Any], genesis: Any = GENESIS, hash: str = HASH) -> VerificationError:
    with pytest.raises(VerificationError) as e:
        evidence.verify(proof, genesis, hash)
    return e.value


def test_the_recorded_notarised_proof_holds() -> None:
    verdict = evidence.verify(PROOF, GENESIS, HASH, genesis_hash=GENESIS_HASH)
    assert verdict.notarised and verdict.submitted_at == PROOF["summary"]["height"]
    assert verdict.cosigned_by == ["notary-1-notary.k1", "notary-3-notary.k1"]
    assert verdict.doc_type == "invoice_scan" and verdict.metadata == [("order", "PO-1")]
    assert verdict.submitter == "tenant:demo-platform"


def test_another_genesis_or_document_is_refused() -> None:
    with pytest.raises(VerificationError, match="does not hash to"):
        evidence.verify(PROOF, GENESIS, HASH, genesis_hash="00" * 32)
    assert refusal(PROOF, hash="11" * 32).kind == "other_document"
    other = json.loads(GENESIS.read_text())
    other["chain_id"] = "another-chain"
    e = refusal(PROOF, other)
    assert e.kind == "proof" and e.cause is not None and e.cause.kind == "wrong_chain"
    fewer = json.loads(GENESIS.read_text())
    fewer["nodes"] = [n for n in fewer["nodes"] if n["id"] != "bank-2-1"]
    assert refusal(PROOF, fewer).cause.kind == "unknown_voters"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("change", "kind", "words"),
    [
        (lambda p: p["submit"]["tx"]["tx"].update(timestamp_ms=1), "tx_not_in_block", "not in the block"),
        (lambda p: p["submit"]["receipt"].update(fuel_used=1), "receipt_not_in_block", "not the transaction's"),
        (lambda p: p["submit"]["receipt_path"].update(leaf_index=1, tree_size=2), "receipt_not_in_block", ""),
        (lambda p: p["submit"]["header"].update(state_hash="00" * 32), "not_attested", "0 of the 3 voters"),
        (lambda p: p["submit"].update(attestations=p["submit"]["attestations"][:1]), "not_attested", "1 of the 3"),
        (lambda p: p["submit"].update(attestations=[p["submit"]["attestations"][0]] * 3), "not_attested", "1 of"),
        (
            lambda p: p["cosigns"][1]["attestations"][0].update(
                signature=p["cosigns"][1]["attestations"][1]["signature"]
            ),
            None,
            "",
        ),
    ],
)
def test_tampered_transaction_proofs_are_refused(change: Any, kind: str | None, words: str) -> None:
    proof = tampered(change)
    if kind is None:  # one attestation broken, the others still a majority
        evidence.verify(proof, GENESIS, HASH)
        return
    e = refusal(proof)
    assert e.kind == "proof" and e.cause is not None and e.cause.kind == kind
    assert words in str(e)


def record_with(**changes: Any) -> str:
    record = RECORDS.decode("EvidenceRecord", bytes.fromhex(PROOF["record"]))
    record.update(changes)
    return RECORDS.encode("EvidenceRecord", record).hex()


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda p: p.update(record=record_with(doc_type="contract")), "document type 'contract'"),
        (lambda p: p.update(record=record_with(metadata=[["order", "PO-2"]])), "metadata is not the submission's"),
        (lambda p: p.update(record=record_with(submitter="org:bank-2")), "submitter org:bank-2"),
        (lambda p: p.update(record=record_with(height=1)), "height or time"),
        (lambda p: p.update(record=record_with(tx_id="other")), "not the one the submission made"),
        (lambda p: p.update(record=record_with(notarised_at=None)), "notarisation is not the one"),
        (lambda p: p.update(record=PROOF["record"] + "00"), "does not decode"),
        (lambda p: p.update(cosigns=p["cosigns"][:1]), "lists 2 co-signatures, the proof proves 1"),
        (lambda p: p.update(cosigns=p["cosigns"][::-1]), "claims to notarise the record with 1 notary offices"),
        (
            lambda p: p.update(
                record=record_with(
                    signatures=[
                        {**s, "notary": "notary-9"}
                        for s in RECORDS.decode("EvidenceRecord", bytes.fromhex(PROOF["record"]))["signatures"]
                    ]
                )
            ),
            "co-signature 1 of the record (notary-9) is not the proven one",
        ),
        (lambda p: p.update(cosigns=[p["submit"]]), "calls evidence.submit, not evidence.cosign"),
    ],
)
def test_records_that_are_not_what_the_transactions_prove_are_refused(change: Any, words: str) -> None:
    e = refusal(tampered(change))
    assert e.kind == "mismatch" and words in str(e)


def test_malformed_proofs_are_refused() -> None:
    assert refusal(tampered(lambda p: p["submit"].pop("header"))).kind == "malformed"
    assert refusal(tampered(lambda p: p["submit"]["header"].update(tx_root="zz"))).kind == "malformed"


def test_merkle_paths_follow_rfc_9162() -> None:
    for n in range(1, 40):
        items = [bytes([i]) * 32 for i in range(n)]
        root = merkle_root(items)
        for i in range(n):
            proof = MerkleProof(i, n, tuple(merkle_path(items, i)))
            assert proof.verify(items[i], root)
            assert not proof.verify(bytes([99]) * 32, root)
            if n > 1:
                assert not MerkleProof((i + 1) % n, n, proof.path).verify(items[i], root)
                assert not MerkleProof(i, n, proof.path[:-1]).verify(items[i], root)
                assert not MerkleProof(i, n, (*proof.path, root)).verify(items[i], root)
    assert not MerkleProof(3, 3, ()).verify(bytes(32), merkle_root([bytes(32)] * 3))


# ---- voters that change (a synthetic chain) ----


@pytest.fixture
def chain() -> Chain:
    return Chain(voters=3)


def check(chain: Chain, proof: dict[str, Any], changes: list[dict[str, Any]]) -> None:
    TxProof.from_json({**proof, "voter_changes": changes}).verify(Genesis.from_json(chain.genesis()))


def test_voters_are_followed_through_proven_changes(chain: Chain) -> None:
    a, b, c, d, e = sorted(chain.keys)
    check(chain, chain.proof(3, voters=[a, b, c], attesters=[a, b]), [])
    change = chain.change(5, old=[a, b, c], new=[b, c, d])
    later = chain.proof(9, voters=[b, c, d], attesters=[c, d])
    check(chain, later, [change])
    with pytest.raises(ProofError, match="names other voters") as err:
        check(chain, later, [])  # the change left out
    assert err.value.kind == "unknown_voters"
    # The revoked voter's attestation no longer counts.
    with pytest.raises(ProofError, match="1 of the 3 voters in force attest block 9"):
        check(chain, chain.proof(9, voters=[b, c, d], attesters=[a, b]), [change])
    # A block before the change is still checked under the genesis voters.
    check(chain, chain.proof(4, voters=[a, b, c], attesters=[a, c]), [change])
    # Two changes in a row.
    second = chain.change(7, old=[b, c, d], new=[c, d, e], attesters=[b, d])
    check(chain, chain.proof(8, voters=[c, d, e], attesters=[d, e]), [change, second])


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda ch, v: [ch.change(5, old=v[:3], new=v[1:4], contract="evidence")], "not a system transaction"),
        (lambda ch, v: [ch.change(5, old=v[:3], new=v[1:4], success=False)], "its transaction failed"),
        (lambda ch, v: [ch.change(5, old=v[:3], new=v[1:4], events=[])], "does not name one new voter set"),
        (lambda ch, v: [ch.change(5, old=v[:3], new=[])], "it names no voter"),
        (lambda ch, v: [ch.change(5, old=v[:3], new=v[1:4], attesters=v[3:5])], "0 of the 3 voters"),
        (
            lambda ch, v: [ch.change(5, old=v[:3], new=v[1:4]), ch.change(3, old=v[1:4], new=v[:3])],
            "not later than the change before it",
        ),
    ],
)
def test_bad_changes_of_voters_are_refused(chain: Chain, make: Any, words: str) -> None:
    nodes = sorted(chain.keys)
    with pytest.raises(ProofError, match=words) as err:
        check(chain, chain.proof(9, voters=nodes[1:4], attesters=nodes[1:4]), make(chain, nodes))
    assert err.value.kind == "bad_voter_change"
