#!/usr/bin/env node
/*
 * product.test.mjs -- the consumer page /p/<Digital Link path> in a real
 * browser (Debian's chromium driven by playwright-core), against `hanse
 * demo`, whose workload captures an e-bike's journey on the alliance chain
 * and publishes its screened record to the open chain with the consumer
 * (Anna) as buyer.
 *
 * Usage:
 *   node product.test.mjs --url http://127.0.0.1:8080 --consumer-key DIR/keys/consumer.json
 *
 * Steps: find the published product (the open chain's xchain inbox);
 * open its page on a phone-sized screen: the badge says verified (the
 * proofs checked in the page), every step is proven and names its
 * enterprise, the delivery status shows, nothing scrolls sideways; the QR
 * code loads (SVG in the page, PNG linked); a record whose entry was
 * altered on the way (intercepted) is shown as not verified, with that
 * step marked; Anna opens her key file: her purchases list the bike; she
 * files a rectification request, which the page shows from the chain; an
 * unknown product says none is published; a bad path is a JSON 400.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { chromium } from 'playwright-core';

const { values: args } = parseArgs({
  options: {
    url: { type: 'string' },
    'consumer-key': { type: 'string' },
    chromium: { type: 'string' },
  },
});
const BASE = (args.url || process.env.HANSE_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');
const KEY = args['consumer-key'] || process.env.HANSE_CONSUMER_KEY;
const CHROMIUM = args.chromium || process.env.CHROMIUM || '/usr/bin/chromium';
const TIMEOUT = 15000;

const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'hanse-product-profile-'));
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'hanse-product-test-'));
let context = null;
let page = null;
const pageErrors = [];

const log = (m) => process.stdout.write(`${m}\n`);
process.stdout.on('error', () => {});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const tid = (id) => `[data-testid="${id}"]`;
function check(cond, msg) { if (!cond) throw new Error(msg); }

async function cleanupAndExit(code, keep) {
  if (context) await context.close().catch(() => {});
  fs.rmSync(profile, { recursive: true, force: true });
  if (!keep) fs.rmSync(work, { recursive: true, force: true });
  process.exit(code);
}
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => cleanupAndExit(1, false));

async function step(name, fn) {
  const t0 = Date.now();
  try {
    const r = await fn();
    log(`ok - ${name} (${Date.now() - t0} ms)`);
    return r;
  } catch (e) {
    log(`not ok - ${name}`);
    throw e;
  }
}

async function getJson(p) {
  const r = await fetch(`${BASE}${p}`);
  return { status: r.status, body: await r.json().catch(() => null), type: r.headers.get('content-type') };
}

async function main() {
  check(KEY && fs.existsSync(KEY), `no consumer key file (--consumer-key): ${KEY}`);
  log(`# consumer page test: ${BASE}, browser ${CHROMIUM}`);

  const product = await step('the demo publishes the e-bike to the open chain', async () => {
    for (let i = 0; i < 300; i++) {
      const r = await getJson('/v1/chains/open/query/xchain/inbox?from_chain=alliance');
      const m = ((r.body && r.body.messages) || []).find((x) => x.kind === 'trace.publish' && x.body && x.body.product);
      if (m) return m.body.product;
      await sleep(200);
    }
    throw new Error('no trace.publish message on the open chain after 60 s');
  });
  check(product.startsWith('https://id.gs1.org/'), `product ${product} is not a Digital Link`);
  const dlPath = product.slice('https://id.gs1.org/'.length);
  const pageUrl = `${BASE}/p/${dlPath}`;
  const record = (await getJson(`/v1/chains/open/products/${dlPath}`)).body;
  check(record && Array.isArray(record.events) && record.events.length >= 5, `record: ${JSON.stringify(record).slice(0, 300)}`);
  log(`#   ${pageUrl}: ${record.events.length} steps`);

  context = await step('launch chromium (phone-sized)', () => chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 390, height: 844 },
    isMobile: true,
    hasTouch: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  }));
  context.setDefaultTimeout(TIMEOUT);
  page = context.pages()[0] || await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));

  await step('the page checks the proofs and says verified', async () => {
    await page.goto(pageUrl);
    await page.waitForFunction((sel) => ['verified', 'failed', 'unchecked'].includes(document.querySelector(sel).dataset.state), tid('badge'));
    const state = await page.locator(tid('badge')).getAttribute('data-state');
    const text = await page.locator(tid('badge')).innerText();
    check(state === 'verified', `badge ${state}: ${text}`);
    check(text.includes(`all ${record.events.length} steps`), `badge text: ${text}`);
  });

  await step('every step is shown, proven, with its enterprise', async () => {
    const steps = page.locator(tid('step'));
    check(await steps.count() === record.events.length, `${await steps.count()} steps shown`);
    const marks = await page.locator(tid('step-check')).allInnerTexts();
    check(marks.length === record.events.length && marks.every((m) => m === '✓'), `marks: ${marks}`);
    const who = (await page.locator(tid('step-enterprise')).allInnerTexts()).join('|');
    check(who.includes('ACME Manufacturing GmbH') && who.includes('Swift Logistics AG'), `enterprises: ${who}`);
    const names = (await page.locator(tid('step-name')).allInnerTexts()).join('|');
    check(names.includes('Made') && names.includes('Shipped') && names.includes('Packed'), `steps: ${names}`);
    const over = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check(over <= 0, `the page is ${over}px wider than the phone`);
  });

  await step('the delivery status is shown', async () => {
    if (!record.status) throw new Error('the record has no status');
    const d = page.locator(tid('delivery'));
    check(await d.isVisible(), 'no delivery status');
    check(await d.getAttribute('data-status') === record.status.status, `status ${await d.getAttribute('data-status')}`);
    check(record.status.status === 'delivered', `the demo's bike is ${record.status.status}`);
  });

  await step('the QR code loads; the PNG is linked', async () => {
    await page.waitForFunction((sel) => { const i = document.querySelector(sel); return i.complete && i.naturalWidth > 0; }, tid('qr'));
    const href = await page.locator(tid('qr-png')).getAttribute('href');
    const r = await fetch(new URL(href, pageUrl));
    check(r.status === 200 && r.headers.get('content-type') === 'image/png', `PNG: ${r.status} ${r.headers.get('content-type')}`);
  });

  await step('an entry altered on its way is not verified', async () => {
    await page.route('**/v1/chains/*/products/**', async (route) => {
      const resp = await route.fetch();
      const j = await resp.json();
      const e = j.events[0];
      e.event = e.event.replace(/"bizStep":"[a-z_]+"/, '"bizStep":"repairing"');
      await route.fulfill({ response: resp, json: j });
    });
    await page.goto(pageUrl);
    await page.waitForFunction((sel) => ['verified', 'failed'].includes(document.querySelector(sel).dataset.state), tid('badge'));
    check(await page.locator(tid('badge')).getAttribute('data-state') === 'failed', 'a tampered record verified');
    const marks = await page.locator(tid('step-check')).allInnerTexts();
    check(marks.filter((m) => m === '✗').length === 1, `marks: ${marks}`);
    await page.unroute('**/v1/chains/*/products/**');
  });

  await step("Anna opens her key: her purchases list the bike", async () => {
    await page.goto(pageUrl);
    await page.waitForFunction((sel) => document.querySelector(sel).dataset.state === 'verified', tid('badge'));
    await page.setInputFiles(tid('key-file'), KEY);
    await page.locator(`${tid('purchase')} a[href="/p/${dlPath}"]`).waitFor();
  });

  await step('she files a rectification request; the page shows it from the chain', async () => {
    const words = `Headlight flickers (test ${Date.now()})`;
    await page.selectOption(tid('f-kind'), 'rectification');
    await page.selectOption(tid('f-enterprise'), { label: 'ACME Manufacturing GmbH' });
    await page.fill(tid('f-text'), words);
    await page.click(tid('f-submit'));
    await page.waitForFunction((sel) => /Recorded|Not recorded/.test(document.querySelector(sel).textContent), tid('f-result'));
    const res = await page.locator(tid('f-result')).innerText();
    check(res.startsWith('Recorded'), `result: ${res}`);
    await page.locator(`${tid('complaint')}:has-text("${words}")`).waitFor();
    const rec = (await getJson(`/v1/chains/open/products/${dlPath}`)).body;
    check(rec.complaints.some((c) => c.text === words && c.kind === 'rectification'), 'the chain has no such complaint');
  });

  await step('an unknown product says none is published', async () => {
    await page.goto(`${BASE}/p/01/04012345111118/21/999999999`);
    await page.waitForFunction((sel) => document.querySelector(sel).dataset.state === 'failed', tid('badge'));
    check(/No record/.test(await page.locator(tid('badge')).innerText()), 'no "no record" message');
  });

  await step('a path that is no Digital Link is a JSON 400', async () => {
    const r = await getJson('/p/99/123');
    check(r.status === 400 && r.body && r.body.error && r.body.error.code === 'trace.bad_product_path', `${r.status} ${JSON.stringify(r.body)}`);
  });

  check(pageErrors.length === 0, `page errors: ${pageErrors.join('; ')}`);
}

main().then(() => cleanupAndExit(0, false), async (e) => {
  log(`# ${e.stack || e}`);
  if (page) {
    const shot = path.join(work, 'failure.png');
    await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
    fs.writeFileSync(path.join(work, 'failure.html'), await page.content().catch(() => ''));
    log(`# screenshot and HTML in ${work}`);
  }
  await cleanupAndExit(1, true);
});
