"""A small world for the security tests: leads, tasks, a customer, a cadence and an import of each side.

Every lead has a distinctive name, so a page that leaks one is caught by a plain substring check.
"""

from types import SimpleNamespace

import pytest
from django.utils import timezone

from leads.models import ImportJob
from messaging.models import Message
from messaging.unsubscribe import unsubscribe_token
from tests import factories

# The product's own packages (every layer of .importlinter).
PRODUCT_PACKAGES = (
    "accounts",
    "leads",
    "cadences",
    "messaging",
    "reactions",
    "intake",
    "today",
    "reports",
    "leadfollow",
)

# Names that appear nowhere else in the product: finding one on a page means that lead is shown.
ALICE_LEAD = "Aurelianna Quistgaard"
BOB_LEAD = "Bartholomea Vinterlund"
CHARLIE_LEAD = "Cassiopeia Wrenholt"


def _lead(owner, full_name, phone):
    first, last = full_name.split()
    return factories.LeadFactory(owner=owner, first_name=first, last_name=last, phone=phone, company="")


@pytest.fixture
def world(rep, teammate, other_rep, manager, other_manager, admin_user, web_source):
    lead = _lead(rep, ALICE_LEAD, "+14155550101")
    bob_lead = _lead(teammate, BOB_LEAD, "+14155550102")
    charlie_lead = _lead(other_rep, CHARLIE_LEAD, "+14155550103")
    cadence = factories.CadenceFactory(name="Security cadence")
    step = factories.CadenceStepFactory(cadence=cadence, day=1, channel="call")
    factories.CadenceStepFactory(cadence=cadence, day=2, channel="call")
    touches = {
        owner_lead.pk: factories.TouchFactory(lead=owner_lead, title=f"Call {owner_lead.full_name}")
        for owner_lead in (lead, bob_lead, charlie_lead)
    }
    for owner_lead in (lead, bob_lead, charlie_lead):
        factories.LeadEventFactory(lead=owner_lead, text=f"Talked to {owner_lead.full_name}")
        Message.objects.create(
            direction=Message.Direction.OUTBOUND,
            channel="sms",
            lead=owner_lead,
            to=owner_lead.phone,
            body=f"Hi {owner_lead.first_name}",
            status=Message.Status.OUTBOX,
        )
    contact = factories.ContactFactory(owner=rep, first_name="Custer", last_name="Omerfield")
    import_job = ImportJob.objects.create(
        created_by=manager,
        source=web_source,
        filename="north.csv",
        content=f"first_name,last_name,phone\n{lead.first_name},{lead.last_name},{lead.phone}\n",
        status=ImportJob.Status.DONE,
        total_rows=1,
        processed_rows=1,
        finished_at=timezone.now(),
        errors=[{"row": 2, "reason": "duplicate"}],
    )
    return SimpleNamespace(
        lead=lead,
        bob_lead=bob_lead,
        charlie_lead=charlie_lead,
        touch=touches[lead.pk],
        charlie_touch=touches[charlie_lead.pk],
        contact=contact,
        cadence=cadence,
        step=step,
        import_job=import_job,
        unsubscribe_token=unsubscribe_token(lead=lead),
        users={
            "anonymous": None,
            "rep": rep,
            "teammate": teammate,
            "other_rep": other_rep,
            "other_manager": other_manager,
            "manager": manager,
            "admin": admin_user,
        },
    )
