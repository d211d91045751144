/**
 * `client.evidence`: document evidence on the ledger — submit a document's
 * hash, co-sign it as a notary, read its record, fetch its proof and verify
 * it offline against the genesis file.
 */

import { fromHex, toHex } from './bytes.js';
import type { Client, SubmitOptions } from './client.js';
import { InvalidInputError, ProofError } from './errors.js';
import {
  EVIDENCE_CONTRACT,
  type EvidenceRecord,
  type Verdict,
  decodeOptionalRecord,
  documentHash,
  encodeEvidenceHash,
  encodeSubmitEvidence,
  loadGenesis,
  verifyEvidence,
} from './evidence.js';
import type { CommittedTx, EvidenceProof, Genesis } from './types.js';

/** What to record with a document. */
export interface EvidenceOptions extends Omit<SubmitOptions, 'format'> {
  /** What the document is (1 to 64 characters), e.g. `purchase_contract`. */
  docType: string;
  /** Up to 16 pairs; no personal data (the ledger refuses it). */
  metadata?: Record<string, string> | Array<[string, string]>;
}

/** A submitted document: its hash and the committed transaction. */
export interface SubmittedEvidence {
  hash: string;
  tx: CommittedTx;
}

function normaliseHash(hash: string | Uint8Array): string {
  const bytes = typeof hash === 'string' ? fromHex(hash, 32, 'a document hash') : hash;
  if (bytes.length !== 32) throw new InvalidInputError('a document hash is 32 bytes (SHA-256)');
  return toHex(bytes);
}

/** The evidence contract through a client. */
export class EvidenceApi {
  constructor(private readonly client: Client) {}

  /**
   * Records `document` (its bytes, or text as UTF-8): only its SHA-256
   * reaches the ledger, with `docType` and `metadata`. Waits for the commit.
   */
  submit(document: Uint8Array | string, options: EvidenceOptions): Promise<SubmittedEvidence> {
    return this.submitHash(documentHash(document), options);
  }

  /** Records a document by its SHA-256 (hex or 32 bytes). */
  async submitHash(hash: string | Uint8Array, options: EvidenceOptions): Promise<SubmittedEvidence> {
    const h = normaliseHash(hash);
    const metadata = Array.isArray(options.metadata) ? options.metadata : Object.entries(options.metadata ?? {});
    const args = encodeSubmitEvidence({ hash: h, doc_type: options.docType, metadata });
    const { docType: _d, metadata: _m, ...submit } = options;
    const tx = await this.client.submitEncoded(EVIDENCE_CONTRACT, 'submit', args, submit);
    return { hash: h, tx };
  }

  /** Co-signs the record of `hash` (a notary's key). */
  cosign(hash: string | Uint8Array, options: Omit<SubmitOptions, 'format'> = {}): Promise<CommittedTx> {
    return this.client.submitEncoded(EVIDENCE_CONTRACT, 'cosign', encodeEvidenceHash(normaliseHash(hash)), options);
  }

  /** The record of `hash`, `null` if the ledger holds none. */
  async get(hash: string | Uint8Array): Promise<EvidenceRecord | null> {
    return decodeOptionalRecord(await this.client.queryEncoded(EVIDENCE_CONTRACT, 'get', encodeEvidenceHash(normaliseHash(hash))));
  }

  /** The record of `hash` with the proofs of its submission and co-signatures (`GET /v1/evidence/{hash}`). */
  proof(hash: string | Uint8Array): Promise<EvidenceProof> {
    return this.client.read('GET', `/v1/evidence/${normaliseHash(hash)}`);
  }

  /**
   * Verifies `proof` for `hash` offline against `genesis` (the parsed
   * document, its JSON text, or the path of `genesis.json`): see
   * {@link verifyEvidence}. Throws a `ProofError` saying why it does not hold.
   */
  verify(proof: EvidenceProof | string, genesis: Genesis | string, hash: string | Uint8Array): Verdict {
    return verifyEvidence(proof, genesis, hash);
  }

  /**
   * Fetches the proof of `hash` and verifies it against `genesis` (never
   * against what the node says the genesis is). Right after a commit a block
   * may not be attested by a majority yet: the proof is asked for again
   * while that is all that is wrong, for at most `waitMs` (default 10 s).
   */
  async fetchAndVerify(hash: string | Uint8Array, genesis: Genesis | string, options: { waitMs?: number } = {}): Promise<Verdict> {
    const g = loadGenesis(genesis);
    const deadline = Date.now() + (options.waitMs ?? 10_000);
    for (;;) {
      try {
        return verifyEvidence(await this.proof(hash), g, hash);
      } catch (e) {
        if (!(e instanceof ProofError && e.notYetAttested) || Date.now() >= deadline) throw e;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }
}
