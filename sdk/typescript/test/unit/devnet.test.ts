import assert from 'node:assert/strict';
import { test } from 'node:test';

import { creditCodeCheckChar, isValidCreditCode } from '../../src/index.js';

test('unified social credit codes: the demo enterprises are, banks are not', () => {
  for (const id of ['91310000MA1FL0001R', '91320500MA1FL0002T', '91330100MA1FL0003D']) assert.ok(isValidCreditCode(id), id);
  for (const id of ['bank-a', '91310000MA1FL0001X', '91310000MA1FL0001', 'notary-1-notary']) assert.ok(!isValidCreditCode(id), id);
  assert.equal(creditCodeCheckChar('91310000MA1FL0001'), 'R');
});
