"""Alert e-mails to the owner: the first at once, the rest of a burst as one summary."""

from __future__ import annotations

import pytest
from django.core import mail

from inbox.models import Member
from monitoring.models import Alert
from monitoring.services.alerts import alert_raise
from monitoring.services.email import alert_emails_flush
from monitoring.services.sweep import monitoring_sweep
from tests.factories import ChannelFactory, ConversationFactory, MemberFactory
from tests.support import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _raise(conversation, title: str) -> Alert:
    alert, created = alert_raise(conversation=conversation, kind=Alert.Kind.TERSE_REPLY, title=title, detail="d")
    assert created
    return alert


def test_burst_of_alerts_gives_one_email_then_one_summary(shop, owner, celery_worker, settings):
    settings.BALAS_ALERT_EMAIL_THROTTLE_MINUTES = 0.05  # a 3-second window
    MemberFactory(shop=shop, role=Member.Role.ADMIN)  # admins get no e-mail
    mail.outbox.clear()
    channel = ChannelFactory(shop=shop)
    conversations = [ConversationFactory(contact__channel=channel) for _ in range(3)]

    _raise(conversations[0], "Pertama")
    wait_for(lambda: len(mail.outbox) == 1)
    first = mail.outbox[0]
    assert first.to == [owner.user.email]
    assert "Pertama" in first.subject

    _raise(conversations[1], "Kedua")
    _raise(conversations[2], "Ketiga")
    wait_for(lambda: len(mail.outbox) == 2)
    summary = mail.outbox[1]
    assert "2" in summary.subject
    assert "Kedua" in summary.body and "Ketiga" in summary.body
    assert summary.to == [owner.user.email]

    # Nothing left to send: the flush and the sweep send nothing more.
    assert alert_emails_flush(shop_id=shop.pk) == 0
    assert monitoring_sweep().alerts_emailed == 0
    assert len(mail.outbox) == 2
    assert not Alert.objects.filter(emailed_at__isnull=True).exists()


def test_sweep_sends_what_a_lost_email_task_left(shop, owner, settings):
    """No worker at all: the e-mail task is lost, the sweep still e-mails the owner once."""
    settings.BALAS_ALERT_EMAIL_THROTTLE_MINUTES = 10
    mail.outbox.clear()
    _raise(ConversationFactory(contact__channel__shop=shop), "Tanpa worker")
    assert monitoring_sweep().alerts_emailed == 1
    assert monitoring_sweep().alerts_emailed == 0
    assert [m.subject for m in mail.outbox] == ["[Balas] Tanpa worker"]
