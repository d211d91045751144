import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Key, canonicalRequest, queryEscape, signRequest } from '../../src/index.js';

// The worked example of docs/api.md ("Signed requests"), held by a unit test of node/types/src/request.rs.
test('the worked example of the API docs holds byte for byte', () => {
  const key = Key.fromSeed(new Uint8Array(32).fill(3));
  assert.equal(key.publicKeyHex, 'ed4928c628d1c2c6eae90338905995612959273a5c63f93636c14614ac8737d1');
  const lines = canonicalRequest('get', '/v1/blocks', 'limit=2', 1767225600000, 'nonce-0123456789ab');
  assert.equal(
    lines,
    'GET\n/v1/blocks\nlimit=2\n1767225600000\nnonce-0123456789ab\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  );
  const headers = signRequest({ key, keyId: 'k1' }, 'GET', '/v1/blocks', 'limit=2', undefined, {
    timestampMs: 1767225600000,
    nonce: 'nonce-0123456789ab',
  });
  assert.deepEqual(headers, {
    'x-billflow-key': 'k1',
    'x-billflow-timestamp': '1767225600000',
    'x-billflow-nonce': 'nonce-0123456789ab',
    'x-billflow-signature':
      '8d886c99aaff09043d098405d40ac037732ce6d62593d177a14cb974e1e3e56c9fd90bca3261d8f2e8ff3b82cedaf534e8da450d080bc27a8ccf404567290a0b',
  });
});

test('a body is covered by its SHA-256, and a bad nonce is refused', () => {
  const body = new Uint8Array(Buffer.from('{}'));
  assert.match(canonicalRequest('POST', '/v1/transactions', 'wait=true', 1, 'n'.repeat(16), body), /\n44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a$/);
  const key = Key.generate();
  assert.throws(() => signRequest({ key, keyId: 'k' }, 'GET', '/', '', undefined, { nonce: 'short' }), { code: 'E_SDK_INVALID' });
});

test('query values are escaped as the gateway decodes them (as the Rust SDK does)', () => {
  assert.equal(queryEscape('tenant:demo-platform/key:k1'), 'tenant:demo-platform%2Fkey:k1');
  assert.equal(queryEscape('2026-11-21T10:00:00.000Z'), '2026-11-21T10:00:00.000Z');
  assert.equal(queryEscape('a b&c=d'), 'a%20b%26c%3Dd');
  assert.equal(queryEscape('付'), '%E4%BB%98');
  assert.equal(queryEscape('bill.,risk.alert'), 'bill.%2Crisk.alert');
});
