"""Reactions and edits reach the open thread live, in real headless Chromium, without a reload.

The customer's message comes through the real WhatsApp webhook; the reaction and the edit through
the real ingest (`deliveries_ingest`, with the adapters' shapes built directly), whose
`message.updated` events travel over the real channel layer to the uvicorn server's socket. The
shop's own reaction goes from the bubble's menu through the platform's API (the local stand-in).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from inbox.adapters.base import MessageEdit, ParsedEvent, Reaction
from inbox.models import Message
from inbox.services import deliveries_ingest
from tests.browser.test_inbox_browser import deliver, login, page_for, shop_setup, whatsapp_body  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def ingest(channel: Any, event: ParsedEvent) -> None:
    """deliveries_ingest from a plain thread: this one runs Playwright's event loop."""
    results: list[Any] = []
    thread = threading.Thread(
        target=lambda: results.append(deliveries_ingest(deliveries=[(channel, event)], raw_body="{}"))
    )
    thread.start()
    thread.join()
    assert results and results[0] is not None


def test_a_reaction_chip_and_an_edit_appear_in_the_open_thread(
    page_for: Any,  # noqa: F811
    asgi_server: str,
    shop_setup: dict[str, Any],  # noqa: F811
    fake_platforms: Any,
    screenshots: Path,
) -> None:
    channel = shop_setup["channel"]
    deliver(asgi_server, channel, whatsapp_body(message_id="wamid.LIVE-1", text="Kak, serum ini ready? mau 2"))
    message = Message.objects.get(platform_message_id="wamid.LIVE-1")
    page = page_for()
    login(page, shop_setup["owner"])
    page.locator("#conversation-list .conv-row a").first.click()
    bubble = page.locator(f"#msg-{message.pk}")
    bubble.wait_for()
    assert bubble.locator(".reaction-chip").count() == 0
    page.evaluate("window.__sameDocument = 42")

    ingest(channel, ParsedEvent(reactions=(Reaction("wamid.LIVE-1", "6281234567890", "❤️", False, timezone.now()),)))
    page.locator(f"#msg-{message.pk} .reaction-chip.from-customer[data-emoji='❤️']").wait_for()

    edit = MessageEdit("wamid.LIVE-1", "6281234567890", "Kak, serum ini ready? mau 3", False, timezone.now())
    ingest(channel, ParsedEvent(edits=(edit,)))
    page.locator(f"#msg-{message.pk} .msg-text", has_text="mau 3").wait_for()
    edited = page.locator(f"#msg-{message.pk}")
    assert edited.locator(".msg-edits summary").inner_text().startswith("diedit")
    # The earlier text stays, folded under "diedit".
    assert edited.locator(".edit-history").text_content() == "Kak, serum ini ready? mau 2"
    # The chip stays on the redrawn bubble, which is still one bubble.
    assert edited.locator(".reaction-chip[data-emoji='❤️']").count() == 1
    assert page.locator("#thread-messages [id^='msg-']").count() == 1
    assert page.evaluate("window.__sameDocument") == 42

    # The shop reacts from the bubble's menu: sent through WhatsApp's API, shown as the shop's chip.
    edited.locator(".react-menu summary").click()
    edited.locator(".react-btn", has_text="👍").click()
    page.locator(f"#msg-{message.pk} .reaction-chip.from-shop[data-emoji='👍']").wait_for()
    [sent] = [r for r in fake_platforms.requests_for("whatsapp") if (r.json or {}).get("type") == "reaction"]
    assert sent.json["reaction"] == {"message_id": "wamid.LIVE-1", "emoji": "👍"}
    assert page.evaluate("window.__sameDocument") == 42
    page.screenshot(path=str(screenshots / "thread-reactions-edits.png"))
