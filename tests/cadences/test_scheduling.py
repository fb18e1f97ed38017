"""Scheduling rules, by example and as properties over timezones and DST (hypothesis)."""

import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from cadences.scheduling import ScheduleRules, Window, add_business_days, allowed_moment, step_due_at

UTC = dt.UTC
# DST in both hemispheres, half- and quarter-hour offsets, zones that change at midnight.
ZONES = [
    "America/New_York",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "America/Santiago",
    "America/St_Johns",
    "Europe/London",
    "Europe/Berlin",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Asia/Tokyo",
    "Australia/Adelaide",
    "Australia/Lord_Howe",
    "Pacific/Auckland",
    "Pacific/Chatham",
    "America/Havana",
    "Asia/Beirut",
    "UTC",
]
CHANNELS = ["call", "email", "sms", "twitter", "linkedin", "task"]

arrivals = st.datetimes(min_value=dt.datetime(2024, 1, 1), max_value=dt.datetime(2030, 12, 31), timezones=st.just(UTC))


def local(moment, tz):
    return moment.astimezone(ZoneInfo(tz))


def test_day_zero_without_hour_is_due_at_arrival():
    arrival = dt.datetime(2026, 6, 3, 15, 0, tzinfo=UTC)  # 11:00 in New York
    rules = ScheduleRules(lead_tz="America/New_York")
    assert step_due_at(arrival=arrival, day=0, send_hour=None, channel="email", automated=True, rules=rules) == arrival
    assert step_due_at(arrival=arrival, day=0, send_hour=None, channel="sms", automated=True, rules=rules) == arrival


def test_day_counts_from_arrival_in_the_leads_timezone():
    # 23:30 on Monday in Los Angeles is already Tuesday in UTC; Day 1 is Tuesday in Los Angeles.
    arrival = dt.datetime(2026, 6, 2, 6, 30, tzinfo=UTC)  # Mon 1 June 23:30 PDT
    rules = ScheduleRules(lead_tz="America/Los_Angeles")
    due = step_due_at(arrival=arrival, day=1, send_hour=10, channel="email", automated=True, rules=rules)
    assert local(due, "America/Los_Angeles").replace(tzinfo=None) == dt.datetime(2026, 6, 2, 10, 0)


def test_late_night_sms_waits_for_the_morning():
    arrival = dt.datetime(2026, 6, 3, 3, 0, tzinfo=UTC)  # 23:00 in New York
    rules = ScheduleRules(lead_tz="America/New_York")
    due = step_due_at(arrival=arrival, day=0, send_hour=None, channel="sms", automated=True, rules=rules)
    assert local(due, "America/New_York").replace(tzinfo=None) == dt.datetime(2026, 6, 3, 8, 0)
    # Email may go at once.
    assert step_due_at(arrival=arrival, day=0, send_hour=None, channel="email", automated=True, rules=rules) == arrival


def test_call_meets_lead_window_and_rep_hours():
    # Lead in Los Angeles, rep in New York 9-17: the earliest moment both allow is 11:00 PT = 14:00 ET? No:
    # the lead's window opens at 08:00 PT = 11:00 ET, inside the rep's hours.
    arrival = dt.datetime(2026, 6, 3, 5, 0, tzinfo=UTC)  # 22:00 PT, 01:00 ET
    rules = ScheduleRules(lead_tz="America/Los_Angeles", rep_tz="America/New_York", rep_start_hour=9, rep_end_hour=17)
    due = step_due_at(arrival=arrival, day=0, send_hour=None, channel="call", automated=False, rules=rules)
    assert local(due, "America/Los_Angeles").replace(tzinfo=None) == dt.datetime(2026, 6, 3, 8, 0)


def test_call_when_rep_hours_never_meet_the_leads_window_follows_the_lead():
    # Lead in Tokyo (08-21 JST = 23:00-12:00 UTC), rep in New York 12-13 ET (16-17 UTC): never overlap.
    arrival = dt.datetime(2026, 6, 3, 14, 0, tzinfo=UTC)
    rules = ScheduleRules(lead_tz="Asia/Tokyo", rep_tz="America/New_York", rep_start_hour=12, rep_end_hour=13)
    due = step_due_at(arrival=arrival, day=0, send_hour=None, channel="call", automated=False, rules=rules)
    assert 8 <= local(due, "Asia/Tokyo").hour < 21


