"""Writes on cadences: enrolment, touches, outcomes, pause/resume and exits.

A lead's enrolment materialises every step of its cadence as a Touch row with its due time
(see cadences.scheduling). The Touch table is then both the rep's task list (manual touches)
and the dispatch queue (automated ones, see messaging.dispatch).
"""

import datetime as dt

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from cadences import sequence
from cadences.models import (
    ATTEMPT_OUTCOMES,
    AUTOMATABLE_CHANNELS,
    WAITING_TOUCH_STATUSES,
    Cadence,
    CadenceKind,
    CadenceStep,
    Channel,
    Enrollment,
    Outcome,
    Touch,
    TouchPurpose,
    TouchStatus,
)
from cadences.scheduling import ScheduleRules, allowed_moment, step_due_at
from leads.models import Lead, LeadEvent, LeadStatus
from leads.selectors import leads_visible_to, users_assignable_by
from leads.timeline import lead_event_add

RUNNING = (Enrollment.State.ACTIVE, Enrollment.State.PAUSED)


def schedule_rules_for(*, lead: Lead, cadence: Cadence | None = None) -> ScheduleRules:
    """The scheduling rules for this lead: its zone, or every zone it may be in while that is uncertain."""
    rep = lead.owner
    return ScheduleRules(
        lead_tz=lead.timezone or settings.TIME_ZONE,
        lead_tzs=tuple(lead.contact_timezones) if lead.timezone_uncertain else (),
        contact_start_hour=settings.CONTACT_WINDOW_START_HOUR,
        contact_end_hour=settings.CONTACT_WINDOW_END_HOUR,
        rep_tz=rep.timezone if rep else None,
        rep_start_hour=rep.work_start_hour if rep else 9,
        rep_end_hour=rep.work_end_hour if rep else 17,
        business_days_only=bool(cadence and cadence.business_days_only),
    )


def cadence_pick_for_lead(*, lead: Lead, via: str = "") -> Cadence | None:
    """The active follow-up cadence whose rules match. The way the lead came in (`via`: a cadence
    for phone intake) beats source and interest keywords, which beat source alone, which beats
    keywords alone; else the default cadence. A cadence for one way in is never picked for another."""
    best, best_score = None, 0
    cadences = list(Cadence.objects.filter(active=True, kind=CadenceKind.FOLLOW_UP))
    # The rules' sources from the link table alone (no join to the sources: intake stays on indexes).
    sources_of: dict[int, set[int]] = {c.pk: set() for c in cadences}
    links = Cadence.sources.through.objects.filter(cadence_id__in=list(sources_of))
    for cadence_id, source_id in links.values_list("cadence_id", "leadsource_id"):
        sources_of[cadence_id].add(source_id)
    for cadence in cadences:
        source_ids = sources_of[cadence.pk]
        keywords = [k.strip().lower() for k in cadence.interest_keywords.split(",") if k.strip()]
        if cadence.intake_via and cadence.intake_via != via:
            continue
        if not source_ids and not keywords and not cadence.intake_via:
            continue
        if source_ids and lead.source_id not in source_ids:
            continue
        interest = (lead.interest or "").lower()
        if keywords and not any(k in interest for k in keywords):
            continue
        score = (4 if cadence.intake_via else 0) + (2 if source_ids else 0) + (1 if keywords else 0)
        if score > best_score:
            best, best_score = cadence, score
    return best or Cadence.objects.filter(active=True, is_default=True, kind=CadenceKind.FOLLOW_UP).first()


def consent_skip_reason(lead: Lead, channel: str, automated: bool) -> str:
    """Why an automated touch cannot go to this lead at all ("" if it can)."""
    if not automated:
        return ""
    if channel == Channel.EMAIL:
        if not lead.email:
            return "No email address"
        if lead.email_opt_out:
            return "Unsubscribed from email"
        if lead.email_invalid:
            return "Email address bounced"
    if channel == Channel.SMS:
        if not lead.phone:
            return "No phone number"
        if lead.phone_invalid:
            return "Wrong number"
        if lead.sms_opt_out:
            return "Opted out of SMS"
        if lead.sms_unusable:
            return "Number cannot receive SMS"
    return ""


def task_skip_reason(lead: Lead, channel: str) -> str:
    """Why a rep's task on `channel` cannot be done for this lead ("" if it can)."""
    if channel in (Channel.CALL, Channel.SMS) and (lead.phone_invalid or not lead.phone):
        return "Wrong number" if lead.phone_invalid else "No phone number"
    return ""


