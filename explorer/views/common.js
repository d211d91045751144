// Views shared by every page: loading, not found, error.

import { el, link, mono, badge } from '../dom.js';
import { t, tValue } from '../i18n.js';
import { isNotFound } from '../api.js';

/** A placeholder while a view loads. */
export function loading(root) {
  root.replaceChildren(el('p', { class: 'loading', 'aria-live': 'polite' }, t('common.loading')));
}

/** "Not found", naming what was looked up (`what`: block, tx, bill, evidence, search, page). */
export function notFound(root, what, id) {
  root.replaceChildren(
    el('section', { id: 'not-found', class: 'panel message', 'data-what': what },
      el('h1', null, t('notFound.title')),
      el('p', null, t('notFound.lead', { what: t(`what.${what}`) }), ' ',
        el('code', { class: 'looked-up' }, String(id))),
      el('p', null, link('home-link', t('notFound.home'), ''))),
  );
}

/** An error the page survives; `retry` renders the view again. */
export function errorView(root, err, retry) {
  const network = err && err.status === 0;
  const detail = network ? t('error.network') : `${(err && err.code) || 'Error'}: ${(err && err.message) || err}`;
  root.replaceChildren(
    el('section', { id: 'error', class: 'panel message' },
      el('h1', null, t('error.title')),
      el('p', { class: 'error-detail' }, detail),
      el('p', null, el('button', { type: 'button', id: 'retry', onclick: retry }, t('error.retry')))),
  );
}

/** After a failed lookup: not found for a missing id, else the error view. */
export function failed(root, err, ctx, what, id) {
  if (!ctx.alive()) return;
  if (isNotFound(err)) notFound(root, what, id);
  else errorView(root, err, ctx.retry);
}

/** The transaction cell: a link by tx id when known, else the hash. */
export function txCell(txId, txHash) {
  return txId ? link('tx-link mono', txId, 'tx', txId) : mono(txHash);
}

/** A transaction's status (`success` or `failed`) as a badge. */
export function statusBadge(status) {
  return badge(tValue('status', status), status === 'success' ? 'ok' : status === 'failed' ? 'bad' : 'muted');
}

