"""Alerts name a customer whose name is not known yet by inbox's placeholder, never by a 16-digit id."""

from __future__ import annotations

import pytest

from inbox.models import Conversation
from monitoring.models import Alert
from monitoring.services.alerts import alert_raise, terse_alert_record
from tests.factories import ChannelFactory, ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db

IGSID = "6781230000004429"


def test_the_api_and_the_alert_text_show_the_placeholder(client, shop, owner):
    channel = ChannelFactory(shop=shop, platform="instagram")
    conversation = ConversationFactory(
        contact__channel=channel, contact__shop=shop, contact__name="", contact__external_id=IGSID
    )
    reply = MessageFactory(conversation=conversation, direction="out", source="echo", status="sent", text="iya")
    conversation = Conversation.objects.select_related("contact").get(pk=conversation.pk)
    terse_alert_record(conversation=conversation, reply=reply, verdict=type("V", (), {"reasons": ["x"]})())
    alert_raise(conversation=conversation, kind=Alert.Kind.SLOW_REPLY, title="t")
    response = client.get("/api/v1/alerts/", headers={"Authorization": f"Token {owner.api_token}"})
    assert response.status_code == 200
    names = {a["contact_name"] for a in response.json()["results"]}
    assert names == {"Pelanggan Instagram ·4429"}
    terse = Alert.objects.get(kind="terse_reply")
    assert "Pelanggan Instagram ·4429" in terse.detail and IGSID not in terse.detail
