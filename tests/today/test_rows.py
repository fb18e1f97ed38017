"""Today lists one row per lead: its most urgent task, what comes next, the attempts, in a compact card."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cadences.models import Channel, Outcome, TouchPurpose, TouchStatus
from leads.models import Appointment
from tests import factories

pytestmark = pytest.mark.django_db

NOON = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)  # a Tuesday


@pytest.fixture(autouse=True)
def _utc(rep, teammate, other_rep, time_machine):
    time_machine.move_to(NOON, tick=False)
    for user in (rep, teammate, other_rep):
        user.timezone = "UTC"
        user.save(update_fields=["timezone"])


def _ids(response):
    return [t.pk for t in response.context["today"].rows]


def _row_html(body: str, touch) -> str:
    """The markup of `touch`'s row, from its opening tag to the next row."""
    start = body.rindex("<div ", 0, body.index(f'id="touch-{touch.pk}"'))
    end = body.find('<div class="card mb-2 shadow-sm today-row', start + 1)
    return body[start : end if end > 0 else len(body)]


def _due_text(body: str) -> list[str]:
    return re.findall(r'<span class="today-due-text">([^<]*)</span>', body)


def test_one_row_per_lead_the_most_urgent_task(client_for, rep, make_task):
    """Megan's five overdue steps and an urgent callback show as one row: the urgent task."""
    megan = factories.LeadFactory(owner=rep, first_name="Megan", created_at=NOON - dt.timedelta(days=6))
    steps = [make_task(rep, lead=megan, due=-dt.timedelta(days=d)) for d in (5, 4, 3, 1)]
    callback = factories.TouchFactory(lead=megan, title="Call back", urgent=True, due_at=NOON - dt.timedelta(hours=1))
    other = make_task(rep, due=-dt.timedelta(days=2))
    response = client_for(rep).get("/today/")
    assert _ids(response) == [callback.pk, other.pk]
    body = response.content.decode()
    assert body.count(f'data-lead="{megan.pk}"') == 1
    assert f'data-lead="{megan.pk}" data-touch="{callback.pk}"' in body
    # Without the urgent task, the oldest step is the row.
    callback.delete()
    assert _ids(client_for(rep).get("/today/")) == [steps[0].pk, other.pk]


def test_every_row_carries_lead_and_touch(client_for, rep, make_task):
    tasks = [make_task(rep) for _ in range(3)]
    body = client_for(rep).get("/today/").content.decode()
    found = re.findall(r'class="card[^"]*today-row[^"]*" id="touch-(\d+)" data-lead="(\d+)" data-touch="(\d+)"', body)
    assert sorted((int(t), int(lead)) for _, lead, t in found) == sorted((t.pk, t.lead_id) for t in tasks)


def test_counters_count_leads_not_steps(client_for, rep, make_task):
    lead = factories.LeadFactory(owner=rep)
    for days in (3, 2, 1):
        make_task(rep, lead=lead, due=-dt.timedelta(days=days))
    make_task(rep, due=dt.timedelta(hours=2))  # another lead, due later today
    done_lead = factories.LeadFactory(owner=rep)
    for _ in range(2):  # two tasks of one lead done today: one lead done
        make_task(rep, lead=done_lead, status=TouchStatus.DONE, completed_by=rep, completed_at=timezone.now())
    counters = client_for(rep).get("/today/").context["counters"]
    assert counters == {"done": 1, "remaining": 2, "overdue": 1, "calls": 2}


def test_then_names_the_leads_next_touch_in_the_reps_timezone(client_for, rep, make_task, cadence):
    rep.timezone = "America/New_York"  # 08:00 there
    rep.save(update_fields=["timezone"])
    task = make_task(rep, due=-dt.timedelta(minutes=30))
    lead = task.lead
    enrollment = factories.EnrollmentFactory(lead=lead, cadence=cadence)
    # Its next steps: an automated email tomorrow 10:00 New York (waiting), a call on Friday.
    factories.TouchFactory(
        lead=lead,
        enrollment=enrollment,
        channel=Channel.EMAIL,
        automated=True,
        assigned_to=None,
        status=TouchStatus.PENDING,
        due_at=dt.datetime(2026, 3, 11, 14, 0, tzinfo=dt.UTC),
    )
    factories.TouchFactory(lead=lead, status=TouchStatus.PENDING, due_at=dt.datetime(2026, 3, 13, 14, 0, tzinfo=dt.UTC))
    factories.TouchFactory(lead=lead, status=TouchStatus.DONE, outcome=Outcome.NO_ANSWER, completed_at=NOON)
    lead.attempt_count = 2
    lead.save(update_fields=["attempt_count"])
    row = _row_html(client_for(rep).get("/today/").content.decode(), task)
    assert "then: Email tomorrow 10:00" in row
    assert 'Attempts <span class="attempts">2/5</span>' in row
    assert 'Last: <span class="last-outcome">No answer</span>' in row


