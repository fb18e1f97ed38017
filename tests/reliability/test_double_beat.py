"""Beat started twice by mistake: two real `celery beat` processes (DatabaseScheduler, the 5 s
dispatch schedule of leadfollow/schedules.py) against the same database and broker, with a worker,
while touches keep falling due. Each is sent once: claims are taken with FOR UPDATE SKIP LOCKED
and a fresh token, so two dispatchers never claim the same row."""

import time

import pytest

from testkit.processes import wait_until
from tests.reliability.conftest import (
    Beat,
    all_sent,
    assert_each_sent_exactly_once,
    delivered,
    make_due_touches,
    scaled,
)

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_two_beats_by_mistake_do_not_double_send(
    beat_schedule, start_worker, redis_url, fake_twilio, smtp_server, rep, tmp_path
):
    worker = start_worker(redis_url=redis_url, concurrency=4)
    beats = [Beat(worker, tmp_path, f"beat{i}").start() for i in (1, 2)]
    try:
        touches = make_due_touches(rep, 60, tag="W0")
        # More touches keep falling due while both beats tick (every 5 s each).
        started = time.monotonic()
        wave = 1
        while time.monotonic() - started < scaled(15, 120):
            time.sleep(2)
            touches += make_due_touches(rep, 20, tag=f"W{wave}")
            wave += 1
        done = wait_until(
            lambda: all_sent(touches) and delivered(fake_twilio, smtp_server) >= len(touches), timeout=40, interval=0.5
        )
        time.sleep(6)  # another tick of each beat: a second send would show now
        counts = [b.dispatches() for b in beats]
    finally:
        for b in beats:
            b.stop()
    logs = "\n".join(b.log_path.read_text(errors="replace")[-3000:] for b in beats) + worker.log()
    assert all(n >= 2 for n in counts), (counts, logs)  # both beats really dispatched, repeatedly
    assert_each_sent_exactly_once(touches, fake_twilio, smtp_server, log=logs)  # says what is missing
    assert done, logs
