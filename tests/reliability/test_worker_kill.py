"""SIGKILL the worker mid-batch, again and again: every due touch is still sent exactly once.

A few hundred due touches (half SMS through the fake Twilio API, half email through the two-phase
SMTP backend); the worker is killed with SIGKILL (its whole process group, pool children included)
each time a few more messages arrived, and restarted. The test stands in for beat (dispatch_due and
reconcile_stuck) until every touch is sent, then keeps beating to catch any second send.
"""

import pytest

from testkit.processes import wait_until
from tests.reliability.conftest import (
    all_sent,
    assert_each_sent_exactly_once,
    beat,
    delivered,
    make_due_touches,
    scaled,
    settled,
)

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_repeated_sigkill_mid_batch_sends_every_touch_exactly_once(worker, fake_twilio, smtp_server, rep):
    count = scaled(300, 1500)
    wanted_kills = scaled(6, 25)
    touches = make_due_touches(rep, count)
    step = max(count // (wanted_kills + 3), 5)

    kills = 0
    beat(pause=0)
    while kills < wanted_kills:
        target = delivered(fake_twilio, smtp_server) + step
        wait_until(lambda t=target: delivered(fake_twilio, smtp_server) >= t, timeout=20, interval=0.01, tick=None)
        if delivered(fake_twilio, smtp_server) >= count:
            break
        worker.restart()  # SIGKILL mid-batch, then a fresh worker
        kills += 1
        beat(pause=0)

    wait_until(
        lambda: settled(touches, fake_twilio, smtp_server),
        timeout=scaled(120, 600),
        interval=0.5,
        tick=beat,
    )
    for _ in range(5):  # past the lease: a second send would show now
        beat(pause=1)
    assert kills >= 5, f"only {kills} kills before everything was sent: make the batch bigger"
    assert_each_sent_exactly_once(touches, fake_twilio, smtp_server, log=worker.log(), crashes=kills)
    assert all_sent(touches), worker.log()
