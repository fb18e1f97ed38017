"""A text from a number no lead has: a lead with an owner (or in the unassigned queue), and an
answer that neither repeats the text back nor promises a call nobody owns."""

import pytest

from accounts.models import Notification, Role
from cadences.models import Enrollment, Touch
from leads.models import Lead, LeadSource
from leads.selectors import leads_visible_to
from messaging.dispatch import outgoing_message_for
from tests.factories import TeamFactory, UserFactory
from tests.messaging.test_webhooks import inbound, twilio_settings  # noqa: F401 (autouse fixture)

NEW_NUMBER = "+13125550142"
TEXT = "Do you fix leaking roofs? Mine is dripping onto the sofa"

pytestmark = pytest.mark.django_db


def _answer(lead: Lead) -> str:
    """The Day-0 text as dispatch renders it when it sends it (whenever the lead's hours allow)."""
    touch = Touch.objects.get(lead=lead, channel="sms", automated=True, step__day=0)
    return outgoing_message_for(touch).body


def test_with_a_team_on_the_sms_source_its_reps_get_the_leads_in_turn_and_are_named(client):
    team = TeamFactory(name="Texters")
    ana = UserFactory(role=Role.REP, team=team, first_name="Ana")
    ben = UserFactory(role=Role.REP, team=team, first_name="Ben")
    LeadSource.objects.create(name="SMS inbound", team=team)
    inbound(client, TEXT, from_=NEW_NUMBER)
    inbound(client, "hello?", from_="+13125550143")
    first, second = Lead.objects.order_by("pk")
    assert {first.owner, second.owner} == {ana, ben}
    assert Enrollment.objects.get(lead=first).cadence.name == "Text message inquiry"
    answer = _answer(first)
    assert f"This is {first.owner.first_name}: I'll call you shortly" in answer
    assert "roof" not in answer.lower() and "sofa" not in answer.lower()  # never echoes the text
    assert "SMS" not in answer.replace("STOP", "")  # no placeholder name


def test_without_a_team_the_lead_waits_unassigned_and_admins_and_managers_are_told(client):
    admin = UserFactory(role=Role.ADMIN)
    team = TeamFactory()
    manager = UserFactory(role=Role.MANAGER, team=team)
    team.managers.add(manager)
    rep = UserFactory(role=Role.REP, team=team)
    inbound(client, TEXT, from_=NEW_NUMBER)
    lead = Lead.objects.get(phone=NEW_NUMBER)
    assert lead.owner is None and lead.team is None
    answer = _answer(lead)
    assert "We'll get back to you shortly" in answer and "call" not in answer.lower()
    assert "roof" not in answer.lower()
    told = set(Notification.objects.filter(lead=lead).values_list("user", flat=True))
    assert {admin.pk, manager.pk} <= told and rep.pk not in told
    # The queue managers see: the lead is theirs to assign, not a rep's.
    assert leads_visible_to(manager).filter(pk=lead.pk).exists()
    assert not leads_visible_to(rep).filter(pk=lead.pk).exists()
    client.force_login(manager)
    response = client.post(f"/leads/{lead.pk}/assign/", {"owner": rep.pk})
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.owner == rep
