import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.urls import reverse

from accounts.models import Notification
from cadences.models import Channel, Touch, TouchStatus
from leads.models import Lead, LeadEvent
from tests.factories import LeadFactory, UserFactory

URL = reverse("leads:intake")

GOOD = {
    "first_name": "Pat",
    "last_name": "Caller",
    "phone": "(212) 555-0142",
    "how_heard": "Radio ad",
    "interest": "Wants a quote for 10 seats",
}


def msgs(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_anonymous_is_sent_to_login(client_for, db):
    assert client_for(None).get(URL).status_code == 302
    assert client_for(None).post(URL, GOOD).status_code == 302
    assert Lead.objects.count() == 0


def test_the_four_questions_come_first(client_for, rep):
    html = client_for(rep).get(URL).content.decode()
    positions = [
        html.index(f'id="id_{name}"')
        for name in (
            "first_name",
            "last_name",
            "phone",
            "how_heard",
            "interest",
            "email",
            "company",
            "source",
            "timezone",
            "twitter_handle",
            "linkedin_url",
        )
    ]
    assert positions == sorted(positions)
    assert 'id="id_owner"' not in html  # reps keep what they enter


def test_rep_saves_a_lead_they_own(client_for, rep, web_source):
    response = client_for(rep).post(URL, {**GOOD, "source": web_source.pk, "email": "Pat@Example.com"})
    lead = Lead.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("leads:detail", args=[lead.pk])
    assert lead.phone == "+12125550142"
    assert lead.owner == rep and lead.team == rep.team
    assert lead.timezone == "America/New_York"
    assert (lead.how_heard, lead.interest) == ("Radio ad", "Wants a quote for 10 seats")
    event = lead.events.get(kind=LeadEvent.Kind.INQUIRY)
    assert event.kind == LeadEvent.Kind.INQUIRY and event.data["via"] == "phone" and event.actor == rep


def test_rep_cannot_give_the_lead_to_someone_else(client_for, rep, other_rep):
    client_for(rep).post(URL, {**GOOD, "owner": other_rep.pk})
    assert Lead.objects.get().owner == rep


@pytest.mark.parametrize(
    "change, field",
    [
        ({"phone": "555"}, "phone"),
        ({"phone": "+1 999 000 0000"}, "phone"),
        ({"phone": ""}, "phone"),
        ({"first_name": ""}, "first_name"),
        ({"how_heard": ""}, "how_heard"),
        ({"interest": ""}, "interest"),
        ({"email": "not-an-email"}, "email"),
        ({"linkedin_url": "javascript:alert(1)"}, "linkedin_url"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"first_name": "x" * 101}, "first_name"),
    ],
)
def test_bad_input_shows_the_error_on_its_field_and_saves_nothing(client_for, rep, change, field):
    response = client_for(rep).post(URL, {**GOOD, **change})
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors.get(field), form.errors
    assert Lead.objects.count() == 0 and LeadEvent.objects.count() == 0


def test_invalid_phone_message_is_shown_on_the_phone_field(client_for, rep):
    response = client_for(rep).post(URL, {**GOOD, "phone": "+1 999 000 0000"})
    assert response.context["form"].errors["phone"] == [
        "This phone number does not exist. Check the digits and the country code."
    ]
    assert "This phone number does not exist" in response.content.decode()


def test_duplicate_goes_to_the_existing_lead(client_for, rep, alice_lead):
    response = client_for(rep).post(URL, {**GOOD, "phone": "415.555.0100", "interest": "Calling again"})
    assert response["Location"] == reverse("leads:detail", args=[alice_lead.pk])
    assert any("This lead already exists — the inquiry was added to its timeline" in m for m in msgs(response))
    assert Lead.objects.count() == 1
    assert alice_lead.events.filter(kind=LeadEvent.Kind.INQUIRY, text__contains="Calling again").exists()


def test_duplicate_of_someone_elses_lead_does_not_reveal_it(client_for, rep, charlie_lead, other_rep):
    response = client_for(rep).post(URL, {**GOOD, "phone": "+1 312 555 0100"})
    assert response["Location"] == URL
    assert any("already exists" in m for m in msgs(response))
    assert Lead.objects.count() == 1
    assert Notification.objects.filter(user=other_rep, lead=charlie_lead).exists()


