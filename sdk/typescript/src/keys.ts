/**
 * ed25519 keys (RFC 8032, pure ed25519) from `node:crypto`, and the ledger's
 * domain separation: every hash and signature is over `len(tag) ‖ tag ‖
 * data` with a one-byte tag length (docs/encoding.md, "Hashes and signatures").
 */

import {
  type KeyObject,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign as edSign,
  verify as edVerify,
} from 'node:crypto';
import { readFileSync } from 'node:fs';

import { concat, fromHex, sha256, toHex, utf8 } from './bytes.js';
import { InvalidInputError } from './errors.js';

/** The domain tags of docs/encoding.md. */
export const Domain = {
  Tx: 'billflow/v1/tx',
  TxSignature: 'billflow/v1/tx-signature',
  BlockHeader: 'billflow/v1/block-header',
  Receipt: 'billflow/v1/receipt',
  MerkleLeaf: 'billflow/v1/merkle-leaf',
  MerkleNode: 'billflow/v1/merkle-node',
  MerkleEmpty: 'billflow/v1/merkle-empty',
  Genesis: 'billflow/v1/genesis',
  GenesisSignature: 'billflow/v1/genesis-signature',
  BlockAttestation: 'billflow/v1/block-attestation',
  ApiRequest: 'billflow/v1/api-request',
  VoterSet: 'billflow/v1/voter-set',
  AuditAnchor: 'billflow/v1/audit-anchor',
} as const;

/** One of the ledger's domain tags. */
export type DomainTag = (typeof Domain)[keyof typeof Domain];

/** `len(tag) ‖ tag`: what every hashed or signed message of a domain starts with. */
export function domainPrefix(tag: DomainTag): Uint8Array {
  const t = utf8(tag);
  return concat(Uint8Array.of(t.length), t);
}

/** `H(domain, parts) = SHA-256(len(tag) ‖ tag ‖ parts...)`. */
export function domainHash(tag: DomainTag, ...parts: Uint8Array[]): Uint8Array {
  return sha256(domainPrefix(tag), ...parts);
}

// DER framing of a raw 32-byte ed25519 seed (PKCS#8) and public key (SPKI).
const PKCS8_PREFIX = fromHex('302e020100300506032b657004220420');
const SPKI_PREFIX = fromHex('302a300506032b6570032100');

/**
 * The encodings of the points of small order, compared without the sign bit
 * (as libsodium does): a public key or signature `R` among them is refused,
 * as ed25519-dalek's `verify_strict` refuses weak keys.
 */
const SMALL_ORDER = [
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000000',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
].map((h) => fromHex(h));

/** Whether a 32-byte point encoding is of small order (a weak key, or a weak signature `R`). */
export function isSmallOrder(point: Uint8Array): boolean {
  return SMALL_ORDER.some((p) => p.every((b, i) => (i === 31 ? (point[31]! & 0x7f) === b : point[i] === b)));
}

/** An ed25519 signing key. It never shows its secret: not in `toString`, not in JSON. */
export class Key {
  readonly #secret: KeyObject;
  /** The 32-byte public key. */
  readonly publicKey: Uint8Array;

  private constructor(secret: KeyObject) {
    if (secret.asymmetricKeyType !== 'ed25519') {
      throw new InvalidInputError(`the key is ${secret.asymmetricKeyType ?? 'not asymmetric'}, not ed25519`);
    }
    this.#secret = secret;
    const spki = createPublicKey(secret).export({ format: 'der', type: 'spki' });
    this.publicKey = new Uint8Array(spki.subarray(spki.length - 32));
  }

  /** A key from PKCS#8 PEM text (`-----BEGIN PRIVATE KEY-----`, RFC 8410). */
  static fromPem(pem: string | Uint8Array): Key {
    const text = typeof pem === 'string' ? pem : Buffer.from(pem).toString('utf8');
    if (!text.includes('-----BEGIN PRIVATE KEY-----')) {
      throw new InvalidInputError('an ed25519 key is PKCS#8 PEM (-----BEGIN PRIVATE KEY-----)');
    }
    let secret: KeyObject;
    try {
      secret = createPrivateKey({ key: text, format: 'pem' });
    } catch (e) {
      throw new InvalidInputError('the key is not a readable PKCS#8 PEM private key', { cause: e });
    }
    return new Key(secret);
  }

  /** A key from a PKCS#8 PEM file (what `billflow keys new` writes). */
  static fromFile(path: string): Key {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      throw new InvalidInputError(`cannot read the key file ${path}`, { cause: e });
    }
    try {
      return Key.fromPem(text);
    } catch (e) {
      throw new InvalidInputError(`${path}: ${(e as Error).message}`, { cause: e });
    }
  }

  /** The key whose 32-byte seed is `seed` (RFC 8032 secret key). */
  static fromSeed(seed: Uint8Array): Key {
    if (seed.length !== 32) throw new InvalidInputError('an ed25519 seed is 32 bytes');
    return new Key(createPrivateKey({ key: Buffer.from(concat(PKCS8_PREFIX, seed)), format: 'der', type: 'pkcs8' }));
  }

  /** A fresh random key. */
  static generate(): Key {
    return new Key(generateKeyPairSync('ed25519').privateKey);
  }

  /** The key as PKCS#8 PEM, to store it (keep the file secret). */
  toPem(): string {
    return this.#secret.export({ format: 'pem', type: 'pkcs8' }).toString();
  }

  /** The public key in lower-case hex. */
  get publicKeyHex(): string {
    return toHex(this.publicKey);
  }

  /** Signs `message` in domain `tag`: ed25519 over `len(tag) ‖ tag ‖ message`. */
  sign(tag: DomainTag, message: Uint8Array): Uint8Array {
    return new Uint8Array(edSign(null, concat(domainPrefix(tag), message), this.#secret));
  }

  toString(): string {
    return `Key(public ${this.publicKeyHex})`;
  }

  toJSON(): { publicKey: string } {
    return { publicKey: this.publicKeyHex };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

/**
 * Whether `signature` is `publicKey`'s over `message` in domain `tag`.
 * Strict: a weak (small-order) key or signature `R` is refused, and OpenSSL
 * refuses a non-canonical `S`.
 */
export function verifySignature(
  publicKey: Uint8Array,
  tag: DomainTag,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  if (isSmallOrder(publicKey) || isSmallOrder(signature.subarray(0, 32))) return false;
  try {
    const key = createPublicKey({ key: Buffer.from(concat(SPKI_PREFIX, publicKey)), format: 'der', type: 'spki' });
    return edVerify(null, concat(domainPrefix(tag), message), key, signature);
  } catch {
    return false;
  }
}
