"""A reply whose own measuring task was lost must end its period, not be alerted as slow."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from monitoring.business_hours import ALWAYS_OPEN
from monitoring.models import Alert, ReplyMeasurement, WaitingPeriod
from monitoring.services.overdue import period_deadline_check
from monitoring.services.periods import waiting_periods_update
from monitoring.services.sweep import monitoring_sweep
from tests.factories import ConversationFactory, MessageFactory
from tests.monitoring.conftest import set_policy

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def overdue(shop):
    """A customer asked 20 s ago (target 5 s); the admin answered after 3 s, but that reply's
    task never ran (Redis was down when it committed)."""
    set_policy(shop, first=5, reply=5, hours=ALWAYS_OPEN)
    conversation = ConversationFactory(contact__channel__shop=shop)
    asked_at = timezone.now() - timedelta(seconds=20)
    question = MessageFactory(conversation=conversation, sent_at=asked_at, text="Kak, ready?")
    waiting_periods_update(message=question)
    reply = MessageFactory(
        conversation=conversation,
        direction="out",
        source="echo",
        status="sent",
        sent_at=asked_at + timedelta(seconds=3),
        text="Ready kak 😊 silakan diorder",
    )
    period = WaitingPeriod.objects.get(conversation=conversation)
    assert period.ended_at is None and period.deadline_at < timezone.now()
    return period, reply


def test_deadline_check_measures_the_reply_instead_of_alerting(overdue):
    period, reply = overdue
    assert period_deadline_check(period_id=period.pk) is None
    period.refresh_from_db()
    assert period.reply_id == reply.pk
    assert period.response_seconds == pytest.approx(3.0)
    assert ReplyMeasurement.objects.get(message=reply).sla_met is True
    assert not Alert.objects.exists()


def test_sweep_measures_before_it_alerts(overdue, settings):
    settings.BALAS_SWEEP_MEASURE_GRACE_S = 0
    period, reply = overdue
    monitoring_sweep()
    period.refresh_from_db()
    assert period.reply_id == reply.pk
    assert not Alert.objects.exists()


def test_an_unanswered_overdue_period_is_still_alerted(shop):
    set_policy(shop, first=5, reply=5, hours=ALWAYS_OPEN)
    conversation = ConversationFactory(contact__channel__shop=shop)
    question = MessageFactory(conversation=conversation, sent_at=timezone.now() - timedelta(seconds=20))
    waiting_periods_update(message=question)
    period = WaitingPeriod.objects.get(conversation=conversation)
    alert = period_deadline_check(period_id=period.pk)
    assert alert is not None and alert.kind == "slow_first_reply"
