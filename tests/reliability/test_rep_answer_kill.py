"""A rep's own text, SIGKILLed mid-send: it reaches Twilio exactly once (reactions.rep_messages).

The rep's answer is an automated touch handed to the workers at once (touches_send_now). Twilio
takes it and its answer stalls; the worker is SIGKILLed (its whole process group) while it waits,
and restarted. The reconciler finds the touch started, asks Twilio (lookup_sent), finds it there and
records it as sent: never a second text. The test stands in for beat, as test_worker_kill.py does.
"""

import pytest

from cadences.models import Touch, TouchStatus
from messaging.models import Message
from reactions.rep_messages import rep_message_send
from testkit.processes import wait_until
from tests.factories import LeadFactory
from tests.reliability.conftest import beat
from tests.worker import daytime_zone

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

BODY = "Tuesday at 10 works, see you then. Alice"


def test_a_reps_sms_killed_mid_send_reaches_twilio_exactly_once(worker, fake_twilio, smtp_server, rep):
    lead = LeadFactory(owner=rep, first_name="Dana", phone="+12125551234", timezone=daytime_zone())
    # Twilio accepts it, then its answer never comes before the kill.
    fake_twilio.hang_next(1, seconds=30, accept=True)

    touch = rep_message_send(lead=lead, by=rep, channel="sms", body=BODY)  # on commit: to the worker

    assert wait_until(lambda: len(fake_twilio.messages()) == 1, timeout=20, interval=0.02, tick=None), worker.log()
    started = Touch.objects.get(pk=touch.pk)
    assert (started.status, started.send_started_at is not None) == (TouchStatus.SENDING, True)
    worker.restart()  # SIGKILL mid-send, then a fresh worker under the same node name

    settled = wait_until(
        lambda: Touch.objects.filter(pk=touch.pk, status=TouchStatus.SENT).exists(),
        timeout=60,
        interval=0.5,
        tick=beat,
    )
    for _ in range(5):  # past the lease: a second send would show now
        beat(pause=1)

    assert settled, worker.log()
    [texted] = fake_twilio.messages()
    assert (texted["to"], texted["body"]) == (lead.phone, BODY)
    touch.refresh_from_db()
    assert (touch.status, touch.provider_message_id) == (TouchStatus.SENT, texted["sid"])
    assert Message.objects.filter(touch=touch, direction="out").count() == 1
    assert not smtp_server.messages()
