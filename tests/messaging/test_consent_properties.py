"""Property tests: consent and quiet hours are checked at send time, whatever the lead's flags,
timezone or the moment the dispatcher runs.

For each example a lead with random consent flags gets one due automated touch; the dispatcher
claims it under time_machine and sends it with the transport replaced by a recorder. The transport
must never be called for an opted-out, invalid or missing channel, never for SMS outside 08:00–21:00
in the lead's own timezone, and must be called exactly once when everything allows it.
"""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cadences.models import CadenceStep, Touch, TouchStatus
from leads.models import Lead
from messaging import dispatch, transports
from messaging.models import Message
from tests.factories import CadenceStepFactory, LeadFactory, TouchFactory

TIMEZONES = [
    "America/New_York",
    "America/Los_Angeles",
    "America/St_Johns",  # UTC-3:30 with DST
    "Pacific/Honolulu",
    "Pacific/Pago_Pago",  # UTC-11
    "Pacific/Kiritimati",  # UTC+14
    "Pacific/Chatham",  # UTC+12:45 with DST
    "Australia/Lord_Howe",  # 30-minute DST shift
    "Asia/Kolkata",
    "Europe/London",
    "UTC",
]
START_HOUR, END_HOUR = 8, 21

flags = st.fixed_dictionaries(
    {
        "email": st.sampled_from(["", "pat@example.org"]),
        "phone": st.sampled_from(["", "+14155550123"]),
        "email_opt_out": st.booleans(),
        "email_invalid": st.booleans(),
        "sms_opt_out": st.booleans(),
        "sms_unusable": st.booleans(),
    }
)
moments = st.datetimes(
    min_value=dt.datetime(2025, 1, 1), max_value=dt.datetime(2027, 12, 31), timezones=st.just(dt.UTC)
)


def consent_allows(lead_flags: dict, channel: str) -> bool:
    if channel == "email":
        return bool(lead_flags["email"]) and not (lead_flags["email_opt_out"] or lead_flags["email_invalid"])
    return bool(lead_flags["phone"]) and not (lead_flags["sms_opt_out"] or lead_flags["sms_unusable"])


@pytest.fixture
def recorder(monkeypatch):
    calls = []

    def fake_send(message, *, commit_point):
        calls.append({"message": message, "at": dt.datetime.now(dt.UTC)})
        assert commit_point()
        return transports.ProviderResult(provider_message_id=f"FAKE-{len(calls)}", status="sent")

    monkeypatch.setattr(transports, "send", fake_send)
    return calls


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lead_flags=flags, tz=st.sampled_from(TIMEZONES), now=moments, channel=st.sampled_from(["sms", "email"]))
def test_send_time_consent_and_quiet_hours(db, rep, recorder, lead_flags, tz, now, channel):
    # Clean rows per example: the db fixture's transaction spans all examples.
    Message.objects.all().delete()
    Touch.objects.all().delete()
    CadenceStep.objects.all().delete()
    Lead.objects.all().delete()
    recorder.clear()

    lead = LeadFactory(owner=rep, timezone=tz, **lead_flags)
    step = CadenceStepFactory(channel=channel, automated=True, subject="Hi", body="Hello {{ lead.first_name }}")
    touch = TouchFactory(
        lead=lead, step=step, channel=channel, automated=True, assigned_to=None, due_at=now - dt.timedelta(minutes=1)
    )

    with time_machine.travel(now, tick=False):
        ids, token = dispatch.touches_claim_due(now=now)
        assert ids == [touch.pk]
        outcome = dispatch.touch_send(touch_id=touch.pk, token=token)

    for call in recorder:
        message = call["message"]
        assert consent_allows(lead_flags, message.channel), (lead_flags, message.channel)
        if message.channel == "sms":
            local_hour = call["at"].astimezone(ZoneInfo(tz)).hour
            assert START_HOUR <= local_hour < END_HOUR, (tz, call["at"])

    touch.refresh_from_db()
    local_hour = now.astimezone(ZoneInfo(tz)).hour
    in_hours = START_HOUR <= local_hour < END_HOUR
    if not consent_allows(lead_flags, channel):
        assert recorder == [] and outcome == "skipped" and touch.status == TouchStatus.SKIPPED
    elif channel == "sms" and not in_hours:
        assert recorder == [] and outcome == "quiet"
        # Put back for the next moment the lead may be texted, in their own timezone.
        assert touch.status == TouchStatus.SCHEDULED and touch.due_at > now
        assert START_HOUR <= touch.due_at.astimezone(ZoneInfo(tz)).hour < END_HOUR
    else:
        assert len(recorder) == 1 and outcome == "sent" and touch.status == TouchStatus.SENT
