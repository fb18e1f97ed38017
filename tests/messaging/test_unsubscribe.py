"""One-click unsubscribe (RFC 8058), bounce/complaint tracking through anymail, new-lead rep alerts."""

import pytest
from anymail.signals import AnymailTrackingEvent, tracking
from django.test import Client
from django.utils import timezone

from cadences.models import TouchStatus
from leads.models import Lead, LeadEvent
from messaging import services
from messaging.dispatch import outgoing_message_for
from messaging.models import Message, OptOut, Suppression
from messaging.unsubscribe import lead_id_from_unsubscribe_token, unsubscribe_token, unsubscribe_url
from reactions.intake import lead_intake
from tests.factories import CadenceStepFactory, LeadFactory, TouchFactory


@pytest.fixture
def lead(rep, settings):
    settings.PUBLIC_BASE_URL = "https://crm.example.com"
    return LeadFactory(owner=rep, email="Pat@Example.org", first_name="Pat")


def email_touch(lead, **kw):
    step = CadenceStepFactory(channel="email", automated=True, subject="Hi", body="Hello {{ lead.first_name }}")
    kw.setdefault("due_at", timezone.now() + timezone.timedelta(days=2))
    return TouchFactory(lead=lead, step=step, channel="email", automated=True, assigned_to=None, **kw)


def path_of(url):
    return url.removeprefix("https://crm.example.com")


@pytest.mark.django_db
def test_get_shows_confirm_page_and_changes_nothing(lead):
    response = Client().get(path_of(unsubscribe_url(lead=lead)))
    assert response.status_code == 200
    assert b"Unsubscribe" in response.content and b"<form" in response.content
    lead.refresh_from_db()
    assert not lead.email_opt_out and OptOut.objects.count() == 0


