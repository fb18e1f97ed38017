"""Reads for the Today page: one row per lead (its most urgent open task), the counters, referral
calls and whose day a manager may open (Team today itself: today.team_selectors).

One row per lead: of a lead's open tasks for the rep due by the end of the rep's day, the row is
the most urgent: instant and urgent tasks first, then the earliest due, then the oldest (a window
function ranks them per lead). The row says what comes next for that lead ("then: Email tomorrow
10:00": the lead's next touch still waiting, any channel) and when it is late (today.timing).

Every list here costs a fixed number of queries whatever its length: the next touch, the last
outcome and the moment a task turns late come from subqueries and annotations, the step labels
from one query over the cadences' active steps.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    Count,
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    RowRange,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.functions import RowNumber
from django.http import Http404
from django.utils import timezone

from accounts.models import Role, User
from cadences.models import CadenceStep, Channel, Outcome, Touch, TouchPurpose, TouchStatus
from cadences.rendering import render_text
from leads.models import Contact, Lead
from leads.selectors import leads_visible_to
from today import timing
from today.precompiled import Precompiled
from today.row_links import row_links_attach

# A page of next actions: a rep works from the top; "Show more" brings the next page.
DEFAULT_LIMIT = 25
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
# The touches "then: …" may name: not an appointment's invite or reminders (the meeting itself is).
NEXT_PURPOSES = (TouchPurpose.STEP, TouchPurpose.APPOINTMENT)
NEXT_STATUSES = (TouchStatus.PENDING, TouchStatus.SCHEDULED)


def outcomes_for_channel(channel: str) -> list[Outcome]:
    """The one-click buttons a task of `channel` gets: calls are answered or not, messages are sent."""
    if channel == Channel.CALL:
        return CALL_OUTCOMES
    if channel in (Channel.EMAIL, Channel.SMS, Channel.LINKEDIN, Channel.TWITTER):
        return MESSAGE_OUTCOMES
    return list(Outcome)


def outcome_buttons(channel: str) -> list[dict]:
    """A row's one-click outcomes as its template draws them (labels made once per list, not per row).
    "Appointment set" opens the booking dialog instead of logging at once."""
    danger = (Outcome.NOT_INTERESTED, Outcome.WRONG_NUMBER)
    return [
        {
            "value": outcome.value,
            "label": str(outcome.label),
            "dialog": outcome == Outcome.APPOINTMENT,
            "style": "btn-outline-danger" if outcome in danger else "btn-outline-primary",
        }
        for outcome in outcomes_for_channel(channel)
    ]


def day_bounds(user: User, now: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime]:
    """Start and end of the user's current day in their own timezone."""
    now = now or timezone.now()
    tz = timing.zone_for(user)
    local = now.astimezone(tz)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    # Add a calendar day in local time, so DST days stay 23 or 25 hours long.
    end = (start + dt.timedelta(days=1)).replace(tzinfo=None).replace(tzinfo=tz)
    return start, end


def open_tasks_q() -> Q:
    return Q(status=TouchStatus.SCHEDULED, automated=False)


def day0_instant_q(prefix: str = "") -> Q:
    """A new lead's call-at-once task (Day 0, no send hour) that no one snoozed."""
    return Q(**{f"{prefix}step__day": 0, f"{prefix}step__send_hour__isnull": True, f"{prefix}snoozed": False})


def instant_q(prefix: str = "") -> Q:
    """A new lead's call-at-once task or an urgent ad-hoc task; once snoozed, neither (an ordinary
    task due when the rep chose)."""
    return (Q(**{f"{prefix}urgent": True}) & Q(**{f"{prefix}snoozed": False})) | day0_instant_q(prefix)


@dataclass
class TodayList:
    rep: User
    rows: list = field(default_factory=list)
    has_more: bool = False
    limit: int = DEFAULT_LIMIT
    counters: dict = field(default_factory=dict)


