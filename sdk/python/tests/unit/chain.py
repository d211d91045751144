"""A synthetic chain for offline proof tests: genesis, blocks, attestations and
proofs made with keys the test holds, encoded exactly as a node does."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from billflow import Domain, Key, Tx
from billflow.proof import BlockHeader, ProvenReceipt, ReceiptEvent, VoterKey, encode_voters, voter_set_hash

CHAIN = "test-chain"


def merkle_path(items: Sequence[bytes], index: int) -> list[bytes]:
    """The audit path of ``items[index]`` (port of ``MerkleProof::build``)."""
    from billflow.proof import merkle_root

    if len(items) <= 1:
        return []
    k = 1
    while k << 1 < len(items):
        k <<= 1
    if index < k:
        return [*merkle_path(items[:k], index), merkle_root(items[k:])]
    return [*merkle_path(items[k:], index - k), merkle_root(items[:k])]


class Chain:
    def __init__(self, voters: int = 3) -> None:
        self.keys = {f"node-{chr(97 + i)}": Key.generate() for i in range(voters + 2)}
        self.genesis_voters = sorted(self.keys)[:voters]
        self.admin = Key.generate()

    def voter_keys(self, nodes: Sequence[str]) -> list[VoterKey]:
        return sorted(VoterKey(n, self.keys[n].public_key) for n in nodes)

    def genesis(self) -> dict[str, Any]:
        return {
            "chain_id": CHAIN,
            "genesis_time_ms": 1_700_000_000_000,
            "organisations": [
                {
                    "id": "org-1",
                    "name": "Org 1",
                    "role": "notary",
                    "admin_keys": [{"key_id": "org-1.admin", "public_key": self.admin.public_hex}],
                }
            ],
            "nodes": [
                {
                    "id": n,
                    "org": "org-1",
                    "public_key": self.keys[n].public_hex,
                    "peer_id": "p",
                    "role": "voter" if n in self.genesis_voters else "observer",
                }
                for n in sorted(self.keys)
            ],
            "admin_policy": {"min_approving_orgs": 1},
        }

    def proof(
        self,
        height: int,
        *,
        voters: Sequence[str],
        attesters: Sequence[str],
        contract: str = "evidence",
        method: str = "submit",
        events: Sequence[tuple[str, str, bytes]] = (),
        success: bool = True,
        siblings: int = 2,
        index: int = 1,
        chain_id: str = CHAIN,
    ) -> dict[str, Any]:
        signer = Key.generate()
        tx = Tx(chain_id, f"t-{height}-{os.urandom(3).hex()}", None, "k1", contract, "1.0.0", method, b"\x01", 5)
        signed = tx.sign(signer)
        receipt = ProvenReceipt(
            signed.hash(),
            tx.tx_id,
            success,
            None if success else ("E_X", "no"),
            tuple(ReceiptEvent(*e) for e in events),
            10,
        )
        tx_hashes = [os.urandom(32) for _ in range(siblings + 1)]
        receipt_hashes = [os.urandom(32) for _ in range(siblings + 1)]
        tx_hashes[index], receipt_hashes[index] = signed.hash(), receipt.hash()
        from billflow.proof import merkle_root

        header = BlockHeader(
            chain_id,
            height,
            bytes(32),
            merkle_root(tx_hashes),
            merkle_root(receipt_hashes),
            bytes(32),
            len(tx_hashes),
            voters[0],
            1_700_000_000_000 + height,
            1,
            height,
            voter_set_hash(self.voter_keys(voters)),
        )
        block_hash = header.hash()
        attestations = [
            {
                "height": height,
                "block_hash": block_hash.hex(),
                "node": n,
                "signature": self.keys[n]
                .sign(Domain.BLOCK_ATTESTATION, height.to_bytes(8, "little") + block_hash)
                .hex(),
            }
            for n in attesters
        ]
        return {
            "header": {
                "chain_id": chain_id,
                "height": height,
                "prev_hash": "00" * 32,
                "tx_root": header.tx_root.hex(),
                "receipts_root": header.receipts_root.hex(),
                "state_hash": "00" * 32,
                "tx_count": header.tx_count,
                "proposer": header.proposer,
                "proposed_at_ms": header.proposed_at_ms,
                "consensus": {"term": 1, "index": height},
                "voters_hash": header.voters_hash.hex(),
            },
            "attestations": attestations,
            "tx": signed.to_json(),
            "tx_path": {
                "leaf_index": index,
                "tree_size": len(tx_hashes),
                "path": [h.hex() for h in merkle_path(tx_hashes, index)],
            },
            "receipt": {
                "tx_hash": signed.hash().hex(),
                "tx_id": tx.tx_id,
                "status": "success" if success else "failed",
                "failure": None if success else {"code": "E_X", "message": "no"},
                "events": [{"contract": c, "topic": t, "data": d.hex()} for c, t, d in events],
                "fuel_used": 10,
            },
            "receipt_path": {
                "leaf_index": index,
                "tree_size": len(receipt_hashes),
                "path": [h.hex() for h in merkle_path(receipt_hashes, index)],
            },
        }

    def change(
        self,
        height: int,
        *,
        old: Sequence[str],
        new: Sequence[str],
        attesters: Sequence[str] | None = None,
        **options: Any,
    ) -> dict[str, Any]:
        """A proven change of voters from ``old`` to ``new`` at ``height``."""
        event = ("system", "voters.changed", encode_voters(self.voter_keys(new)))
        options = {"contract": "system", "method": "propose_admin", "events": [event], **options}
        return self.proof(height, voters=old, attesters=list(attesters if attesters is not None else old), **options)
