/* Balas attention surface: the nav badge, the one alert bar, the live alerts list, acknowledging,
 * and browser notifications coalesced per member across every tab of this browser.
 *
 * Counts and rows are always server-rendered partials (auto-escaped) re-read after an alert event:
 * the rules of who sees what and how many live on the server. Anything built here is set with
 * textContent. inbox.js owns the socket and hands alert events over as `balas:alert`.
 */
(function () {
  "use strict";

  var body = document.body;
  var memberId = body.dataset.memberId;
  if (!memberId) return;

  var I18N = {};
  try {
    I18N = JSON.parse(document.getElementById("balas-alert-i18n").textContent);
  } catch (e) {
    I18N = {};
  }
  function t(key, fallback) {
    return I18N[key] || fallback;
  }
  function csrfToken() {
    try {
      return JSON.parse(body.getAttribute("hx-headers"))["X-CSRFToken"];
    } catch (e) {
      return "";
    }
  }
  function debounce(fn, ms) {
    var timer = null;
    return function () {
      if (timer) clearTimeout(timer);
      timer = setTimeout(function () { timer = null; fn(); }, ms);
    };
  }

  /* ---- badge and bar: re-read from the server ---------------------------------------- */
  function swapById(doc, id) {
    var fresh = doc.getElementById(id);
    var current = document.getElementById(id);
    if (fresh && current) current.replaceWith(document.importNode(fresh, true));
  }
  function refreshSummary() {
    return fetch(body.dataset.alertSummaryUrl, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (resp) { return resp.ok ? resp.text() : null; })
      .then(function (html) {
        if (html === null) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        swapById(doc, "alert-bar");
        swapById(doc, "alert-badge");
        body.dataset.alertsOpen = (doc.getElementById("alert-badge") || {}).textContent || "0";
      })
      .catch(function () { /* the next event or reconnect reads it again */ });
  }

  /* ---- the alerts page: the grouped list, live ---------------------------------------- */
  function refreshRows() {
    var rows = document.getElementById("alert-rows");
    var pageEl = document.getElementById("alerts-page");
    if (!rows || !pageEl || !window.htmx) return Promise.resolve();
    return htmx.ajax("GET", pageEl.dataset.rowsUrl + location.search, { source: rows, target: rows, swap: "innerHTML" });
  }

  var refreshSoon = debounce(function () {
    refreshSummary();
    refreshRows();
  }, 250);

  /* ---- acknowledging: one, a conversation's, or all ------------------------------------ */
  function acknowledge(payload) {
    return fetch(body.dataset.alertsAckUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(payload),
    }).then(function () { refreshSoon(); });
  }
  function idsOf(el) {
    return String(el.dataset.ackIds || "").split(",").map(Number).filter(function (n) { return n > 0; });
  }
  document.addEventListener("click", function (evt) {
    var el = evt.target.closest && evt.target.closest("[data-ack-ids], [data-ack-all]");
    if (!el) return;
    var form = el.closest("form[data-ack-ids]");
    var source = form || el;
    if (source.hasAttribute("data-ack-all")) {
      evt.preventDefault();
      var all = { all: true };
      if (source.dataset.kind) all.kind = source.dataset.kind;
      acknowledge(all);
      return;
    }
    var ids = idsOf(source);
    if (!ids.length) return;
    evt.preventDefault();
    acknowledge({ ids: ids });
  });

  /* ---- browser notifications, coalesced ------------------------------------------------ */
  // Every tab of this browser gets the same events. They share one state in localStorage, changed
  // only under a Web Lock, so a burst becomes one notification and two tabs never both show it:
  // the first alert waits GATHER_MS for the rest of its burst, and no two notifications of this
  // member come closer than the interval (settings.BALAS_ALERT_NOTIFY_INTERVAL_S).
  var INTERVAL_MS = Math.max(1, Number(body.dataset.notifyInterval) || 60) * 1000;
  var GATHER_MS = 2000;
  var KEY = "balas.notify." + memberId;

  function withLock(fn) {
    if (navigator.locks && navigator.locks.request) {
      return navigator.locks.request(KEY, function () { return fn(); });
    }
    return Promise.resolve().then(fn);
  }
  function readState() {
    try {
      var st = JSON.parse(localStorage.getItem(KEY) || "{}");
      return { last: Number(st.last) || 0, due: Number(st.due) || 0, pending: st.pending || {} };
    } catch (e) {
      return { last: 0, due: 0, pending: {} };
    }
  }
  function writeState(st) {
    try {
      localStorage.setItem(KEY, JSON.stringify(st));
    } catch (e) { /* storage full or disabled: notifications stay per tab */ }
  }
  function canNotify() {
    return "Notification" in window && Notification.permission === "granted";
  }
  function scheduleFlush(at) {
    setTimeout(flush, Math.max(0, at - Date.now()) + 20);
  }
  function enqueue(alert) {
    if (!canNotify() || alert.id === undefined) return;
    withLock(function () {
      var st = readState();
      var now = Date.now();
      if (st.due && st.due + 10000 < now) st.due = 0; // a tab closed before its flush
      st.pending[String(alert.id)] = {
        c: Number(alert.conversation_id) || 0,
        t: String(alert.title || ""),
        n: String(alert.contact_name || ""),
      };
      if (!st.due) st.due = Math.max(now + GATHER_MS, st.last + INTERVAL_MS);
      writeState(st);
      scheduleFlush(st.due);
    });
  }
  function flush() {
    withLock(function () {
      var st = readState();
      var now = Date.now();
      if (!st.due) return;
      if (now < st.due) {
        scheduleFlush(st.due);
        return;
      }
      var items = Object.keys(st.pending).map(function (k) { return st.pending[k]; });
      st.pending = {};
      st.due = 0;
      if (items.length) st.last = now;
      writeState(st);
      if (items.length) show(items);
    });
  }
  function show(items) {
    var conversations = {};
    items.forEach(function (item) { conversations[item.c] = true; });
    var ids = Object.keys(conversations);
    var one = ids.length === 1 && Number(ids[0]) > 0 ? Number(ids[0]) : null;
    var title, text;
    if (items.length === 1) {
      title = items[0].t || "Balas";
      text = items[0].n;
    } else {
      title = t("many", "{n} peringatan baru").replace("{n}", String(items.length));
      var names = [];
      items.forEach(function (item) { if (item.n && names.indexOf(item.n) === -1) names.push(item.n); });
      text = names.slice(0, 4).join(", ") + (names.length > 4 ? "…" : "");
    }
    var target = one !== null ? (body.dataset.conversationUrl || "/c/0/").replace("/0/", "/" + one + "/")
      : body.dataset.alertsUrl + "?state=open";
    try {
      var n = new Notification(title, { body: text, tag: "balas-alerts-" + memberId });
      n.onclick = function () {
        window.focus();
        location.href = target;
        n.close();
      };
    } catch (e) {
      /* some browsers only allow notifications from a service worker */
    }
  }

  function setupNotifyButton() {
    var btn = document.getElementById("notify-btn");
    if (!btn || !("Notification" in window) || Notification.permission !== "default") return;
    btn.hidden = false;
    btn.addEventListener("click", function () {
      Notification.requestPermission().then(function () { btn.hidden = true; });
    });
  }

  /* ---- events -------------------------------------------------------------------------- */
  document.addEventListener("balas:alert", function (evt) {
    var event = evt.detail || {};
    var alert = event.alert || {};
    if (event.type === "alert.created" && event.notify !== false && alert.state === "open") enqueue(alert);
    refreshSoon();
  });
  document.addEventListener("balas:reconnected", refreshSoon);

  function start() {
    setupNotifyButton();
    var st = readState();
    if (st.due) scheduleFlush(st.due);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
  window.BalasAlerts = { refresh: refreshSoon, acknowledge: acknowledge };
})();
