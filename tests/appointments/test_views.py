"""The appointment dialog and a meeting's actions over HTTP (today/appointment_views.py)."""

import datetime as dt
import json

import pytest
import time_machine
from django.urls import reverse

from cadences.models import Touch, TouchPurpose, TouchStatus
from leads.models import Appointment, LeadStatus
from reactions.appointments import appointment_book
from tests.appointments.conftest import MONDAY_9_LA

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def new_url(task):
    return reverse("today:appointment_new", args=[task.pk])


def booking(**overrides):
    return {"date": "2026-06-03", "time": "10:00", "duration": "30", "location": "Zoom", "note": "", **overrides}


@time_machine.travel(MONDAY_9_LA, tick=False)
def test_the_dialog_suggests_tomorrow_10_on_the_leads_clock_and_shows_the_reps(client_for, rep, task):
    response = client_for(rep).get(new_url(task), **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="appointment-dialog-touch-' in html and "Appointment with Dana Reyes" in html
    assert 'value="2026-06-02"' in html and 'value="10:00"' in html
    assert "Tue 2 Jun 10:00 PDT</strong> (America/Los_Angeles)" in html
    assert "You: <strong>Tue 2 Jun 13:00 EDT</strong> (America/New_York)" in html
    assert "<html" not in html  # a fragment for the row


@time_machine.travel(MONDAY_9_LA, tick=False)
def test_a_typed_time_is_previewed_on_both_clocks(client_for, rep, task):
    response = client_for(rep).get(new_url(task), {"date": "2026-06-05", "time": "16:30"}, **HTMX)
    html = response.content.decode()
    assert "Fri 5 Jun 16:30 PDT" in html and "Fri 5 Jun 19:30 EDT" in html


@time_machine.travel(MONDAY_9_LA, tick=False)
def test_booking_from_the_row_replaces_it_with_a_confirmation_and_ends_the_leads_rows(client_for, rep, task, lead):
    response = client_for(rep).post(new_url(task), booking(), **HTMX)
    assert response.status_code == 200
    appointment = Appointment.objects.get(lead=lead)
    assert appointment.starts_at == dt.datetime(2026, 6, 3, 17, 0, tzinfo=dt.UTC)  # 10:00 in Los Angeles
    html = response.content.decode()
    assert "Logged: Appointment set — the cadence has ended — next: Appointment with Dana Reyes" in html
    assert json.loads(response["HX-Trigger-After-Swap"]) == {"today:lead-ended": {"lead": lead.pk}}
    lead.refresh_from_db()
    assert lead.status == LeadStatus.APPOINTMENT


@time_machine.travel(MONDAY_9_LA, tick=False)
def test_a_meeting_later_today_takes_the_rows_place(client_for, rep, task, lead):
    response = client_for(rep).post(new_url(task), booking(date="2026-06-01", time="13:00"), **HTMX)
    meeting = Touch.objects.get(lead=lead, purpose=TouchPurpose.APPOINTMENT)
    html = response.content.decode()
    assert f'id="touch-{meeting.pk}"' in html and 'data-appointment-action="no_show"' in html
    assert "HX-Trigger-After-Swap" not in response  # the meeting row stays


@time_machine.travel(MONDAY_9_LA, tick=False)
@pytest.mark.parametrize(
    "data, message",
    [
        (
            booking(date="2026-06-01", time="08:30"),
            "That time has already passed for the lead (it is 9:00 AM PDT there",
        ),
        (booking(time=""), "Pick a time."),
        (booking(date="03/06/2026"), "Enter a date like 2026-12-03."),
        (booking(duration="999"), "Select a valid choice"),
        (booking(date="2027-03-14", time="02:30"), "02:30 does not exist that day in America/Los_Angeles"),
    ],
)
def test_bad_input_is_shown_inside_the_dialog_and_nothing_typed_is_lost(client_for, rep, task, data, message):
    response = client_for(rep).post(new_url(task), {**data, "location": "Café Luna"}, **HTMX)
    assert response.status_code == 200
    assert response["HX-Retarget"] == f"#appointment-dialog-touch-{task.pk}" and response["HX-Reswap"] == "outerHTML"
    html = response.content.decode()
    assert message in html and 'value="Café Luna"' in html
    assert not Appointment.objects.exists()
    task.refresh_from_db()
    assert task.status == TouchStatus.SCHEDULED


@time_machine.travel(MONDAY_9_LA, tick=False)
def test_without_htmx_the_dialog_is_a_page_and_a_booking_redirects(client_for, rep, task, lead):
    client = client_for(rep)
    page = client.get(new_url(task))
    assert page.status_code == 200 and "<html" in page.content.decode()
    refused = client.post(new_url(task), booking(time="25:00"))
    assert refused.status_code == 400 and "Enter a time like 14:30." in refused.content.decode()
    done = client.post(new_url(task), {**booking(), "next": reverse("leads:detail", args=[lead.pk])})
    assert done.status_code == 302 and done["Location"] == reverse("leads:detail", args=[lead.pk])
    assert Appointment.objects.filter(lead=lead).count() == 1


@time_machine.travel(MONDAY_9_LA, tick=False)
@pytest.mark.parametrize("who, status", [("teammate", 404), ("other_rep", 404), ("manager", 200), ("admin_user", 200)])
def test_who_may_book_a_task(request, client_for, task, who, status):
    user = request.getfixturevalue(who)
    assert client_for(user).get(new_url(task), **HTMX).status_code == status
    assert client_for(user).post(new_url(task), booking(), **HTMX).status_code == status
    assert Appointment.objects.exists() == (status == 200)


@time_machine.travel(MONDAY_9_LA, tick=False)
def test_reschedule_from_the_meeting_row(client_for, rep, lead):
    appointment = appointment_book(touch_or_lead=lead, starts_at=dt.datetime(2026, 6, 3, 17, tzinfo=dt.UTC), by=rep)
    url = reverse("today:appointment_reschedule", args=[appointment.pk])
    client = client_for(rep)
    dialog = client.get(url, **HTMX).content.decode()
    assert 'value="2026-06-03"' in dialog and 'value="10:00"' in dialog and "Move appointment" in dialog
    response = client.post(url, booking(date="2026-06-04", time="11:15", location="Office"), **HTMX)
    assert response.status_code == 200
    appointment.refresh_from_db()
    assert appointment.sequence == 1 and appointment.location == "Office"
    assert appointment.starts_at == dt.datetime(2026, 6, 4, 18, 15, tzinfo=dt.UTC)
    assert "Appointment moved, a new invite is on its way" in response.content.decode()


@time_machine.travel(MONDAY_9_LA, tick=False)
def test_a_no_show_before_the_start_says_why_inside_the_row(client_for, rep, lead):
    appointment = appointment_book(touch_or_lead=lead, starts_at=dt.datetime(2026, 6, 1, 20, tzinfo=dt.UTC), by=rep)
    meeting = Touch.objects.get(appointment=appointment, purpose=TouchPurpose.APPOINTMENT)
    response = client_for(rep).post(reverse("today:appointment_no_show", args=[appointment.pk]), **HTMX)
    assert response.status_code == 200 and response["HX-Retarget"] == f"#appointment-actions-{meeting.pk}"
    html = response.content.decode()
    assert "mark it a no-show once it has started" in html
    # The actions again, still working (today.row_links).
    assert f'action="{reverse("today:appointment_no_show", args=[appointment.pk])}"' in html
    assert f'hx-get="{reverse("today:appointment_reschedule", args=[appointment.pk])}"' in html
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.SCHEDULED


def test_no_show_after_the_start_puts_the_follow_up_call_in_the_rows_place(client_for, rep, lead, no_show_cadence):
    with time_machine.travel(MONDAY_9_LA, tick=False):
        appointment = appointment_book(touch_or_lead=lead, starts_at=MONDAY_9_LA + dt.timedelta(hours=2), by=rep)
    with time_machine.travel(MONDAY_9_LA + dt.timedelta(hours=2, minutes=15), tick=False):
        response = client_for(rep).post(reverse("today:appointment_no_show", args=[appointment.pk]), **HTMX)
    call = Touch.objects.get(lead=lead, enrollment__cadence=no_show_cadence, automated=False, status="scheduled")
    assert f'id="touch-{call.pk}"' in response.content.decode()


def test_held_from_the_lead_page(client_for, rep, lead):
    with time_machine.travel(MONDAY_9_LA, tick=False):
        appointment = appointment_book(touch_or_lead=lead, starts_at=MONDAY_9_LA + dt.timedelta(hours=2), by=rep)
        page = client_for(rep).get(reverse("leads:detail", args=[lead.pk])).content.decode()
    assert 'id="appointments"' in page and "Mon 1 Jun 11:00 PDT" in page and "Mon 1 Jun 14:00 EDT" in page
    with time_machine.travel(MONDAY_9_LA + dt.timedelta(hours=3), tick=False):
        detail = reverse("leads:detail", args=[lead.pk])
        response = client_for(rep).post(reverse("today:appointment_held", args=[appointment.pk]), {"next": detail})
        assert response.status_code == 302 and response["Location"] == detail
        assert 'id="appointments"' not in client_for(rep).get(detail).content.decode()
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.HELD


def test_the_meeting_shows_on_todays_list_with_its_actions(client_for, rep, lead):
    with time_machine.travel(MONDAY_9_LA, tick=False):
        appointment = appointment_book(touch_or_lead=lead, starts_at=MONDAY_9_LA + dt.timedelta(hours=2), by=rep)
        html = client_for(rep).get(reverse("today:index")).content.decode()
    meeting = Touch.objects.get(appointment=appointment, purpose=TouchPurpose.APPOINTMENT)
    assert f'data-touch="{meeting.pk}"' in html and "Appointment with Dana Reyes" in html
    assert f'id="appointment-actions-{meeting.pk}"' in html and "Mon 1 Jun 14:00 EDT" in html
    assert reverse("today:appointment_held", args=[appointment.pk]) in html
