/**
 * Merkle trees over 32-byte item hashes, shaped as in RFC 9162: leaves and
 * inner nodes are hashed in their own domains, and an inclusion proof is the
 * audit path verified as RFC 9162 §2.1.3.2 says.
 */

import { bytesEqual, concat, fromHex } from './bytes.js';
import { Domain, domainHash } from './keys.js';
import type { MerkleProof } from './types.js';

function leafHash(item: Uint8Array): Uint8Array {
  return domainHash(Domain.MerkleLeaf, item);
}

function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return domainHash(Domain.MerkleNode, concat(left, right));
}

/** The largest power of two strictly smaller than `n` (`n >= 2`). */
function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** The Merkle root of `items` (the empty tree's hash for none). */
export function merkleRoot(items: Uint8Array[]): Uint8Array {
  if (items.length === 0) return domainHash(Domain.MerkleEmpty);
  if (items.length === 1) return leafHash(items[0]!);
  const k = split(items.length);
  return nodeHash(merkleRoot(items.slice(0, k)), merkleRoot(items.slice(k)));
}

/** Whether `proof` shows `item` under `root` (false for any malformed proof). */
export function verifyMerkleProof(proof: MerkleProof, item: Uint8Array, root: Uint8Array): boolean {
  const { leaf_index: index, tree_size: size } = proof;
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return false;
  if (!Array.isArray(proof.path)) return false;
  // Index arithmetic on bigints: sizes are u64 on the ledger.
  let fn = BigInt(index);
  let sn = BigInt(size) - 1n;
  let r = leafHash(item);
  for (const hex of proof.path) {
    let p: Uint8Array;
    try {
      p = fromHex(hex, 32);
    } catch {
      return false;
    }
    if (sn === 0n) return false;
    if ((fn & 1n) === 1n || fn === sn) {
      r = nodeHash(p, r);
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      r = nodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n && bytesEqual(r, root);
}

/** An inclusion proof for `items[index]` (for tests and tools). */
export function buildMerkleProof(items: Uint8Array[], index: number): MerkleProof | undefined {
  if (index < 0 || index >= items.length) return undefined;
  const path: Uint8Array[] = [];
  const collect = (part: Uint8Array[], i: number): void => {
    if (part.length <= 1) return;
    const k = split(part.length);
    if (i < k) {
      collect(part.slice(0, k), i);
      path.push(merkleRoot(part.slice(k)));
    } else {
      collect(part.slice(k), i - k);
      path.push(merkleRoot(part.slice(0, k)));
    }
  };
  collect(items, index);
  return { leaf_index: index, tree_size: items.length, path: path.map((p) => Buffer.from(p).toString('hex')) };
}
