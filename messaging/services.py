"""Writes for messaging: consent changes, inbound SMS, delivery states, bounces, rep alerts.

Called by the webhooks (messaging/webhook_views.py), the unsubscribe page, anymail's tracking
signal and the new-lead alert task. Every change that matters to a rep lands on the lead's timeline.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from cadences.models import WAITING_TOUCH_STATUSES, Channel, Touch, TouchStatus
from cadences.services import enrollment_exit, touch_label
from leads.models import Lead, LeadEvent
from leads.phones import phone_display
from leads.text import single_line
from leads.timeline import lead_event_add
from messaging import transports
from messaging.dispatch import UNRECORDED_LOOKBACK, touch_fail_permanently
from messaging.models import EarlyStatusCallback, Message, OptOut
from messaging.suppressions import suppression_record

log = logging.getLogger(__name__)

# CTIA / Twilio Advanced Opt-Out keywords; matched against the whole message (keyword_of), any case.
OPT_OUT_KEYWORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
OPT_IN_KEYWORDS = frozenset({"START", "UNSTOP", "YES"})
HELP_KEYWORDS = frozenset({"HELP", "INFO"})

# Twilio MessageStatus -> our Message status, and how far along each is: a late "sent" callback
# must never undo "delivered" (callbacks can arrive out of order).
TWILIO_STATUS_MAP = {
    "accepted": Message.Status.QUEUED,
    "queued": Message.Status.QUEUED,
    "sending": Message.Status.QUEUED,
    "sent": Message.Status.SENT,
    "delivered": Message.Status.DELIVERED,
    "read": Message.Status.DELIVERED,
    "undelivered": Message.Status.UNDELIVERED,
    "failed": Message.Status.FAILED,
}
STATUS_RANK = {
    Message.Status.OUTBOX: 0,
    Message.Status.QUEUED: 0,
    Message.Status.SENT: 1,
    Message.Status.DELIVERED: 2,
    Message.Status.UNDELIVERED: 2,
    Message.Status.FAILED: 2,
}
# Failures that mean "this number will never take a text" (or opted out at the carrier).
SMS_PERMANENT_FAILURE_CODES = frozenset({"30003", "30005", "30006", "21610", "21614"})
# Automated touches not yet started (waiting for their turn, scheduled or paused): an opt-out skips them.
UNSENT_TOUCH_STATUSES = WAITING_TOUCH_STATUSES


def help_text() -> str:
    return (
        f"{settings.ORGANIZATION_NAME}: we follow up on your inquiry by text. "
        "Reply STOP to opt out, START to opt back in. Msg & data rates may apply."
    )


# Punctuation a keyword may end with ("Stop.", "STOP!!", "stop?!", "Stop…").
KEYWORD_TRAILING_PUNCTUATION = ".!?,;:…"


def keyword_of(body: str) -> str:
    """The compliance keyword a whole message is, or "" — the carriers' rule (CTIA, Twilio):

    the message must be the keyword alone, in any case, with surrounding whitespace and trailing
    punctuation (KEYWORD_TRAILING_PUNCTUATION) ignored: "Stop.", "STOP!", " stop ", "Stop!!" opt out.
    Anything more is a reply a person should read, not an opt-out: "stop please", "don't stop",
    "STOP calling" (it exits the cadence and gives the rep an urgent task). START/UNSTOP/YES opt back in,
    HELP/INFO answer who we are, by the same rule.
    """
    word = (body or "").strip().rstrip(KEYWORD_TRAILING_PUNCTUATION).strip().upper()
    if word in OPT_OUT_KEYWORDS:
        return "STOP"
    if word in OPT_IN_KEYWORDS:
        return "START"
    if word in HELP_KEYWORDS:
        return "HELP"
    return ""


def lead_for_phone(phone: str) -> Lead | None:
    """The latest open lead with this E.164 number, else the latest lead with it."""
    if not phone:
        return None
    leads = Lead.objects.select_related("owner").filter(phone=phone).order_by("-created_at", "-id")
    return leads.open().first() or leads.first()


def _event(lead: Lead, kind: str, text: str, **data) -> LeadEvent:
    return lead_event_add(lead=lead, kind=kind, text=text[:1000], data=data)


# --- Consent ------------------------------------------------------------------------------------------


def sms_opt_out(*, lead: Lead, source: str) -> bool:
    """Record an SMS opt-out: flag, OptOut row, scheduled SMS touches skipped, enrollment ended.

    The number is suppressed for every lead (messaging.suppressions), even one already opted out.
    Returns False (and changes nothing on the lead) if the lead had already opted out.
    """
    with transaction.atomic():
        suppression_record(channel="sms", address=lead.phone, opted_out=True, source=source, lead=lead)
        changed = Lead.objects.filter(pk=lead.pk, sms_opt_out=False).update(sms_opt_out=True)
        lead.sms_opt_out = True
        if not changed:
            return False
        OptOut.objects.create(lead=lead, channel="sms", opted_out=True, source=source[:100])
        skipped = Touch.objects.filter(
            lead=lead, channel=Channel.SMS, automated=True, status__in=UNSENT_TOUCH_STATUSES
        ).update(status=TouchStatus.SKIPPED, failure_reason="Opted out of SMS")
        _event(lead, LeadEvent.Kind.OPT_OUT, f"Opted out of SMS ({source}); {skipped} scheduled texts stopped")
    enrollment_exit(lead=lead, reason="opted out")
    return True


def sms_opt_in(*, lead: Lead, source: str) -> bool:
    """Record an SMS opt back in (START), for the number too. Returns False if the lead was not opted out."""
    with transaction.atomic():
        suppression_record(channel="sms", address=lead.phone, opted_out=False, source=source, lead=lead)
        changed = Lead.objects.filter(pk=lead.pk, sms_opt_out=True).update(sms_opt_out=False)
        lead.sms_opt_out = False
        if not changed:
            return False
        OptOut.objects.create(lead=lead, channel="sms", opted_out=False, source=source[:100])
        _event(lead, LeadEvent.Kind.OPT_OUT, f"Opted back in to SMS ({source})")
    return True


def email_opt_out(*, lead: Lead, source: str) -> bool:
    """Record an email opt-out (unsubscribe link, complaint), for the address too; idempotent.
    Returns whether the lead changed."""
    with transaction.atomic():
        suppression_record(channel="email", address=lead.email, opted_out=True, source=source, lead=lead)
        changed = Lead.objects.filter(pk=lead.pk, email_opt_out=False).update(email_opt_out=True)
        lead.email_opt_out = True
        if not changed:
            return False
        OptOut.objects.create(lead=lead, channel="email", opted_out=True, source=source[:100])
        skipped = _skip_scheduled_emails(lead, reason="Unsubscribed from email")
        _event(lead, LeadEvent.Kind.OPT_OUT, f"Unsubscribed from email ({source}); {skipped} scheduled emails stopped")
    return True


def email_address_opt_out(*, address: str, source: str, lead: Lead | None = None) -> int:
    """Unsubscribe an address (an unsubscribe link is bound to the address it was sent to): the
    address is suppressed, and every lead that has it now is opted out. Returns the leads changed.

    `lead` is the one the link was made for, kept on the suppression; it is not opted out itself
    when its address has changed since (its new address never asked to stop).
    """
    with transaction.atomic():
        suppression_record(channel="email", address=address, opted_out=True, source=source, lead=lead)
        return sum(email_opt_out(lead=each, source=source) for each in Lead.objects.with_email(address.strip()))


def _skip_scheduled_emails(lead: Lead, *, reason: str) -> int:
    return Touch.objects.filter(
        lead=lead, channel=Channel.EMAIL, automated=True, status__in=UNSENT_TOUCH_STATUSES
    ).update(status=TouchStatus.SKIPPED, failure_reason=reason)


# --- Inbound SMS (the whole reaction is reactions.inbound_sms.inbound_sms_receive) --------------------------


def inbound_sms_seen(sid: str) -> bool:
    return bool(sid) and Message.objects.filter(direction=Message.Direction.INBOUND, provider_message_id=sid).exists()


def inbound_sms_store(*, sid: str, from_number: str, to_number: str, body: str) -> Message:
    """The received text as a Message. A redelivered webhook (or a concurrent duplicate) meets the
    partial unique constraint on inbound provider ids here: IntegrityError, and its transaction rolls back."""
    return Message.objects.create(
        direction=Message.Direction.INBOUND,
        channel="sms",
        to=to_number[:254],
        sender=from_number[:254],
        body=body,
        provider_message_id=sid[:200],
        status=Message.Status.RECEIVED,
    )


def inbound_sms_attach(*, message: Message, lead: Lead) -> None:
    """File the received text under its lead, with a timeline line."""
    message.lead = lead
    message.save(update_fields=["lead"])
    _event(
        lead,
        LeadEvent.Kind.MESSAGE_IN,
        f"SMS received: {message.body}",
        message=message.pk,
        sid=message.provider_message_id,
    )


def message_rows_move(*, from_lead: Lead, to_lead: Lead) -> None:
    """A merge: the duplicate's messages and consent records move to the lead it is folded into."""
    Message.objects.filter(lead=from_lead).update(lead=to_lead)
    OptOut.objects.filter(lead=from_lead).update(lead=to_lead)


