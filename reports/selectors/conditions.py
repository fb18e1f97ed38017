"""What the reports count, as Q conditions shared by several reports.

- Attempt: a manual touch completed by a person with an outcome in ``cadences.models.ATTEMPT_OUTCOMES``.
  ``Lead.attempt_count`` is the running total of those; ``Lead.first_response_at`` is the first one.
- Automated touch: an email or SMS sent by the system (an automated Touch in status sent/delivered,
  timed by ``sent_at``). It is a touch, never an attempt: a lead only the auto-responder reached has
  an automated first touch but no human response.
- Never followed up: no attempt and no automated send, ever.
- Response times run from the lead's arrival (``created_at``).

The touch conditions apply to Touch rows; with ``prefix="touches__"`` they apply from Lead.
"""

import datetime as dt

from django.db.models import DurationField, Exists, ExpressionWrapper, F, OuterRef, Q, QuerySet

from cadences.models import ATTEMPT_OUTCOMES, Touch, TouchStatus

SENT_STATUSES = (TouchStatus.SENT, TouchStatus.DELIVERED)
FIVE_MINUTES = dt.timedelta(minutes=5)
ONE_HOUR = dt.timedelta(hours=1)
ONE_DAY = dt.timedelta(days=1)


def attempt_q(prefix: str = "", *, start=None, end=None, channel: str | None = None) -> Q:
    """A human attempt (optionally completed in [start, end), on `channel`); `prefix` "touches__" from Lead."""
    q = Q(
        **{
            f"{prefix}automated": False,
            f"{prefix}status": TouchStatus.DONE,
            f"{prefix}outcome__in": ATTEMPT_OUTCOMES,
            f"{prefix}completed_at__isnull": False,
        }
    )
    if start is not None:
        q &= Q(**{f"{prefix}completed_at__gte": start, f"{prefix}completed_at__lt": end})
    if channel:
        q &= Q(**{f"{prefix}channel": channel})
    return q


def automated_q(prefix: str = "", *, start=None, end=None, channel: str | None = None) -> Q:
    """An email/SMS the system sent (optionally in [start, end), on `channel`)."""
    q = Q(**{f"{prefix}automated": True, f"{prefix}status__in": SENT_STATUSES, f"{prefix}sent_at__isnull": False})
    if start is not None:
        q &= Q(**{f"{prefix}sent_at__gte": start, f"{prefix}sent_at__lt": end})
    if channel:
        q &= Q(**{f"{prefix}channel": channel})
    return q


def touched_q(prefix: str = "", **kwargs) -> Q:
    return attempt_q(prefix, **kwargs) | automated_q(prefix, **kwargs)


def touches_of_lead() -> QuerySet[Touch]:
    """The touches of the lead of the outer query (for Exists and Subquery)."""
    return Touch.objects.filter(lead=OuterRef("pk"))


def automated_send_exists() -> Exists:
    return Exists(touches_of_lead().filter(automated_q()))


def never_followed_up_q() -> Q:
    return Q(attempt_count=0) & ~automated_send_exists()


def since_arrival(field: str) -> ExpressionWrapper:
    """The time from the lead's arrival to `field` (a first touch or response)."""
    return ExpressionWrapper(F(field) - F("created_at"), output_field=DurationField())
