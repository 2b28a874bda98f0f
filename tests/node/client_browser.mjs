// devserve's browser client (client/client.js) in headless Chromium, one scenario per run:
//   node tests/node/client_browser.mjs <scenario>
// Driven by tests/browser_client.rs, which starts devserve (and, for some scenarios, nginx or a
// freezable TCP proxy), sets DEVSERVE_URL to the origin the page is loaded from, and answers the
// "@@ <command>" lines this script prints (see client_lib.mjs). Prints one "ok - …" /
// "not ok - …" line per check; exits 0 only if every check passed.
//
// Scenarios: connect, css, overlay, restart, no-websocket, proxy, backoff, heartbeat, many-errors,
// editor, runtime, runtime-off, missing, example. With DEVSERVE_SCREENSHOTS=<dir>, some scenarios
// also save screenshots there (for a human look; the checks are on the DOM).

import path from 'node:path';
import { createRunner } from './harness.mjs';
import {
  closeBrowser, command, devserveLines, json, launch, newPage, overlay, state, until, waitOpen,
  waitReload,
} from './client_lib.mjs';

const BASE = (process.env.DEVSERVE_URL || '').replace(/\/+$/, '');
const SCENARIO = process.argv[2];
if (!BASE || !SCENARIO) {
  console.error('usage: DEVSERVE_URL=http://127.0.0.1:PORT node tests/node/client_browser.mjs <scenario>');
  process.exit(2);
}

const r = createRunner(`client ${SCENARIO}`, { overallMs: 100000, onAbort: closeBrowser });

const colour = (page, sel) => page.evaluate((s) => getComputedStyle(document.querySelector(s)).color, sel);
const count = (events, type) => events.filter((e) => e.type === type).length;

// A page of the fixture site, connected, with window.marker = 1 (gone after a reload).
async function open(t, urlPath) {
  const { page, log } = await newPage();
  await page.goto(BASE + urlPath, { timeout: 15000 });
  const s = await waitOpen(page);
  await page.evaluate(() => { window.marker = 1; });
  return { page, log, s };
}

const overlayBits = (page) => page.evaluate(() => {
  const r = document.querySelector('devserve-ui').shadowRoot;
  return { hint: r.querySelector('.hint').textContent, more: [...r.querySelectorAll('.more')].map((m) => m.textContent),
    links: [...r.querySelectorAll('pre a.loc')].map((a) => a.textContent) };
});
const screenshot = async (page, name) => {
  if (process.env.DEVSERVE_SCREENSHOTS) await page.screenshot({ path: path.join(process.env.DEVSERVE_SCREENSHOTS, `${name}.png`) });
};
// The `type` events recorded by the client since `from`.
const eventsOf = async (page, type) => (await state(page)).events.filter((e) => e.type === type);

