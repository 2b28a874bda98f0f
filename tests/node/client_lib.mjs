// Shared helpers for the browser-client scenarios (client_browser.mjs). Not a test by itself.
//
// - `command(name, args)`: asks the Rust test driving this script to act on the server. It
//   prints "@@ <name> <args as JSON>" on stdout and resolves with the text of the "@@ done <reply>" line the driver
//   writes to stdin (see tests/browser_client.rs).
// - Chromium (Debian's /usr/bin/chromium, never downloaded) via playwright-core, a fresh
//   profile per run, and pages that record navigations, console lines, page errors and dialogs.
// - `until(what, fn, ms)`: polls with a deadline; never a fixed sleep as an assertion.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { chromium } from 'playwright-core';

import { CHROMIUM, CHROMIUM_ARGS as ARGS } from './harness.mjs';

export { CHROMIUM, ARGS };

// ---- the command channel to the Rust driver
const replies = [];
const waiting = [];
readline.createInterface({ input: process.stdin }).on('line', (line) => {
  if (!line.startsWith('@@ done')) return;
  const reply = line.slice('@@ done'.length).trim();
  const w = waiting.shift();
  if (w) w(reply); else replies.push(reply);
});

export function command(name, args) {
  process.stdout.write(`@@ ${name}${args === undefined ? '' : ` ${JSON.stringify(args)}`}\n`);
  if (replies.length) return Promise.resolve(replies.shift());
  return new Promise((resolve) => waiting.push(resolve));
}

export const json = (value) => JSON.stringify(value);

// ---- polling
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Calls fn() until it returns a truthy value (which is returned) or `ms` pass. Errors thrown by
// fn (e.g. "Execution context was destroyed" during a navigation) count as "not yet".
export async function until(what, fn, ms = 10000, every = 25) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (e) {
      last = e && e.message ? e.message.split('\n')[0] : String(e);
    }
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what} (last: ${JSON.stringify(last)})`);
    await sleep(every);
  }
}

// ---- browser
let context = null;
let userDataDir = null;

export async function launch() {
  userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'devserve-client-'));
  // launchPersistentContext passes --user-data-dir=<fresh temp dir> itself.
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM, headless: true, timeout: 60000, args: ARGS,
  });
  return context;
}

export async function closeBrowser() {
  const c = context;
  context = null;
  if (c) await Promise.race([c.close().catch(() => {}), sleep(10000)]);
  if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
}

// A page with logs: navigations of the main frame, console lines, page errors, dialogs.
export async function newPage() {
  const page = context.pages()[0] || await context.newPage();
  const log = { navigations: [], console: [], errors: [], dialogs: [] };
  page.on('framenavigated', (f) => { if (f === page.mainFrame()) log.navigations.push({ t: Date.now(), url: f.url() }); });
  page.on('console', (m) => log.console.push({ type: m.type(), text: m.text() }));
  page.on('pageerror', (e) => log.errors.push(e.message));
  page.on('dialog', (d) => { log.dialogs.push(d.message()); d.dismiss().catch(() => {}); });
  return { page, log };
}

// ---- the client's surface in the page
export const state = (page) => page.evaluate(() => window.devserve && {
  state: devserve.state, transport: devserve.transport, hash: devserve.hash,
  heartbeat: devserve.heartbeat, heartbeats: devserve.heartbeats, events: devserve.events,
  marker: window.marker, href: location.href,
});

export async function waitOpen(page, ms = 15000) {
  return until('the client to connect', async () => {
    const s = await state(page);
    return s && s.state === 'open' && s.hash ? s : null;
  }, ms);
}

// Resolves once the page has navigated past `count` main-frame navigations and the client of the
// new document is connected.
export async function waitReload(page, log, count, ms = 15000) {
  await until('the page to reload', () => log.navigations.length > count, ms);
  return waitOpen(page, ms);
}

export const devserveLines = (log) => log.console.filter((m) => m.text.startsWith('[devserve]'));

// The overlay as the page shows it (null when hidden).
export const overlay = (page) => page.evaluate(() => {
  const host = document.querySelector('devserve-ui');
  const ov = host && host.shadowRoot.querySelector('.ov');
  if (!ov || ov.hidden) return null;
  const r = ov.getBoundingClientRect();
  return {
    kind: ov.classList.contains('errors') ? 'errors' : 'warnings',
    title: ov.querySelector('.title').textContent,
    messages: [...ov.querySelectorAll('pre')].map((p) => p.textContent),
    covers: r.width >= innerWidth - 1 && r.height >= innerHeight - 1,
    onTop: document.elementFromPoint(innerWidth / 2, innerHeight / 2) === host,
    imgs: host.shadowRoot.querySelectorAll('img').length + document.querySelectorAll('img').length,
  };
});
