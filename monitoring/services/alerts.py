"""Alerts: raised once, grouped where they repeat, resolved by the reply, acknowledged by people."""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from inbox.models import Conversation, Member, Message, contact_placeholder_name
from monitoring.events import ALERT_CREATED, ALERT_UPDATED, alert_event_publish
from monitoring.models import Alert, WaitingPeriod
from monitoring.notifications import ShopRouting, in_page_kinds
from monitoring.selectors import alerts_visible
from monitoring.services.browser_notify import browser_notify_arm_on_commit
from monitoring.services.email import alert_email_queue
from monitoring.services.push import alert_pushes_queue

logger = logging.getLogger("balas.monitoring")

SLOW_KINDS = (Alert.Kind.SLOW_FIRST_REPLY, Alert.Kind.SLOW_REPLY)
# The alerts a period's reply resolves: its breach, and the warning before it.
PERIOD_KINDS = (*SLOW_KINDS, Alert.Kind.REPLY_DUE_SOON)


def _contact_name(conversation: Conversation) -> str:
    contact = conversation.contact
    # The conversation's channel is the contact's: a nameless contact gets inbox's readable placeholder.
    return contact.name or contact_placeholder_name(
        platform=conversation.channel.platform, external_id=contact.external_id
    )


def _minutes(seconds: float) -> str:
    minutes = seconds / 60
    return f"{minutes:.0f}" if minutes >= 1 else f"{minutes:.1f}"


def alert_raise(
    *,
    conversation: Conversation,
    kind: str,
    title: str,
    detail: str = "",
    waiting_period: WaitingPeriod | None = None,
    member_id: int | None = None,
    message: Message | None = None,
    reasons: list[str] | tuple[str, ...] = (),
    suggestion: str = "",
    latency_seconds: float | None = None,
) -> tuple[Alert, bool]:
    """Create an alert unless its unique key exists; returns (alert, created).

    After the commit, `alert.created` goes to the shop's sockets and the owner's e-mail is queued.
    """
    values = {
        "shop_id": conversation.shop_id,
        "conversation": conversation,
        "waiting_period": waiting_period,
        "kind": kind,
        "assignee_id": conversation.assignee_id,
        "member_id": member_id,
        "message": message,
        "message_ids": [message.pk] if message is not None else [],
        "title": title[:200],
        "detail": detail,
        "reasons": list(reasons),
        "suggestion": suggestion,
        "latency_seconds": latency_seconds,
    }
    with transaction.atomic():
        try:
            with transaction.atomic():
                alert = Alert.objects.create(**values)
        except IntegrityError:
            existing = _existing(conversation=conversation, kind=kind, period=waiting_period, member_id=member_id)
            if existing is None:
                raise
            return existing, False
        browser_notify_arm_on_commit(alert=alert, member_ids=alert_event_publish(alert, ALERT_CREATED))
        transaction.on_commit(lambda: alert_email_queue(shop_id=alert.shop_id))
        transaction.on_commit(functools.partial(alert_pushes_queue, alert_ids=[alert.pk]))
    logger.info("alert.raised alert=%s kind=%s conversation=%s", alert.pk, kind, conversation.pk)
    return alert, True


def _existing(
    *, conversation: Conversation, kind: str, period: WaitingPeriod | None, member_id: int | None
) -> Alert | None:
    if period is not None:
        return Alert.objects.filter(waiting_period=period, kind=kind).first()
    return Alert.objects.filter(conversation=conversation, kind=kind, member=member_id, state=Alert.State.OPEN).first()


def slow_alert_kind(period: WaitingPeriod) -> str:
    return Alert.Kind.SLOW_FIRST_REPLY if period.kind == WaitingPeriod.Kind.FIRST else Alert.Kind.SLOW_REPLY


def _slow_alert_text(period: WaitingPeriod, kind: str) -> tuple[str, str]:
    """(title, detail) of a period's slow alert, in the active language."""
    name = _contact_name(period.conversation)
    if kind == Alert.Kind.SLOW_FIRST_REPLY:
        title = _("%(name)s belum dapat balasan pertama") % {"name": name}
    else:
        title = _("%(name)s menunggu balasan") % {"name": name}
    detail = _("Pelanggan menunggu sejak %(since)s; target %(target)s menit jam kerja sudah lewat.") % {
        "since": timezone.localtime(period.started_at).strftime("%d-%m-%Y %H:%M"),
        "target": _minutes(period.target_seconds),
    }
    return title, detail


