"""leads.services: intake (normalisation, duplicates, round-robin, timezones), status rules, merge."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import Notification
from leads.models import Lead, LeadEvent, LeadStatus
from reactions.intake import lead_intake
from reactions.lifecycle import lead_status_change
from reactions.merge import lead_merge
from tests.factories import LeadEventFactory, LeadFactory, UserFactory


def intake(**kwargs):
    defaults = {"first_name": "Pat", "last_name": "Caller", "interest": "Quote", "how_heard": "Radio"}
    return lead_intake(**{**defaults, **kwargs})


@pytest.mark.parametrize(
    "raw, e164",
    [
        ("(415) 555-0123", "+14155550123"),
        ("415.555.0123", "+14155550123"),
        ("+1 415 555 0123", "+14155550123"),
        ("+44 20 7946 0958", "+442079460958"),
    ],
)
def test_phone_is_stored_as_e164(db, raw, e164):
    assert intake(phone=raw).lead.phone == e164


@pytest.mark.parametrize("raw", ["12", "+1 999 000 0000", "call me", "+" + "1" * 45])
def test_invalid_phone_is_a_field_error_and_saves_nothing(db, raw):
    with pytest.raises(ValidationError) as exc:
        intake(phone=raw)
    assert "phone" in exc.value.message_dict
    assert Lead.objects.count() == 0 and LeadEvent.objects.count() == 0


def test_phone_or_email_is_required(db):
    with pytest.raises(ValidationError) as exc:
        intake()
    assert "phone" in exc.value.message_dict
    assert Lead.objects.count() == 0


def test_duplicate_phone_lands_on_the_open_lead(rep):
    first = intake(phone="(415) 555-0123", owner=rep)
    second = intake(phone="+14155550123", first_name="Patricia", interest="Also wants support", via="phone")
    assert first.created and not second.created and second.lead.pk == first.lead.pk
    assert Lead.objects.count() == 1
    inquiries = first.lead.events.filter(kind=LeadEvent.Kind.INQUIRY)
    assert inquiries.count() == 2
    assert inquiries.filter(data__duplicate=True, text__contains="Also wants support").exists()
    assert Notification.objects.filter(user=rep, lead=first.lead, text__contains="got in touch again").exists()


def test_duplicate_email_is_case_insensitive(rep):
    first = intake(email="Pat@Example.com", owner=rep)
    second = intake(email="pat@EXAMPLE.COM", phone="+1 212 555 0142")
    assert second.lead.pk == first.lead.pk and not second.created
    second.lead.refresh_from_db()
    assert second.lead.phone == "+12125550142"  # the blank was filled from the new inquiry
    assert Notification.objects.filter(user=rep, text__contains="again").count() == 1


def test_closed_lead_with_the_same_phone_gets_a_new_lead(rep):
    old = intake(phone="+14155550123", owner=rep).lead
    old.attempt_count = 5
    old.save()
    lead_status_change(lead=old, status=LeadStatus.LOST, by=rep, reason="No answer")
    again = intake(phone="+14155550123", owner=rep)
    assert again.created and again.lead.pk != old.pk
    assert Lead.objects.filter(phone="+14155550123").count() == 2


def test_round_robin_within_the_sources_team(rep, teammate, north, web_source, other_rep):
    away = UserFactory(username="carol", role="rep", team=north, accepts_new_leads=False)
    owners = [intake(phone=f"+1415555{i:04d}", source=web_source).lead.owner for i in range(5)]
    assert owners == [rep, teammate, rep, teammate, rep]
    assert away not in owners and other_rep not in owners
    lead = Lead.objects.filter(owner=teammate).first()
    assert lead.team == north
    assert Notification.objects.filter(user=teammate, text__contains="New lead").count() == 2


def test_given_owner_wins_over_round_robin(rep, teammate, web_source):
    assert intake(phone="+14155550123", source=web_source, owner=teammate).lead.owner == teammate


@pytest.mark.parametrize(
    "phone, zone",
    [
        ("+1 212 555 0142", "America/New_York"),
        ("+44 20 7946 0958", "Europe/London"),
        ("(415) 555-0123", "America/Los_Angeles"),
    ],
)
def test_timezone_from_the_phone(db, phone, zone):
    assert intake(phone=phone).lead.timezone == zone


def test_timezone_falls_back_to_the_org_default(db, settings):
    settings.TIME_ZONE = "America/Chicago"
    # International freephone numbers belong to no zone; an email-only lead has no phone at all.
    assert intake(phone="+800 1234 5678").lead.timezone == "America/Chicago"
    assert intake(email="nophone@example.com").lead.timezone == "America/Chicago"


def test_given_timezone_wins(db):
    assert intake(phone="+1 212 555 0142", timezone_name="Europe/Paris").lead.timezone == "Europe/Paris"


# --- status rule ------------------------------------------------------------------------


@pytest.fixture
def young_lead(rep, settings):
    settings.MIN_ATTEMPTS_BEFORE_CLOSE = 5
    return LeadFactory(owner=rep, attempt_count=4)


@pytest.mark.parametrize("status", [LeadStatus.LOST, LeadStatus.UNQUALIFIED])
def test_rep_cannot_give_up_below_five_attempts(rep, young_lead, status):
    with pytest.raises(ValidationError) as exc:
        lead_status_change(lead=young_lead, status=status, by=rep)
    assert "Only 4 of 5 attempts" in exc.value.message_dict["status"][0]
    with pytest.raises(PermissionDenied):
        lead_status_change(lead=young_lead, status=status, by=rep, override=True, reason="because")
    young_lead.refresh_from_db()
    assert young_lead.status == LeadStatus.NEW and not young_lead.events.exists()


def test_winning_needs_no_minimum(rep, young_lead):
    lead_status_change(lead=young_lead, status=LeadStatus.WON, by=rep)
    young_lead.refresh_from_db()
    assert young_lead.status == LeadStatus.WON and young_lead.contact


def test_manager_override_needs_a_reason_and_is_recorded(manager, young_lead):
    with pytest.raises(ValidationError) as exc:
        lead_status_change(lead=young_lead, status=LeadStatus.LOST, by=manager, override=True, reason="  ")
    assert "reason" in exc.value.message_dict
    lead_status_change(lead=young_lead, status=LeadStatus.LOST, by=manager, override=True, reason="Wrong country")
    young_lead.refresh_from_db()
    assert young_lead.status == LeadStatus.LOST and young_lead.closed_at
    event = young_lead.events.get(kind=LeadEvent.Kind.STATUS)
    assert "manager override after 4 attempts" in event.text and "Wrong country" in event.text
    assert event.data["override"] is True and event.actor == manager


def test_five_attempts_lets_the_rep_close(rep, young_lead):
    young_lead.attempt_count = 5
    young_lead.save()
    lead_status_change(lead=young_lead, status=LeadStatus.LOST, by=rep)
    young_lead.refresh_from_db()
    assert young_lead.status == LeadStatus.LOST
    assert young_lead.events.filter(kind=LeadEvent.Kind.STATUS, actor=rep).exists()


# --- merge ------------------------------------------------------------------------------


def test_merge_moves_the_timeline_and_deletes_the_duplicate(manager, rep):
    primary = LeadFactory(owner=rep, email="", attempt_count=2)
    duplicate = LeadFactory(owner=rep, email="dup@example.com", attempt_count=3, sms_opt_out=True)
    LeadEventFactory(lead=duplicate, text="from the duplicate")
    LeadEventFactory(lead=primary, text="from the primary")
    merged = lead_merge(primary=primary, duplicate=duplicate, by=manager)
    assert not Lead.objects.filter(pk=duplicate.pk).exists()
    texts = set(merged.events.values_list("text", flat=True))
    assert {"from the duplicate", "from the primary"} <= texts
    merge_event = merged.events.get(kind=LeadEvent.Kind.MERGE)
    assert merge_event.data["merged"]["email"] == "dup@example.com" and merge_event.actor == manager
    merged.refresh_from_db()
    assert merged.email == "dup@example.com" and merged.attempt_count == 5 and merged.sms_opt_out


def test_merge_with_itself_is_refused(manager, rep):
    lead = LeadFactory(owner=rep)
    with pytest.raises(ValidationError):
        lead_merge(primary=lead, duplicate=lead, by=manager)
    assert Lead.objects.filter(pk=lead.pk).exists()
