import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { Client, Key, LedgerError, TransportError, documentHash, encodeSubmitEvidence, readGenesisFile, txHash, verifyTxProof } from '../../src/index.js';
import { type Context, SUPPLIER_A } from './context.js';

export function transportSuite(ctx: Context): void {
  describe('signed requests, typed errors and failover', () => {
    test('requests are signed as docs/api.md says: the node takes them, and names what is wrong with others', { timeout: 60_000 }, async () => {
      const d = ctx.devnet;
      const me = d.participant_keys.find((k) => k.owner === SUPPLIER_A)!;
      const base = { nodes: d.nodes.map((n) => n.api_url), ca: d.ca_cert, chainId: d.chain_id };
      assert.deepEqual(await new Client({ ...base, key: me.key_file, keyId: me.key_id, tenant: 'demo-platform' }).inbox(), { requests: [], movements: [] });
      await assert.rejects(new Client({ ...base, key: me.key_file, keyId: 'nobody.k1' }).inbox(), {
        name: 'LedgerError',
        code: 'E_UNKNOWN_KEY',
        status: 401,
      });
      await assert.rejects(new Client({ ...base, key: Key.generate(), keyId: me.key_id }).inbox(), { code: 'E_BAD_SIGNATURE', status: 401 });
      await assert.rejects(new Client(base).inbox(), { code: 'E_UNAUTHENTICATED', status: 401 });
      const regulatorsOnly = ctx.as(SUPPLIER_A).supervisionEvents();
      await assert.rejects(regulatorsOnly, { code: 'E_NOT_REGULATOR', status: 403 });
      await assert.rejects(ctx.admin(d.admin_keys[0]!.owner).events(), { code: 'E_NOT_A_PARTY', status: 403 });
      await assert.rejects(ctx.as(SUPPLIER_A).events({ from: 'yesterday' }), { code: 'E_BAD_CURSOR', status: 400 });
      await assert.rejects(ctx.as(SUPPLIER_A).transaction('no-such-tx'), (e: unknown) => {
        assert.ok(e instanceof LedgerError && e.status === 404 && e.code === 'E_NOT_FOUND');
        assert.ok(e.requestId, 'the node names the request');
        return true;
      });
    });

    test('a transaction for another chain is refused with E_WRONG_CHAIN', { timeout: 60_000 }, async () => {
      const d = ctx.devnet;
      const me = d.participant_keys.find((k) => k.owner === SUPPLIER_A)!;
      const other = new Client({ nodes: d.nodes.map((n) => n.api_url), ca: d.ca_cert, key: me.key_file, keyId: me.key_id, tenant: 'demo-platform', chainId: 'other-chain' });
      await assert.rejects(other.evidence.submit(`doc ${Math.random()}`, { docType: 'invoice' }), { code: 'E_WRONG_CHAIN', status: 400 });
    });

    test('a transaction sent as JSON is the same transaction: the node hashes it as the SDK does', { timeout: 60_000 }, async () => {
      const me = ctx.as(SUPPLIER_A);
      const args = encodeSubmitEvidence({ hash: documentHash(`json ${Math.random()}`), doc_type: 'invoice', metadata: [] });
      const stx = await me.signCall('evidence', 'submit', args, { version: await me.activeVersion('evidence') });
      const view = await me.submitAndWait(stx, { format: 'json' });
      assert.equal(view.tx_hash, txHash(stx));
      assert.equal(view.receipt.status, 'success');
      const proof = await me.verifiedProof(stx.tx.tx_id, ctx.devnet.genesis);
      assert.deepEqual(proof.tx, stx);
      verifyTxProof(proof, readGenesisFile(ctx.devnet.genesis));
      // The same signed transaction again, as bytes: the ledger answers with the first outcome.
      const again = await me.submitAndWait(stx);
      assert.equal(again.height, view.height);
    });

    test('a node that cannot be reached is passed over, for reads and for submissions', { timeout: 60_000 }, async () => {
      const d = ctx.devnet;
      const me = d.participant_keys.find((k) => k.owner === SUPPLIER_A)!;
      // Port 9 on loopback: nothing listens there.
      const client = new Client({
        nodes: ['https://127.0.0.1:9', ...d.nodes.map((n) => n.api_url)],
        ca: d.ca_cert,
        key: me.key_file,
        keyId: me.key_id,
        tenant: 'demo-platform',
      });
      assert.equal(client.node, 'https://127.0.0.1:9');
      assert.equal(await client.chainId(), d.chain_id, 'read from the next node');
      const again = new Client({ nodes: ['https://127.0.0.1:9', d.nodes[1]!.api_url], ca: d.ca_cert, key: me.key_file, keyId: me.key_id, tenant: 'demo-platform', chainId: d.chain_id });
      const hash = documentHash(`failover ${Math.random()}`);
      const done = await again.evidence.submitHash(hash, { docType: 'invoice' });
      assert.equal(done.tx.receipt.status, 'success');
      assert.equal(again.node, d.nodes[1]!.api_url);
      // A single unreachable node is a TransportError, retryable.
      const dead = new Client({ nodes: ['https://127.0.0.1:9'], ca: d.ca_cert });
      await assert.rejects(dead.health(), (e: unknown) => e instanceof TransportError && e.retryable && e.code === 'E_SDK_TRANSPORT');
    });

    test('a client trusting the system roots instead of the consortium CAs is refused the connection', { timeout: 60_000 }, async () => {
      const d = ctx.devnet;
      const systemRoots = new Client({ nodes: [d.nodes[0]!.api_url] });
      await assert.rejects(systemRoots.health(), { name: 'TransportError' });
    });
  });
}
