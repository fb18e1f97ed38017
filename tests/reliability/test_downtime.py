"""Three days of downtime, then a real worker: nothing stale goes out and nobody gets a burst
(README "Never stale, never a burst"; messaging/freshness.py).

Three leads arrived three days ago in the reference cadence (Web lead — 28 days) and nothing was
sent since: the workers were down.
- Ada: nobody worked her either. Her Day 0 auto-responders are three days old.
- Ben: his rep did every call and task on time, so his later automated steps were released at
  their dates (cadences.sequence) and came due while the workers were down.
- Cy: his cadence is the reference one with steps that keep for four days (freshness is editable
  per step) and automated steps that do not wait for the rep, so four of his messages are due
  and fresh at once: the frequency cap's case.
Then the product's dispatch runs with a real worker process (PostgreSQL, Redis, the fake Twilio
API and SMTP server), and at the providers and in the database: nothing went out later than its
window, at most one email and one SMS per lead in the lead's local day, the skipped ones say
"expired", the capped ones wait for the lead's next local day.
"""

import datetime as dt
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from cadences import reference_cadence
from cadences.models import Cadence, CadenceStep, Outcome, Touch, TouchStatus
from cadences.services import enrollment_start
from leads.models import LeadEvent
from messaging.models import Message
from testkit.processes import wait_until
from tests.factories import LeadFactory
from tests.reliability.conftest import beat
from tests.worker import daytime_zone

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

DOWNTIME = dt.timedelta(days=3)
CAP = "Frequency cap: one email per day per lead"


def patient_copy(cadence: Cadence) -> Cadence:
    """The reference cadence with four-day freshness on its automated steps, not waiting for the rep."""
    copy = Cadence.objects.create(name=f"{cadence.name} (patient)", wait_for_rep=False, shift_when_late=False)
    for step in CadenceStep.objects.filter(cadence=cadence, retired_at__isnull=True):
        step.pk = step.id = None
        step._state.adding = True
        step.cadence = copy
        step.fresh_minutes = 4 * 24 * 60 if step.automated else None
        step.save()
    return copy


def rep_works_every_task_on_time(lead, rep, *, until: dt.datetime) -> int:
    """The rep logs each of the lead's tasks at its due time, as they come up, until `until`."""
    from reactions.outcomes import touch_complete

    done = 0
    while True:
        task = Touch.objects.open_tasks().filter(lead=lead).order_by("due_at").first()
        if task is None or task.due_at > until:
            return done
        with time_machine.travel(task.due_at, tick=False):
            touch_complete(touch=task, outcome=Outcome.NO_ANSWER, by=rep)
        done += 1


