"""Writes of the Today page that are not touch outcomes (those are cadences.services.touch_complete)."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from leads.models import Contact, Lead, LeadEvent, LeadSource
from leads.timeline import lead_event_add
from reactions.intake import lead_intake

REFERRAL_SOURCE_NAME = "Referral"


def referral_call_log(
    *,
    contact: Contact,
    by: User,
    got_referral: bool,
    first_name: str = "",
    last_name: str = "",
    phone: str = "",
    email: str = "",
    note: str = "",
) -> Lead | None:
    """Log today's referral call to a customer; with a referral, create its lead (source "Referral",
    referred by the customer, owned by the caller). The customer counts as called either way."""
    first_name = (first_name or "").strip()
    if got_referral:
        errors = {}
        if not first_name:
            errors["first_name"] = ["Who did they refer? Enter a first name."]
        if not (phone or "").strip() and not (email or "").strip():
            errors["phone"] = ["Enter the referral's phone number or email."]
        if errors:
            raise ValidationError(errors)
    lead = None
    now = timezone.now()
    with transaction.atomic():
        if got_referral:
            source, _ = LeadSource.objects.get_or_create(name=REFERRAL_SOURCE_NAME)
            result = lead_intake(
                first_name=first_name,
                last_name=last_name,
                phone=phone,
                email=email,
                source=source,
                how_heard=f"Referred by {contact}",
                interest=note,
                owner=by,
                via="referral",
                actor=by,
                referred_by=contact,
            )
            lead = result.lead
            if result.created is False and lead.referred_by_id is None:
                Lead.objects.filter(pk=lead.pk).update(referred_by=contact)
                lead_event_add(lead=lead, kind=LeadEvent.Kind.NOTE, text=f"Referred by {contact}", actor=by, at=now)
        Contact.objects.filter(pk=contact.pk).update(last_referral_call_at=now)
        contact.last_referral_call_at = now
    return lead
