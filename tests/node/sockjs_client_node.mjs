// Real-client test: the npm `sockjs-client` (1.6.x) running in Node against
// devserve's SockJS test server.
//
// Checks, each printed as one "ok - ..." / "not ok - ..." line:
//   * /echo with `transports: [T]` for every transport sockjs-client has in
//     Node: websocket, xhr-streaming, xhr-polling, eventsource. (Node's
//     sockjs-client ships the `eventsource` npm package as its EventSource
//     driver, so eventsource does work in Node. htmlfile, jsonp-polling,
//     iframe-* and xdr-* need a DOM and are reported by sockjs-client as
//     "All transports failed" (2000) in Node -- also checked.)
//     For each: opens, `sock.transport` names T, the HTTP requests made are
//     the ones T uses, a set of messages (unicode, U+2028, emoji, control
//     chars, 10 KiB strings) echo back in order, client close -> close
//     event 1000. Streaming transports must be recycled by the server's
//     response_limit (4096 on /echo) during the 10 KiB echoes.
//   * /info of /echo, /disabled_websocket_echo, /cookie_needed_echo
//     (websocket / cookie_needed flags, integer entropy).
//   * /disabled_websocket_echo: default transports do not pick websocket
//     and echo works; transports:['websocket'] fails with 2000.
//   * /close (every transport): open, then close 3000 "Go away!".
//   * /cookie_needed_echo over xhr-streaming (and xhr-polling) echoes, and
//     its session responses set "JSESSIONID=...; path=/".
//   * /amplify: "12" -> 4096 "x"; /ticker sends "tick"s; /broadcast fans out.
//
// Run (server must already be listening):
//   npm ci   # once, installs sockjs-client from package-lock.json
//   SOCKJS_BASE_URL=http://127.0.0.1:8081 node tests/node/sockjs_client_node.mjs
// Exits 0 only if every check passed; bounded by an overall timeout
// (env SOCKJS_TEST_TIMEOUT_MS, default 120000).

import http from 'node:http';
import https from 'node:https';
import SockJS from 'sockjs-client';
import {
  baseUrlFromEnv, createRunner, describeMismatch, ECHO_MESSAGES, FOLLOW_UP, sleep,
} from './harness.mjs';

const BASE = baseUrlFromEnv();
const OVERALL_MS = parseInt(process.env.SOCKJS_TEST_TIMEOUT_MS || '120000', 10);
const NODE_TRANSPORTS = ['websocket', 'xhr-streaming', 'xhr-polling', 'eventsource'];
const BROWSER_ONLY = ['htmlfile', 'jsonp-polling', 'iframe-eventsource',
  'iframe-htmlfile', 'iframe-xhr-polling', 'xdr-streaming', 'xdr-polling'];

// ---- record every HTTP request sockjs-client (and its eventsource driver)
// makes, to prove which transport really talked to the server. The
// websocket driver (faye-websocket) opens raw sockets, so it never shows up.
const requestLog = [];
for (const mod of [http, https]) {
  const orig = mod.request;
  mod.request = function patchedRequest(...args) {
    const a = args[0];
    let method = 'GET';
    let p = '?';
    if (typeof a === 'string' || a instanceof URL) {
      const u = new URL(String(a));
      p = u.pathname + u.search;
      if (args[1] && typeof args[1] === 'object' && args[1].method) method = args[1].method;
    } else if (a && typeof a === 'object') {
      method = a.method || 'GET';
      p = a.path || a.pathname || '?';
    }
    const entry = { line: `${method.toUpperCase()} ${p}`, setCookie: null };
    requestLog.push(entry);
    const req = orig.apply(this, args);
    req.on('response', (res) => { entry.setCookie = res.headers['set-cookie'] || null; });
    return req;
  };
}