def test_then_weekday_and_full_date_wording(client_for, rep, make_task):
    task = make_task(rep)
    nxt = factories.TouchFactory(
        lead=task.lead, channel=Channel.SMS, status=TouchStatus.PENDING, due_at=NOON + dt.timedelta(days=3)
    )
    assert "then: SMS Fri 12:00" in client_for(rep).get("/today/").content.decode()
    nxt.due_at = NOON + dt.timedelta(days=20)
    nxt.save(update_fields=["due_at"])
    assert "then: SMS Mon 30 Mar 12:00" in client_for(rep).get("/today/").content.decode()
    # Planned for a time already past: it waits for this task, so no past date is shown.
    nxt.due_at = NOON - dt.timedelta(days=2)
    nxt.save(update_fields=["due_at"])
    assert "then: SMS once this is done" in client_for(rep).get("/today/").content.decode()


def test_a_next_touch_due_before_this_task_is_also_not_then(client_for, rep, make_task):
    """Snoozed to 14:00, the call's lead still gets the day's email at 13:00: that comes before it."""
    task = make_task(rep, due=dt.timedelta(hours=2))
    factories.TouchFactory(
        lead=task.lead, channel=Channel.EMAIL, automated=True, assigned_to=None, status=TouchStatus.SCHEDULED,
        due_at=NOON + dt.timedelta(hours=1),
    )  # fmt: skip
    row = _row_html(client_for(rep).get("/today/?limit=50").content.decode(), task)
    assert "also: Email today 13:00" in row and "then:" not in row


def test_then_skips_finished_touches_and_appointment_reminders(client_for, rep, make_task):
    task = make_task(rep)
    lead = task.lead
    factories.TouchFactory(lead=lead, status=TouchStatus.CANCELLED, due_at=NOON + dt.timedelta(hours=1))
    factories.TouchFactory(
        lead=lead,
        channel=Channel.EMAIL,
        automated=True,
        purpose=TouchPurpose.APPOINTMENT_REMINDER,
        due_at=NOON + dt.timedelta(hours=2),
    )
    body = client_for(rep).get("/today/").content.decode()
    assert "then:" not in _row_html(body, task)


@pytest.mark.parametrize(
    ("due", "reads", "late"),
    [
        (dt.timedelta(hours=2), "Due 14:00", False),
        (-dt.timedelta(seconds=5), "Due now", False),  # created seconds ago: never overdue
        (-dt.timedelta(minutes=14), "Due now", False),  # inside the 15-minute grace
        (-dt.timedelta(minutes=16), "Overdue since 11:44", True),
        (-dt.timedelta(days=1), "Overdue since Mon 12:00", True),
        (-dt.timedelta(days=9), "Overdue since Sun 1 Mar 12:00", True),
    ],
)
def test_overdue_means_late(client_for, rep, make_task, due, reads, late):
    task = make_task(rep, due=due)
    row = client_for(rep).get("/today/").context["today"].rows[0]
    assert row.pk == task.pk and row.due.text == reads and row.is_overdue is late
    body = client_for(rep).get("/today/").content.decode()
    assert _due_text(body) == [reads]
    assert ("border-danger" in _row_html(body, task)) is late


def test_overdue_is_shown_in_the_reps_timezone(client_for, rep, make_task):
    rep.timezone = "Asia/Tokyo"  # 21:00 there
    rep.save(update_fields=["timezone"])
    make_task(rep, due=-dt.timedelta(hours=1))
    assert "Overdue since 20:00" in client_for(rep).get("/today/").content.decode()


