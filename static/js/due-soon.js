/* The warning before the breach in the inbox list: a conversation with an open `reply_due_soon`
 * alert turns amber and its timer counts down to the reply target instead of up from the wait.
 * Reads the open warnings on load, follows them through the live events inbox.js re-dispatches
 * ("balas:event"), and re-applies the mark every second (a live row refresh replaces the row).
 */
(function () {
  "use strict";
  var body = document.body;
  var due = {}; // conversation id -> {alert: id, at: ms since epoch}

  function t(key, fallback) {
    var el = document.getElementById("balas-i18n");
    if (!el) return fallback;
    try {
      var strings = JSON.parse(el.textContent || "{}");
      return strings[key] || fallback;
    } catch (e) {
      return fallback;
    }
  }
  function pad(n) {
    return n < 10 ? "0" + n : String(n);
  }
  function left(seconds) {
    if (seconds < 0) seconds = 0;
    var h = Math.floor(seconds / 3600);
    var m = Math.floor((seconds % 3600) / 60);
    var s = Math.floor(seconds % 60);
    return h > 0 ? h + ":" + pad(m) + ":" + pad(s) : m + ":" + pad(s);
  }

  function note(alert) {
    if (!alert || alert.kind !== "reply_due_soon" || !alert.conversation_id) return;
    var id = String(alert.conversation_id);
    var at = Date.parse(alert.due_at || "");
    if (alert.state === "resolved" || isNaN(at)) {
      if (due[id] && due[id].alert === alert.id) delete due[id];
    } else {
      due[id] = { alert: alert.id, at: at };
    }
    apply();
  }

  function apply() {
    var now = Date.now();
    document.querySelectorAll("#conversation-list .conv-row").forEach(function (row) {
      var entry = due[row.dataset.id];
      var span = row.querySelector(".due-left");
      if (entry && entry.at <= now) {
        delete due[row.dataset.id]; // past the target: the breach takes over
        entry = undefined;
      }
      if (!entry || !row.dataset.waiting) {
        row.classList.remove("is-due-soon");
        if (span) span.remove();
        return;
      }
      row.classList.add("is-due-soon");
      if (!span) {
        span = document.createElement("span");
        span.className = "due-left";
        var wait = row.querySelector(".wait");
        if (wait && wait.parentNode) wait.parentNode.insertBefore(span, wait.nextSibling);
        else row.appendChild(span);
      }
      span.textContent = t("dueLeft", "sisa %s").replace("%s", left((entry.at - now) / 1000));
    });
  }

  function start() {
    if (!document.getElementById("conversation-list")) return;
    body.addEventListener("balas:event", function (evt) {
      var event = evt.detail || {};
      if (event.type === "alert.created" || event.type === "alert.updated") note(event.alert);
    });
    fetch("/api/v1/alerts/?kind=reply_due_soon&state=open", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : { results: [] }; })
      .then(function (data) {
        (data.results || data || []).forEach(note);
      })
      .catch(function () {});
    fetch("/api/v1/alerts/?kind=reply_due_soon&state=acknowledged", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : { results: [] }; })
      .then(function (data) {
        (data.results || data || []).forEach(note);
      })
      .catch(function () {});
    setInterval(apply, 1000);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
