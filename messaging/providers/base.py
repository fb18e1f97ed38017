"""What every provider takes, returns and raises (the commit point is described in messaging/transports.py)."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

# The caller's callback at the provider's commit point: durably marks the send, True; False: the
# claim was lost and the provider must not deliver.
CommitPoint = Callable[[], bool]


@dataclass(frozen=True)
class OutgoingMessage:
    channel: str  # "sms" or "email"
    to: str  # E.164 phone or email address
    body: str  # rendered text
    subject: str = ""
    # The touch this message sends: its idempotency key (the outbox finds a sent message by it).
    # Providers pass both ids through to the caller's storage and logs, never interpret them.
    touch_id: int | None = None
    lead_id: int | None = None
    html_body: str = ""
    headers: dict = field(default_factory=dict)  # extra email headers (List-Unsubscribe ...)
    message_id: str = ""  # stable RFC 5322 Message-ID for email, e.g. "<touch-42@leadfollow.example>"
    # Email only: more representations of the body, (content, mimetype) with the type's parameters,
    # e.g. an iCalendar invite ("text/calendar; method=REQUEST"), and files, (filename, content, mimetype).
    alternatives: tuple[tuple[str, str], ...] = ()
    attachments: tuple[tuple[str, str | bytes, str], ...] = ()


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


def claim_lost() -> TransportError:
    return TransportError("claim lost", permanent=False, code="claim_lost")


class Provider(Protocol):
    """One provider of one channel (a module with these two functions, or an object)."""

    def send(self, message: OutgoingMessage, *, commit_point: CommitPoint) -> ProviderResult:
        """Hand `message` over, calling `commit_point()` at the provider's commit point."""

    def lookup_sent(self, message: OutgoingMessage, *, since: datetime.datetime) -> ProviderResult | None:
        """Did the provider accept `message` at or after `since`? TransportError when it cannot say now."""
