"""Evidence on a real devnet: submit a document's hash with metadata, have the
notaries co-sign it, and verify its proof offline against the genesis file."""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from typing import Any

import pytest

import billflow
from billflow import evidence

pytestmark = pytest.mark.devnet


def test_evidence_is_submitted_notarised_and_verified_offline(
    client: billflow.Client, as_: Callable[[str], billflow.Client], devnet: dict[str, Any]
) -> None:
    document = os.urandom(1000)
    digest = evidence.document_hash(document)
    receipt = client.evidence.submit(
        document, doc_type="purchase_contract", metadata={"order": "PO-2025-001", "pages": "12"}
    )
    submitted = receipt.event("evidence.submitted")
    assert submitted is not None and submitted.decoded["hash"] == digest.hex()
    assert submitted.decoded["submitter"] == f"tenant:{client.tenant}"

    verdict = client.evidence.verify(digest, genesis_hash=devnet["genesis_hash"])
    assert verdict.doc_type == "purchase_contract" and not verdict.notarised
    assert verdict.metadata == [("order", "PO-2025-001"), ("pages", "12")]
    assert verdict.tx_id == receipt.tx_id and verdict.submitted_at == receipt.height

    for notary in devnet["notary_keys"]:
        as_(notary["owner"]).evidence.cosign(digest)
    verdict = client.evidence.verify(digest, genesis_hash=devnet["genesis_hash"])
    assert verdict.notarised
    assert verdict.cosigned_by == [k["key_id"] for k in devnet["notary_keys"]]

    # Offline, with the proof and the genesis file alone; a tampered proof is refused.
    proof = client.evidence.proof(digest)
    assert proof is not None
    assert evidence.verify(proof, devnet["genesis"], digest.hex(), genesis_hash=devnet["genesis_hash"]).notarised
    forged = copy.deepcopy(proof)
    forged["submit"]["receipt"]["fuel_used"] += 1
    with pytest.raises(billflow.VerificationError) as e:
        evidence.verify(forged, devnet["genesis"], digest)
    assert e.value.kind == "proof" and e.value.cause is not None and e.value.cause.kind == "receipt_not_in_block"
    with pytest.raises(billflow.VerificationError, match="the proof is for"):
        evidence.verify(proof, devnet["genesis"], evidence.document_hash(b"another document"))


def test_a_second_submission_of_a_document_is_refused(client: billflow.Client) -> None:
    document = os.urandom(64)
    client.evidence.submit(document)
    with pytest.raises(billflow.TransactionFailed) as e:
        client.evidence.submit(document)
    assert e.value.code == "E_DUPLICATE_EVIDENCE" and e.value.receipt.height is not None
    assert client.evidence.proof(evidence.document_hash(os.urandom(8))) is None


def test_a_transactions_proof_verifies_offline(client: billflow.Client, devnet: dict[str, Any]) -> None:
    receipt = client.evidence.submit(os.urandom(48))
    proof = client.verify_transaction(receipt.tx_id, genesis_hash=devnet["genesis_hash"])
    assert proof.tx.tx.tx_id == receipt.tx_id and proof.header.height == receipt.height
    assert proof.receipt.hash() and proof.tx.hash().hex() == receipt.tx_hash
    forged = client.transaction_proof(receipt.tx_id)
    forged["receipt"]["events"][0]["data"] = "00"
    with pytest.raises(billflow.ProofError) as e:
        billflow.TxProof.from_json(forged).verify(billflow.Genesis.load(devnet["genesis"]))
    assert e.value.kind == "receipt_not_in_block"
