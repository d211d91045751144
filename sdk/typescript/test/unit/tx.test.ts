import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  Domain,
  Key,
  type Tx,
  decodeSignedTx,
  encodeSignedTx,
  encodeTx,
  newTxId,
  parseVersion,
  signTx,
  toHex,
  txHash,
  verifySignature,
  verifyTx,
} from '../../src/index.js';
import { sha256, utf8, concat } from '../../src/bytes.js';

const tx: Tx = {
  chain_id: 'billflow-devnet',
  tx_id: 'tx-1',
  tenant: 'demo-platform',
  signer: 'demo-platform.key1',
  contract: 'flows',
  version: '1.0.0',
  method: 'party.register',
  args: '0102',
  timestamp_ms: 1767225600000,
};

test('a Tx encodes as docs/encoding.md lays it out', () => {
  const str = (s: string) => {
    const b = utf8(s);
    const n = new Uint8Array(4);
    new DataView(n.buffer).setUint32(0, b.length, true);
    return toHex(concat(n, b));
  };
  const expected =
    str('billflow-devnet') +
    str('tx-1') +
    '01' + str('demo-platform') +
    str('demo-platform.key1') +
    str('flows') +
    '010000000000000000000000' +
    str('party.register') +
    '020000000102' +
    toHex(new Uint8Array(new BigUint64Array([1767225600000n]).buffer));
  assert.equal(toHex(encodeTx(tx)), expected);
  // No tenant: the option byte 0 and nothing else in its place.
  const prefix = str('billflow-devnet') + str('tx-1');
  assert.equal(toHex(encodeTx({ ...tx, tenant: null })), prefix + '00' + expected.slice(prefix.length + 2 + str('demo-platform').length));
});

test('a signed Tx is signed with domain separation, round-trips and hashes in its domain', () => {
  const key = Key.generate();
  const stx = signTx(tx, key);
  assert.ok(verifyTx(stx, key.publicKey));
  assert.ok(verifySignature(key.publicKey, Domain.TxSignature, encodeTx(tx), Buffer.from(stx.signature, 'hex')));
  assert.ok(!verifyTx({ ...stx, tx: { ...tx, timestamp_ms: tx.timestamp_ms + 1 } }, key.publicKey));
  const bytes = encodeSignedTx(stx);
  assert.deepEqual(decodeSignedTx(bytes), stx);
  const tag = utf8('billflow/v1/tx');
  assert.equal(txHash(stx), toHex(sha256(Uint8Array.of(tag.length), tag, bytes)));
  assert.throws(() => decodeSignedTx(concat(bytes, Uint8Array.of(0))), /trailing/);
  assert.throws(() => encodeTx({ ...tx, tx_id: 'has space' }), { code: 'E_SDK_INVALID' });
  assert.throws(() => encodeTx({ ...tx, version: '1.0' }), { code: 'E_SDK_INVALID' });
});

test('versions and new ids', () => {
  assert.deepEqual(parseVersion('10.0.4294967295'), [10, 0, 4294967295]);
  for (const bad of ['1.0', '01.0.0', '1.0.0.0', '1.0.4294967296', 'a.b.c', '']) assert.throws(() => parseVersion(bad), bad);
  for (let i = 0; i < 2000; i++) {
    const id = newTxId('flows');
    assert.match(id, /^flows-[0-9a-f]{16}$/);
    assert.match(id.slice(6), /[a-f]/, 'never sixteen decimal digits (a card number to the ledger)');
  }
});
