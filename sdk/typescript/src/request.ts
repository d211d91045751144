/**
 * Signed gateway requests (docs/api.md, "Signed requests"): four headers, the
 * signature over `METHOD\nPATH\nQUERY\nTIMESTAMP\nNONCE\nSHA256HEX(BODY)` in
 * the `billflow/v1/api-request` domain.
 */

import { randomBytes } from 'node:crypto';

import { sha256, toHex, utf8 } from './bytes.js';
import { InvalidInputError } from './errors.js';
import { Domain, type Key } from './keys.js';

/** The signing key's id. */
export const HEADER_KEY = 'x-billflow-key';
/** The client's time, ms since the Unix epoch. */
export const HEADER_TIMESTAMP = 'x-billflow-timestamp';
/** A fresh nonce. */
export const HEADER_NONCE = 'x-billflow-nonce';
/** The signature, in hex. */
export const HEADER_SIGNATURE = 'x-billflow-signature';

/**
 * The lines a request signature covers, joined by `\n` with none at the end:
 * the method in upper case, the path and query exactly as sent (the query
 * without `?`, empty when there is none), the time, the nonce and the
 * lower-case hex SHA-256 of the body as sent (of no bytes for no body).
 */
export function canonicalRequest(
  method: string,
  path: string,
  query: string,
  timestampMs: number,
  nonce: string,
  body: Uint8Array = new Uint8Array(0),
): string {
  return [method.toUpperCase(), path, query, String(timestampMs), nonce, toHex(sha256(body))].join('\n');
}

/** A nonce of 32 random hex digits (the gateway takes 16 to 64 of `[A-Za-z0-9_-]`). */
export function newNonce(): string {
  return randomBytes(16).toString('hex');
}

/** Whether `nonce` has the form the gateway accepts. */
export function validNonce(nonce: string): boolean {
  return /^[A-Za-z0-9_-]{16,64}$/.test(nonce);
}

/** The hex signature of a canonical request string. */
export function signCanonicalRequest(key: Key, canonical: string): string {
  return toHex(key.sign(Domain.ApiRequest, utf8(canonical)));
}

/** What to sign a request with. */
export interface RequestSigner {
  key: Key;
  keyId: string;
}

/**
 * The four headers of a signed request. `path` and `query` must be exactly
 * what goes on the request line (`query` without `?`).
 */
export function signRequest(
  signer: RequestSigner,
  method: string,
  path: string,
  query: string,
  body?: Uint8Array,
  options: { timestampMs?: number; nonce?: string } = {},
): Record<string, string> {
  const timestampMs = options.timestampMs ?? Date.now();
  const nonce = options.nonce ?? newNonce();
  if (!validNonce(nonce)) throw new InvalidInputError('a nonce is 16 to 64 characters of [A-Za-z0-9_-]');
  const canonical = canonicalRequest(method, path, query, timestampMs, nonce, body);
  return {
    [HEADER_KEY]: signer.keyId,
    [HEADER_TIMESTAMP]: String(timestampMs),
    [HEADER_NONCE]: nonce,
    [HEADER_SIGNATURE]: signCanonicalRequest(signer.key, canonical),
  };
}

/**
 * A query value percent-encoded as the gateway decodes it (RFC 3986
 * unreserved characters and `:` kept), as the Rust SDK does.
 */
export function queryEscape(text: string): string {
  let out = '';
  for (const b of utf8(text)) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9\-._~:]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** `name=value&...` of the pairs whose value is defined, values escaped, in order. */
export function buildQuery(pairs: Array<[string, string | number | boolean | undefined]>): string {
  return pairs
    .filter((p): p is [string, string | number | boolean] => p[1] !== undefined)
    .map(([k, v]) => `${k}=${queryEscape(String(v))}`)
    .join('&');
}
