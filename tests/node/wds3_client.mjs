// webpack-dev-server 3's own prebuilt client against devserve, in headless
// Chromium: the compatibility bar for pages written for /sockjs-node.
//
// The client bundle is client/index.bundle.js of webpack-dev-server@3.11.3,
// a locked dev dependency (package.json: the alias `webpack-dev-server-3`),
// installed by `npm ci` with the lock file's integrity check; never committed.
// This script runs devserve itself (DEVSERVE_BIN) so it can stop and restart it:
//   1. the page connects (console: "[WDS] Live Reloading enabled.") and reloads on a change;
//   2. devserve stops -> "[WDS] Disconnected!"; restarted on the same port -> the page reloads;
//   3. with --no-websocket the bundled sockjs-client falls back to xhr-streaming and still reloads.
//
// With DEVSERVE_HTTPS=1 the same runs over HTTPS (devserve --https, its certificate generated
// into a temporary cache folder; Chromium told to accept it): wss:// for the WebSocket, and
// xhr-streaming over HTTP/2 for the fallback.
//
//   DEVSERVE_BIN=target/debug/devserve node tests/node/wds3_client.mjs
import { chromium } from 'playwright-core';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHROMIUM, CHROMIUM_ARGS, createRunner, freePort, stopChild, waitFor as waitUntil } from './harness.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = process.env.DEVSERVE_BIN;
const BUNDLE = path.join(REPO, 'node_modules', 'webpack-dev-server-3', 'client', 'index.bundle.js');
const HTTPS = process.env.DEVSERVE_HTTPS === '1';
const SCHEME = HTTPS ? 'https' : 'http';
const CACHE = HTTPS ? fs.mkdtempSync(path.join(os.tmpdir(), 'devserve-cert-')) : null;


const waitFor = (what, check, ms = 10000) => waitUntil(what, check, ms, { every: 50 });

const children = [];

function startDevserve(root, port, extra = []) {
  const tls = HTTPS ? ['--https'] : [];
  const env = { ...process.env, NO_COLOR: '1', ...(HTTPS ? { XDG_CACHE_HOME: CACHE } : {}) };
  const child = spawn(BIN, [root, '--port', String(port), '--strict-port', '--no-inject', ...tls, ...extra],
    { stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  children.push(child);
  child.ready = waitFor('devserve to listen', () => out.includes('Local:'));
  child.output = () => out;
  return child;
}

const stop = stopChild;

let context;
let userDataDir;
let server;
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'devserve-wds3-'));
const r = createRunner(`webpack-dev-server 3 client over ${SCHEME}`, {
  overallMs: Number(process.env.SOCKJS_TEST_TIMEOUT_MS || 150000),
  onAbort: async () => { await Promise.all(children.map(stop)); if (context) await context.close(); },
});

await r.group('setup', async (t) => {
  t.ok(BIN && fs.existsSync(BIN), `devserve binary at ${BIN}`, 'set DEVSERVE_BIN');
  t.ok(fs.existsSync(BUNDLE) && fs.statSync(BUNDLE).size > 10000,
    'webpack-dev-server@3 client bundle installed (npm ci)');
  fs.copyFileSync(BUNDLE, path.join(root, 'wds-client.js'));
  fs.writeFileSync(path.join(root, 'index.html'),
    '<!doctype html><html><body><h1 id="v">one</h1><script src="/wds-client.js"></script></body></html>');
  userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'devserve-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM, headless: true, timeout: 60000,
    args: [...CHROMIUM_ARGS, ...(HTTPS ? ['--ignore-certificate-errors'] : [])],
  });
  t.ok(context, 'chromium launched');
}, 90000);

// window.marker, or "navigating" while the page is between documents.
async function marker(page) {
  try { return await page.evaluate(() => window.marker); } catch (e) { return 'navigating'; }
}

async function heading(page) {
  try { return await page.textContent('#v', { timeout: 1000 }); } catch (e) { return ''; }
}

async function setMarker(page, value) {
  await waitFor('the page to settle', async () => {
    try { await page.evaluate((v) => { window.marker = v; }, value); return true; } catch (e) { return false; }
  });
}

