// Real-client test: the npm `sockjs-client` (1.6.x, the dist build the
// server serves at /sockjs-client.js) in headless Chromium, driven by
// playwright-core, against devserve's SockJS test server.
//
// Checks, each printed as one "ok - ..." / "not ok - ..." line:
//   * GET /sockjs-client.js serves node_modules/sockjs-client/dist/sockjs.min.js
//     as application/javascript; unknown paths are 404.
//   * Same-origin page (origin == server): /echo with `transports: [T]` for
//     each of websocket, xhr-streaming, xhr-polling, eventsource, htmlfile,
//     jsonp-polling, iframe-eventsource, iframe-htmlfile, iframe-xhr-polling:
//     opens, `sock.transport` === T (for iframe transports it is
//     "iframe-<inner>"), the requests Chromium made are the ones T uses (and,
//     for iframe-*, came from the /echo/iframe.html frame, which itself
//     loaded /sockjs-client.js), messages (unicode, U+2028, emoji, 10 KiB)
//     echo in order, client close -> close event 1000, no page errors;
//     streaming transports get recycled by response_limit 4096.
//     Also /close over every T -> 3000 "Go away!".
//   * Cross-origin page (served by this script on 127.0.0.1:<ephemeral>,
//     server on SOCKJS_BASE_URL): the same echo for every T except htmlfile,
//     which sockjs-client only offers same-origin (checked: close 2000);
//     this exercises the server's CORS (credentials) handling.
//   * /disabled_websocket_echo (default transports: not websocket),
//     /cookie_needed_echo (default, xhr-streaming, iframe-xhr-polling,
//     jsonp-polling), /amplify "12" -> 4096 bytes.
//
// The same-origin page is made by navigating to a real (404) URL on the
// server and replacing the document with page.setContent(): a document
// fulfilled by page.route() is treated as "public" by Chromium's Local
// Network Access checks, which then block the WebSocket to 127.0.0.1.
//
// Run (server must already be listening; uses Debian's /usr/bin/chromium,
// `apt-get install -y chromium`; never downloads a browser):
//   npm ci
//   SOCKJS_BASE_URL=http://127.0.0.1:8081 node tests/node/sockjs_client_browser.mjs
// Env: CHROMIUM_PATH (default /usr/bin/chromium), SOCKJS_TEST_TIMEOUT_MS
// (overall timeout, default 150000). Exits 0 only if every check passed.

import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';
import {
  baseUrlFromEnv, CHROMIUM, CHROMIUM_ARGS, createRunner, describeMismatch, ECHO_MESSAGES, FOLLOW_UP, sleep,
  withTimeout,
} from './harness.mjs';

const BASE = baseUrlFromEnv();
const OVERALL_MS = parseInt(process.env.SOCKJS_TEST_TIMEOUT_MS || '150000', 10);
const TRANSPORTS = ['websocket', 'xhr-streaming', 'xhr-polling', 'eventsource', 'htmlfile',
  'jsonp-polling', 'iframe-eventsource', 'iframe-htmlfile', 'iframe-xhr-polling'];

const require = createRequire(import.meta.url);
const CLIENT_DIST = path.join(path.dirname(require.resolve('sockjs-client/package.json')),
  'dist', 'sockjs.min.js');
const CLIENT_VERSION = require('sockjs-client/package.json').version;

const pageHtml = (src) =>
  `<!doctype html><html><head><meta charset="utf-8"><title>sockjs test</title></head>` +
  `<body><script src="${src}"></script></body></html>`;

// ---- session request kinds each transport must use: "<METHOD> <last path segment>"
const INNER_KINDS = {
  websocket: [],
  'xhr-streaming': ['POST xhr_streaming', 'POST xhr_send'],
  'xhr-polling': ['POST xhr', 'POST xhr_send'],
  eventsource: ['GET eventsource', 'POST xhr_send'],
  htmlfile: ['GET htmlfile', 'POST xhr_send'],
  'jsonp-polling': ['GET jsonp', 'POST jsonp_send'],
};
const innerOf = (tr) => tr.replace(/^iframe-/, '');
const STREAM_KIND = {
  'xhr-streaming': 'POST xhr_streaming', eventsource: 'GET eventsource', htmlfile: 'GET htmlfile',
};

