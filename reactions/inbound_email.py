"""An email arrives (the IMAP reply mailbox, an ESP's inbound webhook, `manage.py inbound_email`).

`inbound_email_receive(raw, via=...)` is the one entry point, read top to bottom:

1. Parse (messaging.inbound_parse.parse_email). A message it cannot read is still kept.
2. Keep it once: InboundEmail's unique message_id (its Message-ID, else a hash of the bytes). A
   second delivery of the same message changes nothing and says duplicate=True.
3. Match it to a lead (messaging.inbound_services.inbound_email_match: threading, the reply token,
   the sender). Unmatched: it waits under "Unmatched replies" for a manager; nothing else happens.
4. Effects by kind (`_effects`, also run when a manager attaches an unmatched email):
   - reply: the timeline gets the new text (no quoted history), the cadence exits ("replied"), the
     owner gets one urgent "Reply received — answer now" email task (never a second while one is
     open) and a notification.
   - auto_reply (out of office): the cadence never exits; a running one pauses until the return
     date at 9:00 in the lead's timezone (7 days when the reply names none) and beat resumes it
     (cadences.tasks.enrollments_resume_due). One a rep paused stays as the rep left it.
   - bounce (hard): exactly what the provider's bounce webhook does
     (messaging.services.email_tracking_record): the address is invalid, scheduled emails skipped.
   - delay (soft): a timeline line; the sending server keeps retrying, so nothing else.
All in one transaction: a failure leaves nothing half done, and the next delivery tries again.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.services import notify
from cadences.models import OPEN_TOUCH_STATUSES, Channel, Enrollment, Touch
from cadences.services import RUNNING, enrollment_exit, enrollment_pause, task_create
from leads.models import Lead, LeadEvent
from leads.timeline import lead_event_add
from messaging.inbound_parse import ParsedEmail, parse_email
from messaging.inbound_services import (
    inbound_email_attach,
    inbound_email_key,
    inbound_email_match,
    inbound_email_seen,
    inbound_email_store,
)
from messaging.models import InboundEmail
from messaging.services import email_tracking_record

log = logging.getLogger(__name__)

REPLY_TASK_TITLE = "Reply received — answer now"
# An out-of-office reply that names no return date pauses the cadence this long.
OUT_OF_OFFICE_DEFAULT_PAUSE = dt.timedelta(days=7)
# The lead is back at this local hour of the return date.
OUT_OF_OFFICE_RETURN_HOUR = 9


@dataclass(frozen=True)
class InboundEmailResult:
    inbound: InboundEmail | None
    duplicate: bool = False


def _parse(raw: bytes) -> ParsedEmail | None:
    try:
        return parse_email(raw)
    except Exception:  # the parser promises not to raise; a message is never lost if it does
        log.exception("inbound email: the parser failed; the message is kept unmatched")
        return None


def inbound_email_receive(raw: bytes, *, via: str) -> InboundEmailResult:
    """Handle one received email, once per message (module docstring). Never raises on its content."""
    raw = bytes(raw or b"")
    parsed = _parse(raw)
    key = inbound_email_key(message_id=parsed.message_id if parsed else "", raw=raw)
    kept = inbound_email_seen(key)
    if kept is not None:
        return InboundEmailResult(inbound=kept, duplicate=True)
    try:
        with transaction.atomic():
            inbound, created = inbound_email_store(
                key=key,
                raw=raw,
                via=via,
                kind=parsed.kind if parsed else InboundEmail.Kind.REPLY,
                from_address=parsed.from_address if parsed else "",
                subject=parsed.subject if parsed else "",
                text=parsed.reply_text if parsed else "",
            )
            if not created:
                return InboundEmailResult(inbound=inbound, duplicate=True)
            match = inbound_email_match(parsed) if parsed else None
            if match is not None and match.lead is not None:
                _file_and_react(inbound, parsed, lead=match.lead, matched_by=match.matched_by, answers=match.touch)
    except IntegrityError:  # a concurrent twin won the unique Message-ID (or the inbound Message id)
        return InboundEmailResult(inbound=None, duplicate=True)
    return InboundEmailResult(inbound=inbound)


def inbound_email_assign(*, inbound: InboundEmail, lead: Lead, by) -> InboundEmail:
    """A manager attaches an unmatched email to a lead (one they may see: the view checks it); the
    email's effects then run as if it had matched."""
    with transaction.atomic():
        inbound = InboundEmail.objects.select_for_update().get(pk=inbound.pk)
        if inbound.state != InboundEmail.State.UNMATCHED:
            raise ValidationError("This email was already attached or discarded.")
        parsed = _parse(bytes(inbound.raw)) or parse_email(b"")
        _file_and_react(inbound, parsed, lead=lead, matched_by="manager", by=by)
    return inbound