@pytest.mark.django_db
def test_confirm_button_post_without_cookies_or_csrf(lead):
    scheduled = email_touch(lead)
    client = Client(enforce_csrf_checks=True)
    response = client.post(path_of(unsubscribe_url(lead=lead)), {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200 and b"You are unsubscribed" in response.content
    lead.refresh_from_db(), scheduled.refresh_from_db()
    assert lead.email_opt_out
    [record] = OptOut.objects.all()
    assert record.channel == "email" and record.opted_out and record.source == "unsubscribe link"
    assert scheduled.status == TouchStatus.SKIPPED
    assert lead.events.filter(kind=LeadEvent.Kind.OPT_OUT).count() == 1


@pytest.mark.django_db
def test_post_is_idempotent(lead):
    client = Client(enforce_csrf_checks=True)
    path = path_of(unsubscribe_url(lead=lead))
    for _ in range(3):
        assert client.post(path, {"List-Unsubscribe": "One-Click"}).status_code == 200
    assert OptOut.objects.count() == 1
    assert lead.events.filter(kind=LeadEvent.Kind.OPT_OUT).count() == 1
    assert b"already unsubscribed" in client.get(path).content


@pytest.mark.django_db
@pytest.mark.parametrize("token", ["garbage", "eyJsZWFkIjoxfQ:1abc:def"])
def test_bad_token_is_400_and_saves_nothing(lead, token):
    for method in ("get", "post"):
        response = getattr(Client(), method)(f"/unsubscribe/{token}/")
        assert response.status_code == 400
        assert b"This link is not valid" in response.content
    assert OptOut.objects.count() == 0


@pytest.mark.django_db
def test_token_for_a_deleted_lead_still_unsubscribes_its_address(lead, web_source):
    """A merged (deleted) lead's link still works: the address asked to stop, not the row."""
    path = path_of(unsubscribe_url(lead=lead))
    Lead.objects.filter(pk=lead.pk).delete()
    response = Client().post(path)
    assert response.status_code == 200 and b"pat@example.org" in response.content
    assert Suppression.objects.get(channel="email", address="pat@example.org").opted_out
    later = lead_intake(first_name="Pat", email="PAT@example.org", source=web_source).lead
    assert later.email_opt_out


@pytest.mark.django_db
def test_token_is_bound_to_the_address_it_was_issued_for(lead):
    token = unsubscribe_token(lead=lead)
    assert lead_id_from_unsubscribe_token(token) == lead.pk
    # The same person now at the old address on another lead, and this lead moved to a new address.
    lead.email = "pat.new@example.org"
    lead.save()
    other = LeadFactory(email="pat@example.org")
    assert lead_id_from_unsubscribe_token(token) is None  # refused for the lead's current address
    new_address_email = email_touch(lead)
    page = Client().get(f"/unsubscribe/{token}/")
    assert b"pat@example.org" in page.content and b"pat.new@example.org" not in page.content
    response = Client().post(f"/unsubscribe/{token}/", {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200 and b"pat.new" not in response.content
    lead.refresh_from_db(), other.refresh_from_db(), new_address_email.refresh_from_db()
    assert not lead.email_opt_out and new_address_email.status == TouchStatus.SCHEDULED
    assert other.email_opt_out  # the address the link was sent to
    row = Suppression.objects.get(channel="email")
    assert row.address == "pat@example.org" and row.opted_out and row.source == "unsubscribe link"
    assert not Suppression.objects.filter(address="pat.new@example.org").exists()


@pytest.mark.django_db
def test_unsubscribe_suppresses_the_address_for_a_later_lead(lead, web_source):
    Client().post(path_of(unsubscribe_url(lead=lead)))
    Lead.objects.filter(pk=lead.pk).update(status="lost")
    later = lead_intake(first_name="Pat", email="pat@EXAMPLE.org", phone="+14155550123", source=web_source).lead
    assert later.email_opt_out and not later.sms_opt_out
    assert later.events.filter(text__startswith="Starts unsubscribed from email: pat@example.org").exists()


@pytest.mark.django_db
def test_token_without_an_address_is_400(lead):
    from django.core import signing

    from messaging.unsubscribe import SALT

    token = signing.dumps({"lead": lead.pk, "email": ""}, salt=SALT, compress=True)
    assert Client().post(f"/unsubscribe/{token}/").status_code == 400
    assert not Lead.objects.get(pk=lead.pk).email_opt_out


@pytest.mark.django_db
def test_other_methods_not_allowed(lead):
    assert Client().put(path_of(unsubscribe_url(lead=lead))).status_code == 405


@pytest.mark.django_db
def test_dispatched_email_list_unsubscribe_works_end_to_end(lead):
    """The exact URL in the List-Unsubscribe header, one-click POSTed as a mail client does (RFC 8058)."""
    touch = email_touch(lead, due_at=timezone.now())
    later = email_touch(lead)
    message = outgoing_message_for(touch)
    header = message.headers["List-Unsubscribe"]
    assert header.startswith("<https://crm.example.com/unsubscribe/") and header.endswith(">")
    assert message.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = header[1:-1]
    assert url in message.body  # the footer carries the same link
    response = Client(enforce_csrf_checks=True).post(
        path_of(url), data="List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    lead.refresh_from_db(), later.refresh_from_db()
    assert lead.email_opt_out and later.status == TouchStatus.SKIPPED


# --- anymail tracking ------------------------------------------------------------------------------------------


def send_tracking(event_type, recipient, **kw):
    event = AnymailTrackingEvent(event_type=event_type, recipient=recipient, **kw)
    tracking.send(sender=object, event=event, esp_name="TestESP")


@pytest.mark.django_db
@pytest.mark.parametrize("event_type", ["bounced", "rejected"])
def test_bounce_marks_address_invalid(lead, event_type):
    scheduled = email_touch(lead)
    other = LeadFactory(email="someone@else.org")
    send_tracking(event_type, "pat@example.org", description="550 mailbox unavailable")
    lead.refresh_from_db(), other.refresh_from_db(), scheduled.refresh_from_db()
    assert lead.email_invalid and not lead.email_opt_out
    assert not other.email_invalid
    assert scheduled.status == TouchStatus.SKIPPED
    assert lead.events.filter(text__contains="550 mailbox unavailable").exists()
    send_tracking(event_type, "pat@example.org")  # repeated event: one timeline line
    assert lead.events.filter(text__contains="pat@example.org").count() == 1


@pytest.mark.django_db
def test_complaint_marks_invalid_and_opts_out(lead):
    send_tracking("complained", "PAT@example.org")
    lead.refresh_from_db()
    assert lead.email_invalid and lead.email_opt_out
    assert OptOut.objects.get(lead=lead).source == "spam complaint"
    assert Suppression.objects.get(channel="email", address="pat@example.org").opted_out


@pytest.mark.django_db
def test_complaint_for_an_address_no_lead_has_suppresses_it(db):
    send_tracking("complained", "Gone@Example.org")
    assert Suppression.objects.get(channel="email", address="gone@example.org").source == "spam complaint"


@pytest.mark.django_db
def test_bounce_is_not_an_opt_out(lead):
    send_tracking("bounced", "pat@example.org")
    assert not Suppression.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("event_type", ["delivered", "opened", "clicked", "deferred"])
def test_other_tracking_events_change_nothing(lead, event_type):
    send_tracking(event_type, "pat@example.org")
    lead.refresh_from_db()
    assert not lead.email_invalid and not lead.email_opt_out


# --- Rep alerts -------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_new_lead_alerts_rep_by_email_and_sms_on_commit(
    web_source, rep, django_capture_on_commit_callbacks, mailoutbox
):
    from reactions.intake import lead_intake

    rep.email, rep.phone = "alice@leadfollow.example", "+13125550100"
    rep.save()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = lead_intake(first_name="Dana", phone="+12125551234", source=web_source, via="form")
    assert not [m for m in mailoutbox if m.to == [rep.email]]  # nothing before the commit
    for callback in callbacks:
        callback()
    [alert] = [m for m in mailoutbox if m.to == [rep.email]]
    assert "Dana" in alert.subject and f"/leads/{result.lead.pk}/" in alert.body
    sms = Message.objects.get(to="+13125550100")  # dev outbox: no Twilio configured
    assert "Dana" in sms.body and sms.lead is None


@pytest.mark.django_db
def test_rep_without_phone_gets_email_only(web_source, rep, django_capture_on_commit_callbacks, mailoutbox):
    from reactions.intake import lead_intake

    rep.phone = ""
    rep.save()
    with django_capture_on_commit_callbacks(execute=True):
        lead_intake(first_name="Dana", phone="+12125551234", source=web_source, via="form")
    assert [m.to for m in mailoutbox if m.to == [rep.email]] == [[rep.email]]
    assert not Message.objects.filter(to=rep.phone or "none").exists()


@pytest.mark.django_db
def test_alert_failures_never_break_intake(web_source, rep, django_capture_on_commit_callbacks, monkeypatch):
    from messaging import transports
    from reactions.intake import lead_intake

    def boom(*args, **kwargs):
        raise ConnectionRefusedError("SMTP down")

    rep.phone = "+13125550100"
    rep.save()
    monkeypatch.setattr(services, "send_mail", boom)
    monkeypatch.setattr(transports, "send", boom)
    with django_capture_on_commit_callbacks(execute=True):
        result = lead_intake(first_name="Dana", phone="+12125551234", source=web_source, via="form")
    assert result.created and Lead.objects.filter(pk=result.lead.pk).exists()


@pytest.mark.django_db
def test_broker_outage_never_breaks_intake(web_source, rep, django_capture_on_commit_callbacks, monkeypatch):
    from messaging.tasks import rep_alert_new_lead_task
    from reactions.intake import lead_intake

    def down(*args, **kwargs):
        raise OSError("broker unreachable")

    monkeypatch.setattr(rep_alert_new_lead_task, "delay", down)
    with django_capture_on_commit_callbacks(execute=True):
        result = lead_intake(first_name="Dana", phone="+12125551234", source=web_source, via="form")
    assert result.created


@pytest.mark.django_db
def test_existing_lead_inquiry_sends_no_alert(web_source, rep, django_capture_on_commit_callbacks, mailoutbox):
    from reactions.intake import lead_intake

    lead_intake(first_name="Dana", phone="+12125551234", source=web_source, via="form")
    with django_capture_on_commit_callbacks(execute=True):
        result = lead_intake(first_name="Dana", phone="+12125551234", source=web_source, via="form")
    assert not result.created
    assert not [m for m in mailoutbox if m.to == [rep.email]]