def ranked_tasks(
    *, rep: User, end: dt.datetime, lead_id: int | None = None, with_timing: bool = False, with_calls: bool = False
) -> QuerySet[Touch]:
    """Each lead's most urgent open task of `rep` due before `end`: a window function ranks a lead's
    tasks, instant first, then by due time, then the oldest. Over all of the rep's tasks it computes
    only what the ranking needs (and, `with_timing`, when each turns late, for the counters;
    `with_calls`, whether the lead has a call to make, for call mode's count); the rows' subqueries
    run on the page's rows only (rows_for)."""
    tasks = Touch.objects.filter(open_tasks_q(), assigned_to=rep, due_at__lt=end)
    if lead_id is not None:
        tasks = tasks.filter(lead_id=lead_id)
    tasks = annotate_timing(tasks) if with_timing else tasks.annotate(is_instant=_instant())
    rank_order = [F("is_instant").desc(), F("due_at"), F("id")]
    ranked = tasks.annotate(lead_rank=Window(RowNumber(), partition_by=[F("lead_id")], order_by=rank_order))
    if with_calls:
        # Call mode's calls (today.call_mode._open_calls): any open call of the lead, not a meeting.
        call = Case(
            When(Q(channel=Channel.CALL) & ~Q(purpose=TouchPurpose.APPOINTMENT), then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        )
        # The ranking's own order and the whole partition as frame: one sort serves both windows.
        whole_lead = RowRange(start=None, end=None)
        ranked = ranked.annotate(
            lead_has_call=Window(Max(call), partition_by=[F("lead_id")], order_by=rank_order, frame=whole_lead)
        )
    return ranked.filter(lead_rank=1)


ROW_ORDER = ("-is_instant", "due_at", "id")


def rows_for(*, rep: User, end: dt.datetime, lead_id: int | None = None, limit: int | None = None) -> QuerySet[Touch]:
    """One row per lead (ranked_tasks), the first `limit` of them, annotated for display: urgent
    first, then by due time. One query: the page's rows are picked inside it before they are joined."""
    best = ranked_tasks(rep=rep, end=end, lead_id=lead_id).order_by(*ROW_ORDER).values("pk")
    if limit is not None:
        best = best[:limit]
    return _rows(ids=best)


def tasks_for_today(*, rep: User, now: dt.datetime | None = None, limit: int = DEFAULT_LIMIT) -> TodayList:
    """`rep`'s leads with a task due by the end of their day, one row each: instant new-lead tasks
    first, then overdue oldest first, then the rest of today by time; with the page's counters.
    Four queries in all: the ranking and the counters in one pass, the rows, the step labels and
    "done today"."""
    now = now or timezone.now()
    limit = max(1, min(limit, MAX_LIMIT))
    ids, counters = _ranked_page(rep=rep, now=now, limit=limit + 1)
    touches = _ROWS.objects(ids=ids) if ids else []
    has_more = counters["remaining"] > limit
    touches = touches[:limit]
    decorate_rows(touches, now=now)
    return TodayList(rep=rep, rows=touches, has_more=has_more, limit=limit, counters=counters)


def _ranked_page(*, rep: User, now: dt.datetime, limit: int) -> tuple[list[int], dict]:
    """The ids of the first `limit` rows (ranked_tasks, in ROW_ORDER) and the counters
    (task_counters), from one pass over the rep's tasks: the ranking is the page's costliest
    step and the counters count the same rows. The ORM cannot aggregate over a window's filtered
    result, so the counting is a window over the ranked query's own SQL, without a partition:
    computed over every ranked row before the LIMIT."""
    start, end = day_bounds(rep, now)
    inner, params = _RANKED.sql_with_params(rep_id=rep.pk, end=end, now=now)
    # The ORM's own SQL, its params kept apart.
    columns = 'SELECT "pk", COUNT(*) OVER (), SUM("is_late") OVER (), SUM("lead_has_call") OVER ()'
    sql = f'{columns} FROM ({inner}) "ranked" ORDER BY "is_instant" DESC, "due_at", "pk" LIMIT %s'  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, (*params, limit))
        rows = cursor.fetchall()
    remaining, overdue, calls = rows[0][1:] if rows else (0, 0, 0)
    done = Touch.objects.filter(status=TouchStatus.DONE, completed_by=rep, completed_at__gte=start).aggregate(
        done=Count("lead_id", distinct=True)
    )["done"]
    counters = {"done": done, "remaining": remaining, "overdue": int(overdue), "calls": int(calls)}
    return [row[0] for row in rows], counters


