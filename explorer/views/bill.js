// A bill (`#/bill/{number}`): its terms, ranges and holders, its history as a
// timeline, and the orders, invoices and fund movements tied to it.

import { el, link, mono, table, tableWrap, fields, fmtInt, fmtYuan, orDash } from '../dom.js';
import { t, tValue } from '../i18n.js';
import { api } from '../api.js';
import { loading, notFound, failed } from './common.js';

function timeline(history) {
  const ol = el('ol', { id: 'bill-timeline', class: 'timeline' });
  for (const s of history) {
    const parties = s.from || s.to ? `${orDash(s.from)} → ${orDash(s.to)}` : null;
    const hasHeight = typeof s.height === 'number';
    ol.appendChild(el('li', { class: 'timeline-step' },
      el('div', { class: 'step-head' },
        el('span', { class: 'step-name', 'data-step': String(s.step) }, tValue('step', s.step)),
        el('span', { class: 'step-date' }, orDash(s.date))),
      parties ? el('div', { class: 'step-parties' }, parties) : null,
      s.amount ? el('div', { class: 'step-amount' }, `¥ ${fmtYuan(s.amount)}`) : null,
      s.detail ? el('div', { class: 'step-detail' }, s.detail) : null,
      hasHeight || s.tx_id ? el('div', { class: 'step-refs' },
        hasHeight ? link('height-link', t('bill.atBlock', { height: fmtInt(s.height) }), 'block', s.height) : null,
        s.tx_id ? link('tx-link mono', s.tx_id, 'tx', s.tx_id) : null) : null));
  }
  if (history.length === 0) ol.appendChild(el('li', { class: 'empty' }, t('common.empty')));
  return ol;
}

export async function renderBill(root, arg, ctx) {
  const number = arg || '';
  if (!number) return notFound(root, 'bill', number);
  loading(root);
  let b;
  try {
    b = await api.bill(number);
  } catch (e) {
    return failed(root, e, ctx, 'bill', number);
  }
  if (!ctx.alive()) return;

  const info = fields('bill-fields', [
    [t('bill.number'), mono(b.number)],
    [t('bill.amount'), fmtYuan(b.amount)],
    [t('bill.drawer'), b.drawer],
    [t('bill.acceptor'), b.acceptor],
    [t('bill.payee'), b.payee],
    [t('bill.issueDate'), b.issue_date],
    [t('bill.dueDate'), b.due_date],
    [t('bill.status'), el('span', { class: 'badge badge-info', id: 'bill-status' }, tValue('billStatus', b.status))],
  ]);
  const ranges = (b.ranges || []).map((r) => [
    fmtInt(r.start), fmtInt(r.end), fmtYuan(r.amount), orDash(r.holder), tValue('range', r.state),
  ]);
  const invoices = (b.invoices || []).map((v) => [
    orDash(v.code), orDash(v.number), fmtYuan(v.amount), fmtYuan(v.occupied),
  ]);
  const movements = (b.movements || []).map((m) => [
    mono(m.id), tValue('movement', m.kind), fmtYuan(m.amount), tValue('movement', m.status),
  ]);
  const orders = b.orders || [];

  root.replaceChildren(el('section', { id: 'bill' },
    el('h1', null, t('bill.title', { number: orDash(b.number) })),
    el('div', { class: 'panel' }, info),
    el('div', { class: 'panel' }, el('h2', null, t('bill.ranges')),
      tableWrap(table('bill-ranges', [
        { label: t('col.start'), cls: 'c-num' },
        { label: t('col.end'), cls: 'c-num' },
        { label: t('col.amount'), cls: 'c-num' },
        { label: t('col.holder') },
        { label: t('col.state') },
      ], ranges))),
    el('div', { class: 'panel' }, el('h2', null, t('bill.history')), timeline(b.history || [])),
    el('div', { class: 'columns' },
      el('div', { class: 'panel' }, el('h2', null, t('bill.orders')),
        orders.length
          ? el('ul', { id: 'bill-orders', class: 'plain-list' }, orders.map((o) => el('li', { class: 'mono' }, o)))
          : el('p', { class: 'muted' }, t('common.none'))),
      el('div', { class: 'panel' }, el('h2', null, t('bill.invoices')),
        tableWrap(table('bill-invoices', [
          { label: t('col.code') },
          { label: t('col.number') },
          { label: t('col.amount'), cls: 'c-num' },
          { label: t('col.occupied'), cls: 'c-num' },
        ], invoices)))),
    el('div', { class: 'panel' }, el('h2', null, t('bill.movements')),
      tableWrap(table('bill-movements', [
        { label: t('col.id'), cls: 'c-hash' },
        { label: t('col.kind') },
        { label: t('col.amount'), cls: 'c-num' },
        { label: t('col.status') },
      ], movements)))));
}
