"""Team today: each rep's figures (new leads not yet called, due, overdue and the oldest, done,
attempts, left behind), the lists behind them, who may see what, and constant queries."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cadences.models import Channel, Outcome, TouchStatus
from leads.models import LeadStatus
from reports.selectors.vocabulary import follow_up_counts_by_owner
from tests import factories
from today import team_selectors

pytestmark = pytest.mark.django_db

NOON = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _utc(rep, teammate, other_rep, manager, other_manager, admin_user):
    for user in (rep, teammate, other_rep, manager, other_manager, admin_user):
        user.timezone = "UTC"
        user.save(update_fields=["timezone"])


@pytest.fixture
def noon(time_machine):
    time_machine.move_to(NOON, tick=False)
    return NOON


def _rows(response):
    return {u.username: (u.due_today, u.overdue, u.done_today) for u in response.context["reps"]}


def _rep(response, user):
    return next(u for u in response.context["reps"] if u.pk == user.pk)


def _lead(owner, *, ago, **kwargs):
    return factories.LeadFactory(owner=owner, created_at=timezone.now() - ago, **kwargs)


def test_team_counts_for_manager(client_for, rep, teammate, other_rep, manager, make_task, noon):
    make_task(rep, due=dt.timedelta(hours=2))
    make_task(rep, due=dt.timedelta(hours=3))
    make_task(rep, due=dt.timedelta(hours=-2))
    make_task(rep, due=dt.timedelta(days=1))  # tomorrow
    make_task(rep, status=TouchStatus.DONE, outcome=Outcome.CONNECTED, completed_at=timezone.now())
    make_task(
        rep, status=TouchStatus.DONE, outcome=Outcome.CONNECTED, completed_at=timezone.now() - dt.timedelta(days=1)
    )
    make_task(teammate, due=dt.timedelta(days=-3))
    make_task(other_rep, due=dt.timedelta(hours=1))
    response = client_for(manager).get("/today/team/")
    assert response.status_code == 200
    assert _rows(response) == {"alice": (2, 1, 1), "bob": (0, 1, 0)}
    assert f'href="/today/team/{rep.pk}/"'.encode() in response.content
    assert response.context["day"].totals["overdue"] == 2


def test_due_and_overdue_read_late_as_today_does(client_for, rep, manager, make_task, noon):
    """Overdue after the grace (15 min), a new lead's first call after its target (5 min from arrival);
    "due now" inside the grace still counts as due; the oldest overdue age counts from the same moment."""
    make_task(rep, due=dt.timedelta(minutes=-10))  # due now, inside the grace: due
    make_task(rep, due=dt.timedelta(minutes=-20))  # past the grace: overdue
    make_task(rep, due=dt.timedelta(hours=-50))  # the oldest: overdue for 2 days
    fresh = _lead(rep, ago=dt.timedelta(minutes=3))
    make_task(rep, step="instant", lead=fresh, due=dt.timedelta(minutes=-3))  # within 5 min: due
    waiting = _lead(rep, ago=dt.timedelta(minutes=8))
    make_task(rep, step="instant", lead=waiting, due=dt.timedelta(minutes=-8))  # past 5 min: overdue
    make_task(rep, due=dt.timedelta(hours=13))  # tomorrow (UTC)
    alice = _rep(client_for(manager).get("/today/team/"), rep)
    assert (alice.due_today, alice.overdue) == (2, 3)
    assert alice.oldest_overdue_label == "2 days"
    assert [t.late_for_label for t in alice.overdue_tasks] == ["2 days", "20 min", "8 min"]


def test_new_leads_not_yet_called(client_for, rep, teammate, other_rep, manager, noon):
    """Status new and no attempt ever, oldest first, with how long each has waited; the line names three."""
    oldest = _lead(rep, ago=dt.timedelta(hours=5), first_name="Olga", last_name="Old")
    middle = _lead(rep, ago=dt.timedelta(hours=2), first_name="Mia", last_name="Mid")
    recent = _lead(rep, ago=dt.timedelta(minutes=40), first_name="Rita", last_name="Recent")
    newest = _lead(rep, ago=dt.timedelta(minutes=7), first_name="Nina", last_name="Newest")
    _lead(rep, ago=dt.timedelta(hours=9), attempt_count=1, first_name="Called")  # an attempt: not waiting
    _lead(rep, ago=dt.timedelta(hours=9), status=LeadStatus.WORKING, first_name="Wendell")
    _lead(rep, ago=dt.timedelta(hours=9), status=LeadStatus.WON, first_name="Won")
    _lead(other_rep, ago=dt.timedelta(hours=9), first_name="Cassiopeia")  # another team
    response = client_for(manager).get("/today/team/")
    alice = _rep(response, rep)
    assert alice.new_waiting == 4
    assert [lead.pk for lead in alice.new_leads] == [oldest.pk, middle.pk, recent.pk, newest.pk]
    assert [lead.waiting_label for lead in alice.new_named] == ["waiting 5 h", "waiting 2 h", "waiting 40 min"]
    assert alice.more_unnamed == 1
    body = response.content.decode()
    assert f'href="/leads/{oldest.pk}/" data-lead="{oldest.pk}">Olga Old</a> (waiting 5 h)' in body
    assert "and 1 more" in body
    assert "Cassiopeia" not in body and "Wendell" not in body
    assert _rep(response, teammate).new_waiting == 0


def test_done_attempts_and_left_behind_today(client_for, rep, manager, make_task, noon):
    """Attempts are the vocabulary's (a person's outcome, automated sends never); left behind is the
    vocabulary's for today: new or working, no attempt today, nothing scheduled, never won."""
    today = timezone.now() - dt.timedelta(hours=1)
    yesterday = timezone.now() - dt.timedelta(days=1)
    worked = _lead(rep, ago=dt.timedelta(days=3), status=LeadStatus.WORKING, attempt_count=2)
    make_task(rep, lead=worked, status=TouchStatus.DONE, outcome=Outcome.NO_ANSWER, completed_at=today)
    make_task(rep, lead=worked, status=TouchStatus.DONE, outcome=Outcome.VOICEMAIL, completed_at=today)
    make_task(rep, lead=worked, status=TouchStatus.DONE, outcome=Outcome.CONNECTED, completed_at=yesterday)
    factories.TouchFactory(
        lead=worked, automated=True, channel=Channel.EMAIL, status=TouchStatus.SENT, sent_at=today, due_at=today
    )
    behind = _lead(rep, ago=dt.timedelta(days=3), status=LeadStatus.WORKING, attempt_count=1)
    make_task(rep, lead=behind, status=TouchStatus.DONE, outcome=Outcome.NO_ANSWER, completed_at=yesterday)
    _lead(rep, ago=dt.timedelta(days=3), status=LeadStatus.WON)
    _lead(rep, ago=dt.timedelta(days=3), status=LeadStatus.APPOINTMENT)
    scheduled = _lead(rep, ago=dt.timedelta(days=3), status=LeadStatus.WORKING)
    make_task(rep, lead=scheduled, due=dt.timedelta(days=2))
    alice = _rep(client_for(manager).get("/today/team/"), rep)
    assert (alice.done_today, alice.attempts_today) == (2, 2)
    # `worked` was attempted today; `behind` was not and has nothing scheduled.
    assert alice.left_behind == 1
    start, end = team_selectors.day_bounds(manager, timezone.now())
    vocabulary = follow_up_counts_by_owner(leads=team_selectors.team_leads(manager), start=start, end=end)
    assert alice.left_behind == vocabulary[rep.pk]["left_behind"]


