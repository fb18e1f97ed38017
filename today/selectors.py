"""Reads for the Today page: a rep's open tasks, their counters, referral calls and the team view.

Every list here costs a fixed number of queries whatever its length: the step labels come from
one query over the cadences' active steps and each lead's last outcome from a subquery.
"""

import datetime as dt
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import BooleanField, Case, Count, F, OuterRef, Q, QuerySet, Subquery, Value, When
from django.http import Http404
from django.utils import timezone

from accounts.models import Role, User
from cadences.models import CadenceStep, Channel, Outcome, Touch, TouchStatus
from cadences.rendering import render_text
from leads.models import Contact
from leads.selectors import leads_visible_to

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
REFERRAL_RECALL_DAYS = 30

CALL_OUTCOMES = [
    Outcome.CONNECTED,
    Outcome.VOICEMAIL,
    Outcome.NO_ANSWER,
    Outcome.WRONG_NUMBER,
    Outcome.NOT_INTERESTED,
    Outcome.APPOINTMENT,
]
MESSAGE_OUTCOMES = [Outcome.SENT, Outcome.REPLIED, Outcome.NOT_INTERESTED, Outcome.APPOINTMENT]


def outcomes_for_channel(channel: str) -> list[Outcome]:
    """The one-click buttons a task of `channel` gets: calls are answered or not, messages are sent."""
    if channel == Channel.CALL:
        return CALL_OUTCOMES
    if channel in (Channel.EMAIL, Channel.SMS, Channel.LINKEDIN, Channel.TWITTER):
        return MESSAGE_OUTCOMES
    return list(Outcome)


