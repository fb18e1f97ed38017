"""Benchmark data: `seed_bench(leads=N, touches_per_lead=K, reset=False, due_now=M)`.

bench/run.py calls it in-process; by hand: `DJANGO_SETTINGS_MODULE=bench.settings python manage.py
seed_bench --leads N [--touches-per-lead K] [--reset] [--due-now M]` (bench/management/commands/).

Fast and big: rows are generated in Python and written in chunks with PostgreSQL's COPY (plain
`executemany` INSERTs on SQLite), never through `save()`, so 100k leads with ~1M touches take a
few minutes. Ids are assigned here (the sequences are moved past them afterwards), so one pass
writes leads, their enrolment, touches, timeline entry and messages together.

What it makes, all tied to the "Bench" teams and sources (so `--reset` removes only bench data):
- 4 teams with 5 reps and a manager each, an admin, one lead source per team, 20 customers per rep;
- leads created over the past 4 weeks with a realistic status mix (mostly open, some won/lost);
- each lead enrolled in the reference cadence with K touches picked evenly from its steps, so
  touches are spread over the past 4 weeks and the next 4 weeks: past automated ones sent (a few
  failed or skipped), past manual ones mostly done with an outcome (the rest overdue), future ones
  scheduled (cancelled for closed leads) — up to a lead's first open manual task: as the product
  runs a cadence, the steps after it wait for it (pending).

`leads=N` is a target: running it again with the same N adds nothing; a bigger N adds the
difference. `due_now=M` also adds M automated touches due now (half SMS, half email) on fresh
leads whose timezone is inside the contact window, for the dispatch benchmark.
"""

import csv
import datetime as dt
import io
import json
import random
import time
import uuid
import zoneinfo

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import CommandError
from django.db import connection, models, transaction
from django.utils import timezone

from accounts.models import Role, Team, User
from cadences.models import AUTOMATABLE_CHANNELS, Cadence, CadenceStep, Channel, Enrollment, Outcome, Touch, TouchStatus
from leads.models import Contact, IdempotencyRecord, Lead, LeadEvent, LeadSource, LeadStatus
from messaging.models import Message, OptOut

BENCH_PASSWORD = "bench-password"
TEAMS = ["Bench North", "Bench South", "Bench East", "Bench West"]
REPS_PER_TEAM = 5
CUSTOMERS_PER_REP = 20
CHUNK_LEADS = 2000
EMAIL_DOMAIN = "bench-leads.example"
# Seeded phones use these area codes; the benchmark's live leads use another (646) so they never collide.
AREA_CODES = ["212", "312", "415", "617", "713", "305", "206", "404", "303", "503"]
TIMEZONES = ["America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"]
# Zones tried, in order, for leads that must be inside their contact window right now.
WINDOW_ZONES = [
    "America/New_York",
    "America/Los_Angeles",
    "Pacific/Honolulu",
    "Europe/London",
    "Europe/Berlin",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Auckland",
]
STATUS_WEIGHTS = {
    LeadStatus.NEW: 18,
    LeadStatus.WORKING: 40,
    LeadStatus.APPOINTMENT: 8,
    LeadStatus.NURTURING: 12,
    LeadStatus.WON: 8,
    LeadStatus.LOST: 9,
    LeadStatus.UNQUALIFIED: 5,
}
CALL_OUTCOME_WEIGHTS = {
    Outcome.NO_ANSWER: 40,
    Outcome.VOICEMAIL: 30,
    Outcome.CONNECTED: 18,
    Outcome.NOT_INTERESTED: 5,
    Outcome.APPOINTMENT: 5,
    Outcome.WRONG_NUMBER: 2,
}
FIRST_NAMES = ["Ava", "Ben", "Cleo", "Dev", "Emma", "Finn", "Gia", "Hugo", "Iris", "Jon", "Kai", "Lena", "Milo"]
LAST_NAMES = ["Adams", "Baker", "Chen", "Diaz", "Evans", "Ford", "Garcia", "Hill", "Ito", "Jones", "Khan", "Lopez"]
INTERESTS = ["a quote for 20 seats", "the spring promotion", "a demo for our team", "pricing", "a test drive"]


def window_timezone(now: dt.datetime | None = None) -> str:
    """A timezone where it is between 10:00 and 19:00 right now (automated SMS go out at once there)."""
    now = now or timezone.now()
    for name in WINDOW_ZONES:
        if 10 <= now.astimezone(zoneinfo.ZoneInfo(name)).hour < 19:
            return name
    return "Asia/Tokyo"


