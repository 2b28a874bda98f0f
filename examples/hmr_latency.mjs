// Edit -> DOM updated latency of hot module replacement, devserve beside webpack-dev-server,
// on the same webpack 5 project (tests/fixtures/hmr) in the same run. A measurement, not a test.
//
//   cargo build --release && DEVSERVE_BIN=target/release/devserve node examples/hmr_latency.mjs [edits]
//
// devserve: `webpack --watch` writes dist/, `devserve dist --hot` serves it.
// webpack-dev-server: `webpack serve` (hot, in-memory) on the same config.
// Each edit rewrites src/label.js; the page records when #label's text changes (MutationObserver,
// Date.now() on the same machine clock as the write).
import { chromium } from 'playwright-core';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import net from 'node:net';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = process.env.DEVSERVE_BIN || path.join(REPO, 'target', 'release', 'devserve');
const WEBPACK = path.join(REPO, 'node_modules', '.bin', 'webpack');
const EDITS = Number(process.argv[2] || 10);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => resolve(port)); });
  });
}

async function until(check, ms = 30000) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(10);
  }
}

function run(cmd, args, env) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', ...env } });
  child.out = '';
  child.stdout.on('data', (d) => { child.out += d; });
  child.stderr.on('data', (d) => { child.out += d; });
  return child;
}

function project() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'devserve-hmr-latency-'));
  fs.cpSync(path.join(REPO, 'tests', 'fixtures', 'hmr'), dir, { recursive: true });
  fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(dir, 'node_modules'));
  fs.mkdirSync(path.join(dir, 'dist'));
  fs.copyFileSync(path.join(dir, 'index.html'), path.join(dir, 'dist', 'index.html'));
  return dir;
}

async function measure(context, url, dir) {
  const page = await context.newPage();
  let navigations = 0;
  page.on('framenavigated', (f) => { if (f === page.mainFrame()) navigations += 1; });
  await page.goto(url);
  await until(async () => (await page.evaluate(() => !!document.getElementById('label'))));
  await page.evaluate(() => {
    window.changedAt = 0;
    new MutationObserver(() => { window.changedAt = Date.now(); })
      .observe(document.getElementById('label'), { childList: true, characterData: true, subtree: true });
  });
  const loaded = navigations;
  const times = [];
  for (let i = 0; i < EDITS; i += 1) {
    await page.evaluate(() => { window.changedAt = 0; });
    const label = `label edit ${i}`;
    const at = Date.now();
    fs.writeFileSync(path.join(dir, 'src', 'label.js'), `export function label() {\n  return '${label}';\n}\n`);
    await until(async () => (await page.evaluate(() => window.changedAt)) > 0);
    times.push((await page.evaluate(() => window.changedAt)) - at);
    await sleep(300); // let the watchers go quiet between edits (a measurement, not a test)
  }
  await page.close();
  if (navigations !== loaded) throw new Error('the page navigated: not an in-place update');
  return times;
}

function summary(name, times) {
  const sorted = [...times].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  console.log(`${name.padEnd(20)} median ${median} ms  min ${sorted[0]} ms  max ${sorted[sorted.length - 1]} ms  (n=${times.length})`);
}

const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'devserve-chromium-'));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium', headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const results = {};
try {
  {
    const dir = project();
    const dist = path.join(dir, 'dist');
    const webpack = run(WEBPACK, ['--watch', '--config', path.join(dir, 'webpack.config.js')], { HMR_OUT: dist });
    await until(() => fs.existsSync(path.join(dist, 'stats.json')), 60000);
    const port = await freePort();
    const server = run(BIN, [dist, '--hot', '--port', String(port), '--strict-port']);
    await until(() => server.out.includes('Local:'));
    results.devserve = await measure(context, `http://localhost:${port}/index.html`, dir);
    server.kill('SIGINT');
    webpack.kill('SIGINT');
    fs.rmSync(dir, { recursive: true, force: true });
  }
  {
    const dir = project();
    const port = await freePort();
    const serve = run(WEBPACK, ['serve', '--config', path.join(dir, 'webpack.config.js'), '--port', String(port), '--no-client'],
      { HMR_OUT: path.join(dir, 'dist') });
    await until(() => serve.out.includes('compiled'), 60000);
    results['webpack serve --hot'] = await measure(context, `http://localhost:${port}/index.html`, dir);
    serve.kill('SIGINT');
    fs.rmSync(dir, { recursive: true, force: true });
  }
} finally {
  await context.close();
  fs.rmSync(userDataDir, { recursive: true, force: true });
}
for (const [name, times] of Object.entries(results)) summary(name, times);
