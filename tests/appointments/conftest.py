import datetime as dt

import pytest

from cadences.models import Cadence, CadenceKind, Channel, Touch, TouchStatus
from cadences.services import enrollment_start
from tests import factories

# Monday 1 June 2026, 09:00 in Los Angeles (the lead), 12:00 in New York (the rep).
MONDAY_9_LA = dt.datetime(2026, 6, 1, 16, 0, tzinfo=dt.UTC)


@pytest.fixture
def lead(rep):
    return factories.LeadFactory(
        owner=rep,
        first_name="Dana",
        last_name="Reyes",
        email="dana@example.org",
        phone="+14155550142",
        timezone="America/Los_Angeles",
    )


@pytest.fixture
def follow_up(db):
    """A follow-up cadence: a call now, an email on Day 2, a call on Day 4."""
    cadence = factories.CadenceFactory(name="Follow-up for appointments")
    factories.CadenceStepFactory(cadence=cadence, day=0, channel=Channel.CALL, send_hour=None)
    factories.CadenceStepFactory(
        cadence=cadence, day=2, channel=Channel.EMAIL, automated=True, subject="Hi", body="Hello {{ lead.first_name }}"
    )
    factories.CadenceStepFactory(cadence=cadence, day=4, channel=Channel.CALL)
    return cadence


@pytest.fixture
def task(lead, follow_up, rep):
    """The lead's open call task of a running follow-up cadence."""
    enrollment_start(lead=lead, cadence=follow_up, at=lead.created_at)
    return Touch.objects.get(lead=lead, status=TouchStatus.SCHEDULED, automated=False)


@pytest.fixture
def no_show_cadence(db):
    """The only active no-show cadence: a call at once and an email on Day 1."""
    Cadence.objects.filter(kind=CadenceKind.NO_SHOW).update(active=False)
    cadence = factories.CadenceFactory(name="Missed it", kind=CadenceKind.NO_SHOW)
    factories.CadenceStepFactory(cadence=cadence, day=0, channel=Channel.CALL, send_hour=None)
    factories.CadenceStepFactory(
        cadence=cadence, day=1, channel=Channel.EMAIL, automated=True, subject="Sorry we missed you", body="New time?"
    )
    return cadence
