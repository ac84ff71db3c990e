"""The thread shows each message kind in a bubble that fits it, and reactions, edits, deletes and notices."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from bs4 import BeautifulSoup
from django.test import Client
from django.utils import timezone

from inbox.models import Message
from tests.factories import ChannelFactory, ConversationFactory, MemberFactory, MessageFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def page(shop: Any) -> Any:
    member = MemberFactory(shop=shop)
    client = Client()
    client.force_login(member.user)

    channels: dict[str, Any] = {}

    def bubble(platform: str = "whatsapp", **fields: Any) -> Any:
        channel = channels.get(platform) or channels.setdefault(platform, ChannelFactory(shop=shop, platform=platform))
        conversation = ConversationFactory(contact__channel=channel, contact__shop=shop)
        message = MessageFactory(conversation=conversation, **fields)
        response = client.get(f"/m/{message.pk}/bubble/", headers=HTMX)
        assert response.status_code == 200
        return BeautifulSoup(response.content.decode(), "html.parser").find(id=f"msg-{message.pk}")

    return bubble


def test_a_location_is_a_map_link_with_its_name_and_address(page):
    html = page(
        kind="location",
        text="",
        content={"latitude": -6.2, "longitude": 106.816, "name": "Toko Glow", "address": "Jl. Sudirman 1"},
    )
    link = html.select_one(".kind-location a.map-link")
    assert link["href"].startswith("https://www.openstreetmap.org/?mlat=-6.200000&mlon=106.816000")
    assert "Toko Glow" in link.text
    assert html.select_one(".loc-address").text == "Jl. Sudirman 1"


def test_a_location_with_coordinates_out_of_range_has_no_link(page):
    html = page(kind="location", text="", content={"latitude": 500, "longitude": "x", "name": "?"})
    assert html.select_one(".kind-location a") is None


def test_shared_contacts_are_cards_with_their_phones(page):
    html = page(
        kind="contacts", text="", content={"contacts": [{"name": "Budi", "phones": ["+62 812 1", "+62 813 2"]}]}
    )
    card = html.select_one(".kind-contacts .contact-card")
    assert card.strong.text == "Budi"
    assert [p.text for p in card.select(".contact-phone")] == ["+62 812 1", "+62 813 2"]


def test_an_order_lists_its_items(page):
    items = [{"product_id": "SERUM-02", "quantity": 2, "price": 89000, "currency": "IDR"}]
    html = page(kind="order", text="", content={"items": items})
    assert [li.text for li in html.select(".order-items li")] == ["2 × SERUM-02 · 89000 IDR"]


def test_an_interactive_reply_shows_its_title_and_description(page):
    html = page(
        kind="interactive",
        text="Kirim besok",
        content={"reply_id": "b1", "title": "Kirim besok", "description": "Pagi hari"},
    )
    assert "Kirim besok" in html.select_one(".choice-title").text
    assert html.select_one(".choice-desc").text == "Pagi hari"


def test_media_is_a_link_with_its_filename_and_caption(page):
    content = {
        "media_id": "m1",
        "url": "https://cdn.example.invalid/f.pdf",
        "mime_type": "application/pdf",
        "filename": "katalog.pdf",
    }
    html = page(kind="document", text="Katalog terbaru", content=content)
    link = html.select_one(".kind-media a")
    assert link["href"] == "https://cdn.example.invalid/f.pdf"
    assert "katalog.pdf" in link.text
    assert html.select_one(".msg-text").text == "Katalog terbaru"


def test_a_javascript_media_url_is_not_a_link(page):
    html = page(kind="image", text="", content={"media_id": "m1", "url": "javascript:alert(1)"})
    assert html.select_one(".kind-media a") is None


def test_an_unsupported_message_says_so(page):
    html = page(kind="unsupported", text="")
    assert html.select_one(".kind-unsupported").text == "jenis pesan belum didukung"


def test_a_system_notice_is_an_event_line(page):
    html = page(kind="system", text="Nomor pelanggan berganti")
    assert "msg-event" in html["class"]
    assert html.select_one(".event-line").text == "Nomor pelanggan berganti"
    assert html.select_one(".bubble") is None


def test_a_deleted_message_keeps_its_text_labelled(page):
    html = page(text="Maaf salah kirim", deleted_at=timezone.now())
    assert "is-deleted" in html["class"]
    assert "pesan dihapus" in html.select_one(".msg-deleted").text
    assert html.select_one(".msg-text").text == "Maaf salah kirim"


def test_an_edited_message_shows_its_earlier_texts(page):
    at = timezone.now()
    html = page(text="mau 3", edited_at=at, edits=[{"text": "mau 2", "at": (at - timedelta(seconds=5)).isoformat()}])
    assert html.select_one(".msg-edits summary").text.startswith("diedit")
    assert [t.text for t in html.select(".edit-text")] == ["mau 2"]


def test_reactions_are_chips_and_the_shop_can_react_on_whatsapp_only_to_customers(page):
    reactions = [{"emoji": "👍", "from": "customer", "at": timezone.now().isoformat()}]
    html = page(reactions=reactions, platform_message_id="wamid.K1")
    assert [(c.text, c["class"][-1]) for c in html.select(".reaction-chip")] == [("👍", "from-customer")]
    assert html.select(".react-menu .react-btn")
    assert not page(platform="shopee").select(".react-menu")
    assert not page(direction="out", source="echo", status=Message.Status.SENT).select(".react-menu")


def test_a_reply_shows_the_text_it_quotes(page):
    quoted = page(platform_message_id="wamid.Q0", text="Kak, ready warna pink?")
    assert quoted.select_one(".msg-quote") is None
    html = page(platform_message_id="wamid.Q1", text="Yang ini ya", reply_to="wamid.Q0")
    # Another conversation's message is never shown as the quote.
    assert html.select_one(".msg-quote").text == "membalas pesan"


def test_a_reply_in_the_same_conversation_shows_the_quoted_text(shop):
    member = MemberFactory(shop=shop)
    client = Client()
    client.force_login(member.user)
    conversation = ConversationFactory(contact__channel=ChannelFactory(shop=shop), contact__shop=shop)
    MessageFactory(conversation=conversation, platform_message_id="wamid.S0", text="Kak, ready warna pink?")
    reply = MessageFactory(conversation=conversation, platform_message_id="wamid.S1", text="Ini", reply_to="wamid.S0")
    for url in (f"/c/{conversation.pk}/", f"/m/{reply.pk}/bubble/"):
        html = BeautifulSoup(client.get(url, headers=HTMX).content.decode(), "html.parser")
        assert html.find(id=f"msg-{reply.pk}").select_one(".msg-quote").text == "Kak, ready warna pink?"


def test_several_attachments_are_all_shown_beside_the_contents_media(page):
    attachments = [
        {"type": "image", "url": "https://cdn.example.invalid/1.jpg"},
        {"type": "image", "url": "https://cdn.example.invalid/2.jpg"},
    ]
    html = page(kind="image", text="", content={"url": "https://cdn.example.invalid/1.jpg"}, attachments=attachments)
    assert [img["src"] for img in html.select(".att-image img")] == [a["url"] for a in attachments]
    assert html.select_one(".kind-media") is None
