"""A shop's owner verdicts move only its own terse threshold, within bounds."""

from __future__ import annotations

import pytest
from django.utils import translation

from monitoring.models import Alert, AlertFeedback, ReplyMeasurement
from monitoring.services.calibration import DEFAULT, MAX_SHIFT, MIN_VERDICTS, tone_threshold
from tests.factories import ConversationFactory, MemberFactory, MessageFactory, ShopFactory
from tests.monitoring.conftest import set_policy
from tests.monitoring.test_terse_alerts import exchange

pytestmark = pytest.mark.django_db

# Terse by the rules, but only just (score 0.55): the kind an owner may call "bukan ketus".
BORDERLINE = ("ongkir ke Surabaya berapa kak?", "Siap kak, silakan checkout 😊")


def _rated(shop, owner, n: int, *, score: float, verdict: str) -> None:
    for _ in range(n):
        conversation = ConversationFactory(contact__channel=_channel(shop))
        reply = MessageFactory(conversation=conversation, direction="out", source="inbox", status="sent", text="x")
        ReplyMeasurement.objects.create(
            message=reply,
            shop=shop,
            channel=conversation.channel,
            conversation=conversation,
            source="inbox",
            kind="reply",
            started_at=reply.sent_at,
            replied_at=reply.sent_at,
            response_seconds=1,
            response_business_seconds=1,
            target_seconds=60,
            sla_met=True,
            terse=True,
            terse_score=score,
        )
        alert = Alert.objects.create(
            shop=shop, conversation=conversation, kind="terse_reply", title="t", message=reply, message_ids=[reply.pk]
        )
        AlertFeedback.objects.create(alert=alert, member=owner, verdict=verdict)


_channels: dict[int, object] = {}


def _channel(shop):
    from tests.factories import ChannelFactory

    if shop.pk not in _channels:
        _channels[shop.pk] = ChannelFactory(shop=shop, platform="api", account_id=f"api-cal-{shop.pk}")
    return _channels[shop.pk]


@pytest.fixture(autouse=True)
def _fresh_channels():
    _channels.clear()


def test_nothing_moves_before_enough_verdicts(shop, owner):
    _rated(shop, owner, MIN_VERDICTS - 1, score=0.55, verdict="not_terse")
    assert tone_threshold(shop_id=shop.pk).value == DEFAULT


def test_disputed_borderline_alerts_raise_only_this_shops_threshold(shop, owner, admin_member):
    other = ShopFactory(name="Other")
    set_policy(other)
    _rated(shop, owner, 6, score=0.55, verdict="not_terse")
    threshold = tone_threshold(shop_id=shop.pk)
    assert threshold.value == 0.56 and threshold.moved and threshold.verdicts == 6
    assert tone_threshold(shop_id=other.pk).value == DEFAULT

    set_policy(shop)
    mine = ConversationFactory(contact__channel=_channel(shop))
    reply = exchange(mine, 0, *BORDERLINE, admin_member)
    assert ReplyMeasurement.objects.get(message=reply).terse is False
    assert not Alert.objects.filter(conversation=mine).exists()
    # The same reply in another shop is still an alert there.
    theirs = ConversationFactory(contact__channel=_channel(other))
    reply = exchange(theirs, 0, *BORDERLINE, MemberFactory(shop=other))
    assert ReplyMeasurement.objects.get(message=reply).terse is True
    assert Alert.objects.filter(conversation=theirs, kind="terse_reply").exists()


def test_the_threshold_stays_within_its_bounds(shop, owner):
    _rated(shop, owner, 40, score=0.99, verdict="not_terse")
    assert tone_threshold(shop_id=shop.pk).value == round(DEFAULT + MAX_SHIFT, 2)


def test_confirmations_pull_it_back(shop, owner):
    _rated(shop, owner, 6, score=0.55, verdict="not_terse")
    assert tone_threshold(shop_id=shop.pk).value > DEFAULT
    _rated(shop, owner, 30, score=0.55, verdict="terse")
    assert tone_threshold(shop_id=shop.pk).value == DEFAULT


def test_the_dashboard_shows_the_shops_threshold(client, shop, owner):
    _rated(shop, owner, 6, score=0.55, verdict="not_terse")
    client.force_login(owner.user)
    with translation.override("id"):
        page = client.get("/dashboard/").content.decode()
    assert "Ambang ketus toko ini 0.56" in page or "Ambang ketus toko ini 0,56" in page
    assert "6 penilaian pemilik" in page
