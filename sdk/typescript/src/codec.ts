/**
 * Contract arguments, results and events from JSON and back, driven by the
 * contract's interface document (`GET /v1/contracts/{name}/interface`): every
 * type a method or event names is described there by one of a few kinds, each
 * with its canonical (Borsh) bytes and its JSON form.
 *
 * | kind | bytes | JSON |
 * |---|---|---|
 * | unit | nothing | `null` |
 * | bool | 0 or 1 | `true` / `false` |
 * | int (1, 2, 4, 8, 16 bytes, signed or not) | little-endian | a number; 8 and 16 bytes also a bigint or a decimal string |
 * | string | `u32` length, UTF-8 | a string |
 * | bytes | `u32` length, bytes | lower-case hex |
 * | fixed_bytes N | N bytes | hex of 2N digits |
 * | option T | 0, or 1 then T | `null` or T |
 * | vec T | `u32` count, items | an array |
 * | array N T | N items | an array of N |
 * | tuple | each in order | an array |
 * | struct | fields in order | an object with exactly those keys |
 * | newtype T | as T | as T |
 * | enum | index byte, then the variant's data | `"V"`, or `{"V": data}` |
 *
 * Byte strings may also be given as `Uint8Array`. Decoded 8- and 16-byte
 * integers are numbers when they fit a double exactly and decimal strings
 * otherwise (see {@link DecodeOptions.int64}).
 */

import { Reader, Writer } from './borsh.js';
import { toHex } from './bytes.js';
import { CodecError, InvalidInputError } from './errors.js';

/** The definition of one type. */
export type TypeDef =
  | { kind: 'unit' }
  | { kind: 'bool' }
  | { kind: 'int'; bytes: 1 | 2 | 4 | 8 | 16; signed: boolean }
  | { kind: 'string' }
  | { kind: 'bytes' }
  | { kind: 'fixed_bytes'; length: number }
  | { kind: 'option'; type: string }
  | { kind: 'vec'; type: string }
  | { kind: 'array'; length: number; type: string }
  | { kind: 'tuple'; types: string[] }
  | { kind: 'struct'; fields: Array<{ name: string; type: string }> }
  | { kind: 'newtype'; type: string }
  | { kind: 'enum'; variants: Array<{ name: string; index: number; type: string | null }> };

/** A method of a contract. */
export interface MethodDef {
  name: string;
  /** `write` (a transaction) or `query` (read-only). */
  kind: 'write' | 'query';
  /** The type of its arguments. */
  args: string;
  /** The type of its output. */
  result: string;
}

/** An event topic and the type of its data. */
export interface EventDef {
  topic: string;
  data: string;
}

/** A contract's interface document. */
export interface InterfaceDocument {
  contract: string;
  version: string;
  methods: MethodDef[];
  events: EventDef[];
  types: Record<string, TypeDef>;
}

/** How decoded values look. */
export interface DecodeOptions {
  /**
   * 8- and 16-byte integers as `number` when exact and a decimal string
   * otherwise (`auto`, the default), always as `bigint`, or always as a string.
   */
  int64?: 'auto' | 'bigint' | 'string';
}

/** A JSON-like value as the codec reads it (plus `bigint` and `Uint8Array` on input). */
export type Value = unknown;

const MAX_DEPTH = 128;

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (v instanceof Uint8Array) return 'bytes';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(typeof v === 'bigint' ? String(v) : v)}`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

const HEX = /^(?:[0-9a-f]{2})*$/;

function hexBytes(v: unknown, path: string, length?: number): Uint8Array {
  let bytes: Uint8Array;
  if (v instanceof Uint8Array) {
    bytes = v;
  } else if (typeof v === 'string' && HEX.test(v)) {
    bytes = new Uint8Array(Buffer.from(v, 'hex'));
  } else {
    throw new CodecError(path, `expected lower-case hex${length === undefined ? '' : ` of ${2 * length} digits`}, got ${describe(v)}`);
  }
  if (length !== undefined && bytes.length !== length) {
    throw new CodecError(path, `expected ${length} bytes (${2 * length} hex digits), got ${bytes.length}`);
  }
  return bytes;
}

function integer(v: unknown, path: string, bytes: number, signed: boolean): bigint {
  let x: bigint;
  if (typeof v === 'bigint') {
    x = v;
  } else if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new CodecError(path, `expected an integer, got ${v}`);
    if (!Number.isSafeInteger(v)) {
      throw new CodecError(path, `${v} is beyond a double's exact integers: give a bigint or a decimal string`);
    }
    x = BigInt(v);
  } else if (typeof v === 'string' && bytes >= 8 && /^-?(0|[1-9][0-9]*)$/.test(v)) {
    x = BigInt(v);
  } else {
    const also = bytes >= 8 ? ', a bigint or a decimal string' : '';
    throw new CodecError(path, `expected an integer (a number${also}), got ${describe(v)}`);
  }
  const bits = BigInt(8 * bytes);
  const [min, max] = signed ? [-(1n << (bits - 1n)), (1n << (bits - 1n)) - 1n] : [0n, (1n << bits) - 1n];
  if (x < min || x > max) {
    throw new CodecError(path, `${x} is out of range for ${signed ? 'i' : 'u'}${8 * bytes} (${min} to ${max})`);
  }
  return x;
}

