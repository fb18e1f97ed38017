"""Feedback Friday: the week's per-rep totals and one row per lead, for the page, the CSV and the email.

- Week: see reports.selectors.period (Monday to Monday, org timezone, DST weeks 167 or 169 hours).
- Owned that week: leads the rep owns now that were open at some point of the week (arrived
  before its end, not closed before its start). Ownership history is not replayed.
- Left behind: a lead open during the week with no touch that week (no attempt, no automated send).
- Closed early: closed lost/unqualified with fewer than settings.MIN_ATTEMPTS_BEFORE_CLOSE attempts
  (the per-rep totals count those closed that week).
- Median response: of the leads that arrived that week, from arrival to the first attempt
  (see reports.selectors.percentiles).
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Exists, Q, QuerySet, Subquery
from django.utils import timezone

from accounts.models import Team, User
from cadences.models import Channel, Outcome, Touch, TouchStatus
from leads.models import GIVE_UP_STATUSES, Lead, LeadStatus
from reports.selectors.conditions import attempt_q, automated_q, since_arrival, touched_q, touches_of_lead
from reports.selectors.percentiles import percentile
from reports.selectors.period import week_bounds, week_start_for
from reports.selectors.scope import chosen_filter, people_in_scope, report_scope


@dataclass
class FridayReport:
    week_start: dt.date
    start: dt.datetime
    end: dt.datetime
    reps: list
    totals: dict
    leads: QuerySet  # every row, annotated (CSV, email); pages use friday_lead_ids + friday_rows
    scope: QuerySet


FRIDAY_LEAD_ORDER = ("owner__first_name", "owner__username", "owner_id", "-created_at", "-pk")


def open_during_q(start: dt.datetime, end: dt.datetime) -> Q:
    return Q(created_at__lt=end) & (Q(closed_at__isnull=True) | Q(closed_at__gte=start))


def _owned_during(leads: QuerySet[Lead], start: dt.datetime, end: dt.datetime) -> QuerySet[Lead]:
    return leads.filter(owner__isnull=False).filter(open_during_q(start, end))


def friday_lead_ids(*, leads: QuerySet[Lead], start: dt.datetime, end: dt.datetime) -> QuerySet:
    """The ids of the leads owned during the week, in report order: cheap to count and to page."""
    return _owned_during(leads, start, end).order_by(*FRIDAY_LEAD_ORDER).values_list("pk", flat=True)


def friday_rows(*, ids: list[int], start: dt.datetime, end: dt.datetime, now: dt.datetime) -> list:
    """Full rows for one page of ids, in the ids' order. The week's figures are aggregated for
    these leads only: aggregating the whole scope before paging cost seconds at 1M touches."""
    rows = {
        lead.pk: lead for lead in friday_leads(leads=Lead.objects.filter(pk__in=ids), start=start, end=end, now=now)
    }
    return [rows[pk] for pk in ids if pk in rows]


def friday_leads(*, leads: QuerySet[Lead], start: dt.datetime, end: dt.datetime, now: dt.datetime) -> QuerySet:
    """Every lead owned during the week, one row each, with its week's figures (one query)."""
    as_of = min(now, end)
    done_before_end = touches_of_lead().filter(
        automated=False, status=TouchStatus.DONE, completed_at__isnull=False, completed_at__lt=end
    )
    scheduled = touches_of_lead().filter(status=TouchStatus.SCHEDULED).order_by("due_at", "pk")
    channel_counts = {
        f"ch_{value}": Count("touches", filter=touched_q("touches__", start=start, end=end, channel=value))
        for value in Channel.values
    }
    return (
        _owned_during(leads, start, end)
        .select_related("owner", "source")
        .annotate(
            attempts_week=Count("touches", filter=attempt_q("touches__", start=start, end=end)),
            automated_week=Count("touches", filter=automated_q("touches__", start=start, end=end)),
            overdue_tasks=Count(
                "touches",
                filter=Q(touches__automated=False, touches__status=TouchStatus.SCHEDULED, touches__due_at__lt=as_of),
            ),
            last_outcome=Subquery(done_before_end.order_by("-completed_at", "-pk").values("outcome")[:1]),
            last_outcome_at=Subquery(done_before_end.order_by("-completed_at", "-pk").values("completed_at")[:1]),
            next_touch_at=Subquery(scheduled.values("due_at")[:1]),
            next_touch_channel=Subquery(scheduled.values("channel")[:1]),
            **channel_counts,
        )
        .order_by(*FRIDAY_LEAD_ORDER)
    )


