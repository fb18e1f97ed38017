"""Reads on cadences: the editor's lists, a cadence's active steps, its day-by-day timeline, a lead's upcoming touches."""

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.utils import timezone

from cadences import sequence
from cadences.models import Cadence, CadenceKind, CadenceStep, Enrollment, Touch, TouchStatus
from cadences.rendering import render_text


def _count_subquery(queryset, outer_field: str = "cadence") -> Coalesce:
    """A correlated COUNT(*) per cadence: no join fan-out between steps and enrollments."""
    counted = queryset.filter(**{outer_field: OuterRef("pk")}).order_by().values(outer_field)
    counted = counted.annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def cadences_for_list() -> QuerySet[Cadence]:
    """Every cadence with its counts in one query (plus one for the source rules)."""
    active_steps = CadenceStep.objects.filter(retired_at__isnull=True)
    last_day = active_steps.filter(cadence=OuterRef("pk")).order_by("-day").values("day")[:1]
    return (
        Cadence.objects.annotate(
            active_step_count=_count_subquery(active_steps),
            active_enrollment_count=_count_subquery(Enrollment.objects.filter(state=Enrollment.State.ACTIVE)),
            span_days=Subquery(last_day, output_field=IntegerField()),
        )
        .prefetch_related("sources")
        .order_by("-active", "name")
    )


def cadence_get(*, pk: int) -> Cadence:
    """One cadence with its running (active + paused) enrollment count and source rules; 404 when missing."""
    queryset = Cadence.objects.annotate(
        running_enrollment_count=_count_subquery(
            Enrollment.objects.filter(state__in=[Enrollment.State.ACTIVE, Enrollment.State.PAUSED])
        ),
        active_enrollment_count=_count_subquery(Enrollment.objects.filter(state=Enrollment.State.ACTIVE)),
    ).prefetch_related("sources")
    return get_object_or_404(queryset, pk=pk)


def cadence_step_get(*, cadence: Cadence, pk: int) -> CadenceStep:
    """An active step of `cadence`; retired steps are history and 404 in the editor."""
    return get_object_or_404(CadenceStep, pk=pk, cadence=cadence, retired_at__isnull=True)


def cadence_steps_active(*, cadence: Cadence) -> list[CadenceStep]:
    """The steps the editor shows, by day and position, each with `touch_count` (touches pointing at it).

    A step with touches is "in use": editing it creates a new version.
    """
    return list(
        CadenceStep.objects.filter(cadence=cadence, retired_at__isnull=True)
        .annotate(touch_count=_count_subquery(Touch.objects.all(), outer_field="step"))
        .order_by("day", "position", "id")
    )


@dataclass
class TimelineDay:
    day: int
    steps: list[CadenceStep] = field(default_factory=list)
    is_gap = False


@dataclass
class TimelineGap:
    """A run of empty days folded into one cell, so a 365-day cadence still fits on screen."""

    first: int
    last: int
    is_gap = True

    @property
    def length(self) -> int:
        return self.last - self.first + 1


# Runs of this many empty days or more are folded into one gap cell.
TIMELINE_FOLD = 4


def cadence_timeline(*, steps: list[CadenceStep]) -> list[TimelineDay | TimelineGap]:
    """Days 0..the last step's day, each with its steps; long runs of empty days folded."""
    if not steps:
        return []
    by_day: dict[int, list[CadenceStep]] = {}
    for step in sorted(steps, key=lambda s: (s.day, s.position, s.pk or 0)):
        by_day.setdefault(step.day, []).append(step)
    cells: list[TimelineDay | TimelineGap] = []
    empty_run: list[int] = []

    def flush():
        if len(empty_run) >= TIMELINE_FOLD:
            cells.append(TimelineGap(first=empty_run[0], last=empty_run[-1]))
        else:
            cells.extend(TimelineDay(day=d) for d in empty_run)
        empty_run.clear()

    for day in range(0, max(by_day) + 1):
        if day in by_day:
            flush()
            cells.append(TimelineDay(day=day, steps=by_day[day]))
        else:
            empty_run.append(day)
    flush()
    return cells


def source_rules_summary(cadence: Cadence) -> str:
    """What picks this cadence for a new lead, as cadence_pick_for_lead applies it (uses prefetched sources)."""
    if cadence.kind != CadenceKind.FOLLOW_UP:
        return f"{cadence.get_kind_display()}: started by a rep's outcome, never picked for a new lead"
    parts = []
    if cadence.intake_via:
        parts.append(f"Leads that came in: {cadence.get_intake_via_display().lower()}")
    sources = [s.name for s in cadence.sources.all()]
    if sources:
        parts.append("Source: " + ", ".join(sources))
    if cadence.interest_keywords:
        parts.append("Interest: " + cadence.interest_keywords)
    if cadence.is_default:
        parts.append("Default for leads no other cadence picks")
    if not parts:
        return "No rules: enrolled by hand only"
    return " · ".join(parts)


class Timing:
    """Where an upcoming touch stands (the lead page's "Upcoming" list)."""

    OVERDUE = "overdue"  # scheduled, and its due time plus the grace has passed
    EXPIRED = "expired"  # automated and past its freshness window: the dispatcher skips it
    WAITING = "waiting"  # pending: falls due after the previous step
    PAUSED = "paused"
    UPCOMING = ""


def touches_upcoming_for_lead(*, lead, now: dt.datetime | None = None, limit: int = 50) -> list[Touch]:
    """The lead's touches still to come (scheduled, paused, or waiting for the step before), soonest first.

    Each carries `preview`: what the lead will read or the rep is told, rendered for this lead
    and its rep (cadences.rendering; never raw merge tags): an email's subject, a text's body, a
    task's talking points, an ad-hoc task's title; and `timing` (see Timing). One query.
    """
    now = now or timezone.now()
    grace = sequence.late_grace()
    touches = list(
        Touch.objects.filter(lead=lead, status__in=[TouchStatus.SCHEDULED, TouchStatus.PENDING, TouchStatus.PAUSED])
        .select_related("assigned_to", "step")
        .order_by("due_at", "id")[:limit]
    )
    for touch in touches:
        touch.lead = lead  # the caller's copy, with its owner: no query per touch
        touch.preview = _touch_preview(touch, lead=lead)
        if touch.status == TouchStatus.PENDING:
            touch.timing = Timing.WAITING
        elif touch.status == TouchStatus.PAUSED:
            touch.timing = Timing.PAUSED
        elif touch.automated and touch.expires_at and touch.expires_at < now:
            touch.timing = Timing.EXPIRED
        elif touch.due_at + grace < now:
            touch.timing = Timing.OVERDUE
        else:
            touch.timing = Timing.UPCOMING
    return touches


def _touch_preview(touch: Touch, *, lead) -> str:
    if touch.title or touch.step_id is None:
        return touch.title
    step = touch.step
    # What is sent is signed by the lead's owner (messaging.dispatch); a task is read by its rep.
    rep = lead.owner if touch.automated else (touch.assigned_to or lead.owner)
    if step.subject:
        text = step.subject
    elif touch.automated or not step.talking_points:
        text = step.body
    else:
        text = step.talking_points
    return " ".join(render_text(text, lead=lead, rep=rep).split())
