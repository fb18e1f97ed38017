"""Team today's "Reassign selected to …": several tasks and leads to one person in one post, all
or nothing; another team's ids, a task done meanwhile or a person out of reach change nothing
and say why; htmx and a plain form post both work."""

import datetime as dt

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from cadences.models import Outcome, Touch, TouchStatus
from leads.models import Lead, LeadEvent
from tests import factories
from today import services

pytestmark = pytest.mark.django_db

URL = reverse("today:team_reassign")
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def late(rep, make_task):
    """Four of alice's overdue tasks."""
    return [make_task(rep, due=dt.timedelta(hours=-h)) for h in (2, 3, 4, 5)]


def _owners(touches):
    return {t.pk: t.assigned_to_id for t in Touch.objects.filter(pk__in=[t.pk for t in touches])}


def test_reassigns_four_tasks_in_one_post(client_for, manager, rep, teammate, late):
    response = client_for(manager).post(URL, {"touches": [t.pk for t in late], "to": teammate.pk}, **HTMX)
    assert response.status_code == 200
    assert set(_owners(late).values()) == {teammate.pk}
    body = response.content.decode()
    assert f"Reassigned 4 tasks to {teammate}." in body
    assert 'id="team-today"' in body and "<html" not in body
    # The lists are fresh: the tasks now show under Bob, checked no more.
    assert "checked" not in body.split('id="team-reassign-bar"')[0]
    # The leads stay alice's: only the tasks moved.
    assert set(Lead.objects.filter(touches__in=late).values_list("owner", flat=True)) == {rep.pk}


def test_reassigning_a_lead_takes_its_open_and_waiting_tasks(client_for, manager, rep, teammate, make_task):
    lead = factories.LeadFactory(owner=rep)
    open_task = make_task(rep, lead=lead, due=dt.timedelta(hours=-2))
    waiting = make_task(rep, lead=lead, step="day5_email", status=TouchStatus.PENDING, due=dt.timedelta(days=5))
    done = make_task(rep, lead=lead, status=TouchStatus.DONE, outcome=Outcome.NO_ANSWER)
    other = make_task(rep, due=dt.timedelta(hours=-2))
    response = client_for(manager).post(URL, {"leads": [lead.pk], "touches": [other.pk], "to": teammate.pk}, **HTMX)
    assert response.status_code == 200
    assert f"Reassigned 1 lead and 1 task to {teammate}." in response.content.decode()
    lead.refresh_from_db()
    assert lead.owner == teammate
    assert _owners([open_task, waiting, other]) == dict.fromkeys([open_task.pk, waiting.pk, other.pk], teammate.pk)
    assert _owners([done]) == {done.pk: rep.pk}
    assert LeadEvent.objects.filter(lead=lead, kind=LeadEvent.Kind.ASSIGNMENT, text__contains="Assigned to").exists()


def test_another_teams_ids_reject_the_whole_request(client_for, manager, rep, other_rep, teammate, late, make_task):
    charlies = make_task(other_rep, due=dt.timedelta(hours=-2))
    client = client_for(manager)
    for data in (
        {"touches": [late[0].pk, charlies.pk]},
        {"touches": [late[0].pk], "leads": [charlies.lead_id]},
        {"touches": [late[0].pk, 987654321]},  # no such task: the same answer
    ):
        response = client.post(URL, {**data, "to": teammate.pk}, **HTMX)
        assert response.status_code == 404
        assert response.headers["X-Team-Reassign"] == "error"
        body = response.content.decode()
        assert "of the selection is not in your teams: nothing was reassigned." in body
        # The selection comes back checked, the person still chosen.
        assert f'value="{late[0].pk}" id="team-touch-{late[0].pk}" checked' in body
        assert f'<option value="{teammate.pk}" selected>' in body
        assert charlies.lead.full_name not in body
    assert set(_owners([*late, charlies]).values()) == {rep.pk, other_rep.pk}
    assert _owners([charlies]) == {charlies.pk: other_rep.pk}
    assert Lead.objects.get(pk=charlies.lead_id).owner == other_rep


def test_the_error_says_how_many_and_what(manager, rep, other_rep, teammate, late, make_task):
    theirs = [make_task(other_rep, due=dt.timedelta(hours=-2)) for _ in range(2)]
    with pytest.raises(services.ValidationError) as caught:
        services.team_reassign(
            by=manager, to=teammate, touch_ids=[late[0].pk, *(t.pk for t in theirs)], lead_ids=[theirs[0].lead_id]
        )
    assert caught.value.code == services.OUT_OF_SCOPE
    assert caught.value.messages == [
        "2 tasks and 1 lead of the selection are not in your teams: nothing was reassigned."
    ]
    assert _owners(late) == dict.fromkeys([t.pk for t in late], rep.pk)


