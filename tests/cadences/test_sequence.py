"""Steps run one after another (cadences/sequence.py): one open task per lead, a late rep shifts the
rest of the cadence instead of piling it up, automated steps wait for the rep."""

import datetime as dt
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import time_machine

from cadences.models import Channel, Touch, TouchStatus
from cadences.services import (
    enrollment_exit,
    enrollment_pause,
    enrollment_resume,
    enrollment_start,
    touch_snooze,
    touches_reassign_for_lead,
)
from reactions.outcomes import touch_complete
from tests.factories import CadenceFactory, CadenceStepFactory, LeadFactory

NY = ZoneInfo("America/New_York")
# Monday 1 June 2026, 09:00 in New York.
START = dt.datetime(2026, 6, 1, 13, 0, tzinfo=dt.UTC)


@pytest.fixture
def cadence(db):
    """Day 0 call at 10:00, Day 1 email 10:00 (automated), Day 1 call 11:00, Day 3 email 10:00, Day 5 call 10:00."""
    cadence = CadenceFactory(name="Sequential")
    for day, position, channel, automated, hour in [
        (0, 0, Channel.CALL, False, 10),
        (1, 0, Channel.EMAIL, True, 10),
        (1, 1, Channel.CALL, False, 11),
        (3, 0, Channel.EMAIL, True, 10),
        (5, 0, Channel.CALL, False, 10),
    ]:
        CadenceStepFactory(
            cadence=cadence,
            day=day,
            position=position,
            channel=channel,
            automated=automated,
            send_hour=hour,
            subject="A useful idea" if channel == Channel.EMAIL else "",
            body="Hi {{ lead.first_name }}" if channel == Channel.EMAIL else "",
        )
    return cadence


@pytest.fixture
def lead(rep):
    # A rep in New York working 08:00–18:00, so due times stay at the steps' hours.
    rep.timezone, rep.work_start_hour, rep.work_end_hour = "America/New_York", 8, 18
    rep.save()
    return LeadFactory(owner=rep, timezone="America/New_York", timezone_confirmed=True, phone="+12125551234")


def touches(lead):
    return list(Touch.objects.filter(lead=lead).select_related("step").order_by("step__day", "step__position"))


def local(moment):
    return moment.astimezone(NY).replace(tzinfo=None)


def statuses(lead):
    return [(t.step.day, t.channel, t.status) for t in touches(lead)]


@time_machine.travel(START, tick=False)
def test_only_the_first_manual_step_is_open_and_the_rest_waits(cadence, lead):
    enrollment_start(lead=lead, cadence=cadence, at=START)
    assert statuses(lead) == [
        (0, "call", "scheduled"),
        (1, "email", "pending"),  # after an open manual step: waits for the rep
        (1, "call", "pending"),
        (3, "email", "pending"),
        (5, "call", "pending"),
    ]
    assert Touch.objects.open_tasks().filter(lead=lead).count() == 1
    # Pending touches keep their planned time (the lead page shows it) and an expiry when automated.
    day1_email = touches(lead)[1]
    assert local(day1_email.due_at) == dt.datetime(2026, 6, 2, 10, 0)
    assert day1_email.expires_at - day1_email.due_at == dt.timedelta(days=1)


@time_machine.travel(START, tick=False)
def test_doing_a_step_on_time_releases_the_next_ones_at_their_dates(cadence, lead, rep):
    enrollment_start(lead=lead, cadence=cadence, at=START)
    first = touches(lead)[0]
    with time_machine.travel(first.due_at + dt.timedelta(minutes=5), tick=False):
        touch_complete(touch=first, outcome="no_answer", by=rep)
    rows = touches(lead)
    assert [t.status for t in rows] == ["done", "scheduled", "scheduled", "pending", "pending"]
    assert local(rows[1].due_at) == dt.datetime(2026, 6, 2, 10, 0)  # on time: nothing moves
    assert local(rows[2].due_at) == dt.datetime(2026, 6, 2, 11, 0)
    assert Touch.objects.open_tasks().filter(lead=lead).count() == 1


@time_machine.travel(START, tick=False)
def test_a_late_rep_shifts_the_remaining_steps_by_the_delay(cadence, lead, rep):
    enrollment_start(lead=lead, cadence=cadence, at=START)
    first = touches(lead)[0]
    # The Day 0 10:00 call is done two days late, Wednesday 3 June at 10:00.
    done_at = first.due_at + dt.timedelta(days=2)
    with time_machine.travel(done_at, tick=False):
        touch_complete(touch=first, outcome="voicemail", by=rep)
    rows = touches(lead)
    # Everything after it moved by two days, keeping the cadence's spacing: nothing is overdue.
    assert [local(t.due_at) for t in rows[1:]] == [
        dt.datetime(2026, 6, 4, 10, 0),
        dt.datetime(2026, 6, 4, 11, 0),
        dt.datetime(2026, 6, 6, 10, 0),
        dt.datetime(2026, 6, 8, 10, 0),
    ]
    assert all(t.due_at > done_at for t in rows[1:])
    assert rows[1].expires_at == rows[1].due_at + dt.timedelta(days=1)


@time_machine.travel(START, tick=False)
def test_within_the_grace_nothing_shifts(cadence, lead, rep):
    enrollment_start(lead=lead, cadence=cadence, at=START)
    first = touches(lead)[0]
    with time_machine.travel(first.due_at + dt.timedelta(minutes=14), tick=False):
        touch_complete(touch=first, outcome="connected", by=rep)
    assert local(touches(lead)[1].due_at) == dt.datetime(2026, 6, 2, 10, 0)