/** A contract's interface: encodes and decodes what its methods and events carry. */
export class ContractInterface {
  readonly document: InterfaceDocument;
  private readonly methods = new Map<string, MethodDef>();
  private readonly events = new Map<string, EventDef>();

  /** Checks `document` (every type named is defined, every definition well formed). */
  constructor(document: InterfaceDocument) {
    if (!isObject(document) || typeof document.contract !== 'string' || !isObject(document.types)) {
      throw new InvalidInputError('an interface document has contract, version, methods, events and types');
    }
    this.document = document;
    for (const [name, def] of Object.entries(document.types)) this.check(name, def);
    for (const m of document.methods ?? []) {
      this.ensure(m.args, `method ${m.name} args`);
      this.ensure(m.result, `method ${m.name} result`);
      this.methods.set(m.name, m);
    }
    for (const e of document.events ?? []) {
      this.ensure(e.data, `event ${e.topic}`);
      this.events.set(e.topic, e);
    }
  }

  /** The contract's name. */
  get contract(): string {
    return this.document.contract;
  }

  /** The version the document describes. */
  get version(): string {
    return this.document.version;
  }

  /** The method `name`, or an {@link InvalidInputError} naming those there are. */
  method(name: string): MethodDef {
    const m = this.methods.get(name);
    if (!m) {
      const known = [...this.methods.keys()].join(', ');
      throw new InvalidInputError(`${this.contract} ${this.version} has no method ${name} (it has ${known})`);
    }
    return m;
  }

  /** Every method. */
  listMethods(): MethodDef[] {
    return [...this.methods.values()];
  }

  /** The canonical bytes of `method`'s arguments given as JSON. */
  encodeArgs(method: string, args: Value): Uint8Array {
    return this.encode(this.method(method).args, args, 'args');
  }

  /** `method`'s arguments from their canonical bytes. */
  decodeArgs(method: string, bytes: Uint8Array, options?: DecodeOptions): Value {
    return this.decode(this.method(method).args, bytes, options);
  }

  /** `method`'s output from its canonical bytes. */
  decodeResult(method: string, bytes: Uint8Array, options?: DecodeOptions): Value {
    return this.decode(this.method(method).result, bytes, options);
  }

  /** The data of an event of `topic`, decoded; `undefined` if the interface does not name the topic. */
  decodeEvent(topic: string, data: Uint8Array, options?: DecodeOptions): Value | undefined {
    const e = this.events.get(topic);
    return e ? this.decode(e.data, data, options) : undefined;
  }

  /** The canonical bytes of `value` as type `type`. */
  encode(type: string, value: Value, path = ''): Uint8Array {
    const w = new Writer();
    this.write(w, type, value, path, 0);
    return w.finish();
  }

  /** A value of type `type` from all of `bytes` (trailing bytes refused). */
  decode(type: string, bytes: Uint8Array, options: DecodeOptions = {}): Value {
    const r = new Reader(bytes);
    let v: Value;
    try {
      v = this.read(r, type, options, 0);
      r.end();
    } catch (e) {
      if (e instanceof CodecError) throw new CodecError('', `${type} does not decode: ${e.message}`);
      throw e;
    }
    return v;
  }

  private def(name: string): TypeDef {
    const d = this.document.types[name];
    if (!d) throw new CodecError('', `the interface does not define type ${name}`);
    return d;
  }

