#!/usr/bin/env node
/*
 * explorer.test.mjs -- end-to-end test of the block explorer in a real
 * browser (Debian's chromium driven by playwright-core; nothing is
 * downloaded).
 *
 * Usage:
 *   node explorer.test.mjs --url http://127.0.0.1:8080 --chain open \
 *        --members-chain alliance --hanse build/hanse
 * or the same through the environment: HANSE_URL, HANSE_CHAIN,
 * HANSE_MEMBERS_CHAIN, HANSE_BIN. CHROMIUM (default /usr/bin/chromium)
 * names the browser.
 *
 * The node must be running and serving both chains, as `hanse demo` does.
 * On the chain without a policy (--chain, "open") the test submits one
 * notary.anchor transaction with the hanse CLI and a fresh key (an open
 * chain takes any key), finds it through the search box, verifies its
 * inclusion proof in the page and follows it to its block. On the chain
 * with a policy and public blocks (--members-chain, "alliance") it checks
 * that the block list shows and that a transaction, which the unsigned
 * explorer may not read, shows the members-only message with its public
 * receipt and proof. It prints one line per step and exits non-zero on the
 * first failure, leaving a screenshot and the page's HTML in a temp
 * directory.
 */
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';

import { chromium } from 'playwright-core';

const run = promisify(execFile);

const { values: args } = parseArgs({
  options: {
    url: { type: 'string' },
    chain: { type: 'string' },
    'members-chain': { type: 'string' },
    hanse: { type: 'string' },
    chromium: { type: 'string' },
  },
});
const BASE = (args.url || process.env.HANSE_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');
const CHAIN = args.chain || process.env.HANSE_CHAIN || 'open';
const MEMBERS_CHAIN = args['members-chain'] || process.env.HANSE_MEMBERS_CHAIN || 'alliance';
const HANSE = args.hanse || process.env.HANSE_BIN || 'hanse';
const CHROMIUM = args.chromium || process.env.CHROMIUM || '/usr/bin/chromium';
const TIMEOUT = 15000;
const HEX64 = /^[0-9a-f]{64}$/;

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'hanse-explorer-test-'));
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'hanse-explorer-profile-'));
let context = null;
let page = null;
const pageErrors = [];

function log(msg) {
  process.stdout.write(`${msg}\n`);
}
// A closed stdout (test output piped into `head`) must not skip the cleanup.
process.stdout.on('error', () => {});

/* The work dir (key, anchored file, failure screenshot) is kept only
 * after a failure. */
async function cleanupAndExit(code, keepWork) {
  if (context) await context.close().catch(() => {});
  fs.rmSync(profile, { recursive: true, force: true });
  if (!keepWork) fs.rmSync(work, { recursive: true, force: true });
  process.exit(code);
}
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    log(`# interrupted by ${sig}`);
    cleanupAndExit(1, false);
  });
}

async function step(name, fn) {
  const t0 = Date.now();
  try {
    const r = await fn();
    log(`ok - ${name} (${Date.now() - t0} ms)`);
    return r;
  } catch (e) {
    log(`not ok - ${name}`);
    e.step = name;
    throw e;
  }
}

function check(cond, msg) {
  if (!cond) throw new Error(msg);
}

async function api(p) {
  const res = await fetch(`${BASE}/v1/${p}`);
  const body = await res.json().catch(() => null);
  if (!res.ok) throw new Error(`GET /v1/${p}: HTTP ${res.status} ${JSON.stringify(body)}`);
  return body;
}

