"""`manage.py seed_demo`: the demo data `make run` loads, idempotent."""

import datetime
from io import StringIO

import phonenumbers
import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import Notification, Role, Team, User
from leads.management.commands.seed_demo import DEMO_API_KEY, DEMO_PASSWORD
from leads.models import Contact, Lead, LeadEvent, LeadSource, LeadStatus
from leads.selectors import leads_visible_to
from leads.services.api_keys import lead_source_for_api_key


def counts():
    return {
        model.__name__: model.objects.count()
        for model in (Team, User, LeadSource, Lead, LeadEvent, Contact, Notification)
    }


@pytest.fixture
def demo(db, capsys):
    call_command("seed_demo")
    return capsys.readouterr().out


def test_running_twice_gives_the_same_data(demo):
    before = counts()
    leads_before = set(Lead.objects.values_list("phone", "status", "owner__username"))
    call_command("seed_demo")
    assert counts() == before
    assert set(Lead.objects.values_list("phone", "status", "owner__username")) == leads_before


def test_people_and_teams(demo):
    north, south = Team.objects.get(name="North"), Team.objects.get(name="South")
    admin = User.objects.get(username="admin")
    assert admin.role == Role.ADMIN and admin.is_staff and admin.is_superuser
    manager = User.objects.get(username="manager")
    assert manager.role == Role.MANAGER and list(manager.managed_teams.all()) == [north]
    assert {u.username for u in User.objects.filter(role=Role.REP, team=north)} == {"rep", "rep2"}
    assert {u.username for u in User.objects.filter(role=Role.REP, team=south)} == {"rep3"}
    assert not User.objects.filter(is_staff=True).exclude(username="admin").exists()


@pytest.mark.parametrize("username", ["admin", "manager", "rep", "rep2", "rep3"])
def test_every_demo_user_logs_in_with_the_demo_password(demo, client, username):
    response = client.post("/accounts/login/", {"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 302, response.content[:500]
    assert client.get("/healthz/").status_code == 200


def test_sources_and_the_documented_api_key(demo):
    website = LeadSource.objects.get(name="Website")
    assert (website.team.name, str(website.cost_per_lead)) == ("North", "40.00")
    assert (
        LeadSource.objects.get(name="Referral").team.name,
        LeadSource.objects.get(name="Referral").cost_per_lead,
    ) == (
        "North",
        0,
    )
    assert str(LeadSource.objects.get(name="Trade show").cost_per_lead) == "120.00"
    assert lead_source_for_api_key(DEMO_API_KEY) == website
    assert DEMO_API_KEY not in website.api_key_hash
    assert lead_source_for_api_key("lf_demo.wrong") is None
    assert DEMO_API_KEY in demo


def test_leads_are_realistic_and_varied(demo):
    leads = list(Lead.objects.select_related("owner", "source"))
    assert 30 <= len(leads) <= 45
    for lead in leads:
        assert phonenumbers.is_valid_number(phonenumbers.parse(lead.phone)), lead.phone
        assert lead.owner is not None and lead.owner.role == Role.REP
        assert lead.team == lead.owner.team
        assert lead.events.filter(kind=LeadEvent.Kind.INQUIRY).exists()
    assert sum(bool(lead.email) for lead in leads) >= 10
    statuses = {lead.status for lead in leads}
    assert {LeadStatus.NEW, LeadStatus.WORKING, LeadStatus.APPOINTMENT, LeadStatus.WON, LeadStatus.LOST} <= statuses
    ages = [timezone.now() - lead.created_at for lead in leads]
    assert min(ages) < datetime.timedelta(days=1)
    assert datetime.timedelta(days=14) < max(ages) <= datetime.timedelta(days=21)


def test_round_robin_shares_north_leads_between_its_reps(demo):
    north = Lead.objects.filter(team__name="North")
    by_rep = {u: north.filter(owner__username=u).count() for u in ("rep", "rep2")}
    assert abs(by_rep["rep"] - by_rep["rep2"]) <= 1
    assert set(Lead.objects.filter(source__name="Trade show").values_list("owner__username", flat=True)) == {"rep3"}


def test_won_leads_became_customers_and_lost_ones_carry_the_override_reason(demo):
    for lead in Lead.objects.filter(status=LeadStatus.WON):
        assert Contact.objects.filter(lead=lead).exists()
    for lead in Lead.objects.filter(status=LeadStatus.LOST):
        assert lead.close_reason
        assert lead.events.filter(kind=LeadEvent.Kind.STATUS, text__contains="manager override").exists()
    assert Contact.objects.filter(lead__isnull=True).count() >= 3
    assert Lead.objects.filter(referred_by__isnull=False, source__name="Referral").count() >= 2


def test_each_rep_sees_only_their_own_leads(demo):
    rep = User.objects.get(username="rep")
    manager = User.objects.get(username="manager")
    admin = User.objects.get(username="admin")
    assert set(leads_visible_to(rep)) == set(Lead.objects.filter(owner=rep))
    assert set(leads_visible_to(manager)) == set(Lead.objects.filter(team__name="North"))
    assert leads_visible_to(admin).count() == Lead.objects.count()


def test_demo_leads_have_a_history_of_follow_up(db):
    """Worked demo leads carry logged attempts and a first response, so the reports show something."""
    call_command("seed_demo", stdout=StringIO())
    worked = Lead.objects.exclude(status=LeadStatus.NEW)
    assert worked.exists()
    assert all(lead.attempt_count > 0 and lead.first_response_at for lead in worked)
    assert not Lead.objects.filter(status=LeadStatus.NEW, attempt_count__gt=0).exists()