def slow_alert_raise(*, period: WaitingPeriod) -> Alert | None:
    """The slow-reply alert of a period past its deadline (caller holds the period's row lock)."""
    kind = slow_alert_kind(period)
    if Alert.objects.filter(waiting_period=period, kind=kind).exists():
        return None
    title, detail = _slow_alert_text(period, kind)
    alert, created = alert_raise(
        conversation=period.conversation,
        kind=kind,
        title=title,
        detail=detail,
        waiting_period=period,
        latency_seconds=(timezone.now() - period.started_at).total_seconds(),
    )
    return alert if created else None


def slow_alerts_bulk_raise(*, periods: Sequence[WaitingPeriod], now: datetime) -> list[Alert]:
    """The slow alerts of many periods past their deadline in one INSERT; returns those created.

    The caller holds the periods' row locks (and their conversations', see
    monitoring.services.deadlines) inside its transaction. `INSERT ... ON CONFLICT DO NOTHING`
    on the unique (waiting period, kind) index has the last word: a period alerted meanwhile by
    any path gets nothing new. Each created alert is published (`alert.created`, as alert_raise
    does) and each shop's e-mail is queued once, after the commit.
    """
    alerts: list[Alert] = []
    for period in periods:
        kind = slow_alert_kind(period)
        title, detail = _slow_alert_text(period, kind)
        alerts.append(_period_alert(period, kind=kind, title=title, detail=detail, now=now))
    return _period_alerts_bulk_raise(alerts)


def _warning_text(period: WaitingPeriod, now: datetime) -> tuple[str, str]:
    name = _contact_name(period.conversation)
    left = max(0.0, (period.deadline_at - now).total_seconds())
    title = _("Segera balas %(name)s") % {"name": name}
    detail = _("Pelanggan menunggu sejak %(since)s; target terlewati dalam %(left)s menit.") % {
        "since": timezone.localtime(period.started_at).strftime("%d-%m-%Y %H:%M"),
        "left": _minutes(left),
    }
    return title, detail


def warning_alerts_bulk_raise(*, periods: Sequence[WaitingPeriod], now: datetime) -> list[Alert]:
    """The `reply_due_soon` warnings of periods whose warning moment has come (the caller holds their
    row locks and checked that none is answered, alerted or past its deadline); returns those created."""
    alerts = []
    for period in periods:
        title, detail = _warning_text(period, now)
        alerts.append(_period_alert(period, kind=Alert.Kind.REPLY_DUE_SOON, title=title, detail=detail, now=now))
    return _period_alerts_bulk_raise(alerts)


def _period_alert(period: WaitingPeriod, *, kind: str, title: str, detail: str, now: datetime) -> Alert:
    conversation = period.conversation
    return Alert(
        shop_id=conversation.shop_id,
        conversation=conversation,
        waiting_period=period,
        kind=kind,
        assignee_id=conversation.assignee_id,
        title=title[:200],
        detail=detail,
        latency_seconds=(now - period.started_at).total_seconds(),
    )


def _period_alerts_bulk_raise(alerts: list[Alert]) -> list[Alert]:
    if not alerts:
        return []
    by_key = {(alert.waiting_period_id, alert.kind): alert for alert in alerts}
    created: list[Alert] = []
    for period_id, kind, pk in _alerts_insert(list(by_key.values())):
        alert = by_key[(period_id, kind)]
        alert.pk = pk
        alert._state.adding = False
        alert._state.db = connection.alias
        created.append(alert)
    routings = {shop_id: ShopRouting.load(shop_id) for shop_id in {alert.shop_id for alert in created}}
    notify: set[int] = set()
    for alert in created:
        notify.update(alert_event_publish(alert, ALERT_CREATED, routing=routings[alert.shop_id]))
        logger.info("alert.raised alert=%s kind=%s conversation=%s", alert.pk, alert.kind, alert.conversation_id)
    if created:
        # One arming per member for the whole batch: the flush reads every alert that arrived.
        browser_notify_arm_on_commit(alert=created[0], member_ids=sorted(notify))
    transaction.on_commit(functools.partial(alert_pushes_queue, alert_ids=[alert.pk for alert in created]))
    # Warnings are for the admins in the page: never in the owners' alert e-mail.
    for shop_id in sorted({alert.shop_id for alert in created if alert.kind != Alert.Kind.REPLY_DUE_SOON}):
        transaction.on_commit(functools.partial(alert_email_queue, shop_id=shop_id))
    return created