def test_manager_leaves_owner_blank_for_round_robin(client_for, manager, rep, teammate, web_source):
    client = client_for(manager)
    assert 'id="id_owner"' in client.get(URL).content.decode()
    client.post(URL, {**GOOD, "source": web_source.pk})
    client.post(URL, {**GOOD, "phone": "+1 212 555 0143", "source": web_source.pk})
    owners = [lead.owner for lead in Lead.objects.order_by("id")]
    assert owners == [rep, teammate]


def test_manager_needs_an_owner_when_no_team_can_round_robin(client_for, manager):
    response = client_for(manager).post(URL, GOOD)
    assert response.context["form"].errors["owner"]
    assert Lead.objects.count() == 0


def test_manager_picks_an_owner_in_their_teams_only(client_for, manager, teammate, other_rep):
    client = client_for(manager)
    response = client.post(URL, {**GOOD, "owner": other_rep.pk})
    assert response.context["form"].errors["owner"]
    assert Lead.objects.count() == 0
    client.post(URL, {**GOOD, "owner": teammate.pk})
    assert Lead.objects.get().owner == teammate


def test_admin_may_give_a_lead_to_anyone(client_for, admin_user, other_rep):
    response = client_for(admin_user).post(URL, {**GOOD, "owner": other_rep.pk})
    lead = Lead.objects.get()
    assert lead.owner == other_rep
    assert response["Location"] == reverse("leads:detail", args=[lead.pk])


def test_round_robin_lead_that_lands_outside_the_managers_view(client_for, manager, other_rep, south):
    """A manager entering a lead for another team's source is not sent to a 404."""
    from tests.factories import LeadSourceFactory

    source = LeadSourceFactory(name="South expo", team=south)
    response = client_for(manager).post(URL, {**GOOD, "source": source.pk})
    assert Lead.objects.get().owner == other_rep
    assert response["Location"] == URL


def test_saving_starts_the_phone_inquiry_follow_up(client_for, rep):
    """The rep has just talked to the caller: the Phone inquiry cadence (loaded by migration) thanks
    them by email at once and puts the next call on Day 2, never a call-within-5-minutes task."""
    with time_machine.travel(datetime.datetime(2026, 3, 10, 15, 0, tzinfo=datetime.UTC), tick=False):
        client_for(rep).post(URL, {**GOOD, "email": "pat@example.org"})
        lead = Lead.objects.get()
        assert lead.enrollments.get().cadence.name == "Phone inquiry"
        thanks = Touch.objects.get(lead=lead, step__day=0)
        assert thanks.channel == Channel.EMAIL and thanks.automated
        assert thanks.due_at == datetime.datetime(2026, 3, 10, 15, 0, tzinfo=datetime.UTC)
        call = Touch.objects.filter(lead=lead, channel=Channel.CALL, status=TouchStatus.SCHEDULED).earliest("due_at")
        assert call.assigned_to == rep
        assert call.due_at.astimezone(ZoneInfo("America/New_York")).date() == datetime.date(2026, 3, 12)
        page = client_for(rep).get(reverse("leads:detail", args=[lead.pk]))
        assert call in page.context["touches"]


def test_inactive_user_cannot_use_it(client_for, north):
    gone = UserFactory(username="gone", team=north, is_active=False)
    assert client_for(gone).get(URL).status_code == 302


def test_existing_closed_lead_does_not_block_a_new_one(client_for, rep):
    LeadFactory(phone="+12125550142", owner=rep, status="lost")
    client_for(rep).post(URL, GOOD)
    assert Lead.objects.filter(phone="+12125550142").count() == 2


def test_every_mistake_is_shown_at_once(client_for, manager):
    response = client_for(manager).post(URL, {**GOOD, "phone": "123", "email": "bad"})
    errors = response.context["form"].errors
    assert {"phone", "email", "owner"} <= set(errors)
    assert Lead.objects.count() == 0