def test_lists_offer_overdue_tasks_and_new_leads_with_checkboxes(client_for, rep, manager, make_task, noon):
    late = make_task(rep, due=dt.timedelta(hours=-3))
    make_task(rep, due=dt.timedelta(hours=2))  # due later: not listed
    body = client_for(manager).get("/today/team/").content.decode()
    assert f'name="touches" value="{late.pk}"' in body
    assert f'data-touch="{late.pk}"' in body
    # make_task's leads are new and never called: each is offered as a lead too.
    assert f'name="leads" value="{late.lead_id}"' in body
    assert "overdue since 09:00 (3 h)" in body
    assert 'id="how-counted"' in body and 'data-term="left-behind"' in body


def test_lists_stop_at_the_limit_and_say_how_many_more(client_for, rep, manager, make_task, noon, monkeypatch):
    monkeypatch.setattr(team_selectors, "LIST_LIMIT", 2)
    for hours in (5, 4, 3):
        make_task(rep, due=dt.timedelta(hours=-hours))
    response = client_for(manager).get("/today/team/")
    alice = _rep(response, rep)
    assert alice.overdue == 3 and len(alice.overdue_tasks) == 2 and alice.more_overdue == 1
    assert alice.new_waiting == 3 and len(alice.new_leads) == 2 and alice.more_new == 1
    assert "and 1 more on" in response.content.decode()