  private ensure(name: unknown, where: string): void {
    if (typeof name !== 'string' || !Object.hasOwn(this.document.types, name)) {
      throw new InvalidInputError(`interface of ${this.contract}: ${where} names undefined type ${String(name)}`);
    }
  }

  private check(name: string, d: TypeDef): void {
    const bad = (why: string): never => {
      throw new InvalidInputError(`interface of ${this.contract}: type ${name}: ${why}`);
    };
    if (!isObject(d)) bad('not a definition');
    switch (d.kind) {
      case 'unit':
      case 'bool':
      case 'string':
      case 'bytes':
        return;
      case 'int':
        if (![1, 2, 4, 8, 16].includes(d.bytes) || typeof d.signed !== 'boolean') bad('int is 1, 2, 4, 8 or 16 bytes, signed or not');
        return;
      case 'fixed_bytes':
        if (!Number.isInteger(d.length) || d.length < 0) bad('fixed_bytes needs a length');
        return;
      case 'option':
      case 'vec':
      case 'newtype':
        return this.ensure(d.type, `type ${name}`);
      case 'array':
        if (!Number.isInteger(d.length) || d.length < 0) bad('array needs a length');
        return this.ensure(d.type, `type ${name}`);
      case 'tuple':
        if (!Array.isArray(d.types)) bad('tuple needs types');
        return d.types.forEach((t) => this.ensure(t, `type ${name}`));
      case 'struct': {
        if (!Array.isArray(d.fields)) bad('struct needs fields');
        const seen = new Set<string>();
        for (const f of d.fields) {
          if (typeof f.name !== 'string' || seen.has(f.name)) bad(`field ${String(f.name)} is unnamed or repeated`);
          seen.add(f.name);
          this.ensure(f.type, `type ${name} field ${f.name}`);
        }
        return;
      }
      case 'enum': {
        if (!Array.isArray(d.variants)) bad('enum needs variants');
        const names = new Set<string>();
        const indexes = new Set<number>();
        for (const v of d.variants) {
          if (typeof v.name !== 'string' || names.has(v.name)) bad(`variant ${String(v.name)} is unnamed or repeated`);
          if (!Number.isInteger(v.index) || v.index < 0 || v.index > 255 || indexes.has(v.index)) {
            bad(`variant ${v.name} has a bad or repeated index`);
          }
          names.add(v.name);
          indexes.add(v.index);
          if (v.type !== null) this.ensure(v.type, `type ${name} variant ${v.name}`);
        }
        return;
      }
      default:
        bad(`unknown kind ${JSON.stringify((d as { kind: unknown }).kind)}`);
    }
  }

