"""Old claim data on finished touches is cleared by a daily task, never what the reconciler still
needs (issue 15)."""

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from cadences.models import Touch, TouchStatus
from messaging.dispatch import UNRECORDED_LOOKBACK
from messaging.models import Message
from messaging.retention import CLAIMS_KEPT_FOR
from messaging.tasks import reconcile_stuck, touch_claims_clear
from tests.factories import CadenceStepFactory, LeadFactory, TouchFactory

pytestmark = pytest.mark.django_db


def claimed_touch(lead, status, *, ago, sent=True, **kw):
    step = CadenceStepFactory(channel="email", automated=True, subject="Hello", body="Hi")
    when = timezone.now() - ago
    touch = TouchFactory(
        lead=lead,
        step=step,
        channel="email",
        automated=True,
        assigned_to=None,
        status=status,
        due_at=when,
        claim_token=uuid.uuid4(),
        claimed_at=when,
        send_started_at=when,
        sent_at=when if sent else None,
        provider_message_id=f"<touch-{uuid.uuid4().hex}@leadfollow.example>" if sent else "",
        **kw,
    )
    if hasattr(Touch, "lease_expires_at") and status in (TouchStatus.SENDING, TouchStatus.SENT):
        # A lease still held: a sending touch, or a sent one its dead worker never recorded.
        Touch.objects.filter(pk=touch.pk).update(lease_expires_at=when)
    return touch


def claim_of(touch):
    touch.refresh_from_db()
    return (touch.claim_token, touch.claimed_at, touch.send_started_at)


def test_claims_of_touches_finished_long_ago_are_cleared_and_nothing_the_reconciler_needs(rep):
    lead = LeadFactory(owner=rep, timezone="America/New_York")
    old = CLAIMS_KEPT_FOR + dt.timedelta(hours=1)
    finished = [
        claimed_touch(lead, TouchStatus.SENT, ago=old),
        claimed_touch(lead, TouchStatus.DELIVERED, ago=old),
        claimed_touch(lead, TouchStatus.FAILED, ago=old, sent=False),
        claimed_touch(lead, TouchStatus.SKIPPED, ago=old, sent=False),
    ]
    unrecorded = claimed_touch(lead, TouchStatus.SENT, ago=UNRECORDED_LOOKBACK / 2)  # its worker died
    in_flight = claimed_touch(lead, TouchStatus.SENDING, ago=old, sent=False)
    recent = claimed_touch(lead, TouchStatus.DELIVERED, ago=CLAIMS_KEPT_FOR - dt.timedelta(hours=1))
    kept = {t.pk: claim_of(t) for t in (unrecorded, in_flight, recent)}
    times = {t.pk: (t.sent_at, t.provider_message_id, t.status) for t in finished}

    assert touch_claims_clear() == 4
    assert touch_claims_clear() == 0  # a second run changes nothing more

    for touch in finished:
        assert claim_of(touch) == (None, None, None)
        assert (touch.sent_at, touch.provider_message_id, touch.status) == times[touch.pk]
    assert {t.pk: claim_of(t) for t in (unrecorded, in_flight, recent)} == kept
    # The reconciler still finds what it needs: the unrecorded touch is recorded by its token.
    reconcile_stuck()
    assert Message.objects.filter(touch=unrecorded).count() == 1


def test_claims_are_kept_longer_than_the_reconciler_looks_back():
    assert CLAIMS_KEPT_FOR > UNRECORDED_LOOKBACK
