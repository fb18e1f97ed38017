"""Provider errors: outages (500), timeouts (a hung API), rate limits (429) and temporary SMTP
replies are retried with backoff and each touch is sent once; permanent errors (Twilio 21211, SMTP
550) fail the touch with the reason and give the rep a call task. In-process with time_machine for
the backoff arithmetic, and once end to end with a real worker."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from cadences.models import Touch, TouchStatus
from leads.models import Lead
from messaging.tasks import dispatch_due
from testkit.processes import wait_until
from tests.factories import CadenceStepFactory, LeadFactory, TouchFactory
from tests.reliability.conftest import all_sent, assert_each_sent_exactly_once, beat, make_due_touches

NOON_NY = dt.datetime(2026, 6, 3, 16, 0, tzinfo=dt.UTC)


def sms_touch(lead):
    step = CadenceStepFactory(channel="sms", automated=True, body=f"Hello {lead.first_name}")
    return TouchFactory(lead=lead, step=step, channel="sms", automated=True, assigned_to=None)


@pytest.mark.django_db
@time_machine.travel(NOON_NY, tick=True)
@pytest.mark.parametrize("accepted", [False, True], ids=["lost-request", "lost-answer"])
def test_a_hung_twilio_is_retried_with_backoff_or_found_and_never_sent_twice(fake_twilio, settings, rep, accepted):
    settings.TWILIO_TIMEOUT_SECONDS = 0.5
    lead = LeadFactory(owner=rep, first_name="Dana", timezone="America/New_York", phone="+12125551234")
    touch = sms_touch(lead)
    fake_twilio.hang_next(1, seconds=2, accept=accepted)
    dispatch_due()
    touch.refresh_from_db()
    if accepted:
        # Twilio took it but the answer timed out: the transport asked, found it, recorded it.
        assert touch.status == TouchStatus.SENT and touch.provider_message_id == fake_twilio.messages()[0]["sid"]
    else:
        assert touch.status == TouchStatus.SCHEDULED and "Retrying" in touch.failure_reason
        assert touch.due_at - timezone.now() >= dt.timedelta(seconds=25)  # 30 s backoff
        assert dispatch_due() == 0
        with time_machine.travel(touch.due_at + dt.timedelta(seconds=1)):
            dispatch_due()
        touch.refresh_from_db()
        assert touch.status == TouchStatus.SENT and touch.send_attempts == 2
    assert fake_twilio.count_by_body() == {"Hello Dana": 1}


@pytest.mark.django_db
@time_machine.travel(NOON_NY, tick=True)
def test_backoff_doubles_on_each_failure_until_sent_once(fake_twilio, smtp_server, rep):
    lead = LeadFactory(owner=rep, first_name="Dana", timezone="America/New_York", phone="+12125551234")
    touch = sms_touch(lead)
    fake_twilio.fail_next(3, status=503)
    fake_twilio.rate_limit_next(1, retry_after=400)
    delays = []
    for _ in range(5):
        with time_machine.travel(Touch.objects.get(pk=touch.pk).due_at + dt.timedelta(seconds=1), tick=False):
            dispatch_due()
            touch.refresh_from_db()
            if touch.status == TouchStatus.SCHEDULED:
                delays.append(round((touch.due_at - timezone.now()).total_seconds()))
    assert delays == [30, 60, 120, 400]  # doubling, then the provider's Retry-After (longer) wins
    assert touch.status == TouchStatus.SENT and touch.send_attempts == 5
    assert fake_twilio.count_by_body() == {"Hello Dana": 1}


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_real_worker_retries_temporary_errors_and_fails_permanent_ones(
    start_worker, redis_url, fake_twilio, smtp_server, rep
):
    # As in production, the lease outlasts the transports' timeouts (Twilio's is 10 s): a hung
    # request times out and is retried, rather than being taken over by the reconciler.
    worker = start_worker(redis_url=redis_url, DISPATCH_LEASE_SECONDS="20")
    touches = make_due_touches(rep, 40)
    zone = Lead.objects.get(pk=touches[0].lead_id).timezone
    bad_sms = sms_touch(LeadFactory(owner=rep, first_name="Bad", phone="+15005550001", timezone=zone))  # 21211
    email_step = CadenceStepFactory(channel="email", automated=True, subject="Hi", body="Body")
    bad_email = TouchFactory(
        lead=LeadFactory(owner=rep, first_name="Bounce", email="nobody@example.org"),
        step=email_step,
        channel="email",
        automated=True,
        assigned_to=None,
    )
    smtp_server.reject_recipient("nobody@example.org", code=550)
    fake_twilio.hang_next(1, seconds=12)  # longer than the worker's 10 s Twilio timeout; not accepted
    fake_twilio.fail_next(3, status=500)
    fake_twilio.rate_limit_next(3, retry_after=1)
    smtp_server.temp_fail_next(3, code=421, stage="rcpt")

    backoffs = []

    def tick():
        # Beat, and let time pass for touches waiting out their backoff (after checking it).
        now = timezone.now()
        waiting = Touch.objects.filter(
            status=TouchStatus.SCHEDULED, automated=True, failure_reason__startswith="Retrying", due_at__gt=now
        )
        backoffs.extend((t.due_at - t.claimed_at).total_seconds() for t in waiting)
        waiting.update(due_at=now)
        beat()

    def settled():
        return (
            all_sent(touches)
            and Touch.objects.filter(pk__in=[bad_sms.pk, bad_email.pk], status=TouchStatus.FAILED).count() == 2
        )

    assert wait_until(settled, timeout=90, interval=0.5, tick=tick), worker.log()
    for _ in range(4):
        tick()
    assert_each_sent_exactly_once(touches, fake_twilio, smtp_server, log=worker.log())
    assert len(backoffs) >= 10 and min(backoffs) >= 29, backoffs  # 3 x 500, 3 x 429, 1 timeout, 3 x 421
    ids = [t.pk for t in touches] + [bad_sms.pk, bad_email.pk]
    retries = sum(n - 1 for n in Touch.objects.filter(pk__in=ids).values_list("send_attempts", flat=True))
    assert retries >= 10  # each temporary error cost one more attempt

    for bad, flag, reason in ((bad_sms, "sms_unusable", "21211"), (bad_email, "email_invalid", "550")):
        bad.refresh_from_db()
        assert bad.status == TouchStatus.FAILED and reason in bad.failure_reason, bad.failure_reason
        assert getattr(Lead.objects.get(pk=bad.lead_id), flag) is True
        task = Touch.objects.get(lead_id=bad.lead_id, automated=False, channel="call")
        assert task.assigned_to == rep and task.status == TouchStatus.SCHEDULED
    assert not any(m["to"] == "+15005550001" for m in fake_twilio.messages())
    assert not any(m["To"] == "nobody@example.org" for m in smtp_server.messages())
