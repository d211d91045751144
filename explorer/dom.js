// Building elements safely. Nothing here ever parses HTML: text goes in as text
// nodes, attributes through setAttribute on a fixed list of harmless names, and
// links only to `#/...` routes built from encoded parts.

import { t } from './i18n.js';

const SAFE_ATTRS = new Set([
  'id', 'class', 'title', 'type', 'name', 'placeholder', 'accept', 'for', 'role', 'colspan',
  'autocomplete', 'spellcheck', 'value', 'maxlength', 'tabindex', 'lang', 'hidden',
]);

/** A route `#/a/b` from its parts, each URI-encoded. */
export function route(...parts) {
  return '#/' + parts.map((p) => encodeURIComponent(String(p))).join('/');
}

function setAttr(node, name, value) {
  if (name === 'href') {
    // Only links inside the explorer, built by route().
    if (typeof value !== 'string' || !value.startsWith('#/')) throw new Error('unsafe href');
    node.setAttribute('href', value);
  } else if (SAFE_ATTRS.has(name) || name.startsWith('data-') || name.startsWith('aria-')) {
    node.setAttribute(name, String(value));
  } else {
    throw new Error(`attribute not allowed: ${name}`);
  }
}

/** Appends children: nodes as they are, anything else as text. */
export function append(node, ...children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    node.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

/**
 * `el('a', {class: 'x', href: route('tx', id), onclick: fn}, 'text', child)`.
 * `on*` properties must be functions and become event listeners.
 */
export function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) {
      if (typeof v !== 'function') throw new Error(`${k} must be a function`);
      node.addEventListener(k.slice(2), v);
    } else {
      setAttr(node, k, v);
    }
  }
  return append(node, ...children);
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** An SVG element; attributes are numbers and names chosen by the code, text as text. */
export function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== null && v !== undefined) node.setAttribute(k, String(v));
  }
  return append(node, ...children);
}

/** A link to a route inside the explorer. */
export function link(cls, text, ...parts) {
  return el('a', { class: cls, href: route(...parts) }, text);
}

/** A hash or id in monospace that ellipsizes; the full value shows on hover. */
export function mono(value) {
  const s = value === null || value === undefined ? '—' : String(value);
  return el('span', { class: 'mono', title: s }, s);
}

/** A status badge; `kind` is one of ok, bad, warn, info, muted. */
export function badge(text, kind) {
  return el('span', { class: `badge badge-${kind || 'muted'}` }, text);
}

/** A dash for absent values. */
export function orDash(v) {
  return v === null || v === undefined || v === '' ? '—' : v;
}

/**
 * A table. `columns`: [{label, cls}] (`cls` sizes the column); `rows`: arrays of
 * cell contents (text or nodes). An empty table says so.
 */
export function table(id, columns, rows, cls) {
  const head = el('tr', null, columns.map((c) => el('th', { class: c.cls }, c.label)));
  const body = el('tbody');
  if (rows.length === 0) {
    body.appendChild(el('tr', null, el('td', { class: 'empty', colspan: columns.length }, t('common.empty'))));
  }
  for (const r of rows) {
    body.appendChild(el('tr', null, r.map((cell, i) => el('td', { class: columns[i] && columns[i].cls }, cell))));
  }
  return el('table', { id, class: `data ${cls || ''}`.trim() }, el('thead', null, head), body);
}

/** A wrapper that lets a wide table scroll sideways on a small screen. */
export function tableWrap(tableNode) {
  return el('div', { class: 'table-wrap' }, tableNode);
}

/** A list of label / value pairs; rows with an `undefined` value are left out. */
export function fields(id, pairs) {
  const dl = el('dl', { id, class: 'fields' });
  for (const [label, value] of pairs) {
    if (value === undefined) continue;
    append(dl, el('dt', null, label), el('dd', null, orDash(value)));
  }
  return dl;
}

const pad = (n) => String(n).padStart(2, '0');

/** `YYYY-MM-DD HH:MM:SS`, local time. */
export function fmtTime(ms) {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return '—';
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** `HH:MM`, local time. */
export function fmtClock(ms) {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** "12 s ago" and so on, against `now` (ms). */
export function fmtAge(ms, now) {
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return t('common.agoS', { n: s });
  if (s < 3600) return t('common.agoM', { n: Math.floor(s / 60) });
  if (s < 86400) return t('common.agoH', { n: Math.floor(s / 3600) });
  return t('common.agoD', { n: Math.floor(s / 86400) });
}

/** An integer (a height, a count) as plain digits, so that it reads and copies as the ledger has it. */
export function fmtInt(n) {
  return typeof n === 'number' ? String(n) : orDash(n);
}

/** A yuan amount given as a decimal string ("1000000.00"), with separators. */
export function fmtYuan(s) {
  if (typeof s !== 'string' || !/^-?\d+(\.\d+)?$/.test(s)) return orDash(s);
  const [int, frac] = s.split('.');
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return frac === undefined ? grouped : `${grouped}.${frac}`;
}
