"""Django admin pages for cadences, enrollments and touches."""

import re

import pytest
from django.urls import reverse

from cadences.models import CadenceStep, Channel
from tests import factories


@pytest.fixture
def superuser_client(db, client_for):
    user = factories.UserFactory(username="root", is_staff=True, is_superuser=True, role="admin")
    return client_for(user)


def test_admin_pages_render(superuser_client, cadence, email_step):
    enrollment = factories.EnrollmentFactory(cadence=cadence)
    touch = factories.TouchFactory(lead=enrollment.lead, enrollment=enrollment, step=email_step, channel=Channel.EMAIL)
    for url in (
        reverse("admin:cadences_cadence_changelist"),
        reverse("admin:cadences_cadence_change", args=[cadence.pk]),
        reverse("admin:cadences_enrollment_changelist"),
        reverse("admin:cadences_enrollment_change", args=[enrollment.pk]),
        reverse("admin:cadences_touch_changelist") + "?status=scheduled",
        reverse("admin:cadences_touch_change", args=[touch.pk]),
    ):
        assert superuser_client.get(url).status_code == 200, url
    page = superuser_client.get(reverse("admin:cadences_cadence_change", args=[cadence.pk])).content.decode()
    assert reverse("cadences:detail", args=[cadence.pk]) in page
    assert email_step.subject in page


def test_admin_cannot_edit_steps_in_place(superuser_client, cadence, email_step):
    """Steps are read-only inlines: saving the cadence in the admin leaves them alone."""
    url = reverse("admin:cadences_cadence_change", args=[cadence.pk])
    page = superuser_client.get(url).content.decode()
    data = dict(re.findall(r'name="(steps-[A-Z_]+)" value="([^"]*)"', page))
    assert data, "the inline's management form is on the page"
    # Whatever a crafted POST says about the step, it is not applied.
    data.update({"steps-0-id": email_step.pk, "steps-0-subject": "Changed in admin", "steps-0-cadence": cadence.pk})
    data.update({"name": "Renamed", "active": "on", "instant_response": "on", "kind": "follow_up"})
    data.update({"shift_when_late": "on", "wait_for_rep": "on"})
    response = superuser_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    email_step.refresh_from_db()
    assert email_step.subject == "Hello {{ lead.first_name }}"
    assert CadenceStep.objects.filter(cadence=cadence).count() == 1
    cadence.refresh_from_db()
    assert cadence.name == "Renamed"
    assert (cadence.kind, cadence.shift_when_late, cadence.wait_for_rep) == ("follow_up", True, True)
