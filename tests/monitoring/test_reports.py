"""Report numbers for a small hand-built history, checked against values worked out by hand.

Percentile definition (as PostgreSQL percentile_cont): for n ascending values x[0..n-1] and fraction p,
r = p * (n - 1); value = x[floor(r)] + (x[ceil(r)] - x[floor(r)]) * (r - floor(r)).

The history (shop time zone Asia/Jakarta, UTC+7), period 2026-03-02 .. 2026-03-04 local:

| reply | who   | channel | replied_at (UTC)     | local day / hour | wall s | business s | SLA | terse |
|-------|-------|---------|----------------------|------------------|--------|------------|-----|-------|
| a1    | Ani   | WA      | 03-02 01:00:00       | 03-02 / 08       | 60     | 60         | yes | no    |
| a2    | Ani   | WA      | 03-02 16:59:59       | 03-02 / 23       | 120    | 120        | yes | no    |
| a3    | Ani   | WA      | 03-02 17:00:00       | 03-03 / 00       | 180    | 180        | yes | yes   |
| a4    | Ani   | WA      | 03-03 05:00:00       | 03-03 / 12       | 240    | 240        | yes | -     |
| a5    | Ani   | WA      | 03-03 18:30:00       | 03-04 / 01       | 600    | 300        | no  | no    |
| b1    | Budi  | IG      | 03-03 02:00:00       | 03-03 / 09       | 30     | 30         | yes | yes   |
| b2    | Budi  | IG      | 03-03 10:00:00       | 03-03 / 17       | 90     | 0          | no  | yes   |
| e1    | (app) | WA      | 03-04 03:00:00       | 03-04 / 10       | 1000   | 500        | no  | -     |

Outside the period (must never count): 03-01 16:59:59Z (03-01 23:59:59 local) and 03-04 17:00:00Z
(03-05 00:00 local), both 99999 s; and another shop's reply inside the period.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from inbox.models import Channel, Member
from monitoring.models import ReplyMeasurement, ShopPolicy
from monitoring.reports import (
    GROUPINGS,
    ReportParamError,
    _raw_groups_python,
    _raw_groups_sql,
    percentile,
    report_filters_build,
    report_groups,
)
from tests.factories import (
    ChannelFactory,
    ContactFactory,
    ConversationFactory,
    MemberFactory,
    MessageFactory,
    ShopFactory,
)

pytestmark = pytest.mark.django_db

SINCE, UNTIL = "2026-03-02", "2026-03-04"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def measurement_create(
    *,
    channel: Channel,
    member: Member | None,
    replied_at: datetime,
    wall: float,
    business: float,
    sla_met: bool,
    terse: bool | None,
    terse_score: float | None = None,
    text: str = "ok",
    conversation: Any = None,
) -> ReplyMeasurement:
    conversation = conversation or ConversationFactory(contact=ContactFactory(channel=channel))
    message = MessageFactory(
        conversation=conversation,
        direction="out",
        source="inbox" if member is not None else "echo",
        text=text,
        sent_at=replied_at,
        sent_by=member,
    )
    return ReplyMeasurement.objects.create(
        message=message,
        shop=channel.shop,
        channel=channel,
        conversation=conversation,
        member=member,
        source="inbox" if member is not None else "echo",
        kind="reply",
        started_at=replied_at - timedelta(seconds=wall),
        replied_at=replied_at,
        response_seconds=wall,
        response_business_seconds=business,
        target_seconds=300,
        sla_met=sla_met,
        terse=terse,
        terse_score=terse_score if terse_score is not None else (0.9 if terse else (0.1 if terse is False else None)),
        terse_reasons=["bare acknowledgement"] if terse else [],
    )


@dataclass
class History:
    shop: Any
    owner: Member
    ani: Member
    budi: Member
    wa: Channel
    ig: Channel
    other_owner: Member
    other_channel: Channel
    rows: dict[str, ReplyMeasurement]


def build_history() -> History:
    shop = ShopFactory(name="Glow Beauty")
    owner = MemberFactory(shop=shop, role=Member.Role.OWNER, user__first_name="Olla")
    ani = MemberFactory(shop=shop, user__first_name="Ani")
    budi = MemberFactory(shop=shop, user__first_name="Budi")
    wa = ChannelFactory(shop=shop, platform="whatsapp", name="WA Toko")
    ig = ChannelFactory(shop=shop, platform="instagram", name="IG Toko")
    rows: dict[str, ReplyMeasurement] = {}
    spec = [
        ("a1", wa, ani, utc(2026, 3, 2, 1, 0, 0), 60, 60, True, False),
        ("a2", wa, ani, utc(2026, 3, 2, 16, 59, 59), 120, 120, True, False),
        ("a3", wa, ani, utc(2026, 3, 2, 17, 0, 0), 180, 180, True, True),
        ("a4", wa, ani, utc(2026, 3, 3, 5, 0, 0), 240, 240, True, None),
        ("a5", wa, ani, utc(2026, 3, 3, 18, 30, 0), 600, 300, False, False),
        ("b1", ig, budi, utc(2026, 3, 3, 2, 0, 0), 30, 30, True, True),
        ("b2", ig, budi, utc(2026, 3, 3, 10, 0, 0), 90, 0, False, True),
        ("e1", wa, None, utc(2026, 3, 4, 3, 0, 0), 1000, 500, False, None),
        ("before", wa, ani, utc(2026, 3, 1, 16, 59, 59), 99999, 99999, False, True),
        ("after", ig, budi, utc(2026, 3, 4, 17, 0, 0), 99999, 99999, False, True),
    ]
    for name, channel, member, replied_at, wall, business, sla_met, terse in spec:
        rows[name] = measurement_create(
            channel=channel,
            member=member,
            replied_at=replied_at,
            wall=wall,
            business=business,
            sla_met=sla_met,
            terse=terse,
            text=f"balasan {name}",
        )
    # Another shop, same days, extreme values: any leak shows in every count below.
    other = ShopFactory(name="Toko Lain")
    other_owner = MemberFactory(shop=other, role=Member.Role.OWNER)
    other_admin = MemberFactory(shop=other)
    other_channel = ChannelFactory(shop=other, platform="api", name="Lain API", account_id="other-acct")
    rows["other"] = measurement_create(
        channel=other_channel,
        member=other_admin,
        replied_at=utc(2026, 3, 3, 3, 0, 0),
        wall=77777,
        business=77777,
        sla_met=False,
        terse=True,
    )
    return History(shop, owner, ani, budi, wa, ig, other_owner, other_channel, rows)


@pytest.fixture
def history() -> History:
    return build_history()


def filters_for(h: History, **kwargs: Any) -> Any:
    return report_filters_build(
        shop=h.shop, since=kwargs.pop("since", SINCE), until=kwargs.pop("until", UNTIL), **kwargs
    )


def by_key(stats: list[Any]) -> dict[Any, Any]:
    return {s.key: s for s in stats}


approx = pytest.approx


# ---------------------------------------------------------------------------------------------
# percentile definition


def test_percentile_is_linear_interpolation_between_ranks() -> None:
    assert percentile([], 0.5) is None
    assert percentile([42.0], 0.9) == 42.0
    assert percentile([10.0, 20.0], 0.5) == 15.0
    # r = 0.9 * 3 = 2.7 -> 30 + (40 - 30) * 0.7
    assert percentile([10.0, 20.0, 30.0, 40.0], 0.9) == approx(37.0)
    assert percentile([10.0, 20.0, 30.0, 40.0], 0.5) == approx(25.0)


# ---------------------------------------------------------------------------------------------
# grouped numbers


def test_per_member_numbers(history: History) -> None:
    groups = report_groups(filters_for(history), ["member"])
    stats = by_key(groups.member)
    assert set(stats) == {history.ani.pk, history.budi.pk, None}

    ani = stats[history.ani.pk]
    assert ani.label == "Ani"
    assert ani.count == 5
    assert ani.p50_s == approx(180.0)  # [60,120,180,240,600]: r = 2
    assert ani.p90_s == approx(456.0)  # r = 3.6: 240 + 360 * 0.6
    assert ani.avg_s == approx(240.0)
    assert ani.p50_business_s == approx(180.0)  # [60,120,180,240,300]
    assert ani.p90_business_s == approx(276.0)  # 240 + 60 * 0.6
    assert ani.avg_business_s == approx(180.0)
    assert ani.sla_met_pct == approx(80.0)  # 4 of 5
    assert ani.terse_pct == approx(25.0)  # 1 of the 4 judged (a4 not judged yet)

    budi = stats[history.budi.pk]
    assert budi.count == 2
    assert budi.p50_s == approx(60.0)
    assert budi.p90_s == approx(84.0)  # 30 + 60 * 0.9
    assert budi.p50_business_s == approx(15.0)  # [0, 30]
    assert budi.p90_business_s == approx(27.0)
    assert budi.sla_met_pct == approx(50.0)
    assert budi.terse_pct == approx(100.0)

    app = stats[None]
    assert app.label == "Aplikasi platform / API"
    assert app.count == 1
    assert app.p50_s == app.p90_s == approx(1000.0)
    assert app.p50_business_s == approx(500.0)
    assert app.sla_met_pct == approx(0.0)
    assert app.terse_pct is None  # nothing judged: no percentage rather than a fake 0
    # Busiest first.
    assert [s.key for s in groups.member] == [history.ani.pk, history.budi.pk, None]


def test_per_channel_numbers(history: History) -> None:
    stats = by_key(report_groups(filters_for(history), ["channel"]).channel)
    assert set(stats) == {history.wa.pk, history.ig.pk}
    wa = stats[history.wa.pk]
    assert wa.label == "WA Toko (WhatsApp)"
    assert wa.count == 6  # Ani's five and the app reply
    assert wa.p50_s == approx(210.0)  # [60,120,180,240,600,1000]: r = 2.5
    assert wa.p90_s == approx(800.0)  # r = 4.5: 600 + 400 * 0.5
    assert wa.avg_s == approx(2200 / 6)
    assert wa.p50_business_s == approx(210.0)  # [60,120,180,240,300,500]
    assert wa.p90_business_s == approx(400.0)  # 300 + 200 * 0.5
    assert wa.sla_met_pct == approx(400 / 6)
    assert wa.terse_pct == approx(25.0)
    ig = stats[history.ig.pk]
    assert (ig.count, ig.p50_s, ig.p90_s, ig.sla_met_pct, ig.terse_pct) == (2, approx(60.0), approx(84.0), 50.0, 100.0)


def test_per_day_uses_the_shops_local_calendar(history: History) -> None:
    stats = by_key(report_groups(filters_for(history), ["day"]).day)
    # a2 at 16:59:59Z is still 03-02 in Jakarta; a3 one second later is 03-03; a5 (18:30Z) is 03-04.
    assert list(stats) == ["2026-03-02", "2026-03-03", "2026-03-04"]
    d2, d3, d4 = stats["2026-03-02"], stats["2026-03-03"], stats["2026-03-04"]
    assert (d2.count, d2.p50_s, d2.p90_s) == (2, approx(90.0), approx(114.0))  # [60,120]
    assert (d3.count, d3.p50_s, d3.p90_s) == (4, approx(135.0), approx(222.0))  # [30,90,180,240]
    assert d3.p50_business_s == approx(105.0)  # [0,30,180,240]
    assert d3.sla_met_pct == approx(75.0)
    assert d3.terse_pct == approx(100.0)  # a3, b1, b2 judged terse; a4 not judged
    assert (d4.count, d4.p50_s, d4.p90_s) == (2, approx(800.0), approx(960.0))  # [600,1000]


def test_per_hour_of_local_day(history: History) -> None:
    hours = {s.key: s.count for s in report_groups(filters_for(history), ["hour"]).hour}
    assert hours == {0: 1, 1: 1, 8: 1, 9: 1, 10: 1, 12: 1, 17: 1, 23: 1}


def test_total(history: History) -> None:
    total = report_groups(filters_for(history), ["total"]).total
    assert total is not None
    assert total.count == 8
    assert total.p50_s == approx(150.0)  # [30,60,90,120,180,240,600,1000]: r = 3.5
    assert total.p90_s == approx(720.0)  # r = 6.3: 600 + 400 * 0.3
    assert total.sla_met_pct == approx(62.5)  # 5 of 8
    assert total.terse_pct == approx(50.0)  # 3 of 6 judged


def test_empty_period(history: History) -> None:
    groups = report_groups(filters_for(history, since="2026-01-01", until="2026-01-31"))
    assert (groups.member, groups.channel, groups.day, groups.hour) == ([], [], [], [])
    assert groups.total is not None
    assert (groups.total.count, groups.total.p50_s, groups.total.sla_met_pct) == (0, None, None)


def test_all_groupings_in_one_query_equal_one_at_a_time(history: History) -> None:
    filters = filters_for(history)
    with CaptureQueriesContext(connection) as ctx:
        together = report_groups(filters)
    statements = [q["sql"] for q in ctx.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    # The rollup probe (too few replies: exact figures), the sort-memory setting, ONE grouped statement
    # for every grouping, member names, channel names.
    assert len(statements) == 5
    assert "replyrollupday" in statements[0]
    assert sum("GROUPING SETS" in sql for sql in statements) == 1
    for name in ("member", "channel", "day", "hour"):
        alone = getattr(report_groups(filters, [name]), name)
        assert [s.as_dict() for s in getattr(together, name)] == [s.as_dict() for s in alone]


def test_python_fallback_gives_the_sql_numbers(history: History) -> None:
    """SQLite computes in Python: on the same rows it must agree with PostgreSQL's percentile_cont."""
    for channel in (None, history.wa.pk):
        filters = filters_for(history, channel=channel)
        sql = _raw_groups_sql(filters, GROUPINGS)
        python = _raw_groups_python(filters, GROUPINGS)
        assert set(sql) == set(python)
        for key, values in sql.items():
            assert list(python[key]) == [approx(v) if isinstance(v, float) else v for v in values], key


