"""Builders for report fixtures with explicit timestamps (wall times in the org timezone)."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from cadences.models import Channel, Outcome, TouchStatus
from cadences.services import touch_mark_done
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


def worked(lead, when: str, *, outcome=Outcome.NO_ANSWER, channel=Channel.CALL):
    """A person logs an attempt through the product (cadences.services.touch_mark_done) at `when`:
    the lead's counters (attempts, first response, new -> working) move as they do in production."""
    task = scheduled(lead, when, channel=channel)
    with time_machine.travel(at(when), tick=False):
        touch_mark_done(touch=task, outcome=outcome, by=lead.owner)
    lead.refresh_from_db()
    return task


def closed(lead, status, when: str):
    """Close a lead as it is at `when` (the attempt rule is the lifecycle service's, tested there)."""
    type(lead).objects.filter(pk=lead.pk).update(status=status, closed_at=at(when))
    lead.refresh_from_db()
    return lead


DST_WEEK = dt.date(2026, 3, 2)  # Monday; DST starts Sunday March 8 in New York: 167 hours
DST_WEEK_END = dt.date(2026, 3, 8)
AFTER_DST_WEEK = "2026-03-09 10:00"


@pytest.fixture
def dst_week(rep, teammate, other_rep, web_source):
    """One week of leads in every status, automated-only and human-only, across the DST change.

    North (Mona's): Alice a1-a13, Bob b1-b2; South: Charlie c1. Expected figures, by hand, for the
    week of March 2 (arrivals March 2-8), read on Monday March 9:
    received 12 (a1-a10, b1, b2); left behind 4 (a1, a11, a13, b2); to follow up 14, followed up 6
    (a2, a3, a4, a5, a7, b1); closed early 2 (a7, a8) of 3 given up (b1 had five attempts);
    attempts 11; never followed up 6 (a1, a6, a8, a9, a10, b2), 3 of them automated only (a1, a9, b2);
    automated first touches 4 (a1, a2, a9, b2); first calls 6.
    The week before (Feb 23 - Mar 1): received 1 (a11), left behind 1 (a13), followed up 1 of 2.
    """
    d = {}
    # a1: new, only the auto-responder wrote, nothing scheduled: left behind, automated only.
    d["a1"] = make_lead(rep, "2026-03-02 09:00", first_name="Autoonly", status=LeadStatus.NEW, source=web_source)
    automated(d["a1"], "2026-03-02 09:00:20")
    # a2: auto SMS in 5 s, a call 4 minutes later, the next call scheduled: followed up.
    d["a2"] = make_lead(rep, "2026-03-02 10:00", first_name="Quickcall", status=LeadStatus.NEW, source=web_source)
    automated(d["a2"], "2026-03-02 10:00:05", channel=Channel.SMS)
    worked(d["a2"], "2026-03-02 10:04")
    scheduled(d["a2"], "2026-03-10 10:00")
    # a3: human only (no automated touch), connected, nothing scheduled: followed up, not left behind.
    d["a3"] = make_lead(rep, "2026-03-03 11:00", first_name="Humanonly", status=LeadStatus.NEW)
    worked(d["a3"], "2026-03-03 11:30", outcome=Outcome.CONNECTED)
    # a4: won after a call and an email.
    d["a4"] = make_lead(rep, "2026-03-03 12:00", first_name="Winner", status=LeadStatus.NEW, source=web_source)
    worked(d["a4"], "2026-03-03 12:10", outcome=Outcome.CONNECTED)
    worked(d["a4"], "2026-03-04 09:00", outcome=Outcome.APPOINTMENT, channel=Channel.EMAIL)
    closed(d["a4"], LeadStatus.WON, "2026-03-05 15:00")
    # a5: appointment set, nothing scheduled: never left behind.
    d["a5"] = make_lead(rep, "2026-03-04 09:00", first_name="Booked", status=LeadStatus.NEW)
    worked(d["a5"], "2026-03-04 09:30", outcome=Outcome.APPOINTMENT)
    type(d["a5"]).objects.filter(pk=d["a5"].pk).update(status=LeadStatus.APPOINTMENT)
    # a6: nurturing, never followed up, nothing scheduled: not left behind (nurturing never is).
    d["a6"] = make_lead(rep, "2026-03-04 10:00", first_name="Nurtured", status=LeadStatus.NURTURING)
    # a7: one "no", closed lost: closed early.
    d["a7"] = make_lead(rep, "2026-03-05 09:00", first_name="Quitter", status=LeadStatus.NEW, source=web_source)
    worked(d["a7"], "2026-03-05 09:15", outcome=Outcome.NOT_INTERESTED)
    closed(d["a7"], LeadStatus.LOST, "2026-03-05 10:00")
    # a8: unqualified without any attempt: closed early, never followed up.
    d["a8"] = make_lead(rep, "2026-03-05 11:00", first_name="Spam", status=LeadStatus.NEW)
    closed(d["a8"], LeadStatus.UNQUALIFIED, "2026-03-05 11:30")
    # a9: Sunday 23:30 EDT (after the change; 03:30 UTC Monday) is still this week; its call waits
    # for the previous step (pending): not left behind.
    d["a9"] = make_lead(rep, "2026-03-08 23:30", first_name="Latesunday", status=LeadStatus.NEW)
    automated(d["a9"], "2026-03-08 23:30:10")
    pending = scheduled(d["a9"], "2026-03-09 09:00")
    type(pending).objects.filter(pk=pending.pk).update(status=TouchStatus.PENDING)
    # a10: working, its cadence paused: not left behind, never followed up.
    d["a10"] = make_lead(rep, "2026-03-06 09:00", first_name="Paused", status=LeadStatus.WORKING)
    paused = scheduled(d["a10"], "2026-03-11 09:00", channel=Channel.EMAIL, automated_touch=True)
    type(paused).objects.filter(pk=paused.pk).update(status=TouchStatus.PAUSED)
    # a11: arrived the week before, called then; nothing this week, nothing scheduled: left behind.
    d["a11"] = make_lead(rep, "2026-02-24 09:00", first_name="Lastweek", status=LeadStatus.NEW)
    worked(d["a11"], "2026-02-24 09:30")
    # a12: Monday 00:30 after the week: not in it.
    d["a12"] = make_lead(rep, "2026-03-09 00:30", first_name="Nextweek", status=LeadStatus.NEW)
    # a13: older, left behind both weeks.
    d["a13"] = make_lead(rep, "2026-02-20 09:00", first_name="Forgotten", status=LeadStatus.NEW)
    worked(d["a13"], "2026-02-20 10:00")
    # b1: five attempts, then lost: given up, not closed early.
    d["b1"] = make_lead(teammate, "2026-03-02 09:00", first_name="Persisted", status=LeadStatus.NEW)
    for day in range(2, 7):
        worked(d["b1"], f"2026-03-0{day} 11:00")
    closed(d["b1"], LeadStatus.LOST, "2026-03-06 12:00")
    # b2: a delivered SMS only, nothing scheduled: left behind, automated only.
    d["b2"] = make_lead(teammate, "2026-03-02 13:00", first_name="Smsonly", status=LeadStatus.NEW)
    automated(d["b2"], "2026-03-02 13:00:03", channel=Channel.SMS, status=TouchStatus.DELIVERED)
    # c1: South: never in North's figures.
    d["c1"] = make_lead(other_rep, "2026-03-03 09:00", first_name="Southern", status=LeadStatus.NEW)
    return d
