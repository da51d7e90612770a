/*
 * app.js -- the Hanse block explorer.
 *
 * Plain JavaScript, no build step, no external resources. It talks to the
 * node's JSON API (docs/API.md) with relative URLs, so it also works behind
 * a reverse proxy under a sub-path.
 *
 * Routes (location.hash):
 *   #/                      latest blocks, updated live
 *   #/block/<height>        one block and its transactions
 *   #/block/<hash>          the same, by block hash
 *   #/block/<h>?tx=<id>     ... with that transaction highlighted
 *   #/tx/<id>               a transaction, its receipt and inclusion proof
 * The chain is ?chain=<id> in the query string (default: the first chain
 * the node lists; it lists them sorted by id).
 *
 * The explorer never signs a request. On a chain with a policy
 * (docs/PERMISSIONS.md) a view the node refuses with 401/403 shows a
 * "members only" box instead of an error; a refused transaction still
 * shows its receipt and inclusion proof, which are public.
 *
 * Every value from the node is put into the page as text (never as HTML).
 */
'use strict';

(() => {
  const POLL_MS = 1000;
  const LATEST = 20;
  const TX_PAGE = 100;
  const FETCH_TIMEOUT_MS = 10000;
  const HEX64 = /^[0-9a-f]{64}$/;

  const $ = (id) => document.getElementById(id);

  const state = {
    node: null,        // GET /v1/status
    chains: [],
    chain: null,
    status: null,      // GET /v1/chains/{c}/status
    statusOk: false,
    view: null,        // { poll?: async fn, dispose?: fn }
    nav: 0,            // incremented on every navigation
    timer: 0,
    tickGen: 0,
  };

  /* ---------- DOM helpers ---------- */

  /* h('a', {href: '#/', class: 'x', 'data-testid': 'y'}, 'text', child...) */
  function h(tag, props, ...kids) {
    const el = document.createElement(tag);
    if (props) {
      for (const [k, v] of Object.entries(props)) {
        if (v === undefined || v === null || v === false) continue;
        if (k === 'class') el.className = v;
        else if (k === 'text') el.textContent = v;
        else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
        else el.setAttribute(k, v === true ? '' : String(v));
      }
    }
    append(el, kids);
    return el;
  }

  function append(el, kids) {
    for (const k of kids.flat(Infinity)) {
      if (k === undefined || k === null || k === false) continue;
      el.append(k instanceof Node ? k : document.createTextNode(String(k)));
    }
    return el;
  }

  function clear(el) {
    while (el.firstChild) el.removeChild(el.firstChild);
    return el;
  }

  /* ---------- formatting ---------- */

  function short(hex, head = 8, tail = 6) {
    if (typeof hex !== 'string') return '–';
    return hex.length <= head + tail + 1 ? hex : `${hex.slice(0, head)}…${hex.slice(-tail)}`;
  }

  function num(n) {
    return typeof n === 'number' ? n.toLocaleString() : '–';
  }

  function isToday(d) {
    const now = new Date();
    return d.getFullYear() === now.getFullYear() && d.getMonth() === now.getMonth() &&
      d.getDate() === now.getDate();
  }

  /* "14:03:27" today, "12 Mar 2025, 14:03:27" otherwise. */
  function timeShort(ms) {
    if (typeof ms !== 'number') return '–';
    const d = new Date(ms);
    const t = d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
    if (isToday(d)) return t;
    return `${d.toLocaleDateString(undefined, { day: 'numeric', month: 'short', year: 'numeric' })}, ${t}`;
  }

  function timeLong(ms) {
    if (typeof ms !== 'number') return '–';
    const d = new Date(ms);
    return d.toLocaleString(undefined, {
      weekday: 'short', day: 'numeric', month: 'short', year: 'numeric',
      hour: '2-digit', minute: '2-digit', second: '2-digit',
    });
  }

  function age(ms) {
    if (typeof ms !== 'number') return '';
    const s = Math.round((Date.now() - ms) / 1000);
    if (s < 2) return 'just now';
    if (s < 60) return `${s} s ago`;
    const m = Math.floor(s / 60);
    if (m < 60) return `${m} min ago`;
    const hr = Math.floor(m / 60);
    if (hr < 48) return `${hr} h ago`;
    return `${Math.floor(hr / 24)} days ago`;
  }

  function timeCell(ms) {
    return [
      h('time', { datetime: new Date(ms).toISOString(), title: timeLong(ms) }, timeShort(ms)),
      h('span', { class: 'age', 'data-ms': ms }, age(ms)),
    ];
  }

  function codeBadge(code, testid) {
    const ok = code === 'ok';
    return h('span', { class: `badge ${ok ? 'ok' : 'bad'}`, 'data-testid': testid, title: code }, code || '–');
  }

  function statusBadge(status) {
    const cls = status === 'committed' ? 'ok' : status === 'pending' ? 'pending' : 'bad';
    return h('span', { class: `badge ${cls}`, id: 'tx-status', 'data-testid': 'tx-status' }, status || 'unknown');
  }

  /* A definition list: rows of [label, value, testid?]. */
  function kv(rows) {
    return h('dl', { class: 'kv' }, rows.filter(Boolean).map(([k, v, testid]) =>
      h('div', { class: 'kv-row' }, h('dt', null, k), h('dd', { 'data-testid': testid }, v))));
  }

  function mono(text, testid) {
    return h('span', { class: 'mono hash', 'data-testid': testid }, text);
  }

  /* ---------- API ---------- */

  class ApiError extends Error {
    constructor(code, message, httpStatus) {
      super(message);
      this.code = code;
      this.httpStatus = httpStatus;
    }
  }

  async function api(path) {
    const ctl = new AbortController();
    const t = setTimeout(() => ctl.abort(), FETCH_TIMEOUT_MS);
    let res;
    try {
      res = await fetch(`v1/${path}`, { headers: { Accept: 'application/json' }, signal: ctl.signal, cache: 'no-store' });
    } catch (e) {
      throw new ApiError('network', ctl.signal.aborted
        ? `the node did not answer within ${FETCH_TIMEOUT_MS / 1000} s`
        : `the node cannot be reached (${e.message})`, 0);
    } finally {
      clearTimeout(t);
    }
    const text = await res.text();
    let body = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch (e) {
      body = null;
    }
    if (!res.ok) {
      const err = body && body.error;
      if (err && typeof err === 'object') {
        throw new ApiError(String(err.code || `http.${res.status}`), String(err.message || res.statusText), res.status);
      }
      throw new ApiError(`http.${res.status}`, text.slice(0, 200) || res.statusText || 'request failed', res.status);
    }
    if (body === null) throw new ApiError('bad_response', 'the node answered with something that is not JSON', res.status);
    return body;
  }

  const chainPath = (rest) => `chains/${encodeURIComponent(state.chain)}/${rest}`;

  const ERROR_TITLES = {
    'network': 'Cannot reach the node',
    'chain.unknown': 'Unknown chain',
    'tx.not_found': 'Transaction not found',
    'block.not_found': 'Block not found',
    'search.not_found': 'Nothing found',
    'http.not_found': 'Not found',
    'http.bad_param': 'Bad request',
    'store.failed': 'The node\'s storage failed',
    'auth.missing': 'Members only',
    'policy.read_denied': 'Members only',
  };

  /* 401 and 403: the chain's policy shows this view to signed members
   * only, or to members of some roles (docs/PERMISSIONS.md). The explorer
   * never signs a request, so it can only say so. */
  function isDenied(err) {
    return err instanceof ApiError && (err.httpStatus === 401 || err.httpStatus === 403 ||
      err.code.startsWith('auth.') || err.code === 'policy.read_denied');
  }

  /* What a refusal means, for `denied` = {what: 'tx', id} or {what: 'blocks'}.
   * A 403 names the data class ("... lets none of your roles read
   * customs_inspection data"); a 401 (no signature) does not. */
  function membersOnly(err, denied) {
    const m = /\broles read ([a-z_]+) data\b/.exec(err.message || '');
    const chain = state.chain || 'ID';
    const isTx = denied && denied.what === 'tx';
    const text = isTx
      ? `This chain shows transaction contents to signed members whose role may read ${m ? `${m[1]} data` : 'the transaction\u2019s data class'}.`
      : 'This chain shows its blocks and transactions to signed members only.';
    const cmd = isTx
      ? `hanse get tx ${denied.id} --chain ${chain} --key KEYFILE`
      : `hanse get block latest --chain ${chain} --key KEYFILE`;
    return [
      h('p', { class: 'members-note', 'data-testid': 'members-only' }, text),
      h('p', { class: 'muted' }, 'The explorer does not sign requests. A member reads it with its own key: ',
        h('code', { class: 'cmd' }, cmd)),
    ];
  }

  /* A readable error: title, message, stable code, HTTP status. notFound
   * is the title to use for any 404 (e.g. "Block not found"); denied says
   * what a 401/403 refused (see membersOnly). */
  function errorBox(err, extra, notFound, denied) {
    const code = err instanceof ApiError ? err.code : 'client.error';
    const status = err instanceof ApiError ? err.httpStatus : 0;
    const refused = isDenied(err);
    const title = (status === 404 && notFound) || (refused && 'Members only') || ERROR_TITLES[code] ||
      (status >= 500 ? 'The node reported an error' : 'Something went wrong');
    return h('section', { class: `error-box${refused ? ' members-only' : ''}`, role: 'alert', 'data-testid': 'error', 'data-code': code },
      h('h2', null, title),
      refused ? membersOnly(err, denied) : null,
      h('p', { 'data-testid': 'error-message' }, err.message || String(err)),
      h('p', { class: 'muted' },
        'Code ', h('code', { 'data-testid': 'error-code' }, code),
        err.httpStatus ? ` · HTTP ${err.httpStatus}` : ''),
      extra || null,
      h('p', null, h('a', { href: '#/' }, '← Latest blocks')));
  }

  /* ---------- header: status, chain picker, banner ---------- */

  function showBanner(text) {
    const b = $('banner');
    if (text) {
      b.textContent = text;
      b.hidden = false;
    } else {
      b.hidden = true;
      b.textContent = '';
    }
  }

  function renderStatus() {
    const s = state.status;
    const set = (id, v, title) => {
      const el = $(id);
      if (el.textContent !== v) el.textContent = v;
      if (title !== undefined) el.title = title;
    };
    if (!s) return;
    set('status-height', num(s.height));
    const last = $('status-last-hash');
    if (last.dataset.hash !== s.last_hash) {
      last.dataset.hash = s.last_hash || '';
      clear(last).append(h('a', { href: `#/block/${s.height}`, title: s.last_hash }, short(s.last_hash, 8, 4)));
    }
    set('status-tx-count', num(s.tx_count));
    set('status-mempool', num(s.mempool_depth));
    document.body.classList.toggle('stale', !state.statusOk);
  }

  async function pollStatus() {
    const chain = state.chain;
    try {
      const s = await api(chainPath('status'));
      if (chain !== state.chain) return;
      state.status = s;
      state.statusOk = true;
      showBanner(state.status.store_failed
        ? 'The node\'s storage has failed: it no longer commits blocks. Data shown may be out of date.'
        : '');
    } catch (e) {
      if (chain !== state.chain) return;
      state.statusOk = false;
      showBanner(e.code === 'network'
        ? `Lost contact with the node: ${e.message}. Retrying every second…`
        : `Chain status unavailable: ${e.message} (${e.code}).`);
    }
    renderStatus();
    await renderCluster(chain);
  }

  /* ---------- cluster panel ---------- */

  /* A clustered chain's status has "cluster": this node's role and the
   * members with their API URLs. Each other member's own status (public,
   * served to any origin) gives its role and height. */
  async function peerStatus(url, chain) {
    const ctl = new AbortController();
    const t = setTimeout(() => ctl.abort(), FETCH_TIMEOUT_MS);
    try {
      const res = await fetch(`${url}/v1/chains/${encodeURIComponent(chain)}/status`,
        { headers: { Accept: 'application/json' }, signal: ctl.signal, cache: 'no-store' });
      return res.ok ? await res.json() : null;
    } catch (e) {
      return null;
    } finally {
      clearTimeout(t);
    }
  }

  async function renderCluster(chain) {
    const panel = $('cluster');
    const s = state.status;
    const c = s && s.cluster;
    if (!c || !Array.isArray(c.nodes)) {
      panel.hidden = true;
      clear(panel);
      return;
    }
    const answers = await Promise.all(c.nodes.map((m) =>
      m.raft_id === c.raft_id ? Promise.resolve(s) : peerStatus(m.api_url, chain)));
    if (chain !== state.chain) return;
    const rows = c.nodes.map((m, i) => {
      const a = answers[i];
      const ac = a && a.cluster;
      const role = ac ? ac.role : 'unreachable';
      const cls = role === 'leader' ? 'ok' : role === 'follower' ? 'pending' : 'bad';
      const self = m.raft_id === c.raft_id;
      const here = `${m.api_url}/?chain=${encodeURIComponent(chain)}`;
      return h('div', { class: `row cluster-row${self ? ' self' : ''}`, role: 'row', 'data-testid': 'cluster-node', 'data-raft-id': m.raft_id, 'data-role': role },
        h('span', { role: 'cell' }, `node ${m.raft_id}`, self ? h('span', { class: 'muted' }, ' (this one)') : null),
        h('span', { role: 'cell' }, h('a', { href: here, 'data-testid': 'cluster-node-url' }, m.api_url)),
        h('span', { role: 'cell' }, h('span', { class: `badge ${cls}`, 'data-testid': 'cluster-node-role' }, role),
          ac && ac.diverged ? h('span', { class: 'badge bad' }, 'diverged') : null),
        h('span', { role: 'cell', class: 'num', 'data-testid': 'cluster-node-height' }, a ? num(a.height) : '–'));
    });
    clear(panel).append(
      h('div', { class: 'rows cluster-rows', role: 'table', 'aria-label': 'Cluster members' },
        h('div', { class: 'row head', role: 'row' },
          h('span', { role: 'columnheader' }, `Cluster · term ${c.term}`),
          h('span', { role: 'columnheader' }, 'API'),
          h('span', { role: 'columnheader' }, 'Role'),
          h('span', { role: 'columnheader', class: 'num' }, 'Height')),
        rows));
    panel.hidden = false;
  }

  /* A block's commit certificate: the validators' signatures of its hash
   * that this node holds; a quorum of them makes it complete. */
  function certificateSection(cert) {
    if (!cert || !Array.isArray(cert.signatures)) return null;
    const k = cert.signatures.length;
    return h('section', { 'data-testid': 'block-certificate' },
      h('h2', null, 'Certificate'),
      kv([
        ['Signed by', h('span', null,
          h('span', { 'data-testid': 'cert-count' }, `${k} of ${cert.validators} validators`),
          ` (quorum ${cert.quorum}) `,
          h('span', { class: `badge ${cert.complete ? 'ok' : 'pending'}`, 'data-testid': 'cert-complete' },
            cert.complete ? 'complete' : 'incomplete'))],
        ...cert.signatures.map((sg) => ['Validator', h('span', null,
          h('span', { class: 'mono', title: sg.signer }, short(sg.signer, 10, 6)), ' ',
          h('span', { class: 'mono muted small', title: sg.sig }, short(sg.sig, 8, 4)))]),
      ]));
  }

  function renderChainPicker() {
    const pick = $('chain-pick');
    const sel = $('chain-select');
    $('chain-name').textContent = state.chains.length > 1 ? '' : (state.chain || '');
    if (state.chains.length <= 1) {
      pick.hidden = true;
      return;
    }
    clear(sel);
    for (const c of state.chains) sel.append(h('option', { value: c, selected: c === state.chain }, c));
    if (!state.chains.includes(state.chain)) {
      sel.prepend(h('option', { value: state.chain, selected: true, disabled: true }, `${state.chain} (unknown)`));
    }
    pick.hidden = false;
  }

  function renderFooter() {
    const f = clear($('foot'));
    const n = state.node;
    if (!n) return;
    f.append(
      h('span', null, 'Hanse ', h('span', { 'data-testid': 'node-version' }, n.version || '?')),
      h('span', null, 'node key ', h('span', { class: 'mono', title: n.node_key }, short(n.node_key, 8, 4))),
      h('a', { href: 'v1/status' }, 'JSON API'),
      h('a', { href: 'metrics' }, 'metrics'));
  }

  function selectChain(c) {
    const url = new URL(location.href);
    url.searchParams.set('chain', c);
    url.hash = '#/';
    history.pushState(null, '', url);
    state.chain = c;
    state.status = null;
    $('status-last-hash').dataset.hash = '';
    for (const id of ['status-height', 'status-last-hash', 'status-tx-count', 'status-mempool']) $(id).textContent = '–';
    renderChainPicker();
    route();
    tick();
  }

  /* ---------- polling ---------- */

  /* One poll loop: a call while a round is in flight starts a new loop and
   * the old one stops after its round. */
  async function tick() {
    const gen = ++state.tickGen;
    clearTimeout(state.timer);
    if (!state.chain) return;
    if (!document.hidden) {
      const v = state.view;
      await Promise.allSettled([pollStatus(), v && v.poll ? v.poll() : null]);
      updateAges();
    }
    if (gen === state.tickGen) state.timer = setTimeout(tick, POLL_MS);
  }

  function updateAges() {
    for (const el of document.querySelectorAll('.age[data-ms]')) {
      const t = age(Number(el.dataset.ms));
      if (el.textContent !== t) el.textContent = t;
    }
  }

  /* ---------- views ---------- */

  function setView(title, ...content) {
    document.title = title ? `${title} · Hanse explorer` : 'Hanse explorer';
    const main = clear($('view'));
    append(main, content);
    return main;
  }

  /* Latest blocks, newest first; rows are keyed by height+hash and kept
   * across polls, so new blocks slide in at the top. */
  function homeView(nav) {
    const list = h('div', { class: 'rows blocks', id: 'latest-blocks', 'data-testid': 'latest-blocks', role: 'table', 'aria-label': 'Latest blocks' },
      h('div', { class: 'row head', role: 'row' },
        h('span', { role: 'columnheader' }, 'Height'),
        h('span', { role: 'columnheader' }, 'Hash'),
        h('span', { role: 'columnheader' }, 'Time'),
        h('span', { role: 'columnheader', class: 'num' }, 'Txs')));
    const empty = h('p', { class: 'muted', 'data-testid': 'blocks-empty', hidden: true }, 'No blocks yet.');
    const err = h('div');
    setView('', h('section', null,
      h('div', { class: 'section-head' },
        h('h1', null, 'Latest blocks'),
        h('span', { class: 'live', title: 'Updated every second' }, 'live')),
      err, list, empty));

    const rows = new Map();   // key "height:hash" -> element
    let loaded = false;
    let busy = false;

    function row(b) {
      return h('a', { class: 'row block-row', role: 'row', href: `#/block/${b.height}`, 'data-testid': 'block-row', 'data-height': b.height, 'data-hash': b.hash },
        h('span', { class: 'height', role: 'cell', 'data-testid': 'block-height' }, `#${b.height}`),
        h('span', { class: 'mono hash-cell', role: 'cell', title: b.hash }, b.hash),
        h('span', { class: 'time', role: 'cell' }, timeCell(b.time_ms)),
        h('span', { class: 'num', role: 'cell', 'data-testid': 'block-tx-count' }, num(b.tx_count)));
    }

    async function poll() {
      if (busy) return;
      busy = true;
      let r;
      try {
        r = await api(chainPath(`blocks?latest=${LATEST}`));
      } catch (e) {
        if (nav !== state.nav) return;
        if (!loaded) clear(err).append(errorBox(e, null, null, { what: 'blocks' }));
        return;
      } finally {
        busy = false;
      }
      if (nav !== state.nav) return;
      clear(err);
      const blocks = Array.isArray(r.blocks) ? r.blocks : [];
      const keep = new Set();
      let prev = list.firstChild;   // the header row
      for (const b of blocks) {
        const key = `${b.height}:${b.hash}`;
        keep.add(key);
        let el = rows.get(key);
        if (!el) {
          el = row(b);
          rows.set(key, el);
          if (loaded) el.classList.add('new');
        }
        if (prev.nextSibling !== el) list.insertBefore(el, prev.nextSibling);
        prev = el;
      }
      for (const [key, el] of rows) {
        if (!keep.has(key)) {
          el.remove();
          rows.delete(key);
        }
      }
      empty.hidden = blocks.length > 0;
      loaded = true;
    }

    return { poll, load: poll };
  }

  function blockView(nav, id, params) {
    const byHash = HEX64.test(id);
    if (!byHash && !/^\d+$/.test(id)) {
      setView('Not found', errorBox(new ApiError('http.bad_param', `“${id}” is neither a block height nor a block hash`, 0)));
      return {};
    }
    setView(`Block ${id}`, h('p', { class: 'loading' }, 'Loading block…'));
    const highlight = (params.get('tx') || '').toLowerCase();
    let nextLink = null;
    let block = null;

    function updateNext() {
      if (!nextLink || !block) return;
      const has = state.status && typeof state.status.height === 'number' && state.status.height > block.height;
      nextLink.classList.toggle('disabled', !has);
      nextLink.setAttribute('aria-disabled', String(!has));
      if (has) nextLink.href = `#/block/${block.height + 1}`;
      else nextLink.removeAttribute('href');
    }

    async function load() {
      let b;
      try {
        b = await api(chainPath(byHash ? `blocks/hash/${id}` : `blocks/${id}`));
      } catch (e) {
        if (nav === state.nav) setView(`Block ${id}`, errorBox(e, null, 'Block not found', { what: 'blocks' }));
        return;
      }
      if (nav !== state.nav) return;
      block = b;
      const prevLink = b.height > 0
        ? h('a', { class: 'btn', href: `#/block/${b.height - 1}`, 'data-testid': 'block-prev', rel: 'prev' }, '← Previous')
        : h('a', { class: 'btn disabled', 'aria-disabled': 'true', 'data-testid': 'block-prev' }, '← Previous');
      nextLink = h('a', { class: 'btn', 'data-testid': 'block-next', rel: 'next' }, 'Next →');
      updateNext();

      const txs = Array.isArray(b.txs) ? b.txs : [];
      const hiIndex = highlight ? txs.findIndex((t) => t.id === highlight) : -1;
      let shown = Math.max(TX_PAGE, hiIndex >= 0 ? Math.ceil((hiIndex + 1) / TX_PAGE) * TX_PAGE : 0);
      const txList = h('div', { class: 'rows txs', 'data-testid': 'block-txs', role: 'table', 'aria-label': 'Transactions' });
      const more = h('button', { type: 'button', class: 'btn', 'data-testid': 'txs-more' });

      function txRow(t) {
        return h('a', { class: `row tx-row${t.id === highlight ? ' highlight' : ''}`, role: 'row', href: `#/tx/${t.id}`, 'data-testid': 'tx-row', 'data-txid': t.id },
          h('span', { class: 'idx', role: 'cell' }, t.index),
          h('span', { class: 'mono id', role: 'cell', title: t.id }, short(t.id, 10, 6)),
          h('span', { class: 'kind', role: 'cell' }, t.kind),
          h('span', { class: 'mono signer', role: 'cell', title: t.signer }, short(t.signer, 6, 4)),
          h('span', { class: 'seq', role: 'cell' }, h('span', { class: 'label' }, 'seq '), t.seq),
          h('span', { class: 'code', role: 'cell' }, codeBadge(t.code)));
      }

      function renderTxs() {
        clear(txList).append(h('div', { class: 'row head', role: 'row' },
          [['idx', '#'], ['id', 'Transaction id'], ['kind', 'Kind'], ['signer', 'Signer'], ['seq', 'Seq'], ['code', 'Code']]
            .map(([cls, c]) => h('span', { role: 'columnheader', class: cls }, c))));
        for (const t of txs.slice(0, shown)) txList.append(txRow(t));
        const left = txs.length - shown;
        more.hidden = left <= 0;
        more.textContent = `Show ${Math.min(left, TX_PAGE).toLocaleString()} more (${left.toLocaleString()} not shown)`;
      }
      more.addEventListener('click', () => {
        shown += TX_PAGE;
        renderTxs();
      });
      renderTxs();

      setView(`Block ${b.height}`,
        h('section', { 'data-testid': 'block-view', 'data-height': b.height },
          h('div', { class: 'section-head' },
            h('h1', null, 'Block ', h('span', { 'data-testid': 'block-view-height' }, `#${b.height}`)),
            h('nav', { class: 'pager', 'aria-label': 'Block navigation' }, prevLink, nextLink)),
          kv([
            ['Height', String(b.height)],
            ['Hash', mono(b.hash, 'block-hash')],
            ['Previous hash', b.height > 0
              ? h('a', { href: `#/block/${b.height - 1}`, class: 'mono hash' }, b.prev_hash)
              : h('span', null, mono(b.prev_hash), h('span', { class: 'muted' }, ' (genesis)'))],
            ['Time', h('span', null, timeLong(b.time_ms), ' ', h('span', { class: 'age muted', 'data-ms': b.time_ms }, age(b.time_ms)),
              h('br'), h('span', { class: 'muted small' }, `${new Date(b.time_ms).toISOString()} · ${b.time_ms} ms`))],
            ['Transactions', num(b.tx_count), 'block-view-tx-count'],
            ['Tx root', mono(b.tx_root, 'block-tx-root')],
            ['State digest', mono(b.state_digest)],
            ['Proposer', mono(b.proposer)],
            ['Signature', mono(b.signature)],
          ])),
        certificateSection(b.certificate),
        h('section', null,
          h('h2', null, `Transactions (${num(txs.length)})`),
          txs.length ? [txList, more] : h('p', { class: 'muted', 'data-testid': 'block-no-txs' }, 'This block has no transactions.')));

      if (hiIndex >= 0) {
        const el = txList.querySelector('.highlight');
        if (el) el.scrollIntoView({ block: 'center' });
      }
    }

    return { load, poll: async () => updateNext() };
  }

  function txView(nav, id) {
    id = id.toLowerCase();
    if (!HEX64.test(id)) {
      setView('Not found', errorBox(new ApiError('http.bad_param', `“${id}” is not a transaction id (64 hex characters)`, 0)));
      return {};
    }
    setView('Transaction', h('p', { class: 'loading' }, 'Loading transaction…'));
    let pending = false;

    async function load() {
      let t;
      try {
        t = await api(chainPath(`txs/${id}`));
      } catch (e) {
        if (nav !== state.nav) return;
        const denied = { what: 'tx', id };
        if (isDenied(e)) {
          /* The receipt and the inclusion proof stay public: show them
           * with the refusal in place of the contents. */
          let pr = null;
          try {
            pr = await api(chainPath(`txs/${id}/proof`));
          } catch (e2) {
            pr = null;
          }
          if (nav !== state.nav) return;
          if (pr && pr.status === 'committed' && pr.proof) {
            renderCommitted(pr, e);
            return;
          }
        }
        setView('Transaction', errorBox(e, null, 'Transaction not found', denied));
        return;
      }
      if (nav !== state.nav) return;
      const wasPending = pending;
      pending = t.status === 'pending';
      if (pending) {
        if (wasPending) return;   // still waiting: the page is already right
        setView('Transaction',
          h('section', { 'data-testid': 'tx-view' },
            h('h1', null, 'Transaction'),
            kv([
              ['Id', mono(t.id || id, 'tx-id')],
              ['Status', statusBadge(t.status)],
            ]),
            h('p', { class: 'muted' }, 'The transaction is in the mempool, waiting for a block. This page updates when it commits.')));
        return;
      }
      renderCommitted(t);
    }

    /* refused: the 401/403 that kept the contents back (t is then the
     * public /proof answer: receipt and proof, no transaction). */
    function renderCommitted(t, refused) {
      const r = t.receipt || {};
      const tx = t.tx || {};
      const p = t.proof;
      const result = h('div', { class: 'proof-result', id: 'proof-result', 'data-testid': 'proof-result', 'aria-live': 'polite' });
      const verifyBtn = h('button', { type: 'button', class: 'btn primary', id: 'verify-proof', 'data-testid': 'verify-proof' }, 'Verify proof');
      verifyBtn.addEventListener('click', async () => {
        verifyBtn.disabled = true;
        clear(result).append(h('p', null, 'Verifying…'));
        result.dataset.result = '';
        try {
          const checks = await verifyProof(t);
          const ok = checks.every((c) => c.ok);
          result.dataset.result = ok ? 'valid' : 'invalid';
          clear(result).append(
            h('p', { class: `verdict ${ok ? 'ok' : 'bad'}`, 'data-testid': 'proof-verdict' }, ok ? '✓ proof valid' : '✗ proof INVALID'),
            h('ul', { class: 'checks' }, checks.map((c) =>
              h('li', { class: c.ok ? 'ok' : 'bad' }, c.ok ? '✓ ' : '✗ ', c.text))));
        } catch (e) {
          result.dataset.result = 'error';
          clear(result).append(h('p', { class: 'verdict bad', 'data-testid': 'proof-verdict' }, `✗ proof INVALID: ${e.message}`));
        } finally {
          verifyBtn.disabled = false;
        }
      });

      let payload;
      try {
        payload = JSON.stringify(tx.payload, null, 2);
      } catch (e) {
        payload = String(tx.payload);
      }
      const blockHref = `#/block/${r.height}?tx=${t.id}`;

      setView('Transaction',
        h('section', { 'data-testid': 'tx-view' },
          h('h1', null, 'Transaction'),
          kv([
            ['Id', mono(t.id, 'tx-id')],
            ['Status', statusBadge(t.status)],
          ])),
        refused ? errorBox(refused, h('p', { class: 'muted' },
          'The receipt and the inclusion proof below are public: anyone holding the id can check that the transaction was committed.'),
        null, { what: 'tx', id: t.id }) : null,
        h('section', null,
          h('h2', null, 'Receipt'),
          kv([
            ['Block', h('a', { href: blockHref, id: 'tx-block-link', 'data-testid': 'tx-block-link' }, `#${r.height}`), 'tx-height'],
            ['Index', String(r.index), 'tx-index'],
            ['Code', codeBadge(r.code, 'tx-code')],
            ['Message', r.message ? r.message : h('span', { class: 'muted' }, '—'), 'tx-message'],
          ])),
        refused ? null : h('section', null,
          h('h2', null, 'Transaction'),
          kv([
            ['Kind', h('span', { class: 'kind', id: 'tx-kind', 'data-testid': 'tx-kind' }, tx.kind)],
            ['Signer', mono(tx.signer, 'tx-signer')],
            ['Sequence', String(tx.seq), 'tx-seq'],
            ['Client time', typeof tx.time_ms === 'number'
              ? h('span', null, timeLong(tx.time_ms), h('br'), h('span', { class: 'muted small' }, `${tx.time_ms} ms`))
              : '–'],
            ['Chain', tx.chain_id],
            ['Batched', tx.batched ? h('span', null, 'yes, batch ', mono(tx.batch_id)) : 'no'],
          ]),
          h('h3', null, 'Payload'),
          h('pre', { class: 'payload', 'data-testid': 'tx-payload' }, payload),
          t.raw ? h('details', null, h('summary', null, `Encoded transaction (${t.raw.length / 2} bytes)`),
            h('pre', { class: 'hexdump mono' }, t.raw)) : null),
        p ? h('section', { 'data-testid': 'tx-proof' },
          h('h2', null, 'Inclusion proof'),
          h('p', { class: 'muted' },
            'The transaction id is leaf ', String(p.index), ' of the block\'s RFC 6962 Merkle tree over its ',
            String(p.tx_count), ' transaction ids. The audit path leads from that leaf to the tx root in the block header.'),
          kv([
            ['Block hash', h('a', { href: blockHref, class: 'mono hash' }, p.block_hash)],
            ['Tx root', mono(p.tx_root, 'proof-tx-root')],
            ['Leaf index', `${p.index} of ${p.tx_count}`],
            ['Audit path', Array.isArray(p.path) && p.path.length
              ? h('ol', { class: 'path', start: 0 }, p.path.map((x) => h('li', { class: 'mono hash' }, x)))
              : h('span', { class: 'muted' }, 'empty (the only transaction of its block)')],
          ]),
          p.header ? h('details', null, h('summary', null, `Block header (${p.header.length / 2} bytes)`),
            h('pre', { class: 'hexdump mono' }, p.header)) : null,
          h('div', { class: 'verify' }, verifyBtn, result)) : null);
    }

    return {
      load,
      poll: async () => {
        if (pending) await load();
      },
    };
  }

  function notFoundView() {
    setView('Not found', errorBox(new ApiError('http.not_found', `There is no page “${location.hash}” in the explorer.`, 0)));
    return {};
  }

  /* ---------- proof verification ---------- */

  const { hexToBytes, bytesToHex, sha256, sha256Js, hasSubtle, verifyInclusion, parseHeader } =
    window.hanseProof; /* proof.js */

  /* Every check the browser can make without trusting the node: returns
   * [{ok, text}]; the proof is valid when all are ok. */
  async function verifyProof(t) {
    const p = t.proof;
    if (!p) throw new Error('the node sent no proof');
    const checks = [];
    const id = hexToBytes(t.id);
    if (id.length !== 32) throw new Error('transaction id is not 32 bytes');
    if (t.raw) {
      const got = bytesToHex(await sha256(hexToBytes(t.raw)));
      checks.push({ ok: got === t.id, text: got === t.id
        ? 'the transaction id is the SHA-256 of the encoded transaction'
        : `SHA-256 of the encoded transaction is ${short(got)}, not the id` });
    }
    const root = hexToBytes(p.tx_root);
    const path = (p.path || []).map(hexToBytes);
    const incl = path.every((x) => x.length === 32) && root.length === 32 &&
      await verifyInclusion(id, p.index, p.tx_count, path, root);
    checks.push({ ok: incl, text: incl
      ? `the audit path (${path.length} hash${path.length === 1 ? '' : 'es'}) leads from leaf ${p.index} of ${p.tx_count} to the tx root`
      : `the audit path does not lead from leaf ${p.index} of ${p.tx_count} to the tx root ${short(p.tx_root)}` });
    if (p.header) {
      let hdr = null;
      try {
        hdr = parseHeader(hexToBytes(p.header));
      } catch (e) {
        checks.push({ ok: false, text: `the block header does not decode: ${e.message}` });
      }
      if (hdr) {
        const rootOk = bytesToHex(hdr.tx_root) === p.tx_root && hdr.tx_count === p.tx_count;
        checks.push({ ok: rootOk, text: rootOk
          ? 'the block header carries this tx root and transaction count'
          : 'the block header carries a different tx root or transaction count' });
        const bh = bytesToHex(await sha256(hdr.unsigned));
        checks.push({ ok: bh === p.block_hash, text: bh === p.block_hash
          ? 'the block hash is the SHA-256 of the header'
          : `SHA-256 of the header is ${short(bh)}, not the block hash ${short(p.block_hash)}` });
        if (t.receipt && typeof t.receipt.height === 'number') {
          const hOk = hdr.height === t.receipt.height;
          checks.push({ ok: hOk, text: hOk
            ? `the header is block #${hdr.height}, the receipt's height`
            : `the header is block #${hdr.height}, but the receipt says #${t.receipt.height}` });
        }
      }
    }
    if (!hasSubtle()) checks.push({ ok: true, text: 'hashed with the built-in JavaScript SHA-256 (crypto.subtle is not available on this page)' });
    return checks;
  }

  /* ---------- search ---------- */

  function searchMessage(text, isError) {
    const m = $('search-message');
    m.textContent = text || '';
    m.hidden = !text;
    m.classList.toggle('error', !!isError);
  }

  async function search(q) {
    q = q.trim().replace(/^#/, '');
    if (/^[0-9a-fA-F]{64}$/.test(q)) q = q.toLowerCase();
    if (!q) {
      searchMessage('Enter a block height, a block hash or a transaction id.');
      return;
    }
    if (!state.chain) return;
    const btn = $('search-button');
    btn.disabled = true;
    searchMessage('');
    try {
      const r = await api(chainPath(`search?q=${encodeURIComponent(q)}`));
      let target = null;
      if (r.type === 'block') target = `#/block/${r.height}`;
      else if (r.type === 'tx') target = `#/tx/${r.id}`;
      if (!target) {
        searchMessage(`The node answered with an unexpected result type “${r.type}”.`, true);
        return;
      }
      $('search-input').value = '';
      $('search-input').blur();
      if (location.hash === target) route();
      else location.hash = target;
    } catch (e) {
      if (e.code === 'search.not_found' || e.httpStatus === 404) {
        searchMessage(`Nothing found for “${q}”. Search for a block height, a block hash or a transaction id (64 hex characters).`, true);
      } else if (isDenied(e)) {
        searchMessage(`Members only: this chain answers searches for signed members (${e.code}: ${e.message}).`, true);
      } else if (e.code === 'http.bad_param') {
        searchMessage(`Nothing found for “${q}”: ${e.message}. Search for a block height, a block hash or a transaction id.`, true);
      } else {
        searchMessage(`Search failed: ${e.message} (${e.code})`, true);
      }
    } finally {
      btn.disabled = false;
    }
  }

  /* ---------- routing ---------- */

  function parseHash() {
    const raw = location.hash.replace(/^#\/?/, '');
    const q = raw.indexOf('?');
    const path = (q >= 0 ? raw.slice(0, q) : raw).split('/').filter(Boolean).map(decodeURIComponent);
    const params = new URLSearchParams(q >= 0 ? raw.slice(q + 1) : '');
    return { path, params };
  }

  function route() {
    const nav = ++state.nav;
    if (state.view && state.view.dispose) state.view.dispose();
    state.view = null;
    if (!state.chain) return;
    const { path, params } = parseHash();
    let v;
    if (path.length === 0) v = homeView(nav);
    else if (path[0] === 'block' && path.length === 2) v = blockView(nav, path[1].toLowerCase(), params);
    else if (path[0] === 'block' && path.length === 3 && path[1] === 'hash') v = blockView(nav, path[2].toLowerCase(), params);
    else if (path[0] === 'tx' && path.length === 2) v = txView(nav, path[1]);
    else v = notFoundView();
    state.view = v;
    document.body.dataset.view = path[0] || 'home';
    window.scrollTo(0, 0);
    if (v.load) v.load();
  }

  /* ---------- start ---------- */

  async function start() {
    $('search-form').addEventListener('submit', (e) => {
      e.preventDefault();
      search($('search-input').value);
    });
    $('chain-select').addEventListener('change', (e) => selectChain(e.target.value));
    window.addEventListener('hashchange', () => {
      searchMessage('');
      route();
    });
    window.addEventListener('popstate', () => {
      const c = new URL(location.href).searchParams.get('chain');
      if (c && c !== state.chain) selectChain(c);
    });
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden) tick();
    });

    for (;;) {
      try {
        state.node = await api('status');
        break;
      } catch (e) {
        setView('Error', errorBox(e, h('p', { class: 'muted' }, 'Retrying in 3 seconds…')));
        await new Promise((r) => setTimeout(r, 3000));
      }
    }
    state.chains = Array.isArray(state.node.chains) ? state.node.chains : [];
    renderFooter();
    const wanted = new URL(location.href).searchParams.get('chain');
    if (!state.chains.length && !wanted) {
      setView('No chains', h('section', { class: 'error-box', 'data-testid': 'error' },
        h('h2', null, 'No chains'), h('p', null, 'This node serves no chain yet.')));
      return;
    }
    state.chain = wanted || state.chains[0];
    renderChainPicker();
    if (wanted && !state.chains.includes(wanted)) {
      setView('Unknown chain', errorBox(new ApiError('chain.unknown', `This node does not serve a chain “${wanted}”.`, 404),
        h('p', null, 'Chains on this node: ', state.chains.map((c, i) => [i ? ', ' : '',
          h('a', { href: `?chain=${encodeURIComponent(c)}#/` }, c)]))));
      state.chain = null;
      return;
    }
    route();
    tick();
  }

  /* For tests and the curious: the verifier, usable from the console. */
  window.hanseExplorer = { verifyInclusion, verifyProof, sha256, sha256Js, hexToBytes, bytesToHex, parseHeader };

  start().catch((e) => setView('Error', errorBox(e)));
})();
