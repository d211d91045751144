// Evidence proofs checked in the browser, against a genesis document: the
// same checks as `billflow evidence verify` (docs/contracts.md), with
// WebCrypto's SHA-256 and Ed25519. Nothing here trusts the node that served
// the proof: hashes are recomputed from the canonical encoding
// (docs/encoding.md), Merkle paths walked (RFC 9162), signatures checked.

const enc = new TextEncoder();

// ---- bytes ----

export function fromHex(hex) {
  if (typeof hex !== 'string' || hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new ProofError(`not hex: ${String(hex).slice(0, 20)}`);
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i += 1) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function concat(parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Why a proof does not hold. */
export class ProofError extends Error {}

// ---- the canonical encoding (Borsh) ----

function whole(n, max) {
  if (!Number.isSafeInteger(n) || n < 0 || n > max) throw new ProofError(`not a whole number in range: ${String(n).slice(0, 24)}`);
  return n;
}

/** Hex of exactly `n` bytes: a hash (32), key (32) or signature (64). */
function fixedHex(hex, n) {
  const bytes = fromHex(hex);
  if (bytes.length !== n) throw new ProofError(`${bytes.length} bytes where ${n} belong`);
  return bytes;
}

// Fixed-size fields have no length in the encoding: their sizes are checked
// here, or bytes could move between neighbouring fields with the same hash.
class Writer {
  constructor() { this.parts = []; }
  u8(n) { this.parts.push(Uint8Array.of(whole(n, 0xff))); return this; }
  u32(n) {
    whole(n, 0xffffffff);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, n, true);
    this.parts.push(b);
    return this;
  }
  u64(n) {
    whole(n, Number.MAX_SAFE_INTEGER);
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(n), true);
    this.parts.push(b);
    return this;
  }
  fixed(bytes) { this.parts.push(bytes); return this; }
  hash(hex) { return this.fixed(fixedHex(hex, 32)); }
  sig(hex) { return this.fixed(fixedHex(hex, 64)); }
  bytes(bytes) { this.u32(bytes.length); this.parts.push(bytes); return this; }
  str(s) {
    if (typeof s !== 'string') throw new ProofError(`a string expected, got ${typeof s}`);
    return this.bytes(enc.encode(s));
  }
  option(v, f) { if (v === null || v === undefined) return this.u8(0); this.u8(1); f(this, v); return this; }
  vec(items, f) { this.u32(items.length); for (const it of items) f(this, it); return this; }
  done() { return concat(this.parts); }
}

class Reader {
  constructor(bytes) { this.b = bytes; this.at = 0; }
  take(n) {
    if (this.at + n > this.b.length) throw new ProofError('truncated data');
    const out = this.b.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }
  u8() { return this.take(1)[0]; }
  u32() { const b = this.take(4); return new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true); }
  u64() {
    const b = this.take(8);
    const n = new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);
    if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new ProofError('a number too large for this page');
    return Number(n);
  }
  fixed(n) { return this.take(n); }
  str() { return new TextDecoder('utf-8', { fatal: true }).decode(this.take(this.u32())); }
  option(f) {
    const tag = this.u8();
    if (tag > 1) throw new ProofError(`option tag ${tag}`);
    return tag === 0 ? null : f(this);
  }
  vec(f) { const n = this.u32(); const out = []; for (let i = 0; i < n; i += 1) out.push(f(this)); return out; }
  end() { if (this.at !== this.b.length) throw new ProofError('trailing bytes'); }
}

function version(w, v) {
  const parts = String(v).split('.').map(Number);
  if (parts.length !== 3 || parts.some((p) => !Number.isInteger(p) || p < 0)) throw new ProofError(`bad version ${v}`);
  parts.forEach((p) => w.u32(p));
}

function encodeTx(w, tx) {
  w.str(tx.chain_id).str(tx.tx_id).option(tx.tenant, (x, t) => x.str(t)).str(tx.signer).str(tx.contract);
  version(w, tx.version);
  w.str(tx.method).bytes(fromHex(tx.args)).u64(tx.timestamp_ms);
}

