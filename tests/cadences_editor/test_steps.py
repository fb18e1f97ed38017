"""Adding, editing, removing and reordering steps; versioning of steps that touches use."""

import pytest
from django.urls import reverse

from cadences import editing
from cadences.models import CadenceStep, Channel
from tests import factories
from tests.cadences_editor.conftest import step_data

HTMX = {"HTTP_HX_REQUEST": "true"}


def active_steps(cadence):
    return list(
        CadenceStep.objects.filter(cadence=cadence, retired_at__isnull=True)
        .order_by("day", "position", "id")
        .values_list("day", "position", "channel")
    )


def test_add_step_without_htmx_redirects(admin_client, cadence):
    url = reverse("cadences:step_add", args=[cadence.pk])
    response = admin_client.post(url, step_data(day="2", channel="call"))
    assert response.status_code == 302
    assert response["Location"] == reverse("cadences:detail", args=[cadence.pk])
    step = CadenceStep.objects.get(cadence=cadence)
    assert (step.day, step.position, step.channel, step.automated, step.send_hour) == (2, 0, "call", False, 10)
    assert step.talking_points == "Share the customer story about faster booking."


def test_add_step_with_htmx_returns_workspace(admin_client, cadence, call_step):
    url = reverse("cadences:step_add", args=[cadence.pk])
    subject, body = "Ideas for {{ lead.company }}", "Hi {{ lead.first_name }}"
    data = step_data(day="1", channel="email", automated="on", subject=subject, body=body)
    response = admin_client.post(url, data, **HTMX)
    assert response.status_code == 200
    # Step previews render inline templates (no name) first.
    assert [t.name for t in response.templates if t.name][0] == "cadences/_workspace.html"
    html = response.content.decode()
    assert 'id="workspace"' in html and "<html" not in html
    assert "Day 1 Email step added." in html
    # Appended after the existing Day 1 step.
    assert active_steps(cadence) == [(1, 1, "call"), (1, 2, "email")]


def test_add_step_with_empty_send_hour_means_arrival_time(admin_client, cadence):
    admin_client.post(reverse("cadences:step_add", args=[cadence.pk]), step_data(day="0", send_hour=""))
    step = CadenceStep.objects.get(cadence=cadence)
    assert step.send_hour is None
    page = admin_client.get(reverse("cadences:detail", args=[cadence.pk])).content.decode()
    assert "at once" in page


def test_edit_unreferenced_step_in_place(admin_client, cadence, call_step):
    url = reverse("cadences:step_edit", args=[cadence.pk, call_step.pk])
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(url, step_data(day="1", talking_points="Offer the ROI calculator."))
    assert response.status_code == 302
    call_step.refresh_from_db()
    assert call_step.talking_points == "Offer the ROI calculator."
    assert call_step.retired_at is None
    assert CadenceStep.objects.filter(cadence=cadence).count() == 1


def test_edit_form_is_prefilled(admin_client, cadence, email_step):
    response = admin_client.get(reverse("cadences:step_edit", args=[cadence.pk, email_step.pk]), **HTMX)
    assert response.status_code == 200
    form = response.context["form"]
    assert form.instance == email_step
    assert "Hello {{ lead.first_name }}" in response.content.decode()
    # The preview already shows it for the sample lead.
    assert "Hello Jordan" in response.content.decode()


