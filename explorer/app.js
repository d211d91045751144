// The billflow explorer: the page shell, the language switch, the search box
// and the hash router. Views live in ./views/; each renders into a fresh
// container and registers with `ctx.onLeave` whatever must stop when it is left.

import { t, getLang, setLang } from './i18n.js';
import { api } from './api.js';
import { route } from './dom.js';
import { notFound, errorView } from './views/common.js';
import { renderOverview } from './views/overview.js';
import { renderBlock, renderBlocks } from './views/blocks.js';
import { renderTx } from './views/tx.js';
import { renderBill } from './views/bill.js';
import { renderEvidence } from './views/evidence.js';
import { renderContracts } from './views/contracts.js';
import { renderSearch } from './views/search.js';

/** `#/{name}/{arg}` → view. */
const VIEWS = {
  '': renderOverview,
  block: renderBlock,
  blocks: renderBlocks,
  tx: renderTx,
  bill: renderBill,
  evidence: renderEvidence,
  contracts: renderContracts,
  search: renderSearch,
};

/** What a route's argument names, for "not found". */
const WHAT = { block: 'block', tx: 'tx', bill: 'bill', evidence: 'evidence', search: 'search' };

/** Which nav link a route belongs to. */
const NAV = { '': 'overview', block: 'blocks', blocks: 'blocks', contracts: 'contracts', evidence: 'evidence' };

/** The route in the address: `{name, arg}`; `arg` is decoded (`bad` if it cannot be). */
function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const i = raw.indexOf('/');
  const name = i < 0 ? raw : raw.slice(0, i);
  const rest = i < 0 ? '' : raw.slice(i + 1);
  try {
    return { name, arg: decodeURIComponent(rest), raw };
  } catch {
    return { name, arg: rest, raw, bad: true };
  }
}

/** Labels of the shell (`data-i18n*` attributes in index.html). */
function applyShellLabels() {
  document.documentElement.setAttribute('lang', getLang() === 'zh' ? 'zh-CN' : 'en');
  document.title = t('app.title');
  for (const node of document.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll('[data-i18n-placeholder]')) {
    node.setAttribute('placeholder', t(node.dataset.i18nPlaceholder));
  }
  for (const node of document.querySelectorAll('[data-i18n-title]')) node.setAttribute('title', t(node.dataset.i18nTitle));
  for (const node of document.querySelectorAll('[data-i18n-aria]')) node.setAttribute('aria-label', t(node.dataset.i18nAria));
}

let seq = 0;
let leaving = [];

/** Renders the route in the address, after stopping the view that was shown. */
function navigate() {
  for (const stop of leaving.splice(0)) {
    try {
      stop();
    } catch (e) {
      console.error(e);
    }
  }
  const token = ++seq;
  const ctx = {
    alive: () => token === seq,
    onLeave: (f) => leaving.push(f),
    retry: () => navigate(),
  };
  const { name, arg, raw, bad } = parseHash();
  for (const a of document.querySelectorAll('nav.nav a')) {
    if (a.dataset.nav === NAV[name]) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }

  const main = document.getElementById('app');
  const root = document.createElement('div');
  root.className = 'view';
  main.replaceChildren(root);

  const view = VIEWS[name];
  if (!view) return notFound(root, 'page', raw);
  if (bad) return notFound(root, WHAT[name] || 'page', arg);
  Promise.resolve()
    .then(() => view(root, arg, ctx))
    .catch((e) => {
      console.error(e);
      if (ctx.alive()) errorView(root, e, ctx.retry);
    });
}

/** The chain's name in the header; retried until the node answers. */
async function loadChainName() {
  try {
    const h = await api.health();
    document.getElementById('chain-name').textContent = h.chain_id;
  } catch {
    setTimeout(loadChainName, 10000);
  }
}

function start() {
  applyShellLabels();

  document.getElementById('lang').addEventListener('click', () => {
    setLang(getLang() === 'zh' ? 'en' : 'zh');
    applyShellLabels();
    navigate();
  });

  const input = document.getElementById('search');
  document.getElementById('search-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const q = input.value.trim();
    if (!q) return;
    const target = route('search', q);
    if (location.hash === target) navigate(); // same search again: no hashchange
    else location.hash = target;
    input.blur();
  });

  window.addEventListener('hashchange', () => {
    navigate();
    window.scrollTo(0, 0);
  });
  loadChainName();
  navigate();
}

start();