@time_machine.travel(START, tick=False)
def test_keep_dates_releases_without_shifting(cadence, lead, rep):
    cadence.shift_when_late = False
    cadence.save()
    enrollment_start(lead=lead, cadence=cadence, at=START)
    first = touches(lead)[0]
    with time_machine.travel(first.due_at + dt.timedelta(days=2), tick=False):
        touch_complete(touch=first, outcome="voicemail", by=rep)
    rows = touches(lead)
    assert local(rows[1].due_at) == dt.datetime(2026, 6, 2, 10, 0)  # kept: the dispatcher expires it
    assert [t.status for t in rows] == ["done", "scheduled", "scheduled", "pending", "pending"]


@time_machine.travel(START, tick=False)
def test_without_wait_for_rep_automated_steps_go_at_their_dates(cadence, lead):
    cadence.wait_for_rep = False
    cadence.save()
    enrollment_start(lead=lead, cadence=cadence, at=START)
    assert statuses(lead) == [
        (0, "call", "scheduled"),
        (1, "email", "scheduled"),
        (1, "call", "pending"),
        (3, "email", "scheduled"),
        (5, "call", "pending"),
    ]


@time_machine.travel(START, tick=False)
def test_a_snooze_moves_what_waits_behind_the_task(cadence, lead, rep):
    enrollment_start(lead=lead, cadence=cadence, at=START)
    first = touches(lead)[0]
    touch_snooze(touch=first, until=first.due_at + dt.timedelta(days=1), by=rep)
    rows = touches(lead)
    assert local(rows[0].due_at) == dt.datetime(2026, 6, 2, 10, 0)
    assert local(rows[1].due_at) == dt.datetime(2026, 6, 3, 10, 0)
    assert local(rows[4].due_at) == dt.datetime(2026, 6, 7, 10, 0)


@time_machine.travel(START, tick=False)
def test_pause_and_resume_move_waiting_steps_too(cadence, lead, rep):
    enrollment = enrollment_start(lead=lead, cadence=cadence, at=START)
    enrollment_pause(enrollment=enrollment, by=rep)
    assert [t.status for t in touches(lead)] == ["paused", "pending", "pending", "pending", "pending"]
    with time_machine.travel(START + dt.timedelta(days=3), tick=False):
        enrollment_resume(enrollment=enrollment, by=rep)
    rows = touches(lead)
    assert [t.status for t in rows] == ["scheduled", "pending", "pending", "pending", "pending"]
    assert local(rows[1].due_at) == dt.datetime(2026, 6, 5, 10, 0)


@time_machine.travel(START, tick=False)
def test_waiting_steps_follow_the_lead_to_a_new_owner_and_end_with_the_cadence(cadence, lead, teammate):
    enrollment_start(lead=lead, cadence=cadence, at=START)
    touches_reassign_for_lead(lead=lead, to=teammate)
    manual = [t for t in touches(lead) if not t.automated]
    assert {t.assigned_to_id for t in manual} == {teammate.pk}
    enrollment_exit(lead=lead, reason="replied")
    assert {t.status for t in touches(lead)} == {TouchStatus.CANCELLED}


@time_machine.travel(START, tick=False)
def test_an_automated_step_released_already_due_goes_to_the_workers(
    cadence, lead, rep, django_capture_on_commit_callbacks
):
    enrollment_start(lead=lead, cadence=cadence, at=START)
    first = touches(lead)[0]
    # Done on Day 1 at 10:05 with "keep dates": the Day 1 10:00 email is released already due.
    cadence.shift_when_late = False
    cadence.save()
    day1 = dt.datetime(2026, 6, 2, 10, 5, tzinfo=NY)
    with time_machine.travel(day1, tick=False), django_capture_on_commit_callbacks(execute=True):
        touch_complete(touch=first, outcome="no_answer", by=rep)
    assert touches(lead)[1].status == TouchStatus.SENT


def test_gate_is_monotone_a_released_touch_never_waits_again():
    from cadences.sequence import gate

    def touch(day, position, automated, status):
        step = SimpleNamespace(day=day, position=position, pk=day * 10 + position)
        return SimpleNamespace(step=step, pk=None, automated=automated, status=status)

    rows = [touch(0, 0, False, "scheduled"), touch(1, 0, True, "scheduled"), touch(2, 0, False, "pending")]
    # Not initial: the scheduled automated touch after an open task stays scheduled.
    assert gate(rows, wait_for_rep=True) == []
    assert [t.status for t in rows] == ["scheduled", "scheduled", "pending"]


@time_machine.travel(START, tick=False)
def test_a_step_due_with_the_late_task_moves_with_it(lead, rep):
    """A Day 0 email behind a Day 0 call, both 'at once': the call done two hours late, the email
    goes then (by step order, not by due time), fresh, never expired."""
    cadence = CadenceFactory(name="Call first")
    CadenceStepFactory(cadence=cadence, day=0, position=0, channel=Channel.CALL, send_hour=None)
    CadenceStepFactory(
        cadence=cadence, day=0, position=1, channel=Channel.EMAIL, automated=True, send_hour=None, subject="Hi"
    )
    enrollment_start(lead=lead, cadence=cadence, at=START)
    call, email = touches(lead)
    assert (call.status, email.status) == ("scheduled", "pending")
    with time_machine.travel(START + dt.timedelta(hours=2), tick=False):
        touch_complete(touch=call, outcome="no_answer", by=rep)
    email = touches(lead)[1]
    assert email.due_at == START + dt.timedelta(hours=2)
    assert email.expires_at == email.due_at + dt.timedelta(hours=1)
