"""The attention surface in real headless Chromium: one bar however many alerts, a live alerts list,
bulk acknowledge reaching every open tab, and a burst of alerts as one browser notification."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import connections

from inbox.models import Conversation, Member
from monitoring.models import Alert
from monitoring.services.alerts import alert_raise
from tests.factories import ChannelFactory, ConversationFactory, MemberFactory, MessageFactory, ShopFactory
from tests.support import redis_flush, running_worker

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "S3cret!pass"
WAIT_MS = 15_000

# Counts every `new Notification(...)` of the page (and still shows it), before any script runs.
COUNT_NOTIFICATIONS = """
(() => {
  const Original = window.Notification;
  window.__notes = [];
  function Counted(title, options) {
    window.__notes.push({ title: String(title), body: String((options && options.body) || "") });
    try { return new Original(title, options); } catch (e) { return { close() {} }; }
  }
  Object.defineProperty(Counted, "permission", { get: () => Original.permission });
  Counted.requestPermission = (...args) => Original.requestPermission(...args);
  window.Notification = Counted;
})();
"""


@pytest.fixture
def setup(db: Any) -> dict[str, Any]:
    shop = ShopFactory(name="Glow Beauty")
    owner = MemberFactory(shop=shop, role=Member.Role.OWNER, user__first_name="Rina")
    channel = ChannelFactory(shop=shop, platform="whatsapp", name="WA Glow")
    return {"shop": shop, "owner": owner, "channel": channel}


@pytest.fixture
def context_for(chromium: Any, asgi_server: str) -> Iterator[Callable[..., Any]]:
    contexts: list[Any] = []

    def make(*, width: int = 1366, height: int = 800, mobile: bool = False, notifications: bool = False) -> Any:
        context = chromium.new_context(
            viewport={"width": width, "height": height},
            is_mobile=mobile,
            has_touch=mobile,
            device_scale_factor=2 if mobile else 1,
            locale="id-ID",
            timezone_id="Asia/Jakarta",
            base_url=asgi_server,
        )
        if notifications:
            context.grant_permissions(["notifications"], origin=asgi_server)
            context.add_init_script(COUNT_NOTIFICATIONS)
        context.set_default_timeout(WAIT_MS)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


def login(page: Any, member: Member, then: str = "/") -> None:
    page.goto("/login/")
    page.fill("#id_username", member.user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/$"))
    if then != "/":
        page.goto(then)
    page.wait_for_selector("body[data-live='on']", state="attached")


def in_thread(fn: Callable[[], Any]) -> Any:
    """Run ORM work (and the publishing it triggers) in a plain thread: this one runs Playwright's loop."""
    result: list[Any] = []

    def run() -> None:
        try:
            result.append(fn())
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return result[0] if result else None


def raise_alerts(channel: Any, count: int, *, kind: str = Alert.Kind.SLOW_REPLY) -> list[Alert]:
    def make() -> list[Alert]:
        alerts = []
        for i in range(count):
            conversation = ConversationFactory(contact__channel=channel, contact__name=f"Pelanggan {i:02d}")
            alert, _ = alert_raise(conversation=conversation, kind=kind, title=f"Pelanggan {i:02d} menunggu balasan")
            alerts.append(alert)
        return alerts

    return list(in_thread(make))


def visible_in_viewport(page: Any, selector: str) -> dict[str, float]:
    box = page.locator(selector).bounding_box()
    assert box is not None, f"{selector} is not rendered"
    viewport = page.viewport_size
    assert box["x"] >= 0 and box["y"] >= 0, (selector, box)
    assert box["x"] + box["width"] <= viewport["width"] + 0.5, (selector, box, viewport)
    assert box["y"] + box["height"] <= viewport["height"] + 0.5, (selector, box, viewport)
    return box


@pytest.mark.parametrize(("width", "height", "mobile"), [(1366, 800, False), (390, 844, True)])
def test_fifty_open_alerts_are_one_bar_and_the_thread_stays_visible(
    context_for: Any, setup: dict[str, Any], width: int, height: int, mobile: bool, screenshots: Any
) -> None:
    channel = setup["channel"]
    conversation = ConversationFactory(contact__channel=channel, contact__name="Siti Rahma")
    for i in range(6):
        MessageFactory(conversation=conversation, text=f"Kak, pertanyaan ke-{i} soal serum ini")
    raise_alerts(channel, 40)
    raise_alerts(channel, 10, kind=Alert.Kind.TERSE_REPLY)
    assert Alert.objects.filter(state="open").count() == 50

    page = context_for(width=width, height=height, mobile=mobile).new_page()
    login(page, setup["owner"], then=f"/c/{conversation.pk}/")

    # Open alerts are there on load, counted by the server: one bar, one badge, no banners.
    assert page.locator(".alert-bar").count() == 1
    assert page.locator(".alert-banner").count() == 0
    assert page.locator("#alert-badge").inner_text() == "50"
    text = page.locator(".alert-bar-text").inner_text()
    assert "40 pelanggan menunggu terlalu lama" in text and "10 balasan ketus" in text
    bar = visible_in_viewport(page, ".alert-bar")
    assert bar["height"] <= 48  # one line, two on a phone
    header = visible_in_viewport(page, "#thread-header")
    visible_in_viewport(page, "#reply-form")
    messages = visible_in_viewport(page, "#thread-messages")
    assert header["y"] >= bar["y"] + bar["height"] - 0.5
    assert messages["height"] >= 150
    # More alerts arriving live still make one bar.
    raise_alerts(channel, 5)
    page.wait_for_function("document.getElementById('alert-badge').textContent.trim() === '55'")
    assert page.locator(".alert-bar").count() == 1
    visible_in_viewport(page, "#reply-form")
    page.screenshot(path=str(screenshots / f"alerts-bar-{width}x{height}.png"))

    # The bar opens the list.
    page.locator(".alert-bar").click()
    page.wait_for_url(re.compile(r"/alerts/"))
    assert page.locator(".alert-group").count() == 55


