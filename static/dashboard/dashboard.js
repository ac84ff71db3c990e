/* The owner's dashboard: draws the three charts from the embedded JSON and keeps the page live.
 *
 * Live: listens on /ws/inbox/ (the same socket as the inbox). A shop reply, a conversation change or
 * an alert schedules one debounced refetch of /dashboard/data/ with the page's filters; the reply's
 * measurement is computed by a worker right after the message is stored, so a shop reply also
 * schedules a second, later refetch to pick it up.
 */
(function () {
  "use strict";

  var root = document.getElementById("dashboard");
  var dataEl = document.getElementById("dashboard-charts");
  if (!root || !dataEl || typeof window.Chart === "undefined") {
    return;
  }
  var Chart = window.Chart;
  var charts = {};
  var DEBOUNCE_MS = 1200;
  var MEASURE_LAG_MS = 5000;

  var palette = {
    p50: "#0f766e",
    p90: "#dc2626",
    business: "#7c3aed",
    bars: "#2563eb",
    line: "#f59e0b",
    good: "#16a34a",
    warn: "#f59e0b",
    bad: "#dc2626",
  };

  function lineDataset(label, data, color, dashed) {
    return {
      type: "line",
      label: label,
      data: data,
      borderColor: color,
      backgroundColor: color,
      borderDash: dashed ? [6, 4] : [],
      spanGaps: true,
      // Monotone: a smooth line that never overshoots below zero or above the real values.
      cubicInterpolationMode: "monotone",
      pointRadius: 3,
    };
  }

  function configs(d) {
    var t = d.texts;
    return {
      days: {
        type: "line",
        data: {
          labels: d.days.labels,
          datasets: [
            lineDataset(t.p50, d.days.p50_min, palette.p50, false),
            lineDataset(t.p90, d.days.p90_min, palette.p90, false),
            lineDataset(t.p50_business, d.days.p50_business_min, palette.business, true),
          ],
        },
        options: {
          responsive: true,
          maintainAspectRatio: false,
          animation: false,
          interaction: { mode: "index", intersect: false },
          scales: { y: { beginAtZero: true, title: { display: true, text: t.minutes } } },
        },
      },
      hours: {
        type: "bar",
        data: {
          labels: d.hours.labels,
          datasets: [
            { type: "bar", label: t.replies, data: d.hours.count, backgroundColor: palette.bars, yAxisID: "y" },
            Object.assign(lineDataset(t.hour_p50, d.hours.p50_min, palette.line, false), { yAxisID: "y1" }),
          ],
        },
        options: {
          responsive: true,
          maintainAspectRatio: false,
          animation: false,
          interaction: { mode: "index", intersect: false },
          scales: {
            y: { beginAtZero: true, position: "left", title: { display: true, text: t.replies } },
            y1: {
              beginAtZero: true,
              position: "right",
              grid: { drawOnChartArea: false },
              title: { display: true, text: t.minutes },
            },
          },
        },
      },
      members: {
        type: "bar",
        data: {
          labels: d.members.labels,
          datasets: [
            {
              label: t.sla_met,
              data: d.members.sla_met_pct,
              backgroundColor: d.members.sla_met_pct.map(function (v) {
                if (v === null) return "#9ca3af";
                return v >= 90 ? palette.good : v >= 75 ? palette.warn : palette.bad;
              }),
            },
          ],
        },
        options: {
          indexAxis: "y",
          responsive: true,
          maintainAspectRatio: false,
          animation: false,
          plugins: { legend: { display: false } },
          scales: { x: { min: 0, max: 100, title: { display: true, text: "%" } } },
        },
      },
    };
  }

  function draw(d) {
    var cfg = configs(d);
    Object.keys(cfg).forEach(function (name) {
      var canvas = document.getElementById("chart-" + name);
      if (!canvas) return;
      if (charts[name]) {
        // Update in place: no flicker, and Chart.getChart(canvas) stays the same object.
        charts[name].data.labels = cfg[name].data.labels;
        charts[name].data.datasets = cfg[name].data.datasets;
        charts[name].update();
      } else {
        charts[name] = new Chart(canvas, cfg[name]);
      }
    });
  }

  draw(JSON.parse(dataEl.textContent));

  // ---- live refresh -------------------------------------------------------------------------
  var pending = null;
  var inflight = false;
  var again = false;

  function dataUrl() {
    var q = root.getAttribute("data-query") || "";
    return root.getAttribute("data-data-url") + (q ? "?" + q : "");
  }

  function refresh() {
    if (inflight) {
      again = true;
      return;
    }
    inflight = true;
    fetch(dataUrl(), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      })
      .then(function (payload) {
        draw(payload.charts);
        var panels = document.getElementById("dash-panels");
        if (panels) panels.innerHTML = payload.panels_html;
        root.setAttribute("data-refreshed-at", payload.generated_at);
        root.dispatchEvent(new CustomEvent("dashboard:refreshed", { detail: payload }));
      })
      .catch(function (err) {
        if (window.console) console.warn("dashboard refresh failed", err);
      })
      .finally(function () {
        inflight = false;
        if (again) {
          again = false;
          schedule(DEBOUNCE_MS);
        }
      });
  }

  function schedule(delay) {
    if (pending) clearTimeout(pending);
    pending = setTimeout(function () {
      pending = null;
      refresh();
    }, delay);
  }

  function isShopMessage(ev) {
    return ev.message && ev.message.direction === "out";
  }

  function onEvent(ev) {
    if (!ev || !ev.type) return;
    if (ev.type === "message.created" && isShopMessage(ev)) {
      schedule(DEBOUNCE_MS);
      setTimeout(function () {
        schedule(DEBOUNCE_MS);
      }, MEASURE_LAG_MS);
    } else if (ev.type === "message.updated" && isShopMessage(ev)) {
      schedule(DEBOUNCE_MS);
    } else if (
      ev.type === "conversation.updated" ||
      ev.type === "alert.created" ||
      ev.type === "alert.updated" ||
      ev.type.indexOf("measurement.") === 0
    ) {
      schedule(DEBOUNCE_MS);
    }
  }

  var live = document.getElementById("dash-live");
  var backoff = 1000;

  function setLive(state) {
    if (live) live.setAttribute("data-state", state);
  }

  function connect() {
    var proto = window.location.protocol === "https:" ? "wss://" : "ws://";
    var ws;
    try {
      ws = new WebSocket(proto + window.location.host + "/ws/inbox/");
    } catch (e) {
      setLive("off");
      return;
    }
    ws.onopen = function () {
      setLive("on");
      if (backoff > 1000) schedule(0); // back after a gap: catch up on what was missed
      backoff = 1000;
    };
    ws.onmessage = function (msg) {
      try {
        onEvent(JSON.parse(msg.data));
      } catch (e) {
        /* not JSON: ignore */
      }
    };
    ws.onclose = function (ev) {
      setLive("off");
      if (ev.code === 4401) return; // not allowed: retrying will not help
      setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 30000);
    };
  }

  connect();
  window.balasDashboard = { refresh: refresh, charts: charts };
})();
