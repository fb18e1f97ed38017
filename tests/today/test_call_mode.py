"""Call mode: today's calls one lead at a time (today/call_mode.py, today/call_views.py)."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cadences.models import Channel, Outcome, TouchStatus
from leads.models import LeadStatus
from tests import factories
from today import call_mode, selectors

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
NOON = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _utc_noon(rep, teammate, other_rep, time_machine):
    time_machine.move_to(NOON, tick=False)
    for user in (rep, teammate, other_rep):
        user.timezone = "UTC"
        user.save(update_fields=["timezone"])


def _ids(touches):
    return [t.pk for t in touches]


def _call_mode(client, **params):
    return client.get(reverse("today:call_mode"), params, **HTMX)


def _log(client, touch, outcome=Outcome.NO_ANSWER, **data):
    return client.post(reverse("today:call_outcome", args=[touch.pk]), {"outcome": outcome, **data}, **HTMX)


# The queue


def test_queue_is_instant_first_then_by_due_time_and_only_todays_open_calls(rep, teammate, make_task):
    later = make_task(rep, due=dt.timedelta(hours=3))
    overdue = make_task(rep, due=dt.timedelta(days=-2))
    soon = make_task(rep, due=dt.timedelta(hours=1))
    new_lead = factories.LeadFactory(owner=rep, created_at=timezone.now() - dt.timedelta(minutes=2))
    instant = make_task(rep, step="instant", lead=new_lead, due=dt.timedelta(minutes=-2))
    urgent = make_task(rep, step=None, title="Call back: replied", urgent=True, due=dt.timedelta(hours=2))
    # Not in the queue: tomorrow, an email task, an automated call, a done call, another rep's call.
    make_task(rep, due=dt.timedelta(days=1))
    make_task(rep, step="day5_email")
    make_task(rep, automated=True)
    make_task(rep, status=TouchStatus.DONE)
    make_task(rep, status=TouchStatus.PENDING)
    make_task(teammate)
    assert _ids(call_mode.calls_for_today(rep=rep)) == [instant.pk, urgent.pk, overdue.pk, soon.pk, later.pk]


def test_one_call_per_lead_its_most_urgent(rep, make_task):
    first = make_task(rep, due=dt.timedelta(hours=-1))
    make_task(rep, lead=first.lead, due=dt.timedelta(hours=2))
    ad_hoc_urgent = make_task(rep, step=None, title="Call back", urgent=True, due=dt.timedelta(hours=4))
    make_task(rep, lead=ad_hoc_urgent.lead, due=dt.timedelta(hours=-3))
    assert _ids(call_mode.calls_for_today(rep=rep)) == [ad_hoc_urgent.pk, first.pk]


def test_skipped_calls_come_back_at_the_end_in_the_order_skipped(rep, make_task):
    a, b, c, d = (make_task(rep, due=dt.timedelta(hours=h)) for h in (-3, -2, -1, 1))
    assert _ids(call_mode.calls_for_today(rep=rep, skipped=[b.pk, a.pk])) == [c.pk, d.pk, b.pk, a.pk]
    queue = call_mode.call_queue(rep=rep, skipped=[a.pk, 999_999, a.pk])
    assert queue.skipped == [a.pk], "unknown and repeated ids drop out"
    assert queue.card.touch == b


def test_queue_and_card_cost_the_same_queries_for_3_or_30_calls(rep, make_task):
    def queries():
        with CaptureQueriesContext(connection) as ctx:
            queue = call_mode.call_queue(rep=rep)
            assert queue.card.history is not None and queue.card.lead.source is None
            assert queue.card.step_label
        return len(ctx.captured_queries), queue.left

    for hours in range(3):
        factories.LeadEventFactory(lead=make_task(rep, due=dt.timedelta(hours=-hours)).lead)
    few, left = queries()
    assert left == 3 and few == 2
    for hours in range(27):
        make_task(rep, due=dt.timedelta(minutes=hours))
    assert queries() == (few, 30)


def test_card_renders_the_script_for_the_lead_and_counts_attempts(rep, make_task, cadence):
    step = cadence.steps_by_name["day28"]
    step.body = "Hi {{ lead.first_name }}, it's {{ rep.first_name }}."
    step.talking_points = "Ask {{ lead.first_name }} about {{ lead.interest }}"
    step.save()
    task = make_task(rep)
    lead = task.lead
    lead.interest = "fleet pricing"
    lead.attempt_count = 2
    lead.save()
    for n in range(7):
        factories.LeadEventFactory(lead=lead, text=f"entry {n}", created_at=timezone.now() - dt.timedelta(hours=n))
    card = call_mode.call_queue(rep=rep).card
    assert card.script == f"Hi {lead.first_name}, it's Alice."
    assert card.points == f"Ask {lead.first_name} about fleet pricing"
    assert [e.text for e in card.history] == [f"entry {n}" for n in range(5)]
    assert (card.attempts, card.min_attempts, card.attempts_percent) == (2, 5, 40)


# The page


def test_page_shows_the_first_call_with_phone_script_why_and_history(client_for, rep, make_task, web_source):
    task = make_task(rep, step="instant", due=dt.timedelta(minutes=-1))
    lead = task.lead
    lead.phone, lead.company, lead.source = "+14152498831", "Foster & Sons", web_source
    lead.interest = "Lease vs. buy"
    lead.save()
    factories.LeadEventFactory(lead=lead, text="Asked about pricing on the form")
    make_task(rep, due=dt.timedelta(hours=1))
    response = client_for(rep).get(reverse("today:call_mode"))
    assert response.status_code == 200
    body = response.content.decode()
    assert f'data-lead="{lead.pk}" data-touch="{task.pk}"' in body
    assert 'href="tel:+14152498831"' in body and "(415) 249-8831" in body
    assert "Foster &amp; Sons" in body and "via Website" in body and "Lease vs. buy" in body
    assert f"Call {lead.first_name} now" in body
    assert "Asked about pricing on the form" in body
    assert "2 of 2 left" in body
    assert "Late — waiting 24 h" in body, "read as on Today (today.timing): the lead came a day ago"
    for label in ("Connected", "Left voicemail", "No answer", "Wrong number", "Not interested", "Appointment set"):
        assert f">{label}</button>" in body
    assert "Skip for now" in body
    assert "{#" not in body and "{{" not in body, "no template text leaks into the card"


def test_logging_an_outcome_loads_the_next_call_in_place(client_for, rep, make_task):
    first = make_task(rep, due=dt.timedelta(hours=-2))
    second = make_task(rep, due=dt.timedelta(hours=-1))
    client = client_for(rep)
    response = _log(client, first, Outcome.VOICEMAIL, note="Left a message", done="0")
    assert response.status_code == 200
    assert "today/_call_card.html" in [t.name for t in response.templates]
    assert "base.html" not in [t.name for t in response.templates]
    body = response.content.decode()
    assert f'data-touch="{second.pk}"' in body
    assert "Left voicemail logged for" in body and first.lead.full_name in body
    assert "1 of 2 left" in body
    assert response["HX-Replace-Url"] == reverse("today:call_mode") + "?done=1"
    first.refresh_from_db()
    assert (first.status, first.outcome, first.note) == (TouchStatus.DONE, Outcome.VOICEMAIL, "Left a message")
    first.lead.refresh_from_db()
    assert first.lead.attempt_count == 1

    response = _log(client, second, Outcome.CONNECTED, done="1")
    body = response.content.decode()
    assert "All calls done for today" in body
    assert "2 calls logged" in body
    assert f'href="{reverse("today:index")}"' in body


def test_skip_moves_on_without_logging_and_the_skipped_call_comes_back_last(client_for, rep, make_task):
    a = make_task(rep, due=dt.timedelta(hours=-2))
    b = make_task(rep, due=dt.timedelta(hours=-1))
    c = make_task(rep, due=dt.timedelta(hours=1))
    client = client_for(rep)
    response = _call_mode(client, skip=str(a.pk))
    assert response.context["card"].touch == b
    assert "3 of 3 left" in response.content.decode()
    assert response.context["skip_url"] == reverse("today:call_mode") + f"?skip={a.pk}%2C{b.pk}"
    # Logging b keeps a skipped: c comes next, then a again.
    response = _log(client, b, skip=str(a.pk))
    assert response.context["card"].touch == c
    response = _log(client, c, skip=str(a.pk), done="1")
    assert response.context["card"].touch == a
    assert "1 of 3 left" in response.content.decode()
    a.refresh_from_db()
    assert a.status == TouchStatus.SCHEDULED and a.outcome == ""


def test_plain_post_redirects_to_the_walk(client_for, rep, make_task):
    first = make_task(rep)
    response = client_for(rep).post(
        reverse("today:call_outcome", args=[first.pk]), {"outcome": Outcome.NO_ANSWER, "done": "2", "skip": "5"}
    )
    assert response.status_code == 302
    assert response.url == reverse("today:call_mode") + "?skip=5&done=3"


def test_a_call_done_elsewhere_says_so_in_the_card_and_shows_the_next(client_for, rep, make_task):
    first = make_task(rep, due=dt.timedelta(hours=-2))
    second = make_task(rep, due=dt.timedelta(hours=-1))
    client = client_for(rep)
    _log(client, first)
    response = _log(client, first)
    assert response.status_code == 400
    body = response.content.decode()
    assert "already done" in body and first.lead.full_name in body
    assert f'data-touch="{second.pk}"' in body


def test_an_outcome_that_is_not_a_call_outcome_is_refused_in_the_card(client_for, rep, make_task):
    task = make_task(rep)
    response = _log(client_for(rep), task, Outcome.SENT)
    assert response.status_code == 400
    assert "Pick one of the call outcomes" in response.content.decode()
    assert f'data-touch="{task.pk}"' in response.content.decode()
    task.refresh_from_db()
    assert task.status == TouchStatus.SCHEDULED


def test_wrong_number_and_appointment_outcomes_do_what_today_does(client_for, rep, make_task):
    wrong = make_task(rep, due=dt.timedelta(hours=-2))
    booked = make_task(rep, due=dt.timedelta(hours=-1))
    client = client_for(rep)
    _log(client, wrong, Outcome.WRONG_NUMBER)
    wrong.lead.refresh_from_db()
    assert wrong.lead.sms_unusable
    response = _log(client, booked, Outcome.APPOINTMENT)
    booked.lead.refresh_from_db()
    assert booked.lead.status == LeadStatus.APPOINTMENT
    assert f'data-touch="{booked.pk}"' not in response.content.decode()


def test_the_reps_own_calls_only(client_for, rep, teammate, make_task):
    mine = make_task(rep)
    theirs = make_task(teammate)
    response = _call_mode(client_for(rep))
    assert [t.pk for t in response.context["queue"].calls] == [mine.pk]
    # Someone else's task: 404, nothing logged.
    assert _log(client_for(rep), theirs).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == TouchStatus.SCHEDULED


def test_a_manager_walks_their_teams_reps_calls_only(client_for, rep, other_rep, manager, other_manager, make_task):
    task = make_task(rep)
    url = reverse("today:call_mode")
    response = client_for(manager).get(url, {"rep": rep.pk})
    assert response.status_code == 200
    assert response.context["card"].touch == task
    assert f"?rep={rep.pk}" in response.context["skip_url"]
    assert f'name="rep" value="{rep.pk}"' in response.content.decode()
    assert client_for(manager).get(url, {"rep": other_rep.pk}).status_code == 404
    assert client_for(other_manager).get(url, {"rep": rep.pk}).status_code == 404
    assert client_for(other_rep).get(url, {"rep": rep.pk}).status_code == 404
    assert client_for(manager).get(url, {"rep": "abc"}).status_code == 404
    # The manager logs on the rep's behalf and the rep's next call follows.
    nxt = make_task(rep, due=dt.timedelta(hours=1))
    response = _log(client_for(manager), task, rep=str(rep.pk))
    assert response.context["card"].touch == nxt
    assert response["HX-Replace-Url"] == f"{url}?rep={rep.pk}&done=1"


def test_nothing_to_call_says_all_done(client_for, rep):
    body = client_for(rep).get(reverse("today:call_mode")).content.decode()
    assert "All calls done for today" in body and "No calls due right now" in body


def test_page_queries_stay_constant(client_for, rep, make_task):
    client = client_for(rep)
    make_task(rep)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("today:call_mode")).status_code == 200
    one = len(ctx.captured_queries)
    for hours in range(20):
        make_task(rep, due=dt.timedelta(minutes=hours))
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("today:call_mode"))
    assert response.context["queue"].left == 21
    assert len(ctx.captured_queries) == one


def test_email_tasks_are_not_call_mode(rep, make_task):
    make_task(rep, step="day5_email")
    make_task(rep, step=None, channel=Channel.SMS)
    assert call_mode.calls_for_today(rep=rep) == []


def test_not_interested_asks_todays_three_choices_then_the_next_call(client_for, rep, make_task):
    no = make_task(rep, due=dt.timedelta(hours=-2))
    nxt = make_task(rep, due=dt.timedelta(hours=-1))
    client = client_for(rep)
    response = _log(client, no, Outcome.NOT_INTERESTED)
    body = response.content.decode()
    decision_url = reverse("today:decision", args=[no.lead.pk])
    assert f'hx-post="{decision_url}"' in body
    for choice in ("close", "nurture", "keep"):
        assert f'data-decision="{choice}"' in body
    assert f'name="touch" value="{no.pk}"' in body
    assert "Attempts 1/5: closing needs 5 attempts." in body
    assert f'data-touch="{nxt.pk}"' not in body, "the next call waits for the choice"
    next_url = response.context["next_url"]
    assert next_url == reverse("today:call_mode") + f"?done=1&logged={no.pk}"
    # The choice (Today's endpoint), then the next call with what was logged.
    assert client.post(decision_url, {"decision": "keep", "touch": no.pk}, **HTMX).status_code == 200
    response = client.get(next_url, **HTMX)
    body = response.content.decode()
    assert f'data-touch="{nxt.pk}"' in body
    assert f"Not interested logged for <strong>{no.lead.full_name}</strong>" in body
    assert "1 of 2 left" in body


def test_without_htmx_the_decision_comes_back_to_call_mode(client_for, rep, make_task):
    no = make_task(rep)
    no.lead.attempt_count = 4
    no.lead.save(update_fields=["attempt_count"])
    client = client_for(rep)
    response = _log(client, no, Outcome.NOT_INTERESTED)
    after = reverse("today:call_mode") + "?done=1"
    assert f'name="next" value="{after}"' in response.content.decode()
    response = client.post(
        reverse("today:decision", args=[no.lead.pk]), {"decision": "close", "touch": no.pk, "next": after}
    )
    assert response.status_code == 302 and response.url == after
    no.lead.refresh_from_db()
    assert no.lead.status == LeadStatus.LOST


def test_a_logged_line_only_for_a_call_one_may_see(client_for, rep, teammate, make_task):
    theirs = make_task(teammate, status=TouchStatus.DONE, outcome=Outcome.CONNECTED)
    body = _call_mode(client_for(rep), logged=str(theirs.pk)).content.decode()
    assert "logged for" not in body and theirs.lead.full_name not in body


def test_today_offers_call_mode_with_the_number_of_calls(client_for, rep, manager, make_task, cadence):
    client = client_for(rep)
    assert b"call-mode-link" not in client.get(reverse("today:index")).content
    first = make_task(rep, due=dt.timedelta(hours=-1))
    make_task(rep, lead=first.lead, due=dt.timedelta(hours=1))  # the same lead: one call
    make_task(rep, due=dt.timedelta(hours=2))
    make_task(rep, step="day5_email")  # not a call
    body = client.get(reverse("today:index")).content.decode()
    assert f'id="call-mode-link" href="{reverse("today:call_mode")}">Call mode (2 calls)</a>' in body
    # A manager looking at the rep's day walks the rep's calls.
    body = client_for(manager).get(reverse("today:team_rep", args=[rep.pk])).content.decode()
    assert f'href="{reverse("today:call_mode")}?rep={rep.pk}">Call mode (2 calls)</a>' in body
    assert selectors.task_counters(rep=rep)["calls"] == len(call_mode.calls_for_today(rep=rep)) == 2
