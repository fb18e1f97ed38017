"""Booking, moving, missing and holding a meeting (reactions/appointments.py), with the clock held."""

import datetime as dt
import email

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from icalendar import Calendar

from cadences.models import Enrollment, Outcome, Touch, TouchPurpose, TouchStatus
from leads.models import Appointment, LeadEvent, LeadStatus
from messaging.tasks import dispatch_due
from reactions.appointments import appointment_book, appointment_held, appointment_no_show, appointment_reschedule
from tests.appointments.conftest import MONDAY_9_LA

# Wednesday 3 June 2026, 10:00 in Los Angeles.
WEDNESDAY_10_LA = dt.datetime(2026, 6, 3, 17, 0, tzinfo=dt.UTC)

pytestmark = pytest.mark.django_db


def invites_received():
    """The invites in the test outbox: (message, parsed VEVENT)."""
    found = []
    for sent in mail.outbox:
        parsed = email.message_from_bytes(sent.message().as_bytes(), policy=email.policy.default)
        for part in parsed.walk():
            if part.get_content_type() == "text/calendar":
                assert part.get_param("method") == "REQUEST"
                found.append((parsed, Calendar.from_ical(part.get_content()).walk("VEVENT")[0]))
    return found


def by_purpose(appointment, purpose, **filters):
    return list(Touch.objects.filter(appointment=appointment, purpose=purpose, **filters).order_by("due_at", "channel"))


