/**
 * The chain's own records in their canonical encoding: block headers and
 * their hash, receipts and their hash, attestations, voter sets, and the
 * genesis document (read strictly from `genesis.json`, hashed as the chain's
 * identity).
 */

import { readFileSync } from 'node:fs';

import { Reader, Writer, decodeAll } from './borsh.js';
import { fromHex, toHex } from './bytes.js';
import { CodecError, InvalidInputError } from './errors.js';
import { Domain, domainHash, verifySignature } from './keys.js';
import { checkId } from './tx.js';
import type {
  AdminPolicy,
  Attestation,
  BlockHeader,
  ChainParams,
  Genesis,
  GenesisKey,
  GenesisNode,
  GenesisOrg,
  GenesisSignature,
  GenesisTenant,
  Receipt,
} from './types.js';

function u64(w: Writer, v: number, what: string): void {
  if (!Number.isSafeInteger(v) || v < 0) throw new InvalidInputError(`${what} must be a non-negative integer`);
  w.u64(v);
}

function u32(w: Writer, v: number, what: string): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff_ffff) throw new InvalidInputError(`${what} must be a u32`);
  w.u32(v);
}

function hash32(w: Writer, hex: string, what: string): void {
  w.raw(fromHex(hex, 32, what));
}

/** The canonical bytes of a block header. */
export function encodeBlockHeader(h: BlockHeader): Uint8Array {
  const w = new Writer();
  w.string(checkId(h.chain_id, 'chain_id'));
  u64(w, h.height, 'height');
  hash32(w, h.prev_hash, 'prev_hash');
  hash32(w, h.tx_root, 'tx_root');
  hash32(w, h.receipts_root, 'receipts_root');
  hash32(w, h.state_hash, 'state_hash');
  u32(w, h.tx_count, 'tx_count');
  w.string(checkId(h.proposer, 'proposer'));
  u64(w, h.proposed_at_ms, 'proposed_at_ms');
  u64(w, h.consensus.term, 'consensus.term');
  u64(w, h.consensus.index, 'consensus.index');
  hash32(w, h.voters_hash, 'voters_hash');
  return w.finish();
}

/** The block hash: `H(billflow/v1/block-header, encoded header)`. */
export function blockHash(h: BlockHeader): Uint8Array {
  return domainHash(Domain.BlockHeader, encodeBlockHeader(h));
}

/** The canonical bytes of a receipt. */
export function encodeReceipt(r: Receipt): Uint8Array {
  const w = new Writer();
  hash32(w, r.tx_hash, 'tx_hash');
  w.string(checkId(r.tx_id, 'tx_id'));
  if (r.status !== 'success' && r.status !== 'failed') throw new InvalidInputError('a receipt status is success or failed');
  w.u8(r.status === 'success' ? 0 : 1);
  w.option(r.failure, (ww, f) => ww.string(f.code).string(f.message));
  w.vec(r.events, (ww, e) => {
    ww.string(checkId(e.contract, 'event contract'));
    ww.string(e.topic);
    ww.bytes(fromHex(e.data, undefined, 'event data'));
  });
  u64(w, r.fuel_used, 'fuel_used');
  return w.finish();
}

/** The receipt hash: `H(billflow/v1/receipt, encoded receipt)`. */
export function receiptHash(r: Receipt): Uint8Array {
  return domainHash(Domain.Receipt, encodeReceipt(r));
}

