"""Who changed what (django-simple-history): lead and cadence changes record the user; managers see lead history."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cadences.models import Cadence
from leads.models import Lead
from leads.services import lifecycle as services

from .conftest import ALICE_LEAD, CHARLIE_LEAD


def _edit_data(lead, **changes):
    data = {
        "first_name": lead.first_name,
        "last_name": lead.last_name,
        "phone": lead.phone,
        "email": lead.email,
        "company": lead.company,
        "timezone": lead.timezone,
        "how_heard": lead.how_heard,
        "interest": lead.interest,
    }
    return {**data, **changes}


def test_an_edit_on_the_lead_page_records_the_user_and_the_change(client_for, world, rep):
    lead = world.lead
    response = client_for(rep).post(f"/leads/{lead.pk}/edit/", _edit_data(lead, company="Globex Dynamics"))
    assert response.status_code == 302
    record = lead.history.latest()
    assert record.history_type == "~"
    assert record.history_user == rep
    assert record.company == "Globex Dynamics"
    assert record.prev_record.company == ""


def test_an_intake_on_the_phone_page_records_who_created_the_lead(client_for, rep, web_source):
    response = client_for(rep).post(
        "/leads/new/",
        {
            "first_name": "Ingrid",
            "phone": "(415) 555-0177",
            "how_heard": "Radio",
            "interest": "Roof repair",
            "source": web_source.pk,
        },
    )
    assert response.status_code == 302
    lead = Lead.objects.get(first_name="Ingrid")
    created = lead.history.earliest()
    assert created.history_type == "+"
    assert created.history_user == rep


def test_a_change_outside_a_request_has_no_user(world):
    services.lead_note_add(lead=world.lead, by=world.users["rep"], text="n")  # not a Lead change
    lead = Lead.objects.get(pk=world.lead.pk)
    lead.company = "Set by a worker"
    lead.save()
    assert lead.history.latest().history_user is None


def test_a_cadence_change_in_the_editor_records_the_admin(client_for, world, admin_user):
    cadence = world.cadence
    response = client_for(admin_user).post(f"/cadences/{cadence.pk}/toggle-active/")
    assert response.status_code in (200, 302)
    record = Cadence.history.filter(id=cadence.pk).latest()
    assert record.history_user == admin_user
    assert record.active is False


def test_step_edits_are_recorded_with_the_admin(client_for, world, admin_user):
    step = world.step
    response = client_for(admin_user).post(f"/cadences/{world.cadence.pk}/steps/{step.pk}/remove/")
    assert response.status_code in (200, 302)
    assert step.history.filter(history_user=admin_user).exists()


def test_the_manager_sees_who_changed_what_on_a_lead(client_for, world, rep, manager):
    client_for(rep).post(f"/leads/{world.lead.pk}/edit/", _edit_data(world.lead, company="Globex Dynamics"))
    response = client_for(manager).get(f"/leads/{world.lead.pk}/history/")
    assert response.status_code == 200
    page = response.content.decode()
    assert f"History of {ALICE_LEAD}" in page
    assert "Globex Dynamics" in page
    assert str(rep) in page
    assert CHARLIE_LEAD not in page


def test_the_lead_detail_page_links_managers_to_the_history(client_for, world, rep, manager):
    link = f'href="/leads/{world.lead.pk}/history/"'
    assert link in client_for(manager).get(f"/leads/{world.lead.pk}/").content.decode()
    assert link not in client_for(rep).get(f"/leads/{world.lead.pk}/").content.decode()


@pytest.mark.parametrize(
    ("who", "expected"),
    [("rep", 403), ("teammate", 403), ("other_rep", 403), ("other_manager", 404), ("manager", 200), ("admin", 200)],
)
def test_lead_history_access(client_for, world, who, expected):
    assert client_for(world.users[who]).get(f"/leads/{world.lead.pk}/history/").status_code == expected


def test_lead_history_is_a_login_redirect_for_anonymous(client, world):
    response = client.get(f"/leads/{world.lead.pk}/history/")
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_the_admin_sees_cadence_and_step_history(client_for, world, admin_user, manager):
    client_for(admin_user).post(f"/cadences/{world.cadence.pk}/toggle-active/")
    response = client_for(admin_user).get(f"/cadences/{world.cadence.pk}/history/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "History of Security cadence" in page
    assert "Day 1 Call step" in page
    assert str(admin_user) in page
    assert client_for(manager).get(f"/cadences/{world.cadence.pk}/history/").status_code == 403


def test_history_pages_use_constant_queries(client_for, world, manager, django_assert_num_queries):
    client = client_for(manager)
    url = f"/leads/{world.lead.pk}/history/"
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    lead = Lead.objects.get(pk=world.lead.pk)
    for i in range(20):
        lead.company = f"Company {i}"
        lead.owner = world.users["teammate"] if i % 2 else world.users["rep"]
        lead.save()
    with django_assert_num_queries(len(one.captured_queries)):
        client.get(url)
