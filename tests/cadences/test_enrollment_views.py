"""The lead page's cadence panel: start, pause, resume, end — for whoever may see the lead, 404 for others."""

import pytest

from cadences.models import Enrollment, TouchStatus
from cadences.services import enrollment_start
from tests.factories import LeadFactory


@pytest.fixture
def lead(rep):
    return LeadFactory(owner=rep)


def post(client, name, lead, **data):
    return client.post(f"/enrollments/lead/{lead.pk}/{name}/", data, HTTP_HX_REQUEST="true")


def test_owner_starts_pauses_resumes_and_ends_a_cadence(client_for, rep, lead, reference_cadence):
    client = client_for(rep)
    response = client.get(f"/enrollments/lead/{lead.pk}/")
    assert response.status_code == 200 and b"Not in any cadence" in response.content
    response = post(client, "start", lead, cadence=reference_cadence.pk)
    assert response.status_code == 200 and reference_cadence.name.encode() in response.content
    enrollment = Enrollment.objects.get(lead=lead)
    assert post(client, "pause", lead).status_code == 200
    enrollment.refresh_from_db()
    assert enrollment.state == "paused"
    assert post(client, "resume", lead).status_code == 200
    enrollment.refresh_from_db()
    assert enrollment.state == "active"
    assert post(client, "exit", lead).status_code == 200
    enrollment.refresh_from_db()
    assert enrollment.state == "exited"
    assert not enrollment.touches.filter(status=TouchStatus.SCHEDULED).exists()


def test_starting_twice_is_a_clear_error_and_changes_nothing(client_for, rep, lead, reference_cadence):
    enrollment_start(lead=lead, cadence=reference_cadence)
    response = post(client_for(rep), "start", lead, cadence=reference_cadence.pk)
    assert response.status_code == 400 and b"already in a running cadence" in response.content
    assert Enrollment.objects.filter(lead=lead).count() == 1


def test_pausing_without_a_cadence_is_a_clear_error(client_for, rep, lead):
    response = post(client_for(rep), "pause", lead)
    assert response.status_code == 400 and b"not in a running cadence" in response.content


@pytest.mark.parametrize("who", ["teammate", "other_rep", "other_manager"])
@pytest.mark.parametrize("action", ["", "start/", "pause/", "resume/", "exit/"])
def test_people_who_cannot_see_the_lead_get_404(request, client_for, lead, reference_cadence, who, action):
    enrollment_start(lead=lead, cadence=reference_cadence)
    client = client_for(request.getfixturevalue(who))
    url = f"/enrollments/lead/{lead.pk}/{action}"
    response = client.get(url) if not action else client.post(url, {"cadence": reference_cadence.pk})
    assert response.status_code == 404
    assert Enrollment.objects.get(lead=lead).state == "active"


def test_manager_of_the_team_may_pause(client_for, manager, lead, reference_cadence):
    enrollment_start(lead=lead, cadence=reference_cadence)
    assert post(client_for(manager), "pause", lead).status_code == 200


def test_anonymous_is_sent_to_login(client, lead):
    response = client.post(f"/enrollments/lead/{lead.pk}/pause/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_get_on_an_action_is_refused(client_for, rep, lead):
    assert client_for(rep).get(f"/enrollments/lead/{lead.pk}/pause/").status_code == 405


def test_lead_page_loads_the_cadence_panel(client_for, rep, lead):
    response = client_for(rep).get(f"/leads/{lead.pk}/")
    assert f'hx-get="/enrollments/lead/{lead.pk}/"'.encode() in response.content