// ---- runs inside the page (must be self-contained)
// Sends `send` on open, then `followUp` once send.length messages arrived,
// and closes after expectCount messages (if clientClose).
function pageRun({ url, options, send, followUp, expectCount, clientClose, timeoutMs }) {
  return new Promise((resolve) => {
    const out = { opened: false, transport: null, messages: [], close: null, error: null,
      transportAfterClose: undefined };
    let sock;
    let done = false;
    const finish = () => { if (!done) { done = true; clearTimeout(timer); resolve(out); } };
    const timer = setTimeout(() => {
      out.error = `page-side timeout after ${timeoutMs} ms (opened=${out.opened}, ` +
        `messages=${out.messages.length})`;
      try { if (sock) sock.close(); } catch (e) { /* ignore */ }
      finish();
    }, timeoutMs);
    try {
      // eslint-disable-next-line no-undef
      sock = new SockJS(url, null, options);
    } catch (e) {
      out.error = `constructor threw: ${e}`;
      finish();
      return;
    }
    sock.onopen = () => {
      out.opened = true;
      out.transport = sock.transport;
      for (const m of send) sock.send(m);
      if (clientClose && expectCount === 0) sock.close();
    };
    sock.onmessage = (e) => {
      out.messages.push(e.data);
      if (followUp && out.messages.length === send.length) for (const m of followUp) sock.send(m);
      if (clientClose && out.messages.length === expectCount) {
        out.readyStateBeforeClose = sock.readyState;
        sock.close();
      }
    };
    sock.onclose = (e) => {
      out.close = { code: e.code, reason: e.reason, wasClean: e.wasClean };
      out.transportAfterClose = sock.transport;
      finish();
    };
  });
}

// ---- setup: cross-origin page server, browser
const pageServer = http.createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(pageHtml(`${BASE}/sockjs-client.js`));
});
let context = null;
let userDataDir = null;

async function cleanup() {
  if (context) {
    const c = context;
    context = null;
    await withTimeout(c.close(), 10000, 'closing chromium').catch(() => {});
  }
  pageServer.close();
  if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
}

const r = createRunner('sockjs-client (chromium)', { overallMs: OVERALL_MS, onAbort: cleanup });
console.log(`# sockjs-client ${CLIENT_VERSION} in ${CHROMIUM} against ${BASE}`);

// ---- static routes of the test server
await r.group('static', async (t) => {
  const res = await fetch(`${BASE}/sockjs-client.js`, { signal: AbortSignal.timeout(5000) });
  t.eq(res.status, 200, 'GET /sockjs-client.js status');
  t.ok(/^application\/javascript\b/.test(res.headers.get('content-type') || ''),
    'GET /sockjs-client.js is application/javascript', res.headers.get('content-type'));
  const body = Buffer.from(await res.arrayBuffer());
  t.ok(body.equals(fs.readFileSync(CLIENT_DIST)),
    `GET /sockjs-client.js is node_modules/sockjs-client/dist/sockjs.min.js (${CLIENT_VERSION})`,
    `body of ${body.length} bytes differs`);
  const nf = await fetch(`${BASE}/__devserve_no_such_path__`, { signal: AbortSignal.timeout(5000) });
  await nf.arrayBuffer();
  t.eq(nf.status, 404, 'unknown path is 404');
  const ifr = await fetch(`${BASE}/echo/iframe.html`, { signal: AbortSignal.timeout(5000) });
  const ifrBody = await ifr.text();
  t.eq(ifr.status, 200, 'GET /echo/iframe.html status');
  t.ok(ifrBody.includes('<script src="/sockjs-client.js"></script>') &&
    ifrBody.includes('SockJS.bootstrap_iframe()'),
  '/echo/iframe.html loads sockjs_url and calls SockJS.bootstrap_iframe()', ifrBody.slice(0, 300));
}, 15000);