def test_edit_of_referenced_step_retires_it_and_keeps_the_touch(admin_client, cadence, email_step):
    enrollment = factories.EnrollmentFactory(cadence=cadence)
    touch = factories.TouchFactory(
        lead=enrollment.lead, enrollment=enrollment, step=email_step, channel=Channel.EMAIL, automated=True
    )
    old_subject, old_body = email_step.subject, email_step.body
    url = reverse("cadences:step_edit", args=[cadence.pk, email_step.pk])
    data = step_data(
        day="1", channel="email", automated="on", subject="New subject {{ lead.first_name }}", body="New body"
    )
    response = admin_client.post(url, data)
    assert response.status_code == 302

    # The running enrollment's touch still points at the old step, whose content is unchanged.
    touch.refresh_from_db()
    assert touch.step_id == email_step.pk
    assert (touch.step.subject, touch.step.body) == (old_subject, old_body)
    assert touch.step.retired_at is not None
    # A new active step carries the edit, in the old one's place.
    successor = CadenceStep.objects.get(cadence=cadence, retired_at__isnull=True)
    assert successor.pk != email_step.pk
    assert (successor.day, successor.position, successor.subject, successor.body) == (
        1,
        email_step.position,
        "New subject {{ lead.first_name }}",
        "New body",
    )
    # The editor shows only the successor; the retired one can no longer be edited.
    page = admin_client.get(reverse("cadences:detail", args=[cadence.pk]))
    assert [s.pk for s in page.context["steps"]] == [successor.pk]
    assert admin_client.get(url).status_code == 404


def test_unchanged_referenced_step_is_not_versioned(cadence, call_step):
    factories.TouchFactory(step=call_step)
    result, _ = editing.cadence_step_update(
        step=call_step,
        day=call_step.day,
        channel=call_step.channel,
        automated=False,
        send_hour=call_step.send_hour,
        subject="",
        body="",
        talking_points=call_step.talking_points,
    )
    assert result.pk == call_step.pk
    assert CadenceStep.objects.filter(cadence=cadence).count() == 1


def test_moving_a_step_to_another_day_appends_it_there(admin_client, cadence, email_step, call_step):
    day3 = factories.CadenceStepFactory(cadence=cadence, day=3, position=0, channel=Channel.LINKEDIN)
    url = reverse("cadences:step_edit", args=[cadence.pk, email_step.pk])
    data = step_data(day="3", channel="email", automated="on", subject="S", body="B")
    admin_client.post(url, data)
    assert active_steps(cadence) == [(1, 0, "call"), (3, 0, "linkedin"), (3, 1, "email")]
    assert day3.pk


def test_remove_unreferenced_step(admin_client, cadence, email_step, call_step):
    response = admin_client.post(reverse("cadences:step_remove", args=[cadence.pk, email_step.pk]), **HTMX)
    assert response.status_code == 200
    assert "Day 1 Email step removed." in response.content.decode()
    # Out of the cadence; the remaining Day 1 step moves up to position 0.
    assert active_steps(cadence) == [(1, 0, "call")]
    assert [s.pk for s in response.context["steps"]] == [call_step.pk]


def test_remove_referenced_step_retires_it(admin_client, cadence, email_step):
    touch = factories.TouchFactory(step=email_step, channel=Channel.EMAIL)
    response = admin_client.post(reverse("cadences:step_remove", args=[cadence.pk, email_step.pk]))
    assert response.status_code == 302
    email_step.refresh_from_db()
    assert email_step.retired_at is not None
    touch.refresh_from_db()
    assert touch.step_id == email_step.pk
    assert active_steps(cadence) == []


@pytest.fixture
def day_of_three(cadence):
    """Day 2: call, email, sms (positions 0, 1, 2) and a Day 1 and Day 3 step around it."""
    before = factories.CadenceStepFactory(cadence=cadence, day=1, position=0, channel=Channel.TASK)
    steps = [
        factories.CadenceStepFactory(cadence=cadence, day=2, position=i, channel=channel)
        for i, channel in enumerate([Channel.CALL, Channel.LINKEDIN, Channel.TWITTER])
    ]
    after = factories.CadenceStepFactory(cadence=cadence, day=3, position=0, channel=Channel.TASK)
    return before, steps, after


