"""The Friday emails: the manager's (rep lines, last week beside this week, the left-behind and
closed-early leads with links), each rep's own summary, the opt-out, once per person and week."""

import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from reports.models import ReportDelivery
from reports.services import feedback_friday_email_build, feedback_friday_send, rep_summary_email_build
from tests import factories
from tests.reports.conftest import AFTER_DST_WEEK, DST_WEEK, at, make_lead

BASE = "http://reports.example"


@pytest.fixture
def sent(mailoutbox, settings, manager, dst_week):
    settings.PUBLIC_BASE_URL = BASE
    with time_machine.travel(at(AFTER_DST_WEEK), tick=False):
        count = feedback_friday_send(week=DST_WEEK)
    return count, {message.to[0]: message for message in mailoutbox}


def _html(message) -> str:
    (html, kind) = message.alternatives[0]
    assert kind == "text/html"
    return html


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_managers_email_has_each_reps_line_and_the_comparison(sent, manager, rep, teammate):
    count, messages = sent
    assert count == 4  # Mona; Alice, Bob and Charlie their own
    mona = messages[manager.email]
    html, text = _html(mona), mona.body
    line = "Left behind 4 (last week 1) · Followed up 6 of 14 (43%) (last week 1 of 2 (50%), few data)"
    assert line in text and line in _text(html)
    assert "Closed early 2 (last week 0) · Attempts 11 (last week 1)" in text
    assert (
        f"- {rep}: 6 attempts · followed up 5 of 12 (42%) · left behind 3 (last week 1) · closed early 2"
        " · five attempts 0% of 2, few data"
    ) in text
    assert f"- {teammate}: 5 attempts · followed up 1 of 2 (50%), few data · left behind 1 (last week 0)" in text
    assert f'data-rep="{rep.pk}"' in html and f'data-rep="{teammate.pk}"' in html


def test_the_managers_email_lists_left_behind_and_closed_early_leads_with_links(sent, manager, dst_week):
    html = _html(sent[1][manager.email])
    left = html[html.index('id="left-behind"') : html.index('id="closed-early"')]
    early = html[html.index('id="closed-early"') :]
    for key in ("a1", "a11", "a13", "b2"):
        assert f'<a href="{BASE}/leads/{dst_week[key].pk}/">{dst_week[key].full_name}</a>' in left, key
    for key in ("a7", "a8"):
        assert f'<a href="{BASE}/leads/{dst_week[key].pk}/">{dst_week[key].full_name}</a>' in early, key
    for key in ("a4", "a5", "a6", "a9", "a10", "a12", "b1"):  # won, appointment, nurturing, waiting, paused, ...
        assert f"/leads/{dst_week[key].pk}/" not in left + early, key
    assert dst_week["c1"].full_name not in html  # South
    assert f"{BASE}/reports/friday/?week=2026-03-02" in html
    assert 'data-term="left-behind"' in html  # the same definitions as the pages


def test_a_rep_gets_their_own_line_and_their_own_left_behind_leads(sent, rep, teammate, dst_week):
    alice = sent[1][rep.email]
    html, text = _html(alice), alice.body
    assert alice.subject == "Your week — Feedback Friday, week of Mar 2, 2026"
    assert "Left behind 3 (last week 1) · Followed up 5 of 12 (42%) (last week 1 of 2 (50%), few data)" in text
    assert f"{rep}: 6 attempts · followed up 5 of 12 (42%) · left behind 3 (last week 1)" in text
    for key in ("a1", "a11", "a13"):
        assert f"{BASE}/leads/{dst_week[key].pk}/" in html and f"{BASE}/leads/{dst_week[key].pk}/" in text
    assert str(teammate) not in html and dst_week["b2"].full_name not in html  # only her own
    assert f"{BASE}/reports/weekly-email/" in html and "Turn it off" in html
    bob = sent[1][teammate.email].body
    assert dst_week["b2"].full_name in bob and dst_week["a1"].full_name not in bob


def test_a_rep_who_turned_it_off_gets_none_and_the_manager_still_does(mailoutbox, manager, rep, teammate, dst_week):
    User.objects.filter(pk=rep.pk).update(weekly_summary_email=False)
    with time_machine.travel(at(AFTER_DST_WEEK), tick=False):
        assert feedback_friday_send(week=DST_WEEK) == 3
    recipients = {message.to[0] for message in mailoutbox}
    assert rep.email not in recipients and {manager.email, teammate.email} <= recipients
    assert not ReportDelivery.objects.filter(recipient=rep).exists()
    # The manager's email still shows her line and her leads.
    assert str(rep) in _html(next(m for m in mailoutbox if m.to == [manager.email]))


def test_a_rep_with_no_lead_that_week_gets_none(mailoutbox, manager, north):
    idle = factories.UserFactory(username="idle", first_name="Ida", team=north)
    make_lead(idle, "2026-01-05 09:00", status="won", closed="2026-01-06 09:00")
    with time_machine.travel(at(AFTER_DST_WEEK), tick=False):
        feedback_friday_send(week=DST_WEEK)
    assert idle.email not in {message.to[0] for message in mailoutbox}
    assert not ReportDelivery.objects.filter(recipient=idle).exists()


def test_once_per_person_and_week(sent, mailoutbox):
    with time_machine.travel(at(AFTER_DST_WEEK), tick=False):
        assert feedback_friday_send(week=DST_WEEK) == 0
    assert len(mailoutbox) == 4
    assert ReportDelivery.objects.filter(kind="own").count() == 3
    assert ReportDelivery.objects.filter(kind="team").count() == 1


def test_building_an_email_takes_the_same_queries_whatever_the_week_holds(manager, rep, teammate, dst_week):
    now = at(AFTER_DST_WEEK)

    def queries(build) -> int:
        with CaptureQueriesContext(connection) as captured:
            build()
        return len(captured.captured_queries)

    small = queries(lambda: feedback_friday_email_build(manager=manager, week_start=DST_WEEK, now=now))
    small_rep = queries(lambda: rep_summary_email_build(rep=rep, week_start=DST_WEEK, now=now))
    for i in range(30):
        make_lead(rep if i % 2 else teammate, f"2026-03-0{2 + i % 5} 1{i % 10}:00", status="new")
    assert queries(lambda: feedback_friday_email_build(manager=manager, week_start=DST_WEEK, now=now)) == small
    assert queries(lambda: rep_summary_email_build(rep=rep, week_start=DST_WEEK, now=now)) == small_rep


def test_the_weekly_email_page_turns_ones_own_summary_off_and_on(client_for, rep, teammate):
    client = client_for(rep)
    page = client.get("/reports/weekly-email/").content.decode()
    assert re.search(r'<input[^>]*name="weekly_summary_email"[^>]*checked', page)
    response = client.post("/reports/weekly-email/", {})  # unticked
    assert response.status_code == 302 and response["Location"] == "/reports/weekly-email/"
    rep.refresh_from_db()
    assert rep.weekly_summary_email is False
    assert "Weekly summary email off." in client.get("/reports/weekly-email/").content.decode()
    client.post("/reports/weekly-email/", {"weekly_summary_email": "on"})
    rep.refresh_from_db()
    teammate.refresh_from_db()
    assert rep.weekly_summary_email is True and teammate.weekly_summary_email is True
    # Only one's own: there is no parameter naming someone else.
    client.post("/reports/weekly-email/", {"user": teammate.pk})
    teammate.refresh_from_db()
    assert teammate.weekly_summary_email is True


def test_the_weekly_email_page_needs_a_login(client_for):
    response = client_for(None).post("/reports/weekly-email/", {})
    assert response.status_code == 302 and "/login" in response["Location"]
