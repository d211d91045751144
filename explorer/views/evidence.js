// Evidence (`#/evidence`, `#/evidence/{sha256}`): hash a document in the
// browser and look it up; the file itself never leaves the machine.

import { el, link, mono, badge, table, tableWrap, fields, fmtTime, fmtInt, orDash, route } from '../dom.js';
import { t } from '../i18n.js';
import { api, isNotFound } from '../api.js';
import { notFound } from './common.js';
import { verifyEvidence, genesisHash, hasEd25519, ProofError } from '../verify.js';

const HEX_RE = /^[0-9a-fA-F]{64}$/;

function toHex(buf) {
  return Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');
}

let genesisOnce = null;

/** The genesis document, fetched once, with its hash computed here. */
function genesis() {
  if (!genesisOnce) {
    genesisOnce = api.genesis().then(async (g) => ({ doc: g, hash: await genesisHash(g) }));
    genesisOnce.catch(() => { genesisOnce = null; });
  }
  return genesisOnce;
}

/**
 * The proof checked in this page against the genesis document: the verdict,
 * what it verified and what it did not. `data-verified` is `true`, `false`
 * (refused, with the reason) or `unchecked` (the browser cannot check it).
 */
async function proofVerdict(p, hex) {
  const box = el('section', { id: 'evidence-verdict', class: 'panel' }, el('h2', null, t('evidence.proof')));
  const list = (items) => el('ul', { class: 'plain-list' }, items.map((x) => el('li', null, x)));
  let g;
  try {
    g = await genesis();
  } catch (e) {
    box.setAttribute('data-verified', 'unchecked');
    box.append(el('p', null, badge(t('evidence.unchecked'), 'warn')), el('p', null, String((e && e.message) || e)),
      el('p', { class: 'muted' }, t('evidence.unverifiedBelow')));
    return box;
  }
  box.append(el('dl', { class: 'fields' }, el('dt', null, t('evidence.genesisHash')),
    el('dd', null, el('code', { id: 'genesis-hash', class: 'mono' }, g.hash), ` (${g.doc.chain_id})`)));
  if (!(await hasEd25519())) {
    box.setAttribute('data-verified', 'unchecked');
    box.append(el('p', null, badge(t('evidence.unchecked'), 'warn')), el('p', null, t('evidence.noEd25519')),
      el('p', { class: 'muted' }, t('evidence.unverifiedBelow')));
    return box;
  }
  try {
    const v = await verifyEvidence(p, g.doc, hex);
    box.setAttribute('data-verified', 'true');
    box.append(el('p', null, badge(t('evidence.verified'), 'ok')),
      el('h3', null, t('evidence.verifiedHere')), list(v.verified.map((x) => t(x.key, x.vars))),
      el('h3', null, t('evidence.notVerifiedHere')), list(v.notVerified.map((x) => t(x.key, x.vars))));
  } catch (e) {
    box.setAttribute('data-verified', 'false');
    const reason = e instanceof ProofError ? e.message : `the proof cannot be read: ${(e && e.message) || e}`;
    box.append(el('p', null, badge(t('evidence.refused'), 'bad')), el('p', { id: 'evidence-refusal' }, reason),
      el('p', { class: 'muted' }, t('evidence.unverifiedBelow')));
  }
  return box;
}

/** What the ledger holds for the document, readable. */
function details(p) {
  const s = p.summary || {};
  const notaries = Array.isArray(s.notaries) && s.notaries.length
    ? el('ul', { class: 'plain-list' }, s.notaries.map((n) => el('li', null, n))) : t('common.none');
  const metadata = Array.isArray(s.metadata) && s.metadata.length
    ? el('dl', { class: 'fields nested' }, s.metadata.map((kv) => [el('dt', null, orDash(kv[0])), el('dd', null, orDash(kv[1]))]))
    : t('common.none');
  const notarisedAt = typeof s.notarised_at === 'number'
    ? link('height-link', fmtInt(s.notarised_at), 'block', s.notarised_at) : t('common.none');
  const submit = p.submit || {};
  const atts = (submit.attestations || []).map((a) => [orDash(a.node), mono(a.signature)]);
  const cosigns = (p.cosigns || []).map((c) => {
    const txId = c.tx && c.tx.tx && c.tx.tx.tx_id;
    const h = c.header && c.header.height;
    return [txId ? link('tx-link mono', txId, 'tx', txId) : '—',
      typeof h === 'number' ? link('height-link', fmtInt(h), 'block', h) : '—',
      c.tx && c.tx.tx ? orDash(c.tx.tx.signer) : '—'];
  });
  return [
    fields('evidence-fields', [
      [t('evidence.docType'), s.doc_type],
      [t('evidence.submitter'), s.submitter],
      [t('evidence.tx'), s.tx_id ? link('tx-link mono', s.tx_id, 'tx', s.tx_id) : undefined],
      [t('evidence.height'), typeof s.height === 'number' ? link('height-link', fmtInt(s.height), 'block', s.height) : undefined],
      [t('evidence.time'), fmtTime(s.time_ms)],
      [t('evidence.notaries'), notaries],
      [t('evidence.notarisedAt'), notarisedAt],
      [t('evidence.metadata'), metadata],
    ]),
    el('h2', null, t('evidence.cosigns')),
    tableWrap(table('evidence-cosigns', [
      { label: t('col.tx'), cls: 'c-hash' }, { label: t('col.block'), cls: 'c-num' }, { label: t('tx.signer') },
    ], cosigns)),
    el('h2', null, t('evidence.attestations')),
    tableWrap(table('evidence-attestations', [
      { label: t('col.node') }, { label: t('col.signature'), cls: 'c-hash' },
    ], atts)),
  ];
}

