"""An appointment is booked, moved, missed or held: the lead, its cadence and the appointment's touches follow.

An appointment's touches (all with `appointment` set, none in an enrolment, so a cadence's exit
never cancels them):
- the invite: an automated email due at once (purpose APPOINTMENT_INVITE), sent by the usual
  dispatcher (claimed, sent once) with the iCalendar REQUEST (messaging.appointment_messages);
- the reminders (purpose APPOINTMENT_REMINDER) 24 h and 1 h before, each by email and, when the
  lead has a usable number and has not opted out, by SMS. A reminder whose time has passed at
  booking is not created. An SMS reminder whose time falls in quiet hours moves back to the
  latest moment before it inside the lead's contact window (`reminder_sms_moment`: an 08:30
  meeting's 1 h text goes the evening before at 20:45), or is left out when there is none
  still ahead. Every reminder expires when the meeting starts (`expires_at`): never sent late;
- the rep's own touch (purpose APPOINTMENT): a call or task "Appointment with <name>" due at the
  start, assigned to the rep, so it shows on their Today at its time.
A reschedule cancels the touches still waiting and creates them again for the new time, with an
invite of the same UID and a higher SEQUENCE. Each step writes a timeline line.
"""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from cadences.models import (
    WAITING_TOUCH_STATUSES,
    Cadence,
    CadenceKind,
    Channel,
    Enrollment,
    Outcome,
    Touch,
    TouchPurpose,
    TouchStatus,
)
from cadences.scheduling import ScheduleRules, contact_allowed
from cadences.services import consent_skip_reason, schedule_rules_for, task_create
from leads.models import Appointment, Lead, LeadEvent, LeadStatus
from leads.timeline import lead_event_add
from messaging.appointment_messages import clock_text, lead_zone, zone_named
from messaging.tasks import touches_send_now
from reactions.cadence import cadence_start
from reactions.lifecycle import lead_status_change
from reactions.outcomes import touch_complete

REMINDERS_BEFORE = (dt.timedelta(hours=24), dt.timedelta(hours=1))
# A moved SMS reminder leaves the dispatcher this long inside the window to send it.
SMS_WINDOW_MARGIN = dt.timedelta(minutes=15)
# How far back a quiet-hours SMS reminder may move, and the step it is searched in.
SMS_MOVE_LIMIT = dt.timedelta(hours=36)
SMS_MOVE_STEP = dt.timedelta(minutes=5)
MIN_DURATION, MAX_DURATION = 5, 8 * 60
MAX_AHEAD = dt.timedelta(days=365)
RUNNING = (Enrollment.State.ACTIVE, Enrollment.State.PAUSED)


def reminder_sms_moment(
    at: dt.datetime, *, rules: ScheduleRules, not_before: dt.datetime, margin: dt.timedelta = SMS_WINDOW_MARGIN
) -> dt.datetime | None:
    """When an SMS reminder meant for `at` may go: `at` itself inside the contact window, else the
    latest moment before it that is inside the window (in every zone the lead may be in) with
    `margin` of the window still left, so the dispatcher sends it there and then. None when that
    moment is not after `not_before` (booking time) or is further back than SMS_MOVE_LIMIT."""
    if contact_allowed(at, rules):
        return at if at > not_before else None
    moment = at - SMS_MOVE_STEP
    while moment > not_before and moment >= at - SMS_MOVE_LIMIT:
        if contact_allowed(moment, rules) and contact_allowed(moment + margin - dt.timedelta(minutes=1), rules):
            return moment
        moment -= SMS_MOVE_STEP
    return None


def appointment_time_validate(*, starts_at: dt.datetime, duration: int, now: dt.datetime, lead: Lead) -> None:
    errors = {}
    if starts_at <= now:
        local_now = now.astimezone(lead_zone(lead))
        errors["starts_at"] = [
            f"That time has already passed for the lead (it is {clock_text(local_now)} there now). Pick a later time."
        ]
    elif starts_at > now + MAX_AHEAD:
        errors["starts_at"] = ["Book at most a year ahead."]
    if not MIN_DURATION <= int(duration) <= MAX_DURATION:
        errors["duration"] = [f"A meeting lasts {MIN_DURATION} minutes to {MAX_DURATION // 60} hours."]
    if errors:
        raise ValidationError(errors)


