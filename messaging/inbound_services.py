"""Writes for inbound email: keep each email once, find its lead, file it under the lead.

The whole reaction (what a reply, an out-of-office, a bounce does) is
reactions.inbound_email.inbound_email_receive; this module only stores and matches.

Matching, first that finds a lead wins (`inbound_email_match`):

1. Threading: each In-Reply-To, then References from the newest back, read as one of our touch
   Message-IDs (`<touch-<pk>@our domain>`, messaging.reply_address) or as the Message-ID of an
   outbound Message: its lead. A DSN is matched the same way by the Message-ID of the email it
   returns (`original_message_id`), else by the recipient that bounced (its latest open lead,
   else its latest lead).
2. The reply token: a `replies+<token>@…` address among To/Cc/Delivered-To/X-Original-To.
3. The sender: the latest open lead with that address (case-insensitive). Never for a DSN, whose
   sender is a mail server.

A message that matches nothing is kept "unmatched" for a manager (never a new lead).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from cadences.models import Touch
from leads.models import Lead
from messaging.models import InboundEmail, Message
from messaging.reply_address import lead_id_for_address, touch_id_for_message_id

# Message.provider_message_id is shorter than a Message-ID may be.
PROVIDER_ID_MAX = 200
NON_REPLY_KINDS = (InboundEmail.Kind.BOUNCE, InboundEmail.Kind.DELAY)


@dataclass(frozen=True)
class Match:
    lead: Lead | None
    matched_by: str = ""  # "in_reply_to", "token", "sender", "original", "recipient"
    touch: Touch | None = None  # the touch the email answers, when threading found it


def inbound_email_key(*, message_id: str, raw: bytes) -> str:
    """What the email is kept once by: its Message-ID, or "sha256:<hex>" of the bytes when it has
    none (or one too long to be an id)."""
    message_id = (message_id or "").strip()
    if message_id and len(message_id) <= InboundEmail._meta.get_field("message_id").max_length:
        return message_id
    return f"sha256:{hashlib.sha256(raw).hexdigest()}"


def inbound_email_seen(key: str) -> InboundEmail | None:
    """The email kept under `key` already, if any (raw bytes left in the database)."""
    return InboundEmail.objects.defer("raw").filter(message_id=key).first()


def inbound_email_store(
    *, key: str, raw: bytes, via: str, kind: str, from_address: str, subject: str, text: str
) -> tuple[InboundEmail, bool]:
    """The received email, once per key: (row, created). A duplicate (a redelivery, a concurrent
    twin) returns the row kept first; the savepoint keeps the caller's transaction usable."""
    try:
        with transaction.atomic():
            row = InboundEmail.objects.create(
                message_id=key,
                raw=raw,
                via=via[:30],
                kind=kind,
                state=InboundEmail.State.UNMATCHED,
                from_address=from_address[:254],
                subject=" ".join(subject.split())[:300],
                text=text,
            )
    except IntegrityError:
        return InboundEmail.objects.get(message_id=key), False
    return row, True


def _lead_by_thread(message_ids: list[str]) -> tuple[Lead | None, Touch | None]:
    for msgid in message_ids:
        touch_id = touch_id_for_message_id(msgid)
        if touch_id is not None:
            touch = Touch.objects.select_related("lead__owner").filter(pk=touch_id).first()
            if touch is not None:
                return touch.lead, touch
        sent = (
            Message.objects.select_related("lead__owner", "touch")
            .filter(direction=Message.Direction.OUTBOUND, message_id=msgid.strip(), lead__isnull=False)
            .first()
        )
        if sent is not None:
            return sent.lead, sent.touch
    return None, None


def _latest(leads) -> Lead | None:
    leads = leads.select_related("owner").order_by("-created_at", "-id")
    return leads.open().first() or leads.first()


def inbound_email_match(parsed) -> Match:
    """The lead a parsed email (messaging.inbound_parse.ParsedEmail) belongs to, and how (module docstring)."""
    if parsed.kind in NON_REPLY_KINDS:
        lead, touch = _lead_by_thread([parsed.original_message_id] if parsed.original_message_id else [])
        if lead is not None:
            return Match(lead, "original", touch)
        recipient = parsed.bounce.recipient if parsed.bounce else ""
        lead = _latest(Lead.objects.with_email(recipient)) if recipient else None
        return Match(lead, "recipient") if lead is not None else Match(None)
    lead, touch = _lead_by_thread([*parsed.in_reply_to, *reversed(parsed.references)])
    if lead is not None:
        return Match(lead, "in_reply_to", touch)
    for address in parsed.to_addresses:
        lead_id = lead_id_for_address(address)
        lead = Lead.objects.select_related("owner").filter(pk=lead_id).first() if lead_id else None
        if lead is not None:
            return Match(lead, "token")
    if parsed.from_address:
        lead = Lead.objects.with_email(parsed.from_address).open().select_related("owner")
        lead = lead.order_by("-created_at", "-id").first()
        if lead is not None:
            return Match(lead, "sender")
    return Match(None)


def inbound_email_attach(*, inbound: InboundEmail, lead: Lead, matched_by: str, parsed, by=None) -> Message | None:
    """File the email under `lead`: the InboundEmail row says so, and a reply or an auto-reply
    becomes the lead's inbound email Message (a DSN is about our email, not a message from the lead).
    `by`: the manager who attached it by hand (state "assigned")."""
    inbound.lead = lead
    inbound.matched_by = matched_by[:20]
    inbound.state = InboundEmail.State.ASSIGNED if by is not None else InboundEmail.State.MATCHED
    inbound.handled_by = by
    inbound.handled_at = timezone.now() if by is not None else None
    inbound.save(update_fields=["lead", "matched_by", "state", "handled_by", "handled_at"])
    if inbound.kind in NON_REPLY_KINDS:
        return None
    message_id = inbound.message_id
    provider_id = message_id
    if len(message_id) > PROVIDER_ID_MAX:
        provider_id = f"sha256:{hashlib.sha256(message_id.encode()).hexdigest()}"
    message, _ = Message.objects.get_or_create(
        direction=Message.Direction.INBOUND,
        provider_message_id=provider_id,
        defaults={
            "channel": "email",
            "lead": lead,
            "to": (parsed.to_addresses[0] if parsed.to_addresses else "")[:254],
            "sender": inbound.from_address[:254],
            "subject": inbound.subject[:300],
            "body": inbound.text,
            "message_id": "" if message_id.startswith("sha256:") else message_id,
            "status": Message.Status.RECEIVED,
        },
    )
    return message


def inbound_email_discard(*, inbound: InboundEmail, by) -> InboundEmail:
    """A manager's "not for us": kept, out of the unmatched list."""
    with transaction.atomic():
        changed = InboundEmail.objects.filter(pk=inbound.pk, state=InboundEmail.State.UNMATCHED).update(
            state=InboundEmail.State.DISCARDED, handled_by=by, handled_at=timezone.now()
        )
    if not changed:
        raise ValidationError("Only an unmatched email can be discarded.")
    inbound.refresh_from_db()
    return inbound
