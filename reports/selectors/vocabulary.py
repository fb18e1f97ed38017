"""The reports' vocabulary: every term a report, the Friday email, the CSV and Team today use,
defined here once and computed here once, in SQL. No other module restates a definition: a
report that needs one of these terms imports it from here.

- **Attempt**: a manual touch a person completed with a real outcome (``ATTEMPT_OUTCOMES``:
  connected, voicemail, no answer, not interested, replied, appointment set, sent, wrong number)
  — a call, a LinkedIn or Twitter/X message, an email or text written by hand, a task. Timed by
  ``completed_at``. ``Lead.attempt_count`` counts them as they are logged
  (cadences.services.touch_mark_done), so "ever" reads the counter, a period reads the touches.
- **Automated touch**: an email or SMS the system sent and the provider accepted (an automated
  touch in status sent or delivered, timed by ``sent_at``). It is never an attempt.
- **Touch**: an attempt or an automated touch.
- **Followed up**: at least one attempt (in the period, when there is one). Automated messages
  alone do not count: the point is that a person calls back. "Never followed up" is its
  negation: no attempt ever, whatever the auto-responder sent ("reached only by automated
  messages" is the part of those that got an automated touch).
- **First response**: reported as two figures, never mixed: the *first automated touch*
  (``first_automated_touch_at``) and the *first attempt* (``Lead.first_response_at``), each
  timed from the lead's arrival (``created_at``); the *first call* is the first attempt on the
  call channel.
- **Left behind** (in a period): an open lead in status new or working, there before the period
  ended, with no attempt in the period and no next action scheduled (no open touch: scheduled,
  waiting for the previous step, paused or being sent; manual or automated). Won, lost,
  unqualified, nurturing and appointment-set leads are never left behind. A left-behind lead is
  never followed up in that period, so "100% followed up" and "left behind" can't meet.
- **To follow up** (in a period): the leads that arrived in it, and the leads left behind in it.
  "Followed up x of n" is n of these and x of them followed up in the period.
- **Abandoned**: an open lead (any open status) that arrived more than ABANDONED_AFTER_DAYS days
  ago, with no touch in those days and nothing scheduled.
- **Closed early**: closed lost or unqualified with fewer than MIN_ATTEMPTS_BEFORE_CLOSE attempts
  (in a period: closed in it). **Given up**: closed lost or unqualified, or abandoned.
  **Five-attempts compliance**: of the leads closed lost or unqualified, the share with at least
  MIN_ATTEMPTS_BEFORE_CLOSE attempts.
- **Few data**: a rate, bar or median resting on fewer than FEW_DATA_BELOW leads is shown greyed
  and marked "few data"; every rate shows its sample size ("40% of 5").

Status and "scheduled" are read as they are now (the report of a past week does not replay
them); attempts, automated touches, arrivals and closes are placed in the period by their times.
Touch conditions (``attempt_q``, ``automated_touch_q``, ``touch_q``) apply to Touch rows, or from
Lead with ``prefix="touches__"``; lead conditions (``followed_up_q``, ``left_behind_q``, ...)
apply to Lead querysets; ``follow_up_counts_by_owner`` gives the per-rep counts Friday, its email
and Team today show. ``DEFINITIONS`` is this list as the pages, the email and README show it.
"""

import datetime as dt

