"""Writes of the cadence editor: cadences, their rules, and their steps.

The engine's writes (enrolment, scheduling, dispatch) live in cadences/services.py; these
are the admin's edits. The one rule that matters most here:

    A step that any Touch points at is never changed in place.

Touches read their step's subject/body/talking points when they are sent or shown, so an
in-place edit would rewrite what running enrollments say. Instead an edit *retires* the
step (retired_at=now) and creates a successor with the new values; removing such a step
only retires it. Steps nobody points at yet are updated in place.

Removing always retires, even a step no touch uses yet: enrollment_start reads the active
steps before its transaction inserts the touches, so a row deleted in between would fail that
lead's enrolment on the foreign key. A retired, unused row costs nothing.
"""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from cadences.models import AUTOMATABLE_CHANNELS, Cadence, CadenceKind, CadenceStep, Channel, IntakeVia
from cadences.rendering import template_errors, unknown_merge_fields

MAX_DAY = 365
MAX_SMS_BODY = 1600  # Twilio's limit for one message body (it splits into segments itself).
# An automated step's freshness window (cadences.sequence.fresh_for): 5 minutes to a week.
MIN_FRESH_MINUTES, MAX_FRESH_MINUTES = 5, 7 * 24 * 60
STEP_FIELDS = ("day", "channel", "automated", "send_hour", "subject", "body", "talking_points", "fresh_minutes")
# Phrases the playbook bans: every touch must add value.
FILLER_PHRASES = ("just touching base", "just checking in", "just following up")