# ---------------------------------------------------------------------------------------------
# filters


def test_channel_filter(history: History) -> None:
    groups = report_groups(filters_for(history, channel=str(history.ig.pk)))
    assert [s.key for s in groups.member] == [history.budi.pk]
    assert [s.key for s in groups.channel] == [history.ig.pk]
    assert groups.total is not None and groups.total.count == 2


def test_date_range_edges(history: History) -> None:
    one_day = report_groups(filters_for(history, since="2026-03-03", until="2026-03-03"), ["total"]).total
    assert one_day is not None and one_day.count == 4
    # Datetimes: naive = local time, until exclusive. 03-02 23:59:59 local is a2 exactly.
    f = report_filters_build(shop=history.shop, since="2026-03-02T23:59:59", until="2026-03-03T00:00:01")
    assert report_groups(f, ["total"]).total.count == 2  # a2 and a3
    f = report_filters_build(shop=history.shop, since="2026-03-02T16:59:59Z", until="2026-03-02T17:00:00+00:00")
    assert report_groups(f, ["total"]).total.count == 1  # a2 only: the end is exclusive
    # A plus sign that a client forgot to encode arrives as a space.
    f = report_filters_build(shop=history.shop, since="2026-03-02T23:59:59 07:00", until="2026-03-03")
    assert f.start == utc(2026, 3, 2, 16, 59, 59)


