"""Quiet hours for numbers that may be in several zones (issue 15).

A lead whose zone is uncertain is texted, and its calls fall due, only inside the contact window in
every zone its number may be in. Properties (hypothesis) over every number phonenumbers knows and
every zone set of its timezone table (tests/phone_numbers.py); the cases the issue found, end to end
from intake to the dispatcher; and the rule for zones too far apart for the window.
"""

import datetime as dt
from zoneinfo import ZoneInfo

import phonenumbers
import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cadences.models import CadenceStep, Channel, Touch, TouchStatus
from cadences.scheduling import (
    ScheduleRules,
    Window,
    allowed_moment,
    contact_allowed,
    first_moment_in_all,
    step_due_at,
)
from cadences.services import schedule_rules_for
from leads.models import Lead
from leads.services.intake import lead_clean_input
from messaging import dispatch, transports
from messaging.models import Message
from messaging.tasks import dispatch_due
from reactions.intake import lead_intake
from tests.factories import CadenceStepFactory, TouchFactory
from tests.phone_numbers import corpus, deciding_prefix, multi_zone_prefixes, zones_of

UTC = dt.UTC
START, END = 8, 21
SYDNEY_MOBILE = "+61 412 345 678"
MOSCOW_MOBILE = "+7 916 123 4567"
NEWFOUNDLAND = "+1 709 555 1234"
TOLL_FREE = "+1 800 555 0199"

moments = st.datetimes(min_value=dt.datetime(2024, 1, 1), max_value=dt.datetime(2030, 12, 31), timezones=st.just(UTC))
windows = st.tuples(st.integers(8, 12), st.integers(15, 21))
# What the contact window governs: automated SMS, calls, a rep's own text.
governed = st.sampled_from([("sms", True), ("call", False), ("sms", False)])
ZONE_SETS = sorted(set(multi_zone_prefixes().values()))


def inside_everywhere(moment, zones, start=START, end=END) -> bool:
    return all(start <= moment.astimezone(ZoneInfo(z)).hour < end for z in zones)


def oracle_windows(zones, start, end, business_days=False) -> list[Window]:
    """The windows the moment must be in, built from phonenumbers' zones, not from the product's rules."""
    found = [Window(ZoneInfo(z), start, end) for z in zones]
    if business_days:
        found += [Window(ZoneInfo(z), 0, 24, weekdays_only=True) for z in zones]
    return found


def lead_for(number: str) -> Lead:
    """An unsaved lead as intake makes it from this number (no zone given)."""
    data = lead_clean_input(first_name="Pat", phone=number)
    return Lead(
        first_name="Pat",
        phone=data["phone"],
        timezone=data["timezone"],
        timezone_candidates=data["timezone_candidates"],
        timezone_confirmed=data["timezone_confirmed"],
    )


def check_schedule(moment, zones, rules, channel, automated, start, end, business_days=False):
    """The property: whatever the schedule allows is inside the window in every zone."""
    if contact_allowed(moment, rules):
        assert inside_everywhere(moment, zones, start, end), (zones, moment)
    due = allowed_moment(moment, channel=channel, automated=automated, rules=rules)
    assert due >= moment
    if first_moment_in_all(moment, oracle_windows(zones, start, end, business_days)) is not None:
        assert inside_everywhere(due, zones, start, end), (zones, moment, due)
        assert contact_allowed(due, rules)
        if business_days:
            assert all(due.astimezone(ZoneInfo(z)).weekday() < 5 for z in zones)
    else:
        # Too far apart for this window (module docstring of cadences.scheduling, rule 3): the due time
        # follows the guessed zone, and nothing is allowed to go out at it.
        assert not contact_allowed(due, rules)
        assert start <= due.astimezone(ZoneInfo(rules.lead_tz)).hour < end