const scenarios = {
  // 1. Connects over WebSocket, stays quiet, survives pages without </body>; a change reloads.
  async connect(t) {
    const { page, log, s } = await open(t, '/');
    t.eq(s.transport, 'websocket', 'transport');
    t.eq(s.heartbeat, 25000, 'heartbeat interval announced by the server');
    const globals = await page.evaluate(() => {
      const frame = document.createElement('iframe');
      document.body.appendChild(frame);
      const fresh = new Set(Object.getOwnPropertyNames(frame.contentWindow));
      frame.remove();
      return Object.getOwnPropertyNames(window).filter((n) => !fresh.has(n) && n !== 'marker');
    });
    t.eq(json(globals), json(['devserve']), 'one global');
    t.eq(await page.evaluate(() => document.querySelectorAll('devserve-ui').length), 0, 'no UI while all is well');
    const before = log.navigations.length;
    await command('edit', ['index.html', '>v1<', '>v2<']);
    await waitReload(page, log, before);
    t.eq(await page.textContent('#version'), 'v2', 'a file change reloads the page with the new content');
    t.eq(await page.evaluate(() => window.marker), undefined, 'it was a real reload');
    t.eq(json(devserveLines(log).map((m) => m.text)), json(['[devserve] Reloading: /index.html changed.']),
      'the only console line is the reload notice');
    t.eq(json(log.console.filter((m) => m.type === 'error' || m.type === 'warning')), '[]', 'no console errors or warnings');

    for (const p of ['/nobody.html', '/headonly.html']) {
      await page.goto(BASE + p);
      const o = await waitOpen(page);
      t.eq(o.transport, 'websocket', `${p} (no </body>) connects`);
    }
    t.eq(await page.evaluate(() => document.body && document.body.textContent.trim()), '', 'head-only page intact');
    t.eq(json(log.errors), '[]', 'no page errors');
  },

  // 2. CSS changes are swapped in place: state kept, no navigation; also through @import.
  async css(t) {
    const { page, log } = await open(t, '/');
    await page.fill('#name', 'typed');
    const navs = log.navigations.length;
    const swapped = async (file, css, sel, want, what) => {
      const updates = count((await state(page)).events, 'update');
      await command('write', [file, css]);
      await until(`${what}: colour of ${sel}`, async () => (await colour(page, sel)) === want);
      // The ok that follows the swap is processed (an update event) and does not reload.
      const s = await until(`${what}: the ok after the swap`, async () => {
        const st = await state(page);
        const u = st.events.filter((e) => e.type === 'update').slice(updates);
        return u.some((e) => e.kind === 'ok') ? st : null;
      });
      const u = s.events.filter((e) => e.type === 'update').slice(updates).map((e) => `${e.kind}:${e.action}`);
      // (An editor's save may arrive as more than one change set: each is swapped the same way.)
      t.ok(u[0] === 'content-changed:css' && u.includes('ok:none') &&
        u.every((x) => x === 'content-changed:css' || x === 'ok:none'), `${what}: swapped, then ok without reload`, json(u));
      t.ok(s.marker === 1 && log.navigations.length === navs && await page.inputValue('#name') === 'typed',
        `${what}: page state kept (marker, typed input, no navigation)`, json({ m: s.marker, navs: log.navigations.length }));
    };
    await swapped('css/site.css', '#a { color: rgb(10, 20, 30) }', '#a', 'rgb(10, 20, 30)', '<link> stylesheet');
    t.eq(await page.evaluate(() => document.querySelectorAll('link[href*="site.css"]').length), 1,
      'the old <link> is removed once the new one loaded');
    await swapped('css/nested.css', '#c { color: rgb(70, 80, 90) }', '#c', 'rgb(70, 80, 90)', '@import inside an @import');
    await swapped('css/imported.css', '@import "nested.css";\n#b { color: rgb(40, 50, 60) }', '#b', 'rgb(40, 50, 60)',
      '@import in a <link>');
    t.eq(await colour(page, '#c'), 'rgb(70, 80, 90)', 'its own @import keeps the updated content');
    await swapped('css/inline.css', '#d { color: rgb(11, 22, 33) }', '#d', 'rgb(11, 22, 33)', '@import in a <style>');
    await swapped('css/site.css', '#a { color: rgb(12, 34, 56) }', '#a', 'rgb(12, 34, 56)', 'second change of the same file');
    await swapped('css/main.css', '@import "imported.css";\n#e { color: rgb(99, 88, 77) }', '#e', 'rgb(99, 88, 77)',
      'the importing <link> itself');
    t.eq(json([await colour(page, '#b'), await colour(page, '#c')]), json(['rgb(40, 50, 60)', 'rgb(70, 80, 90)']),
      'its @imports keep the updated content (no stale cache)');
    t.eq(json(devserveLines(log).filter((m) => !m.text.startsWith('[devserve] Updated /css/'))), '[]', 'only "Updated" lines');

    await command('write', ['css/unused.css', '#a { color: red }']);
    await waitReload(page, log, navs);
    t.eq(await page.evaluate(() => window.marker), undefined, 'a stylesheet the page does not use reloads');
    t.eq(json(log.errors), '[]', 'no page errors');
  },

  // 3. The overlay: escaped text, every message, ANSI colours, dismissal, isolation from page CSS.
  async overlay(t) {
    const { page, log } = await open(t, '/hostile.html');
    const payload = '<img src=x onerror="window.__pwned=1;alert(1)"> in ./src/app.js';
    const ansiText = 'plain \u001b[31mred\u001b[39m \u001b[1mbold\u001b[22m \u001b[92mbright\u001b[0m \u001b[38;5;196mx256\u001b[0m \u001b[2Kend';
    const errors = [payload, ansiText, 'third\nline two'];
    await command('errors', errors);
    let o = await until('the overlay', () => overlay(page));
    t.eq(o.kind, 'errors', 'overlay shows errors');
    t.eq(o.title, 'Failed to compile: 3 errors', 'title counts them');
    t.eq(json(o.messages), json([payload, 'plain red bold bright x256 end', 'third\nline two']),
      'every message, as text (markup literal, ANSI codes stripped)');
    t.ok(o.imgs === 0 && await page.evaluate(() => window.__pwned) === undefined && log.dialogs.length === 0,
      'the <img onerror> payload did not run', json({ imgs: o.imgs, dialogs: log.dialogs }));
    t.ok(o.covers && o.onTop, 'full page, above a z-index:2147483647 element and hostile CSS', json(o));
    const spans = await page.evaluate(() => [...document.querySelector('devserve-ui').shadowRoot
      .querySelectorAll('pre span')].map((s) => {
      const c = getComputedStyle(s);
      return `${s.textContent}|${c.color}|${c.fontWeight}`;
    }));
    t.eq(json(spans), json(['red|rgb(255, 102, 102)|400', 'bold|rgb(232, 232, 232)|700',
      'bright|rgb(153, 255, 153)|400']), 'ANSI colours and bold rendered (other escapes dropped)');
    t.ok(log.console.some((m) => m.type === 'error' && m.text === `[devserve] ${payload}`),
      'errors also go to the console');

    await page.keyboard.press('Escape');
    await until('Escape to dismiss', async () => !(await overlay(page)));
    t.ok(true, 'Escape dismisses the overlay');
    await command('errors', ['again']);
    await until('the overlay again', () => overlay(page));
    await page.click('devserve-ui >> .x');
    await until('× to dismiss', async () => !(await overlay(page)));
    t.ok(true, 'the × button dismisses the overlay');
    await command('errors', ['once more']);
    await until('the overlay again', () => overlay(page));
    await command('invalid');
    await until('invalid to remove it', async () => !(await overlay(page)));
    t.ok(true, 'invalid removes the overlay');
    const bits = () => page.evaluate(() => {
      const r = document.querySelector('devserve-ui').shadowRoot;
      const bar = r.querySelector('.bar');
      return { pill: !r.querySelector('.pill').hidden && r.querySelector('.pill').textContent,
        bar: !bar.hidden && `${bar.style.width} ${bar.title}` };
    });
    await until('the rebuilding indicator', async () => (await bits()).pill === 'rebuilding…');
    await command('progress', [42, 'bundling']);
    await until('the progress bar', async () => (await bits()).bar === '42% bundling');
    t.ok(true, 'invalid shows "rebuilding…"; progress-update moves the bar');

    // A page handler that applies updates itself: ok removes the overlay without a reload.
    await page.evaluate(() => {
      window.updates = [];
      window.stopHandling = devserve.onUpdate((u) => { window.updates.push(u); return true; });
    });
    await command('errors', ['to be fixed']);
    await until('the overlay', () => overlay(page));
    t.eq(json(await bits()), json({ pill: false, bar: false }), 'a build result hides both');
    await command('ok');
    await until('ok to remove it', async () => !(await overlay(page)));
    const updates = await page.evaluate(() => window.updates);
    t.ok(updates.length === 1 && updates[0].type === 'ok' && updates[0].hash === (await state(page)).hash,
      'ok removes the overlay; the page handler gets {type, hash} and keeps the page', json(updates));
    await command('warnings', ['\u001b[33mwarn one\u001b[39m', 'warn two']);
    o = await until('the warnings overlay', () => overlay(page));
    t.ok(o.kind === 'warnings' && o.messages.length === 2 && o.title === 'Compiled with 2 warnings',
      'warnings listed when the overlay setting asks for them', json(o));
    t.eq(await page.evaluate(() => window.marker), 1, 'still the same page');

    const navs = log.navigations.length;
    await page.evaluate(() => window.stopHandling());
    await command('ok');
    await waitReload(page, log, navs);
    t.eq(await overlay(page), null, 'without a handler, ok reloads; no overlay after it');

    await command('errors', ['\u001b[31mbroken\u001b[39m']);
    await page.goto(`${BASE}/headonly.html`);
    o = await until('the overlay on a page without <body> at script time', () => overlay(page));
    t.eq(json(o.messages), json(['broken']), 'connect sequence shows the current errors, on a head-only page too');
    t.eq(json(log.errors), '[]', 'no page errors');
  },

  // 4. Server stopped and restarted on the same port: "Disconnected!" once, reconnect on the
  // backoff schedule, reload because the build hash changed.
  async restart(t) {
    const { page, log } = await open(t, '/');
    const navs = log.navigations.length;
    await command('stop');
    const waits = await until('two failed attempts', async () => {
      const st = await state(page);
      const w = st.events.filter((e) => e.type === 'wait');
      if (w.length < 3) throw new Error(json(st.events.slice(-6)));
      return w;
    }, 20000);
    t.ok(waits.every((w) => w.ms >= 1000 * 2 ** w.n && w.ms < 1000 * 2 ** w.n + 100),
      'waits follow 1000·2^n + random·100', json(waits));
    const s = await state(page);
    const attempts = s.events.filter((e) => e.type === 'attempt' && e.n >= 0);
    t.ok(attempts.every((a, i) => a.t - waits[i].t >= Math.floor(waits[i].ms) - 1), 'no attempt before its time',
      json({ attempts, waits }));
    t.eq(s.state, 'waiting', 'state while the server is away');
    t.eq(await page.evaluate(() => { const h = document.querySelector('devserve-ui'); return !!h && !h.shadowRoot.querySelector('.off').hidden; }),
      false, 'no retry button before 10 failed attempts');
    const pending = waits[2];
    await command('start');
    const o = await waitReload(page, log, navs, 20000);
    const at = log.navigations[navs].t;
    t.ok(at >= pending.t + pending.ms - 50 && at <= pending.t + pending.ms + 4000,
      `reconnected and reloaded on schedule (${at - pending.t} ms after a wait of ${Math.round(pending.ms)} ms)`);
    t.eq(o.transport, 'websocket', 'the reloaded page connects again');
    t.eq(json(devserveLines(log).map((m) => m.text)), json(['[devserve] Disconnected!', '[devserve] Reconnected.',
      '[devserve] Reloading: the build changed while disconnected.']), '"Disconnected!" logged once for the outage');
  },

  // 5. WebSocket off on the server: xhr-streaming (recycled at 128 KiB); then with
  // xhr_streaming blocked, xhr-polling. A change reloads over both.
  async 'no-websocket'(t) {
    const { page, log, s } = await open(t, '/');
    t.eq(s.transport, 'xhr-streaming', 'transport');
    t.eq(s.events.filter((e) => e.type === 'fallback').length, 0, 'info said no websocket: not even tried');
    await command('big', [3, 60000]);
    const big = await until('three 60 KB messages', () => {
      const l = log.console.filter((m) => m.type === 'error' && m.text.length > 60000);
      return l.length >= 3 ? l : null;
    });
    const after = await state(page);
    t.ok(big.length === 3 && count(after.events, 'recycle') >= 1 && count(after.events, 'close') === 0 &&
      after.state === 'open', 'a response ended by the 128 KiB limit continues the same session',
    json(after.events.slice(-5)));
    let navs = log.navigations.length;
    await command('edit', ['index.html', '>v1<', '>v2<']);
    let o = await waitReload(page, log, navs);
    t.eq(o.transport, 'xhr-streaming', 'a change reloads; the new page uses xhr-streaming again');

    await page.route('**/xhr_streaming', (route) => route.abort());
    navs = log.navigations.length;
    await page.reload();
    o = await waitReload(page, log, navs);
    t.eq(o.transport, 'xhr-polling', 'xhr_streaming blocked: xhr-polling');
    t.ok(o.events.some((e) => e.type === 'fallback' && e.transport === 'xhr-polling'), 'fell back', json(o.events));
    navs = log.navigations.length;
    await command('edit', ['index.html', '>v2<', '>v3<']);
    o = await waitReload(page, log, navs);
    t.eq(await page.textContent('#version'), 'v3', 'a change reloads over xhr-polling');
    t.eq(o.transport, 'xhr-polling', 'and the new page polls again');
  },

  // 6. Through nginx, which does not forward Upgrade: WebSocket fails, xhr-streaming works.
  async proxy(t) {
    const { page, log, s } = await open(t, '/');
    t.eq(s.transport, 'xhr-streaming', 'transport through the proxy');
    t.ok(s.events.some((e) => e.type === 'fallback' && e.from === 'websocket'), 'WebSocket was tried first',
      json(s.events));
    const navs = log.navigations.length;
    await command('edit', ['index.html', '>v1<', '>v2<']);
    const o = await waitReload(page, log, navs);
    t.eq(await page.textContent('#version'), 'v2', 'a change reloads through the proxy');
    t.eq(o.transport, 'xhr-streaming', 'reconnected the same way');
  },

  // 7. The backoff schedule with a fake clock: 10 attempts at 1000·2^n + random·100 ms, then the
  // retry button; clicking it reconnects.
  async backoff(t) {
    const { page, log } = await newPage();
    await page.clock.install();
    await page.goto(BASE + '/', { timeout: 15000 });
    await waitOpen(page);
    await page.evaluate(() => { window.marker = 1; });
    const pure = await page.evaluate(() => [0, 1, 2, 5, 9].map((n) => [devserve.backoff(n, 0), devserve.backoff(n, 0.999)]));
    t.eq(json(pure), json([[1000, 1099.9], [2000, 2099.9], [4000, 4099.9], [32000, 32099.9], [512000, 512099.9]]),
      'devserve.backoff(n, r) = 1000·2^n + r·100');
    t.eq(json(await page.evaluate(() => [4001, 1008, 1000, 1001, 1002, 1006, 4000].map(devserve.shouldReconnect))),
      json([false, false, true, true, true, true, true]), 'close codes 4001 and 1008 stop reconnection');
    // Pause a little ahead of the page's clock: the fake clock runs on until pauseAt lands, and
    // on a loaded machine "10 ms ahead" can already be in the past by then. Nothing in the page
    // is due within 3 s (the heartbeat is 25 s).
    await page.clock.pauseAt(await page.evaluate(() => Date.now() + 3000));
    await command('stop');
    const fake = () => page.evaluate(() => Date.now());
    const gaps = [];
    for (let n = 0; n < 10; n++) {
      const wait = await until(`wait #${n}`, async () => (await state(page)).events.find((e) => e.type === 'wait' && e.n === n));
      const attempted = async () => (await state(page)).events.find((e) => e.type === 'attempt' && e.n === n);
      await page.clock.runFor(wait.t + Math.floor(wait.ms) - 1 - await fake());
      if (await attempted()) { t.ok(false, `attempt ${n} came early`); return; }
      await page.clock.runFor(2);
      const a = await until(`attempt #${n}`, attempted, 5000);
      gaps.push({ n, ms: Math.round(wait.ms * 10) / 10, gap: a.t - wait.t });
    }
    t.ok(gaps.every((g) => g.gap >= 1000 * 2 ** g.n && g.gap <= 1000 * 2 ** g.n + 101 && Math.abs(g.gap - g.ms) <= 1.5),
      'measured gaps before attempts 0..9 are 1000·2^n + random·100 ms', json(gaps));
    const s = await until('giving up', async () => { const st = await state(page); return st.state === 'gave-up' ? st : null; });
    const attempts = count(s.events, 'attempt');
    await page.clock.runFor(3600 * 1000);
    t.eq(count((await state(page)).events, 'attempt'), attempts, 'no attempt after the 10th failure (fake hour later)');
    const button = page.locator('devserve-ui >> .off');
    t.ok(await button.isVisible(), 'the retry indicator is shown');
    t.eq(await button.textContent(), 'disconnected — click to retry', 'indicator text');
    t.eq(devserveLines(log).filter((m) => m.text === '[devserve] Disconnected!').length, 1, '"Disconnected!" once');
    await button.click();
    const fresh = await until('a retry and a fresh schedule', async () => {
      const st = await state(page);
      const w = st.events.filter((e) => e.type === 'wait');
      return count(st.events, 'attempt') === attempts + 1 && w[w.length - 1].n === 0 ? st : null;
    });
    t.ok(fresh.state === 'waiting' && !await button.isVisible(), 'click retries at once and restarts the schedule');
    await command('start');
    const navs = log.navigations.length;
    await page.evaluate(() => dispatchEvent(new Event('online')));
    await waitReload(page, log, navs);
    t.eq(await page.evaluate(() => window.marker), undefined,
      '"online" reconnects at once (the fake clock is paused), and the new build hash reloads');
  },

  // 8. The heartbeat watchdog: the proxy freezes the live connection (no data, no close);
  // the client notices within heartbeat + margin and reconnects.
  async heartbeat(t) {
    const { page, log, s } = await open(t, '/');
    t.eq(s.heartbeat, 300, 'heartbeat interval from the server');
    const h0 = await until('heartbeats to flow', async () => { const st = await state(page); return st.heartbeats >= 4 ? st : null; });
    t.eq(count(h0.events, 'close'), 0, 'no false alarm while heartbeats flow');
    await command('freeze');
    const frozenAt = Date.now();
    const closed = await until('the watchdog', async () => {
      const st = await state(page);
      return st.events.find((e) => e.type === 'close' && e.reason === 'heartbeat timeout');
    }, 15000);
    const detect = closed.t - frozenAt;
    t.ok(detect >= 1500 && detect < 8000, `dead connection detected after ${detect} ms (timeout 300 + 2000 ms)`);
    const again = await until('a new connection', async () => {
      const st = await state(page);
      return count(st.events, 'open') >= 2 && st.state === 'open' ? st : null;
    }, 15000);
    t.eq(again.transport, 'websocket', 'reconnected over a new WebSocket');
    t.eq(again.marker, 1, 'same build hash: no reload');
    t.eq(log.navigations.length, 1, 'no navigation');
  },

  // 9. 80 build errors, each its own entry, counted in the title; past the cap the rest is counted.
  async 'many-errors'(t) {
    const { page } = await open(t, '/');
    t.eq(await command('many-errors', [80]), '1', 'the page was told');
    let o = await until('the overlay', () => overlay(page));
    t.eq(o.title, 'Failed to compile: 80 errors', 'the title counts all 80');
    t.eq(o.messages.length, 80, '80 entries');
    t.eq(o.messages[0], 'src/file1.ts:1:5 - error TS2322: entry 1', 'the first entry, ANSI stripped');
    t.eq(o.messages[79], 'src/file80.ts:80:5 - error TS2322: entry 80', 'the 80th entry');
    let bits = await overlayBits(page);
    t.ok(bits.hint.includes('Esc to dismiss') && bits.hint.includes('fix and save to reload'), 'the hints', bits.hint);
    t.eq(bits.more.length, 0, 'nothing left out');
    t.eq(bits.links.length, 80, 'every location is a link');
    t.eq(bits.links[41], 'src/file42.ts:42:5', 'the link covers file:line:col');
    await screenshot(page, 'overlay-80-errors');
    await command('many-errors', [600]);
    o = await until('the overlay of 600', async () => { const v = await overlay(page); return v && v.title.includes('600') ? v : null; });
    bits = await overlayBits(page);
    t.ok(o.title === 'Failed to compile: 600 errors' && o.messages.length === 500, 'capped at 500 entries, counted 600',
      json({ title: o.title, n: o.messages.length }));
    t.eq(json(bits.more), json(['… 100 more not shown']), 'the cut is said explicitly');
    // One huge word (a minified bundle's line): rendered, cut at 100000 characters, said so.
    await command('errors', ['a'.repeat(150000) + '.js:1:2']);
    o = await until('the huge entry', async () => { const v = await overlay(page); return v && v.messages.length === 1 ? v : null; });
    t.ok(o.messages[0].length < 100100 && o.messages[0].endsWith('\n… 50007 more characters'), 'a huge entry is cut, and says so',
      o.messages[0].slice(-40));
  },

  // 10. A click on a location in the overlay reaches the endpoint, which starts the editor.
  async editor(t) {
    const { page, log } = await open(t, '/');
    await command('errors', ['\u001b[1msrc/app.js:3:9\u001b[22m SyntaxError: Unexpected token', 'no location here']);
    await until('the overlay', () => overlay(page));
    const links = (await overlayBits(page)).links;
    t.eq(json(links), json(['src/app.js:3:9']), 'the location is a link, across ANSI styling');
    await page.click('devserve-ui >> a.loc');
    const done = await until('the open-editor answer', async () => (await eventsOf(page, 'editor'))[0]);
    t.eq(json([done.file, done.line, done.column, done.status]), json(['src/app.js', 3, 9, 204]), 'POSTed and started (204)');
    const args = JSON.parse(await until('the fake editor to run', async () => {
      const a = await command('editor-args');
      return a !== '[]' && a;
    }));
    const root = JSON.parse(await command('root'));
    t.eq(json(args), json(['+3', path.join(root, 'src/app.js')]), 'the editor got +line and the canonical file');
    t.ok(await overlay(page), 'the overlay stays open');

    const status = (init, url = '/__devserve/open-editor') => page.evaluate(async ([u, i]) => {
      try { return (await fetch(u, i)).status; } catch (e) { return 'blocked'; }
    }, [url, init]);
    const token = await page.evaluate(async () => {
      const text = await (await fetch('/__devserve/client.js')).text();
      return JSON.parse(text.slice(text.lastIndexOf('})(') + 3, text.lastIndexOf(');'))).token;
    });
    const post = (body, tok = token) => ({ method: 'POST', headers: { 'content-type': 'application/json', 'x-devserve-token': tok },
      body: JSON.stringify(body) });
    t.eq(await status(post({ file: 'src/app.js', line: 1 }, 'wrong')), 403, 'a wrong token: 403');
    t.eq(await status({ method: 'GET' }), 405, 'GET: 405');
    t.eq(await status(post({ file: 'src/app.js' })), 400, 'no line: 400');
    t.eq(await status(post({ file: 'src/nope.js', line: 1 })), 404, 'no such file: 404');
    t.eq(await status(post({ file: '/etc/passwd', line: 1 })), 403, 'outside the served folders: 403');
    const other = BASE.replace('127.0.0.1', 'localhost');
    await page.goto(other + '/');
    await waitOpen(page);
    t.eq(await status(post({ file: 'src/app.js', line: 1 }), BASE + '/__devserve/open-editor'), 'blocked',
      'from another origin, even with the token: blocked');
    t.eq(json(JSON.parse(await command('editor-args'))), json(args), 'the editor ran once, for the click only');
    t.ok(log.console.filter((m) => m.text.startsWith('[devserve] Could not open')).length === 0, 'no failure logged');
  },

  // 11. Runtime errors: an uncaught error and an unhandled rejection, with stacks; build errors
  // take precedence; Escape dismisses.
  async runtime(t) {
    const { page } = await open(t, '/');
    await page.addScriptTag({ url: '/boom.js' });
    let o = await until('the runtime overlay', async () => { const v = await overlay(page); return v && v.messages.length === 2 ? v : null; });
    t.eq(o.title, '2 uncaught runtime errors', 'title');
    const [first, second] = [o.messages.find((m) => m.includes('kaboom')), o.messages.find((m) => m.includes('nope'))];
    t.ok(first && first.startsWith('TypeError: kaboom') && first.includes(`at kaboom (${BASE}/boom.js:1:`), 'the error with its stack', first);
    t.ok(second && second.startsWith('Uncaught (in promise) Error: nope'), 'the rejection', second);
    t.ok((await overlayBits(page)).links.some((l) => l.startsWith(BASE)), 'stack locations are links');
    await screenshot(page, 'overlay-runtime');
    await command('errors', ['build broke']);
    o = await until('the build overlay', async () => { const v = await overlay(page); return v && v.kind === 'errors' && v.messages[0] === 'build broke' ? v : null; });
    t.eq(o.title, 'Failed to compile: 1 error', 'build errors take precedence');
    await command('invalid');
    o = await until('the runtime errors again', async () => { const v = await overlay(page); return v && v.title.includes('runtime') ? v : null; });
    t.eq(o.messages.length, 2, 'after the build clears, the runtime errors are still shown');
    await page.keyboard.press('Escape');
    await until('Escape to dismiss', async () => !(await overlay(page)));
    t.ok(true, 'Escape dismisses');
  },

  // 12. Runtime errors turned off on the server: the console has them, the overlay does not.
  async 'runtime-off'(t) {
    const { page, log } = await open(t, '/');
    await page.evaluate(() => setTimeout(() => { throw new Error('quiet'); }));
    await until('the page error', () => log.errors.some((e) => e.includes('quiet')));
    t.eq(await overlay(page), null, 'no overlay for it');
    await command('errors', ['build broke']);
    const o = await until('the build overlay', () => overlay(page));
    t.eq(json(o.messages), json(['build broke']), 'the build errors alone');
  },

  // 13. The 404 page and the listing carry the client and recover; the listing sorts; favicon.
  async missing(t) {
    const { page, log } = await newPage();
    const response = await page.goto(BASE + '/later.html', { timeout: 15000 });
    t.eq(response.status(), 404, 'the page does not exist yet');
    await waitOpen(page);
    t.ok(true, 'the 404 page connects');
    let navs = log.navigations.length;
    await command('write', ['later.html', '<!doctype html><title>later</title><link rel="icon" href="data:,"><p id="v">here</p>']);
    await waitReload(page, log, navs);
    t.eq(await page.textContent('#v'), 'here', 'the file appeared: the page reloaded and shows it');

    await page.goto(BASE + '/list/');
    await waitOpen(page);
    const rows = () => page.evaluate(() => [...document.querySelectorAll('tr')].slice(1)
      .map((r) => [...r.cells].map((c) => c.textContent)));
    let list = await rows();
    t.eq(json(list.map((r) => r[0])), json(['../', 'big.txt', 'small.txt']), 'by name');
    t.ok(list[1][1] === '4.9 KiB' && /^\d{4}-\d\d-\d\d \d\d:\d\d$/.test(list[1][2]), 'size and modification time', json(list));
    navs = log.navigations.length;
    await page.click('th >> text=Size');
    await waitReload(page, log, navs);
    t.ok(page.url().endsWith('?sort=size&order=asc'), 'the heading links to the order', page.url());
    t.eq(json((await rows()).map((r) => r[0])), json(['../', 'small.txt', 'big.txt']), 'by size');
    navs = log.navigations.length;
    await command('write', ['list/medium.txt', 'x'.repeat(100)]);
    await waitReload(page, log, navs);
    t.eq(json((await rows()).map((r) => r[0])), json(['../', 'small.txt', 'medium.txt', 'big.txt']),
      'a new file reloads the listing, still sorted');

    const icon = () => page.evaluate(async () => {
      const r = await fetch('/favicon.ico', { cache: 'no-store' });
      return { status: r.status, type: r.headers.get('content-type'), size: (await r.arrayBuffer()).byteLength };
    });
    const own = await icon();
    t.ok(own.status === 200 && own.type === 'image/x-icon' && own.size > 0, 'a default favicon', json(own));
    await command('write', ['favicon.ico', 'mine']);
    t.eq((await icon()).size, 4, "the served folder's own favicon wins");
    t.eq(json(log.errors), '[]', 'no page errors');
  },

  // 14. The example site: a rule appended to css/site.css applies (swapped in place).
  async example(t) {
    const { page } = await open(t, '/');
    t.eq(await colour(page, 'h1'), 'rgb(42, 111, 151)', 'the example style');
    await command('append', ['css/site.css', 'h1 { color: rgb(1, 2, 3); }\n']);
    await until('the appended rule', async () => (await colour(page, 'h1')) === 'rgb(1, 2, 3)');
    t.ok(true, 'the appended rule applies');
  },
};


await r.group('browser', async (t) => {
  await launch();
  t.ok(true, 'chromium launched');
}, 70000);
const fn = scenarios[SCENARIO];
if (!fn) r.line(false, `unknown scenario ${SCENARIO}`);
else await r.group(SCENARIO, fn, 90000);
await r.finish(closeBrowser);