def test_the_alerts_page_is_live_and_grouped_by_conversation(context_for: Any, setup: dict[str, Any]) -> None:
    channel = setup["channel"]
    conversation = ConversationFactory(contact__channel=channel, contact__name="Budi Santoso")
    page = context_for().new_page()
    login(page, setup["owner"], then="/alerts/")
    assert page.locator(".alert-group").count() == 0
    page.evaluate("window.__sameDocument = 7")

    def three() -> None:
        alert_raise(conversation=conversation, kind=Alert.Kind.SLOW_FIRST_REPLY, title="Budi belum dapat balasan")
        alert_raise(conversation=conversation, kind=Alert.Kind.TERSE_REPLY, title="Rina membalas ketus")
        alert_raise(conversation=conversation, kind=Alert.Kind.SLOW_REPLY, title="Budi menunggu balasan")

    in_thread(three)
    group = page.locator(f"#alert-group-{conversation.pk}")
    group.wait_for()
    page.wait_for_function(f"document.querySelectorAll('#alert-group-{conversation.pk} .alert-row').length === 3")
    assert page.locator(".alert-group").count() == 1
    assert page.evaluate("window.__sameDocument") == 7
    page.wait_for_function("document.getElementById('alert-badge').textContent.trim() === '3'")

    # A second conversation's alert is a second row, live; the kind filter keeps only its kind.
    other = raise_alerts(channel, 1)[0]
    page.locator(f"#alert-group-{other.conversation_id}").wait_for()
    assert page.locator(".alert-group").count() == 2
    page.select_option("select[name=kind]", "slow_first_reply")
    page.wait_for_url(re.compile(r"kind=slow_first_reply"))
    assert page.locator(".alert-group").count() == 1

    # Acknowledging a group acknowledges every alert of that conversation, and keeps who.
    page.goto("/alerts/?state=open")
    page.wait_for_selector("body[data-live='on']", state="attached")
    page.locator(f"#alert-group-{conversation.pk} .alert-group-ack").click()
    page.wait_for_selector(f"#alert-group-{conversation.pk}", state="detached")
    acked = Alert.objects.filter(conversation=conversation)
    assert {(a.state, a.acknowledged_by_id) for a in acked} == {("acknowledged", setup["owner"].pk)}
    assert Alert.objects.get(pk=other.pk).state == "open"


def test_bulk_acknowledge_in_one_tab_clears_the_bar_and_badge_in_another(
    context_for: Any, setup: dict[str, Any]
) -> None:
    channel = setup["channel"]
    admin = MemberFactory(shop=setup["shop"], role=Member.Role.ADMIN, user__first_name="Dina")
    raise_alerts(channel, 12)
    owner_context = context_for()
    inbox = owner_context.new_page()
    login(inbox, setup["owner"])
    assert inbox.locator("#alert-badge").inner_text() == "12"
    alerts_tab = owner_context.new_page()
    alerts_tab.goto("/alerts/?state=open")
    alerts_tab.wait_for_selector("body[data-live='on']", state="attached")
    # The admin, in a second browser, sees the same unassigned alerts.
    admin_page = context_for().new_page()
    login(admin_page, admin)
    assert admin_page.locator("#alert-badge").inner_text() == "12"

    alerts_tab.click("#ack-all")

    for page in (inbox, alerts_tab, admin_page):
        page.wait_for_selector("#alert-badge[hidden]", state="attached")
    inbox.wait_for_selector(".alert-bar", state="detached")
    admin_page.wait_for_selector(".alert-bar", state="detached")
    alerts_tab.wait_for_selector(".alert-group", state="detached")
    assert Alert.objects.filter(state="open").count() == 0
    assert set(Alert.objects.values_list("acknowledged_by_id", flat=True)) == {setup["owner"].pk}


def test_a_burst_of_ten_alerts_is_one_notification_across_two_tabs(context_for: Any, setup: dict[str, Any]) -> None:
    channel = setup["channel"]
    # Before any socket joins its group: the flush clears the whole Redis db.
    redis_flush()
    with running_worker(concurrency=2):
        context = context_for(notifications=True)
        first = context.new_page()
        login(first, setup["owner"])
        second = context.new_page()
        second.goto("/alerts/")
        second.wait_for_selector("body[data-live='on']", state="attached")
        assert first.evaluate("Notification.permission") == "granted"

        raise_alerts(channel, 10)

        first.wait_for_function("document.getElementById('alert-badge').textContent.trim() === '10'")

        def notes() -> list[dict[str, str]]:
            return [*first.evaluate("window.__notes"), *second.evaluate("window.__notes")]

        deadline = time.monotonic() + 10
        while not notes() and time.monotonic() < deadline:
            time.sleep(0.2)
        # Well past the gathering delay: nothing more comes, in either tab.
        time.sleep(3)
        shown = notes()
        assert len(shown) == 1, shown
        assert shown[0]["title"] == "10 peringatan baru"
        assert "Pelanggan" in shown[0]["body"]

        # One more alert inside the interval (60 s): no second notification now.
        raise_alerts(channel, 1)
        first.wait_for_function("document.getElementById('alert-badge').textContent.trim() === '11'")
        time.sleep(3)
        assert len(notes()) == 1
    redis_flush()
    assert Conversation.objects.count() == 11
