"""The development SMS provider when there are no Twilio credentials: texts stay in an outbox.

The stored message and `commit_point()` happen in one database transaction: both or neither. The
outbox knows no model: the caller hands it `store(message, provider_message_id)`, which writes the
message in the current transaction, and `find(message) -> provider_message_id | None`, which finds a
stored one (messaging.transports stores them as messaging.Message rows, shown on the outbox page).
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable

from django.db import transaction

from messaging.providers.base import CommitPoint, OutgoingMessage, ProviderResult, claim_lost


class Outbox:
    def __init__(
        self,
        *,
        store: Callable[[OutgoingMessage, str], object],
        find: Callable[[OutgoingMessage], str | None],
    ):
        self._store = store
        self._find = find

    def send(self, message: OutgoingMessage, *, commit_point: CommitPoint) -> ProviderResult:
        # The id is the outbox's own, as a real provider's would be: "OUTBOX-" and a random hex.
        provider_message_id = f"OUTBOX-{uuid.uuid4().hex}"
        with transaction.atomic():
            self._store(message, provider_message_id)
            if not commit_point():
                raise claim_lost()  # rolls the stored message back with it
        return ProviderResult(provider_message_id=provider_message_id, status="outbox")

    def lookup_sent(self, message: OutgoingMessage, *, since: datetime.datetime) -> ProviderResult | None:
        """The stored message of the touch, whenever it was stored (the outbox has no clock skew)."""
        provider_message_id = self._find(message)
        if provider_message_id is None:
            return None
        return ProviderResult(provider_message_id=provider_message_id, status="outbox")
