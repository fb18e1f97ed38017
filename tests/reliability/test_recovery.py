"""Recovery after a SIGKILL, timed: the two figures README "Guarantees" promises (issue 15).

The product's own dispatch settings (lease, batch size; `worker_env`'s short test lease is left
out) and a real `celery beat` ticking leadfollow/schedules.py's periodic tasks at their declared
intervals, on PostgreSQL and Redis. A backlog of due touches is being dispatched when the worker is
SIGKILLed (its whole process group) mid-batch and, as compose's restart policy would, started
again. Then:

- every touch the killed worker was sending (the rest of its running batches: claimed, not sent)
  is sent within 30 s of the kill;
- a lead posted through the API while the restarted worker works through the backlog has its
  instant touches (the auto-responder) settled within 5 s: sent and at the fake providers, or,
  for a text that would land outside the lead's contact window, put off to its morning;
- and, as in every fault test, each touch is delivered exactly once, counted at the providers.

These two and the commit-point gap are the only timing assertions in the suite.
"""

import time

import pytest
from django.db.models import Q
from django.utils import timezone

from cadences.models import Touch, TouchStatus
from leads.services.api_keys import lead_source_issue_api_key
from testkit.processes import wait_until
from tests.reliability.conftest import (
    Beat,
    assert_each_sent_exactly_once,
    delivered,
    make_due_touches,
    scaled,
    settled,
)
from tests.worker import daytime_zone

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

STRANDED_SENT_WITHIN = 30  # seconds after the kill
AUTO_RESPONDER_WITHIN = 5  # seconds after the POST
LEAD_PHONE, LEAD_EMAIL = "+12125550199", "robin@example.org"


def stranded_by_the_kill(touches) -> list[int]:
    """The touches of the batches the killed worker was running: claimed (`sending`) and in a batch
    one of whose touches had started or gone out. Batches still waiting in the broker are not
    stranded: the next worker takes them from there."""
    ids = [t.pk for t in touches]
    running = (
        Touch.objects.filter(pk__in=ids)
        .filter(Q(send_started_at__isnull=False) | Q(status=TouchStatus.SENT))
        .exclude(claim_token=None)
        .values_list("claim_token", flat=True)
    )
    return list(
        Touch.objects.filter(pk__in=ids, status=TouchStatus.SENDING, claim_token__in=set(running)).values_list(
            "pk", flat=True
        )
    )


def sent(ids) -> int:
    return Touch.objects.filter(pk__in=ids, status=TouchStatus.SENT).count()


def post_lead(client, key):
    return client.post(
        "/api/leads/",
        {
            "first_name": "Robin",
            "last_name": "Fast",
            "phone": LEAD_PHONE,
            "email": LEAD_EMAIL,
            "interest": "a quick answer",
            "timezone": daytime_zone(),
        },
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Api-Key {key}",
    )


def auto_responder_settled(lead_id, fake_twilio, smtp_server) -> bool:
    """The lead's instant touches: none still waiting to be sent now, and each one sent is at its provider."""
    instant = Touch.objects.filter(lead_id=lead_id, automated=True, step__day=0)
    states = list(instant.values_list("channel", "status", "due_at"))
    if not states or any(
        s == TouchStatus.SENDING or (s == TouchStatus.SCHEDULED and due <= timezone.now()) for _, s, due in states
    ):
        return False
    for channel, status, _ in states:
        if status == TouchStatus.SENT:
            if channel == "sms" and not any(m["to"] == LEAD_PHONE for m in fake_twilio.messages()):
                return False
            if channel == "email" and not any(m["To"] == LEAD_EMAIL for m in smtp_server.messages()):
                return False
    return True


def test_after_a_sigkill_stranded_touches_go_within_30_s_and_a_new_lead_within_5_s(
    beat_schedule, start_worker, redis_url, fake_twilio, smtp_server, web_source, rep, client, tmp_path
):
    count = scaled(1500, 4000)
    touches = make_due_touches(rep, count)
    key = lead_source_issue_api_key(source=web_source)
    worker = start_worker(redis_url=redis_url, dispatch_defaults=True)
    beat = Beat(worker, tmp_path).start()
    try:
        # Mid-dispatch: a few batches out, the rest of the backlog queued or claimed.
        assert wait_until(lambda: delivered(fake_twilio, smtp_server) >= 150, timeout=60, interval=0.01), (
            worker.log(),
            beat.log(),
        )
        worker.kill()
        killed_at = time.monotonic()
        stranded = stranded_by_the_kill(touches)
        worker.start()  # the restart policy's new worker, same node name

        # During the recovery: the new worker is sending the backlog again, the stranded still wait.
        before = delivered(fake_twilio, smtp_server)
        assert wait_until(lambda: delivered(fake_twilio, smtp_server) > before, timeout=30, interval=0.05), worker.log()
        still_stranded = len(stranded) - sent(stranded)
        posted_at = time.monotonic()
        response = post_lead(client, key)
        assert response.status_code == 201, response.content
        lead_id = response.json()["id"]
        responded = wait_until(
            lambda: auto_responder_settled(lead_id, fake_twilio, smtp_server),
            timeout=AUTO_RESPONDER_WITHIN - (time.monotonic() - posted_at),
            interval=0.1,
        )
        responded_in = time.monotonic() - posted_at
        instant = list(
            Touch.objects.filter(lead_id=lead_id, automated=True, step__day=0).values_list(
                "channel", "status", "due_at", "claimed_at", "send_started_at", "sent_at"
            )
        )

        recovered = wait_until(
            lambda: sent(stranded) == len(stranded),
            timeout=STRANDED_SENT_WITHIN - (time.monotonic() - killed_at),
            interval=0.1,
        )
        recovered_in = time.monotonic() - killed_at
        left = [
            (t.pk, t.channel, t.status, t.claimed_at, t.send_started_at)
            for t in Touch.objects.filter(pk__in=stranded).exclude(status=TouchStatus.SENT)
        ]

        # Then everything settles (a bound, not a target) and nothing went twice.
        done = wait_until(lambda: settled(touches, fake_twilio, smtp_server), timeout=scaled(240, 600), interval=0.5)
        time.sleep(6)  # another tick of beat and the reconciler: a second send would show now
    finally:
        beat.stop()
    print(
        f"\n{len(stranded)} stranded ({still_stranded} still waiting when the lead came): all sent "
        f"{recovered_in:.1f} s after the kill; the lead's auto-responder settled in {responded_in:.1f} s"
    )
    assert len(stranded) >= 10, "the kill stranded almost nothing: kill earlier or make batches bigger"
    assert responded, (f"auto-responder not out {AUTO_RESPONDER_WITHIN} s after the POST", instant, worker.log())
    assert recovered, (f"stranded touches not sent {STRANDED_SENT_WITHIN} s after the kill", left, worker.log())
    assert done, worker.log()
    lead = (LEAD_PHONE, LEAD_EMAIL)
    assert_each_sent_exactly_once(
        touches, fake_twilio, smtp_server, log=worker.log(), crashes=1, besides=(*lead, rep.email)
    )
    assert len([m for m in fake_twilio.messages() if m["to"] in lead]) <= 1
    assert len([m for m in smtp_server.messages() if m["To"] in lead]) <= 1
