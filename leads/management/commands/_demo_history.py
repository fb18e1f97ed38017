"""seed_demo's three weeks of history, made by running the product's own code through time.

The clock (time_machine) moves from DAYS days ago to now, from one moment something happens to
the next, and at each moment the product's code runs as it would have that day:

1. A lead arrives at its time (demo.json `days_ago`; an older one during the lead's local
   daytime) by the product's way in for it: the web-to-lead API's `lead_intake(via="api")`, a
   rep's phone intake (`via="phone"`, owned by that rep, as the intake form does), a referral
   call logged on Today (`today.services.referral_call_log`), a trade-show contact entered by
   a rep (`via="form"`). Owners come from the product's round robin where those paths use it.
2. Dispatch ticks: a few seconds after an automated touch comes due, the dispatcher's tick runs
   in process (`tick`: what `messaging.tasks.dispatch_due` does, its batches sent by the
   `touches_send` task's own function instead of the broker): it expires what is stale, claims
   what is due and sends it through the development transports. The auto-responder therefore
   goes out seconds after the lead arrives, and a text waits for the lead's contact hours.
3. Reps work their tasks: a manual task, once due, is done by its rep at a working-hour moment
   (their timezone and hours; random.Random(SEED)): the call-at-once within minutes, the others
   minutes to a few hours after they come due, per the rep's HABITS. What they log follows the
   lead's story, its demo.json `status` (and `no_at`: the attempt the lead says "not interested"
   on): no answer and voicemails; an appointment booked, held, then won; five attempts, then a
   "no" and a close; a "no" moved to long-term nurture. Priya gives up after one "no": she ends
   the cadence by hand (the lead is left behind), or her manager closes the lead early for her.
   Ryan, the demo rep, leaves one of yesterday's tasks undone.
4. A task whose moment is still ahead stays open: that is the reps' Today.

The last tick runs at the end (the real now), so nothing due before now is left for the first
worker of `make run`.
"""

import datetime as dt
import heapq
import itertools
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Min

from accounts.models import User
from cadences.models import Channel, Outcome, Touch, TouchPurpose, TouchStatus
from cadences.services import enrollment_exit
from leads.models import Appointment, Contact, Lead, LeadStatus
from leads.services.lifecycle import lead_update
from messaging import dispatch, freshness
from messaging.tasks import touches_send
from reactions.appointments import appointment_book, appointment_held
from reactions.decisions import lead_close_lost, lead_nurture
from reactions.intake import lead_intake
from reactions.lifecycle import lead_status_change
from reactions.outcomes import touch_complete
from today.services import referral_call_log
from today.timing import zone_for

SEED = 2026
DAYS = 21
# How long after a touch comes due the workers' next tick sends it (beat ticks every 5 s).
TICK_LATENCY_SECONDS = (1.0, 5.0)
# Leads arrive inside these hours of the organisation's day (_arrival), one after the other.
OFFICE_HOURS = (9.5, 16.5)
ARRIVAL_GAP = dt.timedelta(minutes=1)
# An appointment-set lead books its meeting on the first task done in these last days.
BOOKING_WINDOW = dt.timedelta(days=4)
MEETING_HOURS = (10, 11, 14, 15)
MEETING_MINUTES = 30
# What a routine call gets, and how often.
CALL_OUTCOMES = ((Outcome.NO_ANSWER, 45), (Outcome.VOICEMAIL, 35), (Outcome.CONNECTED, 20))
GAVE_UP = "ended by hand"  # what cadences.enrollment_views' "End cadence" records
CLOSE_REASONS = {
    LeadStatus.LOST: "Chose a competitor on price; confirmed on the phone.",
    LeadStatus.UNQUALIFIED: "Student project, not a buyer.",
}


def tick() -> int:
    """One dispatcher tick in this process: messaging.tasks.dispatch_due, each claimed batch sent
    at once by the touches_send task's function (no broker). Returns the touches claimed."""
    freshness.touches_expire_due()
    claimed = 0
    while True:
        ids, token = dispatch.touches_claim_due(limit=settings.DISPATCH_BATCH_SIZE)
        if not ids:
            return claimed
        claimed += len(ids)
        touches_send(ids, str(token))


