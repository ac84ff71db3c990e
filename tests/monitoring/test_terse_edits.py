"""An edit of the shop's reply runs the terse judge again: the reply's measurement and the alerts follow it."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction

from inbox.models import Message
from inbox.services.changes import message_edit
from monitoring.models import Alert, ReplyMeasurement, WaitingPeriod
from monitoring.services.periods import waiting_periods_update
from tests.monitoring.test_terse_alerts import QUESTION, WARM, conversation, exchange  # noqa: F401

pytestmark = pytest.mark.django_db

T1 = datetime(2026, 3, 2, 12, 0, tzinfo=ZoneInfo("Asia/Jakarta"))


def edit(reply: Message, text: str, minutes: int) -> None:
    """What the webhook does with a MessageEdit, then what monitoring's task does with EDITED."""
    with transaction.atomic():
        locked = Message.objects.select_for_update().get(pk=reply.pk)
        assert message_edit(message=locked, text=text, content={}, at=T1 + timedelta(minutes=minutes))
    waiting_periods_update(message=Message.objects.get(pk=reply.pk))


def test_editing_one_of_two_curt_replies_keeps_the_alert_for_the_other(conversation, admin_member):  # noqa: F811
    first = exchange(conversation, 0, QUESTION, "iya", admin_member)
    second = exchange(conversation, 600, "Bisa COD kak? warna pink masih ada?", "ya", admin_member)
    periods = list(WaitingPeriod.objects.order_by("pk").values_list("pk", "ended_at", "reply_id"))
    assert Alert.objects.get(kind="terse_reply").message_ids == [first.pk, second.pk]

    edit(first, WARM, 1)
    assert ReplyMeasurement.objects.get(message=first).terse is False
    alert = Alert.objects.get(kind="terse_reply")
    assert (alert.state, alert.message_ids, alert.count) == ("open", [second.pk], 1)

    edit(second, "Bisa COD ya kak 😊 warna pink masih ada, mau dikirim hari ini?", 2)
    alert.refresh_from_db()
    assert (alert.state, alert.message_ids) == ("resolved", [])
    # Neither edit moved a period.
    assert list(WaitingPeriod.objects.order_by("pk").values_list("pk", "ended_at", "reply_id")) == periods


def test_a_reply_edited_into_a_curt_one_raises_the_alert(conversation, admin_member):  # noqa: F811
    reply = exchange(conversation, 0, QUESTION, WARM, admin_member)
    assert not Alert.objects.filter(kind="terse_reply").exists()
    edit(reply, "iya", 1)
    assert ReplyMeasurement.objects.get(message=reply).terse is True
    alert = Alert.objects.get(kind="terse_reply")
    assert (alert.state, alert.message_ids) == ("open", [reply.pk])
