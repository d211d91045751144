/**
 * The evidence contract from the client's side: its arguments, records and
 * events in their canonical encoding, and the offline check of an evidence
 * proof against the genesis document alone (a port of
 * `billflow_sdk::evidence::verify`, with the same refusals).
 */

import { readFileSync } from 'node:fs';

import { Reader, Writer, decodeAll } from './borsh.js';
import { fromHex, sha256, toHex } from './bytes.js';
import { parseGenesis, readGenesisFile } from './chain.js';
import { InvalidInputError, ProofError } from './errors.js';
import { VoterHistory, verifyTxProofIn } from './proof.js';
import type { EvidenceProof, Genesis, TxProof } from './types.js';

/** The evidence contract's name. */
export const EVIDENCE_CONTRACT = 'evidence';

/** The SHA-256 of a document (hex): what the ledger records of it. */
export function documentHash(document: Uint8Array | string): string {
  return toHex(sha256(typeof document === 'string' ? new Uint8Array(Buffer.from(document, 'utf8')) : document));
}

/** A notary's co-signature, as the record keeps it. */
export interface NotarySignature {
  notary: string;
  org: string | null;
  height: number;
  time_ms: number;
}

/** An evidence record as the contract stores it. */
export interface EvidenceRecord {
  hash: string;
  doc_type: string;
  metadata: Array<[string, string]>;
  submitter: string;
  tenant: string | null;
  tx_id: string;
  height: number;
  time_ms: number;
  signatures: NotarySignature[];
  notarised_at: number | null;
}

/** `submit`'s arguments. */
export interface SubmitEvidence {
  hash: string;
  doc_type: string;
  metadata: Array<[string, string]>;
}

const readHash = (r: Reader): string => toHex(r.raw(32));
const readPairs = (r: Reader): Array<[string, string]> => r.vec((rr) => [rr.string(), rr.string()] as [string, string]);
const readOptString = (r: Reader): string | null => r.option((rr) => rr.string());

/** The canonical bytes of `submit`'s arguments. */
export function encodeSubmitEvidence(a: SubmitEvidence): Uint8Array {
  return new Writer()
    .raw(fromHex(a.hash, 32, 'hash'))
    .string(a.doc_type)
    .vec(a.metadata, (w, [k, v]) => w.string(k).string(v))
    .finish();
}

/** The canonical bytes of `cosign`'s (and `get`'s) arguments. */
export function encodeEvidenceHash(hash: string): Uint8Array {
  return fromHex(hash, 32, 'hash');
}

/** `submit`'s arguments from their bytes. */
export function decodeSubmitEvidence(bytes: Uint8Array): SubmitEvidence {
  return decodeAll(bytes, (r) => ({ hash: readHash(r), doc_type: r.string(), metadata: readPairs(r) }));
}

/** An evidence record from its bytes. */
export function decodeEvidenceRecord(bytes: Uint8Array): EvidenceRecord {
  return decodeAll(bytes, readRecord);
}

function readRecord(r: Reader): EvidenceRecord {
  return {
    hash: readHash(r),
    doc_type: r.string(),
    metadata: readPairs(r),
    submitter: r.string(),
    tenant: readOptString(r),
    tx_id: r.string(),
    height: r.u64n(),
    time_ms: r.u64n(),
    signatures: r.vec((rr) => ({ notary: rr.string(), org: readOptString(rr), height: rr.u64n(), time_ms: rr.u64n() })),
    notarised_at: r.option((rr) => rr.u64n()),
  };
}

/** A record (or `null`) from the output of the `get` query. */
export function decodeOptionalRecord(bytes: Uint8Array): EvidenceRecord | null {
  return decodeAll(bytes, (r) => r.option(readRecord));
}

interface Submitted {
  hash: string;
  doc_type: string;
  submitter: string;
  tenant: string | null;
}
interface Cosigned {
  hash: string;
  notary: string;
  org: string | null;
  signatures: number;
  offices: number;
  threshold: number;
}
interface Notarised {
  hash: string;
  notaries: string[];
}

const EVENTS = {
  'evidence.submitted': (r: Reader): Submitted => ({ hash: readHash(r), doc_type: r.string(), submitter: r.string(), tenant: readOptString(r) }),
  'evidence.cosigned': (r: Reader): Cosigned => ({
    hash: readHash(r),
    notary: r.string(),
    org: readOptString(r),
    signatures: r.u32(),
    offices: r.u32(),
    threshold: r.u32(),
  }),
  'evidence.notarised': (r: Reader): Notarised => ({ hash: readHash(r), notaries: r.vec((rr) => rr.string()) }),
};

