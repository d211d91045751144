/**
 * `@billflow/sdk`: the TypeScript client of billflow. Keys from PKCS#8 PEM,
 * signed gateway requests, transactions in their canonical encoding signed
 * with domain separation, contract arguments from JSON through the
 * contracts' interface documents, submission with failover, queries, event
 * streams with cursors, and the offline check of evidence proofs against the
 * genesis file.
 */

export { Client, SYSTEM_CONTRACT, SYSTEM_VERSION, receiptError } from './client.js';
export type { ClientOptions, Identity, SubmitOptions } from './client.js';
export { Key, Domain, domainHash, domainPrefix, verifySignature } from './keys.js';
export type { DomainTag } from './keys.js';
export {
  BillflowError,
  CodecError,
  InvalidInputError,
  LedgerError,
  ProofError,
  StreamError,
  TransportError,
} from './errors.js';
export { ContractInterface } from './codec.js';
export type { DecodeOptions, EventDef, InterfaceDocument, MethodDef, TypeDef } from './codec.js';
export { canonicalRequest, signRequest, newNonce, queryEscape, HEADER_KEY, HEADER_NONCE, HEADER_SIGNATURE, HEADER_TIMESTAMP } from './request.js';
export { encodeTx, encodeSignedTx, decodeSignedTx, signTx, verifyTx, txHash, newTxId, parseVersion, isValidId } from './tx.js';
export { blockHash, encodeBlockHeader, encodeReceipt, receiptHash, voterSetHash, genesisHash, parseGenesis, readGenesisFile, encodeGenesis } from './chain.js';
export { merkleRoot, verifyMerkleProof, buildMerkleProof } from './merkle.js';
export { VoterHistory, verifyTxProof, verifyTxProofIn } from './proof.js';
export {
  documentHash,
  verifyEvidence,
  decodeEvidenceRecord,
  encodeSubmitEvidence,
  EVIDENCE_CONTRACT,
} from './evidence.js';
export type { EvidenceRecord, NotarySignature, Verdict } from './evidence.js';
export { EvidenceApi } from './evidence-api.js';
export type { EvidenceOptions, SubmittedEvidence } from './evidence-api.js';
export { EventStream, cursorAfter, parseCursor } from './streams.js';
export type { StreamOptions } from './streams.js';
export { readDevnet, isValidCreditCode, creditCodeCheckChar } from './devnet.js';
export type { Devnet, DevnetKey, DevnetNode } from './devnet.js';
export { toHex, fromHex, sha256 } from './bytes.js';
export type * from './types.js';
export * as flows from './flows.js';
export type { Account, LedgerDate } from './flows.js';