def enrollment_start(
    *, lead: Lead, cadence: Cadence, by=None, at: dt.datetime | None = None, instant: bool = True
) -> Enrollment:
    """Enrol `lead` in `cadence` from `at` (default: the lead's arrival for a new lead, else now).

    Creates one Touch per active step, due per cadences.scheduling, waiting for its turn per
    cadences.sequence. Touches the lead cannot receive (no address, opted out, a wrong number)
    are created as skipped, so reports show the gap. `instant=False` (a lead a rep took on the
    phone) leaves out the instant steps: the auto-responder and the call-at-once task.
    The touches due at once are for the caller to hand to the workers (reactions.cadence_start).
    """
    if not cadence.active:
        raise ValidationError({"cadence": ["This cadence is not active."]})
    if not lead.is_open:
        raise ValidationError({"lead": ["Closed leads are not enrolled: reopen the lead first."]})
    start = at or timezone.now()
    rules = schedule_rules_for(lead=lead, cadence=cadence)
    with transaction.atomic():
        steps = list(
            CadenceStep.objects.filter(cadence=cadence, retired_at__isnull=True).order_by("day", "position", "id")
        )
        if Enrollment.objects.filter(lead=lead, state__in=RUNNING).exists():
            raise ValidationError({"lead": ["This lead is already in a running cadence: exit it first."]})
        enrollment = Enrollment.objects.create(lead=lead, cadence=cadence, started_at=start, created_by=by)
        touches = []
        for step in steps:
            if step.day == 0 and step.send_hour is None and not (cadence.instant_response and instant):
                continue
            automated = step.automated and step.channel in AUTOMATABLE_CHANNELS
            reason = consent_skip_reason(lead, step.channel, automated) or (
                "" if automated else task_skip_reason(lead, step.channel)
            )
            due_at = step_due_at(
                arrival=start,
                day=step.day,
                send_hour=step.send_hour,
                channel=step.channel,
                automated=automated,
                rules=rules,
            )
            touches.append(
                Touch(
                    lead=lead,
                    enrollment=enrollment,
                    step=step,
                    channel=step.channel,
                    automated=automated,
                    assigned_to=None if automated else lead.owner,
                    due_at=due_at,
                    expires_at=sequence.expires_at_for(due_at=due_at, step=step, automated=automated),
                    status=TouchStatus.SKIPPED if reason else TouchStatus.SCHEDULED,
                    failure_reason=reason,
                )
            )
        sequence.gate(touches, wait_for_rep=cadence.wait_for_rep, initial=True)
        Touch.objects.bulk_create(touches)
        lead_event_add(
            lead=lead,
            kind=LeadEvent.Kind.ENROLLMENT,
            text=f"Started cadence {cadence.name} ({len(touches)} touches)",
            actor=by,
            at=timezone.now(),
        )
    return enrollment


def enrollment_pause(
    *, enrollment: Enrollment, by=None, until: dt.datetime | None = None, text: str = "Cadence paused"
) -> Enrollment:
    """Pause a running cadence. `until`: an automatic pause (an out-of-office reply) that beat ends
    then (enrollments_resume_due); without it the pause lasts until someone resumes."""
    with transaction.atomic():
        enrollment = Enrollment.objects.select_for_update().get(pk=enrollment.pk)
        if enrollment.state != Enrollment.State.ACTIVE:
            raise ValidationError("Only an active cadence can be paused.")
        now = timezone.now()
        enrollment.state = Enrollment.State.PAUSED
        enrollment.paused_at = now
        enrollment.paused_until = until
        enrollment.save(update_fields=["state", "paused_at", "paused_until"])
        Touch.objects.filter(enrollment=enrollment, status=TouchStatus.SCHEDULED).update(status=TouchStatus.PAUSED)
        lead_event_add(lead=enrollment.lead, kind=LeadEvent.Kind.ENROLLMENT, text=text[:1000], actor=by, at=now)
    return enrollment


