"""A cadence starts: its touches are created and the ones due at once go to the workers on commit."""

import datetime as dt

from django.db import transaction

from cadences.models import Cadence, Enrollment
from cadences.services import cadence_pick_for_lead, enrollment_start, touches_due_now
from leads.models import Lead
from messaging.tasks import touches_send_now


def cadence_start(*, lead: Lead, cadence: Cadence, by=None, at: dt.datetime | None = None) -> Enrollment:
    """Enrol the lead (cadences.services.enrollment_start) and send what is due now without waiting for a tick."""
    with transaction.atomic():
        enrollment = enrollment_start(lead=lead, cadence=cadence, by=by, at=at)
        due_now = touches_due_now(enrollment=enrollment)
        if due_now:
            # The instant auto-responder goes out as soon as the lead is committed, not at the next tick.
            transaction.on_commit(lambda: touches_send_now.delay(due_now))
    return enrollment


def cadence_start_for_new_lead(*, lead: Lead, by=None) -> Enrollment | None:
    """A just-created lead enters the cadence its rules pick, its days counted from its arrival."""
    cadence = cadence_pick_for_lead(lead=lead)
    if cadence is None:
        return None
    return cadence_start(lead=lead, cadence=cadence, by=by, at=lead.created_at)
