"""Feedback Friday: the week's per-rep totals and one row per lead, for the page, the CSV and the email.

- Week: see reports.selectors.period (Monday to Monday, org timezone, DST weeks 167 or 169 hours).
- Owned that week: leads the rep owns now that were open at some point of the week (arrived
  before its end, not closed before its start). Ownership history is not replayed.
- Every other term (attempt, automated touch, followed up x of n, left behind, closed early,
  five-attempts compliance, first attempt) is reports.selectors.vocabulary's, for the week.
- Median first attempt: of the leads that arrived that week, from arrival to the first attempt
  (see reports.selectors.percentiles), with the number of leads it rests on.
"""

import datetime as dt
import itertools
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet, Subquery
from django.utils import timezone

from accounts.models import Team, User
from cadences.models import Channel, Outcome, Touch, TouchStatus
from leads.models import Lead, LeadStatus
from reports.selectors.percentiles import percentile
from reports.selectors.period import week_bounds, week_start_for
from reports.selectors.scope import chosen_filter, people_in_scope, report_scope
from reports.selectors.vocabulary import (
    FIRST_ATTEMPT_FIELD,
    attempt_q,
    automated_touch_q,
    closed_early_q,
    flag,
    follow_up_counts_by_owner,
    followed_up_q,
    left_behind_q,
    open_touches_of_lead,
    since_arrival,
    to_follow_up_q,
    touch_q,
    touches_of_lead,
)


@dataclass
class FridayReport:
    week_start: dt.date
    start: dt.datetime
    end: dt.datetime
    reps: list
    totals: dict
    leads: QuerySet  # every row with its figures; the CSV reads friday_all_rows, pages friday_lead_ids + friday_rows
    scope: QuerySet


FRIDAY_LEAD_ORDER = ("owner__first_name", "owner__username", "owner_id", "-created_at", "-pk")
# A rep line's figures: from the leads, from the week's touches; both add up to the totals.
LEAD_FIGURES = (
    "owned",
    "received",
    "received_followed_up",
    "to_follow_up",
    "followed_up",
    "left_behind",
    "given_up",
    "closed_early",
    "wins",
)
TOUCH_FIGURES = ("attempts", "automated", "appointments", "touches_total")


def open_during_q(start: dt.datetime, end: dt.datetime) -> Q:
    return Q(created_at__lt=end) & (Q(closed_at__isnull=True) | Q(closed_at__gte=start))


def _owned_during(leads: QuerySet[Lead], start: dt.datetime, end: dt.datetime) -> QuerySet[Lead]:
    return leads.filter(owner__isnull=False).filter(open_during_q(start, end))


def friday_lead_ids(*, leads: QuerySet[Lead], start: dt.datetime, end: dt.datetime) -> QuerySet:
    """The ids of the leads owned during the week, in report order: cheap to count and to page."""
    return _owned_during(leads, start, end).order_by(*FRIDAY_LEAD_ORDER).values_list("pk", flat=True)


def friday_rows(*, ids: list[int], start: dt.datetime, end: dt.datetime, now: dt.datetime) -> list:
    """Full, decorated rows for one page of ids, in the ids' order (two queries). The week's
    figures are aggregated for these leads only: aggregating the whole scope before paging cost
    seconds at 1M touches."""
    leads = Lead.objects.filter(pk__in=ids)
    rows = {lead.pk: lead for lead in friday_leads(leads=leads, start=start, end=end, now=now)}
    flags = friday_flags(leads=leads, start=start, end=end)
    return friday_decorate([rows[pk] for pk in ids if pk in rows], flags)


def friday_all_rows(report: "FridayReport", *, now: dt.datetime):
    """Every row of the week, decorated, lazily (the CSV): two queries, whatever the size."""
    flags = friday_flags(leads=report.scope, start=report.start, end=report.end)
    # Fetched whole, as before: a server-side cursor (iterator) makes PostgreSQL pick a slower,
    # fast-start plan for this aggregate.
    rows = iter(friday_leads(leads=report.scope, start=report.start, end=report.end, now=now))
    while chunk := list(itertools.islice(rows, 2000)):
        yield from friday_decorate(chunk, flags)