/** How many distinct notary offices co-signed (a notary of no organisation is an office of its own). */
function offices(signatures: NotarySignature[]): number {
  return new Set(signatures.map((s) => s.org ?? s.notary)).size;
}

/** What a verified proof shows. */
export interface Verdict {
  /** The document hash. */
  hash: string;
  /** The record, every field of it proven. */
  record: EvidenceRecord;
  /** The block height of the submission. */
  submittedAt: number;
  /** The key ids of the notaries whose co-signatures are proven. */
  cosignedBy: string[];
  /** Whether a proven co-signature completed the notary threshold. */
  notarised: boolean;
}

function mismatch(text: string): ProofError {
  return new ProofError(text);
}

function proven(p: TxProof, voters: VoterHistory, what: string, method: 'submit' | 'cosign', hash: string): void {
  try {
    verifyTxProofIn(p, voters);
  } catch (e) {
    throw new ProofError(`${what}: ${(e as Error).message}`, { notYetAttested: e instanceof ProofError && e.notYetAttested });
  }
  const tx = p.tx.tx;
  if (tx.contract !== EVIDENCE_CONTRACT || tx.method !== method) {
    throw mismatch(`${what} calls ${tx.contract}.${tx.method}, not ${EVIDENCE_CONTRACT}.${method}`);
  }
  let doc: string | undefined;
  try {
    doc =
      method === 'submit'
        ? decodeSubmitEvidence(fromHex(tx.args)).hash
        : decodeAll(fromHex(tx.args), (r) => readHash(r));
  } catch {
    doc = undefined;
  }
  if (doc !== hash) throw mismatch(`${what} is about another document`);
  if (p.receipt.status !== 'success') throw mismatch(`${what} failed on the ledger`);
}

function event<K extends keyof typeof EVENTS>(p: TxProof, topic: K, what: string): ReturnType<(typeof EVENTS)[K]> | undefined {
  const e = p.receipt.events.find((x) => x.contract === EVIDENCE_CONTRACT && x.topic === topic);
  if (!e) return undefined;
  try {
    const read = EVENTS[topic] as (r: Reader) => ReturnType<(typeof EVENTS)[K]>;
    return decodeAll(fromHex(e.data), read);
  } catch (err) {
    throw mismatch(`${what}: its ${topic} event does not decode: ${(err as Error).message}`);
  }
}

function sameSignature(a: NotarySignature, b: NotarySignature): boolean {
  return a.notary === b.notary && a.org === b.org && a.height === b.height && a.time_ms === b.time_ms;
}

/** A genesis from a parsed document, its JSON text, or the path of `genesis.json`. */
export function loadGenesis(genesis: Genesis | string): Genesis {
  if (typeof genesis !== 'string') return parseGenesis(genesis);
  return genesis.trimStart().startsWith('{') ? parseGenesis(genesis) : readGenesisFile(genesis);
}

/** An evidence proof from its parsed JSON, its JSON text, or the path of a file holding it. */
function loadProof(proof: EvidenceProof | string): EvidenceProof {
  if (typeof proof !== 'string') return proof;
  const text = proof.trimStart().startsWith('{') ? proof : readFileSync(proof, 'utf8');
  return JSON.parse(text) as EvidenceProof;
}

/**
 * Verifies `proof` for the document with SHA-256 `hash` with nothing but the
 * genesis document: every transaction is in a block attested by a majority of
 * the voters in force at its height (followed from genesis through the proven
 * changes of voters the proof carries); the submission and co-signatures are
 * about this document and succeeded; and every field of the record is what
 * those transactions prove: the document type and metadata are the
 * submission's arguments, the submitter and tenant what the contract
 * recorded for it, each co-signature (notary, office, height) one proven
 * co-signing, and the notarisation the proven co-signing that completed it,
 * over the threshold of distinct notary offices the contract named.
 *
 * Returns the {@link Verdict}; throws a {@link ProofError} saying why the
 * proof does not hold. `proof` and `genesis` may be parsed JSON, JSON text or
 * file paths.
 */
