"""Demo data for `make run`: two teams, five users, three lead sources and a few dozen leads.

The data is leads/demo_data/demo.json. Idempotent: users, teams and sources are looked up by
name, leads by phone number, so running it twice leaves the same data. Demo only: every password
is "demo-password" and the Website source's API key is fixed and documented in the README.
"""

import datetime
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import Role, Team, User
from cadences.models import Outcome, Touch, TouchStatus
from leads.models import Contact, Lead, LeadEvent, LeadSource, LeadStatus
from leads.phones import phone_normalize
from leads.services.api_keys import lead_source_issue_api_key
from reactions.intake import lead_intake
from reactions.lifecycle import lead_status_change
from reactions.outcomes import touch_complete

DEMO_PASSWORD = "demo-password"
DEMO_API_KEY = "lf_demo.website-demo-key"

# The teams, users, lead sources, customers and leads: data, read by _demo_data().
DEMO_DATA = Path(__file__).resolve().parents[2] / "demo_data" / "demo.json"


@dataclass(frozen=True)
class DemoLead:
    first_name: str
    last_name: str
    company: str
    phone: str
    email: str
    interest: str
    how_heard: str
    source: str
    days_ago: float
    status: str = LeadStatus.NEW
    referred_by: str = ""  # a customer's last name


def _demo_data() -> dict:
    """demo.json with its choices as the models' enums, so a wrong role, status or field name fails
    before anything is written."""
    data = json.loads(DEMO_DATA.read_text())
    for user in data["users"]:
        user["role"] = Role(user["role"])
    for source in data["sources"]:
        source["cost_per_lead"] = Decimal(source["cost_per_lead"])
    data["leads"] = [
        DemoLead(**{**lead, "status": LeadStatus(lead.get("status", LeadStatus.NEW))}) for lead in data["leads"]
    ]
    return data


# How each lead reaches its status: the path a rep would take.
STATUS_PATHS = {
    LeadStatus.NEW: [],
    LeadStatus.WORKING: [LeadStatus.WORKING],
    LeadStatus.APPOINTMENT: [LeadStatus.WORKING, LeadStatus.APPOINTMENT],
    LeadStatus.NURTURING: [LeadStatus.WORKING, LeadStatus.NURTURING],
    LeadStatus.WON: [LeadStatus.WORKING, LeadStatus.APPOINTMENT, LeadStatus.WON],
    LeadStatus.LOST: [LeadStatus.WORKING, LeadStatus.LOST],
    LeadStatus.UNQUALIFIED: [LeadStatus.UNQUALIFIED],
}
# What the reps logged on the demo leads they worked, in turn (calls; other channels log "sent").
CALL_OUTCOMES = [Outcome.NO_ANSWER, Outcome.VOICEMAIL, Outcome.CONNECTED, Outcome.NO_ANSWER, Outcome.NOT_INTERESTED]
CLOSE_REASONS = {
    LeadStatus.LOST: "Chose a competitor on price; confirmed on the phone (demo data).",
    LeadStatus.UNQUALIFIED: "Student project, not a buyer (demo data).",
}