def _ranked_with_counts(*, rep_id: int, end: dt.datetime, now: dt.datetime) -> QuerySet:
    """What _ranked_page counts over: every ranked row, whether it is late at `now`, whether its lead has a call."""
    late = Case(When(late_at__lte=now, then=Value(1)), default=Value(0), output_field=IntegerField())
    return (
        ranked_tasks(rep=User(pk=rep_id), end=end, with_timing=True, with_calls=True)
        .annotate(is_late=late)
        .order_by()
        .values("pk", "is_instant", "due_at", "is_late", "lead_has_call")
    )


def _rows(*, ids) -> QuerySet[Touch]:
    """The rows of these touches (a list of ids or a subquery of them), annotated for display, in ROW_ORDER."""
    return annotate_rows(Touch.objects.filter(pk__in=ids)).order_by(*ROW_ORDER)


def _timing_settings() -> tuple:
    return timing.instant_target(), timing.overdue_grace()


# Built by the ORM once per process (today.precompiled): their SQL cost as much as running them.
_RANKED = Precompiled(_ranked_with_counts, key=_timing_settings)
_ROWS = Precompiled(_rows, key=_timing_settings)


def _instant() -> Case:
    return Case(When(instant_q(), then=Value(True)), default=Value(False), output_field=BooleanField())


def annotate_timing(touches: QuerySet[Touch]) -> QuerySet[Touch]:
    """Whether a task is instant, since when an instant one waits, and `late_at`, the moment it
    turns late (today.timing): columns of the touch and its step and lead, no subquery."""
    # The lead's arrival is read only for the few Day-0 tasks (a subquery in that branch, not a join
    # over every task of the rep: the counters rank all of them).
    arrived = Subquery(Lead.objects.filter(pk=OuterRef("lead_id")).values("created_at")[:1])
    since = Case(When(day0_instant_q(), then=arrived), default=F("due_at"), output_field=DateTimeField())
    return touches.annotate(is_instant=_instant(), waiting_since=since).annotate(
        late_at=Case(
            When(is_instant=True, then=_plus(F("waiting_since"), timing.instant_target())),
            default=_plus(F("due_at"), timing.overdue_grace()),
            output_field=DateTimeField(),
        )
    )


def annotate_rows(touches: QuerySet[Touch]) -> QuerySet[Touch]:
    """What a row shows besides the touch: its timing (annotate_timing), its lead's last outcome and
    its lead's next touch."""
    last_done = Touch.objects.filter(lead=OuterRef("lead_id"), status=TouchStatus.DONE).order_by("-completed_at", "-id")
    following = (
        Touch.objects.filter(lead=OuterRef("lead_id"), status__in=NEXT_STATUSES, purpose__in=NEXT_PURPOSES)
        .exclude(pk=OuterRef("pk"))
        .order_by("due_at", "id")
    )
    return annotate_timing(touches.select_related("lead", "lead__source", "step", "assigned_to")).annotate(
        last_outcome=Subquery(last_done.values("outcome")[:1]),
        last_outcome_at=Subquery(last_done.values("completed_at")[:1]),
        next_channel=Subquery(following.values("channel")[:1]),
        next_title=Subquery(following.values("title")[:1]),
        next_due_at=Subquery(following.values("due_at")[:1]),
    )


def _plus(moment, delta: dt.timedelta):
    return ExpressionWrapper(moment + Value(delta, output_field=DurationField()), output_field=DateTimeField())


