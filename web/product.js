/*
 * product.js -- the consumer page /p/<GS1 Digital Link path>.
 *
 * Reads the product's published record from the node's open chain
 * (GET /v1/chains/{open}/products/<path>), shows its timeline with the
 * enterprise that answers for each step, the delivery status and the
 * product link's QR code, and checks the record's proofs here, from its
 * own bytes (Web Crypto: SHA-256 and Ed25519):
 *
 *   per publication  the alliance's transaction decodes, its id is the
 *                    SHA-256 of its bytes and the publication's source_tx,
 *                    its author's Ed25519 signature holds; the block header
 *                    decodes, hashes to source_block, is of the source
 *                    chain, its proposer is one of the validators the open
 *                    chain trusts for it and signed it; the Merkle path
 *                    leads from the transaction to the header's tx root;
 *                    the transaction is a trace.publish of this product
 *   per step         the entry shown is, field for field, one of the
 *                    entries of the verified publication it cites
 *
 * A consumer who opens their key file (it never leaves the page) can file
 * a complaint or a rectification request -- a trace.complain transaction
 * built and signed here -- and list their purchases with a request signed
 * per RFC 9421, as the node requires.
 */
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const enc = new TextEncoder();

  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') el.className = v;
      else el.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }

  /* ---------- bytes ---------- */

  const { hexToBytes, bytesToHex, concat, sha256, verifyInclusion, parseHeader } =
    window.hanseProof; /* proof.js */
  const b64 = (b) => btoa(String.fromCharCode(...b));
  const b64url = (b) => b64(b).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  const hasCrypto = () => !!(globalThis.crypto && crypto.subtle);

  async function ed25519Verify(pub, sig, msg) {
    const key = await crypto.subtle.importKey('raw', pub, { name: 'Ed25519' }, false, ['verify']);
    return crypto.subtle.verify({ name: 'Ed25519' }, key, sig, msg);
  }

  /* docs/FORMATS.md section 3: a transaction. */
  function parseTx(b) {
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    if (b.length < 4 || b[0] !== 0x01 || b[1] !== 0x01) throw new Error('not a transaction');
    const flags = b[2];
    let o = 3;
    const cl = b[o++];
    const chain = new TextDecoder().decode(b.subarray(o, o + cl)); o += cl;
    const kl = b[o++];
    const kind = new TextDecoder().decode(b.subarray(o, o + kl)); o += kl;
    const signer = b.subarray(o, o + 32); o += 32;
    o += 16; /* seq, time */
    const pl = dv.getUint32(o); o += 4;
    const payload = b.subarray(o, o + pl); o += pl;
    const signed = flags === 0;
    if (b.length !== o + (signed ? 64 : 0)) throw new Error('transaction length');
    return { chain, kind, signer, payload, signed, unsigned: b.subarray(0, o), sig: b.subarray(o) };
  }

  function deepEqual(a, b) {
    if (a === b) return true;
    if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
    if (Array.isArray(a) !== Array.isArray(b)) return false;
    const ka = Object.keys(a), kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqual(a[k], b[k]));
  }

  /* One publication: [ok, why, body]. */
  async function checkPublication(pub, product, trusted) {
    const p = pub.proof;
    if (!p || typeof p !== 'object') return [false, 'no proof'];
    if (p.batch) return [false, 'a batched publication: check it with hanse trace verify'];
    let tx, hdr;
    try {
      tx = parseTx(hexToBytes(p.tx));
      hdr = parseHeader(hexToBytes(p.header));
    } catch (e) {
      return [false, `the proof does not decode: ${e.message}`];
    }
    const txBytes = hexToBytes(p.tx);
    const id = await sha256(txBytes);
    if (bytesToHex(id) !== pub.source_tx) return [false, 'the transaction is not the one published'];
    if (!tx.signed || !await ed25519Verify(tx.signer, tx.sig, tx.unsigned)) return [false, "the publisher's signature does not hold"];
    if (bytesToHex(await sha256(hdr.unsigned)) !== pub.source_block) return [false, 'the header is not the block named'];
    if (hdr.chain_id !== pub.from_chain || tx.chain !== hdr.chain_id) return [false, 'the proof is of another chain'];
    const keys = (trusted && trusted[pub.from_chain]) || [];
    if (!keys.map((k) => k.toLowerCase()).includes(bytesToHex(hdr.proposer))) return [false, 'the block was not signed by a trusted validator'];
    if (!await ed25519Verify(hdr.proposer, hdr.sig, hdr.unsigned)) return [false, "the validator's signature on the block does not hold"];
    if (p.tx_count !== hdr.tx_count) return [false, 'the transaction count differs from the header'];
    let path;
    try { path = (p.path || []).map(hexToBytes); } catch (e) { return [false, 'the Merkle path is not hex']; }
    if (!path.every((x) => x.length === 32) || !await verifyInclusion(id, p.index, p.tx_count, path, hdr.tx_root)) return [false, 'the Merkle path does not lead to the block'];
    let payload;
    try { payload = JSON.parse(new TextDecoder().decode(tx.payload)); } catch (e) { return [false, 'the payload is not JSON']; }
    if (tx.kind !== 'xchain.send' || payload.kind !== 'trace.publish' || !payload.body || payload.body.product !== product) return [false, 'not a publication of this product'];
    return [true, `block #${hdr.height} of ${hdr.chain_id}, signed by validator ${bytesToHex(hdr.proposer).slice(0, 12)}…`, payload.body];
  }

  async function verifyRecord(rec) {
    const checks = [];
    const bodies = {};
    for (const pub of rec.publications || []) {
      const [ok, why, body] = await checkPublication(pub, rec.product, rec.trusted);
      checks.push({ ok, text: `Publication ${String(pub.source_tx).slice(0, 12)}…: ${why}` });
      if (ok) bodies[pub.source_tx] = body;
    }
    const steps = {};
    for (const e of rec.events || []) {
      const plain = Object.assign({}, e);
      delete plain.from_chain;
      delete plain.source_tx;
      const body = bodies[e.source_tx];
      const ok = !!body && (body.events || []).some((x) => deepEqual(x, plain));
      steps[e.eventID] = ok;
      if (!ok) checks.push({ ok: false, text: `Step ${e.eventID}: not among its publication's verified entries` });
    }
    const all = checks.every((c) => c.ok) && (rec.events || []).length > 0;
    return { all, checks, steps };
  }

  /* ---------- page ---------- */

  const STEP_NAMES = {
    commissioning: 'Made', packing: 'Packed', unpacking: 'Unpacked', shipping: 'Shipped',
    departing: 'Departed', transporting: 'In transit', arriving: 'Arrived', receiving: 'Received',
    storing: 'Stored', inspecting: 'Inspected', accepting: 'Accepted', retail_selling: 'Sold',
    loading: 'Loaded', unloading: 'Unloaded', assembling: 'Assembled', sampling: 'Sampled',
    sensor_reporting: 'Measured', staging_outbound: 'Ready to ship', picking: 'Picked',
    repackaging: 'Repacked', dispensing: 'Dispensed', holding: 'Held', stocking: 'Stocked'
  };
  const CLASS_NAMES = { production: 'production', transport: 'transport', customs_inspection: 'customs', transaction: 'sale' };
  const STATUS_NAMES = { none: 'No shipment yet', dispatched: 'Dispatched', in_transit: 'In transit', arrived: 'Arrived', delivered: 'Delivered', customs_inspection: 'At customs', customs_cleared: 'Cleared by customs' };

  const state = { chain: null, path: null, record: null, kp: null };

  const word = (s) => String(s || '').replace(/^.*[-:/]/, '');
  const nice = (s) => { const w = word(s).replace(/_/g, ' '); return w.charAt(0).toUpperCase() + w.slice(1); };
  function when(t) {
    const d = new Date(t);
    return isNaN(d) ? String(t) : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  }

  function message(text, bad) {
    const m = $('message');
    m.textContent = text;
    m.hidden = !text;
    m.classList.toggle('bad', !!bad);
  }

  async function api(path, opts) {
    const r = await fetch(path, Object.assign({ headers: { Accept: 'application/json' } }, opts || {}));
    let body = null;
    try { body = await r.json(); } catch (e) { body = null; }
    if (!r.ok) {
      const e = (body && body.error) || body || {};
      const err = new Error(e.message || `HTTP ${r.status}`);
      err.status = r.status;
      err.code = e.code;
      throw err;
    }
    return body;
  }

  async function openChain() {
    const q = new URLSearchParams(location.search).get('chain');
    if (q) return q;
    const st = await api('/v1/status');
    for (const c of st.chains || []) {
      try {
        const g = await api(`/v1/chains/${encodeURIComponent(c)}/genesis`);
        const gen = g.genesis || g;
        if (gen.type === 'open') return c;
      } catch (e) { /* not readable: not the open chain */ }
    }
    throw new Error('this node serves no open chain');
  }

  function eventSummary(ev) {
    const bits = [];
    if (ev.disposition) bits.push(nice(ev.disposition));
    const where = (ev.bizLocation && ev.bizLocation.id) || (ev.readPoint && ev.readPoint.id);
    if (where) bits.push(`at ${where}`);
    for (const s of ev.sensorElementList || [])
      for (const r of s.sensorReport || [])
        if (r.value !== undefined) bits.push(`${nice(r.type)} ${r.value}${r.uom ? ' ' + r.uom : ''}`);
    const ids = [].concat(ev.epcList || [], ev.childEPCs || [], ev.inputEPCList || [], ev.outputEPCList || []);
    if (ev.parentID) bits.push(`in ${ev.parentID}`);
    if (ids.length) bits.push(`${ids.length} item${ids.length > 1 ? 's' : ''}`);
    return bits.join(' · ');
  }

  function renderTimeline(rec, steps) {
    const ol = $('timeline');
    ol.replaceChildren();
    for (const e of rec.events) {
      let ev = {};
      try { ev = JSON.parse(e.event); } catch (x) { ev = {}; }
      const step = STEP_NAMES[ev.bizStep] || nice(ev.bizStep || e.type);
      const ok = steps ? steps[e.eventID] : undefined;
      ol.append(h('li', { class: 'p-step', 'data-testid': 'step', 'data-event': e.eventID },
        h('div', { class: 'p-step-head' },
          h('span', { class: 'p-step-name', 'data-testid': 'step-name' }, step),
          h('span', { class: 'p-tag' }, CLASS_NAMES[e.class] || e.class),
          ok === undefined ? null : h('span', { class: ok ? 'p-ok' : 'p-bad', 'data-testid': 'step-check', title: ok ? 'proven' : 'not proven' }, ok ? '✓' : '✗')),
        h('time', { datetime: e.eventTime }, when(e.eventTime)),
        h('div', { class: 'p-who', 'data-testid': 'step-enterprise' }, 'By ', h('strong', {}, e.org_name || e.org || 'an unnamed enterprise')),
        h('div', { class: 'p-what' }, eventSummary(ev)),
        h('div', { class: 'p-ref mono' }, `alliance tx ${String(e.tx).slice(0, 16)}… · block #${e.height}`)));
    }
  }

  function renderStatus(rec) {
    const d = $('delivery');
    const st = rec.status;
    if (!st || !st.status) { d.hidden = true; return; }
    d.hidden = false;
    d.dataset.status = st.status;
    d.textContent = `${STATUS_NAMES[st.status] || nice(st.status)}${st.since ? ' · ' + when(st.since) : ''}`;
  }

  function renderComplaints(rec) {
    const ul = $('complaints');
    ul.replaceChildren();
    for (const c of rec.complaints || []) {
      const answers = (c.answers || []).map((a) => h('li', { class: 'p-answer', 'data-testid': 'answer' },
        h('strong', {}, `${(rec.enterprises || {})[a.org] || a.org} (${a.status}): `), a.text, ' ', h('time', { datetime: a.time }, when(a.time))));
      ul.append(h('li', { class: 'p-complaint', 'data-testid': 'complaint' },
        h('div', {}, h('strong', {}, c.kind === 'rectification' ? 'Rectification request' : 'Complaint'),
          ` about ${(rec.enterprises || {})[c.enterprise] || c.enterprise} · `, h('time', { datetime: c.time }, when(c.time))),
        h('p', { class: 'p-text' }, c.text),
        answers.length ? h('ul', { class: 'p-answers' }, answers) : h('p', { class: 'p-note' }, 'Not answered yet.')));
    }
    $('no-complaints').hidden = (rec.complaints || []).length > 0;
  }

  function renderForm(rec) {
    const sel = $('f-enterprise');
    sel.replaceChildren();
    for (const [org, name] of Object.entries(rec.enterprises || {})) sel.append(h('option', { value: org }, name || org));
    const evSel = $('f-event');
    const fill = () => {
      evSel.replaceChildren(h('option', { value: '' }, '–'));
      for (const e of rec.events) if (e.org === sel.value) {
        let ev = {};
        try { ev = JSON.parse(e.event); } catch (x) { ev = {}; }
        evSel.append(h('option', { value: e.eventID }, `${STEP_NAMES[ev.bizStep] || nice(ev.bizStep || e.type)} · ${when(e.eventTime)}`));
      }
    };
    sel.onchange = fill;
    fill();
  }

  async function load() {
    const m = location.pathname.match(/^\/p\/(.+)$/);
    if (!m) throw new Error('no product in the address');
    state.path = m[1].replace(/\/+$/, '');
    $('p-id').textContent = decodeURIComponent(state.path);
    $('qr').src = `/p/${state.path}/qr.svg`;
    $('qr-svg').href = `/p/${state.path}/qr.svg`;
    $('qr-png').href = `/p/${state.path}/qr.png`;
    $('qr-card').hidden = false;
    state.chain = await openChain();
    const rec = await api(`/v1/chains/${encodeURIComponent(state.chain)}/products/${state.path}`);
    state.record = rec;
    $('p-id').textContent = rec.product;
    renderStatus(rec);
    renderTimeline(rec, null);
    renderComplaints(rec);
    renderForm(rec);
    $('timeline-card').hidden = false;
    $('complaints-card').hidden = false;
    $('key-card').hidden = false;
    $('form-card').hidden = false;
    const badge = $('badge');
    if (!hasCrypto()) {
      badge.dataset.state = 'unchecked';
      badge.textContent = 'Not checked: this browser offers no Web Crypto here (open the page over https or on localhost)';
      return;
    }
    let v;
    try {
      v = await verifyRecord(rec);
    } catch (e) {
      v = { all: false, checks: [{ ok: false, text: `the check failed: ${e.message}` }], steps: {} };
    }
    renderTimeline(rec, v.steps);
    badge.dataset.state = v.all ? 'verified' : 'failed';
    const n = rec.events.length;
    badge.textContent = v.all
      ? `Verified: all ${n} step${n === 1 ? '' : 's'} are in blocks signed by the alliance's validators`
      : 'Not verified: some proofs do not hold (see below)';
    const list = $('checks');
    list.replaceChildren(...v.checks.map((c) => h('li', { class: c.ok ? 'p-ok' : 'p-bad' }, (c.ok ? '✓ ' : '✗ ') + c.text)));
    $('checks-card').hidden = false;
  }

  /* ---------- the consumer's key ---------- */

  async function loadKey(file) {
    const j = JSON.parse(await file.text());
    const seed = hexToBytes(j.seed), pub = hexToBytes(j.public);
    if (seed.length !== 32 || pub.length !== 32) throw new Error('not a Hanse key file');
    const priv = await crypto.subtle.importKey('jwk', { kty: 'OKP', crv: 'Ed25519', d: b64url(seed), x: b64url(pub) },
      { name: 'Ed25519' }, false, ['sign']);
    return { pub, pubHex: bytesToHex(pub), priv };
  }
  const sign = async (kp, msg) => new Uint8Array(await crypto.subtle.sign({ name: 'Ed25519' }, kp.priv, msg));

  /* RFC 9421 as the node checks it (src/crypto/httpsig.c): @method,
   * @path, @query; created, keyid, alg, nonce. */
  async function signedGet(kp, path, query) {
    const created = Math.floor(Date.now() / 1000);
    const nonce = b64(crypto.getRandomValues(new Uint8Array(16)));
    const params = `("@method" "@path" "@query");created=${created};keyid="${kp.pubHex}";alg="ed25519";nonce="${nonce}"`;
    const base = `"@method": GET\n"@path": ${path}\n"@query": ?${query}\n"@signature-params": ${params}`;
    const sig = await sign(kp, enc.encode(base));
    return api(`${path}?${query}`, { headers: { Accept: 'application/json', 'Signature-Input': `sig1=${params}`, Signature: `sig1=:${b64(sig)}:` } });
  }

  async function showPurchases() {
    const r = await signedGet(state.kp, `/v1/chains/${state.chain}/products`, 'mine=1');
    const ul = $('purchase-list');
    ul.replaceChildren(...(r.products || []).map((p) => {
      const m = String(p).match(/^https:\/\/id\.gs1\.org\/(.+)$/);
      return h('li', { 'data-testid': 'purchase' }, m ? h('a', { href: `/p/${m[1]}` }, p) : p);
    }));
    if (!(r.products || []).length) ul.append(h('li', {}, 'No purchases recorded for this key.'));
    $('purchases').hidden = false;
  }

  /* A transaction (FORMATS.md section 3), signed. */
  async function buildTx(kp, chain, kind, seq, payload) {
    const c = enc.encode(chain), k = enc.encode(kind), p = enc.encode(JSON.stringify(payload));
    const fixed = new Uint8Array(20);
    const dv = new DataView(fixed.buffer);
    dv.setBigUint64(0, BigInt(seq));
    dv.setBigUint64(8, BigInt(Date.now()));
    dv.setUint32(16, p.length);
    const unsigned = concat(Uint8Array.of(1, 1, 0, c.length), c, Uint8Array.of(k.length), k, kp.pub, fixed, p);
    return concat(unsigned, await sign(kp, unsigned));
  }

  async function submitTx(kind, payload) {
    const acct = await api(`/v1/chains/${state.chain}/accounts/${state.kp.pubHex}`);
    const tx = await buildTx(state.kp, state.chain, kind, acct.next_seq, payload);
    const r = await api(`/v1/chains/${state.chain}/txs?wait=1`, {
      method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ txs: [bytesToHex(tx)] })
    });
    const res = (r.results || [])[0] || {};
    return res;
  }

  async function complain(ev) {
    ev.preventDefault();
    const out = $('f-result');
    const btn = $('f-submit');
    btn.disabled = true;
    out.hidden = false;
    out.classList.remove('bad');
    out.textContent = 'Signing and sending…';
    const payload = { product: state.record.product, kind: $('f-kind').value, enterprise: $('f-enterprise').value, text: $('f-text').value };
    if ($('f-event').value) payload.event = $('f-event').value;
    try {
      const res = await submitTx('trace.complain', payload);
      if (res.status === 'committed' && res.code === 'ok') {
        out.textContent = `Recorded on the chain (transaction ${String(res.id).slice(0, 16)}…). The enterprise answers there.`;
        $('f-text').value = '';
        const rec = await api(`/v1/chains/${encodeURIComponent(state.chain)}/products/${state.path}`);
        state.record = rec;
        renderComplaints(rec);
      } else {
        out.classList.add('bad');
        out.textContent = `Not recorded: ${res.code || res.status}${res.message ? ' – ' + res.message : ''}`;
      }
    } catch (e) {
      out.classList.add('bad');
      out.textContent = `Not recorded: ${e.code ? e.code + ' – ' : ''}${e.message}`;
    } finally {
      btn.disabled = !state.kp;
    }
  }

  $('key-file').addEventListener('change', async (ev) => {
    const f = ev.target.files && ev.target.files[0];
    const info = $('key-info');
    info.hidden = false;
    info.classList.remove('bad');
    try {
      state.kp = await loadKey(f);
      info.textContent = `Key ${state.kp.pubHex.slice(0, 16)}… loaded on this page.`;
      $('f-submit').disabled = false;
      await showPurchases();
    } catch (e) {
      state.kp = null;
      $('f-submit').disabled = true;
      info.classList.add('bad');
      info.textContent = `Cannot use this key: ${e.message}`;
    }
  });
  $('complain-form').addEventListener('submit', complain);

  load().catch((e) => {
    const badge = $('badge');
    badge.dataset.state = 'failed';
    badge.textContent = e.status === 404 ? 'No record of this product is published.' : 'The record cannot be read.';
    message(e.message, true);
  });

  window.hanseProduct = { verifyRecord, parseTx, parseHeader };
})();