async function openPage(port) {
  const page = await context.newPage();
  const logs = [];
  const requests = [];
  page.on('console', (m) => logs.push(m.text()));
  page.on('request', (req) => requests.push(`${req.method()} ${new URL(req.url()).pathname}`));
  let loads = 0;
  page.on('load', () => { loads += 1; });
  await page.goto(`${SCHEME}://localhost:${port}/index.html`);
  if (HTTPS) {
    const protocol = await page.evaluate(() => performance.getEntriesByType('navigation')[0].nextHopProtocol);
    if (protocol !== 'h2') throw new Error(`the page loaded over ${protocol}, not HTTP/2`);
  }
  return { page, logs, requests, loads: () => loads };
}

await r.group('websocket: connect, reload on change, reconnect after restart', async (t) => {
  const port = await freePort();
  server = startDevserve(root, port);
  await server.ready;
  const p = await openPage(port);
  await waitFor('live reload to be enabled', () => p.logs.some((l) => l.includes('[WDS] Live Reloading enabled.')));
  t.ok(true, 'client connected: "[WDS] Live Reloading enabled."');
  await setMarker(p.page, 1);
  fs.writeFileSync(path.join(root, 'index.html'),
    '<!doctype html><html><body><h1 id="v">two</h1><script src="/wds-client.js"></script></body></html>');
  await waitFor('the page to reload', async () => (await marker(p.page)) === undefined
    && (await heading(p.page)) === 'two');
  t.ok(true, 'a file change reloaded the page with the new content');
  t.ok(!p.requests.some((q) => q.includes('xhr_streaming')), 'used websocket (no xhr_streaming requests)');

  await setMarker(p.page, 2);
  await stop(server);
  await waitFor('the client to notice', () => p.logs.some((l) => l.includes('[WDS] Disconnected!')));
  t.ok(true, 'server stopped: "[WDS] Disconnected!"');
  server = startDevserve(root, port);
  await server.ready;
  const seen = p.requests.length;
  try {
    await waitFor('a reload after reconnecting', async () => (await marker(p.page)) === undefined, 20000);
  } catch (e) {
    // Say what the client and the server did meanwhile, so a failure here can be told apart:
    // no retry at all, retries refused, or a connection that never got its `ok`.
    const requests = p.requests.slice(seen).join(', ') || 'none';
    throw new Error(`${e.message}; requests since the restart: ${requests}; last console lines: `
      + `${p.logs.slice(-6).join(' | ')}; server: ${server.output().slice(-400)}`);
  }
  t.ok(true, 'server restarted on the same port: the client reconnected and reloaded');
  await p.page.close();
  await stop(server);
}, 60000);

await r.group('no websocket: falls back to xhr-streaming and still reloads', async (t) => {
  const port = await freePort();
  server = startDevserve(root, port, ['--no-websocket']);
  await server.ready;
  const p = await openPage(port);
  await waitFor('live reload to be enabled', () => p.logs.some((l) => l.includes('[WDS] Live Reloading enabled.')));
  t.ok(p.requests.some((q) => q.startsWith('POST') && q.endsWith('/xhr_streaming')), 'connected over xhr-streaming',
    p.requests.join(', '));
  await setMarker(p.page, 3);
  fs.writeFileSync(path.join(root, 'index.html'),
    '<!doctype html><html><body><h1 id="v">three</h1><script src="/wds-client.js"></script></body></html>');
  await waitFor('the page to reload', async () => (await marker(p.page)) === undefined
    && (await heading(p.page)) === 'three');
  t.ok(true, 'a file change reloaded the page over xhr-streaming');
  await p.page.close();
  await stop(server);
}, 45000);

await r.finish(async () => {
  // Every devserve this script started, also ones a failed group left behind.
  await Promise.all(children.map(stop));
  if (context) await context.close();
  fs.rmSync(root, { recursive: true, force: true });
  if (CACHE) fs.rmSync(CACHE, { recursive: true, force: true });
  if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
});