from django.conf import settings
from django.db.models import (
    BooleanField,
    Case,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.lookups import IsNull

from cadences.models import ATTEMPT_OUTCOMES, OPEN_TOUCH_STATUSES, Channel, Touch, TouchStatus
from leads.models import GIVE_UP_STATUSES, OPEN_STATUSES, Lead, LeadStatus

SENT_STATUSES = (TouchStatus.SENT, TouchStatus.DELIVERED)
LEFT_BEHIND_STATUSES = (LeadStatus.NEW, LeadStatus.WORKING)
FEW_DATA_BELOW = 5
FIVE_MINUTES = dt.timedelta(minutes=5)
ONE_HOUR = dt.timedelta(hours=1)
ONE_DAY = dt.timedelta(days=1)


# Touch conditions ---------------------------------------------------------------------------


def _timed(prefix: str, field: str, start, end) -> Q:
    q = Q()
    if start is not None:
        q &= Q(**{f"{prefix}{field}__gte": start})
    if end is not None:
        q &= Q(**{f"{prefix}{field}__lt": end})
    return q


def attempt_q(prefix: str = "", *, start=None, end=None, channel: str | None = None) -> Q:
    """An attempt (completed in [start, end) when given, on `channel`); `prefix` "touches__" from Lead."""
    q = Q(
        **{
            f"{prefix}automated": False,
            f"{prefix}status": TouchStatus.DONE,
            f"{prefix}outcome__in": ATTEMPT_OUTCOMES,
            f"{prefix}completed_at__isnull": False,
        }
    )
    q &= _timed(prefix, "completed_at", start, end)
    if channel:
        q &= Q(**{f"{prefix}channel": channel})
    return q


def automated_touch_q(prefix: str = "", *, start=None, end=None, channel: str | None = None) -> Q:
    """An email/SMS the system sent and the provider accepted (sent in [start, end) when given)."""
    q = Q(**{f"{prefix}automated": True, f"{prefix}status__in": SENT_STATUSES, f"{prefix}sent_at__isnull": False})
    q &= _timed(prefix, "sent_at", start, end)
    if channel:
        q &= Q(**{f"{prefix}channel": channel})
    return q


def touch_q(prefix: str = "", **kwargs) -> Q:
    """An attempt or an automated touch."""
    return attempt_q(prefix, **kwargs) | automated_touch_q(prefix, **kwargs)


def touches_of_lead() -> QuerySet[Touch]:
    """The touches of the lead of the outer query (for Exists and Subquery)."""
    return Touch.objects.filter(lead=OuterRef("pk"))


# Lead conditions ----------------------------------------------------------------------------


def followed_up_q(*, start=None, end=None) -> Q:
    """At least one attempt: ever (the lead's counter), or in [start, end) (its touches)."""
    if start is None and end is None:
        return Q(attempt_count__gte=1)
    return Q(Exists(touches_of_lead().filter(attempt_q(start=start, end=end))))


def never_followed_up_q() -> Q:
    """No attempt ever, whatever the system sent."""
    return ~followed_up_q()


def automated_touch_exists(*, start=None, end=None) -> Exists:
    return Exists(touches_of_lead().filter(automated_touch_q(start=start, end=end)))


def automated_only_q(*, first_automated_field: str | None = None) -> Q:
    """Never followed up, but reached by an automated touch (read from `first_automated_field`
    when the queryset already carries first_automated_touch_at)."""
    reached = Q(**{f"{first_automated_field}__isnull": False}) if first_automated_field else Q(automated_touch_exists())
    return never_followed_up_q() & reached


def open_touches_of_lead() -> QuerySet[Touch]:
    """The outer lead's next actions: touches scheduled, waiting for their turn, paused or being sent."""
    return touches_of_lead().filter(status__in=OPEN_TOUCH_STATUSES)


def next_action_scheduled() -> Exists:
    """The lead has an open touch (manual or automated)."""
    return Exists(open_touches_of_lead())


def left_behind_q(*, start: dt.datetime, end: dt.datetime) -> Q:
    """New or working, there before `end`, no attempt in [start, end), nothing scheduled."""
    # Cheapest first: most open leads have a next step, which spares the attempt lookup.
    return (
        Q(status__in=LEFT_BEHIND_STATUSES, created_at__lt=end)
        & ~Q(next_action_scheduled())
        & ~followed_up_q(start=start, end=end)
    )


def arrived_q(*, start: dt.datetime, end: dt.datetime) -> Q:
    return Q(created_at__gte=start, created_at__lt=end)


def to_follow_up_q(*, start: dt.datetime, end: dt.datetime) -> Q:
    """The leads a period asks a person for: those that arrived in it and those left behind in it."""
    return arrived_q(start=start, end=end) | left_behind_q(start=start, end=end)


def abandoned_q(now: dt.datetime) -> Q:
    """Open, arrived more than ABANDONED_AFTER_DAYS days ago, no touch in those days, nothing scheduled."""
    cutoff = now - dt.timedelta(days=settings.ABANDONED_AFTER_DAYS)
    recent = touches_of_lead().filter(touch_q(start=cutoff))
    # A touch since the cutoff sets last_touch_at past it (touch_mark_done, the dispatcher's record):
    # a lead touched since then is not abandoned, and only the few others are looked up in the
    # touches table (instead of hashing every recent touch of the organization).
    # The check itself is a per-lead lookup (a scalar subquery): an EXISTS here would be hashed
    # over the whole table before the first lead is looked at.
    not_touched_since = Q(last_touch_at__isnull=True) | Q(last_touch_at__lt=cutoff)
    no_recent_touch = IsNull(Subquery(recent.values("pk")[:1]), True)
    return (
        Q(status__in=OPEN_STATUSES, created_at__lt=cutoff)
        & not_touched_since
        & Q(no_recent_touch)
        & ~Q(next_action_scheduled())
    )


def closed_given_up_q(*, start=None, end=None) -> Q:
    """Closed lost or unqualified (in [start, end) when given)."""
    return Q(status__in=GIVE_UP_STATUSES) & _timed("", "closed_at", start, end)


def too_few_attempts_q() -> Q:
    """Fewer than MIN_ATTEMPTS_BEFORE_CLOSE attempts so far."""
    return Q(attempt_count__lt=settings.MIN_ATTEMPTS_BEFORE_CLOSE)


def closed_early_q(*, start=None, end=None) -> Q:
    """Closed lost or unqualified with fewer than MIN_ATTEMPTS_BEFORE_CLOSE attempts."""
    return closed_given_up_q(start=start, end=end) & too_few_attempts_q()


def given_up_q(now: dt.datetime) -> Q:
    """Closed lost or unqualified, or abandoned."""
    return closed_given_up_q() | abandoned_q(now)


def flag(q: Q) -> Case:
    """A lead condition as a boolean annotation."""
    return Case(When(q, then=Value(True)), default=Value(False), output_field=BooleanField())


# First response -----------------------------------------------------------------------------

FIRST_ATTEMPT_FIELD = "first_response_at"


def first_automated_touch_at() -> Subquery:
    return Subquery(touches_of_lead().filter(automated_touch_q()).order_by("sent_at").values("sent_at")[:1])


def first_call_at() -> Subquery:
    return Subquery(
        touches_of_lead().filter(attempt_q(channel=Channel.CALL)).order_by("completed_at").values("completed_at")[:1]
    )


def since_arrival(field: str) -> ExpressionWrapper:
    """The time from the lead's arrival to `field` (a first touch or attempt)."""
    return ExpressionWrapper(F(field) - F("created_at"), output_field=DurationField())


# Per-rep counts (Feedback Friday, its email, Team today) ------------------------------------


FOLLOW_UP_FIGURES = (
    "received",
    "received_followed_up",
    "to_follow_up",
    "followed_up",
    "left_behind",
    "given_up",
    "closed_early",
)


def follow_up_counts_by_owner(
    *, leads: QuerySet[Lead], start: dt.datetime, end: dt.datetime, also: dict | None = None
) -> dict[int, dict]:
    """{owner id: figures} for the owned leads among `leads` over [start, end) (one query).

    The figures (FOLLOW_UP_FIGURES): ``received`` arrived in the period; ``to_follow_up`` /
    ``followed_up`` are the n and x of "followed up x of n"; ``received_followed_up`` the part of
    ``received`` followed up (= x: a left-behind lead has no attempt in the period);
    ``left_behind``; ``given_up`` (closed lost/unqualified in the period) and ``closed_early``
    (the part of those with too few attempts: five-attempts compliance is the rest). `also`:
    more aggregates over the same leads (Friday's owned, wins), summed per owner.

    Rows are grouped by owner and by "arrived in the period" so that each lead's "left behind"
    (two correlated EXISTS) is written and evaluated once: at 1M touches every extra copy cost
    hundreds of milliseconds. Team today can call this for a rep's day, Friday for the week.
    """
    also = also or {}
    arrived = arrived_q(start=start, end=end)
    rows = (
        leads.filter(owner__isnull=False)
        .annotate(in_period=flag(arrived))
        .values("owner", "in_period")
        .annotate(
            # "n_" names: an annotation named like a field would shadow it in the next filter.
            n_leads=Count("pk"),
            n_left_behind=Count("pk", filter=left_behind_q(start=start, end=end)),
            n_followed_up=Count("pk", filter=arrived & followed_up_q(start=start, end=end)),
            n_given_up=Count("pk", filter=closed_given_up_q(start=start, end=end)),
            n_closed_early=Count("pk", filter=closed_early_q(start=start, end=end)),
            **{f"n_{name}": aggregate for name, aggregate in also.items()},
        )
        .order_by()
    )
    figures: dict[int, dict] = {}
    for row in rows:
        mine = figures.setdefault(row["owner"], dict.fromkeys((*FOLLOW_UP_FIGURES, *also), 0))
        if row["in_period"]:
            # Arrived in the period: all to follow up; followed up if an attempt came in it.
            mine["received"] += row["n_leads"]
            mine["to_follow_up"] += row["n_leads"]
            mine["received_followed_up"] += row["n_followed_up"]
            mine["followed_up"] += row["n_followed_up"]
        else:
            # Arrived before: to follow up only when left behind (and then never followed up).
            mine["to_follow_up"] += row["n_left_behind"]
        for name in ("left_behind", "given_up", "closed_early", *also):
            mine[name] += row[f"n_{name}"]
    return figures


# The definitions as the pages, the email and README show them --------------------------------

DEFINITIONS = (
    (
        "Attempt",
        "a call, LinkedIn or Twitter/X message, or hand-written email or text that a person logged with "
        "a real outcome (connected, voicemail, no answer, not interested, replied, appointment set, "
        "sent, wrong number).",
    ),
    (
        "Automated touch",
        "an email or SMS the system sent (auto-responder, cadence) and the provider accepted. It is never an attempt.",
    ),
    ("Followed up", "at least one attempt (in the period, where there is one). Automated messages alone do not count."),
    (
        "First response",
        "two figures, never mixed: the first automated touch and the first attempt, each timed from "
        "the lead's arrival.",
    ),
    (
        "Left behind",
        "a new or working lead with no attempt in the period and nothing scheduled (no task or message "
        "waiting, paused or due). Won, lost, unqualified, nurturing and appointment-set leads are "
        "never left behind.",
    ),
    (
        "Followed up x of n",
        "n: the leads that arrived in the period plus those left behind; x: those of them with an "
        "attempt in the period. A left-behind lead is never followed up, so 100% means none was left behind.",
    ),
    (
        "Abandoned",
        "an open lead that arrived more than {abandoned_days} days ago with no attempt or automated "
        "touch in those days and nothing scheduled.",
    ),
    ("Given up", "closed lost or unqualified, or abandoned."),
    (
        "Closed early",
        "closed lost or unqualified with fewer than {minimum} attempts. Five-attempts compliance: of "
        "the leads closed lost or unqualified, the share with at least {minimum}.",
    ),
    (
        "Few data",
        "a rate, bar or median that rests on fewer than {few} leads is greyed and marked “few data”; "
        "every rate shows how many leads it is of (“40% of 5”).",
    ),
)


def definitions() -> list[tuple[str, str]]:
    """DEFINITIONS with this installation's numbers."""
    numbers = {
        "minimum": settings.MIN_ATTEMPTS_BEFORE_CLOSE,
        "abandoned_days": settings.ABANDONED_AFTER_DAYS,
        "few": FEW_DATA_BELOW,
    }
    return [(term, text.format(**numbers)) for term, text in DEFINITIONS]
