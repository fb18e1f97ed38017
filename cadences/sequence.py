"""Steps run one after another (pure functions; cadences.services applies them): one next action per lead, never a pile of overdue steps.

The rules (README "How a cadence runs"):
1. Order. A cadence's touches run in step order (day, then position). A running enrolment has
   at most one open manual task (`scheduled`): its first manual step not yet done. The manual
   steps after it wait as `pending`. Automated steps before it are `scheduled` and go at their
   time; those after it wait for it as `pending` when the cadence says "wait for the rep"
   (the default), else they are `scheduled` at their own dates.
2. Release. When that task is done (or skipped or cancelled), the steps up to the next manual
   one are released by rule 1.
3. Late. When it was done later than its due time plus TASK_OVERDUE_GRACE_MINUTES, and the
   cadence "shifts when late" (the default), every touch of the enrolment still waiting
   (pending, or scheduled and due after it) moves later by the delay, then forward into its
   allowed windows (cadences.scheduling). The spacing the cadence chose is kept. A "keep dates"
   cadence keeps its dates: released steps already past due are overdue at once, and automated
   ones past their freshness window are skipped as expired by the dispatcher.
4. Freshness. An automated touch has `expires_at` = due time + the step's freshness window
   (`fresh_for`); the dispatcher never sends it after that.
"""

import datetime as dt

from django.conf import settings

from cadences.models import CadenceStep, Touch, TouchStatus
from cadences.scheduling import ScheduleRules, allowed_moment

# The Day 0 auto-responder is pointless an hour late ("I'll call you shortly"); other steps a day late.
INSTANT_FRESHNESS = dt.timedelta(hours=1)
STEP_FRESHNESS = dt.timedelta(days=1)
GATED = (TouchStatus.PENDING, TouchStatus.SCHEDULED)


def fresh_for(step: CadenceStep | None) -> dt.timedelta:
    """How long after its due time an automated step may still go out."""
    if step is None:
        return STEP_FRESHNESS
    if step.fresh_minutes:
        return dt.timedelta(minutes=step.fresh_minutes)
    if step.day == 0 and step.send_hour is None:
        return INSTANT_FRESHNESS
    return STEP_FRESHNESS


def expires_at_for(*, due_at: dt.datetime, step: CadenceStep | None, automated: bool) -> dt.datetime | None:
    return due_at + fresh_for(step) if automated else None


def late_grace() -> dt.timedelta:
    return dt.timedelta(minutes=settings.TASK_OVERDUE_GRACE_MINUTES)


def step_order(touch: Touch) -> tuple:
    step = touch.step
    return (step.day, step.position, step.pk) if step else (10**6, 0, touch.pk)


def gate(touches: list[Touch], *, wait_for_rep: bool, initial: bool = False) -> list[Touch]:
    """Set `pending`/`scheduled` on the not-yet-started touches of one enrolment (rule 1), in
    place; returns the touches whose status changed. Touches in other states are left alone.
    Only `initial` (an enrolment being created) puts touches to wait: a released touch stays released."""
    changed = []
    blocked = False
    for touch in sorted(touches, key=step_order):
        if touch.status not in GATED:
            continue
        waits = blocked and (not touch.automated or wait_for_rep)
        if waits and initial and touch.status == TouchStatus.SCHEDULED:
            touch.status = TouchStatus.PENDING
            changed.append(touch)
        elif not waits and touch.status == TouchStatus.PENDING:
            touch.status = TouchStatus.SCHEDULED
            changed.append(touch)
        if not touch.automated:
            blocked = True
    return changed


def shift_waiting(
    touches: list[Touch], *, after: Touch | None, delay: dt.timedelta, rules: ScheduleRules
) -> list[Touch]:
    """Rule 3: move the waiting touches that come after `after` in step order (all of them when
    None) later by `delay`, into their windows. Step order, not due time: a Day 0 email due at the
    same moment as the call before it moves with the call."""
    moved = []
    after_order = step_order(after) if after is not None else None
    for touch in touches:
        if touch.status not in GATED or (after_order is not None and step_order(touch) <= after_order):
            continue
        touch.due_at = allowed_moment(
            touch.due_at + delay, channel=touch.channel, automated=touch.automated, rules=rules
        )
        touch.expires_at = expires_at_for(due_at=touch.due_at, step=touch.step, automated=touch.automated)
        moved.append(touch)
    return moved