class _Table:
    """Column order and per-column defaults of one model, for writing raw rows."""

    def __init__(self, model):
        self.model = model
        self.name = model._meta.db_table
        self.fields = [f for f in model._meta.concrete_fields]
        self.columns = [f.column for f in self.fields]
        self.defaults = {}
        for f in self.fields:
            if f.has_default():
                self.defaults[f.attname] = f.get_default()
            elif f.null:
                self.defaults[f.attname] = None
            elif isinstance(f, models.CharField | models.TextField):
                self.defaults[f.attname] = ""
        self.rows: list[tuple] = []

    def add(self, **values):
        row = []
        for f in self.fields:
            if f.attname in values:
                row.append(values[f.attname])
            elif f.attname in self.defaults:
                row.append(self.defaults[f.attname])
            else:
                raise CommandError(f"{self.name}.{f.column}: no value and no default")
        self.rows.append(tuple(row))


def _csv_value(value):
    if value is None:
        return r"\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value)
    return value


def _write(tables: list[_Table]) -> int:
    """Write and clear the rows of `tables` (in this order: parents first)."""
    written = 0
    with connection.cursor() as cursor:
        for table in tables:
            if not table.rows:
                continue
            if connection.vendor == "postgresql":
                buffer = io.StringIO()
                writer = csv.writer(buffer)
                for row in table.rows:
                    writer.writerow([_csv_value(v) for v in row])
                buffer.seek(0)
                cols = ", ".join(connection.ops.quote_name(c) for c in table.columns)
                cursor.cursor.copy_expert(
                    f"COPY {connection.ops.quote_name(table.name)} ({cols}) FROM STDIN WITH (FORMAT csv, NULL '\\N')",
                    buffer,
                )
            else:
                prepped = [
                    [f.get_db_prep_save(v, connection) for f, v in zip(table.fields, row, strict=True)]
                    for row in table.rows
                ]
                cols = ", ".join(connection.ops.quote_name(c) for c in table.columns)
                marks = ", ".join(["%s"] * len(table.columns))
                cursor.executemany(
                    f"INSERT INTO {connection.ops.quote_name(table.name)} ({cols}) VALUES ({marks})",  # noqa: S608  # nosec B608 - identifiers from our models, quoted; ids are integers
                    prepped,
                )
            written += len(table.rows)
            table.rows.clear()
    return written


def _next_id(model) -> int:
    return (model.objects.aggregate(m=models.Max("pk"))["m"] or 0) + 1


def _fix_sequences(models_: list) -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in models_:
            table = model._meta.db_table
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608  # nosec B608 - identifiers from our models, quoted; ids are integers
                f"COALESCE((SELECT MAX(id) FROM {connection.ops.quote_name(table)}), 1))"
            )


