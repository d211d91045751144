import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { type ContractInterface, type TypeDef, toHex } from '../../src/index.js';
import type { Context } from './context.js';

/**
 * A sample value of `type`, different for each `seed`: every enum variant in
 * turn, options present and absent, 64-bit integers as numbers, decimal
 * strings (their largest values) and bigints.
 */
function sample(iface: ContractInterface, type: string, seed: number, depth = 0): unknown {
  const d = iface.document.types[type] as TypeDef;
  switch (d.kind) {
    case 'unit':
      return null;
    case 'bool':
      return seed % 2 === 0;
    case 'int': {
      if (d.bytes < 8) return d.signed ? -(seed + 1) : 2 ** (8 * d.bytes) - 1 - seed;
      const max = d.signed ? (1n << BigInt(8 * d.bytes - 1)) - 1n : (1n << BigInt(8 * d.bytes)) - 1n;
      return [12345 + seed, max.toString(), d.signed ? -max - 1n : max - BigInt(seed)][seed % 3];
    }
    case 'string':
      return `s${seed}-票据`;
    case 'bytes':
      return 'ab'.repeat(seed % 3);
    case 'fixed_bytes':
      return ((seed + 1) % 256).toString(16).padStart(2, '0').repeat(d.length);
    case 'option':
      return seed % 2 === 1 || depth > 4 ? null : sample(iface, d.type, seed, depth + 1);
    case 'vec':
      return depth > 4 ? [] : [sample(iface, d.type, seed, depth + 1), sample(iface, d.type, seed + 1, depth + 1)];
    case 'array':
      return Array.from({ length: d.length }, (_, i) => sample(iface, d.type, seed + i, depth + 1));
    case 'tuple':
      return d.types.map((t, i) => sample(iface, t, seed + i, depth + 1));
    case 'struct':
      return Object.fromEntries(d.fields.map((f, i) => [f.name, sample(iface, f.type, seed + i, depth + 1)]));
    case 'newtype':
      return sample(iface, d.type, seed, depth + 1);
    case 'enum': {
      const v = d.variants[seed % d.variants.length]!;
      return v.type === null ? v.name : { [v.name]: sample(iface, v.type, seed, depth + 1) };
    }
  }
}

export function encodingSuite(ctx: Context): void {
  describe("the SDK's encoder against the node's", () => {
    for (const contract of ['flows', 'evidence', 'system']) {
      test(`every method of ${contract}: the same canonical bytes as POST /v1/contracts/${contract}/encode/{method}`, { timeout: 120_000 }, async () => {
        const client = ctx.as();
        const iface = await client.contractInterface(contract);
        const methods = iface.listMethods();
        assert.ok(methods.length > 0);
        let compared = 0;
        for (const m of methods) {
          for (let seed = 0; seed < 3; seed++) {
            const args = sample(iface, m.args, seed);
            const mine = iface.encodeArgs(m.name, args);
            const theirs = await client.encodeOnNode(contract, m.name, args);
            assert.equal(toHex(mine), toHex(theirs), `${contract} ${m.name} seed ${seed}: ${JSON.stringify(args, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))}`);
            // And back: the decoded value encodes to the same bytes.
            assert.equal(toHex(iface.encodeArgs(m.name, iface.decodeArgs(m.name, mine))), toHex(mine));
            compared += 1;
          }
        }
        assert.equal(compared, methods.length * 3);
      });
    }

    test('the node refuses what the SDK refuses', { timeout: 60_000 }, async () => {
      const client = ctx.as();
      const iface = await client.contractInterface('flows');
      const bad = { bill: 5 };
      assert.throws(() => iface.encodeArgs('bill.get', bad), { name: 'CodecError', path: 'args.bill' });
      await assert.rejects(client.encodeOnNode('flows', 'bill.get', bad), { name: 'LedgerError', code: 'E_ARGS_MISMATCH', status: 400 });
    });
  });
}