def test_every_multi_zone_prefix_is_accounted_for():
    numbers = corpus()
    prefixes = multi_zone_prefixes()
    assert set(numbers.by_prefix) | set(numbers.shadowed) == set(prefixes)
    for prefix, number in numbers.by_prefix.items():
        assert zones_of(number) == tuple(sorted(prefixes[prefix])), prefix
    # The prefixes no number reaches: what is found under them takes its zones from another prefix.
    for prefix, under in numbers.shadowed.items():
        assert all(deciding_prefix(phonenumbers.parse(n)) != prefix for n in under), prefix
    assert len(numbers.by_prefix) > 250
    reached = {zones_of(n) for n in numbers.numbers}
    # Every zone set of the table is also checked on its own below, reached by a number or not.
    assert len(reached & {tuple(sorted(z)) for z in ZONE_SETS}) >= 40


@settings(max_examples=400, deadline=None)
@given(
    number=st.sampled_from(corpus().numbers),
    moment=moments,
    kind=governed,
    window=windows,
    business_days=st.booleans(),
    rep_tz=st.sampled_from(["America/New_York", "Europe/London", "Asia/Tokyo"]),
)
def test_any_number_is_only_contacted_inside_the_window_in_every_zone_it_may_be_in(
    number, moment, kind, window, business_days, rep_tz
):
    lead = lead_for(number)
    zones = zones_of(number) or (lead.timezone,)
    assert list(lead.contact_timezones) == (list(zones) if len(zones) > 1 else [lead.timezone])
    rules = schedule_rules_for(lead=lead)
    rules = ScheduleRules(
        lead_tz=rules.lead_tz,
        lead_tzs=rules.lead_tzs,
        contact_start_hour=window[0],
        contact_end_hour=window[1],
        rep_tz=rep_tz,
        business_days_only=business_days,
    )
    channel, automated = kind
    check_schedule(moment, zones, rules, channel, automated, window[0], window[1], business_days)


@pytest.mark.parametrize("zones", ZONE_SETS, ids=lambda zones: f"{len(zones)}-{zones[0]}")
@settings(max_examples=25, deadline=None)
@given(moment=moments, kind=governed, window=windows, day=st.integers(0, 30), send_hour=st.none() | st.integers(0, 23))
def test_every_zone_set_of_the_table(zones, moment, kind, window, day, send_hour):
    rules = ScheduleRules(
        lead_tz=sorted(zones)[0],
        lead_tzs=tuple(sorted(zones)),
        contact_start_hour=window[0],
        contact_end_hour=window[1],
    )
    channel, automated = kind
    check_schedule(moment, zones, rules, channel, automated, *window)
    due = step_due_at(arrival=moment, day=day, send_hour=send_hour, channel=channel, automated=automated, rules=rules)
    check_schedule(due, zones, rules, channel, automated, *window)


@pytest.mark.parametrize("zones", ZONE_SETS, ids=lambda zones: f"{len(zones)}-{zones[0]}")
def test_with_the_default_window_every_zone_set_shares_hours_every_day(zones):
    """Why the fallback only matters for narrower windows: at 08:00–21:00 every set phonenumbers has meets daily
    (the widest, every NANP zone from Guam to American Samoa, for 1.5 hours in July)."""
    rules = ScheduleRules(lead_tz=zones[0], lead_tzs=tuple(zones))
    for day in range(0, 366, 7):
        start = dt.datetime(2026, 1, 1, tzinfo=UTC) + dt.timedelta(days=day)
        opens = first_moment_in_all(start, oracle_windows(zones, START, END))
        assert opens is not None and opens - start < dt.timedelta(days=1)
        assert contact_allowed(opens, rules)


def test_a_known_zone_keeps_the_single_window():
    # A confirmed lead (or one whose number has one zone) has rules exactly as before.
    lead = lead_for(SYDNEY_MOBILE)
    lead.timezone, lead.timezone_confirmed = "Australia/Sydney", True
    assert schedule_rules_for(lead=lead).lead_tzs == ()
    assert schedule_rules_for(lead=lead_for("+1 415 555 0123")).lead_tzs == ()


# --- The cases the issue found, end to end: intake, the instant auto-responder, the dispatcher.

