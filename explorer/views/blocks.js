// A block (`#/block/{height or hash}`) and the paged block list (`#/blocks[/{before}]`).

import { el, link, mono, table, tableWrap, fields, fmtTime, fmtAge, fmtInt, orDash } from '../dom.js';
import { t } from '../i18n.js';
import { api } from '../api.js';
import { loading, notFound, failed, txCell } from './common.js';

const HASH_RE = /^[0-9a-fA-F]{64}$/;
const HEIGHT_RE = /^\d{1,20}$/;
const PAGE = 20;
const TX_CHUNK = 100; // transactions shown at once in a block; "show more" adds as many again

export async function renderBlock(root, arg, ctx) {
  const id = arg || '';
  let request;
  if (HEIGHT_RE.test(id)) request = api.blockByHeight(id);
  else if (HASH_RE.test(id)) request = api.blockByHash(id.toLowerCase());
  else return notFound(root, 'block', id);
  loading(root);
  let b;
  try {
    b = await request;
  } catch (e) {
    return failed(root, e, ctx, 'block', id);
  }
  if (!ctx.alive()) return;
  const h = b.header || {};
  const height = Number(h.height);

  const nav = el('nav', { class: 'pager' },
    height > 0 ? link('prev-link', `← ${t('block.prev')}`, 'block', height - 1) : null,
    link('next-link', `${t('block.next')} →`, 'block', height + 1));

  const consensus = h.consensus
    ? t('block.consensusValue', { term: h.consensus.term, index: h.consensus.index }) : undefined;
  const info = fields('block-fields', [
    [t('col.height'), fmtInt(height)],
    [t('block.hash'), mono(b.hash)],
    [t('block.prevHash'), height > 0 ? link('hash-link mono', orDash(h.prev_hash), 'block', h.prev_hash) : mono(h.prev_hash)],
    [t('block.chain'), h.chain_id],
    [t('block.time'), `${fmtTime(h.proposed_at_ms)} (${fmtAge(h.proposed_at_ms, Date.now())})`],
    [t('block.proposer'), h.proposer],
    [t('block.txCount'), fmtInt(h.tx_count)],
    [t('block.txRoot'), mono(h.tx_root)],
    [t('block.receiptsRoot'), mono(h.receipts_root)],
    [t('block.stateHash'), mono(h.state_hash)],
    [t('block.consensus'), consensus],
  ]);

  // A block may hold thousands of transactions: show them a chunk at a time.
  const txs = Array.isArray(b.txs) ? b.txs : [];
  const txBox = el('div', { class: 'table-wrap' });
  const more = el('p', { class: 'more' });
  let shown = 0;
  const showMore = () => {
    shown = Math.min(txs.length, shown + TX_CHUNK);
    const rows = txs.slice(0, shown).map((x, i) => {
      const txId = x.tx_id || (x.tx && x.tx.tx && x.tx.tx.tx_id);
      return [String(i), txCell(txId, x.tx_hash), orDash(x.contract), orDash(x.version), orDash(x.method)];
    });
    txBox.replaceChildren(table('block-txs', [
      { label: t('col.index'), cls: 'c-idx' },
      { label: t('col.tx'), cls: 'c-hash' },
      { label: t('col.contract') },
      { label: t('col.version'), cls: 'c-ver' },
      { label: t('col.method') },
    ], rows));
    more.replaceChildren(shown < txs.length
      ? el('button', { type: 'button', class: 'more-button', onclick: showMore },
        t('common.showMore', { n: txs.length - shown }))
      : '');
  };
  showMore();

  const atts = (b.attestations || []).map((a) => [orDash(a.node), mono(a.signature)]);
  root.replaceChildren(el('section', { id: 'block', 'data-height': height },
    el('h1', null, t('block.title', { height: fmtInt(height) })),
    nav,
    el('div', { class: 'panel' }, info),
    el('div', { class: 'panel' }, el('h2', null, t('block.txs')), txBox, more),
    el('div', { class: 'panel' }, el('h2', null, t('block.attestations')),
      tableWrap(table('block-attestations', [
        { label: t('col.node') }, { label: t('col.signature'), cls: 'c-hash' },
      ], atts)))));
}

export async function renderBlocks(root, arg, ctx) {
  const before = arg && HEIGHT_RE.test(arg) ? arg : undefined;
  if (arg && before === undefined) return notFound(root, 'page', arg);
  loading(root);
  let page;
  try {
    page = await api.blocks(PAGE, before);
  } catch (e) {
    return failed(root, e, ctx, 'page', arg);
  }
  if (!ctx.alive()) return;
  const now = Date.now();
  const rows = (page.blocks || []).map((b) => [
    link('block-link', fmtInt(b.height), 'block', b.height),
    mono(b.hash),
    fmtInt(b.tx_count),
    orDash(b.proposer),
    fmtTime(b.time_ms),
    fmtAge(b.time_ms, now),
  ]);
  const hasOlder = page.next_before !== undefined && page.next_before !== null;
  root.replaceChildren(el('section', { id: 'blocks' },
    el('h1', null, t('blocks.title')),
    el('div', { class: 'panel' },
      tableWrap(table('block-list', [
        { label: t('col.height'), cls: 'c-num' },
        { label: t('col.hash'), cls: 'c-hash' },
        { label: t('col.txs'), cls: 'c-num' },
        { label: t('col.proposer') },
        { label: t('col.time'), cls: 'c-time' },
        { label: t('col.age'), cls: 'c-age' },
      ], rows)),
      el('nav', { class: 'pager' },
        before !== undefined ? link('newest-link', `⇤ ${t('blocks.newest')}`, 'blocks') : null,
        hasOlder ? link('older-link', `${t('blocks.older')} →`, 'blocks', page.next_before) : null))));
}