def _alerts_insert(alerts: list[Alert]) -> list[tuple[int, str, int]]:
    """Insert period alerts, skipping any whose (period, kind) exists: (period id, kind, id) of each new row.

    Django's bulk_create(ignore_conflicts=True) returns no ids and cannot name the partial unique
    index, so the statement is written here from the model's fields (values are parameters).
    """
    fields = [f for f in Alert._meta.concrete_fields if not f.primary_key]
    q = connection.ops.quote_name
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    params: list[Any] = []
    for alert in alerts:
        params += [f.get_db_prep_save(f.pre_save(alert, True), connection) for f in fields]
    # Only names from the model's metadata and placeholders are formatted in; values are parameters.
    sql = (
        f"INSERT INTO {q(Alert._meta.db_table)} ({', '.join(q(str(f.column)) for f in fields)}) "  # noqa: S608
        f"VALUES {', '.join([row] * len(alerts))} "
        "ON CONFLICT (waiting_period_id, kind) WHERE waiting_period_id IS NOT NULL DO NOTHING "
        "RETURNING waiting_period_id, kind, id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(int(p), str(k), int(i)) for p, k, i in cursor.fetchall()]


def slow_alerts_resolve(*, period: WaitingPeriod, latency_seconds: float | None) -> int:
    """The reply came: the period's slow alert (and its warning) is resolved and carries the real latency."""
    changed = 0
    now = timezone.now()
    for alert in Alert.objects.select_for_update().filter(waiting_period=period, kind__in=PERIOD_KINDS):
        alert.conversation = period.conversation  # for the event's contact name, read already
        fields: list[str] = []
        if alert.state != Alert.State.RESOLVED:
            alert.state = Alert.State.RESOLVED
            alert.resolved_at = now
            fields += ["state", "resolved_at"]
        if latency_seconds is not None and alert.latency_seconds != latency_seconds:
            alert.latency_seconds = latency_seconds
            fields.append("latency_seconds")
        if fields:
            alert.save(update_fields=[*fields, "updated_at"])
            alert_event_publish(alert, ALERT_UPDATED)
            logger.info("alert.resolved alert=%s latency=%s", alert.pk, latency_seconds)
            changed += 1
    return changed


def terse_alert_record(*, conversation: Conversation, reply: Message, verdict: Any) -> Alert:
    """Raise, or add to, the open terse alert of this replier in this conversation.

    A reply already recorded (a re-run of the measurement) changes nothing.
    """
    # Checked in Python: JSON `contains` is not available on SQLite (the embedded default), and a
    # conversation has only a handful of terse alerts.
    recorded = Alert.objects.filter(conversation=conversation, kind=Alert.Kind.TERSE_REPLY).only("message_ids")
    already = next((alert for alert in recorded if reply.pk in alert.message_ids), None)
    if already is not None:
        return already
    reasons = [str(r) for r in getattr(verdict, "reasons", ())]
    suggestion = str(getattr(verdict, "suggestion", "") or "")
    replier = reply.sent_by.display_name if reply.sent_by_id and reply.sent_by else (reply.sender_label or _("Toko"))
    detail = _("Balasan “%(text)s” terdengar ketus untuk pelanggan %(name)s.") % {
        "text": reply.text[:120],
        "name": _contact_name(conversation),
    }
    grouped = (
        Alert.objects.select_for_update()
        .filter(conversation=conversation, kind=Alert.Kind.TERSE_REPLY, state=Alert.State.OPEN, member=reply.sent_by_id)
        .first()
    )
    if grouped is not None:
        grouped.conversation = conversation  # read already: who sees it, the event's contact name
        grouped.message_ids = [*grouped.message_ids, reply.pk]
        grouped.count = len(grouped.message_ids)
        grouped.message = reply
        grouped.reasons = reasons
        grouped.suggestion = suggestion
        grouped.detail = detail
        grouped.title = _("%(who)s membalas ketus (%(count)s kali)") % {"who": replier, "count": grouped.count}
        grouped.save(
            update_fields=["message_ids", "count", "message", "reasons", "suggestion", "detail", "title", "updated_at"]
        )
        alert_event_publish(grouped, ALERT_UPDATED)
        logger.info("alert.grouped alert=%s count=%s", grouped.pk, grouped.count)
        return grouped
    alert, _created = alert_raise(
        conversation=conversation,
        kind=Alert.Kind.TERSE_REPLY,
        title=_("%(who)s membalas ketus") % {"who": replier},
        detail=detail,
        member_id=reply.sent_by_id,
        message=reply,
        reasons=reasons,
        suggestion=suggestion,
    )
    return alert


def terse_alerts_withdraw(*, conversation: Conversation, message_ids: Sequence[int]) -> int:
    """Replies judged warm after all (a follow-up completed them, or their author edited them) leave
    their terse alerts; an alert left with none is resolved. Returns how many alerts changed (each
    publishes `alert.updated`)."""
    ids = set(message_ids)
    changed = 0
    alerts = Alert.objects.select_for_update().filter(
        conversation=conversation,
        kind=Alert.Kind.TERSE_REPLY,
        state__in=[Alert.State.OPEN, Alert.State.ACKNOWLEDGED],
    )
    for alert in alerts:
        if ids.isdisjoint(alert.message_ids):
            continue
        remaining = [i for i in alert.message_ids if i not in ids]
        alert.message_ids = remaining
        alert.count = max(1, len(remaining))
        fields = ["message_ids", "count"]
        if not remaining:
            alert.state = Alert.State.RESOLVED
            alert.resolved_at = timezone.now()
            fields += ["state", "resolved_at"]
        alert.save(update_fields=[*fields, "updated_at"])
        alert_event_publish(alert, ALERT_UPDATED)
        logger.info("alert.terse_withdrawn alert=%s left=%d", alert.pk, len(remaining))
        changed += 1
    return changed


def _acknowledge(alert: Alert, *, member: Member, now: datetime) -> None:
    alert.state = Alert.State.ACKNOWLEDGED
    alert.acknowledged_at = now
    alert.acknowledged_by = member
    alert.save(update_fields=["state", "acknowledged_at", "acknowledged_by", "updated_at"])


@transaction.atomic
def alert_acknowledge(*, alert_id: int, member: Member) -> Alert:
    """Mark an alert seen. Acknowledging twice, or a resolved alert, changes nothing."""
    alert = Alert.objects.select_for_update().select_related("conversation").get(pk=alert_id, shop_id=member.shop_id)
    if alert.state == Alert.State.OPEN:
        _acknowledge(alert, member=member, now=timezone.now())
        alert_event_publish(alert, ALERT_UPDATED)
        logger.info("alert.acknowledged alert=%s member=%s", alert.pk, member.pk)
    return alert


@transaction.atomic
def alerts_acknowledge(
    *, member: Member, ids: Sequence[int] | None = None, every: bool = False, kind: str | None = None
) -> list[Alert]:
    """Mark many open alerts seen, each with who and when: those of `ids`, or (`every`) all, of one
    `kind` if given. Only alerts the member may see are touched (ids of another shop, or of a
    colleague's conversation, are passed over as if absent), and "all" of no kind means all their
    page shows (the kinds they keep `in_page`, as the alerts list); returns those acknowledged
    now, each published as its own `alert.updated`.
    """
    if not every and not ids:
        return []
    if every:
        kinds = None if kind else in_page_kinds(member)
        visible = alerts_visible(member=member, kind=kind, state=Alert.State.OPEN, kinds=kinds)
    else:
        visible = alerts_visible(member=member, kind=kind, state=Alert.State.OPEN).filter(pk__in=list(ids or ()))
    # Row locks in id order, so two bulk acknowledgements (or the deadline task) cannot deadlock.
    alerts = list(visible.select_for_update(of=("self",)).order_by("pk"))
    now = timezone.now()
    fields = {"state": Alert.State.ACKNOWLEDGED, "acknowledged_at": now, "acknowledged_by": member, "updated_at": now}
    Alert.objects.filter(pk__in=[a.pk for a in alerts]).update(**fields)
    routing = ShopRouting.load(member.shop_id)
    for alert in alerts:
        for name, value in fields.items():
            setattr(alert, name, value)
        alert_event_publish(alert, ALERT_UPDATED, routing=routing)
    if alerts:
        logger.info("alerts.acknowledged count=%s member=%s kind=%s", len(alerts), member.pk, kind or "-")
    return alerts