@dataclass
class StepProblems:
    """What is wrong with a step's values: `errors` block saving, `warnings` do not."""

    errors: dict[str, list[str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)


def step_problems(
    *,
    day: int | None,
    channel: str,
    automated: bool,
    send_hour: int | None,
    subject: str = "",
    body: str = "",
    talking_points: str = "",
    fresh_minutes: int | None = None,
) -> StepProblems:
    """Check a step's values. Used by the form (field errors) and by the write functions (a guard).

    - only email and SMS may be automated; every other channel is a task for the rep;
    - email steps need a subject and a body; automated SMS need a body of at most 1600 characters;
    - day 0..365, send hour 0..23 in the lead's local time, or empty (the time of day the lead
      arrived; on Day 0: at once);
    - "send within" 5..10080 minutes (a week), automated steps only (a rep's task never expires),
      or empty (cadences.sequence's default);
    - template syntax errors block; unknown merge fields block automated steps (they would go
      out to a lead with a hole in them) and are warnings on manual ones (a rep reads them first).
    """
    problems = StepProblems()
    if day is None or not 0 <= day <= MAX_DAY:
        problems.error("day", f"Day must be between 0 and {MAX_DAY}.")
    if send_hour is not None and not 0 <= send_hour <= 23:
        problems.error("send_hour", "Send hour must be between 0 and 23 (the lead's local time).")
    if fresh_minutes is not None:
        if not MIN_FRESH_MINUTES <= fresh_minutes <= MAX_FRESH_MINUTES:
            problems.error(
                "fresh_minutes",
                f"Send within must be between {MIN_FRESH_MINUTES} and {MAX_FRESH_MINUTES} minutes (a week).",
            )
        elif not automated:
            problems.error("fresh_minutes", "Only automated steps expire: leave it empty for a task for the rep.")
    if channel not in Channel.values:
        problems.error("channel", "Choose a channel.")
        return problems
    channel_label = Channel(channel).label
    if automated and channel not in AUTOMATABLE_CHANNELS:
        problems.error(
            "automated", f"Only email and SMS steps can be automated; a {channel_label} step is a task for the rep."
        )
    if channel == Channel.EMAIL:
        if not subject.strip():
            problems.error("subject", "Email steps need a subject.")
        if not body.strip():
            problems.error("body", "Email steps need a body.")
    if channel == Channel.SMS and automated:
        if not body.strip():
            problems.error("body", "Automated SMS steps need a message body.")
        elif len(body) > MAX_SMS_BODY:
            problems.error("body", f"An SMS body can be at most {MAX_SMS_BODY} characters (this one has {len(body)}).")

    for name, text in (("subject", subject), ("body", body), ("talking_points", talking_points)):
        label = name.replace("_", " ").capitalize()
        unknown = [f"Unknown merge field {{{{ {f} }}}}" for f in unknown_merge_fields(text)]
        for message in template_errors(text):
            if message not in unknown:
                problems.error(name, message)
            elif automated and name != "talking_points":
                problems.error(name, f"{message}: an automated step would send it empty.")
            else:
                problems.warnings.append(f"{label}: {message}.")
        lowered = (text or "").lower()
        for phrase in FILLER_PHRASES:
            if phrase in lowered:
                problems.warnings.append(
                    f'{label} says "{phrase}": give the lead a reason instead (value, an insight, news).'
                )
    return problems


def _check_step(values: dict) -> list[str]:
    problems = step_problems(**values)
    if problems.errors:
        raise ValidationError(problems.errors)
    return problems.warnings


def _clean_step_values(values: dict) -> dict:
    cleaned = {name: values[name] for name in STEP_FIELDS}
    for name in ("subject", "body", "talking_points"):
        cleaned[name] = (cleaned[name] or "").strip()
    cleaned["automated"] = bool(cleaned["automated"])
    return cleaned


def _next_position(cadence: Cadence, day: int) -> int:
    last = CadenceStep.objects.filter(cadence=cadence, day=day, retired_at__isnull=True).aggregate(m=Max("position"))
    return 0 if last["m"] is None else last["m"] + 1


def _renumber_day(cadence: Cadence, day: int) -> None:
    """Positions of a day's active steps become 0..n-1 in their current order."""
    steps = CadenceStep.objects.filter(cadence=cadence, day=day, retired_at__isnull=True).order_by("position", "id")
    changed = []
    for index, step in enumerate(steps):
        if step.position != index:
            step.position = index
            changed.append(step)
    if changed:
        CadenceStep.objects.bulk_update(changed, ["position"])


def _lock_active_step(step: CadenceStep) -> CadenceStep:
    """Re-read `step` under a row lock, or explain that it changed under the editor.

    On PostgreSQL the FOR UPDATE lock conflicts with the key-share lock an engine transaction
    takes when it inserts a Touch pointing at the step: whichever comes second waits, so
    "is this step referenced?" is answered after the engine's insert has committed.
    """
    locked = CadenceStep.objects.select_for_update().filter(pk=step.pk).first()
    if locked is None or locked.retired_at is not None:
        raise ValidationError("This step was changed or removed meanwhile; reload the cadence and try again.")
    return locked


# --- Cadences -------------------------------------------------------------------------------


def _normalize_keywords(raw: str) -> str:
    seen, words = set(), []
    for word in (raw or "").split(","):
        word = " ".join(word.split())
        if word and word.lower() not in seen:
            seen.add(word.lower())
            words.append(word)
    return ", ".join(words)


def _unset_other_default(cadence_pk: int | None) -> None:
    # Lock the current default first, so two admins making different cadences the default
    # serialize here instead of one of them hitting the one_default_cadence constraint.
    others = Cadence.objects.select_for_update().filter(is_default=True)
    if cadence_pk is not None:
        others = others.exclude(pk=cadence_pk)
    ids = list(others.values_list("pk", flat=True))
    if ids:
        Cadence.objects.filter(pk__in=ids).update(is_default=False, updated_at=timezone.now())


def cadence_problems(
    *, kind: str, is_default: bool, intake_via: str, has_source_rules: bool, interest_keywords: str
) -> dict[str, list[str]]:
    """What contradicts how cadences are picked (cadences.services.cadence_pick_for_lead):

    - only follow-up cadences are picked for new leads, so a nurture or no-show cadence (started
      by an outcome) can be neither the default nor have rules, which would silently do nothing;
    - the default serves new leads that came in any way, so it is not for one way in.
    """
    errors: dict[str, list[str]] = {}
    if kind not in CadenceKind.values:
        errors["kind"] = ["Choose what the cadence is for."]
        return errors
    if intake_via not in IntakeVia.values:
        errors["intake_via"] = ["Choose how the leads came in, or “Any way in”."]
    if kind != CadenceKind.FOLLOW_UP:
        started_by = "“Not interested → nurture”" if kind == CadenceKind.NURTURE else "a no-show"
        why = f"only follow-up cadences are picked for new leads; this one is started by {started_by}."
        if is_default:
            errors.setdefault("is_default", []).append(f"Cannot be the default: {why}")
        if intake_via:
            errors.setdefault("intake_via", []).append(f"Leave it at “Any way in”: {why}")
        if has_source_rules or _normalize_keywords(interest_keywords):
            errors.setdefault("sources", []).append(f"Clear the sources and keywords: {why}")
    elif is_default and intake_via:
        errors.setdefault("intake_via", []).append(
            "The default cadence is for leads no other cadence picks, whichever way they came in: "
            "choose “Any way in”, or untick Default."
        )
    return errors


def cadence_create(
    *,
    name: str,
    description: str = "",
    active: bool = True,
    is_default: bool = False,
    kind: str = CadenceKind.FOLLOW_UP,
    intake_via: str = IntakeVia.ANY,
    sources=(),
    interest_keywords: str = "",
    business_days_only: bool = False,
    instant_response: bool = True,
    shift_when_late: bool = True,
    wait_for_rep: bool = True,
) -> Cadence:
    """Create a cadence; making it the default takes that role from the previous default."""
    return cadence_update(
        cadence=Cadence(),
        name=name,
        description=description,
        active=active,
        is_default=is_default,
        kind=kind,
        intake_via=intake_via,
        sources=sources,
        interest_keywords=interest_keywords,
        business_days_only=business_days_only,
        instant_response=instant_response,
        shift_when_late=shift_when_late,
        wait_for_rep=wait_for_rep,
    )


def cadence_update(
    *,
    cadence: Cadence,
    name: str,
    description: str = "",
    active: bool = True,
    is_default: bool = False,
    kind: str = CadenceKind.FOLLOW_UP,
    intake_via: str = IntakeVia.ANY,
    sources=(),
    interest_keywords: str = "",
    business_days_only: bool = False,
    instant_response: bool = True,
    shift_when_late: bool = True,
    wait_for_rep: bool = True,
) -> Cadence:
    """Save a cadence's settings and rules (a new, unsaved cadence is created).

    Its steps, and so running enrollments, are untouched (a changed "shift when late" or "wait
    for the rep" applies from the next step each enrolment releases)."""
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"name": "A cadence needs a name."})
    intake_via = intake_via or IntakeVia.ANY
    sources = list(sources)
    problems = cadence_problems(
        kind=kind,
        is_default=is_default,
        intake_via=intake_via,
        has_source_rules=bool(sources),
        interest_keywords=interest_keywords,
    )
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        if is_default:
            _unset_other_default(cadence.pk)
        cadence.name = name
        cadence.description = (description or "").strip()
        cadence.active = active
        cadence.is_default = is_default
        cadence.interest_keywords = _normalize_keywords(interest_keywords)
        cadence.kind = kind
        cadence.intake_via = intake_via
        cadence.business_days_only = business_days_only
        cadence.instant_response = instant_response
        cadence.shift_when_late = shift_when_late
        cadence.wait_for_rep = wait_for_rep
        cadence.full_clean(exclude=["is_default"], validate_constraints=False)
        cadence.save()
        cadence.sources.set(sources)
    return cadence


