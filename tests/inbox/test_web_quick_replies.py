"""Quick replies: the owner-only services, the owner's page, and the list in the reply box."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.utils import timezone, translation

from inbox.models import Member, QuickReply
from inbox.services.quick_replies import quick_reply_create, quick_reply_delete, quick_reply_update
from tests.factories import ChannelFactory, ContactFactory, ConversationFactory, MemberFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _indonesian() -> Iterator[None]:
    # Messages are asserted in the default language, whatever an earlier request activated.
    with translation.override("id"):
        yield


def test_owner_creates_updates_and_deletes(owner: Member) -> None:
    qr = quick_reply_create(member=owner, shortcut="salam", text="  Halo kak {nama}!  ")
    assert (qr.shop_id, qr.shortcut, qr.text, qr.position) == (owner.shop_id, "salam", "Halo kak {nama}!", 0)
    quick_reply_update(quick_reply=qr, member=owner, shortcut="halo", text="Hai {nama}", position=2)
    qr.refresh_from_db()
    assert (qr.shortcut, qr.text, qr.position) == ("halo", "Hai {nama}", 2)
    quick_reply_delete(quick_reply=qr, member=owner)
    assert not QuickReply.objects.exists()


def test_admin_may_not_change_quick_replies(owner: Member, admin_member: Member) -> None:
    with pytest.raises(PermissionDenied):
        quick_reply_create(member=admin_member, shortcut="x", text="x")
    qr = quick_reply_create(member=owner, shortcut="salam", text="Halo")
    with pytest.raises(PermissionDenied):
        quick_reply_update(quick_reply=qr, member=admin_member, shortcut="y", text="y", position=0)
    with pytest.raises(PermissionDenied):
        quick_reply_delete(quick_reply=qr, member=admin_member)
    assert QuickReply.objects.get().text == "Halo"


def test_another_shops_owner_cannot_touch_it(owner: Member) -> None:
    qr = quick_reply_create(member=owner, shortcut="salam", text="Halo")
    stranger = MemberFactory(role=Member.Role.OWNER)
    with pytest.raises(PermissionDenied):
        quick_reply_update(quick_reply=qr, member=stranger, shortcut="y", text="y", position=0)
    with pytest.raises(PermissionDenied):
        quick_reply_delete(quick_reply=qr, member=stranger)
    # The same shortcut is free in another shop.
    assert quick_reply_create(member=stranger, shortcut="salam", text="Hai").shop_id == stranger.shop_id


def test_duplicate_shortcut_and_empty_text_are_refused(owner: Member) -> None:
    quick_reply_create(member=owner, shortcut="salam", text="Halo")
    with pytest.raises(ValidationError) as dup:
        quick_reply_create(member=owner, shortcut="salam", text="Lagi")
    assert dup.value.message_dict == {"shortcut": ["Pintasan /salam sudah dipakai."]}
    with pytest.raises(ValidationError) as empty:
        quick_reply_create(member=owner, shortcut="kosong", text="   ")
    assert empty.value.message_dict == {"text": ["Teks balasan cepat tidak boleh kosong."]}
    assert QuickReply.objects.count() == 1


def test_owner_page_creates_and_shows_errors(client: Client, owner: Member) -> None:
    client.force_login(owner.user)
    assert client.get("/quick-replies/").status_code == 200
    created = client.post("/quick-replies/", {"shortcut": "ongkir", "text": "Ongkir ke {nama} gratis", "position": 1})
    assert created.status_code == 302
    qr = QuickReply.objects.get()
    assert (qr.shortcut, qr.text, qr.position) == ("ongkir", "Ongkir ke {nama} gratis", 1)
    dup = client.post("/quick-replies/", {"shortcut": "ongkir", "text": "lain", "position": 0})
    assert dup.status_code == 400
    assert "Pintasan /ongkir sudah dipakai." in dup.content.decode()
    bad = client.post("/quick-replies/", {"shortcut": "bukan slug!", "text": "x", "position": 0})
    assert bad.status_code == 400
    assert QuickReply.objects.count() == 1

    edited = client.post(
        f"/quick-replies/{qr.pk}/",
        {f"qr{qr.pk}-shortcut": "ongkos", f"qr{qr.pk}-text": "Gratis ongkir", f"qr{qr.pk}-position": 3},
    )
    assert edited.status_code == 302
    qr.refresh_from_db()
    assert (qr.shortcut, qr.text, qr.position) == ("ongkos", "Gratis ongkir", 3)
    assert client.post(f"/quick-replies/{qr.pk}/delete/").status_code == 302
    assert not QuickReply.objects.exists()


def test_admin_gets_403_on_the_page(client: Client, owner: Member, admin_member: Member) -> None:
    qr = quick_reply_create(member=owner, shortcut="salam", text="Halo")
    client.force_login(admin_member.user)
    assert client.get("/quick-replies/").status_code == 403
    assert client.post("/quick-replies/", {"shortcut": "x", "text": "x", "position": 0}).status_code == 403
    assert client.post(f"/quick-replies/{qr.pk}/delete/").status_code == 403
    assert QuickReply.objects.count() == 1


def test_other_shops_quick_reply_is_404(client: Client, owner: Member) -> None:
    stranger = MemberFactory(role=Member.Role.OWNER)
    foreign = quick_reply_create(member=stranger, shortcut="salam", text="Halo")
    client.force_login(owner.user)
    assert client.post(f"/quick-replies/{foreign.pk}/delete/").status_code == 404
    assert QuickReply.objects.filter(pk=foreign.pk).exists()


def test_reply_box_lists_the_shops_quick_replies(client: Client, owner: Member, shop: Any) -> None:
    quick_reply_create(member=owner, shortcut="salam", text='Halo kak {nama} <"selamat datang">')
    quick_reply_create(member=MemberFactory(role=Member.Role.OWNER), shortcut="asing", text="bukan punya kita")
    contact = ContactFactory(channel=ChannelFactory(shop=shop), name="Siti")
    conversation = ConversationFactory(contact=contact, last_inbound_at=timezone.now())
    client.force_login(owner.user)
    html = client.get(f"/c/{conversation.pk}/").content.decode()
    assert 'data-shortcut="salam" data-text="Halo kak {nama} &lt;&quot;selamat datang&quot;&gt;"' in html
    assert 'data-customer-name="Siti"' in html
    assert "asing" not in html
