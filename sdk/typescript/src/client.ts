/**
 * {@link Client}: one or more nodes' gateways over HTTPS trusting only the
 * consortium's CAs, every request signed when the client holds a key;
 * transactions built, encoded and signed here (a client never signs bytes a
 * node hands it), submitted and waited for with failover to the next node.
 */

import { readFileSync } from 'node:fs';

import { fromHex, toHex } from './bytes.js';
import { ContractInterface, type DecodeOptions, type InterfaceDocument } from './codec.js';
import { readDevnet, devnetIdentity, type Devnet } from './devnet.js';
import { BillflowError, InvalidInputError, LedgerError, ProofError, TransportError, type ErrorBody } from './errors.js';
import { loadGenesis } from './evidence.js';
import { EvidenceApi } from './evidence-api.js';
import { HttpPool, type HttpAnswer } from './http.js';
import { verifyTxProof } from './proof.js';
import { Key } from './keys.js';
import { buildQuery, signRequest } from './request.js';
import { EventStream, type StreamOptions } from './streams.js';
import { checkId, encodeSignedTx, newTxId, parseVersion, signTx, txHash } from './tx.js';
import type {
  CommittedTx,
  ContractRecord,
  EventPage,
  Genesis,
  Health,
  InboxView,
  Receipt,
  SignedTx,
  TxProof,
  TxView,
} from './types.js';

/** The node's built-in contract: registrations, keys and governance. */
export const SYSTEM_CONTRACT = 'system';
/** The system contract's version, fixed (it is part of the node, not deployed). */
export const SYSTEM_VERSION = '1.0.0';

/** How to reach and sign for a network. */
export interface ClientOptions {
  /** The gateways, e.g. `https://node-a:7101`; requests go to the first, then on to the next when one fails. */
  nodes: string[];
  /** The consortium's CA certificates (`cas.pem`): PEM text or a file path. Only they are trusted. */
  ca?: string | Uint8Array;
  /** The signing key: a {@link Key}, PKCS#8 PEM text or a key file path. */
  key?: Key | string;
  /** The key's registered id. */
  keyId?: string;
  /** The tenant the key acts under (none for organisations, banks and notaries). */
  tenant?: string | null;
  /** The chain id transactions name (default: the first node's, read once). */
  chainId?: string;
  /** How long one HTTP request may take (default 40 s: a commit wait is at most 30 s). */
  timeoutMs?: number;
  /** How long {@link Client.submit} waits for a commit across nodes (default 30 s). */
  commitTimeoutMs?: number;
  /** Interface documents to use instead of the nodes' (pinned after review, or offline). */
  interfaces?: InterfaceDocument[];
}

/** What {@link Client.submit} takes besides the call. */
export interface SubmitOptions {
  /** The contract version the transaction names (default: the active one). */
  version?: string;
  /** The transaction id (default: a new `<contract>-<16 hex>`). */
  txId?: string;
  /** How long to wait for the commit across nodes. */
  timeoutMs?: number;
  /** Send JSON instead of the canonical bytes (the signature covers the same bytes either way). */
  format?: 'binary' | 'json';
}

/** What an identity signs with. */
export interface Identity {
  key: Key;
  keyId: string;
  tenant: string | null;
}

