"""The server-rendered inbox: access, list order and filters, the thread, replies, assignment."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone, translation

from inbox.models import Conversation, Member, Message
from tests.factories import ChannelFactory, ContactFactory, ConversationFactory, MemberFactory, MessageFactory

pytestmark = pytest.mark.django_db(transaction=True)

HTMX = {"HX-Request": "true"}


def _login(client: Client, member: Member) -> Client:
    client.force_login(member.user)
    return client


def _conversation(channel: Any, *, name: str, waiting_minutes: int | None, last_minutes: int, **kw: Any) -> Any:
    now = timezone.now()
    contact = ContactFactory(channel=channel, name=name)
    conversation = ConversationFactory(
        contact=contact,
        waiting_since=now - timedelta(minutes=waiting_minutes) if waiting_minutes is not None else None,
        last_message_at=now - timedelta(minutes=last_minutes),
        last_inbound_at=now - timedelta(minutes=last_minutes),
        **kw,
    )
    message = MessageFactory(
        conversation=conversation, text=f"pesan dari {name}", sent_at=now - timedelta(minutes=last_minutes)
    )
    conversation.last_message = message
    conversation.save(update_fields=["last_message"])
    return conversation


def _row_names(html: str) -> list[str]:
    return re.findall(r'<span class="conv-name">([^<]*)</span>', html)


@pytest.fixture
def wa(shop: Any) -> Any:
    return ChannelFactory(shop=shop, platform="whatsapp")


@pytest.fixture
def ig(shop: Any) -> Any:
    return ChannelFactory(shop=shop, platform="instagram")


# --- access ---------------------------------------------------------------------------------


def test_anonymous_is_sent_to_login(client: Client, owner: Member) -> None:
    for path in ("/", "/c/1/", "/quick-replies/", "/m/1/bubble/"):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/?next=")


def test_login_form_logs_in_and_logout_needs_post(client: Client, owner: Member) -> None:
    page = client.get("/login/")
    assert page.status_code == 200
    assert b'name="password"' in page.content
    bad = client.post("/login/", {"username": owner.user.username, "password": "wrong"})
    assert bad.status_code == 200
    assert "Email atau kata sandi salah." in bad.content.decode()
    good = client.post("/login/", {"username": owner.user.username, "password": "S3cret!pass"})
    assert good.status_code == 302
    assert good["Location"] == "/"
    assert client.get("/").status_code == 200
    assert client.post("/logout/").status_code == 302
    assert client.get("/").status_code == 302


def test_user_without_member_gets_403(client: Client, db: Any) -> None:
    user = get_user_model().objects.create_user(username="lonely@example.com", password="x")
    client.force_login(user)
    assert client.get("/").status_code == 403
    assert client.get("/c/1/").status_code == 403
    assert client.post("/c/1/reply/", {"text": "hai"}).status_code == 403


# --- list -------------------------------------------------------------------------------------


def test_list_puts_longest_wait_first_then_most_recent(client: Client, owner: Member, wa: Any) -> None:
    _conversation(wa, name="Recent", waiting_minutes=None, last_minutes=1)
    _conversation(wa, name="Old", waiting_minutes=None, last_minutes=50)
    _conversation(wa, name="ShortWait", waiting_minutes=3, last_minutes=3)
    _conversation(wa, name="LongWait", waiting_minutes=40, last_minutes=2)
    response = _login(client, owner).get("/")
    assert response.status_code == 200
    assert _row_names(response.content.decode()) == ["LongWait", "ShortWait", "Recent", "Old"]
    html = response.content.decode()
    # Waiting rows carry the ISO start the script counts up from; the title shows the count.
    assert re.search(r'class="wait" data-since="\d{4}-\d\d-\d\dT[^"]+\+07:00"', html)
    assert "<title>(2) Balas</title>" in html


def test_list_row_shows_channel_name_preview_and_unread(client: Client, owner: Member, ig: Any) -> None:
    _conversation(ig, name="Dewi", waiting_minutes=5, last_minutes=5, unread_count=3)
    html = _login(client, owner).get("/").content.decode()
    assert '<span class="badge badge-instagram"' in html
    assert "Dewi" in html
    assert "pesan dari Dewi" in html
    assert '<span class="unread" aria-label="belum dibaca">3</span>' in html


def test_status_filters(client: Client, owner: Member, wa: Any) -> None:
    _conversation(wa, name="Waiting", waiting_minutes=5, last_minutes=5)
    _conversation(wa, name="Answered", waiting_minutes=None, last_minutes=2)
    _conversation(wa, name="Done", waiting_minutes=None, last_minutes=1, status=Conversation.Status.CLOSED)
    _login(client, owner)

    def names(query: str) -> list[str]:
        return _row_names(client.get("/" + query).content.decode())

    assert names("") == ["Waiting", "Answered"]
    assert names("?status=open") == ["Waiting", "Answered"]
    assert names("?status=waiting") == ["Waiting"]
    assert names("?status=closed") == ["Done"]
    assert names("?status=all") == ["Waiting", "Done", "Answered"]


def test_channel_and_assignee_filters(client: Client, owner: Member, admin_member: Member, wa: Any, ig: Any) -> None:
    _conversation(wa, name="WaMine", waiting_minutes=None, last_minutes=1, assignee=owner)
    _conversation(ig, name="IgAdmin", waiting_minutes=None, last_minutes=2, assignee=admin_member)
    _conversation(ig, name="IgNobody", waiting_minutes=None, last_minutes=3)
    _login(client, owner)

    def names(query: str) -> list[str]:
        return _row_names(client.get("/" + query).content.decode())

    assert names(f"?channel={ig.pk}") == ["IgAdmin", "IgNobody"]
    assert names(f"?channel={wa.pk}") == ["WaMine"]
    assert names("?assignee=me") == ["WaMine"]
    assert names("?assignee=unassigned") == ["IgNobody"]
    assert names(f"?assignee={admin_member.pk}") == ["IgAdmin"]
    assert names(f"?assignee=any&channel={ig.pk}&status=all") == ["IgAdmin", "IgNobody"]


def test_bad_filter_is_400_naming_it(client: Client, owner: Member, wa: Any) -> None:
    other_channel = ChannelFactory(platform="messenger")  # another shop's channel
    response = _login(client, owner).get(f"/?channel={other_channel.pk}")
    assert response.status_code == 400
    assert "channel" in response.content.decode()
    response = client.get("/?status=bogus")
    assert response.status_code == 400
    assert "status" in response.content.decode()


def test_htmx_list_request_returns_only_the_rows(client: Client, owner: Member, wa: Any) -> None:
    _conversation(wa, name="Waiting", waiting_minutes=5, last_minutes=5)
    _conversation(wa, name="Answered", waiting_minutes=None, last_minutes=2)
    response = _login(client, owner).get("/?status=waiting", headers={**HTMX, "HX-Target": "conversation-list"})
    html = response.content.decode()
    assert "<html" not in html
    assert _row_names(html) == ["Waiting"]
    assert json.loads(response["HX-Trigger"]) == {"balas:waiting": {"count": 1}}


def test_row_partial_and_gone_placeholder(client: Client, owner: Member, wa: Any) -> None:
    conversation = _conversation(wa, name="Rina", waiting_minutes=None, last_minutes=1)
    _login(client, owner)
    row = client.get(f"/c/{conversation.pk}/row/?status=open").content.decode()
    assert _row_names(row) == ["Rina"]
    assert f'id="conv-{conversation.pk}"' in row
    gone = client.get(f"/c/{conversation.pk}/row/?status=waiting")
    assert gone.content.decode() == f'<li id="conv-{conversation.pk}" class="conv-row conv-row-gone" hidden></li>\n'
    assert json.loads(gone["HX-Trigger"]) == {"balas:waiting": {"count": 0}}


# --- conversation -------------------------------------------------------------------------------


def test_thread_renders_bubbles_labels_attachments_and_marks_read(client: Client, owner: Member, wa: Any) -> None:
    conversation = _conversation(wa, name="Siti", waiting_minutes=5, last_minutes=5, unread_count=2)
    base = timezone.now() - timedelta(minutes=4)
    MessageFactory(
        conversation=conversation,
        kind="image",
        text="",
        sent_at=base,
        attachments=[{"type": "image", "url": "https://cdn.example.com/p.jpg"}],
    )
    MessageFactory(
        conversation=conversation,
        kind="image",
        text="warna pink",
        sent_at=base + timedelta(seconds=1),
        attachments=[{"type": "image", "media_id": "880011", "mime_type": "image/jpeg"}],
    )
    MessageFactory(
        conversation=conversation,
        text="",
        sent_at=base + timedelta(seconds=2),
        attachments=[{"type": "image", "url": "javascript:alert(1)"}],
    )
    MessageFactory(
        conversation=conversation,
        direction="out",
        source="echo",
        sender_label="Sub akun Rina",
        text="Ready kak",
        status="sent",
        sent_at=base + timedelta(seconds=3),
    )
    MessageFactory(
        conversation=conversation,
        direction="out",
        source="auto",
        text="Terima kasih, kami balas segera",
        status="sent",
        sent_at=base + timedelta(seconds=4),
    )
    read = MessageFactory(
        conversation=conversation,
        direction="out",
        source="inbox",
        sent_by=owner,
        text="Sudah dibaca",
        status="read",
        sent_at=base + timedelta(seconds=5),
    )
    failed = MessageFactory(
        conversation=conversation,
        direction="out",
        source="inbox",
        platform_message_id=None,
        text="gagal",
        status="failed",
        error="(#131047) Re-engagement message",
        sent_at=base + timedelta(seconds=6),
    )
    response = _login(client, owner).get(f"/c/{conversation.pk}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<img src="https://cdn.example.com/p.jpg"' in html
    assert "Gambar · image/jpeg · tersimpan di platform" in html
    assert "javascript:" not in html
    assert "dari aplikasi · Sub akun Rina" in html
    assert "balasan otomatis" in html
    assert f'id="msg-{read.pk}" class="msg msg-out source-inbox" data-status="read"' in html
    assert f'id="msg-{failed.pk}" class="msg msg-out source-inbox" data-status="failed"' in html
    assert "Gagal terkirim: (#131047) Re-engagement message" in html
    assert f'hx-post="/m/{failed.pk}/retry/"' in html
    conversation.refresh_from_db()
    assert conversation.unread_count == 0


def test_thread_htmx_request_returns_the_pane_only(client: Client, owner: Member, wa: Any) -> None:
    conversation = _conversation(wa, name="Siti", waiting_minutes=5, last_minutes=5)
    response = _login(client, owner).get(f"/c/{conversation.pk}/", headers={**HTMX, "HX-Target": "thread-pane"})
    html = response.content.decode()
    assert html.startswith(f'<section id="thread" class="thread" data-conversation-id="{conversation.pk}">')
    assert 'id="reply-form"' in html
    # The tone judge reads the customer's side of the wait from the form.
    assert 'data-customer="[&quot;pesan dari Siti&quot;]"' in html


def test_customer_text_is_escaped_everywhere(client: Client, owner: Member, wa: Any) -> None:
    evil = "<script>window.__pwned=1</script><b>tebal</b><img src=x onerror=window.__pwned=2>"
    conversation = _conversation(wa, name="<i>Budi</i>", waiting_minutes=1, last_minutes=1)
    message = MessageFactory(conversation=conversation, text=evil, sent_at=timezone.now())
    conversation.last_message = message
    conversation.save(update_fields=["last_message"])
    _login(client, owner)
    for path in ("/", f"/c/{conversation.pk}/", f"/m/{message.pk}/bubble/", f"/c/{conversation.pk}/row/"):
        html = client.get(path).content.decode()
        assert "<script>window.__pwned" not in html
        assert "<b>tebal</b>" not in html
        assert "<img src=x" not in html
        assert "<i>Budi</i>" not in html
    bubble = client.get(f"/m/{message.pk}/bubble/").content.decode()
    assert (
        "&lt;script&gt;window.__pwned=1&lt;/script&gt;&lt;b&gt;tebal&lt;/b&gt;&lt;img src=x "
        "onerror=window.__pwned=2&gt;" in bubble
    )


def test_other_shops_conversation_is_404(client: Client, owner: Member, wa: Any) -> None:
    foreign = _conversation(ChannelFactory(platform="messenger"), name="Asing", waiting_minutes=1, last_minutes=1)
    foreign_message = foreign.last_message
    _login(client, owner)
    assert client.get(f"/c/{foreign.pk}/").status_code == 404
    assert client.get(f"/c/{foreign.pk}/row/").status_code == 404
    assert client.get(f"/c/{foreign.pk}/header/").status_code == 404
    assert client.get(f"/m/{foreign_message.pk}/bubble/").status_code == 404
    assert client.post(f"/c/{foreign.pk}/reply/", {"text": "hai"}).status_code == 404
    assert client.post(f"/c/{foreign.pk}/assign/", {"assignee": owner.pk}).status_code == 404
    assert client.post(f"/c/{foreign.pk}/status/", {"status": "closed"}).status_code == 404
    assert client.post(f"/m/{foreign_message.pk}/retry/").status_code == 404
    foreign.refresh_from_db()
    assert foreign.assignee_id is None
    assert foreign.status == "open"
    assert foreign.messages.count() == 1


# --- replies ------------------------------------------------------------------------------------


def test_reply_goes_to_the_platform_and_returns_a_sent_bubble(
    client: Client, owner: Member, wa: Any, fake_platforms: Any
) -> None:
    conversation = _conversation(wa, name="Siti", waiting_minutes=2, last_minutes=2)
    response = _login(client, owner).post(
        f"/c/{conversation.pk}/reply/", {"text": "Ready kak, silakan order 🙏"}, headers=HTMX
    )
    assert response.status_code == 200
    reply = Message.objects.get(conversation=conversation, direction="out")
    assert reply.status == "sent"
    assert reply.sent_by_id == owner.pk
    html = response.content.decode()
    assert f'id="msg-{reply.pk}" class="msg msg-out source-inbox" data-status="sent"' in html
    assert 'id="reply-error" class="reply-error" hx-swap-oob="true"' in html
    assert json.loads(response["HX-Trigger"]) == {"balas:replied": {"message": reply.pk}}
    sent = fake_platforms.requests_for("whatsapp")
    assert len(sent) == 1
    assert sent[0].path == f"/{wa.account_id}/messages"
    assert sent[0].json["text"]["body"] == "Ready kak, silakan order 🙏"
    assert sent[0].json["to"] == conversation.contact.external_id


def test_refused_reply_explains_and_sends_nothing(client: Client, owner: Member, wa: Any, fake_platforms: Any) -> None:
    conversation = _conversation(wa, name="Lama", waiting_minutes=None, last_minutes=60 * 30)
    response = _login(client, owner).post(f"/c/{conversation.pk}/reply/", {"text": "Halo kak"}, headers=HTMX)
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#reply-error"
    assert response["HX-Reswap"] == "innerHTML"
    assert "24 jam" in response.content.decode()
    assert fake_platforms.requests_for("whatsapp") == []
    assert not Message.objects.filter(conversation=conversation, direction="out").exists()


def test_empty_reply_is_refused_by_the_form(client: Client, owner: Member, wa: Any, fake_platforms: Any) -> None:
    conversation = _conversation(wa, name="Siti", waiting_minutes=2, last_minutes=2)
    response = _login(client, owner).post(f"/c/{conversation.pk}/reply/", {"text": "   "}, headers=HTMX)
    assert response["HX-Retarget"] == "#reply-error"
    assert "Balasan tidak boleh kosong." in response.content.decode()
    assert fake_platforms.requests == []


def test_platform_failure_shows_failed_bubble_and_retry_sends_again(
    client: Client, owner: Member, wa: Any, fake_platforms: Any
) -> None:
    conversation = _conversation(wa, name="Siti", waiting_minutes=2, last_minutes=2)
    fake_platforms.queue_response(400, {"error": {"message": "Invalid parameter", "code": 100}})
    response = _login(client, owner).post(f"/c/{conversation.pk}/reply/", {"text": "Halo kak"}, headers=HTMX)
    reply = Message.objects.get(conversation=conversation, direction="out")
    assert reply.status == "failed"
    html = response.content.decode()
    assert 'data-status="failed"' in html
    assert "Invalid parameter" in html
    assert f'hx-post="/m/{reply.pk}/retry/"' in html

    retried = client.post(f"/m/{reply.pk}/retry/", headers=HTMX)
    assert retried.status_code == 200
    reply.refresh_from_db()
    assert reply.status == "sent"
    assert f'id="msg-{reply.pk}" class="msg msg-out source-inbox" data-status="sent"' in retried.content.decode()
    assert len(fake_platforms.requests_for("whatsapp")) == 2


def test_csrf_is_enforced(owner: Member, wa: Any, fake_platforms: Any) -> None:
    conversation = _conversation(wa, name="Siti", waiting_minutes=2, last_minutes=2)
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner.user)
    refused = client.post(f"/c/{conversation.pk}/reply/", {"text": "Halo kak"}, headers=HTMX)
    assert refused.status_code == 403
    assert fake_platforms.requests == []
    page = client.get(f"/c/{conversation.pk}/")
    token = re.search(r'"X-CSRFToken": "([^"]+)"', page.content.decode()).group(1)
    accepted = client.post(f"/c/{conversation.pk}/reply/", {"text": "Halo kak"}, headers={**HTMX, "X-CSRFToken": token})
    assert accepted.status_code == 200
    assert len(fake_platforms.requests_for("whatsapp")) == 1


# --- header actions ------------------------------------------------------------------------------


def test_assign_and_unassign(client: Client, owner: Member, admin_member: Member, wa: Any) -> None:
    conversation = _conversation(wa, name="Siti", waiting_minutes=2, last_minutes=2)
    _login(client, owner)
    response = client.post(f"/c/{conversation.pk}/assign/", {"assignee": admin_member.pk}, headers=HTMX)
    assert response.status_code == 200
    assert f'<option value="{admin_member.pk}" selected>' in response.content.decode()
    conversation.refresh_from_db()
    assert conversation.assignee_id == admin_member.pk
    client.post(f"/c/{conversation.pk}/assign/", {"assignee": ""}, headers=HTMX)
    conversation.refresh_from_db()
    assert conversation.assignee_id is None


def test_assign_to_another_shops_member_is_400(client: Client, owner: Member, wa: Any) -> None:
    conversation = _conversation(wa, name="Siti", waiting_minutes=2, last_minutes=2)
    stranger = MemberFactory()
    response = _login(client, owner).post(f"/c/{conversation.pk}/assign/", {"assignee": stranger.pk}, headers=HTMX)
    assert response.status_code == 400
    assert "Penugasan tidak valid" in response.content.decode()
    conversation.refresh_from_db()
    assert conversation.assignee_id is None


def test_close_and_reopen(client: Client, admin_member: Member, wa: Any) -> None:
    conversation = _conversation(wa, name="Siti", waiting_minutes=None, last_minutes=2)
    _login(client, admin_member)
    closed = client.post(f"/c/{conversation.pk}/status/", {"status": "closed"}, headers=HTMX)
    assert 'data-status="closed"' in closed.content.decode()
    assert 'name="status" value="open"' in closed.content.decode()
    conversation.refresh_from_db()
    assert conversation.status == "closed"
    client.post(f"/c/{conversation.pk}/status/", {"status": "open"}, headers=HTMX)
    conversation.refresh_from_db()
    assert conversation.status == "open"
    bad = client.post(f"/c/{conversation.pk}/status/", {"status": "archived"}, headers=HTMX)
    assert bad.status_code == 400
    assert "Status tidak valid" in bad.content.decode()


# --- language -------------------------------------------------------------------------------------


def test_language_switch_to_english(client: Client, owner: Member, wa: Any) -> None:
    _conversation(wa, name="Siti", waiting_minutes=2, last_minutes=2)
    _login(client, owner)
    assert "Kotak masuk" in client.get("/").content.decode()
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    html = client.get("/").content.decode()
    assert '<html lang="en">' in html
    assert "Inbox" in html
    assert "Kotak masuk" not in html
    translation.activate("id")  # the test client's thread keeps the last request's language
