"""seed_demo at other hours than tests/test_demo.py's Tuesday morning: at night, on a Sunday of a
DST change, in the evening. The demo's history depends on the hour it is seeded at (who is at
work, what is still ahead); what `make run` promises must hold at any of them."""

import datetime as dt
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command

from tests.test_demo import (
    check_first_minute_sends_nothing,
    check_only_the_rep_who_gives_up_leaves_leads,
    check_speed_to_lead,
    check_statuses_reached,
)

NEW_YORK = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    "seeded_at",
    [
        dt.datetime(2026, 3, 8, 3, 10, tzinfo=NEW_YORK),  # the night the clocks go forward, a Sunday
        dt.datetime(2026, 11, 5, 19, 30, tzinfo=NEW_YORK),  # a Thursday evening, the reps gone home
    ],
    ids=["sunday-night-dst", "weekday-evening"],
)
def test_what_make_run_promises_holds_at_any_hour(db, seeded_at):
    with time_machine.travel(seeded_at, tick=True):
        out = StringIO()
        call_command("seed_demo", stdout=out)
        assert "ended" not in out.getvalue(), out.getvalue()
        check_first_minute_sends_nothing()
        check_statuses_reached()
        check_speed_to_lead()
        check_only_the_rep_who_gives_up_leaves_leads()
