import assert from 'node:assert/strict';
import { test } from 'node:test';

import { buildMerkleProof, domainHash, Domain, merkleRoot, verifyMerkleProof, toHex } from '../../src/index.js';
import { concat } from '../../src/bytes.js';

const items = (n: number): Uint8Array[] =>
  Array.from({ length: n }, (_, i) => {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(i), true);
    return domainHash(Domain.Tx, b);
  });

test('the tree is shaped as RFC 9162 says', () => {
  const it = items(3);
  const leaf = (x: Uint8Array) => domainHash(Domain.MerkleLeaf, x);
  const node = (a: Uint8Array, b: Uint8Array) => domainHash(Domain.MerkleNode, concat(a, b));
  assert.equal(toHex(merkleRoot(it)), toHex(node(node(leaf(it[0]!), leaf(it[1]!)), leaf(it[2]!))));
  assert.equal(toHex(merkleRoot(it.slice(0, 1))), toHex(leaf(it[0]!)));
  assert.notEqual(toHex(merkleRoot([])), toHex(merkleRoot(it.slice(0, 1))));
});

test('every leaf of trees of 1 to 40 items proves, and wrong proofs do not', () => {
  for (let n = 1; n <= 40; n++) {
    const it = items(n);
    const root = merkleRoot(it);
    for (let i = 0; i < n; i++) {
      const proof = buildMerkleProof(it, i)!;
      assert.ok(verifyMerkleProof(proof, it[i]!, root), `${i} of ${n}`);
      assert.ok(!verifyMerkleProof(proof, domainHash(Domain.Receipt, new Uint8Array([1])), root));
      if (n > 1) {
        assert.ok(!verifyMerkleProof({ ...proof, leaf_index: (i + 1) % n }, it[i]!, root), 'moved');
        assert.ok(!verifyMerkleProof({ ...proof, path: proof.path.slice(0, -1) }, it[i]!, root), 'short');
        assert.ok(!verifyMerkleProof({ ...proof, path: [...proof.path, toHex(root)] }, it[i]!, root), 'long');
        const tampered = [...proof.path];
        tampered[0] = tampered[0]!.replace(/^./, (c) => (c === '0' ? '1' : '0'));
        assert.ok(!verifyMerkleProof({ ...proof, path: tampered }, it[i]!, root), 'tampered');
      }
    }
    assert.ok(!verifyMerkleProof({ leaf_index: n, tree_size: n, path: [] }, it[0]!, root), 'out of range');
  }
});
