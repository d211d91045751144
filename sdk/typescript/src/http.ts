/**
 * One HTTPS (or, for a development node, HTTP) exchange with a gateway over
 * `node:https`, trusting only the CAs the client was given, keeping idle
 * connections 5 s (the gateway closes them after 10 s).
 */

import * as http from 'node:http';
import * as https from 'node:https';

import { TransportError } from './errors.js';

/** An answer: status, headers and the whole body. */
export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** Connections to a network's gateways. */
export class HttpPool {
  readonly httpsAgent: https.Agent;
  private readonly httpAgent: http.Agent;

  /** `ca`: the PEM certificates to trust (only those); none: the system's roots. */
  constructor(readonly ca: string | undefined) {
    const common = { keepAlive: true, timeout: 5_000, maxSockets: 16 };
    this.httpsAgent = new https.Agent(ca === undefined ? common : { ...common, ca });
    this.httpAgent = new http.Agent(common);
  }

  /** Sends one request to `base` + `pathAndQuery`; a failure to get an answer is a {@link TransportError}. */
  request(
    base: string,
    method: string,
    pathAndQuery: string,
    headers: Record<string, string>,
    body: Uint8Array | undefined,
    timeoutMs: number,
  ): Promise<HttpAnswer> {
    const url = new URL(base + pathAndQuery);
    const secure = url.protocol === 'https:';
    const send = secure ? https.request : http.request;
    return new Promise<HttpAnswer>((resolve, reject) => {
      const req = send(
        {
          protocol: url.protocol,
          hostname: url.hostname,
          port: url.port,
          // Exactly what was signed: not re-encoded by URL parsing.
          path: pathAndQuery,
          method,
          headers: body === undefined ? headers : { ...headers, 'content-length': String(body.length) },
          agent: secure ? this.httpsAgent : this.httpAgent,
          timeout: timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
          res.on('error', (e) => reject(new TransportError(base, `the answer broke off: ${e.message}`, { cause: e })));
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', (e) => reject(new TransportError(base, e.message, { cause: e })));
      req.end(body === undefined ? undefined : Buffer.from(body.buffer, body.byteOffset, body.byteLength));
    });
  }

  /** Lets the idle connections go. */
  close(): void {
    this.httpsAgent.destroy();
    this.httpAgent.destroy();
  }
}
