"""Creating, editing and (de)activating cadences."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from cadences import editing
from cadences.models import Cadence, Enrollment, TouchStatus
from tests import factories


def cadence_data(**overrides):
    data = {
        "name": "Dental leads",
        "description": "For dental practices",
        "active": "on",
        "interest_keywords": "dental,  implants , Dental,",
        "instant_response": "on",
        "kind": "follow_up",
        "intake_via": "",
        "shift_when_late": "True",
        "wait_for_rep": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_create_cadence(admin_client, web_source):
    before = Cadence.objects.count()
    response = admin_client.post(
        reverse("cadences:create"), cadence_data(sources=[web_source.pk], business_days_only="on")
    )
    cadence = Cadence.objects.get(name="Dental leads")
    assert response.status_code == 302
    assert response["Location"] == reverse("cadences:detail", args=[cadence.pk])
    assert Cadence.objects.count() == before + 1
    assert cadence.active and cadence.business_days_only and cadence.instant_response
    assert not cadence.is_default
    assert list(cadence.sources.all()) == [web_source]
    # Keywords trimmed and de-duplicated (case-insensitively).
    assert cadence.interest_keywords == "dental, implants"


def test_create_form_renders_with_crispy(admin_client, web_source):
    response = admin_client.get(reverse("cadences:create"))
    html = response.content.decode()
    assert response.status_code == 200
    for name in ("name", "description", "active", "is_default", "sources", "interest_keywords"):
        assert f'name="{name}"' in html
    assert "Website" in html


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (cadence_data(name=""), "name"),
        (cadence_data(name="x" * 101), "name"),
        (cadence_data(sources=["999999"]), "sources"),
    ],
)
def test_invalid_cadence_saves_nothing(admin_client, data, field):
    before = Cadence.objects.count()
    response = admin_client.post(reverse("cadences:create"), data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert Cadence.objects.count() == before


def test_duplicate_name_is_a_form_error(admin_client, cadence):
    before = Cadence.objects.count()
    response = admin_client.post(reverse("cadences:create"), cadence_data(name=cadence.name))
    assert response.status_code == 200
    assert "name" in response.context["form"].errors
    assert Cadence.objects.count() == before


def test_only_one_default_when_creating(admin_client):
    Cadence.objects.filter(is_default=True).update(is_default=False)
    first = factories.CadenceFactory(name="First", is_default=True)
    response = admin_client.post(reverse("cadences:create"), cadence_data(name="Second", is_default="on"))
    assert response.status_code == 302
    first.refresh_from_db()
    assert not first.is_default
    assert list(Cadence.objects.filter(is_default=True).values_list("name", flat=True)) == ["Second"]


def test_only_one_default_when_editing(admin_client, cadence):
    previous_default = Cadence.objects.filter(is_default=True).first() or factories.CadenceFactory(
        name="Old default", is_default=True
    )
    response = admin_client.post(
        reverse("cadences:edit", args=[cadence.pk]), cadence_data(name="Web follow-up", is_default="on")
    )
    assert response.status_code == 302
    assert list(Cadence.objects.filter(is_default=True)) == [cadence]
    previous_default.refresh_from_db()
    assert not previous_default.is_default


def test_saving_the_default_again_keeps_it(cadence):
    Cadence.objects.filter(is_default=True).update(is_default=False)
    editing.cadence_update(cadence=cadence, name=cadence.name, is_default=True)
    editing.cadence_update(cadence=cadence, name="Renamed", is_default=True)
    assert list(Cadence.objects.filter(is_default=True).values_list("name", flat=True)) == ["Renamed"]


def test_edit_cadence_rules(admin_client, cadence, web_source):
    response = admin_client.post(
        reverse("cadences:edit", args=[cadence.pk]),
        cadence_data(name="Web follow-up v2", sources=[web_source.pk], interest_keywords="demo"),
    )
    assert response.status_code == 302
    cadence.refresh_from_db()
    assert cadence.name == "Web follow-up v2"
    assert cadence.interest_keywords == "demo"
    assert list(cadence.sources.all()) == [web_source]
    # Unticking clears the rule.
    admin_client.post(reverse("cadences:edit", args=[cadence.pk]), cadence_data(name="Web follow-up v2"))
    assert cadence.sources.count() == 0


def test_sequencing_and_kind_are_editable(admin_client, cadence):
    page = admin_client.get(reverse("cadences:edit", args=[cadence.pk])).content.decode()
    for words in (
        "What it is for",
        "For leads that came in",
        "When the rep is late",
        "Shift the rest",
        "Keep dates",
        "Wait for the rep",
        "Taken by a rep on the phone",
        "Long-term nurture",
    ):
        assert words in page, words
    data = cadence_data(name="Phone callers", interest_keywords="", shift_when_late="False", wait_for_rep=None)
    response = admin_client.post(reverse("cadences:edit", args=[cadence.pk]), {**data, "intake_via": "phone"})
    assert response.status_code == 302
    cadence.refresh_from_db()
    assert (cadence.intake_via, cadence.shift_when_late, cadence.wait_for_rep) == ("phone", False, False)
    page = admin_client.get(reverse("cadences:edit", args=[cadence.pk])).content.decode()
    [keep_dates] = re.findall(r'<input[^>]*name="shift_when_late"[^>]*value="False"[^>]*>', page)
    assert "checked" in keep_dates
    nurture = cadence_data(name="Later", kind="nurture", interest_keywords="")
    response = admin_client.post(reverse("cadences:edit", args=[cadence.pk]), nurture)
    assert response.status_code == 302
    cadence.refresh_from_db()
    assert cadence.kind == "nurture" and cadence.shift_when_late and cadence.wait_for_rep


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"kind": "nurture", "is_default": "on", "interest_keywords": ""}, "is_default", "Cannot be the default"),
        ({"kind": "no_show", "intake_via": "phone", "interest_keywords": ""}, "intake_via", "Any way in"),
        ({"kind": "nurture"}, "sources", "Clear the sources and keywords"),
        ({"is_default": "on", "intake_via": "phone"}, "intake_via", "whichever way they came in"),
        ({"kind": "cold"}, "kind", "valid choice"),
        ({"kind": None}, "kind", "required"),
        ({"shift_when_late": "sometimes"}, "shift_when_late", "valid choice"),
        ({"intake_via": "fax"}, "intake_via", "valid choice"),
    ],
)
def test_contradictory_kind_and_rules_save_nothing(admin_client, cadence, overrides, field, words):
    before = list(Cadence.objects.order_by("pk").values())
    response = admin_client.post(reverse("cadences:edit", args=[cadence.pk]), cadence_data(**overrides))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors and any(words in message for message in errors[field]), errors
    assert list(Cadence.objects.order_by("pk").values()) == before


def test_service_guards_the_kind_rules(cadence):
    with pytest.raises(ValidationError) as exc:
        editing.cadence_update(cadence=cadence, name="Nurture", kind="nurture", is_default=True)
    assert "is_default" in exc.value.message_dict
    cadence.refresh_from_db()
    assert cadence.name == "Web follow-up" and cadence.kind == "follow_up"


def test_service_rejects_blank_name(db):
    before = Cadence.objects.count()
    with pytest.raises(ValidationError):
        editing.cadence_create(name="   ")
    assert Cadence.objects.count() == before


def test_deactivate_keeps_running_enrollments(admin_client, cadence, call_step):
    enrollment = factories.EnrollmentFactory(cadence=cadence)
    touch = factories.TouchFactory(lead=enrollment.lead, enrollment=enrollment, step=call_step)
    response = admin_client.post(reverse("cadences:toggle_active", args=[cadence.pk]))
    assert response.status_code == 302
    cadence.refresh_from_db()
    assert not cadence.active
    enrollment.refresh_from_db()
    touch.refresh_from_db()
    assert enrollment.state == Enrollment.State.ACTIVE
    assert touch.status == TouchStatus.SCHEDULED
    page = admin_client.get(response["Location"])
    assert "running enrollment(s) carry on" in page.content.decode()
    # And back on.
    admin_client.post(reverse("cadences:toggle_active", args=[cadence.pk]))
    cadence.refresh_from_db()
    assert cadence.active
    assert cadence.steps.filter(retired_at__isnull=True).count() == 1
