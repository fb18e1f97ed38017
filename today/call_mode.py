"""Reads for call mode: today's calls of one rep, one lead at a time.

The queue is the rep's open call tasks due by the end of their day, one per lead (its most
urgent), instant and urgent calls first, then by due time. Leads the rep skipped go to the end, in
the order they were skipped, so they come back after the rest. One query for the queue, one for
the current lead's history, whatever the queue's length.
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User
from cadences.models import Channel, Touch, TouchPurpose, TouchStatus
from cadences.rendering import render_text
from leads.models import LeadEvent
from leads.selectors import lead_timeline
from today import timing
from today.selectors import CALL_OUTCOMES, annotate_timing, day_bounds, touches_workable_by

HISTORY_ENTRIES = 5


@dataclass
class CallCard:
    """The call on screen: the task, its lead and what the rep needs to say and know."""

    touch: Touch
    script: str = ""
    points: str = ""
    history: list[LeadEvent] = field(default_factory=list)
    attempts: int = 0
    min_attempts: int = 5
    # How its time reads, as on Today (today.timing): "due now — waiting 3 min", "Overdue since 10:00".
    due: timing.DueState | None = None

    @property
    def lead(self):
        return self.touch.lead

    @property
    def attempts_percent(self) -> int:
        return min(100, round(100 * self.attempts / self.min_attempts)) if self.min_attempts else 100

    @property
    def step_label(self) -> str:
        touch = self.touch
        if touch.title:
            return touch.title
        if touch.step_id:
            return f"Day {touch.step.day} call of {touch.step.cadence.name}"
        return "Call"


@dataclass
class CallQueue:
    rep: User
    calls: list[Touch]
    skipped: list[int]
    card: CallCard | None = None

    @property
    def left(self) -> int:
        return len(self.calls)


def _open_calls(*, rep: User, end: dt.datetime) -> QuerySet[Touch]:
    # A booked meeting is not a follow-up call: it waits on Today for its time.
    return Touch.objects.filter(
        status=TouchStatus.SCHEDULED, automated=False, channel=Channel.CALL, assigned_to=rep, due_at__lt=end
    ).exclude(purpose=TouchPurpose.APPOINTMENT)


def calls_open_for(*, rep: User, now: dt.datetime | None = None) -> QuerySet[Touch]:
    """`rep`'s open call tasks due by the end of their day, most urgent first (every one, not one per lead)."""
    now = now or timezone.now()
    _, end = day_bounds(rep, now)
    calls = _open_calls(rep=rep, end=end)
    # is_instant and waiting_since as Today computes them, so a call reads the same in both places.
    return (
        annotate_timing(calls)
        .select_related("lead", "lead__source", "step", "step__cadence", "assigned_to")
        .order_by("-is_instant", "due_at", "id")
    )


def calls_for_today(*, rep: User, now: dt.datetime | None = None, skipped: Iterable[int] = ()) -> list[Touch]:
    """One call per lead, in the order call mode walks them: skipped touches last, in skip order."""
    calls = []
    seen_leads = set()
    for touch in calls_open_for(rep=rep, now=now):
        if touch.lead_id not in seen_leads:
            seen_leads.add(touch.lead_id)
            calls.append(touch)
    skip_rank = {pk: rank for rank, pk in enumerate(skipped)}
    # A stable sort keeps the urgency order among the calls nobody skipped.
    return sorted(calls, key=lambda t: skip_rank.get(t.pk, -1))


def call_card(*, touch: Touch, now: dt.datetime | None = None) -> CallCard:
    """The call on screen, rendered for its lead: the step's script and talking points, the last
    few timeline entries (one query) and the attempts toward the minimum before closing."""
    now = now or timezone.now()
    lead, rep = touch.lead, touch.assigned_to
    step = touch.step if touch.step_id else None
    return CallCard(
        touch=touch,
        script=render_text(step.body, lead=lead, rep=rep) if step else "",
        points=render_text(step.talking_points, lead=lead, rep=rep) if step else "",
        history=lead_timeline(lead=lead, limit=HISTORY_ENTRIES)[:HISTORY_ENTRIES],
        attempts=lead.attempt_count,
        min_attempts=settings.MIN_ATTEMPTS_BEFORE_CLOSE,
        due=timing.due_state(
            due_at=touch.due_at,
            instant=bool(getattr(touch, "is_instant", False)),
            waiting_since=getattr(touch, "waiting_since", None) or touch.due_at,
            tz=timing.zone_for(rep),
            now=now,
        ),
    )


def call_queue(*, rep: User, now: dt.datetime | None = None, skipped: Iterable[int] = ()) -> CallQueue:
    """The queue and the card of its first call (two queries; one when there is nothing left)."""
    now = now or timezone.now()
    skipped = list(dict.fromkeys(skipped))
    calls = calls_for_today(rep=rep, now=now, skipped=skipped)
    open_ids = {t.pk for t in calls}
    queue = CallQueue(rep=rep, calls=calls, skipped=[pk for pk in skipped if pk in open_ids])
    if calls:
        queue.card = call_card(touch=calls[0], now=now)
    return queue


def call_logged_for(*, user: User, pk: int) -> Touch | None:
    """A call `user` may see that was logged (done with an outcome), or None."""
    return (
        touches_workable_by(user)
        .filter(pk=pk, status=TouchStatus.DONE)
        .exclude(outcome="")
        .select_related("lead")
        .first()
    )


def call_outcomes() -> list:
    """The outcome buttons of a call, as on Today."""
    return list(CALL_OUTCOMES)