def test_instant_call_is_due_now_until_its_target_then_late(client_for, rep, make_task, settings, time_machine):
    settings.INSTANT_CALL_TARGET_MINUTES = 5
    lead = factories.LeadFactory(owner=rep, created_at=NOON - dt.timedelta(minutes=3))
    task = make_task(rep, step="instant", lead=lead, due=-dt.timedelta(minutes=3))
    client = client_for(rep)
    body = client.get("/today/").content.decode()
    row = _row_html(body, task)
    assert "due now — waiting 3 min" in body and "border-warning" in row
    # The page's script counts from these moments (ISO 8601): the wait's start and when it turns late.
    arrived = NOON - dt.timedelta(minutes=3)
    assert f'data-waiting-since="{arrived.isoformat()}"' in row
    assert f'data-late-at="{(arrived + dt.timedelta(minutes=5)).isoformat()}"' in row
    assert client.get("/today/").context["counters"]["overdue"] == 0
    time_machine.move_to(NOON + dt.timedelta(minutes=9), tick=False)
    response = client.get("/today/")
    assert "late — waiting 12 min" in response.content.decode()
    assert response.context["counters"]["overdue"] == 1
    # The page's script gets the moment it turns late: five minutes after the lead arrived.
    row = response.context["today"].rows[0]
    assert row.due.late_at == lead.created_at + dt.timedelta(minutes=5)


def test_urgent_task_waits_from_when_it_fell_due(client_for, rep):
    old_lead = factories.LeadFactory(owner=rep, created_at=NOON - dt.timedelta(days=30))
    factories.TouchFactory(
        lead=old_lead, title="Call back: replied", urgent=True, due_at=NOON - dt.timedelta(minutes=2)
    )
    assert "due now — waiting 2 min" in client_for(rep).get("/today/").content.decode()


def test_counters_overdue_follow_the_grace(client_for, rep, make_task, settings):
    settings.TASK_OVERDUE_GRACE_MINUTES = 30
    make_task(rep, due=-dt.timedelta(minutes=20))
    make_task(rep, due=-dt.timedelta(minutes=40))
    assert client_for(rep).get("/today/").context["counters"] == {"done": 0, "remaining": 2, "overdue": 1, "calls": 2}


def test_compact_card(client_for, rep, make_task):
    source = factories.LeadSourceFactory(name="Website")
    lead = factories.LeadFactory(
        owner=rep, phone="+14152498831", interest="Replacing our spreadsheets", source=source, company="Acme"
    )
    task = make_task(rep, step="day5_email", lead=lead)
    row = _row_html(client_for(rep).get("/today/").content.decode(), task)
    assert "(415) 249-8831" in row and 'href="tel:+14152498831"' in row and "+14152498831</a>" not in row
    assert "Replacing our spreadsheets" in row and "via Website" in row and "Acme" in row
    # The script is collapsed; note, snooze and reschedule live behind one "More", fetched when it opens.
    assert '<details class="small today-script' in row
    more_url = reverse("today:row_more", args=[task.pk])
    assert f'<details class="today-more mt-1" hx-get="{more_url}" hx-trigger="toggle once"' in row
    more = client_for(rep).get(more_url).content.decode()
    for control in ('name="note"', 'data-snooze="1h"', 'data-snooze="tomorrow"', 'type="datetime-local"'):
        assert control in more
        assert control not in row
    # The note goes with the outcome form it belongs to; the rep cannot reassign.
    assert f'form="outcome-{task.pk}"' in more and 'name="to"' not in more


def test_more_offers_a_manager_the_reassign_form(client_for, rep, manager, teammate, make_task):
    task = make_task(rep)
    more = client_for(manager).get(reverse("today:row_more", args=[task.pk])).content.decode()
    assert f'action="{reverse("today:reassign", args=[task.pk])}"' in more
    assert f'<option value="{teammate.pk}"' in more and f'<option value="{rep.pk}" selected' in more


