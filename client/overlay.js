/* devserve browser client, part 1 of 2: the user interface (progress bar, "rebuilding…" pill,
 * retry button, overlay) in one shadow root created on first use, so page CSS cannot reach it.
 * Not a script of its own: the server serves /__devserve/client.js as
 *   (function (SETTINGS) { <this file> <client.js> })(<settings as JSON>);
 * and client.js calls createUi(). SETTINGS holds per-run values: `token` (sent with open-in-editor
 * requests) and `runtimeErrors` (show uncaught errors and unhandled rejections).
 * Overlay: every problem is its own item (at most MAX_ITEMS, then "… N more not shown"), counted
 * in the title; `file:line:col`, `file(line,col)` and `URL:line:col` become links that ask the
 * server to open the file in the user's editor. Build problems take precedence over runtime
 * errors; Esc or × dismisses.
 */
function createUi(hooks) {
  'use strict';
  var MAX_ITEMS = 500, MAX_CHARS = 100000;
  var ANSI = /\u001b(?:\[([0-9;:?]*)([@-~])|\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|[@-Z\\-_]?)/g;
  // Locations are whole words (anchored, so matching stays linear in the word's length).
  var WORD = /[^\s'"`]+/g;
  var LOCATION = /^((https?:\/\/\S+?|(?:[A-Za-z]:)?[\w.~@+\-\/\\]*\w\.[A-Za-z]\w*)(?::(\d+)(?::(\d+))?|\((\d+),(\d+)\)))[,:;)]*$/;
  var PALETTE = ['#777', '#f66', '#6d6', '#ec7', '#6bf', '#d8f', '#5dd', '#ddd',
    '#999', '#f99', '#9f9', '#fe9', '#ade', '#ebf', '#9ff', '#fff'];
  var SGR = { 1: ['fontWeight', 'bold'], 2: ['opacity', '.7'], 3: ['fontStyle', 'italic'],
    4: ['textDecoration', 'underline'], 22: ['fontWeight', ''], 23: ['fontStyle', ''],
    24: ['textDecoration', ''], 39: ['color', ''], 49: ['backgroundColor', ''] };
  var CSS = ':host{all:initial}[hidden]{display:none!important}' +
    '.bar{position:fixed;top:0;left:0;height:3px;background:#4f9cff;transition:width .2s}' +
    '.pill,.off{position:fixed;bottom:8px;font:12px/1.5 system-ui;padding:2px 9px;border:0;' +
    'border-radius:10px;color:#fff;background:#333d}.pill{right:8px}.off{left:8px;background:#b3261e;cursor:pointer}' +
    '.ov{position:fixed;inset:0;overflow:auto;padding:24px;' +
    'background:#000e;color:#e8e8e8;font:13px/1.5 ui-monospace,monospace}' +
    '.head{display:flex;justify-content:space-between;font:600 18px system-ui;color:#ff8a8a}' +
    '.warnings .head{color:#ffd479}.x{font:inherit;color:#eee;background:none;border:1px solid #666;cursor:pointer}' +
    '.hint,.more{font:12px system-ui;color:#aaa;margin:4px 0 12px}' +
    'pre{font:inherit;white-space:pre-wrap;word-break:break-word;padding:12px;background:#1b1b1b;' +
    'border-left:4px solid #e5484d}.warnings pre{border-color:#e5c07b}a{color:inherit;text-decoration:underline dotted}';

  var ui = null, build = null, runtime = [];

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    e.className = cls || '';
    e.textContent = text || '';
    return e;
  }

  function root() {
    if (!ui) {
      var host = document.createElement('devserve-ui');
      host.style.cssText = 'all:initial;display:block;position:fixed;top:0;left:0;width:0;height:0;z-index:2147483647'
        .replace(/;|$/g, '!important;');
      var shadow = host.attachShadow({ mode: 'open' });
      ui = { host: host, bar: el('div', 'bar'), pill: el('div', 'pill', 'rebuilding…'), ov: el('div', 'ov'),
        off: el('button', 'off', 'disconnected — click to retry'), title: el('span', 'title'),
        x: el('button', 'x', '×'), hint: el('div', 'hint'), list: el('div') };
      var head = el('div', 'head');
      head.append(ui.title, ui.x);
      ui.ov.append(head, ui.hint, ui.list);
      ui.ov.setAttribute('role', 'dialog');
      ui.x.onclick = hide;
      ui.off.onclick = function () { indicator(false); hooks.retry(); };
      shadow.adoptedStyleSheets = [new CSSStyleSheet()]; // exempt from the page's CSP
      shadow.adoptedStyleSheets[0].replaceSync(CSS);
      shadow.append(ui.bar, ui.pill, ui.off, ui.ov);
      ui.bar.hidden = ui.pill.hidden = ui.off.hidden = ui.ov.hidden = true;
    }
    if (!ui.host.isConnected) (document.body || document.documentElement).appendChild(ui.host);
    return ui;
  }

  function indicator(on) { if (on || ui) root().off.hidden = !on; }

  function pill(on) {
    if (on) root().pill.hidden = false;
    else if (ui) ui.pill.hidden = true;
  }

  function progress(percent, msg) {
    if (percent == null) return ui && (ui.bar.hidden = true);
    var r = root();
    r.bar.hidden = false;
    r.bar.style.width = Math.max(0, Math.min(100, +percent || 0)) + '%';
    r.bar.title = msg || '';
  }

  function plural(n, word) { return n + ' ' + word + (n === 1 ? '' : 's'); }

  // What the overlay shows: build problems first, else runtime errors, else nothing.
  function render() {
    var kind = build ? build.kind : runtime.length ? 'runtime' : null;
    if (!kind) return ui && (ui.ov.hidden = true);
    var list = build ? build.list : runtime, r = root();
    r.ov.className = 'ov ' + (kind === 'warnings' ? 'warnings' : 'errors');
    r.title.textContent = kind === 'errors' ? 'Failed to compile: ' + plural(list.length, 'error')
      : kind === 'warnings' ? 'Compiled with ' + plural(list.length, 'warning')
        : plural(list.length, 'uncaught runtime error');
    r.hint.textContent = kind === 'runtime' ? 'Esc to dismiss' : 'Esc to dismiss · fix and save to reload';
    r.list.textContent = '';
    list.slice(0, MAX_ITEMS).forEach(function (text) { r.list.appendChild(item(text)); });
    if (list.length > MAX_ITEMS) r.list.appendChild(el('p', 'more', '… ' + (list.length - MAX_ITEMS) + ' more not shown'));
    r.ov.hidden = false;
  }

  // The build's problems (`kind` errors or warnings), or none (`kind` null).
  function show(kind, list) {
    build = kind ? { kind: kind, list: list } : null;
    render();
  }

  function runtimeError(text) {
    runtime.push(text);
    render();
  }

  // Dismiss everything shown (Esc, ×).
  function hide() {
    build = null;
    runtime = [];
    render();
  }

  function visible() { return !!ui && !ui.ov.hidden; }

  function item(text) {
    var pre = el('pre');
    if (text.length > MAX_CHARS) text = text.slice(0, MAX_CHARS) + '\n… ' + (text.length - MAX_CHARS) + ' more characters';
    var parts = segments(text), plain = parts.map(function (p) { return p.text; }).join('');
    var links = locations(plain), box = pre, at = 0, li = 0;
    parts.forEach(function (part) {
      for (var i = 0, s = part.text; i < s.length;) {
        var l = links[li], stop = s.length;
        if (box === pre && l && at + i >= l.start) pre.appendChild(box = link(l));
        if (box !== pre) stop = Math.min(stop, l.end - at);
        else if (l) stop = Math.min(stop, l.start - at);
        add(box, s.slice(i, stop), part.st);
        i = stop;
        if (box !== pre && at + i >= l.end) { box = pre; li++; }
      }
      at += part.text.length;
    });
    return pre;
  }

  function add(parent, s, st) {
    var span = el('span', '', s);
    for (var k in st) if (st[k]) span.style[k] = st[k];
    parent.appendChild(span.style.length ? span : document.createTextNode(s));
  }

  // Every `file:line:col`-like word in `text` (after any opening parentheses), as
  // {start, end, file, line, column}; words over 2000 characters are skipped.
  function locations(text) {
    var out = [], w, m;
    for (WORD.lastIndex = 0; (w = WORD.exec(text));) {
      var lead = /^\(*/.exec(w[0])[0].length, start = w.index + lead;
      if (w[0].length > 2000 || !(m = LOCATION.exec(w[0].slice(lead)))) continue;
      out.push({ start: start, end: start + m[1].length, file: m[2], line: +(m[3] || m[5]), column: +(m[4] || m[6] || 1) });
    }
    return out;
  }

  function link(l) {
    var a = el('a', 'loc');
    a.href = '#';
    a.title = 'Open ' + l.file + ' in the editor';
    a.onclick = function (e) {
      e.preventDefault();
      hooks.openEditor(l.file, l.line, l.column);
    };
    return a;
  }

  // ANSI SGR -> [{text, st}] with inline styles; other escapes are dropped; text stays text.
  function segments(text) {
    var st = {}, last = 0, out = [], m;
    function push(s) {
      if (!s) return;
      var copy = {};
      for (var k in st) copy[k] = st[k];
      out.push({ text: s, st: copy });
    }
    for (ANSI.lastIndex = 0; (m = ANSI.exec(text));) {
      push(text.slice(last, m.index));
      last = ANSI.lastIndex;
      var codes = m[2] === 'm' ? m[1].split(/[;:]/) : [];
      for (var i = 0; i < codes.length; i++) {
        var c = +codes[i] || 0;
        if (!c) st = {};
        else if (SGR[c]) st[SGR[c][0]] = SGR[c][1];
        if (c === 22) st.opacity = '';
        if (c >= 30 && c <= 37 || c >= 90 && c <= 97) st.color = PALETTE[c % 10 + (c > 89 ? 8 : 0)];
        if (c >= 40 && c <= 47 || c >= 100 && c <= 107) st.backgroundColor = PALETTE[c % 10 + (c > 99 ? 8 : 0)];
        if (c === 38 || c === 48) i += codes[i + 1] === '2' ? 4 : 2;
      }
    }
    push(text.slice(last));
    return out;
  }

  return { indicator: indicator, pill: pill, progress: progress, show: show, hide: hide,
    runtimeError: runtimeError, visible: visible, strip: function (t) { return String(t).replace(ANSI, ''); } };
}
