"""Booking from Today in a real browser: the row's "Appointment set" opens the dialog, a past time is
refused inside it, a booking leaves the row with a confirmation, and the invite the test SMTP server
receives carries a text/calendar METHOD:REQUEST part with the rep as ORGANIZER."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from icalendar import Calendar

from cadences.models import Touch, TouchPurpose, TouchStatus
from leads.models import Appointment, LeadStatus
from messaging.tasks import dispatch_due
from tests import factories
from tests.browser import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
LA = ZoneInfo("America/Los_Angeles")


def test_rep_books_from_the_today_row_and_the_lead_gets_an_invite(browser, live_server, smtp_server, rep):
    rep.first_name, rep.last_name, rep.email, rep.timezone = "Alice", "Nguyen", "alice@example.com", "America/New_York"
    rep.save(update_fields=["first_name", "last_name", "email", "timezone"])
    lead = factories.LeadFactory(
        owner=rep, first_name="Dana", last_name="Reyes", email="dana@example.org", timezone="America/Los_Angeles"
    )
    task = factories.TouchFactory(lead=lead, title="Call Dana back", due_at=timezone.now() - dt.timedelta(minutes=5))
    day = timezone.now().astimezone(LA).date() + dt.timedelta(days=2)

    page = login(browser, live_server, rep)
    row = page.locator(f"#touch-{task.pk}")
    page.evaluate("window.__noReload = 'still here'")
    row.locator("[data-outcome=appointment]").click()
    dialog = row.locator(".appointment-dialog")
    dialog.wait_for()
    assert "Appointment with Dana Reyes" in dialog.inner_text()

    # A time already past is refused inside the dialog, what was typed kept.
    yesterday = timezone.now().astimezone(LA).date() - dt.timedelta(days=1)
    dialog.locator("input[name=date]").fill(yesterday.isoformat())
    dialog.locator("input[name=time]").fill("10:00")
    dialog.locator("input[name=location]").fill("Zoom: https://zoom.example/j/42")
    dialog.locator("[data-appointment-submit]").click()
    page.wait_for_selector(f"#touch-{task.pk} .appointment-dialog .invalid-feedback")
    dialog = row.locator(".appointment-dialog")
    assert "That time has already passed for the lead" in dialog.inner_text()
    assert dialog.locator("input[name=location]").input_value() == "Zoom: https://zoom.example/j/42"
    assert not Appointment.objects.exists()

    # The lead's clock and the rep's, shown as the date is typed.
    dialog.locator("input[name=date]").fill(day.isoformat())
    dialog.locator("input[name=date]").dispatch_event("change")
    page.wait_for_function(
        "(day) => (document.querySelector('.appointment-clocks') || {}).innerText?.includes(day)",
        arg=f"{day.day} {day:%b} 13:00",
    )
    clocks = dialog.locator(".appointment-clocks").inner_text()
    assert "10:00 P" in clocks and "(America/Los_Angeles)" in clocks and "13:00 E" in clocks
    dialog.locator("select[name=duration]").select_option("45")
    dialog.locator("[data-appointment-submit]").click()
    page.wait_for_selector(f"#touch-{task.pk}.today-notice")
    assert "Appointment set" in page.inner_text(f"#touch-{task.pk}")
    assert page.evaluate("window.__noReload") == "still here"

    appointment = Appointment.objects.get(lead=lead)
    starts = dt.datetime.combine(day, dt.time(10), tzinfo=LA)
    assert (appointment.starts_at, appointment.duration_minutes, appointment.rep) == (starts, 45, rep)
    lead.refresh_from_db()
    assert lead.status == LeadStatus.APPOINTMENT
    task.refresh_from_db()
    assert task.status == TouchStatus.DONE

    # The invite went through the dispatcher once, on commit: a tick finds nothing more to send.
    assert dispatch_due() == 0
    [received] = smtp_server.messages()
    invite = Touch.objects.get(appointment=appointment, purpose=TouchPurpose.APPOINTMENT_INVITE)
    assert invite.status == TouchStatus.SENT and received["Message-ID"] == f"<touch-{invite.pk}@leadfollow.example>"
    assert received["To"] == "dana@example.org"
    assert "10:00 AM P" in received.get_body(preferencelist=("plain",)).get_content()  # the lead's clock
    [calendar_part] = [part for part in received.walk() if part.get_content_type() == "text/calendar"]
    assert calendar_part.get_param("method") == "REQUEST"
    calendar = Calendar.from_ical(calendar_part.get_content())
    assert calendar["method"] == "REQUEST"
    [event] = calendar.walk("VEVENT")
    assert str(event["organizer"]) == "mailto:alice@example.com"
    assert event["organizer"].params["CN"] == "Alice Nguyen"
    assert str(event["attendee"]) == "mailto:dana@example.org"
    assert str(event["uid"]) == str(appointment.uid) and int(event["sequence"]) == 0
    assert event.decoded("dtstart") == starts.astimezone(dt.UTC)
    assert event.decoded("dtend") == starts.astimezone(dt.UTC) + dt.timedelta(minutes=45)