def enrollment_resume(*, enrollment: Enrollment, by=None, pause_ended_by: dt.datetime | None = None) -> Enrollment:
    """Resume a paused cadence: every remaining touch moves later by the time spent paused,
    so the gaps between touches stay as they were (then windows apply again).

    `pause_ended_by`: only an automatic pause whose paused_until is no later (checked under the
    row lock: a rep who paused it by hand meanwhile keeps it paused)."""
    with transaction.atomic():
        enrollment = Enrollment.objects.select_for_update().select_related("lead", "cadence").get(pk=enrollment.pk)
        if enrollment.state != Enrollment.State.PAUSED:
            raise ValidationError("Only a paused cadence can be resumed.")
        if pause_ended_by is not None and not (enrollment.paused_until and enrollment.paused_until <= pause_ended_by):
            raise ValidationError("The cadence's automatic pause has not ended.")
        now = timezone.now()
        shift = now - enrollment.paused_at
        rules = schedule_rules_for(lead=enrollment.lead, cadence=enrollment.cadence)
        waiting = list(
            Touch.objects.filter(
                enrollment=enrollment, status__in=[TouchStatus.PAUSED, TouchStatus.PENDING]
            ).select_related("step")
        )
        for touch in waiting:
            touch.due_at = allowed_moment(
                max(touch.due_at + shift, now), channel=touch.channel, automated=touch.automated, rules=rules
            )
            touch.expires_at = sequence.expires_at_for(due_at=touch.due_at, step=touch.step, automated=touch.automated)
            if touch.status == TouchStatus.PAUSED:
                touch.status = TouchStatus.SCHEDULED
        Touch.objects.bulk_update(waiting, ["due_at", "status", "expires_at"])
        enrollment.state = Enrollment.State.ACTIVE
        enrollment.paused_at = enrollment.paused_until = None
        enrollment.save(update_fields=["state", "paused_at", "paused_until"])
        lead_event_add(lead=enrollment.lead, kind=LeadEvent.Kind.ENROLLMENT, text="Cadence resumed", actor=by, at=now)
    return enrollment


def enrollments_resume_due(*, now: dt.datetime | None = None) -> int:
    """Beat, every minute: resume the cadences whose automatic pause has ended (paused_until passed).
    A rep's own pause has no paused_until and waits for the rep. Returns cadences resumed."""
    now = now or timezone.now()
    due = Enrollment.objects.filter(state=Enrollment.State.PAUSED, paused_until__lte=now).order_by("paused_until")
    resumed = 0
    for enrollment in due[:500]:
        try:
            enrollment_resume(enrollment=enrollment, pause_ended_by=now)
        except ValidationError:  # resumed, paused again by a rep or ended meanwhile
            continue
        resumed += 1
    return resumed


def enrollment_exit(*, lead: Lead, reason: str, by=None, keep: Touch | None = None) -> int:
    """End the lead's running enrollment and cancel what it still had to do, with the lead's other
    open tasks (a cadence that ends leaves nothing of the lead on Today; an appointment's own
    touches stay). `keep`: a task left as it is (the rep's open task a reply answers). Returns
    touches cancelled."""
    with transaction.atomic():
        running = list(Enrollment.objects.select_for_update().filter(lead=lead, state__in=RUNNING))
        if not running:
            return 0
        why = f"Cadence ended: {reason}"[:500]
        kept = Q(pk=keep.pk) if keep is not None else Q(pk__in=[])
        cancelled = (
            Touch.objects.filter(enrollment__in=running, status__in=WAITING_TOUCH_STATUSES)
            .exclude(kept)
            .update(status=TouchStatus.CANCELLED, failure_reason=why)
        )
        Touch.objects.open_tasks().filter(lead=lead, enrollment__isnull=True, purpose=TouchPurpose.STEP).exclude(
            kept
        ).update(status=TouchStatus.CANCELLED, failure_reason=why)
        now = timezone.now()
        Enrollment.objects.filter(pk__in=[e.pk for e in running]).update(
            state=Enrollment.State.EXITED, exit_reason=reason[:100], ended_at=now, paused_at=None, paused_until=None
        )
        lead_event_add(
            lead=lead,
            kind=LeadEvent.Kind.ENROLLMENT,
            text=f"Cadence ended ({reason}); {cancelled} remaining touches cancelled",
            actor=by,
            at=now,
        )
    return cancelled


def appointment_touches_cancel(*, appointment_ids: list[int], reason: str) -> int:
    """The invites, reminders and meeting tasks of cancelled appointments that have not gone yet."""
    if not appointment_ids:
        return 0
    return Touch.objects.filter(appointment_id__in=appointment_ids, status__in=WAITING_TOUCH_STATUSES).update(
        status=TouchStatus.CANCELLED, failure_reason=reason[:500]
    )