// Transport "kind" of a session URL: /<prefix>/<server>/<session>/<kind>
function sessionKinds(log, prefix) {
  const re = new RegExp(`^(GET|POST) /${prefix}/[^/]+/[^/]+/([a-z_]+)`);
  const kinds = new Map();
  for (const { line } of log) {
    const m = re.exec(line);
    if (m) kinds.set(`${m[1]} ${m[2]}`, (kinds.get(`${m[1]} ${m[2]}`) || 0) + 1);
  }
  return kinds;
}
const EXPECTED_KINDS = {
  websocket: [],
  'xhr-streaming': ['POST xhr_streaming', 'POST xhr_send'],
  'xhr-polling': ['POST xhr', 'POST xhr_send'],
  eventsource: ['GET eventsource', 'POST xhr_send'],
};

// ---- a SockJS connection with awaitable events
function connect(url, options) {
  const sock = new SockJS(url, null, options);
  const s = { sock, opened: false, messages: [], closeEvent: null, transportAtOpen: null };
  let waiters = [];
  const notify = () => { waiters = waiters.filter((w) => !w()); };
  sock.onopen = () => { s.opened = true; s.transportAtOpen = sock.transport; notify(); };
  sock.onmessage = (e) => { s.messages.push(e.data); notify(); };
  sock.onclose = (e) => {
    s.closeEvent = { code: e.code, reason: e.reason, wasClean: e.wasClean };
    notify();
  };
  s.waitFor = (pred, ms, what) => new Promise((resolve, reject) => {
    if (pred()) { resolve(); return; }
    let w;
    const timer = setTimeout(() => {
      waiters = waiters.filter((x) => x !== w);
      reject(new Error(`timed out after ${ms} ms waiting for ${what}` +
        (s.closeEvent ? ` (closed ${s.closeEvent.code} ${s.closeEvent.reason})` : '')));
    }, ms);
    w = () => { if (pred()) { clearTimeout(timer); resolve(); return true; } return false; };
    waiters.push(w);
  });
  s.waitOpen = async (ms = 10000) => {
    await s.waitFor(() => s.opened || s.closeEvent, ms, 'open');
    if (!s.opened) {
      throw new Error(`closed before open: ${s.closeEvent.code} ${s.closeEvent.reason}`);
    }
  };
  s.waitMessages = (n, ms = 10000) => s.waitFor(() => s.messages.length >= n || s.closeEvent, ms,
    `${n} messages (have ${s.messages.length})`);
  s.waitClose = (ms = 5000) => s.waitFor(() => s.closeEvent, ms, 'close event');
  s.kill = () => { try { if (!s.closeEvent) sock.close(); } catch (e) { /* ignore */ } };
  return s;
}

const open = [];
function track(s) { open.push(s); return s; }

async function getJson(url) {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  const text = await res.text();
  let body = null;
  try { body = JSON.parse(text); } catch (e) { /* keep null */ }
  return { status: res.status, headers: res.headers, body, text };
}

const r = createRunner('sockjs-client (node)', {
  overallMs: OVERALL_MS,
  onAbort: async () => { open.forEach((s) => s.kill()); },
});

console.log(`# sockjs-client ${SockJS.version} in Node ${process.version} against ${BASE}`);

// ---- /info
await r.group('info', async (t) => {
  const e = await getJson(`${BASE}/echo/info`);
  t.eq(e.status, 200, '/echo/info status');
  t.ok(e.body && e.body.websocket === true, '/echo/info websocket:true', e.text);
  t.ok(e.body && e.body.cookie_needed === false, '/echo/info cookie_needed:false', e.text);
  t.ok(e.body && Number.isInteger(e.body.entropy), '/echo/info entropy is an integer', e.text);
  const d = await getJson(`${BASE}/disabled_websocket_echo/info`);
  t.ok(d.body && d.body.websocket === false, '/disabled_websocket_echo/info websocket:false', d.text);
  const c = await getJson(`${BASE}/cookie_needed_echo/info`);
  t.ok(c.body && c.body.cookie_needed === true, '/cookie_needed_echo/info cookie_needed:true', c.text);
}, 15000);

