"""The new-lead alert a rep gets by email and SMS: the number in national format plus a tel: link in E.164."""

from django.core import mail

from messaging.models import Message
from messaging.services import rep_alert_new_lead
from tests.factories import LeadFactory


def test_alert_email_and_sms_show_the_national_number_and_a_tel_link(rep, web_source, settings):
    settings.PUBLIC_BASE_URL = "https://crm.example.com"
    rep.phone = "+14155550199"
    rep.save(update_fields=["phone"])
    lead = LeadFactory(owner=rep, first_name="Dana", last_name="Whitfield", phone="+14152498831", source=web_source)
    assert rep_alert_new_lead(lead_id=lead.pk) == {"email": True, "sms": True}
    [email] = mail.outbox
    assert email.subject == "New lead: Dana Whitfield"
    assert email.body == (
        "New lead assigned to you: Dana Whitfield, from Website.\n\n"
        "Call (415) 249-8831: tel:+14152498831\n"
        f"Open the lead: https://crm.example.com/leads/{lead.pk}/\n"
    )
    sms = Message.objects.get(to=rep.phone)
    assert sms.body == (
        "New lead assigned to you: Dana Whitfield, from Website. Call (415) 249-8831: tel:+14152498831 "
        f"https://crm.example.com/leads/{lead.pk}/"
    )


def test_alert_for_an_email_only_lead_from_abroad(rep, settings):
    lead = LeadFactory(
        owner=rep, first_name="Liz", last_name="London", phone="", email="liz@example.co.uk", source=None
    )
    rep_alert_new_lead(lead_id=lead.pk)
    body = mail.outbox[0].body
    assert body.startswith("New lead assigned to you: Liz London.\n\nOpen the lead: ") and "tel:" not in body
    lead.phone = "+442079460958"
    lead.save(update_fields=["phone"])
    rep_alert_new_lead(lead_id=lead.pk)
    assert "Call +44 20 7946 0958: tel:+442079460958\n" in mail.outbox[1].body
