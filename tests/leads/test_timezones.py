"""A lead's timezone: the zones its number may be in, and how it becomes confirmed (issue 15).

Only an explicit act confirms it: a zone given at intake (the API's or the CSV's `timezone`, the
intake form) or a rep choosing one on the edit page. Saving the edit form untouched, the phone's
area code, an inbound message: none of them do. The lead page says the zone is a guess until then.
"""

import datetime as dt
import importlib
import re

import pytest
import time_machine
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from cadences.services import schedule_rules_for
from leads.models import Lead, LeadEvent
from leads.phones import timezone_for_phone, timezone_prefix_for_phone, timezones_for_phone
from leads.services.api_keys import lead_source_issue_api_key
from leads.services.intake import lead_capture, lead_clean_input
from leads.services.lifecycle import lead_update
from reactions.inbound_sms import inbound_sms_receive
from tests.factories import LeadFactory
from tests.phone_numbers import corpus, zones_of

SYDNEY_MOBILE = "+61412345678"
AUSTRALIA = [
    "Australia/Adelaide",
    "Australia/Brisbane",
    "Australia/Eucla",
    "Australia/Lord_Howe",
    "Australia/Perth",
    "Australia/Sydney",
    "Indian/Christmas",
    "Indian/Cocos",
]


def capture(**fields):
    return lead_capture(first_name=fields.pop("first_name", "Kim"), **fields).lead


def edit_page(lead):
    return reverse("leads:edit", args=[lead.pk])


def edit_data(client, lead, **changes):
    """What the edit form posts when the rep changes only `changes`."""
    form = client.get(edit_page(lead)).context["form"]
    return {**{name: form.initial.get(name) or "" for name in form.fields}, **changes}


def test_candidates_are_phonenumbers_zones_for_every_number_it_knows():
    for number in corpus().numbers:
        data = lead_clean_input(first_name="Pat", phone=number)
        assert data["timezone_candidates"] == list(zones_of(number)), number
        assert data["timezone_confirmed"] is False
        if data["timezone_candidates"]:
            assert data["timezone"] in data["timezone_candidates"]


@pytest.mark.parametrize(
    "phone, prefix, count",
    [(SYDNEY_MOBILE, "+61", 8), ("+79161234567", "+7", 16), ("+17095551234", "+1 709", 2), ("+18005550199", "+1", 42)],
)
def test_multi_zone_numbers(phone, prefix, count):
    assert timezone_prefix_for_phone(phone) == prefix
    assert len(timezones_for_phone(phone)) == count
    assert timezone_for_phone(phone) in timezones_for_phone(phone)


def test_a_lead_from_a_multi_zone_number_is_uncertain(db):
    lead = capture(phone="+61 412 345 678")
    assert lead.timezone_candidates == AUSTRALIA and not lead.timezone_confirmed
    assert lead.timezone_uncertain and lead.contact_timezones == AUSTRALIA
    assert schedule_rules_for(lead=lead).lead_tzs == tuple(AUSTRALIA)


def test_single_zone_and_unknown_numbers_are_not_uncertain(db):
    assert not capture(phone="+1 415 555 0123").timezone_uncertain
    assert not capture(phone="+800 1234 5678").timezone_uncertain
    assert not capture(email="nophone@example.org").timezone_uncertain


def test_a_zone_given_at_intake_is_confirmed(db):
    lead = capture(phone="+61 412 345 678", timezone_name="Australia/Perth")
    assert lead.timezone == "Australia/Perth" and lead.timezone_confirmed and not lead.timezone_uncertain
    assert schedule_rules_for(lead=lead).lead_tzs == ()


def test_the_api_timezone_field_confirms(web_source, rep):
    api_client = APIClient()
    api_client.credentials(HTTP_AUTHORIZATION=f"Api-Key {lead_source_issue_api_key(source=web_source)}")
    response = api_client.post(
        "/api/leads/", {"first_name": "Kim", "phone": "+61 412 345 678", "timezone": "Australia/Sydney"}, format="json"
    )
    assert response.status_code == 201
    lead = Lead.objects.get()
    assert lead.timezone == "Australia/Sydney" and lead.timezone_confirmed
    api_client.post("/api/leads/", {"first_name": "Lou", "phone": "+61 412 345 679"}, format="json")
    assert Lead.objects.get(phone="+61412345679").timezone_uncertain


