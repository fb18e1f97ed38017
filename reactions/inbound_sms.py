"""A text message arrives from a lead (Twilio's inbound webhook)."""

import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import Role, User
from accounts.services import notify
from cadences.models import Channel, Touch
from cadences.services import enrollment_exit, task_create
from leads.models import Lead, LeadSource
from leads.phones import phone_display
from messaging.models import Message
from messaging.services import (
    help_text,
    inbound_sms_attach,
    inbound_sms_seen,
    inbound_sms_store,
    keyword_of,
    lead_for_phone,
    sms_opt_in,
    sms_opt_out,
)
from messaging.suppressions import suppression_record
from reactions.intake import lead_intake

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class InboundResult:
    message: Message | None
    reply: str  # text to answer with in TwiML ("" = no reply)
    duplicate: bool = False


def inbound_sms_receive(*, sid: str, from_number: str, to_number: str, body: str) -> InboundResult:
    """Handle one inbound SMS from Twilio, once per MessageSid.

    1. Store the Message first: a redelivered webhook (or a concurrent duplicate) fails on the
       unique inbound provider id, and everything rolls back untouched.
    2. Find the lead by number (latest open, else latest); a number we do not know becomes a new
       lead through lead_intake (unless it is a keyword: a STOP or START from it still changes
       the number's consent, messaging.suppressions, for any lead it becomes later).
    3. Keywords change consent; any other text is a reply: the cadence exits, the rep gets an
       urgent call task and a notification.
    """
    keyword = keyword_of(body)
    reply = help_text() if keyword == "HELP" else ""
    if inbound_sms_seen(sid):
        return InboundResult(message=None, reply=reply, duplicate=True)
    try:
        with transaction.atomic():
            message = inbound_sms_store(sid=sid, from_number=from_number, to_number=to_number, body=body)
            lead = lead_for_phone(from_number)
            created = False
            if lead is None and keyword == "":
                lead, created = _lead_from_sms(from_number, body)
            if lead is not None:
                inbound_sms_attach(message=message, lead=lead)
                _effects(lead, keyword=keyword, new_lead=created)
            elif keyword in ("STOP", "START"):
                source = f"SMS keyword {keyword}"
                suppression_record(channel="sms", address=from_number, opted_out=keyword == "STOP", source=source)
    except IntegrityError:
        return InboundResult(message=None, reply=reply, duplicate=True)
    return InboundResult(message=message, reply=reply)


def _lead_from_sms(phone: str, body: str) -> tuple[Lead | None, bool]:
    """A new lead for a number no lead has: owned in turn by a rep of the SMS inbound source's team,
    else unassigned, where every admin and manager is told to assign it (nobody's Today shows it)."""
    source, _ = LeadSource.objects.get_or_create(name=settings.SMS_INBOUND_SOURCE_NAME)
    try:
        result = lead_intake(first_name="SMS", phone=phone, source=source, via="sms", interest=body[:1000])
    except ValidationError as exc:
        # No number in the log (personal data): the fields refused say why.
        log.warning("inbound SMS: cannot create a lead (%s)", ", ".join(sorted(getattr(exc, "message_dict", {}))))
        return None, False
    lead = result.lead
    if result.created and lead.owner_id is None:
        for person in User.objects.filter(is_active=True, role__in=[Role.ADMIN, Role.MANAGER]):
            notify(user=person, lead=lead, text=f"New lead by text from {phone_display(phone)}, unassigned: assign it")
    return lead, result.created


def _effects(lead: Lead, *, keyword: str, new_lead: bool) -> None:
    if keyword == "STOP":
        sms_opt_out(lead=lead, source="SMS keyword STOP")
        return
    if keyword == "START":
        sms_opt_in(lead=lead, source="SMS keyword START")
        return
    if keyword == "HELP":
        return
    if not new_lead:
        # A new lead's first text is its inquiry: its cadence has just begun and stays.
        enrollment_exit(lead=lead, reason="replied")
    if not (new_lead and Touch.objects.open_tasks().filter(lead=lead, channel=Channel.CALL).exists()):
        # (A new lead's cadence has its call-now task already: one call to make, not two.)
        task_create(lead=lead, title="Reply received — call now", channel=Channel.CALL, urgent=True)
    notify(user=lead.owner, lead=lead, text=f"{lead.full_name} replied by SMS — call now")