  private write(w: Writer, type: string, v: Value, path: string, depth: number): void {
    if (depth > MAX_DEPTH) throw new CodecError(path, 'nested too deeply');
    const d = this.def(type);
    const at = (p: string | number): string => (typeof p === 'number' ? `${path}[${p}]` : path ? `${path}.${p}` : p);
    switch (d.kind) {
      case 'unit':
        if (v !== null && v !== undefined) throw new CodecError(path, `expected null, got ${describe(v)}`);
        return;
      case 'bool':
        if (typeof v !== 'boolean') throw new CodecError(path, `expected true or false, got ${describe(v)}`);
        w.bool(v);
        return;
      case 'int':
        w.int(integer(v, path, d.bytes, d.signed), d.bytes, d.signed);
        return;
      case 'string':
        if (typeof v !== 'string') throw new CodecError(path, `expected a string, got ${describe(v)}`);
        if (/\p{Cs}/u.test(v)) {
          throw new CodecError(path, 'the string holds a lone surrogate: it has no UTF-8 form');
        }
        w.string(v);
        return;
      case 'bytes':
        w.bytes(hexBytes(v, path));
        return;
      case 'fixed_bytes':
        w.raw(hexBytes(v, path, d.length));
        return;
      case 'option':
        if (v === null || v === undefined) {
          w.u8(0);
        } else {
          w.u8(1);
          this.write(w, d.type, v, path, depth + 1);
        }
        return;
      case 'vec':
        if (!Array.isArray(v)) throw new CodecError(path, `expected an array, got ${describe(v)}`);
        w.u32(v.length);
        v.forEach((item, i) => this.write(w, d.type, item, at(i), depth + 1));
        return;
      case 'array':
        if (!Array.isArray(v) || v.length !== d.length) {
          throw new CodecError(path, `expected an array of ${d.length}, got ${Array.isArray(v) ? `${v.length} items` : describe(v)}`);
        }
        v.forEach((item, i) => this.write(w, d.type, item, at(i), depth + 1));
        return;
      case 'tuple':
        if (!Array.isArray(v) || v.length !== d.types.length) {
          throw new CodecError(path, `expected an array of ${d.types.length}, got ${Array.isArray(v) ? `${v.length} items` : describe(v)}`);
        }
        d.types.forEach((t, i) => this.write(w, t, v[i], at(i), depth + 1));
        return;
      case 'struct': {
        if (!isObject(v)) throw new CodecError(path, `expected an object with ${d.fields.map((f) => f.name).join(', ')}, got ${describe(v)}`);
        const unknown = Object.keys(v).filter((k) => !d.fields.some((f) => f.name === k));
        if (unknown.length > 0) throw new CodecError(path, `unknown field ${unknown.join(', ')} (${type} has ${d.fields.map((f) => f.name).join(', ')})`);
        for (const f of d.fields) {
          if (!Object.hasOwn(v, f.name)) throw new CodecError(at(f.name), 'missing');
          this.write(w, f.type, v[f.name], at(f.name), depth + 1);
        }
        return;
      }
      case 'newtype':
        this.write(w, d.type, v, path, depth + 1);
        return;
      case 'enum': {
        const names = d.variants.map((x) => x.name).join(', ');
        let name: string;
        let data: unknown = null;
        if (typeof v === 'string') {
          name = v;
        } else if (isObject(v) && Object.keys(v).length === 1) {
          name = Object.keys(v)[0]!;
          data = v[name];
        } else {
          throw new CodecError(path, `expected "VARIANT" or {"VARIANT": data} of ${type} (${names}), got ${describe(v)}`);
        }
        const variant = d.variants.find((x) => x.name === name);
        if (!variant) throw new CodecError(path, `${type} has no variant ${JSON.stringify(name)} (it has ${names})`);
        w.u8(variant.index);
        if (variant.type === null) {
          if (typeof v !== 'string') throw new CodecError(path, `variant ${name} carries no data: write "${name}"`);
        } else {
          if (typeof v === 'string') throw new CodecError(path, `variant ${name} carries data: give {"${name}": ...}`);
          this.write(w, variant.type, data, at(name), depth + 1);
        }
        return;
      }
    }
  }

  private read(r: Reader, type: string, o: DecodeOptions, depth: number): Value {
    if (depth > MAX_DEPTH) throw new CodecError('', 'nested too deeply');
    const d = this.def(type);
    switch (d.kind) {
      case 'unit':
        return null;
      case 'bool':
        return r.bool();
      case 'int': {
        const x = r.int(d.bytes, d.signed);
        if (d.bytes < 8) return Number(x);
        const mode = o.int64 ?? 'auto';
        if (mode === 'bigint') return x;
        if (mode === 'string') return x.toString();
        return x >= BigInt(Number.MIN_SAFE_INTEGER) && x <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(x) : x.toString();
      }
      case 'string':
        return r.string();
      case 'bytes':
        return toHex(r.bytes());
      case 'fixed_bytes':
        return toHex(r.raw(d.length));
      case 'option':
        return r.option((rr) => this.read(rr, d.type, o, depth + 1));
      case 'vec':
        return r.vec((rr) => this.read(rr, d.type, o, depth + 1));
      case 'array':
        return Array.from({ length: d.length }, () => this.read(r, d.type, o, depth + 1));
      case 'tuple':
        return d.types.map((t) => this.read(r, t, o, depth + 1));
      case 'struct': {
        const out: Record<string, Value> = {};
        for (const f of d.fields) out[f.name] = this.read(r, f.type, o, depth + 1);
        return out;
      }
      case 'newtype':
        return this.read(r, d.type, o, depth + 1);
      case 'enum': {
        const index = r.u8();
        const variant = d.variants.find((x) => x.index === index);
        if (!variant) throw new CodecError('', `${type} has no variant with index ${index}`);
        return variant.type === null ? variant.name : { [variant.name]: this.read(r, variant.type, o, depth + 1) };
      }
    }
  }
}