def test_reorder_up_and_down(admin_client, cadence, day_of_three):
    _, (call, linkedin, twitter), _ = day_of_three
    response = admin_client.post(reverse("cadences:step_move", args=[cadence.pk, twitter.pk, "up"]), **HTMX)
    assert response.status_code == 200
    day2 = [s for s in active_steps(cadence) if s[0] == 2]
    assert day2 == [(2, 0, "call"), (2, 1, "twitter"), (2, 2, "linkedin")]
    response = admin_client.post(reverse("cadences:step_move", args=[cadence.pk, call.pk, "down"]))
    assert response.status_code == 302
    assert active_steps(cadence) == [
        (1, 0, "task"),
        (2, 0, "twitter"),
        (2, 1, "call"),
        (2, 2, "linkedin"),
        (3, 0, "task"),
    ]


def test_reorder_never_crosses_days(admin_client, cadence, day_of_three):
    before, (call, _, twitter), after = day_of_three
    expected = active_steps(cadence)
    admin_client.post(reverse("cadences:step_move", args=[cadence.pk, call.pk, "up"]))
    admin_client.post(reverse("cadences:step_move", args=[cadence.pk, twitter.pk, "down"]))
    admin_client.post(reverse("cadences:step_move", args=[cadence.pk, before.pk, "down"]))
    admin_client.post(reverse("cadences:step_move", args=[cadence.pk, after.pk, "up"]))
    assert active_steps(cadence) == expected


def test_reorder_buttons_disabled_at_the_ends_of_a_day(admin_client, cadence, day_of_three):
    response = admin_client.get(reverse("cadences:detail", args=[cadence.pk]))
    flags = [(s.day, s.can_move_up, s.can_move_down) for s in response.context["steps"]]
    assert flags == [(1, False, False), (2, False, True), (2, True, True), (2, True, False), (3, False, False)]


def test_reorder_bad_direction_changes_nothing(admin_client, cadence, day_of_three):
    _, (call, _, _), _ = day_of_three
    expected = active_steps(cadence)
    response = admin_client.post(reverse("cadences:step_move", args=[cadence.pk, call.pk, "sideways"]))
    assert response.status_code == 302
    assert active_steps(cadence) == expected


def test_reorder_of_referenced_steps_keeps_their_content(cadence, day_of_three):
    _, (call, linkedin, _), _ = day_of_three
    factories.TouchFactory(step=call)
    assert editing.cadence_step_move(step=call, direction="down") is True
    call.refresh_from_db()
    assert call.retired_at is None and call.position == 1
    assert CadenceStep.objects.filter(cadence=cadence).count() == 5


# --- The step list shows rendered text -----------------------------------------------------


def steps_table(html):
    return html[html.index('id="steps"') : html.index('id="step-editor"')]


def test_step_list_shows_the_steps_rendered_for_the_sample_lead(admin_client, admin_user, cadence, email_step):
    factories.CadenceStepFactory(
        cadence=cadence, day=2, channel=Channel.CALL, talking_points="Ask {{ lead.first_name }} about {{ company }}."
    )
    html = steps_table(admin_client.get(reverse("cadences:detail", args=[cadence.pk])).content.decode())
    assert "Hello Jordan" in html  # the subject, for the sample lead
    assert "Hi Jordan, thanks for asking about online booking" in html  # what an automated step sends
    assert "Ask Jordan about" in html  # a task's talking points
    assert "{{" not in html and "lead.first_name" not in html


def test_shipped_cadence_pages_show_no_merge_tags(admin_client):
    from cadences.models import Cadence

    for cadence in Cadence.objects.all():
        html = steps_table(admin_client.get(reverse("cadences:detail", args=[cadence.pk])).content.decode())
        assert "{{" not in html and "{%" not in html, cadence.name
        # Rendered for a sample lead; a text from a new number has no name to use.
        assert "Jordan" in html or cadence.intake_via == "sms", cadence.name


def test_send_within_is_shown_in_the_step_list(admin_client, cadence, email_step):
    email_step.fresh_minutes = 240
    email_step.save()
    html = steps_table(admin_client.get(reverse("cadences:detail", args=[cadence.pk])).content.decode())
    assert "send within 240 min" in html
