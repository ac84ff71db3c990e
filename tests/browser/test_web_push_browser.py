"""The Web Push service worker in real Chromium: it registers for the whole site and shows the alert.

Chromium's own push service is not reachable here, so the push is handed to the service worker
through the DevTools protocol (`ServiceWorker.deliverPushMessage`), with the payload Balas sends
(monitoring.services.push.push_payload); the notification is read back with getNotifications().
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest

from inbox.models import Member
from monitoring.models import Alert
from monitoring.services.alerts import alert_raise
from monitoring.services.push import push_payload
from tests.browser.conftest import wait_js
from tests.browser.test_inbox_browser import login, page_for, shop_setup  # noqa: F401 - fixtures
from tests.factories import ConversationFactory, MemberFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _registration_id(cdp: Any, page: Any) -> str:
    seen: list[dict[str, Any]] = []
    cdp.on("ServiceWorker.workerRegistrationUpdated", lambda event: seen.extend(event["registrations"]))
    cdp.send("ServiceWorker.enable")
    end = time.monotonic() + 10
    while time.monotonic() < end:
        ids = [r["registrationId"] for r in seen if not r.get("isDeleted")]
        if ids:
            return str(ids[-1])
        page.wait_for_timeout(100)
    raise AssertionError("no service worker registration reported")


def test_service_worker_registers_and_shows_the_pushed_alert(shop_setup, page_for, asgi_server):  # noqa: F811
    owner: Member = shop_setup["owner"]
    conversation = ConversationFactory(contact__channel=shop_setup["channel"], contact__name="Siti Rahma")
    alert, _ = alert_raise(
        conversation=conversation, kind=Alert.Kind.SLOW_REPLY, title="Siti Rahma menunggu balasan", detail="Sejak 10:00"
    )
    page = page_for()
    page.context.grant_permissions(["notifications"], origin=asgi_server)
    login(page, owner)
    page.goto("/settings/notifications/")
    scope = page.evaluate("navigator.serviceWorker.ready.then(r => r.scope)")
    assert scope == f"{asgi_server}/"
    assert page.evaluate("Notification.permission") == "granted"

    cdp = page.context.new_cdp_session(page)
    registration = _registration_id(cdp, page)
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {"origin": asgi_server, "registrationId": registration, "data": json.dumps(push_payload(alert))},
    )
    read = """navigator.serviceWorker.ready.then(r => r.getNotifications()).then(list => list.map(n => ({
        title: n.title, body: n.body, tag: n.tag, url: n.data && n.data.url, alertId: n.data && n.data.alertId})))"""
    notifications: list[dict[str, Any]] = []
    end = time.monotonic() + 10
    while not notifications and time.monotonic() < end:
        notifications = page.evaluate(read)
        if not notifications:
            page.wait_for_timeout(100)
    assert notifications == [
        {
            "title": "Siti Rahma menunggu balasan",
            "body": "Sejak 10:00",
            "tag": f"balas-conversation-{conversation.pk}",
            "url": f"/c/{conversation.pk}/",
            "alertId": alert.pk,
        }
    ]
    # A second push for the same conversation replaces it (one per conversation, its tag).
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {
            "origin": asgi_server,
            "registrationId": registration,
            "data": json.dumps({**push_payload(alert), "title": "Lagi"}),
        },
    )
    page.wait_for_timeout(500)
    assert [n["title"] for n in page.evaluate(read)] == ["Lagi"]


def test_a_warned_conversation_turns_amber_and_counts_down(shop_setup, page_for, asgi_server):  # noqa: F811
    from datetime import timedelta

    from django.utils import timezone

    from monitoring.models import WaitingPeriod
    from tests.factories import MessageFactory

    admin = MemberFactory(shop=shop_setup["shop"], role=Member.Role.ADMIN)
    now = timezone.now()
    warned = ConversationFactory(contact__channel=shop_setup["channel"], contact__name="Ani", waiting_since=now)
    calm = ConversationFactory(
        contact__channel=shop_setup["channel"], contact__name="Budi", contact__external_id="62899", waiting_since=now
    )
    question = MessageFactory(conversation=warned, sent_at=now)
    period = WaitingPeriod.objects.create(
        shop=shop_setup["shop"],
        conversation=warned,
        first_message=question,
        kind="first",
        started_at=now,
        target_seconds=120,
        deadline_at=now + timedelta(seconds=120),
        warn_at=now + timedelta(seconds=90),
    )
    alert_raise(conversation=warned, kind=Alert.Kind.REPLY_DUE_SOON, title="Segera balas Ani", waiting_period=period)
    page = page_for()
    login(page, admin)
    row = page.locator(f"#conv-{warned.pk}")
    row.locator(".due-left").wait_for()
    assert "is-due-soon" in (row.get_attribute("class") or "")
    first = row.locator(".due-left").inner_text()
    assert first.startswith("sisa 1:") or first.startswith("sisa 2:")
    # It counts down (the page's one-second tick).
    wait_js(
        page,
        f"() => {{ const el = document.querySelector('#conv-{warned.pk} .due-left');"
        f" return el && el.textContent !== {json.dumps(first)}; }}",
    )
    assert "is-due-soon" not in (page.locator(f"#conv-{calm.pk}").get_attribute("class") or "")

    # A warning raised now reaches the open page live and marks its row too.
    def warn_calm() -> None:
        later = MessageFactory(conversation=calm, sent_at=now)
        calm_period = WaitingPeriod.objects.create(
            shop=shop_setup["shop"],
            conversation=calm,
            first_message=later,
            kind="first",
            started_at=now,
            target_seconds=300,
            deadline_at=now + timedelta(seconds=300),
            warn_at=now + timedelta(seconds=200),
        )
        alert_raise(
            conversation=calm, kind=Alert.Kind.REPLY_DUE_SOON, title="Segera balas Budi", waiting_period=calm_period
        )

    thread = threading.Thread(target=warn_calm)
    thread.start()
    thread.join()
    page.locator(f"#conv-{calm.pk} .due-left").wait_for()
    assert page.locator(f"#conv-{calm.pk} .due-left").inner_text().startswith("sisa 4:")
