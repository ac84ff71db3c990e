/* Web Push on this browser: registers the service worker (/sw.js, whole-site scope) for a member,
 * and on the notification settings page subscribes this browser with the server's VAPID key
 * (POST /api/v1/me/push-subscriptions/) or unsubscribes it (DELETE). */
(function () {
  "use strict";
  if (!document.querySelector(".topbar")) return;

  if (!("serviceWorker" in navigator)) return;

  function csrf() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (e) {
      return "";
    }
  }
  function keyBytes(b64) {
    var padded = (b64 + "===".slice((b64.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(padded);
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }
  function send(method, body) {
    return fetch("/api/v1/me/push-subscriptions/", {
      method: method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() },
      body: JSON.stringify(body),
    });
  }

  var ready = navigator.serviceWorker.register("/sw.js", { scope: "/" }).then(function () {
    return navigator.serviceWorker.ready;
  });

  function start() {
    var box = document.getElementById("push-settings");
    if (!box) return;
    var status = box.querySelector("[data-push-status]");
    var on = box.querySelector("[data-push-on]");
    var off = box.querySelector("[data-push-off]");
    var key = box.dataset.vapidKey;
    function show(text, subscribed) {
      if (status) status.textContent = text;
      if (on) on.hidden = !!subscribed;
      if (off) off.hidden = !subscribed;
    }
    if (!key || !("PushManager" in window)) {
      show(box.dataset.textUnsupported || "", false);
      if (on) on.hidden = true;
      return;
    }
    ready.then(function (reg) {
      return reg.pushManager.getSubscription().then(function (sub) {
        show(sub ? box.dataset.textOn : box.dataset.textOff, !!sub);
      });
    });
    if (on) on.addEventListener("click", function () {
      Notification.requestPermission().then(function (permission) {
        if (permission !== "granted") {
          show(box.dataset.textDenied || "", false);
          return;
        }
        ready.then(function (reg) {
          return reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) });
        }).then(function (sub) {
          return send("POST", sub.toJSON());
        }).then(function (response) {
          show(response.ok ? box.dataset.textOn : box.dataset.textFailed, response.ok);
        }).catch(function () {
          show(box.dataset.textFailed || "", false);
        });
      });
    });
    if (off) off.addEventListener("click", function () {
      ready.then(function (reg) {
        return reg.pushManager.getSubscription();
      }).then(function (sub) {
        if (!sub) return null;
        var endpoint = sub.endpoint;
        return sub.unsubscribe().then(function () { return send("DELETE", { endpoint: endpoint }); });
      }).then(function () {
        show(box.dataset.textOff, false);
      });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
