"""A Twilio status callback that arrives before the dispatcher recorded the sid is kept and applied
when the sid is recorded, not dropped (issue 15)."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from cadences.models import TouchStatus
from messaging.models import EarlyStatusCallback, Message
from messaging.services import EARLY_STATUS_CALLBACKS_KEPT_FOR, early_status_callbacks_settle, message_status_record
from messaging.tasks import touches_send_now
from tests.factories import CadenceStepFactory, LeadFactory, TouchFactory

# Noon in New York: inside the contact window.
NOON_NY = dt.datetime(2026, 6, 3, 16, 0, tzinfo=dt.UTC)


def sms_touch(lead, **kw):
    step = CadenceStepFactory(channel="sms", automated=True, body="Hi {{ lead.first_name }}")
    return TouchFactory(lead=lead, step=step, channel="sms", automated=True, assigned_to=None, **kw)


@pytest.mark.django_db(transaction=True)
@time_machine.travel(NOON_NY, tick=True)
def test_callbacks_that_beat_the_record_of_the_sid_are_applied_when_it_is_recorded(
    live_server, fake_twilio, settings, rep
):
    """The fake Twilio calls our real status webhook (signed) before it answers the create."""
    settings.PUBLIC_BASE_URL = live_server.url
    lead = LeadFactory(owner=rep, first_name="Dana", phone="+12125551234", timezone="America/New_York")
    touch = sms_touch(lead)
    fake_twilio.call_back_before_reply(["sent", "delivered"])

    assert touches_send_now([touch.pk]) == {"sent": 1}

    [texted] = fake_twilio.messages()
    assert fake_twilio.callbacks == [(texted["sid"], "sent", 204), (texted["sid"], "delivered", 204)]
    touch.refresh_from_db()
    assert (touch.provider_message_id, touch.status) == (texted["sid"], TouchStatus.DELIVERED)
    assert Message.objects.get(touch=touch).status == Message.Status.DELIVERED
    texts = list(lead.events.filter(kind="message_out").order_by("created_at", "id").values_list("text", flat=True))
    assert [t.rsplit(": ", 1)[-1] for t in texts] == ["SMS sent", "delivered"]
    assert not EarlyStatusCallback.objects.exists()


@pytest.fixture
def recorded_sms(rep):
    """A text whose sid was recorded without applying what was kept for it (the callback's transaction
    overlapped the recording's, or the worker died in between)."""
    lead = LeadFactory(owner=rep, phone="+12125551235")
    sid = "SM" + "b" * 32
    touch = sms_touch(lead, status=TouchStatus.SENT, provider_message_id=sid, sent_at=timezone.now())
    Message.objects.create(
        direction="out", channel="sms", lead=lead, touch=touch, to=lead.phone, body="Hi", provider_message_id=sid,
        status=Message.Status.SENT,
    )  # fmt: skip
    return sid, touch


@pytest.mark.django_db
def test_an_unknown_sid_is_kept_once_per_status(recorded_sms):
    for _ in range(2):  # Twilio retries a callback
        assert message_status_record(sid="SM" + "9" * 32, status="Delivered") is False
    assert list(EarlyStatusCallback.objects.values_list("sid", "status")) == [("SM" + "9" * 32, "delivered")]


@pytest.mark.django_db
def test_the_periodic_settle_applies_kept_callbacks_and_drops_stale_ones_once(recorded_sms):
    sid, touch = recorded_sms
    EarlyStatusCallback.objects.create(sid=sid, status="failed", error_code="30003")
    never = EarlyStatusCallback.objects.create(sid="SM" + "0" * 32, status="sent")  # a rep's alert text: no touch
    EarlyStatusCallback.objects.filter(pk=never.pk).update(
        received_at=timezone.now() - EARLY_STATUS_CALLBACKS_KEPT_FOR - dt.timedelta(minutes=1)
    )
    fresh = EarlyStatusCallback.objects.create(sid="SM" + "1" * 32, status="sent")  # its touch may still record it

    assert early_status_callbacks_settle() == {"applied": 1, "expired": 1}
    touch.refresh_from_db()
    assert touch.status == TouchStatus.FAILED and "30003" in touch.failure_reason
    assert touch.lead.touches.filter(automated=False, title__contains="SMS failed").count() == 1
    assert list(EarlyStatusCallback.objects.all()) == [fresh]

    assert early_status_callbacks_settle() == {"applied": 0, "expired": 0}  # a second run changes nothing
    assert touch.lead.touches.filter(automated=False, title__contains="SMS failed").count() == 1
