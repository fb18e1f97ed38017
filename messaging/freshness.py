"""Never stale, never a burst: the freshness window and the per-channel daily cap of automated touches.

messaging.dispatch applies both (README "Never stale, never a burst"):

1. Freshness. An automated touch carries `expires_at` (its due time plus the step's window,
   cadences.sequence.fresh_for: an hour for the Day 0 auto-responder, a day otherwise, editable
   per step). It is never sent after that:
   - each dispatch tick first skips every due touch past it (`touches_expire_due`), `chunk` at a
     time with a constant number of queries per chunk besides one timeline line per lead, and
     completes the enrolments left with nothing to do;
   - `touch_send` looks again once it holds the claim (the tick may have run just before it
     expired) and skips it the same way.
   A touch with no `expires_at` (rows older than the window, appointment messages that choose
   not to have one) never expires.
2. Deferrals. A touch moved later by a rule (quiet hours, a text held until a rep confirms the
   lead's zone, the cap) gets a new window from its new due time (`expires_at_when_deferred`): a
   deferral is not lateness. A provider retry keeps the old one, so a Day 0 auto-responder that
   kept failing for an hour is skipped, not sent late.
3. The cap. At most AUTOMATED_MESSAGES_PER_CHANNEL_PER_DAY automated messages per channel per
   lead per calendar day in the lead's timezone, whatever came due at once (downtime, a restored
   backup, a bulk import). `touch_send` counts at send time (`cap_reached`), under the lead's row
   lock, the lead's touches on the channel sent that local day or in flight; a capped touch goes
   back to `scheduled` at the lead's next local day, at its step's hour (`next_day_slot`).
   Appointment invites and reminders are outside the cap: neither capped nor counted.
"""

import datetime as dt
import logging
from collections import defaultdict

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from cadences import sequence
from cadences.models import Cadence, Channel, Enrollment, Touch, TouchStatus
from cadences.scheduling import allowed_moment
from cadences.services import enrollment_complete_if_done, schedule_rules_for
from leads.models import LeadEvent
from leads.timeline import lead_event_add
from messaging.appointment_messages import zone_named

log = logging.getLogger(__name__)

EXPIRED = "expired"
# The tick skips expired touches this many at a time, until none is left.
EXPIRE_CHUNK = 500
# A capped touch whose step has no hour (the instant steps) goes the next local day at this hour.
CAPPED_SEND_HOUR = 10
APPOINTMENT_PURPOSE_PREFIX = "appointment"


def is_expired(touch: Touch, now: dt.datetime) -> bool:
    return touch.expires_at is not None and touch.expires_at < now


def _is_appointment(purpose: str) -> bool:
    return (purpose or "").startswith(APPOINTMENT_PURPOSE_PREFIX)


def expires_at_when_deferred(touch: Touch, due_at: dt.datetime) -> dt.datetime | None:
    """The window of a touch a rule moved to `due_at`: counted again from there. An appointment's
    deadline is the appointment's own, and a touch without one stays without."""
    if touch.expires_at is None or _is_appointment(touch.purpose):
        return touch.expires_at
    return sequence.expires_at_for(due_at=due_at, step=touch.step, automated=True)


def _label(*, title: str, day: int | None, channel: str) -> str:
    """What cadences.services.touch_label says, from plain values."""
    if title:
        return title
    name = Channel(channel).label if channel in Channel.values else channel
    return f"Day {day} {name}" if day is not None else name


def _clock(moment: dt.datetime, zone_name: str) -> str:
    local = moment.astimezone(zone_named(zone_name))
    return f"{local.day} {local:%b %H:%M}"


def expired_line(touches: list[tuple[str, dt.datetime]], *, zone_name: str) -> str:
    """One lead's timeline line for its expired touches, (label, due_at) each, due in the lead's time:
    "Day 0 Email skipped: expired (due 3 Jun 14:00, not sent late)"."""
    labels = [label for label, _ in touches]
    whens = list(dict.fromkeys(_clock(due, zone_name) for _, due in touches))
    due = whens[0] if len(whens) == 1 else f"{', '.join(whens[:-1])} and {whens[-1]}"
    return f"{', '.join(labels)} skipped: {EXPIRED} (due {due}, not sent late)"[:1000]


def _enrollments_move_on(enrollment_ids) -> None:
    """Complete the enrolments that expiring left with nothing to do (one query for the lot)."""
    ids = {pk for pk in enrollment_ids if pk is not None}
    if not ids:
        return
    idle = Enrollment.objects.filter(pk__in=ids, state=Enrollment.State.ACTIVE).exclude(
        Exists(Touch.objects.still_open().filter(enrollment=OuterRef("pk")))
    )
    for enrollment_id in idle.values_list("pk", flat=True):
        enrollment_complete_if_done(enrollment_id=enrollment_id)


