// devserve's browser client: connects to the dev server's SockJS endpoint
// and reloads the page when the served files or the build change.
// Plain JavaScript, no build step; one global: `devserve`.
(function () {
  "use strict";
  if (window.devserve) return;

  var PREFIX = "/sockjs-node";
  var MAX_RETRIES = 10;
  var state = { retries: 0, hash: null, initial: true, liveReload: false, hot: false, socket: null, announced: false };

  function log(level, text) {
    var fn = console[level] || console.log;
    fn.call(console, "[devserve] " + text);
  }

  function sessionUrl() {
    var scheme = location.protocol === "https:" ? "wss:" : "ws:";
    var server = String(Math.floor(Math.random() * 1000)).padStart(3, "0");
    var session = Math.random().toString(36).slice(2, 10);
    return scheme + "//" + location.host + PREFIX + "/" + server + "/" + session + "/websocket";
  }

  function reload() {
    log("info", "Reloading…");
    location.reload();
  }

  var handlers = {
    "liveReload": function () { state.liveReload = true; },
    "hot": function () { state.hot = true; },
    "hash": function (hash) {
      if (state.hash !== null && state.hash !== hash && state.reconnected) {
        state.pendingReload = true;
      }
      state.hash = hash;
    },
    "ok": function () {
      if (state.pendingReload || (!state.initial && state.liveReload)) return reload();
      state.initial = false;
    },
    "warnings": function (warnings) {
      (warnings || []).forEach(function (w) { log("warn", w); });
      handlers.ok();
    },
    "errors": function (errors) {
      (errors || []).forEach(function (e) { log("error", e); });
      state.initial = false;
    },
    "content-changed": function () { reload(); },
  };

  function onMessage(text) {
    var message;
    try { message = JSON.parse(text); } catch (e) { return; }
    var handler = handlers[message.type];
    if (handler) handler(message.data);
  }

  function connect() {
    var ws;
    try { ws = new WebSocket(sessionUrl()); } catch (e) { return scheduleReconnect(); }
    state.socket = ws;
    ws.onmessage = function (event) {
      var frame = String(event.data);
      var kind = frame.charAt(0);
      if (kind === "o") {
        state.retries = 0;
        state.announced = false;
      } else if (kind === "a") {
        var messages;
        try { messages = JSON.parse(frame.slice(1)); } catch (e) { return; }
        messages.forEach(onMessage);
      } else if (kind === "c") {
        ws.close();
      }
    };
    ws.onclose = function () {
      if (state.socket !== ws) return;
      state.socket = null;
      if (!state.announced) {
        log("info", "Disconnected!");
        state.announced = true;
      }
      state.reconnected = true;
      scheduleReconnect();
    };
  }

  function scheduleReconnect() {
    if (state.retries > MAX_RETRIES) return;
    var delay = 1000 * Math.pow(2, state.retries) + Math.random() * 100;
    state.retries += 1;
    setTimeout(connect, delay);
  }

  window.devserve = { version: 1 };
  connect();
})();
