"""Never stale, never a burst (messaging/freshness.py), in process with time travel: a touch past
its freshness window is skipped as expired and the cadence goes on; deferrals by rule restart the
window and retries do not; at most one automated message per channel per lead per local day;
no "New lead" alert for a lead that is no longer new. The real-worker downtime scenario is
tests/reliability/test_downtime.py."""

import datetime as dt
import logging
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cadences import sequence
from cadences.models import CadenceStep, Enrollment, Touch, TouchPurpose, TouchStatus
from cadences.services import enrollment_start
from leads.models import LeadEvent
from messaging import dispatch, freshness
from messaging.tasks import dispatch_due, rep_alert_new_lead_task
from tests.factories import CadenceFactory, CadenceStepFactory, LeadFactory, TouchFactory

NY = ZoneInfo("America/New_York")
NOON_NY = dt.datetime(2026, 6, 3, 12, 0, tzinfo=NY)

pytestmark = pytest.mark.django_db


@pytest.fixture
def providers(fake_twilio, smtp_server):
    return fake_twilio, smtp_server


@pytest.fixture
def lead(rep):
    return LeadFactory(owner=rep, first_name="Dana", timezone="America/New_York", phone="+12125551234")


def automated_touch(lead, channel, *, day=1, send_hour=10, **kw):
    """A due automated touch of a step (its day and send hour), with the deadline enrolment gives it."""
    step = CadenceStepFactory(
        channel=channel,
        automated=True,
        day=day,
        send_hour=send_hour,
        subject="Hi {{ lead.first_name }}",
        body=f"Body {lead.pk}",
    )
    due_at = kw.pop("due_at", timezone.now() - dt.timedelta(minutes=5))
    expires_at = kw.pop("expires_at", sequence.expires_at_for(due_at=due_at, step=step, automated=True))
    return TouchFactory(
        lead=lead,
        step=step,
        channel=channel,
        automated=True,
        assigned_to=None,
        due_at=due_at,
        expires_at=expires_at,
        **kw,
    )


def timeline(lead) -> list[str]:
    return list(LeadEvent.objects.filter(lead=lead, kind=LeadEvent.Kind.TOUCH).values_list("text", flat=True))


# --- Freshness


def test_a_step_past_its_freshness_window_is_skipped_as_expired_and_the_next_step_still_goes(providers, lead):
    _, smtp = providers
    cadence = CadenceFactory(name="Two emails")
    for day in (1, 2, 3):
        CadenceStep.objects.create(
            cadence=cadence, day=day, channel="email", automated=True, send_hour=10, subject=f"Day {day}", body="b"
        )
    with time_machine.travel(NOON_NY, tick=False):
        enrollment = enrollment_start(lead=lead, cadence=cadence)
    # Down from before Day 1's 10:00 until 10:30 on Day 2: Day 1's email is a day and a half late.
    with time_machine.travel(dt.datetime(2026, 6, 5, 10, 30, tzinfo=NY), tick=False):
        dispatch_due()
    touches = {t.step.day: t for t in Touch.objects.filter(enrollment=enrollment).select_related("step")}
    assert (touches[1].status, touches[1].failure_reason) == (TouchStatus.SKIPPED, "expired")
    assert touches[1].sent_at is None
    assert touches[2].status == TouchStatus.SENT  # due at 10:00 today: fresh
    assert [m["Subject"] for m in smtp.messages()] == ["Day 2"]
    assert timeline(lead) == ["Day 1 Email skipped: expired (due 4 Jun 10:00, not sent late)"]
    # The cadence goes on to its last step, and completes.
    with time_machine.travel(dt.datetime(2026, 6, 6, 10, 0, tzinfo=NY), tick=False):
        dispatch_due()
    assert [m["Subject"] for m in smtp.messages()] == ["Day 2", "Day 3"]
    assert Enrollment.objects.get(pk=enrollment.pk).state == Enrollment.State.COMPLETED


