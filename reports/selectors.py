"""Reads for the reports: every figure is a SQL aggregate over the leads the viewer may see.

How things are counted (the pages repeat the relevant lines under "How this is counted"):

- Scope: every report starts from ``leads.selectors.leads_visible_to(user)`` — a rep sees their own
  leads, a manager their teams' (and their own), an admin all — then narrows to the team or rep
  chosen in the filter (only among those the viewer may see).
- Attempt: a manual touch completed by a person with an outcome in ``cadences.services.ATTEMPT_OUTCOMES``.
  ``Lead.attempt_count`` is the running total of those; ``Lead.first_response_at`` is the first one.
- Automated touch: an email or SMS sent by the system (an automated Touch in status sent/delivered,
  timed by ``sent_at``). It is a touch, never an attempt: a lead only the auto-responder reached has
  an automated first touch but no human response.
- "No": a manual touch logged as "not interested" (``Lead.objection_count``).
- Week: Monday 00:00 to the next Monday 00:00 in the organisation's timezone (settings.TIME_ZONE),
  converted to UTC for the queries, so a week across a DST change lasts 167 or 169 hours.
- Owned that week (Feedback Friday): leads the rep owns now that were open at some point of the
  week (arrived before its end, not closed before its start). Ownership history is not replayed.
- Left behind: a lead open during the week with no touch that week (no attempt, no automated send).
- Abandoned: an open lead that arrived more than settings.ABANDONED_AFTER_DAYS days ago, with no
  attempt or automated send in those days and no touch scheduled, paused or sending.
- Given up: closed lost/unqualified, or abandoned.
- Never followed up: no attempt and no automated send, ever.

Percentiles (median, p90): computed in Python from one query that returns only the durations,
already computed and sorted by the database, for the leads in the chosen range (a week for
Feedback Friday, 12 weeks by default for speed to lead). That is the same on SQLite and
PostgreSQL and keeps the rest of the figures in SQL; PERCENTILE_CONT would save the transfer
on PostgreSQL only, and the scoped sets are small. Interpolation is linear, as PERCENTILE_CONT.
"""

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import (
    Case,
    CharField,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import TruncWeek
from django.utils import timezone

from accounts.models import Role, Team, User
from cadences.models import ATTEMPT_OUTCOMES, OPEN_TOUCH_STATUSES, Channel, Outcome, Touch, TouchStatus
from leads.models import GIVE_UP_STATUSES, OPEN_STATUSES, Lead, LeadStatus
from leads.selectors import leads_visible_to, users_visible_to

SENT_STATUSES = (TouchStatus.SENT, TouchStatus.DELIVERED)
INDUSTRY_GIVE_UP = {1: 44, 2: 22, 3: 14, 4: 12}
INDUSTRY_AVERAGE_RESPONSE_HOURS = 44
FIVE_MINUTES = dt.timedelta(minutes=5)
ONE_HOUR = dt.timedelta(hours=1)
ONE_DAY = dt.timedelta(days=1)
DEFAULT_SPEED_WEEKS = 12


# --- Time ------------------------------------------------------------------------------------


def org_tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def week_start_for(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def current_week_start(now: dt.datetime | None = None) -> dt.date:
    return week_start_for(timezone.localtime(now or timezone.now(), org_tz()).date())


def day_start(day: dt.date) -> dt.datetime:
    """Midnight of `day` in the organisation's timezone, as a UTC datetime."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=org_tz()).astimezone(dt.UTC)


def week_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[Monday 00:00, next Monday 00:00) of the week holding `day`, org timezone, in UTC.

    Built from the two local midnights (not start + 7 days) so a DST change makes the week
    167 or 169 hours long.
    """
    monday = week_start_for(day)
    return day_start(monday), day_start(monday + dt.timedelta(days=7))


def percentile(sorted_values: list, fraction: float):
    """Linear-interpolated percentile of an ascending list (as PostgreSQL's PERCENTILE_CONT); None if empty."""
    if not sorted_values:
        return None
    position = (len(sorted_values) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    if low == high:
        return sorted_values[low]
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


# --- Scope -----------------------------------------------------------------------------------


def may_filter_people(user: User) -> bool:
    return user.is_superuser or user.role in (Role.MANAGER, Role.ADMIN)


def teams_visible_to(user: User) -> QuerySet[Team]:
    if user.is_superuser or user.role == Role.ADMIN:
        return Team.objects.all()
    if user.role == Role.MANAGER:
        return user.managed_teams.all()
    return Team.objects.none()


def report_people_for(user: User) -> QuerySet[User]:
    """People a viewer may pick in a report's rep filter."""
    return users_visible_to(user).filter(is_active=True).order_by("first_name", "username")


def report_scope(*, user: User, team: Team | None = None, rep: User | None = None) -> QuerySet[Lead]:
    """The leads a report covers: what `user` may see, narrowed to a team or a rep.

    Callers pass only a team/rep the viewer may choose (see reports.forms); a rep's own
    report ignores both.
    """
    leads = leads_visible_to(user)
    if not may_filter_people(user):
        return leads
    if team is not None:
        leads = leads.filter(team=team)
    if rep is not None:
        leads = leads.filter(owner=rep)
    return leads


def _people_in_scope(*, user: User, leads: QuerySet[Lead], team: Team | None, rep: User | None) -> QuerySet[User]:
    """Rows of the per-rep tables: the owners of the leads, plus the reps of the scope with no lead."""
    if not may_filter_people(user):
        members = User.objects.filter(pk=user.pk)
    elif rep is not None:
        members = User.objects.filter(pk=rep.pk)
    else:
        members = users_visible_to(user).filter(role=Role.REP, is_active=True)
        if team is not None:
            members = members.filter(team=team)
    return User.objects.filter(Q(pk__in=members.values("pk")) | Q(pk__in=leads.values("owner_id"))).order_by(
        "first_name", "username", "pk"
    )


# --- Touch conditions ------------------------------------------------------------------------


def attempt_q(prefix: str = "", *, start=None, end=None, channel: str | None = None) -> Q:
    """A human attempt (optionally completed in [start, end), on `channel`); `prefix` "touches__" from Lead."""
    q = Q(
        **{
            f"{prefix}automated": False,
            f"{prefix}status": TouchStatus.DONE,
            f"{prefix}outcome__in": ATTEMPT_OUTCOMES,
            f"{prefix}completed_at__isnull": False,
        }
    )
    if start is not None:
        q &= Q(**{f"{prefix}completed_at__gte": start, f"{prefix}completed_at__lt": end})
    if channel:
        q &= Q(**{f"{prefix}channel": channel})
    return q


def automated_q(prefix: str = "", *, start=None, end=None, channel: str | None = None) -> Q:
    """An email/SMS the system sent (optionally in [start, end), on `channel`)."""
    q = Q(**{f"{prefix}automated": True, f"{prefix}status__in": SENT_STATUSES, f"{prefix}sent_at__isnull": False})
    if start is not None:
        q &= Q(**{f"{prefix}sent_at__gte": start, f"{prefix}sent_at__lt": end})
    if channel:
        q &= Q(**{f"{prefix}channel": channel})
    return q


def touched_q(prefix: str = "", **kwargs) -> Q:
    return attempt_q(prefix, **kwargs) | automated_q(prefix, **kwargs)


def _touches_of_lead() -> QuerySet[Touch]:
    return Touch.objects.filter(lead=OuterRef("pk"))


def never_followed_up_q() -> Q:
    return Q(attempt_count=0) & ~Exists(_touches_of_lead().filter(automated_q()))


def abandoned_q(now: dt.datetime) -> Q:
    days = settings.ABANDONED_AFTER_DAYS
    cutoff = now - dt.timedelta(days=days)
    recent = _touches_of_lead().filter(touched_q(start=cutoff, end=now + dt.timedelta(days=36500)))
    pending = _touches_of_lead().filter(status__in=OPEN_TOUCH_STATUSES)
    return Q(status__in=OPEN_STATUSES, created_at__lt=cutoff) & ~Exists(recent) & ~Exists(pending)


def given_up_q(now: dt.datetime) -> Q:
    return Q(status__in=GIVE_UP_STATUSES) | abandoned_q(now)


def open_during_q(start: dt.datetime, end: dt.datetime) -> Q:
    return Q(created_at__lt=end) & (Q(closed_at__isnull=True) | Q(closed_at__gte=start))


def _first_auto_subquery():
    return Subquery(_touches_of_lead().filter(automated_q()).order_by("sent_at").values("sent_at")[:1])


def _first_call_subquery():
    return Subquery(
        _touches_of_lead().filter(attempt_q(channel=Channel.CALL)).order_by("completed_at").values("completed_at")[:1]
    )


def with_first_touches(leads: QuerySet[Lead]) -> QuerySet[Lead]:
    """Annotate first_auto_at (first automated send) and first_call_at (first human call)."""
    return leads.annotate(
        first_auto_at=_first_auto_subquery(),
        first_call_at=_first_call_subquery(),
    )


def _duration(field: str):
    return ExpressionWrapper(F(field) - F("created_at"), output_field=DurationField())


def _within(field: str, delta: dt.timedelta) -> Q:
    return Q(**{f"{field}__isnull": False, f"{field}__lte": F("created_at") + delta})


# --- Feedback Friday -------------------------------------------------------------------------


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


def friday_lead_ids(*, leads: QuerySet[Lead], start: dt.datetime, end: dt.datetime) -> QuerySet:
    """The ids of the leads owned during the week, in report order: cheap to count and to page."""
    return (
        leads.filter(owner__isnull=False)
        .filter(open_during_q(start, end))
        .order_by(*FRIDAY_LEAD_ORDER)
        .values_list("pk", flat=True)
    )


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
    done_before_end = _touches_of_lead().filter(
        automated=False, status=TouchStatus.DONE, completed_at__isnull=False, completed_at__lt=end
    )
    scheduled = _touches_of_lead().filter(status=TouchStatus.SCHEDULED).order_by("due_at", "pk")
    channel_counts = {
        f"ch_{value}": Count("touches", filter=touched_q("touches__", start=start, end=end, channel=value))
        for value in Channel.values
    }
    return (
        leads.filter(owner__isnull=False)
        .filter(open_during_q(start, end))
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
    scope = report_scope(user=user, team=team, rep=rep)
    if not may_filter_people(user):
        team = rep = None
    owned = scope.filter(owner__isnull=False).filter(open_during_q(start, end))
    received_q = Q(created_at__gte=start, created_at__lt=end)
    week_touch = _touches_of_lead().filter(touched_q(start=start, end=end))
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
        .annotate(response=_duration("first_response_at"))
        .order_by("owner_id", "response")
        .values_list("owner_id", "response")
    ):
        durations[owner_id].append(duration)

    labels = dict(Channel.choices)
    reps = []
    for person in _people_in_scope(user=user, leads=owned, team=team, rep=rep):
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


# --- Five-attempts compliance ---------------------------------------------------------------


def compliance_report(*, leads: QuerySet[Lead], now: dt.datetime) -> dict:
    """Given-up leads with fewer than the minimum attempts per rep (1 query), and the give-up distribution (1)."""
    minimum = settings.MIN_ATTEMPTS_BEFORE_CLOSE
    given_up = leads.filter(given_up_q(now))
    abandoned = abandoned_q(now)
    early = Q(attempt_count__lt=minimum)
    per_rep = list(
        given_up.values("owner", "owner__first_name", "owner__last_name", "owner__username")
        .annotate(
            given_up=Count("pk"),
            early=Count("pk", filter=early),
            early_closed=Count("pk", filter=early & Q(status__in=GIVE_UP_STATUSES)),
            early_abandoned=Count("pk", filter=early & abandoned),
        )
        .order_by("-early", F("owner__first_name").asc(nulls_last=True), "owner__username")
    )
    for row in per_rep:
        name = f"{row['owner__first_name']} {row['owner__last_name']}".strip()
        row["name"] = name or row["owner__username"] or "Unassigned"
        row["early_pct"] = round(100 * row["early"] / row["given_up"]) if row["given_up"] else None
    distribution = given_up.aggregate(
        total=Count("pk"),
        no_0=Count("pk", filter=Q(objection_count=0)),
        no_1=Count("pk", filter=Q(objection_count=1)),
        no_2=Count("pk", filter=Q(objection_count=2)),
        no_3=Count("pk", filter=Q(objection_count=3)),
        no_4=Count("pk", filter=Q(objection_count=4)),
        no_5=Count("pk", filter=Q(objection_count__gte=5)),
    )
    with_no = distribution["total"] - distribution["no_0"]
    give_up = [
        {
            "nos": nos,
            "count": distribution[f"no_{nos}"],
            "share": round(100 * distribution[f"no_{nos}"] / with_no, 1) if with_no else None,
            "industry": INDUSTRY_GIVE_UP[nos],
        }
        for nos in (1, 2, 3, 4)
    ]
    return {
        "per_rep": per_rep,
        "given_up_total": distribution["total"],
        "given_up_with_no": with_no,
        "given_up_without_no": distribution["no_0"],
        "given_up_after_5_plus": distribution["no_5"],
        "give_up": give_up,
        "early_total": sum(row["early"] for row in per_rep),
        "minimum": minimum,
    }


def compliance_leads(*, leads: QuerySet[Lead], rep: User, now: dt.datetime) -> QuerySet[Lead]:
    """Drill-down: one rep's given-up leads with fewer than the minimum attempts."""
    return (
        leads.filter(owner=rep)
        .filter(given_up_q(now), attempt_count__lt=settings.MIN_ATTEMPTS_BEFORE_CLOSE)
        .annotate(abandoned=Case(When(abandoned_q(now), then=Value(True)), default=Value(False)))
        .select_related("source")
        .order_by("-created_at", "-pk")
    )


# --- Speed to lead ---------------------------------------------------------------------------


def _speed_counts() -> dict:
    first_any = Q(first_response_at__isnull=False) | Q(first_auto_at__isnull=False)
    return {
        "leads": Count("pk"),
        "auto_touched": Count("pk", filter=Q(first_auto_at__isnull=False)),
        "human_touched": Count("pk", filter=Q(first_response_at__isnull=False)),
        "any_touched": Count("pk", filter=first_any),
        "human_5m": Count("pk", filter=_within("first_response_at", FIVE_MINUTES)),
        "human_1h": Count("pk", filter=_within("first_response_at", ONE_HOUR)),
        "any_5m": Count(
            "pk", filter=_within("first_response_at", FIVE_MINUTES) | _within("first_auto_at", FIVE_MINUTES)
        ),
        "any_1h": Count("pk", filter=_within("first_response_at", ONE_HOUR) | _within("first_auto_at", ONE_HOUR)),
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


def _percentiles(values: list) -> dict:
    values = sorted(values)
    return {"median": percentile(values, 0.5), "p90": percentile(values, 0.9), "n": len(values)}


def speed_report(*, leads: QuerySet[Lead]) -> dict:
    """Speed to lead for the leads given (already limited to a date range): 5 queries.

    Shares come from SQL aggregates (overall, by week, by rep, by source); medians and p90
    from one query returning each lead's two durations (see the module docstring).
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
        annotated.annotate(auto=_duration("first_auto_at"), call=_duration("first_call_at"))
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
        row["auto"] = _percentiles(samples[key]["auto"])
        row["call"] = _percentiles(samples[key]["call"])
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


# --- Coverage --------------------------------------------------------------------------------


def coverage_report(*, leads: QuerySet[Lead]) -> dict:
    """Shares of leads with at least 1, 2 and 5 attempts (1 query)."""
    figures = leads.aggregate(
        total=Count("pk"),
        ge1=Count("pk", filter=Q(attempt_count__gte=1)),
        ge2=Count("pk", filter=Q(attempt_count__gte=2)),
        ge5=Count("pk", filter=Q(attempt_count__gte=5)),
        automated_only=Count("pk", filter=Q(attempt_count=0) & Exists(_touches_of_lead().filter(automated_q()))),
        never=Count("pk", filter=never_followed_up_q()),
    )
    total = figures["total"]
    for key in ("ge1", "ge2", "ge5", "automated_only", "never"):
        figures[f"{key}_pct"] = round(100 * figures[key] / total, 1) if total else None
    return figures


def never_touched_open_leads(*, leads: QuerySet[Lead]) -> QuerySet[Lead]:
    """Open leads with no attempt and no automated send, oldest first."""
    return (
        leads.filter(status__in=OPEN_STATUSES)
        .filter(never_followed_up_q())
        .select_related("owner", "source")
        .order_by("created_at", "pk")
    )


# --- What converts ---------------------------------------------------------------------------

RESPONSE_BUCKETS = ["< 5 min", "< 1 hour", "< 1 day", "Later", "Never"]
ATTEMPT_BUCKETS = ["0", "1", "2", "3", "4", "5+"]


def _conversion(rows, key: str, order: list) -> list:
    found = {row[key]: row for row in rows}
    table = []
    for label in order:
        row = found.get(label, {"leads": 0, "won": 0})
        leads = row["leads"]
        table.append(
            {
                "label": label,
                "leads": leads,
                "won": row["won"],
                "rate": round(100 * row["won"] / leads, 1) if leads else None,
            }
        )
    return table


def converts_report(*, leads: QuerySet[Lead]) -> dict:
    """Conversion (won / leads) by first-response bucket, attempts, channel and source: 4 queries."""
    won = Count("pk", filter=Q(status=LeadStatus.WON))
    response_bucket = Case(
        When(first_response_at__isnull=True, then=Value("Never")),
        When(first_response_at__lt=F("created_at") + FIVE_MINUTES, then=Value("< 5 min")),
        When(first_response_at__lt=F("created_at") + ONE_HOUR, then=Value("< 1 hour")),
        When(first_response_at__lt=F("created_at") + ONE_DAY, then=Value("< 1 day")),
        default=Value("Later"),
        output_field=CharField(),
    )
    attempt_bucket = Case(
        *[When(attempt_count=n, then=Value(str(n))) for n in range(5)],
        default=Value("5+"),
        output_field=CharField(),
    )
    by_response = _conversion(
        leads.annotate(bucket=response_bucket).values("bucket").annotate(leads=Count("pk"), won=won).order_by(),
        "bucket",
        RESPONSE_BUCKETS,
    )
    by_attempts = _conversion(
        leads.annotate(bucket=attempt_bucket).values("bucket").annotate(leads=Count("pk"), won=won).order_by(),
        "bucket",
        ATTEMPT_BUCKETS,
    )
    labels = dict(Channel.choices)
    channel_rows = {
        row["channel"]: row
        for row in Touch.objects.filter(lead__in=leads.values("pk"))
        .filter(touched_q())
        .values("channel")
        .annotate(
            leads=Count("lead", distinct=True),
            won=Count("lead", distinct=True, filter=Q(lead__status=LeadStatus.WON)),
        )
        .order_by()
    }
    by_channel = [
        {
            "label": labels[value],
            "leads": channel_rows[value]["leads"],
            "won": channel_rows[value]["won"],
            "rate": round(100 * channel_rows[value]["won"] / channel_rows[value]["leads"], 1),
        }
        for value in Channel.values
        if value in channel_rows and channel_rows[value]["leads"]
    ]
    never = never_followed_up_q()
    by_source = list(
        leads.values("source", "source__name", "source__cost_per_lead")
        .annotate(
            leads=Count("pk"),
            won=won,
            never=Count("pk", filter=never),
            spend=Sum("source__cost_per_lead"),
            wasted=Sum("source__cost_per_lead", filter=never),
        )
        .order_by(F("source__name").asc(nulls_last=True))
    )
    for row in by_source:
        row["name"] = row["source__name"] or "No source"
        row["rate"] = round(100 * row["won"] / row["leads"], 1) if row["leads"] else None
        row["cost_per_won"] = (
            (row["spend"] / row["won"]).quantize(row["spend"]) if row["spend"] and row["won"] else None
        )
    spend = sum((row["spend"] or 0) for row in by_source)
    wasted = sum((row["wasted"] or 0) for row in by_source)
    won_total = sum(row["won"] for row in by_source)
    return {
        "by_response": by_response,
        "by_attempts": by_attempts,
        "by_channel": by_channel,
        "by_source": by_source,
        "spend": spend,
        "wasted": wasted,
        "won": won_total,
        "leads": sum(row["leads"] for row in by_source),
        "cost_per_won": (spend / won_total) if spend and won_total else None,
    }


def leads_arrived_between(leads: QuerySet[Lead], start: dt.datetime | None, end: dt.datetime | None):
    if start is not None:
        leads = leads.filter(created_at__gte=start)
    if end is not None:
        leads = leads.filter(created_at__lt=end)
    return leads
