"""Provider layer: one `send()` for SMS and email, built so that dispatch is exactly-once.

The dispatcher (messaging/dispatch.py) claims a due Touch, renders it into an `OutgoingMessage` and
calls `send(message, commit_point=...)`. `commit_point()` is the dispatcher's callback that durably
marks the touch as sent in the database and returns True; it returns False when the claim was lost
(another worker re-claimed the touch), and then the transport must not deliver.

Where the commit point sits, per provider:

* Email over SMTP (`TwoPhaseSMTPBackend`, the production default): MAIL FROM, RCPT TO, DATA and the
  whole message are sent, then `commit_point()` runs, and only then the final "." that makes the
  server accept the message. False -> the connection is dropped without the dot (the server discards
  the message) and TransportError(code="claim_lost") is raised. A worker killed before the commit
  point delivers nothing; killed after it, the database already says "sent". Only a connection lost
  between the final dot and the server's reply leaves the outcome unknown: that is raised as a
  *permanent* error with code "outcome_unknown" (never re-sent: at most once in that window).
* Email through any other backend (locmem, console, filebased, anymail): `commit_point()` first, then
  `backend.send_messages()`. A crash between the two loses that email: at most once, never twice.
* SMS through Twilio: the API has no two-phase create, so `commit_point()` runs right AFTER Twilio
  accepted the message (HTTP 201). A worker killed between acceptance and the commit point leaves the
  touch claimed but not sent; the dispatcher's reconciler then asks `lookup_sent()` whether Twilio has
  it (same number, same body, created after the send started) before ever sending again. If
  `commit_point()` returns False after acceptance, the result is returned anyway (it went out; the
  dispatcher sorts out the lost claim). When the create request times out or the connection drops
  after the request went out (Twilio may have accepted it), `send()` itself asks `lookup_sent()`
  before reporting a temporary error; if that lookup fails too, the error's code is
  "outcome_unknown" and the dispatcher must call `lookup_sent()` before retrying.
* SMS with no Twilio credentials (development): the "outbox". The messaging.Message row and
  `commit_point()` happen in one database transaction: both or neither.

Errors: `TransportError(reason, permanent=..., code=..., retry_after=...)`. Temporary errors are for
retrying with backoff (`retry_after` in seconds when the provider said so); permanent ones fail the
touch (codes "21211" invalid number, "21610" opted out, "21614" not a mobile number, "21612", "21408",
"hard_bounce" for 550/551/553). `error.after_commit` is True when `commit_point()` had already
returned True: the database says "sent", so a retry must first put the touch back.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import requests
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.message import BadHeaderError
from django.db import transaction
from twilio.base.exceptions import TwilioException

logger = logging.getLogger(__name__)

# Twilio error codes that no retry will fix (healthchecks' hc/api/transports.py does the same).
PERMANENT_TWILIO_CODES = {
    21211: "invalid 'To' phone number",
    21408: "permission to send to this region is not enabled",
    21610: "the recipient opted out (STOP)",
    21612: "the 'To' number cannot be reached from this sender",
    21614: "the 'To' number is not a mobile number",
}
# Twilio keeps a message's date_created to the second; allow for clock skew against our `since`.
LOOKUP_CLOCK_SKEW = datetime.timedelta(seconds=5)


@dataclass(frozen=True)
class OutgoingMessage:
    channel: str  # "sms" or "email"
    to: str  # E.164 phone or email address
    body: str  # rendered text
    subject: str = ""
    touch_id: int | None = None
    lead_id: int | None = None
    html_body: str = ""
    headers: dict = field(default_factory=dict)  # extra email headers (List-Unsubscribe ...)
    message_id: str = ""  # stable RFC 5322 Message-ID for email, e.g. "<touch-42@leadfollow.example>"


@dataclass(frozen=True)
class ProviderResult:
    provider_message_id: str
    status: str  # "sent", "queued" or "outbox"


class TransportError(Exception):
    """The provider did not take the message. `permanent`: retrying cannot help."""

    def __init__(
        self,
        reason: str,
        *,
        permanent: bool,
        code: str = "",
        retry_after: float | None = None,
        after_commit: bool = False,
    ):
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.code = code
        self.retry_after = retry_after
        self.after_commit = after_commit

    def __repr__(self):
        kind = "permanent" if self.permanent else "temporary"
        return f"TransportError({self.reason!r}, {kind}, code={self.code!r})"


_batch = threading.local()


@contextlib.contextmanager
def batch() -> Iterator[None]:
    """Send a batch of messages over one provider session: one SMTP connection for all its emails
    instead of a connect/EHLO/QUIT per message. A connection that fails is dropped and the next
    send opens a new one; the commit-point semantics are the same per message."""
    _batch.active, _batch.email_backend = True, None
    try:
        yield
    finally:
        backend, _batch.email_backend, _batch.active = _batch.email_backend, None, False
        if backend is not None:
            try:
                backend.close()
            except Exception:  # closing a dead session must not fail a finished batch
                logger.warning("could not close the SMTP session cleanly", exc_info=True)


def _email_backend():
    """The batch's backend (kept open between sends), or a fresh one outside a batch."""
    if not getattr(_batch, "active", False):
        return get_connection(fail_silently=False)
    if _batch.email_backend is None:
        _batch.email_backend = get_connection(fail_silently=False)
    backend = _batch.email_backend
    if getattr(backend, "connection", True) is None:
        try:
            backend.open()  # opened here, so each send reuses it instead of closing it
        except Exception:  # the send reopens it and reports the error as a TransportError
            logger.debug("SMTP open failed; the send will report it", exc_info=True)
    return backend


