"""A lead changes status or owner: its cadence and tasks follow."""

from django.db import transaction

from accounts.models import User
from cadences.services import appointment_touches_cancel, enrollment_exit, touches_reassign_for_lead
from leads.models import GIVE_UP_STATUSES, Lead, LeadStatus
from leads.services.lifecycle import appointments_cancel_for_lead, lead_owner_set, lead_status_set, lead_update
from messaging.suppressions import lead_consent_inherit


def lead_status_change(*, lead: Lead, status: str, by: User | None, reason: str = "", override: bool = False) -> Lead:
    """Move the lead to `status` (leads.services.lifecycle.lead_status_set: the five-attempts rule, the
    timeline, a customer for a won lead); closing it or setting an appointment ends its cadence, and
    giving up on it (lost, unqualified) cancels its meetings to come, reminders and all."""
    with transaction.atomic():
        previous = lead.status
        lead = lead_status_set(lead=lead, status=status, by=by, reason=reason, override=override)
        if lead.status != previous and (not lead.is_open or status == LeadStatus.APPOINTMENT):
            # In words ("marked Appointment set"): the reason shows on the timeline and the lead page.
            enrollment_exit(lead=lead, reason=f"marked {lead.get_status_display()}")
        if lead.status != previous and lead.status in GIVE_UP_STATUSES:
            why = f"lead marked {lead.get_status_display()}"
            cancelled = appointments_cancel_for_lead(lead=lead, by=by, why=why)
            appointment_touches_cancel(appointment_ids=cancelled, reason=f"Appointment cancelled: {why}")
    return lead


def lead_assign(*, lead: Lead, owner: User, by: User) -> Lead:
    """Give a lead to another rep; its open tasks go with it."""
    with transaction.atomic():
        if lead_owner_set(lead=lead, owner=owner, by=by):
            touches_reassign_for_lead(lead=lead, to=owner)
    return lead


def lead_details_update(*, lead: Lead, by: User, **fields) -> Lead:
    """Edit a lead's details (leads.services.lifecycle.lead_update); a phone number or email address
    changed to one that opted out (on any lead) opts the lead out on that channel, with the reason."""
    with transaction.atomic():
        before = (lead.phone, lead.email.lower())
        lead = lead_update(lead=lead, by=by, **fields)
        if (lead.phone, lead.email.lower()) != before:
            lead_consent_inherit(lead=lead)
    return lead
