// Search (`#/search/{q}`): asks the node what `q` names and goes there.

import { el, route } from '../dom.js';
import { t } from '../i18n.js';
import { api } from '../api.js';
import { notFound, failed } from './common.js';

const KINDS = new Set(['block', 'tx', 'bill', 'evidence']);

export async function renderSearch(root, arg, ctx) {
  const q = (arg || '').trim();
  if (!q) return notFound(root, 'search', q);
  root.replaceChildren(el('section', { id: 'search-view' },
    el('p', { class: 'loading' }, `${t('search.searching')} `, el('code', null, q), ' …')));
  let hit;
  try {
    hit = await api.search(q);
  } catch (e) {
    return failed(root, e, ctx, 'search', q);
  }
  if (!ctx.alive()) return;
  if (!hit || !KINDS.has(hit.kind) || typeof hit.target !== 'string' || !hit.target) {
    return notFound(root, 'search', q);
  }
  // replace: the back button returns to where the search started, not here.
  location.replace(route(hit.kind, hit.target));
}