class Command(BaseCommand):
    help = "Load the demo teams, users, lead sources and leads (idempotent; demo only)."

    def handle(self, *args, **options):
        data = _demo_data()
        with transaction.atomic():
            teams = {name: Team.objects.get_or_create(name=name)[0] for name in data["teams"]}
            users = self._users(teams, data["users"])
            sources, api_key = self._sources(teams, data["sources"])
            customers = self._customers(users, data["customers"])
            created = self._leads(sources, users, customers, data["leads"])

        self.stdout.write(self.style.SUCCESS(f"Demo data ready: {created} new leads, {Lead.objects.count()} in all."))
        self.stdout.write(f"Logins (demo only): {', '.join(users)} / password {DEMO_PASSWORD!r}")
        self.stdout.write(f"Website lead source API key (demo only): {api_key}")

    def _users(self, teams, records):
        users = {}
        for record in records:
            username, role = record["username"], record["role"]
            user, created = User.objects.get_or_create(
                username=username,
                defaults={
                    "first_name": record["first_name"],
                    "last_name": record["last_name"],
                    "email": f"{username}@leadfollow.example",
                    "role": role,
                    "team": teams.get(record["team"]),
                    "phone": phone_normalize(record["phone"]),
                    "is_staff": role == Role.ADMIN,
                    "is_superuser": role == Role.ADMIN,
                },
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
            if record["manages"]:
                teams[record["manages"]].managers.add(user)
            users[username] = user
        return users

    def _sources(self, teams, records):
        sources = {}
        for record in records:
            source, _ = LeadSource.objects.get_or_create(
                name=record["name"], defaults={"team": teams[record["team"]], "cost_per_lead": record["cost_per_lead"]}
            )
            sources[record["name"]] = source
        api_key = lead_source_issue_api_key(source=sources["Website"], raw_key=DEMO_API_KEY)
        return sources, api_key

    def _customers(self, users, records):
        now = timezone.now()
        customers = {}
        for record in records:
            days = record["days_since_last_call"]
            contact, _ = Contact.objects.get_or_create(
                phone=phone_normalize(record["phone"]),
                defaults={
                    "first_name": record["first_name"],
                    "last_name": record["last_name"],
                    "company": record["company"],
                    "email": record["email"],
                    "owner": users[record["owner"]],
                    "last_referral_call_at": now - datetime.timedelta(days=days) if days else None,
                },
            )
            customers[record["last_name"]] = contact
        return customers

    def _leads(self, sources, users, customers, leads: list[DemoLead]) -> int:
        now = timezone.now()
        created = 0
        # Oldest first, so round-robin hands them out the way they arrived.
        for demo in sorted(leads, key=lambda d: -d.days_ago):
            phone = phone_normalize(demo.phone)
            if Lead.objects.filter(phone=phone).exists():
                continue
            result = lead_intake(
                first_name=demo.first_name,
                last_name=demo.last_name,
                phone=phone,
                email=demo.email,
                company=demo.company,
                source=sources[demo.source],
                how_heard=demo.how_heard,
                interest=demo.interest,
                via="referral" if demo.referred_by else "api" if demo.source == "Website" else "form",
                referred_by=customers.get(demo.referred_by),
                at=now - datetime.timedelta(days=demo.days_ago),
            )
            created += result.created
            lead = result.lead
            if demo.status != LeadStatus.NEW:
                # Given-up leads stop after two tries: the compliance report's example of closing early.
                self._log_past_work(lead, now, limit=2 if demo.status in CLOSE_REASONS else None)
                lead.refresh_from_db()
            for status in STATUS_PATHS[demo.status]:
                reason = CLOSE_REASONS.get(status, "")
                # Giving up before the minimum attempts needs a manager's override and reason.
                by = users["manager"] if reason else lead.owner
                lead = lead_status_change(lead=lead, status=status, by=by, reason=reason, override=bool(reason))
        return created

    def _log_past_work(self, lead: Lead, now, limit: int | None = None) -> None:
        """The rep worked this lead: every task due more than an hour ago is logged, a few minutes
        after it was due, so the reports and the timeline have a history to show."""
        if lead.owner is None:
            return
        due = Touch.objects.filter(
            lead=lead, automated=False, status=TouchStatus.SCHEDULED, due_at__lt=now - datetime.timedelta(hours=1)
        ).order_by("due_at", "pk")[:limit]
        for index, touch in enumerate(due):
            if touch.channel == "call":
                outcome = CALL_OUTCOMES[(lead.pk + index) % len(CALL_OUTCOMES)]
            else:
                outcome = Outcome.SENT
            touch_complete(touch=touch, outcome=outcome, by=lead.owner)
            done_at = touch.due_at + datetime.timedelta(minutes=4 + (lead.pk * 13 + index * 7) % 50)
            Touch.objects.filter(pk=touch.pk).update(completed_at=done_at)
            LeadEvent.objects.filter(lead=lead, kind=LeadEvent.Kind.TOUCH, data__touch=touch.pk).update(
                created_at=done_at
            )
        first = Touch.objects.filter(lead=lead, status=TouchStatus.DONE).order_by("completed_at").first()
        last = Touch.objects.filter(lead=lead, status=TouchStatus.DONE).order_by("-completed_at").first()
        if first:
            Lead.objects.filter(pk=lead.pk).update(
                first_response_at=first.completed_at, last_touch_at=last.completed_at
            )
