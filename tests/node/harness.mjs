// Shared helpers for the Node test scripts (the sockjs-client real-client tests, the
// webpack-dev-server client tests, hmr.mjs, https_browser.mjs). Not a test by itself.
//
// - reads the server base URL from env SOCKJS_BASE_URL
// - a tiny sequential check runner: prints one line per check
//   ("ok - ..." / "not ok - ..."), a closing "N passed, N failed" line,
//   and exits 0 only if every check passed
// - an overall watchdog so a run can never hang
// - Chromium's path and flags, stopping a spawned server, a free port, and a polling wait
//   on observable state

import net from 'node:net';

// Debian's Chromium (never downloaded), and the flags every browser test starts it with.
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export function baseUrlFromEnv() {
  const raw = process.env.SOCKJS_BASE_URL;
  if (!raw) {
    console.error('SOCKJS_BASE_URL is not set (e.g. SOCKJS_BASE_URL=http://127.0.0.1:8081)');
    process.exit(2);
  }
  let u;
  try {
    u = new URL(raw);
  } catch (e) {
    console.error(`SOCKJS_BASE_URL is not a URL: ${raw}`);
    process.exit(2);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    console.error(`SOCKJS_BASE_URL must be http(s): ${raw}`);
    process.exit(2);
  }
  return raw.replace(/\/+$/, '');
}

// Messages echoed over every transport. They cover JSON escaping
// (quotes, backslash, control characters), the characters sockjs-client
// escapes specially (U+2028/U+2029, combining marks, U+FFFF range),
// non-BMP characters (surrogate pairs), and a large 10 KiB frame that is
// bigger than the /echo prefix's response_limit (4096), which forces the
// streaming transports to reconnect mid-test.
export const ECHO_MESSAGES = [
  'hello',
  'ü',
  'line\u2028sep\u2029para',
  'emoji 😀🚀 and CJK 日本語',
  '"quoted" \\back\\slash\\ /slash\n newline \t tab',
  'ctl \u0001\u0007\u001b\u001f del\u007f nbsp\u00a0 bom\ufeff \ufff0\uffff',
  'combining e\u0301 \u0300\u0333 \u05c4 \u0e38',
  '[1,2,"a"]', // a message that looks like a frame
  'x'.repeat(10 * 1024),
  'ü'.repeat(5 * 1024), // 10 KiB in UTF-8
  'last',
];

// Sent only after all ECHO_MESSAGES came back. The streaming response that
// carried the 10 KiB echoes must have been ended by the server
// (response_limit 4096), so this reply can only arrive on a new streaming
// request -- which makes "the stream was recycled" a deterministic check.
export const FOLLOW_UP = 'sent after the echoes arrived';

export function describeMismatch(expected, got) {
  if (got.length !== expected.length) {
    return `expected ${expected.length} messages, got ${got.length}` +
      (got.length ? ` (first mismatch at ${firstMismatch(expected, got)})` : '');
  }
  const i = firstMismatch(expected, got);
  if (i < 0) return '';
  const show = (s) => (typeof s === 'string' && s.length > 60)
    ? JSON.stringify(s.slice(0, 60)) + `... (len ${s.length})` : JSON.stringify(s);
  return `message #${i}: expected ${show(expected[i])}, got ${show(got[i])}`;
}

function firstMismatch(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

export function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Ends a spawned devserve with SIGINT and waits for it to exit (5 s at most); nothing to
// do when it has already ended, by exit code or by signal.
export async function stopChild(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGINT');
  await Promise.race([exited, sleep(5000)]);
}

// A free loopback port (the OS picks one; it is closed again before use).
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => resolve(port)); });
    srv.on('error', reject);
  });
}

// Polls `check` every `every` ms until it returns something truthy (returned), or throws
// "timed out waiting for <what>" after `ms`. With `tolerateErrors`, a check that throws
// (a page mid-navigation) counts as not yet.
export async function waitFor(what, check, ms = 15000, { every = 25, tolerateErrors = false } = {}) {
  const deadline = Date.now() + ms;
  for (;;) {
    let value;
    try {
      value = await check();
    } catch (e) {
      if (!tolerateErrors) throw e;
      value = null;
    }
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(every);
  }
}

// Sequential check runner.
//   const r = createRunner('sockjs-client node', { overallMs: 120000, onAbort });
//   await r.group('echo/websocket', async (t) => { t.ok(cond, 'label', 'detail'); ... }, 20000);
//   await r.finish();
// A group that throws or times out records one failed line.
export function createRunner(title, { overallMs, onAbort } = {}) {
  let passed = 0;
  let failed = 0;
  let aborted = false;
  const started = Date.now();
  const failures = [];

  const line = (ok, name, detail) => {
    if (aborted) return;
    if (ok) passed++; else { failed++; failures.push(name); }
    console.log(`${ok ? 'ok' : 'not ok'} - ${name}${detail ? ` (${detail})` : ''}`);
  };

  const summary = () => {
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    console.log(`# ${title}: ${secs}s`);
    if (failures.length) console.log(`# failed: ${failures.join('; ')}`);
    console.log(`${passed} passed, ${failed} failed`);
  };

  const watchdog = setTimeout(async () => {
    line(false, `overall timeout of ${overallMs} ms exceeded`);
    summary();
    aborted = true; // silence the main flow while onAbort tears things down
    const hard = setTimeout(() => process.exit(3), 5000);
    hard.unref();
    try { if (onAbort) await onAbort(); } catch (e) { /* ignore */ }
    process.exit(3);
  }, overallMs);

  return {
    line,
    async group(name, fn, timeoutMs = 20000) {
      if (aborted) return;
      const t = {
        ok: (cond, label, detail) => line(!!cond, `${name}: ${label}`, cond ? '' : detail),
        eq: (got, want, label) => line(got === want, `${name}: ${label}`,
          got === want ? '' : `expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`),
        info: (msg) => console.log(`# ${name}: ${msg}`),
      };
      try {
        await withTimeout(Promise.resolve().then(() => fn(t)), timeoutMs, name);
      } catch (e) {
        line(false, `${name}: completed without error`, e && e.message ? e.message : String(e));
      }
    },
    async finish(cleanup) {
      if (aborted) return new Promise(() => {}); // the watchdog exits the process
      clearTimeout(watchdog);
      try { if (cleanup) await withTimeout(cleanup(), 15000, 'cleanup'); } catch (e) {
        line(false, 'cleanup', e.message);
      }
      summary();
      process.exit(failed === 0 && passed > 0 ? 0 : 1);
    },
  };
}
