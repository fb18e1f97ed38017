"""Team today: each rep's day as their manager sees it, counted in the reports' vocabulary.

Per rep (today.selectors.team_reps_for: a manager's teams' reps, an admin's all reps):
- **New leads not yet called**: the rep's leads in status new never followed up (no attempt ever,
  reports.selectors.vocabulary.never_followed_up_q), oldest arrival first, each with how long it
  has waited since it arrived.
- **Due**: open manual tasks (what Today lists) due by the end of the day and not overdue yet
  ("due now" included).
- **Overdue**: open manual tasks that are late as Today reads them (today.selectors.annotate_timing,
  README "Overdue means late"): TASK_OVERDUE_GRACE_MINUTES after their due time, a new lead's
  instant call INSTANT_CALL_TARGET_MINUTES after the lead arrived. The oldest overdue task's age
  counts from that same moment (its due time, or the arrival for an instant call).
- **Done today**: the rep's tasks (assigned to them) done since the day began.
- **Attempts today**: the vocabulary's attempts completed today on the rep's leads (the way
  Feedback Friday gives a rep the attempts on their leads).
- **Left behind**: the vocabulary's, for today (follow_up_counts_by_owner with today as the period).

"Today" is the viewer's day in the viewer's timezone, as it always was here: one query cannot
use each rep's own midnight (the rep's own Today page uses theirs). Tasks and leads count only
when the viewer may work or see them (touches_workable_by, leads_visible_to), the same ones the
bulk reassign accepts (today.services.team_reassign).

Whatever the number of reps, leads and tasks, the page costs six queries: the reps, three
aggregates grouped in SQL (tasks by assignee, attempts by owner, left behind by owner), and the
two lists (overdue tasks, new leads), each picked per rep by a window function inside its query.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, F, Min, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from accounts.models import User
from cadences.models import Touch, TouchStatus
from leads.models import Lead, LeadStatus
from leads.selectors import leads_visible_to
from reports.selectors.vocabulary import attempt_q, follow_up_counts_by_owner, never_followed_up_q
from today import timing
from today.selectors import annotate_timing, day_bounds, open_tasks_q, team_reps_for, touches_workable_by

# How many new leads the rep's line names; how many overdue tasks and new leads each rep's list offers to reassign.
NAMES_SHOWN = 3
LIST_LIMIT = 25

TASK_FIGURES = ("due_today", "overdue", "done_today")


@dataclass
class TeamDay:
    reps: list
    start: dt.datetime
    end: dt.datetime
    now: dt.datetime
    totals: dict = field(default_factory=dict)


def age_label(minutes: int) -> str:
    """ "12 min", "5 h", "3 days": today.timing.waiting_label's steps, without "waiting"."""
    return timing.waiting_label(minutes).removeprefix("waiting ")