function readPemArg(v: string | Uint8Array, what: string): string {
  if (typeof v !== 'string') return Buffer.from(v).toString('utf8');
  if (v.includes('-----BEGIN')) return v;
  try {
    return readFileSync(v, 'utf8');
  } catch (e) {
    throw new InvalidInputError(`cannot read ${what} ${v}`, { cause: e });
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** What a client passes to the clients derived from it (not part of the public options). */
const INTERNAL = Symbol('billflow.client.internal');
interface Internal {
  shared?: Shared;
  identity?: Identity | undefined;
  devnet?: Devnet | undefined;
}

/** Shared between a client and the clients derived from it with another identity. */
interface Shared {
  nodes: string[];
  pool: HttpPool;
  current: { index: number };
  chainId: string | undefined;
  interfaces: Map<string, Promise<ContractInterface | null>>;
  pinned: Map<string, ContractInterface>;
}

/**
 * A client of a network's gateways.
 *
 * ```ts
 * const client = Client.fromDevnet('devnet/devnet.json', { asParticipant: '91310000MA1FL0001R' });
 * const view = await client.submit('flows', 'order.create', { id: 'PO-1', seller, amount: 30000000, date, evidence: null });
 * const order = await client.query('flows', 'order.get', { id: 'PO-1' });
 * ```
 */
export class Client {
  /** The identity requests and transactions are signed with, if any. */
  readonly identity: Identity | undefined;
  /** The devnet this client was made from, if any. */
  readonly devnet: Devnet | undefined;
  /** The evidence contract: submit documents, fetch and verify their proofs. */
  readonly evidence: EvidenceApi;
  private readonly shared: Shared;
  private readonly timeoutMs: number;
  private readonly commitTimeoutMs: number;

  constructor(options: ClientOptions) {
    const internal = (options as ClientOptions & { [INTERNAL]?: Internal })[INTERNAL];
    const derived = internal?.shared ? { shared: internal.shared, identity: internal.identity } : undefined;
    this.timeoutMs = options.timeoutMs ?? 40_000;
    this.commitTimeoutMs = options.commitTimeoutMs ?? 30_000;
    this.devnet = internal?.devnet;
    if (derived) {
      this.shared = derived.shared;
      this.identity = derived.identity;
    } else {
      if (!Array.isArray(options.nodes) || options.nodes.length === 0) {
        throw new InvalidInputError('a client needs at least one node URL');
      }
      for (const n of options.nodes) {
        if (!/^https?:\/\/[^/?#]+$/.test(n.replace(/\/+$/, ''))) throw new InvalidInputError(`${n} is not a gateway URL (https://host:port)`);
      }
      const ca = options.ca === undefined ? undefined : readPemArg(options.ca, 'the CA file');
      if (ca !== undefined && !ca.includes('-----BEGIN CERTIFICATE-----')) {
        throw new InvalidInputError('the CA file holds no PEM certificate');
      }
      const pinned = new Map<string, ContractInterface>();
      for (const doc of options.interfaces ?? []) pinned.set(doc.contract, new ContractInterface(doc));
      this.shared = {
        nodes: options.nodes.map((n) => n.replace(/\/+$/, '')),
        pool: new HttpPool(ca),
        current: { index: 0 },
        chainId: options.chainId,
        interfaces: new Map(),
        pinned,
      };
      if (options.key !== undefined) {
        if (options.keyId === undefined) throw new InvalidInputError('a key needs its registered keyId');
        const key = options.key instanceof Key ? options.key : options.key.includes('-----BEGIN') ? Key.fromPem(options.key) : Key.fromFile(options.key);
        this.identity = { key, keyId: checkId(options.keyId, 'keyId'), tenant: options.tenant ?? null };
      }
    }
    this.evidence = new EvidenceApi(this);
  }

  /**
   * A client of the devnet described by `devnet.json` (the file or its
   * directory), trusting its CAs, signing as `asParticipant` (a demo
   * participant, notary or regulator of its `*_keys`; an enterprise acts
   * under the devnet's tenant) or, without it, as the devnet's tenant.
   */
  static fromDevnet(path: string, options: { asParticipant?: string } & Omit<ClientOptions, 'nodes' | 'ca' | 'key' | 'keyId' | 'tenant' | 'chainId'> = {}): Client {
    const { asParticipant, ...rest } = options;
    const d = readDevnet(path);
    let key: { key_file: string; key_id: string };
    let tenant: string | null;
    if (asParticipant !== undefined) {
      const who = devnetIdentity(d, asParticipant);
      key = who.key;
      tenant = who.tenant;
    } else {
      const first = d.tenant_keys[0];
      if (!first) throw new InvalidInputError('devnet.json lists no tenant key');
      key = first;
      tenant = first.owner;
    }
    const opts: ClientOptions = {
      ...rest,
      nodes: d.nodes.map((n) => n.api_url),
      ca: d.ca_cert,
      key: Key.fromFile(key.key_file),
      keyId: key.key_id,
      tenant,
      chainId: d.chain_id,
    };
    return new Client({ ...opts, [INTERNAL]: { devnet: d } } as ClientOptions);
  }

  /** This client (same nodes, connections and caches), signing as another identity (none: unsigned). */
  withIdentity(identity: Identity | undefined): Client {
    const internal: Internal = { shared: this.shared, identity, devnet: this.devnet };
    return new Client({ nodes: [...this.shared.nodes], timeoutMs: this.timeoutMs, commitTimeoutMs: this.commitTimeoutMs, [INTERNAL]: internal } as ClientOptions);
  }

  /** The node requests go to now. */
  get node(): string {
    return this.shared.nodes[this.shared.current.index % this.shared.nodes.length]!;
  }

  /** Every node the client knows, in order. */
  get nodes(): readonly string[] {
    return this.shared.nodes;
  }

  /** The CA certificates the client trusts (PEM), if it was given them. */
  get ca(): string | undefined {
    return this.shared.pool.ca;
  }

  /** Moves on to the next node. */
  rotate(): void {
    this.shared.current.index += 1;
  }

  /** Lets the client's idle connections go (it can still be used afterwards). */
  close(): void {
    this.shared.pool.close();
  }

  // ------------------------------------------------------------ transport

  /** The signature headers of a request to `path?query` with `body` (none without an identity). */
  signHeaders(method: string, path: string, query: string, body?: Uint8Array): Record<string, string> {
    return this.identity ? signRequest(this.identity, method, path, query, body) : {};
  }

  /**
   * One request to the current node, signed when the client holds a key
   * unless `unsigned` (a submission: the transaction's own signature
   * authenticates it). Answers 2xx as parsed JSON; an error answer is a
   * {@link LedgerError}, no answer a {@link TransportError}.
   */
  async request<T>(method: string, path: string, options: { query?: string; json?: unknown; binary?: Uint8Array; timeoutMs?: number; unsigned?: boolean } = {}): Promise<T> {
    const query = options.query ?? '';
    let body: Uint8Array | undefined;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (options.binary !== undefined) {
      body = options.binary;
      headers['content-type'] = 'application/octet-stream';
    } else if (options.json !== undefined) {
      body = new Uint8Array(Buffer.from(JSON.stringify(options.json, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)), 'utf8'));
      headers['content-type'] = 'application/json';
    } else if (method === 'POST') {
      body = new Uint8Array(0);
    }
    if (!options.unsigned) Object.assign(headers, this.signHeaders(method, path, query, body));
    const node = this.node;
    const answer = await this.shared.pool.request(node, method, query ? `${path}?${query}` : path, headers, body, options.timeoutMs ?? this.timeoutMs);
    return parseAnswer<T>(node, answer);
  }

  /**
   * A read on the current node, moving on to the next while a node fails
   * for a reason another may not share (each node is asked once).
   */
  async read<T>(method: string, path: string, options: { query?: string; json?: unknown; binary?: Uint8Array } = {}): Promise<T> {
    for (let tries = this.shared.nodes.length; ; tries--) {
      try {
        return await this.request<T>(method, path, options);
      } catch (e) {
        if (!(e instanceof BillflowError) || !e.retryable || tries <= 1) throw e;
        this.rotate();
      }
    }
  }

  // ------------------------------------------------------------ reads

  /** The current node's health. */
  health(): Promise<Health> {
    return this.request('GET', '/v1/health');
  }

  /** The network as the current node sees it. */
  network(): Promise<unknown> {
    return this.read('GET', '/v1/network');
  }

  /** The genesis document the nodes serve (check it against a genesis you trust before relying on it). */
  genesis(): Promise<Genesis> {
    return this.read('GET', '/v1/genesis');
  }

  /** The chain id transactions name: the one given, else the nodes' (read once). */
  async chainId(): Promise<string> {
    if (this.shared.chainId === undefined) this.shared.chainId = (await this.read<Health>('GET', '/v1/health')).chain_id;
    return this.shared.chainId;
  }

  /** Every deployed contract. */
  contracts(): Promise<ContractRecord[]> {
    return this.read('GET', '/v1/contracts');
  }

  /** One deployed contract, `null` if none has that name. */
  async contract(name: string): Promise<ContractRecord | null> {
    try {
      return await this.read<ContractRecord>('GET', `/v1/contracts/${encodeURIComponent(checkId(name, 'contract'))}`);
    } catch (e) {
      if (e instanceof LedgerError && e.status === 404) return null;
      throw e;
    }
  }

  /** The active version of `contract` (the system contract's is fixed). */
  async activeVersion(contract: string): Promise<string> {
    if (contract === SYSTEM_CONTRACT) return SYSTEM_VERSION;
    const record = await this.contract(contract);
    if (!record) throw new LedgerError(404, 'E_UNKNOWN_CONTRACT', `no contract ${contract} is deployed on this network`);
    return record.version;
  }

  /**
   * The interface of `contract` (of `version`, default the active one): a
   * pinned document if the client was given one, else the node's
   * (`GET /v1/contracts/{name}/interface`), cached while the version stands.
   */
  async contractInterface(contract: string, version?: string): Promise<ContractInterface> {
    const want = version ?? (await this.activeVersion(contract));
    const pinned = this.shared.pinned.get(contract);
    if (pinned && pinned.version === want) return pinned;
    const cached = await this.shared.interfaces.get(contract)?.catch(() => null);
    if (cached && cached.version === want) return cached;
    const fetching = this.read<InterfaceDocument>('GET', `/v1/contracts/${encodeURIComponent(contract)}/interface`).then(
      (doc) => new ContractInterface(doc),
    );
    this.shared.interfaces.set(contract, fetching);
    const iface = await fetching;
    if (iface.version !== want) {
      throw new InvalidInputError(`the nodes serve the interface of ${contract} ${iface.version}, not ${want}: give its document in options.interfaces`);
    }
    return iface;
  }

  /** A transaction's status (the caller's own), its receipt's events decoded. */
  async transaction(txId: string): Promise<TxView> {
    return this.decodeReceipt(await this.read<TxView>('GET', `/v1/transactions/${encodeURIComponent(checkId(txId, 'tx_id'))}`));
  }

  /**
   * Fills in `decoded` of a committed view's receipt events: from the
   * contracts' interfaces here, else from the node's `decoded_events`.
   */
  async decodeReceipt<V extends TxView>(view: V): Promise<V> {
    const events = view.receipt?.events ?? [];
    await this.decodeEvents(events);
    events.forEach((e, i) => {
      const theirs = view.decoded_events?.[i];
      if (e.decoded === undefined && theirs !== undefined && theirs !== null) e.decoded = theirs;
    });
    return view;
  }

  /** The proof that a committed transaction and its receipt are in an attested block. */
  transactionProof(txId: string): Promise<TxProof> {
    return this.read('GET', `/v1/transactions/${encodeURIComponent(checkId(txId, 'tx_id'))}/proof`);
  }

  /**
   * The proof of committed transaction `txId`, checked offline against
   * `genesis` (the parsed document, its JSON text or the path of
   * `genesis.json`). Right after a commit its block may not be attested by a
   * majority yet: the proof is asked for again while that is all that is
   * wrong, for at most `waitMs` (default 10 s). Throws a `ProofError` if it
   * does not hold.
   */
  async verifiedProof(txId: string, genesis: Genesis | string, options: { waitMs?: number } = {}): Promise<TxProof> {
    const g = loadGenesis(genesis);
    const deadline = Date.now() + (options.waitMs ?? 10_000);
    for (;;) {
      const proof = await this.transactionProof(txId);
      try {
        verifyTxProof(proof, g);
        return proof;
      } catch (e) {
        if (!(e instanceof ProofError && e.notYetAttested) || Date.now() >= deadline) throw e;
        await sleep(200);
      }
    }
  }

  /** The block at `height` (header, attestations, what each transaction calls). */
  block(height: number): Promise<unknown> {
    return this.read('GET', `/v1/blocks/${height}`);
  }

  /** What waits for the signer's answer (a participant's key): requests to sign, refuse or approve, and a bank's movements to report. */
  inbox(): Promise<InboxView> {
    return this.read('GET', '/v1/inbox');
  }

  /**
   * The signer's own events after cursor `from` (a participant's or tenant's
   * key), at most 1000 a page: those of its own transactions and those that
   * name it. Without `from`, none and the tip's cursor. Ask again from `next`.
   */
  async events(options: { from?: string; types?: string[]; decode?: boolean } = {}): Promise<EventPage> {
    const query = buildQuery([['from', options.from], ['types', options.types?.length ? options.types.join(',') : undefined]]);
    const page = await this.read<EventPage>('GET', '/v1/events', { query });
    if (options.decode !== false) await this.decodeEvents(page.events);
    return page;
  }

  /** The supervision stream's events after `from`, a page at a time (regulators' keys). */
  async supervisionEvents(options: { from?: string; types?: string[]; participant?: string; decode?: boolean } = {}): Promise<EventPage> {
    const query = buildQuery([
      ['from', options.from],
      ['types', options.types?.length ? options.types.join(',') : undefined],
      ['participant', options.participant],
    ]);
    const page = await this.read<EventPage>('GET', '/v1/supervision/events', { query });
    if (options.decode !== false) await this.decodeEvents(page.events);
    return page;
  }

  /**
   * The signer's own events as they commit (`/v1/events/stream`), from after
   * cursor `from` (default: after the tip), resuming on another node from the
   * last cursor when a connection drops: nothing twice, nothing left out.
   */
  eventStream(options: StreamOptions = {}): EventStream {
    return new EventStream(this, '/v1/events/stream', options);
  }

  /** The supervision stream (`/v1/supervision/stream`, regulators' keys), like {@link Client.eventStream}. */
  supervise(options: StreamOptions & { participant?: string } = {}): EventStream {
    return new EventStream(this, '/v1/supervision/stream', options);
  }

  /**
   * Fills in `decoded` of each event whose contract's interface names its
   * topic (where the node has not). Events of contracts whose interface
   * cannot be had are left as they are.
   */
  async decodeEvents<E extends { contract: string; topic: string; data: string; decoded?: unknown }>(events: E[]): Promise<E[]> {
    for (const e of events) {
      if (e.decoded !== undefined) continue;
      const iface = await this.knownInterface(e.contract);
      if (!iface) continue;
      try {
        const decoded = iface.decodeEvent(e.topic, fromHex(e.data));
        if (decoded !== undefined) e.decoded = decoded;
      } catch {
        // Undecodable data stays as hex: the event itself is what the ledger recorded.
      }
    }
    return events;
  }

  /** The interface of `contract` if one is pinned or the nodes serve one; `null` otherwise (asked once). */
  private async knownInterface(contract: string): Promise<ContractInterface | null> {
    const pinned = this.shared.pinned.get(contract);
    if (pinned) return pinned;
    let p = this.shared.interfaces.get(contract);
    if (!p) {
      p = this.read<InterfaceDocument>('GET', `/v1/contracts/${encodeURIComponent(contract)}/interface`)
        .then((doc) => new ContractInterface(doc))
        .catch((e: unknown) => {
          // A contract without an interface stays without one; a node that failed may answer later.
          if (!(e instanceof LedgerError && e.status === 404)) this.shared.interfaces.delete(contract);
          return null;
        });
      this.shared.interfaces.set(contract, p);
    }
    return p.catch(() => null);
  }

  // ------------------------------------------------------------ transactions

  /** The identity, or an {@link InvalidInputError} saying what needs one. */
  requireIdentity(what: string): Identity {
    if (!this.identity) throw new InvalidInputError(`${what} needs a signing key (options key and keyId)`);
    return this.identity;
  }

  /** Builds and signs a call of `contract` `method` at `version` with the arguments' canonical bytes. */
  async signCall(contract: string, method: string, args: Uint8Array, options: { version: string; txId?: string; timestampMs?: number }): Promise<SignedTx> {
    const me = this.requireIdentity('a transaction');
    parseVersion(options.version);
    return signTx(
      {
        chain_id: await this.chainId(),
        tx_id: checkId(options.txId ?? newTxId(contract), 'tx_id'),
        tenant: me.tenant,
        signer: me.keyId,
        contract: checkId(contract, 'contract'),
        version: options.version,
        method: checkId(method, 'method'),
        args: toHex(args),
        timestamp_ms: options.timestampMs ?? Date.now(),
      },
      me.key,
    );
  }

  /** Submits a signed transaction to the current node; with `wait`, waits up to `timeoutMs` for its commit. */
  submitTx(stx: SignedTx, options: { wait?: boolean; timeoutMs?: number; format?: 'binary' | 'json' } = {}): Promise<TxView> {
    const query = buildQuery([['wait', options.wait ?? false], ['timeout_ms', options.wait ? options.timeoutMs : undefined]]);
    return options.format === 'json'
      ? this.request('POST', '/v1/transactions', { query, json: stx, unsigned: true })
      : this.request('POST', '/v1/transactions', { query, binary: encodeSignedTx(stx), unsigned: true });
  }

  /**
   * Submits `stx` and waits until it commits, for at most `timeoutMs`. When a
   * node fails or times out it resubmits the *same* signed transaction to the
   * next node: the ledger executes a transaction id once, so this never
   * executes twice. A failed receipt is returned, not thrown.
   */
  async submitAndWait(stx: SignedTx, options: { timeoutMs?: number; format?: 'binary' | 'json' } = {}): Promise<CommittedTx> {
    const within = options.timeoutMs ?? this.commitTimeoutMs;
    const deadline = Date.now() + within;
    const hash = txHash(stx);
    for (;;) {
      const waitMs = Math.min(Math.max(deadline - Date.now(), 1), 30_000);
      try {
        const view = await this.submitTx(stx, { wait: true, timeoutMs: waitMs, ...(options.format ? { format: options.format } : {}) });
        if (isCommitted(view)) return view;
      } catch (e) {
        if (e instanceof LedgerError && e.code === 'E_DUPLICATE_TX') {
          // A node that failed on us may have taken it: the recorded one counts if it is this very transaction.
          const view = await this.transaction(stx.tx.tx_id).catch(() => undefined);
          if (!view || view.tx_hash !== hash) throw e;
          if (isCommitted(view)) return view;
        } else if (!(e instanceof BillflowError) || !e.retryable || Date.now() >= deadline) {
          throw e;
        } else {
          this.rotate();
          await sleep(200);
        }
      }
      if (Date.now() >= deadline) {
        throw new TransportError(this.node, `transaction ${stx.tx.tx_id} did not commit within ${within} ms`);
      }
    }
  }

  /**
   * Calls `method` of `contract` with `args` given as JSON (encoded here with
   * the contract's interface), signed with the client's key, at the active
   * version (or `options.version`); waits for the commit, moving on to the
   * next node when one is unreachable. Returns the committed transaction with
   * its receipt, events decoded. A failed receipt is thrown as a
   * {@link LedgerError} with status 422 and the receipt's code.
   */
  async submit(contract: string, method: string, args: unknown, options: SubmitOptions = {}): Promise<CommittedTx> {
    const version = options.version ?? (await this.activeVersion(contract));
    const iface = await this.contractInterface(contract, version);
    if (iface.method(method).kind === 'query') {
      throw new InvalidInputError(`${contract} ${method} is a query: use client.query`);
    }
    return this.submitEncoded(contract, method, iface.encodeArgs(method, args), { ...options, version });
  }

  /** {@link Client.submit} with the arguments already in their canonical bytes. */
  async submitEncoded(contract: string, method: string, args: Uint8Array, options: SubmitOptions = {}): Promise<CommittedTx> {
    const version = options.version ?? (await this.activeVersion(contract));
    const stx = await this.signCall(contract, method, args, { version, ...(options.txId ? { txId: options.txId } : {}) });
    const view = await this.submitAndWait(stx, {
      ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
      ...(options.format ? { format: options.format } : {}),
    });
    await this.decodeReceipt(view);
    const failure = view.receipt.failure;
    if (view.receipt.status !== 'success' || failure) {
      throw new LedgerError(422, failure?.code ?? 'E_FAILED', failure?.message ?? 'the transaction failed', {
        txId: view.tx_id,
        receipt: view.receipt,
      });
    }
    return view;
  }

  /**
   * Runs the read-only `method` of `contract` with `args` given as JSON, as
   * the client's key (the contract sees it as its caller), and returns the
   * output decoded with the contract's interface.
   */
  async query(contract: string, method: string, args: unknown, options: DecodeOptions = {}): Promise<unknown> {
    const iface = await this.contractInterface(contract);
    const output = await this.queryEncoded(contract, method, iface.encodeArgs(method, args));
    return iface.decodeResult(method, output, options);
  }

  /** A query with its arguments' canonical bytes: its output bytes. */
  async queryEncoded(contract: string, method: string, args: Uint8Array): Promise<Uint8Array> {
    const path = `/v1/contracts/${encodeURIComponent(checkId(contract, 'contract'))}/query/${encodeURIComponent(checkId(method, 'method'))}`;
    const answer = await this.read<{ output: string }>('POST', path, { json: { args: toHex(args) } });
    return fromHex(answer.output, undefined, 'the query output');
  }

  /**
   * The canonical bytes the node makes of `args` for `method`
   * (`POST /v1/contracts/{name}/encode/{method}`): for cross-checking this
   * SDK's encoder. Never sign what a node hands back.
   */
  async encodeOnNode(contract: string, method: string, args: unknown): Promise<Uint8Array> {
    const path = `/v1/contracts/${encodeURIComponent(checkId(contract, 'contract'))}/encode/${encodeURIComponent(checkId(method, 'method'))}`;
    const answer = await this.read<{ args: string }>('POST', path, { json: { args } });
    return fromHex(answer.args, undefined, 'the encoded arguments');
  }
}

function isCommitted(view: TxView): view is CommittedTx {
  return view.status === 'committed' && view.receipt !== undefined && view.height !== undefined;
}

/** A 2xx answer's JSON, or the error it carries. */
function parseAnswer<T>(node: string, answer: HttpAnswer): T {
  const text = answer.body.toString('utf8');
  if (answer.status >= 200 && answer.status < 300) {
    try {
      return JSON.parse(text) as T;
    } catch (e) {
      throw new TransportError(node, `the answer (${answer.status}) is not JSON`, { cause: e });
    }
  }
  let body: Partial<ErrorBody> = {};
  try {
    body = JSON.parse(text) as ErrorBody;
  } catch {
    // Not the gateway's error body: keep the status and the start of the text.
  }
  const requestId = body.request_id ?? (answer.headers['x-request-id'] as string | undefined);
  throw new LedgerError(answer.status, body.code ?? 'E_HTTP', body.message ?? text.slice(0, 200), { requestId });
}

/** A receipt's failure as an error (for callers of {@link Client.submitAndWait}). */
export function receiptError(txId: string, receipt: Receipt): LedgerError | undefined {
  if (receipt.status === 'success') return undefined;
  return new LedgerError(422, receipt.failure?.code ?? 'E_FAILED', receipt.failure?.message ?? 'failed', { txId, receipt });
}

