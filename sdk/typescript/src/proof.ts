/**
 * Proofs that a transaction and its receipt are in a block the network
 * committed, checked offline against the genesis document alone (a port of
 * node/types/src/proof.rs, with the same refusals).
 *
 * A proof holds when the transaction's and the receipt's Merkle paths lead
 * to the header's roots, the header names the voter set the verifier
 * followed to its height, and more than half of those voters signed the
 * header's hash. The voters are followed from genesis through the proven
 * changes of voters the proof carries: each is itself a system transaction
 * proven under the set before it, whose receipt names the new set in one
 * `voters.changed` event.
 */

import { bytesEqual, fromHex, toHex } from './bytes.js';
import { blockHash, decodeVoterKeys, genesisVoters, receiptHash, verifyAttestation, voterSetHash, type VoterKey } from './chain.js';
import { ProofError } from './errors.js';
import { verifyMerkleProof } from './merkle.js';
import { txHashBytes } from './tx.js';
import type { Genesis, TxProof } from './types.js';

/** The system contract's name. */
export const SYSTEM_CONTRACT = 'system';
/** The system event that names the voters in force from the next block on. */
export const VOTERS_CHANGED = 'voters.changed';

/** The voter sets from genesis on, each with the height it is in force from. */
export class VoterHistory {
  private constructor(
    readonly chainId: string,
    /** `[first height, voters]`, heights increasing; the first from 1. */
    private readonly sets: Array<[number, VoterKey[]]>,
  ) {}

  /** The genesis voters only. */
  static genesis(genesis: Genesis): VoterHistory {
    return new VoterHistory(genesis.chain_id, [[1, genesisVoters(genesis)]]);
  }

  /**
   * Follows the voters from `genesis` through `changes`: each must be proven
   * under the set in force at its height, no earlier than the change before,
   * be a successful system transaction and name exactly one new, non-empty set.
   */
  static follow(genesis: Genesis, changes: readonly TxProof[]): VoterHistory {
    const history = VoterHistory.genesis(genesis);
    changes.forEach((change, n) => {
      const height = change.header?.height;
      const bad = (reason: string): ProofError =>
        new ProofError(`change of voters ${n + 1} (block ${height}): ${reason}`);
      const last = history.sets[history.sets.length - 1]!;
      if (height < last[0]) throw bad('it is not later than the change before it');
      try {
        verifyTxProofIn(change, history);
      } catch (e) {
        throw bad((e as Error).message);
      }
      if (change.tx.tx.contract !== SYSTEM_CONTRACT) throw bad('it is not a system transaction');
      if (change.receipt.status !== 'success') throw bad('its transaction failed');
      const named = change.receipt.events.filter((e) => e.contract === SYSTEM_CONTRACT && e.topic === VOTERS_CHANGED);
      if (named.length !== 1) throw bad('its receipt does not name one new voter set');
      let voters: VoterKey[];
      try {
        voters = decodeVoterKeys(fromHex(named[0]!.data));
      } catch (e) {
        throw bad((e as Error).message);
      }
      if (voters.length === 0) throw bad('it names no voter');
      history.sets.push([height + 1, voters]);
    });
    return history;
  }

  /** The voters in force at `height`. */
  at(height: number): VoterKey[] {
    for (let i = this.sets.length - 1; i >= 0; i--) {
      const [from, voters] = this.sets[i]!;
      if (from <= height) return voters;
    }
    return [];
  }
}

/** Checks `proof` against `genesis`, following the voters through the changes it carries. */
export function verifyTxProof(proof: TxProof, genesis: Genesis): void {
  verifyTxProofIn(proof, VoterHistory.follow(genesis, proof.voter_changes ?? []));
}

/** Checks `proof` against the voters of `history`; throws a {@link ProofError} saying why it does not hold. */
export function verifyTxProofIn(proof: TxProof, history: VoterHistory): void {
  const h = proof.header;
  if (h.chain_id !== history.chainId) {
    throw new ProofError(`the block is of chain ${h.chain_id}, the genesis founds ${history.chainId}`);
  }
  let txHash: Uint8Array;
  let txRoot: Uint8Array;
  try {
    txHash = txHashBytes(proof.tx);
    txRoot = fromHex(h.tx_root, 32);
  } catch {
    throw new ProofError('the transaction is not in the block (Merkle path does not lead to the transaction root)');
  }
  if (!verifyMerkleProof(proof.tx_path, txHash, txRoot)) {
    throw new ProofError('the transaction is not in the block (Merkle path does not lead to the transaction root)');
  }
  const receiptNotInBlock = new ProofError("the receipt is not the transaction's receipt in the block");
  let receiptOk: boolean;
  try {
    receiptOk =
      String(proof.receipt.tx_hash).toLowerCase() === toHex(txHash) &&
      proof.receipt_path.leaf_index === proof.tx_path.leaf_index &&
      verifyMerkleProof(proof.receipt_path, receiptHash(proof.receipt), fromHex(h.receipts_root, 32));
  } catch {
    receiptOk = false;
  }
  if (!receiptOk) throw receiptNotInBlock;
  const voters = history.at(h.height);
  if (!bytesEqual(voterSetHash(voters), fromHex(h.voters_hash, 32))) {
    throw new ProofError(
      `block ${h.height} names other voters than the proof leads to: the proof lacks a change of voters before it, ` +
        "or holds one that is not the chain's",
    );
  }
  const hash = toHex(blockHash(h));
  const signed = new Set<string>();
  for (const a of proof.attestations ?? []) {
    if (a.height !== h.height || String(a.block_hash).toLowerCase() !== hash) continue;
    const voter = voters.find((v) => v.node === a.node);
    if (voter && verifyAttestation(a, voter.publicKey)) signed.add(voter.node);
  }
  if (signed.size * 2 <= voters.length) {
    throw new ProofError(`${signed.size} of the ${voters.length} voters in force attest block ${h.height}; more than half must`, {
      notYetAttested: true,
    });
  }
}