def test_wrong_number_is_shown_struck_through_without_a_link(client_for, rep, make_task):
    lead = factories.LeadFactory(owner=rep, phone="+14152498831", phone_invalid=True)
    task = make_task(rep, lead=lead, channel=Channel.TASK, step=None, title="Find a better number")
    row = _row_html(client_for(rep).get("/today/").content.decode(), task)
    assert "tel:" not in row and "text-decoration-line-through" in row


def test_appointment_set_opens_the_dialog_instead_of_logging(client_for, rep, make_task):
    task = make_task(rep)  # a call
    row = _row_html(client_for(rep).get("/today/").content.decode(), task)
    button = re.search(r'<button[^>]*data-outcome="appointment"[^>]*>', row).group(0)
    assert 'type="button"' in button and "name=" not in button
    assert f'hx-get="/today/touches/{task.pk}/appointment/"' in button
    assert f'hx-target="#slot-{task.pk}"' in button and f'id="slot-{task.pk}"' in row


def test_a_booked_meeting_row_shows_the_appointment_actions(client_for, rep):
    lead = factories.LeadFactory(owner=rep)
    meeting = Appointment.objects.create(lead=lead, rep=rep, starts_at=NOON + dt.timedelta(hours=2))
    touch = factories.TouchFactory(
        lead=lead,
        appointment=meeting,
        purpose=TouchPurpose.APPOINTMENT,
        title=f"Appointment with {lead.full_name}",
        due_at=meeting.starts_at,
    )
    row = _row_html(client_for(rep).get("/today/").content.decode(), touch)
    assert f'data-appointment="{meeting.pk}"' in row
    assert "outcome-form" not in row


def test_show_more_pages_through_leads(client_for, rep, make_task):
    for i in range(4):
        lead = factories.LeadFactory(owner=rep)
        make_task(rep, lead=lead, due=-dt.timedelta(minutes=10 + i))
        make_task(rep, lead=lead, due=-dt.timedelta(minutes=5))
    client = client_for(rep)
    first = client.get("/today/?limit=3")
    assert len(_ids(first)) == 3 and b"?limit=28" in first.content
    everything = client.get("/today/?limit=28")
    assert len(_ids(everything)) == 4 and b"Show more" not in everything.content
    assert len({t.lead_id for t in everything.context["today"].rows}) == 4


def _leads_with_piles(rep, n):
    """n leads, each with three open steps, a waiting next touch, a done touch, in different cadences."""
    for i in range(n):
        cadence = factories.CadenceFactory()
        step = factories.CadenceStepFactory(
            cadence=cadence, day=i % 5, channel=Channel.CALL, body="Hi {{ lead.first_name }}"
        )
        lead = factories.LeadFactory(owner=rep, source=factories.LeadSourceFactory())
        for minutes in (30, 20, 10):
            factories.TouchFactory(lead=lead, step=step, due_at=timezone.now() - dt.timedelta(minutes=minutes + i))
        factories.TouchFactory(lead=lead, status=TouchStatus.PENDING, due_at=timezone.now() + dt.timedelta(days=1))
        factories.TouchFactory(
            lead=lead, status=TouchStatus.DONE, outcome=Outcome.NO_ANSWER, completed_at=timezone.now(), completed_by=rep
        )


def test_constant_queries_one_lead_or_thirty(client_for, rep):
    client = client_for(rep)
    _leads_with_piles(rep, 1)
    with CaptureQueriesContext(connection) as one:
        response = client.get("/today/")
    assert len(_ids(response)) == 1
    _leads_with_piles(rep, 29)
    with CaptureQueriesContext(connection) as thirty:
        response = client.get("/today/")
    assert len(_ids(response)) == 25  # a full page; the counter counts all 30
    assert len(thirty.captured_queries) == len(one.captured_queries)
    assert response.context["counters"]["remaining"] == 30


def test_phone_layout_puts_referrals_and_quick_add_above_the_list(client_for, rep, make_task):
    make_task(rep)
    body = client_for(rep).get("/today/").content.decode()
    # In the page before the rows (above them on a phone), moved to the side on a wide screen.
    assert body.index('id="referrals"') < body.index('id="today-rows"')
    assert body.index('id="quick-add"') < body.index('id="today-rows"')
    assert 'class="col-xl-3 order-xl-2" id="today-side"' in body
    assert 'class="collapse d-xl-block" id="referrals-body"' in body
