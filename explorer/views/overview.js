// The overview (`#/`): chain, height, throughput, recent blocks and
// transactions, nodes. Refreshes every 2 s (the plot every 10 s) while shown.

import { el, link, mono, badge, table, fmtAge, fmtTime, fmtInt, orDash } from '../dom.js';
import { t, tValue } from '../i18n.js';
import { api } from '../api.js';
import { throughputPlot } from './plot.js';
import { txCell, statusBadge } from './common.js';

const REFRESH_MS = 2000;
const PLOT_MS = 10000;
const RECENT_BLOCKS = 10;
const RECENT_TXS = 20;

function stat(id, label) {
  const value = el('div', { id, class: 'stat-value' }, '—');
  return { card: el('div', { class: 'stat' }, el('div', { class: 'stat-label' }, label), value), value };
}

function blocksTable(page, now) {
  const rows = (page.blocks || []).map((b) => [
    link('block-link', fmtInt(b.height), 'block', b.height),
    mono(b.hash),
    fmtInt(b.tx_count),
    orDash(b.proposer),
    el('span', { title: fmtTime(b.time_ms) }, fmtAge(b.time_ms, now)),
  ]);
  return table('recent-blocks', [
    { label: t('col.height'), cls: 'c-num' },
    { label: t('col.hash'), cls: 'c-hash' },
    { label: t('col.txs'), cls: 'c-num' },
    { label: t('col.proposer') },
    { label: t('col.age'), cls: 'c-age' },
  ], rows);
}

function txsTable(recent, now) {
  const rows = (recent.txs || []).map((x) => [
    txCell(x.tx_id, x.tx_hash),
    el('span', { class: 'call' }, `${orDash(x.contract)}.${orDash(x.method)}`),
    link('height-link', fmtInt(x.height), 'block', x.height),
    statusBadge(x.status),
    el('span', { title: fmtTime(x.time_ms) }, fmtAge(x.time_ms, now)),
  ]);
  return table('recent-txs', [
    { label: t('col.tx'), cls: 'c-hash' },
    { label: t('col.call') },
    { label: t('col.block'), cls: 'c-num' },
    { label: t('col.status'), cls: 'c-status' },
    { label: t('col.age'), cls: 'c-age' },
  ], rows);
}

function nodesTable(health, network) {
  const leader = network && network.leader;
  const rows = [];
  const self = (network && network.node_id) || (health && health.node_id);
  if (self) {
    rows.push([
      el('span', null, self, ' ', badge(t('node.self'), 'info')),
      orDash(network && network.org),
      network && network.role ? tValue('role', network.role) : '—',
      badge(t('node.connected'), 'ok'),
      health ? fmtInt(health.height) : '—',
      leader === self ? badge(t('node.leader'), 'warn') : '',
    ]);
  }
  for (const p of (network && network.peers) || []) {
    const state = p.revoked ? badge(t('node.revoked'), 'bad')
      : p.connected ? badge(t('node.connected'), 'ok') : badge(t('node.disconnected'), 'muted');
    rows.push([
      p.node_id,
      orDash(p.org),
      tValue('role', p.role),
      state,
      typeof p.height === 'number' ? fmtInt(p.height) : el('span', { class: 'muted', title: orDash(p.error) }, '—'),
      leader === p.node_id ? badge(t('node.leader'), 'warn') : '',
    ]);
  }
  return table('nodes', [
    { label: t('col.node') },
    { label: t('col.org') },
    { label: t('col.role') },
    { label: t('col.status'), cls: 'c-status' },
    { label: t('col.height'), cls: 'c-num' },
    { label: '', cls: 'c-status' },
  ], rows);
}

export function renderOverview(root, _arg, ctx) {
  const chain = stat('chain-id', t('overview.chain'));
  const height = stat('height', t('overview.height'));
  const tps = stat('tps', t('overview.tps'));
  const node = stat('node-id', t('overview.node'));
  const pending = stat('pending', t('overview.pending'));
  const status = el('p', { id: 'overview-status', class: 'status-line', 'aria-live': 'polite' });
  const plotBox = el('div', { class: 'plot-box' }, throughputPlot([]));
  const blocksBox = el('div', { class: 'table-wrap' });
  const txsBox = el('div', { class: 'table-wrap' });
  const nodesBox = el('div', { class: 'table-wrap' });

  root.replaceChildren(el('section', { id: 'overview' },
    el('h1', null, t('overview.title')),
    el('div', { class: 'stats' }, chain.card, height.card, tps.card, node.card, pending.card),
    status,
    el('div', { class: 'panel' }, el('h2', null, t('overview.plot')), plotBox),
    el('div', { class: 'columns' },
      el('div', { class: 'panel' },
        el('h2', null, t('overview.recentBlocks'), ' ', link('more-link', t('overview.allBlocks'), 'blocks')),
        blocksBox),
      el('div', { class: 'panel' }, el('h2', null, t('overview.recentTxs')), txsBox)),
    el('div', { class: 'panel' }, el('h2', null, t('overview.nodes')), nodesBox)));

  let stopped = false;
  let timer = null;
  let lastPlot = 0;
  ctx.onLeave(() => {
    stopped = true;
    clearTimeout(timer);
  });

  // One refresh; the next is scheduled when this one is done, so they never overlap.
  async function refresh() {
    const [health, network, stats, blocks, recent] = await Promise.allSettled([
      api.health(), api.network(), api.stats(), api.blocks(RECENT_BLOCKS), api.recentTxs(RECENT_TXS),
    ]);
    if (stopped) return;
    const ok = (r) => (r.status === 'fulfilled' ? r.value : null);
    const h = ok(health);
    const n = ok(network);
    const s = ok(stats);
    const now = (s && s.now_ms) || Date.now();

    if (h) {
      chain.value.textContent = h.chain_id;
      node.value.textContent = h.node_id;
      pending.value.textContent = fmtInt(h.pending);
    }
    const tip = s ? s.height : h ? h.height : null;
    if (tip !== null) height.value.textContent = fmtInt(tip);
    if (s) {
      tps.value.textContent = Number(s.tps_1m || 0).toFixed(2);
      if (Date.now() - lastPlot >= PLOT_MS) {
        plotBox.replaceChildren(throughputPlot(s.minutes));
        lastPlot = Date.now();
      }
    }
    if (ok(blocks)) blocksBox.replaceChildren(blocksTable(ok(blocks), now));
    if (ok(recent)) txsBox.replaceChildren(txsTable(ok(recent), now));
    if (h || n) nodesBox.replaceChildren(nodesTable(h, n));

    const failure = [health, network, stats, blocks, recent].find((r) => r.status === 'rejected');
    if (failure) {
      const e = failure.reason;
      status.textContent = t('error.refresh', { msg: e && e.status === 0 ? t('error.network') : (e && e.message) || e });
      status.classList.add('status-error');
    } else {
      status.textContent = t('overview.updated', { time: fmtTime(Date.now()) });
      status.classList.remove('status-error');
    }
  }

  async function tick() {
    try {
      await refresh();
    } catch (e) {
      // Unexpected data: say so and keep refreshing.
      status.textContent = t('error.refresh', { msg: String((e && e.message) || e) });
      status.classList.add('status-error');
    } finally {
      if (!stopped) timer = setTimeout(tick, REFRESH_MS);
    }
  }
  tick();
}
