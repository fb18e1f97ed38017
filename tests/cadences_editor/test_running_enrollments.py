"""With the real engine: editing a cadence never changes what running enrollments send."""

from django.urls import reverse

from cadences import services
from cadences.models import CadenceStep, Channel, Touch
from tests import factories
from tests.cadences_editor.conftest import step_data


def test_edit_and_remove_after_enrolment(admin_client, cadence, email_step, call_step, rep):
    first = factories.LeadFactory(owner=rep, interest="online booking")
    services.enrollment_start(lead=first, cadence=cadence)
    touches = {t.channel: t for t in Touch.objects.filter(lead=first)}
    assert set(touches) == {Channel.EMAIL, Channel.CALL}

    admin_client.post(
        reverse("cadences:step_edit", args=[cadence.pk, email_step.pk]),
        step_data(day="1", channel="email", automated="on", subject="Version 2", body="Body 2"),
    )
    admin_client.post(reverse("cadences:step_remove", args=[cadence.pk, call_step.pk]))

    # The first lead's touches still say what they said when it was enrolled.
    email_touch = Touch.objects.select_related("step").get(pk=touches[Channel.EMAIL].pk)
    assert email_touch.step.subject == "Hello {{ lead.first_name }}"
    assert Touch.objects.filter(lead=first).count() == 2
    # A lead enrolled now gets the new version and not the removed step.
    second = factories.LeadFactory(owner=rep)
    services.enrollment_start(lead=second, cadence=cadence)
    later = list(Touch.objects.filter(lead=second).select_related("step"))
    assert [(t.channel, t.step.subject) for t in later] == [(Channel.EMAIL, "Version 2")]
    assert CadenceStep.objects.filter(cadence=cadence).count() == 3  # old email, its successor, retired call
