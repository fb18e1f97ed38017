"""Regression: a worker killed between the commit point and the record step left a `sent` touch
with no Message row, no timeline line and its enrolment never finished (found by
test_worker_kill.py). The reconciler now records such touches, once."""

import datetime as dt
import uuid

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from cadences.models import Touch, TouchStatus
from leads.models import LeadEvent
from messaging.models import Message
from messaging.tasks import reconcile_stuck
from tests.factories import CadenceStepFactory, LeadFactory, TouchFactory

NOON_NY = dt.datetime(2026, 6, 3, 16, 0, tzinfo=dt.UTC)


def committed_but_unrecorded(lead, channel, *, sent_ago: float) -> Touch:
    """The state a SIGKILL right after the commit point leaves: sent, claimed, its lease (renewed
    last at the commit point) still on it, nothing recorded."""
    step = CadenceStepFactory(channel=channel, automated=True, subject="Hi", body=f"Hello {lead.first_name}")
    sent_at = timezone.now() - dt.timedelta(seconds=sent_ago)
    return TouchFactory(
        lead=lead,
        step=step,
        channel=channel,
        automated=True,
        assigned_to=None,
        status=TouchStatus.SENT,
        claim_token=uuid.uuid4(),
        claimed_at=sent_at,
        claimed_by=f"celery@worker-1/a1b2c3/{1000 + int(sent_ago)}",
        lease_expires_at=sent_at + dt.timedelta(seconds=settings.DISPATCH_LEASE_SECONDS),
        send_started_at=sent_at,
        sent_at=sent_at,
        send_attempts=1,
    )


@time_machine.travel(NOON_NY, tick=True)
@pytest.mark.django_db
def test_reconciler_records_a_touch_sent_by_a_worker_that_died_before_recording(fake_twilio, settings, rep):
    settings.DISPATCH_LEASE_SECONDS = 60
    lead = LeadFactory(owner=rep, first_name="Dana", timezone="America/New_York", phone="+12125551234")
    sms = committed_but_unrecorded(lead, "sms", sent_ago=120)
    email = committed_but_unrecorded(lead, "email", sent_ago=120)
    fresh = committed_but_unrecorded(lead, "email", sent_ago=5)  # within the lease: its worker may be recording
    fake_twilio._accept({"To": lead.phone, "From": settings.TWILIO_FROM_NUMBER, "Body": "Hello Dana"})

    reconcile_stuck()
    reconcile_stuck()  # once only

    for touch in (sms, email):
        touch.refresh_from_db()
        assert touch.status == TouchStatus.SENT
        assert Message.objects.filter(touch=touch, direction="out").count() == 1
        assert LeadEvent.objects.filter(kind="message_out", data__touch=touch.pk).count() == 1
    assert sms.provider_message_id == fake_twilio.messages()[0]["sid"]  # asked Twilio for its id
    assert sms.failure_reason == ""  # Twilio had accepted it before the commit point
    assert email.failure_reason.startswith("Delivery not confirmed")  # the final "." may not have gone
    assert email.provider_message_id == f"<touch-{email.pk}@leadfollow.example>"
    assert not Message.objects.filter(touch=fresh).exists()
    assert len(fake_twilio.messages()) == 1  # recording never sends


@pytest.mark.django_db
def test_recording_twice_keeps_one_message_and_one_timeline_line(rep):
    from messaging.dispatch import outgoing_message_for, touch_record_sent
    from messaging.transports import ProviderResult

    lead = LeadFactory(owner=rep, first_name="Dana")
    touch = committed_but_unrecorded(lead, "email", sent_ago=1)
    message = outgoing_message_for(touch)
    touch_record_sent(touch=touch, token=touch.claim_token, message=message, result=ProviderResult("", "sent"))
    touch_record_sent(touch=touch, token=touch.claim_token, message=message, result=ProviderResult("<id@x>", "sent"))
    assert Message.objects.get(touch=touch).provider_message_id == "<id@x>"
    assert LeadEvent.objects.filter(kind="message_out", data__touch=touch.pk).count() == 1