@pytest.mark.parametrize(("late", "outcome"), [(59, TouchStatus.SENT), (61, TouchStatus.SKIPPED)])
def test_the_day_0_auto_responder_goes_within_the_hour_and_never_later(providers, lead, late, outcome):
    _, smtp = providers
    cadence = CadenceFactory(name="Auto-responder")
    CadenceStep.objects.create(
        cadence=cadence, day=0, channel="email", automated=True, send_hour=None, subject="Thanks", body="b"
    )
    with time_machine.travel(NOON_NY, tick=False):
        enrollment_start(lead=lead, cadence=cadence)  # the worker that should have sent it at once is down
    touch = Touch.objects.get(lead=lead)
    assert touch.expires_at == touch.due_at + dt.timedelta(hours=1)
    with time_machine.travel(NOON_NY + dt.timedelta(minutes=late), tick=False):
        dispatch_due()
    touch.refresh_from_db()
    assert touch.status == outcome
    assert len(smtp.messages()) == (1 if outcome == TouchStatus.SENT else 0)
    if outcome == TouchStatus.SKIPPED:
        assert touch.failure_reason == "expired"
        assert timeline(lead) == ["Day 0 Email skipped: expired (due 3 Jun 12:00, not sent late)"]


def test_an_auto_responder_retried_for_more_than_an_hour_is_expired_not_sent_late(providers, lead):
    """A provider retry is lateness: the deadline stays where it was."""
    twilio, _ = providers
    with time_machine.travel(NOON_NY, tick=False):
        touch = automated_touch(lead, "sms", day=0, send_hour=None, due_at=timezone.now())
    deadline = touch.expires_at
    assert deadline == NOON_NY + dt.timedelta(hours=1)
    twilio.fail_next(100, status=503)
    moment = NOON_NY
    while moment < NOON_NY + dt.timedelta(minutes=70):
        with time_machine.travel(moment, tick=False):
            dispatch_due()
        moment += dt.timedelta(minutes=1)
    touch.refresh_from_db()
    assert touch.send_attempts >= 3  # it was retried, with backoff
    assert (touch.status, touch.failure_reason, touch.expires_at) == (TouchStatus.SKIPPED, "expired", deadline)
    assert twilio.messages() == []


@time_machine.travel(NOON_NY, tick=True)
def test_a_touch_that_expires_between_the_tick_and_its_send_is_skipped_the_same_way(providers, lead):
    _, smtp = providers
    touch = automated_touch(lead, "email", expires_at=timezone.now() + dt.timedelta(seconds=30))
    ids, token = dispatch.touches_claim_due()
    assert ids == [touch.pk]
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=1)):
        assert dispatch.touch_send(touch_id=touch.pk, token=token) == "expired"
    touch.refresh_from_db()
    assert (touch.status, touch.failure_reason, touch.claim_token) == (TouchStatus.SKIPPED, "expired", None)
    assert timeline(lead) == ["Day 1 Email skipped: expired (due 3 Jun 11:55, not sent late)"]
    assert smtp.messages() == []


def test_touches_without_a_deadline_never_expire(providers, lead):
    _, smtp = providers
    touch = automated_touch(lead, "email", due_at=timezone.now() - dt.timedelta(days=30), expires_at=None)
    dispatch_due()
    touch.refresh_from_db()
    assert touch.status == TouchStatus.SENT and len(smtp.messages()) == 1


@time_machine.travel(dt.datetime(2026, 6, 3, 23, 0, tzinfo=NY), tick=True)
def test_a_text_that_waits_for_the_contact_window_gets_its_window_from_then(providers, lead):
    """Quiet hours are a deferral, not lateness: the Day 0 text due at 23:00 goes at 08:00, not expired."""
    twilio, _ = providers
    touch = automated_touch(lead, "sms", day=0, send_hour=None, due_at=timezone.now())
    dispatch_due()
    touch.refresh_from_db()
    morning = dt.datetime(2026, 6, 4, 8, 0, tzinfo=NY)
    assert touch.status == TouchStatus.SCHEDULED and touch.due_at == morning
    assert touch.expires_at == morning + dt.timedelta(hours=1)  # else it would expire at midnight
    with time_machine.travel(morning + dt.timedelta(minutes=5)):
        dispatch_due()
    touch.refresh_from_db()
    assert touch.status == TouchStatus.SENT and len(twilio.messages()) == 1


