"""Consent follows the person (messaging.suppressions): an opt-out is kept per phone number and per
email address, so a later lead, a merge or an import with that number or address starts opted out,
and dispatch never texts a suppressed number, whatever the lead's own flags say."""

import datetime as dt

import pytest
import time_machine

from cadences.models import Touch, TouchStatus
from leads.models import Lead, LeadEvent, LeadStatus
from messaging import dispatch, transports
from messaging.models import OptOut, Suppression
from messaging.suppressions import lead_consent_inherit
from reactions.intake import lead_intake
from reactions.merge import lead_merge
from tests.factories import CadenceStepFactory, LeadFactory, TouchFactory
from tests.messaging.test_webhooks import LEAD_PHONE, inbound, twilio_settings  # noqa: F401 (autouse fixture)

# 11:00 in Los Angeles (the 415 number's zone): texts may go.
DAYTIME = dt.datetime(2026, 6, 2, 18, 0, tzinfo=dt.UTC)


@pytest.fixture
def sent(monkeypatch):
    calls = []

    def fake_send(message, *, commit_point):
        calls.append(message)
        assert commit_point()
        return transports.ProviderResult(provider_message_id=f"FAKE-{len(calls)}", status="sent")

    monkeypatch.setattr(transports, "send", fake_send)
    return calls


def dispatch_due(now):
    with time_machine.travel(now, tick=False):
        ids, token = dispatch.touches_claim_due(now=now)
        return {touch_id: dispatch.touch_send(touch_id=touch_id, token=token) for touch_id in ids}


def close(lead):
    Lead.objects.filter(pk=lead.pk).update(status=LeadStatus.LOST)


def inquiry(**kwargs):
    return lead_intake(**{"first_name": "Pat", "interest": "Quote", "via": "form", **kwargs})


@pytest.mark.django_db
def test_stop_on_one_lead_blocks_sms_to_a_later_lead_with_the_number(client, rep, web_source, sent):
    with time_machine.travel(DAYTIME, tick=False):
        first = inquiry(phone=LEAD_PHONE, email="pat@example.org", owner=rep, source=web_source).lead
        inbound(client, "Stop.")
    first.refresh_from_db()
    assert first.sms_opt_out
    row = Suppression.objects.get(channel="sms", address=LEAD_PHONE)
    assert row.opted_out and row.source == "SMS keyword STOP" and row.lead_id == first.pk
    close(first)

    later = DAYTIME + dt.timedelta(days=30)
    with time_machine.travel(later, tick=False):
        second = inquiry(phone="(415) 555-0123", email="pat@example.org", source=web_source).lead
    assert second.pk != first.pk and second.phone == LEAD_PHONE
    second.refresh_from_db()
    assert second.sms_opt_out and not second.email_opt_out
    assert OptOut.objects.filter(lead=second, channel="sms", opted_out=True).count() == 1
    [event] = second.events.filter(kind=LeadEvent.Kind.OPT_OUT)
    assert (
        event.text == "Starts opted out of SMS: (415) 555-0123 opted out on 2026-06-02 (SMS keyword STOP, earlier lead)"
    )
    # Its cadence runs on the other channels; none of its texts is left to go out.
    sms = Touch.objects.filter(lead=second, channel="sms", automated=True)
    assert sms.exists() and not sms.exclude(status=TouchStatus.SKIPPED).exists()
    assert Touch.objects.filter(lead=second, channel="email", automated=True).exclude(status=TouchStatus.SKIPPED)
    dispatch_due(later + dt.timedelta(minutes=1))  # the Day 0 touches
    assert [m.channel for m in sent if m.to == LEAD_PHONE] == []
    assert any(m.channel == "email" for m in sent)


@pytest.mark.django_db
def test_start_on_the_later_lead_opts_the_number_back_in(client, rep, web_source):
    first = inquiry(phone=LEAD_PHONE, owner=rep, source=web_source).lead
    inbound(client, "STOP!")
    close(first)
    second = inquiry(phone=LEAD_PHONE, source=web_source).lead
    assert second.sms_opt_out
    inbound(client, " start ")  # lands on the open lead: the later one
    second.refresh_from_db()
    assert not second.sms_opt_out
    row = Suppression.objects.get(channel="sms", address=LEAD_PHONE)
    assert not row.opted_out and row.source == "SMS keyword START" and row.lead_id == second.pk
    close(second)
    third = inquiry(phone=LEAD_PHONE, source=web_source).lead
    assert not third.sms_opt_out and not third.events.filter(kind=LeadEvent.Kind.OPT_OUT).exists()


@pytest.mark.django_db
def test_a_reply_with_stop_in_it_suppresses_nothing(client, rep):
    LeadFactory(owner=rep, phone=LEAD_PHONE)
    inbound(client, "stop please")
    assert not Suppression.objects.exists()


@pytest.mark.django_db
def test_stop_from_an_unknown_number_holds_for_the_lead_it_becomes(client, web_source):
    inbound(client, "STOP", from_="+13125550198")
    assert Lead.objects.count() == 0
    assert Suppression.objects.get(channel="sms", address="+13125550198").opted_out
    lead = inquiry(phone="+1 312 555 0198", source=web_source).lead
    assert lead.sms_opt_out