def test_another_teams_manager_cannot_move_alices_work(client_for, other_manager, other_rep, rep, late):
    response = client_for(other_manager).post(URL, {"touches": [late[0].pk], "to": other_rep.pk})
    assert response.status_code == 404
    assert "not in your teams" in response.content.decode()
    assert _owners([late[0]]) == {late[0].pk: rep.pk}


def test_a_task_done_meanwhile_changes_nothing(client_for, manager, rep, teammate, late):
    Touch.objects.filter(pk=late[1].pk).update(status=TouchStatus.DONE, outcome=Outcome.CONNECTED)
    response = client_for(manager).post(URL, {"touches": [t.pk for t in late], "to": teammate.pk}, **HTMX)
    assert response.status_code == 409
    assert "1 selected task is no longer open (done or reassigned meanwhile): nothing was reassigned." in (
        response.content.decode()
    )
    assert set(_owners(late).values()) == {rep.pk}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (lambda w: {"touches": [w["late"][0].pk]}, "Choose who gets them."),
        (lambda w: {"to": w["teammate"].pk}, "Select at least one task or lead to reassign."),
        (
            lambda w: {"touches": ["abc"], "to": w["teammate"].pk},
            "The selection holds something that is not a task or lead number.",
        ),
        (
            lambda w: {"touches": ["99999999999999999999"], "to": w["teammate"].pk},
            "The selection holds something that is not a task or lead number.",
        ),
        (lambda w: {"touches": [w["late"][0].pk], "to": "nobody"}, "Choose someone you can assign tasks to."),
        # charlie is of another team: not someone mona may hand work to.
        (lambda w: {"touches": [w["late"][0].pk], "to": w["other_rep"].pk}, "You cannot assign tasks to this person."),
    ],
)
def test_bad_input_is_a_clear_400(client_for, manager, rep, teammate, other_rep, late, data, message):
    world = {"late": late, "teammate": teammate, "other_rep": other_rep}
    response = client_for(manager).post(URL, data(world), **HTMX)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert set(_owners(late).values()) == {rep.pk}


def test_plain_form_post_redirects_with_the_result(client_for, manager, teammate, late):
    response = client_for(manager).post(URL, {"touches": [late[0].pk, late[1].pk], "to": teammate.pk})
    assert response.status_code == 302 and response.url == reverse("today:team")
    assert [str(m) for m in get_messages(response.wsgi_request)] == [f"Reassigned 2 tasks to {teammate}."]
    assert _owners(late[:2]) == dict.fromkeys([late[0].pk, late[1].pk], teammate.pk)


def test_plain_form_post_error_shows_the_page_again_with_the_selection(client_for, manager, rep, teammate, late):
    response = client_for(manager).post(URL, {"touches": [late[0].pk, late[2].pk]})
    assert response.status_code == 400
    body = response.content.decode()
    assert "<html" in body and "Choose who gets them." in body
    assert f'id="team-touch-{late[2].pk}" checked' in body
    assert f'id="team-touch-{late[1].pk}" checked' not in body
    # alice's list is open, so the checked rows are in view.
    assert '<details class="team-select small" open>' in body


def test_reps_may_not_and_admins_may_across_teams(client_for, rep, teammate, other_rep, admin_user, late):
    assert client_for(rep).post(URL, {"touches": [late[0].pk], "to": teammate.pk}).status_code == 403
    assert client_for(None).post(URL, {"touches": [late[0].pk], "to": teammate.pk}).status_code == 302
    assert client_for(rep).get(URL).status_code == 405
    response = client_for(admin_user).post(URL, {"touches": [late[0].pk], "to": other_rep.pk}, **HTMX)
    assert response.status_code == 200
    assert _owners([late[0]]) == {late[0].pk: other_rep.pk}


def test_service_refuses_reps(rep, teammate, late):
    with pytest.raises(services.PermissionDenied):
        services.team_reassign(by=rep, to=teammate, touch_ids=[late[0].pk], lead_ids=[])


def test_too_many_at_once(manager, teammate, late, monkeypatch):
    monkeypatch.setattr(services, "MAX_SELECTED", 3)
    with pytest.raises(services.ValidationError, match="at most 3"):
        services.team_reassign(by=manager, to=teammate, touch_ids=[t.pk for t in late], lead_ids=[])
