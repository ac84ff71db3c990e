"""The shop's reply targets and opening hours: created lazily, validated, changed by the owner."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from django.db import transaction

from monitoring.business_hours import ScheduleError, business_hours_clean, timezone_clean
from monitoring.models import ShopPolicy
from monitoring.selectors import policy_get
from monitoring.services.deadlines import open_period_deadlines_refresh
from monitoring.services.rollups import rollups_rebuild

logger = logging.getLogger("balas.monitoring")

POLICY_FIELDS = ("first_reply_target_s", "reply_target_s", "warn_at_pct", "timezone", "business_hours")
# A target longer than a week of opening time is a typo, not a policy.
MAX_TARGET_S = 7 * 24 * 3600


class PolicyError(ValueError):
    """Field errors, shaped like DRF's: {field: [message, ...]}."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


def policy_for_shop(*, shop_id: int) -> ShopPolicy:
    """The shop's stored policy, created with the defaults (and the shop's time zone) the first time the
    measuring, e-mail or settings code needs the row itself. Reads that need only the values use
    monitoring.selectors.policy_get."""
    policy = policy_get(shop_id=shop_id)
    if policy.pk is not None:
        return policy
    policy, _ = ShopPolicy.objects.get_or_create(shop_id=shop_id, defaults={"timezone": policy.timezone})
    return policy


def _target_clean(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise PolicyError({name: [f"{name} must be a whole number of seconds."]})
    try:
        number = int(value)
    except ValueError as exc:
        raise PolicyError({name: [f"{name} must be a whole number of seconds, got {value!r}."]}) from exc
    if number <= 0:
        raise PolicyError({name: [f"{name} must be greater than 0 seconds."]})
    if number > MAX_TARGET_S:
        raise PolicyError({name: [f"{name} must be at most {MAX_TARGET_S} seconds (7 days)."]})
    return number


def policy_clean(data: object) -> dict[str, Any]:
    """Validate the given policy fields (any subset); raise PolicyError listing every bad field.

    `data` is typed `object` because it is a decoded request body as the client sent it (a JSON
    array is possible): anything but a mapping is refused here with a field error.
    """
    if not isinstance(data, Mapping):
        raise PolicyError({"non_field_errors": ["Send a JSON object with the policy fields."]})
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    unknown = sorted(str(k) for k in data if k not in POLICY_FIELDS)
    if unknown:
        errors["non_field_errors"] = [f"Unknown field(s): {', '.join(unknown)}; allowed: {', '.join(POLICY_FIELDS)}."]
    for name in ("first_reply_target_s", "reply_target_s"):
        if name in data:
            try:
                cleaned[name] = _target_clean(name, data[name])
            except PolicyError as exc:
                errors.update(exc.errors)
    if "warn_at_pct" in data:
        value = data["warn_at_pct"]
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 99:
            errors["warn_at_pct"] = [
                f"warn_at_pct must be a whole number from 1 to 99 (percent of the target), got {value!r}."
            ]
        else:
            cleaned["warn_at_pct"] = value
    if "timezone" in data:
        try:
            cleaned["timezone"] = timezone_clean(data["timezone"])
        except ScheduleError as exc:
            errors["timezone"] = [str(exc)]
    if "business_hours" in data:
        try:
            cleaned["business_hours"] = business_hours_clean(data["business_hours"])
        except ScheduleError as exc:
            errors["business_hours"] = [str(exc)]
    if errors:
        raise PolicyError(errors)
    return cleaned


@transaction.atomic
def policy_update(*, shop_id: int, data: object) -> ShopPolicy:
    """Change the policy; open waiting periods get their deadlines recomputed and re-armed, and a new time
    zone rebuilds the dashboard's rollups."""
    cleaned = policy_clean(data)
    policy = policy_for_shop(shop_id=shop_id)
    policy = ShopPolicy.objects.select_for_update().get(pk=policy.pk)
    changed = [name for name, value in cleaned.items() if getattr(policy, name) != value]
    for name in changed:
        setattr(policy, name, cleaned[name])
    if changed:
        policy.save(update_fields=[*changed, "updated_at"])
        open_period_deadlines_refresh(policy=policy)
        if "timezone" in changed:
            # The dashboard's rollups are per local day and hour: recount them in the new time zone.
            rollups_rebuild(shop_id=shop_id)
        logger.info("policy.updated shop=%s fields=%s", shop_id, ",".join(changed))
    return policy