def touches_expire_due(*, now: dt.datetime | None = None, chunk: int = EXPIRE_CHUNK) -> int:
    """Skip as expired every due automated touch past its window (module docstring, rule 1), `chunk`
    at a time until none is left. Returns how many.

    Each chunk, in one short transaction: the rows are locked (SKIP LOCKED, as a claim does, so a
    dispatcher claiming at the same moment takes the others), read through the dispatcher's index
    (due and scheduled; a touch expires after it is due), skipped in one update, and each lead gets
    one timeline line. Then the enrolments left with nothing to do complete.
    """
    now = now or timezone.now()
    total = 0
    while True:
        with transaction.atomic():
            rows = list(
                Touch.objects.due_automated(now)
                .filter(expires_at__lt=now)
                .select_for_update(skip_locked=True, of=("self",))
                .order_by("due_at", "id")
                .values_list(
                    "pk", "lead_id", "enrollment_id", "title", "step__day", "channel", "due_at", "lead__timezone"
                )[:chunk]
            )
            fetched = len(rows)
            if not rows:
                break
            ids = [row[0] for row in rows]
            skipped = Touch.objects.filter(pk__in=ids, status=TouchStatus.SCHEDULED).update(
                status=TouchStatus.SKIPPED, failure_reason=EXPIRED
            )
            if skipped != fetched:
                # Only where the select cannot lock rows (SQLite): a claim got some first.
                mine = Touch.objects.filter(pk__in=ids, status=TouchStatus.SKIPPED, failure_reason=EXPIRED)
                kept = set(mine.values_list("pk", flat=True))
                rows = [row for row in rows if row[0] in kept]
            by_lead: dict[int, list] = defaultdict(list)
            for row in rows:
                by_lead[row[1]].append(row)
            for lead_id, touches in by_lead.items():
                lines = [(_label(title=t[3], day=t[4], channel=t[5]), t[6]) for t in touches]
                lead_event_add(
                    lead_id=lead_id,
                    kind=LeadEvent.Kind.TOUCH,
                    text=expired_line(lines, zone_name=touches[0][7]),
                    at=now,
                    data={"touches": [t[0] for t in touches], "reason": EXPIRED},
                )
        total += len(rows)
        _enrollments_move_on(row[2] for row in rows)
        if fetched < chunk:
            break
    if total:
        log.info("skipped %s automated touches past their freshness window", total)
    return total


def touch_expired_record(touch: Touch, *, now: dt.datetime) -> None:
    """The timeline line and the cadence moving on, for one touch `touch_send` skipped as expired."""
    step = touch.step
    lead_event_add(
        lead_id=touch.lead_id,
        kind=LeadEvent.Kind.TOUCH,
        text=expired_line(
            [(_label(title=touch.title, day=step.day if step else None, channel=touch.channel), touch.due_at)],
            zone_name=touch.lead.timezone,
        ),
        at=now,
        data={"touches": [touch.pk], "reason": EXPIRED},
    )
    enrollment_complete_if_done(enrollment_id=touch.enrollment_id)


def _local_day(now: dt.datetime, zone_name: str) -> tuple[dt.date, dt.datetime, dt.datetime]:
    """The lead's calendar day at `now`: (date, its first instant, the next day's first instant)."""
    zone = zone_named(zone_name)
    today = now.astimezone(zone).date()
    start = dt.datetime.combine(today, dt.time(0), tzinfo=zone)
    end = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    return today, start, end


def cap_reached(touch: Touch, now: dt.datetime) -> bool:
    """Whether the lead already had its automated messages on this channel today, in its own
    timezone: sent that local day, or in flight (started, not yet sent). The caller holds the lead's
    row lock, so two of its touches never both pass. Appointment messages are neither capped nor counted."""
    if _is_appointment(touch.purpose):
        return False
    _, start, end = _local_day(now, touch.lead.timezone)
    others = (
        Touch.objects.filter(lead_id=touch.lead_id, channel=touch.channel, automated=True)
        .exclude(pk=touch.pk)
        .exclude(purpose__startswith=APPOINTMENT_PURPOSE_PREFIX)
        .filter(Q(sent_at__gte=start, sent_at__lt=end) | Q(status=TouchStatus.SENDING, send_started_at__isnull=False))
    )
    limit = settings.AUTOMATED_MESSAGES_PER_CHANNEL_PER_DAY
    return others[:limit].count() >= limit


def next_day_slot(touch: Touch, now: dt.datetime) -> dt.datetime:
    """When a capped touch goes: the lead's next local day at its step's hour (or CAPPED_SEND_HOUR),
    moved into the windows its kind of touch is allowed in (cadences.scheduling)."""
    today, _, _ = _local_day(now, touch.lead.timezone)
    step = touch.step
    hour = step.send_hour if step is not None and step.send_hour is not None else CAPPED_SEND_HOUR
    nominal = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(hour), tzinfo=zone_named(touch.lead.timezone))
    cadence = Cadence.objects.filter(enrollments=touch.enrollment_id).first() if touch.enrollment_id else None
    rules = schedule_rules_for(lead=touch.lead, cadence=cadence)
    return allowed_moment(nominal.astimezone(dt.UTC), channel=touch.channel, automated=True, rules=rules)


def cap_reason(channel: str) -> str:
    limit = settings.AUTOMATED_MESSAGES_PER_CHANNEL_PER_DAY
    what = "SMS" if channel == Channel.SMS else "email"
    if limit == 1:
        return f"Frequency cap: one {what} per day per lead"
    return f"Frequency cap: {limit} {what if what == 'SMS' else 'emails'} per day per lead"
