"""Dispatch through the real providers' protocols: the twilio library against a fake Twilio API
and the two-phase SMTP backend against aiosmtpd, both on 127.0.0.1."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from cadences.models import CadenceStep, Outcome, Touch, TouchStatus
from cadences.services import enrollment_start
from leads.models import Lead
from messaging import dispatch, leases
from messaging.tasks import dispatch_due, reconcile_stuck
from reactions.outcomes import touch_complete
from tests.factories import CadenceFactory, CadenceStepFactory, LeadFactory, TouchFactory

NOON_NY = dt.datetime(2026, 6, 3, 16, 0, tzinfo=dt.UTC)


@pytest.fixture
def providers(fake_twilio, smtp_server):
    return fake_twilio, smtp_server


def automated_touch(lead, channel, **kw):
    step = CadenceStepFactory(
        channel=channel,
        automated=True,
        subject="Hello {{ lead.first_name }}" if channel == "email" else "",
        body="Hi {{ lead.first_name }}, {{ rep.first_name }} here." + (f" #{lead.pk}" if channel == "sms" else ""),
    )
    return TouchFactory(lead=lead, step=step, channel=channel, automated=True, assigned_to=None, **kw)


@pytest.fixture
def lead(rep):
    return LeadFactory(owner=rep, first_name="Dana", timezone="America/New_York", phone="+12125551234")


@time_machine.travel(NOON_NY, tick=True)
def test_due_touches_are_sent_once_through_real_protocols(providers, lead):
    twilio, smtp = providers
    sms = automated_touch(lead, "sms")
    email = automated_touch(lead, "email")
    future = automated_touch(lead, "email", due_at=timezone.now() + dt.timedelta(hours=1))

    assert dispatch_due() == 2
    assert dispatch_due() == 0  # nothing claimed twice

    sms.refresh_from_db(), email.refresh_from_db(), future.refresh_from_db()
    assert sms.status == email.status == TouchStatus.SENT
    assert future.status == TouchStatus.SCHEDULED
    [texted] = twilio.messages()
    assert texted["to"] == "+12125551234" and texted["body"].startswith("Hi Dana, Alice here.")
    assert sms.provider_message_id == texted["sid"]
    [mailed] = smtp.messages()
    assert mailed["Message-ID"] == f"<touch-{email.pk}@leadfollow.example>"
    assert mailed["Subject"] == "Hello Dana"
    assert mailed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "100 Main Street" in mailed.get_payload() or "100 Main Street" in str(mailed)
    assert lead.messages.filter(direction="out").count() == 2
    assert lead.events.filter(kind="message_out").count() == 2


@time_machine.travel(NOON_NY, tick=True)
def test_temporary_provider_errors_back_off_then_send_once(providers, lead):
    twilio, _ = providers
    touch = automated_touch(lead, "sms")
    twilio.fail_next(1, status=500)
    dispatch_due()
    touch.refresh_from_db()
    assert touch.status == TouchStatus.SCHEDULED and touch.send_attempts == 1
    assert touch.due_at - timezone.now() > dt.timedelta(seconds=20)  # backed off
    assert "Retrying" in touch.failure_reason
    assert dispatch_due() == 0  # not before the backoff
    with time_machine.travel(touch.due_at + dt.timedelta(seconds=1)):
        twilio.rate_limit_next(1, retry_after=120)
        dispatch_due()
        touch.refresh_from_db()
        assert touch.status == TouchStatus.SCHEDULED
        assert touch.due_at - timezone.now() >= dt.timedelta(seconds=110)  # the provider's Retry-After wins
    with time_machine.travel(touch.due_at + dt.timedelta(seconds=1)):
        dispatch_due()
    touch.refresh_from_db()
    assert touch.status == TouchStatus.SENT and touch.send_attempts == 3
    assert len(twilio.messages()) == 1


def test_backoff_grows_and_is_capped():
    assert [dispatch.backoff_seconds(n) for n in (1, 2, 3)] == [30, 60, 120]
    assert dispatch.backoff_seconds(20) == 3600
    assert dispatch.backoff_seconds(1, retry_after=300) == 300


@time_machine.travel(NOON_NY, tick=True)
@pytest.mark.parametrize(("code", "flag"), [(21211, "sms_unusable"), (21614, "sms_unusable"), (21610, "sms_opt_out")])
def test_permanent_sms_errors_fail_flag_the_number_and_task_the_rep(providers, lead, code, flag):
    twilio, _ = providers
    twilio.fail_number(lead.phone, code=code)
    touch = automated_touch(lead, "sms")
    later = automated_touch(lead, "sms", due_at=timezone.now() + dt.timedelta(days=2))
    dispatch_due()
    touch.refresh_from_db(), later.refresh_from_db()
    assert touch.status == TouchStatus.FAILED and touch.failure_reason
    assert later.status == TouchStatus.SKIPPED  # no more texts to that number
    assert getattr(Lead.objects.get(pk=lead.pk), flag) is True
    task = Touch.objects.get(lead=lead, automated=False, channel="call")
    assert task.assigned_to == lead.owner and task.status == TouchStatus.SCHEDULED
    assert twilio.messages() == []


@time_machine.travel(NOON_NY, tick=True)
def test_hard_bounce_marks_the_address_invalid(providers, lead):
    _, smtp = providers
    smtp.reject_recipient(lead.email)
    touch = automated_touch(lead, "email")
    dispatch_due()
    touch.refresh_from_db()
    assert touch.status == TouchStatus.FAILED
    assert Lead.objects.get(pk=lead.pk).email_invalid
    assert Touch.objects.filter(lead=lead, automated=False).exists()
    assert smtp.messages() == []


@time_machine.travel(dt.datetime(2026, 6, 3, 3, 0, tzinfo=dt.UTC), tick=True)  # 23:00 in New York
def test_sms_due_at_night_waits_for_the_contact_window(providers, lead):
    twilio, _ = providers
    touch = automated_touch(lead, "sms")
    dispatch_due()
    touch.refresh_from_db()
    assert touch.status == TouchStatus.SCHEDULED
    assert touch.due_at.astimezone(ZoneInfo("America/New_York")).hour == 8
    assert twilio.messages() == []


@time_machine.travel(NOON_NY, tick=True)
def test_consent_is_checked_at_send_time(providers, lead):
    twilio, smtp = providers
    sms = automated_touch(lead, "sms")
    email = automated_touch(lead, "email")
    Lead.objects.filter(pk=lead.pk).update(sms_opt_out=True, email_opt_out=True)
    dispatch_due()
    sms.refresh_from_db(), email.refresh_from_db()
    assert sms.status == email.status == TouchStatus.SKIPPED
    assert twilio.messages() == [] and smtp.messages() == []


@time_machine.travel(NOON_NY, tick=True)
def test_stale_claim_token_sends_nothing(providers, lead):
    twilio, _ = providers
    touch = automated_touch(lead, "sms")
    ids, token = dispatch.touches_claim_due()
    # The claim expired and someone else re-claimed it: the first holder must do nothing.
    Touch.objects.filter(pk=touch.pk).update(status=TouchStatus.SCHEDULED, claim_token=None)
    ids2, token2 = dispatch.touches_claim_due()
    assert dispatch.touch_send(touch_id=touch.pk, token=token) == "stale"
    assert dispatch.touch_send(touch_id=touch.pk, token=token2) == "sent"
    assert dispatch.touch_send(touch_id=touch.pk, token=token2) == "stale"
    assert len(twilio.messages()) == 1


def test_reconciler_finds_an_sms_the_provider_already_accepted(providers, lead, settings):
    """A worker died after Twilio accepted the text but before recording it: no second text."""
    twilio, _ = providers
    settings.DISPATCH_LEASE_SECONDS = 60
    with time_machine.travel(NOON_NY, tick=True):
        touch = automated_touch(lead, "sms")
        ids, token = dispatch.touches_claim_due()
        message = dispatch.outgoing_message_for(Touch.objects.select_related("lead__owner", "step").get(pk=touch.pk))
        Touch.objects.filter(pk=touch.pk).update(send_started_at=timezone.now())
        from messaging import transports

        transports.send(message, commit_point=lambda: True)  # accepted; the worker "dies" before recording
    with time_machine.travel(NOON_NY + dt.timedelta(minutes=5), tick=True):
        result = reconcile_stuck()
        assert result == {"stuck": 1, "found_sent": 1, "requeued": 0}
        dispatch_due()
    touch.refresh_from_db()
    assert touch.status == TouchStatus.SENT and touch.provider_message_id == twilio.messages()[0]["sid"]
    assert len(twilio.messages()) == 1


def test_reconciler_requeues_an_email_that_never_reached_the_final_dot(providers, lead, settings):
    _, smtp = providers
    settings.DISPATCH_LEASE_SECONDS = 60
    with time_machine.travel(NOON_NY, tick=True):
        touch = automated_touch(lead, "email")
        dispatch.touches_claim_due()
        Touch.objects.filter(pk=touch.pk).update(send_started_at=timezone.now())  # died mid-send
    with time_machine.travel(NOON_NY + dt.timedelta(minutes=5), tick=True):
        assert reconcile_stuck() == {"stuck": 1, "found_sent": 0, "requeued": 1}
        dispatch_due()
    touch.refresh_from_db()
    assert touch.status == TouchStatus.SENT
    assert len(smtp.messages()) == 1


@pytest.mark.django_db
def test_a_cadence_runs_day_by_day_at_the_right_local_times(providers, rep):
    """Time travel through four weeks, ticking the dispatcher every half hour: every automated touch goes
    out once, on its day, at its local hour, on its channel. Steps run in order: the automated ones
    after the Day 1 call wait for the rep, who logs it when it comes due (cadences.sequence)."""
    twilio, smtp = providers
    cadence = CadenceFactory(name="Short")
    CadenceStep.objects.create(
        cadence=cadence, day=0, channel="sms", automated=True, send_hour=None, body="Hi {{ lead.first_name }}"
    )
    CadenceStep.objects.create(
        cadence=cadence, day=1, channel="email", automated=True, send_hour=9, subject="Day 1", body="b"
    )
    CadenceStep.objects.create(cadence=cadence, day=1, channel="call", send_hour=10)
    CadenceStep.objects.create(
        cadence=cadence, day=3, channel="sms", automated=True, send_hour=7, body="Day 3 {{ lead.first_name }}"
    )
    CadenceStep.objects.create(
        cadence=cadence, day=28, channel="email", automated=True, send_hour=16, subject="Day 28", body="b"
    )
    tz = ZoneInfo("America/Los_Angeles")
    arrival = dt.datetime(2026, 3, 6, 22, 30, tzinfo=tz)  # Friday 22:30; DST starts on Sunday 8 March
    with time_machine.travel(arrival, tick=False):
        lead = LeadFactory(owner=rep, timezone="America/Los_Angeles", created_at=arrival, phone="+14155551234")
        enrollment_start(lead=lead, cadence=cadence, at=arrival)
    call = Touch.objects.get(lead=lead, channel="call")
    moment = arrival
    while moment < arrival + dt.timedelta(days=30):
        with time_machine.travel(moment, tick=False):
            call.refresh_from_db()
            if call.status == TouchStatus.SCHEDULED and call.due_at <= moment:
                touch_complete(touch=call, outcome=Outcome.NO_ANSWER, by=rep)  # on time: nothing shifts
            dispatch_due()
        moment += dt.timedelta(minutes=30)
    sent = {t.step.day: t for t in Touch.objects.filter(lead=lead, automated=True).select_related("step")}
    assert all(t.status == TouchStatus.SENT for t in sent.values())
    local = {day: t.sent_at.astimezone(tz) for day, t in sent.items()}
    assert local[0].replace(tzinfo=None) == dt.datetime(2026, 3, 7, 8, 0)  # night SMS waits for 08:00
    assert local[1].replace(tzinfo=None) == dt.datetime(2026, 3, 7, 9, 0)
    assert local[3].replace(tzinfo=None) == dt.datetime(2026, 3, 9, 8, 0)  # 07:00 is too early for SMS; after DST
    assert local[28].replace(tzinfo=None) == dt.datetime(2026, 4, 3, 16, 0)
    assert len(twilio.messages()) == 2 and len(smtp.messages()) == 2
    call.refresh_from_db()
    assert call.status == TouchStatus.DONE and call.completed_by == rep  # the rep's task, never dispatched


def test_email_with_a_lost_final_reply_stays_sent_and_is_never_resent(lead, monkeypatch):
    from messaging import transports

    def lost_reply(message, *, commit_point):
        assert commit_point()
        raise transports.TransportError(
            "no reply to the end of data", permanent=True, code="outcome_unknown", after_commit=True
        )

    monkeypatch.setattr(transports, "send", lost_reply)
    touch = automated_touch(lead, "email")
    dispatch_due()
    touch.refresh_from_db()
    assert touch.status == TouchStatus.SENT
    assert touch.failure_reason.startswith("Delivery not confirmed")
    assert not Touch.objects.filter(lead=lead, automated=False).exists()  # no "bounced" task
    assert dispatch_due() == 0


@time_machine.travel(NOON_NY, tick=True)
def test_dispatch_tops_the_queue_up_to_the_in_flight_limit(lead, settings, monkeypatch):
    """A backlog waits in the database: one tick claims no more than DISPATCH_MAX_IN_FLIGHT."""
    from messaging import tasks

    settings.DISPATCH_MAX_IN_FLIGHT = 5
    settings.DISPATCH_BATCH_SIZE = 2
    sent_batches = []
    monkeypatch.setattr(tasks.touches_send, "apply_async", lambda args, **options: sent_batches.append(args[0]))
    for _ in range(9):
        automated_touch(lead, "email")
    assert dispatch_due() == 5
    assert [len(b) for b in sent_batches] == [2, 2, 1]
    assert dispatch_due() == 0  # five still waiting in the broker
    Touch.objects.filter(pk__in=sent_batches[0]).update(send_started_at=timezone.now())
    assert dispatch_due() == 2


# --- Leases and recovery (messaging/leases.py; the timed figures are in tests/reliability/test_recovery.py)

NODE = "celery@worker-1"


def taken_by(touch_ids, holder, *, at):
    """What a worker process does when it starts a batch (leases.held): it holds the lease."""
    lease = dt.timedelta(seconds=settings.DISPATCH_LEASE_SECONDS)
    Touch.objects.filter(pk__in=touch_ids).update(claimed_by=holder, lease_expires_at=at + lease)


def test_the_reconciler_settles_every_stuck_touch_in_one_run_not_500(lead):
    step = CadenceStepFactory(channel="email", automated=True, subject="Hi", body="b")
    past = timezone.now() - dt.timedelta(minutes=1)
    Touch.objects.bulk_create(
        Touch(lead=lead, step=step, channel="email", automated=True, due_at=past) for _ in range(620)
    )
    ids, _ = dispatch.touches_claim_due(limit=1000)
    assert len(ids) == 620
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=10)):
        result = dispatch.touches_reconcile_stuck()
    assert result == {"stuck": 620, "found_sent": 0, "requeued": 620}
    assert not Touch.objects.filter(status=TouchStatus.SENDING).exists()


@time_machine.travel(NOON_NY, tick=True)
def test_a_lease_that_is_renewed_holds_and_one_that_stopped_lapses_within_the_lease(lead):
    """Not the 120 s the queue lease (or the old lease) gives: a worker that stopped renewing lets
    go of the batch it was sending one lease (15 s) after its last renewal."""
    assert settings.DISPATCH_LEASE_SECONDS == 15 and settings.DISPATCH_QUEUE_LEASE_SECONDS == 120
    touches = [automated_touch(lead, "email") for _ in range(3)]
    ids, token = dispatch.touches_claim_due()
    taken_by(ids, f"{NODE}/aaaa/101", at=timezone.now())
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=10)):
        assert dispatch.touches_reconcile_stuck()["stuck"] == 0  # held: its worker may be sending
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=16)):
        assert dispatch.touches_reconcile_stuck() == {"stuck": 3, "found_sent": 0, "requeued": 3}
    for touch in touches:
        touch.refresh_from_db()
        assert (touch.status, touch.claim_token, touch.claimed_by, touch.lease_expires_at) == (
            "scheduled",
            None,
            "",
            None,
        )


@time_machine.travel(NOON_NY, tick=True)
def test_a_batch_waiting_in_the_broker_is_held_for_the_queue_lease(lead):
    automated_touch(lead, "email")
    dispatch.touches_claim_due()  # no worker has taken it: it waits in the broker
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=60)):
        assert dispatch.touches_reconcile_stuck()["stuck"] == 0
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=121)):
        assert dispatch.touches_reconcile_stuck()["requeued"] == 1


def started(touch_id, holder, *, at):
    taken_by([touch_id], holder, at=at)
    Touch.objects.filter(pk=touch_id).update(send_started_at=at)


def started_at_noon(lead, channel):
    """A touch whose send started at noon, held by a worker that went silent at once: (touch, token)."""
    with time_machine.travel(NOON_NY, tick=True):
        touch = automated_touch(lead, channel)
        _, token = dispatch.touches_claim_due()
        started(touch.pk, f"{NODE}/aaaa/101", at=timezone.now())
    return touch, token


def test_a_started_sms_twilio_has_not_seen_goes_again_only_once_its_worker_is_known_gone(providers, lead):
    """Twilio has no commit point: a text whose send started is looked up first, and sent again only
    when its holder is known gone (its worker node restarted: another incarnation renews) or when
    it started longer ago than any provider call lasts (DISPATCH_SEND_TIMEOUT_SECONDS)."""
    twilio, _ = providers
    sms, _ = started_at_noon(lead, "sms")
    with time_machine.travel(NOON_NY + dt.timedelta(seconds=20), tick=True):
        # Its lease lapsed, but its worker may only be frozen: never sent again on that alone.
        assert dispatch.touches_reconcile_stuck() == {"stuck": 1, "found_sent": 0, "requeued": 0}
        assert Touch.objects.get(pk=sms.pk).status == TouchStatus.SENDING
        # The node restarts: its new incarnation takes a batch and renews its lease.
        other = automated_touch(lead, "email")
        dispatch.touches_claim_due()
        taken_by([other.pk], f"{NODE}/bbbb/202", at=timezone.now())
        assert dispatch.touches_reconcile_stuck() == {"stuck": 1, "found_sent": 0, "requeued": 1}
    sms.refresh_from_db()
    assert sms.status == TouchStatus.SCHEDULED and sms.claim_token is None
    assert twilio.messages() == []


def test_a_started_sms_of_a_worker_that_never_came_back_goes_again_after_the_send_timeout(providers, lead):
    started_at_noon(lead, "sms")
    with time_machine.travel(NOON_NY + dt.timedelta(seconds=settings.DISPATCH_SEND_TIMEOUT_SECONDS - 5), tick=True):
        assert dispatch.touches_reconcile_stuck()["requeued"] == 0
    with time_machine.travel(NOON_NY + dt.timedelta(seconds=settings.DISPATCH_SEND_TIMEOUT_SECONDS + 5), tick=True):
        assert dispatch.touches_reconcile_stuck()["requeued"] == 1


def test_a_started_email_whose_lease_lapsed_goes_back_at_once(providers, lead):
    """Its commit point refuses a claim taken back: its old holder can no longer deliver it."""
    _, smtp = providers
    email, token = started_at_noon(lead, "email")
    with time_machine.travel(NOON_NY + dt.timedelta(seconds=20), tick=True):
        assert dispatch.touches_reconcile_stuck() == {"stuck": 1, "found_sent": 0, "requeued": 1}
        Touch.objects.filter(pk=email.pk).update(send_started_at=None)
        assert dispatch.touch_send(touch_id=email.pk, token=token) == "stale"  # the old holder wakes up
    assert smtp.messages() == []


@time_machine.travel(NOON_NY, tick=True)
def test_a_live_twin_of_a_node_is_not_taken_for_dead(lead):
    """Two live workers under one node name (a misconfiguration): both keep renewing, so neither's
    claims count as gone; only missed renewals do."""
    a, b = automated_touch(lead, "sms"), automated_touch(lead, "sms")
    dispatch.touches_claim_due()
    now = timezone.now()
    started(a.pk, f"{NODE}/aaaa/101", at=now - dt.timedelta(seconds=1))
    started(b.pk, f"{NODE}/bbbb/202", at=now)
    assert leases.holders_superseded(now) == []
    silent = now + dt.timedelta(seconds=1.5 * leases.renew_interval() + 1)
    assert leases.holders_superseded(silent) == []  # both silent since: nothing says which one is gone
    taken_by([b.pk], f"{NODE}/bbbb/202", at=silent)
    assert leases.holders_superseded(silent) == [f"{NODE}/aaaa/101"]


@time_machine.travel(NOON_NY, tick=True)
def test_touches_taken_back_from_a_dead_worker_jump_the_queued_backlog(lead, monkeypatch):
    from messaging import tasks

    sent_batches = []
    monkeypatch.setattr(tasks.touches_send, "apply_async", lambda args, **o: sent_batches.append((args[0], o)))
    fresh = [automated_touch(lead, "email") for _ in range(2)]
    again = automated_touch(lead, "email", due_at=timezone.now())
    Touch.objects.filter(pk=again.pk).update(send_attempts=1)  # claimed once, taken back
    assert tasks.dispatch_due() == 3
    assert sent_batches == [
        ([again.pk], {"priority": tasks.AGAIN_PRIORITY}),
        ([t.pk for t in fresh], {"priority": tasks.BACKLOG_PRIORITY}),
    ]
    assert tasks.AGAIN_PRIORITY < tasks.BACKLOG_PRIORITY  # Redis: the lower goes first


def test_batches_ride_their_own_queue_and_instant_touches_the_default_one(settings):
    from leadfollow.celery import app, route_task

    queue = app.conf.task_default_queue
    assert route_task("cadences.touches_send", (), {}, {}) == {"queue": f"{queue}.batches"}
    for instant in ("cadences.touches_send_now", "cadences.reconcile_stuck", "cadences.dispatch_due"):
        assert route_task(instant, (), {}, {}) is None  # the default queue, read first
    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("queue_order_strategy", "priority") == "priority"
