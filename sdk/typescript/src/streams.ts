/**
 * Event streams over WebSocket (`ws`, TLS to the consortium's CAs only): the
 * party stream `/v1/events/stream` and the regulators' supervision stream
 * `/v1/supervision/stream`. Each event carries its cursor
 * `HEIGHT-TX-EVENT`; a stream that breaks off (a node stops, or closes a slow
 * reader with code 4000) is reopened on the next node from the last cursor
 * received, and events at or before it are dropped: nothing twice, nothing
 * left out.
 */

import WebSocket from 'ws';

import type { Client } from './client.js';
import { BillflowError, LedgerError, StreamError } from './errors.js';
import { buildQuery } from './request.js';
import type { EventPage, StreamEvent } from './types.js';

/** What a stream follows. */
export interface StreamOptions {
  /** Start after this cursor (default: after the tip when the stream opens). */
  from?: string;
  /** Topic prefixes (`bill.`, `risk.alert`); all if none. */
  types?: string[];
  /** Only events whose data names this participant (supervision stream only). */
  participant?: string;
  /** Fill in `decoded` from the contracts' interfaces (default true). */
  decode?: boolean;
  /** How many reconnections in a row may fail before the stream fails (default 5). */
  maxReconnects?: number;
}

/** A cursor as a comparable triple. */
export function parseCursor(cursor: string): [bigint, bigint, bigint] {
  const m = /^(\d{1,20})-(\d{1,20})-(\d{1,20})$/.exec(cursor);
  if (!m) throw new StreamError(`a cursor is HEIGHT-TX-EVENT, got ${JSON.stringify(cursor)}`);
  return [BigInt(m[1]!), BigInt(m[2]!), BigInt(m[3]!)];
}

/** Whether cursor `a` comes after cursor `b`. */
export function cursorAfter(a: string, b: string): boolean {
  const [x, y] = [parseCursor(a), parseCursor(b)];
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i]! > y[i]!;
  return false;
}

const HIGH_WATER = 1000;
const LOW_WATER = 100;

/**
 * An open stream of events: `for await (const e of stream)`, or
 * `await stream.next()`. `cursor` is the last cursor delivered: reopen a
 * stream `from` it to carry on later. `close()` ends it.
 */
export class EventStream implements AsyncIterable<StreamEvent> {
  /** The cursor of the last event delivered (or the one it started after). */
  cursor: string | undefined;
  private socket: WebSocket | undefined;
  private readonly queue: StreamEvent[] = [];
  private waiting: Array<{ resolve: (e: StreamEvent | undefined) => void; reject: (e: unknown) => void }> = [];
  private failure: unknown;
  private ended = false;
  private failures = 0;
  private paused = false;
  /** The cursor of the last event received (queued or delivered): what a reconnection resumes from. */
  private received: string | undefined;
  private readonly opening: Promise<void>;

  constructor(
    private readonly client: Client,
    private readonly path: '/v1/events/stream' | '/v1/supervision/stream',
    private readonly options: StreamOptions,
  ) {
    if (options.from !== undefined) parseCursor(options.from);
    this.cursor = options.from;
    this.received = options.from;
    this.opening = this.start();
    this.opening.catch(() => undefined);
  }

  /** Resolves once the stream is open (its first connection made); rejects if it cannot be. */
  opened(): Promise<void> {
    return this.opening;
  }

  private async start(): Promise<void> {
    try {
      if (this.received === undefined) {
        // Pin "after the tip" to a cursor, so that a reconnection misses nothing.
        const page = this.path === '/v1/events/stream' ? '/v1/events' : '/v1/supervision/events';
        const query = buildQuery([['participant', this.options.participant]]);
        this.received = (await this.client.read<EventPage>('GET', page, { query })).next;
        this.cursor = this.received;
      }
      await this.connect();
    } catch (e) {
      this.fail(e);
      throw e;
    }
  }

