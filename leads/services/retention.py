"""What the leads app deletes after a while (README "Guarantees", Data kept): API idempotency records.

Nothing here touches a lead, its timeline or its messages.
"""

import datetime as dt

from django.utils import timezone

from leads.models import IdempotencyRecord

# An Idempotency-Key is honoured this long: a retry within it replays the first answer. Later, the
# same request is a new inquiry, which intake adds to the open lead with that phone or email.
IDEMPOTENCY_KEYS_KEPT_FOR = dt.timedelta(days=7)
PURGE_CHUNK = 5000


def idempotency_records_purge(*, now: dt.datetime | None = None) -> int:
    """Delete idempotency records older than IDEMPOTENCY_KEYS_KEPT_FOR, a chunk at a time. Returns how many."""
    cutoff = (now or timezone.now()) - IDEMPOTENCY_KEYS_KEPT_FOR
    deleted = 0
    while ids := list(
        IdempotencyRecord.objects.filter(created_at__lt=cutoff).values_list("pk", flat=True)[:PURGE_CHUNK]
    ):
        deleted += IdempotencyRecord.objects.filter(pk__in=ids).delete()[0]
    return deleted
