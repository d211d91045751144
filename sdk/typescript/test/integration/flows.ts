import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';

import { Client, Key, LedgerError, CodecError, creditCodeCheckChar, flows, type StreamEvent } from '../../src/index.js';
import { BANK_A, CORE, type Context, digits } from './context.js';

interface BillView {
  bill: { number: string; stage: string; holdings: Array<{ start: number; end: number; holder: string; state: unknown }> };
  history: Array<{ action: string; actor: string; tx_id: string }>;
  movements: Array<{ request_id: string; status: string; kind: string }>;
}

export function flowsSuite(ctx: Context): void {
  describe('a bill from issue to instant discount, through the flows contract', () => {
    // A new enterprise for each run: registered on the ledger by the tenant, then with the flows contract.
    const body = `91440300MA${digits(7)}`;
    const supplierId = body + creditCodeCheckChar(body);
    const supplierKey = Key.generate();
    const order = `PO-TS-${randomBytes(4).toString('hex')}`;
    const bill = `5301${digits(26)}`;
    const invoice = { code: '3100231130', number: digits(8) };
    let supplier: Client;
    let request = '';
    const events: StreamEvent[] = [];

    test('a new enterprise is registered by its tenant and registers itself with the flows contract', { timeout: 60_000 }, async () => {
      const tenant = ctx.as();
      const registered = await tenant.submit('system', 'register_participant', {
        participant: supplierId,
        kind: 'Enterprise',
        name: 'Supplier C Trading Co.',
        keys: [{ key_id: `${supplierId}.k1`, public_key: supplierKey.publicKeyHex }],
      });
      assert.ok(registered.receipt.events.some((e) => e.topic === 'participant.registered'));
      supplier = tenant.withIdentity({ key: supplierKey, keyId: `${supplierId}.k1`, tenant: 'demo-platform' });
      const account = flows.account(BANK_A, `62220210${digits(8)}`, randomBytes(16));
      const done = await supplier.submit('flows', 'party.register', { account, city: 'Shenzhen', finance_company: false });
      const event = done.receipt.events.find((e) => e.topic === 'party.registered');
      assert.equal((event?.decoded as { id?: string } | undefined)?.id, supplierId);
      const party = (await supplier.query('flows', 'party.get', { id: supplierId })) as { id: string; account: { masked: string } } | null;
      assert.equal(party?.id, supplierId);
      assert.equal(party?.account.masked, account.masked);
      // Registering twice is refused with the contract's code.
      await assert.rejects(supplier.submit('flows', 'party.register', { account, city: 'Shenzhen', finance_company: false }), {
        name: 'LedgerError',
        code: 'E_PARTY_EXISTS',
        status: 422,
      });
    });

    test('the supplier follows its events while the core enterprise orders, issues and the bill is accepted and delivered', { timeout: 120_000 }, async () => {
      const stream = supplier.eventStream({ types: ['bill.', 'order.'] });
      await stream.opened();
      const core = ctx.as(CORE);
      const bankA = ctx.as(BANK_A);
      const amount = flows.yuanToFen('1,500,000.00');
      await core.submit('flows', 'order.create', { id: order, seller: supplierId, amount, date: flows.businessDay(-20), evidence: null });
      await supplier.submit('flows', 'order.deliver', { order, delivery: 'DN-1', amount, date: flows.businessDay(-10), evidence: null });
      await core.submit('flows', 'order.confirm_delivery', { order, delivery: 'DN-1' });
      const checkCode = digits(20);
      await supplier.submit('flows', 'invoice.record', {
        key: invoice,
        order,
        date: flows.businessDay(-9),
        amount_ex_tax: flows.yuanToFen('1,327,433.63'),
        amount_inc_tax: amount,
        seller: supplierId,
        buyer: CORE,
        check_code: checkCode,
        evidence: null,
      });
      await bankA.submit('flows', 'invoice.verify', { key: invoice, check_code: checkCode.slice(14) });
      await core.submit('flows', 'bill.issue', {
        number: bill,
        kind: 'SupplyChain',
        amount: flows.yuanToFen('1,000,000.00'),
        issue_date: flows.businessDay(-10),
        due_date: flows.businessDay(80),
        acceptor: CORE,
        payee: supplierId,
        splittable: true,
        non_transferable: false,
        evidence: null,
      });
      const acceptance = await core.submit('flows', 'bill.request_acceptance', { bill });
      // The acceptor (the core enterprise itself) finds the request in its inbox.
      const inbox = await core.inbox();
      const waiting = inbox.requests.find((r) => r.id === acceptance.tx_id);
      assert.equal(waiting?.kind, 'acceptance');
      assert.equal(waiting?.bill, bill);
      await core.submit('flows', 'bill.sign', { request: acceptance.tx_id, reason: '' });
      const delivery = await core.submit('flows', 'bill.request_delivery', { bill });
      assert.ok((await supplier.inbox()).requests.some((r) => r.id === delivery.tx_id && r.kind === 'delivery'));
      await supplier.submit('flows', 'bill.sign', { request: delivery.tx_id, reason: '' });

      // The supplier's stream saw its order, its own actions and the bill that names it, decoded, in order, once each.
      for (;;) {
        const e = await stream.next();
        assert.ok(e);
        events.push(e);
        if (e.topic === 'bill.changed' && e.tx_id === (await delivery).tx_id) break;
      }
      stream.close();
      const cursors = events.map((e) => e.cursor);
      assert.equal(new Set(cursors).size, cursors.length, 'nothing twice');
      assert.ok(events.some((e) => e.topic === 'order.changed'));
      assert.ok(events.filter((e) => e.topic === 'bill.changed').length >= 2);
      assert.ok(events.every((e) => e.decoded !== undefined), 'every event decoded');
      // A regulator reads the same events, narrowed to the events that name the supplier.
      const regulator = ctx.as(ctx.devnet.regulator_keys[0]!.owner);
      const page = await regulator.supervisionEvents({ from: events[0]!.cursor, types: ['bill.'], participant: supplierId });
      assert.ok(page.events.length > 0 && page.events.every((e) => e.topic.startsWith('bill.')));
      assert.ok(page.events.every((e) => Buffer.from(e.data, 'hex').includes(Buffer.from(supplierId))));
    });

    test('bank A approves the discount instantly by its policy, and the disbursement moves the range to it', { timeout: 120_000 }, async () => {
      const bankA = ctx.as(BANK_A);
      await bankA.submit('flows', 'bill.set_policy', {
        enabled: true,
        acceptors: [CORE],
        max_amount: flows.yuanToFen('2,000,000.00'),
        rates: [
          { max_days: 90, rate: 13_500 },
          { max_days: 184, rate: 15_000 },
        ],
        daily_limit_per_enterprise: '500000000', // 5,000,000.00 yuan in fen, as a decimal string
      });
      const policy = (await bankA.query('flows', 'bill.policy', { id: BANK_A })) as { enabled: boolean } | null;
      assert.equal(policy?.enabled, true);
      const half = flows.yuanToFen('500,000.00');
      const asked = await supplier.submit('flows', 'bill.request_discount', {
        range: { bill, start: 1, end: half },
        bank: BANK_A,
        order,
        invoices: [invoice],
      });
      request = asked.tx_id;
      const disbursement = flows.disbursementId(request);
      const movement = (await bankA.query('flows', 'fund.movement', { id: disbursement })) as { status: string; amount: number } | null;
      assert.equal(movement?.status, 'Pending', 'instructed in the request’s own block: approved instantly');
      assert.ok(movement.amount > 0 && movement.amount < half, 'the discounted amount, interest deducted');
      assert.ok((await bankA.inbox()).movements.some((m) => m.request_id === disbursement));
      await bankA.submit('flows', 'fund.report', { request_id: disbursement, outcome: { Success: { bank_serial: `BA-${digits(8)}` } } });
    });

    test('the bill reads back with its holders, history and movements, decoded as the node decodes it', { timeout: 60_000 }, async () => {
      const view = (await supplier.query('flows', 'bill.get', { bill })) as BillView;
      assert.equal(view.bill.number, bill);
      assert.equal(view.bill.stage, 'Circulating');
      const bankRange = view.bill.holdings.find((h) => h.holder === BANK_A);
      assert.deepEqual([bankRange?.start, bankRange?.end], [1, flows.yuanToFen('500,000.00')]);
      assert.ok(view.bill.holdings.some((h) => h.holder === supplierId));
      const actions = view.history.map((h) => h.action);
      for (const step of ['issued', 'accepted']) assert.ok(actions.some((a) => a.includes(step)), `${step} in ${actions.join(', ')}`);
      assert.ok(view.history.some((h) => h.tx_id === request));
      assert.ok(view.movements.some((m) => m.request_id === flows.disbursementId(request) && m.status === 'Success'));
      // The node's own decoding of the same output agrees with the SDK's.
      const path = `/v1/contracts/flows/query/bill.get`;
      const raw = await supplier.read<{ output: string; decoded?: unknown }>('POST', path, { json: { json: { bill } } });
      if (raw.decoded !== undefined) assert.deepEqual(raw.decoded, view);
    });

    test('bad input is refused before anything is sent, and the contract refusals carry their codes', { timeout: 60_000 }, async () => {
      const core = ctx.as(CORE);
      await assert.rejects(core.submit('flows', 'bill.issue', { number: bill }), (e: unknown) => e instanceof CodecError && e.path === 'args.kind' && /missing/.test(e.message));
      await assert.rejects(core.submit('flows', 'bill.sign', { request: 'x', reason: '', extra: 1 }), { name: 'CodecError', code: 'E_SDK_CODEC' });
      await assert.rejects(core.submit('flows', 'order.create', { id: 'PO-X', seller: supplierId, amount: -1, date: flows.businessDay(), evidence: null }), /out of range for u64/);
      await assert.rejects(core.submit('flows', 'bill.fly', {}), { name: 'InvalidInputError', message: /has no method bill.fly/ });
      await assert.rejects(core.submit('flows', 'bill.get', { bill }), { name: 'InvalidInputError', message: /is a query/ });
      await assert.rejects(core.query('flows', 'bill.get', { bill: `5301${digits(26)}` }), (e: unknown) => {
        assert.ok(e instanceof LedgerError && e.status === 422 && e.code.startsWith('E_'), String(e));
        return true;
      });
      // The same bill twice: the contract's code, from a committed, failed receipt.
      await assert.rejects(
        core.submit('flows', 'bill.issue', {
          number: bill,
          kind: 'SupplyChain',
          amount: 100,
          issue_date: flows.businessDay(),
          due_date: flows.businessDay(30),
          acceptor: CORE,
          payee: supplierId,
          splittable: true,
          non_transferable: false,
          evidence: null,
        }),
        (e: unknown) => e instanceof LedgerError && e.status === 422 && /^E_/.test(e.code) && e.txId !== undefined,
      );
    });
  });
}
