import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { inspect } from 'node:util';
import { test } from 'node:test';

import { Domain, Key, fromHex, toHex, verifySignature } from '../../src/index.js';

test('keys round-trip through PKCS#8 PEM and sign in their domain', () => {
  const key = Key.generate();
  const again = Key.fromPem(key.toPem());
  assert.equal(again.publicKeyHex, key.publicKeyHex);
  const msg = new Uint8Array([1, 2, 3]);
  const sig = key.sign(Domain.TxSignature, msg);
  assert.equal(sig.length, 64);
  assert.ok(verifySignature(key.publicKey, Domain.TxSignature, msg, sig));
  assert.ok(!verifySignature(key.publicKey, Domain.ApiRequest, msg, sig), 'another domain');
  assert.ok(!verifySignature(key.publicKey, Domain.TxSignature, new Uint8Array([1, 2, 4]), sig), 'another message');
  // Node's own PEM (what crypto.generateKeyPairSync('ed25519') writes) is read as well.
  const pem = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  assert.equal(Key.fromPem(pem).publicKey.length, 32);
});

test('keys that are not PKCS#8 ed25519 are refused with a typed error', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  assert.throws(() => Key.fromPem(rsa), { name: 'InvalidInputError', code: 'E_SDK_INVALID' });
  assert.throws(() => Key.fromPem('not a key'), { code: 'E_SDK_INVALID' });
  assert.throws(() => Key.fromFile('/nonexistent/key.pem'), { code: 'E_SDK_INVALID' });
});

test('weak keys and signatures are refused, as verify_strict refuses them', () => {
  const identity = new Uint8Array(32);
  identity[0] = 1;
  const key = Key.generate();
  const msg = new Uint8Array([9]);
  const sig = key.sign(Domain.Tx, msg);
  assert.ok(!verifySignature(identity, Domain.Tx, msg, sig));
  const weakR = new Uint8Array(sig);
  weakR.set(identity, 0);
  assert.ok(!verifySignature(key.publicKey, Domain.Tx, msg, weakR));
  // A non-canonical S (S + L) is refused.
  const L = fromHex('edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010');
  const s = sig.slice(32);
  let carry = 0;
  const big = new Uint8Array(32);
  for (let i = 0; i < 32; i++) {
    const v = s[i]! + L[i]! + carry;
    big[i] = v & 0xff;
    carry = v >> 8;
  }
  const malleated = new Uint8Array(sig);
  malleated.set(big, 32);
  if (carry === 0) assert.ok(!verifySignature(key.publicKey, Domain.Tx, msg, malleated));
});

test('a key never shows its secret', () => {
  const key = Key.fromSeed(new Uint8Array(32).fill(9));
  const seedHex = toHex(new Uint8Array(32).fill(9));
  for (const shown of [String(key), JSON.stringify(key), inspect(key)]) {
    assert.ok(!shown.includes(seedHex), shown);
    assert.ok(shown.includes(key.publicKeyHex));
  }
});