/** A voter: a node and the key its attestations are checked under. */
export interface VoterKey {
  node: string;
  /** 32 bytes. */
  publicKey: Uint8Array;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

function compareVoters(a: VoterKey, b: VoterKey): number {
  const an = Buffer.from(a.node, 'utf8');
  const bn = Buffer.from(b.node, 'utf8');
  return compareBytes(an, bn) || compareBytes(a.publicKey, b.publicKey);
}

/** The hash a header commits to: the voter set sorted (by node id, then key), encoded. */
export function voterSetHash(voters: readonly VoterKey[]): Uint8Array {
  const sorted = [...voters].sort(compareVoters);
  const w = new Writer();
  w.vec(sorted, (ww, v) => ww.string(v.node).raw(v.publicKey));
  return domainHash(Domain.VoterSet, w.finish());
}

/** A `Vec<VoterKey>` from its canonical bytes (a `voters.changed` event's data). */
export function decodeVoterKeys(bytes: Uint8Array): VoterKey[] {
  return decodeAll(bytes, (r: Reader) =>
    r.vec((rr) => {
      const node = rr.string();
      if (!/^[A-Za-z0-9._:-]{1,64}$/.test(node)) throw new CodecError('node', 'not a valid node id');
      return { node, publicKey: rr.raw(32) };
    }),
  );
}

/**
 * Whether `a` is `publicKey`'s signature of block `a.height` with hash
 * `a.block_hash`, and, if it carries the node's audit head, that this too is
 * the node's signature.
 */
export function verifyAttestation(a: Attestation, publicKey: Uint8Array): boolean {
  try {
    const w = new Writer();
    u64(w, a.height, 'height');
    hash32(w, a.block_hash, 'block_hash');
    if (!verifySignature(publicKey, Domain.BlockAttestation, w.finish(), fromHex(a.signature, 64, 'signature'))) {
      return false;
    }
    if (a.audit) {
      const m = new Writer();
      m.string(checkId(a.node, 'node'));
      u64(m, a.height, 'height');
      u64(m, a.audit.head.seq, 'audit seq');
      hash32(m, a.audit.head.hash, 'audit hash');
      return verifySignature(publicKey, Domain.AuditAnchor, m.finish(), fromHex(a.audit.signature, 64, 'audit signature'));
    }
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------- genesis

type Json = Record<string, unknown>;

/** Reads an object's fields strictly: every field known, the required ones present. */
function fields(v: unknown, what: string, known: string[]): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new InvalidInputError(`${what} must be an object`);
  const unknown = Object.keys(v).filter((k) => !known.includes(k));
  if (unknown.length) throw new InvalidInputError(`${what}: unknown field ${unknown.join(', ')}`);
  return v as Json;
}

function req<T>(o: Json, k: string, what: string, check: (v: unknown) => v is T, kind: string): T {
  const v = o[k];
  if (v === undefined) throw new InvalidInputError(`${what}: missing field ${k}`);
  if (!check(v)) throw new InvalidInputError(`${what}.${k} must be ${kind}`);
  return v;
}

const isStr = (v: unknown): v is string => typeof v === 'string';
const isUint = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isU32 = (v: unknown): v is number => isUint(v) && (v as number) <= 0xffff_ffff;
const isArr = (v: unknown): v is unknown[] => Array.isArray(v);
const isHex = (n: number) => (v: unknown): v is string => typeof v === 'string' && new RegExp(`^[0-9a-fA-F]{${2 * n}}$`).test(v);
const isNullableStr = (v: unknown): v is string | null => v === null || typeof v === 'string';
const oneOf = <T extends string>(...xs: T[]) => (v: unknown): v is T => typeof v === 'string' && (xs as string[]).includes(v);

const DEFAULT_PARAMS: ChainParams = {
  max_txs_per_block: 1000,
  max_block_wait_ms: 50,
  max_tx_bytes: 64 * 1024,
  max_tx_age_ms: 3_600_000,
  max_tx_future_ms: 300_000,
  max_code_bytes: 1024 * 1024,
  max_args_bytes: 32 * 1024,
  tx_fuel: 20_000_000,
};

function parseKey(v: unknown, what: string): GenesisKey {
  const o = fields(v, what, ['key_id', 'public_key']);
  return { key_id: req(o, 'key_id', what, isStr, 'a string'), public_key: req(o, 'public_key', what, isHex(32), '64 hex digits') };
}

/**
 * A genesis document from its JSON form (`genesis.json` text, or the parsed
 * object), read as strictly as the node reads it: unknown fields refused,
 * absent optional ones given their defaults.
 */
export function parseGenesis(json: string | unknown): Genesis {
  let v: unknown = json;
  if (typeof json === 'string') {
    try {
      v = JSON.parse(json);
    } catch (e) {
      throw new InvalidInputError('the genesis is not JSON', { cause: e });
    }
  }
  const g = fields(v, 'genesis', ['chain_id', 'genesis_time_ms', 'params', 'organisations', 'tenants', 'nodes', 'admin_policy', 'signatures']);
  let params = DEFAULT_PARAMS;
  if (g.params !== undefined) {
    const p = fields(g.params, 'genesis.params', Object.keys(DEFAULT_PARAMS));
    params = Object.fromEntries(
      Object.keys(DEFAULT_PARAMS).map((k) => [k, req(p, k, 'genesis.params', k.endsWith('_ms') || k === 'tx_fuel' ? isUint : isU32, 'an integer')]),
    ) as unknown as ChainParams;
  }
  const organisations = req(g, 'organisations', 'genesis', isArr, 'an array').map((x, i): GenesisOrg => {
    const what = `genesis.organisations[${i}]`;
    const o = fields(x, what, ['id', 'name', 'role', 'admin_keys', 'ca_cert_pem']);
    return {
      id: req(o, 'id', what, isStr, 'a string'),
      name: req(o, 'name', what, isStr, 'a string'),
      role: req(o, 'role', what, oneOf('notary', 'bank', 'regulator'), 'notary, bank or regulator'),
      admin_keys: req(o, 'admin_keys', what, isArr, 'an array').map((k, j) => parseKey(k, `${what}.admin_keys[${j}]`)),
      ca_cert_pem: o.ca_cert_pem === undefined ? null : req(o, 'ca_cert_pem', what, isNullableStr, 'a string or null'),
    };
  });
  const tenants = (g.tenants === undefined ? [] : req(g, 'tenants', 'genesis', isArr, 'an array')).map((x, i): GenesisTenant => {
    const what = `genesis.tenants[${i}]`;
    const o = fields(x, what, ['id', 'name', 'registered_by', 'keys']);
    return {
      id: req(o, 'id', what, isStr, 'a string'),
      name: req(o, 'name', what, isStr, 'a string'),
      registered_by: req(o, 'registered_by', what, isStr, 'a string'),
      keys: req(o, 'keys', what, isArr, 'an array').map((k, j) => parseKey(k, `${what}.keys[${j}]`)),
    };
  });
  const nodes = (g.nodes === undefined ? [] : req(g, 'nodes', 'genesis', isArr, 'an array')).map((x, i): GenesisNode => {
    const what = `genesis.nodes[${i}]`;
    const o = fields(x, what, ['id', 'org', 'public_key', 'peer_id', 'role', 'address']);
    return {
      id: req(o, 'id', what, isStr, 'a string'),
      org: req(o, 'org', what, isStr, 'a string'),
      public_key: req(o, 'public_key', what, isHex(32), '64 hex digits'),
      peer_id: req(o, 'peer_id', what, isStr, 'a string'),
      role: req(o, 'role', what, oneOf('voter', 'observer'), 'voter or observer'),
      address: o.address === undefined ? null : req(o, 'address', what, isNullableStr, 'a string or null'),
    };
  });
  const p = fields(req(g, 'admin_policy', 'genesis', (x): x is unknown => true, ''), 'genesis.admin_policy', [
    'min_approving_orgs',
    'min_share_percent',
    'regulator',
  ]);
  const admin_policy: AdminPolicy = {
    min_approving_orgs: req(p, 'min_approving_orgs', 'genesis.admin_policy', isU32, 'a u32'),
    min_share_percent: p.min_share_percent === undefined ? 0 : req(p, 'min_share_percent', 'genesis.admin_policy', isU32, 'a u32'),
    regulator: p.regulator === undefined ? 'counts' : req(p, 'regulator', 'genesis.admin_policy', oneOf('counts', 'required', 'excluded'), 'counts, required or excluded'),
  };
  const signatures = (g.signatures === undefined ? [] : req(g, 'signatures', 'genesis', isArr, 'an array')).map((x, i): GenesisSignature => {
    const what = `genesis.signatures[${i}]`;
    const o = fields(x, what, ['org', 'key_id', 'signature']);
    return {
      org: req(o, 'org', what, isStr, 'a string'),
      key_id: req(o, 'key_id', what, isStr, 'a string'),
      signature: req(o, 'signature', what, isHex(64), '128 hex digits'),
    };
  });
  const genesis: Genesis = {
    chain_id: req(g, 'chain_id', 'genesis', isStr, 'a string'),
    genesis_time_ms: req(g, 'genesis_time_ms', 'genesis', isUint, 'an integer'),
    params,
    organisations,
    tenants,
    nodes,
    admin_policy,
    signatures,
  };
  encodeGenesis(genesis); // every identifier valid
  return genesis;
}

/** A genesis document from a `genesis.json` file. */
export function readGenesisFile(path: string): Genesis {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new InvalidInputError(`cannot read the genesis file ${path}`, { cause: e });
  }
  return parseGenesis(text);
}

/** The canonical bytes of a genesis document (with its signatures). */
export function encodeGenesis(g: Genesis): Uint8Array {
  const w = new Writer();
  const key = (ww: Writer, k: GenesisKey): void => {
    ww.string(checkId(k.key_id, 'key_id'));
    hash32(ww, k.public_key, 'public_key');
  };
  w.string(checkId(g.chain_id, 'chain_id'));
  u64(w, g.genesis_time_ms, 'genesis_time_ms');
  const p = g.params;
  u32(w, p.max_txs_per_block, 'max_txs_per_block');
  u64(w, p.max_block_wait_ms, 'max_block_wait_ms');
  u32(w, p.max_tx_bytes, 'max_tx_bytes');
  u64(w, p.max_tx_age_ms, 'max_tx_age_ms');
  u64(w, p.max_tx_future_ms, 'max_tx_future_ms');
  u32(w, p.max_code_bytes, 'max_code_bytes');
  u32(w, p.max_args_bytes, 'max_args_bytes');
  u64(w, p.tx_fuel, 'tx_fuel');
  w.vec(g.organisations, (ww, o) => {
    ww.string(checkId(o.id, 'organisation id'));
    ww.string(o.name);
    ww.u8(['notary', 'bank', 'regulator'].indexOf(o.role));
    ww.vec(o.admin_keys, key);
    ww.option(o.ca_cert_pem, (www, pem) => www.string(pem));
  });
  w.vec(g.tenants, (ww, t) => {
    ww.string(checkId(t.id, 'tenant id'));
    ww.string(t.name);
    ww.string(checkId(t.registered_by, 'registered_by'));
    ww.vec(t.keys, key);
  });
  w.vec(g.nodes, (ww, n) => {
    ww.string(checkId(n.id, 'node id'));
    ww.string(checkId(n.org, 'node org'));
    hash32(ww, n.public_key, 'node public_key');
    ww.string(n.peer_id);
    ww.u8(n.role === 'voter' ? 0 : 1);
    ww.option(n.address, (www, a) => www.string(a));
  });
  u32(w, g.admin_policy.min_approving_orgs, 'min_approving_orgs');
  u32(w, g.admin_policy.min_share_percent, 'min_share_percent');
  w.u8(['counts', 'required', 'excluded'].indexOf(g.admin_policy.regulator));
  w.vec(g.signatures, (ww, s) => {
    ww.string(checkId(s.org, 'signature org'));
    ww.string(checkId(s.key_id, 'signature key_id'));
    ww.raw(fromHex(s.signature, 64, 'signature'));
  });
  return w.finish();
}

/** The genesis hash (hex): the chain's identity, over the encoding with no signatures. */
export function genesisHash(g: Genesis): string {
  return toHex(domainHash(Domain.Genesis, encodeGenesis({ ...g, signatures: [] })));
}

/** The genesis voters (voter nodes), sorted: the voter set in force from block 1. */
export function genesisVoters(g: Genesis): VoterKey[] {
  return g.nodes
    .filter((n) => n.role === 'voter')
    .map((n) => ({ node: n.id, publicKey: fromHex(n.public_key, 32) }))
    .sort(compareVoters);
}
