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
3. A lead whose zone is uncertain (its number may be in several zones and neither a rep nor the
   lead has said which: ScheduleRules.lead_tzs) has one contact window and one weekday rule per
   zone it may be in, and the moment must be inside all of them: the intersection (a number that
   may be anywhere in the continental US: 11:00–21:00 Eastern).
   When those windows never meet (zones further apart than the window is long: only with a window
   narrower than 08:00–21:00, e.g. 09:00–20:00 for a toll-free +1 number that may be anywhere
   from Guam to American Samoa), the due time follows the windows of the guessed zone
   (`lead_tz`) instead, so a call task still lands on a day the rep can work it, while nothing
   that goes out on its own does: `contact_allowed` is false at every moment, so messaging.dispatch
   holds the automated SMS and gives the rep a task to confirm the zone.
Local times are built with zoneinfo, so DST changes move the UTC instant, not the local hour.
"""

import datetime as dt
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

from cadences.models import Channel

UTC = dt.UTC
# The search for a moment that satisfies every window gives up after this long: windows that
# do not meet within a week (a rep on the other side of the world) are treated as never meeting.
_SEARCH_HORIZON = dt.timedelta(days=7)
_PREFERENCE_HORIZON = dt.timedelta(days=4)


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


def first_moment_in_all(
    moment: dt.datetime, windows: list[Window], *, within: dt.timedelta = _SEARCH_HORIZON
) -> dt.datetime | None:
    """The first instant at or after `moment` inside every window, or None if they don't meet `within`."""
    horizon = moment + within
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
    # The lead's zone: its days are counted in it. A guess when lead_tzs lists the zones it may be in.
    lead_tz: str
    contact_start_hour: int = 8
    contact_end_hour: int = 21
    rep_tz: str | None = None
    rep_start_hour: int = 9
    rep_end_hour: int = 17
    business_days_only: bool = False
    # Every zone an unconfirmed lead's number may be in; () when its zone is known (rule 3).
    lead_tzs: tuple[str, ...] = ()

    @property
    def contact_zones(self) -> tuple[str, ...]:
        return self.lead_tzs or (self.lead_tz,)


def contact_windows(rules: ScheduleRules) -> list[Window]:
    """The contact window in each zone the lead may be in (one zone when it is known)."""
    return [Window(ZoneInfo(z), rules.contact_start_hour, rules.contact_end_hour) for z in rules.contact_zones]


def contact_allowed(moment: dt.datetime, rules: ScheduleRules) -> bool:
    """Whether the lead may be texted or called at `moment`: inside the window in every zone it may be in."""
    return all(window.contains(moment) for window in contact_windows(rules))


def next_contact_span(moment: dt.datetime, rules: ScheduleRules) -> tuple[dt.datetime, dt.datetime] | None:
    """The next stretch [opens, closes) at or after `moment` when contact is allowed, or None if none this week."""
    windows = contact_windows(rules)
    opens = first_moment_in_all(moment, windows)
    if opens is None:
        return None
    closes = opens
    while all(w.contains(closes) for w in windows) and closes < opens + dt.timedelta(days=1):
        closes += dt.timedelta(minutes=15)
    return opens, closes


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
    """Move `moment` forward to the first instant this kind of touch may happen (module docstring, rules 2–3)."""
    found = _first_allowed(moment, channel=channel, automated=automated, rules=rules)
    if found is None and rules.lead_tzs:
        # Rule 3: the candidate zones' windows never meet. The guessed zone's windows place the due
        # time; contact_allowed stays false for it, so nothing is sent on the guess.
        found = _first_allowed(moment, channel=channel, automated=automated, rules=replace(rules, lead_tzs=()))
    return found or moment


def _first_allowed(moment: dt.datetime, *, channel: str, automated: bool, rules: ScheduleRules) -> dt.datetime | None:
    zones = [ZoneInfo(z) for z in rules.contact_zones]
    # Business days are the lead's: Saturday in the lead's town is Saturday, whatever the rep's clock says.
    lead_days = [Window(tz, 0, 24, weekdays_only=True) for tz in zones] if rules.business_days_only else []
    contact = contact_windows(rules)
    rep = Window(ZoneInfo(rules.rep_tz or rules.lead_tz), rules.rep_start_hour, rules.rep_end_hour)
    if automated and channel == Channel.SMS:
        legal, preferred = contact, []
    elif automated:
        legal, preferred = [], []
    elif channel in (Channel.CALL, Channel.SMS):
        legal, preferred = contact, [rep]
    else:
        legal, preferred = [], [rep]
    windows = lead_days + legal + preferred
    if not windows:
        return moment
    # The rep's hours are a preference: worth a day or a weekend, not a week (a rep whose hours
    # meet a far-away lead's window only after a DST change would otherwise wait for it).
    found = first_moment_in_all(moment, windows, within=_PREFERENCE_HORIZON) if preferred else None
    if found is None:
        # The rep's hours don't meet the lead's window soon: the lead's legal window wins.
        found = first_moment_in_all(moment, lead_days + legal)
    return found
