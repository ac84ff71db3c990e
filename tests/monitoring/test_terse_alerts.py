"""Curt replies raise a terse alert with reasons, grouped per replier and conversation."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from inbox.models import Member
from monitoring.models import Alert, ReplyMeasurement
from monitoring.services.periods import waiting_periods_update
from tests.factories import ConversationFactory, MemberFactory, MessageFactory
from tests.monitoring.conftest import set_policy

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Asia/Jakarta"))
QUESTION = "Kak ready? ongkir ke Bandung berapa?"
WARM = (
    "Halo kak, terima kasih sudah menghubungi kami 😊 Serumnya ready ya kak. "
    "Ongkir ke Bandung 12 ribu pakai JNE, estimasi sampai 2 hari. Mau langsung dipesan kak?"
)


@pytest.fixture
def conversation(shop):
    set_policy(shop)
    return ConversationFactory(contact__channel__shop=shop)


def exchange(conversation, at: float, question: str, reply: str, member: Member | None):
    customer = MessageFactory(
        conversation=conversation, direction="in", text=question, sent_at=T0 + timedelta(seconds=at)
    )
    waiting_periods_update(message=customer)
    answer = MessageFactory(
        conversation=conversation,
        direction="out",
        source="inbox" if member else "echo",
        status="sent",
        text=reply,
        sent_by=member,
        sent_at=T0 + timedelta(seconds=at + 60),
    )
    waiting_periods_update(message=answer)
    return answer


def test_curt_reply_raises_a_terse_alert_with_reasons(conversation, admin_member):
    reply = exchange(conversation, 0, QUESTION, "iya", admin_member)
    measurement = ReplyMeasurement.objects.get(message=reply)
    assert measurement.terse is True
    assert measurement.terse_score is not None
    assert measurement.terse_reasons
    alert = Alert.objects.get(kind="terse_reply")
    assert alert.member == admin_member
    assert alert.conversation == conversation
    assert alert.state == "open"
    assert alert.reasons == measurement.terse_reasons
    assert alert.suggestion
    assert alert.count == 1 and alert.message_ids == [reply.pk]


def test_warm_full_answer_raises_nothing(conversation, admin_member):
    reply = exchange(conversation, 0, QUESTION, WARM, admin_member)
    assert ReplyMeasurement.objects.get(message=reply).terse is False
    assert not Alert.objects.filter(kind="terse_reply").exists()


def test_second_curt_reply_by_the_same_admin_updates_the_alert(conversation, admin_member):
    first = exchange(conversation, 0, QUESTION, "iya", admin_member)
    second = exchange(conversation, 600, "Bisa COD kak? warna pink masih ada?", "ya", admin_member)
    alert = Alert.objects.get(kind="terse_reply")
    assert alert.count == 2
    assert alert.message_ids == [first.pk, second.pk]
    assert alert.message_id == second.pk
    # Measuring again counts nothing twice.
    waiting_periods_update(message=second)
    waiting_periods_update(message=first)
    alert.refresh_from_db()
    assert alert.count == 2
    assert Alert.objects.filter(kind="terse_reply").count() == 1


def test_another_replier_gets_their_own_alert(conversation, admin_member, shop):
    colleague = MemberFactory(shop=shop, role=Member.Role.ADMIN)
    exchange(conversation, 0, QUESTION, "iya", admin_member)
    exchange(conversation, 600, "Bisa COD kak? warna pink masih ada?", "ya", colleague)
    exchange(conversation, 1200, "Kapan dikirim kak?", "besok", None)  # from the phone app
    alerts = Alert.objects.filter(kind="terse_reply")
    assert sorted((a.member_id or 0, a.count) for a in alerts) == sorted(
        [(admin_member.pk, 1), (colleague.pk, 1), (0, 1)]
    )


def test_acknowledged_alert_is_not_reopened_by_a_new_curt_reply(conversation, admin_member, owner):
    from monitoring.services.alerts import alert_acknowledge

    exchange(conversation, 0, QUESTION, "iya", admin_member)
    alert_acknowledge(alert_id=Alert.objects.get().pk, member=owner)
    exchange(conversation, 600, "Bisa COD kak? warna pink masih ada?", "ya", admin_member)
    assert sorted(Alert.objects.values_list("state", flat=True)) == ["acknowledged", "open"]


def auth(member) -> dict[str, str]:
    return {"Authorization": f"Token {member.api_token}"}


def test_tone_check_endpoint(client, admin_member):
    curt = client.post(
        "/api/v1/tone/check/",
        {"customer": QUESTION, "reply": "iya"},
        content_type="application/json",
        headers=auth(admin_member),
    )
    assert curt.status_code == 200, curt.content
    body = curt.json()
    assert body["terse"] is True
    assert isinstance(body["score"], float)
    assert body["reasons"] and all(isinstance(r, str) for r in body["reasons"])
    assert body["suggestion"]

    warm = client.post(
        "/api/v1/tone/check/",
        {"customer": [QUESTION], "reply": WARM},
        content_type="application/json",
        headers=auth(admin_member),
    )
    assert warm.status_code == 200 and warm.json()["terse"] is False


@pytest.mark.parametrize(
    ("body", "field"),
    [({"customer": QUESTION}, "reply"), ({"customer": {"a": 1}, "reply": "iya"}, "customer"), ({"reply": ""}, "reply")],
)
def test_tone_check_rejects_bad_input(client, admin_member, body, field):
    response = client.post("/api/v1/tone/check/", body, content_type="application/json", headers=auth(admin_member))
    assert response.status_code == 400
    assert field in response.json()


def test_tone_check_needs_a_member(client):
    assert client.post("/api/v1/tone/check/", {"reply": "iya"}, content_type="application/json").status_code in (
        401,
        403,
    )