export function renderEvidence(root, arg, ctx) {
  if (arg && !HEX_RE.test(arg)) return notFound(root, 'evidence', arg);

  const fileInput = el('input', { type: 'file', id: 'evidence-file' });
  const drop = el('div', { id: 'evidence-drop', class: 'drop-zone' },
    el('p', null, t('evidence.intro')),
    el('label', { for: 'evidence-file', class: 'file-label' }, t('evidence.choose')), ' ', fileInput);
  const fileName = el('p', { id: 'evidence-file-name', class: 'muted' });
  const hashOut = el('code', { id: 'evidence-hash', class: 'hash-out' });
  const result = el('div', { id: 'evidence-result', 'aria-live': 'polite' });
  const more = el('div', { id: 'evidence-details' });
  const input = el('input', {
    type: 'text', id: 'evidence-input', class: 'hash-input', maxlength: 64, spellcheck: 'false',
    autocomplete: 'off', 'aria-label': t('evidence.hash'),
  });
  const form = el('form', { id: 'evidence-form', class: 'inline-form' },
    el('label', { for: 'evidence-input' }, t('evidence.or')), ' ', input, ' ',
    el('button', { type: 'submit' }, t('evidence.lookup')));

  root.replaceChildren(el('section', { id: 'evidence' },
    el('h1', null, t('evidence.title')),
    el('div', { class: 'panel' }, drop, fileName, form),
    el('div', { class: 'panel' },
      el('dl', { class: 'fields' }, el('dt', null, t('evidence.hash')), el('dd', null, hashOut)),
      result, more)));

  // Only the latest lookup may write its answer (files can be dropped quickly).
  let seq = 0;

  async function lookup(hex) {
    const mine = ++seq;
    hashOut.textContent = hex;
    result.replaceChildren(el('p', { class: 'loading' }, t('common.loading')));
    result.removeAttribute('data-on-ledger');
    result.removeAttribute('data-notarised');
    more.replaceChildren();
    let p = null;
    let error = null;
    try {
      p = await api.evidence(hex);
    } catch (e) {
      error = e;
    }
    if (mine !== seq || !ctx.alive()) return;
    if (error && !isNotFound(error)) {
      result.replaceChildren(el('p', { class: 'status-error' },
        error.status === 0 ? t('error.network') : `${error.code}: ${error.message}`));
      return;
    }
    const onLedger = p !== null;
    const notarised = onLedger && p.summary && typeof p.summary.notarised_at === 'number';
    result.setAttribute('data-on-ledger', String(onLedger));
    result.setAttribute('data-notarised', String(Boolean(notarised)));
    const verdict = el('p', { class: 'verdict' },
      onLedger ? badge(t('evidence.onLedger'), 'ok') : badge(t('evidence.notOnLedger'), 'bad'), ' ',
      notarised ? badge(t('evidence.notarised'), 'ok') : badge(t('evidence.notNotarised'), 'warn'));
    if (onLedger) result.replaceChildren(verdict);
    else result.replaceChildren(verdict, el('p', null, t('evidence.notOnLedgerText')));
    if (!onLedger) return;
    const checking = el('p', { class: 'loading' }, t('evidence.checking'));
    more.replaceChildren(checking, ...details(p));
    const checked = await proofVerdict(p, hex);
    if (mine !== seq || !ctx.alive()) return;
    checking.replaceWith(checked);
  }

  async function hashFile(file) {
    if (!file) return;
    fileName.textContent = `${t('evidence.file')}: ${file.name} (${fmtInt(file.size)} B)`;
    if (!(window.crypto && window.crypto.subtle)) {
      result.replaceChildren(el('p', { class: 'status-error' }, t('evidence.noCrypto')));
      return;
    }
    const mine = ++seq;
    hashOut.textContent = t('evidence.hashing');
    result.replaceChildren();
    more.replaceChildren();
    let hex;
    try {
      hex = toHex(await window.crypto.subtle.digest('SHA-256', await file.arrayBuffer()));
    } catch (e) {
      if (mine === seq) result.replaceChildren(el('p', { class: 'status-error' }, String((e && e.message) || e)));
      return;
    }
    if (mine !== seq || !ctx.alive()) return;
    // Record the hash in the address (no re-render: replaceState fires no hashchange).
    history.replaceState(null, '', route('evidence', hex));
    lookup(hex);
  }

  fileInput.addEventListener('change', () => hashFile(fileInput.files && fileInput.files[0]));
  for (const type of ['dragenter', 'dragover']) {
    drop.addEventListener(type, (e) => {
      e.preventDefault();
      drop.classList.add('dragging');
    });
  }
  drop.addEventListener('dragleave', () => drop.classList.remove('dragging'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('dragging');
    hashFile(e.dataTransfer && e.dataTransfer.files && e.dataTransfer.files[0]);
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const hex = input.value.trim();
    if (!HEX_RE.test(hex)) {
      result.replaceChildren(el('p', { class: 'status-error' }, t('evidence.badHash')));
      return;
    }
    const target = route('evidence', hex.toLowerCase());
    if (location.hash === target) lookup(hex.toLowerCase());
    else location.hash = target;
  });

  if (arg) lookup(arg.toLowerCase());
}
