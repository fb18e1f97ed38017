"""How a Today task's time reads (today.timing): due, due now, late, overdue, and "tomorrow 10:00"."""

import datetime as dt
import zoneinfo

import pytest

from today import timing

UTC = zoneinfo.ZoneInfo("UTC")
NY = zoneinfo.ZoneInfo("America/New_York")
NOW = dt.datetime(2026, 12, 1, 15, 0, tzinfo=dt.UTC)  # Tue 1 Dec, 10:00 in New York


@pytest.mark.parametrize(
    ("at", "short", "sentence"),
    [
        (NOW + dt.timedelta(hours=4), "today 14:00", "today 14:00"),
        (dt.datetime(2026, 12, 2, 15, 0, tzinfo=dt.UTC), "tomorrow 10:00", "tomorrow 10:00"),
        (dt.datetime(2026, 12, 4, 15, 0, tzinfo=dt.UTC), "Fri 10:00", "on Fri 4 Dec 10:00"),
        (dt.datetime(2026, 12, 20, 15, 0, tzinfo=dt.UTC), "Sun 20 Dec 10:00", "on Sun 20 Dec 10:00"),
        (NOW - dt.timedelta(days=1), "yesterday 10:00", "yesterday 10:00"),
    ],
)
def test_when_label_in_the_reps_zone(at, short, sentence):
    assert timing.when_label(at, tz=NY, now=NOW) == short
    assert timing.when_label(at, tz=NY, now=NOW, on=True) == sentence


def test_tomorrow_is_the_reps_tomorrow():
    # 02:00 UTC on Wednesday is still Tuesday evening in New York.
    at = dt.datetime(2026, 12, 2, 2, 0, tzinfo=dt.UTC)
    assert timing.when_label(at, tz=NY, now=NOW) == "today 21:00"
    assert timing.when_label(at, tz=UTC, now=NOW) == "tomorrow 02:00"


def test_instant_task_is_due_now_then_late(settings):
    settings.INSTANT_CALL_TARGET_MINUTES = 5
    arrived = NOW - dt.timedelta(minutes=3)
    state = timing.due_state(due_at=arrived, instant=True, waiting_since=arrived, tz=NY, now=NOW)
    assert (state.text, state.late, state.late_at) == (
        "due now — waiting 3 min",
        False,
        arrived + dt.timedelta(minutes=5),
    )
    state = timing.due_state(
        due_at=arrived, instant=True, waiting_since=arrived, tz=NY, now=NOW + dt.timedelta(minutes=9)
    )
    assert (state.text, state.late) == ("late — waiting 12 min", True)


def test_other_tasks_get_the_grace_before_overdue(settings):
    settings.TASK_OVERDUE_GRACE_MINUTES = 15
    due = NOW - dt.timedelta(minutes=15) + dt.timedelta(seconds=1)
    assert timing.due_state(due_at=due, instant=False, waiting_since=due, tz=NY, now=NOW).text == "Due now"
    late = timing.due_state(due_at=NOW - dt.timedelta(minutes=15), instant=False, waiting_since=due, tz=NY, now=NOW)
    assert (late.text, late.late) == ("Overdue since 09:45", True)
    ahead = timing.due_state(due_at=NOW + dt.timedelta(hours=1), instant=False, waiting_since=NOW, tz=NY, now=NOW)
    assert (ahead.text, ahead.now_at, ahead.late_text) == (
        "Due 11:00",
        NOW + dt.timedelta(hours=1),
        "Overdue since 11:00",
    )


def test_a_bad_timezone_falls_back_to_the_sites(settings):
    class Person:
        timezone = "Mars/Olympus_Mons"

    assert str(timing.zone_for(Person())) == settings.TIME_ZONE
    assert str(timing.zone_for(None)) == settings.TIME_ZONE