def cadence_set_active(*, cadence: Cadence, active: bool) -> Cadence:
    """(De)activate: an inactive cadence picks no new leads; its running enrollments carry on."""
    cadence.active = active
    # save(), not update(): the change goes into the cadence's history with the admin who made it.
    cadence.save(update_fields=["active", "updated_at"])
    return cadence


# --- Steps ----------------------------------------------------------------------------------


def cadence_step_create(
    *,
    cadence: Cadence,
    day: int,
    channel: str,
    automated: bool = False,
    send_hour: int | None = 10,
    subject: str = "",
    body: str = "",
    talking_points: str = "",
    fresh_minutes: int | None = None,
) -> tuple[CadenceStep, list[str]]:
    """Add a step at the end of its day. Returns the step and the warnings to show the admin."""
    values = _clean_step_values(
        dict(
            day=day,
            channel=channel,
            automated=automated,
            send_hour=send_hour,
            subject=subject,
            body=body,
            talking_points=talking_points,
            fresh_minutes=fresh_minutes,
        )
    )
    warnings = _check_step(values)
    with transaction.atomic():
        # Lock the cadence: two admins adding to the same day get distinct positions.
        Cadence.objects.select_for_update().filter(pk=cadence.pk).first()
        step = CadenceStep.objects.create(cadence=cadence, position=_next_position(cadence, values["day"]), **values)
    return step, warnings


