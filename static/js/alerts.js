/* Balas attention surface: the nav badge, the one alert bar, the live alerts list, acknowledging,
 * and the browser notifications the server coalesced per member, shown once per browser.
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

  /* ---- browser notifications ---------------------------------------------------------- */
  // The server coalesces per member (monitoring/services/browser_notify.py): at most one
  // `notification.created` per interval, summarising what arrived. Every tab of this browser receives it;
  // they share the keys already shown in localStorage, changed only under a Web Lock, so one tab
  // shows it and the others do not.
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
      return { last: Number(st.last) || 0, shown: Array.isArray(st.shown) ? st.shown : [] };
    } catch (e) {
      return { last: 0, shown: [] };
    }
  }
  function writeState(st) {
    try {
      localStorage.setItem(KEY, JSON.stringify(st));
    } catch (e) { /* storage full or disabled: each tab decides alone */ }
  }
  function canNotify() {
    return "Notification" in window && Notification.permission === "granted";
  }
  function notifyOnce(event) {
    if (!canNotify() || !event.key || !(Number(event.count) > 0)) return;
    withLock(function () {
      var st = readState();
      if (st.shown.indexOf(event.key) !== -1) return;
      st.shown = st.shown.concat([event.key]).slice(-30);
      st.last = Date.now();
      writeState(st);
      show(event);
    });
  }
  function show(event) {
    var count = Number(event.count);
    var one = Number(event.conversation_id) > 0 ? Number(event.conversation_id) : null;
    var title = count === 1 && event.title ? String(event.title)
      : t("many", "{n} peringatan baru").replace("{n}", String(count));
    var target = one !== null ? (body.dataset.conversationUrl || "/c/0/").replace("/0/", "/" + one + "/")
      : body.dataset.alertsUrl + "?state=open";
    try {
      var n = new Notification(title, { body: String(event.names || ""), tag: "balas-alerts-" + memberId });
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
    if (event.type === "notification.created") {
      notifyOnce(event);
      return;
    }
    refreshSoon();
  });
  document.addEventListener("balas:reconnected", refreshSoon);

  function start() {
    setupNotifyButton();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
  window.BalasAlerts = { refresh: refreshSoon, acknowledge: acknowledge };
})();
