"""The lead page's cadence panel: start, pause, resume, end — for whoever may see the lead, 404 for others."""

from unittest import mock

import pytest
from django.core.exceptions import ValidationError

from cadences.models import Enrollment, Touch, TouchStatus
from cadences.services import enrollment_start
from tests.factories import LeadFactory


@pytest.fixture
def lead(rep):
    return LeadFactory(owner=rep)


def post(client, name, lead, **data):
    return client.post(f"/enrollments/lead/{lead.pk}/{name}/", data, HTTP_HX_REQUEST="true")


def statuses(touch_ids):
    return set(Touch.objects.filter(pk__in=touch_ids).values_list("status", flat=True))


def test_owner_starts_pauses_resumes_and_ends_a_cadence(client_for, rep, lead, reference_cadence):
    client = client_for(rep)
    response = client.get(f"/enrollments/lead/{lead.pk}/")
    assert response.status_code == 200 and b"Not in any cadence" in response.content
    response = post(client, "start", lead, cadence=reference_cadence.pk)
    assert response.status_code == 200 and reference_cadence.name.encode() in response.content
    enrollment = Enrollment.objects.get(lead=lead)
    to_do = list(enrollment.touches.filter(status=TouchStatus.SCHEDULED).values_list("pk", flat=True))
    assert to_do
    response = post(client, "pause", lead)
    assert response.status_code == 200 and b"Resume" in response.content
    enrollment.refresh_from_db()
    assert enrollment.state == "paused"
    assert statuses(to_do) == {TouchStatus.PAUSED}
    response = post(client, "resume", lead)
    assert response.status_code == 200 and b"Pause" in response.content
    enrollment.refresh_from_db()
    assert enrollment.state == "active"
    assert statuses(to_do) == {TouchStatus.SCHEDULED}
    response = post(client, "exit", lead)
    assert response.status_code == 200 and b"Start cadence" in response.content
    enrollment.refresh_from_db()
    assert enrollment.state == "exited"
    assert not enrollment.touches.filter(status=TouchStatus.SCHEDULED).exists()
    assert statuses(to_do) == {TouchStatus.CANCELLED}


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
    enrollment = enrollment_start(lead=lead, cadence=reference_cadence)
    to_do = list(enrollment.touches.filter(status=TouchStatus.SCHEDULED).values_list("pk", flat=True))
    assert post(client_for(manager), "pause", lead).status_code == 200
    enrollment.refresh_from_db()
    assert enrollment.state == "paused"
    assert to_do and statuses(to_do) == {TouchStatus.PAUSED}


def test_an_error_message_is_escaped_in_the_panel(client_for, rep, lead, reference_cadence):
    enrollment_start(lead=lead, cadence=reference_cadence)
    refusal = ValidationError("<script>alert('x')</script> & more")
    with mock.patch("cadences.enrollment_views.enrollment_pause", side_effect=refusal):
        response = post(client_for(rep), "pause", lead)
    assert response.status_code == 400
    assert b"<script>" not in response.content
    assert b"&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; more" in response.content


def test_anonymous_is_sent_to_login(client, lead):
    response = client.post(f"/enrollments/lead/{lead.pk}/pause/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_get_on_an_action_is_refused(client_for, rep, lead):
    assert client_for(rep).get(f"/enrollments/lead/{lead.pk}/pause/").status_code == 405


def test_lead_page_loads_the_cadence_panel(client_for, rep, lead):
    response = client_for(rep).get(f"/leads/{lead.pk}/")
    assert f'hx-get="/enrollments/lead/{lead.pk}/"'.encode() in response.content
