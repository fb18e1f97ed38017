"""Bad step input: a clear error on the right field, and nothing saved."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from cadences import editing
from cadences.models import CadenceStep
from tests import factories
from tests.cadences_editor.conftest import step_data

HTMX = {"HTTP_HX_REQUEST": "true"}

CASES = [
    # (overrides, field with the error, words in the message)
    ({"channel": "call", "automated": "on"}, "automated", "Only email and SMS steps can be automated"),
    ({"channel": "linkedin", "automated": "on"}, "automated", "Only email and SMS"),
    ({"channel": "task", "automated": "on"}, "automated", "Only email and SMS"),
    ({"channel": "email", "subject": "", "body": "Hello"}, "subject", "Email steps need a subject"),
    ({"channel": "email", "subject": "Hi", "body": "  "}, "body", "Email steps need a body"),
    ({"channel": "sms", "automated": "on", "body": ""}, "body", "Automated SMS steps need a message body"),
    ({"channel": "sms", "automated": "on", "body": "x" * 1601}, "body", "at most 1600 characters"),
    ({"day": "366"}, "day", "between 0 and 365"),
    ({"day": "-1"}, "day", "between 0 and 365"),
    ({"day": "soon"}, "day", "whole number"),
    ({"send_hour": "24"}, "send_hour", "between 0 and 23"),
    ({"send_hour": "-3"}, "send_hour", "between 0 and 23"),
    ({"channel": "fax"}, "channel", "valid choice"),
    (
        {"channel": "sms", "automated": "on", "body": "Hi", "fresh_minutes": "4"},
        "fresh_minutes",
        "between 5 and 10080 minutes",
    ),
    (
        {"channel": "sms", "automated": "on", "body": "Hi", "fresh_minutes": "10081"},
        "fresh_minutes",
        "between 5 and 10080 minutes",
    ),
    ({"channel": "call", "fresh_minutes": "60"}, "fresh_minutes", "Only automated steps expire"),
    ({"channel": "sms", "automated": "on", "body": "Hi", "fresh_minutes": "soon"}, "fresh_minutes", "whole number"),
    ({"channel": "email", "subject": "Hi {% if %}", "body": "B"}, "subject", "Template error"),
    ({"talking_points": "{{ lead.first_name|shout }}"}, "talking_points", "Template error"),
    (
        {"channel": "email", "automated": "on", "subject": "Hi", "body": "Dear {{ lead.nickname }}"},
        "body",
        "Unknown merge field {{ lead.nickname }}",
    ),
    (
        {"channel": "sms", "automated": "on", "body": "Hi {{ lead.first_nmae }}"},
        "body",
        "Unknown merge field {{ lead.first_nmae }}",
    ),
]


@pytest.mark.parametrize(("overrides", "field", "words"), CASES)
def test_bad_step_on_add_saves_nothing(admin_client, cadence, overrides, field, words):
    before = CadenceStep.objects.count()
    response = admin_client.post(reverse("cadences:step_add", args=[cadence.pk]), step_data(**overrides), **HTMX)
    assert response.status_code == 200
    form = response.context["form"]
    assert field in form.errors, form.errors
    assert any(words in message for message in form.errors[field]), form.errors[field]
    assert words.split(" {{")[0] in response.content.decode().replace("&#x27;", "'")
    assert CadenceStep.objects.count() == before


@pytest.mark.parametrize(("overrides", "field", "words"), CASES[:8])
def test_bad_step_on_edit_changes_nothing(admin_client, cadence, email_step, overrides, field, words):
    factories.TouchFactory(step=email_step)
    before = list(CadenceStep.objects.filter(cadence=cadence).values())
    url = reverse("cadences:step_edit", args=[cadence.pk, email_step.pk])
    response = admin_client.post(url, step_data(**overrides))
    # Without htmx the whole page comes back with the errors in the editor.
    assert response.status_code == 200
    assert "<html" in response.content.decode()
    assert field in response.context["form"].errors
    assert response.context["editing_step"].pk == email_step.pk
    assert list(CadenceStep.objects.filter(cadence=cadence).values()) == before


def test_unknown_merge_field_is_only_a_warning_for_manual_steps(admin_client, cadence):
    data = step_data(channel="email", subject="Hi", body="Dear {{ lead.nickname }}", talking_points="{{ lead.pet }}")
    response = admin_client.post(reverse("cadences:step_add", args=[cadence.pk]), data, **HTMX)
    assert response.status_code == 200
    step = CadenceStep.objects.get(cadence=cadence)
    assert step.body == "Dear {{ lead.nickname }}"
    html = response.content.decode()
    assert "Body: Unknown merge field {{ lead.nickname }}" in html
    assert "Talking points: Unknown merge field {{ lead.pet }}" in html


def test_unknown_field_in_talking_points_never_blocks(cadence):
    step, warnings = editing.cadence_step_create(
        cadence=cadence,
        day=1,
        channel="email",
        automated=True,
        subject="Hi {{ lead.first_name }}",
        body="Body",
        talking_points="Ask about {{ lead.budget }}",
    )
    assert step.pk
    assert warnings == ["Talking points: Unknown merge field {{ lead.budget }}."]


def test_filler_phrases_are_flagged(cadence):
    _, warnings = editing.cadence_step_create(
        cadence=cadence, day=2, channel="call", talking_points="Just touching base to see how things are."
    )
    assert any("just touching base" in w for w in warnings)


def test_manual_sms_may_be_long_or_empty(cadence):
    step, _ = editing.cadence_step_create(cadence=cadence, day=2, channel="sms", automated=False, body="")
    assert step.pk


def test_service_guards_the_same_rules(cadence, call_step):
    before = list(CadenceStep.objects.filter(cadence=cadence).values())
    with pytest.raises(ValidationError) as exc:
        editing.cadence_step_create(cadence=cadence, day=400, channel="twitter", automated=True)
    assert set(exc.value.message_dict) == {"day", "automated"}
    with pytest.raises(ValidationError):
        editing.cadence_step_update(step=call_step, day=1, channel="email", subject="", body="")
    assert list(CadenceStep.objects.filter(cadence=cadence).values()) == before


def test_boundaries_are_accepted(admin_client, cadence):
    for overrides in (
        {"day": "0", "send_hour": "0"},
        {"day": "365", "send_hour": "23"},
        {"channel": "sms", "automated": "on", "body": "x" * 1600},
    ):
        response = admin_client.post(reverse("cadences:step_add", args=[cadence.pk]), step_data(**overrides))
        assert response.status_code == 302, response.context["form"].errors
    assert CadenceStep.objects.filter(cadence=cadence).count() == 3


def test_send_within_is_saved_and_empty_means_the_default(admin_client, cadence):
    url = reverse("cadences:step_add", args=[cadence.pk])
    sms = {"channel": "sms", "automated": "on", "body": "Hi {{ lead.first_name }}"}
    admin_client.post(url, step_data(**sms, fresh_minutes="90"), **HTMX)
    admin_client.post(url, step_data(**sms, day="3", fresh_minutes=""), **HTMX)
    assert list(CadenceStep.objects.filter(cadence=cadence).values_list("day", "fresh_minutes")) == [
        (2, 90),
        (3, None),
    ]


def test_send_within_service_guard(cadence):
    with pytest.raises(ValidationError) as exc:
        editing.cadence_step_create(cadence=cadence, day=1, channel="email", subject="S", body="B", fresh_minutes=3)
    assert "fresh_minutes" in exc.value.message_dict
    assert not CadenceStep.objects.filter(cadence=cadence).exists()