def _minutes(now: dt.datetime, since: dt.datetime) -> int:
    return int((now - since).total_seconds() // 60)


def team_leads(user: User) -> QuerySet[Lead]:
    """The leads of the viewer's reps that the viewer may see."""
    return leads_visible_to(user).filter(owner__in=team_reps_for(user).values("pk"))


def team_tasks(user: User) -> QuerySet[Touch]:
    """The manual tasks of the viewer's reps that the viewer may work, timed as Today times them."""
    return annotate_timing(touches_workable_by(user).filter(assigned_to__in=team_reps_for(user).values("pk")))


def new_leads_not_called(user: User) -> QuerySet[Lead]:
    """The viewer's reps' new leads nobody has made an attempt on yet, oldest first."""
    return team_leads(user).filter(status=LeadStatus.NEW).filter(never_followed_up_q())


def _task_figures(user: User, *, start: dt.datetime, end: dt.datetime, now: dt.datetime) -> dict[int, dict]:
    """{rep id: due_today, overdue, oldest_late_since, done_today} (one query)."""
    is_open = open_tasks_q()
    rows = (
        team_tasks(user)
        .values("assigned_to")
        .annotate(
            due_today=Count("pk", filter=is_open & Q(due_at__lt=end, late_at__gt=now)),
            overdue=Count("pk", filter=is_open & Q(late_at__lte=now)),
            oldest_late_since=Min("waiting_since", filter=is_open & Q(late_at__lte=now)),
            done_today=Count("pk", filter=Q(status=TouchStatus.DONE, completed_at__gte=start, completed_at__lt=end)),
        )
        .order_by()
    )
    return {row.pop("assigned_to"): row for row in rows}


def _attempts_today(user: User, *, start: dt.datetime, end: dt.datetime) -> dict[int, int]:
    """{rep id: the vocabulary's attempts today on the rep's leads} (one query)."""
    rows = (
        Touch.objects.filter(attempt_q(start=start, end=end), lead__in=team_leads(user).values("pk"))
        .values("lead__owner")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {row["lead__owner"]: row["n"] for row in rows}


def _overdue_tasks(user: User, *, now: dt.datetime) -> dict[int, list[Touch]]:
    """Each rep's overdue tasks, the longest late first, at most LIST_LIMIT each (one query)."""
    ranked = (
        team_tasks(user)
        .filter(open_tasks_q(), late_at__lte=now)
        .select_related("lead", "step")
        .annotate(rep_rank=Window(RowNumber(), partition_by=[F("assigned_to")], order_by=[F("waiting_since"), F("id")]))
        .filter(rep_rank__lte=LIST_LIMIT)
        .order_by("assigned_to", "rep_rank")
    )
    by_rep: dict[int, list[Touch]] = {}
    for touch in ranked:
        by_rep.setdefault(touch.assigned_to_id, []).append(touch)
    return by_rep


def _new_leads(user: User) -> dict[int, tuple[int, list[Lead]]]:
    """{rep id: (how many, the oldest LIST_LIMIT)} of the new leads not yet called (one query)."""
    ranked = (
        new_leads_not_called(user)
        .annotate(
            rep_rank=Window(RowNumber(), partition_by=[F("owner")], order_by=[F("created_at"), F("id")]),
            rep_total=Window(Count("pk"), partition_by=[F("owner")]),
        )
        .filter(rep_rank__lte=LIST_LIMIT)
        .order_by("owner", "rep_rank")
    )
    by_rep: dict[int, tuple[int, list[Lead]]] = {}
    for lead in ranked:
        total, leads = by_rep.setdefault(lead.owner_id, (lead.rep_total, []))
        leads.append(lead)
    return by_rep


def _task_label(touch: Touch) -> str:
    what = touch.title or touch.get_channel_display()
    return f"{what} · Day {touch.step.day}" if touch.step_id and not touch.title else what


def team_day_counts(*, user: User, now: dt.datetime | None = None) -> list[User]:
    """The viewer's reps, each with its day's figures and lists (the module docstring); six queries."""
    return team_day(user=user, now=now).reps


def team_day(*, user: User, now: dt.datetime | None = None) -> TeamDay:
    """Team today for `user` (the module docstring): the reps with their figures, lists and totals."""
    now = now or timezone.now()
    start, end = day_bounds(user, now)
    tz = timing.zone_for(user)
    reps = list(team_reps_for(user).select_related("team").order_by("team__name", "first_name", "username"))
    tasks = _task_figures(user, start=start, end=end, now=now)
    attempts = _attempts_today(user, start=start, end=end)
    follow_up = follow_up_counts_by_owner(leads=team_leads(user), start=start, end=end)
    overdue = _overdue_tasks(user, now=now)
    new = _new_leads(user)
    for rep in reps:
        figures = tasks.get(rep.pk, {})
        for name in TASK_FIGURES:
            setattr(rep, name, figures.get(name) or 0)
        oldest = figures.get("oldest_late_since")
        rep.oldest_overdue_minutes = _minutes(now, oldest) if oldest else None
        rep.oldest_overdue_label = age_label(rep.oldest_overdue_minutes) if oldest else ""
        rep.attempts_today = attempts.get(rep.pk, 0)
        rep.left_behind = follow_up.get(rep.pk, {}).get("left_behind", 0)
        rep.overdue_tasks = overdue.get(rep.pk, [])
        for touch in rep.overdue_tasks:
            touch.label = _task_label(touch)
            touch.late_since_label = timing.since_label(touch.waiting_since, tz=tz, now=now)
            touch.late_for_label = age_label(_minutes(now, touch.waiting_since))
        rep.more_overdue = max(0, rep.overdue - len(rep.overdue_tasks))
        rep.new_waiting, rep.new_leads = new.get(rep.pk, (0, []))
        for lead in rep.new_leads:
            lead.waiting_label = timing.waiting_label(_minutes(now, lead.created_at))
        rep.new_named = rep.new_leads[:NAMES_SHOWN]
        rep.more_new = max(0, rep.new_waiting - len(rep.new_leads))
        rep.more_unnamed = max(0, rep.new_waiting - len(rep.new_named))
    totals = {
        name: sum(getattr(rep, name) for rep in reps)
        for name in (*TASK_FIGURES, "new_waiting", "attempts_today", "left_behind")
    }
    return TeamDay(reps=reps, start=start, end=end, now=now, totals=totals)
