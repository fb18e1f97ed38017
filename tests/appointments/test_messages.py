"""What an appointment's touches send (messaging/appointment_messages.py, calendar_invite.py) and how
the providers carry the calendar part (messaging/providers/smtp.py)."""

import datetime as dt

import pytest
import time_machine
from django.core import mail
from icalendar import Calendar

from cadences.models import Touch, TouchPurpose
from messaging import transports
from messaging.dispatch import outgoing_message_for
from messaging.tasks import dispatch_due
from reactions.appointments import appointment_book, appointment_reschedule
from tests.appointments.conftest import MONDAY_9_LA

WEDNESDAY_10_LA = dt.datetime(2026, 6, 3, 17, 0, tzinfo=dt.UTC)
pytestmark = pytest.mark.django_db


@pytest.fixture
def booked(lead, rep):
    rep.first_name, rep.last_name, rep.email = "Alice", "Nguyen", "alice.nguyen@example.com"
    rep.save(update_fields=["first_name", "last_name", "email"])
    with time_machine.travel(MONDAY_9_LA, tick=False):
        return appointment_book(
            touch_or_lead=lead, starts_at=WEDNESDAY_10_LA, duration=45, location="123 Main St, Suite 4", by=rep
        )


def touch_of(appointment, purpose, channel="email", hours_before=None):
    touches = Touch.objects.filter(appointment=appointment, purpose=purpose, channel=channel)
    if hours_before is not None:
        touches = touches.filter(due_at=appointment.starts_at - dt.timedelta(hours=hours_before))
    return touches.get()


def test_the_invite_carries_an_icalendar_request_with_the_rep_as_organizer(booked):
    message = outgoing_message_for(touch_of(booked, TouchPurpose.APPOINTMENT_INVITE))
    assert message.to == "dana@example.org"
    assert message.subject == "Invitation: meeting with Alice Nguyen, Wed Jun 3 at 10:00 AM PDT"
    assert "When: Wednesday, June 3, 2026 at 10:00 AM PDT (45 minutes)" in message.body
    assert "Where: 123 Main St, Suite 4" in message.body and "Unsubscribe:" in message.body
    [(ics, mimetype)] = ics_part = message.alternatives
    assert mimetype == "text/calendar; method=REQUEST"
    [(filename, attached, attached_type)] = message.attachments
    assert (filename, attached_type) == ("invite.ics", "application/ics") and attached.decode() == ics
    lines = ics.split("\r\n")
    assert "METHOD:REQUEST" in lines and "BEGIN:VEVENT" in lines
    assert all(len(line.encode()) <= 75 for line in lines)  # RFC 5545 §3.1: folded at 75 octets
    [event] = Calendar.from_ical(ics).walk("VEVENT")
    assert str(event["uid"]) == str(booked.uid) and int(event["sequence"]) == 0
    assert "DTSTART:20260603T170000Z" in lines and "DTEND:20260603T174500Z" in lines
    assert str(event["organizer"]) == "mailto:alice.nguyen@example.com"
    assert event["organizer"].params["CN"] == "Alice Nguyen"
    assert str(event["attendee"]) == "mailto:dana@example.org" and event["attendee"].params["RSVP"] == "TRUE"
    assert str(event["location"]) == "123 Main St, Suite 4"
    # The same touch builds the same invite (the reconciler builds it again).
    again = outgoing_message_for(touch_of(booked, TouchPurpose.APPOINTMENT_INVITE))
    assert (again.subject, again.alternatives, again.message_id) == (message.subject, ics_part, message.message_id)


def test_a_rep_without_email_organizes_from_the_senders_address(booked, rep):
    rep.email = ""
    rep.save(update_fields=["email"])
    [(ics, _)] = outgoing_message_for(touch_of(booked, TouchPurpose.APPOINTMENT_INVITE)).alternatives
    [event] = Calendar.from_ical(ics).walk("VEVENT")
    assert str(event["organizer"]) == "mailto:sales@leadfollow.example"
    assert event["organizer"].params["CN"] == "Alice Nguyen"


