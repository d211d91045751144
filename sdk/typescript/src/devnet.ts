/**
 * `devnet.json`, which `billflow-devnet` writes into its directory: the
 * chain id, the genesis file, the consortium's CA certificates, the nodes'
 * gateways and the demo's keys (docs/api.md, "devnet.json").
 */

import { readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

import { InvalidInputError } from './errors.js';

/** A key file and whose it is. */
export interface DevnetKey {
  owner: string;
  key_id: string;
  key_file: string;
  /** The tenant it acts under, where devnet.json says. */
  tenant?: string;
  /** `enterprise` or `bank`, where devnet.json says. */
  kind?: string;
}

/** One node of a devnet. */
export interface DevnetNode {
  node_id: string;
  org: string;
  role: 'voter' | 'observer';
  api_url: string;
  explorer_url?: string;
  p2p: string;
  peer_id: string;
  data_dir: string;
  config: string;
  log: string;
  pid?: number | null;
}

/** `devnet.json`. */
export interface Devnet {
  chain_id: string;
  genesis: string;
  genesis_hash: string;
  ca_cert: string;
  nodes: DevnetNode[];
  tenant_keys: DevnetKey[];
  admin_keys: DevnetKey[];
  notary_keys: DevnetKey[];
  participant_keys: DevnetKey[];
  regulator_keys: DevnetKey[];
}

/** Reads `devnet.json` (the file or its directory); relative paths in it are taken from its directory. */
export function readDevnet(path: string): Devnet {
  let file = resolve(path);
  try {
    if (statSync(file).isDirectory()) file = join(file, 'devnet.json');
  } catch (e) {
    throw new InvalidInputError(`cannot read ${path}`, { cause: e });
  }
  let d: Devnet;
  try {
    d = JSON.parse(readFileSync(file, 'utf8')) as Devnet;
  } catch (e) {
    throw new InvalidInputError(`${file} is not a readable devnet.json`, { cause: e });
  }
  if (typeof d.chain_id !== 'string' || !Array.isArray(d.nodes) || typeof d.ca_cert !== 'string') {
    throw new InvalidInputError(`${file} is not a devnet.json (chain_id, nodes, ca_cert...)`);
  }
  const base = dirname(file);
  const at = (p: string): string => resolve(base, p);
  const keys = (list: DevnetKey[] | undefined): DevnetKey[] => (list ?? []).map((k) => ({ ...k, key_file: at(k.key_file) }));
  return {
    ...d,
    genesis: at(d.genesis),
    ca_cert: at(d.ca_cert),
    tenant_keys: keys(d.tenant_keys),
    admin_keys: keys(d.admin_keys),
    notary_keys: keys(d.notary_keys),
    participant_keys: keys(d.participant_keys),
    regulator_keys: keys(d.regulator_keys),
  };
}

const CREDIT_CODE_CHARS = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const CREDIT_CODE_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/**
 * Whether `code` is a well-formed unified social credit code (GB 32100-2015,
 * 18 characters with the right check character): the ids of enterprises.
 */
export function isValidCreditCode(code: string): boolean {
  if (code.length !== 18) return false;
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    const v = CREDIT_CODE_CHARS.indexOf(code[i]!);
    if (v < 0) return false;
    sum += v * CREDIT_CODE_WEIGHTS[i]!;
  }
  return CREDIT_CODE_CHARS[(31 - (sum % 31)) % 31] === code[17];
}

/** The 18th character a 17-character credit code body needs (to make test ids). */
export function creditCodeCheckChar(body: string): string {
  if (body.length !== 17) throw new InvalidInputError('a credit code body is 17 characters');
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    const v = CREDIT_CODE_CHARS.indexOf(body[i]!);
    if (v < 0) throw new InvalidInputError(`${body[i]} is not a credit code character`);
    sum += v * CREDIT_CODE_WEIGHTS[i]!;
  }
  return CREDIT_CODE_CHARS[(31 - (sum % 31)) % 31]!;
}

/** The identity `asParticipant` names in a devnet: its key and the tenant it acts under. */
export function devnetIdentity(d: Devnet, who: string): { key: DevnetKey; tenant: string | null } {
  const keys = [...d.participant_keys, ...d.notary_keys, ...d.regulator_keys];
  const key = keys.find((k) => k.owner === who);
  if (!key) {
    const known = keys.map((k) => k.owner).join(', ');
    throw new InvalidInputError(known ? `devnet.json has no key of ${who}; it has ${known}` : 'devnet.json lists no participant keys');
  }
  // An enterprise acts under the devnet's tenant; banks, notaries and regulators under none.
  const platform = d.tenant_keys[0]?.owner ?? null;
  const enterprise = key.kind !== undefined ? key.kind === 'enterprise' : isValidCreditCode(key.owner);
  return { key, tenant: key.tenant ?? (enterprise ? platform : null) };
}
