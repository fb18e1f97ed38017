import datetime as dt

import pytest
from django.utils import timezone

from cadences.models import Channel, Outcome, TouchStatus
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _utc_reps(rep, teammate, other_rep):
    # Keep "today" predictable: everyone works in UTC unless a test says otherwise.
    for user in (rep, teammate, other_rep):
        user.timezone = "UTC"
        user.save(update_fields=["timezone"])


def _ids(response):
    return [t.pk for t in response.context["today"].rows]


def test_ordering_instant_first_then_overdue_oldest_then_today_by_time(client_for, rep, make_task, time_machine):
    time_machine.move_to(dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC), tick=False)
    later_today = make_task(rep, due=dt.timedelta(hours=3))
    overdue_recent = make_task(rep, due=dt.timedelta(hours=-1))
    overdue_old = make_task(rep, due=dt.timedelta(days=-2))
    soon_today = make_task(rep, due=dt.timedelta(hours=1))
    make_task(rep, due=dt.timedelta(days=1))  # tomorrow: not today
    new_lead = factories.LeadFactory(owner=rep, created_at=timezone.now() - dt.timedelta(minutes=7))
    instant = make_task(rep, step="instant", lead=new_lead, due=dt.timedelta(minutes=-7))
    response = client_for(rep).get("/today/")
    assert response.status_code == 200
    assert _ids(response) == [instant.pk, overdue_old.pk, overdue_recent.pk, soon_today.pk, later_today.pk]
    assert b"late \xe2\x80\x94 waiting 7 min" in response.content  # past the 5-minute target
    counters = response.context["counters"]
    assert counters == {"done": 0, "remaining": 5, "overdue": 3, "calls": 5}


def test_today_is_the_reps_own_day_in_their_timezone(client_for, rep, make_task, time_machine):
    # 23:00 UTC is 18:00 in New York: a task due at 02:00 UTC is still "today" there, not in UTC.
    time_machine.move_to(dt.datetime(2026, 3, 10, 23, 0, tzinfo=dt.UTC), tick=False)
    task = make_task(rep, due=dt.timedelta(hours=3))
    assert _ids(client_for(rep).get("/today/")) == []
    rep.timezone = "America/New_York"
    rep.save(update_fields=["timezone"])
    assert _ids(client_for(rep).get("/today/")) == [task.pk]


def test_row_shows_label_attempts_last_outcome_links_and_script(client_for, rep, make_task):
    task = make_task(rep, step="day5_email")
    lead = task.lead
    lead.attempt_count = 3
    lead.linkedin_url = "https://www.linkedin.com/in/someone"
    lead.twitter_handle = "someone"
    lead.save()
    factories.TouchFactory(
        lead=lead,
        status=TouchStatus.DONE,
        outcome=Outcome.VOICEMAIL,
        completed_at=timezone.now(),
        due_at=timezone.now(),
    )
    body = client_for(rep).get("/today/").content.decode()
    assert "Day 5 of 28 — Email + LinkedIn" in body
    assert "3/5" in body
    assert "Left voicemail" in body
    assert f'href="tel:{lead.phone}"' in body
    assert f'href="mailto:{lead.email}"' in body
    assert "linkedin.com/in/someone" in body and "x.com/someone" in body
    assert f"Hello {lead.first_name}, this is Alice." in body
    assert "Share the case study" in body
    assert f'href="/leads/{lead.pk}/"' in body
    # An email step gets "Sent", not call outcomes.
    assert 'data-outcome="sent"' in body and 'data-outcome="voicemail"' not in body


def test_other_reps_tasks_are_not_listed(client_for, rep, other_rep, teammate, make_task):
    make_task(other_rep)
    make_task(teammate)
    response = client_for(rep).get("/today/")
    assert _ids(response) == []
    assert b"All caught up" in response.content


def test_empty_state_and_anonymous_redirect(client_for, rep):
    response = client_for(rep).get("/today/")
    assert b"All caught up" in response.content
    anon = client_for(None).get("/today/")
    assert anon.status_code == 302 and anon.url.startswith("/accounts/login/")


def test_home_sends_reps_to_today_and_managers_to_team(client_for, rep, manager, admin_user):
    assert client_for(rep).get("/").url == "/today/"
    assert client_for(manager).get("/").url == "/today/team/"
    assert client_for(admin_user).get("/").url == "/today/team/"


def test_list_is_capped_with_show_more(client_for, rep, make_task):
    for i in range(4):
        make_task(rep, due=dt.timedelta(minutes=-10 - i))
    import today.selectors as sel

    response = client_for(rep).get("/today/?limit=3")
    assert len(_ids(response)) == 3
    assert b"Show more" in response.content
    assert b"?limit=28" in response.content
    assert len(_ids(client_for(rep).get("/today/?limit=x"))) == 4
    assert sel.DEFAULT_LIMIT == 25


def _make_many(rep, make_task, n):
    # Different cadences too, so step labels cannot cost a query per cadence.
    for i in range(n):
        cad = factories.CadenceFactory()
        step = factories.CadenceStepFactory(cadence=cad, day=i % 5, channel=Channel.CALL)
        lead = factories.LeadFactory(owner=rep)
        factories.TouchFactory(lead=lead, step=step, due_at=timezone.now() - dt.timedelta(minutes=i + 1))
        factories.TouchFactory(
            lead=lead, status=TouchStatus.DONE, outcome=Outcome.NO_ANSWER, completed_at=timezone.now()
        )
        factories.ContactFactory(owner=rep)


def _count_queries(django_assert_num_queries, client, url, expected_rows):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), response


def test_today_page_constant_queries(client_for, rep, make_task, django_assert_num_queries):
    client = client_for(rep)
    _make_many(rep, make_task, 1)
    one, response = _count_queries(django_assert_num_queries, client, "/today/", 1)
    assert len(_ids(response)) == 1
    _make_many(rep, make_task, 29)
    with django_assert_num_queries(one):
        response = client.get("/today/")
    assert len(_ids(response)) == 25  # one full page (DEFAULT_LIMIT) of the 30


def test_script_renders_for_step_without_body(client_for, rep, make_task):
    task = make_task(rep, step="instant")
    body = client_for(rep).get("/today/").content.decode()
    assert f"Call {task.lead.first_name} now" in body


def test_waiting_time_reads_in_the_largest_sensible_unit():
    from today.timing import waiting_label

    assert waiting_label(1) == "waiting 1 min"
    assert waiting_label(119) == "waiting 119 min"
    assert waiting_label(125) == "waiting 2 h"
    assert waiting_label(47 * 60) == "waiting 47 h"
    assert waiting_label(24 * 60 * 2) == "waiting 2 days"
    assert waiting_label(17856) == "waiting 12 days"