// ---- echo over each Node transport
async function echoScenario(t, url, transports, expectTransport,
  { checkKinds, prefix, responseLimit, jsessionid } = {}) {
  requestLog.length = 0;
  const s = track(connect(url, transports ? { transports } : {}));
  await s.waitOpen();
  t.ok(s.opened, 'opens');
  if (expectTransport) t.eq(s.transportAtOpen, expectTransport, 'sock.transport');
  for (const m of ECHO_MESSAGES) s.sock.send(m);
  await s.waitMessages(ECHO_MESSAGES.length, 10000);
  if (s.messages.length === ECHO_MESSAGES.length) {
    s.sock.send(FOLLOW_UP);
    await s.waitMessages(ECHO_MESSAGES.length + 1, 10000);
  }
  const expected = [...ECHO_MESSAGES, FOLLOW_UP];
  const mismatch = describeMismatch(expected, s.messages);
  t.ok(!mismatch, `${expected.length} messages echoed in order (unicode, 10 KiB)`, mismatch);
  t.ok(s.sock.readyState === SockJS.OPEN, 'still open after echoes', `readyState ${s.sock.readyState}`);
  s.sock.close();
  await s.waitClose();
  t.ok(s.closeEvent && s.closeEvent.code === 1000, 'client close -> close event 1000',
    JSON.stringify(s.closeEvent));
  t.ok(s.sock.transport === null, 'sock.transport is null after close', String(s.sock.transport));
  if (checkKinds) {
    await sleep(50);
    const kinds = sessionKinds(requestLog, prefix);
    const got = [...kinds.keys()].sort();
    const want = [...EXPECTED_KINDS[expectTransport]].sort();
    t.ok(JSON.stringify(got) === JSON.stringify(want),
      `session requests are exactly ${want.length ? want.join(', ') : 'none (raw websocket)'}`,
      `got ${JSON.stringify(Object.fromEntries(kinds))}`);
    if (responseLimit && (expectTransport === 'xhr-streaming' || expectTransport === 'eventsource')) {
      const key = expectTransport === 'xhr-streaming' ? 'POST xhr_streaming' : 'GET eventsource';
      t.ok((kinds.get(key) || 0) >= 2,
        `streaming response recycled after response_limit 4096 (${key} x${kinds.get(key) || 0})`,
        'the server never ended the streaming response, so response_limit is not enforced');
    }
    if (jsessionid) {
      const sessionRes = requestLog.filter((e) => e.line.startsWith(`POST /${prefix}/`) && e.setCookie);
      const cookies = sessionRes.flatMap((e) => e.setCookie);
      t.ok(cookies.length > 0 && cookies.every((c) => /^JSESSIONID=[^;]*;\s*path=\//i.test(c)),
        'session responses set "JSESSIONID=...; path=/"', JSON.stringify(cookies.slice(0, 3)));
    }
    if (expectTransport === 'xhr-polling') {
      t.ok((kinds.get('POST xhr') || 0) >= 2, `polled more than once (POST xhr x${kinds.get('POST xhr') || 0})`,
        'only one poll request');
    }
  }
  return s;
}

for (const tr of NODE_TRANSPORTS) {
  await r.group(`echo/${tr}`, (t) => echoScenario(t, `${BASE}/echo`, [tr], tr,
    { checkKinds: true, prefix: 'echo', responseLimit: true }), 30000);
}

// ---- transports that need a browser are not offered in Node
await r.group('node-unavailable', async (t) => {
  for (const tr of BROWSER_ONLY) {
    const s = track(connect(`${BASE}/echo`, { transports: [tr] }));
    await s.waitFor(() => s.opened || s.closeEvent, 10000, `${tr} close`);
    t.ok(!s.opened && s.closeEvent && s.closeEvent.code === 2000,
      `${tr} is not available in Node (close 2000 "All transports failed")`,
      JSON.stringify({ opened: s.opened, transport: s.transportAtOpen, close: s.closeEvent }));
    s.kill();
  }
}, 20000);

// ---- /disabled_websocket_echo
await r.group('disabled_websocket_echo/default', async (t) => {
  const s = await echoScenario(t, `${BASE}/disabled_websocket_echo`, null, null);
  t.ok(s.transportAtOpen && s.transportAtOpen !== 'websocket',
    `default transports do not use websocket (used ${s.transportAtOpen})`, String(s.transportAtOpen));
}, 30000);
await r.group('disabled_websocket_echo/websocket-only', async (t) => {
  const s = track(connect(`${BASE}/disabled_websocket_echo`, { transports: ['websocket'] }));
  await s.waitFor(() => s.opened || s.closeEvent, 10000, 'close');
  t.ok(!s.opened && s.closeEvent && s.closeEvent.code === 2000,
    'transports:[websocket] refused (close 2000 "All transports failed")',
    JSON.stringify({ opened: s.opened, close: s.closeEvent }));
}, 15000);

// ---- /close
for (const tr of [null, ...NODE_TRANSPORTS]) {
  await r.group(`close/${tr || 'default'}`, async (t) => {
    const s = track(connect(`${BASE}/close`, tr ? { transports: [tr] } : {}));
    await s.waitFor(() => s.closeEvent, 10000, 'close event');
    t.ok(s.opened, 'opened before the server closed it', JSON.stringify(s.closeEvent));
    if (tr) t.eq(s.transportAtOpen, tr, 'sock.transport');
    t.eq(s.closeEvent.code, 3000, 'close code');
    t.eq(s.closeEvent.reason, 'Go away!', 'close reason');
    t.ok(s.opened && s.messages.length === 0, 'no messages', `${s.messages.length} messages`);
  }, 15000);
}

// ---- /cookie_needed_echo
for (const tr of ['xhr-streaming', 'xhr-polling']) {
  await r.group(`cookie_needed_echo/${tr}`, (t) => echoScenario(t, `${BASE}/cookie_needed_echo`,
    [tr], tr, { checkKinds: true, prefix: 'cookie_needed_echo', jsessionid: true }), 30000);
}

// ---- /amplify
for (const tr of [null, 'xhr-streaming', 'xhr-polling']) {
  await r.group(`amplify/${tr || 'default'}`, async (t) => {
    const s = track(connect(`${BASE}/amplify`, tr ? { transports: [tr] } : {}));
    await s.waitOpen();
    if (tr) t.eq(s.transportAtOpen, tr, 'sock.transport');
    s.sock.send('12');
    s.sock.send('3');
    await s.waitMessages(2);
    const [a, b] = s.messages;
    t.ok(typeof a === 'string' && a.length === 4096 && /^x+$/.test(a), '"12" -> 4096 "x"',
      `got ${typeof a} of length ${a && a.length}`);
    t.ok(b === 'xxxxxxxx', '"3" -> 8 "x"', JSON.stringify(b));
    s.sock.close();
    await s.waitClose();
  }, 15000);
}

// ---- /ticker (server-initiated messages)
await r.group('ticker/xhr-polling', async (t) => {
  const s = track(connect(`${BASE}/ticker`, { transports: ['xhr-polling'] }));
  await s.waitOpen();
  await s.waitMessages(2, 4000);
  t.ok(s.messages.length >= 2 && s.messages.every((m) => m === 'tick'), 'receives "tick" messages',
    JSON.stringify(s.messages));
  s.sock.close();
  await s.waitClose();
}, 10000);

// ---- /broadcast
await r.group('broadcast', async (t) => {
  const a = track(connect(`${BASE}/broadcast`, { transports: ['websocket'] }));
  const b = track(connect(`${BASE}/broadcast`, { transports: ['xhr-streaming'] }));
  await a.waitOpen();
  await b.waitOpen();
  // unique text, so other clients of /broadcast cannot confuse the check
  const text = `to all ü ${process.pid}-${Date.now()}`;
  a.sock.send(text);
  await a.waitFor(() => a.messages.includes(text), 5000, 'own broadcast');
  await b.waitFor(() => b.messages.includes(text), 5000, 'broadcast on the other connection');
  t.ok(a.messages.includes(text), 'sender receives its broadcast', JSON.stringify(a.messages));
  t.ok(b.messages.includes(text), 'other connection receives the broadcast', JSON.stringify(b.messages));
  a.sock.close();
  b.sock.close();
  await a.waitClose();
  await b.waitClose();
}, 15000);

await r.finish(async () => { open.forEach((s) => s.kill()); });