def enrollment_complete_if_done(*, enrollment_id: int | None) -> bool:
    """Mark an enrollment completed once none of its touches is still to do.

    A lead that went through the whole cadence without an answer moves to nurturing.
    """
    if enrollment_id is None:
        return False
    if Touch.objects.filter(enrollment_id=enrollment_id).still_open().exists():
        return False
    done = Enrollment.objects.filter(pk=enrollment_id, state=Enrollment.State.ACTIVE).update(
        state=Enrollment.State.COMPLETED, ended_at=timezone.now()
    )
    if done:
        enrollment = Enrollment.objects.select_related("lead").get(pk=enrollment_id)
        lead = enrollment.lead
        lead_event_add(lead=lead, kind=LeadEvent.Kind.ENROLLMENT, text="Cadence completed", at=timezone.now())
        if lead.status in (LeadStatus.NEW, LeadStatus.WORKING):
            Lead.objects.filter(pk=lead.pk).update(status=LeadStatus.NURTURING)
    return bool(done)


def enrollment_advance(*, enrollment_id: int | None, done: Touch | None = None, at: dt.datetime) -> list[int]:
    """A manual step of the enrolment was done or skipped: shift what waits when the rep was late
    and release the next steps (cadences.sequence, rules 2–3). Returns the ids of automated
    touches released and already due, for the caller to hand to the workers."""
    if enrollment_id is None:
        return []
    with transaction.atomic():
        enrollment = (
            # Only the enrolment's row: PostgreSQL cannot lock the nullable side of a join (lead__owner).
            Enrollment.objects.select_for_update(of=("self",))
            .select_related("cadence", "lead", "lead__owner")
            .filter(pk=enrollment_id, state=Enrollment.State.ACTIVE)
            .first()
        )
        if enrollment is None:
            return []
        touches = list(
            Touch.objects.filter(enrollment=enrollment, status__in=sequence.GATED).select_related("step").order_by("id")
        )
        moved: list[Touch] = []
        if done is not None and not done.automated and enrollment.cadence.shift_when_late:
            delay = at - done.due_at
            if delay > sequence.late_grace():
                rules = schedule_rules_for(lead=enrollment.lead, cadence=enrollment.cadence)
                moved = sequence.shift_waiting(touches, after=done, delay=delay, rules=rules)
        released = sequence.gate(touches, wait_for_rep=enrollment.cadence.wait_for_rep)
        changed = {t.pk: t for t in moved + released}
        if changed:
            Touch.objects.bulk_update(list(changed.values()), ["status", "due_at", "expires_at"])
    return [t.pk for t in released if t.automated and t.due_at <= at]


def enrollment_shift_waiting(*, touch: Touch, delta: dt.timedelta) -> int:
    """A manual step moved later by `delta` (a snooze): the steps waiting behind it move with it
    when the cadence shifts when late. Returns how many moved."""
    if touch.enrollment_id is None or delta <= dt.timedelta(0):
        return 0
    enrollment = Enrollment.objects.select_related("cadence", "lead", "lead__owner").get(pk=touch.enrollment_id)
    if not enrollment.cadence.shift_when_late:
        return 0
    waiting = list(Touch.objects.filter(enrollment=enrollment, status=TouchStatus.PENDING).select_related("step"))
    rules = schedule_rules_for(lead=enrollment.lead, cadence=enrollment.cadence)
    moved = sequence.shift_waiting(waiting, after=None, delay=delta, rules=rules)
    Touch.objects.bulk_update(moved, ["due_at", "expires_at"])
    return len(moved)


def task_create(
    *, lead: Lead, title: str, channel: str = Channel.CALL, due_at=None, urgent: bool = False, assigned_to=None
) -> Touch:
    """An ad-hoc task for the lead's rep (a reply to call back, a bounced email to fix)."""
    return Touch.objects.create(
        lead=lead,
        channel=channel,
        automated=False,
        title=title[:200],
        urgent=urgent,
        assigned_to=assigned_to or lead.owner,
        due_at=due_at or timezone.now(),
    )


def touch_label(touch: Touch) -> str:
    if touch.title:
        return touch.title
    if touch.step_id:
        return f"Day {touch.step.day} {touch.get_channel_display()}"
    return touch.get_channel_display()


def touch_may_be_worked_by(*, touch: Touch, user) -> bool:
    if user.is_superuser or user.is_admin_role:
        return True
    if touch.assigned_to_id == user.pk:
        return True
    return user.is_manager and leads_visible_to(user).filter(pk=touch.lead_id).exists()


