"""Weeks and date ranges in the organisation's timezone, as the UTC bounds the queries use.

- Week: Monday 00:00 to the next Monday 00:00 in the organisation's timezone (settings.TIME_ZONE),
  converted to UTC for the queries, so a week across a DST change lasts 167 or 169 hours.
- Date range (compliance, speed, coverage, converts): the leads that arrived from the first
  day's local midnight to the local midnight after the last day; either end may be open. The
  pages fill an open end in: from the first lead's arrival day (``arrival_days``), to today.
- A report covers days from FIRST_REPORT_DAY to LAST_REPORT_DAY: far enough inside date.min and
  date.max that a week's neighbours, the day after a range and a local midnight in UTC stay
  representable. The filter form refuses other days; these functions raise ValueError for them.
"""

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Max, Min, QuerySet
from django.utils import timezone

from leads.models import Lead

FIRST_REPORT_DAY = dt.date(1900, 1, 1)
LAST_REPORT_DAY = dt.date(2999, 12, 31)


def _check_reportable(day: dt.date) -> dt.date:
    if not FIRST_REPORT_DAY <= day <= LAST_REPORT_DAY:
        raise ValueError(f"{day} is outside the days reports cover ({FIRST_REPORT_DAY} to {LAST_REPORT_DAY}).")
    return day


def org_tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def org_today(now: dt.datetime | None = None) -> dt.date:
    return timezone.localtime(now or timezone.now(), org_tz()).date()


def week_start_for(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def current_week_start(now: dt.datetime | None = None) -> dt.date:
    return week_start_for(org_today(now))


def day_start(day: dt.date) -> dt.datetime:
    """Midnight of `day` in the organisation's timezone, as a UTC datetime."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=org_tz()).astimezone(dt.UTC)


def week_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[Monday 00:00, next Monday 00:00) of the week holding `day`, org timezone, in UTC.

    Built from the two local midnights (not start + 7 days) so a DST change makes the week
    167 or 169 hours long.
    """
    monday = week_start_for(_check_reportable(day))
    return day_start(monday), day_start(monday + dt.timedelta(days=7))


def recent_weeks(today: dt.date, weeks: int) -> tuple[dt.date, dt.date]:
    """The last `weeks` weeks up to `today`, this one included: from a Monday to `today`."""
    return week_start_for(today) - dt.timedelta(weeks=weeks - 1), today


def range_bounds(date_from: dt.date | None, date_to: dt.date | None) -> tuple[dt.datetime | None, dt.datetime | None]:
    """[date_from 00:00, the day after date_to 00:00), org timezone, in UTC; None for an open end."""
    start = day_start(_check_reportable(date_from)) if date_from else None
    end = day_start(_check_reportable(date_to) + dt.timedelta(days=1)) if date_to else None
    return start, end


def leads_arrived_between(leads: QuerySet[Lead], start: dt.datetime | None, end: dt.datetime | None):
    if start is not None:
        leads = leads.filter(created_at__gte=start)
    if end is not None:
        leads = leads.filter(created_at__lt=end)
    return leads


def arrival_days(leads: QuerySet[Lead]) -> tuple[dt.date | None, dt.date | None]:
    """The org-timezone days the first and the last of `leads` arrived (one query); None, None for none."""
    bounds = leads.aggregate(first=Min("created_at"), last=Max("created_at"))
    tz = org_tz()
    return tuple(
        _clamp(timezone.localtime(bounds[key], tz).date()) if bounds[key] else None for key in ("first", "last")
    )


def _clamp(day: dt.date) -> dt.date:
    return min(max(day, FIRST_REPORT_DAY), LAST_REPORT_DAY)
