"""A new Instagram or Messenger customer's name and picture come from the platform's user-profile API.

Real ingest, a real Celery worker on this run's Redis, the real local server standing in for the
Graph API, and the real WebSocket consumer over the real channel layer: the name appears live.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from config.asgi import application
from inbox.adapters.base import NormalizedMessage, ParsedEvent
from inbox.models import Channel, Contact, Conversation, Member
from inbox.services import deliveries_ingest
from tests.factories import ChannelFactory, MemberFactory
from tests.support import redis_flush, running_worker, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://testserver")
IGSID = "6781230000004429"


@pytest.fixture
def worker(transactional_db: Any) -> Iterator[Any]:
    redis_flush()
    with running_worker(concurrency=2) as started:
        yield started
    redis_flush()


@pytest.fixture
def instagram(shop: Any) -> Channel:
    return ChannelFactory(shop=shop, platform="instagram")


def customer_writes(channel: Channel, external_id: str = IGSID, mid: str = "ig-mid-1") -> None:
    message = NormalizedMessage(
        platform_message_id=mid,
        contact_external_id=external_id,
        direction="in",
        source="customer",
        sent_at=timezone.now(),
        text="Kak, ada shade 02?",
    )
    assert deliveries_ingest(deliveries=[(channel, ParsedEvent(messages=(message,)))], raw_body="{}") is not None


def profile_requests(fake: Any, platform: str = "instagram") -> list[Any]:
    return [r for r in fake.requests_for(platform) if r.method == "GET"]


def test_the_name_arrives_and_appears_live(shop, instagram, fake_platforms, worker):
    owner = MemberFactory(shop=shop, role=Member.Role.OWNER)
    fake_platforms.profiles[("instagram", IGSID)] = {
        "name": "Rina Kosmetik",
        "username": "rina.kosmetik",
        "profile_pic": "https://cdn.example.invalid/rina.jpg",
    }
    socket = WebsocketCommunicator(application, f"/ws/inbox/?token={owner.api_token}", headers=[ORIGIN])

    async def scenario() -> list[dict[str, Any]]:
        assert (await socket.connect(timeout=10))[0] is True
        await sync_to_async(customer_writes)(instagram)
        frames: list[dict[str, Any]] = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            frame = json.loads(await socket.receive_from(timeout=20))
            frames.append(frame)
            if frame["type"] == "conversation.updated" and frame["conversation"]["contact"]["name"]:
                break
        await socket.disconnect()
        return frames

    frames = async_to_sync(scenario)()
    contact = Contact.objects.get()
    conversation = Conversation.objects.get()
    updates = [f for f in frames if f["type"] == "conversation.updated"]
    # Until the profile arrives, a readable placeholder (never the 16-digit id)...
    assert updates[0]["conversation"]["contact"] == {
        "id": contact.pk,
        "external_id": IGSID,
        "name": "",
        "display_name": "Pelanggan Instagram ·4429",
        "avatar_url": "",
    }
    # ...then the event that carries the name, for the same conversation.
    assert updates[-1]["conversation"]["id"] == conversation.pk
    assert updates[-1]["conversation"]["contact"] == {
        "id": contact.pk,
        "external_id": IGSID,
        "name": "Rina Kosmetik",
        "display_name": "Rina Kosmetik",
        "avatar_url": "https://cdn.example.invalid/rina.jpg",
    }
    assert (contact.name, contact.avatar_url) == ("Rina Kosmetik", "https://cdn.example.invalid/rina.jpg")
    [request] = profile_requests(fake_platforms)
    assert request.path == f"/{IGSID}"
    assert "name" in request.query["fields"].split(",")
    assert request.headers["Authorization"] == "Bearer ig-token"


def test_a_known_customer_is_not_fetched_again(shop, instagram, fake_platforms, worker):
    customer_writes(instagram)
    wait_for(lambda: Contact.objects.get().name)
    customer_writes(instagram, mid="ig-mid-2")
    time.sleep(1.5)
    assert len(profile_requests(fake_platforms)) == 1


def test_messenger_names_come_from_first_and_last_name(shop, fake_platforms, worker):
    messenger = ChannelFactory(shop=shop, platform="messenger")
    fake_platforms.profiles[("messenger", "2468000000001357")] = {
        "first_name": "Budi",
        "last_name": "Santoso",
        "profile_pic": "",
    }
    customer_writes(messenger, external_id="2468000000001357")
    contact = wait_for(lambda: Contact.objects.filter(name__gt="").first())
    assert (contact.name, contact.avatar_url) == ("Budi Santoso", "")


def test_a_platform_refusal_keeps_the_placeholder_and_is_not_retried(shop, instagram, fake_platforms, worker):
    fake_platforms.queue_response(400, {"error": {"message": "Unsupported get request.", "code": 100}})
    customer_writes(instagram)
    wait_for(lambda: len(profile_requests(fake_platforms)) == 1)
    time.sleep(2)
    assert len(profile_requests(fake_platforms)) == 1
    contact = Contact.objects.select_related("channel").get()
    assert (contact.name, contact.avatar_url) == ("", "")
    assert contact.display_name == "Pelanggan Instagram ·4429"


def test_a_timeout_is_retried_with_backoff_until_the_name_arrives(shop, instagram, fake_platforms, worker, settings):
    settings.BALAS_PROFILE_FETCH_BACKOFF_S = 0.3
    fake_platforms.profiles[("instagram", IGSID)] = {"name": "Rina Kosmetik", "profile_pic": ""}
    # Slower than PLATFORM_SEND_TIMEOUT_S (2 s in the test settings): the first ask times out.
    fake_platforms.delay_s = 3
    customer_writes(instagram)
    wait_for(lambda: len(profile_requests(fake_platforms)) == 1)
    assert Contact.objects.get().name == ""
    fake_platforms.delay_s = 0
    contact = wait_for(lambda: Contact.objects.filter(name="Rina Kosmetik").first(), timeout=20)
    assert contact.avatar_url == ""
    assert len(profile_requests(fake_platforms)) == 2


def test_retries_are_bounded(shop, instagram, fake_platforms, worker, settings):
    settings.BALAS_PROFILE_FETCH_BACKOFF_S = 0.05
    for _ in range(10):
        fake_platforms.queue_response(503, {"error": {"message": "Service temporarily unavailable", "code": 2}})
    customer_writes(instagram)
    from inbox.tasks import PROFILE_FETCH_MAX_RETRIES

    wait_for(lambda: len(profile_requests(fake_platforms)) == PROFILE_FETCH_MAX_RETRIES + 1, timeout=20)
    time.sleep(2)
    assert len(profile_requests(fake_platforms)) == PROFILE_FETCH_MAX_RETRIES + 1
    assert Contact.objects.get().name == ""


def test_whatsapp_contacts_are_never_fetched_and_show_their_number(shop, fake_platforms, worker):
    whatsapp = ChannelFactory(shop=shop, platform="whatsapp")
    customer_writes(whatsapp, external_id="6281234564429")
    time.sleep(1.5)
    assert fake_platforms.requests == []
    assert Contact.objects.select_related("channel").get().display_name == "+6281234564429"
