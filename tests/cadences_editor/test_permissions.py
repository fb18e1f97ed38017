"""Every editor URL: admins may use it, reps and managers get 403, anonymous users go to the login page."""

import pytest
from django.urls import reverse

from cadences.models import Cadence, CadenceStep
from tests.cadences_editor.conftest import step_data

# (route name, method, needs a step, POST data)
ROUTES = [
    ("list", "get", False, None),
    ("create", "get", False, None),
    ("create", "post", False, {"name": "Posted", "active": "on", "instant_response": "on"}),
    ("detail", "get", False, None),
    ("edit", "get", False, None),
    ("edit", "post", False, {"name": "Renamed", "active": "on"}),
    ("toggle_active", "post", False, {}),
    ("preview", "post", False, {"body": "Hi {{ lead.first_name }}"}),
    ("step_add", "post", False, step_data()),
    ("step_edit", "get", True, None),
    ("step_edit", "post", True, step_data(day="3")),
    ("step_remove", "post", True, {}),
    ("step_move", "post", True, {}),
]


def url_for(name, cadence, step):
    if name in ("list", "create"):
        return reverse(f"cadences:{name}")
    if name == "step_move":
        return reverse("cadences:step_move", args=[cadence.pk, step.pk, "down"])
    if name.startswith("step_") and name != "step_add":
        return reverse(f"cadences:{name}", args=[cadence.pk, step.pk])
    return reverse(f"cadences:{name}", args=[cadence.pk])


def _call(client, method, url, data):
    return client.post(url, data) if method == "post" else client.get(url)


@pytest.mark.parametrize(("name", "method", "_needs_step", "data"), ROUTES)
def test_admin_may_use(name, method, _needs_step, data, admin_client, cadence, call_step):
    response = _call(admin_client, method, url_for(name, cadence, call_step), data)
    assert response.status_code in (200, 302), response.content[:500]
    if response.status_code == 302:
        assert "/login" not in response["Location"]


@pytest.mark.parametrize("who", ["rep", "manager"])
@pytest.mark.parametrize(("name", "method", "_needs_step", "data"), ROUTES)
def test_reps_and_managers_get_403(who, name, method, _needs_step, data, request, client_for, cadence, call_step):
    user = request.getfixturevalue(who)
    before = (Cadence.objects.count(), list(CadenceStep.objects.values_list("pk", "day", "position", "retired_at")))
    response = _call(client_for(user), method, url_for(name, cadence, call_step), data)
    assert response.status_code == 403
    after = (Cadence.objects.count(), list(CadenceStep.objects.values_list("pk", "day", "position", "retired_at")))
    assert before == after
    cadence.refresh_from_db()
    assert cadence.name == "Web follow-up" and cadence.active


@pytest.mark.parametrize(("name", "method", "_needs_step", "data"), ROUTES)
def test_anonymous_goes_to_login(name, method, _needs_step, data, client_for, cadence, call_step):
    url = url_for(name, cadence, call_step)
    response = _call(client_for(None), method, url, data)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert CadenceStep.objects.filter(pk=call_step.pk, retired_at__isnull=True).exists()


def test_unknown_cadence_and_foreign_step_are_404(admin_client, cadence, call_step):
    other = Cadence.objects.create(name="Other")
    assert admin_client.get(reverse("cadences:detail", args=[999999])).status_code == 404
    # A step of one cadence cannot be reached through another.
    assert admin_client.get(reverse("cadences:step_edit", args=[other.pk, call_step.pk])).status_code == 404
    response = admin_client.post(reverse("cadences:step_remove", args=[other.pk, call_step.pk]))
    assert response.status_code == 404
    assert CadenceStep.objects.filter(pk=call_step.pk).exists()


def test_retired_step_is_404(admin_client, cadence, call_step):
    from django.utils import timezone

    CadenceStep.objects.filter(pk=call_step.pk).update(retired_at=timezone.now())
    assert admin_client.get(reverse("cadences:step_edit", args=[cadence.pk, call_step.pk])).status_code == 404
    response = admin_client.post(reverse("cadences:step_edit", args=[cadence.pk, call_step.pk]), step_data(day="9"))
    assert response.status_code == 404
    assert CadenceStep.objects.filter(cadence=cadence).count() == 1


def test_get_on_post_only_routes_is_405(admin_client, cadence, call_step):
    for name in ("toggle_active", "preview", "step_add", "step_remove", "step_move"):
        response = admin_client.get(url_for(name, cadence, call_step))
        assert response.status_code == 405, name
