"""Builders for report fixtures with explicit timestamps (wall times in the org timezone)."""

import datetime as dt
from zoneinfo import ZoneInfo

from cadences.models import Channel, Outcome, TouchStatus
from leads.models import LeadStatus
from tests import factories

NY = ZoneInfo("America/New_York")


def at(text: str) -> dt.datetime:
    """'2026-06-01 09:00' in New York as an aware datetime."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=NY)


def make_lead(owner, arrived: str, *, status=LeadStatus.WORKING, closed: str | None = None, **kwargs):
    if status in (LeadStatus.WON, LeadStatus.LOST, LeadStatus.UNQUALIFIED) and closed is None:
        raise ValueError("closed leads need a closed time")
    return factories.LeadFactory(
        owner=owner,
        created_at=at(arrived),
        status=status,
        closed_at=at(closed) if closed else None,
        **kwargs,
    )


def attempt(lead, when: str, *, outcome=Outcome.NO_ANSWER, channel=Channel.CALL):
    """A manual touch a person completed (counters on the lead are set by the caller)."""
    moment = at(when)
    return factories.TouchFactory(
        lead=lead,
        channel=channel,
        automated=False,
        status=TouchStatus.DONE,
        outcome=outcome,
        completed_at=moment,
        completed_by=lead.owner,
        due_at=moment,
    )


def automated(lead, when: str, *, channel=Channel.EMAIL, status=TouchStatus.SENT):
    moment = at(when)
    return factories.TouchFactory(
        lead=lead, channel=channel, automated=True, status=status, sent_at=moment, due_at=moment, assigned_to=None
    )


def scheduled(lead, due: str, *, channel=Channel.CALL, automated_touch=False):
    return factories.TouchFactory(
        lead=lead, channel=channel, automated=automated_touch, status=TouchStatus.SCHEDULED, due_at=at(due)
    )
