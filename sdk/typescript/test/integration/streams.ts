import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { cursorAfter, documentHash, type StreamEvent } from '../../src/index.js';
import { type Context, SUPPLIER_A } from './context.js';

export function streamsSuite(ctx: Context): void {
  describe('event streams and pages with cursors', () => {
    test("a party follows its own events live, and resumes from a cursor with nothing twice", { timeout: 60_000 }, async () => {
      const me = ctx.as(SUPPLIER_A);
      const stream = me.eventStream({ types: ['evidence.'] });
      await stream.opened();
      const start = stream.cursor!;
      const hashes = [documentHash(`stream ${Math.random()}`), documentHash(`stream ${Math.random()}`)];
      for (const h of hashes) await me.evidence.submitHash(h, { docType: 'invoice' });
      const seen: StreamEvent[] = [];
      for await (const e of stream) {
        seen.push(e);
        if (seen.length === 2) break;
      }
      assert.deepEqual(seen.map((e) => e.topic), ['evidence.submitted', 'evidence.submitted']);
      assert.ok(cursorAfter(seen[1]!.cursor, seen[0]!.cursor) && cursorAfter(seen[0]!.cursor, start));
      assert.equal(stream.cursor, seen[1]!.cursor);
      // Decoded with the evidence contract's interface (where the nodes serve one).
      const decoded = seen[0]!.decoded as { hash?: string } | undefined;
      if (decoded !== undefined) assert.equal(decoded.hash, hashes[0]);

      // From the first cursor: exactly the second event follows.
      const resumed = me.eventStream({ from: seen[0]!.cursor, types: ['evidence.'] });
      const next = await resumed.next();
      resumed.close();
      assert.equal(next?.cursor, seen[1]!.cursor);

      // The page route gives the same events and cursors.
      const page = await me.events({ from: start, types: ['evidence.'] });
      assert.deepEqual(page.events.map((e) => e.cursor), seen.map((e) => e.cursor));
      assert.equal(page.next, seen[1]!.cursor);
    });

    test('a stream whose connection drops carries on from its cursor on the next node', { timeout: 60_000 }, async () => {
      const me = ctx.as(SUPPLIER_A);
      const stream = me.eventStream({ types: ['evidence.'] });
      await stream.opened();
      await me.evidence.submitHash(documentHash(`drop ${Math.random()}`), { docType: 'invoice' });
      const first = await stream.next();
      // Cut the connection under the stream, as a node that stops would.
      (stream as unknown as { socket: { terminate(): void } }).socket.terminate();
      await me.evidence.submitHash(documentHash(`drop ${Math.random()}`), { docType: 'invoice' });
      const second = await stream.next();
      stream.close();
      assert.ok(first && second && cursorAfter(second.cursor, first.cursor));
      assert.equal(await stream.next(), undefined, 'closed');
    });

    test('the regulators follow the supervision stream of every party', { timeout: 60_000 }, async () => {
      const regulator = ctx.as(ctx.devnet.regulator_keys[0]!.owner);
      const stream = regulator.supervise({ types: ['evidence.submitted'] });
      await stream.opened();
      const hash = documentHash(`supervised ${Math.random()}`);
      await ctx.as(SUPPLIER_A).evidence.submitHash(hash, { docType: 'invoice' });
      const e = await stream.next();
      stream.close();
      assert.equal(e?.topic, 'evidence.submitted');
      assert.ok(e?.data.includes(hash));
      const page = await regulator.supervisionEvents({ from: '0-0-0', types: ['evidence.submitted'] });
      assert.ok(page.events.some((x) => x.cursor === e?.cursor));
    });
  });
}
