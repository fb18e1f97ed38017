"""Speed to lead: how soon after arrival a lead got its first automated send and its first human call.

- First response is reported separately, as reports.selectors.vocabulary defines it: the first
  automated touch, the first attempt (any channel) and the first call. Shares within 5 minutes
  and 1 hour count the first attempt and, for "any", the first automated touch too; "followed
  up" is the vocabulary's (at least one attempt), as on every other report.
- Medians and p90 of the first automated touch and the first call, by week, rep and source
  (see reports.selectors.percentiles), each with the number of leads it rests on (``n``).
- The range defaults to the last DEFAULT_SPEED_WEEKS weeks of arrivals.
"""

import datetime as dt
from collections import defaultdict

from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import TruncWeek
from django.utils import timezone

from leads.models import Lead
from reports.selectors.percentiles import median_and_p90
from reports.selectors.period import org_tz
from reports.selectors.vocabulary import (
    FIRST_ATTEMPT_FIELD,
    FIVE_MINUTES,
    ONE_HOUR,
    automated_only_q,
    first_automated_touch_at,
    first_call_at,
    followed_up_q,
    since_arrival,
)

INDUSTRY_AVERAGE_RESPONSE_HOURS = 44
DEFAULT_SPEED_WEEKS = 12


def with_first_touches(leads: QuerySet[Lead]) -> QuerySet[Lead]:
    """Annotate first_auto_at (first automated touch) and first_call_at (first call)."""
    return leads.annotate(first_auto_at=first_automated_touch_at(), first_call_at=first_call_at())


def _within(field: str, delta: dt.timedelta) -> Q:
    return Q(**{f"{field}__isnull": False, f"{field}__lte": F("created_at") + delta})


def _speed_counts() -> dict:
    first = FIRST_ATTEMPT_FIELD
    return {
        "leads": Count("pk"),
        "auto_touched": Count("pk", filter=Q(first_auto_at__isnull=False)),
        "followed_up": Count("pk", filter=followed_up_q()),
        "automated_only": Count("pk", filter=automated_only_q(first_automated_field="first_auto_at")),
        "human_5m": Count("pk", filter=_within(first, FIVE_MINUTES)),
        "human_1h": Count("pk", filter=_within(first, ONE_HOUR)),
        "any_5m": Count("pk", filter=_within(first, FIVE_MINUTES) | _within("first_auto_at", FIVE_MINUTES)),
        "any_1h": Count("pk", filter=_within(first, ONE_HOUR) | _within("first_auto_at", ONE_HOUR)),
    }


def _shares(row: dict) -> dict:
    leads = row["leads"]
    for key in ("human_5m", "human_1h", "any_5m", "any_1h"):
        row[f"{key}_pct"] = round(100 * row[key] / leads, 1) if leads else None
    return row


def _week_key(value):
    """TruncWeek's Monday as a date (aware on PostgreSQL, made aware by Django on SQLite)."""
    if value is None:
        return None
    if timezone.is_aware(value):
        value = timezone.localtime(value, org_tz())
    return value.date()


def speed_report(*, leads: QuerySet[Lead]) -> dict:
    """Speed to lead for the leads given (already limited to a date range): 5 queries.

    Shares come from SQL aggregates (overall, by week, by rep, by source); medians and p90
    from one query returning each lead's two durations (see reports.selectors.percentiles).
    """
    tz = org_tz()
    annotated = with_first_touches(leads).annotate(week=TruncWeek("created_at", tzinfo=tz))
    counts = _speed_counts()
    overall = _shares(annotated.aggregate(**counts))
    groups = {
        "week": (("week",), "week"),
        "rep": (("owner", "owner__first_name", "owner__last_name", "owner__username"), "owner__first_name"),
        "source": (("source", "source__name"), "source__name"),
    }
    tables = {}
    for name, (fields, order) in groups.items():
        rows = annotated.values(*fields).annotate(**counts).order_by(F(order).asc(nulls_last=True), fields[0])
        tables[name] = [_shares(row) for row in rows]

    samples = defaultdict(lambda: {"auto": [], "call": []})
    for week, owner_id, source_id, auto, call in (
        annotated.annotate(auto=since_arrival("first_auto_at"), call=since_arrival("first_call_at"))
        .filter(Q(first_auto_at__isnull=False) | Q(first_call_at__isnull=False))
        .values_list("week", "owner_id", "source_id", "auto", "call")
        .order_by()
    ):
        for key in (("all", None), ("week", week), ("rep", owner_id), ("source", source_id)):
            if auto is not None:
                samples[key]["auto"].append(auto)
            if call is not None:
                samples[key]["call"].append(call)

    def attach(row: dict, key) -> dict:
        row["auto"] = median_and_p90(samples[key]["auto"])
        row["call"] = median_and_p90(samples[key]["call"])
        return row

    attach(overall, ("all", None))
    for row in tables["week"]:
        attach(row, ("week", row["week"]))
        row["week"] = _week_key(row["week"])
    for row in tables["rep"]:
        name = f"{row['owner__first_name'] or ''} {row['owner__last_name'] or ''}".strip()
        row["name"] = name or row["owner__username"] or "Unassigned"
        attach(row, ("rep", row["owner"]))
    for row in tables["source"]:
        row["name"] = row["source__name"] or "No source"
        attach(row, ("source", row["source"]))
    return {
        "overall": overall,
        "by_week": tables["week"],
        "by_rep": tables["rep"],
        "by_source": tables["source"],
        "industry_hours": INDUSTRY_AVERAGE_RESPONSE_HOURS,
    }
