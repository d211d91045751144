/**
 * The SDK's errors. Everything it throws is a {@link BillflowError}:
 *
 * - {@link LedgerError}: the ledger said no — a node answered with an error
 *   body (`{code, message, request_id}`), or a transaction was recorded with a
 *   failed receipt (status 422 and the receipt's code, as the gateway answers
 *   a refused query). `.code` is the stable `E_...` code to match on.
 * - {@link TransportError}: no usable answer — the node could not be reached,
 *   the connection broke, or the request timed out.
 * - {@link StreamError}: a WebSocket stream could not be opened or broke off.
 * - {@link CodecError}: a value does not fit its type (encoding or decoding).
 * - {@link ProofError}: an evidence or transaction proof does not hold.
 * - {@link InvalidInputError}: the SDK was called with something unusable
 *   (a key file that is not PKCS#8 ed25519, a bad identifier, ...).
 */

/** The base of every error this SDK throws. */
export class BillflowError extends Error {
  /** A stable code: the ledger's `E_...` code, or the SDK's own (`E_SDK_...`). */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }

  /**
   * Whether another node, or a later try, may succeed: the node was
   * unreachable, timed out, was busy, rate-limited or shutting down.
   */
  get retryable(): boolean {
    return false;
  }
}

/** What a node's error body holds. */
export interface ErrorBody {
  code: string;
  message: string;
  request_id?: string;
}

/**
 * The ledger refused: a node's error answer, or a transaction recorded with a
 * failed receipt (then `status` is 422, `code` the receipt's and `txId` set).
 */
export class LedgerError extends BillflowError {
  /** The HTTP status (422 for a failed receipt). */
  readonly status: number;
  /** The request's id in the node's audit log, when it gave one. */
  readonly requestId: string | undefined;
  /** The transaction, for a failed receipt. */
  readonly txId: string | undefined;
  /** The failed receipt, when the refusal is one. */
  readonly receipt: unknown;

  constructor(
    status: number,
    code: string,
    message: string,
    extra: { requestId?: string | undefined; txId?: string | undefined; receipt?: unknown } = {},
  ) {
    super(code, message);
    this.status = status;
    this.requestId = extra.requestId;
    this.txId = extra.txId;
    this.receipt = extra.receipt;
  }

  override get retryable(): boolean {
    return this.status >= 500 || this.status === 429 || this.status === 408;
  }
}

/** The node could not be reached, or did not answer in time. */
export class TransportError extends BillflowError {
  /** The node's base URL. */
  readonly node: string;

  constructor(node: string, message: string, options?: { cause?: unknown }) {
    super('E_SDK_TRANSPORT', `${node}: ${message}`, options);
    this.node = node;
  }

  override get retryable(): boolean {
    return true;
  }
}

/**
 * A stream could not be opened or broke off. `resumeFrom` is the cursor to
 * reconnect from (what the node named when it closed a slow reader, else the
 * last cursor received).
 */
export class StreamError extends BillflowError {
  readonly resumeFrom: string | undefined;
  /** The WebSocket close code, if the node closed the stream. */
  readonly closeCode: number | undefined;

  constructor(message: string, extra: { resumeFrom?: string | undefined; closeCode?: number | undefined; cause?: unknown } = {}) {
    super('E_SDK_STREAM', message, { cause: extra.cause });
    this.resumeFrom = extra.resumeFrom;
    this.closeCode = extra.closeCode;
  }

  override get retryable(): boolean {
    return true;
  }
}

/** A value does not fit its type: it cannot be encoded, or bytes do not decode. */
export class CodecError extends BillflowError {
  /** Where in the value (`args.range.start`). */
  readonly path: string;

  constructor(path: string, message: string) {
    super('E_SDK_CODEC', path ? `${path}: ${message}` : message);
    this.path = path;
  }
}

/**
 * A proof does not hold (see `evidence.verify`). `notYetAttested` tells a
 * proof that is sound but whose block too few voters have attested so far
 * (fetched right after the commit): asking again shortly may succeed.
 */
export class ProofError extends BillflowError {
  readonly notYetAttested: boolean;

  constructor(message: string, options: { notYetAttested?: boolean } = {}) {
    super('E_SDK_PROOF', message);
    this.notYetAttested = options.notYetAttested ?? false;
  }
}

/** The SDK was called with something it cannot use. */
export class InvalidInputError extends BillflowError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_SDK_INVALID', message, options);
  }
}