def claim_lost() -> TransportError:
    return TransportError("claim lost", permanent=False, code="claim_lost")


def send(message: OutgoingMessage, *, commit_point: Callable[[], bool]) -> ProviderResult:
    """Hand `message` to its provider, calling `commit_point()` at the provider's commit point (see above)."""
    if message.channel == "sms":
        if _twilio_configured():
            return _twilio_send(message, commit_point)
        return _outbox_send(message, commit_point)
    if message.channel == "email":
        return _email_send(message, commit_point)
    raise ValueError(f"no transport for channel {message.channel!r}")


def lookup_sent(message: OutgoingMessage, *, since: datetime.datetime) -> ProviderResult | None:
    """Did the provider accept `message` at or after `since`? For reconciling a touch stuck in "sending".

    Twilio: a message to the same number with the same body created since `since` (minus clock skew).
    Outbox: the Message row of the touch. Email: always None (two-phase SMTP never accepted an
    unfinished send; other backends cannot be asked, and their commit point came before the send).
    Raises TransportError (temporary) when the provider cannot be asked right now.
    """
    if message.channel == "sms":
        if _twilio_configured():
            return _twilio_lookup(message, since)
        return _outbox_lookup(message)
    if message.channel == "email":
        return None
    raise ValueError(f"no transport for channel {message.channel!r}")


# --- SMS: Twilio -----------------------------------------------------------------------------------


def _twilio_configured() -> bool:
    from messaging.twilio_client import twilio_configured

    return twilio_configured()


def _twilio_send(message: OutgoingMessage, commit_point: Callable[[], bool]) -> ProviderResult:
    from messaging.twilio_client import twilio_client

    kwargs = {"to": message.to, "body": message.body}
    if settings.TWILIO_FROM_NUMBER:
        kwargs["from_"] = settings.TWILIO_FROM_NUMBER
    elif settings.TWILIO_MESSAGING_SERVICE_SID:
        kwargs["messaging_service_sid"] = settings.TWILIO_MESSAGING_SERVICE_SID
    else:
        raise TransportError(
            "set TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID", permanent=False, code="misconfigured"
        )
    if settings.PUBLIC_BASE_URL:
        kwargs["status_callback"] = f"{settings.PUBLIC_BASE_URL}/webhooks/twilio/status/"

    client = twilio_client()
    started = datetime.datetime.now(datetime.UTC)
    try:
        created = client.messages.create(**kwargs)
    except TwilioException as exc:
        raise _twilio_error(exc, client)
    except requests.exceptions.ConnectTimeout as exc:
        raise TransportError(f"Twilio connect timeout: {exc}", permanent=False, code="timeout")
    except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError) as exc:
        # The request may have reached Twilio: ask before saying "not sent" (a retry would text twice).
        found = _lookup_after_ambiguous_error(message, started, exc)
        if found is None:
            code = "timeout" if isinstance(exc, requests.exceptions.Timeout) else "connection"
            raise TransportError(f"Twilio unreachable: {exc}", permanent=False, code=code)
        created_sid, created_status = found.provider_message_id, found.status
    except requests.exceptions.RequestException as exc:
        raise TransportError(f"Twilio request failed: {exc}", permanent=False, code="connection")
    else:
        created_sid, created_status = created.sid, "queued" if created.status in ("accepted", "queued") else "sent"

    result = ProviderResult(provider_message_id=created_sid, status=created_status)
    if not commit_point():
        # Twilio has it already: no way back. The dispatcher sees the lost claim on its side.
        logger.warning("SMS %s accepted by Twilio but the claim on touch %s was lost", created_sid, message.touch_id)
    return result


def _lookup_after_ambiguous_error(message, started, original) -> ProviderResult | None:
    try:
        return _twilio_lookup(message, started)
    except TransportError as exc:
        raise TransportError(
            f"Twilio did not answer ({original}) and the check for the message failed ({exc.reason})",
            permanent=False,
            code="outcome_unknown",
        )


