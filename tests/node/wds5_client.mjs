// webpack-dev-server 5's own client against devserve on a static site, in headless Chromium:
// the client (bundled from the npm package by tests/fixtures/wds5-static) connects to /ws.
// This script runs devserve itself (DEVSERVE_BIN) so it can stop and restart it, with
// --no-inject so every reload is the wds 5 client's own doing. For each transport
// (WDS5_TRANSPORTS, default "ws,sockjs"):
//   1. two tabs connect and both reload once on a change (static-changed);
//   2. devserve stops -> "Disconnected!"; restarted on the same port -> the client
//      reconnects, and the next change reloads the page again.
//
//   DEVSERVE_BIN=target/debug/devserve node tests/node/wds5_client.mjs
import { chromium } from 'playwright-core';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHROMIUM, CHROMIUM_ARGS, createRunner, freePort, stopChild, waitFor as waitUntil } from './harness.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = process.env.DEVSERVE_BIN;
const WEBPACK = path.join(REPO, 'node_modules', '.bin', 'webpack');
const CONFIG = path.join(REPO, 'tests', 'fixtures', 'wds5-static', 'webpack.config.js');
const TRANSPORTS = (process.env.WDS5_TRANSPORTS || 'ws,sockjs').split(',');


const waitFor = (what, check, ms = 15000) => waitUntil(what, check, ms);

const children = [];

function startDevserve(root, port) {
  const child = spawn(BIN, [root, '--port', String(port), '--strict-port', '--no-inject'],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  children.push(child);
  child.ready = waitFor('devserve to listen', () => out.includes('Local:'));
  return child;
}

const stop = stopChild;

function page(heading) {
  return `<!doctype html><html><body><h1 id="v">${heading}</h1><script src="/wds-client.js"></script></body></html>`;
}

async function marker(p) {
  try { return await p.evaluate(() => window.marker); } catch (e) { return 'navigating'; }
}

async function heading(p) {
  try { return await p.textContent('#v', { timeout: 1000 }); } catch (e) { return ''; }
}

async function setMarker(p, value) {
  await waitFor('the page to settle', async () => {
    try { await p.evaluate((v) => { window.marker = v; }, value); return true; } catch (e) { return false; }
  });
}

let context;
let userDataDir;
const roots = [];
const r = createRunner('webpack-dev-server 5 client', {
  overallMs: Number(process.env.WDS5_TEST_TIMEOUT_MS || 180000),
  onAbort: async () => { await Promise.all(children.map(stop)); if (context) await context.close(); },
});

await r.group('setup', async (t) => {
  t.ok(BIN && fs.existsSync(BIN), `devserve binary at ${BIN}`, 'set DEVSERVE_BIN');
  t.ok(fs.existsSync(WEBPACK), 'webpack installed', 'run npm ci');
  userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'devserve-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM, headless: true, timeout: 60000,
    args: CHROMIUM_ARGS,
  });
  t.ok(context, 'chromium launched');
}, 90000);

async function openTab(port) {
  const p = await context.newPage();
  // greetings: frames carrying the connect sequence's `overlay` message. Once one arrives the
  // server has joined this client, so a change made after it reaches the client.
  const tab = { page: p, logs: [], sockets: [], loads: 0, greetings: 0 };
  p.on('console', (m) => tab.logs.push(m.text()));
  p.on('load', () => { tab.loads += 1; });
  p.on('websocket', (ws) => {
    tab.sockets.push(new URL(ws.url()).pathname);
    ws.on('framereceived', (f) => {
      if (typeof f.payload === 'string' && f.payload.includes('overlay')) tab.greetings += 1;
    });
  });
  p.on('request', (q) => { const u = new URL(q.url()).pathname; if (u.startsWith('/ws/')) tab.sockets.push(u); });
  await p.goto(`http://localhost:${port}/index.html`);
  return tab;
}

for (const transport of TRANSPORTS) {
  await r.group(`${transport}: two tabs reload on change, reconnect after a restart`, async (t) => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'devserve-wds5-'));
    roots.push(root);
    execFileSync(WEBPACK, ['--config', CONFIG], { env: { ...process.env, WDS5_OUT: root, WDS5_TRANSPORT: transport }, stdio: 'pipe' });
    fs.writeFileSync(path.join(root, 'index.html'), page('one'));
    const port = await freePort();
    let server = startDevserve(root, port);
    await server.ready;
    const tabs = [await openTab(port), await openTab(port)];
    for (const tab of tabs) {
      await waitFor('the client to connect', () => tab.greetings > 0
        && tab.sockets.some((s) => s === '/ws' || s.startsWith('/ws/')));
      await setMarker(tab.page, 1);
    }
    const used = tabs[0].sockets.some((s) => (transport === 'ws' ? s === '/ws' : s.startsWith('/ws/')));
    t.ok(used, `connected over ${transport} at /ws`, tabs[0].sockets.join(', '));
    const loadsBefore = tabs.map((tab) => tab.loads);
    fs.writeFileSync(path.join(root, 'index.html'), page('two'));
    for (const tab of tabs) {
      await waitFor('the tab to reload', async () => (await marker(tab.page)) === undefined
        && (await heading(tab.page)) === 'two');
    }
    t.ok(tabs.every((tab) => tab.logs.some((l) => l.includes('from static directory was changed. Reloading...'))),
      'both tabs heard static-changed and reloaded with the new content');
    await setMarker(tabs[0].page, 2);
    const reloads = tabs.map((tab, i) => tab.loads - loadsBefore[i]);
    t.ok(reloads.every((n) => n === 1), 'one reload per tab',
      `reloads ${reloads}`);

    const tab = tabs[0];
    await tabs[1].page.close();
    const connectsBefore = tab.logs.filter((l) => l.includes('Trying to reconnect')).length;
    await stop(server);
    await waitFor('the client to notice', () => tab.logs.some((l) => l.includes('[webpack-dev-server] Disconnected!')));
    t.ok(true, 'server stopped: "Disconnected!"');
    server = startDevserve(root, port);
    await server.ready;
    const socketsBefore = tab.sockets.length;
    const greetingsBefore = tab.greetings;
    await waitFor('the client to reconnect', () => tab.sockets.length > socketsBefore
      && tab.greetings > greetingsBefore
      && tab.logs.filter((l) => l.includes('Trying to reconnect')).length > connectsBefore, 20000);
    t.ok(await marker(tab.page) === 2, 'reconnected to the restarted server without reloading (same build)');
    fs.writeFileSync(path.join(root, 'index.html'), page('three'));
    await waitFor('a reload after the restart', async () => (await marker(tab.page)) === undefined
      && (await heading(tab.page)) === 'three', 20000);
    t.ok(true, 'a change after the restart reloads the page');
    await tab.page.close();
    await stop(server);
  }, 75000);
}

await r.finish(async () => {
  await Promise.all(children.map(stop));
  if (context) await context.close();
  for (const root of roots) fs.rmSync(root, { recursive: true, force: true });
  if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
});
