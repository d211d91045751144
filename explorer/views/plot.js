// The throughput plot: tx/s per minute (left axis) and mean block time in
// seconds (right axis) over the last hour, drawn as SVG by hand.

import { svg, fmtClock } from '../dom.js';
import { t } from '../i18n.js';

const W = 900;
const H = 260;
const M = { top: 28, right: 64, bottom: 40, left: 60 };

/** A round number ≥ v for an axis maximum (1, 2, 2.5, 5 × 10^k). */
function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/** Decimals enough to write every tick of an axis up to `max` exactly (at most 3). */
function decimals(max, ticks) {
  for (let d = 0; d < 3; d++) {
    let exact = true;
    for (let i = 0; i <= ticks; i++) {
      const v = (max * i) / ticks;
      if (Math.abs(Math.round(v * 10 ** d) / 10 ** d - v) > 1e-9) exact = false;
    }
    if (exact) return d;
  }
  return 3;
}

/** Polyline paths for values with gaps (null): one `M…L…` run per unbroken stretch. */
function path(points) {
  let d = '';
  let pen = false;
  for (const p of points) {
    if (p === null) {
      pen = false;
      continue;
    }
    d += `${pen ? 'L' : 'M'}${p[0].toFixed(1)},${p[1].toFixed(1)}`;
    pen = true;
  }
  return d;
}

/** The plot for `minutes` (oldest first): an `<svg id="throughput-plot">`. */
export function throughputPlot(minutes) {
  const data = Array.isArray(minutes) ? minutes : [];
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const n = Math.max(data.length, 2);
  const x = (i) => M.left + (pw * i) / (n - 1);

  const tps = data.map((m) => (Number(m.txs) || 0) / 60);
  const bt = data.map((m) =>
    typeof m.mean_block_interval_ms === 'number' && Number.isFinite(m.mean_block_interval_ms)
      ? m.mean_block_interval_ms / 1000 : null);
  const maxTps = niceMax(Math.max(0, ...tps));
  const maxBt = niceMax(Math.max(0, ...bt.filter((v) => v !== null)));
  const yL = (v) => M.top + ph - (ph * v) / maxTps;
  const yR = (v) => M.top + ph - (ph * v) / maxBt;

  const root = svg('svg', {
    id: 'throughput-plot', class: 'plot', viewBox: `0 0 ${W} ${H}`, role: 'img',
    'aria-label': t('plot.aria'), preserveAspectRatio: 'xMidYMid meet',
  }, svg('title', null, t('plot.aria')));

  // Grid and the two value axes, 5 ticks each.
  const ticks = 5;
  const decL = decimals(maxTps, ticks);
  const decR = decimals(maxBt, ticks);
  for (let i = 0; i <= ticks; i++) {
    const y = M.top + (ph * i) / ticks;
    root.appendChild(svg('line', { class: 'grid', x1: M.left, x2: M.left + pw, y1: y, y2: y }));
    root.appendChild(svg('text', { class: 'tick tick-left', x: M.left - 6, y: y + 4, 'text-anchor': 'end' },
      (maxTps * (1 - i / ticks)).toFixed(decL)));
    root.appendChild(svg('text', { class: 'tick tick-right', x: M.left + pw + 6, y: y + 4, 'text-anchor': 'start' },
      (maxBt * (1 - i / ticks)).toFixed(decR)));
  }
  root.appendChild(svg('line', { class: 'axis', x1: M.left, x2: M.left, y1: M.top, y2: M.top + ph }));
  root.appendChild(svg('line', { class: 'axis', x1: M.left + pw, x2: M.left + pw, y1: M.top, y2: M.top + ph }));
  root.appendChild(svg('line', { class: 'axis', x1: M.left, x2: M.left + pw, y1: M.top + ph, y2: M.top + ph }));

  // Time axis: a label every 10 minutes, and the last bucket.
  data.forEach((m, i) => {
    if (i % 10 !== 0 && i !== data.length - 1) return;
    if (i !== data.length - 1 && data.length - 1 - i < 5) return; // keep labels from overlapping
    root.appendChild(svg('line', { class: 'axis', x1: x(i), x2: x(i), y1: M.top + ph, y2: M.top + ph + 4 }));
    root.appendChild(svg('text', { class: 'tick', x: x(i), y: M.top + ph + 17, 'text-anchor': 'middle' },
      fmtClock(Number(m.start_ms))));
  });

  // Axis titles.
  root.appendChild(svg('text', {
    class: 'axis-title series-tps', x: 14, y: M.top + ph / 2, 'text-anchor': 'middle',
    transform: `rotate(-90 14 ${M.top + ph / 2})`,
  }, t('plot.tps')));
  root.appendChild(svg('text', {
    class: 'axis-title series-bt', x: W - 12, y: M.top + ph / 2, 'text-anchor': 'middle',
    transform: `rotate(90 ${W - 12} ${M.top + ph / 2})`,
  }, t('plot.blockTime')));
  root.appendChild(svg('text', { class: 'axis-title', x: M.left + pw / 2, y: H - 4, 'text-anchor': 'middle' },
    t('plot.time')));

  // The series: tx/s as a filled area, block time as a line with dots.
  const tpsPts = tps.map((v, i) => [x(i), yL(v)]);
  if (tpsPts.length > 0) {
    const base = M.top + ph;
    const area = `${path(tpsPts)}L${x(tpsPts.length - 1).toFixed(1)},${base}L${x(0).toFixed(1)},${base}Z`;
    root.appendChild(svg('path', { class: 'series-tps-area', d: area }));
    root.appendChild(svg('path', { class: 'series-tps-line', d: path(tpsPts) }));
  }
  const btPts = bt.map((v, i) => (v === null ? null : [x(i), yR(v)]));
  root.appendChild(svg('path', { class: 'series-bt-line', d: path(btPts) || 'M0,0' }));
  for (const p of btPts) {
    if (p) root.appendChild(svg('circle', { class: 'series-bt-dot', cx: p[0], cy: p[1], r: 2.5 }));
  }

  // Legend.
  const lx = M.left + 8;
  root.appendChild(svg('rect', { class: 'legend-tps', x: lx, y: 8, width: 12, height: 10 }));
  root.appendChild(svg('text', { class: 'legend', x: lx + 18, y: 17 }, t('plot.tps')));
  root.appendChild(svg('rect', { class: 'legend-bt', x: lx + 230, y: 8, width: 12, height: 10 }));
  root.appendChild(svg('text', { class: 'legend', x: lx + 248, y: 17 }, t('plot.blockTime')));

  if (!data.some((m) => Number(m.blocks) > 0)) {
    root.appendChild(svg('text', { class: 'no-data', x: M.left + pw / 2, y: M.top + ph / 2, 'text-anchor': 'middle' },
      t('plot.noData')));
  }
  return root;
}