def test_reminders_say_when_in_the_leads_timezone(booked):
    day_before = outgoing_message_for(touch_of(booked, TouchPurpose.APPOINTMENT_REMINDER, hours_before=24))
    assert day_before.subject == "Reminder: your meeting with Alice Nguyen tomorrow at 10:00 AM PDT"
    assert not day_before.alternatives and not day_before.attachments
    hour_before = outgoing_message_for(touch_of(booked, TouchPurpose.APPOINTMENT_REMINDER, hours_before=1))
    assert "our meeting today at 10:00 AM PDT (45 minutes)" in hour_before.body
    text = outgoing_message_for(touch_of(booked, TouchPurpose.APPOINTMENT_REMINDER, channel="sms", hours_before=1))
    assert text.channel == "sms" and text.to == "+14155550142"
    assert text.body == (
        "Hi Dana, a reminder: your meeting with Alice (LeadFollow Demo Co.) is today at 10:00 AM PDT. "
        "Where: 123 Main St, Suite 4. Reply STOP to opt out."
    )


def test_a_moved_meeting_sends_an_updated_invite(booked, rep):
    with time_machine.travel(MONDAY_9_LA, tick=False):
        appointment_reschedule(appointment=booked, starts_at=WEDNESDAY_10_LA + dt.timedelta(days=1), by=rep)
    invites = Touch.objects.filter(appointment=booked, purpose=TouchPurpose.APPOINTMENT_INVITE).order_by("pk")
    message = outgoing_message_for(invites.last())
    assert message.subject.startswith("Updated invitation: meeting with Alice Nguyen, Thu Jun 4")
    assert "Our meeting has moved." in message.body
    [event] = Calendar.from_ical(message.alternatives[0][0]).walk("VEVENT")
    assert int(event["sequence"]) == 1 and str(event["uid"]) == str(booked.uid)


def test_a_name_with_a_line_break_fails_the_touch_with_the_reason(booked, lead):
    lead.first_name = "Dana\nBcc: x@example.com"
    lead.save(update_fields=["first_name"])
    with time_machine.travel(MONDAY_9_LA + dt.timedelta(minutes=1), tick=False):
        dispatch_due()
    invite = touch_of(booked, TouchPurpose.APPOINTMENT_INVITE)
    assert invite.status == "failed" and "line break" in invite.failure_reason
    assert not mail.outbox


def test_the_two_phase_smtp_send_carries_the_calendar_part(booked, smtp_server):
    with time_machine.travel(MONDAY_9_LA + dt.timedelta(minutes=1), tick=False):
        assert dispatch_due() == 1
    [received] = smtp_server.messages()
    parts = {part.get_content_type(): part for part in received.walk()}
    calendar = parts["text/calendar"]
    assert calendar.get_param("method") == "REQUEST" and calendar.get_content_charset() == "utf-8"
    assert parts["application/ics"].get_filename() == "invite.ics"
    [event] = Calendar.from_ical(calendar.get_content()).walk("VEVENT")
    assert str(event["uid"]) == str(booked.uid)
    assert received.get_body(preferencelist=("plain",)).get_content().startswith("Hi Dana,")


def test_any_other_email_backend_gets_the_calendar_part_too(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    message = transports.OutgoingMessage(
        channel="email",
        to="pat@example.org",
        subject="Invitation",
        body="Hi Pat",
        alternatives=(("BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n", "text/calendar; method=REQUEST"),),
    )
    transports.send(message, commit_point=lambda: True)
    [sent] = mail.outbox
    assert sent.alternatives[0].mimetype == "text/calendar; method=REQUEST"
    assert 'Content-Type: text/calendar; charset="utf-8"; method=REQUEST' in sent.message().as_string()
