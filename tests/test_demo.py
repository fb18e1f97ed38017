"""`manage.py seed_demo`: the demo `make run` loads, three weeks made by the product itself.

The demo is seeded once for this module, on a Tuesday morning in New York two days after the
spring DST change (so its three weeks cross it), and the clock keeps running from there for every
test. tests/test_demo_hours.py seeds it at other hours and checks what must hold at any hour.
"""

import datetime as dt
import json
import time
from io import StringIO
from zoneinfo import ZoneInfo

import phonenumbers
import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from accounts.models import Notification, Role, Team, User
from cadences.models import Channel, Enrollment, Touch, TouchStatus
from leads.management.commands._demo_history import GAVE_UP
from leads.management.commands.seed_demo import DEMO_API_KEY, DEMO_DATA, DEMO_PASSWORD
from leads.models import Appointment, Contact, Lead, LeadEvent, LeadSource, LeadStatus
from leads.phones import phone_normalize
from leads.selectors import leads_visible_to
from leads.services.api_keys import lead_source_for_api_key
from messaging.models import Message
from messaging.tasks import dispatch_due, reconcile_stuck
from reports.selectors.period import org_today, week_bounds
from reports.selectors.speed import speed_report
from reports.selectors.vocabulary import closed_early_q, left_behind_q
from today.selectors import task_counters, tasks_for_today

NEW_YORK = ZoneInfo("America/New_York")
SEEDED_AT = dt.datetime(2026, 3, 10, 10, 40, tzinfo=NEW_YORK)
GIVES_UP = "rep2"  # Priya: gives up after one "no" (_demo_history.HABITS)
JUST_ARRIVED = "Mitchell"


@pytest.fixture
def demo(db):
    """seed_demo in the test's own transaction; the clock runs on from SEEDED_AT during the test.
    Per test, not per module: under xdist a module's tests share a worker with other modules' tests,
    and a module-long transaction (and clock) would reach into theirs."""
    with time_machine.travel(SEEDED_AT, tick=True):
        out = StringIO()
        started = time.monotonic()
        call_command("seed_demo", stdout=out)
        yield {"out": out.getvalue(), "seconds": time.monotonic() - started}


@pytest.fixture
def seeded(demo, db):
    return demo


def counts() -> dict:
    return {
        model.__name__: model.objects.count()
        for model in (Team, User, LeadSource, Lead, LeadEvent, Contact, Notification, Touch, Message, Appointment)
    }


def demo_records() -> list[dict]:
    return json.loads(DEMO_DATA.read_text())["leads"]


def demo_lead(last_name: str) -> Lead:
    record = next(r for r in demo_records() if r["last_name"] == last_name)
    return Lead.objects.get(phone=phone_normalize(record["phone"]))


# What must hold at whatever hour the demo is seeded (tests/test_demo_hours.py runs these too) ---


def check_first_minute_sends_nothing() -> None:
    """The first minute of `make run`: the worker's dispatch and reconcile ticks, every 5 s, find
    nothing to send for any seeded lead, and no automated touch falls due in it."""
    now = timezone.now()
    soon = Touch.objects.filter(status=TouchStatus.SCHEDULED, automated=True, due_at__lte=now + dt.timedelta(minutes=1))
    assert list(soon.values_list("lead__last_name", "title", "due_at")) == []
    assert not Touch.objects.filter(status=TouchStatus.SENDING).exists()
    before = (Message.objects.count(), len(mail.outbox), counts())
    with time_machine.travel(now, tick=False) as clock:
        for _ in range(12):
            clock.shift(5)
            assert dispatch_due() == 0
            assert reconcile_stuck() == {"stuck": 0, "found_sent": 0, "requeued": 0}
    assert (Message.objects.count(), len(mail.outbox), counts()) == before


def check_statuses_reached() -> None:
    """Every lead ended where demo.json says, and by the product's paths."""
    wanted = {phone_normalize(r["phone"]): r["status"] if "status" in r else LeadStatus.NEW for r in demo_records()}
    reached = dict(Lead.objects.values_list("phone", "status"))
    assert {p: s for p, s in reached.items() if wanted[p] != s} == {}
    for lead in Lead.objects.filter(status=LeadStatus.WON):
        assert lead.appointments.filter(status=Appointment.Status.HELD).exists(), lead
        assert Contact.objects.filter(lead=lead).exists(), lead
    for lead in Lead.objects.filter(status=LeadStatus.APPOINTMENT):
        booked = lead.appointments.get(status=Appointment.Status.SCHEDULED)
        assert booked.starts_at > timezone.now(), lead
    for lead in Lead.objects.filter(status=LeadStatus.NURTURING):
        assert lead.enrollments.filter(state=Enrollment.State.ACTIVE, cadence__kind="nurture").exists(), lead
    for lead in Lead.objects.filter(status__in=[LeadStatus.LOST, LeadStatus.UNQUALIFIED]):
        assert lead.close_reason, lead
        if lead.attempt_count < 5:
            # Closed early: only a manager may, and says why (leads.services.lifecycle.lead_status_set).
            closing = lead.events.get(kind=LeadEvent.Kind.STATUS, text__contains="manager override")
            assert closing.actor.role == Role.MANAGER, lead
    assert not Lead.objects.exclude(status=LeadStatus.NEW).filter(attempt_count=0).exists()
    assert not Lead.objects.filter(status=LeadStatus.NEW, attempt_count__gt=0).exists()