# --- Delivery states ----------------------------------------------------------------------------------


# A callback kept for an id that is not recorded yet waits this long. The reconciler records a sent
# touch within UNRECORDED_LOOKBACK; an id still unknown after that never will be (a rep's alert text).
EARLY_STATUS_CALLBACKS_KEPT_FOR = UNRECORDED_LOOKBACK + dt.timedelta(days=1)


def message_status_record(*, sid: str, status: str, error_code: str = "") -> bool:
    """Apply a Twilio status callback to the outbound Message and Touch with this sid.

    Only forward moves count (queued < sent < delivered/undelivered/failed), so late or repeated
    callbacks change nothing. Returns False for a stale/unknown status, and for a sid nothing is
    recorded under yet: that callback came before the dispatcher recorded the id (Twilio can be
    that quick) and is kept, to be applied when it is (`early_status_callbacks_apply`).
    """
    status = (status or "").strip().lower()
    new = TWILIO_STATUS_MAP.get(status)
    if not sid or new is None:
        return False
    error_code = (error_code or "").strip()[:20]
    with transaction.atomic():
        message = (
            Message.objects.select_for_update()
            .filter(direction=Message.Direction.OUTBOUND, provider_message_id=sid)
            .order_by("id")
            .first()
        )
        touch = Touch.objects.select_related("lead", "step").filter(provider_message_id=sid).order_by("id").first()
        if message is None and touch is None:
            EarlyStatusCallback.objects.get_or_create(sid=sid[:200], status=status, defaults={"error_code": error_code})
            return False
        if message is not None:
            if STATUS_RANK[new] <= STATUS_RANK.get(message.status, 0):
                return False
            message.status = new
            message.error_code = error_code
            message.save(update_fields=["status", "error_code", "updated_at"])
        lead = touch.lead if touch else message.lead
        label = touch_label(touch) if touch else "SMS"
        if new == Message.Status.DELIVERED:
            if touch:
                Touch.objects.filter(pk=touch.pk, status=TouchStatus.SENT).update(status=TouchStatus.DELIVERED)
            if lead:
                _event(lead, LeadEvent.Kind.MESSAGE_OUT, f"{label}: delivered", sid=sid, status=new)
        elif new in (Message.Status.UNDELIVERED, Message.Status.FAILED):
            reason = f"SMS {new}" + (f" (Twilio error {error_code})" if error_code else "")
            if touch:
                Touch.objects.filter(pk=touch.pk).update(status=TouchStatus.FAILED, failure_reason=reason[:500])
            if touch and error_code in SMS_PERMANENT_FAILURE_CODES:
                touch_fail_permanently(touch=touch, code=error_code, reason=reason)  # adds the timeline line
            elif lead:
                _event(lead, LeadEvent.Kind.MESSAGE_OUT, f"{label}: {reason}", sid=sid, status=new, code=error_code)
        elif new == Message.Status.SENT and lead:
            pass  # "sent" was already on the timeline when the provider accepted it
    return True


