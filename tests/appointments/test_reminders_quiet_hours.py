"""Appointment reminders with the clock held: texts only inside the lead's contact window (08:00–21:00
its time), moved back to the latest allowed moment before or left out; emails at their time."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from hypothesis import given, settings
from hypothesis import strategies as st

from cadences.models import Touch, TouchPurpose, TouchStatus
from cadences.scheduling import ScheduleRules, contact_allowed
from messaging.models import Message
from messaging.tasks import dispatch_due
from reactions.appointments import appointment_book, reminder_sms_moment
from tests import factories

NY = ZoneInfo("America/New_York")
pytestmark = pytest.mark.django_db


def ny(day, hour, minute=0):
    return dt.datetime(2026, 6, day, hour, minute, tzinfo=NY)


@pytest.fixture
def lead(rep):
    return factories.LeadFactory(
        owner=rep, first_name="Sam", email="sam@example.org", phone="+12125550188", timezone="America/New_York"
    )


def reminders(appointment, channel):
    touches = Touch.objects.filter(appointment=appointment, purpose=TouchPurpose.APPOINTMENT_REMINDER, channel=channel)
    return sorted(t.due_at.astimezone(NY) for t in touches)


@time_machine.travel(ny(1, 12), tick=False)
def test_a_9_oclock_meeting_is_texted_at_8_inside_the_window(lead, rep):
    appointment = appointment_book(touch_or_lead=lead, starts_at=ny(3, 9), by=rep)
    assert reminders(appointment, "sms") == [ny(2, 9), ny(3, 8)]
    assert reminders(appointment, "email") == [ny(2, 9), ny(3, 8)]


@time_machine.travel(ny(1, 12), tick=False)
def test_an_8_30_meetings_1_hour_text_moves_to_the_evening_before(lead, rep):
    appointment = appointment_book(touch_or_lead=lead, starts_at=ny(3, 8, 30), by=rep)
    # 07:30 is quiet: the text goes at 20:45 the evening before, 15 minutes before the window shuts.
    assert reminders(appointment, "sms") == [ny(2, 8, 30), ny(2, 20, 45)]
    # Email goes any time: 24 h and 1 h before, 07:30 included.
    assert reminders(appointment, "email") == [ny(2, 8, 30), ny(3, 7, 30)]


@time_machine.travel(ny(2, 22), tick=False)
def test_the_1_hour_text_is_left_out_when_the_window_closed_before_booking(lead, rep):
    appointment = appointment_book(touch_or_lead=lead, starts_at=ny(3, 8, 30), by=rep)
    assert reminders(appointment, "sms") == []  # 07:30 is quiet and the evening has passed already
    assert reminders(appointment, "email") == [ny(3, 7, 30)]  # the 24 h one was in the past: not made


@time_machine.travel(ny(1, 12), tick=False)
def test_a_lead_whose_zone_is_uncertain_is_texted_inside_every_zone_it_may_be_in(lead, rep):
    lead.timezone_candidates = ["America/Los_Angeles", "America/New_York"]
    lead.timezone_confirmed = False
    lead.save(update_fields=["timezone_candidates", "timezone_confirmed"])
    appointment = appointment_book(touch_or_lead=lead, starts_at=ny(3, 10), by=rep)
    # Both windows are open only 11:00–21:00 New York (08:00–18:00 in Los Angeles). The 24 h text (10:00
    # New York) and the 1 h one (09:00) are quiet: each moves back to 20:45 New York the evening before.
    assert reminders(appointment, "sms") == [ny(1, 20, 45), ny(2, 20, 45)]
    rules = ScheduleRules(lead_tz="America/New_York", lead_tzs=("America/Los_Angeles", "America/New_York"))
    assert all(contact_allowed(moment, rules) for moment in reminders(appointment, "sms"))


def test_reminders_go_out_at_their_time_and_the_dispatcher_sends_the_text_inside_the_window(lead, rep):
    with time_machine.travel(ny(1, 12), tick=False):
        appointment = appointment_book(touch_or_lead=lead, starts_at=ny(3, 8, 30), by=rep)
        Touch.objects.filter(appointment=appointment, purpose=TouchPurpose.APPOINTMENT_INVITE).update(
            status=TouchStatus.SENT
        )
    with time_machine.travel(ny(2, 20, 44), tick=False):
        dispatch_due()
        assert (
            not Message.objects.filter(channel="sms", touch__appointment=appointment)
            .exclude(touch__due_at=ny(2, 8, 30))
            .exists()
        )
    with time_machine.travel(ny(2, 20, 46), tick=False):
        dispatch_due()
    texts = Message.objects.filter(channel="sms", touch__appointment=appointment).order_by("touch__due_at")
    bodies = [m.body for m in texts]
    assert (
        bodies[-1].startswith("Hi Sam, a reminder: your meeting with Alice") and "tomorrow at 8:30 AM EDT" in bodies[-1]
    )
    assert bodies[-1].endswith("Reply STOP to opt out.")
    with time_machine.travel(ny(3, 7, 31), tick=False):
        dispatch_due()
    [email_reminder] = Touch.objects.filter(appointment=appointment, channel="email", due_at=ny(3, 7, 30))
    assert email_reminder.status == TouchStatus.SENT  # email goes in quiet hours too


WINDOW = ScheduleRules(lead_tz="America/Chicago")


@settings(max_examples=200, deadline=None)
@given(
    at=st.datetimes(min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2027, 12, 31), timezones=st.just(dt.UTC)),
    lead_time=st.timedeltas(min_value=dt.timedelta(minutes=1), max_value=dt.timedelta(days=3)),
)
def test_a_text_reminder_is_never_in_quiet_hours_never_after_its_time_never_before_booking(at, lead_time):
    booked = at - lead_time
    moment = reminder_sms_moment(at, rules=WINDOW, not_before=booked)
    if moment is None:
        return
    assert booked < moment <= at
    assert contact_allowed(moment, WINDOW)
    if moment != at:
        assert not contact_allowed(at, WINDOW)
        # The latest such moment on its 5-minute grid: 5 minutes later the window would shut within the margin.
        assert not contact_allowed(moment + dt.timedelta(minutes=5 + 14), WINDOW)
