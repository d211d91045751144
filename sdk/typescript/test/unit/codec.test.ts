import assert from 'node:assert/strict';
import { test } from 'node:test';

import { CodecError, ContractInterface, type InterfaceDocument, toHex } from '../../src/index.js';

/** A hand-written interface using every kind of the format. */
const doc: InterfaceDocument = {
  contract: 'sample',
  version: '1.2.3',
  methods: [
    { name: 'put', kind: 'write', args: 'Sample', result: '()' },
    { name: 'get', kind: 'query', args: 'ById', result: 'Option<Sample>' },
  ],
  events: [{ topic: 'sample.put', data: 'ById' }],
  types: {
    '()': { kind: 'unit' },
    bool: { kind: 'bool' },
    u8: { kind: 'int', bytes: 1, signed: false },
    i8: { kind: 'int', bytes: 1, signed: true },
    u16: { kind: 'int', bytes: 2, signed: false },
    i32: { kind: 'int', bytes: 4, signed: true },
    u32: { kind: 'int', bytes: 4, signed: false },
    u64: { kind: 'int', bytes: 8, signed: false },
    i64: { kind: 'int', bytes: 8, signed: true },
    u128: { kind: 'int', bytes: 16, signed: false },
    String: { kind: 'string' },
    'Vec<u8>': { kind: 'bytes' },
    '[u8; 4]': { kind: 'fixed_bytes', length: 4 },
    'Option<u64>': { kind: 'option', type: 'u64' },
    'Option<Sample>': { kind: 'option', type: 'Sample' },
    'Vec<Shape>': { kind: 'vec', type: 'Shape' },
    '[u16; 2]': { kind: 'array', length: 2, type: 'u16' },
    '(bool, i8)': { kind: 'tuple', types: ['bool', 'i8'] },
    Fen: { kind: 'newtype', type: 'u64' },
    Date: { kind: 'struct', fields: [{ name: 'year', type: 'i32' }, { name: 'month', type: 'u8' }, { name: 'day', type: 'u8' }] },
    ShapeRect: { kind: 'struct', fields: [{ name: 'w', type: 'u16' }, { name: 'h', type: 'i64' }] },
    Shape: {
      kind: 'enum',
      variants: [
        { name: 'Empty', index: 0, type: null },
        { name: 'Circle', index: 1, type: 'u32' },
        { name: 'Rect', index: 2, type: 'ShapeRect' },
      ],
    },
    ById: { kind: 'struct', fields: [{ name: 'id', type: 'String' }] },
    Sample: {
      kind: 'struct',
      fields: [
        { name: 'name', type: 'String' },
        { name: 'blob', type: 'Vec<u8>' },
        { name: 'digest', type: '[u8; 4]' },
        { name: 'maybe', type: 'Option<u64>' },
        { name: 'shapes', type: 'Vec<Shape>' },
        { name: 'pair', type: '(bool, i8)' },
        { name: 'big', type: 'u128' },
        { name: 'fen', type: 'Fen' },
        { name: 'date', type: 'Date' },
        { name: 'span', type: '[u16; 2]' },
        { name: 'delta', type: 'i64' },
        { name: 'nothing', type: '()' },
      ],
    },
  },
};

const sample = {
  name: '票据',
  blob: 'ab01',
  digest: '01020304',
  maybe: 7,
  shapes: ['Empty', { Circle: 5 }, { Rect: { w: 2, h: -1 } }],
  pair: [true, -2],
  big: '340282366920938463463374607431768211455',
  fen: 100,
  date: { year: 2025, month: 3, day: 6 },
  span: [1, 65535],
  delta: -5,
  nothing: null,
};

// Written out by hand from the Borsh rules.
const expected = [
  '06000000e7a5a8e68dae', // "票据": u32 length 6, UTF-8
  '02000000ab01', // bytes
  '01020304', // fixed bytes
  '010700000000000000', // Some(7u64)
  '03000000' + '00' + '0105000000' + '02' + '0200' + 'ffffffffffffffff', // [Empty, Circle(5), Rect{w: 2, h: -1}]
  '01fe', // (true, -2)
  'ff'.repeat(16), // u128::MAX
  '6400000000000000', // Fen(100)
  'e9070000' + '03' + '06', // Date
  '0100ffff', // [1, 65535]
  'fbffffffffffffff', // -5i64
  '', // ()
].join('');

test('every kind encodes to its canonical bytes and decodes back', () => {
  const iface = new ContractInterface(doc);
  const bytes = iface.encodeArgs('put', sample);
  assert.equal(toHex(bytes), expected);
  // u128::MAX does not fit a double: it comes back as its decimal string.
  assert.deepEqual(iface.decodeArgs('put', bytes), sample);
  assert.deepEqual(iface.decodeResult('get', new Uint8Array([0])), null);
  assert.deepEqual(iface.decodeResult('get', new Uint8Array([1, ...bytes])), sample);
  assert.deepEqual(iface.decodeEvent('sample.put', iface.encode('ById', { id: 'x' })), { id: 'x' });
  assert.equal(iface.decodeEvent('other.topic', new Uint8Array()), undefined);
});