def early_status_callbacks_apply(*, sid: str) -> int:
    """Apply the callbacks kept for `sid`, in the order they came, and drop them. Returns how many.

    Called as the id is recorded, inside the recording transaction (dispatch's
    provider_message_id_recorded signal), and by `early_status_callbacks_settle`.
    """
    with transaction.atomic():
        kept = list(EarlyStatusCallback.objects.select_for_update().filter(sid=sid).order_by("received_at", "id"))
        if not kept:
            return 0
        EarlyStatusCallback.objects.filter(pk__in=[callback.pk for callback in kept]).delete()
        for callback in kept:
            message_status_record(sid=sid, status=callback.status, error_code=callback.error_code)
    return len(kept)


def on_provider_message_id_recorded(sender, *, sid: str, **kwargs) -> None:
    """Receiver for messaging.signals.provider_message_id_recorded (connected in MessagingConfig.ready)."""
    early_status_callbacks_apply(sid=sid)


def early_status_callbacks_settle(*, now: dt.datetime | None = None) -> dict:
    """The periodic backstop of the kept callbacks (idempotent).

    1. Apply those whose id has been recorded since. The recording applies them itself; this
       catches a callback whose transaction overlapped the recording's, so that neither saw the
       other's row, and a worker that died between recording and applying.
    2. Delete those kept longer than EARLY_STATUS_CALLBACKS_KEPT_FOR: their id will never be recorded.
    """
    now = now or timezone.now()
    recorded = Message.objects.filter(direction=Message.Direction.OUTBOUND, provider_message_id=OuterRef("sid"))
    sids = set(EarlyStatusCallback.objects.filter(Exists(recorded)).values_list("sid", flat=True))
    applied = sum(early_status_callbacks_apply(sid=sid) for sid in sids)
    expired, _ = EarlyStatusCallback.objects.filter(received_at__lt=now - EARLY_STATUS_CALLBACKS_KEPT_FOR).delete()
    return {"applied": applied, "expired": expired}


