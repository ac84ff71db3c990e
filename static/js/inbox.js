/* Balas inbox: live updates over /ws/inbox/, waiting timers, reply box helpers.
 *
 * Rule: this script never turns message text into HTML. Rows, bubbles and headers are
 * fetched as server-rendered (auto-escaped) partials through htmx.ajax; anything built
 * here (tone reasons) is set with textContent; alerts are static/js/alerts.js.
 */
(function () {
  "use strict";

  var body = document.body;
  var I18N = {};
  try {
    I18N = JSON.parse(document.getElementById("balas-i18n").textContent);
  } catch (e) {
    I18N = {};
  }
  function t(key, fallback) {
    return I18N[key] || fallback;
  }
  function urlFor(attr, id) {
    return (body.dataset[attr] || "").replace("/0/", "/" + id + "/");
  }
  function isWide() {
    return window.matchMedia("(min-width: 768px)").matches;
  }
  function layout() {
    return document.getElementById("layout");
  }
  function openConversationId() {
    var thread = document.getElementById("thread");
    return thread ? Number(thread.dataset.conversationId) : null;
  }
  function filterQuery(extra) {
    var form = document.getElementById("filters");
    var params = new URLSearchParams(form ? new FormData(form) : undefined);
    Object.keys(extra || {}).forEach(function (k) {
      if (extra[k] !== null && extra[k] !== undefined) params.set(k, extra[k]);
    });
    var q = params.toString();
    return q ? "?" + q : "";
  }

  /* ---- waiting timers ---------------------------------------------------------------- */
  function pad(n) {
    return n < 10 ? "0" + n : String(n);
  }
  function formatWait(seconds) {
    if (seconds < 0) seconds = 0;
    var d = Math.floor(seconds / 86400);
    var h = Math.floor((seconds % 86400) / 3600);
    var m = Math.floor((seconds % 3600) / 60);
    var s = Math.floor(seconds % 60);
    if (d > 0) return d + "d " + h + "h";
    if (h > 0) return h + ":" + pad(m) + ":" + pad(s);
    return m + ":" + pad(s);
  }
  function tickWaits() {
    var now = Date.now();
    document.querySelectorAll(".wait[data-since]").forEach(function (el) {
      var since = Date.parse(el.dataset.since);
      if (!isNaN(since)) el.textContent = formatWait((now - since) / 1000);
    });
  }

  /* ---- tab title -------------------------------------------------------------------- */
  function setWaitingCount(n) {
    var list = document.getElementById("conversation-list");
    if (list) list.dataset.waitingCount = String(n);
    document.title = (n > 0 ? "(" + n + ") " : "") + t("title", "Balas");
  }
  body.addEventListener("balas:waiting", function (evt) {
    var count = evt.detail && typeof evt.detail.count === "number" ? evt.detail.count : null;
    if (count !== null) setWaitingCount(count);
  });

  /* ---- list ordering (same order as the server) -------------------------------------- */
  function rowKey(li) {
    // data-waiting is the server's Conversation.waiting_at (empty when nobody waits): the rule of
    // "waiting" lives on the server, never here.
    var waiting = li.dataset.waiting ? Date.parse(li.dataset.waiting) : NaN;
    var last = li.dataset.last ? Date.parse(li.dataset.last) : NaN;
    return { waiting: waiting, last: last, id: Number(li.dataset.id) };
  }
  function compareRows(a, b) {
    var ka = rowKey(a), kb = rowKey(b);
    var wa = !isNaN(ka.waiting), wb = !isNaN(kb.waiting);
    if (wa !== wb) return wa ? -1 : 1;
    if (wa && ka.waiting !== kb.waiting) return ka.waiting - kb.waiting;
    var la = isNaN(ka.last) ? -Infinity : ka.last, lb = isNaN(kb.last) ? -Infinity : kb.last;
    if (la !== lb) return lb - la;
    return kb.id - ka.id;
  }
  function tidyList() {
    var list = document.getElementById("conversation-list");
    if (!list) return;
    list.querySelectorAll(".conv-row-gone").forEach(function (el) { el.remove(); });
    var rows = Array.prototype.slice.call(list.querySelectorAll(":scope > li.conv-row"));
    var seen = {};
    // A row fetched twice at once (two events) lands twice: keep the newest copy.
    for (var i = rows.length - 1; i >= 0; i--) {
      if (seen[rows[i].id]) rows[i].remove();
      seen[rows[i].id] = true;
    }
    rows = Array.prototype.slice.call(list.querySelectorAll(":scope > li.conv-row"));
    rows.sort(compareRows).forEach(function (row) { list.appendChild(row); });
    var empty = list.querySelector(".list-empty");
    if (empty && rows.length) empty.remove();
    markActiveRow();
    tickWaits();
  }
  function markActiveRow() {
    var id = openConversationId();
    document.querySelectorAll("#conversation-list .conv-row").forEach(function (row) {
      row.classList.toggle("active", id !== null && Number(row.dataset.id) === id);
    });
  }

  // htmx.ajax without a source issues every request from <body>, and htmx lets one element have one
  // request in flight and one queued, each newer one replacing the queued: a burst of live events (a
  // bubble, its row, the header) kept only the last refresh and dropped the new message's bubble.
  // Each load is issued from its own target, so only a newer load of the same element replaces an
  // older queued one, and that one reads the later state anyway.
  function load(url, target, swap) {
    return htmx.ajax("GET", url, { source: target, target: target, swap: swap });
  }
  // A new row or bubble gets a hidden placeholder first, in the order the events came, so that it
  // has an element of its own to load into.
  function placeholder(container, tag, id, atStart) {
    var el = document.createElement(tag);
    el.id = id;
    el.hidden = true;
    container.insertBefore(el, atStart ? container.firstChild : null);
    return el;
  }

  function refreshList() {
    var list = document.getElementById("conversation-list");
    if (!list || !window.htmx) return Promise.resolve();
    return load(body.dataset.indexUrl + filterQuery(), list, "innerHTML");
  }

  function refreshRow(conversationId) {
    var list = document.getElementById("conversation-list");
    if (!list) return Promise.resolve();
    var url = urlFor("rowUrl", conversationId) + filterQuery({ active: openConversationId() });
    var row = document.getElementById("conv-" + conversationId) || placeholder(list, "li", "conv-" + conversationId, true);
    return load(url, row, "outerHTML");
  }

  /* ---- thread -------------------------------------------------------------------------- */
  function scrollThreadToEnd() {
    var box = document.getElementById("thread-messages");
    if (box) box.scrollTop = box.scrollHeight;
  }
  function dedupeBubbles() {
    var box = document.getElementById("thread-messages");
    if (!box) return;
    var seen = {};
    var bubbles = box.querySelectorAll(".msg[id]");
    for (var i = bubbles.length - 1; i >= 0; i--) {
      if (seen[bubbles[i].id]) bubbles[i].remove();
      seen[bubbles[i].id] = true;
    }
  }
  function refreshBubble(messageId) {
    var url = urlFor("bubbleUrl", messageId);
    var bubble = document.getElementById("msg-" + messageId);
    if (bubble) return load(url, bubble, "outerHTML");
    var box = document.getElementById("thread-messages");
    if (!box) return Promise.resolve();
    return load(url, placeholder(box, "div", "msg-" + messageId, false), "outerHTML").then(function () {
      dedupeBubbles();
      scrollThreadToEnd();
    });
  }
  function refreshHeader(conversationId) {
    var header = document.getElementById("thread-header");
    if (!header) return Promise.resolve();
    return load(urlFor("headerUrl", conversationId), header, "outerHTML");
  }

  function openThread(href, push) {
    var lay = layout();
    return load(href, document.getElementById("thread-pane"), "innerHTML").then(function () {
      if (push) history.pushState({ balasThread: href }, "", href);
      if (lay) lay.classList.add("has-thread");
      markActiveRow();
      scrollThreadToEnd();
      var text = document.getElementById("reply-text");
      if (text) text.focus();
    });
  }

  document.addEventListener("click", function (evt) {
    var link = evt.target.closest && evt.target.closest("a[data-thread-link]");
    if (!link || !window.htmx || !document.getElementById("thread-pane")) return;
    if (!isWide() || evt.ctrlKey || evt.metaKey || evt.shiftKey || evt.button !== 0) return;
    // Wide screens: the thread opens in the right pane; phones follow the link to a full page.
    evt.preventDefault();
    openThread(link.getAttribute("href"), true);
  });
  window.addEventListener("popstate", function () {
    if (!document.getElementById("thread-pane")) return;
    var m = location.pathname.match(/\/c\/(\d+)\/$/);
    if (m) {
      openThread(location.pathname, false);
    } else {
      location.reload();
    }
  });

  /* ---- live events ------------------------------------------------------------------- */
  var socket = null;
  var attempts = 0;
  var everConnected = false;

  function handleEvent(event) {
    if (!event || typeof event.type !== "string") return;
    // Other scripts (the due-soon marks) follow the same events.
    body.dispatchEvent(new CustomEvent("balas:event", { detail: event }));
    var openId = openConversationId();
    if (event.type === "message.created" || event.type === "message.updated") {
      if (openId !== null && Number(event.conversation_id) === openId && event.message) {
        refreshBubble(event.message.id);
      }
    } else if (event.type === "conversation.updated" && event.conversation) {
      refreshRow(event.conversation.id);
      if (openId !== null && Number(event.conversation.id) === openId) refreshHeader(openId);
    } else if (event.type.indexOf("alert.") === 0 || event.type.indexOf("notification.") === 0) {
      // The attention surface (bar, badge, alerts list, notifications) is static/js/alerts.js.
      document.dispatchEvent(new CustomEvent("balas:alert", { detail: event }));
    }
  }

  function connect() {
    // Every signed-in page listens: the nav badge and the alerts page are live too.
    if (!body.dataset.memberId && !document.getElementById("conversation-list") && !document.getElementById("thread")) return;
    var proto = location.protocol === "https:" ? "wss:" : "ws:";
    socket = new WebSocket(proto + "//" + location.host + "/ws/inbox/");
    socket.addEventListener("open", function () {
      attempts = 0;
      body.classList.remove("is-offline");
      body.dataset.live = "on";
      // Whatever happened while the socket was down (or loading) is read again from the server.
      if (everConnected) {
        document.dispatchEvent(new CustomEvent("balas:reconnected"));
        refreshList();
        var openId = openConversationId();
        if (openId !== null) refreshHeader(openId);
      }
      everConnected = true;
    });
    socket.addEventListener("message", function (msg) {
      var data;
      try {
        data = JSON.parse(msg.data);
      } catch (e) {
        return;
      }
      handleEvent(data);
    });
    socket.addEventListener("close", function (evt) {
      body.dataset.live = "off";
      body.classList.add("is-offline");
      if (evt.code === 4401) return; // refused: the login is gone, reconnecting will not help
      attempts += 1;
      var delay = Math.min(30000, 1000 * Math.pow(2, attempts - 1)) * (0.75 + Math.random() * 0.5);
      setTimeout(connect, delay);
    });
  }

  /* ---- reply box: quick replies ------------------------------------------------------ */
  function replyParts() {
    var form = document.getElementById("reply-form");
    if (!form) return null;
    return {
      form: form,
      text: document.getElementById("reply-text"),
      menu: document.getElementById("qr-menu"),
      toggle: form.querySelector(".qr-toggle"),
      tone: document.getElementById("tone-panel"),
    };
  }
  var slashMode = false;

  function menuItems(parts) {
    return Array.prototype.slice.call(parts.menu.querySelectorAll(".qr-item"));
  }
  function visibleItems(parts) {
    return menuItems(parts).filter(function (el) { return !el.hidden; });
  }
  function openMenu(parts, query) {
    var q = (query || "").toLowerCase();
    var any = false;
    menuItems(parts).forEach(function (el) {
      var match = !q || el.dataset.shortcut.toLowerCase().indexOf(q) === 0 ||
        el.dataset.text.toLowerCase().indexOf(q) !== -1;
      el.hidden = !match;
      el.classList.remove("active");
      any = any || match;
    });
    var first = visibleItems(parts)[0];
    if (first) first.classList.add("active");
    var empty = parts.menu.querySelector(".qr-empty");
    if (empty) empty.hidden = any;
    parts.menu.hidden = false;
    if (parts.toggle) parts.toggle.setAttribute("aria-expanded", "true");
  }
  function closeMenu(parts) {
    parts.menu.hidden = true;
    slashMode = false;
    if (parts.toggle) parts.toggle.setAttribute("aria-expanded", "false");
  }
  function insertQuickReply(parts, item) {
    var name = parts.form.dataset.customerName || "";
    var text = item.dataset.text.split("{nama}").join(name);
    var ta = parts.text;
    if (slashMode) {
      ta.value = text;
    } else {
      var start = ta.selectionStart || 0, end = ta.selectionEnd || 0;
      ta.value = ta.value.slice(0, start) + text + ta.value.slice(end);
    }
    closeMenu(parts);
    ta.focus();
    ta.selectionStart = ta.selectionEnd = ta.value.length;
  }
  function moveActive(parts, step) {
    var items = visibleItems(parts);
    if (!items.length) return;
    var idx = items.findIndex(function (el) { return el.classList.contains("active"); });
    items.forEach(function (el) { el.classList.remove("active"); });
    idx = (idx + step + items.length) % items.length;
    items[idx].classList.add("active");
    items[idx].scrollIntoView({ block: "nearest" });
  }

  /* ---- fields a suggestion left to fill ([[harga]]): never sent as they are ------------ */
  var FIELD_RE = /\[\[[^\[\]\n]{1,80}\]\]/g;
  function fieldRanges(value) {
    var out = [];
    var m;
    FIELD_RE.lastIndex = 0;
    while ((m = FIELD_RE.exec(value)) !== null) out.push([m.index, m.index + m[0].length]);
    return out;
  }
  function selectField(parts, forward) {
    var ranges = fieldRanges(parts.text.value);
    if (!ranges.length) return false;
    var pick = forward ? ranges[0] : ranges[ranges.length - 1];
    var i;
    if (forward) {
      for (i = 0; i < ranges.length; i++) {
        if (ranges[i][0] >= parts.text.selectionEnd) { pick = ranges[i]; break; }
      }
    } else {
      for (i = ranges.length - 1; i >= 0; i--) {
        if (ranges[i][1] <= parts.text.selectionStart) { pick = ranges[i]; break; }
      }
    }
    parts.text.focus();
    parts.text.setSelectionRange(pick[0], pick[1]);
    return true;
  }
  function fieldsState(parts) {
    var count = fieldRanges(parts.text.value).length;
    var hint = document.getElementById("reply-fields-hint");
    var send = parts.form.querySelector(".send-btn");
    if (send) send.disabled = count > 0;
    if (hint) hint.hidden = count === 0;
    parts.form.classList.toggle("has-fields", count > 0);
    return count;
  }

  document.addEventListener("input", function (evt) {
    if (evt.target.id !== "reply-text") return;
    var parts = replyParts();
    if (!parts) return;
    fieldsState(parts);
    var value = parts.text.value;
    var m = value.match(/^\/(\S*)$/);
    if (m) {
      slashMode = true;
      openMenu(parts, m[1]);
    } else if (slashMode) {
      closeMenu(parts);
    }
  });
  document.addEventListener("keydown", function (evt) {
    if (evt.target.id !== "reply-text") return;
    var parts = replyParts();
    if (!parts) return;
    if (!parts.menu.hidden) {
      if (evt.key === "ArrowDown" || evt.key === "ArrowUp") {
        evt.preventDefault();
        moveActive(parts, evt.key === "ArrowDown" ? 1 : -1);
        return;
      }
      if (evt.key === "Enter" || evt.key === "Tab") {
        var active = parts.menu.querySelector(".qr-item.active:not([hidden])");
        if (active) {
          evt.preventDefault();
          insertQuickReply(parts, active);
          return;
        }
      }
      if (evt.key === "Escape") {
        evt.preventDefault();
        closeMenu(parts);
        return;
      }
    }
    if (evt.key === "Tab" && !evt.ctrlKey && !evt.altKey && !evt.metaKey && fieldRanges(parts.text.value).length) {
      evt.preventDefault();
      selectField(parts, !evt.shiftKey);
      return;
    }
    if (evt.key === "Enter" && (evt.ctrlKey || evt.metaKey)) {
      evt.preventDefault();
      parts.form.requestSubmit();
    }
  });
  document.addEventListener("click", function (evt) {
    var parts = replyParts();
    if (!parts) return;
    var item = evt.target.closest && evt.target.closest(".qr-item");
    if (item && parts.menu.contains(item)) {
      evt.preventDefault();
      insertQuickReply(parts, item);
      return;
    }
    if (evt.target.closest && evt.target.closest(".qr-toggle")) {
      evt.preventDefault();
      if (parts.menu.hidden) {
        slashMode = false;
        openMenu(parts, "");
      } else {
        closeMenu(parts);
      }
      return;
    }
    var toneButton = evt.target.closest && evt.target.closest("[data-tone-action]");
    if (toneButton && parts.tone.contains(toneButton)) {
      evt.preventDefault();
      toneAction(parts, toneButton.dataset.toneAction);
    }
  });

  /* ---- reply box: tone check before sending ------------------------------------------ */
  var pendingSend = null;

  function csrfToken() {
    try {
      return JSON.parse(body.getAttribute("hx-headers"))["X-CSRFToken"];
    } catch (e) {
      return "";
    }
  }
  function toneCheck(customer, reply, conversationId) {
    // The check advises; it must never stop a reply: any failure or a slow answer means "send".
    var controller = "AbortController" in window ? new AbortController() : null;
    var timer = setTimeout(function () { if (controller) controller.abort(); }, 2500);
    return fetch(body.dataset.toneUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(), "Accept": "application/json" },
      body: JSON.stringify(conversationId ? { customer: customer, reply: reply, conversation: conversationId } : { customer: customer, reply: reply }),
      signal: controller ? controller.signal : undefined,
    }).then(function (resp) {
      clearTimeout(timer);
      if (!resp.ok) return null;
      return resp.json();
    }).catch(function () {
      clearTimeout(timer);
      return null;
    });
  }
  function showTone(parts, verdict) {
    var list = parts.tone.querySelector(".tone-reasons");
    while (list.firstChild) list.removeChild(list.firstChild);
    (Array.isArray(verdict.reasons) ? verdict.reasons : []).forEach(function (reason) {
      var li = document.createElement("li");
      li.textContent = typeof reason === "string" ? reason : String(reason && (reason.text || reason.message || reason.code) || "");
      list.appendChild(li);
    });
    var suggestion = typeof verdict.suggestion === "string" ? verdict.suggestion : "";
    parts.tone.querySelector(".tone-suggestion").textContent = suggestion;
    parts.tone.querySelector(".tone-suggestion-row").hidden = !suggestion;
    parts.tone.querySelector(".tone-use").hidden = !suggestion;
    parts.tone.dataset.suggestion = suggestion;
    parts.tone.hidden = false;
  }
  function toneAction(parts, action) {
    if (action === "send" && pendingSend) {
      parts.tone.hidden = true;
      var go = pendingSend;
      pendingSend = null;
      go();
    } else if (action === "use") {
      parts.text.value = parts.tone.dataset.suggestion || parts.text.value;
      parts.tone.hidden = true;
      pendingSend = null;
      parts.text.focus();
      parts.text.setSelectionRange(0, 0);
      if (fieldsState(parts)) selectField(parts, true);
    } else {
      parts.tone.hidden = true;
      pendingSend = null;
      parts.text.focus();
    }
  }

  document.addEventListener("htmx:confirm", function (evt) {
    if (!evt.target || evt.target.id !== "reply-form") return;
    var parts = replyParts();
    var draft = parts.text.value.trim();
    if (!draft) return;
    evt.preventDefault();
    if (fieldsState(parts)) {
      // The server refuses it too; this only saves the round trip and shows where.
      parts.text.setSelectionRange(0, 0);
      selectField(parts, true);
      return;
    }
    parts.tone.hidden = true;
    parts.form.classList.add("is-checking");
    var customer = [];
    try {
      customer = JSON.parse(parts.form.dataset.customer || "[]");
    } catch (e) {
      customer = [];
    }
    toneCheck(customer, draft, parseInt(parts.form.dataset.conversation || "0", 10) || null).then(function (verdict) {
      parts.form.classList.remove("is-checking");
      var send = function () { evt.detail.issueRequest(true); };
      if (verdict && verdict.terse === true) {
        pendingSend = send;
        showTone(parts, verdict);
      } else {
        send();
      }
    });
  });

  body.addEventListener("balas:replied", function () {
    var parts = replyParts();
    if (!parts) return;
    parts.text.value = "";
    parts.tone.hidden = true;
    fieldsState(parts);
    closeMenu(parts);
    dedupeBubbles();
    scrollThreadToEnd();
  });

  /* ---- htmx hooks -------------------------------------------------------------------- */
  document.addEventListener("htmx:afterSwap", function (evt) {
    var target = evt.detail && evt.detail.target;
    if (!target) return;
    if (target.id === "conversation-list" || (target.classList && target.classList.contains("conv-row")) ||
        (target.closest && target.closest("#conversation-list"))) {
      tidyList();
    }
    if (target.id === "thread-messages") {
      dedupeBubbles();
    }
    tickWaits();
  });
  // A swapped row or bubble replaces its target, so afterSwap may see a detached node: tidy on settle
  // too (a live event's bubble can land after the reply form appended the same message).
  document.addEventListener("htmx:afterSettle", function () {
    tidyList();
    dedupeBubbles();
  });

  /* ---- start ------------------------------------------------------------------------- */
  function start() {
    var list = document.getElementById("conversation-list");
    if (list && list.dataset.waitingCount !== undefined) setWaitingCount(Number(list.dataset.waitingCount));
    tickWaits();
    setInterval(tickWaits, 1000);
    scrollThreadToEnd();
    connect();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }

  window.Balas = { handleEvent: handleEvent, refreshList: refreshList, formatWait: formatWait };
})();
