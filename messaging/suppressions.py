"""Consent that follows the person: opt-outs kept per phone number and per email address.

A lead row is one inquiry; the person behind it may come back as another lead (a new inquiry after
the first was closed, an import, a merge). Their STOP or unsubscribe must hold for every lead with
their number or address, so each opt-out and opt-in is also written here (messaging.services'
sms_opt_out, sms_opt_in, email_opt_out call `suppression_record`), and:

1. a new, merged or imported lead whose number or address is suppressed starts opted out on that
   channel, with a timeline line saying why (`lead_consent_inherit`, called by the reactions);
2. dispatch refuses an automated text or email to a suppressed number or address at send time
   (`suppression_skip_reason`), whatever the lead's own flags say.

Addresses are keys: phone numbers as E.164 (how leads store them), email addresses lower-cased.
"""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone

from cadences.models import WAITING_TOUCH_STATUSES, Channel, Touch, TouchStatus
from leads.models import Lead, LeadEvent
from leads.phones import phone_display
from leads.timeline import lead_event_add
from messaging.models import OptOut, Suppression

# Per channel: the lead's address field and its opt-out flag, and how a skip or a timeline line says it.
_LEAD_FIELDS = {
    Suppression.Channel.SMS: ("phone", "sms_opt_out"),
    Suppression.Channel.EMAIL: ("email", "email_opt_out"),
}
_SKIP_REASON = {
    Suppression.Channel.SMS: "Number opted out of SMS",
    Suppression.Channel.EMAIL: "Address unsubscribed from email",
}
_STARTS = {
    Suppression.Channel.SMS: "Starts opted out of SMS",
    Suppression.Channel.EMAIL: "Starts unsubscribed from email",
}


def address_key(channel: str, address: str) -> str:
    """The key an address is kept under: E.164 as stored for a phone, lower-cased for an email."""
    address = (address or "").strip()
    return address.lower() if channel == Suppression.Channel.EMAIL else address


def suppression_record(*, channel: str, address: str, opted_out: bool, source: str, lead: Lead | None = None):
    """Keep the person's latest word on `channel` for `address`. Returns the row, or None.

    An opt-out creates or updates the row; an opt-in only updates an existing one (a START from a
    number that never opted out records nothing). Call inside the transaction of the lead's change.
    """
    key = address_key(channel, address)
    if not key:
        return None
    values = {"opted_out": opted_out, "source": source[:100], "lead": lead}
    if not opted_out:
        updated = Suppression.objects.filter(channel=channel, address=key, opted_out=True).update(
            **values, updated_at=timezone.now()
        )
        return Suppression.objects.filter(channel=channel, address=key).first() if updated else None
    row, _ = Suppression.objects.update_or_create(channel=channel, address=key, defaults=values)
    return row


def address_suppressed(channel: str, address: str) -> bool:
    key = address_key(channel, address)
    return bool(key) and Suppression.objects.filter(channel=channel, address=key, opted_out=True).exists()


def suppression_skip_reason(lead: Lead, channel: str) -> str:
    """Why an automated touch on `channel` may not go to this lead's number or address ("" if it may): one query."""
    field_flag = _LEAD_FIELDS.get(channel)
    if field_flag is None:
        return ""
    return _SKIP_REASON[channel] if address_suppressed(channel, getattr(lead, field_flag[0])) else ""


def lead_consent_inherit(*, lead: Lead, at=None) -> list[str]:
    """A lead whose number or address was opted out (on any lead) starts opted out on that channel.

    One query finds the suppressions of the lead's phone and email; for each channel not yet opted
    out on this lead: the flag, an OptOut record, its scheduled automated touches on that channel
    skipped, and a timeline line saying why ("Starts opted out of SMS: +1 415-555-0123 opted out on
    2026-12-02 (SMS keyword STOP, earlier lead)"). Other channels and the cadence go on: a person
    who asks again wants to hear from us, only not on the channel they opted out of.
    Returns the channels it opted out. Call inside the transaction that created or changed the lead.
    """
    wanted = Q()
    for channel, (field, flag) in _LEAD_FIELDS.items():
        key = address_key(channel, getattr(lead, field))
        if key and not getattr(lead, flag):
            wanted |= Q(channel=channel, address=key)
    if not wanted:
        return []
    changed = []
    for row in Suppression.objects.filter(wanted, opted_out=True).order_by("channel"):
        field, flag = _LEAD_FIELDS[row.channel]
        if not Lead.objects.filter(pk=lead.pk, **{flag: False}).update(**{flag: True}):
            continue
        setattr(lead, flag, True)
        OptOut.objects.create(
            lead=lead, channel=row.channel, opted_out=True, source=f"earlier opt-out: {row.source}"[:100]
        )
        Touch.objects.filter(lead=lead, channel=row.channel, automated=True, status__in=WAITING_TOUCH_STATUSES).update(
            status=TouchStatus.SKIPPED, failure_reason=_SKIP_REASON[row.channel]
        )
        shown = phone_display(row.address) if row.channel == Channel.SMS else row.address
        earlier = ", earlier lead" if row.lead_id != lead.pk else ""
        when = timezone.localtime(row.updated_at).date().isoformat()
        lead_event_add(
            lead=lead,
            kind=LeadEvent.Kind.OPT_OUT,
            text=f"{_STARTS[row.channel]}: {shown} opted out on {when} ({row.source}{earlier})"[:1000],
            data={"suppression": row.pk, "channel": row.channel},
            at=at,
        )
        changed.append(row.channel)
    return changed
