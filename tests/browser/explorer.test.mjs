// The explorer in a real browser: headless Chromium from Debian's `chromium`
// package, driven by playwright-core, against a devnet running the demo.
//
// Run by the `explorer` integration suite (tests/tests/integration/explorer.rs),
// which starts the devnet, records the evidence and the hostile transaction
// this script looks for, and passes them in the environment:
//
//   EXPLORER_URL         the node's base URL (https://127.0.0.1:PORT)
//   EXPLORER_BILL        a bill of the demo that was discounted
//   EXPLORER_EVIDENCE    a file recorded as evidence and notarised
//   EXPLORER_UNRECORDED  a file never recorded
//   EXPLORER_HOSTILE_TX  a transaction whose event text is HTML and script
//   EXPLORER_GENESIS_HASH the devnet's genesis hash, from its genesis file
//   EXPLORER_SHOTS       where to save the screenshots
//
// Every step is bounded (STEP_MS); the script exits 0 only if every check
// passed, printing one line per check.

import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const STEP_MS = 20_000;
const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const base = env('EXPLORER_URL');
const bill = env('EXPLORER_BILL');
const evidenceFile = env('EXPLORER_EVIDENCE');
const unrecordedFile = env('EXPLORER_UNRECORDED');
const hostileTx = env('EXPLORER_HOSTILE_TX');
const genesisHash = env('EXPLORER_GENESIS_HASH');
const shots = env('EXPLORER_SHOTS');
mkdirSync(shots, { recursive: true });

const origin = new URL(base).origin;
const problems = [];

