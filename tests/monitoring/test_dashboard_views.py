"""The dashboard page, its live data endpoint and CSV exports, on the hand-built history of test_reports."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from inbox.models import Conversation
from monitoring.models import Alert
from monitoring.reports import report_filters_build, report_groups
from tests.factories import ContactFactory, ConversationFactory
from tests.monitoring.test_reports import SINCE, UNTIL, History, build_history, measurement_create, utc

pytestmark = pytest.mark.django_db

PERIOD = {"since": SINCE, "until": UNTIL}


@pytest.fixture
def history() -> History:
    return build_history()


@pytest.fixture
def owner_client(history: History) -> Client:
    client = Client()
    client.force_login(history.owner.user)
    return client


def csv_rows(response: Any) -> list[dict[str, str]]:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.DictReader(io.StringIO(content.decode("utf-8"))))


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# ---------------------------------------------------------------------------------------------
# page


def test_page_shows_tables_charts_and_worst_examples(history: History, owner_client: Client) -> None:
    response = owner_client.get("/dashboard/", PERIOD)
    assert response.status_code == 200
    html = response.content.decode()
    text = text_of(html)
    # Per-admin rows: Ani 5 replies, median 3 mnt 00 dtk, p90 7 mnt 36 dtk (456 s), SLA 80.0%, terse 25.0%.
    assert re.search(r"Ani 5 3 mnt 00 dtk 7 mnt 36 dtk 3 mnt 00 dtk 4 mnt 36 dtk 80\.0% 25\.0%", text), text
    assert re.search(r"Budi 2 1 mnt 00 dtk 1 mnt 24 dtk 15 dtk 27 dtk 50\.0% 100\.0%", text)
    assert re.search(r"Aplikasi platform / API 1 16 mnt 16 mnt 8 mnt 20 dtk 8 mnt 20 dtk 0\.0% –", text)
    assert re.search(r"WA Toko \(WhatsApp\) 6 ", text)
    for canvas in ("chart-days", "chart-hours", "chart-members"):
        assert f'id="{canvas}"' in html
    assert "vendor/chartjs/chart.umd.min.js" in html
    # Chart data embedded via json_script, every day of the period present.
    charts = json.loads(
        re.search(r'<script id="dashboard-charts" type="application/json">(.*?)</script>', html, re.S)[1]
    )
    assert charts["days"]["labels"] == ["2026-03-02", "2026-03-03", "2026-03-04"]
    assert charts["days"]["p50_min"] == [1.5, 2.25, 13.33]  # 90 s, 135 s, 800 s
    assert charts["days"]["count"] == [2, 4, 2]
    assert len(charts["hours"]["count"]) == 24 and sum(charts["hours"]["count"]) == 8
    assert charts["hours"]["count"][23] == 1 and charts["hours"]["count"][0] == 1
    assert charts["members"]["labels"] == ["Ani", "Budi", "Aplikasi platform / API"]
    assert charts["members"]["sla_met_pct"] == [80.0, 50.0, 0.0]
    # Worst examples link to their conversation; the slowest is the app reply, the tersest a terse one.
    slowest = re.search(r'id="slowest-list">(.*?)</ol>', html, re.S)[1]
    links = re.findall(r'href="/c/(\d+)/"', slowest)
    assert int(links[0]) == history.rows["e1"].conversation_id
    assert [int(x) for x in links[1:3]] == [history.rows["a5"].conversation_id, history.rows["a4"].conversation_id]
    tersest = re.search(r'id="tersest-list">(.*?)</ol>', html, re.S)[1]
    terse_ids = {int(x) for x in re.findall(r'href="/c/(\d+)/"', tersest)}
    assert terse_ids == {history.rows[k].conversation_id for k in ("a3", "b1", "b2")}
    # Another shop's reply (77777 s) never shows.
    assert "77777" not in html and "Lain API" not in html


def test_page_channel_filter(history: History, owner_client: Client) -> None:
    html = owner_client.get("/dashboard/", {**PERIOD, "channel": history.ig.pk}).content.decode()
    text = text_of(html)
    assert "Budi 2" in text and "Ani 5" not in text
    assert f'<option value="{history.ig.pk}" selected>' in html


def test_page_right_now_waiting_and_alerts(history: History, owner_client: Client) -> None:
    now = timezone.now()
    long_wait = ConversationFactory(
        contact=ContactFactory(channel=history.wa, name="Sari"), waiting_since=now - timedelta(hours=3)
    )
    short_wait = ConversationFactory(
        contact=ContactFactory(channel=history.ig, name="Dewi"), waiting_since=now - timedelta(minutes=4)
    )
    ConversationFactory(contact=ContactFactory(channel=history.wa, name="Tidak Menunggu"))
    Alert.objects.create(shop=history.shop, conversation=long_wait, kind="slow_reply", title="Sari menunggu 3 jam")
    Alert.objects.create(
        shop=history.shop, conversation=short_wait, kind="slow_reply", state="resolved", title="Sudah selesai"
    )
    html = owner_client.get("/dashboard/").content.decode()
    waiting = re.search(r'id="waiting-list">(.*?)</ol>', html, re.S)[1]
    assert re.findall(r'href="/c/(\d+)/"', waiting) == [str(long_wait.pk), str(short_wait.pk)]
    assert "Tidak Menunggu" not in waiting
    assert "3 j 00 mnt" in waiting
    alerts = re.search(r'id="alert-list">(.*?)</ol>', html, re.S)[1]
    assert "Sari menunggu 3 jam" in alerts and "Sudah selesai" not in alerts
    assert f'href="/c/{long_wait.pk}/"' in alerts


def test_a_chat_closed_mid_wait_is_not_waiting_on_the_dashboard(history: History, owner_client: Client) -> None:
    now = timezone.now()
    waiting = ConversationFactory(
        contact=ContactFactory(channel=history.wa, name="Sari"), waiting_since=now - timedelta(minutes=10)
    )
    ConversationFactory(
        contact=ContactFactory(channel=history.wa, name="Ditutup"),
        waiting_since=now - timedelta(hours=5),
        status=Conversation.Status.CLOSED,
    )
    html = owner_client.get("/dashboard/").content.decode()
    listed = re.search(r'id="waiting-list">(.*?)</ol>', html, re.S)[1]
    assert re.findall(r'href="/c/(\d+)/"', listed) == [str(waiting.pk)]
    assert re.search(r'data-stat="waiting">1<', html)


def test_page_in_english(history: History, owner_client: Client) -> None:
    response = owner_client.get("/dashboard/", PERIOD, headers={"Accept-Language": "en"})
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="en">' in html
    assert "Response-time dashboard" in html and "Dasbor waktu balas" not in html
    # Indonesian is the default.
    assert "Dasbor waktu balas" in owner_client.get("/dashboard/", PERIOD).content.decode()


def test_bad_filter_shows_the_problem_and_the_default_period(history: History, owner_client: Client) -> None:
    response = owner_client.get("/dashboard/", {"since": "2026-02-31"})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'class="dash-error"' in html and "2026-02-31" in html
    assert 'id="chart-days"' in html


# ---------------------------------------------------------------------------------------------
# live data endpoint


def test_data_endpoint_carries_the_page_numbers(history: History, owner_client: Client) -> None:
    response = owner_client.get("/dashboard/data/", PERIOD)
    assert response.status_code == 200
    body = response.json()
    assert body["period"] == {"since": SINCE, "until": UNTIL, "timezone": "Asia/Jakarta", "channel": None}
    assert body["charts"]["days"]["count"] == [2, 4, 2]
    assert "Ani" in body["panels_html"] and 'id="table-members"' in body["panels_html"]


def test_data_endpoint_sees_a_new_measurement(history: History, owner_client: Client) -> None:
    before = owner_client.get("/dashboard/data/", PERIOD).json()
    measurement_create(
        channel=history.ig,
        member=history.budi,
        replied_at=utc(2026, 3, 4, 4, 0, 0),
        wall=45,
        business=45,
        sla_met=True,
        terse=False,
    )
    after = owner_client.get("/dashboard/data/", PERIOD).json()
    assert before["charts"]["days"]["count"][2] == 2
    assert after["charts"]["days"]["count"][2] == 3
    assert after["charts"]["members"]["labels"][:2] == ["Ani", "Budi"]
    assert after["charts"]["members"]["sla_met_pct"][1] == pytest.approx(66.7)


def test_data_endpoint_bad_value_is_400(history: History, owner_client: Client) -> None:
    response = owner_client.get("/dashboard/data/", {"channel": history.other_channel.pk})
    assert response.status_code == 400
    assert "channel" in response.json()


# ---------------------------------------------------------------------------------------------
# CSV


def test_members_csv_matches_the_report(history: History, owner_client: Client) -> None:
    response = owner_client.get("/dashboard/export/admins.csv", PERIOD)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="balas-admins-2026-03-02_2026-03-04.csv"' in response["Content-Disposition"]
    rows = csv_rows(response)
    assert [r["label"] for r in rows] == ["Ani", "Budi", "Aplikasi platform / API"]
    ani = rows[0]
    assert ani["key"] == str(history.ani.pk)
    assert (ani["count"], ani["p50_s"], ani["p90_s"], ani["avg_s"]) == ("5", "180.000", "456.000", "240.000")
    assert (ani["p50_business_s"], ani["p90_business_s"], ani["sla_met_pct"], ani["terse_pct"]) == (
        "180.000",
        "276.000",
        "80.000",
        "25.000",
    )
    assert rows[2]["key"] == "" and rows[2]["terse_pct"] == ""


def test_channels_csv_with_channel_filter(history: History, owner_client: Client) -> None:
    rows = csv_rows(owner_client.get("/dashboard/export/channels.csv", {**PERIOD, "channel": history.wa.pk}))
    assert len(rows) == 1
    assert rows[0]["label"] == "WA Toko (WhatsApp)"
    assert (rows[0]["count"], rows[0]["p50_s"], rows[0]["p90_s"]) == ("6", "210.000", "800.000")
    expected = report_groups(report_filters_build(shop=history.shop, since=SINCE, until=UNTIL), ["channel"]).channel
    assert float(rows[0]["sla_met_pct"]) == pytest.approx(
        next(s for s in expected if s.key == history.wa.pk).sla_met_pct, abs=1e-3
    )


def test_replies_csv_streams_every_measurement_of_the_period(history: History, owner_client: Client) -> None:
    response = owner_client.get("/dashboard/export/replies.csv", PERIOD)
    assert response.status_code == 200
    assert response.streaming
    rows = csv_rows(response)
    expected = ["a1", "a2", "a3", "b1", "a4", "b2", "a5", "e1"]  # by reply time
    assert [int(r["message_id"]) for r in rows] == [history.rows[k].message_id for k in expected]
    a2 = rows[1]
    assert a2["replied_at"] == "2026-03-02T23:59:59+07:00"  # the shop's local time
    assert a2["started_at"] == "2026-03-02T23:57:59+07:00"
    assert (a2["response_seconds"], a2["sla_met"], a2["terse"], a2["member"]) == ("120.000", "true", "false", "Ani")
    assert rows[2]["terse_reasons"] == "bare acknowledgement"
    assert rows[4]["terse"] == ""  # not judged yet
    e1 = rows[-1]
    assert (e1["member_id"], e1["member"], e1["source"]) == ("", "", "echo")


def test_csv_cells_never_run_as_formulas(history: History, owner_client: Client) -> None:
    history.ani.user.first_name = '=HYPERLINK("http://evil")'
    history.ani.user.save()
    rows = csv_rows(owner_client.get("/dashboard/export/admins.csv", PERIOD))
    assert rows[0]["label"].startswith("'=")


def test_csv_bad_value_is_400(history: History, owner_client: Client) -> None:
    response = owner_client.get("/dashboard/export/replies.csv", {"until": "kemarin"})
    assert response.status_code == 400
    assert "until" in response.json()


def test_waiting_uses_conversation_state_only(history: History, owner_client: Client) -> None:
    assert not Conversation.objects.filter(shop=history.shop, waiting_since__isnull=False).exists()
    html = owner_client.get("/dashboard/").content.decode()
    assert 'id="waiting-list"' not in html


def test_waiting_now_counts_every_waiting_customer_not_the_list(history: History, owner_client: Client) -> None:
    # Issue 15: 55 customers waited and the card said 10 (the length of the longest-waiting list).
    now = timezone.now()
    for i in range(55):
        ConversationFactory(contact=ContactFactory(channel=history.wa), waiting_since=now - timedelta(minutes=i + 1))
    open_alerts = ConversationFactory.create_batch(13, contact__channel=history.wa)
    for conversation in open_alerts:
        Alert.objects.create(shop=history.shop, conversation=conversation, kind="slow_reply", title="menunggu")
    html = owner_client.get("/dashboard/").content.decode()
    listed = re.search(r'id="waiting-list">(.*?)</ol>', html, re.S)[1]
    assert len(re.findall(r'href="/c/(\d+)/"', listed)) == 10
    expected = Conversation.objects.filter(shop=history.shop).waiting().count()
    assert expected >= 55
    assert re.search(rf'data-stat="waiting">{expected}<', html)
    assert re.search(rf"peringatan terbuka: {Alert.objects.filter(shop=history.shop, state='open').count()}<", html)
    assert f"({Alert.objects.filter(shop=history.shop, state='open').count()})" in html
