"""Dispatch through the real providers' protocols: the twilio library against a fake Twilio API
and the two-phase SMTP backend against aiosmtpd, both on 127.0.0.1."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from cadences.models import CadenceStep, Touch, TouchStatus
from cadences.services import enrollment_start
from leads.models import Lead
from messaging import dispatch
from messaging.tasks import dispatch_due, reconcile_stuck
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
    """Time travel through four weeks, ticking the dispatcher every hour: every automated touch goes out
    once, on its day, at its local hour, on its channel."""
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
    moment = arrival
    while moment < arrival + dt.timedelta(days=30):
        with time_machine.travel(moment, tick=False):
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
    assert Touch.objects.get(lead=lead, channel="call").status == TouchStatus.SCHEDULED  # the rep's task waits


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
    monkeypatch.setattr(tasks.touches_send, "delay", lambda ids, token: sent_batches.append(ids))
    for _ in range(9):
        automated_touch(lead, "email")
    assert dispatch_due() == 5
    assert [len(b) for b in sent_batches] == [2, 2, 1]
    assert dispatch_due() == 0  # five still waiting in the broker
    Touch.objects.filter(pk__in=sent_batches[0]).update(send_started_at=timezone.now())
    assert dispatch_due() == 2