@pytest.mark.django_db
def test_send_time_check_skips_a_suppressed_number_whatever_the_lead_flags(rep, sent):
    suppressed = LeadFactory(owner=rep, phone=LEAD_PHONE, sms_opt_out=False)
    allowed = LeadFactory(owner=rep, phone="+14155550124")
    Suppression.objects.create(channel="sms", address=LEAD_PHONE, source="SMS keyword STOP")
    step = CadenceStepFactory(channel="sms", automated=True, body="Hi {{ lead.first_name }}")
    touches = [
        TouchFactory(lead=lead, step=step, channel="sms", automated=True, assigned_to=None, due_at=DAYTIME)
        for lead in (suppressed, allowed)
    ]
    outcomes = dispatch_due(DAYTIME + dt.timedelta(minutes=1))
    assert outcomes == {touches[0].pk: "skipped", touches[1].pk: "sent"}
    assert [m.to for m in sent] == ["+14155550124"]
    touches[0].refresh_from_db()
    assert touches[0].status == TouchStatus.SKIPPED and touches[0].failure_reason == "Number opted out of SMS"


@pytest.mark.django_db
def test_an_unsubscribed_address_starts_unsubscribed_on_a_later_lead_any_case(rep, web_source):
    from messaging.services import email_opt_out

    first = inquiry(email="Pat@Example.org", owner=rep, source=web_source).lead
    email_opt_out(lead=first, source="unsubscribe link")
    close(first)
    second = inquiry(email="PAT@example.ORG", phone=LEAD_PHONE, source=web_source).lead
    second.refresh_from_db()
    assert second.email_opt_out and not second.sms_opt_out
    assert second.events.filter(text__startswith="Starts unsubscribed from email: pat@example.org").exists()
    emails = Touch.objects.filter(lead=second, channel="email", automated=True)
    assert not emails.exclude(status=TouchStatus.SKIPPED).exists()


@pytest.mark.django_db
def test_an_import_row_with_an_opted_out_number_starts_opted_out(web_source):
    Suppression.objects.create(channel="sms", address=LEAD_PHONE, source="SMS keyword STOP")
    lead = inquiry(phone=LEAD_PHONE, source=web_source, via="import").lead
    assert lead.sms_opt_out


@pytest.mark.django_db
def test_an_inquiry_on_an_existing_lead_changes_no_consent(rep, web_source):
    first = inquiry(phone=LEAD_PHONE, owner=rep, source=web_source)
    Suppression.objects.create(channel="sms", address=LEAD_PHONE, source="SMS keyword STOP")
    again = inquiry(phone=LEAD_PHONE, source=web_source)
    assert not again.created and again.lead.pk == first.lead.pk
    assert not Lead.objects.get(pk=first.lead.pk).sms_opt_out  # dispatch still refuses its texts


@pytest.mark.django_db
def test_a_merge_that_brings_an_opted_out_number_opts_the_lead_out(manager, rep):
    primary = LeadFactory(owner=rep, phone="", email="pat@example.org")
    duplicate = LeadFactory(owner=rep, phone=LEAD_PHONE, email="")
    Suppression.objects.create(channel="sms", address=LEAD_PHONE, source="SMS keyword STOP")
    merged = lead_merge(primary=primary, duplicate=duplicate, by=manager)
    merged.refresh_from_db()
    assert merged.phone == LEAD_PHONE and merged.sms_opt_out
    assert merged.events.filter(kind=LeadEvent.Kind.OPT_OUT, text__startswith="Starts opted out of SMS").exists()


@pytest.mark.django_db
def test_inherit_is_idempotent_and_one_query_when_nothing_is_suppressed(rep, django_assert_num_queries):
    lead = LeadFactory(owner=rep, phone=LEAD_PHONE, email="pat@example.org")
    with django_assert_num_queries(1):
        assert lead_consent_inherit(lead=lead) == []
    Suppression.objects.create(channel="email", address="pat@example.org", source="spam complaint")
    assert lead_consent_inherit(lead=lead) == ["email"]
    assert lead_consent_inherit(lead=lead) == []
    assert OptOut.objects.filter(lead=lead).count() == 1


@pytest.mark.django_db
def test_carrier_opt_out_code_suppresses_the_number(rep):
    from messaging.services import message_status_record

    lead = LeadFactory(owner=rep, phone=LEAD_PHONE)
    step = CadenceStepFactory(channel="sms", automated=True, body="Hi")
    TouchFactory(
        lead=lead, step=step, channel="sms", automated=True, status=TouchStatus.SENT, provider_message_id="SM1"
    )
    message_status_record(sid="SM1", status="failed", error_code="21610")
    assert Suppression.objects.get(channel="sms", address=LEAD_PHONE).opted_out


@pytest.mark.django_db
def test_editing_the_phone_to_an_opted_out_number_opts_the_lead_out(client_for, rep):
    from django.urls import reverse

    lead = LeadFactory(owner=rep, phone="+14155550124", email="pat@example.org", first_name="Pat")
    Suppression.objects.create(channel="sms", address=LEAD_PHONE, source="SMS keyword STOP")
    form = {"first_name": "Pat", "last_name": "", "phone": "(415) 555-0123", "email": "pat@example.org"}
    form.update(company="", how_heard="", interest="", timezone="America/Los_Angeles")
    form.update(twitter_handle="", linkedin_url="")
    response = client_for(rep).post(reverse("leads:edit", args=[lead.pk]), form)
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.phone == LEAD_PHONE and lead.sms_opt_out and not lead.email_opt_out
    assert lead.events.filter(text__startswith="Starts opted out of SMS").exists()
