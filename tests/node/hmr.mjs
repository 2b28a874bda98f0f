// Real hot module replacement: a webpack 5 project (tests/fixtures/hmr) built by
// `webpack --watch` into a temp folder, served by `devserve <dist> --hot` (client
// injection left on), in headless Chromium, with webpack-dev-server 5's client over
// each transport (HMR_TRANSPORTS, default "ws,sockjs"). A counter is clicked to 3, then:
//   1. an accepted module is edited -> the DOM changes, the counter stays 3, no navigation;
//   2. the CSS is edited -> the computed style changes, no navigation;
//   3. a syntax error -> the overlay shows, no navigation; fixed -> applied in place;
//   4. the entry module is edited -> exactly one full reload.
// Waits are on observable page state only (polled), never fixed sleeps.
//
//   DEVSERVE_BIN=target/debug/devserve node tests/node/hmr.mjs
import { chromium } from 'playwright-core';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHROMIUM, CHROMIUM_ARGS, createRunner, freePort, stopChild, waitFor as waitUntil } from './harness.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = process.env.DEVSERVE_BIN;
const FIXTURE = path.join(REPO, 'tests', 'fixtures', 'hmr');
const WEBPACK = path.join(REPO, 'node_modules', '.bin', 'webpack');
const TRANSPORTS = (process.env.HMR_TRANSPORTS || 'ws,sockjs').split(',');


const waitFor = (what, check, ms = 20000) => waitUntil(what, check, ms);

const children = [];

function run(cmd, args, env = {}) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', ...env } });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  child.output = () => out;
  children.push(child);
  return child;
}

const stop = stopChild;

// A copy of the fixture project in a temp folder; dist/ starts with the page.
function project() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'devserve-hmr-'));
  fs.cpSync(FIXTURE, dir, { recursive: true });
  fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(dir, 'node_modules'));
  fs.mkdirSync(path.join(dir, 'dist'));
  fs.copyFileSync(path.join(dir, 'index.html'), path.join(dir, 'dist', 'index.html'));
  return dir;
}

function edit(dir, file, from, to) {
  const p = path.join(dir, file);
  const text = fs.readFileSync(p, 'utf8');
  if (!text.includes(from)) throw new Error(`${file} has no ${from}`);
  fs.writeFileSync(p, text.replace(from, to));
}

async function text(page, selector) {
  try { return await page.textContent(selector, { timeout: 500 }); } catch (e) { return null; }
}

async function evaluate(page, fn, arg) {
  try { return await page.evaluate(fn, arg); } catch (e) { return undefined; }
}

let context;
let userDataDir;
const dirs = [];
const r = createRunner('hot module replacement with webpack --watch', {
  overallMs: Number(process.env.HMR_TEST_TIMEOUT_MS || 240000),
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

for (const transport of TRANSPORTS) {
  await r.group(`wds 5 client over ${transport === 'ws' ? 'WebSocket at /ws' : 'SockJS at /ws'}`, async (t) => {
    const dir = project();
    dirs.push(dir);
    const dist = path.join(dir, 'dist');
    const webpack = run(WEBPACK, ['--watch', '--config', path.join(dir, 'webpack.config.js')],
      { HMR_OUT: dist, HMR_TRANSPORT: transport });
    await waitFor('the first build', () => fs.existsSync(path.join(dist, 'stats.json')), 60000);
    const port = await freePort();
    const server = run(BIN, [dist, '--hot', '--port', String(port), '--strict-port']);
    await waitFor('devserve to listen', () => server.output().includes('Local:'));

    const page = await context.newPage();
    const logs = [];
    const requests = [];
    page.on('console', (m) => logs.push(m.text()));
    page.on('request', (q) => requests.push(new URL(q.url()).pathname));
    page.on('websocket', (w) => requests.push(new URL(w.url()).pathname));
    let navigations = 0;
    page.on('framenavigated', (f) => { if (f === page.mainFrame()) navigations += 1; });
    await page.goto(`http://localhost:${port}/index.html`);
    await waitFor('the app', async () => (await text(page, '#count')) === '0');
    await waitFor('the wds 5 client to connect', () => logs.some((l) => l.includes('Hot Module Replacement enabled')));
    for (let i = 0; i < 3; i += 1) await page.click('#count');
    t.ok((await text(page, '#count')) === '3', 'counter clicked to 3');
    const loaded = navigations;

    edit(dir, 'src/label.js', 'label one', 'label two');
    await waitFor('the label to update', async () => (await text(page, '#label')) === 'label two');
    t.ok((await text(page, '#count')) === '3' && navigations === loaded,
      '1. accepted module edited: DOM updated in place, counter still 3, no navigation');

    const color = () => evaluate(page, () => getComputedStyle(document.getElementById('label')).color);
    edit(dir, 'src/style.css', 'rgb(255, 0, 0)', 'rgb(0, 0, 255)');
    await waitFor('the style to change', async () => (await color()) === 'rgb(0, 0, 255)');
    t.ok((await text(page, '#count')) === '3' && navigations === loaded,
      '2. CSS edited: computed style changed, no navigation', logs.slice(-15).join('\n'));

    const overlay = () => evaluate(page, () => !!document.getElementById('webpack-dev-server-client-overlay'));
    edit(dir, 'src/label.js', "return 'label two';", "return 'label two' +;");
    await waitFor('the overlay', overlay);
    t.ok(navigations === loaded, '3. syntax error: overlay shown, no navigation', logs.slice(-15).join('\n'));
    edit(dir, 'src/label.js', "return 'label two' +;", "return 'label three';");
    await waitFor('the fix to apply', async () => (await text(page, '#label')) === 'label three');
    t.ok((await text(page, '#count')) === '3' && navigations === loaded,
      '3. fixed: update applied in place, counter still 3, no navigation', logs.slice(-12).join('\n'));
    await waitFor('the overlay to go', async () => (await overlay()) === false);

    edit(dir, 'src/index.js', 'let count = 0;', 'let count = 10;');
    await waitFor('a full reload', async () => (await text(page, '#count')) === '10');
    t.ok(navigations === loaded + 1, '4. entry module edited: one full reload', `navigations ${navigations - loaded}`);
    edit(dir, 'src/label.js', 'label three', 'label four');
    await waitFor('a later update', async () => (await text(page, '#label')) === 'label four');
    t.ok(navigations === loaded + 1 && (await text(page, '#count')) === '10',
      'and only one: a later accepted edit still applies in place');
    const socket = transport === 'ws' ? requests.includes('/ws') : requests.some((q) => q.startsWith('/ws/'));
    t.ok(socket, `the client used ${transport} at /ws`);
    await page.close();
    await stop(server);
    await stop(webpack);
  }, 120000);
}

await r.finish(async () => {
  await Promise.all(children.map(stop));
  if (context) await context.close();
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
});
