"""The inbox in real headless Chromium: live updates, replying, escaping, phone layout, alerts."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from inbox.models import Channel, Conversation, Member, Message
from inbox.realtime import event_publish
from tests.browser.conftest import wait_js
from tests.conftest import sample, signed_headers
from tests.factories import ChannelFactory, MemberFactory, ShopFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "S3cret!pass"
EVIL = "<script>window.__pwned=1</script><b>tebal</b><img src=x onerror=window.__pwned=2>"
WAIT_MS = 15_000


@pytest.fixture
def shop_setup(db: Any) -> dict[str, Any]:
    shop = ShopFactory(name="Glow Beauty")
    owner = MemberFactory(shop=shop, role=Member.Role.OWNER, user__first_name="Rina", user__last_name="Owner")
    channel = ChannelFactory(shop=shop, platform="whatsapp", name="WA Glow")
    return {"shop": shop, "owner": owner, "channel": channel}


@pytest.fixture
def page_for(chromium: Any, asgi_server: str) -> Iterator[Any]:
    contexts: list[Any] = []

    def make(*, width: int = 1280, height: int = 800, mobile: bool = False) -> Any:
        context = chromium.new_context(
            viewport={"width": width, "height": height},
            is_mobile=mobile,
            has_touch=mobile,
            device_scale_factor=2 if mobile else 1,
            locale="id-ID",
            timezone_id="Asia/Jakarta",
            base_url=asgi_server,
        )
        context.set_default_timeout(WAIT_MS)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def whatsapp_body(*, message_id: str, text: str, name: str = "Siti Rahma", wa_id: str = "6281234567890") -> bytes:
    """The WhatsApp sample with a fresh timestamp (inside Meta's 24-hour reply window)."""
    body = json.loads(sample("whatsapp_text.json"))
    value = body["entry"][0]["changes"][0]["value"]
    value["contacts"][0]["profile"]["name"] = name
    value["contacts"][0]["wa_id"] = wa_id
    message = value["messages"][0]
    message.update({"id": message_id, "from": wa_id, "timestamp": str(int(time.time())), "text": {"body": text}})
    return json.dumps(body, ensure_ascii=False).encode()


def deliver(server: str, channel: Channel, raw: bytes) -> None:
    response = requests.post(
        f"{server}/webhooks/whatsapp/",
        data=raw,
        headers={"Content-Type": "application/json", **signed_headers(channel, raw)},
        timeout=10,
    )
    assert response.status_code == 200, response.text


def login(page: Any, member: Member) -> None:
    page.goto("/login/")
    page.fill("#id_username", member.user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/$"))
    # The live socket is open: events from now on reach this page.
    page.wait_for_selector("body[data-live='on']", state="attached")


def send(page: Any, text: str) -> None:
    """Type and send a reply; if the tone judge advises on the wording, send it anyway."""
    page.fill("#reply-text", text)
    page.click("#reply-form button[type=submit]")
    wait_js(page, "!document.getElementById('reply-form').classList.contains('is-checking')")
    if page.locator("#tone-panel").is_visible():
        page.click("[data-tone-action='send']")


def publish(shop_id: int, event_type: str, payload: dict[str, Any]) -> None:
    """event_publish from a plain thread: this one runs Playwright's event loop."""
    thread = threading.Thread(
        target=event_publish, kwargs={"shop_id": shop_id, "event": {"type": event_type, **payload}}
    )
    thread.start()
    thread.join()


def test_webhook_appears_live_then_reply_reaches_the_platform(
    page_for: Any, asgi_server: str, shop_setup: dict[str, Any], fake_platforms: Any, screenshots: Path
) -> None:
    channel = shop_setup["channel"]
    page = page_for()
    login(page, shop_setup["owner"])
    assert page.title() == "Balas"
    page.evaluate("window.__sameDocument = 42")

    deliver(asgi_server, channel, whatsapp_body(message_id="wamid.BROWSER-1", text="Kak, serum ini ready? mau 2"))
    row = page.locator("#conversation-list .conv-row", has_text="Siti Rahma")
    row.wait_for()
    assert "Kak, serum ini ready? mau 2" in row.inner_text()
    assert row.locator(".wait").count() == 1
    assert row.locator(".unread").inner_text() == "1"
    wait_js(page, "document.title === '(1) Balas'")
    # The row came over the socket: the page never reloaded.
    assert page.evaluate("window.__sameDocument") == 42
    # The waiting timer counts up from the customer's message.
    wait_js(
        page,
        "(() => { const t = document.querySelector('.conv-row .wait');"
        " return t && /^\\d+:\\d\\d$/.test(t.textContent); })()",
    )
    page.screenshot(path=str(screenshots / "inbox-desktop.png"))

    row.locator("a").click()
    page.wait_for_selector("#thread .msg-in")
    assert re.search(r"/c/\d+/$", page.url)
    conversation = Conversation.objects.get(channel=channel)
    assert page.locator("#thread").get_attribute("data-conversation-id") == str(conversation.pk)
    # Opening the conversation read it: the row's unread badge goes away live.
    page.wait_for_selector(f"#conv-{conversation.pk}:not(.is-unread)")

    reply = "Halo kak Siti, serumnya ready ya kak 🙏 silakan langsung diorder, terima kasih!"
    send(page, reply)
    page.locator("#thread-messages .msg-out[data-status='sent']", has_text="serumnya ready").wait_for()
    assert page.locator("#reply-text").input_value() == ""
    # The reply's own bubble and its live event's meet once settled (on a loaded machine the event
    # can land first for a moment): two bubbles, and they stay two.
    wait_js(page, "document.querySelectorAll(\"#thread-messages [id^='msg-']\").length === 2")
    page.wait_for_timeout(500)
    assert page.locator("#thread-messages [id^='msg-']").count() == 2

    sent = fake_platforms.requests_for("whatsapp")
    assert len(sent) == 1
    assert sent[0].path == f"/{channel.account_id}/messages"
    assert sent[0].json["to"] == "6281234567890"
    assert sent[0].json["text"]["body"] == reply
    stored = Message.objects.get(direction="out")
    assert (stored.status, stored.text, stored.sent_by_id) == ("sent", reply, shop_setup["owner"].pk)

    # The reply ended the wait: the row and the tab title follow without a reload.
    wait_js(page, "document.title === 'Balas'")
    page.wait_for_selector(f"#conv-{conversation.pk}:not(.is-waiting)")
    assert page.evaluate("window.__sameDocument") == 42
    page.screenshot(path=str(screenshots / "conversation-desktop.png"))


def test_customer_html_is_shown_as_text_and_runs_nothing(
    page_for: Any, asgi_server: str, shop_setup: dict[str, Any], screenshots: Path
) -> None:
    channel = shop_setup["channel"]
    deliver(asgi_server, channel, whatsapp_body(message_id="wamid.XSS-0", text="Halo kak", name="<i>Budi</i>"))
    page = page_for()
    login(page, shop_setup["owner"])
    page.locator("#conversation-list .conv-row a").first.click()
    page.wait_for_selector("#thread .msg-in")

    # Live path: the bubble and the row are fetched as partials while the thread is open.
    deliver(asgi_server, channel, whatsapp_body(message_id="wamid.XSS-1", text=EVIL, name="<i>Budi</i>"))
    bubble = page.locator("#thread-messages .msg-in .msg-text", has_text="tebal")
    bubble.wait_for()
    assert bubble.inner_text() == EVIL
    page.wait_for_selector("#conversation-list .conv-row .conv-preview:has-text('tebal')")
    assert page.locator(".who-name").inner_text() == "<i>Budi</i>"
    assert page.evaluate("window.__pwned") is None
    assert page.locator("#layout b, #layout i, #layout script, #layout img[src='x']").count() == 0

    # Server-rendered path: a full reload of the conversation page.
    page.reload()
    page.locator("#thread-messages .msg-text", has_text="tebal").wait_for()
    assert page.locator("#thread-messages .msg-text").last.inner_text() == EVIL
    assert page.evaluate("window.__pwned") is None
    assert page.locator("#layout b, #layout i, #layout script, #layout img[src='x']").count() == 0


def test_a_burst_of_messages_shows_every_bubble_and_row(
    page_for: Any, asgi_server: str, shop_setup: dict[str, Any]
) -> None:
    # Each delivery sends message.created and conversation.updated; htmx used to keep only the last
    # of several refreshes issued at once, so bubbles of a burst went missing until a reload.
    channel = shop_setup["channel"]
    deliver(asgi_server, channel, whatsapp_body(message_id="wamid.BURST-0", text="Halo kak"))
    page = page_for()
    login(page, shop_setup["owner"])
    page.locator("#conversation-list .conv-row a").first.click()
    page.wait_for_selector("#thread .msg-in")

    texts = [f"pesan ke-{i}" for i in range(1, 6)]
    for i, text in enumerate(texts, start=1):
        deliver(asgi_server, channel, whatsapp_body(message_id=f"wamid.BURST-{i}", text=text))
    # A second customer's first message in the same burst: a new row.
    deliver(asgi_server, channel, whatsapp_body(message_id="wamid.BURST-NEW", text="Permisi", wa_id="6281299"))
    for text in texts:
        page.locator("#thread-messages .msg-in .msg-text", has_text=text).wait_for()
    assert page.locator("#thread-messages .msg-in .msg-text").all_inner_texts() == ["Halo kak", *texts]
    page.wait_for_selector("#conversation-list .conv-row .conv-preview:has-text('Permisi')")
    assert page.locator("#conversation-list .conv-row:not([hidden])").count() == 2


def test_phone_shows_list_then_thread_as_separate_screens(
    page_for: Any, asgi_server: str, shop_setup: dict[str, Any], screenshots: Path
) -> None:
    channel = shop_setup["channel"]
    deliver(asgi_server, channel, whatsapp_body(message_id="wamid.P-1", text="Kak, ready ukuran M?"))
    deliver(
        asgi_server,
        channel,
        whatsapp_body(message_id="wamid.P-2", text="Min, ongkir ke Bandung?", name="Andi", wa_id="6281311112222"),
    )
    page = page_for(width=390, height=844, mobile=True)
    login(page, shop_setup["owner"])
    rows = page.locator("#conversation-list .conv-row")
    assert rows.count() == 2
    assert page.locator(".list-pane").is_visible()
    assert not page.locator("#thread-pane").is_visible()
    # Nothing is wider than the phone's screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(screenshots / "phone-inbox.png"))

    rows.filter(has_text="Andi").locator("a").click()
    page.wait_for_url(re.compile(r"/c/\d+/$"))
    page.wait_for_selector("#thread .msg-in")
    assert not page.locator(".list-pane").is_visible()
    assert page.locator("#reply-text").is_visible()
    assert page.locator(".back-link").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(screenshots / "phone-conversation.png"))
    page.click(".back-link")
    page.wait_for_url(re.compile(r"/$"))
    assert page.locator(".list-pane").is_visible()


def test_alert_bar_opens_the_list_which_shows_titles_as_text_and_links_the_conversation(
    page_for: Any, asgi_server: str, shop_setup: dict[str, Any]
) -> None:
    from monitoring.services.alerts import alert_raise, alerts_acknowledge

    channel = shop_setup["channel"]
    owner = shop_setup["owner"]
    deliver(asgi_server, channel, whatsapp_body(message_id="wamid.A-1", text="Kak?", name="<b>Siti Rahma</b>"))
    conversation = Conversation.objects.get(channel=channel)
    page = page_for()
    login(page, owner)
    assert page.locator(".alert-bar").count() == 0

    def in_thread(fn: Any) -> list[Any]:
        result: list[Any] = []
        thread = threading.Thread(target=lambda: result.append(fn()))
        thread.start()
        thread.join()
        return result

    ((alert, _created),) = in_thread(
        lambda: alert_raise(
            conversation=conversation,
            kind="slow_first_reply",
            title="<b>Siti Rahma</b> belum dapat balasan pertama",
            detail="Target 5 menit sudah lewat.",
        )
    )
    bar = page.locator(".alert-bar")
    bar.wait_for()
    assert "1 pelanggan menunggu terlalu lama" in bar.inner_text()
    assert page.locator(".alert-banner").count() == 0
    bar.click()
    page.wait_for_url(re.compile(r"/alerts/"))
    assert "<b>Siti Rahma</b> belum dapat balasan pertama" in page.locator(f"#alert-row-{alert.pk}").inner_text()
    assert page.locator("#alert-rows b").count() == 0
    page.locator(f"#alert-group-{conversation.pk} .alert-group-name").click()
    page.wait_for_selector(f"#thread[data-conversation-id='{conversation.pk}']")
    page.wait_for_selector("body[data-live='on']", state="attached")
    assert page.locator(".alert-bar").count() == 1

    # Acknowledged elsewhere (another tab, the API): the bar and badge go away live.
    in_thread(lambda: alerts_acknowledge(member=owner, every=True))
    page.wait_for_selector(".alert-bar", state="detached")
    page.wait_for_selector("#alert-badge[hidden]", state="attached")


def test_quick_reply_by_slash_and_by_button(page_for: Any, asgi_server: str, shop_setup: dict[str, Any]) -> None:
    from inbox.services.quick_replies import quick_reply_create

    owner = shop_setup["owner"]
    quick_reply_create(member=owner, shortcut="salam", text="Halo kak {nama}, ada yang bisa dibantu?")
    quick_reply_create(member=owner, shortcut="ongkir", text="Ongkir gratis untuk {nama} ya kak")
    deliver(asgi_server, shop_setup["channel"], whatsapp_body(message_id="wamid.Q-1", text="Kak?"))
    page = page_for()
    login(page, owner)
    page.locator("#conversation-list .conv-row a").first.click()
    page.wait_for_selector("#reply-text")

    page.click("#reply-text")
    page.keyboard.type("/")
    menu = page.locator("#qr-menu")
    menu.wait_for()
    assert menu.locator(".qr-item:visible").count() == 2
    page.keyboard.type("ong")
    assert menu.locator(".qr-item:visible").count() == 1
    page.keyboard.press("Enter")
    assert page.locator("#reply-text").input_value() == "Ongkir gratis untuk Siti Rahma ya kak"
    assert menu.is_hidden()

    page.fill("#reply-text", "")
    page.click(".qr-toggle")
    menu.wait_for()
    menu.locator(".qr-item", has_text="/salam").click()
    assert page.locator("#reply-text").input_value() == "Halo kak Siti Rahma, ada yang bisa dibantu?"


def test_refusal_is_explained_and_failure_can_be_retried(
    page_for: Any, asgi_server: str, shop_setup: dict[str, Any], fake_platforms: Any
) -> None:
    channel = shop_setup["channel"]
    deliver(asgi_server, channel, whatsapp_body(message_id="wamid.F-1", text="Kak, ready?"))
    page = page_for()
    login(page, shop_setup["owner"])
    page.locator("#conversation-list .conv-row a").first.click()
    page.wait_for_selector("#reply-text")

    fake_platforms.queue_response(400, {"error": {"message": "Recipient phone number not valid", "code": 131026}})
    send(page, "Halo kak, terima kasih sudah menunggu, barangnya ready ya 🙏")
    failed = page.locator("#thread-messages .msg-out[data-status='failed']")
    failed.wait_for()
    assert "Recipient phone number not valid" in failed.inner_text()
    failed.locator(".retry-btn").click()
    page.locator("#thread-messages .msg-out[data-status='sent']").wait_for()
    assert page.locator("#thread-messages .msg-out").count() == 1
    assert len(fake_platforms.requests_for("whatsapp")) == 2

    # Outside Meta's 24-hour window: refused before anything reaches the platform.
    Conversation.objects.filter(channel=channel).update(last_inbound_at="2026-01-01T00:00:00Z")
    send(page, "Halo lagi kak, terima kasih 🙏")
    page.locator("#reply-error .refused").wait_for()
    assert "24 jam" in page.locator("#reply-error").inner_text()
    assert len(fake_platforms.requests_for("whatsapp")) == 2
    assert page.locator("#reply-text").input_value() == "Halo lagi kak, terima kasih 🙏"


def test_tone_check_failure_never_blocks_sending(
    page_for: Any, asgi_server: str, shop_setup: dict[str, Any], fake_platforms: Any
) -> None:
    deliver(asgi_server, shop_setup["channel"], whatsapp_body(message_id="wamid.T-1", text="Kak, ready?"))
    page = page_for()
    login(page, shop_setup["owner"])
    page.locator("#conversation-list .conv-row a").first.click()
    page.wait_for_selector("#reply-text")
    # The judge's endpoint is unreachable (network failure injected in the browser).
    page.route("**/api/v1/tone/check/", lambda route: route.abort("connectionrefused"))
    page.fill("#reply-text", "ok")
    page.click("#reply-form button[type=submit]")
    page.locator("#thread-messages .msg-out[data-status='sent']").wait_for()
    assert fake_platforms.requests_for("whatsapp")[0].json["text"]["body"] == "ok"


def _tone_verdict(page: Any, customer: list[str], reply: str) -> dict[str, Any]:
    """What the judge says of `reply` in the open conversation, asked the way the reply box asks."""
    verdict: dict[str, Any] = page.evaluate(
        """async ([customer, reply]) => {
            const form = document.getElementById('reply-form');
            const r = await fetch('/api/v1/tone/check/', {method: 'POST', credentials: 'same-origin',
              headers: {'Content-Type': 'application/json',
                        'X-CSRFToken': JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRFToken']},
              body: JSON.stringify({customer, reply, conversation: parseInt(form.dataset.conversation, 10)})});
            return r.ok ? await r.json() : {status: r.status};
        }""",
        [customer, reply],
    )
    assert "terse" in verdict, verdict
    return verdict


def test_terse_draft_shows_reasons_and_suggestion(
    page_for: Any, asgi_server: str, shop_setup: dict[str, Any], fake_platforms: Any
) -> None:
    deliver(asgi_server, shop_setup["channel"], whatsapp_body(message_id="wamid.T-2", text="Kak, serum ready? berapa?"))
    page = page_for()
    login(page, shop_setup["owner"])
    page.locator("#conversation-list .conv-row a").first.click()
    page.wait_for_selector("#reply-text")
    verdict = _tone_verdict(page, ["Kak, serum ready? berapa?"], "ok")
    assert verdict["terse"] is True
    # The suggestion greets the customer by name (Siti Rahma, from the webhook's profile).
    assert verdict["suggestion"].startswith("Halo kak Siti")

    page.fill("#reply-text", "ok")
    page.click("#reply-form button[type=submit]")
    panel = page.locator("#tone-panel")
    panel.wait_for()
    assert panel.locator(".tone-reasons li").count() == len(verdict["reasons"])
    assert fake_platforms.requests == []
    assert panel.locator(".tone-suggestion").inner_text() == verdict["suggestion"]
    page.click("[data-tone-action='use']")
    assert page.locator("#reply-text").input_value() == verdict["suggestion"]
    assert panel.is_hidden()
    page.fill("#reply-text", "ok")
    page.click("#reply-form button[type=submit]")
    panel.wait_for()
    page.click("[data-tone-action='send']")
    page.locator("#thread-messages .msg-out[data-status='sent']").wait_for()
    assert fake_platforms.requests_for("whatsapp")[0].json["text"]["body"] == "ok"


def test_a_suggestion_with_fields_cannot_be_sent_until_they_are_filled(
    page_for: Any, asgi_server: str, shop_setup: dict[str, Any], fake_platforms: Any
) -> None:
    customer = "Kak, serum ini ready? ongkir ke Bandung berapa? harganya berapa?"
    deliver(asgi_server, shop_setup["channel"], whatsapp_body(message_id="wamid.F-1", text=customer))
    page = page_for()
    login(page, shop_setup["owner"])
    page.locator("#conversation-list .conv-row a").first.click()
    page.wait_for_selector("#reply-text")
    verdict = _tone_verdict(page, [customer], "iya")
    fields = verdict["unfilled_fields"]
    assert len(fields) >= 2, verdict

    page.fill("#reply-text", "iya")
    page.click("#reply-form button[type=submit]")
    page.locator("#tone-panel").wait_for()
    page.click("[data-tone-action='use']")
    box = page.locator("#reply-text")
    selected = (
        "() => { const t = document.getElementById('reply-text');"
        " return t.value.slice(t.selectionStart, t.selectionEnd); }"
    )
    # The cursor is on the first field, Kirim is off and the hint says why.
    assert page.evaluate(selected) == fields[0]
    assert page.locator("#reply-form .send-btn").is_disabled()
    assert page.locator("#reply-fields-hint").is_visible()
    # Tab goes to the next field, Shift+Tab back.
    box.press("Tab")
    assert page.evaluate(selected) == fields[1]
    box.press("Shift+Tab")
    assert page.evaluate(selected) == fields[0]
    # Ctrl+Enter does not get around it.
    box.press("Control+Enter")
    page.wait_for_timeout(300)
    assert fake_platforms.requests == []

    # Typing over each field in turn fills it; then the reply can go.
    for value in ["Rp15.000", "Rp89.000", "ready", "3 hari"][: len(fields)]:
        page.keyboard.type(value)
        box.press("Tab")
    text = box.input_value()
    assert "[[" not in text, text
    assert page.locator("#reply-form .send-btn").is_enabled()
    assert page.locator("#reply-fields-hint").is_hidden()
    page.click("#reply-form button[type=submit]")
    wait_js(page, "!document.getElementById('reply-form').classList.contains('is-checking')")
    if page.locator("#tone-panel").is_visible():
        page.click("[data-tone-action='send']")
    page.locator("#thread-messages .msg-out[data-status='sent']").wait_for()
    assert fake_platforms.requests_for("whatsapp")[0].json["text"]["body"] == text.strip()
