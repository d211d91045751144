// The deployed contracts (`#/contracts`).

import { el, link, mono, badge, table, tableWrap, fmtInt, orDash } from '../dom.js';
import { t } from '../i18n.js';
import { api } from '../api.js';
import { loading, failed } from './common.js';

/** `status` is `"active"` or `{"frozen": {"reason", "at_height"}}` (serde's external tagging). */
function statusCell(status) {
  if (status === 'active') return badge(t('status.active'), 'ok');
  const frozen = status && typeof status === 'object' ? status.frozen : null;
  if (frozen) {
    return el('span', null, badge(t('status.frozen'), 'bad'), ' ',
      el('span', { class: 'muted' }, t('contracts.frozenAt', { height: fmtInt(frozen.at_height), reason: orDash(frozen.reason) })));
  }
  return badge(orDash(typeof status === 'string' ? status : JSON.stringify(status)), 'muted');
}

function registrations(r) {
  const orgs = (r && r.orgs) || [];
  const tenants = (r && r.tenants) || [];
  return el('div', { class: 'regs' },
    el('div', null, el('span', { class: 'muted' }, `${t('contracts.orgs')}: `), orgs.length ? orgs.join(', ') : t('common.none')),
    el('div', null, el('span', { class: 'muted' }, `${t('contracts.tenants')}: `), tenants.length ? tenants.join(', ') : t('common.none')));
}

function history(h) {
  return el('ul', { class: 'plain-list' }, (h || []).map((v) => el('li', null,
    link('height-link', t('contracts.versionAt', { version: orDash(v.version), height: fmtInt(v.installed_at_height) }),
      'block', v.installed_at_height))));
}

export async function renderContracts(root, _arg, ctx) {
  loading(root);
  let list;
  try {
    list = await api.contracts();
  } catch (e) {
    return failed(root, e, ctx, 'page', 'contracts');
  }
  if (!ctx.alive()) return;
  const rows = (Array.isArray(list) ? list : []).map((c) => [
    el('strong', null, orDash(c.name)),
    orDash(c.version),
    statusCell(c.status),
    registrations(c.registrations),
    mono(c.code_hash),
    history(c.history),
  ]);
  root.replaceChildren(el('section', { id: 'contracts-page' },
    el('h1', null, t('contracts.title')),
    el('div', { class: 'panel' }, tableWrap(table('contracts', [
      { label: t('col.name') },
      { label: t('col.version'), cls: 'c-ver' },
      { label: t('col.status') },
      { label: t('col.registrations') },
      { label: t('col.codeHash'), cls: 'c-hash' },
      { label: t('col.history') },
    ], rows)))));
}
