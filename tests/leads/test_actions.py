import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from accounts.models import Notification
from cadences.models import TouchStatus
from leads.models import Lead, LeadEvent, LeadStatus
from tests.factories import LeadEventFactory, LeadFactory, TouchFactory


def url(name, lead):
    return reverse(f"leads:{name}", args=[lead.pk])


def msgs(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- edit -------------------------------------------------------------------------------

EDIT = {
    "first_name": "Janet",
    "last_name": "Doe",
    "phone": "(415) 555-0199",
    "email": "janet@example.org",
    "company": "Acme",
    "how_heard": "",
    "interest": "",
    "timezone": "America/Chicago",
    "twitter_handle": "@janet",
    "linkedin_url": "",
}


def test_edit_form_is_prefilled(client_for, rep, alice_lead):
    response = client_for(rep).get(url("edit", alice_lead))
    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial["phone"] == "+14155550100" and form.initial["timezone"] == "America/Los_Angeles"


def test_edit_saves_through_lead_update(client_for, rep, alice_lead):
    response = client_for(rep).post(url("edit", alice_lead), EDIT)
    assert response.status_code == 302 and response["Location"] == url("detail", alice_lead)
    alice_lead.refresh_from_db()
    assert alice_lead.first_name == "Janet" and alice_lead.phone == "+14155550199"
    assert alice_lead.timezone == "America/Chicago" and alice_lead.twitter_handle == "janet"
    assert alice_lead.events.filter(kind=LeadEvent.Kind.EDIT, actor=rep).exists()


@pytest.mark.parametrize(
    "change, field",
    [
        ({"phone": "12"}, "phone"),
        ({"email": "nope"}, "email"),
        ({"first_name": ""}, "first_name"),
        ({"timezone": "Nowhere/Land"}, "timezone"),
    ],
)
def test_edit_bad_input_changes_nothing(client_for, rep, alice_lead, change, field):
    response = client_for(rep).post(url("edit", alice_lead), {**EDIT, **change})
    assert response.status_code == 200 and response.context["form"].errors[field]
    alice_lead.refresh_from_db()
    assert alice_lead.first_name == "Jane" and alice_lead.phone == "+14155550100"
    assert not alice_lead.events.exists()


def test_edit_refuses_another_open_leads_phone(client_for, admin_user, alice_lead, charlie_lead):
    response = client_for(admin_user).post(url("edit", alice_lead), {**EDIT, "phone": "+1 312 555 0100"})
    assert "merge them instead" in response.context["form"].errors["phone"][0]
    alice_lead.refresh_from_db()
    assert alice_lead.phone == "+14155550100"


@pytest.mark.parametrize("who", ["teammate", "other_rep", "other_manager"])
def test_others_cannot_edit(request, client_for, alice_lead, who):
    client = client_for(request.getfixturevalue(who))
    assert client.get(url("edit", alice_lead)).status_code == 404
    assert client.post(url("edit", alice_lead), EDIT).status_code == 404
    alice_lead.refresh_from_db()
    assert alice_lead.first_name == "Jane"


def test_manager_edits_team_lead_and_anonymous_cannot(client_for, manager, alice_lead):
    assert client_for(None).post(url("edit", alice_lead), EDIT).status_code == 302
    assert client_for(manager).post(url("edit", alice_lead), EDIT).status_code == 302
    alice_lead.refresh_from_db()
    assert alice_lead.first_name == "Janet"


# --- status -----------------------------------------------------------------------------


def test_rep_moves_lead_to_working(client_for, rep, alice_lead):
    response = client_for(rep).post(url("status", alice_lead), {"status": "working"})
    assert response.status_code == 302
    alice_lead.refresh_from_db()
    assert alice_lead.status == LeadStatus.WORKING
    assert alice_lead.events.filter(kind=LeadEvent.Kind.STATUS, actor=rep).exists()


def test_rep_cannot_give_up_before_five_attempts(client_for, rep, alice_lead, settings):
    settings.MIN_ATTEMPTS_BEFORE_CLOSE = 5
    alice_lead.attempt_count = 2
    alice_lead.save()
    # Even a forged override field is ignored for reps.
    response = client_for(rep).post(url("status", alice_lead), {"status": "lost", "override": "on", "reason": "meh"})
    assert response.status_code == 200
    assert "Only 2 of 5 attempts logged" in response.context["status_form"].errors["status"][0]
    assert "Only 2 of 5 attempts logged" in response.content.decode()
    alice_lead.refresh_from_db()
    assert alice_lead.status == LeadStatus.NEW and not alice_lead.events.exists()


def test_rep_may_close_after_five_attempts(client_for, rep, alice_lead, settings):
    settings.MIN_ATTEMPTS_BEFORE_CLOSE = 5
    alice_lead.attempt_count = 5
    alice_lead.save()
    client_for(rep).post(url("status", alice_lead), {"status": "unqualified", "reason": "No budget"})
    alice_lead.refresh_from_db()
    assert alice_lead.status == LeadStatus.UNQUALIFIED and alice_lead.close_reason == "No budget"


def test_manager_override_needs_a_reason(client_for, manager, alice_lead):
    client = client_for(manager)
    page = client.get(url("detail", alice_lead)).content.decode()
    assert 'name="override"' in page
    response = client.post(url("status", alice_lead), {"status": "lost", "override": "on", "reason": ""})
    assert response.context["status_form"].errors["reason"]
    alice_lead.refresh_from_db()
    assert alice_lead.status == LeadStatus.NEW
    response = client.post(url("status", alice_lead), {"status": "lost", "override": "on", "reason": "Moved abroad"})
    assert response.status_code == 302
    alice_lead.refresh_from_db()
    assert alice_lead.status == LeadStatus.LOST
    event = alice_lead.events.get(kind=LeadEvent.Kind.STATUS)
    assert "manager override" in event.text and "Moved abroad" in event.text and event.actor == manager


def test_unknown_status_is_an_error(client_for, rep, alice_lead):
    response = client_for(rep).post(url("status", alice_lead), {"status": "bogus"})
    assert response.context["status_form"].errors["status"]


@pytest.mark.parametrize("who", ["teammate", "other_rep", "other_manager"])
def test_others_cannot_change_status(request, client_for, alice_lead, who):
    client = client_for(request.getfixturevalue(who))
    assert client.post(url("status", alice_lead), {"status": "working"}).status_code == 404
    alice_lead.refresh_from_db()
    assert alice_lead.status == LeadStatus.NEW


def test_status_needs_login_and_post(client_for, rep, alice_lead):
    assert client_for(None).post(url("status", alice_lead), {"status": "working"}).status_code == 302
    assert client_for(rep).get(url("status", alice_lead)).status_code == 405


# --- assign -----------------------------------------------------------------------------


def test_manager_reassigns_within_team(client_for, manager, teammate, alice_lead):
    task = TouchFactory(lead=alice_lead)
    client = client_for(manager)
    page = client.get(url("assign", alice_lead))
    assert page.status_code == 200
    response = client.post(url("assign", alice_lead), {"owner": teammate.pk})
    assert response.status_code == 302
    alice_lead.refresh_from_db()
    task.refresh_from_db()
    assert alice_lead.owner == teammate and task.assigned_to == teammate
    assert Notification.objects.filter(user=teammate, lead=alice_lead).exists()
    assert alice_lead.events.filter(kind=LeadEvent.Kind.ASSIGNMENT, actor=manager).exists()


def test_manager_cannot_assign_outside_their_teams(client_for, manager, other_rep, rep, alice_lead):
    response = client_for(manager).post(url("assign", alice_lead), {"owner": other_rep.pk})
    assert response.status_code == 200 and response.context["form"].errors["owner"]
    alice_lead.refresh_from_db()
    assert alice_lead.owner == rep


def test_admin_assigns_anyone(client_for, admin_user, other_rep, alice_lead):
    client_for(admin_user).post(url("assign", alice_lead), {"owner": other_rep.pk})
    alice_lead.refresh_from_db()
    assert alice_lead.owner == other_rep and alice_lead.team == other_rep.team


@pytest.mark.parametrize("who, expected", [("rep", 403), ("teammate", 403), ("other_manager", 404)])
def test_assign_forbidden(request, client_for, alice_lead, teammate, who, expected):
    client = client_for(request.getfixturevalue(who))
    assert client.get(url("assign", alice_lead)).status_code == expected
    assert client.post(url("assign", alice_lead), {"owner": teammate.pk}).status_code == expected
    alice_lead.refresh_from_db()
    assert alice_lead.owner.username == "alice"


def test_assign_anonymous(client_for, alice_lead):
    assert client_for(None).get(url("assign", alice_lead)).status_code == 302


def test_reassign_link_only_for_managers(client_for, rep, manager, alice_lead):
    assert url("assign", alice_lead) not in client_for(rep).get(url("detail", alice_lead)).content.decode()
    assert url("assign", alice_lead) in client_for(manager).get(url("detail", alice_lead)).content.decode()


# --- merge ------------------------------------------------------------------------------


@pytest.fixture
def dupe(rep):
    return LeadFactory(first_name="Jane", last_name="Doe", phone="+14155550111", email="", company="", owner=rep)


def test_merge_suggests_same_name_and_searches(client_for, manager, alice_lead, dupe, charlie_lead):
    client = client_for(manager)
    response = client.get(url("merge", alice_lead))
    assert response.context["candidates"] == [dupe]
    assert client.get(url("merge", alice_lead), {"q": "555 0111"}).context["candidates"] == [dupe]
    assert client.get(url("merge", alice_lead), {"q": f"#{dupe.pk}"}).context["candidates"] == [dupe]
    # Not the lead itself, and not leads the manager cannot see.
    assert client.get(url("merge", alice_lead), {"q": f"#{alice_lead.pk}"}).context["candidates"] == []
    assert client.get(url("merge", alice_lead), {"q": "Carl"}).context["candidates"] == []


def test_merge_confirm_then_merge(client_for, manager, alice_lead, dupe):
    LeadEventFactory(lead=dupe, text="Dupe's note")
    task = TouchFactory(lead=dupe)
    client = client_for(manager)
    confirm = client.get(url("merge", alice_lead), {"duplicate": dupe.pk})
    assert confirm.status_code == 200 and confirm.context["duplicate"] == dupe
    assert Lead.objects.filter(pk=dupe.pk).exists()  # nothing happens before the POST
    response = client.post(url("merge", alice_lead), {"duplicate": dupe.pk})
    assert response.status_code == 302 and response["Location"] == url("detail", alice_lead)
    assert not Lead.objects.filter(pk=dupe.pk).exists()
    assert alice_lead.events.filter(text="Dupe's note").exists()
    assert alice_lead.events.filter(kind=LeadEvent.Kind.MERGE).exists()
    task.refresh_from_db()
    assert task.lead_id == alice_lead.pk


def test_merge_cannot_reach_invisible_lead(client_for, manager, alice_lead, charlie_lead):
    client = client_for(manager)
    assert client.get(url("merge", alice_lead), {"duplicate": charlie_lead.pk}).status_code == 404
    assert client.post(url("merge", alice_lead), {"duplicate": charlie_lead.pk}).status_code == 404
    assert Lead.objects.filter(pk=charlie_lead.pk).exists()


def test_merge_with_itself_is_refused(client_for, manager, alice_lead):
    client = client_for(manager)
    response = client.get(url("merge", alice_lead), {"duplicate": alice_lead.pk})
    assert response.status_code == 302
    response = client.post(url("merge", alice_lead), {"duplicate": alice_lead.pk})
    assert any("different" in m for m in msgs(response))
    assert Lead.objects.filter(pk=alice_lead.pk).exists()


def test_merge_bad_post(client_for, manager, alice_lead):
    assert client_for(manager).post(url("merge", alice_lead), {"duplicate": "x"}).status_code == 400


@pytest.mark.parametrize("who, expected", [("rep", 403), ("other_rep", 403), ("other_manager", 404)])
def test_merge_forbidden(request, client_for, alice_lead, dupe, who, expected):
    client = client_for(request.getfixturevalue(who))
    assert client.get(url("merge", alice_lead)).status_code == expected
    assert client.post(url("merge", alice_lead), {"duplicate": dupe.pk}).status_code == expected
    assert Lead.objects.filter(pk=dupe.pk).exists()


def test_merge_anonymous(client_for, alice_lead, dupe):
    assert client_for(None).post(url("merge", alice_lead), {"duplicate": dupe.pk}).status_code == 302
    assert Lead.objects.filter(pk=dupe.pk).exists()


def test_admin_merges_across_teams(client_for, admin_user, alice_lead, charlie_lead):
    client_for(admin_user).post(url("merge", alice_lead), {"duplicate": charlie_lead.pk})
    assert not Lead.objects.filter(pk=charlie_lead.pk).exists()


def test_scheduled_touches_of_merged_lead_keep_status(client_for, manager, alice_lead, dupe):
    TouchFactory(lead=dupe, status=TouchStatus.DONE)
    client_for(manager).post(url("merge", alice_lead), {"duplicate": dupe.pk})
    assert alice_lead.touches.filter(status=TouchStatus.DONE).count() == 1