# --- Email bounces and complaints (anymail tracking) --------------------------------------------------------

TRACKING_EVENTS = {"bounced", "rejected", "complained"}


def email_tracking_record(*, event_type: str, recipient: str, description: str = "") -> int:
    """A bounce/rejection marks the address invalid; a complaint also unsubscribes. Returns leads changed."""
    if event_type not in TRACKING_EVENTS or not recipient:
        return 0
    changed = 0
    if event_type == "complained":
        # The person said stop even if no lead has the address any more.
        suppression_record(channel="email", address=recipient, opted_out=True, source="spam complaint")
    for lead in Lead.objects.filter(email__iexact=recipient.strip()):
        with transaction.atomic():
            if event_type == "complained":
                email_opt_out(lead=lead, source="spam complaint")
            flagged = Lead.objects.filter(pk=lead.pk, email_invalid=False).update(email_invalid=True)
            if flagged:
                _skip_scheduled_emails(lead, reason="Email address bounced")
                what = "marked as spam" if event_type == "complained" else event_type
                detail = f": {description}" if description else ""
                _event(lead, LeadEvent.Kind.MESSAGE_OUT, f"Email to {recipient} {what}{detail}", event=event_type)
            changed += bool(flagged)
    return changed


def on_anymail_tracking(sender, event, esp_name="", **kwargs) -> None:
    """Receiver for anymail.signals.tracking (connected in MessagingConfig.ready)."""
    email_tracking_record(
        event_type=getattr(event, "event_type", ""),
        recipient=getattr(event, "recipient", "") or "",
        description=(getattr(event, "description", "") or getattr(event, "reject_reason", "") or "")[:300],
    )


# --- Rep alerts ---------------------------------------------------------------------------------------------


def rep_alert_new_lead(*, lead_id: int) -> dict:
    """Tell the lead's owner at once: email, and SMS to their own phone when they have one.

    Never raises: an alert that cannot go out is logged, the lead is already safe. The lead's name
    is cleaned by the input rule (leads/text.py) again here: a lead saved before the rule, or by
    hand, must not break the subject line. A lead older than NEW_LEAD_ALERT_WINDOW_MINUTES (a
    backlog after downtime, an import) is no news: nothing is sent, and the answer says why.
    """
    sent = {"email": False, "sms": False}
    lead = Lead.objects.select_related("owner", "source").filter(pk=lead_id).first()
    if lead is None or lead.owner is None:
        return sent
    window = dt.timedelta(minutes=settings.NEW_LEAD_ALERT_WINDOW_MINUTES)
    if lead.created_at < timezone.now() - window:
        log.info("new-lead alert for lead %s not sent: it arrived more than %s ago", lead.pk, window)
        return {**sent, "skipped": "older than the alert window"}
    rep = lead.owner
    link = f"{settings.PUBLIC_BASE_URL}/leads/{lead.pk}/"
    name = single_line(lead.full_name)
    # The number as the rep reads it, and as a tel: link in E.164 that a phone dials in one tap.
    text = f"New lead assigned to you: {name}" + (f", from {lead.source.name}." if lead.source else ".")
    call = f"Call {phone_display(lead.phone)}: tel:{lead.phone}" if lead.phone else ""
    email_body = "\n".join([text, "", *([call] if call else []), f"Open the lead: {link}", ""])
    sms_body = " ".join(part for part in (text, call, link) if part)
    if rep.email:
        try:
            send_mail(f"New lead: {name}", email_body, None, [rep.email])
            sent["email"] = True
        except Exception as exc:
            # The rep by id, the error by its class: its text may hold the address (personal data, no log).
            log.error("new-lead alert email to rep %s failed (lead %s): %s", rep.pk, lead.pk, type(exc).__name__)
    if rep.phone:
        try:
            transports.send(
                transports.OutgoingMessage(channel="sms", to=rep.phone, body=sms_body),
                commit_point=lambda: True,  # an alert has no touch row to commit
            )
            sent["sms"] = True
        except Exception as exc:
            log.error("new-lead alert SMS to rep %s failed (lead %s): %s", rep.pk, lead.pk, type(exc).__name__)
    return sent
