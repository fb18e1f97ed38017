"""Sending for messaging: one `send()` for SMS and email, built so that dispatch is exactly-once.

The dispatcher (messaging/dispatch.py) claims a due Touch, renders it into an `OutgoingMessage` and
calls `send(message, commit_point=...)`. `commit_point()` is the dispatcher's callback that durably
marks the touch as sent in the database and returns True; it returns False when the claim was lost
(another worker re-claimed the touch), and then the transport must not deliver.

This module picks the provider per channel (messaging/providers/, which know no model) and supplies
what the outbox stores. Where the commit point sits, per provider:

* Email over SMTP (`providers.smtp.TwoPhaseSMTPBackend`, the production default): after the whole
  message and before the final "." that makes the server accept it. False -> the connection is
  dropped without the dot (the server discards the message) and TransportError(code="claim_lost") is
  raised. A worker killed before the commit point delivers nothing; killed after it, the database
  already says "sent". Only a connection lost between the final dot and the server's reply leaves
  the outcome unknown: a *permanent* error with code "outcome_unknown" (never re-sent: at most once).
* Email through any other backend (locmem, console, filebased, anymail): `commit_point()` first, then
  the send. A crash between the two loses that email: at most once, never twice.
* SMS through Twilio (`providers.twilio_sms`, when configured): no two-phase create, so
  `commit_point()` runs right AFTER Twilio accepted the message; a touch left unsent is reconciled
  with `lookup_sent()` (Twilio's message list) before ever sending again, and an ambiguous timeout is
  looked up before it is reported ("outcome_unknown" when even that fails).
* SMS with no Twilio credentials (development): `providers.outbox`. The messaging.Message row and
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
from collections.abc import Iterator

from django.conf import settings

from messaging.models import Message
from messaging.providers import smtp, twilio_sms
from messaging.providers.base import CommitPoint, OutgoingMessage, Provider, ProviderResult, TransportError
from messaging.providers.outbox import Outbox

# The vocabulary of sending, for the callers of send() (dispatch, the rep alert).
__all__ = ["OutgoingMessage", "ProviderResult", "TransportError", "batch", "lookup_sent", "send"]


def _outbox_store(message: OutgoingMessage, provider_message_id: str) -> None:
    Message.objects.create(
        direction=Message.Direction.OUTBOUND,
        channel="sms",
        status=Message.Status.OUTBOX,
        lead_id=message.lead_id,
        touch_id=message.touch_id,
        to=message.to,
        sender=settings.TWILIO_FROM_NUMBER,
        body=message.body,
        provider_message_id=provider_message_id,
    )


def _outbox_find(message: OutgoingMessage) -> str | None:
    if message.touch_id is None:
        return None
    return (
        Message.objects.filter(
            touch_id=message.touch_id, direction=Message.Direction.OUTBOUND, channel="sms", status=Message.Status.OUTBOX
        )
        .order_by("id")
        .values_list("provider_message_id", flat=True)
        .first()
    )


_outbox = Outbox(store=_outbox_store, find=_outbox_find)


def _provider(channel: str) -> Provider:
    if channel == "sms":
        return twilio_sms if twilio_sms.twilio_configured() else _outbox
    if channel == "email":
        return smtp
    raise ValueError(f"no transport for channel {channel!r}")


def send(message: OutgoingMessage, *, commit_point: CommitPoint) -> ProviderResult:
    """Hand `message` to its provider, calling `commit_point()` at the provider's commit point (see above)."""
    return _provider(message.channel).send(message, commit_point=commit_point)


def lookup_sent(message: OutgoingMessage, *, since: datetime.datetime) -> ProviderResult | None:
    """Did the provider accept `message` at or after `since`? For reconciling a touch stuck in "sending".

    Twilio: a message to the same number with the same body created since `since` (minus clock skew).
    Outbox: the Message row of the touch. Email: always None (two-phase SMTP never accepted an
    unfinished send; other backends cannot be asked, and their commit point came before the send).
    Raises TransportError (temporary) when the provider cannot be asked right now.
    """
    return _provider(message.channel).lookup_sent(message, since=since)


@contextlib.contextmanager
def batch() -> Iterator[None]:
    """Send a batch of messages over one provider session (today: one SMTP connection for its emails)."""
    with smtp.batch():
        yield
