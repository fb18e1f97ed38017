"""Every lookup an intake makes (API key, idempotency key, duplicate phone, duplicate email) and the
lifecycle's clash checks use an index on PostgreSQL: the queries the code really runs are captured
and EXPLAINed against a few thousand analysed rows, so the planner's choice is the one production gets.
"""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from leads.models import IdempotencyRecord, Lead, LeadSource, LeadStatus
from leads.services.api_keys import lead_source_issue_api_key
from leads.services.lifecycle import lead_status_set, lead_update

SEEDED = 5000
LOOKUP_TABLES = {"leads_lead", "leads_leadsource", "leads_idempotencyrecord"}


@pytest.fixture
def seeded(postgres, web_source, rep):
    """5,000 leads (three in four open; closed ones may share an email), 2,000 keyed sources and
    5,000 idempotency records, analysed."""
    now = timezone.now()
    statuses = [LeadStatus.NEW, LeadStatus.WORKING, LeadStatus.NURTURING, LeadStatus.LOST]
    Lead.objects.bulk_create(
        Lead(
            first_name=f"Seed{i}",
            phone=f"+1212{200 + i // 10000:03d}{i % 10000:04d}",
            email=f"Seed.{i}@Example.org",
            status=statuses[i % 4],
            timezone="America/New_York",
            created_at=now - dt.timedelta(minutes=i),
            source=web_source,
        )
        for i in range(SEEDED)
    )
    sources = LeadSource.objects.bulk_create(
        LeadSource(name=f"Seed source {i}", api_key_prefix=f"lf_{i:08x}", api_key_hash="0" * 64) for i in range(2000)
    )
    IdempotencyRecord.objects.bulk_create(
        IdempotencyRecord(source=sources[i % len(sources)], key=f"seed-{i}", request_fingerprint="0" * 64)
        for i in range(SEEDED)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE leads_lead, leads_leadsource, leads_idempotencyrecord")


def explained(run) -> list[tuple[str, dict]]:
    """(sql, plan) for every SELECT that `run()` sends, EXPLAINed as sent."""
    with CaptureQueriesContext(connection) as ctx:
        run()
    plans = []
    with connection.cursor() as cursor:
        for query in ctx.captured_queries:
            sql = query["sql"]
            if sql.lstrip().upper().startswith("SELECT"):
                cursor.execute("EXPLAIN (FORMAT JSON) " + sql)
                plans.append((sql, cursor.fetchone()[0][0]["Plan"]))
    return plans


def nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


def index_definition(name: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [name])
        return cursor.fetchone()[0]


def indexes_used(plan: dict, table: str) -> set[str]:
    """Names of the indexes on `table` that the plan scans (a Bitmap Index Scan names no relation)."""
    return {
        node["Index Name"]
        for node in nodes(plan)
        if node["Node Type"] in ("Index Scan", "Index Only Scan", "Bitmap Index Scan")
        and re.search(rf" ON (\w+\.)?{table} ", index_definition(node["Index Name"]))
    }


def assert_no_seq_scan(plans):
    for sql, plan in plans:
        scanned = {node.get("Relation Name") for node in nodes(plan) if node["Node Type"] == "Seq Scan"}
        assert not scanned & LOOKUP_TABLES, (sql, plan)


def lookups(plans, table: str, where: str) -> list[tuple[str, dict]]:
    """The SELECTs from `table` whose WHERE clause mentions `where` (a quoted column)."""
    found = []
    for sql, plan in plans:
        head, _, condition = sql.partition(" WHERE ")
        if f'FROM "{table}"' in head and where in condition:
            found.append((sql, plan))
    return found


def assert_lookups_use(plans, *, table: str, where: str, index_contains: str):
    matching = lookups(plans, table, where)
    assert matching, f"no lookup on {table} by {where} among {[sql for sql, _ in plans]}"
    for sql, plan in matching:
        used = indexes_used(plan, table)
        assert any(index_contains in index_definition(name) for name in used), (sql, used, plan)


def test_every_intake_lookup_uses_an_index(seeded, web_source):
    key = lead_source_issue_api_key(source=web_source)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    body = {"first_name": "Dana", "phone": "+14155550123", "email": "SEED.10@example.ORG", "interest": "Pricing"}

    def intake_then_replay():
        # A new phone with the email of an open seeded lead: the phone lookup misses, the email
        # lookup finds it (case-insensitively); the repeat replays through the idempotency key.
        first = client.post("/api/leads/", body, format="json", HTTP_IDEMPOTENCY_KEY="order-1")
        repeat = client.post("/api/leads/", body, format="json", HTTP_IDEMPOTENCY_KEY="order-1")
        fresh = client.post(
            "/api/leads/", {"first_name": "Fox", "phone": "+14155550124", "email": "fox@example.org"}, format="json"
        )
        assert (first.status_code, repeat.status_code, fresh.status_code) == (200, 200, 201)
        assert repeat["Idempotent-Replayed"] == "true"
        landed_on.append(first.json()["id"])

    landed_on = []
    plans = explained(intake_then_replay)

    assert landed_on == [Lead.objects.get(email="Seed.10@Example.org").pk]

    assert_no_seq_scan(plans)
    assert_lookups_use(plans, table="leads_leadsource", where='"api_key_prefix"', index_contains="(api_key_prefix")
    assert_lookups_use(plans, table="leads_idempotencyrecord", where='"key"', index_contains="(source_id, key)")
    assert_lookups_use(plans, table="leads_lead", where='"leads_lead"."phone"', index_contains="(phone)")
    assert_lookups_use(plans, table="leads_lead", where='"leads_lead"."email"', index_contains="lower((email)")


def test_lifecycle_clash_checks_use_the_indexes(seeded, rep):
    lead = Lead.objects.filter(status=LeadStatus.NEW).first()
    closed = Lead.objects.filter(status=LeadStatus.LOST).first()

    def edit_and_reopen():
        lead_update(lead=lead, by=rep, email="new.address@example.org", phone="+14155550199")
        lead_status_set(lead=closed, status=LeadStatus.WORKING, by=rep)

    plans = explained(edit_and_reopen)

    assert_no_seq_scan(plans)
    assert_lookups_use(plans, table="leads_lead", where='"leads_lead"."phone"', index_contains="(phone)")
    assert_lookups_use(plans, table="leads_lead", where='"leads_lead"."email"', index_contains="lower((email)")
    assert len(lookups(plans, "leads_lead", '"leads_lead"."email"')) == 2