def test_team_admin_sees_all_reps_rep_forbidden(client_for, rep, teammate, other_rep, admin_user):
    assert set(_rows(client_for(admin_user).get("/today/team/"))) == {"alice", "bob", "charlie"}
    assert client_for(rep).get("/today/team/").status_code == 403
    assert client_for(rep).get(f"/today/team/{teammate.pk}/").status_code == 403
    assert client_for(None).get("/today/team/").status_code == 302


def test_another_teams_work_is_neither_counted_nor_listed(client_for, rep, other_rep, other_manager, make_task):
    mine = make_task(rep, due=dt.timedelta(hours=-3))
    response = client_for(other_manager).get("/today/team/")
    assert {u.username for u in response.context["reps"]} == {"charlie"}
    body = response.content.decode()
    assert f'value="{mine.pk}"' not in body and mine.lead.full_name not in body


def test_drill_down(client_for, rep, other_rep, manager, admin_user, make_task):
    task = make_task(rep)
    response = client_for(manager).get(f"/today/team/{rep.pk}/")
    assert response.status_code == 200
    assert [t.pk for t in response.context["today"].rows] == [task.pk]
    assert b"Alice" in response.content
    # Reassigning the task is in the row's "More".
    more = client_for(manager).get(reverse("today:row_more", args=[task.pk])).content.decode()
    assert "Reassign" in more
    assert client_for(manager).get(f"/today/team/{other_rep.pk}/").status_code == 404
    assert client_for(manager).get("/today/team/999999/").status_code == 404
    assert client_for(admin_user).get(f"/today/team/{other_rep.pk}/").status_code == 200


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def _busy_rep(team, make_task):
    """A rep with a bit of everything: overdue and due tasks, new leads, attempts, a left-behind lead."""
    user = factories.UserFactory(team=team, timezone="UTC")
    make_task(user, due=dt.timedelta(hours=-2))
    make_task(user, due=dt.timedelta(hours=1))
    make_task(user, status=TouchStatus.DONE, outcome=Outcome.CONNECTED, completed_at=timezone.now())
    factories.LeadFactory(owner=user, status=LeadStatus.WORKING)
    return user


def test_team_page_constant_queries_for_2_and_6_reps(client_for, north, manager, make_task, noon):
    client = client_for(manager)
    for _ in range(2):
        _busy_rep(north, make_task)
    two = _queries(client, "/today/team/")
    for _ in range(4):
        _busy_rep(north, make_task)
    six = _queries(client, "/today/team/")
    response = client.get("/today/team/")
    reps = [u for u in response.context["reps"] if u.overdue]
    assert len(reps) == 6 and all(u.new_waiting and u.attempts_today and u.left_behind for u in reps)
    assert two == six


def test_team_page_constant_queries_for_many_reps(client_for, north, manager, make_task, django_assert_num_queries):
    client = client_for(manager)
    _busy_rep(north, make_task)
    count = _queries(client, "/today/team/")
    for _ in range(29):
        _busy_rep(north, make_task)
    with django_assert_num_queries(count):
        response = client.get("/today/team/")
    assert len(response.context["reps"]) >= 30


def test_figures_are_six_queries(manager, rep, teammate, make_task, django_assert_num_queries):
    make_task(rep, due=dt.timedelta(hours=-2))
    make_task(teammate, due=dt.timedelta(hours=-2))
    with django_assert_num_queries(6):
        day = team_selectors.team_day(user=manager)
        [(t.lead.full_name, t.label) for u in day.reps for t in u.overdue_tasks]
