/* Balas service worker (served at /sw.js, scope "/"): shows Web Push alerts with no tab open.
 * The payload is what monitoring/services/push.py sends: {title, body, url, tag, alert_id, kind}.
 * One notification per conversation (its tag): a second push for it replaces the first. */
"use strict";

function payloadOf(event) {
  if (!event.data) return {};
  try {
    return event.data.json();
  } catch (e) {
    return { title: event.data.text() };
  }
}

self.addEventListener("install", function () {
  self.skipWaiting();
});

self.addEventListener("activate", function (event) {
  event.waitUntil(self.clients.claim());
});

self.addEventListener("push", function (event) {
  var data = payloadOf(event);
  var options = {
    body: data.body || "",
    tag: data.tag || "balas",
    renotify: true,
    data: { url: data.url || "/alerts/", alertId: data.alert_id || null, kind: data.kind || "" },
  };
  event.waitUntil(self.registration.showNotification(data.title || "Balas", options));
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var target = new URL((event.notification.data && event.notification.data.url) || "/", self.location.origin).href;
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (list) {
      for (var i = 0; i < list.length; i++) {
        if (list[i].url === target && "focus" in list[i]) return list[i].focus();
      }
      return self.clients.openWindow(target);
    })
  );
});