def test_the_csv_timezone_column_confirms(client_for, manager, web_source, rep, django_capture_on_commit_callbacks):
    content = b"First name,Phone,Timezone\nKim,+61 412 345 678,Australia/Sydney\nLou,+61 412 345 679,\n"
    upload = SimpleUploadedFile("leads.csv", content, content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        client_for(manager).post("/leads/import/", {"file": upload, "source": web_source.pk})
    assert Lead.objects.get(first_name="Kim").timezone_confirmed
    assert Lead.objects.get(first_name="Lou").timezone_uncertain


def test_the_edit_form_does_not_offer_the_guess_as_the_answer(client_for, rep, web_source):
    lead = capture(phone="+61 412 345 678", source=web_source)
    form = client_for(rep).get(edit_page(lead)).context["form"]
    assert form.initial["timezone"] == ""
    assert form.fields["timezone"].choices[0] == ("", "Not confirmed: one of 8 zones (guess: Australia/Adelaide)")


def test_saving_the_edit_form_untouched_confirms_nothing(client_for, rep, web_source):
    lead = capture(phone="+61 412 345 678", source=web_source)
    client = client_for(rep)
    response = client.post(edit_page(lead), edit_data(client, lead, company="Acme"))
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.company == "Acme" and lead.timezone_uncertain
    assert lead.events.get(kind=LeadEvent.Kind.EDIT).text == "Edited company"


@pytest.mark.parametrize("zone", ["Australia/Sydney", "Australia/Adelaide"])  # the guess itself, too
def test_a_rep_choosing_the_zone_confirms_it(client_for, rep, web_source, zone):
    lead = capture(phone="+61 412 345 678", source=web_source)
    client = client_for(rep)
    assert client.post(edit_page(lead), edit_data(client, lead, timezone=zone)).status_code == 302
    lead.refresh_from_db()
    assert lead.timezone == zone and lead.timezone_confirmed and not lead.timezone_uncertain
    assert schedule_rules_for(lead=lead).lead_tzs == ()
    assert lead.events.get(kind=LeadEvent.Kind.EDIT, actor=rep).text.endswith(f"imezone confirmed: {zone}")
    # Confirmed, the form shows it, and saving it again keeps it.
    assert client.get(edit_page(lead)).context["form"].initial["timezone"] == zone
    client.post(edit_page(lead), edit_data(client, lead, company="Acme"))
    lead.refresh_from_db()
    assert lead.timezone == zone and lead.timezone_confirmed


def test_a_rep_can_put_the_zone_back_to_the_phones_guess(db, rep):
    lead = capture(phone="+61 412 345 678", timezone_name="Australia/Perth")
    lead_update(lead=lead, by=rep, timezone_name="")
    lead.refresh_from_db()
    assert lead.timezone == "Australia/Adelaide" and lead.timezone_uncertain
    assert "back to a guess" in lead.events.get(kind=LeadEvent.Kind.EDIT).text


def test_a_new_number_brings_new_candidates_unless_the_zone_is_confirmed(db, rep):
    guessed = capture(phone="+1 415 555 0123")
    lead_update(lead=guessed, by=rep, phone="+61 412 345 678")
    guessed.refresh_from_db()
    assert guessed.timezone_uncertain and guessed.timezone_candidates == AUSTRALIA

    confirmed = capture(phone="+1 415 555 0124", timezone_name="America/Los_Angeles")
    lead_update(lead=confirmed, by=rep, phone="+61 412 345 679")
    confirmed.refresh_from_db()
    assert confirmed.timezone == "America/Los_Angeles" and confirmed.timezone_confirmed


def test_an_inbound_text_does_not_confirm_the_zone(db, rep):
    lead = capture(phone="+61 412 345 678", owner=rep)
    # 07:00 in Perth, 10:00 in Sydney: the hour it arrived says nothing the rule may act on.
    with time_machine.travel(dt.datetime(2026, 1, 14, 23, 0, tzinfo=dt.UTC)):
        inbound_sms_receive(sid="SM1", from_number=SYDNEY_MOBILE, to_number="+14155550100", body="I'm in Sydney")
    lead.refresh_from_db()
    assert lead.timezone_uncertain and lead.timezone == "Australia/Adelaide"


def test_a_second_inquiry_confirms_only_when_it_states_a_zone(db):
    lead = capture(phone="+61 412 345 678")
    capture(phone="+61 412 345 678")
    lead.refresh_from_db()
    assert lead.timezone_uncertain
    capture(phone="+61 412 345 678", timezone_name="Australia/Sydney")
    lead.refresh_from_db()
    assert lead.timezone == "Australia/Sydney" and lead.timezone_confirmed


def test_an_email_only_lead_that_gives_a_number_gets_its_candidates(db, settings):
    lead = capture(email="kim@example.org")
    assert lead.timezone == settings.TIME_ZONE and lead.timezone_candidates == []
    capture(email="kim@example.org", phone="+61 412 345 678")
    lead.refresh_from_db()
    assert lead.phone == SYDNEY_MOBILE and lead.timezone_uncertain and lead.timezone == "Australia/Adelaide"


# --- The lead page.


def test_the_lead_page_says_the_zone_is_a_guess(client_for, rep, web_source):
    lead = capture(phone="+61 412 345 678", source=web_source)
    page = client_for(rep).get(reverse("leads:detail", args=[lead.pk]))
    text = " ".join(re.sub(r"<[^>]+>", "", page.content.decode()).split())
    assert "Timezone uncertain: +61 numbers span 8 zones; texts only go out" in text
    assert "when it is 08:00–21:00 in all of them" in text
    assert "Next:" in text and "your time" in text
    assert "a guess" in text and "Indian/Cocos" in text
    assert page.context["local_time"].startswith("between ")


def test_the_lead_page_says_nothing_once_confirmed_or_for_one_zone(client_for, rep, web_source):
    confirmed = capture(phone="+61 412 345 678", source=web_source, timezone_name="Australia/Sydney")
    one_zone = capture(phone="+1 415 555 0123", source=web_source)
    for lead in (confirmed, one_zone):
        page = client_for(rep).get(reverse("leads:detail", args=[lead.pk]))
        assert b"Timezone uncertain" not in page.content and page.context["timezone_note"] is None
    assert b"(confirmed)" in client_for(rep).get(reverse("leads:detail", args=[confirmed.pk])).content


# --- Existing leads: the data migration.


def test_the_migration_computes_candidates_and_confirms_explicit_zones(db, settings):
    migration = importlib.import_module("leads.migrations.0005_lead_timezone_candidates_from_phone")
    settings.TIME_ZONE = "America/New_York"
    rows = {
        # phone, timezone stored before the migration -> (candidates, confirmed)
        "guessed-au": (SYDNEY_MOBILE, "Australia/Adelaide", AUSTRALIA, False),
        "given-au": ("+61412345679", "Australia/Sydney", AUSTRALIA, True),
        "guessed-toll-free": ("+18005550199", "America/New_York", timezones_for_phone("+18005550199"), False),
        "guessed-one-zone": ("+14155550123", "America/Los_Angeles", ["America/Los_Angeles"], False),
        "given-one-zone": ("+14155550124", "America/Chicago", ["America/Los_Angeles"], True),
        "no-phone-default": ("", "America/New_York", [], False),
        "no-phone-given": ("", "Europe/Paris", [], True),
    }
    leads = {}
    for name, (phone, zone, _, _) in rows.items():
        leads[name] = LeadFactory(phone=phone, email=f"{name}@example.org", timezone=zone)
    Lead.objects.update(timezone_candidates=[], timezone_confirmed=False)  # as the schema migration left them

    migration.candidates_from_phone(apps, None)

    for name, (_, zone, candidates, confirmed) in rows.items():
        lead = Lead.objects.get(pk=leads[name].pk)
        assert (lead.timezone, lead.timezone_candidates, lead.timezone_confirmed) == (zone, candidates, confirmed), name
    assert Lead.objects.get(pk=leads["guessed-au"].pk).timezone_uncertain