@dataclass(frozen=True)
class Habits:
    """How a rep works: minutes to the call-at-once, typical and longest minutes to other tasks."""

    instant: tuple[int, int] = (3, 15)
    typical: int = 45
    longest: int = 240
    gives_up_after_no: bool = False
    leaves_one_undone: bool = False


HABITS = {
    "rep": Habits(instant=(2, 9), typical=30, longest=180, leaves_one_undone=True),
    "rep2": Habits(instant=(6, 35), typical=90, longest=360, gives_up_after_no=True),
    "rep3": Habits(instant=(3, 14), typical=45, longest=240),
}


@dataclass
class Story:
    """One demo lead on its way to its demo.json status."""

    demo: object  # seed_demo.DemoLead
    lead_id: int
    owner: User
    arrived: dt.datetime
    done: int = 0  # tasks its rep logged so far
    booked: bool = False


@dataclass(order=True)
class _Event:
    at: dt.datetime
    seq: int
    run: Callable = field(compare=False)
    args: tuple = field(compare=False, default=())


class DemoHistory:
    """Runs the history (module docstring). `clock` is a time_machine traveller (tick=False)
    standing at `end - DAYS days`; `end` is the real now, where the history stops."""

    def __init__(self, *, clock, end: dt.datetime, leads, sources, users, customers, progress=print):
        self.clock = clock
        self.end = end
        self.now = end - dt.timedelta(days=DAYS)
        self.demos = leads
        self.sources = sources
        self.users = users
        self.customers = customers
        self.progress = progress
        self.rng = random.Random(SEED)
        self.events: list[_Event] = []
        self.seq = itertools.count()
        self.stories: dict[int, Story] = {}
        self.planned: set[int] = set()
        self.left_undone: set[str] = set()
        self.meetings: set[tuple[int, dt.datetime]] = set()  # (rep, start): one meeting at a time
        self.ticks = 0
        self.reported_week = 0

    # The loop -------------------------------------------------------------------------------

    def run(self) -> list[Story]:
        previous = self.now
        for demo in sorted(self.demos, key=lambda d: -d.days_ago):
            # In days_ago order whatever the hour: the round robin hands out the same owners.
            previous = self._arrival(demo, after=previous + ARRIVAL_GAP)
            self._at(previous, self._arrive, demo)
        while True:
            self._plan_tasks()
            due = Touch.objects.filter(status=TouchStatus.SCHEDULED, automated=True).aggregate(at=Min("due_at"))["at"]
            tick_at = max(due, self.now) + self._latency() if due is not None else None
            event_at = self.events[0].at if self.events else None
            at = min(t for t in (tick_at, event_at, self.end) if t is not None)
            if at >= self.end:
                break
            self._move(at)
            if tick_at is not None and at == tick_at:
                self._tick(due)
            else:
                event = heapq.heappop(self.events)
                event.run(*event.args)
        self._move(self.end)
        tick()
        return list(self.stories.values())

    def _at(self, at: dt.datetime, run: Callable, *args) -> None:
        if at < self.end:
            heapq.heappush(self.events, _Event(max(at, self.now), next(self.seq), run, args))

    def _move(self, at: dt.datetime) -> None:
        week = int((at - (self.end - dt.timedelta(days=DAYS))) / dt.timedelta(days=7))
        if week > self.reported_week:
            self.reported_week = week
            self.progress(f"  … {week} week{'s' if week > 1 else ''} in: {self._counts()}")
        self.now = at
        self.clock.move_to(at)

    def _tick(self, due: dt.datetime) -> None:
        self.ticks += 1
        tick()
        still = Touch.objects.filter(status=TouchStatus.SCHEDULED, automated=True, due_at=due).first()
        if still is not None and still.due_at <= self.now:
            # The dispatcher left a due touch as it was: the loop would tick on the spot forever.
            raise RuntimeError(f"touch {still.pk} is due but the dispatcher did not take it ({still.failure_reason})")

    def _latency(self) -> dt.timedelta:
        return dt.timedelta(seconds=self.rng.uniform(*TICK_LATENCY_SECONDS))

    def _counts(self) -> str:
        sent = Touch.objects.filter(automated=True, status__in=[TouchStatus.SENT, TouchStatus.DELIVERED]).count()
        done = Touch.objects.filter(automated=False, status=TouchStatus.DONE).count()
        return f"{len(self.stories)} leads, {sent} automated messages sent, {done} tasks done"

    # Arrivals ---------------------------------------------------------------------------------

    def _arrival(self, demo, *, after: dt.datetime) -> dt.datetime:
        """`days_ago` before the end, and after the lead before it (`after`).

        A web lead of the last day keeps its hour, night or not. Any other that would arrive
        outside office hours (OFFICE_HOURS, the organisation's zone) arrives inside them that day
        instead, or the day before for a recent one: a rep enters a trade-show contact or a
        phone call, or calls a customer for a referral, at work, and most people write in then."""
        nominal = self.end - dt.timedelta(days=demo.days_ago)
        zone = ZoneInfo(settings.TIME_ZONE)
        local = nominal.astimezone(zone)
        web = not (demo.referred_by or demo.via) and self.sources[demo.source].name == "Website"
        if (web and demo.days_ago < 1) or OFFICE_HOURS[0] <= local.hour + local.minute / 60 < OFFICE_HOURS[1]:
            return max(nominal, after)
        day = local.date()
        for _ in range(2):
            opens, closes = (
                dt.datetime.combine(day, dt.time(0), tzinfo=zone) + dt.timedelta(hours=hour) for hour in OFFICE_HOURS
            )
            if closes < self.end:
                break
            day -= dt.timedelta(days=1)
        earliest = max(opens, after)
        if earliest >= closes:
            return max(nominal, after)
        return (earliest + (closes - earliest) * self.rng.random()).astimezone(dt.UTC)

    def _arrive(self, demo) -> None:
        inquiry = {
            "first_name": demo.first_name,
            "last_name": demo.last_name,
            "phone": demo.phone,
            "email": demo.email,
            "company": demo.company,
            "how_heard": demo.how_heard,
            "interest": demo.interest,
            "source": self.sources[demo.source],
        }
        if demo.referred_by:
            # A rep's referral call on Today: the customer's owner calls and gets a name.
            customer: Contact = self.customers[demo.referred_by]
            lead = referral_call_log(
                contact=customer,
                by=customer.owner,
                got_referral=True,
                first_name=demo.first_name,
                last_name=demo.last_name,
                phone=demo.phone,
                email=demo.email,
                note=demo.interest,
            )
            if demo.company:
                lead = lead_update(lead=lead, by=customer.owner, company=demo.company)
        elif demo.via == "phone":
            # The rep who took the call enters it (leads.forms: the rep owns it, the way in is "phone").
            taker = self.users[demo.taken_by]
            lead = lead_intake(**inquiry, owner=taker, actor=taker, via="phone").lead
        else:
            via = "api" if self.sources[demo.source].name == "Website" else "form"
            lead = lead_intake(**inquiry, via=via).lead
        lead = Lead.objects.select_related("owner").get(pk=lead.pk)
        self.stories[lead.pk] = Story(demo=demo, lead_id=lead.pk, owner=lead.owner, arrived=lead.created_at)

    # Reps at work -----------------------------------------------------------------------------

    def _plan_tasks(self) -> None:
        """Give every manual task that just became open its moment (or none: it stays open)."""
        fresh = (
            Touch.objects.filter(status=TouchStatus.SCHEDULED, automated=False, purpose=TouchPurpose.STEP)
            .exclude(pk__in=self.planned)
            .select_related("step", "assigned_to")
            .order_by("due_at", "pk")
        )
        for touch in fresh:
            self.planned.add(touch.pk)
            story = self.stories.get(touch.lead_id)
            rep = touch.assigned_to
            if story is None or rep is None or story.demo.status == LeadStatus.NEW:
                continue  # a new lead nobody has called yet
            habits = HABITS.get(rep.username, Habits())
            instant = touch.urgent or (touch.step is not None and touch.step.day == 0 and touch.step.send_hour is None)
            if (
                habits.leaves_one_undone
                and rep.username not in self.left_undone
                and not instant
                and story.demo.status == LeadStatus.WORKING
                and story.done
                and self.end - dt.timedelta(hours=26) < touch.due_at < self.end - dt.timedelta(hours=3)
            ):
                self.left_undone.add(rep.username)
                continue  # one of yesterday's tasks the rep did not get to: overdue on Today
            if instant:
                minutes = self.rng.uniform(*habits.instant)
            else:
                # Log-normal around the typical delay, never past the longest.
                minutes = min(habits.longest, habits.typical * math.exp(self.rng.gauss(0, 0.8)))
            at = self._working_moment(touch.due_at + dt.timedelta(minutes=minutes), rep)
            self._at(at, self._work, touch.pk)

    def _working_moment(self, at: dt.datetime, user: User) -> dt.datetime:
        """`at`, or the start of `user`'s next working hours (plus a few minutes) when it falls outside them."""
        zone = zone_for(user)
        local = at.astimezone(zone)
        if user.work_start_hour <= local.hour < user.work_end_hour:
            return at
        day = local.date() if local.hour < user.work_start_hour else local.date() + dt.timedelta(days=1)
        opening = dt.datetime.combine(day, dt.time(user.work_start_hour), tzinfo=zone)
        return (opening + dt.timedelta(minutes=self.rng.uniform(3, 40))).astimezone(dt.UTC)

    def _work(self, touch_id: int) -> None:
        touch = Touch.objects.select_related("lead", "step", "assigned_to").get(pk=touch_id)
        if touch.status != TouchStatus.SCHEDULED:
            return  # cancelled or done meanwhile (the cadence ended)
        story = self.stories[touch.lead_id]
        rep = touch.assigned_to
        habits = HABITS.get(rep.username, Habits())
        outcome, then = self._decide(story, touch, habits)
        story.done += 1
        if outcome == Outcome.APPOINTMENT:
            self._book(story, touch, rep)
            return
        touch_complete(touch=touch, outcome=outcome, by=rep)
        lead = Lead.objects.get(pk=touch.lead_id)
        if then == "nurture":
            lead_nurture(lead=lead, by=rep)
        elif then == "close":
            status = story.demo.status
            if status == LeadStatus.LOST:
                lead_close_lost(lead=lead, by=rep, reason=CLOSE_REASONS[status])
            else:
                lead_status_change(lead=lead, status=status, by=rep, reason=CLOSE_REASONS[status])
        elif then == "give up":
            # Not interested, once: the rep ends the cadence by hand, and nothing is left to do.
            enrollment_exit(lead=lead, reason=GAVE_UP, by=rep)
        elif then == "ask the manager":
            # Not the rep's to close before five attempts: the manager does, with a reason.
            manager = lead.team.managers.order_by("pk").first()
            if manager is not None:
                at = self._working_moment(self.now + dt.timedelta(minutes=self.rng.uniform(20, 120)), manager)
                self._at(at, self._manager_close, lead.pk, manager)

    def _decide(self, story: Story, touch: Touch, habits: Habits) -> tuple[str, str]:
        """What the rep logs on this task, and what they do next, per the lead's story."""
        attempt = story.done + 1
        status, no_at = story.demo.status, story.demo.no_at
        call = touch.channel == Channel.CALL
        routine = self._routine(call)
        if status == LeadStatus.WORKING:
            if no_at == attempt:
                return Outcome.NOT_INTERESTED, "give up" if habits.gives_up_after_no else ""
            return routine, ""
        if status == LeadStatus.NURTURING and attempt >= (no_at or 2):
            return Outcome.NOT_INTERESTED, "nurture"
        if status in CLOSE_REASONS:
            if habits.gives_up_after_no and attempt >= (no_at or 1):
                first = Outcome.NOT_INTERESTED if status == LeadStatus.LOST else Outcome.CONNECTED
                return first, "ask the manager"
            if not habits.gives_up_after_no and attempt >= max(no_at or 0, settings.MIN_ATTEMPTS_BEFORE_CLOSE):
                return (Outcome.NOT_INTERESTED if status == LeadStatus.LOST else Outcome.CONNECTED), "close"
            return routine, ""
        if status == LeadStatus.WON and not story.booked:
            # A lead of last week took two tries; a recent one said yes on the first.
            if attempt >= (2 if self.end - story.arrived > dt.timedelta(days=6) else 1):
                return Outcome.APPOINTMENT, ""
        if status == LeadStatus.APPOINTMENT and not story.booked and self.now >= self.end - BOOKING_WINDOW:
            return Outcome.APPOINTMENT, ""
        return routine, ""

    def _routine(self, call: bool) -> str:
        if not call:
            return Outcome.SENT  # a LinkedIn or Twitter/X message written and sent
        outcomes, weights = zip(*CALL_OUTCOMES, strict=True)
        return self.rng.choices(outcomes, weights)[0]

    def _book(self, story: Story, touch: Touch, rep: User) -> None:
        """The lead said yes to a meeting: booked from the task (its outcome "Appointment set")."""
        lead = touch.lead
        won = story.demo.status == LeadStatus.WON
        # A meeting to win is held before the end; an appointment still ahead stays booked, a few
        # hours to three days after it.
        if won:
            earliest = self.now + dt.timedelta(hours=12)
        else:
            earliest = self.end + dt.timedelta(hours=self.rng.uniform(3, 72))
        starts = self._meeting_at(lead, rep, earliest)
        self.meetings.add((rep.pk, starts))
        appointment = appointment_book(touch_or_lead=touch, starts_at=starts, duration=MEETING_MINUTES, by=rep)
        story.booked = True
        if won:
            held_at = starts + dt.timedelta(minutes=MEETING_MINUTES + self.rng.uniform(2, 15))
            self._at(held_at, self._held_and_won, appointment.pk, rep)

    def _meeting_at(self, lead: Lead, rep: User, earliest: dt.datetime) -> dt.datetime:
        """The first day after `earliest` with a meeting hour in both the lead's and the rep's day."""
        lead_zone, rep_zone = ZoneInfo(lead.timezone), zone_for(rep)
        day = earliest.astimezone(lead_zone).date()
        while True:
            for hour in self.rng.sample(MEETING_HOURS, len(MEETING_HOURS)):
                starts = dt.datetime.combine(day, dt.time(hour), tzinfo=lead_zone)
                rep_hour = starts.astimezone(rep_zone).hour
                free = (rep.pk, starts.astimezone(dt.UTC)) not in self.meetings
                if free and starts > earliest and rep.work_start_hour <= rep_hour < rep.work_end_hour - 1:
                    return starts.astimezone(dt.UTC)
            day += dt.timedelta(days=1)

    def _held_and_won(self, appointment_id: int, rep: User) -> None:
        appointment = Appointment.objects.get(pk=appointment_id)
        appointment_held(appointment=appointment, by=rep)
        at = self._working_moment(self.now + dt.timedelta(minutes=self.rng.uniform(20, 150)), rep)
        self._at(at, self._won, appointment.lead_id, rep)

    def _won(self, lead_id: int, rep: User) -> None:
        lead_status_change(lead=Lead.objects.get(pk=lead_id), status=LeadStatus.WON, by=rep)

    def _manager_close(self, lead_id: int, manager: User) -> None:
        lead = Lead.objects.get(pk=lead_id)
        if not lead.is_open:
            return
        status = self.stories[lead_id].demo.status
        reason = f"{CLOSE_REASONS[status]} {lead.owner.first_name} asked to close it after one call."
        if status == LeadStatus.LOST:
            lead_close_lost(lead=lead, by=manager, reason=reason)
        else:
            lead_status_change(lead=lead, status=status, by=manager, reason=reason, override=True)
