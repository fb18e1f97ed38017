import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import LeadFactory


@pytest.fixture
def alice_lead(rep):
    """A lead owned by Alice (North)."""
    return LeadFactory(
        first_name="Jane",
        last_name="Doe",
        phone="+14155550100",
        email="jane@example.org",
        company="Acme",
        owner=rep,
        timezone="America/Los_Angeles",
    )


@pytest.fixture
def charlie_lead(other_rep):
    """A lead owned by Charlie (South)."""
    return LeadFactory(
        first_name="Carl", last_name="South", phone="+13125550100", email="carl@example.org", owner=other_rep
    )


@pytest.fixture
def count_queries():
    """count_queries(fn) -> how many SQL queries fn() ran."""

    def run(fn):
        with CaptureQueriesContext(connection) as ctx:
            fn()
        return len(ctx.captured_queries)

    return run
