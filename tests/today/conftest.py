import datetime as dt

import pytest
from django.utils import timezone

from cadences.models import Channel
from tests import factories


@pytest.fixture
def cadence(db):
    """A 28-day cadence: Day 0 instant call, Day 5 email + LinkedIn, Day 28 call."""
    cadence = factories.CadenceFactory(name="Web 28")
    steps = {
        "instant": factories.CadenceStepFactory(
            cadence=cadence,
            day=0,
            channel=Channel.CALL,
            send_hour=None,
            talking_points="Call {{ lead.first_name }} now",
        ),
        "day5_email": factories.CadenceStepFactory(
            cadence=cadence,
            day=5,
            channel=Channel.EMAIL,
            position=0,
            subject="Hi {{ lead.first_name }}",
            body="Hello {{ lead.first_name }}, this is {{ rep.first_name }}.",
            talking_points="Share the case study",
        ),
        "day5_linkedin": factories.CadenceStepFactory(cadence=cadence, day=5, channel=Channel.LINKEDIN, position=1),
        "day28": factories.CadenceStepFactory(cadence=cadence, day=28, channel=Channel.CALL),
    }
    cadence.steps_by_name = steps
    return cadence


@pytest.fixture
def make_task(cadence):
    """make_task(owner, step="day5_linkedin", due=-timedelta, **kw) -> an open manual Touch for a new lead of owner."""

    def make(owner, step="day28", due=dt.timedelta(minutes=-5), lead=None, **kwargs):
        step_obj = cadence.steps_by_name[step] if step else None
        lead = lead or factories.LeadFactory(owner=owner, created_at=timezone.now() - dt.timedelta(days=1))
        return factories.TouchFactory(
            lead=lead,
            step=step_obj,
            channel=step_obj.channel if step_obj else kwargs.pop("channel", Channel.CALL),
            due_at=timezone.now() + due,
            **kwargs,
        )

    return make