def _text_validate(*, location: str, note: str) -> tuple[str, str]:
    location, note = " ".join((location or "").split()), (note or "").strip()
    errors = {}
    if len(location) > 300:
        errors["location"] = ["Keep the location under 300 characters."]
    if len(note) > 5000:
        errors["note"] = ["Keep notes under 5000 characters."]
    if errors:
        raise ValidationError(errors)
    return location, note


def _when(appointment: Appointment) -> str:
    """The start as the timeline shows it: the lead's clock, and the rep's when it differs."""
    lead_local = appointment.starts_at.astimezone(lead_zone(appointment.lead))
    text = f"{lead_local:%a %d %b} {clock_text(lead_local)}"
    rep_tz = appointment.rep.timezone if appointment.rep else ""
    if rep_tz and rep_tz != appointment.lead.timezone:
        rep_local = appointment.starts_at.astimezone(zone_named(rep_tz))
        text += f" ({clock_text(rep_local)} for {appointment.rep.first_name or appointment.rep})"
    return text


def _touches_create(*, appointment: Appointment, now: dt.datetime) -> list[Touch]:
    """The invite, the reminders and the rep's touch of a just booked or moved appointment (module docstring)."""
    lead, starts = appointment.lead, appointment.starts_at
    common = {"lead": lead, "appointment": appointment}
    touches = []
    email_ok = not consent_skip_reason(lead, Channel.EMAIL, True)
    sms_ok = not consent_skip_reason(lead, Channel.SMS, True)
    if email_ok:
        touches.append(
            Touch(
                **common,
                channel=Channel.EMAIL,
                automated=True,
                purpose=TouchPurpose.APPOINTMENT_INVITE,
                title="Appointment invite" if appointment.sequence == 0 else "Appointment invite (new time)",
                due_at=now,
                expires_at=starts,
            )
        )
    rules = schedule_rules_for(lead=lead)
    texted_at = set()
    for before in REMINDERS_BEFORE:
        at = starts - before
        if at <= now:
            continue  # the meeting is closer than that already
        label = f"Appointment reminder ({int(before.total_seconds() // 3600)} h before)"
        reminder = {**common, "automated": True, "purpose": TouchPurpose.APPOINTMENT_REMINDER, "title": label}
        if email_ok:
            touches.append(Touch(**reminder, channel=Channel.EMAIL, due_at=at, expires_at=starts))
        moment = reminder_sms_moment(at, rules=rules, not_before=now) if sms_ok else None
        if moment is not None and moment not in texted_at:
            texted_at.add(moment)
            touches.append(Touch(**reminder, channel=Channel.SMS, due_at=moment, expires_at=starts))
    phone_meeting = not appointment.location and lead.phone and not lead.phone_invalid
    touches.append(
        Touch(
            **common,
            channel=Channel.CALL if phone_meeting else Channel.TASK,
            automated=False,
            purpose=TouchPurpose.APPOINTMENT,
            title=f"Appointment with {lead.full_name}"[:200],
            assigned_to=appointment.rep,
            due_at=starts,
        )
    )
    Touch.objects.bulk_create(touches)
    return touches


def _invite_send_on_commit(touches: list[Touch]) -> None:
    """The invite goes to the workers once committed (claimed like any touch: sent once)."""
    invite = [t.pk for t in touches if t.purpose == TouchPurpose.APPOINTMENT_INVITE]
    if invite:
        transaction.on_commit(lambda: touches_send_now.delay(invite))


def _summary(touches: list[Touch], lead: Lead) -> str:
    invite = any(t.purpose == TouchPurpose.APPOINTMENT_INVITE for t in touches)
    reminders = sum(t.purpose == TouchPurpose.APPOINTMENT_REMINDER for t in touches)
    if invite:
        sent = "invite sent by email"
    else:
        sent = f"no invite: {consent_skip_reason(lead, Channel.EMAIL, True).lower()}"
    return f"{sent}, {reminders} reminder{'' if reminders == 1 else 's'}"


