"""Dispatch bookkeeping cleared once nothing can need it (README "Guarantees", Data kept).

A touch's claim (`claim_token`, `claimed_at`, `send_started_at`) is what the send, the recorder and
the reconciler use while the touch is in flight (messaging/dispatch.py). Once the touch is finished
(sent, delivered, failed, skipped, done or cancelled) only one reader is left: the reconciler
records a `sent` touch its worker never recorded, by its token, for UNRECORDED_LOOKBACK after it
was sent. Past CLAIMS_KEPT_FOR (longer than that) the claim of a finished touch is cleared; the
touch itself, its times (`sent_at`, `due_at`), its provider id, its Message and its timeline stay.
"""

import datetime as dt

from django.db.models import Q
from django.utils import timezone

from cadences.models import Touch, TouchStatus
from messaging.dispatch import UNRECORDED_LOOKBACK

# 7 days: always longer than the reconciler looks back.
CLAIMS_KEPT_FOR = UNRECORDED_LOOKBACK + dt.timedelta(days=6)
FINISHED = (
    TouchStatus.SENT,
    TouchStatus.DELIVERED,
    TouchStatus.FAILED,
    TouchStatus.SKIPPED,
    TouchStatus.DONE,
    TouchStatus.CANCELLED,
)
CLAIM_CLEARED = {"claim_token": None, "claimed_at": None, "send_started_at": None}
CHUNK = 5000


def touch_claims_clear(*, now: dt.datetime | None = None) -> int:
    """Clear the claims of touches finished more than CLAIMS_KEPT_FOR ago, a chunk at a time.
    Returns how many; a second run finds none."""
    cutoff = (now or timezone.now()) - CLAIMS_KEPT_FOR
    old = Touch.objects.filter(
        Q(claim_token__isnull=False) | Q(claimed_at__isnull=False) | Q(send_started_at__isnull=False),
        Q(sent_at__isnull=True) | Q(sent_at__lt=cutoff),
        status__in=FINISHED,
        claimed_at__lt=cutoff,
    )
    cleared = 0
    while ids := list(old.values_list("pk", flat=True)[:CHUNK]):
        cleared += Touch.objects.filter(pk__in=ids).update(**CLAIM_CLEARED)
    return cleared
