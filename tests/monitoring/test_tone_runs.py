"""An admin's follow-ups within the window are judged with the reply they complete (real worker)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from monitoring.models import Alert, ReplyMeasurement
from monitoring.services.tone_runs import greeting_owed, reply_run
from tests.monitoring.conftest import push, set_policy
from tests.support import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

WINDOW = 3.0
QUESTION = "Kak, serum ini ready? ongkir ke Bandung berapa?"
HALF = "iya ready kak"
REST = "Ongkir ke Bandung 15rb ya kak, sampai 2 hari 😊"


@pytest.fixture
def window(settings, shop):
    settings.BALAS_TONE_FOLLOWUP_S = WINDOW
    set_policy(shop)
    return WINDOW


def _measured(message):
    return ReplyMeasurement.objects.filter(message=message).first()


def test_a_follow_up_in_the_window_completes_the_answer_and_no_alert_is_raised(
    api_channel, window, celery_worker
):
    push(api_channel, text=QUESTION)
    first = push(api_channel, direction="out", text=HALF)
    measurement = wait_for(lambda: _measured(first))
    assert measurement.terse is True  # alone it is half an answer...
    push(api_channel, direction="out", text=REST)
    # ...with its follow-up it is a full one: the measurement says so, and nothing is raised.
    wait_for(lambda: _measured(first).terse is False)
    time.sleep(window + 1.5)
    assert not Alert.objects.filter(kind="terse_reply").exists()
    assert _measured(first).terse is False


def test_without_a_follow_up_the_alert_comes_when_the_window_closes(api_channel, window, celery_worker):
    push(api_channel, text=QUESTION)
    first = push(api_channel, direction="out", text=HALF)
    wait_for(lambda: _measured(first))
    assert not Alert.objects.filter(kind="terse_reply").exists()  # held while a follow-up may come
    alert = wait_for(lambda: Alert.objects.filter(kind="terse_reply").first(), timeout=window + 15)
    assert alert.created_at >= first.sent_at + timedelta(seconds=window)
    assert alert.message_ids == [first.pk]
    time.sleep(1)
    assert Alert.objects.filter(kind="terse_reply").count() == 1


def test_a_late_follow_up_withdraws_the_alert_it_answers(api_channel, window, celery_worker):
    push(api_channel, text=QUESTION)
    sent = timezone.now()
    first = push(api_channel, direction="out", text=HALF, sent_at=sent)
    alert = wait_for(lambda: Alert.objects.filter(kind="terse_reply").first(), timeout=window + 15)
    # The follow-up was sent a second after the reply but reaches Balas only now (a late delivery).
    push(api_channel, direction="out", text=REST, sent_at=sent + timedelta(seconds=1))
    wait_for(lambda: Alert.objects.get(pk=alert.pk).state == "resolved")
    alert.refresh_from_db()
    assert alert.message_ids == [] and alert.resolved_at is not None
    assert _measured(first).terse is False


def test_a_follow_up_after_the_customer_wrote_again_is_not_part_of_the_run(api_channel, window, celery_worker):
    push(api_channel, text=QUESTION)
    first = push(api_channel, direction="out", text=HALF)
    push(api_channel, text="oh oke, warna pink ada?")
    later = push(api_channel, direction="out", text=REST)
    wait_for(lambda: _measured(later))
    assert [m.pk for m in reply_run(reply=first)] == [first.pk]
    wait_for(lambda: Alert.objects.filter(kind="terse_reply", message_ids__contains=[first.pk]).exists(), timeout=20)


def test_a_greeting_is_owed_only_when_the_shop_has_not_spoken_lately(api_channel, window, celery_worker):
    push(api_channel, text="Halo kak, serum ini ready?")
    first = push(api_channel, direction="out", text="Halo kak 😊 ready ya, silakan diorder")
    wait_for(lambda: _measured(first))
    assert greeting_owed(conversation_id=first.conversation_id, before=first.sent_at)
    question = push(api_channel, text="harganya berapa kak? ongkir ke Bandung?")
    assert not greeting_owed(conversation_id=first.conversation_id, before=question.sent_at)
    curt = push(api_channel, direction="out", text="ada")
    alert = wait_for(lambda: Alert.objects.filter(kind="terse_reply").first(), timeout=window + 15)
    assert alert.message_ids == [curt.pk]
    # Mid-conversation the suggestion answers without opening with "Halo kak" again.
    assert not alert.suggestion.startswith("Halo")
    assert "[[harga]]" in alert.suggestion