# id: phone, arrival (UTC), the zone it is read in, the local time the first text may go
REGRESSIONS = {
    "sydney-21:10-AEDT": (SYDNEY_MOBILE, (2026, 1, 14, 10, 10), "Australia/Sydney", "01-15 12:30"),
    "perth-06:05-AWST": (SYDNEY_MOBILE, (2026, 1, 14, 22, 5), "Australia/Perth", "01-15 09:30"),
    "moscow-06:00": (MOSCOW_MOBILE, (2026, 1, 15, 3, 0), "Europe/Moscow", "01-15 09:00"),
    "newfoundland-21:15": (NEWFOUNDLAND, (2026, 1, 15, 0, 45), "America/St_Johns", "01-15 08:30"),
    "toll-free-05:00-LA": (TOLL_FREE, (2026, 1, 14, 13, 0), "America/Los_Angeles", "01-14 14:00"),
}


def _texts(lead):
    return Message.objects.filter(lead=lead, channel="sms", direction="out")


def run_dispatcher_until_texted(lead, *, since: dt.datetime, at_most: dt.timedelta) -> None:
    """Beat's dispatcher every 15 minutes of (travelled) time until the lead has been texted."""
    moment = since
    while not _texts(lead).exists():
        moment += dt.timedelta(minutes=15)
        assert moment - since < at_most, "never texted"
        with time_machine.travel(moment, tick=False):
            dispatch_due()