  private connect(): Promise<void> {
    const query = buildQuery([
      ['from', this.received],
      ['types', this.options.types?.length ? this.options.types.join(',') : undefined],
      ['participant', this.options.participant],
    ]);
    const headers = this.client.signHeaders('GET', this.path, query);
    const base = this.client.node.replace(/^http/, 'ws');
    const ca = this.client.ca;
    return new Promise<void>((resolve, reject) => {
      let open = false;
      const ws = new WebSocket(`${base}${this.path}?${query}`, {
        headers,
        handshakeTimeout: 10_000,
        ...(ca === undefined ? {} : { ca }),
      });
      this.socket = ws;
      ws.on('unexpected-response', (_req, res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          let body: { code?: string; message?: string; request_id?: string } = {};
          try {
            body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
          } catch {
            // Not an error body: the status says enough.
          }
          const status = res.statusCode ?? 0;
          reject(new LedgerError(status, body.code ?? 'E_HTTP', body.message ?? `status ${status}`, { requestId: body.request_id }));
          ws.terminate();
        });
      });
      ws.on('open', () => {
        open = true;
        resolve();
      });
      ws.on('message', (data, isBinary) => {
        if (isBinary) return;
        let event: StreamEvent;
        try {
          event = JSON.parse(data.toString()) as StreamEvent;
          parseCursor(event.cursor);
        } catch (e) {
          this.fail(new StreamError('a stream frame does not parse', { cause: e, resumeFrom: this.received }));
          ws.terminate();
          return;
        }
        if (this.received !== undefined && !cursorAfter(event.cursor, this.received)) return;
        this.received = event.cursor;
        this.failures = 0;
        this.push(event);
      });
      ws.on('error', (e) => {
        if (!open) reject(new StreamError(`cannot open ${this.path} on ${this.client.node}: ${e.message}`, { cause: e, resumeFrom: this.received }));
      });
      ws.on('close', (code, reason) => {
        if (!open) return;
        if (this.ended) return;
        void this.reconnect(code, reason.toString());
      });
    });
  }

  private async reconnect(code: number, reason: string): Promise<void> {
    const limit = this.options.maxReconnects ?? 5;
    for (;;) {
      this.failures += 1;
      if (this.failures > limit) {
        this.fail(new StreamError(`the stream closed (${code}${reason ? `: ${reason}` : ''}) and could not be reopened`, { closeCode: code, resumeFrom: this.received }));
        return;
      }
      this.client.rotate();
      await new Promise((r) => setTimeout(r, 200 * this.failures));
      if (this.ended) return;
      try {
        await this.connect();
        return;
      } catch (e) {
        if (!(e instanceof BillflowError) || !e.retryable) {
          this.fail(e);
          return;
        }
      }
    }
  }

  private push(event: StreamEvent): void {
    const deliver = async (): Promise<void> => {
      if (this.options.decode !== false) await this.client.decodeEvents([event]).catch(() => undefined);
    };
    // Keep the order: decode in sequence.
    this.decoding = this.decoding.then(deliver).then(() => {
      const w = this.waiting.shift();
      if (w) {
        this.cursor = event.cursor;
        w.resolve(event);
      } else {
        this.queue.push(event);
        if (this.queue.length >= HIGH_WATER && !this.paused) {
          this.paused = true;
          this.socket?.pause();
        }
      }
    });
  }

  private decoding: Promise<void> = Promise.resolve();

  private fail(e: unknown): void {
    if (this.ended || this.failure !== undefined) return;
    this.failure = e;
    void this.decoding.then(() => {
      for (const w of this.waiting.splice(0)) w.reject(e);
    });
  }

  /** The next event; `undefined` once the stream is closed. Throws if the stream failed. */
  async next(): Promise<StreamEvent | undefined> {
    const e = this.queue.shift();
    if (e) {
      this.cursor = e.cursor;
      if (this.paused && this.queue.length <= LOW_WATER) {
        this.paused = false;
        this.socket?.resume();
      }
      return e;
    }
    if (this.failure !== undefined) throw this.failure;
    if (this.ended) return undefined;
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  /** Closes the stream; pending `next()` calls resolve `undefined`. */
  close(): void {
    if (this.ended) return;
    this.ended = true;
    this.socket?.close(1000);
    for (const w of this.waiting.splice(0)) w.resolve(undefined);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<StreamEvent> {
    try {
      for (;;) {
        const e = await this.next();
        if (e === undefined) return;
        yield e;
      }
    } finally {
      this.close();
    }
  }
}