def day_bounds(user: User, now: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime]:
    """Start and end of the user's current day in their own timezone."""
    now = now or timezone.now()
    try:
        tz = zoneinfo.ZoneInfo(user.timezone or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    local = now.astimezone(tz)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    # Add a calendar day in local time, so DST days stay 23 or 25 hours long.
    end = (start + dt.timedelta(days=1)).replace(tzinfo=None).replace(tzinfo=tz)
    return start, end


def open_tasks_q() -> Q:
    return Q(status=TouchStatus.SCHEDULED, automated=False)


def instant_q(prefix: str = "") -> Q:
    """A new lead's call-at-once task (Day 0, no send hour) or an urgent ad-hoc task."""
    return Q(**{f"{prefix}urgent": True}) | Q(**{f"{prefix}step__day": 0, f"{prefix}step__send_hour__isnull": True})


@dataclass
class TodayList:
    rep: User
    rows: list = field(default_factory=list)
    has_more: bool = False
    limit: int = DEFAULT_LIMIT
    counters: dict = field(default_factory=dict)


def tasks_for_today(*, rep: User, now: dt.datetime | None = None, limit: int = DEFAULT_LIMIT) -> TodayList:
    """`rep`'s open manual tasks due by the end of their day: instant new-lead tasks first, then
    overdue oldest first, then the rest of today by time. Three queries in all."""
    now = now or timezone.now()
    _, end = day_bounds(rep, now)
    limit = max(1, min(limit, MAX_LIMIT))
    touches = list(
        annotate_rows(Touch.objects.filter(open_tasks_q(), assigned_to=rep, due_at__lt=end)).order_by(
            "-is_instant", "due_at", "id"
        )[: limit + 1]
    )
    has_more = len(touches) > limit
    touches = touches[:limit]
    decorate_rows(touches, now=now)
    return TodayList(rep=rep, rows=touches, has_more=has_more, limit=limit)


def annotate_rows(touches: QuerySet[Touch]) -> QuerySet[Touch]:
    last_done = Touch.objects.filter(lead=OuterRef("lead_id"), status=TouchStatus.DONE).order_by("-completed_at", "-id")
    return touches.select_related("lead", "step", "assigned_to").annotate(
        is_instant=Case(When(instant_q(), then=Value(True)), default=Value(False), output_field=BooleanField()),
        last_outcome=Subquery(last_done.values("outcome")[:1]),
        last_outcome_at=Subquery(last_done.values("completed_at")[:1]),
    )


def decorate_rows(touches: list[Touch], *, now: dt.datetime) -> None:
    """Attach step labels ("Day 5 of 28 — email + LinkedIn") with one query for all rows."""
    cadence_ids = {t.step.cadence_id for t in touches if t.step_id}
    max_day: dict[int, int] = {}
    day_channels: dict[tuple[int, int], list[str]] = defaultdict(list)
    if cadence_ids:
        steps = (
            CadenceStep.objects.filter(cadence_id__in=cadence_ids, retired_at__isnull=True)
            .order_by("cadence_id", "day", "position", "id")
            .values_list("cadence_id", "day", "channel")
        )
        labels = dict(Channel.choices)
        for cadence_id, day, channel in steps:
            max_day[cadence_id] = max(max_day.get(cadence_id, 0), day)
            label = labels.get(channel, channel)
            if label not in day_channels[(cadence_id, day)]:
                day_channels[(cadence_id, day)].append(label)
    outcome_labels = dict(Outcome.choices)
    for touch in touches:
        touch.step_label = step_label(touch, max_day, day_channels)
        touch.last_outcome_label = outcome_labels.get(getattr(touch, "last_outcome", None) or "", "")
        touch.is_overdue = touch.due_at < now
        touch.waiting_minutes = int((now - touch.lead.created_at).total_seconds() // 60)
        touch.waiting_label = waiting_label(touch.waiting_minutes)
        touch.outcome_choices = outcomes_for_channel(touch.channel)
        touch.min_attempts = settings.MIN_ATTEMPTS_BEFORE_CLOSE
        rep = touch.assigned_to
        touch.rep_tz = (rep.timezone if rep else "") or settings.TIME_ZONE
        step = touch.step if touch.step_id else None
        touch.script = render_text(step.body, lead=touch.lead, rep=rep) if step else ""
        touch.points = render_text(step.talking_points, lead=touch.lead, rep=rep) if step else ""
        touch.subject_text = render_text(step.subject, lead=touch.lead, rep=rep) if step else ""


def step_label(touch: Touch, max_day: dict, day_channels: dict) -> str:
    if touch.title:
        return touch.title
    if not touch.step_id:
        return touch.get_channel_display()
    step = touch.step
    channels = day_channels.get((step.cadence_id, step.day)) or [touch.get_channel_display()]
    last = max(max_day.get(step.cadence_id, step.day), step.day)
    return f"Day {step.day} of {last} — {' + '.join(channels)}"


def waiting_label(minutes: int) -> str:
    """ "waiting 7 minutes", "waiting 5 hours", "waiting 12 days" (the page's script counts the same way)."""
    if minutes < 120:
        value, unit = minutes, "minute"
    elif minutes < 48 * 60:
        value, unit = minutes // 60, "hour"
    else:
        value, unit = minutes // (24 * 60), "day"
    return f"waiting {value} {unit}{'' if value == 1 else 's'}"


def task_counters(*, rep: User, now: dt.datetime | None = None) -> dict:
    """Done today, remaining (open and due by tonight) and overdue, in one query."""
    now = now or timezone.now()
    start, end = day_bounds(rep, now)
    open_q = Q(status=TouchStatus.SCHEDULED, automated=False, assigned_to=rep)
    # Only this rep's rows: the partial index on open tasks and the completed_by FK index serve it.
    mine = Touch.objects.filter(Q(assigned_to=rep) | Q(completed_by=rep))
    return mine.aggregate(
        done=Count("pk", filter=Q(status=TouchStatus.DONE, completed_by=rep, completed_at__gte=start)),
        remaining=Count("pk", filter=open_q & Q(due_at__lt=end)),
        overdue=Count("pk", filter=open_q & Q(due_at__lt=now)),
    )


def touches_workable_by(user: User) -> QuerySet[Touch]:
    """Manual tasks `user` may see and log: their own; a manager's teams'; an admin's all."""
    touches = Touch.objects.filter(automated=False)
    if user.is_superuser or user.role == Role.ADMIN:
        return touches
    if user.role == Role.MANAGER:
        return touches.filter(Q(assigned_to=user) | Q(lead__in=leads_visible_to(user)))
    return touches.filter(assigned_to=user)


def touch_get_for(user: User, pk) -> Touch:
    """The task `pk` if `user` may work it; 404 otherwise, so its existence is not revealed."""
    try:
        return touches_workable_by(user).select_related("lead", "step", "assigned_to").get(pk=pk)
    except (Touch.DoesNotExist, ValueError, TypeError):
        raise Http404("No such task.") from None


def touch_next_for_lead(*, touch: Touch, rep: User | None, now: dt.datetime | None = None) -> Touch | None:
    """The lead's next open task for the same rep, decorated like a Today row."""
    if rep is None:
        return None
    nxt = (
        annotate_rows(Touch.objects.filter(open_tasks_q(), lead_id=touch.lead_id, assigned_to=rep))
        .order_by("due_at", "id")
        .first()
    )
    if nxt is not None:
        decorate_rows([nxt], now=now or timezone.now())
    return nxt


def referral_contacts_for(*, rep: User, now: dt.datetime | None = None, count: int | None = None) -> list[Contact]:
    """Customers `rep` owns who were not called for a referral lately: never-called first, then the longest ago."""
    now = now or timezone.now()
    count = settings.REFERRAL_CALLS_PER_DAY if count is None else count
    if count <= 0:
        return []
    recent = now - dt.timedelta(days=REFERRAL_RECALL_DAYS)
    contacts = Contact.objects.filter(owner=rep).filter(
        Q(last_referral_call_at__isnull=True) | Q(last_referral_call_at__lt=recent)
    )
    # Explicit: PostgreSQL sorts NULLs last in ascending order, SQLite first.
    return list(contacts.order_by(F("last_referral_call_at").asc(nulls_first=True), "id")[:count])


def referral_contact_get_for(user: User, pk) -> Contact:
    contacts = Contact.objects.all() if user.is_admin_role else Contact.objects.filter(owner=user)
    try:
        return contacts.get(pk=pk)
    except (Contact.DoesNotExist, ValueError, TypeError):
        raise Http404("No such customer.") from None


def team_reps_for(user: User) -> QuerySet[User]:
    """The reps whose day `user` may look at: a manager's teams' reps, an admin's all reps."""
    reps = User.objects.filter(is_active=True, role=Role.REP)
    if user.is_superuser or user.role == Role.ADMIN:
        return reps
    if user.role == Role.MANAGER:
        return reps.filter(team__in=user.managed_teams.all())
    return User.objects.none()


def team_day_counts(*, user: User, now: dt.datetime | None = None) -> list[User]:
    """Each visible rep with due-today, overdue and done-today counts, in one aggregate query.

    Day boundaries are the viewer's day (one query cannot use each rep's own midnight).
    """
    now = now or timezone.now()
    start, end = day_bounds(user, now)
    open_q = Q(touches__status=TouchStatus.SCHEDULED, touches__automated=False)
    return list(
        team_reps_for(user)
        .select_related("team")
        .annotate(
            due_today=Count("touches", filter=open_q & Q(touches__due_at__gte=now, touches__due_at__lt=end)),
            overdue=Count("touches", filter=open_q & Q(touches__due_at__lt=now)),
            done_today=Count("touches", filter=Q(touches__status=TouchStatus.DONE, touches__completed_at__gte=start)),
        )
        .order_by("team__name", "first_name", "username")
    )


def touch_row(*, pk: int, now: dt.datetime | None = None) -> Touch | None:
    """One task decorated like a Today row (after a snooze keeps it on today's list)."""
    touch = annotate_rows(Touch.objects.filter(pk=pk)).first()
    if touch is not None:
        decorate_rows([touch], now=now or timezone.now())
    return touch
