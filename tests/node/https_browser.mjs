// devserve over HTTPS in headless Chromium: the page loads over HTTP/2 (ALPN), devserve's own
// injected client connects over wss:// and reloads on a change, and npm's sockjs-client reaches
// /sockjs-node over xhr-streaming on the same HTTP/2 connection.
//
// This script runs devserve itself (DEVSERVE_BIN) with --https; the certificate is generated into
// a temporary cache folder and Chromium is told to accept it.
//
//   DEVSERVE_BIN=target/debug/devserve node tests/node/https_browser.mjs
import { chromium } from 'playwright-core';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHROMIUM, CHROMIUM_ARGS, createRunner, freePort, sleep, waitFor as waitUntil } from './harness.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = process.env.DEVSERVE_BIN;
const SOCKJS = path.join(REPO, 'node_modules', 'sockjs-client', 'dist', 'sockjs.min.js');
const page = (v) => `<!doctype html><html><head><link rel="icon" href="data:,"></head><body><h1 id="v">${v}</h1></body></html>`;

const waitFor = (what, check, ms = 15000) => waitUntil(what, check, ms, { tolerateErrors: true });


const root = fs.mkdtempSync(path.join(os.tmpdir(), 'devserve-https-'));
const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'devserve-cert-'));
const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'devserve-chromium-'));
let devserve;
let context;

async function cleanUp() {
  if (context) await Promise.race([context.close().catch(() => {}), sleep(10000)]);
  if (devserve && devserve.exitCode === null) {
    const exited = new Promise((r) => devserve.once('exit', r));
    devserve.kill('SIGINT');
    await Promise.race([exited, sleep(5000)]);
  }
  for (const dir of [root, cache, userDataDir]) fs.rmSync(dir, { recursive: true, force: true });
}

const r = createRunner('devserve over HTTPS and HTTP/2', { overallMs: 120000, onAbort: cleanUp });

let port;
await r.group('setup', async (t) => {
  t.ok(BIN && fs.existsSync(BIN), `devserve binary at ${BIN}`, 'set DEVSERVE_BIN');
  fs.writeFileSync(path.join(root, 'index.html'), page('one'));
  port = await freePort();
  devserve = spawn(BIN, [root, '--port', String(port), '--strict-port', '--https'],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', XDG_CACHE_HOME: cache } });
  let out = '';
  devserve.stdout.on('data', (d) => { out += d; });
  devserve.stderr.on('data', (d) => { out += d; });
  await waitFor('devserve to listen', () => out.includes('Local:'));
  t.ok(out.includes(`https://localhost:${port}/`), 'the banner shows the https URL', out);
  t.ok(out.includes(path.join(cache, 'devserve')), 'the banner says where the certificate is', out);
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM, headless: true, timeout: 60000,
    args: [...CHROMIUM_ARGS, '--ignore-certificate-errors'],
  });
  t.ok(context, 'chromium launched');
}, 90000);

await r.group("devserve's client over wss://", async (t) => {
  const p = await context.newPage();
  const errors = [];
  p.on('pageerror', (e) => errors.push(e.message));
  await p.goto(`https://localhost:${port}/`);
  const protocol = await p.evaluate(() => performance.getEntriesByType('navigation')[0].nextHopProtocol);
  t.eq(protocol, 'h2', 'the page loaded over HTTP/2');
  const s = await waitFor('the client to connect', () => p.evaluate(() => window.devserve
    && devserve.state === 'open' && { transport: devserve.transport, scheme: location.protocol }));
  t.eq(s.transport, 'websocket', 'connected over WebSocket');
  t.eq(s.scheme, 'https:', 'from an https page, so over wss://');
  await p.evaluate(() => { window.marker = 1; });
  fs.writeFileSync(path.join(root, 'index.html'), page('two'));
  await waitFor('the page to reload', async () => (await p.evaluate(() => window.marker)) === undefined
    && (await p.textContent('#v')) === 'two');
  t.ok(true, 'a file change reloaded the page over wss://');
  t.eq(JSON.stringify(errors), '[]', 'no page errors');
  await p.close();
}, 40000);

await r.group('sockjs-client over xhr-streaming through HTTP/2', async (t) => {
  const p = await context.newPage();
  await p.goto(`https://localhost:${port}/`);
  await p.addScriptTag({ path: SOCKJS });
  const got = await p.evaluate(() => new Promise((resolve, reject) => {
    const sock = new SockJS(`${location.origin}/sockjs-node`, null, { transports: ['xhr-streaming'] });
    const seen = [];
    const timer = setTimeout(() => reject(new Error(`no ok, saw ${JSON.stringify(seen)}`)), 10000);
    sock.onmessage = (e) => {
      const type = JSON.parse(e.data).type;
      seen.push(type);
      if (type === 'ok') { clearTimeout(timer); const tr = sock.transport; sock.close(); resolve({ seen, tr }); }
    };
  }));
  t.eq(got.tr, 'xhr-streaming', 'the transport was xhr-streaming');
  t.ok(got.seen.includes('hash') && got.seen.includes('liveReload'), 'the greeting arrived', got.seen.join(','));
  const h2 = await p.evaluate(() => performance.getEntriesByType('resource')
    .filter((e) => e.name.includes('/sockjs-node/info')).map((e) => e.nextHopProtocol));
  t.ok(h2.length > 0 && h2.every((p) => p === 'h2'), 'sockjs-client talked to devserve over HTTP/2',
    JSON.stringify(h2));
  await p.close();
}, 30000);

await r.finish(cleanUp);