export function verifyEvidence(proofIn: EvidenceProof | string, genesisIn: Genesis | string, hashIn: string | Uint8Array): Verdict {
  const genesis = loadGenesis(genesisIn);
  const proof = loadProof(proofIn);
  const hash = typeof hashIn === 'string' ? toHex(fromHex(hashIn, 32, 'the document hash')) : toHex(hashIn);
  if (hash.length !== 64) throw new InvalidInputError('a document hash is 32 bytes');
  const proofHash = String(proof.hash).toLowerCase();
  if (proofHash !== hash) throw new ProofError(`the proof is for ${proofHash}, not ${hash}`);
  let voters: VoterHistory;
  try {
    voters = VoterHistory.follow(genesis, proof.voter_changes ?? []);
  } catch (e) {
    throw new ProofError(`the changes of voters: ${(e as Error).message}`);
  }
  const submit = proof.submit;
  proven(submit, voters, 'the submission', 'submit', hash);
  const submitted = event(submit, 'evidence.submitted', 'the submission');
  if (!submitted) throw mismatch("the submission's receipt records no evidence.submitted event");
  let args: SubmitEvidence;
  try {
    args = decodeSubmitEvidence(fromHex(submit.tx.tx.args));
  } catch (e) {
    throw mismatch(`the submission's arguments do not decode: ${(e as Error).message}`);
  }
  let record: EvidenceRecord;
  try {
    record = decodeEvidenceRecord(fromHex(proof.record));
  } catch (e) {
    throw mismatch(`the record does not decode: ${(e as Error).message}`);
  }
  if (record.hash !== hash || submitted.hash !== hash || record.tx_id !== submit.tx.tx.tx_id) {
    throw mismatch('the record is not the one the submission made');
  }
  if (record.doc_type !== args.doc_type) {
    throw mismatch(`the record's document type ${JSON.stringify(record.doc_type)} is not the submission's ${JSON.stringify(args.doc_type)}`);
  }
  if (
    record.metadata.length !== args.metadata.length ||
    record.metadata.some(([k, v], i) => k !== args.metadata[i]![0] || v !== args.metadata[i]![1])
  ) {
    throw mismatch("the record's metadata is not the submission's");
  }
  if (record.submitter !== submitted.submitter || record.tenant !== submitted.tenant) {
    throw mismatch(
      `the record's submitter ${record.submitter} is not the one the contract recorded for the submission (${submitted.submitter})`,
    );
  }
  if (record.height !== submit.header.height || record.time_ms !== submit.header.proposed_at_ms) {
    throw mismatch("the record's height or time is not the submission's block");
  }

  const cosignedBy: string[] = [];
  const signatures: NotarySignature[] = [];
  let notarisedAt: number | null = null;
  proof.cosigns.forEach((c, n) => {
    const what = `co-signature ${n + 1}`;
    proven(c, voters, what, 'cosign', hash);
    if (c.header.height < submit.header.height) throw mismatch(`${what} precedes the submission`);
    const cosigned = event(c, 'evidence.cosigned', what);
    if (!cosigned) throw mismatch(`${what}: its receipt records no evidence.cosigned event`);
    if (cosigned.hash !== hash) throw mismatch(`${what} is about another document`);
    signatures.push({ notary: cosigned.notary, org: cosigned.org, height: c.header.height, time_ms: c.header.proposed_at_ms });
    cosignedBy.push(c.tx.tx.signer);
    const notarises = event(c, 'evidence.notarised', what);
    if (notarises && notarises.hash === hash && notarisedAt === null) {
      // The threshold counts distinct notary offices among the proven co-signatures.
      const soFar = offices(signatures);
      if (soFar < cosigned.threshold) {
        throw mismatch(
          `${what} claims to notarise the record with ${soFar} notary offices, the threshold is ${cosigned.threshold}`,
        );
      }
      notarisedAt = c.header.height;
    }
  });
  if (record.signatures.length !== signatures.length) {
    throw mismatch(`the record lists ${record.signatures.length} co-signatures, the proof proves ${signatures.length}`);
  }
  record.signatures.forEach((claimed, n) => {
    const p = signatures[n]!;
    if (!sameSignature(claimed, p)) {
      throw mismatch(`co-signature ${n + 1} of the record (${claimed.notary}) is not the proven one (${p.notary})`);
    }
  });
  if (record.notarised_at !== notarisedAt) {
    throw mismatch(
      record.notarised_at !== null && notarisedAt === null
        ? 'the record claims to be notarised, but no proven co-signature completed it'
        : "the record's notarisation is not the one the proven co-signatures made",
    );
  }
  return { hash, record, submittedAt: submit.header.height, cosignedBy, notarised: notarisedAt !== null };
}
