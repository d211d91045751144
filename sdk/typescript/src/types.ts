/**
 * The gateway's JSON shapes (node/types/src/view.rs and friends): hashes,
 * keys, signatures and byte strings are lower-case hex, identifiers and
 * versions strings, 64-bit integers JSON numbers.
 */

/** A transaction before signing. */
export interface Tx {
  chain_id: string;
  tx_id: string;
  /** The tenant the signer acts under (`null` for organisations and banks). */
  tenant: string | null;
  /** The registered key id that signs it. */
  signer: string;
  contract: string;
  /** `MAJOR.MINOR.PATCH`: exactly the contract's active version. */
  version: string;
  method: string;
  /** The arguments' canonical bytes, hex. */
  args: string;
  timestamp_ms: number;
}

/** A transaction with its signature (hex, 64 bytes). */
export interface SignedTx {
  tx: Tx;
  signature: string;
}

/** Something a contract announced. `decoded` is the data as JSON where the node's interface names the topic. */
export interface LedgerEvent {
  contract: string;
  topic: string;
  data: string;
  decoded?: unknown;
}

/** Why a recorded transaction failed. */
export interface TxFailure {
  code: string;
  message: string;
}

/** The outcome of one transaction. */
export interface Receipt {
  tx_hash: string;
  tx_id: string;
  status: 'success' | 'failed';
  failure: TxFailure | null;
  events: LedgerEvent[];
  fuel_used: number;
}

/** A transaction's status. */
export interface TxView {
  tx_id: string;
  tx_hash: string;
  status: 'pending' | 'committed';
  height?: number;
  index?: number;
  receipt?: Receipt;
  /** The receipt's events' data as JSON, one per event (`null` where the contract's interface does not name the topic). */
  decoded_events?: Array<unknown | null>;
}

/** A committed transaction's view: height, index and receipt are there. */
export interface CommittedTx extends TxView {
  status: 'committed';
  height: number;
  index: number;
  receipt: Receipt;
}

/** Where a block sits in the consensus log. */
export interface ConsensusRef {
  term: number;
  index: number;
}

/** A block header; its hash is the block hash. */
export interface BlockHeader {
  chain_id: string;
  height: number;
  prev_hash: string;
  tx_root: string;
  receipts_root: string;
  state_hash: string;
  tx_count: number;
  proposer: string;
  proposed_at_ms: number;
  consensus: ConsensusRef;
  voters_hash: string;
}

/** A node's audit log head, signed into its attestation. */
export interface AuditAnchor {
  head: { seq: number; hash: string };
  signature: string;
}

/** A node's signature over a block it committed. */
export interface Attestation {
  height: number;
  block_hash: string;
  node: string;
  signature: string;
  audit?: AuditAnchor | null;
}

/** A Merkle inclusion proof (RFC 9162). */
export interface MerkleProof {
  leaf_index: number;
  tree_size: number;
  path: string[];
}

/** A transaction and its receipt, proven to be in a committed block. */
export interface TxProof {
  header: BlockHeader;
  attestations: Attestation[];
  tx: SignedTx;
  tx_path: MerkleProof;
  receipt: Receipt;
  receipt_path: MerkleProof;
  voter_changes?: TxProof[];
}

/** An evidence record in plain words. */
export interface EvidenceSummary {
  doc_type: string;
  metadata: Array<[string, string]>;
  submitter: string;
  tx_id: string;
  height: number;
  time_ms: number;
  notaries: string[];
  notarised_at?: number;
}

/** An evidence record with the proof of each transaction that made it. */
export interface EvidenceProof {
  hash: string;
  summary: EvidenceSummary;
  /** The record as the evidence contract stores it (Borsh, hex). */
  record: string;
  submit: TxProof;
  cosigns: TxProof[];
  voter_changes?: TxProof[];
}

/** One event of a stream or page, with its cursor `HEIGHT-TX-EVENT`. */
export interface StreamEvent {
  cursor: string;
  height: number;
  tx_index: number;
  event_index: number;
  time_ms: number;
  tx_id: string;
  /** Whether the transaction was refused (its events are then alerts only). */
  refused: boolean;
  contract: string;
  topic: string;
  /** Hex, as the contract encodes it. */
  data: string;
  /** The data as JSON, where the interface names the topic (decoded by the node or the SDK). */
  decoded?: unknown;
}

/** A page of events and the cursor to ask from next. */
export interface EventPage {
  events: StreamEvent[];
  next: string;
}

/** A request waiting for the caller's answer. */
export interface InboxRequest {
  id: string;
  kind: string;
  bill: string;
  start: number;
  end: number;
  from: string;
  day: string;
  height: number;
}

/** A fund movement waiting for the caller's report. */
export interface InboxMovement {
  request_id: string;
  kind: string;
  amount: number;
  debit: string;
  credit: string;
  status: string;
  day: string;
}

/** What waits for the caller's answer (`GET /v1/inbox`). */
export interface InboxView {
  requests: InboxRequest[];
  movements: InboxMovement[];
}

/** A deployed contract (`GET /v1/contracts/{name}`). */
export interface ContractRecord {
  name: string;
  version: string;
  code_hash: string;
  status: unknown;
  registrations: { orgs: string[]; tenants: string[] };
  history: Array<{ version: string; code_hash: string; installed_at_height: number }>;
}

/** A node's health. */
export interface Health {
  status: string;
  chain_id: string;
  node_id: string;
  height: number;
  tip_hash: string;
  pending: number;
}

/** Chain-wide parameters of the genesis. */
export interface ChainParams {
  max_txs_per_block: number;
  max_block_wait_ms: number;
  max_tx_bytes: number;
  max_tx_age_ms: number;
  max_tx_future_ms: number;
  max_code_bytes: number;
  max_args_bytes: number;
  tx_fuel: number;
}

/** A key named in genesis. */
export interface GenesisKey {
  key_id: string;
  public_key: string;
}

/** A founding organisation. */
export interface GenesisOrg {
  id: string;
  name: string;
  role: 'notary' | 'bank' | 'regulator';
  admin_keys: GenesisKey[];
  ca_cert_pem: string | null;
}

/** A tenant registered from the start. */
export interface GenesisTenant {
  id: string;
  name: string;
  registered_by: string;
  keys: GenesisKey[];
}

/** A node admitted from the start. */
export interface GenesisNode {
  id: string;
  org: string;
  public_key: string;
  peer_id: string;
  role: 'voter' | 'observer';
  address: string | null;
}

/** The approval policy of administrative actions. */
export interface AdminPolicy {
  min_approving_orgs: number;
  min_share_percent: number;
  regulator: 'counts' | 'required' | 'excluded';
}

/** A founding organisation's signature over the genesis hash. */
export interface GenesisSignature {
  org: string;
  key_id: string;
  signature: string;
}

/** The genesis document (`genesis.json`, `GET /v1/genesis`). */
export interface Genesis {
  chain_id: string;
  genesis_time_ms: number;
  params: ChainParams;
  organisations: GenesisOrg[];
  tenants: GenesisTenant[];
  nodes: GenesisNode[];
  admin_policy: AdminPolicy;
  signatures: GenesisSignature[];
}