def friday_leads(*, leads: QuerySet[Lead], start: dt.datetime, end: dt.datetime, now: dt.datetime) -> QuerySet:
    """Every lead owned during the week, one row each, with its week's figures (one query).

    The vocabulary's flags come from friday_flags: here they would be grouped by, and so
    evaluated, once per touch instead of once per lead.
    """
    as_of = min(now, end)
    done_before_end = touches_of_lead().filter(
        automated=False, status=TouchStatus.DONE, completed_at__isnull=False, completed_at__lt=end
    )
    next_open = open_touches_of_lead().order_by("due_at", "pk")  # the next action left behind looks for
    channel_counts = {
        f"ch_{value}": Count("touches", filter=touch_q("touches__", start=start, end=end, channel=value))
        for value in Channel.values
    }
    return (
        _owned_during(leads, start, end)
        .select_related("owner", "source")
        .annotate(
            attempts_week=Count("touches", filter=attempt_q("touches__", start=start, end=end)),
            automated_week=Count("touches", filter=automated_touch_q("touches__", start=start, end=end)),
            overdue_tasks=Count(
                "touches",
                filter=Q(touches__automated=False, touches__status=TouchStatus.SCHEDULED, touches__due_at__lt=as_of),
            ),
            last_outcome=Subquery(done_before_end.order_by("-completed_at", "-pk").values("outcome")[:1]),
            last_outcome_at=Subquery(done_before_end.order_by("-completed_at", "-pk").values("completed_at")[:1]),
            next_touch_at=Subquery(next_open.values("due_at")[:1]),
            next_touch_channel=Subquery(next_open.values("channel")[:1]),
            next_touch_status=Subquery(next_open.values("status")[:1]),
            **channel_counts,
        )
        .order_by(*FRIDAY_LEAD_ORDER)
    )


FLAGS = ("left_behind", "closed_early", "to_follow_up", "followed_up")


def _flags_q(start: dt.datetime, end: dt.datetime) -> dict:
    return {
        "left_behind": left_behind_q(start=start, end=end),
        "closed_early": closed_early_q(start=start, end=end),
        "to_follow_up": to_follow_up_q(start=start, end=end),
        "followed_up": followed_up_q(start=start, end=end),
    }


def friday_flags(*, leads: QuerySet[Lead], start: dt.datetime, end: dt.datetime) -> dict[int, tuple]:
    """{lead id: (left_behind, closed_early, to_follow_up, followed_up)} for the week's owned
    leads among `leads`: the vocabulary's conditions, computed by the database (one query)."""
    annotations = {f"is_{name}": flag(q) for name, q in _flags_q(start, end).items()}
    rows = _owned_during(leads, start, end).annotate(**annotations).order_by()
    return {row[0]: tuple(row[1:]) for row in rows.values_list("pk", *annotations)}


def friday_decorate(rows, flags: dict[int, tuple]) -> list:
    """Flags and labels for rows already fetched (a page, the CSV, the email): no queries."""
    labels = dict(Channel.choices)
    outcomes = dict(Outcome.choices)
    statuses = dict(TouchStatus.choices)
    none = (False,) * len(FLAGS)
    rows = list(rows)
    for lead in rows:
        for name, value in zip(FLAGS, flags.get(lead.pk, none), strict=True):
            setattr(lead, name, value)
        lead.channels_week = [labels[value] for value in Channel.values if getattr(lead, f"ch_{value}", 0)]
        lead.last_outcome_label = outcomes.get(lead.last_outcome or "", "")
        lead.next_touch_channel_label = labels.get(lead.next_touch_channel or "", "")
        waiting = lead.next_touch_status and lead.next_touch_status != TouchStatus.SCHEDULED
        lead.next_touch_status_label = statuses[lead.next_touch_status] if waiting else ""
    return rows


def friday_flagged(report: "FridayReport", *, now: dt.datetime, limit: int) -> dict:
    """The week's left-behind and closed-early leads, at most `limit` of each (six queries)."""
    owned = _owned_during(report.scope, report.start, report.end).order_by(*FRIDAY_LEAD_ORDER)
    found = {}
    for name in ("left_behind", "closed_early"):
        ids = list(owned.filter(_flags_q(report.start, report.end)[name]).values_list("pk", flat=True)[:limit])
        found[name] = friday_rows(ids=ids, start=report.start, end=report.end, now=now)
    return found