def check_speed_to_lead() -> dict:
    """Automated first touch in seconds (median under a minute), first call in minutes to hours."""
    overall = speed_report(leads=Lead.objects.all())["overall"]
    auto, call = overall["auto"], overall["call"]
    assert auto["n"] >= 30 and auto["median"] < dt.timedelta(minutes=1), auto
    assert call["n"] >= 25 and call["median"] < dt.timedelta(hours=1), call
    leads = Lead.objects.exclude(first_response_at=None)
    within_hours = sum(lead.first_response_at - lead.created_at < dt.timedelta(hours=8) for lead in leads)
    assert within_hours >= 0.75 * leads.count()
    # Each auto-responder email went out seconds after its lead arrived.
    for touch in Touch.objects.filter(
        automated=True, channel=Channel.EMAIL, step__day=0, step__send_hour=None, status=TouchStatus.SENT
    ).select_related("lead"):
        assert touch.sent_at - touch.lead.created_at < dt.timedelta(seconds=10), touch.lead
    return overall


def check_only_the_rep_who_gives_up_leaves_leads() -> None:
    """Left behind (this week or last) and closed early: some, all of them the rep who gives up."""
    this_week = week_bounds(org_today())
    last_week = week_bounds(org_today() - dt.timedelta(days=7))
    behind = Lead.objects.filter(left_behind_q(start=this_week[0], end=timezone.now())) | Lead.objects.filter(
        left_behind_q(start=last_week[0], end=last_week[1])
    )
    early = Lead.objects.filter(closed_early_q())
    assert behind.exists() and early.exists()
    assert set(behind.values_list("owner__username", flat=True)) == {GIVES_UP}
    assert set(early.values_list("owner__username", flat=True)) == {GIVES_UP}
    for lead in behind.distinct():
        assert lead.enrollments.filter(exit_reason=GAVE_UP).exists() or lead.status == LeadStatus.NEW, lead


# The module's demo -------------------------------------------------------------------------------


def test_seeding_takes_under_half_a_minute(seeded):
    """Under 30 s on a developer's machine; a loaded CI box gets twice that."""
    print(f"seed_demo took {seeded['seconds']:.1f} s")
    assert seeded["seconds"] < 60
    assert "Running the product through the last 21 days" in seeded["out"]
    assert "ended" not in seeded["out"]  # no story went astray


def test_a_dispatch_tick_after_seeding_sends_nothing(seeded):
    check_first_minute_sends_nothing()


def test_running_twice_changes_nothing(seeded):
    before = counts()
    leads_before = set(Lead.objects.values_list("phone", "status", "owner__username", "attempt_count"))
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert counts() == before
    assert set(Lead.objects.values_list("phone", "status", "owner__username", "attempt_count")) == leads_before
    assert "their history is left as it is" in out.getvalue()
    assert DEMO_API_KEY in out.getvalue() and DEMO_PASSWORD in out.getvalue()


def test_every_status_is_reached_by_the_products_paths(seeded):
    check_statuses_reached()


def test_speed_to_lead_shows_seconds_for_the_auto_responder_and_minutes_for_the_call(seeded):
    check_speed_to_lead()


def test_only_the_rep_who_gives_up_has_leads_left_behind_or_closed_early(seeded):
    check_only_the_rep_who_gives_up_leaves_leads()


def test_the_demo_reps_today_is_a_handful_one_row_per_lead(seeded):
    rep = User.objects.get(username="rep")
    rows = tasks_for_today(rep=rep).rows
    leads = [row.lead_id for row in rows]
    assert 3 <= len(rows) <= 10, [(row.lead.last_name, row.due_at) for row in rows]
    assert len(leads) == len(set(leads))
    assert demo_lead(JUST_ARRIVED).pk in leads  # the web lead that came in minutes ago
    assert task_counters(rep=rep)["overdue"] <= 2
    # Nothing of the rep's from before today is open but that one overdue task at most.
    start_of_day = dt.datetime.combine(timezone.localtime(timezone.now(), NEW_YORK).date(), dt.time(0), NEW_YORK)
    assert Touch.objects.open_tasks().filter(assigned_to=rep, due_at__lt=start_of_day).count() <= 1


def test_the_manager_sees_a_new_lead_nobody_called_yet(seeded):
    """Priya has not called her newest lead: its call-at-once task waits, overdue, on her Today."""
    priya = User.objects.get(username=GIVES_UP)
    waiting = Lead.objects.filter(owner=priya, status=LeadStatus.NEW)
    assert waiting.exists()
    rows = tasks_for_today(rep=priya).rows
    assert {lead.pk for lead in waiting} <= {row.lead_id for row in rows}