def appointment_book(
    *, touch_or_lead: Touch | Lead, starts_at: dt.datetime, duration: int = 30, location: str = "", note: str = "", by
) -> Appointment:
    """ "Appointment set": book a meeting with the lead at `starts_at` for `duration` minutes.

    From a rep's task (a Touch): the outcome "appointment" is logged on it
    (reactions.outcomes.touch_complete), which moves the lead to "appointment set" and so ends its
    cadence. From a lead: the same status change. Then the appointment and its touches (module
    docstring); the invite leaves on commit. The meeting is the task's rep's (else the lead's owner's).
    """
    touch = touch_or_lead if isinstance(touch_or_lead, Touch) else None
    lead = Lead.objects.select_related("owner").get(pk=touch.lead_id if touch else touch_or_lead.pk)
    now = timezone.now()
    appointment_time_validate(starts_at=starts_at, duration=duration, now=now, lead=lead)
    location, note = _text_validate(location=location, note=note)
    if not lead.is_open:
        raise ValidationError("This lead is closed: reopen it before booking a meeting.")
    with transaction.atomic():
        Lead.objects.select_for_update().filter(pk=lead.pk).values_list("pk", flat=True).first()
        booked = Appointment.objects.filter(lead=lead, status=Appointment.Status.SCHEDULED).first()
        if booked is not None:
            raise ValidationError(
                f"{lead.full_name} already has a meeting on {_when(booked)}: reschedule that one instead."
            )
        if touch is not None:
            touch_complete(touch=touch, outcome=Outcome.APPOINTMENT, by=by)
        elif lead.status != LeadStatus.APPOINTMENT:
            lead_status_change(lead=lead, status=LeadStatus.APPOINTMENT, by=by)
        lead.refresh_from_db()
        rep = (touch.assigned_to if touch else None) or lead.owner or by
        appointment = Appointment.objects.create(
            lead=lead,
            rep=rep,
            starts_at=starts_at,
            duration_minutes=int(duration),
            location=location,
            note=note,
            created_by=by,
        )
        touches = _touches_create(appointment=appointment, now=now)
        lead_event_add(
            lead=lead,
            kind=LeadEvent.Kind.APPOINTMENT,
            text=f"Appointment booked for {_when(appointment)}"
            + (f" at {location}" if location else "")
            + f" ({_summary(touches, lead)})"
            + (f" — {note}" if note else ""),
            actor=by,
            at=now,
            data={"appointment": appointment.pk, "starts_at": starts_at.isoformat()},
        )
        _invite_send_on_commit(touches)
    return appointment


def _locked_scheduled(appointment: Appointment, *, doing: str) -> Appointment:
    locked = Appointment.objects.select_for_update(of=("self",)).select_related("lead", "rep").get(pk=appointment.pk)
    if locked.status != Appointment.Status.SCHEDULED:
        raise ValidationError(f"This appointment is {locked.get_status_display().lower()}: it cannot be {doing}.")
    return locked


def _waiting_touches_cancel(appointment: Appointment, *, reason: str) -> int:
    return Touch.objects.filter(appointment=appointment, status__in=WAITING_TOUCH_STATUSES).update(
        status=TouchStatus.CANCELLED, failure_reason=reason[:500]
    )


def appointment_reschedule(
    *,
    appointment: Appointment,
    starts_at: dt.datetime,
    by,
    duration: int | None = None,
    location: str | None = None,
    note: str | None = None,
) -> Appointment:
    """Move the meeting: the touches still waiting (reminders, the rep's, an invite not yet sent) are
    cancelled and made again for the new time, with a new invite: same UID, SEQUENCE + 1."""
    now = timezone.now()
    duration = appointment.duration_minutes if duration is None else duration
    appointment_time_validate(starts_at=starts_at, duration=duration, now=now, lead=appointment.lead)
    location, note = _text_validate(
        location=appointment.location if location is None else location,
        note=appointment.note if note is None else note,
    )
    with transaction.atomic():
        appointment = _locked_scheduled(appointment, doing="rescheduled")
        before = _when(appointment)
        _waiting_touches_cancel(appointment, reason="Appointment moved")
        appointment.starts_at = starts_at
        appointment.duration_minutes = int(duration)
        appointment.location = location
        appointment.note = note
        appointment.sequence += 1
        appointment.save(update_fields=["starts_at", "duration_minutes", "location", "note", "sequence", "updated_at"])
        touches = _touches_create(appointment=appointment, now=now)
        lead_event_add(
            lead=appointment.lead,
            kind=LeadEvent.Kind.APPOINTMENT,
            text=f"Appointment moved from {before} to {_when(appointment)} ({_summary(touches, appointment.lead)})",
            actor=by,
            at=now,
            data={"appointment": appointment.pk, "starts_at": starts_at.isoformat(), "sequence": appointment.sequence},
        )
        _invite_send_on_commit(touches)
    return appointment


