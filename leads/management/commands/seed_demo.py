"""Demo data for `make run`: two teams, five users, three lead sources, a few customers and three
weeks of leads, built by running the product through those weeks (./_demo_history.py).

The data is leads/demo_data/demo.json. Idempotent: users, teams and sources are looked up by name,
customers by phone; when any demo lead exists (by phone) the history is not run again, so running
it twice leaves the same data. Demo only: every password is "demo-password" and the Website
source's API key is fixed and documented in the README. Nothing leaves the machine: texts go to
the outbox, emails to files (or the test backend) whatever the environment configures.
"""

import datetime
import json
import logging
import time
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import time_machine
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from accounts.models import Role, Team, User
from cadences.models import Touch, TouchStatus
from leadfollow.celery import app as celery_app
from leads.management.commands._demo_history import DAYS, DemoHistory
from leads.models import Contact, Lead, LeadSource, LeadStatus
from leads.phones import phone_normalize
from leads.services.api_keys import lead_source_issue_api_key
from messaging.models import Message

DEMO_PASSWORD = "demo-password"
DEMO_API_KEY = "lf_demo.website-demo-key"

# The teams, users, lead sources, customers and leads: data, read by _demo_data().
DEMO_DATA = Path(__file__).resolve().parents[2] / "demo_data" / "demo.json"


# Email backends that deliver nothing (files, memory, the console): the seed keeps one of these,
# any other becomes the file backend for as long as it runs.
LOCAL_EMAIL_BACKENDS = {
    "django.core.mail.backends.filebased.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
}


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
    status: str = LeadStatus.NEW  # where its story ends (_demo_history)
    referred_by: str = ""  # a customer's last name: came from that customer's referral call
    via: str = ""  # "phone": a rep took the call and entered it (taken_by); else by its source
    taken_by: str = ""
    no_at: int | None = None  # the attempt on which the lead says "not interested"


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


# Their INFO lines (each task run in process, each send, each alert not sent) would bury the seed's
# own; kombu also warns that the eager producer's filesystem broker has no host name.
QUIET_LOGGERS = {
    "celery": logging.WARNING,
    "messaging": logging.WARNING,
    "cadences": logging.WARNING,
    "leads": logging.WARNING,
    "reactions": logging.WARNING,
    "kombu": logging.ERROR,
}


@contextmanager
def _local_transports_and_inline_tasks():
    """While the seed runs: texts to the outbox and email to files (demo numbers and addresses
    may be somebody's), and Celery tasks run in process, so nothing is left in the broker for the
    first worker (no backlog to send, no "New lead" alert for a lead of last week)."""
    overrides = {"TWILIO_ACCOUNT_SID": "", "TWILIO_AUTH_TOKEN": ""}
    if settings.EMAIL_BACKEND not in LOCAL_EMAIL_BACKENDS:
        overrides["EMAIL_BACKEND"] = "django.core.mail.backends.filebased.EmailBackend"
    conf = celery_app.conf
    eager, propagates = conf.task_always_eager, conf.task_eager_propagates
    levels = {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
    conf.task_always_eager, conf.task_eager_propagates = True, True
    for name, level in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(level)
    try:
        with override_settings(**overrides):
            yield
    finally:
        conf.task_always_eager, conf.task_eager_propagates = eager, propagates
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


class Command(BaseCommand):
    help = "Load the demo teams, users, lead sources, customers and three weeks of leads (idempotent; demo only)."

    def handle(self, *args, **options):
        started = time.monotonic()
        data = _demo_data()
        now = timezone.now()
        phones = [phone_normalize(lead.phone) for lead in data["leads"]]
        stories = []
        with _local_transports_and_inline_tasks():
            # One transaction: a seed that fails leaves nothing. Its on-commit work (instant sends,
            # rep alerts) runs after it, at the real now: already sent, or too old to alert about.
            with transaction.atomic():
                if Lead.objects.filter(phone__in=phones).exists():
                    users, api_key = self._setup(data, now)
                    self.stdout.write("Demo leads exist already: their history is left as it is.")
                else:
                    self.stdout.write(f"Running the product through the last {DAYS} days for the demo leads…")
                    with time_machine.travel(now - datetime.timedelta(days=DAYS), tick=False) as clock:
                        users, api_key = self._setup(data, now)
                        history = DemoHistory(
                            clock=clock,
                            end=now,
                            leads=data["leads"],
                            sources=self.sources,
                            users=users,
                            customers=self.customers,
                            progress=self.stdout.write,
                        )
                        stories = history.run()
        self._report(stories, started)
        self.stdout.write(f"Logins (demo only): {', '.join(users)} / password {DEMO_PASSWORD!r}")
        self.stdout.write(f"Website lead source API key (demo only): {api_key}")

    def _setup(self, data, now):
        teams = {name: Team.objects.get_or_create(name=name)[0] for name in data["teams"]}
        users = self._users(teams, data["users"])
        self.sources, api_key = self._sources(teams, data["sources"])
        self.customers = self._customers(users, data["customers"], now)
        return users, api_key

    def _report(self, stories, started) -> None:
        seconds = time.monotonic() - started
        if stories:
            sent = Message.objects.filter(direction=Message.Direction.OUTBOUND, lead__isnull=False).count()
            done = Touch.objects.filter(automated=False, status=TouchStatus.DONE).count()
            self.stdout.write(f"  {len(stories)} leads, {sent} automated messages sent, {done} tasks done.")
            statuses = dict(Lead.objects.filter(pk__in=[s.lead_id for s in stories]).values_list("pk", "status"))
            astray = [s for s in stories if statuses[s.lead_id] != s.demo.status]
            for story in astray:
                # The history depends on the hour it is run at: say where a story ended elsewhere.
                self.stdout.write(
                    self.style.WARNING(
                        f"  {story.demo.first_name} {story.demo.last_name} ended {statuses[story.lead_id]}, "
                        f"not {story.demo.status}."
                    )
                )
        created = len(stories)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready in {seconds:.1f} s: {created} new leads, {Lead.objects.count()} in all."
            )
        )

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
                    **({"timezone": record["timezone"]} if record.get("timezone") else {}),
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

    def _customers(self, users, records, now):
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