def _rep_figures(owned: QuerySet[Lead], start: dt.datetime, end: dt.datetime) -> tuple[dict, dict, dict]:
    """Per owner: the vocabulary's counts and wins (1 query), touches (1) and first-attempt delays (1)."""
    by_owner = follow_up_counts_by_owner(
        leads=owned,
        start=start,
        end=end,
        also={
            "owned": Count("pk"),
            "wins": Count("pk", filter=Q(status=LeadStatus.WON, closed_at__gte=start, closed_at__lt=end)),
        },
    )
    touches = defaultdict(lambda: {"channels": {}, **dict.fromkeys(TOUCH_FIGURES, 0)})
    for row in (
        Touch.objects.filter(lead__in=owned.values("pk"))
        .filter(touch_q(start=start, end=end))
        .values("lead__owner", "channel")
        .annotate(
            # "n_" names: an annotation named like a field ("automated") would shadow it in the next filter.
            n_touches_total=Count("pk"),
            n_attempts=Count("pk", filter=attempt_q()),
            n_automated=Count("pk", filter=automated_touch_q()),
            n_appointments=Count("pk", filter=attempt_q() & Q(outcome=Outcome.APPOINTMENT)),
        )
        .order_by()
    ):
        bucket = touches[row["lead__owner"]]
        bucket["channels"][row["channel"]] = row["n_touches_total"]
        for key in TOUCH_FIGURES:
            bucket[key] += row[f"n_{key}"]
    durations = defaultdict(list)
    for owner_id, duration in (
        owned.filter(created_at__gte=start, created_at__lt=end, **{f"{FIRST_ATTEMPT_FIELD}__isnull": False})
        .annotate(response=since_arrival(FIRST_ATTEMPT_FIELD))
        .order_by("owner_id", "response")
        .values_list("owner_id", "response")
    ):
        durations[owner_id].append(duration)
    return by_owner, touches, durations


def _share(part: int, whole: int) -> int | None:
    return round(100 * part / whole) if whole else None


def friday_rep_lines(
    *, user: User, start: dt.datetime, end: dt.datetime, team: Team | None = None, rep: User | None = None
) -> tuple[list, dict]:
    """One line per rep of the scope for [start, end), and the totals (4 queries)."""
    team, rep = chosen_filter(user=user, team=team, rep=rep)
    owned = _owned_during(report_scope(user=user, team=team, rep=rep), start, end)
    by_owner, touches, durations = _rep_figures(owned, start, end)
    labels = dict(Channel.choices)
    reps = []
    for person in people_in_scope(user=user, leads=owned, team=team, rep=rep):
        figures = by_owner.get(person.pk, {})
        touch_figures = touches[person.pk]
        for key in LEAD_FIGURES:
            setattr(person, key, figures.get(key, 0))
        for key in TOUCH_FIGURES:
            setattr(person, key, touch_figures[key])
        person.followed_up_pct = _share(person.followed_up, person.to_follow_up)
        person.compliant = person.given_up - person.closed_early
        person.compliance_pct = _share(person.compliant, person.given_up)
        person.median_response = percentile(durations.get(person.pk, []), 0.5)
        person.median_response_n = len(durations.get(person.pk, []))
        person.touches_by_channel = [
            (labels[value], touch_figures["channels"].get(value, 0))
            for value in Channel.values
            if touch_figures["channels"].get(value)
        ]
        reps.append(person)
    totals = {key: sum(getattr(p, key) for p in reps) for key in LEAD_FIGURES + TOUCH_FIGURES}
    all_durations = sorted(d for values in durations.values() for d in values)
    totals["followed_up_pct"] = _share(totals["followed_up"], totals["to_follow_up"])
    totals["compliant"] = totals["given_up"] - totals["closed_early"]
    totals["compliance_pct"] = _share(totals["compliant"], totals["given_up"])
    totals["median_response"] = percentile(all_durations, 0.5)
    totals["median_response_n"] = len(all_durations)
    return reps, totals


def friday_report(
    *, user: User, week_start: dt.date, team: Team | None = None, rep: User | None = None, now=None
) -> FridayReport:
    """Per-rep lines and totals for the week (4 queries) and the lazy per-lead rows (paginate or iterate them)."""
    now = now or timezone.now()
    start, end = week_bounds(week_start)
    reps, totals = friday_rep_lines(user=user, start=start, end=end, team=team, rep=rep)
    team, rep = chosen_filter(user=user, team=team, rep=rep)
    scope = report_scope(user=user, team=team, rep=rep)
    return FridayReport(
        week_start=week_start_for(week_start),
        start=start,
        end=end,
        reps=reps,
        totals=totals,
        leads=friday_leads(leads=scope, start=start, end=end, now=now),
        scope=scope,
    )