def _file_and_react(
    inbound: InboundEmail, parsed: ParsedEmail, *, lead: Lead, matched_by: str, by=None, answers: Touch | None = None
) -> None:
    # One reaction per lead at a time: two replies at once still make one urgent task.
    lead = Lead.objects.select_for_update(of=("self",)).select_related("owner").get(pk=lead.pk)
    inbound_email_attach(inbound=inbound, lead=lead, matched_by=matched_by, parsed=parsed, by=by)
    _effects(inbound, parsed, lead=lead, by=by, answers=answers)


def _effects(inbound: InboundEmail, parsed: ParsedEmail, *, lead: Lead, by=None, answers: Touch | None = None) -> None:
    kind = inbound.kind
    if kind == InboundEmail.Kind.REPLY:
        _reply(inbound, lead=lead, by=by, answers=answers)
    elif kind == InboundEmail.Kind.AUTO_REPLY:
        _out_of_office(inbound, parsed, lead=lead, by=by)
    elif kind == InboundEmail.Kind.BOUNCE:
        bounce = parsed.bounce
        detail = " ".join(x for x in (bounce.status, bounce.diagnostic) if x) if bounce else ""
        recipient = (bounce.recipient if bounce else "") or lead.email
        email_tracking_record(event_type="bounced", recipient=recipient, description=detail[:300])
    elif kind == InboundEmail.Kind.DELAY:
        status = (parsed.bounce.status if parsed.bounce else "") or "4.x.x"
        text = f"Delivery delayed ({status}); the mail server keeps retrying"
        _timeline(lead, LeadEvent.Kind.MESSAGE_OUT, text, inbound=inbound, by=by)


def _timeline(lead: Lead, kind: str, text: str, *, inbound: InboundEmail, by=None) -> None:
    lead_event_add(
        lead=lead, kind=kind, text=text[:1000], actor=by, at=timezone.now(), data={"inbound_email": inbound.pk}
    )


def _reply(inbound: InboundEmail, *, lead: Lead, by=None, answers: Touch | None = None) -> None:
    text = inbound.text.strip() or f"(no text) {inbound.subject}".strip()
    _timeline(lead, LeadEvent.Kind.MESSAGE_IN, f"Email reply: {text}", inbound=inbound, by=by)
    # The rep's own open task the reply answers stays as the rep left it (the rep closes it).
    keep = answers if answers is not None and not answers.automated and answers.status in OPEN_TOUCH_STATUSES else None
    enrollment_exit(lead=lead, reason="replied", keep=keep)
    # After the exit, which cancels the lead's open ad-hoc tasks: one urgent answer task, never stacked.
    waiting = Touch.objects.open_tasks().filter(lead=lead, title=REPLY_TASK_TITLE, urgent=True)
    if not waiting.exists():
        task_create(lead=lead, title=REPLY_TASK_TITLE, channel=Channel.EMAIL, urgent=True)
    notify(user=lead.owner, lead=lead, text=f"{lead.full_name} replied by email — answer now")


def out_of_office_until(*, lead: Lead, return_date: dt.date | None, now: dt.datetime) -> dt.datetime:
    """When an out-of-office pause ends: 9:00 in the lead's timezone on the return date, else in 7 days."""
    if return_date is None:
        return now + OUT_OF_OFFICE_DEFAULT_PAUSE
    return dt.datetime.combine(return_date, dt.time(OUT_OF_OFFICE_RETURN_HOUR), tzinfo=_zone(lead))


def _zone(lead: Lead) -> ZoneInfo:
    try:
        return ZoneInfo(lead.timezone or settings.TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)


def _out_of_office(inbound: InboundEmail, parsed: ParsedEmail, *, lead: Lead, by=None) -> None:
    now = timezone.now()
    until = out_of_office_until(lead=lead, return_date=parsed.return_date, now=now)
    when = _local(until, lead)
    running = Enrollment.objects.select_for_update().filter(lead=lead, state__in=RUNNING).first()
    if running is None:
        text = f"Out-of-office reply (back {when}); no cadence running"
    elif running.state == Enrollment.State.PAUSED and running.paused_until is None:
        text = f"Out-of-office reply (back {when}); the cadence stays paused as a rep left it"
    elif until <= now:
        text = f"Out-of-office reply (back {when}); the cadence goes on"
    elif running.state == Enrollment.State.PAUSED:
        # Paused by an earlier out-of-office reply: the latest return date counts.
        Enrollment.objects.filter(pk=running.pk).update(paused_until=until)
        text = f"Out-of-office reply: cadence paused until {when}"
    else:
        enrollment_pause(enrollment=running, until=until, text=f"Out-of-office reply: cadence paused until {when}")
        return
    _timeline(lead, LeadEvent.Kind.MESSAGE_IN, text, inbound=inbound, by=by)


def _local(moment: dt.datetime, lead: Lead) -> str:
    local = moment.astimezone(_zone(lead))
    return f"{local:%a} {local.day} {local:%b %Y}, {local:%H:%M}"