def test_a_worker_started_after_three_days_of_downtime_sends_nothing_stale_and_respects_the_cap(
    start_worker, redis_url, fake_twilio, smtp_server, rep, monkeypatch
):
    from messaging import tasks

    handed = []  # what the rep's outcomes hand to the workers: it waits in the broker while they are down
    monkeypatch.setattr(tasks.touches_send_now, "delay", lambda ids: handed.append(ids))
    reference = Cadence.objects.get(name=reference_cadence.NAME)
    patient = patient_copy(reference)
    zone = daytime_zone()  # mid-day for the leads now: texts are inside their contact window
    arrival = timezone.now() - DOWNTIME
    leads = {}
    with time_machine.travel(arrival, tick=False):
        for name, cadence in (("Ada", reference), ("Ben", reference), ("Cy", patient)):
            leads[name] = LeadFactory(owner=rep, first_name=name, timezone=zone, created_at=arrival)
            enrollment_start(lead=leads[name], cadence=cadence, at=arrival)
    assert rep_works_every_task_on_time(leads["Ben"], rep, until=timezone.now() - dt.timedelta(minutes=5)) >= 3
    automated = Touch.objects.filter(lead__in=leads.values(), automated=True).select_related("step", "lead")
    # What enrolment decided: each touch's deadline, before the worker touches anything.
    deadline = {t.pk: t.expires_at for t in automated}
    assert not Touch.objects.filter(lead__in=leads.values(), status=TouchStatus.SENT).exists()
    started = timezone.now()
    stale = {t.pk for t in automated if t.status == TouchStatus.SCHEDULED and t.expires_at < started}
    due_fresh = {t.pk for t in automated if t.status == TouchStatus.SCHEDULED and t.due_at <= started < t.expires_at}
    # Ada's and Ben's Day 0 auto-responders, Ben's Day 1 and Day 2 emails; Cy's Day 0 email and
    # SMS and his Day 1 and Day 2 emails.
    assert {(t.lead.first_name, t.step.day, t.channel) for t in automated if t.pk in stale} == {
        ("Ada", 0, "email"),
        ("Ada", 0, "sms"),
        ("Ben", 0, "email"),
        ("Ben", 0, "sms"),
        ("Ben", 1, "email"),
        ("Ben", 2, "email"),
    }
    assert {(t.lead.first_name, t.step.day, t.channel) for t in automated if t.pk in due_fresh} == {
        ("Cy", 0, "email"),
        ("Cy", 0, "sms"),
        ("Cy", 1, "email"),
        ("Cy", 2, "email"),
    }

    monkeypatch.undo()
    worker = start_worker(redis_url=redis_url, dispatch_defaults=True)
    for ids in handed:  # the instant sends queued while the workers were down, taken first
        tasks.touches_send_now.delay(ids)

    def settled() -> bool:
        waiting = Touch.objects.filter(pk__in=due_fresh, status=TouchStatus.SCHEDULED, due_at__lte=timezone.now())
        return (
            Touch.objects.filter(pk__in=stale, status=TouchStatus.SKIPPED).count() == len(stale)
            and not Touch.objects.filter(pk__in=due_fresh, status=TouchStatus.SENDING).exists()
            and not waiting.exists()
            and Message.objects.filter(direction="out", lead__in=leads.values()).count() >= 2
            and len(smtp_server.messages()) + len(fake_twilio.messages()) >= 2
        )

    assert wait_until(settled, timeout=60, interval=0.3, tick=beat), worker.log()
    for _ in range(10):  # keep the dispatch going: nothing else may go out
        beat()

    # Nothing stale went out: every message sent before its window closed; the stale ones are skipped.
    sent = list(Touch.objects.filter(lead__in=leads.values(), status=TouchStatus.SENT).select_related("lead", "step"))
    assert all(t.sent_at <= deadline[t.pk] for t in sent), [(t.pk, t.sent_at, deadline[t.pk]) for t in sent]
    for touch in Touch.objects.filter(pk__in=stale):
        assert (touch.status, touch.failure_reason, touch.sent_at) == (TouchStatus.SKIPPED, "expired", None)
    for name in ("Ada", "Ben"):
        lines = LeadEvent.objects.filter(lead=leads[name], text__contains="skipped: expired").values_list(
            "text", flat=True
        )
        assert lines and all(line.endswith("not sent late)") for line in lines), list(lines)
    # At most one email and one SMS per lead per local day: in the database and at the providers.
    per_day = Counter((t.lead_id, t.channel, t.sent_at.astimezone(ZoneInfo(zone)).date()) for t in sent)
    assert set(per_day.values()) == {1}, per_day
    emails = Counter(m["To"] for m in smtp_server.messages())
    texts = Counter(m["to"] for m in fake_twilio.messages())
    assert emails == {leads["Cy"].email: 1} and texts == {leads["Cy"].phone: 1}
    assert {(t.lead.first_name, t.step.day, t.channel) for t in sent} == {("Cy", 0, "email"), ("Cy", 0, "sms")}
    assert Message.objects.filter(direction="out", lead__in=leads.values()).count() == 2
    # Cy's other due emails wait for his next local day, at their step's hour, fresh from then.
    tomorrow = started.astimezone(ZoneInfo(zone)).date() + dt.timedelta(days=1)
    for touch in (
        Touch.objects.filter(pk__in=due_fresh, channel="email").exclude(status=TouchStatus.SENT).select_related("step")
    ):
        local = touch.due_at.astimezone(ZoneInfo(zone))
        assert (touch.status, touch.failure_reason) == (TouchStatus.SCHEDULED, CAP)
        assert (local.date(), local.hour) == (tomorrow, touch.step.send_hour)
        assert touch.expires_at == touch.due_at + dt.timedelta(days=4)
