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

class Writer {
  constructor() { this.parts = []; }
  u8(n) { this.parts.push(Uint8Array.of(n)); return this; }
  u32(n) {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, n, true);
    this.parts.push(b);
    return this;
  }
  u64(n) {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(n), true);
    this.parts.push(b);
    return this;
  }
  fixed(bytes) { this.parts.push(bytes); return this; }
  hash(hex) { return this.fixed(fromHex(hex)); }
  bytes(bytes) { this.u32(bytes.length); this.parts.push(bytes); return this; }
  str(s) { return this.bytes(enc.encode(s)); }
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
  fixed(n) { return this.take(n); }
  str() { return new TextDecoder('utf-8', { fatal: true }).decode(this.take(this.u32())); }
  option(f) { return this.u8() === 0 ? null : f(this); }
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
  return w.hash(stx.signature).done();
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

function encodeVoters(voters) {
  return new Writer().vec(voters, (w, v) => w.str(v.node).fixed(v.public_key)).done();
}

function decodeVoters(bytes) {
  const r = new Reader(bytes);
  const voters = r.vec((x) => ({ node: x.str(), public_key: x.fixed(32) }));
  r.end();
  return voters;
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

/** Whether this browser verifies Ed25519 in WebCrypto. */
export async function hasEd25519() {
  try {
    await crypto.subtle.importKey('raw', new Uint8Array(32).fill(1), { name: 'Ed25519' }, false, ['verify']);
    return true;
  } catch {
    return false;
  }
}

async function ed25519(publicKey, tag, message, signatureHex) {
  const key = await crypto.subtle.importKey('raw', publicKey, { name: 'Ed25519' }, false, ['verify']);
  return crypto.subtle.verify('Ed25519', key, fromHex(signatureHex), concat([prefix(tag), message]));
}

async function merkleOk(path, item, rootHex) {
  let fn = BigInt(path.leaf_index);
  let sn = BigInt(path.tree_size) - 1n;
  if (fn > sn) return false;
  let r = await domainHash('merkle-leaf', item);
  for (const p of path.path) {
    if (sn === 0n) return false;
    const sibling = fromHex(p);
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

function sortVoters(voters) {
  return [...voters].sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
}

/**
 * Checks one transaction proof against the voters in force at its height
 * (`votersAt(height)`): Merkle paths to the header's roots, the header's
 * voter set, and more than half of those voters' Ed25519 attestations.
 * Returns how many attested; throws a ProofError saying what fails.
 */
async function checkTx(p, what, chainId, votersAt) {
  const h = p.header;
  if (h.chain_id !== chainId) throw new ProofError(`${what}: the block is of chain ${h.chain_id}, the genesis founds ${chainId}`);
  const txHash = await domainHash('tx', encodeSignedTx(p.tx));
  if (!(await merkleOk(p.tx_path, txHash, h.tx_root))) {
    throw new ProofError(`${what}: the transaction is not in block ${h.height} (its Merkle path does not lead to the transaction root)`);
  }
  const receiptHash = await domainHash('receipt', encodeReceipt(p.receipt));
  if (p.receipt.tx_hash !== toHex(txHash) || p.receipt_path.leaf_index !== p.tx_path.leaf_index
    || !(await merkleOk(p.receipt_path, receiptHash, h.receipts_root))) {
    throw new ProofError(`${what}: the receipt is not the transaction's receipt in block ${h.height}`);
  }
  const voters = votersAt(h.height);
  if (toHex(await domainHash('voter-set', encodeVoters(voters))) !== h.voters_hash) {
    throw new ProofError(`${what}: block ${h.height} names other voters than the proof leads to`);
  }
  const blockHash = await domainHash('block-header', encodeHeader(h));
  const signed = new Set();
  for (const a of p.attestations || []) {
    const voter = voters.find((v) => v.node === a.node);
    if (!voter || a.height !== h.height || a.block_hash !== toHex(blockHash)) continue;
    const msg = new Writer().u64(a.height).fixed(blockHash).done();
    if (await ed25519(voter.public_key, 'block-attestation', msg, a.signature)) signed.add(a.node);
  }
  if (signed.size * 2 <= voters.length) {
    throw new ProofError(`${what}: ${signed.size} of the ${voters.length} voters in force attest block ${h.height}; more than half must`);
  }
  return { height: h.height, attested: signed.size, voters: voters.length };
}

/** The voter sets from genesis through the proven changes of the proof. */
async function followVoters(genesis, changes) {
  const sets = [[1, sortVoters((genesis.nodes || []).filter((n) => n.role === 'voter')
    .map((n) => ({ node: n.id, public_key: fromHex(n.public_key) })))]];
  const votersAt = (height) => {
    let found = [];
    for (const [from, voters] of sets) if (from <= height) found = voters;
    return found;
  };
  for (const [i, c] of (changes || []).entries()) {
    const what = `change of voters ${i + 1}`;
    const height = c.header.height;
    if (height < sets[sets.length - 1][0]) throw new ProofError(`${what}: not later than the change before it`);
    await checkTx(c, what, genesis.chain_id, votersAt);
    if (c.tx.tx.contract !== 'system' || c.receipt.status !== 'success') {
      throw new ProofError(`${what}: not a successful system transaction`);
    }
    const named = (c.receipt.events || []).filter((e) => e.contract === 'system' && e.topic === 'voters.changed');
    if (named.length !== 1) throw new ProofError(`${what}: its receipt does not name one new voter set`);
    sets.push([height + 1, decodeVoters(fromHex(named[0].data))]);
  }
  return votersAt;
}

function evidenceEvent(p, topic) {
  return (p.receipt.events || []).find((e) => e.contract === 'evidence' && e.topic === topic);
}

/**
 * Verifies an evidence proof for document `hashHex` against `genesis`.
 * Returns `{ verified: [...], notVerified: [...], attestations }`, each line
 * a sentence; throws a ProofError naming the first check that fails.
 */
export async function verifyEvidence(proof, genesis, hashHex) {
  if (proof.hash !== hashHex) throw new ProofError(`the proof is for document ${proof.hash}, not ${hashHex}`);
  const verified = [];
  const notVerified = [];
  const votersAt = await followVoters(genesis, proof.voter_changes);
  const changes = (proof.voter_changes || []).length;
  if (changes) verified.push(`the voters followed from genesis through ${changes} proven changes of voters`);

  const submit = proof.submit;
  const s = await checkTx(submit, 'the submission', genesis.chain_id, votersAt);
  if (submit.tx.tx.contract !== 'evidence' || submit.tx.tx.method !== 'submit') {
    throw new ProofError(`the submission calls ${submit.tx.tx.contract}.${submit.tx.tx.method}, not evidence.submit`);
  }
  if (submit.receipt.status !== 'success') throw new ProofError('the submission failed on the ledger');
  const args = new Reader(fromHex(submit.tx.tx.args));
  const submitted = {
    hash: toHex(args.fixed(32)),
    docType: args.str(),
    metadata: args.vec((r) => [r.str(), r.str()]),
  };
  args.end();
  if (submitted.hash !== hashHex) throw new ProofError('the submission is about another document');
  verified.push(`submitted in block ${s.height}, attested by ${s.attested} of its ${s.voters} voters (Ed25519)`);

  const summary = proof.summary || {};
  const sameMeta = JSON.stringify(summary.metadata || []) === JSON.stringify(submitted.metadata);
  if (summary.doc_type !== submitted.docType) {
    throw new ProofError(`the record's document type ${JSON.stringify(summary.doc_type)} is not the submission's ${JSON.stringify(submitted.docType)}`);
  }
  if (!sameMeta) throw new ProofError('the record\'s metadata is not the submission\'s');
  verified.push(`document type ${JSON.stringify(submitted.docType)} and metadata, from the submission's own arguments`);
  if (summary.height !== s.height) throw new ProofError('the record\'s height is not the submission\'s block');

  const ev = evidenceEvent(submit, 'evidence.submitted');
  if (!ev) throw new ProofError('the submission\'s receipt records no evidence.submitted event');
  const r = new Reader(fromHex(ev.data));
  const by = { hash: toHex(r.fixed(32)), docType: r.str(), submitter: r.str(), tenant: r.option((x) => x.str()) };
  r.end();
  if (by.hash !== hashHex) throw new ProofError('the submission\'s event is about another document');
  if (summary.submitter !== by.submitter) {
    throw new ProofError(`the record's submitter ${summary.submitter} is not the one the contract recorded (${by.submitter})`);
  }
  verified.push(`submitted by ${by.submitter}, as the evidence contract recorded it`);

  let notarisedAt = null;
  let notarisedBy = '';
  const offices = new Set();
  for (const [i, c] of (proof.cosigns || []).entries()) {
    const what = `co-signature ${i + 1}`;
    const t = await checkTx(c, what, genesis.chain_id, votersAt);
    if (c.tx.tx.contract !== 'evidence' || c.tx.tx.method !== 'cosign' || c.receipt.status !== 'success') {
      throw new ProofError(`${what} is not a successful evidence.cosign`);
    }
    if (toHex(fromHex(c.tx.tx.args).subarray(0, 32)) !== hashHex) throw new ProofError(`${what} is about another document`);
    const cosigned = evidenceEvent(c, 'evidence.cosigned');
    if (!cosigned) throw new ProofError(`${what}: its receipt records no evidence.cosigned event`);
    const cr = new Reader(fromHex(cosigned.data));
    const notary = { hash: toHex(cr.fixed(32)), notary: cr.str(), org: cr.option((x) => x.str()) };
    cr.u32(); // the record's signatures so far
    cr.u32(); // its offices so far, as the contract counted them
    const threshold = cr.u32();
    cr.end();
    if (notary.hash !== hashHex) throw new ProofError(`${what} is about another document`);
    offices.add(notary.org ?? notary.notary);
    verified.push(`co-signed in block ${t.height} by notary ${notary.notary}${notary.org ? ` of ${notary.org}` : ''} (${t.attested} of ${t.voters} voters attest)`);
    if (notarisedAt === null && evidenceEvent(c, 'evidence.notarised')) {
      // The threshold counts distinct notary offices among the proven co-signatures.
      if (offices.size < threshold) {
        throw new ProofError(`${what} claims to notarise the record with ${offices.size} notary offices, the threshold is ${threshold}`);
      }
      notarisedAt = t.height;
      notarisedBy = `${offices.size} notary offices, threshold ${threshold}`;
    }
  }
  if (notarisedAt !== null) {
    if (summary.notarised_at !== notarisedAt) throw new ProofError('the record\'s notarisation is not the one the proven co-signatures made');
    verified.push(`notarised in block ${notarisedAt}: ${notarisedBy} among the proven co-signatures`);
  } else if (summary.notarised_at !== null && summary.notarised_at !== undefined) {
    throw new ProofError('the record claims to be notarised, but no proven co-signature completed it');
  }
  notVerified.push('the genesis document itself: compare its hash with the one your organisation signed');
  notVerified.push('the stored record\'s own bytes: the fields shown above are checked against the proven transactions instead');
  return { verified, notVerified };
}