def test_people_and_teams(seeded):
    north, south = Team.objects.get(name="North"), Team.objects.get(name="South")
    admin = User.objects.get(username="admin")
    assert admin.role == Role.ADMIN and admin.is_staff and admin.is_superuser
    manager = User.objects.get(username="manager")
    assert manager.role == Role.MANAGER and list(manager.managed_teams.all()) == [north]
    assert {u.username for u in User.objects.filter(role=Role.REP, team=north)} == {"rep", "rep2"}
    assert {u.username for u in User.objects.filter(role=Role.REP, team=south)} == {"rep3"}
    assert User.objects.get(username="rep3").timezone == "America/Chicago"
    assert not User.objects.filter(is_staff=True).exclude(username="admin").exists()


@pytest.mark.parametrize("username", ["admin", "manager", "rep", "rep2", "rep3"])
def test_every_demo_user_logs_in_with_the_demo_password(seeded, client, username):
    response = client.post("/accounts/login/", {"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 302, response.content[:500]
    assert client.get("/healthz/").status_code == 200


def test_sources_and_the_documented_api_key(seeded):
    website = LeadSource.objects.get(name="Website")
    assert (website.team.name, str(website.cost_per_lead)) == ("North", "40.00")
    referral = LeadSource.objects.get(name="Referral")
    assert (referral.team.name, referral.cost_per_lead) == ("North", 0)
    assert str(LeadSource.objects.get(name="Trade show").cost_per_lead) == "120.00"
    assert lead_source_for_api_key(DEMO_API_KEY) == website
    assert DEMO_API_KEY not in website.api_key_hash
    assert lead_source_for_api_key("lf_demo.wrong") is None
    assert DEMO_API_KEY in seeded["out"]


def test_leads_are_realistic_and_varied(seeded):
    leads = list(Lead.objects.select_related("owner", "source"))
    assert 30 <= len(leads) <= 45
    for lead in leads:
        assert phonenumbers.is_valid_number(phonenumbers.parse(lead.phone)), lead.phone
        assert lead.owner is not None and lead.owner.role == Role.REP
        assert lead.team == lead.owner.team
        assert lead.events.filter(kind=LeadEvent.Kind.INQUIRY).exists()
    assert sum(bool(lead.email) for lead in leads) >= 10
    statuses = {lead.status for lead in leads}
    assert set(LeadStatus.values) == statuses
    ages = [timezone.now() - lead.created_at for lead in leads]
    assert min(ages) < dt.timedelta(minutes=10)
    assert dt.timedelta(days=14) < max(ages) <= dt.timedelta(days=21)
    # Each came in its own way: the API, a rep's phone call, a referral call, a rep's form.
    vias = {event.data["via"] for event in LeadEvent.objects.filter(kind=LeadEvent.Kind.INQUIRY)}
    assert vias == {"api", "phone", "referral", "form"}


def test_round_robin_shares_the_website_leads_between_north_reps(seeded):
    web = Lead.objects.filter(events__kind=LeadEvent.Kind.INQUIRY, events__data__via="api")
    by_rep = {u: web.filter(owner__username=u).count() for u in ("rep", "rep2")}
    assert abs(by_rep["rep"] - by_rep["rep2"]) <= 1, by_rep
    assert set(Lead.objects.filter(source__name="Trade show").values_list("owner__username", flat=True)) == {"rep3"}
    # A referral belongs to the rep who called the customer; a phone lead to the rep who took the call.
    for lead in Lead.objects.filter(source__name="Referral"):
        assert lead.owner == lead.referred_by.owner


def test_customers_and_referrals(seeded):
    assert Contact.objects.filter(lead__isnull=True).count() >= 3
    assert Lead.objects.filter(referred_by__isnull=False, source__name="Referral").count() >= 2
    for lead in Lead.objects.filter(source__name="Referral"):
        # The referral call on Today was logged when the lead came in.
        assert lead.referred_by.last_referral_call_at >= lead.created_at - dt.timedelta(seconds=1)


def test_each_rep_sees_only_their_own_leads(seeded):
    rep = User.objects.get(username="rep")
    manager = User.objects.get(username="manager")
    admin = User.objects.get(username="admin")
    assert set(leads_visible_to(rep)) == set(Lead.objects.filter(owner=rep))
    assert set(leads_visible_to(manager)) == set(Lead.objects.filter(team__name="North"))
    assert leads_visible_to(admin).count() == Lead.objects.count()


def test_the_history_happened_at_its_times(seeded):
    """Timeline entries, messages and outcomes carry the moments they happened, in order, all in the
    past, and the reps worked inside their working hours."""
    now = timezone.now()
    assert not LeadEvent.objects.filter(created_at__gt=now).exists()
    for lead in Lead.objects.all():
        assert not lead.events.filter(created_at__lt=lead.created_at).exists(), lead
    for touch in Touch.objects.filter(status=TouchStatus.DONE, completed_by__isnull=False).select_related(
        "completed_by"
    ):
        local = timezone.localtime(touch.completed_at, ZoneInfo(touch.completed_by.timezone))
        assert touch.completed_by.work_start_hour <= local.hour < touch.completed_by.work_end_hour, touch
    assert Message.objects.filter(lead__isnull=False, created_at__lt=now - dt.timedelta(days=14)).exists()