def _twilio_error(exc: TwilioException, client) -> TransportError:
    from messaging.twilio_client import retry_after_seconds

    status = getattr(exc, "status", None)
    code = getattr(exc, "code", None)
    detail = getattr(exc, "msg", None) or getattr(exc, "detail", None) or getattr(exc, "title", None) or ""
    reason = f"Twilio error {code or ''} (HTTP {status}): {detail}".replace("  ", " ")[:500]
    if code in PERMANENT_TWILIO_CODES:
        return TransportError(f"{reason} - {PERMANENT_TWILIO_CODES[code]}", permanent=True, code=str(code))
    if status == 429:
        return TransportError(reason, permanent=False, code="rate_limited", retry_after=retry_after_seconds(client))
    if status is None or status >= 500 or status in (401, 403):
        # Outages and bad credentials: an operator fixes them; the touches should wait, not fail.
        return TransportError(reason, permanent=False, code=str(code or status or "twilio"))
    return TransportError(reason, permanent=True, code=str(code or status))


def _twilio_lookup(message: OutgoingMessage, since: datetime.datetime) -> ProviderResult | None:
    from messaging.twilio_client import twilio_client

    since_utc = since.astimezone(datetime.UTC)
    earliest = since_utc - LOOKUP_CLOCK_SKEW
    client = twilio_client()
    filters = {"to": message.to, "limit": 50}
    if settings.TWILIO_FROM_NUMBER:
        filters["from_"] = settings.TWILIO_FROM_NUMBER
    try:
        candidates = client.messages.list(date_sent_after=since_utc - datetime.timedelta(days=1), **filters)
        found = _matching(candidates, message, earliest)
        if found is None:
            # A message still queued at Twilio has no date_sent yet, so the date filter hides it:
            # look at the newest messages to that number too.
            found = _matching(client.messages.list(**filters), message, earliest)
    except TwilioException as exc:
        raise _twilio_error(exc, client)
    except requests.exceptions.RequestException as exc:
        raise TransportError(f"Twilio unreachable: {exc}", permanent=False, code="connection")
    if found is None:
        return None
    return ProviderResult(provider_message_id=found.sid, status="sent")


def _matching(candidates, message: OutgoingMessage, earliest: datetime.datetime):
    for candidate in candidates:
        if candidate.body != message.body:
            continue
        created = candidate.date_created
        if isinstance(created, datetime.datetime) and created < earliest:
            continue
        return candidate
    return None


# --- SMS: development outbox -------------------------------------------------------------------------


def _outbox_send(message: OutgoingMessage, commit_point: Callable[[], bool]) -> ProviderResult:
    from messaging.models import Message

    with transaction.atomic():
        row = Message.objects.create(
            direction=Message.Direction.OUTBOUND,
            channel="sms",
            status=Message.Status.OUTBOX,
            lead_id=message.lead_id,
            touch_id=message.touch_id,
            to=message.to,
            sender=settings.TWILIO_FROM_NUMBER,
            body=message.body,
            provider_message_id=f"OUTBOX-{uuid.uuid4().hex}",
        )
        if not commit_point():
            raise claim_lost()  # rolls the Message back with it
    return ProviderResult(provider_message_id=row.provider_message_id, status="outbox")


def _outbox_lookup(message: OutgoingMessage) -> ProviderResult | None:
    from messaging.models import Message

    if message.touch_id is None:
        return None
    row = (
        Message.objects.filter(
            touch_id=message.touch_id, direction=Message.Direction.OUTBOUND, channel="sms", status=Message.Status.OUTBOX
        )
        .order_by("id")
        .first()
    )
    if row is None:
        return None
    return ProviderResult(provider_message_id=row.provider_message_id, status="outbox")


# --- Email ---------------------------------------------------------------------------------------------


def build_email(message: OutgoingMessage) -> EmailMultiAlternatives:
    headers = dict(message.headers)
    if message.message_id:
        headers["Message-ID"] = message.message_id
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.to],
        headers=headers,
    )
    if message.html_body:
        email.attach_alternative(message.html_body, "text/html")
    return email


def _email_send(message: OutgoingMessage, commit_point: Callable[[], bool]) -> ProviderResult:
    from messaging.email_backends import TwoPhaseSMTPBackend

    email = build_email(message)
    try:
        email.message()  # header injection and encoding problems surface here, before any commit
    except (BadHeaderError, ValueError) as exc:
        raise TransportError(f"invalid email: {exc}", permanent=True, code="invalid_message")

    backend = _email_backend()
    if isinstance(backend, TwoPhaseSMTPBackend):
        reply = backend.send_with_commit_point(email, commit_point)
        return ProviderResult(provider_message_id=message.message_id or reply[:200], status="sent")

    # Any other backend has no commit point of its own: commit first (at most once across a crash).
    if not commit_point():
        raise claim_lost()
    try:
        backend.send_messages([email])
    except Exception as exc:
        # anymail raises AnymailRecipientsRefused / AnymailAPIError; SMTP errors are OSErrors.
        permanent = type(exc).__name__ == "AnymailRecipientsRefused"
        raise TransportError(
            f"email backend error: {exc}"[:500],
            permanent=permanent,
            code="hard_bounce" if permanent else "email_backend",
            after_commit=True,
        )
    anymail_status = getattr(email, "anymail_status", None)
    provider_id = (
        getattr(anymail_status, "message_id", None) or message.message_id or email.extra_headers.get("Message-ID", "")
    )
    return ProviderResult(provider_message_id=str(provider_id)[:200], status="sent")
