from tests.factories import LeadFactory


def test_lead_factory_builds_a_lead(db):
    lead = LeadFactory()
    assert lead.pk and lead.phone.startswith("+1")
