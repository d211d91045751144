// A transaction (`#/tx/{tx_id}`): where it is, what it called, its outcome and events.

import { el, link, mono, table, tableWrap, fields, fmtTime, fmtInt, orDash } from '../dom.js';
import { t } from '../i18n.js';
import { api } from '../api.js';
import { loading, notFound, failed, statusBadge } from './common.js';

export async function renderTx(root, arg, ctx) {
  const id = arg || '';
  if (!id) return notFound(root, 'tx', id);
  loading(root);
  let x;
  try {
    x = await api.tx(id);
  } catch (e) {
    return failed(root, e, ctx, 'tx', id);
  }
  if (!ctx.alive()) return;

  const failure = x.failure ? el('span', { class: 'failure' }, el('code', null, orDash(x.failure.code)), ' ',
    orDash(x.failure.message)) : undefined;
  const info = fields('tx-fields', [
    [t('tx.id'), mono(x.tx_id)],
    [t('tx.hash'), mono(x.tx_hash)],
    [t('tx.status'), statusBadge(x.status)],
    [t('tx.failure'), failure],
    [t('tx.block'), link('height-link', fmtInt(x.height), 'block', x.height)],
    [t('tx.index'), fmtInt(x.index)],
    [t('tx.time'), fmtTime(x.time_ms)],
    [t('tx.contract'), x.contract],
    [t('tx.version'), x.version],
    [t('tx.method'), x.method],
    [t('tx.signer'), x.signer], // masked by the node; shown as given
    [t('tx.tenant'), x.tenant === null ? t('common.none') : x.tenant],
  ]);

  // An event's readable text when the node decoded it, else its data in hex.
  const events = (x.events || []).map((e, i) => [
    String(i),
    orDash(e.contract),
    orDash(e.topic),
    typeof e.text === 'string' ? el('span', { class: 'event-text' }, e.text) : mono(e.data_hex),
  ]);

  root.replaceChildren(el('section', { id: 'tx', 'data-status': orDash(x.status) },
    el('h1', null, t('tx.title'), ' ', el('span', { class: 'title-id' }, orDash(x.tx_id))),
    el('div', { class: 'panel' }, info),
    el('div', { class: 'panel' }, el('h2', null, t('tx.events')),
      tableWrap(table('tx-events', [
        { label: t('col.index'), cls: 'c-idx' },
        { label: t('col.contract') },
        { label: t('col.topic') },
        { label: t('col.data'), cls: 'c-data' },
      ], events)))));
}