def test_wider_range_includes_the_edges_but_never_another_shop(history: History) -> None:
    total = report_groups(filters_for(history, since="2026-03-01", until="2026-03-05"), ["total"]).total
    assert total is not None and total.count == 10  # + "before" and "after", never "other"


def test_policy_time_zone_moves_day_boundaries(history: History) -> None:
    ShopPolicy.objects.create(shop=history.shop, timezone="Asia/Makassar")  # UTC+8
    filters = filters_for(history)
    assert filters.start == utc(2026, 3, 1, 16, 0, 0)
    days = {s.key: s.count for s in report_groups(filters, ["day"]).day}
    # "before" (03-01 16:59:59Z) is 03-02 00:59:59 in Makassar; a2 moves to 03-03; "after" is 03-05 01:00.
    assert days == {"2026-03-02": 2, "2026-03-03": 5, "2026-03-04": 2}


def test_default_period_is_the_last_seven_local_days(history: History) -> None:
    now = utc(2026, 3, 4, 18, 0, 0)  # 03-05 01:00 in Jakarta
    f = report_filters_build(shop=history.shop, now=now)
    assert f.start == utc(2026, 2, 26, 17, 0, 0)  # 02-27 00:00 local: 02-27 .. 03-05 is seven days
    assert f.end == utc(2026, 3, 5, 17, 0, 0)  # 03-06 00:00 local
    assert f.first_day.isoformat() == "2026-02-27" and f.last_day.isoformat() == "2026-03-05"
    assert len(f.days()) == 7


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"since": "2026-13-01"}, "since"),
        ({"since": "yesterday"}, "since"),
        ({"until": "2026-03-04T25:00"}, "until"),
        ({"until": "9999-12-31"}, "until"),
        ({"since": "2026-03-05", "until": "2026-03-04"}, "since"),
        ({"since": "2020-01-01", "until": "2026-03-04"}, "since"),
        ({"channel": "wa"}, "channel"),
    ],
)
def test_bad_filters_name_the_parameter(history: History, params: dict[str, str], param: str) -> None:
    with pytest.raises(ReportParamError) as info:
        report_filters_build(shop=history.shop, **params)
    assert info.value.param == param


