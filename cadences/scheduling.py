"""When a cadence step is due: pure functions over aware datetimes, no database.

The rules, in order:
1. A step's day counts from the lead's arrival, in the lead's own timezone: Day 0 is the
   arrival date, Day N is N calendar days later (N business days when the cadence says so).
   A step with a send hour is due at that local hour; one without is due at the arrival moment
   (Day 0's instant auto-responder and "call within 5 minutes").
2. The time then moves forward, never back, to the first moment allowed for the step:
   - automated SMS and every call: inside the recipient's contact window
     (CONTACT_WINDOW_START_HOUR–CONTACT_WINDOW_END_HOUR, lead's local time, at most 08:00–21:00);
   - manual tasks: inside the rep's working hours (rep's timezone); a call or a rep's own text must satisfy both,
     and when the two never overlap the lead's window wins (it is a legal limit, the rep's is not);
   - business-days-only cadences: never on a Saturday or Sunday, lead's local time.
   Automated email may go any time.
Local times are built with zoneinfo, so DST changes move the UTC instant, not the local hour.
"""

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from cadences.models import Channel

UTC = dt.UTC
# The search for a moment that satisfies every window gives up after this long: windows that
# do not meet within a week (a rep on the other side of the world) are treated as never meeting.
_SEARCH_HORIZON = dt.timedelta(days=7)


@dataclass(frozen=True)
class Window:
    """Allowed local hours [start_hour, end_hour) in `tz`, optionally Monday–Friday only."""

    tz: ZoneInfo
    start_hour: int
    end_hour: int
    weekdays_only: bool = False

    def contains(self, moment: dt.datetime) -> bool:
        local = moment.astimezone(self.tz)
        if self.weekdays_only and local.weekday() >= 5:
            return False
        return self.start_hour <= local.hour < self.end_hour

    def next_open(self, moment: dt.datetime) -> dt.datetime:
        """The first instant at or after `moment` inside the window."""
        if self.contains(moment):
            return moment
        local = moment.astimezone(self.tz)
        day = local.date() if local.hour < self.start_hour else local.date() + dt.timedelta(days=1)
        while self.weekdays_only and day.weekday() >= 5:
            day += dt.timedelta(days=1)
        opening = dt.datetime.combine(day, dt.time(self.start_hour), tzinfo=self.tz).astimezone(UTC)
        # A DST gap can shift the wall clock; never return a moment before the one asked for.
        return max(opening, moment)


def first_moment_in_all(moment: dt.datetime, windows: list[Window]) -> dt.datetime | None:
    """The first instant at or after `moment` inside every window, or None if they never meet."""
    horizon = moment + _SEARCH_HORIZON
    while moment <= horizon:
        moved = moment
        for window in windows:
            moved = window.next_open(moved)
        if all(w.contains(moved) for w in windows):
            return moved
        moment = moved
    return None


def add_business_days(day: dt.date, count: int) -> dt.date:
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    while count > 0:
        day += dt.timedelta(days=1)
        if day.weekday() < 5:
            count -= 1
    return day


@dataclass(frozen=True)
class ScheduleRules:
    lead_tz: str
    contact_start_hour: int = 8
    contact_end_hour: int = 21
    rep_tz: str | None = None
    rep_start_hour: int = 9
    rep_end_hour: int = 17
    business_days_only: bool = False


def step_due_at(
    *, arrival: dt.datetime, day: int, send_hour: int | None, channel: str, automated: bool, rules: ScheduleRules
) -> dt.datetime:
    """The UTC moment a step is due for a lead that arrived at `arrival` (see the module docstring)."""
    lead_tz = ZoneInfo(rules.lead_tz)
    arrival = arrival.astimezone(UTC)
    local_arrival = arrival.astimezone(lead_tz)
    if rules.business_days_only:
        due_day = add_business_days(local_arrival.date(), day)
    else:
        due_day = local_arrival.date() + dt.timedelta(days=day)
    if send_hour is None:
        # No hour: the arrival moment on Day 0, the same local time of day later on.
        arrival_time = local_arrival.time().replace(tzinfo=None)
        nominal = arrival if day == 0 else dt.datetime.combine(due_day, arrival_time, tzinfo=lead_tz)
    else:
        nominal = dt.datetime.combine(due_day, dt.time(send_hour), tzinfo=lead_tz)
    nominal = max(nominal.astimezone(UTC), arrival)
    return allowed_moment(nominal, channel=channel, automated=automated, rules=rules)


def allowed_moment(moment: dt.datetime, *, channel: str, automated: bool, rules: ScheduleRules) -> dt.datetime:
    """Move `moment` forward to the first instant this kind of touch may happen (module docstring, rule 2)."""
    lead_tz = ZoneInfo(rules.lead_tz)
    # Business days are the lead's: Saturday in the lead's town is Saturday, whatever the rep's clock says.
    lead_days = [Window(lead_tz, 0, 24, weekdays_only=True)] if rules.business_days_only else []
    contact = Window(lead_tz, rules.contact_start_hour, rules.contact_end_hour)
    rep = Window(ZoneInfo(rules.rep_tz or rules.lead_tz), rules.rep_start_hour, rules.rep_end_hour)
    if automated and channel == Channel.SMS:
        legal, preferred = [contact], []
    elif automated:
        legal, preferred = [], []
    elif channel in (Channel.CALL, Channel.SMS):
        legal, preferred = [contact], [rep]
    else:
        legal, preferred = [], [rep]
    windows = lead_days + legal + preferred
    if not windows:
        return moment
    found = first_moment_in_all(moment, windows)
    if found is None:
        # The rep's hours never meet the lead's window: the lead's legal window wins.
        found = first_moment_in_all(moment, lead_days + legal) or moment
    return found
