/**
 * Transactions: the `Tx` envelope in its canonical encoding (chain_id, tx_id,
 * tenant, signer, contract, version, method, args, timestamp_ms), signed by
 * ed25519 in the `billflow/v1/tx-signature` domain; a `SignedTx` is the `Tx`
 * and the 64-byte signature, and its hash in the `billflow/v1/tx` domain is
 * its identity in blocks and proofs.
 */

import { randomBytes } from 'node:crypto';

import { Reader, Writer, decodeAll } from './borsh.js';
import { fromHex, toHex } from './bytes.js';
import { CodecError, InvalidInputError } from './errors.js';
import { Domain, type Key, domainHash, verifySignature } from './keys.js';
import type { SignedTx, Tx } from './types.js';

const ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** Whether `s` is a ledger identifier: 1 to 64 characters of `A-Z a-z 0-9 . _ : -`. */
export function isValidId(s: string): boolean {
  return typeof s === 'string' && ID.test(s);
}

/** `s`, if it is a valid identifier of kind `what`; else an {@link InvalidInputError}. */
export function checkId(s: string, what: string): string {
  if (!isValidId(s)) {
    throw new InvalidInputError(`${what} must be 1 to 64 characters of A-Z a-z 0-9 . _ : -, got ${JSON.stringify(s)}`);
  }
  return s;
}

/** A contract version, `MAJOR.MINOR.PATCH`, as three `u32`. */
export function parseVersion(s: string): [number, number, number] {
  const parts = typeof s === 'string' ? s.split('.') : [];
  const nums = parts.map((p) => (/^(0|[1-9][0-9]{0,9})$/.test(p) ? Number(p) : NaN));
  if (nums.length !== 3 || nums.some((n) => !(n <= 0xffff_ffff))) {
    throw new InvalidInputError(`a version is MAJOR.MINOR.PATCH with decimal numbers, got ${JSON.stringify(s)}`);
  }
  return nums as [number, number, number];
}

function writeTx(w: Writer, tx: Tx): void {
  w.string(checkId(tx.chain_id, 'chain_id'));
  w.string(checkId(tx.tx_id, 'tx_id'));
  w.option(tx.tenant, (ww, t) => ww.string(checkId(t, 'tenant')));
  w.string(checkId(tx.signer, 'signer'));
  w.string(checkId(tx.contract, 'contract'));
  for (const n of parseVersion(tx.version)) w.u32(n);
  w.string(checkId(tx.method, 'method'));
  w.bytes(fromHex(tx.args, undefined, 'args'));
  if (!Number.isSafeInteger(tx.timestamp_ms) || tx.timestamp_ms < 0) {
    throw new InvalidInputError('timestamp_ms must be a non-negative integer');
  }
  w.u64(tx.timestamp_ms);
}

/** The canonical bytes of a `Tx` (what its signature covers, after the domain prefix). */
export function encodeTx(tx: Tx): Uint8Array {
  const w = new Writer();
  writeTx(w, tx);
  return w.finish();
}

/** Writes a `SignedTx`. */
export function writeSignedTx(w: Writer, stx: SignedTx): void {
  writeTx(w, stx.tx);
  w.raw(fromHex(stx.signature, 64, 'signature'));
}

/** The canonical bytes of a `SignedTx`: what `POST /v1/transactions` takes as `application/octet-stream`. */
export function encodeSignedTx(stx: SignedTx): Uint8Array {
  const w = new Writer();
  writeSignedTx(w, stx);
  return w.finish();
}

function readId(r: Reader, what: string): string {
  const s = r.string();
  if (!isValidId(s)) throw new CodecError(what, `not a valid identifier: ${JSON.stringify(s.slice(0, 64))}`);
  return s;
}

/** Reads a `SignedTx`. */
export function readSignedTx(r: Reader): SignedTx {
  const tx: Tx = {
    chain_id: readId(r, 'chain_id'),
    tx_id: readId(r, 'tx_id'),
    tenant: r.option((rr) => readId(rr, 'tenant')),
    signer: readId(r, 'signer'),
    contract: readId(r, 'contract'),
    version: [r.u32(), r.u32(), r.u32()].join('.'),
    method: readId(r, 'method'),
    args: toHex(r.bytes()),
    timestamp_ms: r.u64n(),
  };
  return { tx, signature: toHex(r.raw(64)) };
}

/** A `SignedTx` from its canonical bytes (strict: trailing bytes and bad identifiers refused). */
export function decodeSignedTx(bytes: Uint8Array): SignedTx {
  return decodeAll(bytes, readSignedTx);
}

/** Signs `tx` with `key`: ed25519 over `len ‖ "billflow/v1/tx-signature" ‖ encoded Tx`. */
export function signTx(tx: Tx, key: Key): SignedTx {
  return { tx: { ...tx }, signature: toHex(key.sign(Domain.TxSignature, encodeTx(tx))) };
}

/** Whether `stx`'s signature is `publicKey`'s. */
export function verifyTx(stx: SignedTx, publicKey: Uint8Array): boolean {
  return verifySignature(publicKey, Domain.TxSignature, encodeTx(stx.tx), fromHex(stx.signature, 64, 'signature'));
}

/** The transaction hash (hex): `H(billflow/v1/tx, encoded SignedTx)`. */
export function txHash(stx: SignedTx): string {
  return toHex(txHashBytes(stx));
}

/** The transaction hash as bytes. */
export function txHashBytes(stx: SignedTx): Uint8Array {
  return domainHash(Domain.Tx, encodeSignedTx(stx));
}

/**
 * A new transaction id: `prefix-` and 16 random hex digits. An id of sixteen
 * decimal digits could read as a bank card number, which the ledger refuses
 * as personal data (`E_PERSONAL_DATA`): such a draw is drawn again.
 */
export function newTxId(prefix = 'tx'): string {
  for (;;) {
    const tail = randomBytes(8).toString('hex');
    if (/[a-f]/.test(tail)) return checkId(`${prefix}-${tail}`, 'tx_id');
  }
}