def _weighted(rng: random.Random, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def seed_bench(
    *, leads: int, touches_per_lead: int = 10, reset: bool = False, due_now: int = 0, seed: int = 42, stdout=None
) -> None:
    """Bring the bench leads up to `leads` (deleting them all first with `reset`), then add `due_now`
    automated touches due now. Progress goes to `stdout` (a file, or a command's stdout) if given."""
    seeder = _Seeder(rng=random.Random(seed), now=timezone.now(), stdout=stdout)
    started = time.monotonic()
    org = seeder.ensure_org()
    if reset:
        seeder.reset(org)
    existing = Lead.objects.filter(source__in=org["sources"]).count()
    missing = max(0, leads - existing)
    seeder.say(f"bench leads: {existing} present, adding {missing}")
    if missing:
        seeder.add_leads(org, missing, touches_per_lead, start_index=seeder.next_index())
    if due_now:
        seeder.add_due_now(org, due_now, start_index=seeder.next_index())
    seeder.say(
        f"done in {time.monotonic() - started:.1f} s: {Lead.objects.count()} leads, {Touch.objects.count()} touches"
    )


class _Seeder:
    def __init__(self, *, rng: random.Random, now: dt.datetime, stdout):
        self.rng, self.now, self.stdout = rng, now, stdout

    def say(self, line: str) -> None:
        if self.stdout is not None:
            self.stdout.write(f"{line}\n")

    # --- organisation -----------------------------------------------------------------------------
    def ensure_org(self) -> dict:
        password = make_password(BENCH_PASSWORD)
        reps, sources = [], []
        admin, _ = User.objects.get_or_create(
            username="bench_admin", defaults={"role": Role.ADMIN, "password": password, "first_name": "Bench"}
        )
        for t, name in enumerate(TEAMS, start=1):
            team, _ = Team.objects.get_or_create(name=name)
            manager, _ = User.objects.get_or_create(
                username=f"bench_manager_{t}",
                defaults={"role": Role.MANAGER, "team": team, "password": password, "first_name": f"Manager{t}"},
            )
            team.managers.add(manager)
            for r in range(1, REPS_PER_TEAM + 1):
                rep, _ = User.objects.get_or_create(
                    username=f"bench_rep_{t}_{r}",
                    defaults={
                        "role": Role.REP,
                        "team": team,
                        "password": password,
                        "first_name": f"Rep{t}{r}",
                        "last_name": name.split()[-1],
                        "phone": f"+1929555{t:02d}{r:02d}",
                        "timezone": TIMEZONES[(t - 1) % len(TIMEZONES)],
                    },
                )
                reps.append(rep)
            source, _ = LeadSource.objects.get_or_create(name=f"{name} website", defaults={"team": team})
            sources.append(source)
        cadence = (
            Cadence.objects.filter(active=True, is_default=True).first() or Cadence.objects.filter(active=True).first()
        )
        if cadence is None:
            raise CommandError("No active cadence: run the migrations (they load the reference cadence).")
        steps = list(CadenceStep.objects.filter(cadence=cadence, retired_at__isnull=True).order_by("day", "position"))
        if not Contact.objects.filter(owner__in=reps).exists():
            Contact.objects.bulk_create(
                Contact(
                    first_name=self.rng.choice(FIRST_NAMES),
                    last_name=self.rng.choice(LAST_NAMES),
                    owner=rep,
                    phone=f"+1929556{i:04d}",
                    last_referral_call_at=None if i % 3 else self.now - dt.timedelta(days=i % 90),
                )
                for i, rep in enumerate(reps * CUSTOMERS_PER_REP)
            )
        by_team = {}
        for rep in reps:
            by_team.setdefault(rep.team_id, []).append(rep)
        return {
            "admin": admin,
            "reps": reps,
            "by_team": by_team,
            "sources": sources,
            "cadence": cadence,
            "steps": steps,
        }

    def reset(self, org) -> None:
        """Delete bench leads and everything hanging off them with set-based SQL (Django's cascade
        collector would load a million touches into memory)."""
        source_ids = ",".join(str(s.pk) for s in org["sources"])
        leads = f"SELECT id FROM leads_lead WHERE source_id IN ({source_ids})"  # noqa: S608  # nosec B608 - identifiers from our models, quoted; ids are integers
        q = connection.ops.quote_name
        statements = [
            f"DELETE FROM {q(Message._meta.db_table)} WHERE lead_id IN ({leads})",  # noqa: S608  # nosec B608 - identifiers from our models, quoted; ids are integers
            f"DELETE FROM {q(OptOut._meta.db_table)} WHERE lead_id IN ({leads})",  # noqa: S608  # nosec B608 - identifiers from our models, quoted; ids are integers
            f"DELETE FROM {q(LeadEvent._meta.db_table)} WHERE lead_id IN ({leads})",  # noqa: S608  # nosec B608 - identifiers from our models, quoted; ids are integers
            f"UPDATE {q(Message._meta.db_table)} SET touch_id = NULL WHERE touch_id IN "  # noqa: S608  # nosec B608 - identifiers from our models, quoted; ids are integers
            f"(SELECT id FROM {q(Touch._meta.db_table)} WHERE lead_id IN ({leads}))",
            f"DELETE FROM {q(Touch._meta.db_table)} WHERE lead_id IN ({leads})",  # noqa: S608  # nosec B608 - identifiers from our models, quoted; ids are integers
            f"DELETE FROM {q(Enrollment._meta.db_table)} WHERE lead_id IN ({leads})",  # noqa: S608  # nosec B608 - identifiers from our models, quoted; ids are integers
            f"DELETE FROM {q(IdempotencyRecord._meta.db_table)} WHERE source_id IN ({source_ids})",  # noqa: S608  # nosec B608 - identifiers from our models, quoted; ids are integers
        ]
        # Whatever else points at a lead (notifications, contacts, referrals): cascade or unlink.
        for rel in Lead._meta.related_objects:
            table, column = rel.related_model._meta.db_table, rel.field.column
            if rel.related_model in (Message, OptOut, LeadEvent, Touch, Enrollment):
                continue
            if rel.on_delete is models.CASCADE:
                statements.append(f"DELETE FROM {q(table)} WHERE {q(column)} IN ({leads})")  # noqa: S608  # nosec B608 - identifiers from our models, quoted; ids are integers
            else:
                statements.append(f"UPDATE {q(table)} SET {q(column)} = NULL WHERE {q(column)} IN ({leads})")  # noqa: S608  # nosec B608 - identifiers from our models, quoted; ids are integers
        statements.append(f"DELETE FROM leads_lead WHERE source_id IN ({source_ids})")  # noqa: S608  # nosec B608 - identifiers from our models, quoted; ids are integers
        with transaction.atomic(), connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)
        self.say("bench leads deleted")

    def next_index(self) -> int:
        return _next_id(Lead)

    # --- leads and touches ------------------------------------------------------------------------
    def add_leads(self, org, count: int, touches_per_lead: int, *, start_index: int) -> None:
        steps = org["steps"]
        k = max(1, min(touches_per_lead, len(steps)))
        picked = [steps[round(i * (len(steps) - 1) / max(k - 1, 1))] for i in range(k)] if k > 1 else steps[:1]
        self._generate(org, count, start_index, picked_steps=picked, due_now=False)

    def add_due_now(self, org, count: int, *, start_index: int) -> None:
        by_channel = {s.channel: s for s in org["steps"] if s.automated and s.channel in AUTOMATABLE_CHANNELS}
        picked = [by_channel[c] for c in (Channel.SMS, Channel.EMAIL) if c in by_channel]
        if not picked:
            raise CommandError("The cadence has no automated SMS/email step.")
        leads = -(-count // len(picked))
        self._generate(org, leads, start_index, picked_steps=picked, due_now=True, limit=count)

    def _generate(self, org, count, start_index, *, picked_steps, due_now, limit=None) -> None:
        rng, now = self.rng, self.now
        lead_t, enr_t, touch_t = _Table(Lead), _Table(Enrollment), _Table(Touch)
        event_t, msg_t, optout_t = _Table(LeadEvent), _Table(Message), _Table(OptOut)
        ids = {m: _next_id(m) for m in (Enrollment, Touch, LeadEvent, Message, OptOut)}
        window_tz = window_timezone(now)
        statuses = list(STATUS_WEIGHTS)
        status_weights = list(STATUS_WEIGHTS.values())
        outcomes, outcome_weights = list(CALL_OUTCOME_WEIGHTS), list(CALL_OUTCOME_WEIGHTS.values())
        sender_sms = settings.TWILIO_FROM_NUMBER or "+15005550006"
        touches_left = limit
        written = 0
        t0 = time.monotonic()
        for n in range(count):
            i = start_index + n
            source = org["sources"][i % len(org["sources"])]
            team_reps = org["by_team"][source.team_id]
            owner = team_reps[(i // len(org["sources"])) % len(team_reps)]
            status = LeadStatus.NEW if due_now else rng.choices(statuses, weights=status_weights)[0]
            closed = status in (LeadStatus.WON, LeadStatus.LOST, LeadStatus.UNQUALIFIED)
            created = (
                now - dt.timedelta(seconds=5) if due_now else now - dt.timedelta(seconds=rng.uniform(60, 28 * 86400))
            )
            phone = f"+1{AREA_CODES[i % len(AREA_CODES)]}{200 + (i // 10000) % 800:03d}{i % 10000:04d}"
            lead_email = f"lead{i}@{EMAIL_DOMAIN}"
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            opted_out = not due_now and rng.random() < 0.02
            enrollment_id = ids[Enrollment]
            ids[Enrollment] += 1
            attempts, first_response, last_touch = 0, None, None
            waiting = False
            for step in picked_steps:
                if touches_left is not None:
                    if touches_left <= 0:
                        break
                    touches_left -= 1
                automated = step.automated and step.channel in AUTOMATABLE_CHANNELS
                if due_now:
                    due = now - dt.timedelta(seconds=1)
                elif step.day == 0 and step.send_hour is None:
                    due = created
                else:
                    due = created + dt.timedelta(days=step.day, minutes=rng.randint(-120, 240))
                values = {
                    "id": ids[Touch],
                    "lead_id": i,
                    "enrollment_id": enrollment_id,
                    "step_id": step.pk,
                    "channel": step.channel,
                    "automated": automated,
                    "assigned_to_id": None if automated else owner.pk,
                    "due_at": due,
                    "status": TouchStatus.SCHEDULED,
                    "created_at": created,
                }
                if due_now:
                    pass
                elif due < now:
                    if automated:
                        roll = rng.random()
                        if roll < 0.92:
                            sent_at = due + dt.timedelta(seconds=rng.uniform(0.2, 3))
                            sid = f"SM{uuid.UUID(int=rng.getrandbits(128)).hex}"
                            values.update(status=TouchStatus.SENT, sent_at=sent_at, provider_message_id=sid)
                            values.update(send_attempts=1, claimed_at=due, send_started_at=due)
                            first_response = min(first_response or sent_at, sent_at)
                            last_touch = max(last_touch or sent_at, sent_at)
                            msg_t.add(
                                id=ids[Message],
                                direction=Message.Direction.OUTBOUND,
                                channel=step.channel,
                                lead_id=i,
                                touch_id=ids[Touch],
                                to=phone if step.channel == Channel.SMS else lead_email,
                                sender=sender_sms if step.channel == Channel.SMS else settings.DEFAULT_FROM_EMAIL,
                                subject=step.subject[:300],
                                body=f"Hi {first}, following up about your inquiry.",
                                provider_message_id=sid,
                                status=Message.Status.DELIVERED,
                                created_at=sent_at,
                                updated_at=sent_at,
                            )
                            ids[Message] += 1
                        elif roll < 0.95:
                            values.update(status=TouchStatus.FAILED, failure_reason="Twilio error 21614: not a mobile")
                        else:
                            values.update(status=TouchStatus.SKIPPED, failure_reason="Opted out of SMS")
                    elif rng.random() < 0.85 or closed:
                        done_at = min(due + dt.timedelta(minutes=rng.uniform(1, 600)), now)
                        outcome = (
                            rng.choices(outcomes, weights=outcome_weights)[0]
                            if step.channel == Channel.CALL
                            else Outcome.SENT
                        )
                        values.update(
                            status=TouchStatus.DONE, outcome=outcome, completed_by_id=owner.pk, completed_at=done_at
                        )
                        attempts += 1
                        last_touch = max(last_touch or done_at, done_at)
                elif closed:
                    values.update(status=TouchStatus.CANCELLED)
                if values["status"] == TouchStatus.SCHEDULED and not due_now:
                    # As the product keeps a running cadence (cadences/sequence.py): one open task,
                    # the steps after it waiting for it.
                    if waiting:
                        values.update(status=TouchStatus.PENDING)
                    elif not automated:
                        waiting = True
                touch_t.add(**values)
                ids[Touch] += 1
            lead_t.add(
                id=i,
                first_name=first,
                last_name=last,
                phone=phone,
                email=lead_email,
                company=f"{last} & Co",
                source_id=source.pk,
                interest=rng.choice(INTERESTS),
                status=status,
                owner_id=owner.pk,
                team_id=source.team_id,
                timezone=window_tz if due_now else TIMEZONES[i % len(TIMEZONES)],
                sms_opt_out=opted_out,
                created_at=created,
                updated_at=last_touch or created,
                first_response_at=first_response,
                last_touch_at=last_touch,
                closed_at=(last_touch or created) if closed else None,
                close_reason="Bought elsewhere" if status == LeadStatus.LOST else "",
                attempt_count=attempts,
            )
            enr_t.add(
                id=enrollment_id,
                lead_id=i,
                cadence_id=org["cadence"].pk,
                started_at=created,
                state=Enrollment.State.EXITED if closed else Enrollment.State.ACTIVE,
                ended_at=(last_touch or created) if closed else None,
                exit_reason=f"Lead {status}" if closed else "",
            )
            event_t.add(
                id=ids[LeadEvent],
                lead_id=i,
                kind=LeadEvent.Kind.INQUIRY,
                created_at=created,
                text=f"Inquiry via API from {source.name}",
                data={"via": "api", "source": source.pk},
            )
            ids[LeadEvent] += 1
            if opted_out:
                optout_t.add(
                    id=ids[OptOut],
                    lead_id=i,
                    channel="sms",
                    opted_out=True,
                    source="SMS keyword STOP",
                    created_at=created + dt.timedelta(days=1),
                )
                ids[OptOut] += 1
            if len(lead_t.rows) >= CHUNK_LEADS or n == count - 1:
                with transaction.atomic():
                    written += _write([lead_t, enr_t, touch_t, event_t, msg_t, optout_t])
                elapsed = max(time.monotonic() - t0, 1e-6)
                self.say(
                    f"  {n + 1}/{count} leads, {written} rows in {elapsed:.1f} s ({written / elapsed:,.0f} rows/s)"
                )
        _fix_sequences([Lead, Enrollment, Touch, LeadEvent, Message, OptOut])
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # As autovacuum leaves a table in steady use: statistics, and the visibility map that
                # lets an index-only scan skip the heap (a freshly bulk-written table has none).
                # (VACUUM cannot run inside a transaction: a test's seed gets the statistics only.)
                cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE")