def test_another_shops_channel_is_refused(history: History) -> None:
    with pytest.raises(ReportParamError) as info:
        report_filters_build(shop=history.shop, channel=history.other_channel.pk)
    assert info.value.param == "channel"


# ---------------------------------------------------------------------------------------------
# API


def api_get(member: Member, **params: Any) -> Any:
    return Client().get(
        "/api/v1/reports/response-times/", params, headers={"Authorization": f"Token {member.api_token}"}
    )


@pytest.mark.parametrize("group_by", ["member", "channel", "day"])
def test_api_returns_the_same_numbers(history: History, group_by: str) -> None:
    response = api_get(history.owner, since=SINCE, until=UNTIL, group_by=group_by)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["group_by"] == group_by
    assert body["timezone"] == "Asia/Jakarta"
    assert body["since"].startswith("2026-03-02T00:00:00") and body["until"].startswith("2026-03-05T00:00:00")
    expected = [s.as_dict() for s in getattr(report_groups(filters_for(history), [group_by]), group_by)]
    assert len(body["results"]) == len(expected) > 0
    for got, want in zip(body["results"], expected, strict=True):
        assert set(got) == {
            "key", "label", "count", "p50_s", "p90_s", "avg_s", "p50_business_s", "p90_business_s",
            "avg_business_s", "sla_met_pct", "terse_pct",
        }  # fmt: skip
        assert got == {k: (approx(v) if isinstance(v, float) else v) for k, v in want.items()}


