"""The owner's dashboard in real headless Chromium: the charts draw, and a new reply shows up live.

Served by uvicorn (the project's ASGI app: HTTP pages plus the /ws/inbox/ WebSocket) in a thread,
against the test database and the real Redis channel layer.
"""

from __future__ import annotations

import random
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from inbox.models import Member
from inbox.services.events import message_events_publish
from monitoring.models import Alert
from tests.browser.conftest import wait_js
from tests.factories import ChannelFactory, ContactFactory, ConversationFactory, MemberFactory, ShopFactory
from tests.monitoring.test_reports import measurement_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOT = Path(settings.BASE_DIR) / "docs" / "screenshots" / "dashboard.png"
PASSWORD = "S3cret!pass"  # tests.factories.UserFactory's password


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def asgi_server() -> Iterator[str]:
    import uvicorn
    from channels.routing import ProtocolTypeRouter
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
    from django.core.asgi import get_asgi_application

    from config.asgi import application

    # The project's routing, with static files served from the finders as in development.
    app = ProtocolTypeRouter(
        {
            "http": ASGIStaticFilesHandler(get_asgi_application()),
            "websocket": application.application_mapping["websocket"],
        }
    )
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def in_thread(fn: Callable[[], Any]) -> Any:
    """Run ORM work outside Playwright's event loop (Django refuses sync ORM calls inside one)."""
    result: dict[str, Any] = {}

    def run() -> None:
        try:
            result["value"] = fn()
        except Exception as exc:  # noqa: BLE001 - re-raised in the test's thread
            result["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result.get("value")


def seed() -> dict[str, Any]:
    rng = random.Random(7)
    shop = ShopFactory(name="Glow Beauty")
    owner = MemberFactory(shop=shop, role=Member.Role.OWNER, user__first_name="Olla")
    admins = [MemberFactory(shop=shop, user__first_name=name) for name in ("Ani", "Budi", "Citra")]
    channels = [
        ChannelFactory(shop=shop, platform="whatsapp", name="WA Toko"),
        ChannelFactory(shop=shop, platform="instagram", name="IG Toko"),
        ChannelFactory(shop=shop, platform="shopee", name="Shopee Toko"),
    ]
    now = timezone.now()
    for _ in range(90):
        member = rng.choice([*admins, None])
        wall = rng.choice([40, 90, 150, 240, 420, 900, 2400, 7200])
        measurement_create(
            channel=rng.choice(channels),
            member=member,
            # Within the last six days: always inside the default period (today and the six days before).
            replied_at=now - timedelta(minutes=rng.randint(1, 6 * 24 * 60)),
            wall=wall,
            business=wall * rng.choice([1, 1, 0.5]),
            sla_met=wall <= 300,
            terse=rng.random() < 0.2,
            text=rng.choice(["ok", "Halo kak, stok ready ya 😊", "cek sendiri", "Siap kak, dikirim hari ini 🙏"]),
        )
    waiting = ConversationFactory(
        contact=ContactFactory(channel=channels[0], name="Sari"), waiting_since=now - timedelta(minutes=47)
    )
    ConversationFactory(
        contact=ContactFactory(channel=channels[1], name="Dewi"), waiting_since=now - timedelta(minutes=8)
    )
    Alert.objects.create(shop=shop, conversation=waiting, kind="slow_reply", title="Sari menunggu 47 menit")
    return {"owner": owner, "admin": admins[0], "channel": channels[0], "waiting": waiting}


CHART_STATE = """
() => {
  const out = {};
  for (const id of ["chart-days", "chart-hours", "chart-members"]) {
    const canvas = document.getElementById(id);
    const chart = window.Chart && Chart.getChart(canvas);
    let painted = 0;
    if (canvas && canvas.width && canvas.height) {
      const px = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
      for (let i = 3; i < px.length; i += 4) if (px[i] !== 0) painted++;
    }
    out[id] = {
      exists: !!chart,
      points: chart ? chart.data.datasets.map(d => d.data.filter(v => v !== null && v !== undefined).length) : [],
      painted: painted,
    };
  }
  const hours = Chart.getChart(document.getElementById("chart-hours"));
  out.hourTotal = hours.data.datasets[0].data.reduce((a, b) => a + b, 0);
  return out;
}
"""


def test_dashboard_draws_charts_and_updates_live(asgi_server: str) -> None:
    from playwright.sync_api import sync_playwright

    data = seed()
    owner = data["owner"]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1000}, locale="id-ID")
            page.goto(f"{asgi_server}/dashboard/")
            # Anonymous: sent to the login page first.
            assert "/login/" in page.url
            page.fill("#id_username", owner.user.username)
            page.fill("#id_password", PASSWORD)
            page.click("button[type=submit].primary")
            page.wait_for_url("**/dashboard/**")
            wait_js(page, "() => window.Chart && Chart.getChart(document.getElementById('chart-members'))")

            state = page.evaluate(CHART_STATE)
            for chart_id in ("chart-days", "chart-hours", "chart-members"):
                assert state[chart_id]["exists"], chart_id
                assert max(state[chart_id]["points"]) > 0, (chart_id, state[chart_id])
                assert state[chart_id]["painted"] > 1000, (chart_id, state[chart_id])  # pixels actually drawn
            assert state["hourTotal"] == 90
            assert page.locator("#table-members tbody tr").count() == 4  # three admins and the app
            assert page.locator("#waiting-list li").first.inner_text().startswith("Sari")
            assert page.locator("#alert-list").inner_text().count("Sari menunggu 47 menit") == 1
            assert page.locator("#slowest-list a").first.get_attribute("href").startswith("/c/")
            assert page.inner_text("h1") == "Dasbor waktu balas"

            # The live socket is up (same /ws/inbox/ as the inbox).
            wait_js(page, "() => document.getElementById('dash-live').dataset.state === 'on'")
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT), full_page=True)

            # A new shop reply is measured and announced: the charts update without a reload.
            def reply() -> None:
                measurement = measurement_create(
                    channel=data["channel"],
                    member=data["admin"],
                    replied_at=timezone.now(),
                    wall=65,
                    business=65,
                    sla_met=True,
                    terse=False,
                )
                message_events_publish(message=measurement.message, conversation=measurement.conversation)

            in_thread(reply)
            wait_js(
                page,
                "() => Chart.getChart(document.getElementById('chart-hours')).data.datasets[0].data"
                ".reduce((a, b) => a + b, 0) === 91",
                timeout=20000,
            )
            assert page.evaluate("() => !!document.getElementById('dashboard').dataset.refreshedAt")
            # The re-rendered panels carry the new count (90 + 1 replies).
            assert page.locator('[data-stat="count"]').inner_text() == "91"

            # An admin of the shop is refused.
            admin_page = browser.new_page()
            admin_page.goto(f"{asgi_server}/login/")
            admin_page.fill("#id_username", data["admin"].user.username)
            admin_page.fill("#id_password", PASSWORD)
            admin_page.click("button[type=submit].primary")
            admin_page.wait_for_load_state()
            response = admin_page.goto(f"{asgi_server}/dashboard/")
            assert response is not None and response.status == 403
        finally:
            browser.close()