def test_business_days_skip_the_weekend():
    assert add_business_days(dt.date(2026, 6, 5), 1) == dt.date(2026, 6, 8)  # Friday + 1 = Monday
    arrival = dt.datetime(2026, 6, 5, 14, 0, tzinfo=UTC)  # Friday
    rules = ScheduleRules(lead_tz="America/New_York", business_days_only=True)
    due = step_due_at(arrival=arrival, day=1, send_hour=10, channel="email", automated=True, rules=rules)
    assert local(due, "America/New_York").date() == dt.date(2026, 6, 8)


def test_dst_keeps_the_local_hour():
    # Spring forward in New York on 8 March 2026: Day 1 at 10:00 is still 10:00 local, one hour earlier in UTC.
    arrival = dt.datetime(2026, 3, 7, 15, 0, tzinfo=UTC)
    rules = ScheduleRules(lead_tz="America/New_York")
    day1 = step_due_at(arrival=arrival, day=1, send_hour=10, channel="email", automated=True, rules=rules)
    day2 = step_due_at(arrival=arrival, day=2, send_hour=10, channel="email", automated=True, rules=rules)
    assert day1 == dt.datetime(2026, 3, 8, 14, 0, tzinfo=UTC)
    assert day2 == dt.datetime(2026, 3, 9, 14, 0, tzinfo=UTC)


@settings(max_examples=300, deadline=None)
@given(
    arrival=arrivals,
    lead_tz=st.sampled_from(ZONES),
    rep_tz=st.sampled_from(ZONES),
    day=st.integers(min_value=0, max_value=60),
    send_hour=st.one_of(st.none(), st.integers(min_value=0, max_value=23)),
    channel=st.sampled_from(CHANNELS),
    automated=st.booleans(),
    rep_hours=st.tuples(st.integers(0, 22), st.integers(1, 23)).filter(lambda h: h[0] < h[1]),
    business_days_only=st.booleans(),
    window=st.tuples(st.integers(8, 12), st.integers(15, 21)),
)
def test_scheduling_properties(
    arrival, lead_tz, rep_tz, day, send_hour, channel, automated, rep_hours, business_days_only, window
):
    automated = automated and channel in ("email", "sms")
    rules = ScheduleRules(
        lead_tz=lead_tz,
        contact_start_hour=window[0],
        contact_end_hour=window[1],
        rep_tz=rep_tz,
        rep_start_hour=rep_hours[0],
        rep_end_hour=rep_hours[1],
        business_days_only=business_days_only,
    )
    due = step_due_at(arrival=arrival, day=day, send_hour=send_hour, channel=channel, automated=automated, rules=rules)
    lead_local = local(due, lead_tz)
    # Never before the lead arrived.
    assert due >= arrival
    # Never earlier than the step's day (in the lead's own calendar).
    min_day = (
        add_business_days(local(arrival, lead_tz).date(), day)
        if business_days_only
        else local(arrival, lead_tz).date() + dt.timedelta(days=day)
    )
    assert lead_local.date() >= min_day
    # Not absurdly late: within a few days of its nominal day.
    assert lead_local.date() <= min_day + dt.timedelta(days=6)
    # SMS and calls only inside the recipient's contact window.
    if channel in ("sms", "call"):
        assert window[0] <= lead_local.hour < window[1], lead_local
    if business_days_only:
        assert lead_local.weekday() < 5
    # Manual non-call tasks inside the rep's working hours.
    if not automated and channel not in ("call", "sms"):
        assert rep_hours[0] <= local(due, rep_tz).hour < rep_hours[1]


@settings(max_examples=300, deadline=None)
@given(moment=arrivals, tz=st.sampled_from(ZONES), start=st.integers(0, 12), end=st.integers(13, 24))
def test_window_next_open_is_inside_and_not_earlier(moment, tz, start, end):
    window = Window(ZoneInfo(tz), start, end)
    opened = window.next_open(moment)
    assert opened >= moment
    assert window.contains(opened)
    # Minimal: nothing allowed in between on a whole-hour grid.
    probe = moment
    while probe + dt.timedelta(hours=1) <= opened:
        probe += dt.timedelta(hours=1)
        assert not window.contains(probe - dt.timedelta(minutes=1)) or probe - dt.timedelta(minutes=1) < moment


@settings(max_examples=200, deadline=None)
@given(moment=arrivals, tz=st.sampled_from(ZONES), channel=st.sampled_from(["sms", "call"]))
def test_allowed_moment_is_idempotent(moment, tz, channel):
    rules = ScheduleRules(lead_tz=tz, rep_tz=tz)
    once = allowed_moment(moment, channel=channel, automated=channel == "sms", rules=rules)
    assert allowed_moment(once, channel=channel, automated=channel == "sms", rules=rules) == once
