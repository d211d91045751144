/** What the integration suites share: the devnet and clients acting as its parties. */

import { Client, readDevnet, type Devnet } from '../../src/index.js';

/** The devnet's demo parties (devnet/src/demo.rs). */
export const CORE = '91310000MA1FL0001R';
export const SUPPLIER_A = '91320500MA1FL0002T';
export const BANK_A = 'bank-a';

/** Filled in by the entry file's `before` hook. */
export class Context {
  path = '';

  /** The devnet.json, read. */
  get devnet(): Devnet {
    return readDevnet(this.path);
  }

  /** A client signing as a demo participant, notary or regulator (`undefined`: the devnet's tenant). */
  as(who?: string): Client {
    return who === undefined ? Client.fromDevnet(this.path) : Client.fromDevnet(this.path, { asParticipant: who });
  }

  /** A client signing as organisation `org`'s administrator. */
  admin(org: string): Client {
    const k = this.devnet.admin_keys.find((x) => x.owner === org);
    if (!k) throw new Error(`no administrator key of ${org}`);
    const d = this.devnet;
    return new Client({ nodes: d.nodes.map((n) => n.api_url), ca: d.ca_cert, key: k.key_file, keyId: k.key_id, chainId: d.chain_id });
  }
}

/** A random string of `n` decimal digits. */
export function digits(n: number): string {
  let s = '';
  while (s.length < n) s += Math.floor(Math.random() * 10).toString();
  return s;
}