def touch_mark_done(*, touch: Touch, outcome: str, by, note: str = "") -> Touch:
    """Complete a manual touch with its outcome: the task is done, the attempt (and a "no") counted,
    the lead's first response set, a new lead moved to working, a timeline line written.

    What the outcome decides next (an appointment, a reply ending the cadence) is
    reactions.outcomes.touch_complete, the rep's one click, which calls this first.
    """
    if outcome not in Outcome.values:
        raise ValidationError({"outcome": [f"Unknown outcome {outcome!r}."]})
    if len(note or "") > 5000:
        raise ValidationError({"note": ["Keep notes under 5000 characters."]})
    if not touch_may_be_worked_by(touch=touch, user=by):
        raise PermissionDenied("This task belongs to someone else.")
    now = timezone.now()
    with transaction.atomic():
        updated = (
            Touch.objects.open_tasks()
            .filter(pk=touch.pk)
            .update(
                status=TouchStatus.DONE, outcome=outcome, note=(note or "").strip(), completed_by=by, completed_at=now
            )
        )
        if not updated:
            raise ValidationError("This task is already done or no longer scheduled.")
        touch.refresh_from_db()
        lead = Lead.objects.select_for_update().get(pk=touch.lead_id)
        changes = {"last_touch_at": now}
        if outcome in ATTEMPT_OUTCOMES:
            changes["attempt_count"] = F("attempt_count") + 1
            if lead.first_response_at is None:
                changes["first_response_at"] = now
        if outcome == Outcome.NOT_INTERESTED:
            changes["objection_count"] = F("objection_count") + 1
        if outcome == Outcome.WRONG_NUMBER:
            changes["sms_unusable"] = True
        if lead.status == LeadStatus.NEW:
            changes["status"] = LeadStatus.WORKING
        Lead.objects.filter(pk=lead.pk).update(**changes)
        label = touch_label(touch)
        text = f"{label}: {Outcome(outcome).label}"
        if note:
            text += f" — {note.strip()}"
        lead_event_add(
            lead=lead,
            kind=LeadEvent.Kind.TOUCH,
            text=text,
            actor=by,
            at=now,
            data={"touch": touch.pk, "outcome": outcome, "channel": touch.channel},
        )
    return touch


def touch_snooze(*, touch: Touch, until: dt.datetime, by) -> Touch:
    """Move a manual task to a later time (still inside the allowed windows)."""
    if not touch_may_be_worked_by(touch=touch, user=by):
        raise PermissionDenied("This task belongs to someone else.")
    now = timezone.now()
    if until <= now:
        raise ValidationError({"until": ["Pick a time in the future."]})
    if until > now + dt.timedelta(days=90):
        raise ValidationError({"until": ["Snooze at most 90 days ahead."]})
    rules = schedule_rules_for(lead=touch.lead)
    due = allowed_moment(until, channel=touch.channel, automated=touch.automated, rules=rules)
    with transaction.atomic():
        before = Touch.objects.open_tasks().filter(pk=touch.pk).values_list("due_at", flat=True).first()
        updated = Touch.objects.open_tasks().filter(pk=touch.pk).update(due_at=due, snoozed=True)
        if not updated:
            raise ValidationError("Only a scheduled task can be snoozed.")
        touch.due_at, touch.snoozed = due, True
        enrollment_shift_waiting(touch=touch, delta=due - before)
    return touch


def touch_reassign(*, touch: Touch, to, by) -> Touch:
    if not (by.is_manager or by.is_admin_role):
        raise PermissionDenied("Only managers reassign tasks.")
    if not users_assignable_by(by).filter(pk=to.pk).exists():
        raise ValidationError({"to": ["You cannot assign tasks to this person."]})
    Touch.objects.open_tasks().filter(pk=touch.pk).update(assigned_to=to)
    touch.assigned_to = to
    return touch


def touches_due_now(*, enrollment: Enrollment, now: dt.datetime | None = None) -> list[int]:
    """Ids of the enrollment's automated touches already due (a new lead's instant response)."""
    return list(
        Touch.objects.due_automated(now or timezone.now()).filter(enrollment=enrollment).values_list("id", flat=True)
    )


def touches_reassign_for_lead(*, lead: Lead, to) -> int:
    """The lead's open tasks, and the steps waiting for their turn, follow it to its new owner."""
    return Touch.objects.filter(
        lead=lead, automated=False, status__in=[TouchStatus.SCHEDULED, TouchStatus.PENDING, TouchStatus.PAUSED]
    ).update(assigned_to=to)


def cadence_rows_move(*, from_lead: Lead, to_lead: Lead) -> None:
    """A merge: the duplicate's touches and enrollments move to the lead it is folded into."""
    Touch.objects.filter(lead=from_lead).update(lead=to_lead)
    Enrollment.objects.filter(lead=from_lead).update(lead=to_lead)