@time_machine.travel(MONDAY_9_LA, tick=False)
def test_booking_from_a_task_ends_the_cadence_and_creates_invite_reminders_and_the_reps_touch(
    task, lead, rep, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        appointment = appointment_book(
            touch_or_lead=task, starts_at=WEDNESDAY_10_LA, duration=45, location="Zoom", note="Bring pricing", by=rep
        )

    task.refresh_from_db()
    lead.refresh_from_db()
    assert task.status == TouchStatus.DONE and task.outcome == Outcome.APPOINTMENT
    assert lead.status == LeadStatus.APPOINTMENT and lead.attempt_count == 1
    enrollment = Enrollment.objects.get(lead=lead)
    assert enrollment.state == Enrollment.State.EXITED
    # Nothing of the cadence is left to do: its Day 2 email and Day 4 call are cancelled.
    assert not Touch.objects.filter(enrollment=enrollment).still_open().exists()

    assert (appointment.rep, appointment.starts_at, appointment.duration_minutes) == (rep, WEDNESDAY_10_LA, 45)
    assert (appointment.location, appointment.note, appointment.sequence) == ("Zoom", "Bring pricing", 0)

    [invite] = by_purpose(appointment, TouchPurpose.APPOINTMENT_INVITE)
    assert invite.channel == "email" and invite.automated and invite.status == TouchStatus.SENT
    assert invite.due_at == MONDAY_9_LA and invite.expires_at == WEDNESDAY_10_LA

    reminders = by_purpose(appointment, TouchPurpose.APPOINTMENT_REMINDER)
    assert [(t.channel, t.due_at) for t in reminders] == [
        ("email", WEDNESDAY_10_LA - dt.timedelta(hours=24)),
        ("sms", WEDNESDAY_10_LA - dt.timedelta(hours=24)),
        ("email", WEDNESDAY_10_LA - dt.timedelta(hours=1)),
        ("sms", WEDNESDAY_10_LA - dt.timedelta(hours=1)),
    ]
    assert all(t.automated and t.status == TouchStatus.SCHEDULED and t.expires_at == WEDNESDAY_10_LA for t in reminders)

    [meeting] = by_purpose(appointment, TouchPurpose.APPOINTMENT)
    assert meeting.title == "Appointment with Dana Reyes" and meeting.assigned_to == rep
    assert meeting.due_at == WEDNESDAY_10_LA and meeting.status == TouchStatus.SCHEDULED and not meeting.automated
    assert meeting.channel == "task"  # a place was given: a meeting, not a call
    assert meeting.enrollment_id is None

    # The invite went out once, through the dispatcher, with the iCalendar REQUEST.
    [(message, event)] = invites_received()
    assert message["To"] == "dana@example.org"
    assert str(event["uid"]) == str(appointment.uid) and int(event["sequence"]) == 0
    assert event.decoded("dtstart") == WEDNESDAY_10_LA
    assert event.decoded("dtend") == WEDNESDAY_10_LA + dt.timedelta(minutes=45)
    assert str(event["organizer"]) == f"mailto:{rep.email}" and event["organizer"].params["CN"] == rep.get_full_name()
    assert str(event["attendee"]) == "mailto:dana@example.org"
    assert dispatch_due() == 0 and len(mail.outbox) == 1

    text = " ".join(LeadEvent.objects.filter(lead=lead, kind=LeadEvent.Kind.APPOINTMENT).values_list("text", flat=True))
    assert "Appointment booked for Wed 03 Jun 10:00 AM PDT" in text and "at Zoom" in text
    assert "Bring pricing" in text and "4 reminders" in text


@time_machine.travel(MONDAY_9_LA, tick=False)
def test_booking_from_the_lead_without_a_place_gives_the_rep_a_call(lead, rep):
    appointment = appointment_book(touch_or_lead=lead, starts_at=WEDNESDAY_10_LA, by=rep)
    lead.refresh_from_db()
    assert lead.status == LeadStatus.APPOINTMENT
    [meeting] = by_purpose(appointment, TouchPurpose.APPOINTMENT)
    assert meeting.channel == "call" and meeting.assigned_to == rep


@time_machine.travel(MONDAY_9_LA, tick=False)
def test_reminders_already_past_are_not_created_and_no_sms_without_consent(lead, rep):
    lead.sms_opt_out = True
    lead.save(update_fields=["sms_opt_out"])
    soon = MONDAY_9_LA + dt.timedelta(hours=3)  # 12:00 today: the 24 h reminder would be yesterday
    appointment = appointment_book(touch_or_lead=lead, starts_at=soon, by=rep)
    reminders = by_purpose(appointment, TouchPurpose.APPOINTMENT_REMINDER)
    assert [(t.channel, t.due_at) for t in reminders] == [("email", soon - dt.timedelta(hours=1))]


@time_machine.travel(MONDAY_9_LA, tick=False)
def test_a_lead_without_email_gets_no_invite_and_the_timeline_says_so(lead, rep):
    lead.email = ""
    lead.save(update_fields=["email"])
    appointment = appointment_book(touch_or_lead=lead, starts_at=WEDNESDAY_10_LA, by=rep)
    assert not by_purpose(appointment, TouchPurpose.APPOINTMENT_INVITE)
    assert [t.channel for t in by_purpose(appointment, TouchPurpose.APPOINTMENT_REMINDER)] == ["sms", "sms"]
    event = LeadEvent.objects.get(lead=lead, kind=LeadEvent.Kind.APPOINTMENT)
    assert "no invite: no email address" in event.text


@time_machine.travel(MONDAY_9_LA, tick=False)
@pytest.mark.parametrize(
    "starts_at, duration, field, message",
    [
        (MONDAY_9_LA - dt.timedelta(minutes=1), 30, "starts_at", "That time has already passed for the lead"),
        (MONDAY_9_LA + dt.timedelta(days=400), 30, "starts_at", "at most a year ahead"),
        (WEDNESDAY_10_LA, 1000, "duration", "5 minutes to 8 hours"),
    ],
)
def test_bad_times_are_refused_and_nothing_changes(task, lead, rep, starts_at, duration, field, message):
    with pytest.raises(ValidationError) as refused:
        appointment_book(touch_or_lead=task, starts_at=starts_at, duration=duration, by=rep)
    assert message in " ".join(refused.value.message_dict[field])
    task.refresh_from_db()
    assert task.status == TouchStatus.SCHEDULED and not Appointment.objects.exists()
    assert Enrollment.objects.get(lead=lead).state == Enrollment.State.ACTIVE


@time_machine.travel(MONDAY_9_LA, tick=False)
def test_a_second_booking_is_refused_while_one_is_scheduled(lead, rep):
    appointment_book(touch_or_lead=lead, starts_at=WEDNESDAY_10_LA, by=rep)
    with pytest.raises(ValidationError, match="already has a meeting on Wed 03 Jun 10:00 AM PDT"):
        appointment_book(touch_or_lead=lead, starts_at=WEDNESDAY_10_LA + dt.timedelta(days=1), by=rep)
    assert Appointment.objects.count() == 1


@time_machine.travel(MONDAY_9_LA, tick=False)
def test_a_closed_lead_is_not_booked(lead, rep):
    lead.status = LeadStatus.WON
    lead.save(update_fields=["status"])
    with pytest.raises(ValidationError, match="closed"):
        appointment_book(touch_or_lead=lead, starts_at=WEDNESDAY_10_LA, by=rep)


@time_machine.travel(MONDAY_9_LA, tick=False)
def test_reschedule_bumps_the_sequence_and_replaces_the_waiting_touches(lead, rep, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        appointment = appointment_book(touch_or_lead=lead, starts_at=WEDNESDAY_10_LA, location="Office", by=rep)
    old_waiting = set(
        Touch.objects.filter(appointment=appointment, status=TouchStatus.SCHEDULED).values_list("pk", flat=True)
    )
    assert len(old_waiting) == 5  # four reminders and the rep's touch

    thursday = WEDNESDAY_10_LA + dt.timedelta(days=1, hours=4)  # Thursday 14:00 in Los Angeles
    with django_capture_on_commit_callbacks(execute=True):
        moved = appointment_reschedule(appointment=appointment, starts_at=thursday, by=rep)

    assert moved.sequence == 1 and moved.starts_at == thursday and moved.uid == appointment.uid
    assert set(Touch.objects.filter(pk__in=old_waiting).values_list("status", flat=True)) == {TouchStatus.CANCELLED}
    [new_meeting] = by_purpose(moved, TouchPurpose.APPOINTMENT, status=TouchStatus.SCHEDULED)
    assert new_meeting.due_at == thursday
    assert [t.due_at for t in by_purpose(moved, TouchPurpose.APPOINTMENT_REMINDER, status=TouchStatus.SCHEDULED)] == [
        thursday - dt.timedelta(hours=24),
        thursday - dt.timedelta(hours=24),
        thursday - dt.timedelta(hours=1),
        thursday - dt.timedelta(hours=1),
    ]
    first, second = invites_received()
    assert str(first[1]["uid"]) == str(second[1]["uid"]) == str(appointment.uid)
    assert (int(first[1]["sequence"]), int(second[1]["sequence"])) == (0, 1)
    assert second[1].decoded("dtstart") == thursday
    assert second[0]["Subject"].startswith("Updated invitation")
    event = LeadEvent.objects.filter(lead=lead, kind=LeadEvent.Kind.APPOINTMENT).first()
    assert event.text.startswith(
        "Appointment moved from Wed 03 Jun 10:00 AM PDT (1:00 PM EDT for Alice) to Thu 04 Jun 2:00 PM PDT (5:00 PM EDT"
    )


@time_machine.travel(MONDAY_9_LA, tick=False)
def test_a_meeting_no_longer_scheduled_is_not_moved(lead, rep):
    appointment = appointment_book(touch_or_lead=lead, starts_at=WEDNESDAY_10_LA, by=rep)
    appointment_held(appointment=appointment, by=rep)
    with pytest.raises(ValidationError, match="is held: it cannot be rescheduled"):
        appointment_reschedule(appointment=appointment, starts_at=WEDNESDAY_10_LA + dt.timedelta(days=1), by=rep)


def test_no_show_restarts_a_short_follow_up(task, lead, rep, no_show_cadence):
    with time_machine.travel(MONDAY_9_LA, tick=False):
        appointment = appointment_book(touch_or_lead=task, starts_at=WEDNESDAY_10_LA, by=rep)
        with pytest.raises(ValidationError, match="once it has started"):
            appointment_no_show(appointment=appointment, by=rep)

    with time_machine.travel(WEDNESDAY_10_LA + dt.timedelta(minutes=20), tick=False):
        appointment_no_show(appointment=appointment, by=rep)

    appointment.refresh_from_db()
    lead.refresh_from_db()
    assert appointment.status == Appointment.Status.NO_SHOW
    assert lead.status == LeadStatus.WORKING
    running = Enrollment.objects.get(lead=lead, state=Enrollment.State.ACTIVE)
    assert running.cadence == no_show_cadence
    [call] = Touch.objects.filter(enrollment=running, status=TouchStatus.SCHEDULED, automated=False)
    assert call.assigned_to == rep
    [meeting] = by_purpose(appointment, TouchPurpose.APPOINTMENT)
    assert meeting.status == TouchStatus.DONE and meeting.note == "No-show" and meeting.completed_by == rep
    # The reminders still waiting (all past by now) are cancelled, never sent late.
    assert not by_purpose(appointment, TouchPurpose.APPOINTMENT_REMINDER, status=TouchStatus.SCHEDULED)
    lines = list(LeadEvent.objects.filter(lead=lead).values_list("text", flat=True))
    assert any(line.endswith(": no-show") for line in lines)
    assert any(line.startswith("Status: Appointment set → Working") for line in lines)
    assert any(line.startswith("Started cadence Missed it") for line in lines)


def test_no_show_without_a_no_show_cadence_gives_the_rep_a_task(lead, rep, no_show_cadence):
    no_show_cadence.active = False
    no_show_cadence.save(update_fields=["active"])
    with time_machine.travel(MONDAY_9_LA, tick=False):
        appointment = appointment_book(touch_or_lead=lead, starts_at=WEDNESDAY_10_LA, by=rep)
    with time_machine.travel(WEDNESDAY_10_LA + dt.timedelta(minutes=20), tick=False):
        appointment_no_show(appointment=appointment, by=rep)
    [task] = Touch.objects.open_tasks().filter(lead=lead)
    assert task.title == "Missed appointment: call Dana Reyes to rebook" and task.assigned_to == rep


def test_held_marks_the_meeting_and_its_task_done(lead, rep):
    with time_machine.travel(MONDAY_9_LA, tick=False):
        appointment = appointment_book(touch_or_lead=lead, starts_at=WEDNESDAY_10_LA, by=rep)
    with time_machine.travel(WEDNESDAY_10_LA + dt.timedelta(minutes=50), tick=False):
        appointment_held(appointment=appointment, by=rep)
        with pytest.raises(ValidationError, match="is held"):
            appointment_no_show(appointment=appointment, by=rep)
    appointment.refresh_from_db()
    lead.refresh_from_db()
    assert appointment.status == Appointment.Status.HELD
    assert lead.status == LeadStatus.APPOINTMENT  # the rep moves it on from here
    [meeting] = by_purpose(appointment, TouchPurpose.APPOINTMENT)
    assert meeting.status == TouchStatus.DONE and meeting.completed_by == rep
    assert not Touch.objects.filter(appointment=appointment).still_open().exists()
    assert LeadEvent.objects.filter(lead=lead, text__endswith=" held").exists()


@time_machine.travel(MONDAY_9_LA, tick=False)
def test_closing_the_lead_as_lost_cancels_its_meeting_and_reminders(task, lead, rep, manager):
    from reactions.lifecycle import lead_status_change

    appointment = appointment_book(
        touch_or_lead=task, starts_at=WEDNESDAY_10_LA, duration=30, location="", note="", by=rep
    )
    lead.refresh_from_db()
    lead_status_change(lead=lead, status=LeadStatus.LOST, by=manager, reason="Went elsewhere", override=True)
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED
    assert not Touch.objects.filter(appointment=appointment).still_open().exists()
    assert LeadEvent.objects.filter(lead=lead, text__startswith="Appointment cancelled").exists()
