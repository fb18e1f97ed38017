"""The day-by-day timeline."""

from django.urls import reverse

from cadences.models import CadenceStep, Channel
from cadences.selectors import TimelineDay, TimelineGap, cadence_timeline
from tests import factories


def steps_on(days):
    return [CadenceStep(pk=i + 1, day=d, position=0, channel=Channel.CALL) for i, d in enumerate(days)]


def test_timeline_has_every_day_up_to_the_last_step():
    cells = cadence_timeline(steps=steps_on([0, 1, 1, 3]))
    assert [type(c) for c in cells] == [TimelineDay] * 4
    assert [(c.day, len(c.steps)) for c in cells] == [(0, 1), (1, 2), (2, 0), (3, 1)]


def test_timeline_folds_long_empty_runs():
    cells = cadence_timeline(steps=steps_on([1, 10, 12]))
    kinds = [(c.day, len(c.steps)) if isinstance(c, TimelineDay) else ("gap", c.first, c.last) for c in cells]
    assert kinds == [(0, 0), (1, 1), ("gap", 2, 9), (10, 1), (11, 0), (12, 1)]
    assert cells[2].length == 8


def test_empty_cadence_has_no_timeline():
    assert cadence_timeline(steps=[]) == []


def test_cadence_page_shows_the_timeline_with_channel_badges(admin_client, cadence):
    factories.CadenceStepFactory(cadence=cadence, day=0, channel=Channel.EMAIL, automated=True, subject="S", body="B")
    factories.CadenceStepFactory(cadence=cadence, day=0, position=1, channel=Channel.CALL, send_hour=None)
    factories.CadenceStepFactory(cadence=cadence, day=28, channel=Channel.LINKEDIN)
    html = admin_client.get(reverse("cadences:detail", args=[cadence.pk])).content.decode()
    assert 'id="timeline"' in html
    assert 'data-day="0"' in html and 'data-day="28"' in html
    assert "Email ⚡" in html and "LinkedIn" in html
    assert "…27 days…" in html
    assert "3 steps over 29 days" in html


def test_reference_cadence_page_renders(admin_client):
    """The shipped cadence (data migration), if present, renders in the editor."""
    from cadences.models import Cadence

    for cadence in Cadence.objects.all():
        response = admin_client.get(reverse("cadences:detail", args=[cadence.pk]))
        assert response.status_code == 200
        assert isinstance(response.context["timeline"], list)
        assert all(isinstance(c, TimelineDay | TimelineGap) for c in response.context["timeline"])