await r.group('setup', async (t) => {
  await new Promise((resolve, reject) => {
    pageServer.once('error', reject);
    pageServer.listen(0, '127.0.0.1', resolve);
  });
  t.ok(fs.existsSync(CHROMIUM), `chromium at ${CHROMIUM}`, 'missing: apt-get install -y chromium');
  userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'devserve-chromium-'));
  // launchPersistentContext passes --user-data-dir=<userDataDir> (a fresh
  // temp dir); Playwright refuses an explicit --user-data-dir in args.
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    timeout: 60000,
    args: CHROMIUM_ARGS,
  });
  t.ok(context, `chromium ${context.browser() ? context.browser().version() : ''} launched`.trim());
}, 70000);

if (!context) {
  await r.finish(cleanup);
}

// ---- one page per origin, with request/websocket/error logs
async function makePage(kind) {
  const page = await context.newPage();
  const log = { requests: [], websockets: [], errors: [] };
  page.on('request', (req) => {
    log.requests.push({ method: req.method(), url: req.url(), main: req.frame() === page.mainFrame(),
      frameUrl: req.frame().url() });
  });
  page.on('websocket', (ws) => log.websockets.push(ws.url()));
  page.on('pageerror', (err) => log.errors.push(err.message));
  if (kind === 'same-origin') {
    // A real navigation to the server (any status) gives the document the
    // server's origin and loopback address space; then replace its content.
    const resp = await page.goto(`${BASE}/__devserve_sockjs_test__.html`, { timeout: 15000 });
    if (!resp) throw new Error('no response for the same-origin navigation');
    await page.setContent(pageHtml('/sockjs-client.js'), { timeout: 15000 });
  } else {
    await page.goto(`http://127.0.0.1:${pageServer.address().port}/`, { timeout: 15000 });
  }
  const info = await page.evaluate(() => ({
    origin: location.origin,
    // eslint-disable-next-line no-undef
    version: typeof SockJS === 'function' ? SockJS.version : null,
  }));
  return { page, log, ...info };
}

function kindsOf(reqs, prefix) {
  const base = new URL(BASE);
  const kinds = new Map();
  for (const q of reqs) {
    const u = new URL(q.url);
    if (u.origin !== base.origin) continue;
    const m = new RegExp(`^/${prefix}/[^/.]+/[^/.]+/([a-z_]+)$`).exec(u.pathname);
    if (!m) continue;
    const k = `${q.method} ${m[1]}`;
    kinds.set(k, (kinds.get(k) || 0) + 1);
  }
  return kinds;
}

async function run(pg, opts) {
  return pg.page.evaluate(pageRun, { timeoutMs: 10000, send: [], expectCount: 0, ...opts });
}

