import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';

import { Writer } from '../../src/borsh.js';
import {
  LedgerError,
  ProofError,
  decodeEvidenceRecord,
  documentHash,
  readGenesisFile,
  toHex,
  verifyEvidence,
  type EvidenceProof,
  type EvidenceRecord,
} from '../../src/index.js';
import { type Context, SUPPLIER_A } from './context.js';

/** A record's canonical bytes (to tamper with one in a proof). */
function encodeRecord(r: EvidenceRecord): string {
  const w = new Writer();
  w.raw(Buffer.from(r.hash, 'hex')).string(r.doc_type).vec(r.metadata, (ww, [k, v]) => ww.string(k).string(v));
  w.string(r.submitter).option(r.tenant, (ww, t) => ww.string(t)).string(r.tx_id).u64(r.height).u64(r.time_ms);
  w.vec(r.signatures, (ww, s) => ww.string(s.notary).option(s.org, (www, o) => www.string(o)).u64(s.height).u64(s.time_ms));
  w.option(r.notarised_at, (ww, h) => ww.u64(h));
  return toHex(w.finish());
}

const clone = <T>(v: T): T => structuredClone(v);

/** The hex string with every bit of its first byte flipped: never the same string (a fixed byte would be, one time in 256). */
const flipFirstByte = (hex: string): string =>
  (parseInt(hex.slice(0, 2), 16) ^ 0xff).toString(16).padStart(2, '0') + hex.slice(2);

export function evidenceSuite(ctx: Context): void {
  describe('evidence', () => {
    let hash = '';
    let proof: EvidenceProof;

    test('a document is submitted, co-signed by two notary offices, and its proof verifies offline', { timeout: 60_000 }, async () => {
      const me = ctx.as(SUPPLIER_A);
      const document = `purchase contract ${Date.now()} ${Math.random()}`;
      const submitted = await me.evidence.submit(document, { docType: 'purchase_contract', metadata: { amount: '300000.00', currency: 'CNY' } });
      hash = submitted.hash;
      assert.equal(hash, documentHash(document));
      assert.equal(submitted.tx.receipt.status, 'success');
      const record = await me.evidence.get(hash);
      assert.equal(record?.submitter, `participant:${SUPPLIER_A}`);
      assert.deepEqual(record?.metadata, [['amount', '300000.00'], ['currency', 'CNY']]);
      for (const n of ctx.devnet.notary_keys) await ctx.as(n.owner).evidence.cosign(hash);
      const verdict = await me.evidence.fetchAndVerify(hash, ctx.devnet.genesis);
      proof = await me.evidence.proof(hash);
      assert.deepEqual(me.evidence.verify(proof, ctx.devnet.genesis, hash), verdict);
      assert.equal(verdict.submittedAt, submitted.tx.height);
      assert.deepEqual(verdict.cosignedBy, ctx.devnet.notary_keys.map((k) => k.key_id));
      assert.equal(verdict.notarised, true);
      assert.equal(verdict.record.doc_type, 'purchase_contract');
      // The same with the genesis given as the parsed document, or as its JSON text.
      assert.deepEqual(verifyEvidence(proof, readGenesisFile(ctx.devnet.genesis), hash), verdict);
      assert.deepEqual(verifyEvidence(JSON.stringify(proof), readFileSync(ctx.devnet.genesis, 'utf8'), hash), verdict);
    });

    test('a tampered proof, or one checked against another genesis, is refused with the reason', { timeout: 60_000 }, () => {
      const genesis = readGenesisFile(ctx.devnet.genesis);
      const refused = (p: EvidenceProof, message: RegExp, g = genesis, h = hash): void => {
        assert.throws(() => verifyEvidence(p, g, h), (e: unknown) => e instanceof ProofError && e.code === 'E_SDK_PROOF' && message.test(e.message));
      };
      refused(proof, /^the proof is for [0-9a-f]{64}, not [0-9a-f]{64}$/, genesis, documentHash('another document'));
      refused(proof, /^the submission: the block is of chain billflow-devnet, the genesis founds other-chain$/, { ...genesis, chain_id: 'other-chain' });
      const otherVoters = clone(genesis);
      otherVoters.nodes[0]!.public_key = otherVoters.nodes[1]!.public_key;
      refused(proof, /^the submission: block \d+ names other voters than the proof leads to/, otherVoters);

      let p = clone(proof);
      p.submit.tx.tx.timestamp_ms += 1;
      refused(p, /^the submission: the transaction is not in the block \(Merkle path does not lead to the transaction root\)$/);
      p = clone(proof);
      p.submit.receipt.fuel_used += 1;
      refused(p, /^the submission: the receipt is not the transaction's receipt in the block$/);
      p = clone(proof);
      p.submit.attestations = p.submit.attestations.slice(0, 1);
      refused(p, /^the submission: 1 of the \d+ voters in force attest block \d+; more than half must$/);
      p = clone(proof);
      p.submit.attestations = p.submit.attestations.map((a) => ({ ...a, signature: flipFirstByte(a.signature) }));
      refused(p, /^the submission: 0 of the \d+ voters in force attest block/);
      p = clone(proof);
      p.submit.header.proposed_at_ms += 1;
      refused(p, /^the submission: \d of the \d+ voters in force attest block/, genesis);

      const record = decodeEvidenceRecord(Buffer.from(proof.record, 'hex'));
      p = clone(proof);
      p.record = encodeRecord({ ...record, doc_type: 'invoice' });
      refused(p, /^the record's document type "invoice" is not the submission's "purchase_contract"$/);
      p = clone(proof);
      p.record = encodeRecord({ ...record, metadata: [['amount', '1.00'], ['currency', 'CNY']] });
      refused(p, /^the record's metadata is not the submission's$/);
      p = clone(proof);
      p.record = encodeRecord({ ...record, submitter: 'participant:someone-else' });
      refused(p, /^the record's submitter participant:someone-else is not the one the contract recorded/);
      p = clone(proof);
      p.record = encodeRecord({ ...record, height: record.height + 1 });
      refused(p, /^the record's height or time is not the submission's block$/);
      p = clone(proof);
      p.cosigns = p.cosigns.slice(0, 1);
      refused(p, /^the record lists 2 co-signatures, the proof proves 1$/);
      p = clone(proof);
      p.record = encodeRecord({ ...record, notarised_at: null });
      refused(p, /^the record's notarisation is not the one the proven co-signatures made$/);
      p = clone(proof);
      p.cosigns = [p.submit, ...p.cosigns.slice(1)];
      refused(p, /^co-signature 1 calls evidence.submit, not evidence.cosign$/);
    });

    test('the ledger refuses a second record of a document and a co-signature by a non-notary, with their codes', { timeout: 60_000 }, async () => {
      const me = ctx.as(SUPPLIER_A);
      await assert.rejects(me.evidence.submitHash(hash, { docType: 'purchase_contract' }), (e: unknown) => {
        assert.ok(e instanceof LedgerError);
        assert.equal(e.code, 'E_DUPLICATE_EVIDENCE');
        assert.equal(e.status, 422);
        assert.match(e.txId ?? '', /^evidence-/);
        return true;
      });
      await assert.rejects(me.evidence.cosign(hash), { name: 'LedgerError', code: 'E_NOT_NOTARY', status: 422 });
      // Personal data never reaches a block: the gateway refuses it.
      await assert.rejects(
        me.evidence.submit(`doc ${Math.random()}`, { docType: 'invoice', metadata: { buyer_phone: '13812345678' } }),
        { name: 'LedgerError', code: 'E_PERSONAL_DATA', status: 400 },
      );
    });
  });
}