function encodeSignedTx(stx) {
  const w = new Writer();
  encodeTx(w, stx.tx);
  return w.sig(stx.signature).done();
}

function encodeReceipt(r) {
  const status = { success: 0, failed: 1 }[r.status];
  if (status === undefined) throw new ProofError(`unknown receipt status ${r.status}`);
  return new Writer()
    .hash(r.tx_hash).str(r.tx_id).u8(status)
    .option(r.failure, (w, f) => w.str(f.code).str(f.message))
    .vec(r.events || [], (w, e) => w.str(e.contract).str(e.topic).bytes(fromHex(e.data)))
    .u64(r.fuel_used)
    .done();
}

function encodeHeader(h) {
  return new Writer()
    .str(h.chain_id).u64(h.height).hash(h.prev_hash).hash(h.tx_root).hash(h.receipts_root).hash(h.state_hash)
    .u32(h.tx_count).str(h.proposer).u64(h.proposed_at_ms).u64(h.consensus.term).u64(h.consensus.index)
    .hash(h.voters_hash)
    .done();
}

const ORG_ROLES = { notary: 0, bank: 1, regulator: 2 };
const NODE_ROLES = { voter: 0, observer: 1 };
const REGULATOR = { counts: 0, required: 1, excluded: 2 };

function role(table, name, what) {
  const n = table[name];
  if (n === undefined) throw new ProofError(`unknown ${what} ${name}`);
  return n;
}

function encodeGenesis(g) {
  const p = g.params;
  const keys = (w, ks) => w.vec(ks || [], (x, k) => x.str(k.key_id).hash(k.public_key));
  const policy = g.admin_policy;
  return new Writer()
    .str(g.chain_id).u64(g.genesis_time_ms)
    .u32(p.max_txs_per_block).u64(p.max_block_wait_ms).u32(p.max_tx_bytes).u64(p.max_tx_age_ms)
    .u64(p.max_tx_future_ms).u32(p.max_code_bytes).u32(p.max_args_bytes).u64(p.tx_fuel)
    .vec(g.organisations, (w, o) => {
      w.str(o.id).str(o.name).u8(role(ORG_ROLES, o.role, 'organisation role'));
      keys(w, o.admin_keys);
      w.option(o.ca_cert_pem, (x, pem) => x.str(pem));
    })
    .vec(g.tenants || [], (w, t) => { w.str(t.id).str(t.name).str(t.registered_by); keys(w, t.keys); })
    .vec(g.nodes || [], (w, n) => {
      w.str(n.id).str(n.org).hash(n.public_key).str(n.peer_id).u8(role(NODE_ROLES, n.role, 'node role'));
      w.option(n.address, (x, a) => x.str(a));
    })
    .u32(policy.min_approving_orgs).u32(policy.min_share_percent ?? 0)
    .u8(role(REGULATOR, policy.regulator ?? 'counts', 'regulator approval'))
    .vec([], () => {}) // the signatures: the hash is over the document with none
    .done();
}

function bytewise(a, b) {
  const x = enc.encode(a);
  const y = enc.encode(b);
  for (let i = 0; i < Math.min(x.length, y.length); i += 1) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

/** Voters in the order a header's voter set hash takes them: by node id, byte order. */
function sortVoters(voters) {
  return [...voters].sort((a, b) => bytewise(a.node, b.node) || bytewise(toHex(a.public_key), toHex(b.public_key)));
}

function encodeVoters(voters) {
  return new Writer().vec(sortVoters(voters), (w, v) => w.str(v.node).fixed(v.public_key)).done();
}

/** Decodes all of `bytes` with `f(reader)`; trailing bytes are refused. */
function decodeAll(bytes, f) {
  const r = new Reader(bytes);
  const out = f(r);
  r.end();
  return out;
}

function decodeVoters(bytes) {
  return decodeAll(bytes, (r) => r.vec((x) => ({ node: x.str(), public_key: x.fixed(32) })));
}

// ---- hashes and signatures ----

async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
}