def cadence_step_update(
    *,
    step: CadenceStep,
    day: int,
    channel: str,
    automated: bool = False,
    send_hour: int | None = 10,
    subject: str = "",
    body: str = "",
    talking_points: str = "",
    fresh_minutes: int | None = None,
) -> tuple[CadenceStep, list[str]]:
    """Apply an edit. Returns (the step that now carries the values, warnings).

    1. Validate; errors raise ValidationError and nothing is written.
    2. Lock the step row (see _lock_active_step) and re-check it is still active.
    3. Nothing changed: return it as is.
    4. A step on a new day goes to the end of that day; on the same day it keeps its position.
    5. Referenced by a touch: retire it and create the successor (same cadence, the position
       from step 4) — the touches keep pointing at the retired step and its old wording.
       Not referenced: update in place.
    6. Renumber the day it left, so positions stay 0..n-1.
    """
    values = _clean_step_values(
        dict(
            day=day,
            channel=channel,
            automated=automated,
            send_hour=send_hour,
            subject=subject,
            body=body,
            talking_points=talking_points,
            fresh_minutes=fresh_minutes,
        )
    )
    warnings = _check_step(values)
    with transaction.atomic():
        Cadence.objects.select_for_update().filter(pk=step.cadence_id).first()
        current = _lock_active_step(step)
        if all(getattr(current, name) == value for name, value in values.items()):
            return current, warnings
        old_day = current.day
        moved = values["day"] != old_day
        position = _next_position(current.cadence, values["day"]) if moved else current.position
        if current.touches.exists():
            current.retired_at = timezone.now()
            current.save(update_fields=["retired_at"])
            result = CadenceStep.objects.create(cadence_id=current.cadence_id, position=position, **values)
        else:
            for name, value in values.items():
                setattr(current, name, value)
            current.position = position
            current.save()
            result = current
        if moved:
            _renumber_day(result.cadence, old_day)
    return result, warnings


def cadence_step_remove(*, step: CadenceStep) -> bool:
    """Take a step out of its cadence (retire it; see the module docstring for why never delete).

    Returns True when touches use it: those leads still get it, new enrollments do not.
    """
    with transaction.atomic():
        Cadence.objects.select_for_update().filter(pk=step.cadence_id).first()
        current = _lock_active_step(step)
        in_use = current.touches.exists()
        current.retired_at = timezone.now()
        current.save(update_fields=["retired_at"])
        _renumber_day(current.cadence, current.day)
    return in_use


def cadence_step_move(*, step: CadenceStep, direction: str) -> bool:
    """Swap a step with its neighbour among the same day's active steps ("up" or "down").

    Only the order within a day changes, never the day. Returns False when there is nothing
    to swap with (first/last of its day). Positions are updated in place even on referenced
    steps: a position only orders steps when new touches are scheduled; what a running
    enrollment says and when is fixed in its touches.
    """
    if direction not in ("up", "down"):
        raise ValidationError("Move a step up or down.")
    with transaction.atomic():
        Cadence.objects.select_for_update().filter(pk=step.cadence_id).first()
        current = _lock_active_step(step)
        same_day = list(
            CadenceStep.objects.filter(
                cadence_id=current.cadence_id, day=current.day, retired_at__isnull=True
            ).order_by("position", "id")
        )
        index = next(i for i, s in enumerate(same_day) if s.pk == current.pk)
        other = index - 1 if direction == "up" else index + 1
        if not 0 <= other < len(same_day):
            return False
        same_day[index], same_day[other] = same_day[other], same_day[index]
        for position, s in enumerate(same_day):
            s.position = position
        CadenceStep.objects.bulk_update(same_day, ["position"])
    return True
