/* devserve browser client, part 2 of 2: live reload, in-place CSS updates, build and runtime
 * error overlay (drawn by overlay.js, served before this file in one script, see there). No build
 * step, no dependencies, one global (`devserve`), silent while all is well.
 * Transport: SockJS at /sockjs-node on this script's origin: GET /info, then WebSocket
 *   …/<3 digits>/<8 chars>/websocket; if info says websocket:false or the socket fails before `o`,
 *   xhr-streaming (POSTed again when the server ends it at 128 KiB), then xhr-polling.
 * Reconnect: wait 1000·2^n + random·100 ms before attempt n; opening resets n; after 10 failed
 *   attempts stop and show "disconnected — click to retry". A changed build hash then reloads.
 * Watchdog: no frame for N + max(2000, N/2) ms (N from {"type":"heartbeat","data":N}, else
 *   25000) means a dead connection: drop it, reconnect.
 * Close codes (c[code,…] frame, else the WebSocket's): 4001 (replaced/kicked) and 1008 (policy
 *   violation) stop reconnection; all others reconnect (e.g. 1001 server shutting down, 1002,
 *   1006 connection lost, 4000 client too slow).
 * Updates: content-changed paths that are all stylesheets in use (<link>, or @import in a
 *   same-origin sheet) swap the owning <link>/<style> in place; that update's ok does nothing.
 *   Other updates go to devserve.onUpdate(fn) handlers: fn({type: "content-changed" | "ok" |
 *   "warnings", hash, paths}) returns true if it applied it, else the page reloads (with liveReload
 *   or hot). errors never reload; the state sent on connect never reloads by itself.
 * Runtime errors (window `error`, `unhandledrejection`) go to the overlay unless the server turned
 *   SETTINGS.runtimeErrors off. A location link POSTs {file, line, column} to
 *   /__devserve/open-editor with the run's token in `X-Devserve-Token`.
 */
