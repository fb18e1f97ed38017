import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cadences.models import Outcome, TouchStatus
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _utc(rep, teammate, other_rep, manager, other_manager, admin_user):
    for user in (rep, teammate, other_rep, manager, other_manager, admin_user):
        user.timezone = "UTC"
        user.save(update_fields=["timezone"])


def _rows(response):
    return {u.username: (u.due_today, u.overdue, u.done_today) for u in response.context["reps"]}


def test_team_counts_for_manager(client_for, rep, teammate, other_rep, manager, make_task, time_machine):
    time_machine.move_to(dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC), tick=False)
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


def test_team_admin_sees_all_reps_rep_forbidden(client_for, rep, teammate, other_rep, admin_user):
    assert set(_rows(client_for(admin_user).get("/today/team/"))) == {"alice", "bob", "charlie"}
    assert client_for(rep).get("/today/team/").status_code == 403
    assert client_for(rep).get(f"/today/team/{teammate.pk}/").status_code == 403
    assert client_for(None).get("/today/team/").status_code == 302


def test_drill_down(client_for, rep, other_rep, manager, admin_user, make_task):
    task = make_task(rep)
    response = client_for(manager).get(f"/today/team/{rep.pk}/")
    assert response.status_code == 200
    assert [t.pk for t in response.context["today"].rows] == [task.pk]
    assert b"Alice" in response.content and b"Reassign" in response.content
    assert client_for(manager).get(f"/today/team/{other_rep.pk}/").status_code == 404
    assert client_for(manager).get("/today/team/999999/").status_code == 404
    assert client_for(admin_user).get(f"/today/team/{other_rep.pk}/").status_code == 200


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_team_page_constant_queries(client_for, north, manager, make_task, django_assert_num_queries):
    client = client_for(manager)
    first = factories.UserFactory(team=north)
    make_task(first)
    count = _queries(client, "/today/team/")
    for _ in range(29):
        user = factories.UserFactory(team=north)
        make_task(user)
        make_task(user, status=TouchStatus.DONE, completed_at=timezone.now())
    with django_assert_num_queries(count):
        response = client.get("/today/team/")
    assert len(response.context["reps"]) >= 30