function prefix(tag) {
  const t = enc.encode(`billflow/v1/${tag}`);
  return concat([Uint8Array.of(t.length), t]);
}

/** `H(domain, data)`: SHA-256 over the domain's tag, then the data. */
async function domainHash(tag, ...parts) {
  return sha256(concat([prefix(tag), ...parts]));
}

/** The genesis hash (the chain's identity), as `billflow-node genesis --file` prints it. */
export async function genesisHash(genesis) {
  return toHex(await domainHash('genesis', encodeGenesis(genesis)));
}

// RFC 8032, section 7.1, test 1: a key, the empty message and its signature.
const RFC8032_KEY = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';
const RFC8032_SIG = 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b';

/** Whether this browser verifies Ed25519 in WebCrypto (checked on RFC 8032's first test vector). */
export async function hasEd25519() {
  try {
    if (!(globalThis.crypto && crypto.subtle)) return false;
    const key = await crypto.subtle.importKey('raw', fromHex(RFC8032_KEY), { name: 'Ed25519' }, false, ['verify']);
    return await crypto.subtle.verify('Ed25519', key, fromHex(RFC8032_SIG), new Uint8Array(0));
  } catch {
    return false;
  }
}

async function ed25519(publicKey, tag, message, signatureHex) {
  try {
    const key = await crypto.subtle.importKey('raw', publicKey, { name: 'Ed25519' }, false, ['verify']);
    return await crypto.subtle.verify('Ed25519', key, fixedHex(signatureHex, 64), concat([prefix(tag), message]));
  } catch {
    return false; // a malformed key or signature verifies nothing
  }
}