function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
  console.log(`ok: ${what}`);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  // Root in a container: Chromium's sandbox needs user namespaces it may not have.
  args: ['--no-sandbox'],
  timeout: STEP_MS,
});
let failed = false;
try {
  // A laptop screen. The devnet's certificates come from its own CA, which
  // this browser profile does not know.
  const context = await browser.newContext({
    viewport: { width: 1366, height: 768 },
    ignoreHTTPSErrors: true,
    locale: 'en-GB',
  });
  context.setDefaultTimeout(STEP_MS);
  const page = await context.newPage();
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  // Lookups of unknown ids answer 404 on purpose (Chromium logs each one);
  // any other console error, a 5xx, or a page file that fails to load is a problem.
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) {
      problems.push(`console error: ${m.text()}`);
    }
  });
  page.on('response', (r) => {
    const path = new URL(r.url()).pathname;
    if (r.status() >= 500 || (path.startsWith('/explorer') && r.status() >= 400)) {
      problems.push(`${r.status()} for ${r.url()}`);
    }
  });
  page.on('dialog', async (d) => {
    problems.push(`a dialog opened: ${d.message()}`);
    await d.dismiss();
  });
  page.on('request', (r) => {
    const url = r.url();
    if (!url.startsWith(origin) && !url.startsWith('data:')) problems.push(`a request left the node: ${url}`);
  });
  // Each page is saved, and must not show a value the code failed to format.
  const shot = async (name) => {
    const body = await page.locator('body').innerText();
    check(!/\bundefined\b|\bNaN\b|^null$|\[object Object\]/m.test(body), `the ${name} page shows no unformatted value`);
    await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
  };
  const text = (selector) => page.locator(selector).first().innerText();

  // Overview: chain id, height, throughput, nodes, recent blocks and transactions.
  await page.goto(`${base}/explorer/`);
  await page.waitForFunction(() => /[1-9]/.test(document.querySelector('#height')?.textContent || ''));
  await page.locator('#recent-blocks a.block-link').first().waitFor();
  await page.locator('#recent-txs a.tx-link').first().waitFor();
  await page.locator('#nodes tbody tr').nth(3).waitFor();
  check((await text('#chain-id')).trim().length > 0, 'the overview shows the chain id');
  const nodes = await page.locator('#nodes tbody tr').allInnerTexts();
  check(nodes.length >= 4, `the overview lists ${nodes.length} nodes`);
  check(nodes.some((r) => /leader/i.test(r)), 'the node list marks the leader');
  check(nodes.some((r) => /observer/i.test(r)), "the node list shows the regulator's observer");
  check(await page.locator('#throughput-plot').count() === 1, 'the throughput plot is drawn');
  await shot('overview');

  // A block, from the overview's list; then one of its transactions.
  await page.locator('#recent-blocks a.block-link').first().click();
  await page.locator('#block').waitFor();
  await page.locator('#block-txs a.tx-link').first().waitFor();
  check(await page.locator('#block-attestations').count() === 1, 'the block page shows notary attestations');
  await shot('block');
  const txId = (await page.locator('#block-txs a.tx-link').first().innerText()).trim();
  await page.locator('#block-txs a.tx-link').first().click();
  await page.locator('#tx').waitFor();
  const txPage = await text('#tx');
  check(txPage.includes(txId), `the transaction page shows ${txId}`);
  check(/\*\*\*/.test(txPage), 'the signer is masked');
  await page.locator('#tx-events').waitFor();
  await shot('transaction');

  // A bill, found with the search box: its ranges and its whole history.
  await page.fill('#search', bill);
  await page.press('#search', 'Enter');
  await page.locator('#bill').waitFor();
  await page.locator('#bill-timeline li.timeline-step').nth(5).waitFor();
  const steps = await page.locator('#bill-timeline .step-name').evaluateAll((els) => els.map((e) => e.dataset.step));
  for (const step of ['issued', 'accepted', 'received', 'endorsed', 'discount_requested', 'discounted']) {
    check(steps.includes(step), `the bill's timeline has ${step}`);
  }
  check(steps.indexOf('issued') < steps.indexOf('discounted'), 'the timeline runs oldest first');
  const ranges = await page.locator('#bill-ranges tbody tr').count();
  check(ranges === 3, `the bill shows its ${ranges} sub-ranges with their holders`);
  const billText = await text('#bill');
  check(billText.includes('bank-a'), 'the discounting bank is named');
  check(!billText.includes('91320500MA1FL0002T'), 'the supplier holding a range is masked');
  check(await page.locator('#bill-invoices tbody tr').count() === 1, 'the occupied invoice is linked');
  check(await page.locator('#bill-movements tbody tr').count() === 1, 'the disbursement is linked');
  check(await page.locator('#bill-orders li').count() === 1, 'the order behind the discount is linked');
  await shot('bill');
  // The same bill in Chinese.
  await page.click('#lang');
  await page.locator('#bill-timeline li.timeline-step').first().waitFor();
  check((await text('#bill')).includes('出票'), 'the switch shows Chinese labels');
  await shot('bill-zh');
  await page.click('#lang');
  // A step links to its transaction.
  const stepTx = page.locator('#bill-timeline a.tx-link').first();
  const stepTxId = (await stepTx.innerText()).trim();
  await stepTx.click();
  await page.locator('#tx').waitFor();
  check((await text('#tx')).includes(stepTxId), 'a timeline step opens its transaction');

  // Evidence: the browser hashes the file and asks the ledger.
  await page.goto(`${base}/explorer/#/evidence`);
  await page.locator('#evidence-file').setInputFiles(evidenceFile);
  await page.locator('#evidence-result[data-on-ledger]').waitFor();
  const expected = createHash('sha256').update(readFileSync(evidenceFile)).digest('hex');
  check((await text('#evidence-hash')).trim() === expected, 'the page computes the file\'s SHA-256');
  const result = page.locator('#evidence-result');
  check(await result.getAttribute('data-on-ledger') === 'true', 'the recorded file is on the ledger');
  check(await result.getAttribute('data-notarised') === 'true', 'the recorded file is notarised');
  // The page checks the proof itself: Merkle paths, voters, Ed25519 attestations.
  const verdict = page.locator('#evidence-verdict[data-verified]');
  await verdict.waitFor();
  const verdictText = await verdict.innerText();
  check(await verdict.getAttribute('data-verified') === 'true', `the page verifies the proof itself: ${verdictText}`);
  check((await text('#genesis-hash')).trim() === genesisHash, 'it names the genesis document it checked against, by its hash');
  check(verdictText.includes('attested by') && verdictText.includes('co-signed in block'),
    'it says what it verified: the blocks\' attestations and the co-signatures');
  check(verdictText.includes('Not verified here'), 'it says what it did not verify');
  await shot('evidence');

  // A node that serves a tampered proof is refused by the page, saying why.
  const flipFirstByte = (hex) => hex.replace(/^../, (b) => (b === '00' ? '01' : '00'));
  const flipLastByte = (hex) => hex.replace(/..$/, (b) => (b === '00' ? '01' : '00'));
  const tampers = [
    ['a receipt edited', (p) => { p.submit.receipt.fuel_used += 1; }, 'the submission: the receipt is not the transaction\'s receipt'],
    ['the submitted metadata edited', (p) => { p.submit.tx.tx.args = flipLastByte(p.submit.tx.tx.args); },
      'the submission: the transaction is not in block'],
    ['all attestations but one forged', (p) => {
      for (const a of p.submit.attestations.slice(1)) a.signature = flipFirstByte(a.signature);
    }, /the submission: 1 of the \d+ voters in force attest block \d+; more than half must/],
    ['a co-signature\'s attestations forged', (p) => {
      for (const a of p.cosigns[0].attestations) a.signature = flipFirstByte(a.signature);
    }, /co-signature 1: 0 of the \d+ voters in force attest block/],
    ['the voters of a block replaced', (p) => { p.submit.header.voters_hash = '00'.repeat(32); }, 'names other voters'],
    ['the document type shown edited', (p) => { p.summary.doc_type = 'forged'; }, 'the document type the node shows'],
  ];
  for (const [what, edit, says] of tampers) {
    await page.route('**/v1/evidence/**', async (route) => {
      const response = await route.fetch();
      const proof = await response.json();
      edit(proof);
      await route.fulfill({ response, json: proof });
    });
    await page.goto('about:blank'); // a fresh page: no verdict of the lookup before
    await page.goto(`${base}/explorer/#/evidence/${expected}`);
    const refused = page.locator('#evidence-verdict[data-verified]');
    await refused.waitFor();
    const why = await text('#evidence-verdict');
    const said = typeof says === 'string' ? why.includes(says) : says.test(why);
    check(await refused.getAttribute('data-verified') === 'false' && said,
      `a proof with ${what} is refused, saying so: ${why.replace(/\s+/g, ' ').slice(0, 200)}`);
    await page.unroute('**/v1/evidence/**');
  }
  await shot('evidence-refused');
  // A browser without Ed25519 in WebCrypto is told that nothing was verified.
  const bare = await context.newPage();
  bare.on('pageerror', (e) => problems.push(`page error (no Ed25519): ${e.message}`));
  await bare.addInitScript(() => {
    const importKey = crypto.subtle.importKey.bind(crypto.subtle);
    crypto.subtle.importKey = (format, key, algorithm, ...rest) => (
      String((algorithm && algorithm.name) || algorithm).toLowerCase() === 'ed25519'
        ? Promise.reject(new DOMException('Algorithm: Unrecognized name', 'NotSupportedError'))
        : importKey(format, key, algorithm, ...rest));
  });
  await bare.goto(`${base}/explorer/#/evidence/${expected}`);
  const unchecked = bare.locator('#evidence-verdict[data-verified]');
  await unchecked.waitFor();
  const uncheckedText = await unchecked.innerText();
  check(await unchecked.getAttribute('data-verified') === 'unchecked' && uncheckedText.includes('no Ed25519')
    && uncheckedText.includes('nothing on this page is verified'),
  `a browser without Ed25519 is told nothing was verified: ${uncheckedText.replace(/\s+/g, ' ').slice(0, 160)}`);
  await bare.close();
  await page.locator('#evidence-file').setInputFiles(unrecordedFile);
  await page.waitForFunction(
    () => document.querySelector('#evidence-result')?.getAttribute('data-on-ledger') === 'false',
  );
  check(true, 'a file never recorded is shown as not on the ledger');
  await shot('evidence-unknown');

  // A hostile event: its HTML is shown as text and nothing of it runs.
  await page.goto(`${base}/explorer/#/tx/${encodeURIComponent(hostileTx)}`);
  await page.locator('#tx-events').waitFor();
  const events = await text('#tx-events');
  check(events.includes('<img src=x onerror='), 'the hostile markup is shown as text');
  check(!events.includes('91320500MA1FL0002T') && events.includes('913***02T'), 'event text masks enterprises');
  check(await page.locator('#tx-events img, #tx-events script').count() === 0, 'no element was made from it');
  check(await page.evaluate(() => window.__pwned === undefined), 'nothing of it ran');
  await shot('hostile-event');
  // And in the evidence record that holds the same text.
  await page.goto(`${base}/explorer/#/evidence`);
  await page.locator('#evidence-file').setInputFiles(evidenceFile);
  await page.locator('#evidence-result[data-on-ledger="true"]').waitFor();
  check(await page.locator('#evidence img, #evidence script').count() === 0, 'the evidence metadata makes no element');
  check(await page.evaluate(() => window.__pwned === undefined), 'the evidence metadata runs nothing');

  // Contracts: names, versions, status.
  await page.goto(`${base}/explorer/#/contracts`);
  await page.locator('#contracts tbody tr').nth(1).waitFor();
  const contracts = await text('#contracts');
  check(contracts.includes('evidence') && contracts.includes('flows'), 'the contracts page lists evidence and flows');
  await shot('contracts');

  // Unknown ids: a clear not-found page.
  for (const route of ['#/tx/no-such-transaction', `#/bill/${'9'.repeat(30)}`, '#/block/99999999', '#/nowhere',
    '#/search/nothing-by-this-name']) {
    await page.goto(`${base}/explorer/${route}`);
    await page.locator('#not-found').waitFor();
    check(true, `${route} shows not found`);
  }
  await shot('not-found');

  check(problems.length === 0, `no page errors, dialogs or outside requests${problems.length ? `: ${problems.join('; ')}` : ''}`);
} catch (e) {
  failed = true;
  console.error(e.stack || String(e));
  if (problems.length) console.error(`also seen: ${problems.join('; ')}`);
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
