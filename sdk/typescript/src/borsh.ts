/**
 * Borsh, the canonical encoding (docs/encoding.md): little-endian fixed-width
 * integers, `u32` lengths before strings, byte strings and sequences, one
 * byte for `bool`, `Option` and enum tags. Decoding is strict: truncation,
 * trailing bytes, bad UTF-8, a `bool` or `Option` tag other than 0 or 1 are
 * errors, never guesses.
 */

import { CodecError } from './errors.js';

const MAX_U32 = 0xffff_ffff;

/** Appends canonical bytes. */
export class Writer {
  private chunks: Uint8Array[] = [];
  private size = 0;

  /** Raw bytes, as they are (fixed-size arrays). */
  raw(bytes: Uint8Array): this {
    this.chunks.push(bytes);
    this.size += bytes.length;
    return this;
  }

  u8(v: number): this {
    return this.raw(Uint8Array.of(v & 0xff));
  }

  bool(v: boolean): this {
    return this.u8(v ? 1 : 0);
  }

  u32(v: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v, true);
    return this.raw(b);
  }

  u64(v: bigint | number): this {
    return this.int(BigInt(v), 8, false);
  }

  /** An integer of `bytes` bytes, two's complement if `signed`; the caller checks the range. */
  int(v: bigint, bytes: number, signed: boolean): this {
    const b = new Uint8Array(bytes);
    let x = signed && v < 0n ? (1n << BigInt(8 * bytes)) + v : v;
    for (let i = 0; i < bytes; i++) {
      b[i] = Number(x & 0xffn);
      x >>= 8n;
    }
    return this.raw(b);
  }

  /** `u32` length, then the bytes. */
  bytes(v: Uint8Array): this {
    if (v.length > MAX_U32) throw new CodecError('', 'longer than a u32 length');
    return this.u32(v.length).raw(v);
  }

  /** `u32` byte length, then UTF-8. */
  string(v: string): this {
    return this.bytes(new Uint8Array(Buffer.from(v, 'utf8')));
  }

  /** `Option<T>`: 0, or 1 then the value. */
  option<T>(v: T | null | undefined, write: (w: this, v: T) => void): this {
    if (v === null || v === undefined) return this.u8(0);
    this.u8(1);
    write(this, v);
    return this;
  }

  /** `Vec<T>`: `u32` count, then each item. */
  vec<T>(items: readonly T[], write: (w: this, v: T) => void): this {
    this.u32(items.length);
    for (const item of items) write(this, item);
    return this;
  }

  /** Everything written. */
  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Reads canonical bytes, strictly. */
export class Reader {
  private at = 0;

  constructor(private readonly buf: Uint8Array) {}

  private take(n: number, what: string): Uint8Array {
    if (this.at + n > this.buf.length) {
      throw new CodecError('', `truncated: ${what} needs ${n} bytes, ${this.buf.length - this.at} left`);
    }
    const out = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }

  /** `n` raw bytes (a fixed-size array). */
  raw(n: number): Uint8Array {
    return this.take(n, `${n} bytes`).slice();
  }

  u8(): number {
    return this.take(1, 'u8')[0]!;
  }

  bool(): boolean {
    const b = this.u8();
    if (b > 1) throw new CodecError('', `a bool is 0 or 1, got ${b}`);
    return b === 1;
  }

  u32(): number {
    const b = this.take(4, 'u32');
    return new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true);
  }

  /** An integer of `bytes` bytes, two's complement if `signed`. */
  int(bytes: number, signed: boolean): bigint {
    const b = this.take(bytes, `${bytes}-byte integer`);
    let x = 0n;
    for (let i = bytes - 1; i >= 0; i--) x = (x << 8n) | BigInt(b[i]!);
    if (signed && b[bytes - 1]! & 0x80) x -= 1n << BigInt(8 * bytes);
    return x;
  }

  u64(): bigint {
    return this.int(8, false);
  }

  /** A `u64` that must be a safe JavaScript integer (heights, times). */
  u64n(): number {
    const v = this.u64();
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new CodecError('', `${v} is too large for this field`);
    return Number(v);
  }

  bytes(): Uint8Array {
    const n = this.u32();
    return this.take(n, 'byte string').slice();
  }

  string(): string {
    const n = this.u32();
    const b = this.take(n, 'string');
    try {
      return STRICT_UTF8.decode(b);
    } catch {
      throw new CodecError('', 'a string is not valid UTF-8');
    }
  }

  option<T>(read: (r: this) => T): T | null {
    const tag = this.u8();
    if (tag === 0) return null;
    if (tag === 1) return read(this);
    throw new CodecError('', `an Option tag is 0 or 1, got ${tag}`);
  }

  vec<T>(read: (r: this) => T): T[] {
    const n = this.u32();
    const out: T[] = [];
    for (let i = 0; i < n; i++) {
      const before = this.at;
      out.push(read(this));
      // A huge count of items that take no bytes would only burn time.
      if (this.at === before && n > 0xffff) throw new CodecError('', `a sequence of ${n} items of no size`);
    }
    return out;
  }

  /** Bytes not read yet. */
  get remaining(): number {
    return this.buf.length - this.at;
  }

  /** Refuses trailing bytes. */
  end(): void {
    if (this.at !== this.buf.length) {
      throw new CodecError('', `${this.buf.length - this.at} trailing bytes`);
    }
  }
}

/** Decodes all of `bytes` with `read`, refusing trailing bytes. */
export function decodeAll<T>(bytes: Uint8Array, read: (r: Reader) => T): T {
  const r = new Reader(bytes);
  const v = read(r);
  r.end();
  return v;
}