async function merkleOk(path, item, rootHex) {
  let fn = BigInt(path.leaf_index);
  let sn = BigInt(path.tree_size) - 1n;
  if (fn > sn) return false;
  let r = await domainHash('merkle-leaf', item);
  for (const p of path.path) {
    if (sn === 0n) return false;
    const sibling = fixedHex(p, 32);
    if ((fn & 1n) === 1n || fn === sn) {
      r = await domainHash('merkle-node', sibling, r);
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      r = await domainHash('merkle-node', r, sibling);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n && toHex(r) === rootHex;
}

// ---- proofs ----

/** A line of the verdict: an explorer/i18n.js key and its values. */
const line = (key, vars = {}) => ({ key, vars });

/** Whether `a`'s audit anchor, if it has one, is signed by `voter` (else the attestation does not count). */
async function anchorOk(a, voter) {
  if (a.audit === undefined || a.audit === null) return true;
  const head = a.audit.head || {};
  const message = new Writer().str(a.node).u64(a.height).u64(head.seq).hash(head.hash).done();
  return ed25519(voter.public_key, 'audit-anchor', message, a.audit.signature);
}

/**
 * Checks one transaction proof against the voters in force at its height
 * (`votersAt(height)`), as `TxProof::verify_in` does: Merkle paths to the
 * header's roots, the header's voter set, and more than half of those
 * voters' Ed25519 attestations of the block hash recomputed from the header.
 * Throws a ProofError naming `what` and the check that fails.
 */
async function checkTx(p, what, chainId, votersAt) {
  try {
    return await checkTxIn(p, what, chainId, votersAt);
  } catch (e) {
    if (e instanceof ProofError && e.message.startsWith(`${what}: `)) throw e;
    throw new ProofError(`${what}: the proof cannot be read: ${(e && e.message) || e}`);
  }
}

async function checkTxIn(p, what, chainId, votersAt) {
  const h = p.header;
  const fail = (why) => new ProofError(`${what}: ${why}`);
  if (h.chain_id !== chainId) throw fail(`the block is of chain ${h.chain_id}, the genesis founds ${chainId}`);
  const txHash = await domainHash('tx', encodeSignedTx(p.tx));
  if (!(await merkleOk(p.tx_path, txHash, h.tx_root))) {
    throw fail(`the transaction is not in block ${h.height} (its Merkle path does not lead to the block's transaction root)`);
  }
  const receiptHash = await domainHash('receipt', encodeReceipt(p.receipt));
  if (p.receipt.tx_hash !== toHex(txHash) || p.receipt_path.leaf_index !== p.tx_path.leaf_index
    || !(await merkleOk(p.receipt_path, receiptHash, h.receipts_root))) {
    throw fail(`the receipt is not the transaction's receipt in block ${h.height} (its Merkle path does not lead to the block's receipts root)`);
  }
  const voters = votersAt(h.height);
  if (toHex(await domainHash('voter-set', encodeVoters(voters))) !== h.voters_hash) {
    throw fail(`block ${h.height} names other voters than the proof leads to: the proof lacks a change of voters before it, or holds one that is not the chain's`);
  }
  const blockHash = await domainHash('block-header', encodeHeader(h));
  const signed = new Set();
  for (const a of p.attestations || []) {
    const voter = voters.find((v) => v.node === a.node);
    if (!voter || signed.has(a.node) || a.height !== h.height || a.block_hash !== toHex(blockHash)) continue;
    const message = new Writer().u64(a.height).fixed(blockHash).done();
    if (await ed25519(voter.public_key, 'block-attestation', message, a.signature) && await anchorOk(a, voter)) {
      signed.add(a.node);
    }
  }
  if (signed.size * 2 <= voters.length) {
    throw fail(`${signed.size} of the ${voters.length} voters in force attest block ${h.height}; more than half must`);
  }
  return { height: h.height, time: h.proposed_at_ms, attested: signed.size, voters: voters.length };
}

/** The voters in force at each height, from genesis through the proven changes of voters (`VoterHistory::follow`). */
async function followVoters(genesis, changes) {
  const genesisVoters = (genesis.nodes || []).filter((n) => n.role === 'voter')
    .map((n) => ({ node: n.id, public_key: fixedHex(n.public_key, 32) }));
  const sets = [[1, sortVoters(genesisVoters)]];
  const votersAt = (height) => {
    let found = [];
    for (const [from, voters] of sets) if (from <= height) found = voters;
    return found;
  };
  for (const [i, c] of (changes || []).entries()) {
    const height = c.header.height;
    const what = `the changes of voters: change of voters ${i + 1} (block ${height})`;
    const fail = (why) => new ProofError(`${what}: ${why}`);
    if (!Number.isSafeInteger(height) || height < sets[sets.length - 1][0]) throw fail('it is not later than the change before it');
    await checkTx(c, what, genesis.chain_id, votersAt);
    if (c.tx.tx.contract !== 'system') throw fail('it is not a system transaction');
    if (c.receipt.status !== 'success') throw fail('its transaction failed');
    const named = (c.receipt.events || []).filter((e) => e.contract === 'system' && e.topic === 'voters.changed');
    if (named.length !== 1) throw fail('its receipt does not name one new voter set');
    let voters;
    try {
      voters = decodeVoters(fromHex(named[0].data));
    } catch (e) {
      throw fail(`its voter set does not decode: ${e.message}`);
    }
    if (voters.length === 0) throw fail('it names no voter');
    sets.push([height + 1, voters]);
  }
  return votersAt;
}

// The evidence contract's types (contracts/evidence/src/types.rs), decoded.
const hash32 = (r) => toHex(r.fixed(32));
const optStr = (r) => r.option((x) => x.str());
const SUBMIT_ARGS = (r) => ({ hash: hash32(r), docType: r.str(), metadata: r.vec((x) => [x.str(), x.str()]) });
const COSIGN_ARGS = (r) => ({ hash: hash32(r) });
const SUBMITTED = (r) => ({ hash: hash32(r), docType: r.str(), submitter: r.str(), tenant: optStr(r) });
const COSIGNED = (r) => ({
  hash: hash32(r), notary: r.str(), org: optStr(r), signatures: r.u32(), offices: r.u32(), threshold: r.u32(),
});
const NOTARISED = (r) => ({ hash: hash32(r), notaries: r.vec((x) => x.str()) });
const RECORD = (r) => ({
  hash: hash32(r),
  docType: r.str(),
  metadata: r.vec((x) => [x.str(), x.str()]),
  submitter: r.str(),
  tenant: optStr(r),
  txId: r.str(),
  height: r.u64(),
  timeMs: r.u64(),
  signatures: r.vec((x) => ({ notary: x.str(), org: optStr(x), height: x.u64(), timeMs: x.u64() })),
  notarisedAt: r.option((x) => x.u64()),
});

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

/** The first `evidence` event `topic` of a proven receipt, decoded, or null. */
function event(p, topic, what, decode) {
  const e = (p.receipt.events || []).find((x) => x.contract === 'evidence' && x.topic === topic);
  if (!e) return null;
  try {
    return decodeAll(fromHex(e.data), decode);
  } catch (err) {
    throw new ProofError(`${what}: its ${topic} event does not decode: ${err.message}`);
  }
}

/** A transaction proven, calling `evidence.{method}` about this document, and successful. */
async function proven(p, what, method, hashHex, chainId, votersAt) {
  const at = await checkTx(p, what, chainId, votersAt);
  const tx = p.tx.tx;
  if (tx.contract !== 'evidence' || tx.method !== method) {
    throw new ProofError(`${what} calls ${tx.contract}.${tx.method}, not evidence.${method}`);
  }
  let args = null;
  try {
    args = decodeAll(fromHex(tx.args), method === 'submit' ? SUBMIT_ARGS : COSIGN_ARGS);
  } catch {
    args = null;
  }
  if (!args || args.hash !== hashHex) throw new ProofError(`${what} is about another document`);
  if (p.receipt.status !== 'success') throw new ProofError(`${what} failed on the ledger`);
  return { ...at, args };
}

/**
 * Verifies an evidence proof for document `hashHex` against `genesis`, as
 * `billflow evidence verify` does (sdk/src/evidence.rs), and that what the
 * page shows (`proof.summary`) is the proven record. Returns
 * `{ verified, notVerified }`, lines `{ key, vars }` for explorer/i18n.js;
 * throws a ProofError naming the transaction and the check that fails.
 */
export async function verifyEvidence(proof, genesis, hashHex) {
  if (proof.hash !== hashHex) throw new ProofError(`the proof is for document ${proof.hash}, not ${hashHex}`);
  const chainId = genesis.chain_id;
  const verified = [];
  const votersAt = await followVoters(genesis, proof.voter_changes);
  const changes = (proof.voter_changes || []).length;
  verified.push(changes ? line('verify.voters', { n: changes }) : line('verify.votersGenesis'));

  const submit = proof.submit;
  const s = await proven(submit, 'the submission', 'submit', hashHex, chainId, votersAt);
  const submitted = event(submit, 'evidence.submitted', 'the submission', SUBMITTED);
  if (!submitted) throw new ProofError('the submission\'s receipt records no evidence.submitted event');
  let record;
  try {
    record = decodeAll(fromHex(proof.record), RECORD);
  } catch (e) {
    throw new ProofError(`the record does not decode: ${e.message}`);
  }
  if (record.hash !== hashHex || submitted.hash !== hashHex || record.txId !== submit.tx.tx.tx_id) {
    throw new ProofError('the record is not the one the submission made');
  }
  if (record.docType !== s.args.docType) {
    throw new ProofError(`the record's document type ${JSON.stringify(record.docType)} is not the submission's ${JSON.stringify(s.args.docType)}`);
  }
  if (!same(record.metadata, s.args.metadata)) throw new ProofError('the record\'s metadata is not the submission\'s');
  if (record.submitter !== submitted.submitter || record.tenant !== submitted.tenant) {
    throw new ProofError(`the record's submitter ${record.submitter} is not the one the contract recorded for the submission (${submitted.submitter})`);
  }
  if (record.height !== s.height || record.timeMs !== s.time) {
    throw new ProofError('the record\'s height or time is not the submission\'s block');
  }
  verified.push(line('verify.submitted', { height: s.height, tx: record.txId, attested: s.attested, voters: s.voters }));
  verified.push(line('verify.args'));
  verified.push(line('verify.submitter', { submitter: record.submitter }));

  const signatures = [];
  let notarised = null;
  for (const [i, c] of (proof.cosigns || []).entries()) {
    const what = `co-signature ${i + 1}`;
    const t = await proven(c, what, 'cosign', hashHex, chainId, votersAt);
    if (t.height < s.height) throw new ProofError(`${what} precedes the submission`);
    const cosigned = event(c, 'evidence.cosigned', what, COSIGNED);
    if (!cosigned) throw new ProofError(`${what}: its receipt records no evidence.cosigned event`);
    if (cosigned.hash !== hashHex) throw new ProofError(`${what} is about another document`);
    signatures.push({ notary: cosigned.notary, org: cosigned.org, height: t.height, timeMs: t.time });
    verified.push(line('verify.cosigned', {
      height: t.height, notary: cosigned.org ? `${cosigned.notary} (${cosigned.org})` : cosigned.notary,
      attested: t.attested, voters: t.voters,
    }));
    const notarises = event(c, 'evidence.notarised', what, NOTARISED);
    if (notarises && notarises.hash === hashHex && notarised === null) {
      // The threshold counts distinct notary offices among the proven co-signatures.
      const offices = new Set(signatures.map((x) => x.org ?? x.notary)).size;
      if (offices < cosigned.threshold) {
        throw new ProofError(`${what} claims to notarise the record with ${offices} notary offices, the threshold is ${cosigned.threshold}`);
      }
      notarised = { height: t.height, offices, threshold: cosigned.threshold };
    }
  }
  if (record.signatures.length !== signatures.length) {
    throw new ProofError(`the record lists ${record.signatures.length} co-signatures, the proof proves ${signatures.length}`);
  }
  record.signatures.forEach((claimed, i) => {
    if (!same(claimed, signatures[i])) {
      throw new ProofError(`co-signature ${i + 1} of the record (${claimed.notary}) is not the proven one (${signatures[i].notary})`);
    }
  });
  const notarisedAt = notarised ? notarised.height : null;
  if (record.notarisedAt !== notarisedAt) {
    throw new ProofError(record.notarisedAt !== null && notarisedAt === null
      ? 'the record claims to be notarised, but no proven co-signature completed it'
      : 'the record\'s notarisation is not the one the proven co-signatures made');
  }
  verified.push(notarised ? line('verify.notarised', notarised) : line('verify.notNotarised'));

  // What the page shows is the node's summary of the record: it must be the proven record.
  const summary = proof.summary || {};
  const shown = [
    ['document type', summary.doc_type, record.docType],
    ['metadata', summary.metadata, record.metadata],
    ['submitter', summary.submitter, record.submitter],
    ['submitting transaction', summary.tx_id, record.txId],
    ['block', summary.height, record.height],
    ['time', summary.time_ms, record.timeMs],
    ['notaries', summary.notaries, record.signatures.map((x) => x.notary)],
    ['notarisation', summary.notarised_at ?? null, record.notarisedAt],
  ];
  for (const [name, got, want] of shown) {
    if (!same(got, want)) {
      throw new ProofError(`the ${name} the node shows, ${JSON.stringify(got)}, is not the proven record's, ${JSON.stringify(want)}`);
    }
  }
  verified.push(line('verify.shown'));

  const notVerified = [line('verify.not.genesis'), line('verify.not.later'), line('verify.not.signers')];
  return { verified, notVerified };
}
