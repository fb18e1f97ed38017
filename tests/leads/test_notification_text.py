"""Notifications and timeline lines read as sentences: how a lead came in in words, never "(api)"."""

import re

import pytest
from django.urls import reverse

from accounts.models import Notification
from cadences.models import IntakeVia
from leads.models import LeadEvent
from leads.services.intake import VIA_PHRASES
from reactions.intake import lead_intake
from reactions.lifecycle import lead_status_change

RAW_CODE = re.compile(r"\((?:api|phone|form|csv|import|referral|sms)\)")


def intake(**fields):
    defaults = {"first_name": "Maria", "last_name": "Lopez", "phone": "+14155550123", "interest": "Pricing"}
    return lead_intake(**{**defaults, **fields})


def test_new_lead_from_the_api_says_so_in_words(rep, web_source):
    lead = intake(source=web_source, owner=rep, via="api").lead
    note = Notification.objects.get(user=rep, lead=lead)
    assert note.text == "New lead from the website API: Maria Lopez, assigned to you."
    inquiry = lead.events.get(kind=LeadEvent.Kind.INQUIRY)
    assert inquiry.text == "Website inquiry from the website API: Pricing"


def test_a_lead_who_calls_again_got_in_touch_again_by_phone(rep):
    first = intake(owner=rep, via="api").lead
    intake(via="phone", interest="Called back")
    again = Notification.objects.filter(user=rep, lead=first).latest("pk")
    assert again.text == "Maria Lopez got in touch again by phone."
    assert first.events.filter(kind=LeadEvent.Kind.INQUIRY).latest("pk").text == "Again: Inquiry by phone: Called back"


@pytest.mark.parametrize("via", sorted(VIA_PHRASES))
def test_no_way_in_shows_as_a_code(rep, web_source, via):
    lead = intake(source=web_source, owner=rep, via=via).lead
    intake(via=via)
    texts = [*Notification.objects.filter(lead=lead).values_list("text", flat=True)]
    texts += [*lead.events.filter(kind=LeadEvent.Kind.INQUIRY).values_list("text", flat=True)]
    assert len(texts) == 4
    for text in texts:
        assert not RAW_CODE.search(text) and VIA_PHRASES[via] in text, text
    assert not [text for text in lead.events.values_list("text", flat=True) if RAW_CODE.search(text)]


def test_an_unknown_way_in_is_left_out_not_shown_raw(rep):
    lead = intake(owner=rep, via="carrier-pigeon").lead
    assert Notification.objects.get(lead=lead).text == "New lead: Maria Lopez, assigned to you."
    assert "pigeon" not in lead.events.get(kind=LeadEvent.Kind.INQUIRY).text


def test_every_intake_path_a_cadence_can_pick_has_words():
    assert {via for via, _ in IntakeVia.choices if via} <= set(VIA_PHRASES)


def test_the_notifications_page_shows_the_sentence(client_for, rep, web_source):
    intake(source=web_source, owner=rep, via="api")
    html = client_for(rep).get(reverse("notifications")).content.decode()
    assert "New lead from the website API: Maria Lopez, assigned to you." in html


def test_a_closed_leads_cadence_ends_with_the_status_in_words(rep, web_source):
    lead = intake(source=web_source, owner=rep, via="api").lead
    assert lead.enrollments.exists()
    lead_status_change(lead=lead, status="appointment", by=rep)
    ended = lead.events.filter(kind=LeadEvent.Kind.ENROLLMENT).latest("pk").text
    assert ended.startswith("Cadence ended (marked Appointment set)") and "(appointment)" not in ended