def friday_decorate(rows) -> list:
    """Flags and labels for rows already fetched (a page, the CSV, the email): no queries."""
    labels = dict(Channel.choices)
    outcomes = dict(Outcome.choices)
    minimum = settings.MIN_ATTEMPTS_BEFORE_CLOSE
    rows = list(rows)
    for lead in rows:
        lead.channels_week = [labels[value] for value in Channel.values if getattr(lead, f"ch_{value}", 0)]
        lead.left_behind = lead.attempts_week == 0 and lead.automated_week == 0
        lead.closed_early = lead.status in GIVE_UP_STATUSES and lead.attempt_count < minimum
        lead.last_outcome_label = outcomes.get(lead.last_outcome or "", "")
        lead.next_touch_channel_label = labels.get(lead.next_touch_channel or "", "")
    return rows


def friday_report(
    *, user: User, week_start: dt.date, team: Team | None = None, rep: User | None = None, now=None
) -> FridayReport:
    """Per-rep totals for the week (4 queries) and the lazy per-lead rows (paginate or iterate them)."""
    now = now or timezone.now()
    start, end = week_bounds(week_start)
    team, rep = chosen_filter(user=user, team=team, rep=rep)
    scope = report_scope(user=user, team=team, rep=rep)
    owned = _owned_during(scope, start, end)
    received_q = Q(created_at__gte=start, created_at__lt=end)
    week_touch = touches_of_lead().filter(touched_q(start=start, end=end))
    minimum = settings.MIN_ATTEMPTS_BEFORE_CLOSE

    by_owner = {
        row["owner"]: row
        for row in owned.values("owner").annotate(
            owned=Count("pk"),
            received=Count("pk", filter=received_q),
            followed_up=Count("pk", filter=received_q & Q(first_response_at__isnull=False)),
            left_behind=Count("pk", filter=~Exists(week_touch)),
            wins=Count("pk", filter=Q(status=LeadStatus.WON, closed_at__gte=start, closed_at__lt=end)),
            closed_early=Count(
                "pk",
                filter=Q(
                    status__in=GIVE_UP_STATUSES,
                    closed_at__gte=start,
                    closed_at__lt=end,
                    attempt_count__lt=minimum,
                ),
            ),
        )
    }
    touches = defaultdict(lambda: {"channels": {}, "appointments": 0, "touches": 0})
    for row in (
        Touch.objects.filter(lead__in=owned.values("pk"))
        .filter(touched_q(start=start, end=end))
        .values("lead__owner", "channel")
        .annotate(n=Count("pk"), appointments=Count("pk", filter=Q(outcome=Outcome.APPOINTMENT)))
        .order_by()
    ):
        bucket = touches[row["lead__owner"]]
        bucket["channels"][row["channel"]] = row["n"]
        bucket["appointments"] += row["appointments"]
        bucket["touches"] += row["n"]
    durations = defaultdict(list)
    for owner_id, duration in (
        owned.filter(received_q, first_response_at__isnull=False)
        .annotate(response=since_arrival("first_response_at"))
        .order_by("owner_id", "response")
        .values_list("owner_id", "response")
    ):
        durations[owner_id].append(duration)

    labels = dict(Channel.choices)
    reps = []
    for person in people_in_scope(user=user, leads=owned, team=team, rep=rep):
        figures = by_owner.get(person.pk, {})
        touch_figures = touches[person.pk]
        received = figures.get("received", 0)
        person.owned = figures.get("owned", 0)
        person.received = received
        person.followed_up = figures.get("followed_up", 0)
        person.followed_up_pct = round(100 * person.followed_up / received) if received else None
        person.left_behind = figures.get("left_behind", 0)
        person.wins = figures.get("wins", 0)
        person.closed_early = figures.get("closed_early", 0)
        person.median_response = percentile(durations.get(person.pk, []), 0.5)
        person.appointments = touch_figures["appointments"]
        person.touches_total = touch_figures["touches"]
        person.touches_by_channel = [
            (labels[value], touch_figures["channels"].get(value, 0))
            for value in Channel.values
            if touch_figures["channels"].get(value)
        ]
        reps.append(person)
    all_durations = sorted(d for values in durations.values() for d in values)
    received_total = sum(p.received for p in reps)
    followed_total = sum(p.followed_up for p in reps)
    totals = {
        "owned": sum(p.owned for p in reps),
        "received": received_total,
        "followed_up": followed_total,
        "followed_up_pct": round(100 * followed_total / received_total) if received_total else None,
        "left_behind": sum(p.left_behind for p in reps),
        "wins": sum(p.wins for p in reps),
        "appointments": sum(p.appointments for p in reps),
        "closed_early": sum(p.closed_early for p in reps),
        "touches": sum(p.touches_total for p in reps),
        "median_response": percentile(all_durations, 0.5),
    }
    return FridayReport(
        week_start=week_start_for(week_start),
        start=start,
        end=end,
        reps=reps,
        totals=totals,
        leads=friday_leads(leads=scope, start=start, end=end, now=now),
        scope=scope,
    )