def _meeting_touch_close(appointment: Appointment, *, by, now: dt.datetime, note: str) -> None:
    """The rep's touch of the meeting is done (held or missed: either way nothing is left to do)."""
    Touch.objects.filter(
        appointment=appointment, purpose=TouchPurpose.APPOINTMENT, status=TouchStatus.SCHEDULED
    ).update(status=TouchStatus.DONE, note=note, completed_by=by, completed_at=now)


def appointment_held(*, appointment: Appointment, by) -> Appointment:
    """The meeting took place: held, its reminders cancelled, the rep's touch done. The lead stays
    "appointment set" until the rep moves it on (won, or a next step)."""
    now = timezone.now()
    with transaction.atomic():
        appointment = _locked_scheduled(appointment, doing="marked held")
        appointment.status = Appointment.Status.HELD
        appointment.save(update_fields=["status", "updated_at"])
        _meeting_touch_close(appointment, by=by, now=now, note="Held")
        _waiting_touches_cancel(appointment, reason="Appointment held")
        lead_event_add(
            lead=appointment.lead,
            kind=LeadEvent.Kind.APPOINTMENT,
            text=f"Appointment of {_when(appointment)} held",
            actor=by,
            at=now,
            data={"appointment": appointment.pk, "status": appointment.status},
        )
    return appointment


def no_show_cadence() -> Cadence | None:
    return Cadence.objects.filter(active=True, kind=CadenceKind.NO_SHOW).order_by("pk").first()


def appointment_no_show(*, appointment: Appointment, by) -> Appointment:
    """The lead did not come: no-show, its reminders cancelled, the rep's touch done, the lead back
    to "working" and a short follow-up restarted: the active no-show cadence (CadenceKind.NO_SHOW)
    from now, or, when there is none, a task for the rep to call and rebook.

    Only once the meeting has started: before that, it is a reschedule."""
    now = timezone.now()
    with transaction.atomic():
        appointment = _locked_scheduled(appointment, doing="marked a no-show")
        if appointment.starts_at > now:
            raise ValidationError(
                f"The meeting starts {_when(appointment)}: mark it a no-show once it has started, or reschedule it."
            )
        appointment.status = Appointment.Status.NO_SHOW
        appointment.save(update_fields=["status", "updated_at"])
        _meeting_touch_close(appointment, by=by, now=now, note="No-show")
        _waiting_touches_cancel(appointment, reason="Appointment missed")
        lead = Lead.objects.select_related("owner").get(pk=appointment.lead_id)
        lead_event_add(
            lead=lead,
            kind=LeadEvent.Kind.APPOINTMENT,
            text=f"Appointment of {_when(appointment)}: no-show",
            actor=by,
            at=now,
            data={"appointment": appointment.pk, "status": appointment.status},
        )
        if lead.is_open:
            if lead.status == LeadStatus.APPOINTMENT:
                lead = lead_status_change(lead=lead, status=LeadStatus.WORKING, by=by)
            _follow_up_restart(lead=lead, appointment=appointment, by=by, now=now)
    return appointment


def _follow_up_restart(*, lead: Lead, appointment: Appointment, by, now: dt.datetime) -> None:
    if Enrollment.objects.filter(lead=lead, state__in=RUNNING).exists():
        return  # a cadence already runs (started by hand since the booking): it is the follow-up
    cadence = no_show_cadence()
    if cadence is not None:
        cadence_start(lead=lead, cadence=cadence, by=by, at=now)
        return
    task_create(
        lead=lead,
        title=f"Missed appointment: call {lead.full_name} to rebook"[:200],
        channel=Channel.CALL if lead.phone and not lead.phone_invalid else Channel.TASK,
        due_at=now,
        assigned_to=appointment.rep or lead.owner,
    )