async function echoGroup(t, pg, tr, { prefix = 'echo', checkRequests = true } = {}) {
  pg.log.requests.length = 0;
  pg.log.websockets.length = 0;
  pg.log.errors.length = 0;
  const res = await run(pg, {
    url: `${BASE}/${prefix}`, options: tr ? { transports: [tr] } : {},
    send: ECHO_MESSAGES, followUp: [FOLLOW_UP], expectCount: ECHO_MESSAGES.length + 1,
    clientClose: true,
  });
  const expected = [...ECHO_MESSAGES, FOLLOW_UP];
  t.ok(res.opened, 'opens', res.error || JSON.stringify(res.close));
  if (tr) t.eq(res.transport, tr, 'sock.transport');
  const mismatch = describeMismatch(expected, res.messages);
  t.ok(!mismatch, `${expected.length} messages echoed in order (unicode, 10 KiB)`, mismatch);
  t.ok(res.close && res.close.code === 1000 && res.readyStateBeforeClose === 1,
    'client close -> close event 1000', res.error || JSON.stringify(res.close));
  t.ok(res.transportAfterClose === null, 'sock.transport is null after close',
    String(res.transportAfterClose));
  await sleep(100);
  t.ok(pg.log.errors.length === 0, 'no uncaught page errors', pg.log.errors.join(' | '));
  if (!checkRequests || !tr) return res;

  const inner = innerOf(tr);
  const reqs = pg.log.requests;
  const kinds = kindsOf(reqs, prefix);
  const got = [...kinds.keys()].sort();
  const want = [...INNER_KINDS[inner]].sort();
  t.ok(JSON.stringify(got) === JSON.stringify(want),
    `session requests are exactly ${want.length ? want.join(', ') : 'none (websocket only)'}`,
    `got ${JSON.stringify(Object.fromEntries(kinds))}`);
  const wsRe = new RegExp(`^wss?://[^/]+/${prefix}/[^/.]+/[^/.]+/websocket$`);
  const wsCount = pg.log.websockets.filter((u) => wsRe.test(u)).length;
  t.ok(inner === 'websocket' ? wsCount === 1 : wsCount === 0,
    inner === 'websocket' ? 'one WebSocket to /<server>/<session>/websocket' : 'no WebSocket opened',
    JSON.stringify(pg.log.websockets));
  if (STREAM_KIND[inner] && prefix === 'echo') {
    const n = kinds.get(STREAM_KIND[inner]) || 0;
    t.ok(n >= 2, `streaming response recycled after response_limit 4096 (${STREAM_KIND[inner]} x${n})`,
      'the server never ended the streaming response, so response_limit is not enforced');
  }
  if (inner === 'htmlfile' || inner === 'jsonp-polling') {
    const recv = inner === 'htmlfile' ? 'htmlfile' : 'jsonp';
    const cb = reqs.filter((q) => new URL(q.url).pathname.endsWith(`/${recv}`))
      .map((q) => new URL(q.url).search);
    t.ok(cb.length > 0 && cb.every((s) => /^\?c=_jp\.a[a-z0-9]+$/.test(s)),
      `${recv} requests carry ?c=_jp.a<id> (e.g. ${cb[0]})`, JSON.stringify(cb.slice(0, 3)));
  }
  if (inner === 'jsonp-polling') {
    const sends = reqs.filter((q) => new URL(q.url).pathname.endsWith('/jsonp_send'))
      .map((q) => new URL(q.url).search);
    t.ok(sends.length > 0 && sends.every((s) => /^\?i=a[a-z0-9]+$/.test(s)),
      `jsonp_send posts carry ?i=a<id> (e.g. ${sends[0]})`, JSON.stringify(sends.slice(0, 3)));
  }
  if (tr.startsWith('iframe-')) {
    const base = new URL(BASE);
    const iframeReq = reqs.filter((q) => q.url.split('#')[0] === `${BASE}/${prefix}/iframe.html`);
    t.ok(iframeReq.length === 1 && !iframeReq[0].main,
      `loaded ${base.pathname.replace(/\/$/, '')}/${prefix}/iframe.html in a child frame`,
      JSON.stringify(iframeReq));
    const scriptFromIframe = reqs.some((q) => q.url === `${BASE}/sockjs-client.js` && !q.main &&
      q.frameUrl.includes(`/${prefix}/iframe.html`));
    t.ok(scriptFromIframe, 'the iframe loaded /sockjs-client.js (sockjs_url)');
    const sessionFromMain = reqs.filter((q) => q.main &&
      new RegExp(`/${prefix}/[^/.]+/[^/.]+/`).test(new URL(q.url).pathname));
    t.ok(sessionFromMain.length === 0, 'all session requests were made by the iframe, none by the page',
      JSON.stringify(sessionFromMain.slice(0, 3)));
  }
  return res;
}

