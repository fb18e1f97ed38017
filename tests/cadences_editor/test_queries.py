"""The list and the cadence page cost the same number of queries for 1 or 10 cadences/steps."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cadences.models import Channel, Enrollment
from tests import factories


def make_cadence(name, n_steps, n_enrollments, source):
    cadence = factories.CadenceFactory(name=name, interest_keywords="dental")
    cadence.sources.add(source)
    steps = [
        factories.CadenceStepFactory(cadence=cadence, day=i * 2, position=0, channel=Channel.CALL)
        for i in range(n_steps)
    ]
    for _ in range(n_enrollments):
        enrollment = factories.EnrollmentFactory(cadence=cadence)
        factories.TouchFactory(lead=enrollment.lead, enrollment=enrollment, step=steps[0])
    factories.EnrollmentFactory(cadence=cadence, state=Enrollment.State.COMPLETED)
    return cadence


def count_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx), response


@pytest.mark.parametrize("n_cadences", [1, 10])
def test_list_queries_are_constant(admin_client, web_source, django_assert_num_queries, n_cadences):
    for i in range(n_cadences):
        make_cadence(f"C{i:02d}", n_steps=3, n_enrollments=2, source=web_source)
    # session, user, unread notifications, unmatched replies count, cadences with counts, their sources
    with django_assert_num_queries(6):
        response = admin_client.get(reverse("cadences:list"))
    rows = {c.name: c for c in response.context["cadences"]}
    row = rows["C00"]
    assert (row.active_step_count, row.active_enrollment_count, row.span_days) == (3, 2, 4)
    assert row.rules == "Source: Website · Interest: dental"


def test_list_counts_ignore_retired_steps_and_finished_enrollments(admin_client, web_source):
    from django.utils import timezone

    cadence = make_cadence("Counted", n_steps=4, n_enrollments=1, source=web_source)
    cadence.steps.filter(day=6).update(retired_at=timezone.now())
    response = admin_client.get(reverse("cadences:list"))
    row = next(c for c in response.context["cadences"] if c.pk == cadence.pk)
    assert (row.active_step_count, row.active_enrollment_count, row.span_days) == (3, 1, 4)
    html = response.content.decode()
    assert "Counted" in html and "4 days" in html


@pytest.mark.parametrize("n_steps", [1, 10])
def test_cadence_page_queries_are_constant(admin_client, web_source, django_assert_num_queries, n_steps):
    cadence = make_cadence("Paged", n_steps=n_steps, n_enrollments=2, source=web_source)
    # session, user, unread notifications, unmatched replies count, cadence with counts, its sources, its steps
    # with touch counts
    with django_assert_num_queries(7):
        response = admin_client.get(reverse("cadences:detail", args=[cadence.pk]))
    assert len(response.context["steps"]) == n_steps
    assert response.context["steps"][0].touch_count == 2


def test_htmx_step_actions_do_not_grow_with_steps(admin_client, web_source):
    small = make_cadence("Small", n_steps=1, n_enrollments=0, source=web_source)
    big = make_cadence("Big", n_steps=10, n_enrollments=0, source=web_source)
    counts = []
    for cadence in (small, big):
        with CaptureQueriesContext(connection) as ctx:
            admin_client.get(reverse("cadences:detail", args=[cadence.pk]), HTTP_HX_REQUEST="true")
        counts.append(len(ctx))
    assert counts[0] == counts[1]
