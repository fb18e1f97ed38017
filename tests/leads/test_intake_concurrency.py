"""Eight simultaneous intakes of one phone number make one lead (PostgreSQL: real concurrent transactions)."""

import threading

import pytest
from django.db import connections

from leads.models import Lead, LeadEvent
from reactions.intake import lead_intake

THREADS = 8


def run_at_once(fn, n=THREADS):
    """Call fn(i) in n threads released together; return results and exceptions."""
    barrier = threading.Barrier(n)
    results, errors = [None] * n, []

    def worker(i):
        try:
            barrier.wait(timeout=10)
            results[i] = fn(i)
        except Exception as exc:  # surfaced by the test below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results, errors


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("with_source", [False, True], ids=["no-source", "round-robin-source"])
def test_same_phone_at_once_makes_one_lead(request, postgres, rep, teammate, with_source):
    source = request.getfixturevalue("web_source") if with_source else None

    def call(i):
        return lead_intake(
            first_name=f"Caller{i}",
            phone="(415) 555-0123",
            interest=f"inquiry {i}",
            source=source,
            owner=None if with_source else rep,
            via="phone",
        )

    results, errors = run_at_once(call)
    assert errors == []
    assert Lead.objects.count() == 1
    lead = Lead.objects.get()
    assert lead.phone == "+14155550123"
    assert sum(r.created for r in results) == 1
    assert {r.lead.pk for r in results} == {lead.pk}
    inquiries = LeadEvent.objects.filter(lead=lead, kind=LeadEvent.Kind.INQUIRY)
    assert inquiries.count() == THREADS
    assert inquiries.filter(data__duplicate=True).count() == THREADS - 1