// ---- same-origin page
let same = null;
await r.group('same-origin/page', async (t) => {
  same = await makePage('same-origin');
  t.eq(same.origin, new URL(BASE).origin, 'page origin is the server origin');
  t.eq(same.version, CLIENT_VERSION, 'window.SockJS loaded from /sockjs-client.js');
}, 30000);

if (same && same.version) {
  for (const tr of TRANSPORTS) {
    await r.group(`same-origin/echo/${tr}`, (t) => echoGroup(t, same, tr), 20000);
  }
  for (const tr of TRANSPORTS) {
    await r.group(`same-origin/close/${tr}`, async (t) => {
      const res = await run(same, { url: `${BASE}/close`, options: { transports: [tr] } });
      t.ok(res.opened && res.transport === tr, `opened with ${tr}`,
        res.error || JSON.stringify({ transport: res.transport, close: res.close }));
      t.ok(res.close && res.close.code === 3000 && res.close.reason === 'Go away!',
        'server close -> 3000 "Go away!"', res.error || JSON.stringify(res.close));
    }, 20000);
  }
  await r.group('same-origin/disabled_websocket_echo/default', async (t) => {
    const res = await echoGroup(t, same, null, { prefix: 'disabled_websocket_echo' });
    t.ok(res.transport && res.transport !== 'websocket',
      `default transports do not use websocket (used ${res.transport})`, String(res.transport));
    t.ok(same.log.websockets.length === 0, 'no WebSocket attempted', JSON.stringify(same.log.websockets));
  }, 20000);
  await r.group('same-origin/cookie_needed_echo/default', async (t) => {
    const res = await echoGroup(t, same, null, { prefix: 'cookie_needed_echo' });
    t.info(`used ${res.transport}`);
  }, 20000);
  for (const tr of ['xhr-streaming', 'iframe-xhr-polling', 'jsonp-polling']) {
    await r.group(`same-origin/cookie_needed_echo/${tr}`,
      (t) => echoGroup(t, same, tr, { prefix: 'cookie_needed_echo' }), 20000);
  }
  await r.group('same-origin/amplify/default', async (t) => {
    const res = await run(same, { url: `${BASE}/amplify`, options: {}, send: ['12'],
      expectCount: 1, clientClose: true });
    const m = res.messages[0];
    t.ok(typeof m === 'string' && m.length === 4096 && /^x+$/.test(m), '"12" -> 4096 "x"',
      res.error || `got ${typeof m} of length ${m && m.length}`);
  }, 20000);
}

// ---- cross-origin page
let cross = null;
await r.group('cross-origin/page', async (t) => {
  cross = await makePage('cross-origin');
  t.ok(cross.origin !== new URL(BASE).origin, `page origin ${cross.origin} differs from the server's`);
  t.eq(cross.version, CLIENT_VERSION, 'window.SockJS loaded from the server');
}, 30000);

if (cross && cross.version) {
  for (const tr of TRANSPORTS) {
    if (tr === 'htmlfile') {
      await r.group('cross-origin/htmlfile', async (t) => {
        const res = await run(cross, { url: `${BASE}/echo`, options: { transports: [tr] } });
        t.ok(!res.opened && res.close && res.close.code === 2000,
          'htmlfile is same-origin only: close 2000 "All transports failed"',
          res.error || JSON.stringify(res));
      }, 20000);
      continue;
    }
    await r.group(`cross-origin/echo/${tr}`, (t) => echoGroup(t, cross, tr), 20000);
  }
  await r.group('cross-origin/close/xhr-streaming', async (t) => {
    const res = await run(cross, { url: `${BASE}/close`, options: { transports: ['xhr-streaming'] } });
    t.ok(res.close && res.close.code === 3000 && res.close.reason === 'Go away!',
      'server close -> 3000 "Go away!"', res.error || JSON.stringify(res.close));
  }, 20000);
}

await r.finish(cleanup);
