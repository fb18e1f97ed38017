"""How a Today task's time reads, in the rep's timezone: due, due now, late or overdue, and "tomorrow 10:00".

Overdue means late (README "Today"):
1. An instant call task (a new lead's Day 0 call with no send hour, or an urgent task) reads
   "due now — waiting 3 min" until INSTANT_CALL_TARGET_MINUTES have passed, then
   "late — waiting 12 min". The wait counts from the lead's arrival for the Day 0 call and from
   the moment an urgent task fell due for the others (a reply to call back on an old lead).
2. Any other task reads "Due 10:00" before its time, "Due now" from its time until
   TASK_OVERDUE_GRACE_MINUTES later, and "Overdue since Tue 10:00" only after that.
A task created seconds ago therefore never reads overdue. The page's script (static/js/today.js)
moves a row from one wording to the next while it stays open, from the moments given here.
"""

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from django.conf import settings
from django.utils import dateformat

WEEK = 6  # within this many days a weekday says which day it is


def zone_for(user) -> zoneinfo.ZoneInfo:
    """The user's timezone, the site's when it is unset or unknown."""
    try:
        return zoneinfo.ZoneInfo((getattr(user, "timezone", "") if user else "") or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def instant_target() -> dt.timedelta:
    return dt.timedelta(minutes=settings.INSTANT_CALL_TARGET_MINUTES)


def overdue_grace() -> dt.timedelta:
    return dt.timedelta(minutes=settings.TASK_OVERDUE_GRACE_MINUTES)


def waiting_label(minutes: int) -> str:
    """ "waiting 7 min", "waiting 5 h", "waiting 12 days" (static/js/today.js counts the same way)."""
    minutes = max(0, minutes)
    if minutes < 120:
        return f"waiting {minutes} min"
    if minutes < 48 * 60:
        return f"waiting {minutes // 60} h"
    days = minutes // (24 * 60)
    return f"waiting {days} day{'' if days == 1 else 's'}"


def when_label(at: dt.datetime, *, tz: zoneinfo.ZoneInfo, now: dt.datetime, on: bool = False) -> str:
    """ "today 14:00", "tomorrow 10:00", "Thu 10:00" (this week) or "Thu 4 Dec 10:00".

    `on`: the sentence form of a confirmation: "on Thu 4 Dec 10:00" (always the full date beyond tomorrow).
    """
    local, today = at.astimezone(tz), now.astimezone(tz).date()
    days = (local.date() - today).days
    clock = dateformat.format(local, "H:i")
    if days == 0:
        return f"today {clock}"
    if days == 1:
        return f"tomorrow {clock}"
    if days == -1:
        return f"yesterday {clock}"
    if on:
        return "on " + dateformat.format(local, "D j M H:i")
    if 0 < days <= WEEK:
        return dateformat.format(local, "D H:i")
    return dateformat.format(local, "D j M H:i")


def since_label(at: dt.datetime, *, tz: zoneinfo.ZoneInfo, now: dt.datetime) -> str:
    """A past moment: "10:00" today, "Tue 10:00" this past week, "Tue 2 Dec 10:00" before."""
    local, today = at.astimezone(tz), now.astimezone(tz).date()
    days = (today - local.date()).days
    if days == 0:
        return dateformat.format(local, "H:i")
    if days <= WEEK:
        return dateformat.format(local, "D H:i")
    return dateformat.format(local, "D j M H:i")


@dataclass(frozen=True)
class DueState:
    """What a row's time says now, and the moments the page's script moves it on."""

    text: str
    late: bool
    instant: bool
    # Instant tasks: when the wait started (the live "waiting N min" counts from it).
    waiting_since: dt.datetime | None = None
    # When the wording changes next: "Due 10:00" -> "Due now" at `now_at`, -> "Overdue since …"/"late" at `late_at`.
    now_at: dt.datetime | None = None
    late_at: dt.datetime | None = None
    late_text: str = ""

    # The moments as the page's script reads them (ISO 8601), cheaper than a template filter per row.
    @property
    def waiting_since_iso(self) -> str:
        return self.waiting_since.isoformat() if self.waiting_since else ""

    @property
    def now_at_iso(self) -> str:
        return self.now_at.isoformat() if self.now_at else ""

    @property
    def late_at_iso(self) -> str:
        return self.late_at.isoformat() if self.late_at else ""


def due_state(
    *, due_at: dt.datetime, instant: bool, waiting_since: dt.datetime, tz: zoneinfo.ZoneInfo, now: dt.datetime
) -> DueState:
    """Rules 1–2 of the module docstring for one task."""
    if instant:
        late_at = waiting_since + instant_target()
        waiting = waiting_label(int((now - waiting_since).total_seconds() // 60))
        late = now >= late_at
        return DueState(
            text=f"{'late' if late else 'due now'} — {waiting}",
            late=late,
            instant=True,
            waiting_since=waiting_since,
            late_at=late_at,
        )
    late_at = due_at + overdue_grace()
    late_text = f"Overdue since {since_label(due_at, tz=tz, now=now)}"
    if now >= late_at:
        return DueState(text=late_text, late=True, instant=False, late_at=late_at, late_text=late_text)
    if now >= due_at:
        return DueState(text="Due now", late=False, instant=False, late_at=late_at, late_text=late_text)
    local_due = due_at.astimezone(tz)
    same_day = local_due.date() == now.astimezone(tz).date()
    text = f"Due {dateformat.format(local_due, 'H:i')}" if same_day else f"Due {when_label(due_at, tz=tz, now=now)}"
    return DueState(text=text, late=False, instant=False, now_at=due_at, late_at=late_at, late_text=late_text)