def test_api_member_numbers_by_hand(history: History) -> None:
    results = api_get(history.owner, since=SINCE, until=UNTIL, group_by="member").json()["results"]
    ani = next(r for r in results if r["key"] == history.ani.pk)
    assert (ani["count"], ani["p50_s"], ani["p90_s"], ani["avg_s"]) == (5, 180.0, approx(456.0), 240.0)
    assert (ani["sla_met_pct"], ani["terse_pct"]) == (80.0, 25.0)
    assert (ani["p50_business_s"], ani["p90_business_s"]) == (180.0, approx(276.0))
    day = api_get(history.owner, since=SINCE, until=UNTIL, group_by="day", channel=history.wa.pk).json()
    assert [(r["key"], r["count"]) for r in day["results"]] == [("2026-03-02", 2), ("2026-03-03", 2), ("2026-03-04", 2)]


def test_api_with_browser_session(history: History) -> None:
    client = Client()
    client.force_login(history.owner.user)
    response = client.get("/api/v1/reports/response-times/", {"since": SINCE, "until": UNTIL, "group_by": "channel"})
    assert response.status_code == 200
    assert {r["key"] for r in response.json()["results"]} == {history.wa.pk, history.ig.pk}


def test_api_owner_sees_only_their_shop(history: History) -> None:
    body = api_get(history.other_owner, since=SINCE, until=UNTIL, group_by="member").json()
    assert [(r["count"], r["p50_s"]) for r in body["results"]] == [(1, 77777.0)]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": "2026-02-30"}, "since"),
        ({"until": "not-a-date"}, "until"),
        ({"group_by": "week"}, "group_by"),
        ({"channel": "abc"}, "channel"),
    ],
)
def test_api_bad_values_are_400_naming_the_field(history: History, params: dict[str, str], field: str) -> None:
    response = api_get(history.owner, **params)
    assert response.status_code == 400
    assert field in response.json()


def test_api_since_after_until_is_422(history: History) -> None:
    # Both values match the schema; their order is a rule across parameters.
    response = api_get(history.owner, since="2026-03-05", until="2026-03-01")
    assert response.status_code == 422
    assert "since" in response.json()


def test_api_another_shops_channel_is_422(history: History) -> None:
    response = api_get(history.owner, channel=history.other_channel.pk)
    assert response.status_code == 422
    assert "channel" in response.json()


def test_api_in_openapi_schema(history: History) -> None:
    response = Client().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = json.loads(response.content)
    operation = schema["paths"]["/api/v1/reports/response-times/"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert {"since", "until", "group_by", "channel"} <= names


# ---------------------------------------------------------------------------------------------
# who may see it


@pytest.mark.parametrize(
    "path",
    [
        "/dashboard/",
        "/dashboard/data/",
        "/dashboard/export/admins.csv",
        "/dashboard/export/channels.csv",
        "/dashboard/export/replies.csv",
        "/api/v1/reports/response-times/",
    ],
)
def test_admins_get_403(history: History, path: str) -> None:
    client = Client()
    client.force_login(history.ani.user)
    assert client.get(path).status_code == 403
    if path.startswith("/api/"):
        assert api_get(history.ani).status_code == 403


def test_anonymous_is_sent_to_login_or_refused(history: History) -> None:
    client = Client()
    response = client.get("/dashboard/?since=2026-03-02")
    assert response.status_code == 302
    assert "login" in response["Location"] and "next=" in response["Location"]
    assert client.get("/api/v1/reports/response-times/").status_code in (401, 403)


def test_channel_token_is_refused(history: History) -> None:
    from inbox.tokens import token_generate

    raw, digest = token_generate("bc")
    ChannelFactory(shop=history.shop, platform="api", account_id="push-1", token_hash=digest)
    response = Client().get("/api/v1/reports/response-times/", headers={"Authorization": f"Token {raw}"})
    assert response.status_code == 403