(function () {
  'use strict';
  if (typeof window === 'undefined' || window.devserve && window.devserve.onUpdate) return;

  var PREFIX = '/sockjs-node';
  var MAX_ATTEMPTS = 10;
  var OPEN_TIMEOUT = 5000;
  var ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';
  var LEVELS = { trace: 0, debug: 1, info: 2, warn: 3, warning: 3, error: 4, silent: 5, none: 5 };

  var origin = location.origin;
  try {
    if (/^https?:/.test(document.currentScript.src)) origin = new URL(document.currentScript.src).origin;
  } catch (e) { /* no script URL: the page's origin */ }

  var level = LEVELS.info;
  var S = { state: 'connecting', transport: null, hash: null, heartbeat: 25000, heartbeats: 0, retries: 0,
    overlay: {} };
  var events = [], handlers = [], replaced = new WeakMap(), conn = null, retryTimer = 0, busyTimer = 0;
  var ui = createUi({ retry: function () { retry(); }, openEditor: openEditor });

  function now() { return Date.now(); }
  function record(type, detail) {
    var e = { t: now(), type: type };
    for (var k in detail) e[k] = detail[k];
    if (events.push(e) > 200) events.shift();
  }
  function note(kind, action) { record('update', { kind: kind, action: action }); }
  function log(lvl, text) {
    if (LEVELS[lvl] >= level) console[lvl]('[devserve] ' + text);
  }
  var strip = ui.strip;
  function random(chars, n) {
    for (var s = ''; s.length < n;) s += chars.charAt(Math.floor(Math.random() * chars.length));
    return s;
  }
  function backoff(n, rnd) { return 1000 * Math.pow(2, n) + rnd * 100; }
  function shouldReconnect(code) { return code !== 4001 && code !== 1008; }
  function deadline() { return S.heartbeat + Math.max(2000, S.heartbeat / 2); }

  // -- connection

  // One attempt: /info, then each transport in turn until one opens.
  function connect(n) {
    clearTimeout(retryTimer);
    if (conn) end(conn, 0, 'replaced', true);
    var c = conn = { abort: new AbortController(), last: now() };
    S.state = 'connecting';
    record('attempt', { n: n });
    arm(c, OPEN_TIMEOUT);
    fetch(origin + PREFIX + '/info', { cache: 'no-store', signal: c.abort.signal })
      .then(function (res) {
        if (!res.ok) throw res.status;
        return res.json();
      })
      .then(function (info) {
        var list = info && info.websocket === false ? [] : ['websocket'];
        start(c, list.concat('xhr-streaming', 'xhr-polling'), 0);
      }, function () { end(c, 1006, 'unreachable'); });
  }

  function start(c, list, i) {
    if (c.done) return;
    var token = c.token = {}, name = c.name = list[i];
    c.list = list;
    c.i = i;
    if (i) record('fallback', { transport: name, from: list[i - 1] });
    arm(c, OPEN_TIMEOUT);
    var sink = function (f, code, reason) {
      if (c.done || c.token !== token) return;
      if (f) frame(c, f);
      else if (code) lost(c, code, reason);
      else record('recycle', { transport: name });
    };
    var base = origin + PREFIX + '/' + random('0123456789', 3) + '/' + random(ALNUM, 8);
    c.t = name === 'websocket' ? openWs(base, sink) : openHttp(base, sink, name === 'xhr-streaming');
  }

  function openWs(base, sink) {
    var ws = new WebSocket('ws' + base.slice(4) + '/websocket');
    ws.onmessage = function (e) { sink(String(e.data)); };
    ws.onclose = function (e) { sink(null, e.code || 1006, e.reason || 'connection lost'); };
    return { close: function () { ws.onmessage = ws.onclose = null; ws.close(); } };
  }

  // xhr-streaming and xhr-polling via fetch(): one frame per line of the body.
  function openHttp(base, sink, streaming) {
    var ctl = null;
    function request() {
      if (ctl && ctl.signal.aborted) return;
      ctl = new AbortController();
      fetch(base + (streaming ? '/xhr_streaming' : '/xhr'), { method: 'POST', signal: ctl.signal })
        .then(function (res) {
          if (!res.ok) throw res.status;
          var reader = res.body.getReader(), decoder = new TextDecoder(), buf = '', prelude = streaming, frames = 0;
          return (function pump() {
            return reader.read().then(function (r) {
              if (ctl.signal.aborted) return;
              if (r.done) {
                if (!frames) throw 'empty response';
                if (streaming) sink();
                return request();
              }
              buf += decoder.decode(r.value, { stream: true });
              for (var i; (i = buf.indexOf('\n')) >= 0 && !ctl.signal.aborted;) {
                var line = buf.slice(0, i);
                buf = buf.slice(i + 1);
                if (prelude) prelude = false;
                else if (line) sink(line, frames++);
              }
              return pump();
            });
          })();
        })
        .catch(function () { sink(null, 1006, 'connection lost'); });
    }
    request();
    return { close: function () { ctl.abort(); } };
  }

  function arm(c, ms) {
    clearTimeout(c.timer);
    c.timer = setTimeout(function () {
      if (c.t) lost(c, 1006, c.opened ? 'heartbeat timeout' : 'open timeout');
      else end(c, 1006, 'timeout');
    }, ms);
  }

  function frame(c, f) {
    c.last = now();
    var kind = f.charAt(0);
    if (kind === 'o') opened(c);
    arm(c, c.opened ? deadline() : OPEN_TIMEOUT);
    if (kind === 'h') S.heartbeats++;
    if (kind !== 'a' && kind !== 'c') return;
    var data;
    try { data = JSON.parse(f.slice(1)); } catch (e) { return; }
    if (kind === 'c') return lost(c, data[0], String(data[1]));
    for (var i = 0; c.opened && !c.done && i < data.length; i++) message(data[i]);
  }

  function opened(c) {
    if (S.announced) log('info', 'Reconnected.');
    c.opened = true;
    S.state = 'open';
    S.transport = c.name;
    S.retries = 0;
    S.announced = S.liveReload = S.hot = S.progress = false;
    S.overlay = {};
    S.reconnected = S.everOpened;
    S.everOpened = S.greeting = true;
    ui.indicator(false);
    record('open', { transport: c.name });
  }

  // A transport ended: before it opened, try the next one; after, the connection is over.
  function lost(c, code, reason) {
    c.t.close();
    c.t = null;
    if (c.opened || !shouldReconnect(code) || c.i + 1 >= c.list.length) return end(c, code, reason);
    record('failed', { transport: c.name, code: code, reason: reason });
    start(c, c.list, c.i + 1);
  }

  function end(c, code, reason, quiet) {
    if (c.done) return;
    c.done = true;
    clearTimeout(c.timer);
    c.abort.abort();
    if (c.t) c.t.close();
    c.t = null;
    record(c.opened ? 'close' : 'failed', { transport: c.name, code: code, reason: reason });
    if (c.opened) S.transport = null;
    S.state = 'waiting'; // also when unloading: a bfcache restore wakes it
    if (quiet || S.unloading || S.reloading) return;
    if (!shouldReconnect(code)) {
      S.state = 'stopped';
      log('info', 'Closed by the server (' + code + ' ' + reason + '), not reconnecting.');
      return ui.indicator(true);
    }
    if (!S.announced) log('info', 'Disconnected!');
    S.announced = true;
    if (S.retries >= MAX_ATTEMPTS) {
      S.state = 'gave-up';
      record('gave-up');
      return ui.indicator(true);
    }
    var n = S.retries++, delay = backoff(n, Math.random());
    record('wait', { n: n, ms: delay });
    retryTimer = setTimeout(function () { connect(n); }, delay);
  }

  function retry() {
    S.retries = 0;
    connect(-1);
  }

  // Back from sleep, offline or background: retry now, or check the connection.
  function wake() {
    if (document.visibilityState === 'hidden' || S.reloading) return;
    if (S.state === 'gave-up') retry();
    else if (S.state === 'waiting') connect(S.retries - 1);
    else if (conn && conn.t && conn.opened && now() - conn.last > deadline()) lost(conn, 1006, 'heartbeat timeout');
  }

  // -- messages

  function message(text) {
    var m;
    try { m = JSON.parse(text); } catch (e) { return; }
    if (S.reloading || !m) return;
    var d = m.data;
    switch (m.type) {
      case 'log-level': if (LEVELS.hasOwnProperty(d)) level = LEVELS[d]; break;
      case 'liveReload': S.liveReload = d !== false; break;
      case 'hot': S.hot = true; break;
      case 'overlay': S.overlay = d === true ? { errors: true } : d || {}; break;
      case 'progress': S.progress = d !== false; break;
      case 'progress-update': if (S.progress && d) ui.progress(d.percent, d.msg); break;
      case 'heartbeat':
        if (d > 0) S.heartbeat = +d;
        if (conn && conn.t && conn.opened) arm(conn, deadline());
        break;
      case 'invalid':
        S.handled = false;
        S.paths = null;
        ui.show(null);
        busy(true);
        break;
      case 'hash':
        var changed = S.greeting && S.reconnected && S.hash && d !== S.hash;
        S.hash = d;
        if (changed) reload('the build changed while disconnected');
        break;
      case 'still-ok':
        S.handled = false;
        busy(false);
        ui.progress(null);
        ui.show(null);
        break;
      case 'ok': case 'warnings': case 'errors': result(m.type, d); break;
      case 'content-changed': contentChanged(d); break;
      case 'error': log('error', strip(d)); break;
    }
  }

  function result(type, list) {
    var quiet = S.greeting || S.handled || type === 'errors';
    S.greeting = S.handled = false;
    busy(false);
    ui.progress(null);
    list = Array.isArray(list) ? list.map(String) : [];
    list.forEach(function (text) { log(type === 'errors' ? 'error' : 'warn', strip(text)); });
    ui.show(S.overlay[type] && list.length ? type : null, list);
    if (quiet) note(type, 'none');
    else update({ type: type, hash: S.hash, paths: S.paths });
  }

  function contentChanged(paths) {
    if (!S.liveReload && !S.hot) return;
    paths = S.paths = Array.isArray(paths) && paths.length ? paths.map(String) : null;
    if (paths && swapCss(paths)) {
      S.handled = true;
      log('info', 'Updated ' + paths.join(', '));
      record('update', { kind: 'content-changed', action: 'css', paths: paths });
    } else if (update({ type: 'content-changed', hash: S.hash, paths: paths })) S.handled = true;
  }

  function update(u) {
    for (var i = 0; i < handlers.length; i++) {
      try {
        if (handlers[i](u) === true) return note(u.type, 'handled') || true;
      } catch (e) {
        log('error', 'onUpdate handler failed: ' + (e && e.stack || e));
      }
    }
    if (!S.liveReload && !S.hot) return note(u.type, 'none');
    reload(u.type === 'content-changed' ? (u.paths || ['files']).join(', ') + ' changed' : 'the build changed');
  }

  function reload(why) {
    if (S.reloading) return;
    S.reloading = true;
    record('reload', { why: why });
    log('info', 'Reloading: ' + why + '.');
    location.reload();
  }

  // -- stylesheets

  function samePath(href, path) {
    try {
      var u = new URL(href, document.baseURI);
      return (u.origin === origin || u.origin === location.origin) && decodeURI(u.pathname) === decodeURI(path);
    } catch (e) { return false; }
  }

  // Calls visit(url) for every @import reachable from `sheet` (same-origin sheets only).
  function walkImports(sheet, visit, depth) {
    var rules;
    try { rules = sheet.cssRules; } catch (e) { return; }
    for (var i = 0; i < rules.length && depth < 16; i++) {
      var r = rules[i];
      if (r.type === 1) break;
      if (r.type !== 3) continue;
      visit(r.styleSheet && r.styleSheet.href || new URL(r.href, sheet.href || document.baseURI).href);
      if (r.styleSheet) walkImports(r.styleSheet, visit, depth + 1);
    }
  }

  // Each path must be a <link>ed sheet or an @import under a <link>/<style>; owners get replaced by
  // fresh copies (devserve serves CSS with no-cache: their @imports revalidate).
  function swapCss(paths) {
    var owners = [];
    var ok = paths.every(function (path) {
      var found = false;
      [].forEach.call(document.styleSheets, function (sheet) {
        var node = sheet.ownerNode;
        var hit = node && node.tagName === 'LINK' && samePath(sheet.href, path);
        if (node && !hit) walkImports(sheet, function (url) { hit = hit || samePath(url, path); }, 0);
        while (replaced.has(node)) node = replaced.get(node); // a copy is still loading: replace it
        if (hit && owners.indexOf(node) < 0) owners.push(node);
        found = found || hit;
      });
      return found;
    });
    var token = now().toString(36) + random(ALNUM, 4);
    if (ok) owners.forEach(function (node) { swapNode(node, token); });
    return ok;
  }

  function swapNode(node, token) {
    var next = node.cloneNode(true);
    if (node.tagName === 'LINK') {
      var u = new URL(node.href, document.baseURI);
      u.searchParams.set('devserve', token);
      next.href = u.href;
    }
    replaced.set(node, next);
    var finish = function () { node.remove(); };
    next.addEventListener('load', finish);
    next.addEventListener('error', finish);
    setTimeout(finish, 5000);
    node.after(next);
  }

  // -- user interface (overlay.js), runtime errors, open in editor

  function busy(on) {
    clearTimeout(busyTimer);
    if (on) busyTimer = setTimeout(function () { ui.pill(true); }, 150);
    else ui.pill(false);
  }

  // An uncaught error or unhandled rejection: the console has it; the overlay shows it with its stack.
  function caught(error, prefix, fallback) {
    if (!SETTINGS.runtimeErrors || S.overlay.runtimeErrors === false || S.reloading) return;
    var text = error && error.stack ? String(error.stack) : String(error && error.message || error || fallback);
    if (error && error.stack && error.message && text.indexOf(error.message) < 0) text = error + '\n' + text;
    record('runtime-error', { text: text.split('\n')[0] });
    ui.runtimeError(prefix + text);
  }

  function openEditor(file, line, column) {
    var done = function (status) {
      record('editor', { file: file, line: line, column: column, status: status });
      if (status !== 204) log('warn', 'Could not open ' + file + ' in the editor (' + status + ').');
    };
    fetch(origin + '/__devserve/open-editor', { method: 'POST', cache: 'no-store',
      headers: { 'content-type': 'application/json', 'x-devserve-token': SETTINGS.token },
      body: JSON.stringify({ file: file, line: line, column: column }) })
      .then(function (res) { done(res.status); }, function () { done(0); });
  }

  // -- lifecycle

  addEventListener('keydown', function (e) {
    if (e.key === 'Escape' && ui.visible()) ui.hide();
  }, true);
  addEventListener('error', function (e) { caught(e.error, '', e.message); });
  addEventListener('unhandledrejection', function (e) { caught(e.reason, 'Uncaught (in promise) ', 'rejected'); });
  addEventListener('pagehide', function () { S.unloading = true; });
  addEventListener('pageshow', function (e) {
    S.unloading = false;
    if (e.persisted) wake();
  });
  addEventListener('online', wake);
  document.addEventListener('visibilitychange', wake);

  var api = {
    backoff: backoff,
    shouldReconnect: shouldReconnect,
    retry: retry,
    onUpdate: function (fn) {
      if (typeof fn !== 'function') throw new TypeError('devserve.onUpdate expects a function');
      handlers.push(fn);
      return function () { if (handlers.indexOf(fn) >= 0) handlers.splice(handlers.indexOf(fn), 1); };
    }
  };
  ['state', 'transport', 'hash', 'heartbeat', 'heartbeats', 'events'].forEach(function (name) {
    Object.defineProperty(api, name, { enumerable: true, get: function () { return name === 'events' ? events.slice() : S[name]; } });
  });
  window.devserve = Object.freeze(api);

  if (/^https?:/.test(origin)) connect(-1);
  else S.state = 'stopped';
})();
