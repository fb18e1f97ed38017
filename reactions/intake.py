"""An inquiry arrives, by any path (phone form, web-to-lead API, CSV import, referral, inbound SMS)."""

import logging

from django.db import transaction

from leads.services.intake import IntakeResult, lead_capture
from messaging.suppressions import lead_consent_inherit
from messaging.tasks import rep_alert_new_lead_task
from reactions.cadence import cadence_start_for_new_lead

log = logging.getLogger(__name__)


def lead_intake(*, actor=None, via: str = "form", **inquiry) -> IntakeResult:
    """Capture the inquiry and, for a new lead, set its follow-up going:

    1. the lead is created with an owner and its first timeline entry — or, when an open lead
       has the same phone or email, the inquiry is added to that lead and nothing else happens;
    2. a number or address that opted out before (on any lead) starts opted out on this lead too,
       with the reason on its timeline (messaging.suppressions), before its cadence is scheduled;
    3. the owner is alerted (email, and SMS to their phone) once the lead is committed;
    4. the lead enters the cadence its rules and the way it came in (`via`) pick, counted from
       its arrival: a lead a rep took on the phone gets the phone cadence, never "I'll call you";
    5. the cadence's instant touches (the auto-responder) go to the workers on commit.

    `via` and `inquiry` are the arguments of leads.services.intake.lead_capture.
    """
    with transaction.atomic():
        result = lead_capture(actor=actor, via=via, **inquiry)
        if result.created:
            lead = result.lead
            lead_consent_inherit(lead=lead, at=lead.created_at)
            if lead.owner_id is not None:
                transaction.on_commit(lambda: _rep_alert_enqueue(lead_id=lead.pk))
            cadence_start_for_new_lead(lead=lead, by=actor, via=via)
    return result


def _rep_alert_enqueue(*, lead_id: int) -> None:
    """Queue the new-lead alert; a broker outage must not break intake (the lead is already saved)."""
    try:
        rep_alert_new_lead_task.delay(lead_id)
    except Exception:
        log.exception("could not queue the new-lead alert for lead %s", lead_id)