const chainApi = (p) => api(`chains/${encodeURIComponent(CHAIN)}/${p}`);
const membersApi = (p) => api(`chains/${encodeURIComponent(MEMBERS_CHAIN)}/${p}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const tid = (id) => `[data-testid="${id}"]`;
const text = async (sel) => (await page.locator(sel).first().innerText()).trim();
const intOf = (s) => Number(String(s).replace(/[^\d]/g, ''));

/* The CLI prints JSON; find the transaction id in it wherever it is
 * ({"id":…}, {"results":[{"id":…}]}, …). */
function findTxId(out) {
  let doc = null;
  try {
    doc = JSON.parse(out);
  } catch {
    const start = out.indexOf('{');
    const end = out.lastIndexOf('}');
    if (start >= 0 && end > start) {
      try {
        doc = JSON.parse(out.slice(start, end + 1));
      } catch {
        doc = null;
      }
    }
  }
  const walk = (v) => {
    if (Array.isArray(v)) {
      for (const x of v) {
        const r = walk(x);
        if (r) return r;
      }
    } else if (v && typeof v === 'object') {
      if (typeof v.id === 'string' && HEX64.test(v.id)) return v.id;
      for (const x of Object.values(v)) {
        const r = walk(x);
        if (r) return r;
      }
    }
    return null;
  };
  return doc ? walk(doc) : null;
}

async function hanseCli(argv) {
  try {
    const { stdout, stderr } = await run(HANSE, argv, { timeout: 90000, maxBuffer: 16 << 20 });
    return { stdout, stderr };
  } catch (e) {
    throw new Error(`${HANSE} ${argv.join(' ')} failed (exit ${e.code}${e.signal ? `, ${e.signal}` : ''}):\n` +
      `stdout: ${e.stdout || ''}\nstderr: ${e.stderr || e.message}`);
  }
}

async function search(q) {
  await page.fill(tid('search-input'), q);
  await page.click(tid('search-button'));
}

async function waitHash(hash) {
  await page.waitForFunction((h) => location.hash === h, hash, { timeout: TIMEOUT });
}

async function noHorizontalScroll(what) {
  const over = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(over <= 0, `${what}: page is ${over}px wider than the ${page.viewportSize().width}px viewport`);
}

async function main() {
  log(`# explorer test: ${BASE} chains ${CHAIN} and ${MEMBERS_CHAIN}, cli ${HANSE}, browser ${CHROMIUM}`);

  const chains = await step('node serves the chains, sorted by id', async () => {
    const st = await api('status');
    check(Array.isArray(st.chains), `no chain list in ${JSON.stringify(st)}`);
    for (const c of [CHAIN, MEMBERS_CHAIN]) check(st.chains.includes(c), `chain ${c} not in ${JSON.stringify(st.chains)}`);
    check(st.chains.every((c, i) => i === 0 || st.chains[i - 1] < c), `chains not sorted: ${st.chains}`);
    return st.chains;
  });

  context = await step('launch chromium', () => chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  }));
  context.setDefaultTimeout(TIMEOUT);
  page = context.pages()[0] || await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));

  let topHeight = 0;
  await step('home page lists the latest blocks', async () => {
    await page.goto(`${BASE}/?chain=${encodeURIComponent(CHAIN)}`);
    await page.locator(tid('block-row')).first().waitFor();
    const heights = await page.locator(tid('block-row')).evaluateAll((els) => els.map((e) => Number(e.dataset.height)));
    check(heights.length >= 1 && heights.length <= 20, `expected 1..20 block rows, got ${heights.length}`);
    check(heights.every((h, i) => i === 0 || h < heights[i - 1]), `rows not newest first: ${heights}`);
    topHeight = heights[0];
    await page.waitForFunction((sel) => /\d/.test(document.querySelector(sel).textContent), tid('status-height'));
    const sh = intOf(await text(tid('status-height')));
    check(sh >= topHeight, `status height ${sh} below the newest listed block ${topHeight}`);
    check(HEX64.test(await page.locator(tid('block-row')).first().getAttribute('data-hash')), 'block row has no hash');
    // Marks this page load: it must survive the live updates.
    await page.evaluate(() => { window.__sameLoad = true; });
  });

  const anchorFile = path.join(work, 'anchored.txt');
  const keyFile = path.join(work, 'key');
  fs.writeFileSync(anchorFile, `hanse explorer test ${new Date().toISOString()} ${crypto.randomBytes(16).toString('hex')}\n`);
  const fileHash = crypto.createHash('sha256').update(fs.readFileSync(anchorFile)).digest('hex');

  const txid = await step('submit a notary.anchor transaction with the CLI', async () => {
    await hanseCli(['keygen', '--out', keyFile]);
    const { stdout } = await hanseCli(['tx', 'notary', 'anchor', anchorFile, '--key', keyFile,
      '--node', BASE, '--chain', CHAIN, '--wait']);
    const id = findTxId(stdout);
    check(id, `no transaction id in the CLI's output:\n${stdout}`);
    log(`#   tx ${id}`);
    return id;
  });

  const tx = await step('the node has committed it', async () => {
    for (let i = 0; i < 50; i++) {
      const t = await chainApi(`txs/${txid}`);
      if (t.status === 'committed') return t;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error('transaction still not committed after 10 s');
  });
  const height = tx.receipt.height;

  await step('the new block appears in the list without a reload', async () => {
    await page.waitForFunction((h) => {
      const row = document.querySelector('[data-testid="block-row"]');
      return row && Number(row.dataset.height) >= h;
    }, height);
    check(await page.evaluate(() => window.__sameLoad === true), 'the page was reloaded');
    const now = intOf(await text(tid('status-height')));
    check(now >= height, `status height ${now} did not reach ${height}`);
  });

  await step('search finds the transaction', async () => {
    await search(txid);
    await waitHash(`#/tx/${txid}`);
    await page.locator(`${tid('tx-status')}:text-is("committed")`).waitFor();
    check(await text(tid('tx-id')) === txid, 'tx view shows another id');
    check(await text(tid('tx-kind')) === 'notary.anchor', `kind is ${await text(tid('tx-kind'))}`);
    check(await text(tid('tx-code')) === 'ok', `code is ${await text(tid('tx-code'))}`);
    check(intOf(await text(tid('tx-block-link'))) === height, 'tx view links to another block');
    const payload = await text(tid('tx-payload'));
    check(payload.includes(fileHash), `payload does not anchor the file's SHA-256 ${fileHash}:\n${payload}`);
  });

  await step('"Verify proof" says the proof is valid', async () => {
    await page.click(tid('verify-proof'));
    await page.waitForFunction((sel) => !!document.querySelector(sel).dataset.result, tid('proof-result'));
    const verdict = await text(tid('proof-result'));
    check(await page.locator(tid('proof-result')).getAttribute('data-result') === 'valid', `verdict: ${verdict}`);
    check(verdict.includes('proof valid'), `verdict: ${verdict}`);
    check(await page.evaluate(() => !!(window.crypto && crypto.subtle)), 'crypto.subtle missing: page not a secure context');
  });

  await step('the in-page verifier rejects a tampered proof', async () => {
    const results = await page.evaluate(async (t) => {
      const flip = (hex) => (hex[0] === '0' ? '1' : '0') + hex.slice(1);
      const v = window.hanseExplorer.verifyProof;
      const allOk = async (x) => (await v(x)).every((c) => c.ok);
      const root = { ...t, proof: { ...t.proof, tx_root: flip(t.proof.tx_root) } };
      const id = { ...t, id: flip(t.id) };
      const out = { good: await allOk(t), root: await allOk(root), id: await allOk(id) };
      if (t.proof.path.length) {
        out.path = await allOk({ ...t, proof: { ...t.proof, path: [flip(t.proof.path[0]), ...t.proof.path.slice(1)] } });
      }
      if (t.proof.tx_count > 1) {
        out.index = await allOk({ ...t, proof: { ...t.proof, index: (t.proof.index + 1) % t.proof.tx_count } });
      }
      return out;
    }, tx);
    check(results.good === true, 'the untampered proof does not verify in page');
    for (const [k, ok] of Object.entries(results)) {
      if (k !== 'good') check(ok === false, `a proof with a tampered ${k} verifies`);
    }
  });

  await step('the tx links to its block, which lists it', async () => {
    await page.click(tid('tx-block-link'));
    await page.waitForFunction((h) => location.hash.startsWith(`#/block/${h}`), height);
    await page.locator(`${tid('block-view')}[data-height="${height}"]`).waitFor();
    const row = page.locator(`${tid('tx-row')}[data-txid="${txid}"]`);
    await row.waitFor();
    check(await row.isVisible(), 'the tx row is not visible');
    check(intOf(await text(tid('block-view-tx-count'))) === tx.proof.tx_count, 'block tx count differs from the proof');
    check(await text(tid('block-tx-root')) === tx.proof.tx_root, 'block tx root differs from the proof');
    await row.click();
    await waitHash(`#/tx/${txid}`);
    await page.locator(tid('tx-view')).waitFor();
  });

  await step('block navigation and search by height and hash', async () => {
    await search(String(height));
    await waitHash(`#/block/${height}`);
    await page.locator(`${tid('block-view')}[data-height="${height}"]`).waitFor();
    const hash = await text(tid('block-hash'));
    if (height > 0) {
      await page.click(tid('block-prev'));
      await page.locator(`${tid('block-view')}[data-height="${height - 1}"]`).waitFor();
    }
    await search(hash.toUpperCase());
    await waitHash(`#/block/${height}`);
    await page.locator(`${tid('block-view')}[data-height="${height}"]`).waitFor();
  });

  await step('a search with no result says so', async () => {
    await search('f'.repeat(64));
    await page.locator(tid('search-message')).waitFor({ state: 'visible' });
    const msg = await text(tid('search-message'));
    check(/nothing found/i.test(msg), `message: ${msg}`);
  });

  await step('an unknown block shows a readable error', async () => {
    await page.goto(`${BASE}/?chain=${encodeURIComponent(CHAIN)}#/block/999999999`);
    await page.locator(tid('error')).waitFor();
    check((await text(tid('error-code'))).length > 0, 'error has no code');
    check((await text(tid('error-message'))).length > 0, 'error has no message');
  });

  /* The demo's workload may still be running: wait for a block with a
   * transaction on the members' chain. Its block views are public. */
  const membersTx = await step(`${MEMBERS_CHAIN}: the explorer's default chain lists its public blocks`, async () => {
    let found = null;
    for (let i = 0; i < 300 && !found; i++) {
      const r = await membersApi(`blocks?latest=20`);
      const b = (r.blocks || []).find((x) => x.tx_count > 0);
      if (b) {
        const full = await membersApi(`blocks/${b.height}`);
        found = { id: full.txs[0].id, height: b.height };
      } else {
        await sleep(200);
      }
    }
    check(found, `no transaction on ${MEMBERS_CHAIN} after 60 s`);
    await page.goto(`${BASE}/`);
    await page.locator(tid('block-row')).first().waitFor();
    const picked = await page.locator(tid('chain-select')).inputValue();
    check(picked === chains[0], `the explorer's default chain is ${picked}, not the first listed, ${chains[0]}`);
    await page.goto(`${BASE}/?chain=${encodeURIComponent(MEMBERS_CHAIN)}#/block/${found.height}`);
    await page.locator(`${tid('tx-row')}[data-txid="${found.id}"]`).waitFor();
    return found.id;
  });

  await step(`${MEMBERS_CHAIN}: a transaction shows "members only", its receipt and a valid proof`, async () => {
    await page.goto(`${BASE}/?chain=${encodeURIComponent(MEMBERS_CHAIN)}#/tx/${membersTx}`);
    const note = page.locator(tid('members-only'));
    await note.waitFor();
    const msg = await note.innerText();
    check(/signed members/.test(msg), `message: ${msg}`);
    check(/members only/i.test(await text(`${tid('error')} h2`)), `title: ${await text(`${tid('error')} h2`)}`);
    check(await text(tid('error-code')) === 'auth.missing', `code is ${await text(tid('error-code'))}`);
    check((await text(tid('error-message'))).includes(MEMBERS_CHAIN), 'the server\'s message is not shown');
    check(await page.locator(tid('tx-payload')).count() === 0, 'the payload is shown to an unsigned reader');
    await page.locator(`${tid('tx-status')}:text-is("committed")`).waitFor();
    check(await text(tid('tx-id')) === membersTx, 'tx view shows another id');
    await page.click(tid('verify-proof'));
    await page.waitForFunction((sel) => !!document.querySelector(sel).dataset.result, tid('proof-result'));
    check(await page.locator(tid('proof-result')).getAttribute('data-result') === 'valid',
      `verdict: ${await text(tid('proof-result'))}`);
  });

  await step('phone-sized viewport: no horizontal scrolling', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${BASE}/?chain=${encodeURIComponent(CHAIN)}`);
    await page.locator(tid('block-row')).first().waitFor();
    check(await page.locator(tid('search-input')).isVisible(), 'search box hidden on a phone');
    await noHorizontalScroll('latest blocks');
    await page.goto(`${BASE}/?chain=${encodeURIComponent(CHAIN)}#/tx/${txid}`);
    await page.locator(tid('verify-proof')).waitFor();
    await noHorizontalScroll('transaction view');
    await page.goto(`${BASE}/?chain=${encodeURIComponent(CHAIN)}#/block/${height}`);
    await page.locator(`${tid('tx-row')}[data-txid="${txid}"]`).waitFor();
    await noHorizontalScroll('block view');
    await page.goto(`${BASE}/?chain=${encodeURIComponent(MEMBERS_CHAIN)}#/tx/${membersTx}`);
    await page.locator(tid('members-only')).waitFor();
    await noHorizontalScroll('members-only transaction view');
  });

  await step('no uncaught errors in the page', async () => {
    check(pageErrors.length === 0, `page errors:\n${pageErrors.join('\n')}`);
  });
}

let failed = false;
try {
  await main();
  log('# explorer test passed');
} catch (e) {
  failed = true;
  log(`# FAILED${e.step ? ` in step: ${e.step}` : ''}\n${e.stack || e}`);
  if (pageErrors.length) log(`# page errors:\n${pageErrors.join('\n')}`);
  if (page) {
    try {
      await page.screenshot({ path: path.join(work, 'failure.png'), fullPage: true });
      fs.writeFileSync(path.join(work, 'failure.html'), await page.content());
      log(`# screenshot: ${path.join(work, 'failure.png')} (url ${page.url()})`);
    } catch (se) {
      log(`# no screenshot: ${se.message}`);
    }
  }
}
await cleanupAndExit(failed ? 1 : 0, failed);