def test_the_tick_expires_in_chunks_with_queries_that_do_not_grow_with_the_touches(rep):
    """Bulk: per chunk, a select through the due index, one update, one timeline line per lead and one
    look at the enrolments; the same number of queries for 4 expired touches per lead as for 40."""

    def expire(per_lead: int) -> tuple[int, int]:
        leads = [LeadFactory(owner=rep, timezone="America/New_York") for _ in range(3)]
        step = CadenceStepFactory(channel="email", automated=True, subject="s", body="b")
        long_ago = timezone.now() - dt.timedelta(days=3)
        enrollments = [
            Enrollment.objects.create(lead=lead, cadence=step.cadence, started_at=long_ago) for lead in leads
        ]
        Touch.objects.bulk_create(
            Touch(
                lead=lead,
                enrollment=enrollment,
                step=step,
                channel="email",
                automated=True,
                due_at=long_ago,
                expires_at=long_ago + dt.timedelta(days=1),
            )
            for lead, enrollment in zip(leads, enrollments, strict=True)
            for _ in range(per_lead)
        )
        fresh = automated_touch(leads[0], "email")
        with CaptureQueriesContext(connection) as queries:
            skipped = freshness.touches_expire_due(chunk=1000)
        assert Touch.objects.get(pk=fresh.pk).status == TouchStatus.SCHEDULED  # not yet expired
        for lead in leads:
            assert LeadEvent.objects.filter(lead=lead, kind=LeadEvent.Kind.TOUCH, text__contains="expired").count() == 1
        return skipped, len(queries)

    few, many = expire(4), expire(40)
    assert (few[0], many[0]) == (12, 120)
    assert few[1] == many[1]
    # Chunked: 120 touches of three leads 25 at a time, all of them in one call.
    leads = [LeadFactory(owner=rep) for _ in range(3)]
    for lead in leads:
        for _ in range(40):
            automated_touch(lead, "email", due_at=timezone.now() - dt.timedelta(days=2))
    assert freshness.touches_expire_due(chunk=25) == 120
    assert not Touch.objects.filter(status=TouchStatus.SCHEDULED, lead__in=leads).exists()


def test_an_enrolment_whose_last_touches_expire_completes(lead):
    step = CadenceStepFactory(channel="email", automated=True, subject="s", body="b")
    long_ago = timezone.now() - dt.timedelta(days=3)
    enrollment = Enrollment.objects.create(lead=lead, cadence=step.cadence, started_at=long_ago)
    automated_touch(lead, "email", enrollment=enrollment, due_at=long_ago)
    dispatch_due()
    assert Enrollment.objects.get(pk=enrollment.pk).state == Enrollment.State.COMPLETED


# --- The frequency cap


@time_machine.travel(NOON_NY, tick=True)
def test_two_due_emails_claimed_in_one_batch_one_goes_the_other_is_due_tomorrow(providers, lead):
    twilio, smtp = providers
    first = automated_touch(lead, "email", due_at=timezone.now() - dt.timedelta(hours=2))
    second = automated_touch(lead, "email", send_hour=11)
    sms = automated_touch(lead, "sms")  # another channel: not capped by the emails
    ids, token = dispatch.touches_claim_due()
    assert sorted(ids) == sorted([first.pk, second.pk, sms.pk])  # one batch
    from messaging.tasks import touches_send

    assert touches_send(ids, str(token)) == {"sent": 2, "capped": 1}
    first.refresh_from_db(), second.refresh_from_db(), sms.refresh_from_db()
    assert first.status == sms.status == TouchStatus.SENT
    tomorrow_11 = dt.datetime(2026, 6, 4, 11, 0, tzinfo=NY)
    assert (second.status, second.due_at, second.failure_reason) == (
        TouchStatus.SCHEDULED,
        tomorrow_11,
        "Frequency cap: one email per day per lead",
    )
    assert second.expires_at == tomorrow_11 + sequence.fresh_for(second.step)  # a deferral is not lateness
    assert second.claim_token is None and second.send_started_at is None
    assert len(smtp.messages()) == 1 and len(twilio.messages()) == 1
    assert dispatch_due() == 0
    with time_machine.travel(tomorrow_11 + dt.timedelta(minutes=1)):
        dispatch_due()
    second.refresh_from_db()
    assert second.status == TouchStatus.SENT and len(smtp.messages()) == 2


@time_machine.travel(NOON_NY, tick=True)
def test_a_capped_text_goes_the_next_day_inside_the_contact_window(providers, lead):
    automated_touch(lead, "sms")
    instant = automated_touch(lead, "sms", send_hour=None)
    assert dispatch_due() == 2
    instant.refresh_from_db()
    # The next local day at the default hour (10:00), inside the window.
    assert instant.due_at == dt.datetime(2026, 6, 4, 10, 0, tzinfo=NY)
    assert instant.failure_reason == "Frequency cap: one SMS per day per lead"


