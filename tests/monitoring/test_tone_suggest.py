"""Suggestions that are safe to send: filled from the conversation, fields for the rest, an apology
and a next step for complaints, the customer's language; reasons in the reader's language."""

from __future__ import annotations

import json

import pytest
from django.utils import translation

from inbox.reply_fields import fields_unfilled
from monitoring.tone import SuggestContext, judge
from monitoring.tone.explain import _TEXT, TOPIC_NAMES, reason
from monitoring.tone.localize import reason_in, reasons_in
from tests.factories import ContactFactory, ConversationFactory

SINGLE_BRACKET = __import__("re").compile(r"(?<!\[)\[[^\[\]]+\](?!\])")


def _suggest(customer, reply, **kwargs):
    v = judge(customer=customer, reply=reply, **kwargs)
    assert v.terse, v
    return v.suggestion


def test_every_unknown_is_a_field_never_a_bare_placeholder():
    cases = [
        ("Kak, serum ini ready?", "iya"),
        ("ongkir ke Surabaya berapa kak?", "Siap kak, silakan checkout 😊"),
        ("berapa harganya kak? ada warna apa aja?", "ada"),
        ("kapan dikirim kak? udah 3 hari", "sabar"),
        ("cara pakainya gimana kak?", "baca deskripsi"),
        ("bisa bayar pakai apa aja?", "bisa"),
        ("ada promo ga kak?", "ga"),
    ]
    for customer, reply_text in cases:
        text = _suggest(customer, reply_text)
        assert not SINGLE_BRACKET.search(text), text
    assert fields_unfilled(_suggest("berapa harganya kak?", "ok"))


def test_the_customers_name_order_and_place_are_filled_in():
    text = _suggest(
        ["Kak pesanan 2412ABC99 kapan dikirim ke Bandung?"], "sabar", context=SuggestContext(name="Rina Wati")
    )
    assert text.startswith("Halo kak Rina 😊")
    assert "2412ABC99" in text
    assert " ke Bandung" in text
    # What the conversation cannot tell stays a field for the admin.
    assert "[[tanggal kirim]]" in text


def test_an_id_or_placeholder_name_is_not_used_as_a_name():
    for name in ("17841400000004429", "Pelanggan Instagram ·4429", ""):
        text = _suggest("Kak, serum ini ready?", "iya", context=SuggestContext(name=name))
        assert text.startswith("Halo kak 😊"), (name, text)


def test_a_complaint_begins_with_an_apology_and_ends_with_a_next_step():
    text = _suggest("kak barang saya datang rusak, botolnya pecah. order INV-88231", "ok")
    assert text.startswith("Mohon maaf atas ketidaknyamanannya")
    assert "INV-88231 kami cek sekarang dan kami kabari hasilnya hari ini" in text
    text = _suggest("kak barang saya datang rusak, botolnya pecah", "bukan salah kami, itu dari kurir")
    assert text.startswith("Mohon maaf")
    assert "nomor pesanan dan foto produknya" in text
    assert "salah" not in text.lower()


def test_an_english_customer_gets_an_english_suggestion():
    text = _suggest(["Is this serum in stock?", "how much is shipping to Bandung?"], "yes")
    assert text.startswith("Hi 😊")
    assert "the serum is in stock" in text.lower()
    assert "[[shipping cost]]" in text
    complaint = _suggest("my order arrived broken, order INV-88231", "ok", language="en")
    assert complaint.startswith("We're so sorry")
    assert "INV-88231" in complaint
    # An Indonesian customer gets an Indonesian reply even when the admin reads English.
    assert _suggest("Kak, serum ini ready?", "iya", language="en").startswith("Halo kak")


@pytest.mark.parametrize("code", sorted(_TEXT["id"]))
def test_every_stored_reason_reads_in_the_other_language(code):
    if code == "question_unanswered":
        codes = [f"question_unanswered:{t}" for t in TOPIC_NAMES["id"]]
    elif code == "bare_ack_multi":
        return  # worded by bare_ack with parts
    else:
        codes = [code]
    for c in codes:
        for kwargs in ({"ack": "ok"}, {"ack": "iya", "parts": 3}):
            indonesian, english = reason(c, "id", **kwargs), reason(c, "en", **kwargs)
            assert reason_in(indonesian, "en") == english
            assert reason_in(english, "id") == indonesian
            assert reason_in(indonesian, "id") == indonesian
    assert reason_in("an older wording", "en") == "an older wording"
    assert reasons_in(None, "en") == []


@pytest.mark.django_db
def test_tone_check_api_speaks_the_readers_language_and_fills_the_name(client, owner):
    owner_member = owner
    contact = ContactFactory(channel__shop=owner_member.shop, name="Budi Santoso")
    conversation = ConversationFactory(shop=owner_member.shop, contact=contact, channel=contact.channel)
    headers = {"Authorization": f"Token {owner_member.api_token}"}
    body = {"customer": ["Kak, serum ini ready?", "ongkir ke Bandung berapa?"], "reply": "iya"}
    response = client.post(
        "/api/v1/tone/check/",
        json.dumps({**body, "conversation": conversation.pk}),
        content_type="application/json",
        headers={**headers, "Accept-Language": "en"},
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert "the question about shipping is not answered" in data["reasons"]
    assert "question_unanswered:shipping" in data["codes"]
    assert data["suggestion"].startswith("Halo kak Budi 😊")
    assert data["unfilled_fields"] == ["[[ongkir]]"]
    with translation.override("id"):
        response = client.post(
            "/api/v1/tone/check/", json.dumps(body), content_type="application/json", headers=headers
        )
    assert "pertanyaan soal ongkir/pengiriman tidak dijawab" in response.json()["reasons"]
    # Another shop's conversation is refused (422, naming the field), and its customer's name never shows.
    other = ConversationFactory(contact__channel__account_id="another-shops-number")
    response = client.post(
        "/api/v1/tone/check/",
        json.dumps({**body, "conversation": other.pk}),
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 422 and "conversation" in response.json()


@pytest.mark.django_db
def test_the_reply_box_suggestion_owes_no_greeting_mid_conversation(client, owner):
    from datetime import timedelta

    from django.utils import timezone

    from tests.factories import MessageFactory

    contact = ContactFactory(channel__shop=owner.shop, name="Budi Santoso")
    conversation = ConversationFactory(shop=owner.shop, contact=contact, channel=contact.channel)
    body = {"customer": ["harganya berapa kak?"], "reply": "ada", "conversation": conversation.pk}
    headers = {"Authorization": f"Token {owner.api_token}"}

    def suggestion() -> str:
        response = client.post(
            "/api/v1/tone/check/", json.dumps(body), content_type="application/json", headers=headers
        )
        assert response.status_code == 200, response.content
        return str(response.json()["suggestion"])

    assert suggestion().startswith("Halo kak Budi")
    # The shop spoke to Budi an hour ago: as in the alert's suggestion, no second "Halo".
    MessageFactory(
        conversation=conversation,
        direction="out",
        source="inbox",
        status="sent",
        text="Halo kak 😊 ready ya",
        sent_at=timezone.now() - timedelta(hours=1),
    )
    assert not suggestion().startswith("Halo")
