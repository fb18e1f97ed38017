"""A cadence starts: its touches are created and the ones due at once go to the workers on commit."""

import datetime as dt

from django.db import transaction

from cadences.models import Cadence, Enrollment, IntakeVia
from cadences.services import cadence_pick_for_lead, enrollment_start, touches_due_now
from leads.models import Lead
from messaging.tasks import touches_send_now


def cadence_start(
    *, lead: Lead, cadence: Cadence, by=None, at: dt.datetime | None = None, instant: bool = True
) -> Enrollment:
    """Enrol the lead (cadences.services.enrollment_start) and send what is due now without waiting for a tick."""
    with transaction.atomic():
        enrollment = enrollment_start(lead=lead, cadence=cadence, by=by, at=at, instant=instant)
        due_now = touches_due_now(enrollment=enrollment)
        if due_now:
            # The instant auto-responder goes out as soon as the lead is committed, not at the next tick.
            transaction.on_commit(lambda: touches_send_now.delay(due_now))
    return enrollment


def cadence_start_for_new_lead(*, lead: Lead, by=None, via: str = "") -> Enrollment | None:
    """A just-created lead enters the cadence its rules and its way in pick, its days counted from its arrival.

    A lead a rep took on the phone (`via` "phone") has just been talked to: it gets no
    "I'll call you" auto-responder and no call-within-5-minutes task. A cadence made for phone
    leads (the shipped "Phone inquiry") has no such steps, so it starts whole, its Day 0
    thank-you email at once; any other cadence picked for a phone lead (no phone cadence is
    active) starts without its Day 0 "at once" steps (enrollment_start(instant=False)).
    """
    cadence = cadence_pick_for_lead(lead=lead, via=via)
    if cadence is None:
        return None
    instant = via != IntakeVia.PHONE or cadence.intake_via == IntakeVia.PHONE
    return cadence_start(lead=lead, cadence=cadence, by=by, at=lead.created_at, instant=instant)