@pytest.mark.parametrize("phone, arrival, zone, first_text", REGRESSIONS.values(), ids=REGRESSIONS.keys())
def test_issue_cases_are_not_texted_at_night(
    phone, arrival, zone, first_text, web_source, rep, reference_cadence, django_capture_on_commit_callbacks
):
    zones = zones_of(phone.replace(" ", ""))
    assert len(zones) > 1
    arrival = dt.datetime(*arrival, tzinfo=UTC)
    with time_machine.travel(arrival, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            lead = lead_intake(source=web_source, via="api", first_name="Kim", phone=phone).lead
    sms = lead.touches.get(step__day=0, channel=Channel.SMS)
    assert not _texts(lead).exists(), f"texted at {arrival.astimezone(ZoneInfo(zone)):%H:%M} {zone}"
    assert sms.status == TouchStatus.SCHEDULED and inside_everywhere(sms.due_at, zones)
    call = lead.touches.get(step__day=0, channel=Channel.CALL)
    assert inside_everywhere(call.due_at, zones)

    # The dispatcher runs every 15 minutes: the text goes at the first moment inside every zone's window.
    run_dispatcher_until_texted(lead, since=arrival, at_most=dt.timedelta(days=2))
    sms.refresh_from_db()
    assert sms.status == TouchStatus.SENT and inside_everywhere(sms.sent_at, zones)
    assert f"{sms.due_at.astimezone(ZoneInfo(zone)):%m-%d %H:%M}" == first_text


def test_a_confirmed_zone_lifts_the_intersection(
    web_source, rep, reference_cadence, django_capture_on_commit_callbacks
):
    # 09:00 in Sydney is 05:30 on the Cocos Islands: not while uncertain, yes once confirmed.
    nine_sydney = dt.datetime(2026, 1, 14, 22, 0, tzinfo=UTC)
    with time_machine.travel(nine_sydney, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            uncertain = lead_intake(source=web_source, first_name="Kim", phone=SYDNEY_MOBILE).lead
            stated = lead_intake(
                source=web_source, first_name="Lou", phone="+61 412 345 679", timezone_name="Australia/Sydney"
            ).lead
    assert not _texts(uncertain).exists()
    assert _texts(stated).count() == 1


# --- The rule when the zones are too far apart for the window.


@pytest.fixture
def narrow_window(settings):
    # 10:00–18:00: a toll-free +1 number's zones (Guam to American Samoa) never share an hour of it.
    settings.CONTACT_WINDOW_START_HOUR, settings.CONTACT_WINDOW_END_HOUR = 10, 18


def _confirm_tasks(lead):
    return Touch.objects.open_tasks().filter(lead=lead, title=dispatch.ZONE_CONFIRM_TASK_TITLE)


def test_zones_that_never_meet_hold_the_text_and_ask_the_rep(
    narrow_window, web_source, rep, reference_cadence, django_capture_on_commit_callbacks, client_for
):
    eleven_ny = dt.datetime(2026, 1, 14, 16, 0, tzinfo=UTC)  # 08:00 in Los Angeles, 11:00 in New York
    with time_machine.travel(eleven_ny, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            lead = lead_intake(source=web_source, first_name="Kim", phone=TOLL_FREE).lead
    sms = lead.touches.get(step__day=0, channel=Channel.SMS)
    sms.refresh_from_db()
    assert not _texts(lead).exists() and sms.status == TouchStatus.SCHEDULED
    assert sms.due_at == eleven_ny + dispatch.ZONE_UNCONFIRMED_RECHECK
    [task] = _confirm_tasks(lead)
    assert task.assigned_to == rep and task.channel == Channel.TASK

    # Rechecked hourly for a day: never sent, still one task.
    for hours in range(1, 25):
        with time_machine.travel(eleven_ny + dt.timedelta(hours=hours, seconds=1), tick=False):
            dispatch_due()
    assert not _texts(lead).exists() and _confirm_tasks(lead).count() == 1
    page = client_for(rep).get(f"/leads/{lead.pk}/")
    assert b"never share an hour" in page.content

    # The rep confirms Los Angeles: the next recheck inside 10:00-18:00 there sends it.
    confirmed_at = eleven_ny + dt.timedelta(days=1, hours=1)  # 09:00 in Los Angeles
    with time_machine.travel(confirmed_at, tick=False):
        form = client_for(rep).get(f"/leads/{lead.pk}/edit/").context["form"]
        data = {name: value or "" for name, value in form.initial.items() if name in form.fields}
        response = client_for(rep).post(f"/leads/{lead.pk}/edit/", {**data, "timezone": "America/Los_Angeles"})
        assert response.status_code == 302
    run_dispatcher_until_texted(lead, since=confirmed_at, at_most=dt.timedelta(hours=3))
    sms.refresh_from_db()
    local = sms.sent_at.astimezone(ZoneInfo("America/Los_Angeles"))
    assert 10 <= local.hour < 18


@pytest.fixture
def recorder(monkeypatch):
    calls = []

    def fake_send(message, *, commit_point):
        calls.append(dt.datetime.now(UTC))
        assert commit_point()
        return transports.ProviderResult(provider_message_id=f"FAKE-{len(calls)}", status="sent")

    monkeypatch.setattr(transports, "send", fake_send)
    return calls


MULTI_ZONE_NUMBERS = sorted(n for n in corpus().numbers if len(zones_of(n)) > 1)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(number=st.sampled_from(MULTI_ZONE_NUMBERS), now=moments, window=windows)
def test_dispatch_texts_only_inside_every_zones_window(db, rep, recorder, settings, number, now, window):
    """At send time: a due SMS to a multi-zone number goes only inside the window in all of its zones."""
    Message.objects.all().delete()
    Touch.objects.all().delete()
    CadenceStep.objects.all().delete()
    Lead.objects.all().delete()
    recorder.clear()
    settings.CONTACT_WINDOW_START_HOUR, settings.CONTACT_WINDOW_END_HOUR = window
    zones = zones_of(number)
    lead = lead_for(number)
    lead.owner, lead.created_at = rep, now
    lead.save()
    step = CadenceStepFactory(channel="sms", automated=True, body="Hello")
    touch = TouchFactory(lead=lead, step=step, channel="sms", automated=True, assigned_to=None, due_at=now)

    with time_machine.travel(now, tick=False):
        ids, token = dispatch.touches_claim_due(now=now)
        assert ids == [touch.pk]
        outcome = dispatch.touch_send(touch_id=touch.pk, token=token)

    touch.refresh_from_db()
    if inside_everywhere(now, zones, *window):
        assert outcome == "sent" and recorder == [now]
        return
    assert outcome == "quiet" and recorder == [] and touch.status == TouchStatus.SCHEDULED
    assert touch.due_at > now
    if first_moment_in_all(now, oracle_windows(zones, *window)) is None:
        assert touch.due_at == now + dispatch.ZONE_UNCONFIRMED_RECHECK and _confirm_tasks(lead).count() == 1
    else:
        assert inside_everywhere(touch.due_at, zones, *window) and not _confirm_tasks(lead).exists()
