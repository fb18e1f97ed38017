"""schemathesis against /api/schema/: generated valid and invalid requests never get a 5xx, and
the lead count changes only with a 201 (no partial writes). Then raw bodies the schema cannot
describe (deep nesting, arbitrary bytes, any content type): never a 5xx, always JSON."""

import collections
import itertools
import json

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient
from schemathesis import GenerationMode

from leadfollow.wsgi import application
from leads.models import Lead, LeadEvent
from leads.services.api_keys import lead_source_issue_api_key

# Per operation: valid bodies as the schema allows them (random strings: mostly refused by the
# intake rules), the same with a real phone number (mostly created), and invalid requests.
EXAMPLES = {"positive": 400, "positive_with_phone": 300, "negative": 400}
_phones = itertools.count(1000)


def _with_a_real_phone(case):
    if isinstance(case.body, dict):
        case.body = {**case.body, "phone": f"+1415556{next(_phones) % 10000:04d}"}
    return case


@pytest.fixture
def api_key(web_source, rep, teammate, settings):
    settings.API_THROTTLE_BURST = 1_000_000
    return lead_source_issue_api_key(source=web_source)


@pytest.fixture
def _keep_the_test_connection():
    """schemathesis calls the WSGI app directly, whose request signals would close the test's database
    connection (it is inside a transaction): detach them, as Django's test client does."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def api_schema(db, _keep_the_test_connection):
    schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
    schema.config.generation.update(database="none", with_security_parameters=False)
    return schema


def test_generated_requests_never_fail_and_never_write_partially(api_schema, api_key):
    headers = {"Authorization": f"Api-Key {api_key}"}
    statuses = collections.Counter()
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert [op.label for op in operations] == ["POST /api/leads/"]
    for operation in operations:
        for variant, examples in EXAMPLES.items():
            if variant == "negative":
                strategy = operation.as_strategy(generation_mode=GenerationMode.NEGATIVE)
            else:
                strategy = operation.as_strategy(generation_mode=GenerationMode.POSITIVE)
            if variant == "positive_with_phone":
                strategy = strategy.map(_with_a_real_phone)

            @settings(
                max_examples=examples,
                deadline=None,
                database=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=strategy)
            def check(case):
                leads, events = Lead.objects.count(), LeadEvent.objects.count()
                response = case.call(headers=headers)
                statuses[response.status_code] += 1
                assert response.status_code < 500, (case.body, response.text[:500])
                created = 1 if response.status_code == 201 else 0
                assert Lead.objects.count() == leads + created, (response.status_code, case.body)
                if response.status_code >= 400:
                    assert LeadEvent.objects.count() == events, (response.status_code, case.body)

            check()
    assert sum(statuses.values()) >= 1000, statuses
    # Both sides were exercised: some leads were created and some bodies refused.
    assert statuses[201] > 0 and statuses[400] > 0, statuses


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=30,
)
RAW_BODIES = st.one_of(
    JSON_VALUES.map(json.dumps),
    st.dictionaries(st.sampled_from(["first_name", "phone", "email", "timezone"]), JSON_VALUES).map(json.dumps),
    st.integers(1, 20_000).map(lambda n: "[" * n),
    st.integers(1, 20_000).map(lambda n: '{"first_name": ' * n + '"x"' + "}" * n),
    st.integers(1, 3_000).map(lambda n: '{"first_name": "Dana", "phone": ' + "[" * n + "]" * n + "}"),
    st.binary(max_size=500),
)
CONTENT_TYPES = st.sampled_from(
    [
        "application/json",
        "application/json; charset=latin-1",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=xyz",
        "text/plain",
        "",
    ]
)


def test_raw_bodies_never_fail_and_always_answer_json(api_key):
    client = APIClient(raise_request_exception=False)
    statuses = collections.Counter()

    @settings(max_examples=300, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(body=RAW_BODIES, content_type=CONTENT_TYPES, idempotent=st.booleans())
    def check(body, content_type, idempotent):
        leads = Lead.objects.count()
        extra = {"HTTP_IDEMPOTENCY_KEY": f"raw-{statuses.total()}"} if idempotent else {}
        response = client.generic(
            "POST", "/api/leads/", body, content_type=content_type, HTTP_AUTHORIZATION=f"Api-Key {api_key}", **extra
        )
        statuses[response.status_code] += 1
        assert response.status_code < 500, (body[:200], response.content[:300])
        assert response["Content-Type"] == "application/json", (response.status_code, body[:200])
        assert Lead.objects.count() == leads + (response.status_code == 201), (response.status_code, body[:200])

    check()
    assert statuses[400] > 0, statuses