test('64-bit integers are taken as a number, a bigint or a decimal string', () => {
  const iface = new ContractInterface(doc);
  const forms = [12345678901234, 12345678901234n, '12345678901234'];
  const hex = forms.map((v) => toHex(iface.encode('u64', v)));
  assert.deepEqual(new Set(hex).size, 1);
  assert.equal(toHex(iface.encode('u64', '18446744073709551615')), 'ff'.repeat(8));
  assert.equal(iface.decode('u64', iface.encode('u64', 2n ** 64n - 1n)), '18446744073709551615');
  assert.equal(iface.decode('u64', iface.encode('u64', 2n ** 64n - 1n), { int64: 'bigint' }), 2n ** 64n - 1n);
  assert.equal(iface.decode('u64', iface.encode('u64', 5), { int64: 'string' }), '5');
  assert.equal(iface.decode('i64', iface.encode('i64', '-9223372036854775808')), '-9223372036854775808');
  assert.throws(() => iface.encode('u64', 2 ** 60), /beyond a double's exact integers/);
  assert.throws(() => iface.encode('u64', -1), /out of range for u64/);
  assert.throws(() => iface.encode('u64', '18446744073709551616'), /out of range/);
  assert.throws(() => iface.encode('u32', '5'), /expected an integer/, 'strings only for 8 and 16 bytes');
  assert.throws(() => iface.encode('u8', 256), /out of range for u8/);
  assert.throws(() => iface.encode('i8', -129), /out of range for i8/);
  assert.throws(() => iface.encode('u64', 1.5), /expected an integer/);
});

test('bad values are refused with a typed error naming where', () => {
  const iface = new ContractInterface(doc);
  const bad = (value: unknown, path: string, message: RegExp): void => {
    assert.throws(
      () => iface.encodeArgs('put', value),
      (e: unknown) => e instanceof CodecError && e.code === 'E_SDK_CODEC' && e.path === path && message.test(e.message),
    );
  };
  bad({ ...sample, name: 5 }, 'args.name', /expected a string/);
  bad({ ...sample, blob: 'AB01' }, 'args.blob', /lower-case hex/);
  bad({ ...sample, blob: 'abc' }, 'args.blob', /lower-case hex/);
  bad({ ...sample, digest: '0102' }, 'args.digest', /expected 4 bytes/);
  bad({ ...sample, shapes: ['Square'] }, 'args.shapes[0]', /no variant "Square"/);
  bad({ ...sample, shapes: ['Circle'] }, 'args.shapes[0]', /carries data/);
  bad({ ...sample, shapes: [{ Empty: null }] }, 'args.shapes[0]', /carries no data/);
  bad({ ...sample, shapes: [{ Rect: { w: 1 } }] }, 'args.shapes[0].Rect.h', /missing/);
  bad({ ...sample, pair: [true] }, 'args.pair', /array of 2/);
  bad({ ...sample, extra: 1 }, 'args', /unknown field extra/);
  const { date: _date, ...noDate } = sample;
  bad(noDate, 'args.date', /missing/);
  bad({ ...sample, maybe: 'x' }, 'args.maybe', /expected an integer/);
  assert.throws(() => iface.encodeArgs('nope', {}), { code: 'E_SDK_INVALID', message: /has no method nope/ });
});

test('decoding is strict', () => {
  const iface = new ContractInterface(doc);
  assert.throws(() => iface.decode('bool', new Uint8Array([2])), CodecError);
  assert.throws(() => iface.decode('Option<u64>', new Uint8Array([2])), CodecError);
  assert.throws(() => iface.decode('u32', new Uint8Array([1, 0, 0, 0, 0])), /trailing/);
  assert.throws(() => iface.decode('u32', new Uint8Array([1, 0])), /truncated/);
  assert.throws(() => iface.decode('String', new Uint8Array([1, 0, 0, 0, 0xff])), /UTF-8/);
  assert.throws(() => iface.decode('Shape', new Uint8Array([9])), /no variant with index 9/);
});

test('an interface naming undefined types or unknown kinds is refused', () => {
  const broken = (types: InterfaceDocument['types']): InterfaceDocument => ({ ...doc, types: { ...doc.types, ...types } });
  assert.throws(() => new ContractInterface(broken({ X: { kind: 'vec', type: 'Nope' } })), /undefined type Nope/);
  assert.throws(() => new ContractInterface(broken({ X: { kind: 'float' } as never })), /unknown kind/);
  assert.throws(() => new ContractInterface(broken({ X: { kind: 'int', bytes: 3, signed: false } as never })), /int is 1, 2, 4, 8 or 16/);
  assert.throws(() => new ContractInterface({ ...doc, methods: [{ name: 'm', kind: 'write', args: 'Nope', result: '()' }] }), /undefined type/);
});
