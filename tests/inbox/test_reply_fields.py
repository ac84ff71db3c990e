"""A reply that still holds a suggestion's `[[field]]` is never sent."""

from __future__ import annotations

import pytest
from django.urls import reverse

from inbox.models import Message
from inbox.reply_fields import field_mark, fields_unfilled
from tests.inbox.test_replies import reply, waiting_conversation

pytestmark = pytest.mark.django_db(transaction=True)


def test_fields_are_found_in_order_and_single_brackets_are_text():
    text = "Untuk harga [[harga]] ya kak, ongkir [[ongkir ke Bandung]]. [PROMO] diskon 10% [x]"
    assert fields_unfilled(text) == ["[[harga]]", "[[ongkir ke Bandung]]"]
    assert fields_unfilled(field_mark("tanggal kirim")) == ["[[tanggal kirim]]"]
    assert fields_unfilled("Harga Rp52.000 ya kak [SALE]") == []
    assert fields_unfilled("[[]] [[\n]]") == []


def test_the_api_refuses_a_reply_with_an_unfilled_field_and_sends_nothing(
    client, channels, admin_member, fake_platforms
):
    conv = waiting_conversation(channels["whatsapp"])
    before = Message.objects.filter(conversation=conv).count()
    response = reply(client, conv, admin_member, "Halo kak 😊 Estimasi sampai [[estimasi sampai]] ya kak.")
    assert response.status_code == 422, response.content
    assert "[[estimasi sampai]]" in response.content.decode()
    assert fake_platforms.requests == []
    assert Message.objects.filter(conversation=conv).count() == before
    conv.refresh_from_db()
    assert conv.waiting_since is not None  # still waiting: nothing was sent

    # Filled in, the same reply goes out.
    response = reply(client, conv, admin_member, "Halo kak 😊 Estimasi sampai Kamis ya kak.")
    assert response.status_code == 201, response.content
    [sent] = fake_platforms.requests
    assert sent.json["text"]["body"] == "Halo kak 😊 Estimasi sampai Kamis ya kak."


def test_the_inbox_form_refuses_it_too(client, channels, admin_member, fake_platforms):
    conv = waiting_conversation(channels["whatsapp"])
    client.force_login(admin_member.user)
    response = client.post(
        reverse("inbox-reply", args=[conv.pk]),
        {"text": "Untuk stok [[ready/habis]] ya kak."},
        headers={"HX-Request": "true"},
    )
    assert "[[ready/habis]]" in response.content.decode()
    assert fake_platforms.requests == []