def decorate_rows(touches: list[Touch], *, now: dt.datetime) -> None:
    """Attach step labels ("Day 5 of 28 — email + LinkedIn") with one query for all rows, the
    wording of each row's time and next touch in its rep's timezone, and its links (today.row_links)."""
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
    channel_labels = dict(Channel.choices)
    row_links_attach(touches)
    buttons: dict[str, list[dict]] = {}
    for touch in touches:
        rep = touch.assigned_to
        tz = timing.zone_for(rep)
        touch.step_label = step_label(touch, max_day, day_channels)
        touch.last_outcome_label = outcome_labels.get(getattr(touch, "last_outcome", None) or "", "")
        instant = bool(getattr(touch, "is_instant", False))
        since = getattr(touch, "waiting_since", None) or touch.due_at
        touch.due = timing.due_state(due_at=touch.due_at, instant=instant, waiting_since=since, tz=tz, now=now)
        touch.is_overdue = touch.due.late
        touch.waiting_minutes = int((now - since).total_seconds() // 60)
        touch.waiting_label = timing.waiting_label(touch.waiting_minutes)
        touch.next_label = ""
        # "then:" the lead's next touch; "also:" one due before this task (an email sent the same
        # day as this call, say), which does not wait for it.
        touch.next_word = "then"
        if getattr(touch, "next_due_at", None):
            if now < touch.next_due_at < touch.due_at:
                touch.next_word = "also"
            what = touch.next_title or channel_labels.get(touch.next_channel, touch.next_channel)
            # A next step whose planned time has passed waits for this one (it moves when this is done late).
            when = (
                "once this is done"
                if touch.next_due_at <= now
                else timing.when_label(touch.next_due_at, tz=tz, now=now)
            )
            touch.next_label = f"{what} {when}"
        touch.outcome_buttons = buttons.setdefault(touch.channel, outcome_buttons(touch.channel))
        touch.min_attempts = settings.MIN_ATTEMPTS_BEFORE_CLOSE
        touch.rep_tz = str(tz)
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


def task_counters(*, rep: User, now: dt.datetime | None = None) -> dict:
    """What the page shows, counted in leads: leads done with today, leads still to work today
    (its rows), those whose row is late, and those with a call to make (call mode's count,
    the leads today.call_mode walks). Two queries (_ranked_page)."""
    return _ranked_page(rep=rep, now=now or timezone.now(), limit=1)[1]


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
    """The lead's row on `rep`'s Today after `touch` was worked: its most urgent open task for
    `rep` due by the end of the rep's day, decorated; None when nothing is due today."""
    if rep is None:
        return None
    now = now or timezone.now()
    _, end = day_bounds(rep, now)
    row = rows_for(rep=rep, end=end, lead_id=touch.lead_id).first()
    if row is not None:
        decorate_rows([row], now=now)
    return row


def lead_next_touch(*, lead_id: int) -> Touch | None:
    """The lead's next touch still waiting (pending or scheduled, any channel, a meeting too): what a
    confirmation names after the lead's row left Today."""
    return (
        Touch.objects.filter(lead_id=lead_id, status__in=NEXT_STATUSES, purpose__in=NEXT_PURPOSES)
        .order_by("due_at", "id")
        .first()
    )


def next_label(touch: Touch | None, *, rep: User | None, now: dt.datetime | None = None) -> str:
    """ "Email on Thu 4 Dec 10:00", "Call tomorrow 09:00" in the rep's timezone ("" for none)."""
    if touch is None:
        return ""
    what = touch.title or touch.get_channel_display()
    return f"{what} {timing.when_label(touch.due_at, tz=timing.zone_for(rep), now=now or timezone.now(), on=True)}"


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


def touch_row(*, pk: int, now: dt.datetime | None = None) -> Touch | None:
    """One task decorated like a Today row (after a snooze keeps it on today's list)."""
    touch = annotate_rows(Touch.objects.filter(pk=pk)).first()
    if touch is not None:
        decorate_rows([touch], now=now or timezone.now())
    return touch