def test_the_cap_counts_the_lead_s_own_calendar_day(providers, rep):
    """Tokyo: an email sent at 08:30 local (23:30 UTC the day before) caps one at 17:00 local. Los
    Angeles: one sent at 23:30 local yesterday does not cap one at 01:00 local, the same UTC day."""
    tokyo = LeadFactory(owner=rep, timezone="Asia/Tokyo")
    la = LeadFactory(owner=rep, timezone="America/Los_Angeles")
    automated_touch(tokyo, "email", status=TouchStatus.SENT, sent_at=dt.datetime(2026, 6, 3, 23, 30, tzinfo=dt.UTC))
    automated_touch(la, "email", status=TouchStatus.SENT, sent_at=dt.datetime(2026, 6, 4, 6, 30, tzinfo=dt.UTC))
    with time_machine.travel(dt.datetime(2026, 6, 4, 1, 0, tzinfo=dt.UTC), tick=True):
        tokyo_touch = automated_touch(tokyo, "email")
    with time_machine.travel(dt.datetime(2026, 6, 4, 8, 0, tzinfo=dt.UTC), tick=True):
        la_touch = automated_touch(la, "email")
        dispatch_due()
    tokyo_touch.refresh_from_db(), la_touch.refresh_from_db()
    assert la_touch.status == TouchStatus.SENT
    assert tokyo_touch.status == TouchStatus.SCHEDULED and tokyo_touch.failure_reason.startswith("Frequency cap")
    assert tokyo_touch.due_at == dt.datetime(2026, 6, 5, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))


@time_machine.travel(NOON_NY, tick=True)
def test_a_send_in_flight_counts_and_the_setting_sets_the_cap(providers, lead, settings):
    other = automated_touch(lead, "email")
    touch = automated_touch(lead, "email")
    ids, token = dispatch.touches_claim_due()
    # Another worker started the other one a moment ago and has not heard back from the provider.
    Touch.objects.filter(pk=other.pk).update(send_started_at=timezone.now())
    assert dispatch.touch_send(touch_id=touch.pk, token=token) == "capped"
    # Two a day: the same touch goes next time.
    settings.AUTOMATED_MESSAGES_PER_CHANNEL_PER_DAY = 2
    Touch.objects.filter(pk=touch.pk).update(due_at=timezone.now())
    ids, token = dispatch.touches_claim_due()
    assert ids == [touch.pk]
    assert dispatch.touch_send(touch_id=touch.pk, token=token) == "sent"


@time_machine.travel(NOON_NY, tick=True)
def test_appointment_messages_are_outside_the_cap(providers, lead):
    _, smtp = providers
    automated_touch(lead, "email")
    reminder = automated_touch(lead, "email", purpose=TouchPurpose.APPOINTMENT_REMINDER)
    step_email = automated_touch(lead, "email", due_at=timezone.now() - dt.timedelta(minutes=1))
    dispatch_due()
    reminder.refresh_from_db(), step_email.refresh_from_db()
    assert reminder.status == TouchStatus.SENT  # never capped, and not counted against the steps
    assert step_email.status == TouchStatus.SCHEDULED and step_email.failure_reason.startswith("Frequency cap")
    assert len(smtp.messages()) == 2


# --- New-lead alerts


def test_a_new_lead_alert_goes_only_for_a_lead_inside_the_alert_window(rep, caplog, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    rep.phone = ""
    rep.save()
    old = LeadFactory(owner=rep, created_at=timezone.now() - dt.timedelta(hours=2))
    fresh = LeadFactory(owner=rep, created_at=timezone.now() - dt.timedelta(minutes=5))
    with caplog.at_level(logging.INFO, logger="messaging.services"):
        assert rep_alert_new_lead_task(old.pk) == {
            "email": False,
            "sms": False,
            "skipped": "older than the alert window",
        }
    assert mail.outbox == []
    assert any("not sent" in r.getMessage() and r.levelno == logging.INFO for r in caplog.records)
    assert rep_alert_new_lead_task(fresh.pk)["email"] is True
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [rep.email]
